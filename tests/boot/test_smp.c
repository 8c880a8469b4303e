/*
 * Boot tests of the other CPUs' bring-up (kernel/arch/x86_64/smp.c): QEMU
 * with -smp N lists N processors in its MADT; the kernel starts them with
 * INIT-SIPI-SIPI and parks them, logging "solo: smp: R of L cpus running
 * (apic ...)". App threads run on every CPU (kernel/thread.c) and must
 * behave as they do with one CPU: the threads checks exercise the entry
 * paths (syscalls, timer interrupts from ring 3, signals) and the
 * scheduler; tests/apps/smp.c checks what only several CPUs can show.
 * Under -smp 1 nothing is started and no smp line is logged (every other
 * boot test). selftest=smp (kernel/selftest.c) runs the cross-CPU calls,
 * the TLB shootdown and a spinlock shared by every CPU from inside the
 * kernel; these tests check its report under -smp 4, 2 and 1.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Checks the self-test's summary for ncpus CPUs: the figures parse and are
 * ordered (min <= median <= max, all above 0), and it ends "lock ok". */
static void assert_selftest_line(const char *log, unsigned ncpus)
{
	char *prefix = harness_format("solo: selftest smp: %u cpus, ipi round trip ", ncpus);
	const char *line = harness_last_line_starting(log, prefix);
	double lo, mid, hi, shoot;
	int used = 0;

	cr_assert(line, "no \"%s\" line; log:\n%s", prefix, log);
	cr_assert_eq(sscanf(line + strlen(prefix), "%lf/%lf/%lf us, shootdown %lf us, lock ok%n",
			    &lo, &mid, &hi, &shoot, &used),
		     4, "line: %s", line);
	cr_assert(used > 0 && line[strlen(prefix) + used] == 0, "line: %s", line);
	cr_assert(lo > 0 && lo <= mid && mid <= hi && shoot > 0, "line: %s", line);
	cr_assert(!strstr(log, "selftest smp: FAILED"), "log:\n%s", log);
	free((char *)line);
	free(prefix);
}

/*
 * Checks boot.cfg lockstat=1's report (kernel/lockstat.h): the shared fault
 * lock's line, taken by the app's first touches of its memory; then the
 * totals line, then at least five reasons, longest hold first, whose counts
 * and holds fit in the totals; an app that made at least min_clones threads
 * has its clone calls counted under "clone" (clone always takes the kernel
 * lock).
 */
static void assert_lockstat(const char *log, unsigned long min_clones)
{
	const char *at = strstr(log, "solo: lockstat: the kernel lock was taken ");
	const char *faults = strstr(log, "solo: lockstat: the shared fault lock: ");
	unsigned long total, held_ms, held_cs, waited_ms, waited_cs, count_sum = 0, clones = 0;
	double held_sum = 0, last_held = 1e300;
	unsigned lines = 0;

	cr_assert(at, "no lockstat totals; log:\n%s", log);
	cr_assert(faults && faults < at, "no shared fault lock line before the totals; log:\n%s",
		  log);
	cr_assert_eq(sscanf(faults,
			    "solo: lockstat: the shared fault lock: %lu times, held %lu.%lu ms, "
			    "waited for %lu.%lu ms",
			    &total, &held_ms, &held_cs, &waited_ms, &waited_cs),
		     5, "shared fault lock: %.120s", faults);
	cr_assert_geq(total, 1, "no fault ran on the shared side: %.120s", faults);
	cr_assert_eq(sscanf(at,
			    "solo: lockstat: the kernel lock was taken %lu times, held %lu.%lu ms, "
			    "waited for %lu.%lu ms",
			    &total, &held_ms, &held_cs, &waited_ms, &waited_cs),
		     5, "totals: %.120s", at);
	double held_total = (double)held_ms + (double)held_cs / 100;
	for (const char *p = strchr(at, '\n'); p && !strncmp(p + 1, "solo: lockstat: ", 16);
	     p = strchr(p + 1, '\n')) {
		const char *line = p + 1 + 16, *colon = strstr(line, ": ");
		unsigned long count, h_ms, h_cs, w_ms, w_cs;
		cr_assert(colon && colon < strchr(line, '\n'), "line: %.120s", line);
		cr_assert_eq(sscanf(colon, ": %lu times, held %lu.%lu ms, waited for %lu.%lu ms",
				    &count, &h_ms, &h_cs, &w_ms, &w_cs),
			     5, "line: %.120s", line);
		double held = (double)h_ms + (double)h_cs / 100;
		cr_assert(count > 0 && held <= last_held, "line: %.120s", line);
		if (!strncmp(line, "clone: ", 7))
			clones = count;
		last_held = held;
		held_sum += held;
		count_sum += count;
		lines++;
	}
	cr_assert_geq(lines, 5, "log:\n%s", log);
	cr_assert_leq(count_sum, total, "log:\n%s", log);
	cr_assert_leq(held_sum, held_total + 0.01 * lines, "log:\n%s", log);
	cr_assert_geq(clones, min_clones, "clone calls counted; log:\n%s", log);
}

#define BOOT_TIMEOUT 120

static char *boot(const char *name, const char *mkimg_args, const char *qemu_opts, int *status)
{
	return harness_mkimg_boot(name, mkimg_args, qemu_opts, BOOT_TIMEOUT, status);
}

Test(smp, four_cpus_start_and_park_while_the_threads_checks_pass)
{
	static const char *const checks[] = {
	    "mutex_counter_and_join_values",
	    "condvar_ping_pong",
	    "sleeps_overlap",
	    "spin_on_a_flag_set_by_another_thread",
	    "sleeper_wakes_while_another_thread_spins",
	    "sem_wait_and_sem_post_across_threads",
	    "tls_is_per_thread",
	    "fpu_state_is_per_thread",
	    "pthread_kill_reaches_the_app",
	};
	int status;
	char *log = boot("smp4-threads", "--app build/tests/apps/threads.elf --config lockstat=1",
			 "--smp 4", &status);

	cr_assert(harness_has_line(log, "solo: smp: 4 of 4 cpus running (apic 0 1 2 3)"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "did not start"), "log:\n%s", log);
	/* No -numa: no SRAT, every CPU on node 0, nothing to say. */
	cr_assert(!strstr(log, "cpu nodes"), "log:\n%s", log);
	harness_assert_checks(log, "threads", checks, sizeof(checks) / sizeof(checks[0]));
	/* (The app starts a thread at 13 places, some in loops.) */
	assert_lockstat(log, 13);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/* The self-test on four CPUs (the first other one also gets the timeout
 * test: two calls that give up after 20 ms), then the demo as usual. */
Test(smp, selftest_on_four_cpus_then_the_demo_runs)
{
	int status;
	char *log = boot("smp4-selftest", "--app build/user/demo.elf --config selftest=smp",
			 "--smp 4", &status);

	cr_assert(harness_has_line(log, "solo: smp: 4 of 4 cpus running (apic 0 1 2 3)"),
		  "log:\n%s", log);
	assert_selftest_line(log, 4);
	cr_assert(harness_has_line(log, "solo: selftest smp: a busy cpu times out: a queued call "
					"withdrawn, a running one abandoned, ok"),
		  "log:\n%s", log);
	const char *late = "solo: smp: cpu 1 did not answer a call within 20 ms";
	const char *first = strstr(log, late);
	cr_assert(first && strstr(first + 1, late), "two timeouts expected; log:\n%s", log);
	cr_assert(!strstr(log, "within 1000 ms"), "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/* One CPU: nothing to call, and the self-test says so and passes. */
Test(smp, selftest_on_one_cpu_passes)
{
	int status;
	char *log = boot("smp1-selftest", "--app build/user/demo.elf --config selftest=smp",
			 "--smp 1", &status);

	cr_assert(harness_has_line(log, "solo: selftest smp: 1 cpu, no other cpu to call; lock ok"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "solo: smp: "), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(smp, cpus_caps_how_many_start)
{
	int status;
	char *log =
	    boot("smp4-cap2", "--app build/user/demo.elf --config cpus=2", "--smp 4", &status);

	cr_assert(harness_has_line(log, "solo: smp: 2 of 4 cpus running (apic 0 1), cpus=2"),
		  "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/*
 * The pc machine's MADT and APIC as well, with room for 4 CPUs of which 2
 * are present: QEMU lists the other two as disabled entries, which must
 * be skipped, not started. A bad cpus= is reported and
 * leaves the default (every CPU).
 */
Test(smp, pc_machine_starts_its_present_cpus_only_and_a_bad_cap_is_ignored)
{
	int status;
	char *log =
	    boot("smp2-pc", "--app build/user/demo.elf --config cpus=0 --config selftest=smp",
		 "--machine pc --smp 2,maxcpus=4", &status);

	cr_assert(strstr(log, "solo: boot.cfg line "), "log:\n%s", log);
	cr_assert(strstr(log, "cpus must be a number of CPUs from 1 to 256: cpus=0"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "solo: smp: 2 of 2 cpus running (apic 0 1)"), "log:\n%s",
		  log);
	cr_assert(!strstr(log, "did not start"), "log:\n%s", log);
	assert_selftest_line(log, 2);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/*
 * App threads on every CPU (kernel/thread.c), checked by tests/apps/smp.c:
 * - the CPU count it sees everywhere (affinity, sysconf, /proc) is the
 *   machine's;
 * - two of its threads run at once on different CPUs;
 * - sched_setaffinity pins the caller and moves a spinning thread, and
 *   getcpu (vDSO and syscall) agrees;
 * - a compute job on one thread per CPU gives the result the same binary
 *   computes on one thread on the host;
 * - a futex ping-pong across two CPUs runs `rounds` rounds; wakes from
 *   every CPU at once on one word wake each of its waiters once;
 * - threads pinned one to each CPU take turns on one mutex while another
 *   holds the kernel lock in long stretches: none is left runnable on a
 *   halted CPU (a thread stuck 20 s fails the check, not the boot);
 * - futex ping-pong pairs, one pinned to each CPU, all at once with timed
 *   waits beside waits that time out; a requeue moves waiters from one
 *   word to another and each is woken once; a storm of futex calls, mutex
 *   and condition variable use, affinity changes and signals from threads
 *   on every CPU ends with every thread joined and every count kept;
 * - threads mmap, fill and munmap at once on every CPU;
 * - a signal reaches a thread spinning on another CPU; a munmap under a
 *   reader on another CPU makes it fault, never read the reused frame;
 * - threads pread and read one file at once: every byte is the file's, and
 *   a shared descriptor's records are each read once; threads write one
 *   descriptor at once, and every record lands whole, once;
 * - a pipe per CPU pair streams its bytes unchanged (read, readv, epoll),
 *   records from every CPU into one pipe arrive whole and in order, and
 *   an eventfd bumped from every CPU counts each once;
 * - each CPU's own local APIC timer ends the sleeps there (its LOC count
 *   in /proc/interrupts grows by about one a sleep), and two spinners pinned to
 *   one CPU both run, its own slices ending their turns; an alarm armed
 *   on a CPU that then goes idle fires there and interrupts a sleeper;
 * - sleeps on every CPU at once, beside a spinner on every other CPU,
 *   each return 0 and never early; a signal from CPU 0 ends a sleep on
 *   the last CPU at once with EINTR and the time left;
 * - a thread on every CPU writes lines to the console at once: each
 *   line is in the log whole, once;
 * - exit while four threads spin: "solo: exit N" comes exactly once.
 */
/* tests/apps/smp.c's console lines (write_tty_lines): each of the
 * threads' (one per CPU) is in the log whole, and once. */
#define TTY_LINES 40

static void assert_tty_lines(const char *log, int cpus)
{
	char line[1600];

	char *done = harness_format("smp: %d threads wrote %d console lines each", cpus, TTY_LINES);

	cr_assert(harness_has_line(log, done), "log:\n%s", log);
	free(done);
	for (int thread = 0; thread < cpus; thread++) {
		for (int k = 0; k < TTY_LINES; k++) {
			int len = k == TTY_LINES / 2 ? 1500 : 64 + k;
			int n = snprintf(line, sizeof(line), "smp: tty %d %d ", thread, k);
			for (; n < len - 1; n++)
				line[n] = (char)('a' + (thread * 7 + k + n) % 26);
			line[n] = 0;
			const char *at = strstr(log, line);
			cr_assert(at && harness_has_line(log, line) && !strstr(at + 1, line),
				  "console line %d of thread %d not whole and once: %s", k, thread,
				  line);
		}
	}
}

static void smp_app_on(const char *name, const char *config, const char *qemu_opts, int cpus,
		       long rounds, int timeout_s)
{
	static const char *const checks[] = {
	    "cpu_count_agrees_everywhere",
	    "two_threads_run_at_once_on_different_cpus",
	    "sched_setaffinity_pins_the_caller_and_getcpu_agrees",
	    "sched_setaffinity_moves_a_spinning_thread",
	    "futex_ping_pong_across_cpus",
	    "futex_wakes_from_several_cpus_wake_each_waiter_once",
	    "pinned_threads_take_turns_on_one_mutex",
	    "futex_pairs_on_every_cpu_at_once_with_timeouts",
	    "futex_requeue_moves_waiters_and_each_is_woken_once",
	    "futex_storm_from_every_cpu_loses_no_wake",
	    "threads_mmap_fill_and_munmap_at_once",
	    "signal_reaches_a_thread_spinning_on_another_cpu",
	    "munmap_while_another_cpu_reads_faults_it",
	    "threads_read_one_file_at_once",
	    "threads_write_one_descriptor_at_once",
	    "threads_append_to_one_log_at_once",
	    "pipes_across_cpus_lose_and_mix_nothing",
	    "unix_streams_across_cpus_lose_and_mix_nothing",
	    "tcp_streams_across_cpus_lose_and_mix_nothing",
	    "sleeps_on_each_cpu_end_by_its_own_timer",
	    "two_spinners_pinned_to_one_cpu_take_turns",
	    "an_alarm_that_fires_on_an_idle_cpu_interrupts_a_sleeper",
	    "sleeps_on_every_cpu_end_on_time",
	    "a_signal_ends_a_sleep_on_another_cpu",
	};
	int status;
	char *oracle = NULL;
	char *args = harness_format("--app build/tests/apps/smp.elf --args %ld %s", rounds, config);
	char *log = harness_mkimg_boot(name, args, qemu_opts, timeout_s, &status);

	cr_assert_eq(harness_run(&oracle, "build/tests/apps/smp.elf compute"), 0,
		     "the host run: %s", oracle);
	const char *want = harness_last_line_starting(oracle, "smp: compute ");
	const char *got = harness_last_line_starting(log, "smp: compute ");
	cr_assert(want && got, "host:\n%s\nlog:\n%s", oracle, log);
	cr_assert_str_eq(got, want);
	char *count = harness_format("smp: %d cpus online", cpus);
	cr_assert(strstr(log, count), "log:\n%s", log);
	harness_assert_checks(log, "smp", checks, sizeof(checks) / sizeof(checks[0]));
	assert_tty_lines(log, cpus);
	cr_assert(harness_has_line(log, "smp: exiting while 4 threads spin"), "log:\n%s", log);
	const char *exit_line = strstr(log, "solo: exit ");
	cr_assert(exit_line && !strstr(exit_line + 1, "solo: exit "), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(count);
	free((char *)want);
	free((char *)got);
	free(oracle);
	free(args);
	free(log);
}

/* The ping-pong goes 5000 rounds here (25 us to 1 ms a round under TCG,
 * slower while other boots share the host), or $SOLO_SMP_ROUNDS: `make
 * soak-smp` runs a million. */
Test(smp, app_threads_run_on_two_cpus, .timeout = 900)
{
	const char *env = getenv("SOLO_SMP_ROUNDS");
	long rounds = env && atol(env) > 0 ? atol(env) : 5000;

	smp_app_on("smp2-app", "", "--smp 2", 2, rounds, 120 + (int)(rounds / 1000));
}

Test(smp, app_threads_run_on_four_cpus)
{
	smp_app_on("smp4-app", "", "--smp 4", 4, 5000, BOOT_TIMEOUT);
}

/* The last of two deadlocked threads waits on CPU 1 (the other on CPU 0,
 * the boot CPU, idle by then): CPU 1 goes idle on the shared side and
 * kicks the boot CPU, whose wake-up must find the deadlock rather than
 * halt again without the kernel lock (boot_stays_idle). */
Test(smp, a_deadlock_whose_last_wait_is_on_another_cpu_is_found)
{
	int status;
	char *log = harness_mkimg_boot(
	    "smp2-deadlock", "--app build/tests/apps/threads.elf --args deadlock-last-cpu",
	    "--smp 2", BOOT_TIMEOUT, &status);
	const char *line = harness_last_line_starting(log, "solo: app deadlocked: ");

	cr_assert(harness_has_line(log, "threads: deadlocking"), "log:\n%s", log);
	cr_assert(line && strstr(line, "futex wait in all 2 threads"), "log:\n%s", log);
	cr_assert(!strstr(log, "survived"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 137);
	free((char *)line);
	free(log);
}

/* cpus=3 of 4: the app sees 3 CPUs wherever it looks, and they all work. */
Test(smp, the_app_sees_the_capped_count)
{
	smp_app_on("smp4-cap3-app", "--config cpus=3", "--smp 4", 3, 2000, BOOT_TIMEOUT);
}

/* NUMA nodes from QEMU's SRAT: CPU 0 in proximity domain 2, CPU 1 in 0,
 * CPUs 2 and 3 in 1. Linux numbers nodes by the domains' first appearance
 * among the SRAT's CPUs: 0, 1, 2, 2. Debian's Linux 6.1, booted by the same
 * QEMU command with this vdso.elf, printed the same "vdso: cpu C node N"
 * lines. getcpu (the vDSO's and the syscall) must say so on each CPU. */
Test(smp, getcpu_names_each_cpus_numa_node_as_linux_numbers_them)
{
	int status;
	char *log = boot("smp4-numa", "--app build/tests/apps/vdso.elf --args 'nodes 0,1,2,2'",
			 "--smp 4 --mem 1G"
			 " --qemu-arg -object --qemu-arg memory-backend-ram,id=m0,size=256M"
			 " --qemu-arg -object --qemu-arg memory-backend-ram,id=m1,size=256M"
			 " --qemu-arg -object --qemu-arg memory-backend-ram,id=m2,size=512M"
			 " --qemu-arg -numa --qemu-arg node,nodeid=2,cpus=0,memdev=m2"
			 " --qemu-arg -numa --qemu-arg node,nodeid=0,cpus=1,memdev=m0"
			 " --qemu-arg -numa --qemu-arg node,nodeid=1,cpus=2-3,memdev=m1",
			 &status);

	cr_assert(harness_has_line(log, "solo: smp: 4 of 4 cpus running (apic 0 1 2 3)"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: smp: cpu nodes 0 1 2 2"), "log:\n%s", log);
	cr_assert(!strstr(log, "vdso: FAIL"), "log:\n%s", log);
	for (unsigned c = 0; c < 4; c++) {
		char *line = harness_format("vdso: cpu %u node %u", c, c < 2 ? c : 2);
		cr_assert(harness_has_line(log, line), "no \"%s\"; log:\n%s", line, log);
		free(line);
	}
	cr_assert(harness_has_line(log, "vdso: ok getcpu_names_each_cpus_node"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}
