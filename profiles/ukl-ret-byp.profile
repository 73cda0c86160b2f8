# Profile: UKL ret + bypass.  The ukl profile's kernel booted with ukl_ret=1 (see
# ukl-ret.profile) and the app's system call sites bound to ukl_entry_syscall_bypass (see
# ukl-byp.profile for what the bypass skips and when it does not).  The paper's fastest
# general configuration: no iretq on any path back to the app.
PROFILE_DESC="UKL ret + bypass: no iretq back to the app, system calls without entry/exit work"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_bypass
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret"
