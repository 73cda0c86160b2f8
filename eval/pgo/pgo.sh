#!/usr/bin/env bash
# make pgo APP=memcached: sample-profile-guided optimisation of the fused kernel, trained by an
# exact execution profile from the instruction meter.
#
#   1. train: boot APP on ukl-lto (clang ThinLTO, line tables for profiling) under the meter with
#      branches= (eval/meter/meter.c): every block of the kernel half that ran, and every branch
#      between two, counted exactly over a training load (mcload, PGO_SECONDS s of a load
#      unlike the measured one: 1:1 sets and gets, 20000 keys, 16-4096 byte values, 4 x 2
#      connections, depth 2);
#   2. profile: llvm-profgen-19 turns those counts into a sample profile of vmlinux, the app's
#      code included (it is vmlinux's code); out/pgo/APP/top.txt lists its hottest functions;
#   3. rebuild: the ukl-pgo kernel (ukl-lto plus -fprofile-sample-use of that profile) and APP's
#      image on it;
#   4. measure: make bench with the meter (closed loop, then METER_REQUESTS metered requests of
#      the measured load) on linux, linux-lto, ukl-lto and ukl-pgo: instructions per request by
#      region in out/eval/bench/meter.md, next to time.
# The app and glibc are gcc objects: the profile reaches their code only as far as it is
# kernel code (none), so only the kernel side, the seam included, is optimised by it.
#
# Environment: APP (memcached), PGO_SECONDS (20), BOOTS (1; for step 4), PGO_BUILD=0 (stop
# after step 2), PGO_MEASURE=0 (stop after step 3), and what make bench reads (DURATION,
# LOADGEN, METER_REQUESTS).
. "$(dirname "$0")/../../scripts/lib.sh"
. "$UKL_TOP/eval/stamp.sh"

app=${APP:-memcached}
secs=${PGO_SECONDS:-20}
train=ukl-lto
dir=$UKL_OUT/pgo/$app
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "PGO_SECONDS='$secs' is not a positive number of seconds"
[ "$(conf_get "$UKL_TOP/apps/$app/recipe" APP_PROTOCOL)" = memcache ] ||
	die "make pgo trains with a memcache-protocol load; apps/$app/recipe has no APP_PROTOCOL=memcache"
command -v llvm-profgen-19 >/dev/null && command -v llvm-profdata-19 >/dev/null ||
	die "llvm-profgen-19 is missing" "make setup (it installs llvm-19)"
mcload=$("$UKL_TOP/eval/loadgen/build.sh")

note "pgo: training image $app/$train"
"$UKL_TOP/scripts/image.sh" "$app" "$train"
rm -rf "$dir"
mkdir -p "$dir"

# 1. train
port=$(free_port)
serve_boot "$app" "$train" "$port" "$dir/boot.log" memcache METER=1 METER_BRANCHES="$dir/branches.txt"
runner=$RUNNER
step TRAIN "$app/$train: ${secs}s of mcload -t 2 -c 4 -P 2 -R 1:1 -k 20000 -d 16-4096 under the meter"
rc=0
"$mcload" -s "127.0.0.1:$port" -t 2 -c 4 -P 2 -R 1:1 -k 20000 -d 16-4096 --prefill -w 0 -D "$secs" \
	--label train >"$dir/train.txt" 2>&1 || rc=1
sed 's/^/    /' "$dir/train.txt"
# the plugin writes the counts when QEMU exits
kill -TERM $runner 2>/dev/null
wait $runner 2>/dev/null || true
[ $rc = 0 ] || die "the training load failed" "see ${dir#"$UKL_TOP"/}/train.txt and out/$app/$train/run.log"
[ -s "$dir/branches.txt" ] || die "the meter wrote no block counts" "see out/$app/$train/run.log"
nb=$(sed -n 1p "$dir/branches.txt")
step COUNTS "$nb blocks and $(sed -n "$((nb + 2))p" "$dir/branches.txt") branches of the kernel half"

# 2. profile
step PROFGEN "llvm-profgen-19 -> ${dir#"$UKL_TOP"/}/kernel.prof"
llvm-profgen-19 --binary="$UKL_OUT/$app/$train/vmlinux" --unsymbolized-profile="$dir/branches.txt" \
	--use-offset=0 --format=text --output="$dir/kernel.prof" >"$dir/profgen.log" 2>&1 ||
	die "llvm-profgen-19 failed" "see ${dir#"$UKL_TOP"/}/profgen.log"
llvm-profdata-19 show --sample --topn=25 "$dir/kernel.prof" >"$dir/top.txt" 2>&1 || true
[ -s "$dir/kernel.prof" ] || die "llvm-profgen-19 wrote an empty profile" "see ${dir#"$UKL_TOP"/}/profgen.log"
sed -n '1,12p' "$dir/top.txt" | sed 's/^/    /'
mkdir -p "$UKL_OUT/pgo"
cp "$dir/kernel.prof" "$UKL_OUT/pgo/kernel.prof.tmp"
mv "$UKL_OUT/pgo/kernel.prof.tmp" "$UKL_OUT/pgo/kernel.prof"
echo "$app" >"$UKL_OUT/pgo/trained-on"

[ "${PGO_BUILD:-1}" = 1 ] || { note "pgo: trained (PGO_BUILD=0: ukl-pgo not built)"; exit 0; }

# 3. rebuild
note "pgo: the ukl-pgo kernel with out/pgo/kernel.prof, and $app on it"
"$UKL_TOP/scripts/image.sh" "$app" ukl-pgo

# 4. measure
[ "${PGO_MEASURE:-1}" = 1 ] || { note "pgo: trained and built (PGO_MEASURE=0: not measured)"; exit 0; }
env APP="$app" PROFILES="linux linux-lto ukl-lto ukl-pgo" BOOTS="${BOOTS:-1}" RATES="" METER=1 \
	"$UKL_TOP/eval/bench.sh"
