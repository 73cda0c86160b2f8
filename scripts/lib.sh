# shellcheck shell=bash
# Common helpers for the ukl build scripts.  Source it; do not run it.
#
# Paths (all overridable from the environment or the make command line):
#   UKL_TOP    the repository root
#   UKL_CACHE  verified downloads and unpacked upstream sources (default ~/.cache/ukl)
#   UKL_BUILD  intermediate build trees (default $UKL_TOP/build)
#   UKL_OUT    products (default $UKL_TOP/out)

set -euo pipefail

UKL_TOP=${UKL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
UKL_CACHE=${UKL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ukl}
UKL_BUILD=${UKL_BUILD:-$UKL_TOP/build}
UKL_OUT=${UKL_OUT:-$UKL_TOP/out}
UKL_LOCK=${UKL_LOCK:-$UKL_TOP/inputs.lock}
UKL_JOBS=${UKL_JOBS:-$(nproc)}
V=${V:-0}
export UKL_TOP UKL_CACHE UKL_BUILD UKL_OUT UKL_LOCK UKL_JOBS

# free_port: a TCP port on 127.0.0.1 that is free right now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# kernel_complaints LOG: print the kernel's complaints in a console log (WARNING, BUG, oops,
# lockdep, KASAN/UBSAN/KFENCE, RCU stalls, lockups, hung tasks); status 0 if there is any.
# Only the kernel's own lines count (those with its "[ seconds.micros]" stamp): what the app
# prints can neither raise nor hide a complaint.  An app's own SIGSEGV ("segfault at ...") is
# no complaint: the harness sees it in the status.  Nor is a process's own general protection
# fault ("traps: COMM[PID] general protection fault ip:..."): the kernel's is an oops.
kernel_complaints() {
	tr -d '\r' <"$1" | grep -E '^\[ *[0-9]+\.[0-9]+\] .*(WARNING:|BUG:|kernel BUG at|Oops|Call Trace:|Kernel panic|general protection fault|possible (recursive|circular) locking|inconsistent lock state|lock held when returning|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|KASAN|UBSAN|KFENCE|detected stall|soft lockup|hard LOCKUP|blocked for more than|stack guard page|PANIC: double fault|corrupted stack end)' |
		grep -vE '^\[ *[0-9]+\.[0-9]+\] traps: [^ ]+\[[0-9]+\] general protection fault ip:'
}

# host_tsc_khz: the host's TSC rate in kHz (what a TCG guest's TSC runs at), from the host
# kernel's calibration message, else measured against CLOCK_MONOTONIC_RAW; cached per host.
host_tsc_khz() {
	local cache=$UKL_CACHE/accel/tsc-khz-$(uname -n)-$(uname -r) khz d
	if [ -s "$cache" ]; then cat "$cache"; return; fi
	khz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9]*\)\.\([0-9]\{3\}\) MHz.*/\1\2/p; s/.*tsc: Detected \([0-9]*\)\.\([0-9]\{3\}\) MHz.*/\1\2/p' | tail -n 1)
	if [ -z "$khz" ]; then
		d=$(mktemp -d --tmpdir ukl-tsc.XXXXXX)
		printf '%s\n' '#include <stdio.h>' '#include <time.h>' '#include <x86intrin.h>' \
			'static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC_RAW, &t); return t.tv_sec + t.tv_nsec / 1e9; }' \
			'int main(void) { double t0 = now(); unsigned long long c0 = __rdtsc(); while (now() - t0 < 0.5) ; printf("%.0f\n", (__rdtsc() - c0) / (now() - t0) / 1000); return 0; }' \
			>"$d/tsc.c"
		gcc -O2 -o "$d/tsc" "$d/tsc.c" && khz=$("$d/tsc")
		rm -rf "$d"
	fi
	[[ $khz =~ ^[0-9]+$ ]] || die "cannot tell the host's TSC rate (no 'tsc: Detected' in dmesg, and measuring it failed)" \
		"put the rate in kHz into $cache"
	mkdir -p "$(dirname "$cache")"
	echo "$khz" >"$cache"
	echo "$khz"
}

# Kbuild-style one-line progress: "  TAG     what".
step() { printf '  %-8s%s\n' "$1" "$2"; }
note() { printf 'ukl: %s\n' "$*"; }
warn() { printf 'ukl: warning: %s\n' "$*" >&2; }
# die MESSAGE [HINT]: an error that says what to do next.
die() {
	printf 'ukl: error: %s\n' "$1" >&2
	[ $# -lt 2 ] || printf 'ukl:   fix: %s\n' "$2" >&2
	exit 1
}

# run_logged TAG WHAT LOG CMD...: run a long command quietly, its output in LOG.
# With V=1 the output goes to the terminal too.  On failure the log's tail is shown.
run_logged() {
	local tag=$1 what=$2 log=$3
	shift 3
	mkdir -p "$(dirname "$log")"
	step "$tag" "$what"
	if [ "$V" = 1 ]; then
		printf '+ %s\n' "$*" | tee "$log"
		"$@" 2>&1 | tee -a "$log"
		return "${PIPESTATUS[0]}"
	fi
	if ! "$@" >"$log" 2>&1; then
		printf 'ukl: error: %s failed; last lines of %s:\n' "$what" "$log" >&2
		tail -n 25 "$log" | sed 's/^/    /' >&2
		exit 1
	fi
}

# run_long TAG WHAT LOG CMD...: like run_logged, for steps of minutes: prints a progress line
# (the log's newest line) every ${UKL_TICK:-60} seconds so a long build says where it is.
run_long() {
	local tag=$1 what=$2 log=$3 pid rc t0 tick=${UKL_TICK:-60}
	shift 3
	[ "$V" = 1 ] && { run_logged "$tag" "$what" "$log" "$@"; return; }
	mkdir -p "$(dirname "$log")"
	step "$tag" "$what (log: ${log#"$UKL_TOP"/})"
	t0=$SECONDS
	"$@" >"$log" 2>&1 &
	pid=$!
	trap 'kill $pid 2>/dev/null' INT TERM
	while kill -0 $pid 2>/dev/null; do
		local i=0
		while [ $i -lt "$tick" ] && kill -0 $pid 2>/dev/null; do sleep 1; i=$((i + 1)); done
		kill -0 $pid 2>/dev/null &&
			printf '  %-8s%s\n' "..." "$((SECONDS - t0))s: $(tail -n 1 "$log" | cut -c1-90)"
	done
	rc=0; wait $pid || rc=$?
	trap - INT TERM
	if [ $rc != 0 ]; then
		printf 'ukl: error: %s failed after %ss; last lines of %s:\n' "$what" "$((SECONDS - t0))" "$log" >&2
		grep -E 'error|Error|\*\*\*' "$log" | tail -n 15 | sed 's/^/    /' >&2
		tail -n 10 "$log" | sed 's/^/    /' >&2
		exit 1
	fi
	step DONE "$what in $((SECONDS - t0))s"
}

# sha256 of a file
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# hash_of_files FILE...: one hash over the names and contents of the files (sorted)
hash_of_files() {
	local f
	for f in "$@"; do
		printf '%s\n' "${f#"$UKL_TOP"/}"
		cat "$f"
	done | sha256sum | cut -c1-16
}

# Ensure the host has what the build needs; run the setup step if not.
need_host() {
	"$UKL_TOP/scripts/setup.sh" --check-or-install
}

# all_profiles: every profile in profiles/, linux first, then ukl, then the others by name
all_profiles() {
	(cd "$UKL_TOP/profiles" && ls *.profile) | sed 's/\.profile$//' |
		awk '{ print ($0 == "linux" ? 0 : $0 == "ukl" ? 1 : 2), $0 }' | sort | cut -d' ' -f2 | tr '\n' ' '
}

# trained PROFILE: false for a profile built with a sample profile (PROFILE_PGO=1) while make
# pgo has trained none, so that "every profile" lists (PROFILES=all, make eval) leave it out
trained() {
	! grep -q '^PROFILE_PGO=1$' "$UKL_TOP/profiles/$1.profile" || [ -s "${UKL_PGO_PROFILE:-$UKL_OUT/pgo/kernel.prof}" ]
}

# ukl_profiles: the profiles whose app is fused into the kernel (PROFILE_APP_FLAVOUR=ukl)
ukl_profiles() {
	local p
	for p in $(all_profiles); do
		grep -q '^PROFILE_APP_FLAVOUR=ukl$' "$UKL_TOP/profiles/$p.profile" && trained "$p" && printf '%s ' "$p"
	done
	return 0
}

# eval_profiles: the profiles make eval and make bench compare by default: all but those made
# for tests only (PROFILE_EVAL=no, e.g. the debug kernel) and an untrained ukl-pgo
eval_profiles() {
	local p
	for p in $(all_profiles); do
		grep -q '^PROFILE_EVAL=no$' "$UKL_TOP/profiles/$p.profile" || { trained "$p" && printf '%s ' "$p"; }
	done
	return 0
}

# profile_file NAME: the path of profiles/NAME.profile, or an error listing the known profiles
profile_file() {
	local f=$UKL_TOP/profiles/$1.profile
	[ -f "$f" ] || die "unknown profile '$1'" "use one of: $(all_profiles)"
	printf '%s\n' "$f"
}

# app_vars APP: set the shell variables of apps/APP/recipe (scripts/app.sh --show's KEY=value
# lines), whatever quotes their values hold
app_vars() {
	local kv
	while IFS= read -r kv; do printf -v "${kv%%=*}" '%s' "${kv#*=}"; done < <("$UKL_TOP/scripts/app.sh" --show "$1")
}

# Read a key of a recipe/profile file (shell assignments, KEY="value" or KEY=value).
# conf_get FILE KEY [DEFAULT]
conf_get() {
	local file=$1 key=$2
	( set +u; . "$file"; eval "printf '%s' \"\${$key-${3-}}\"" )
}
