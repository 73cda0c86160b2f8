#!/usr/bin/env bash
# Fetch, verify and unpack the pinned upstream inputs listed in inputs.lock.
#
# usage: scripts/fetch.sh NAME...            fetch and unpack (idempotent, verified every time)
#        scripts/fetch.sh --path NAME        fetch if needed, then print the unpacked source directory
#        scripts/fetch.sh --repin NAME VER   accept version VER of NAME: download it, rewrite inputs.lock
#        scripts/fetch.sh --list             the pinned inputs
#
# Downloads live in $UKL_CACHE/dl, unpacked trees in $UKL_CACHE/src/NAME-VERSION.  A download is
# moved into the cache only after its checksum matched; a tree is trusted only if its stamp
# file exists, which is written last.  A corrupted cached download is deleted and fetched again.
. "$(dirname "$0")/lib.sh"

DL=$UKL_CACHE/dl
SRC=$UKL_CACHE/src

# lock_line NAME -> sets kind pkg ver sum
lock_line() {
	local line
	line=$(awk -v n="$1" '$1 == n && $0 !~ /^#/' "$UKL_LOCK")
	[ -n "$line" ] || die "'$1' is not an input in $UKL_LOCK" \
		"pick one of: $(awk '!/^#/ && NF {printf "%s ", $1}' "$UKL_LOCK")"
	read -r _ kind pkg ver sum <<<"$line"
	case $kind in deb|dsc) ;; *) die "$UKL_LOCK: '$1' has unknown kind '$kind'" "use deb or dsc" ;; esac
	[[ $sum =~ ^[0-9a-f]{64}$ ]] || die "$UKL_LOCK: '$1' has a malformed sha256 '$sum'" \
		"make repin INPUT=$1 VERSION=$ver"
}

safe() { printf '%s' "$1" | tr '~+:' '___'; }

# The file apt names for pkg=ver (deb or dsc), without the epoch.
deb_file() { printf '%s_%s_all.deb' "$pkg" "${ver#*:}"; }
dsc_file() { printf '%s_%s.dsc' "$pkg" "${ver#*:}"; }

mirror_versions() {
	if [ "$kind" = deb ]; then
		apt-cache madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -u -V
	else
		apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u -V
	fi
}

not_on_mirror() {
	local found
	found=$(mirror_versions | tr '\n' ' ')
	[ -n "$found" ] || found="none (is apt-get update done, and deb-src enabled? run: make setup)"
	die "the Debian mirror no longer offers $pkg $ver (pinned for '$name' in inputs.lock); it offers: $found" \
		"make repin INPUT=$name VERSION=<one of those>   (downloads it and rewrites the lock line)"
}

# download NAME: make sure the verified download is in $DL; sets $file
download() {
	local tmp got
	mkdir -p "$DL"
	if [ "$kind" = deb ]; then file=$DL/$(deb_file); else file=$DL/$(dsc_file); fi
	if [ -f "$file" ]; then
		got=$(sha256_of "$file")
		[ "$got" = "$sum" ] && return 0
		warn "cached $(basename "$file") is corrupted (sha256 $got, inputs.lock says $sum); fetching it again"
		rm -f "$file"
	fi
	tmp=$(mktemp -d "$DL/.tmp.XXXXXX")
	chmod 755 "$tmp"
	step FETCH "$pkg $ver"
	if [ "$kind" = deb ]; then
		(cd "$tmp" && apt-get download "$pkg=$ver") >"$tmp/log" 2>&1 ||
			{ grep -q 'not found\|Unable to locate' "$tmp/log" && { rm -rf "$tmp"; not_on_mirror; }
			  cat "$tmp/log" >&2; rm -rf "$tmp"; die "apt-get download $pkg=$ver failed" "check the network and run: make setup"; }
	else
		(cd "$tmp" && apt-get source --download-only "$pkg=$ver") >"$tmp/log" 2>&1 ||
			{ grep -q "Can not find version\|Unable to find a source package" "$tmp/log" && { rm -rf "$tmp"; not_on_mirror; }
			  cat "$tmp/log" >&2; rm -rf "$tmp"; die "apt-get source $pkg=$ver failed" "check the network and run: make setup"; }
	fi
	got=$(sha256_of "$tmp/$(basename "$file")")
	if [ "$got" != "$sum" ]; then
		rm -rf "$tmp"
		die "$pkg $ver from the mirror has sha256 $got, but inputs.lock pins $sum" \
			"if the mirror rebuilt it and you trust it: make repin INPUT=$name VERSION=$ver"
	fi
	# the .dsc's tarballs come along; dpkg-source verifies them against the .dsc
	find "$tmp" -maxdepth 1 -type f ! -name log -exec mv -f {} "$DL/" \;
	rm -rf "$tmp"
}

# unpack NAME: unpacked tree in $SRC/NAME-VERSION (stamp written last); sets $dir
unpack() {
	local tmp stamp
	dir=$SRC/$name-$(safe "$ver")
	stamp=$dir/.ukl-unpacked
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
	rm -rf "$dir"
	mkdir -p "$SRC"
	tmp=$(mktemp -d "$SRC/.tmp.XXXXXX")
	step UNPACK "$name $ver"
	case $name:$kind in
	linux:deb)
		dpkg-deb --fsys-tarfile "$file" | tar -xOf - ./usr/src/linux-source-6.12.tar.xz | tar -xJf - -C "$tmp"
		mv "$tmp"/linux-source-* "$dir" ;;
	glibc:deb)
		dpkg-deb --fsys-tarfile "$file" | tar -xOf - --wildcards './usr/src/glibc/glibc-*.tar.xz' | tar -xJf - -C "$tmp"
		mv "$tmp"/glibc-* "$dir" ;;
	*:dsc)
		if ! dpkg-source --no-copy -x "$file" "$tmp/tree" >"$tmp/log" 2>&1; then
			cat "$tmp/log" >&2
			rm -rf "$tmp"
			rm -f "$file"
			die "dpkg-source could not unpack $(basename "$file") (a tarball failed its check?); the cached .dsc was removed" \
				"rerun the command to fetch it again"
		fi
		mv "$tmp/tree" "$dir" ;;
	*) die "don't know how to unpack input '$name' of kind $kind" "add a case to scripts/fetch.sh" ;;
	esac
	rm -rf "$tmp"
	printf '%s\n' "$sum" >"$stamp"
}

fetch() {
	name=$1
	lock_line "$name"
	download
	unpack
}

repin() {
	local newver=$2 newsum
	name=$1
	lock_line "$name"
	repin_tmp=$(mktemp -d)
	local tmp=$repin_tmp
	chmod 755 "$tmp"
	trap 'rm -rf "$repin_tmp"' EXIT
	step REPIN "$pkg $ver -> $newver"
	if [ "$kind" = deb ]; then
		(cd "$tmp" && apt-get download "$pkg=$newver") >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; ver=$newver; not_on_mirror; }
		newsum=$(sha256_of "$tmp/${pkg}_${newver#*:}_all.deb")
	else
		(cd "$tmp" && apt-get source --download-only "$pkg=$newver") >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; ver=$newver; not_on_mirror; }
		newsum=$(sha256_of "$tmp/${pkg}_${newver#*:}.dsc")
	fi
	awk -v n="$name" -v v="$newver" -v s="$newsum" \
		'$1 == n && $0 !~ /^#/ { printf "%-12s %-5s %-18s %-25s %s\n", $1, $2, $3, v, s; next } { print }' \
		"$UKL_LOCK" >"$UKL_LOCK.tmp"
	mv "$UKL_LOCK.tmp" "$UKL_LOCK"
	note "inputs.lock: $name now pinned to $newver ($newsum)"
}

case ${1:-} in
--path) [ $# = 2 ] || die "usage: scripts/fetch.sh --path NAME"
	fetch "$2" >&2; printf '%s\n' "$dir" ;;
--repin) [ $# = 3 ] || die "usage: scripts/fetch.sh --repin NAME VERSION" "e.g. make repin INPUT=linux VERSION=6.12.120-1~deb12u1"
	repin "$2" "$3" ;;
--list) awk '!/^#/ && NF' "$UKL_LOCK" ;;
''|-*) die "usage: scripts/fetch.sh NAME... | --path NAME | --repin NAME VERSION | --list" ;;
*) for n in "$@"; do fetch "$n"; done ;;
esac
