#!/usr/bin/env bash
# Prepare the "ukl" app flavour: the UKL glibc (scripts/glibc.sh) and the glue objects
# (glue/crtbegin.c for fused apps, glue/syscall-user.S for host executables).
# Prints shell assignments for the flavour's compiler wrapper (linker/ukl-gcc) on stdout.
#
# usage: eval "$(scripts/glue.sh)"
. "$(dirname "$0")/lib.sh"
"$UKL_TOP/scripts/glibc.sh" >&2
glibc=$("$UKL_TOP/scripts/glibc.sh" --sysroot)
out=$UKL_BUILD/glue
want="$(cat "$glibc/.ukl-built") $(hash_of_files "$UKL_TOP"/glue/*.c "$UKL_TOP/glue/syscall-user.S" "$UKL_TOP"/linker/* "$0")"
if ! [ -f "$out/.ukl-built" ] || [ "$(cat "$out/.ukl-built")" != "$want" ]; then
	rm -rf "$out"
	mkdir -p "$out"
	for c in crtbegin libgcc-nrz libm-nrz; do
		step CC "glue/$c.o" >&2
		gcc -O2 -g -mcmodel=kernel -mno-red-zone -fno-pie -fno-pic -mstack-protector-guard-reg=fs \
			-c "$UKL_TOP/glue/$c.c" -o "$out/$c.o"
	done
	step AS "glue/syscall-user.o" >&2
	gcc -c "$UKL_TOP/glue/syscall-user.S" -o "$out/syscall-user.o"
	printf '%s\n' "$want" >"$out/.ukl-built"
fi
printf 'export UKL_GLIBC=%q UKL_BUILD_GLUE=%q UKL_FLAVOUR_STAMP=%q\n' "$glibc" "$out" "$(cat "$out/.ukl-built")"
