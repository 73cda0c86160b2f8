# Profile: UKL, the base model.  The app and the UKL glibc are fused into vmlinux, the app runs
# as a process at CPL 0, and every system call is a `call` into the kernel's full entry path
# (entry work, dispatch, exit work), returning with iretq.
PROFILE_DESC="UKL: the app fused into vmlinux, at CPL 0, system calls by call (full entry path)"
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
# what the app's system call sites (__ukl_syscall in the UKL glibc) are bound to at link time
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall
# SMAP/SMEP off: the app touches and runs user-half memory at CPL 0; the exit port reports
# the status of a UKL init
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4"
PROFILE_EXPECT=""
