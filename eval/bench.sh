#!/usr/bin/env bash
# make bench APP=memcached: stock and UKL images booted one after the other, alternating
# (linux ukl linux ukl ...), under the same QEMU command and the same load from
# eval/loadgen/mcload on the host through the forwarded port.  Each boot: prefill, a
# closed-loop run (maximum throughput), then open-loop runs at fixed rates (fractions of the
# first linux boot's throughput) for the latency-vs-load figure.  Prints throughput and p99
# as UKL/stock ratios with their spread; raw results, the stamp (env.txt, eval/stamp.sh) and
# the bench's own report in out/eval/bench/.
#
# The open-loop sweep starts far below saturation and climbs to it, so that fig 6 shows the
# knee: at 0.8 x the closed-loop maximum requests already queue for seconds.  A rate at which
# mcload reports timeouts or error replies is a point of the figure (marked there), not a
# failed bench; a connection that fails, or a closed-loop run with errors, still is.
# Time per boot with the defaults: prefill, 2 s warmup + 20 s closed loop, then 9 rates x
# (1 s warmup + 5 s) = 54 s of open loop (plus mcload's drain, up to 5 s, at the saturated
# rates), about what the former 5 rates x (1 + 10 s) took; 6 boots in all.
#
# Environment (make variables): APP (memcached), PROFILES (linux ukl), BOOTS (3), DURATION
# (seconds per closed-loop run, 20), LOADGEN ("-t 2 -c 8 -P 4 -R 1:10 -k 10000 -d 32-1024"),
# RATES (open-loop fractions, "0.05 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8"), OPEN_DURATION (5),
# ACCEL, ICOUNT; UKL_EVAL_RUN (the run ID, set by make eval); METER=1 (every boot under the
# instruction meter, eval/meter/meter.c; after the closed loop, METER_REQUESTS (20000)
# requests of the same load are bracketed by two snapshots of the meter's counters:
# instructions per request by region in out/eval/bench/meter.csv and meter.md)
. "$(dirname "$0")/../scripts/lib.sh"
. "$UKL_TOP/eval/stamp.sh"

app=${APP:-memcached}
profiles=${PROFILES:-linux ukl}
boots=${BOOTS:-3}
duration=${DURATION:-20}
load=${LOADGEN:--t 2 -c 8 -P 4 -R 1:10 -k 10000 -d 32-1024}
rates=${RATES-0.05 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8}
odur=${OPEN_DURATION:-5}
meter=${METER:-0}
mreq=${METER_REQUESTS:-20000}
[[ $mreq =~ ^[1-9][0-9]*$ ]] || die "METER_REQUESTS='$mreq' is not a positive number"
res=$UKL_OUT/eval/bench
[ "$(conf_get "$UKL_TOP/apps/$app/recipe" APP_PROTOCOL)" = memcache ] ||
	die "make bench drives memcache-protocol servers; apps/$app/recipe has no APP_PROTOCOL=memcache"
case " $profiles " in *" linux "*) ;; *) die "PROFILES='$profiles' lacks linux, the baseline of every ratio" ;; esac
for p in $profiles; do profile_file "$p" >/dev/null; done
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BOOTS='$boots' is not a positive number"
for r in $rates; do
	[[ $r =~ ^[0-9]*\.?[0-9]+$ ]] || die "RATES='$rates': '$r' is not a fraction of the closed-loop maximum" "e.g. RATES=\"0.1 0.5 0.9\""
done
# linux boots first in each round: its first closed-loop maximum sets the open-loop rates
profiles="linux $(printf '%s\n' $profiles | grep -vx linux | tr '\n' ' ')"
run=$(eval_run_id)
accel=$(eval_accel) || exit 1

mcload=$("$UKL_TOP/eval/loadgen/build.sh")
for p in $profiles; do
	note "bench: image $app/$p"
	"$UKL_TOP/scripts/image.sh" "$app" "$p"
done
rm -rf "$res"
mkdir -p "$res"

# json_field FILE KEY: a top-level field of mcload's --json output ("" when absent)
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }

# meter_pass DIR PORT CTL: METER_REQUESTS requests of the bench's load between two snapshots of
# the meter's counters ("snap begin"/"snap end" rows in the plugin's CSV)
meter_pass() {
	local dir=$1 port=$2 ctl=$3 counts=$UKL_OUT/$app/$p/meter.csv label
	for label in begin end; do
		if [ $label = end ]; then
			step METER "$app/$p boot $b: $mreq requests metered"
			# shellcheck disable=SC2086
			"$mcload" -s "127.0.0.1:$port" $load -w 0 -n "$mreq" --label "$p" \
				--json "$dir/meter.json" >"$dir/meter.txt" || return 1
		fi
		printf 'snap %s\n' "$label" >"$ctl"
		for _ in $(seq 50); do grep -q "^snap,$label," "$counts" 2>/dev/null && break; sleep 0.1; done
		grep -q "^snap,$label," "$counts" || { warn "the meter did not answer 'snap $label' (see $counts)"; return 1; }
	done
}

# one boot of PROFILE: closed loop, then the open-loop rates; results under $res/PROFILE/boot-N
bench_boot() {
	local p=$1 b=$2 dir=$res/$1/boot-$2 port runner rc=0 orc r qps ctl=""
	mkdir -p "$dir"
	port=$(free_port)
	if [ "$meter" = 1 ]; then
		ctl=$dir/meter.fifo
		mkfifo "$ctl"
	fi
	serve_boot "$app" "$p" "$port" "$dir/boot.log" memcache METER="$meter" METER_CTL="$ctl"
	runner=$RUNNER
	step LOAD "$app/$p boot $b: closed loop ${duration}s ($load)"
	# shellcheck disable=SC2086
	"$mcload" -s "127.0.0.1:$port" $load --prefill -w 2 -D "$duration" --label "$p" \
		--json "$dir/closed.json" --csv "$res/closed.csv" --hdr "$dir/closed-hdr" >"$dir/closed.txt" || rc=1
	sed 's/^/    /' "$dir/closed.txt"
	# the open-loop rates are fractions of the first linux boot's maximum
	if [ "$p" = linux ] && [ "$b" = 1 ] && [ $rc = 0 ]; then
		base_tput=$(json_field "$dir/closed.json" ops_per_sec | cut -d. -f1)
	fi
	if [ $rc = 0 ] && [ "$meter" = 1 ]; then
		meter_pass "$dir" "$port" "$ctl" || rc=1
	fi
	if [ $rc = 0 ] && [ -n "$rates" ]; then
		for r in $rates; do
			qps=$(python3 -c "print(int($r * $base_tput))")
			step LOAD "$app/$p boot $b: open loop at $qps req/s (${r} x linux max) ${odur}s"
			orc=0
			# shellcheck disable=SC2086
			"$mcload" -s "127.0.0.1:$port" $load --qps "$qps" -w 1 -D "$odur" --label "$p" \
				--json "$dir/open-$qps.json" --csv "$dir/open.csv" --hdr "$dir/open-$qps-hdr" >"$dir/open-$qps.txt" || orc=$?
			{ grep -E 'latency|timed out|error' "$dir/open-$qps.txt" || true; } | sed 's/^/    /'
			# beyond the knee requests time out: a point of fig 6, marked there.  A failed
			# connection, a bad command line, or a run without a result or without one
			# completed request is not.
			if [ $orc != 0 ]; then
				if [ $orc != 1 ] || [ ! -s "$dir/open-$qps.json" ] || [ "$(json_field "$dir/open-$qps.json" failed)" != False ] ||
					[ "$(json_field "$dir/open-$qps.json" completed)" = 0 ]; then
					rc=1
					break
				fi
				warn "$app/$p boot $b: at $qps req/s the load generator reported timeouts or errors (a point past the knee; fig 6 marks it)"
			fi
		done
	fi
	cp "$UKL_OUT/$app/$p/run.log" "$dir/console.log"
	kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null || true
	if [ "$meter" = 1 ]; then
		rm -f "$ctl"
		cp "$UKL_OUT/$app/$p/meter.csv" "$dir/meter-counts.csv" 2>/dev/null || true
	fi
	if grep -E "WARNING|BUG|Oops|Call Trace" "$dir/console.log" >"$dir/warnings.txt"; then
		die "$app/$p boot $b: kernel warnings on the console" "see ${dir#"$UKL_TOP"/}/console.log"
	fi
	[ $rc = 0 ] || die "$app/$p boot $b: the load generator failed (errors in the closed loop, or a connection that failed)" \
		"see ${dir#"$UKL_TOP"/}/closed.txt and open-*.txt"
}

t0=$SECONDS
base_tput=0
for b in $(seq 1 "$boots"); do
	for p in $profiles; do
		bench_boot "$p" "$b"
	done
done

# the stamp, then openloop.csv (fig 6), ratios.md (closed loop vs linux) and report.md,
# medians over boots
{
	eval_stamp "$run" "$accel" "$app" $profiles
	echo "method: $boots boots per profile in alternation ($(echo $profiles)), same QEMU command (scripts/run.sh); mcload $load on the host"
	echo "closed loop: prefill, 2 s warmup, ${duration} s"
	[ "$meter" = 0 ] || echo "instruction meter: loaded in every boot (TCG single-threaded); $mreq requests of the same load metered after the closed loop"
	echo "open loop: ${rates:-(none)} x the first linux boot's closed-loop maximum ($base_tput req/s), 1 s warmup + ${odur} s each"
} >"$res/env.txt"
[ "$meter" = 0 ] || "$UKL_TOP/eval/meter/report.py" --bench "$res"
"$UKL_TOP/eval/analyze.py" --bench --out "$UKL_OUT/eval"
note "bench: $boots boots x {$profiles} in $((SECONDS - t0)) s; results in out/eval/bench/ (report.md, closed.csv, openloop.csv, ratios.md)"
note "bench: the ratios compare boots under the same QEMU command; repeat with: make bench APP=$app BOOTS=$boots"
