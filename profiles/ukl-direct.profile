# Profile: UKL direct.  The ukl profile's kernel (same objects) booted with ukl_ret=1, the
# app's call sites bound per call at link time (scripts/kernel.sh, binding.txt in the image):
# every site whose system call has a direct entry (the list in include/linux/ukl.h:
# getppid, read, write, pread64, pwrite64, sendto, recvfrom, sendmsg, recvmsg, accept4,
# epoll_wait, epoll_pwait, epoll_ctl, futex, clock_gettime) calls ukl_direct_NAME, which
# calls the system call's own function with the arguments in registers (no pt_regs built,
# no table dispatch); every other site, and any site whose number is not a constant, goes
# to ukl_entry_syscall_bypass (see ukl-byp.profile).
#
# What a direct entry keeps (linux-patches/0021): a task with syscall_work (seccomp, ptrace
# syscall tracing, audit, tracepoints, user dispatch), a call made with TF/NT/AC/DF set, or a
# call whose %eax is not its own number (restart_syscall after a rewind) takes the bypass
# entry and from there do_syscall_64(); exit work left by the call (a signal and its restart,
# a reschedule, task work, FPU state) leaves through syscall_exit_to_user_mode() with pt_regs
# completed first.
PROFILE_DESC="UKL direct: per-call binding; hot system calls call the kernel's function directly"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_bypass
PROFILE_SYSCALL_DIRECT="all"
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret"
