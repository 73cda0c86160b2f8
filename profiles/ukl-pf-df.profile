# Profile: UKL with the #DF route for stack faults (the paper's UKL_PF_DF), for the stack-fault
# comparison (fig 4).  The ukl profile's kernel booted with ukl_pf_df=1 (linux-patches/0019):
# #PF has no IST stack, so a fault on a not yet present page of the app's stack cannot push its
# frame and arrives as a double fault; the #DF entry hands exactly those (app code, stack
# pointer in the user half, CR2 just below it) to the page fault handler, and reports every
# other double fault as one.  The default route (pf-ss, every other UKL profile) takes #PF on
# its own IST stack.  Interrupts keep the IST stack in both.  The selftest's stack group checks
# the #PF gate and /sys/kernel/debug/ukl/df_stack_count; tests/boot/selftest.sh checks that
# a genuine double fault is still reported.
PROFILE_DESC="UKL pf-df: app stack faults arrive as double faults (the paper's route, opt-in)"
PROFILE_KERNEL=ukl
PROFILE_KCONFIG="base.config ukl.config"
PROFILE_APP_FLAVOUR=ukl
PROFILE_SYSCALL_ENTRY=ukl_entry_syscall
PROFILE_CMDLINE="clearcpuid=smap,smep ukl_exit_port=0xf4 ukl_pf_df=1"
PROFILE_EXPECT="pf-df"
