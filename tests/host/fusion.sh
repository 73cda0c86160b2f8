#!/usr/bin/env bash
# The UKL app side without a kernel: the UKL glibc has no trap instruction left, the ukl flavour
# builds the selftest into a fused object whose scan is clean, the same build runs on the host
# (through the `syscall; ret` shim: every converted site still makes its system call), and the
# scan fails a planted syscall, red-zone access, privileged instruction or non-call reference to
# the kernel's entry, naming the symbol; its vDSO rule passes a SYSCALL only behind a CPL test.
. "$(dirname "$0")/../lib.sh"

log=$TOP/build/test-logs/fusion-glibc.log
if "$TOP/scripts/glibc.sh" >"$log" 2>&1; then ok "the UKL glibc builds"; else not_ok "the UKL glibc builds" "$(tail -n 15 "$log")"; t_done; fi
sysroot=$("$TOP/scripts/glibc.sh" --sysroot)
traps=$(objdump -d "$sysroot/lib/libc.a" "$sysroot/lib/libm.a" "$sysroot/lib/crt1.o" | grep -cE $'\t(syscall|sysenter|int +\\$0x80) *$' || true)
[ "$traps" = 0 ] && ok "libc.a, libm.a and crt1.o contain no syscall/sysenter/int \$0x80" || not_ok "no trap instructions in the UKL glibc" "$traps found"
sites=$(cat "$sysroot/syscall-sites")
[ "$sites" -ge 537 ] && ok "all $sites system call sites of libc.a call __ukl_syscall" || not_ok "all call sites converted" "only $sites"

log=$TOP/build/test-logs/fusion-selftest.log
if "$TOP/scripts/app.sh" selftest ukl >"$log" 2>&1; then ok "the selftest builds with the ukl flavour and fuses"; else not_ok "selftest builds with the ukl flavour" "$(tail -n 15 "$log")"; t_done; fi
d=$TOP/build/apps/ukl/selftest
rep=$d/fuse-report.txt
expect_grep "the fuse report counts 0 raw trap instructions" '^raw trap instructions .*: 0$' "$rep"
expect_grep "... and 0 red-zone accesses" '^red-zone accesses: 0$' "$rep"
expect_grep "... and lists clone3 among the reachable system calls" '^ *435 clone3 ' "$rep"
expect_grep "... and rt_sigreturn" '^ *15 rt_sigreturn ' "$rep"
# read is number 0, which gcc loads with xor %eax,%eax (the report missed it until perf trace
# counted read calls of memcached that it did not list)
expect_grep "... and read (number 0, loaded as xor %eax,%eax)" '^ *0 read ' "$rep"
expect_grep "... and the unwind table ends at its end (no padding read as a terminator)" '^unwind table: [0-9]{3,} entries, terminated at its end$' "$rep"
nm "$d/ukl-app.o" >"$T_TMP/nm"
expect_grep "every app symbol carries the ukl_ prefix (ukl_main)" ' T ukl_main$' "$T_TMP/nm"
expect_grep "... glibc's memcpy too (ukl_memcpy), so it cannot clash with the kernel's" ' ukl_memcpy$' "$T_TMP/nm"
undef=$(awk '$1 == "U" && $2 !~ /^ukl___ukl_sys_[a-z0-9_]+$/ {print $2}' "$T_TMP/nm" | tr '\n' ' ')
[ "$undef" = "_GLOBAL_OFFSET_TABLE_ ukl___ukl_syscall " ] && ok "the only undefined symbols are the seam names (ukl___ukl_syscall, ukl___ukl_sys_NAME, _GLOBAL_OFFSET_TABLE_)" || not_ok "only seam symbols undefined" "undefined: $undef"
expect_grep "the fusion names the call sites with a constant number: read's sites call ukl___ukl_sys_read" ' U ukl___ukl_sys_read$' "$T_TMP/nm"
expect_grep "... and the fuse report counts the named sites and those left on ukl___ukl_syscall" '^per-call names \(linker/name-sites.py\): [0-9]+ sites named after their call, [0-9]+ keep ukl___ukl_syscall' "$rep"
readelf -SW "$d/ukl-app.o" | grep -oE '\.ukl\.[a-z_]+' | sort -u | tr '\n' ' ' >"$T_TMP/secs"
expect_grep "its sections are the .ukl.* set the kernel places" '^\.ukl\.bss \.ukl\.data \.ukl\.eh_frame \.ukl\.rodata \.ukl\.tbss \.ukl\.tdata \.ukl\.text $' "$T_TMP/secs"

# every group but tracer: its hardware breakpoints need debug registers that a host VM may not
# honour (this one's are ignored); the boot tests run it in the guest on every profile
groups=$("$d/selftest" --list 2>/dev/null | grep -vx tracer | paste -sd, -)
"$d/selftest" --expect-cpl 3 ${groups:+--only "$groups"} >"$T_TMP/host-run" 2>&1
rc=$?
guest_tap "$T_TMP/host-run" "host run of the ukl-flavoured selftest"
[ $rc = 0 ] && ok "the ukl-flavoured selftest passes on the host (exit 0)" || not_ok "ukl-flavoured selftest on the host" "exit $rc"

# planted trap and red zone: the fusion step must refuse them and name the function
mkdir -p "$T_TMP/planted"
cat >"$T_TMP/planted/p.c" <<'C'
int main(void) { return 0; }
void planted_trap(void) { asm volatile("syscall" ::: "rcx", "r11", "memory"); }
C
export UKL_TOP=$TOP
eval "$("$TOP/scripts/glue.sh")"
( cd "$T_TMP/planted" && "$TOP/linker/ukl-gcc" -O2 -o p p.c ) >"$T_TMP/out" 2>&1 || not_ok "planted object builds" "$(cat "$T_TMP/out")"
expect_fail "a planted syscall fails the fusion, naming the symbol" "'syscall' in ukl_planted_trap" \
	"$TOP/linker/fuse.sh" "$T_TMP/planted/p.ukl.o" "$T_TMP/planted/out"
expect_ok "... and leaves no fused object behind" test ! -e "$T_TMP/planted/out/ukl-app.o"
printf 'int main(void) { return 0; }\n' >"$T_TMP/planted/q.c"
printf '\t.text\n\t.globl redzone_user\nredzone_user:\n\tmovq %%rdi, -8(%%rsp)\n\tret\n' >"$T_TMP/planted/r.S"
( cd "$T_TMP/planted" && "$TOP/linker/ukl-gcc" -O2 -o q q.c r.S ) >"$T_TMP/out" 2>&1 || not_ok "red-zone object builds" "$(cat "$T_TMP/out")"
expect_fail "a red-zone access fails the fusion, naming the symbol" "in ukl_redzone_user.*: red-zone access" \
	"$TOP/linker/fuse.sh" "$T_TMP/planted/q.ukl.o" "$T_TMP/planted/out"

# per-call names: only a site whose %eax is provably the constant it names gets the name
cat >"$T_TMP/planted/n.S" <<'S'
	.text
	.globl site_const, site_zero, site_args, site_join, site_xchg, site_partial, site_cltq
	.type site_const, @function
site_const:	mov $39, %eax
	call __ukl_syscall
	ret
	.size site_const, .-site_const
	.type site_zero, @function
site_zero:	xor %eax, %eax
	call __ukl_syscall
	ret
	.size site_zero, .-site_zero
	.type site_args, @function
site_args:	mov $39, %eax
	mov %rdi, %rsi
	lea 8(%rsp), %rdx
	test %rax, %rax
	call __ukl_syscall
	ret
	.size site_args, .-site_args
	.type site_join, @function
site_join:	test %rdi, %rdi
	jz 1f
	mov $39, %eax
1:	call __ukl_syscall
	ret
	.size site_join, .-site_join
	.type site_xchg, @function
site_xchg:	mov $39, %eax
	xchg %eax, %edx
	call __ukl_syscall
	ret
	.size site_xchg, .-site_xchg
	.type site_partial, @function
site_partial:	mov $39, %eax
	mov $1, %al
	call __ukl_syscall
	ret
	.size site_partial, .-site_partial
	.type site_cltq, @function
site_cltq:	mov $39, %eax
	cltq
	call __ukl_syscall
	ret
	.size site_cltq, .-site_cltq
S
( cd "$T_TMP/planted" && "$TOP/linker/ukl-gcc" -O2 -Wa,--noexecstack -o n q.c n.S ) >"$T_TMP/out" 2>&1 || not_ok "naming object builds" "$(cat "$T_TMP/out")"
if "$TOP/linker/fuse.sh" "$T_TMP/planted/n.ukl.o" "$T_TMP/planted/nout" >"$T_TMP/out" 2>&1; then
	# site_target FUNC: the symbol FUNC's call relocation names
	site_target() {
		objdump -dr --no-show-raw-insn -j .ukl.text "$T_TMP/planted/nout/ukl-app.o" |
			awk -v f="<ukl_$1>:" '/^[0-9a-f]+ </ { in_f = ($2 == f); next }
				in_f && /R_X86_64_(PLT|PC)32/ { sub(/-0x4$/, "", $3); print $3 }'
	}
	for c in "site_const ukl___ukl_sys_getpid mov \$39,%eax right before the call" \
		"site_zero ukl___ukl_sys_read xor %eax,%eax (read is 0)" \
		"site_args ukl___ukl_sys_getpid moves, lea and a test of %rax in between"; do
		set -- $c
		got=$(site_target "$1")
		[ "$got" = "$2" ] && ok "named: $1 ($(echo ${*:3})) calls $2" || not_ok "$1 is named $2" "it calls '$got'"
	done
	for c in "site_join a branch lands between the load and the call" \
		"site_xchg xchg writes %eax" "site_partial a write of %al" "site_cltq cltq writes %rax"; do
		set -- $c
		got=$(site_target "$1")
		[ "$got" = ukl___ukl_syscall ] && ok "not named: $1 ($(echo ${*:2})) keeps ukl___ukl_syscall" ||
			not_ok "$1 keeps ukl___ukl_syscall" "it calls '$got'"
	done
	expect_ok "the renamed object is still a valid relocatable object (ld -r reads its symbols and relocations)" \
		ld -r -o "$T_TMP/planted/n-linked.o" "$T_TMP/planted/nout/ukl-app.o"
else
	not_ok "the naming object fuses" "$(tail -5 "$T_TMP/out")"
fi

# every instruction that the CPU executes at CPL 0 instead of faulting, one function each
privileged=("sysretq" "sysexit" "iretq" "swapgs" "cli" "sti" "popfq" "rdmsr" "wrmsr"
	"mov %cr3,%rax" "mov %rax,%cr4" "mov %db7,%rax" "mov %rax,%db0" "lgdt (%rax)" "lidt (%rax)"
	"lldt %ax" "ltr %ax" "lmsw %ax" "clts" "invlpg (%rax)" "invd" "wbinvd" "xsetbv" "hlt"
	"inb %dx,%al" "outb %al,%dx" "outl %eax,\$0xf4" "insb" "outsb" "int \$0x21" "int \$0x80")
{
	printf '\t.text\n'
	for i in "${!privileged[@]}"; do printf '\t.globl priv%d\npriv%d:\n\t%s\n\tret\n' "$i" "$i" "${privileged[$i]}"; done
} >"$T_TMP/planted/priv.S"
( cd "$T_TMP/planted" && "$TOP/linker/ukl-gcc" -O2 -o pr q.c priv.S ) >"$T_TMP/out" 2>&1 || not_ok "privileged object builds" "$(cat "$T_TMP/out")"
rc=0
"$TOP/linker/fuse.sh" "$T_TMP/planted/pr.ukl.o" "$T_TMP/planted/out" >"$T_TMP/out" 2>&1 || rc=$?
missing=""
for i in "${!privileged[@]}"; do grep -q "in ukl_priv$i+0x0 " "$T_TMP/out" || missing+=" ${privileged[$i]};"; done
[ $rc != 0 ] && [ -z "$missing" ] && ok "each of ${#privileged[@]} privileged instructions (sysret ... in/out, int \$N) fails the fusion, named" ||
	not_ok "each privileged instruction fails the fusion" "exit $rc; not named:$missing" "$(tail -n 5 "$T_TMP/out")"
printf 'extern void __ukl_syscall(void);\nvoid *volatile taken;\nint main(void) { taken = (void *)__ukl_syscall; return 0; }\n' >"$T_TMP/planted/e.c"
( cd "$T_TMP/planted" && "$TOP/linker/ukl-gcc" -O2 -o e e.c ) >"$T_TMP/out" 2>&1 || not_ok "entry-reference object builds" "$(cat "$T_TMP/out")"
expect_fail "taking the address of the kernel's entry fails the fusion (a restart backs up over a direct call only)" \
	"in ukl_main.*may only be called directly" "$TOP/linker/fuse.sh" "$T_TMP/planted/e.ukl.o" "$T_TMP/planted/out"

# the vDSO rule: a SYSCALL only in a function that reads %cs (the CPL test of linux-patches 0015)
printf '\t.text\n\t.globl bare\nbare:\n\tsyscall\n\tret\n' >"$T_TMP/planted/v1.S"
printf '\t.text\n\t.globl guarded\nguarded:\n\tmov %%cs,%%ecx\n\ttest $3,%%ecx\n\tjz 1f\n\tsyscall\n1:\tret\n' >"$T_TMP/planted/v2.S"
for v in v1 v2; do gcc -shared -nostdlib -o "$T_TMP/planted/$v.so" "$T_TMP/planted/$v.S" || not_ok "vDSO stand-in $v builds"; done
expect_fail "a vDSO with a SYSCALL outside a CPL test fails the scan, named" \
	"'syscall' in bare\+0x0 .*outside a function that tests the CPL" "$TOP/linker/scan.py" --vdso "$T_TMP/planted/v1.so"
expect_ok "... one behind the CPL test passes" "$TOP/linker/scan.py" --vdso "$T_TMP/planted/v2.so"
t_done
