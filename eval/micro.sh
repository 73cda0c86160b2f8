#!/usr/bin/env bash
# The microbenchmark half of `make eval`: build apps/lebench for every profile, boot the images
# in alternation (boot 1 of each profile, then boot 2 of each, ...), take the CSVs out of each
# guest (scripts/guest-files.py, size + sha256 checked) into
#   out/eval/raw/PROFILE/boot-N/{summary.csv,TEST.csv,console.log,check.txt}
# and write out/eval/env.txt (the stamp report.md carries, eval/stamp.sh).  eval/analyze.py
# makes the rest.
#
# Every boot is checked as it arrives (eval/analyze.py --check-boot): its null_call median (the
# empty call, bracketed like the system calls) must be within NULL_CALL_TOL of its
# profile's other boots, and its console must not say 'Marking TSC unstable'.  A boot that
# fails is rejected with a message, kept aside in raw/PROFILE/rejected-N/ (rejected.txt says
# why) and repeated, at most EXTRA_BOOTS times per profile.  A profile's first boot has nothing
# to compare with; if the second disagrees with it, a third decides (the two that agree stay).
# null_call is always measured (added to ONLY).
#
# usage: eval/micro.sh
# Environment (make variables): PROFILES (default: every profile but the test-only ones
# (PROFILE_EVAL=no), linux
# first), BOOTS (3), ONLY (lebench --only list), SCALE (iteration factor, 1),
# ICOUNT=1 (QEMU -icount shift=0: instruction counts instead of time), ACCEL, TIMEOUT (per
# boot, 1800), EXTRA_BOOTS (3), NULL_CALL_TOL (0.05 with ICOUNT=1, else 0.5), PIN (a host CPU
# to run QEMU on; default none); UKL_EVAL_RUN (the run ID, set by make eval); METER (1 by
# default: the instruction meter, eval/meter/meter.c: lebench --meter, the plugin's counts kept
# as raw/PROFILE/boot-N/meter-counts.csv; eval/meter/report.py makes out/eval/meter/calls.csv
# and fig 7.  METER=0: no plugin, multi-threaded TCG)
. "$(dirname "$0")/../scripts/lib.sh"
. "$UKL_TOP/eval/stamp.sh"

profiles=${PROFILES:-$(eval_profiles)}
boots=${BOOTS:-3}
scale=${SCALE:-1}
extra=${EXTRA_BOOTS:-3}
# The default band: 5% under ICOUNT=1, where the empty call is an exact instruction count (13 on
# every profile: any difference is a fault).  In TCG time it is 50%: on this project's machine
# the empty call takes 38-67 ns from boot to boot on every profile, linux included, steady
# within a boot and the same with norandmaps, a property of TCG on the host, not of an image
# (README, "Measuring").
if [ "${ICOUNT:-0}" = 1 ]; then tol=${NULL_CALL_TOL:-0.05}; else tol=${NULL_CALL_TOL:-0.5}; fi
raw=$UKL_OUT/eval/raw
# PIN (scripts/boot-app.sh reads it): QEMU on one host CPU.  Not the default: it does not steady
# the empty call (10 boots of each profile pinned to one CPU: 35-66 ns, as unpinned; README)
for p in $profiles; do profile_file "$p" >/dev/null; done
case " $profiles " in *" linux "*) ;; *) die "PROFILES='$profiles' lacks linux, the baseline every ratio needs" "add linux to PROFILES" ;; esac
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BOOTS='$boots' is not a positive number"
[[ $extra =~ ^[0-9]+$ ]] || die "EXTRA_BOOTS='$extra' is not a number"
[[ $tol =~ ^0?\.[0-9]+$ ]] || die "NULL_CALL_TOL='$tol' is not a fraction like 0.05"
run=$(eval_run_id)
accel=$(eval_accel) || exit 1
# the meter is a TCG plugin: by default only where the boots use TCG anyway
if [ -z "${METER:-}" ] && [ "${accel%%:*}" = kvm ]; then
	meter=0
	note "eval: KVM: no instruction meter (METER=1 would run every boot under TCG)"
fi

t0=$SECONDS
for p in $profiles; do
	note "eval: image lebench/$p"
	"$UKL_TOP/scripts/image.sh" lebench "$p"
done

args="--out /out --scale $scale"
meter=${meter:-${METER:-1}}
[ "$meter" = 1 ] && args+=" --meter"
# null_call is the boot check's yardstick: always measured
if [ -n "${ONLY:-}" ]; then
	case ",$ONLY," in *,null_call,*) args+=" --only $ONLY" ;; *) args+=" --only null_call,$ONLY" ;; esac
fi
rm -rf "$raw"
rm -f "$UKL_OUT/eval/env.txt"
declare -A extra_used
for p in $profiles; do extra_used[$p]=0; done
for b in $(seq 1 "$boots"); do
	for p in $profiles; do
		dir=$raw/$p/boot-$b
		while :; do
			mkdir -p "$dir"
			step BOOT "lebench/$p boot $b of $boots (lebench $args)"
			rc=0
			env -u HOSTPORT -u APPEND ARGS="$args" TIMEOUT="${TIMEOUT:-1800}" METER="$meter" \
				"$UKL_TOP/scripts/boot-app.sh" lebench "$p" >"$dir/boot.log" 2>&1 || rc=$?
			cp "$UKL_OUT/lebench/$p/run.log" "$dir/console.log"
			[ "$meter" != 1 ] || [ $rc != 0 ] || cp "$UKL_OUT/lebench/$p/meter.csv" "$dir/meter-counts.csv" ||
				die "lebench/$p boot $b: the meter wrote no counts" "see ${dir#"$UKL_TOP"/}/boot.log"
			[ $rc = 0 ] || die "lebench/$p boot $b ended with status $rc (failed tests or a crash)" \
				"see ${dir#"$UKL_TOP"/}/console.log"
			"$UKL_TOP/scripts/guest-files.py" "$dir/console.log" "$dir" >"$dir/files.txt" ||
				die "lebench/$p boot $b: the CSVs did not come back intact" "rerun make eval-micro"
			rc=0
			"$UKL_TOP/eval/analyze.py" --check-boot "$raw" "$p" "$b" --tolerance "$tol" || rc=$?
			[ $rc = 0 ] && break
			[ $rc = 3 ] || die "lebench/$p boot $b: the boot check failed (status $rc)" "see the message above"
			extra_used[$p]=$((extra_used[$p] + 1))
			[ "${extra_used[$p]}" -le "$extra" ] ||
				die "lebench/$p: $((extra_used[$p])) boots rejected, more than EXTRA_BOOTS=$extra; their data and reasons are in ${raw#"$UKL_TOP"/}/$p/rejected-*/" \
					"look for what disturbs the guest (host load, clocksource messages in the consoles); raise EXTRA_BOOTS or NULL_CALL_TOL only if the spread is real"
			note "eval: lebench/$p boot $b: booting again (extra boot ${extra_used[$p]} of at most $extra)"
		done
	done
done

# rejected-N/ per profile, as left after every decision (a first boot outvoted later counts too)
rejected="" total=0
for p in $profiles; do
	n=$(find "$raw/$p" -mindepth 1 -maxdepth 1 -type d -name 'rejected-*' | wc -l)
	rejected+="${rejected:+, }$p $n"
	total=$((total + n))
done

# the environment stamp
{
	eval_stamp "$run" "$accel" lebench $profiles
	echo "method: $boots boots per profile in alternation, lebench $args, same QEMU command (scripts/run.sh)$([ -z "${PIN:-}" ] || echo ", QEMU pinned to host CPU $PIN")$([ "$meter" != 1 ] || echo ", instruction meter loaded (TCG single-threaded)")"
	echo "boot check: a boot is rejected and repeated (at most $extra extra boots per profile) when its null_call median is off by more than $(awk -v t="$tol" 'BEGIN { print t * 100 }')% from its profile's other boots, or its console says 'Marking TSC unstable'"
	echo "boots rejected: $total ($rejected; raw/PROFILE/rejected-N/rejected.txt says why)"
} >"$UKL_OUT/eval/env.txt"
note "eval: $boots x {$profiles} booted in $((SECONDS - t0)) s ($total boots rejected); raw CSVs in out/eval/raw/"
