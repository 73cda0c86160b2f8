#!/usr/bin/env bash
# inputs.lock verification: pinned download verified, corrupted cache healed, bad pins and
# vanished versions rejected with the fix named.  Uses a scratch cache and the small libevent input.
. "$(dirname "$0")/../lib.sh"
top=$(scratch_top)
export UKL_CACHE=$T_TMP/cache
f=$top/scripts/fetch.sh

expect_ok "fetch libevent into an empty cache" "$f" libevent
dir=$("$f" --path libevent 2>/dev/null)
expect_ok "unpacked tree has its stamp and sources" test -f "$dir/.ukl-unpacked" -a -f "$dir/event.c"

dsc=$(ls "$UKL_CACHE"/dl/libevent_*.dsc)
printf 'garbage' >>"$dsc"
expect_ok "a corrupted cached .dsc is fetched again" "$f" libevent
expect_grep "... and the rerun says why" "corrupted .*fetching it again" "$T_TMP/out"

tarball=$(ls "$UKL_CACHE"/dl/libevent_*.orig.tar.gz)
truncate -s 1000 "$tarball"
rm -rf "$dir"
expect_fail "a corrupted cached tarball is an error naming the fix" "rerun the command" "$f" libevent
expect_ok "... and the rerun heals it" "$f" libevent
expect_ok "... leaving a complete tree" test -f "$dir/.ukl-unpacked" -a -f "$dir/event.c"

rm -f "$dir/.ukl-unpacked"
echo stale >"$dir/stale-file"
expect_ok "a tree without its stamp (interrupted unpack) is redone" "$f" libevent
expect_ok "... from scratch" test ! -e "$dir/stale-file"

cp "$top/inputs.lock" "$T_TMP/lock.good"
sed -i 's/^\(libevent .*\) [0-9a-f]\{64\}$/\1 0000000000000000000000000000000000000000000000000000000000000000/' "$top/inputs.lock"
rm -rf "$UKL_CACHE"
expect_fail "a download that does not match the pinned sha256 is refused" "inputs.lock pins 0000.*make repin INPUT=libevent" "$f" libevent
expect_ok "... and nothing unverified is left in the cache" test -z "$(ls "$UKL_CACHE/dl" 2>/dev/null | grep -v '^\.' )"

cp "$T_TMP/lock.good" "$top/inputs.lock"
sed -i 's/^\(libevent  *dsc  *libevent  *\)[^ ]*/\12.1.12-stable-0+ukltest/' "$top/inputs.lock"
expect_fail "a version the mirror no longer has names what it has and how to repin" \
	"no longer offers libevent 2.1.12-stable-0\+ukltest.*offers: .*2\.1\.12-stable-8" "$f" libevent
expect_grep "... with the one-line fix" "make repin INPUT=libevent VERSION=" "$T_TMP/out"

cp "$T_TMP/lock.good" "$top/inputs.lock"
expect_fail "an input that is not in the lock is named" "'nosuch' is not an input.*pick one of: linux glibc memcached libevent" "$f" nosuch
ver=$(awk '$1 == "libevent" {print $4}' "$T_TMP/lock.good")
sed -i 's/^\(libevent .*\) [0-9a-f]\{64\}$/\1 0000000000000000000000000000000000000000000000000000000000000000/' "$top/inputs.lock"
expect_ok "make repin accepts a version and rewrites its lock line" make -C "$top" --no-print-directory repin INPUT=libevent VERSION="$ver"
expect_ok "... back to the real checksum" diff "$T_TMP/lock.good" "$top/inputs.lock"
expect_ok "the repo's lock pins every input with a full sha256" \
	awk '!/^#/ && NF { if (NF != 5 || $5 !~ /^[0-9a-f]{64}$/) bad=1 } END { exit bad }' "$TOP/inputs.lock"
t_done
