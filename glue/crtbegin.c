// SPDX-License-Identifier: GPL-2.0
/*
 * UKL replacement for gcc's crtbeginT.o, the first object of every fused app.
 *
 * crtbeginT.o addresses its data with R_X86_64_32 relocations, which cannot reach the kernel
 * half, so the two things static programs get from it are done here:
 *  - __dso_handle, which atexit/__cxa_atexit in libc.a refer to;
 *  - registering the app's unwind tables (.eh_frame, gathered by linker/app-partial.lds from
 *    __ukl_eh_frame_start to a zero terminator) with libgcc, so that pthread_exit and
 *    cancellation really unwind.  It runs from .preinit_array, before any constructor.
 * Built with the ukl flavour's flags (-mcmodel=kernel -mno-red-zone -fno-pie).
 */
void *__dso_handle = &__dso_handle;

/* storage for libgcc's struct object, as crtstuff.c reserves it */
static struct {
	long placeholder[8];
} ukl_eh_object;

extern const char __ukl_eh_frame_start[];
extern void __register_frame_info(const void *begin, void *ob) __attribute__((weak));

static void ukl_register_eh_frame(void)
{
	if (__register_frame_info)
		__register_frame_info(__ukl_eh_frame_start, &ukl_eh_object);
}

__attribute__((used, section(".preinit_array")))
static void (*const ukl_preinit_eh_frame)(void) = ukl_register_eh_frame;
