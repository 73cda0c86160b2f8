#!/usr/bin/env bash
# make bench APP=redis (and the redis half of make eval): the paper's figure 5.  Stock and UKL
# images of redis booted one after the other, alternating (linux P1 P2 ... linux P1 P2 ...),
# under the same QEMU command, each driven by Debian's redis-benchmark on the host through the
# forwarded port with the paper's load: 100 clients, 3 threads, pipeline 1, REQUESTS requests
# of each of GET and SET.  redis-benchmark keeps an HDR histogram of every request's latency;
# eval/redis.py reads the percentiles it prints (25/50/75/90/99 interpolated between its
# points), writes out/eval/redis/{redis.csv,percentiles.csv,report.md} and fig5.png, and quotes
# throughput and p99 as ratios over the linux boots of the same run, with their spread.
# A boot fails the bench if redis-benchmark fails, if redis counted an error reply, or if the
# kernel complained on the console.
#
# Environment (make variables): PROFILES (linux ukl-ret-byp ukl-shortcut ukl-direct), BOOTS (3),
# REQUESTS (100000), SOAK (seconds: instead of REQUESTS, repeat the GET+SET load until SOAK
# seconds have passed; the 5-minute load is SOAK=300 BOOTS=1), ACCEL, ICOUNT; UKL_EVAL_RUN.
. "$(dirname "$0")/../scripts/lib.sh"
. "$UKL_TOP/eval/stamp.sh"

app=redis
profiles=${PROFILES:-linux ukl-ret-byp ukl-shortcut ukl-direct}
boots=${BOOTS:-3}
requests=${REQUESTS:-100000}
soak=${SOAK:-0}
res=$UKL_OUT/eval/redis
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BOOTS='$boots' is not a positive number"
[[ $requests =~ ^[1-9][0-9]*$ ]] || die "REQUESTS='$requests' is not a positive number"
[[ $soak =~ ^[0-9]+$ ]] || die "SOAK='$soak' is not a number of seconds"
case " $profiles " in *" linux "*) ;; *) die "PROFILES='$profiles' lacks linux, the baseline of every ratio" ;; esac
for p in $profiles; do profile_file "$p" >/dev/null; done
command -v redis-benchmark >/dev/null || die "redis-benchmark is missing" "make setup (it installs redis-tools)"
profiles="linux $(printf '%s\n' $profiles | grep -vx linux | tr '\n' ' ')"
run=$(eval_run_id)
accel=$(eval_accel) || exit 1
load="-c 100 --threads 3 -P 1 -t get,set"

for p in $profiles; do
	note "redis bench: image $app/$p"
	"$UKL_TOP/scripts/image.sh" "$app" "$p"
done
rm -rf "$res"
mkdir -p "$res"

# errors PORT: error replies redis has sent since it started
errors() { redis-cli -h 127.0.0.1 -p "$1" INFO stats | tr -d '\r' | sed -n 's/^total_error_replies://p'; }

bench_boot() {
	local p=$1 b=$2 dir=$res/$1/boot-$2 port rc=0 t0 n=0 e
	mkdir -p "$dir"
	port=$(free_port)
	serve_boot "$app" "$p" "$port" "$dir/boot.log" redis
	t0=$SECONDS
	while :; do
		n=$((n + 1))
		step LOAD "$app/$p boot $b: redis-benchmark $load -n $requests$([ "$soak" = 0 ] || echo " (pass $n)")"
		# shellcheck disable=SC2086
		redis-benchmark -h 127.0.0.1 -p "$port" $load -n "$requests" 2>&1 | tr '\r' '\n' |
			grep -v 'rps=' >"$dir/bench-$n.txt" || rc=1
		grep -E 'throughput summary' "$dir/bench-$n.txt" | sed 's/^ */    /'
		[ $rc = 0 ] && [ "$soak" -gt 0 ] && [ $((SECONDS - t0)) -lt "$soak" ] || break
	done
	e=$(errors "$port")
	echo "$e" >"$dir/error-replies.txt"
	cp "$UKL_OUT/$app/$p/run.log" "$dir/console.log"
	kill -TERM "$RUNNER" 2>/dev/null; wait "$RUNNER" 2>/dev/null || true
	[ $rc = 0 ] || die "$app/$p boot $b: redis-benchmark failed" "see ${dir#"$UKL_TOP"/}/bench-$n.txt"
	[ "$e" = 0 ] || die "$app/$p boot $b: redis sent ${e:-an unknown number of} error replies under the load" "see ${dir#"$UKL_TOP"/}/console.log"
	if kernel_complaints "$dir/console.log" >"$dir/warnings.txt"; then
		die "$app/$p boot $b: kernel warnings on the console" "see ${dir#"$UKL_TOP"/}/warnings.txt"
	fi
	echo "    $n pass(es) in $((SECONDS - t0)) s, 0 error replies, no kernel complaint"
}

t0=$SECONDS
for b in $(seq 1 "$boots"); do
	for p in $profiles; do
		bench_boot "$p" "$b"
	done
done
{
	eval_stamp "$run" "$accel" "$app" $profiles
	echo "method: $boots boots per profile in alternation ($(echo $profiles)), same QEMU command (scripts/run.sh); redis-benchmark $load -n $requests on the host$([ "$soak" = 0 ] || echo ", repeated for ${soak} s per boot")"
	echo "redis: $(conf_get "$UKL_TOP/apps/redis/recipe" APP_DESC); arguments '$(conf_get "$UKL_TOP/apps/redis/recipe" APP_ARGS)'"
} >"$res/env.txt"
"$UKL_TOP/eval/redis.py" "$res"
note "redis bench: $boots boots x {$profiles} in $((SECONDS - t0)) s; results in out/eval/redis/ (report.md, redis.csv, percentiles.csv, fig5.png)"
