# Profile: UKL shortcut (on top of ret + bypass).  The ukl profile's kernel booted with
# ukl_ret=1 and the app's system call sites bound at link time to ukl_entry_syscall_shortcut
# (linux-patches/0018): the bypass entry, where read, write, sendto, recvfrom, sendmsg and
# recvmsg on a TCP socket call tcp_sendmsg()/tcp_recvmsg() directly (net/socket.c,
# ukl_syscall_shortcut()).  memcached uses them unchanged.
#
# The shortcut checks that the descriptor is a TCP socket whose operations are still TCP's
# (no ULP such as kTLS), holds the file reference for the call, honours O_NONBLOCK, MSG_*
# flags and SIGPIPE, and runs the LSM hooks.  An address, ancillary data, compat or
# error-queue flags, or any other kind of file: the normal path, which reports the errors.
# Left out: fsnotify events and per-task I/O accounting for read()/write() on the socket.
# The selftest's tcp group checks the semantics and that the kernel counted the shortcuts
# (/sys/kernel/debug/ukl/shortcut_count).
PROFILE_DESC="UKL shortcut: ret + bypass, TCP send/receive calls go straight to TCP"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_shortcut
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret shortcut"
