# Profile: UKL ret.  The ukl profile's kernel (same objects, same .config: nothing is rebuilt)
# booted with ukl_ret=1 (linux-patches/0017): returns to the app from interrupts, exceptions
# (page faults included) and the slow path of system calls reload SS, restore the flags with
# IF still clear, switch to the app's stack and jump through a per-CPU slot, with interrupts
# enabled in the STI shadow, instead of executing iretq.  Nothing is written to the app's stack.
#
# Kept: every exit-to-user step runs before the return (signals, preemption, task work);
# frames with TF set or IF clear still use iretq.  Given up: iretq's core serialisation
# (membarrier SYNC_CORE for code that writes its own instructions).  The selftest's ret group
# checks that the kernel took the jump (/sys/kernel/debug/ukl/ret_count) and that every
# register, CF and SS survive interrupt returns.
PROFILE_DESC="UKL ret: interrupts and exceptions return to the app by jump instead of iretq"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret"
