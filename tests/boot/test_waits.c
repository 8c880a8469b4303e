/*
 * Boot tests of calls that wait (kernel/thread.h, kernel/wait.h): a blocked
 * call parks only its thread, signals interrupt waits with EINTR or restart
 * them with SA_RESTART, the timers that send signals, poll/select/epoll
 * over pipes, eventfd and timerfd, and ENOSPC at tmpfs_size. The checks are
 * tests/apps/waits.c's; every page must come back at exit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 180

static char *boot_waits(const char *name, const char *mkimg_args, int *status)
{
	char *image = harness_mkimg(name, mkimg_args);
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, status);

	free(image);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	return log;
}

Test(waits, blocked_calls_park_one_thread_and_signals_and_timers_end_them)
{
	static const char *const checks[] = {
	    "pipe_reader_waits_while_another_thread_computes",
	    "a_1_mib_write_waits_for_the_reader",
	    "alarm_interrupts_a_blocked_read_with_eintr",
	    "sa_restart_restarts_the_read",
	    "alarm_ends_nanosleep_with_the_time_left",
	    "alarm_wakes_pause",
	    "sigsuspend_waits_with_its_mask_and_restores_the_old",
	    "sigtimedwait_times_out_then_takes_a_pending_signal",
	    "setitimer_repeats_and_getitimer_reports_it",
	    "timer_create_sigev_thread_id_signals_that_thread",
	    "signals_keep_a_spinning_threads_registers",
	    "poll_waits_for_a_pipe_another_thread_writes",
	    "select_times_out_after_its_timeout",
	    "epoll_level_triggered_pipe_stays_ready_until_drained",
	    "epoll_edge_triggered_pipe_is_reported_once_per_write",
	    "epoll_oneshot_is_disarmed_until_mod",
	    "epoll_reports_hup_when_the_writer_closes",
	    "epoll_ctl_of_a_regular_file_is_eperm",
	    "closing_the_last_descriptor_removes_it",
	    "epoll_wait_waits_for_an_eventfd_another_thread_writes",
	    "eventfd_read_takes_the_count",
	    "eventfd_semaphore_reads_one_at_a_time",
	    "epoll_edge_triggered_eventfd",
	    "timerfd_read_waits_then_counts_expirations",
	};
	int status;
	char *log = boot_waits("waits", "--app build/tests/apps/waits.elf", &status);

	harness_assert_checks(log, "waits", checks, sizeof(checks) / sizeof(checks[0]));
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/* The console has no input at all here: the reader waits for ever, the
 * other thread runs, and exit_group ends both. */
Test(waits, a_thread_blocked_on_console_input_does_not_stop_the_others)
{
	int status;
	char *log =
	    boot_waits("waits-console", "--app build/tests/apps/waits.elf --args console", &status);

	cr_assert(harness_has_line(log, "waits: computed on while the console reader waited"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "got input"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(waits, writes_fail_with_enospc_at_tmpfs_size_and_every_page_comes_back)
{
	static const char *const checks[] = {
	    "writes_end_with_enospc_at_tmpfs_size",
	    "statfs_shows_the_file_system_full",
	    "creating_more_is_enospc_too",
	    "unlink_gives_the_space_back",
	};
	int status;
	char *log = boot_waits(
	    "waits-enospc", "--app build/tests/apps/waits.elf --args enospc --config tmpfs_size=2M",
	    &status);

	harness_assert_checks(log, "waits", checks, sizeof(checks) / sizeof(checks[0]));
	cr_assert(harness_has_line(log, "waits: filled 2048 KiB"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}
