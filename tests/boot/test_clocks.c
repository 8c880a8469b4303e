/*
 * Boot tests of time, randomness and process start (issue 5):
 * tests/apps/clocks.c checks the clock, sleep and getrandom syscalls, and
 * tests/apps/where.c (as a static PIE) prints where its code and stack
 * landed, which must change between boots unless boot.cfg says aslr=off.
 * tests/apps/vdso.c (issue 12), static against musl and dynamic against
 * glibc, checks the vDSO against the syscalls.
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
	cr_assert(harness_has_line(log, "clocks: ok tiny_periods_leave_the_app_running"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "clocks: 0 failures"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

/* The end of the default region (mm/aspace.h): the vDSO's end with ASLR off. */
#define VDSO_FIXED_END 0x700000000000ul

/* Boots the vDSO app; returns the log after checking that all went well,
 * with *end the end of the vDSO's pages it reported. */
static char *boot_vdso(const char *name, const char *args, unsigned long *end)
{
	int status;
	unsigned long base;
	char *image = harness_mkimg(name, args);
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(!strstr(log, "vdso: FAIL"), "a check failed; log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok auxv_points_at_an_elf"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok five_functions_at_linux_2_6"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok monotonic_agrees_with_syscall"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok realtime_agrees_with_syscall"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok getres_equals_syscall"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok time_agrees_with_syscall"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "vdso: ok app_cannot_hurt_the_vdso_pages"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "vdso: 0 failures"), "log:\n%s", log);
	const char *line = harness_last_line_starting(log, "vdso: base=");
	cr_assert(line, "log:\n%s", log);
	cr_assert_eq(sscanf(line, "vdso: base=%lx end=%lx", &base, end), 2, "%s", line);
	cr_assert(*end > base && *end <= VDSO_FIXED_END, "%s", line);
	/* Its pages are the kernel's: the app's exit gave none of them to palloc. */
	line = harness_last_line_starting(log, "solo: memory: ");
	unsigned long after, before;
	cr_assert(line &&
		      sscanf(line, "solo: memory: %lu pages free after the app, %lu before it",
			     &after, &before) == 2 &&
		      after == before,
		  "%s", line ? line : log);
	harness_assert_exit(log, status, 0);
	return log;
}

/* Counts the log's lines that start with prefix. */
static int count_lines_starting(const char *log, const char *prefix)
{
	int n = 0;

	for (const char *p = log; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

/* With strace=1 the log shows exactly the clock syscalls the app made
 * itself (and the vDSO's fallbacks it counts): libc's clock_gettime,
 * gettimeofday and time went through the vDSO. */
static void assert_libc_clocks_made_no_syscall(const char *log)
{
	long expected;
	const char *line = harness_last_line_starting(log, "vdso: clock syscalls ");

	cr_assert(line && sscanf(line, "vdso: clock syscalls %ld", &expected) == 1, "log:\n%s",
		  log);
	int seen = count_lines_starting(log, "solo: strace: clock_gettime(") +
		   count_lines_starting(log, "solo: strace: gettimeofday(") +
		   count_lines_starting(log, "solo: strace: time(") +
		   count_lines_starting(log, "solo: strace: clock_getres(");
	cr_assert(expected > 0);
	cr_assert_eq(seen, expected, "strace shows %d clock syscalls, the app made %ld", seen,
		     expected);
}

/* musl (static), strace=1: AT_SYSINFO_EHDR, the five functions found by
 * version, each agreeing with its syscall, libc's clocks without a syscall;
 * the vDSO at a random place (ASLR on: its end is not the fixed one but for
 * one chance in 2^24). */
Test(clocks, vdso_agrees_with_the_syscalls_musl)
{
	unsigned long end;
	char *log =
	    boot_vdso("vdso-musl", "--app build/tests/apps/vdso.elf --config strace=1", &end);

	cr_assert_neq(end, VDSO_FIXED_END, "the vDSO did not move with ASLR on");
	assert_libc_clocks_made_no_syscall(log);
}

/* glibc, dynamically linked (mkimg adds ld.so and libc.so.6), strace=1,
 * aslr=off: the same through glibc's ld.so, which takes all five calls
 * from the vDSO, and the vDSO at its fixed place. */
Test(clocks, vdso_agrees_with_the_syscalls_glibc_dynamic_aslr_off)
{
	unsigned long end;
	char *log = boot_vdso("vdso-gnu",
			      "--app build/tests/apps/vdso-gnu.elf --app-path /usr/bin/vdso "
			      "--config strace=1 --config aslr=off",
			      &end);

	cr_assert_eq(end, VDSO_FIXED_END, "aslr=off: the vDSO ends the default region");
	assert_libc_clocks_made_no_syscall(log);
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
