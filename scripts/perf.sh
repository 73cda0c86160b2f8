#!/usr/bin/env bash
# make perf: profile APP on PROFILE with Debian's perf inside the guest, under the bench's load,
# then the same on the linux twin (TWIN=0 skips it).
#
# usage: scripts/perf.sh APP PROFILE
# Environment: SECS (seconds of each perf run, default 8), TWIN (1), ACCEL, SMP, MEM, LOADGEN
# (mcload's load options, default the bench's closed loop).
#
# The guest boots its image's own initramfs plus a second archive that holds /usr/bin/perf and
# the libraries it links (the kernel unpacks concatenated archives in order).  /init's
# ukl.perf=SECS waits for the host's load, runs perf record -a -g -e cpu-clock, perf stat on the
# app and perf trace -s on the app, SECS each, and sends the results over the console
# (scripts/guest-files.py).  The host symbolises with the image's vmlinux (app, glibc and kernel
# in one symbol table) and writes out/APP/PROFILE/perf/:
#   perf.data      the recording            script.txt   perf script of it
#   report.txt     top symbols, self and inclusive, marked app/glibc/kernel, app names unprefixed
#   folded.csv     samples per call chain   flame.png    the flame graph (eval/perf-report.py)
#   stat.txt       perf stat on the app     trace.txt    perf trace -s: the app's system calls
#   calls.txt      those calls against the fuse report's reachable set (UKL profiles)
#   console.log    the guest's console
. "$(dirname "$0")/lib.sh"

[ $# = 2 ] || die "usage: scripts/perf.sh APP PROFILE"
app=$1 profile=$2
secs=${SECS:-8}
case $secs in '' | *[!0-9]* | 0) die "SECS=$secs is not a positive number of seconds" "make perf SECS=8" ;; esac
command -v perf >/dev/null || die "no perf on the host" "make setup (installs linux-perf)"
app_vars "$app"
[ "$APP_PROTOCOL" = memcache ] && [ -n "$APP_PORT" ] ||
	die "make perf drives the memcache load of eval/loadgen; $app speaks '${APP_PROTOCOL:-nothing}'" \
		"profile it by hand: make run APP=$app APPEND=ukl.perf=$secs, with your own load"
load=${LOADGEN:--t 2 -c 8 -P 4 -R 1:10 -k 10000 -d 32-1024}
mcload=$("$UKL_TOP/eval/loadgen/build.sh")

# perf_cpio: build/perf/perf.cpio.gz, perf and every library it links at their own paths;
# rebuilt when the host's perf changes
perf_cpio() {
	local dir=$UKL_BUILD/perf perf lib want
	perf=$(readlink -f "$(command -v perf)")
	want=$(sha256sum "$perf" | cut -d' ' -f1)
	if [ -f "$dir/perf.cpio.gz" ] && [ "$(cat "$dir/perf.cpio.gz.key" 2>/dev/null)" = "$want" ]; then
		return
	fi
	step CPIO "perf.cpio.gz: $perf and its libraries"
	rm -rf "$dir/stage"
	mkdir -p "$dir/stage/usr/bin"
	cp "$perf" "$dir/stage/usr/bin/perf"
	for lib in $(ldd "$perf" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		mkdir -p "$dir/stage$(dirname "$lib")"
		cp -L "$lib" "$dir/stage$lib"
	done
	# /bin/perf: /init's PATH is /bin:/sbin
	mkdir -p "$dir/stage/bin"
	ln -s /usr/bin/perf "$dir/stage/bin/perf"
	(cd "$dir/stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6) >"$dir/perf.cpio.gz"
	printf '%s\n' "$want" >"$dir/perf.cpio.gz.key"
}

# glibc_syms FLAVOUR: the names glibc's libc.a defines (text), for eval/perf-report.py
glibc_syms() {
	local a
	if [ "$1" = ukl ]; then a=$UKL_BUILD/glibc/sysroot/lib/libc.a; else a=/usr/lib/x86_64-linux-gnu/libc.a; fi
	{ nm --defined-only "$a" 2>/dev/null || true; } | awk 'NF == 3 && $2 ~ /^[tTwWi]$/ {print $3}' | sort -u
}

# profile_one PROFILE: boot, load, collect, report
profile_one() {
	local p=$1 out=$UKL_OUT/$app/$1 dir=$UKL_OUT/$app/$1/perf flavour port runner rc=0 mc range title
	"$UKL_TOP/scripts/image.sh" "$app" "$p"
	flavour=$(conf_get "$(profile_file "$p")" PROFILE_APP_FLAVOUR)
	rm -rf "$dir"
	mkdir -p "$dir"
	cat "$out/initramfs.cpio.gz" "$UKL_BUILD/perf/perf.cpio.gz" >"$dir/initramfs.cpio.gz"
	port=$(free_port)
	step BOOT "$app/$p with perf (ukl.perf=$secs; console: ${dir#"$UKL_TOP"/}/console.log)"
	"$UKL_TOP/scripts/run.sh" --quiet --log "$dir/console.log" --accel "${ACCEL:-auto}" --mem "${MEM:-512M}" \
		--smp "${SMP:-2}" --hostport "$port" --guestport "$APP_PORT" --timeout $((secs * 3 + 600)) \
		--append "$(conf_get "$(profile_file "$p")" PROFILE_CMDLINE) ukl.perf=$secs" \
		"$out/bzImage" "$dir/initramfs.cpio.gz" >"$dir/run.txt" 2>&1 &
	runner=$!
	if ! python3 "$UKL_TOP/scripts/memcache.py" --wait 300 "127.0.0.1:$port" raw 'version\r\n' >/dev/null 2>&1; then
		kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null || true
		die "$app/$p did not answer on 127.0.0.1:$port" "see ${dir#"$UKL_TOP"/}/console.log"
	fi
	step LOAD "mcload $load, until the guest's three perf runs end (about $((secs * 3)) s plus their start-up)"
	# shellcheck disable=SC2086
	"$mcload" -s "127.0.0.1:$port" $load --prefill -w 0 -D $((secs * 3 + 300)) --label "$p" >"$dir/load.txt" 2>&1 &
	mc=$!
	while kill -0 $runner 2>/dev/null && ! grep -q 'ukl-init: perf: done' "$dir/console.log" 2>/dev/null; do sleep 1; done
	kill -TERM $mc 2>/dev/null || true
	wait $mc 2>/dev/null || true
	wait $runner || rc=$?
	[ $rc = 0 ] || die "the perf boot of $app/$p ended with status $rc" "see ${dir#"$UKL_TOP"/}/console.log and run.txt"
	"$UKL_TOP/scripts/guest-files.py" "$dir/console.log" "$dir" >/dev/null ||
		die "the guest's perf files did not come out whole" "see ${dir#"$UKL_TOP"/}/console.log"
	gunzip -f "$dir/perf.data.gz" 2>/dev/null && [ -s "$dir/perf.data" ] ||
		die "perf record in the guest left no recording" "see ${dir#"$UKL_TOP"/}/record.txt and console.log"
	# perf resolves the kernel (with the fused app) from the image's vmlinux, and a stock app's
	# binary under --symfs, where the vmlinux is linked too (perf looks for it there then)
	local symfs=()
	if [ "$flavour" = stock ]; then
		mkdir -p "$dir/symfs/app"
		cp "$("$UKL_TOP/scripts/app.sh" --bin "$app" stock)" "$dir/symfs/app/${APP_BIN##*/}"
		ln -sf "$out/vmlinux" "$dir/symfs/vmlinux"
		symfs=(--symfs "$dir/symfs")
	fi
	perf script -i "$dir/perf.data" "${symfs[@]}" -k "$out/vmlinux" \
		-F comm,pid,tid,cpu,time,event,ip,sym,symoff,dso >"$dir/script.txt" 2>"$dir/script.err" ||
		die "perf script failed on ${dir#"$UKL_TOP"/}/perf.data" "see ${dir#"$UKL_TOP"/}/script.err"
	glibc_syms "$flavour" >"$dir/glibc.syms"
	nm -n "$out/vmlinux" >"$dir/vmlinux.nm"
	range=()
	if [ "$flavour" = ukl ]; then
		range=(--app-range "$(awk '$3 == "__ukl_text_start" {s=$1} $3 == "__ukl_text_end" {e=$1} END {print s "-" e}' "$out/System.map")")
	fi
	title="$app on $p: perf record -a -g -e cpu-clock -F 499, ${secs} s under mcload $load"
	"$UKL_TOP/eval/perf-report.py" --script "$dir/script.txt" --out "$dir" --title "$title" \
		--glibc-syms "$dir/glibc.syms" --symbols "$dir/vmlinux.nm" "${range[@]}" | sed 's/^/    /'
	calls_check "$p" "$dir"
}

# calls_check PROFILE DIR: the system calls perf trace saw the app make, against the fuse
# report's set of calls the app can reach (a call outside it means the report is wrong)
calls_check() {
	local rep=$UKL_OUT/$app/$1/fuse-report.txt seen
	[ -s "$2/trace.txt" ] || die "perf trace in the guest wrote no summary" "see ${2#"$UKL_TOP"/}/trace.err"
	seen=$(awk '/^ *-+ +-+/ {on=1; next} on && NF >= 2 && $2 ~ /^[0-9]+$/ {print $1 " " $2} !NF {on=0}' "$2/trace.txt" |
		awk '{n[$1] += $2} END {for (s in n) print s, n[s]}' | sort)
	{
		echo "system calls perf trace -s saw $app make in $secs s (name, calls):"
		printf '%s\n' "$seen" | sed 's/^/    /'
		if [ -f "$rep" ]; then
			local reach missing
			reach=$(sed -n '/^system calls the app can reach/,/^$/p' "$rep" | awk 'NF >= 2 && $1 ~ /^[0-9]+$/ {print $2}')
			missing=$(printf '%s\n' "$seen" | awk '{print $1}' | grep -vxF -f <(printf '%s\n' $reach) || true)
			if [ -z "$missing" ]; then
				echo "all $(printf '%s\n' "$seen" | grep -c .) of them are in the fuse report's reachable set ($(printf '%s\n' $reach | grep -c .) calls)"
			else
				echo "NOT in the fuse report's reachable set: $(echo $missing)"
			fi
		fi
	} >"$2/calls.txt"
	sed -n '$p' "$2/calls.txt" | sed 's/^/    /'
}

perf_cpio
profile_one "$profile"
if [ "${TWIN:-1}" = 1 ] && [ "$profile" != linux ]; then
	profile_one linux
fi
note "reports: out/$app/$profile/perf/{report.txt,flame.png}$([ "${TWIN:-1}" = 1 ] && [ "$profile" != linux ] && echo " and out/$app/linux/perf/")"
