#!/usr/bin/env bash
# Install the host tools the project needs and enable Debian source packages.
#
# usage: scripts/setup.sh [--check-or-install | --check]
#   (no option)          install everything that is missing, add deb-src entries
#   --check-or-install   quiet when nothing is missing (what every make target runs)
#   --check              only report what is missing; exit 1 if anything is
#
# Every top-level make target runs this first, so a fresh Debian 12 machine needs no
# manual step.  Packages are installed with --no-install-recommends.
. "$(dirname "$0")/lib.sh"

# Host packages, one per line with what needs it.
PACKAGES=(
	build-essential   # gcc 12, make, libc6-dev (static libc.a for stock apps)
	bc bison flex     # kernel build
	libelf-dev libssl-dev kmod  # kernel build (objtool, certs, depmod)
	cpio              # initramfs
	ccache            # shared compiler cache
	gawk              # glibc's configure rejects mawk
	python3           # runner helpers, tests
	rsync             # kernel headers_install
	autoconf automake libtool pkg-config  # libevent/memcached autoreconf
	dpkg-dev          # dpkg-source for apt-get source
	xz-utils
	busybox-static    # the initramfs userspace
	qemu-system-x86   # the guest
	libmemcached-tools  # memccapable & co. for the memcached tests
	redis-tools       # redis-cli and redis-benchmark for the redis tests and figure 5
	python3-matplotlib  # eval/ figures
	netcat-openbsd    # nc, for talking to a guest by hand
	linux-perf        # make perf: perf in the guest (copied with its libraries) and on the host
	gdb               # make gdb and the gdb tests
	clang-19 lld-19 llvm-19  # the LTO profiles (linux-lto, ukl-lto): a kernel built by clang with ThinLTO
)
SRC_LIST=/etc/apt/sources.list.d/ukl-deb-src.sources

pkg_names() { printf '%s\n' "${PACKAGES[@]}" | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d'; }

missing_packages() {
	local p
	for p in $(pkg_names); do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
	done
}

have_deb_src() {
	grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}

enable_deb_src() {
	# Mirror the machine's own Debian entries (URIs and suites) as deb-src.
	local uris suites f rest
	step SETUP "adding deb-src entries ($SRC_LIST)"
	{
		echo "# Added by ukl scripts/setup.sh: apt-get source needs Debian source indexes."
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] && [ "$f" != "$SRC_LIST" ] || continue
			awk -v RS= '/Types:/ && /URIs:/ && /debian/ {print; print ""}' "$f" |
				sed -e 's/^Types:.*/Types: deb-src/' -e '/^#/d'
			echo
		done
		if [ -f /etc/apt/sources.list ]; then
			grep -E '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^ ]*debian' /etc/apt/sources.list |
				while read -r _ rest; do
					uris=${rest%% *}; rest=${rest#* }
					[[ $uris == \[* ]] && { uris=${rest%% *}; rest=${rest#* }; }
					suites=${rest%% *}; rest=${rest#* }
					printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n\n' "$uris" "$suites" "$rest"
				done
		fi
	} >"$SRC_LIST.tmp"
	if ! grep -q '^URIs:' "$SRC_LIST.tmp"; then
		cat >"$SRC_LIST.tmp" <<-SRC
		Types: deb-src
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main

		Types: deb-src
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		SRC
	fi
	mv "$SRC_LIST.tmp" "$SRC_LIST"
}

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return
	run_logged APT "apt-get update" "$UKL_CACHE/logs/apt-update.log" apt-get update
	apt_updated=1
}

mode=${1:-install}
missing=$(missing_packages | tr '\n' ' ')
case $mode in
--check)
	rc=0
	[ -z "$missing" ] || { echo "missing packages: $missing"; rc=1; }
	have_deb_src || { echo "no deb-src entries in /etc/apt"; rc=1; }
	exit $rc ;;
--check-or-install|install) ;;
*) die "unknown option '$mode'" "usage: scripts/setup.sh [--check-or-install | --check]" ;;
esac

if [ -n "$missing" ] || ! have_deb_src; then
	[ "$(id -u)" = 0 ] || die "host packages missing: $missing" \
		"run 'sudo make setup' once (installs with apt-get --no-install-recommends)"
	if ! have_deb_src; then enable_deb_src; fi
	apt_update
	if [ -n "$missing" ]; then
		run_logged APT "installing $missing" "$UKL_CACHE/logs/apt-install.log" \
			env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
	fi
elif [ "$mode" = install ]; then
	note "host tools and deb-src entries are in place"
fi
