#!/usr/bin/env bash
# Build an app (or library) from its recipe in apps/NAME/recipe for one flavour.
#
# usage: scripts/app.sh NAME FLAVOUR          build; prints nothing else when up to date
#        scripts/app.sh --show NAME           parse and print the recipe (checks it)
#        scripts/app.sh --bin NAME FLAVOUR    print the path of the built binary
#
# The generic machinery (fetch from Debian, verify, configure with the flavour's flags, build)
# lives here once; a recipe only states facts.  Recipe variables:
#   APP_DESC        one line on what it is
#   APP_KIND        app (default) or library (installed into the flavour's sysroot)
#   APP_SOURCE      local (sources in apps/NAME/) or an input name from inputs.lock
#   APP_BUILD       cc (compile APP_SRCS), autotools (configure && make) or make (the source's
#                   own Makefile, or apps/NAME/Makefile for a local source, given CC, CFLAGS,
#                   LDFLAGS and APP_MAKE_OPTS on its command line)
#   APP_SRCS        cc: the C files, relative to apps/NAME/
#   APP_DEPENDS     libraries (recipes of kind library) built first
#   APP_AUTORECONF  yes: run autoreconf -fi before configure
#   APP_CONF_OPTS   autotools: extra configure options ($SYSROOT is the flavour's sysroot)
#   APP_MAKE_OPTS   make: variables and targets for make
#   APP_CFLAGS      extra compiler flags
#   APP_BIN         the program (relative to the build dir for autotools and make)
#   APP_ARGS        default command line
#   APP_PORT        guest TCP port the runner forwards a host port to
#   APP_PROTOCOL    what make demo (scripts/boot-app.sh --demo) speaks to APP_PORT (memcache, redis)
# Builds land in $UKL_BUILD/apps/FLAVOUR/NAME; libraries install into $UKL_BUILD/apps/FLAVOUR/sysroot.
. "$(dirname "$0")/lib.sh"

RECIPE_KEYS="APP_DESC APP_KIND APP_SOURCE APP_BUILD APP_SRCS APP_DEPENDS APP_AUTORECONF
	APP_CONF_OPTS APP_MAKE_OPTS APP_CFLAGS APP_BIN APP_ARGS APP_PORT APP_PROTOCOL"

known_apps() { (cd "$UKL_TOP/apps" && for d in */recipe; do printf '%s ' "${d%/recipe}"; done); }

# load_recipe NAME: source and check apps/NAME/recipe into the current shell
load_recipe() {
	local name=$1 r=$UKL_TOP/apps/$1/recipe k bad
	[ -f "$r" ] || die "unknown app '$name' (no apps/$name/recipe)" "use one of: $(known_apps)"
	for k in $RECIPE_KEYS; do unset "$k"; done
	SYSROOT=${SYSROOT-'$SYSROOT'}
	bad=$(grep -vE '^[[:space:]]*(#|$)' "$r" | grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z_0-9]*=' | tr -d ' \t=' |
		grep -vxF -f <(tr -s ' \t\n' '\n' <<<"$RECIPE_KEYS") || true)
	[ -z "$bad" ] || die "apps/$name/recipe: unknown variable(s): $(echo $bad)" "known: $(echo $RECIPE_KEYS)"
	# shellcheck disable=SC1090
	. "$r" || die "apps/$name/recipe does not parse as shell assignments"
	APP_KIND=${APP_KIND:-app}
	case $APP_KIND in app|library) ;; *) die "apps/$name/recipe: APP_KIND must be app or library, not '$APP_KIND'" ;; esac
	[ -n "${APP_SOURCE:-}" ] || die "apps/$name/recipe: APP_SOURCE is missing" "set APP_SOURCE=local or an input name from inputs.lock"
	case ${APP_BUILD:-} in
	cc) [ -n "${APP_SRCS:-}" ] || die "apps/$name/recipe: APP_BUILD=cc needs APP_SRCS" ;;
	autotools|make) ;;
	*) die "apps/$name/recipe: APP_BUILD must be cc, autotools or make, not '${APP_BUILD:-}'" ;;
	esac
	if [ "$APP_KIND" = app ]; then
		[ -n "${APP_BIN:-}" ] || die "apps/$name/recipe: APP_BIN is missing" "name the program the build produces"
	fi
	if [ "$APP_SOURCE" != local ]; then
		awk -v n="$APP_SOURCE" '!/^#/ && $1 == n {f=1} END {exit !f}' "$UKL_LOCK" ||
			die "apps/$name/recipe: APP_SOURCE '$APP_SOURCE' is not an input in inputs.lock" "add it with make repin"
	fi
	local d
	for d in ${APP_DEPENDS:-}; do
		[ -f "$UKL_TOP/apps/$d/recipe" ] || die "apps/$name/recipe: dependency '$d' has no recipe" "add apps/$d/recipe"
	done
	return 0
}

load_flavour() {
	local f=$UKL_TOP/profiles/$1.flavour
	[ -f "$f" ] || die "unknown app flavour '$1' (no profiles/$1.flavour)"
	# shellcheck disable=SC1090
	. "$f"
}

show() {
	load_recipe "$1"
	local k
	for k in $RECIPE_KEYS; do printf '%s=%s\n' "$k" "$(echo ${!k:-})"; done
}

# build NAME FLAVOUR
build() {
	local name=$1 flavour=$2 dir stamp want srcdir input_sum d
	( load_recipe "$name" ) || exit 1
	for d in $(load_recipe "$name"; echo "${APP_DEPENDS:-}"); do build "$d" "$flavour"; done
	(
	load_flavour "$flavour"
	if [ -n "${FLAVOUR_PREPARE:-}" ]; then
		prep=$("$UKL_TOP/$FLAVOUR_PREPARE") || die "preparing the $flavour flavour failed (see above)"
		eval "$prep"
	fi
	FLAVOUR_CC=$(eval "printf '%s' \"$FLAVOUR_CC\"")
	SYSROOT=$UKL_BUILD/apps/$flavour/sysroot
	load_recipe "$name"
	dir=$UKL_BUILD/apps/$flavour/$name
	input_sum=local
	[ "$APP_SOURCE" = local ] || input_sum=$(awk -v n="$APP_SOURCE" '!/^#/ && $1 == n {print $5}' "$UKL_LOCK")
	want="$input_sum $(hash_of_files "$UKL_TOP/apps/$name"/* "$UKL_TOP/profiles/$flavour.flavour" "$UKL_TOP/scripts/app.sh") ${UKL_FLAVOUR_STAMP:-}"
	for d in ${APP_DEPENDS:-}; do want="$want $(cat "$UKL_BUILD/apps/$flavour/$d/.ukl-built")"; done
	# the finish step (the fusion) has its own stamp: a change to its tools redoes only it
	local fkey=""
	[ -z "${FLAVOUR_FINISH:-}" ] || [ "${APP_KIND:-app}" != app ] ||
		fkey=$(hash_of_files "$UKL_TOP/$FLAVOUR_FINISH" "$UKL_TOP"/linker/*.py "$UKL_TOP/linker/seam.syms")
	if [ -f "$dir/.ukl-built" ] && [ "$(cut -d' ' -f2- "$dir/.ukl-built")" = "$want" ]; then
		[ -z "$fkey" ] || [ "$(cat "$dir/.ukl-finished" 2>/dev/null)" = "$fkey" ] && exit 0
		rm -f "$dir/.ukl-finished"
		"$UKL_TOP/$FLAVOUR_FINISH" "$dir/$APP_BIN.ukl.o" "$dir"
		echo "$fkey" >"$dir/.ukl-finished"
		exit 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir" "$SYSROOT"
	export CC="$FLAVOUR_CC" CFLAGS="$FLAVOUR_CFLAGS ${APP_CFLAGS:-}" LDFLAGS="$FLAVOUR_LDFLAGS -L$SYSROOT/lib"
	export CPPFLAGS="-I$SYSROOT/include" PKG_CONFIG_PATH="$SYSROOT/lib/pkgconfig" PKG_CONFIG_LIBDIR="$SYSROOT/lib/pkgconfig"
	case $APP_BUILD in
	cc)
		local objs=() s
		for s in $APP_SRCS; do
			step CC "$name/$s ($flavour)"
			$CC $CFLAGS $CPPFLAGS -c "$UKL_TOP/apps/$name/$s" -o "$dir/${s%.c}.o"
			objs+=("$dir/${s%.c}.o")
		done
		step LD "$name ($flavour)"
		$CC $CFLAGS $LDFLAGS -o "$dir/$APP_BIN" "${objs[@]}" ;;
	autotools)
		srcdir=$("$UKL_TOP/scripts/fetch.sh" --path "$APP_SOURCE")
		cp -a "$srcdir/." "$dir/"
		rm -f "$dir/.ukl-unpacked"
		if [ "${APP_AUTORECONF:-}" = yes ]; then
			run_logged AUTOGEN "$name" "$dir/autoreconf.log" bash -c "cd '$dir' && autoreconf -fi"
		fi
		# shellcheck disable=SC2086
		run_logged CONFIG "$name ($flavour)" "$dir/configure.log" \
			bash -c "cd '$dir' && ./configure --prefix='$SYSROOT' $(echo $APP_CONF_OPTS)"
		run_long MAKE "$name ($flavour)" "$dir/make.log" make -C "$dir" -j"$UKL_JOBS"
		if [ "$APP_KIND" = library ]; then
			run_logged INSTALL "$name into the $flavour sysroot" "$dir/install.log" make -C "$dir" install
		fi ;;
	make)
		if [ "$APP_SOURCE" = local ]; then srcdir=$UKL_TOP/apps/$name
		else srcdir=$("$UKL_TOP/scripts/fetch.sh" --path "$APP_SOURCE"); fi
		cp -a "$srcdir/." "$dir/"
		rm -f "$dir/.ukl-unpacked"
		# shellcheck disable=SC2086
		run_long MAKE "$name ($flavour)" "$dir/make.log" make -C "$dir" -j"$UKL_JOBS" \
			CC="$CC" CFLAGS="$CFLAGS $CPPFLAGS" LDFLAGS="$LDFLAGS" $(echo ${APP_MAKE_OPTS:-}) ;;
	esac
	if [ "$APP_KIND" = app ]; then
		[ -x "$dir/$APP_BIN" ] || die "building $name produced no $APP_BIN" "check the logs in ${dir#"$UKL_TOP"/}"
		if [ -n "${FLAVOUR_FINISH:-}" ]; then
			"$UKL_TOP/$FLAVOUR_FINISH" "$dir/$APP_BIN.ukl.o" "$dir"
			echo "$fkey" >"$dir/.ukl-finished"
		fi
	fi
	printf '%s %s\n' "$(date +%s)" "$want" >"$dir/.ukl-built"
	)
}

case ${1:-} in
--show) [ $# = 2 ] || die "usage: scripts/app.sh --show NAME"; show "$2" ;;
--bin) [ $# = 3 ] || die "usage: scripts/app.sh --bin NAME FLAVOUR"
	load_recipe "$2"; printf '%s\n' "$UKL_BUILD/apps/$3/$2/$APP_BIN" ;;
--known) known_apps; echo ;;
''|-*) die "usage: scripts/app.sh NAME FLAVOUR | --show NAME | --bin NAME FLAVOUR" ;;
*) [ $# = 2 ] || die "usage: scripts/app.sh NAME FLAVOUR"
	need_host; build "$1" "$2" ;;
esac
