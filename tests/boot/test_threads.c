/*
 * Boot tests of the app's threads (kernel/thread.c): tests/apps/threads.c
 * runs its pthread checks in one boot; a deadlock of two threads gets a
 * boot of its own and must end with the deadlock message and status 137.
 * Either way every page the app held comes back.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

/* Boots app (threads or threads-glibc) with argument mode ("": none). */
static char *boot_app(const char *app, const char *name, const char *mode, int *status)
{
	char args[128];

	snprintf(args, sizeof(args), "--app build/tests/apps/%s.elf%s%s", app,
		 *mode ? " --args " : "", mode);
	char *image = harness_mkimg(name, args);
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, status);
	free(image);
	return log;
}

static char *boot_threads(const char *name, const char *mode, int *status)
{
	return boot_app("threads", name, mode, status);
}

static void assert_all_checks_pass(const char *app)
{
	static const char *const checks[] = {
	    "mutex_counter_and_join_values",
	    "condvar_ping_pong",
	    "sleeps_overlap",
	    "spin_on_a_flag_set_by_another_thread",
	    "sleeper_wakes_while_another_thread_spins",
	    "sem_wait_and_sem_post_across_threads",
	    "tls_is_per_thread",
	    "gettid_is_distinct_and_main_is_1",
	    "fpu_state_is_per_thread",
	    "clone_is_eagain_when_the_table_is_full",
	    "slots_are_reused",
	    "detached_threads",
	    "pthread_kill_reaches_the_app",
	    "tkill_of_an_exited_thread_is_esrch",
	    "fork_is_enosys",
	};
	int status;
	char *log = boot_app(app, app, "", &status);

	harness_assert_checks(log, "threads", checks, sizeof(checks) / sizeof(checks[0]));
	cr_assert(!strstr(log, "(clone3)"), "glibc's clone3 is taken; log:\n%s", log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(threads, musl_pthreads_mutexes_condvars_semaphores_tls_and_preemption_work)
{
	assert_all_checks_pass("threads");
}

/* glibc starts threads with clone3; its condition variables and mutexes
 * use FUTEX_WAIT_BITSET and private futexes. */
Test(threads, glibc_pthreads_pass_the_same_checks)
{
	assert_all_checks_pass("threads-glibc");
}

Test(threads, a_thread_on_a_bad_stack_faults_and_ends_the_app)
{
	int status;
	char *log = boot_threads("threads-bad-stack", "bad-stack", &status);

	/* The parent's line after clone may not come: the child can end the
	 * app first. When it comes, it names the child's tid. */
	cr_assert(harness_has_line(log, "threads: cloning onto a bad stack"), "log:\n%s", log);
	cr_assert(!strstr(log, "threads: clone onto a bad stack gave") ||
		      harness_has_line(log, "threads: clone onto a bad stack gave 2"),
		  "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_killed(log, status, 139, "page fault");
	free(log);
}

Test(threads, two_threads_waiting_on_each_others_mutex_end_as_deadlocked)
{
	int status;
	char *log = boot_threads("threads-deadlock", "deadlock", &status);
	const char *line = harness_last_line_starting(log, "solo: app deadlocked: ");

	cr_assert(harness_has_line(log, "threads: deadlocking"), "log:\n%s", log);
	cr_assert(line && strstr(line, "futex wait in all 2 threads"), "log:\n%s", log);
	cr_assert(!strstr(log, "survived"), "log:\n%s", log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 137);
	free(log);
}
