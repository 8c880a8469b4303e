/*
 * Boot tests of time, randomness and process start (issue 5):
 * tests/apps/clocks.c checks the clock, sleep and getrandom syscalls, and
 * tests/apps/where.c (as a static PIE) prints where its code and stack
 * landed, which must change between boots unless boot.cfg says aslr=off.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

Test(clocks, time_sleep_and_getrandom_syscalls_work)
{
	int status;
	char *image = harness_mkimg("clocks", "--app build/tests/apps/clocks.elf");
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(!strstr(log, "clocks: FAIL"), "a check failed; log:\n%s", log);
	cr_assert(harness_has_line(log, "clocks: ok nanosleep_20ms"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "clocks: ok realtime_is_plausible"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "clocks: ok getrandom_fills_and_differs"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "clocks: ok unknown_clock_einval"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "clocks: 0 failures"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

/* CPU seconds (user + system) used so far by this test's finished children:
 * QEMU, through qemu.sh and the shell harness_run starts, which wait for it. */
static double children_cpu_seconds(void)
{
	struct rusage ru;

	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Boots tests/apps/sleep.c asked to sleep ms milliseconds, at log=debug.
 * Returns the CPU seconds the boot cost; *log gets the serial log. */
static double boot_sleeping_app(int ms, char **log)
{
	int status;
	char name[32], args[128];

	snprintf(name, sizeof(name), "sleep-%d", ms);
	snprintf(args, sizeof(args),
		 "--app build/tests/apps/sleep.elf --args %d --config log=debug", ms);
	char *image = harness_mkimg(name, args);

	double before = children_cpu_seconds();
	*log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);
	double cpu = children_cpu_seconds() - before;
	harness_assert_exit(*log, status, 0);
	return cpu;
}

/*
 * A sleep halts the CPU: QEMU burns about as much CPU time for a boot whose
 * app sleeps 4 s as for one whose app does not sleep (a spin under TCG costs
 * a CPU-second per second while QEMU gets a core), and the kernel counts one
 * timer interrupt and a few wake-ups from hlt for it (a spin counts none).
 * The counters are the firm evidence; the CPU time is what a user sees. Its
 * margin is half the sleep: the boots' own CPU time varied by 0.8 s between
 * runs on a loaded 2-core machine.
 */
Test(clocks, nanosleep_halts_instead_of_spinning)
{
	char *idle_log, *sleep_log;
	double idle = boot_sleeping_app(0, &idle_log);
	double asleep = boot_sleeping_app(4000, &sleep_log);
	unsigned long interrupts, wakeups, spurious;
	long long asked, slept_us;

	cr_log_info("QEMU's CPU time: %.2f s with a 4 s sleep, %.2f s without\n", asleep, idle);
	cr_assert(
	    asleep - idle < 2.0,
	    "QEMU used %.2f CPU s for a 4 s sleep and %.2f CPU s without one: the sleep spins",
	    asleep, idle);
	const char *line = harness_last_line_starting(sleep_log, "sleep: asked");
	cr_assert(line, "log:\n%s", sleep_log);
	cr_assert_eq(sscanf(line, "sleep: asked %lld ms, slept %lld us", &asked, &slept_us), 2,
		     "%s", line);
	cr_assert(slept_us >= 4000000 && slept_us < 6000000, "%s", line);

	line = harness_last_line_starting(sleep_log, "solo: timer: ");
	cr_assert(line, "no timer statistics; log:\n%s", sleep_log);
	cr_assert_eq(sscanf(line,
			    "solo: timer: %lu interrupts, %lu wake-ups from hlt, %lu spurious",
			    &interrupts, &wakeups, &spurious),
		     3, "%s", line);
	cr_assert(interrupts >= 1 && wakeups >= 1 && wakeups <= 50, "%s", line);
}

/* Boots where-pie.elf from image and returns its "where: ..." line. */
static const char *where_line(const char *image, const char *boot_name)
{
	int status;
	char *copy = harness_path("build/tests/img/%s.img", boot_name);

	/* Each boot gets its own image file so that its serial log is its own. */
	cr_assert_eq(harness_run(NULL, "cp %s %s", image, copy), 0);
	char *log = harness_boot(copy, NULL, BOOT_TIMEOUT, &status);
	harness_assert_exit(log, status, 0);
	const char *line = harness_last_line_starting(log, "where: main=");
	cr_assert(line, "no where line; log:\n%s", log);
	return line;
}

Test(clocks, a_static_pie_and_its_stack_move_between_boots)
{
	char *image = harness_mkimg("where-aslr", "--app build/tests/apps/where-pie.elf");
	const char *first = where_line(image, "where-aslr-1");
	const char *second = where_line(image, "where-aslr-2");
	char main1[32], stack1[32], main2[32], stack2[32];

	cr_assert_eq(sscanf(first, "where: main=%31s stack=%31s", main1, stack1), 2, "%s", first);
	cr_assert_eq(sscanf(second, "where: main=%31s stack=%31s", main2, stack2), 2, "%s", second);
	cr_assert(strcmp(main1, main2), "main at the same address: %s / %s", first, second);
	cr_assert(strcmp(stack1, stack2), "stack at the same address: %s / %s", first, second);
}

Test(clocks, aslr_off_gives_the_same_addresses_every_boot)
{
	char *image =
	    harness_mkimg("where-fixed", "--app build/tests/apps/where-pie.elf --config aslr=off");
	const char *first = where_line(image, "where-fixed-1");
	const char *second = where_line(image, "where-fixed-2");

	cr_assert_str_eq(first, second);
	cr_assert(strstr(first, "main=0x5555555"), "the PIE sits at LOADER_PIE_BASE: %s", first);
}
