# Profile: UKL ret with the #DF route for stack faults (the paper's UKL_RET_PF_DF, fig 4): the
# ukl profile's kernel booted with ukl_ret=1 (see ukl-ret.profile) and ukl_pf_df=1 (see
# ukl-pf-df.profile).  A stack fault's double fault returns to the app by jump.
PROFILE_DESC="UKL ret + pf-df: stack faults as double faults, returning by jump"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_ret=1 ukl_pf_df=1"
PROFILE_EXPECT="ret pf-df"
