/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM probe guest of scripts/accel.sh: a multiboot image (QEMU's -kernel loads it in 32-bit
 * protected mode) that does what the first steps of a Linux boot need from the accelerator:
 * page tables, EFER.LME through wrmsr, paging on, a far jump into 64-bit code, cpuid, port
 * output to the serial console and to isa-debug-exit.  It prints "ukl-probe: long mode" and
 * writes 0x2a to port 0xf4, so QEMU exits with (0x2a << 1) | 1 = 85.  Anything else (QEMU
 * aborting, no output, a hang) means the accelerator cannot run an ordinary guest.
 */
	.code32
	.text
	.globl _start
	.align 4
mb_header:
	.long 0x1BADB002
	.long 0
	.long -0x1BADB002
_start:
	/* identity-map the first 2 MiB with one large page: PML4 -> PDPT -> PD */
	movl $0x83, pd
	movl $pd + 3, pdpt
	movl $pdpt + 3, pml4
	/* PAE, CR3, EFER.LME, then paging: long mode */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	lgdt gdtr
	ljmp $8, $long64
	.code64
long64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %ss
	movl $1, %eax
	cpuid
	leaq msg(%rip), %rsi
	movw $0x3f8, %dx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	/* isa-debug-exit: QEMU exits with (0x2a << 1) | 1 */
	movl $0x2a, %eax
	movw $0xf4, %dx
	outl %eax, %dx
3:	hlt
	jmp 3b

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
gdtr:
	.word gdtr - gdt - 1
	.long gdt
msg:
	.asciz "ukl-probe: long mode\n"

	.bss
	.align 4096
pml4:	.fill 512, 8, 0
pdpt:	.fill 512, 8, 0
pd:	.fill 512, 8, 0
