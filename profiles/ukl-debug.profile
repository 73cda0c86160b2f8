# Profile: UKL on a debug kernel (profiles/debug.config: DEBUG_ENTRY, lockdep, atomic-sleep,
# IRQ-flag, FPU, list and VM checks), with the fast paths of ukl-shortcut (ret, bypass, TCP
# shortcut) so that every UKL entry and return path runs under the checkers.  Its own kernel
# objects (the .config differs); for tests, not for measurements (make eval leaves it out).
PROFILE_DESC="UKL on a debug kernel (DEBUG_ENTRY, lockdep, ...): ukl-shortcut's fast paths under the checkers"
PROFILE_KCONFIG="base.config ukl.config debug.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_shortcut
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret shortcut"
PROFILE_EVAL=no
