/* The APIC timer's arithmetic (kernel/arch/x86_64/apic_timer.c): the one-shot
 * calibration ratio and the count it arms for a TSC interval. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "kernel/arch/x86_64/apic_timer.h"

/* QEMU's APIC timer at 1 GHz / 16 beside a 2.5 GHz TSC: 62500 timer ticks
 * per 2.5 million TSC ticks (1 ms). */
#define QEMU_TIMER_PER_MS 62500ull
#define TSC_PER_MS	  2500000ull

Test(apic_timer, ratio_is_timer_ticks_per_tsc_tick_in_32_32)
{
	uint64_t ratio = apic_timer_ratio(QEMU_TIMER_PER_MS, TSC_PER_MS);

	cr_assert_eq(ratio, (QEMU_TIMER_PER_MS << 32) / TSC_PER_MS);
	cr_assert_eq(apic_timer_ratio(1000, 1000), 1ull << 32);
}

Test(apic_timer, ratio_of_an_empty_measurement_is_zero)
{
	cr_assert_eq(apic_timer_ratio(0, TSC_PER_MS), 0);
	cr_assert_eq(apic_timer_ratio(QEMU_TIMER_PER_MS, 0), 0);
}

Test(apic_timer, ratio_of_a_full_32_bit_count_does_not_overflow)
{
	cr_assert_eq(apic_timer_ratio(0xffffffffull, 0xffffffffull), 1ull << 32);
	cr_assert_eq(apic_timer_ratio(1ull << 40, 1ull << 40), (0xffffffffull << 32) >> 40);
}

Test(apic_timer, count_converts_a_tsc_interval_rounding_down)
{
	uint64_t ratio = apic_timer_ratio(QEMU_TIMER_PER_MS, TSC_PER_MS);

	cr_assert_eq(apic_timer_count(TSC_PER_MS, ratio), QEMU_TIMER_PER_MS - 1); /* fixed point */
	cr_assert_eq(apic_timer_count(100 * TSC_PER_MS, ratio), 100 * QEMU_TIMER_PER_MS - 1);
	cr_assert_leq(apic_timer_count(TSC_PER_MS / 2, ratio), QEMU_TIMER_PER_MS / 2);
	cr_assert_geq(apic_timer_count(TSC_PER_MS / 2, ratio), QEMU_TIMER_PER_MS / 2 - 1);
}

Test(apic_timer, count_is_at_least_one_so_the_timer_runs)
{
	uint64_t ratio = apic_timer_ratio(QEMU_TIMER_PER_MS, TSC_PER_MS);

	cr_assert_eq(apic_timer_count(0, ratio), 1);
	cr_assert_eq(apic_timer_count(10, ratio), 1);
}

Test(apic_timer, count_of_a_long_sleep_clamps_to_32_bits)
{
	uint64_t ratio = apic_timer_ratio(QEMU_TIMER_PER_MS, TSC_PER_MS);

	/* 100 s is 6.25e9 timer ticks: more than the register holds. */
	cr_assert_eq(apic_timer_count(100000 * TSC_PER_MS, ratio), 0xffffffffu);
	cr_assert_eq(apic_timer_count(UINT64_MAX, ratio), 0xffffffffu);
	cr_assert_eq(apic_timer_count(UINT64_MAX, UINT64_MAX), 0xffffffffu);
}

Test(apic_timer, an_arming_that_fires_sooner_needs_no_write)
{
	/* Armed for 1000, now 500: any deadline from 1000 on is met. */
	cr_assert(apic_timer_fires_in_time(1000, 1000, 500));
	cr_assert(apic_timer_fires_in_time(1000, 5000, 500));
	cr_assert(apic_timer_fires_in_time(1000, UINT64_MAX, 999));
}

Test(apic_timer, an_earlier_deadline_a_passed_arming_or_none_needs_a_write)
{
	cr_assert_not(apic_timer_fires_in_time(1000, 999, 500));   /* would fire late */
	cr_assert_not(apic_timer_fires_in_time(1000, 5000, 1000)); /* due: may have fired */
	cr_assert_not(apic_timer_fires_in_time(1000, 5000, 2000)); /* fired (or about to) */
	cr_assert_not(apic_timer_fires_in_time(0, 5000, 0));	   /* nothing armed */
}
