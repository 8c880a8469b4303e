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
