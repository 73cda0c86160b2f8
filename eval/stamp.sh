# shellcheck shell=bash
# The environment stamp of an eval run, shared by eval/micro.sh (out/eval/env.txt) and
# eval/bench.sh (out/eval/bench/env.txt); eval/analyze.py copies each stamp into the report of
# the run it describes.  Source it after scripts/lib.sh.
#
# Every stamp starts with "run: ID".  `make eval` gives its micro and bench halves the same ID
# (UKL_EVAL_RUN); make eval-micro and make bench run alone get one of their own, so
# out/eval/report.md includes a bench only when it came from the same `make eval`.

# eval_run_id: this run's ID (UKL_EVAL_RUN, else a new one: UTC time and the shell's pid)
eval_run_id() { printf '%s\n' "${UKL_EVAL_RUN:-$(date -u +%Y%m%dT%H%M%SZ)-$$}"; }

# eval_accel: the accelerator the boots get, as scripts/run.sh chooses it for ACCEL and ICOUNT
# ("kvm: REASON" or "tcg: REASON"); exits with scripts/accel.sh's error when ACCEL=kvm cannot run
eval_accel() {
	if [ "${ICOUNT:-0}" = 1 ]; then
		"$UKL_TOP/scripts/accel.sh" --icount "${ACCEL:-auto}"
	else
		"$UKL_TOP/scripts/accel.sh" "${ACCEL:-auto}"
	fi
}

# eval_stamp RUN_ID ACCEL_LINE APP PROFILE...: the stamp's common lines (the caller adds its
# method); kernel, config and command line as out/APP/PROFILE/{config,report.txt} say
eval_stamp() {
	local run=$1 accel=$2 app=$3 p
	shift 3
	echo "run: $run"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "git: $(git -C "$UKL_TOP" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$UKL_TOP" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
	echo "kernel: $(grep -m1 'Linux/x86' "$UKL_OUT/$app/linux/config" 2>/dev/null | sed 's/^# //; s/ Kernel Configuration//')"
	echo "qemu: $(qemu-system-x86_64 --version 2>/dev/null | head -n1)"
	echo "accel: $accel"
	if [ "${ICOUNT:-0}" = 1 ]; then
		echo "icount: on (ICOUNT=1, QEMU -icount shift=0: the guest clock advances 1 ns per instruction, so every guest time is an instruction count)"
	else
		echo "icount: off (guest times are nanoseconds)"
	fi
	echo "host cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cpus)"
	for p; do
		echo "profile $p: kernel $(sed -n 's/^kernel: *//p' "$UKL_OUT/$app/$p/report.txt" 2>/dev/null), cmdline '$(conf_get "$(profile_file "$p")" PROFILE_CMDLINE)'"
	done
}

# serve_boot APP PROFILE PORT LOG PROBE [VAR=VALUE ...]: boot APP on PROFILE in the background
# (scripts/boot-app.sh, no timeout, host port PORT forwarded, the VAR=VALUE pairs added to its
# environment, its output in LOG) and wait up to 180 s for PROBE (memcache or redis) to answer
# there; RUNNER is the runner's pid.  A guest that does not answer is stopped, and the run dies
# naming its console log.
serve_boot() {
	local app=$1 p=$2 port=$3 log=$4 probe=$5
	shift 5
	env -u APPEND -u ARGS HOSTPORT="$port" TIMEOUT=0 "$@" "$UKL_TOP/scripts/boot-app.sh" "$app" "$p" >"$log" 2>&1 &
	RUNNER=$!
	case $probe in
	memcache) python3 "$UKL_TOP/scripts/memcache.py" --wait 180 "127.0.0.1:$port" raw 'version\r\n' ;;
	redis) python3 "$UKL_TOP/scripts/resp.py" --wait 180 "127.0.0.1:$port" cmd PING ;;
	*) false ;;
	esac >/dev/null 2>&1 && return 0
	kill -TERM "$RUNNER" 2>/dev/null
	wait "$RUNNER" 2>/dev/null || true
	die "$app/$p did not answer on its forwarded port" "see out/$app/$p/run.log"
}
