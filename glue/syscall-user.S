/*
 * __ukl_syscall for host executables of the ukl flavour: the UKL glibc's call sites made into
 * ordinary SYSCALLs, so that configure's link tests pass and a ukl-flavoured program runs as a
 * normal process (tests/host/fusion.sh runs the selftest this way).
 *
 * `syscall; ret` is enough except where the child of a clone must not return through the
 * parent's stack (the kernel entry of a UKL image returns from pt_regs instead):
 *  - clone (56): put the return address on top of the child stack (rsi) as well;
 *  - clone3 (435): the same at cl_args->stack + stack_size, one slot lower;
 *  - vfork (58): the child would overwrite the parent's return slot: made a fork (57) here;
 *  - rt_sigreturn (15): the kernel finds the signal frame relative to the stack pointer the
 *    restorer had before its call, so drop the return address first (it never returns).
 * Restart after a signal backs up over the 2-byte syscall instruction, as usual.
 */
	.text
	.globl	__ukl_syscall
	.type	__ukl_syscall, @function
__ukl_syscall:
	cmpl	$15, %eax
	je	.Lsigreturn
	cmpl	$56, %eax
	je	.Lclone
	cmpl	$435, %eax
	je	.Lclone3
	cmpl	$58, %eax
	jne	1f
	movl	$57, %eax
1:	syscall
	ret

.Lsigreturn:
	addq	$8, %rsp
	syscall
	ud2

.Lclone:
	testq	%rsi, %rsi
	jz	1b
	movq	(%rsp), %r11
	subq	$8, %rsi
	movq	%r11, (%rsi)
	syscall
	addq	$8, %rsi
	ret

.Lclone3:
	/* struct clone_args: stack at 40, stack_size at 48 */
	cmpq	$0, 40(%rdi)
	je	1b
	movq	40(%rdi), %r11
	addq	48(%rdi), %r11
	movq	(%rsp), %rcx
	movq	%rcx, -8(%r11)
	subq	$8, 48(%rdi)
	syscall
	ret
	.size	__ukl_syscall, .-__ukl_syscall
	.section .note.GNU-stack,"",@progbits
