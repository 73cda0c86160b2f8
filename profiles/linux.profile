# Profile: stock Linux, the baseline of every comparison.
PROFILE_DESC="stock Linux 6.12; the app is an ordinary static userspace binary"
# Kconfig fragments merged, in order, onto tinyconfig (paths relative to profiles/)
PROFILE_KCONFIG="base.config linux.config"
# How the app is built and started: stock = static userspace binary in the initramfs
PROFILE_APP_FLAVOUR=stock
# The paper's baseline ran Linux with SMAP/SMEP off (nosmap nosmep); so do we, so that a
# comparison with the UKL profiles (which need them off) measures UKL and not SMAP
PROFILE_CMDLINE="clearcpuid=smap,smep"
PROFILE_EXPECT=""
