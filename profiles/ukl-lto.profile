# Profile: UKL LTO.  The ukl-direct profile (per-call binding, direct entries, ukl_ret=1) on a
# kernel built with clang-19 and ThinLTO (profiles/lto.config), so that the kernel side of
# every direct entry is optimised across the kernel's own files: ukl_direct_c_NAME() and the
# system call's function it calls, which gcc compiles in separate units, are one ThinLTO
# import apart.  The app and glibc are still built by gcc and linked natively at the final
# link (the app as LLVM bitcode inside the kernel's LTO link is not built yet: DESIGN.md).
# Compare it with linux-lto (same compiler and LTO, no app) and ukl-direct (gcc).
PROFILE_DESC="UKL direct on a clang-19 ThinLTO kernel"
PROFILE_KCONFIG="base.config ukl.config lto.config"
PROFILE_CC=clang
PROFILE_KCFLAGS="-gline-tables-only -fdebug-info-for-profiling"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_bypass
PROFILE_SYSCALL_DIRECT="all"
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret"
