/* The kernel's one nanoseconds-to-clock-ticks conversion (kernel/time.c),
 * which the timer hardware is programmed with. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "kernel/abi/errno.h"
#include "kernel/abi/time.h"
#include "kernel/time.h"

#define TSC_PER_MS 2500000ull /* a 2.5 GHz TSC */

Test(time, nanoseconds_become_clock_ticks_rounded_up)
{
	cr_assert_eq(time_ns_to_ticks(0, 2500000000ull), 0);
	cr_assert_eq(time_ns_to_ticks(1, 2500000000ull), 3); /* 2.5 ticks */
	cr_assert_eq(time_ns_to_ticks(1000000, 2500000000ull), TSC_PER_MS);
	cr_assert_eq(time_ns_to_ticks(3000000001ull, 2500000000ull), 7500000003ull);
	cr_assert_eq(time_ns_to_ticks(1, 1000000000ull), 1);
	cr_assert_eq(time_ns_to_ticks(999999999, 1000000000ull), 999999999);
}

Test(time, ticks_saturate_for_centuries)
{
	cr_assert_eq(time_ns_to_ticks(UINT64_MAX, 2500000000ull), UINT64_MAX);
	cr_assert_eq(time_ns_to_ticks(UINT64_MAX - 1, 18000000000ull), UINT64_MAX);
	/* 7 s at 2.5 GHz still fits exactly */
	cr_assert_eq(time_ns_to_ticks(7000000000ull, 2500000000ull), 17500000000ull);
}

Test(time, app_timespecs_become_nanoseconds)
{
	uint64_t ns = 7;

	cr_assert_eq(time_timespec_ns(&(struct k_timespec){0, 0}, &ns), 0);
	cr_assert_eq(ns, 0);
	cr_assert_eq(time_timespec_ns(&(struct k_timespec){3, 999999999}, &ns), 0);
	cr_assert_eq(ns, 3999999999ull);
	struct k_timespec back = time_ns_timespec(3999999999ull);
	cr_assert(back.sec == 3 && back.nsec == 999999999);
}

Test(time, bad_app_timespecs_are_einval_and_huge_ones_saturate)
{
	uint64_t ns = 7;

	cr_assert_eq(time_timespec_ns(&(struct k_timespec){-1, 0}, &ns), -EINVAL);
	cr_assert_eq(time_timespec_ns(&(struct k_timespec){0, -1}, &ns), -EINVAL);
	cr_assert_eq(time_timespec_ns(&(struct k_timespec){0, 1000000000}, &ns), -EINVAL);
	cr_assert_eq(ns, 7, "a refused timespec leaves *ns alone");
	cr_assert_eq(time_timespec_ns(&(struct k_timespec){INT64_MAX, 999999999}, &ns), 0);
	cr_assert_eq(ns, TIME_NS_MAX);
	/* The largest second count that still converts exactly. */
	cr_assert_eq(time_timespec_ns(&(struct k_timespec){18446744072, 999999999}, &ns), 0);
	cr_assert_eq(ns, 18446744072999999999ull);
}
