#!/usr/bin/env bash
# App recipes: the repo's recipes parse; bad recipes and unknown apps are errors naming the fix;
# a failed build leaves nothing a rerun would trust.
. "$(dirname "$0")/../lib.sh"
top=$(scratch_top)
export UKL_BUILD=$T_TMP/build
a=$top/scripts/app.sh

for r in "$TOP"/apps/*/recipe; do
	n=$(basename "$(dirname "$r")")
	expect_ok "recipe $n parses" "$a" --show "$n"
done
"$a" --show memcached >"$T_TMP/mc" 2>&1
expect_grep "memcached recipe: source is the pinned Debian input" '^APP_SOURCE=memcached$' "$T_TMP/mc"
expect_grep "memcached recipe: 4 worker threads on 11211" '^APP_ARGS=.*-t 4.*-p 11211' "$T_TMP/mc"
expect_grep "memcached recipe: depends on libevent" '^APP_DEPENDS=libevent$' "$T_TMP/mc"

expect_fail "an unknown app is an error listing the known ones" "unknown app 'nosuch'.*|use one of: .*hello.*memcached" "$a" --show nosuch
expect_fail "make with an unknown APP names the fix" "unknown app 'nosuch'" make -C "$top" --no-print-directory image APP=nosuch PROFILE=linux

mkdir -p "$top/apps/bad"
printf 'APP_SOURCE=local\nAPP_BUILD=cc\nAPP_SRCS=x.c\nAPP_BIN=x\nAPP_PORTT=1\n' >"$top/apps/bad/recipe"
expect_fail "a misspelt recipe variable is named" "unknown variable\(s\): APP_PORTT" "$a" --show bad
printf 'APP_SOURCE=local\nAPP_BUILD=cc\nAPP_SRCS=x.c\n' >"$top/apps/bad/recipe"
expect_fail "an app recipe without APP_BIN is refused" "APP_BIN is missing" "$a" --show bad
printf 'APP_SOURCE=nosuchinput\nAPP_BUILD=autotools\nAPP_BIN=x\n' >"$top/apps/bad/recipe"
expect_fail "an APP_SOURCE not in inputs.lock is refused" "APP_SOURCE 'nosuchinput' is not an input" "$a" --show bad
printf 'APP_SOURCE=local\nAPP_BUILD=scons\nAPP_BIN=x\n' >"$top/apps/bad/recipe"
expect_fail "an unknown APP_BUILD is refused" "APP_BUILD must be cc, autotools or make" "$a" --show bad

printf 'APP_SOURCE=local\nAPP_BUILD=cc\nAPP_SRCS=x.c\nAPP_BIN=x\n' >"$top/apps/bad/recipe"
printf 'int main(void) { return 0 }\n' >"$top/apps/bad/x.c"
expect_fail "a compile error fails the app build" "error" "$a" bad stock
expect_ok "... and leaves no build stamp a rerun would trust" test ! -e "$UKL_BUILD/apps/stock/bad/.ukl-built"
printf 'int main(void) { return 3; }\n' >"$top/apps/bad/x.c"
expect_ok "after the fix the rerun builds it" "$a" bad stock
expect_status "... and the program runs" 3 "$UKL_BUILD/apps/stock/bad/x"
expect_ok "an up-to-date app is not rebuilt" bash -c "out=\$('$a' bad stock) && [ -z \"\$out\" ]"
t_done
