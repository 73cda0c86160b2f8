// SPDX-License-Identifier: GPL-2.0
/*
 * Replacements for the libgcc.a members a fused app needs that Debian built with the red zone
 * (linker/scan.py rejects code that touches memory below %rsp: in ring 0 an interrupt or the
 * call into the kernel writes exactly there).  This object is linked ahead of libgcc.a, so
 * its definitions win.  Add a function here when the scan names one.
 *
 * __sfp_handle_exceptions(fex): raise the IEEE exceptions a soft-fp routine (the __float128
 * arithmetic glibc's printf uses) computed.  Bits as in libgcc's i386 sfp-machine.h.
 */
#define FP_EX_INVALID	0x01
#define FP_EX_DENORM	0x02
#define FP_EX_DIVZERO	0x04
#define FP_EX_OVERFLOW	0x08
#define FP_EX_UNDERFLOW	0x10
#define FP_EX_INEXACT	0x20

struct x87_env {
	unsigned short cw, pad0, sw, pad1;
	unsigned int rest[5];
};

/* set a status flag in the x87 environment and let the next x87 wait raise it */
static void x87_raise(unsigned short flag)
{
	struct x87_env env;

	asm volatile("fnstenv %0" : "=m"(env));
	env.sw |= flag;
	asm volatile("fldenv %0\n\tfwait" : : "m"(env));
}

/* raise an SSE exception by a division: 0/0 invalid, 1/0 divide-by-zero, 1/3 inexact */
static void sse_divide(float a, float b)
{
	asm volatile("divss %1, %0" : "+x"(a) : "x"(b));
}

void __sfp_handle_exceptions(int fex)
{
	if (fex & FP_EX_INVALID)
		sse_divide(0.0f, 0.0f);
	if (fex & FP_EX_DENORM)
		x87_raise(FP_EX_DENORM);
	if (fex & FP_EX_DIVZERO)
		sse_divide(1.0f, 0.0f);
	if (fex & FP_EX_OVERFLOW)
		x87_raise(FP_EX_OVERFLOW);
	if (fex & FP_EX_UNDERFLOW)
		x87_raise(FP_EX_UNDERFLOW);
	if (fex & FP_EX_INEXACT)
		sse_divide(1.0f, 3.0f);
}
