#!/usr/bin/env bash
# The microbenchmark half of `make eval`: build apps/lebench for every profile, boot the images
# in alternation (boot 1 of each profile, then boot 2 of each, ...), take the CSVs out of each
# guest (scripts/guest-files.py, size + sha256 checked) into
#   out/eval/raw/PROFILE/boot-N/{summary.csv,TEST.csv,console.log}
# and write out/eval/env.txt (the stamp report.md carries).  eval/analyze.py makes the rest.
#
# usage: eval/micro.sh
# Environment (make variables): PROFILES (default: every profile in profiles/, linux
# first), BOOTS (3), ONLY (lebench --only list), SCALE (iteration factor, 1),
# ICOUNT=1 (QEMU -icount shift=0: instruction counts instead of time), TIMEOUT (per boot, 1800)
. "$(dirname "$0")/../scripts/lib.sh"

profiles=${PROFILES:-$(all_profiles)}
boots=${BOOTS:-3}
scale=${SCALE:-1}
raw=$UKL_OUT/eval/raw
for p in $profiles; do profile_file "$p" >/dev/null; done
case " $profiles " in *" linux "*) ;; *) die "PROFILES='$profiles' lacks linux, the baseline every ratio needs" "add linux to PROFILES" ;; esac
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BOOTS='$boots' is not a positive number"

t0=$SECONDS
for p in $profiles; do
	note "eval: image lebench/$p"
	"$UKL_TOP/scripts/image.sh" lebench "$p"
done

args="--out /out --scale $scale"
[ -z "${ONLY:-}" ] || args+=" --only $ONLY"
rm -rf "$raw"
tsc_retries=0
for b in $(seq 1 "$boots"); do
	for p in $profiles; do
		dir=$raw/$p/boot-$b
		mkdir -p "$dir"
		step BOOT "lebench/$p boot $b of $boots (lebench $args)"
		# Under TCG the kernel sometimes fails to calibrate the TSC against the PIT and runs
		# on jiffies: lebench's TSC-to-ns calibration and the vDSO then measure something
		# else.  Such a boot is repeated (up to 3 tries) and counted in env.txt.
		for try in 1 2 3; do
			rc=0
			env -u HOSTPORT -u APPEND ARGS="$args" TIMEOUT="${TIMEOUT:-1800}" \
				"$UKL_TOP/scripts/boot-app.sh" lebench "$p" >"$dir/boot.log" 2>&1 || rc=$?
			cp "$UKL_OUT/lebench/$p/run.log" "$dir/console.log"
			grep -q 'Marking TSC unstable' "$dir/console.log" || break
			tsc_retries=$((tsc_retries + 1))
			note "eval: lebench/$p boot $b: the guest's TSC was not calibrated (clocksource jiffies)$([ $try = 3 ] && echo '; kept after 3 tries' || echo '; booting again')"
		done
		[ $rc = 0 ] || die "lebench/$p boot $b ended with status $rc (failed tests or a crash)" \
			"see ${dir#"$UKL_TOP"/}/console.log"
		"$UKL_TOP/scripts/guest-files.py" "$dir/console.log" "$dir" >"$dir/files.txt" ||
			die "lebench/$p boot $b: the CSVs did not come back intact" "rerun make eval-micro"
	done
done

# the environment stamp
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "git: $(git -C "$UKL_TOP" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$UKL_TOP" diff --quiet 2>/dev/null || echo ' (with local changes)')"
	echo "kernel: $(grep -m1 'Linux/x86' "$UKL_OUT/lebench/linux/config" | sed 's/^# //; s/ Kernel Configuration//')"
	echo "qemu: $(qemu-system-x86_64 --version | head -n1)"
	if [ -w /dev/kvm ] && [ "${ACCEL:-auto}" != tcg ]; then echo "accel: kvm"; else echo "accel: tcg$([ "${ICOUNT:-0}" = 1 ] && echo " (icount shift=0: times are instruction counts)")"; fi
	echo "host cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cpus)"
	for p in $profiles; do
		echo "profile $p: kernel $(sed -n 's/^kernel: *//p' "$UKL_OUT/lebench/$p/report.txt"), cmdline '$(conf_get "$(profile_file "$p")" PROFILE_CMDLINE)'"
	done
	echo "method: $boots boots per profile in alternation, lebench $args, same QEMU command (scripts/run.sh)"
	echo "boots repeated because the guest's TSC was not calibrated: $tsc_retries"
} >"$UKL_OUT/eval/env.txt"
note "eval: $boots x {$profiles} booted in $((SECONDS - t0)) s; raw CSVs in out/eval/raw/"
