# Profile: UKL bypass.  The ukl profile's kernel (same objects, same .config: nothing is
# rebuilt) with the app's system call sites bound at link time to ukl_entry_syscall_bypass
# (linux-patches/0012): the system call runs directly, without the entry and exit work, and
# returns to the app with a jump instead of iretq.
#
# What the bypass leaves out, and when it does not:
#   - skipped: syscall_enter_from_user_mode()/syscall_exit_to_user_mode() and their work
#     checks, the per-call random kernel-stack offset, and the iretq back to the app;
#   - never skipped: anything someone asked for.  A task with any syscall_work (seccomp
#     filters, ptrace syscall tracing, audit, syscall tracepoints, syscall user dispatch)
#     takes the full path for every call; so do rt_sigreturn, execve and execveat;
#   - bound: work that becomes pending during a call (a signal, a reschedule, task work, FPU
#     state to reload) sends that call out through the full exit path, so it is never
#     delayed past the end of the call that saw it.  Interrupts and exceptions taken in the
#     app are unchanged (full exit work).  Checked by the selftest's progress group.
PROFILE_DESC="UKL bypass: system calls run without entry/exit work when there is none; jump back"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_bypass
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4"
PROFILE_EXPECT=""
