#!/usr/bin/env bash
# make bench APP=memcached: stock and UKL images booted one after the other, alternating
# (linux ukl linux ukl ...), under the same QEMU command and the same load from
# eval/loadgen/mcload on the host through the forwarded port.  Each boot: prefill, a
# closed-loop run (maximum throughput), then open-loop runs at fixed rates (fractions of the
# first linux boot's throughput) for the latency-vs-load figure.  Prints throughput and p99
# as UKL/stock ratios with their spread; raw results in out/eval/bench/.
#
# Environment (make variables): APP (memcached), PROFILES (linux ukl), BOOTS (3), DURATION
# (seconds per closed-loop run, 20), LOADGEN ("-t 2 -c 8 -P 4 -R 1:10 -k 10000 -d 32-1024"),
# RATES (open-loop fractions, "0.2 0.4 0.6 0.8 0.9"), OPEN_DURATION (10)
. "$(dirname "$0")/../scripts/lib.sh"

app=${APP:-memcached}
profiles=${PROFILES:-linux ukl}
boots=${BOOTS:-3}
duration=${DURATION:-20}
load=${LOADGEN:--t 2 -c 8 -P 4 -R 1:10 -k 10000 -d 32-1024}
rates=${RATES:-0.2 0.4 0.6 0.8 0.9}
odur=${OPEN_DURATION:-10}
res=$UKL_OUT/eval/bench
[ "$(conf_get "$UKL_TOP/apps/$app/recipe" APP_PROTOCOL)" = memcache ] ||
	die "make bench drives memcache-protocol servers; apps/$app/recipe has no APP_PROTOCOL=memcache"
case " $profiles " in *" linux "*) ;; *) die "PROFILES='$profiles' lacks linux, the baseline of every ratio" ;; esac
for p in $profiles; do profile_file "$p" >/dev/null; done
# linux boots first in each round: its first closed-loop maximum sets the open-loop rates
profiles="linux $(printf '%s\n' $profiles | grep -vx linux | tr '\n' ' ')"

mcload=$("$UKL_TOP/eval/loadgen/build.sh")
for p in $profiles; do
	note "bench: image $app/$p"
	"$UKL_TOP/scripts/image.sh" "$app" "$p"
done
rm -rf "$res"
mkdir -p "$res"

# one boot of PROFILE: closed loop, then the open-loop rates; results under $res/PROFILE/boot-N
bench_boot() {
	local p=$1 b=$2 dir=$res/$1/boot-$2 port runner rc=0 r qps
	mkdir -p "$dir"
	port=$(free_port)
	env -u APPEND -u ARGS HOSTPORT="$port" TIMEOUT=0 "$UKL_TOP/scripts/boot-app.sh" "$app" "$p" >"$dir/boot.log" 2>&1 &
	runner=$!
	if ! python3 "$UKL_TOP/scripts/memcache.py" --wait 180 "127.0.0.1:$port" raw 'version\r\n' >/dev/null 2>&1; then
		kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null || true
		die "$app/$p boot $b did not answer" "see out/$app/$p/run.log"
	fi
	step LOAD "$app/$p boot $b: closed loop ${duration}s ($load)"
	# shellcheck disable=SC2086
	"$mcload" -s "127.0.0.1:$port" $load --prefill -w 2 -D "$duration" --label "$p" \
		--json "$dir/closed.json" --csv "$res/closed.csv" --hdr "$dir/closed-hdr" >"$dir/closed.txt" || rc=1
	sed 's/^/    /' "$dir/closed.txt"
	# the open-loop rates are fractions of the first linux boot's maximum
	if [ "$p" = linux ] && [ "$b" = 1 ] && [ $rc = 0 ]; then
		base_tput=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["ops_per_sec"]))' "$dir/closed.json")
	fi
	if [ $rc = 0 ] && [ -n "$rates" ]; then
		for r in $rates; do
			qps=$(python3 -c "print(int($r * $base_tput))")
			step LOAD "$app/$p boot $b: open loop at $qps req/s (${r} x linux max) ${odur}s"
			# shellcheck disable=SC2086
			"$mcload" -s "127.0.0.1:$port" $load --qps "$qps" -w 1 -D "$odur" --label "$p" \
				--csv "$dir/open.csv" --hdr "$dir/open-$qps-hdr" >"$dir/open-$qps.txt" || rc=1
			grep latency "$dir/open-$qps.txt" | sed 's/^/    /'
		done
	fi
	cp "$UKL_OUT/$app/$p/run.log" "$dir/console.log"
	kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null || true
	if grep -E "WARNING|BUG|Oops|Call Trace" "$dir/console.log" >"$dir/warnings.txt"; then
		die "$app/$p boot $b: kernel warnings on the console" "see ${dir#"$UKL_TOP"/}/console.log"
	fi
	[ $rc = 0 ] || die "$app/$p boot $b: the load generator reported errors" "see ${dir#"$UKL_TOP"/}/closed.txt"
}

t0=$SECONDS
base_tput=0
for b in $(seq 1 "$boots"); do
	for p in $profiles; do
		bench_boot "$p" "$b"
	done
done

# openloop.csv (fig 6) and ratios.md (closed loop vs linux), medians over boots
"$UKL_TOP/eval/analyze.py" --bench --out "$UKL_OUT/eval"
note "bench: $boots boots x {$profiles} in $((SECONDS - t0)) s; results in out/eval/bench/ (closed.csv, openloop.csv, ratios.md)"
note "bench: the ratios compare boots under the same QEMU command; repeat with: make bench APP=$app BOOTS=$boots"
