#!/usr/bin/env bash
# The eval pipeline off-line: files framed on a guest console come back byte-exact (or fail
# naming the file), eval/analyze.py turns a small fixed data set into the expected summary
# and report, and missing or malformed CSVs are errors naming the test and the image.
. "$(dirname "$0")/../lib.sh"
"$TOP/scripts/setup.sh" --check-or-install >/dev/null || { not_ok "host tools (scripts/setup.sh)"; t_done; }
gf=$TOP/scripts/guest-files.py
an=$TOP/eval/analyze.py

# -- console framing, as scripts/initramfs/init sends it (busybox base64 wraps at 76) --------
frame() { # NAME FILE
	echo "ukl-file: begin $1 $(wc -c <"$2") $(sha256sum <"$2" | cut -d' ' -f1)"
	base64 -w 76 "$2"
	echo "ukl-file: end $1"
}
head -c 100000 /dev/urandom >"$T_TMP/blob"
printf 'index,size,tsc_ns,clock_ns\n0,1,100,120\n' >"$T_TMP/small.csv"
{
	echo "[    0.910321] Run /init as init process"
	frame blob.bin "$T_TMP/blob"
	echo "[    1.000000] random: crng init done"
	frame small.csv "$T_TMP/small.csv"
	echo "ukl: exit status 0"
} | sed 's/$/\r/' >"$T_TMP/console.log"
expect_ok "guest files: two files framed on a console log (CRLF, kernel lines around) come out" \
	"$gf" "$T_TMP/console.log" "$T_TMP/got"
if cmp -s "$T_TMP/blob" "$T_TMP/got/blob.bin" && cmp -s "$T_TMP/small.csv" "$T_TMP/got/small.csv"; then
	ok "... byte-exact (100 kB of random bytes and a CSV)"
else
	not_ok "... byte-exact (100 kB of random bytes and a CSV)"
fi
awk 'NR==5 { $0 = (substr($0,1,3) == "AAA" ? "BBB" : "AAA") substr($0,4) } 1' "$T_TMP/console.log" >"$T_TMP/bad.log"
expect_fail "a corrupted line is an error naming the file" "blob.bin arrived corrupt" "$gf" "$T_TMP/bad.log" "$T_TMP/got2"
grep -v "ukl-file: end small.csv" "$T_TMP/console.log" >"$T_TMP/cut.log"
expect_fail "a file without its end marker is an error naming it" "small.csv was cut off" "$gf" "$T_TMP/cut.log" "$T_TMP/got3"

# -- analyze: a fixed data set, 2 profiles x 2 boots ------------------------------------------
raw=$T_TMP/eval/raw
mk() { # PROFILE BOOT TEST SIZE VALUES...
	local d=$raw/$1/boot-$2 f test=$3 size=$4 n med
	shift 4
	mkdir -p "$d"
	f=$d/$test.csv
	[ -f "$f" ] || echo "index,size,tsc_ns,clock_ns" >"$f"
	[ -f "$d/summary.csv" ] || echo "test,size,iters,median_ns,min_ns,max_ns,clock_median_ns" >"$d/summary.csv"
	n=0
	for v in "$@"; do echo "$n,$size,$v,$((v + 10))" >>"$f"; n=$((n + 1)); done
	med=$(printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p")
	echo "$test,$size,$#,$med,$(printf '%s\n' "$@" | sort -n | head -n1),$(printf '%s\n' "$@" | sort -n | tail -n1),$((med + 10))" >>"$d/summary.csv"
}
mk linux 1 getppid 0 200 210 220
mk linux 2 getppid 0 190 200 240
mk ukl 1 getppid 0 100 110 120
mk ukl 2 getppid 0 90 100 130
mk linux 1 read 1 400 410 420
mk linux 2 read 1 380 400 500
mk ukl 1 read 1 300 300 300
mk ukl 2 read 1 290 310 330
expect_ok "analyze: a fixed data set (2 profiles x 2 boots) gives a summary and figures" \
	"$an" --raw "$raw" --out "$T_TMP/eval"
cat >"$T_TMP/want" <<'EOF'
profile,test,size,median_ns,min_ns,max_ns,ratio_vs_linux
linux,getppid,0,205,200,210,1.000
linux,read,1,405,400,410,1.000
ukl,getppid,0,105,100,110,0.512
ukl,read,1,305,300,310,0.753
EOF
if diff "$T_TMP/want" "$T_TMP/eval/summary.csv" >"$T_TMP/diff"; then
	ok "... summary.csv is the expected table (median of boot medians, their spread, ratio)"
else
	not_ok "... summary.csv is the expected table" "$(cat "$T_TMP/diff")"
fi
expect_grep "... report.md carries the same numbers" '^\| getppid \| 0 \| 205 \(200\.\.210\) \| 105 \(100\.\.110\) \| 0\.512 \|$' "$T_TMP/eval/report.md"
for f in fig1 fig2 fig4; do
	if file "$T_TMP/eval/$f.png" | grep -q "PNG image data"; then ok "... $f.png is a PNG"; else not_ok "... $f.png is a PNG"; fi
done
expect_ok "a figure re-plots alone from the saved data" "$an" --raw "$raw" --out "$T_TMP/eval" --fig 1

# -- missing and malformed data -----------------------------------------------------------
mv "$raw/ukl/boot-2/read.csv" "$T_TMP/read.csv"
expect_fail "a missing test CSV names the test and the image" \
	"raw/ukl/boot-2/read.csv: missing \(test read, image lebench/ukl, boot-2\)" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
sed 's/^1,1,310,320$/1,1,31O,320/' "$T_TMP/read.csv" >"$raw/ukl/boot-2/read.csv"
expect_fail "a malformed row names the line, the test and the image" \
	"read.csv: malformed line 3 .*test read, image lebench/ukl, boot-2" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
head -n 2 "$T_TMP/read.csv" >"$raw/ukl/boot-2/read.csv"
expect_fail "rows missing against summary.csv are an error" \
	"size 1 has 1 rows .* says 3 iterations.*test read, image lebench/ukl, boot-2" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
cp "$T_TMP/read.csv" "$raw/ukl/boot-2/read.csv"
rm -rf "$raw/linux"
expect_fail "without the linux baseline the error says so" "no linux profile data" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots

# -- make bench's aggregation: 2 boots of linux and ukl, closed and open loop -------------------
b=$T_TMP/b/bench
h=label,mode,offered_qps,ops_per_sec,requests,hits,misses,errors,mean_us,p50_us,p90_us,p99_us,p999_us,max_us
mkdir -p "$b"/{linux,ukl}/boot-{1,2}
printf '%s\n' "$h" linux,closed,0,1000,1,1,0,0,9,9,9,100,1,1 ukl,closed,0,1200,1,1,0,0,9,9,9,80,1,1 \
	linux,closed,0,1100,1,1,0,0,9,9,9,120,1,1 ukl,closed,0,1300,1,1,0,0,9,9,9,90,1,1 >"$b/closed.csv"
for p in linux ukl; do for n in 1 2; do
	printf '%s\n' "$h" "$p,open,500,49$n,1,1,0,0,5$n,9,9,20$n,1,1" >"$b/$p/boot-$n/open.csv"
done; done
expect_ok "analyze --bench aggregates make bench's results" "$an" --bench --out "$T_TMP/b"
expect_grep "... ratios.md: medians over boots, spread, and the ratio to linux" \
	'^\| ukl \| 2 \| 1250 \(1200\.\.1300\) \| 85 \(80\.\.90\) \| 1\.190 \(1\.143\.\.1\.238\) \| 0\.773 \(0\.727\.\.0\.818\) \|$' \
	"$T_TMP/b/bench/ratios.md"
expect_grep "... openloop.csv: one point per profile and rate, medians over boots" '^ukl,500,492,201\.5,51\.5$' \
	"$T_TMP/b/bench/openloop.csv"
sed -i '/^linux/d' "$b/closed.csv"
expect_fail "... without a linux run the error says so" "no linux run, the baseline" "$an" --bench --out "$T_TMP/b"
t_done
