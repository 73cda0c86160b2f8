# Profile: stock Linux built with clang-19 and ThinLTO (profiles/lto.config), the app an
# ordinary static userspace binary (gcc, as in the linux profile).  The baseline for ukl-lto:
# same compiler, same LTO, no app in the kernel, so that a ratio against it measures fusion
# and not clang.
PROFILE_DESC="stock Linux 6.12 built with clang-19 and ThinLTO; the app an ordinary static binary"
PROFILE_KCONFIG="base.config linux.config lto.config"
PROFILE_CC=clang
PROFILE_KCFLAGS="-gline-tables-only -fdebug-info-for-profiling"
PROFILE_APP_FLAVOUR=stock
PROFILE_CMDLINE="clearcpuid=smap,smep"
PROFILE_EXPECT=""
