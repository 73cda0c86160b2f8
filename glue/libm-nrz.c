// SPDX-License-Identifier: GPL-2.0
/*
 * Replacements for the libm.a members a fused app needs whose glibc assembly uses the red zone
 * (linker/scan.py rejects code that touches memory below %rsp: in ring 0 an interrupt or the
 * call into the kernel writes exactly there).  linker/ukl-gcc links this object ahead of the
 * app and its libraries, so libm's member is never pulled in (glibc defines the public names
 * as weak aliases).  Add a function here when the scan names one.
 *
 * ceill (redis: INCRBYFLOAT and its long double formatting): round toward +infinity with the
 * x87's frndint, as sysdeps/x86_64/fpu/s_ceill.S does (with the same exceptions: Debian's libm
 * raises inexact for a fraction), on a stack frame of its own.
 */
long double ceill(long double x)
{
	unsigned short cw, up;

	asm volatile("fnstcw %0" : "=m"(cw));
	up = (cw & ~0x0c00) | 0x0800;	/* rounding control: toward +infinity */
	asm volatile("fldcw %0" : : "m"(up));
	asm volatile("frndint" : "+t"(x));	/* inexact and invalid as glibc's ceill raises them */
	asm volatile("fldcw %0" : : "m"(cw));
	return x;
}
