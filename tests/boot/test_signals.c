/*
 * Boot tests of signals: tests/apps/signals.c runs its in-app checks in one
 * boot (handlers, masks, flags, caught faults, tampered sigreturn frames),
 * and each way a signal ends the app gets a boot of its own. Whatever the
 * app does, the kernel must survive it, end the app with 128 + the signal
 * and get every page back.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

/* Boots signals.elf with argument mode ("": none) in an image called name. */
static char *boot_signals(const char *name, const char *mode, const char *qemu_opts, int *status)
{
	char args[128];

	snprintf(args, sizeof(args), "--app build/tests/apps/signals.elf%s%s",
		 *mode ? " --args " : "", mode);
	char *image = harness_mkimg(name, args);
	char *log = harness_boot(image, qemu_opts, BOOT_TIMEOUT, status);
	free(image);
	return log;
}

/* The app was killed: the reason is in the kill line, no panic, exit code. */
static void assert_killed(const char *mode, int code, const char *reason)
{
	int status;
	char name[64];

	snprintf(name, sizeof(name), "signals-%s", mode);
	char *log = boot_signals(name, mode, NULL, &status);

	cr_assert(!strstr(log, "signals: survived"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_killed(log, status, code, reason);
	free(log);
}

/* The in-app checks all pass and the app exits 0. */
static void assert_all_checks_pass(const char *log, int status)
{
	static const char *const checks[] = {
	    "registers_and_xmm_survive_a_handler",
	    "handler_gets_a_fresh_fpu_and_mxcsr_returns",
	    "double_live_across_a_signal",
	    "raise_gives_si_tkill_from_pid_1",
	    "handler_stack_is_aligned_like_after_a_call",
	    "uc_sigmask_is_the_mask_before_delivery",
	    "kill_self_runs_the_handler_with_si_user",
	    "tgkill_self_runs_the_handler",
	    "kill_errors_and_signal_0",
	    "sa_mask_defers_a_signal_until_the_handler_returns",
	    "without_sa_mask_the_other_signal_nests",
	    "own_signal_is_deferred_during_its_handler",
	    "sa_nodefer_nests_its_own_signal",
	    "sa_resethand_resets_to_sig_dfl",
	    "blocked_signal_waits_and_arrives_when_unblocked",
	    "sig_ign_and_default_ignore_drop_the_signal",
	    "ignoring_a_pending_signal_discards_it",
	    "sa_onstack_runs_on_the_sigaltstack",
	    "null_deref_caught_and_siglongjmp_out",
	    "write_to_text_is_segv_accerr",
	    "ud2_is_caught_as_sigill",
	    "segv_handler_sees_si_addr_and_the_faulting_rip",
	    "sigreturn_restores_rcx_and_r11",
	    "sigreturn_keeps_if_and_drops_privileged_flags",
	    "sigreturn_masks_mxcsr_reserved_bits",
	};

	harness_assert_checks(log, "signals", checks, sizeof(checks) / sizeof(checks[0]));
	cr_assert(!strstr(log, "solo: app killed"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
}

Test(signals, handlers_masks_and_caught_faults_work)
{
	int status;
	char *log = boot_signals("signals", "", NULL, &status);

	assert_all_checks_pass(log, status);
	free(log);
}

/* Without XSAVE the FPU state travels as a plain FXSAVE image. */
Test(signals, handlers_work_on_a_cpu_without_xsave)
{
	int status;
	char *log =
	    boot_signals("signals-fxsave", "", "--qemu-arg -cpu --qemu-arg max,-xsave", &status);

	cr_assert(harness_has_line(log, "signals: FPU state saved as FXSAVE"), "log:\n%s", log);
	assert_all_checks_pass(log, status);
	free(log);
}

Test(signals, abort_ends_the_app_with_sigabrt)
{
	assert_killed("abort", 134, "signal 6 (SIGABRT)");
}

Test(signals, sigterm_with_sig_dfl_terminates)
{
	assert_killed("sigterm", 143, "signal 15 (SIGTERM)");
}

Test(signals, sigkill_cannot_be_blocked)
{
	assert_killed("sigkill", 137, "signal 9 (SIGKILL)");
}

Test(signals, fault_in_a_handler_for_the_same_signal_kills)
{
	assert_killed("nested-fault", 139, "page fault");
}

Test(signals, handler_without_sa_restorer_kills)
{
	assert_killed("no-restorer", 139, "without SA_RESTORER");
}

Test(signals, sigreturn_to_a_kernel_rip_kills)
{
	assert_killed("hostile-rip", 139, "rt_sigreturn to an address outside the app");
}

Test(signals, sigreturn_to_a_kernel_stack_faults_in_the_app)
{
	assert_killed("hostile-rsp", 139, "no room on the stack for the SIGSEGV frame");
}

Test(signals, sigreturn_with_a_noncanonical_rsp_kills)
{
	assert_killed("hostile-noncanonical", 139, "non-canonical stack pointer");
}

Test(signals, sigreturn_with_an_unreadable_fpu_state_kills)
{
	assert_killed("hostile-fpstate", 139, "unreadable FPU state");
}
