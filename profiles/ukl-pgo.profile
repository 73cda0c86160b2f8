# Profile: UKL PGO.  ukl-lto's kernel rebuilt with the sample profile that make pgo trained
# (eval/pgo/pgo.sh: an exact block and branch profile of ukl-lto under a memcached training
# load, from the instruction meter, turned into a sample profile by llvm-profgen-19; kept in
# out/pgo/kernel.prof, or UKL_PGO_PROFILE).  The profile covers every kernel-half function that
# ran, the seam and the direct entries included; clang lays out, inlines and splits hot and
# cold code by it.  The app and glibc (gcc objects) are not rebuilt with it.
PROFILE_DESC="ukl-lto rebuilt with a sample profile trained by make pgo"
PROFILE_KCONFIG="base.config ukl.config lto.config"
PROFILE_CC=clang
PROFILE_KCFLAGS="-gline-tables-only -fdebug-info-for-profiling"
PROFILE_PGO=1
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall_bypass
PROFILE_SYSCALL_DIRECT="all"
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1"
PROFILE_EXPECT="ret"
