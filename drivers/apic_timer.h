/*
 * The boot CPU's local APIC timer, used for one thing: letting the kernel
 * hlt until a TSC deadline instead of spinning (nanosleep, console input).
 *
 * Contract: the timer is armed only inside apic_timer_sleep_until() and
 * disarmed before it returns, so no timer interrupt is due while the app
 * runs, unless kernel/thread.c asked for a time slice (apic_timer_set_slice,
 * only while the app has more than one thread). One may still arrive late (it fired between the
 * last wake-up and the disarm); trap.c delivers it to this driver from ring 0 or ring 3 and it is
 * acknowledged and ignored. The kernel runs with interrupts off everywhere else: they are on only
 * across the `sti; hlt` in the sleep.
 *
 * Modes, best first: TSC-deadline (CPUID.01H:ECX[24]: the timer fires when
 * the TSC reaches a value, no calibration), else one-shot counting at the
 * APIC bus clock / 16, calibrated against the TSC at init. With no local
 * APIC (CPUID.01H:EDX[9] clear) sleeps fall back to a `pause` spin on the
 * TSC. The APIC is used in the mode the firmware left it: xAPIC registers
 * through an uncached MMIO mapping, or x2APIC MSRs when the firmware
 * enabled x2APIC.
 */
#pragma once

#include <stdint.h>

/* Interrupt vectors: the timer, and the APIC's spurious vector (low nibble
 * 0xf, as older xAPICs require). Above any vector the 8259s or the CPU use. */
#define APIC_TIMER_VECTOR    0xf0
#define APIC_SPURIOUS_VECTOR 0xff

/*
 * apic_timer_init - enable the local APIC (software-enable, spurious vector,
 * task priority 0, LINT0 masked so nothing of the 8259s gets through), pick
 * the timer mode and calibrate it. Once, at boot, interrupts off, after
 * tsc_calibrate() and the kernel's page tables (it uses map_mmio()).
 * Returns a description for the boot log: "LAPIC TSC-deadline", "LAPIC
 * one-shot, N ticks/ms" or "none: sleeps spin on the TSC (why)". Never fails:
 * without a usable APIC the sleeps spin.
 */
const char *apic_timer_init(void);

/*
 * apic_timer_sleep_until - return once the TSC has reached deadline_tsc,
 * halting the CPU in between: arms the timer for the deadline (one-shot
 * counts are clamped to 32 bits and re-armed after each wake-up, so any
 * length works), then `sti; hlt; cli` until the TSC is there. A wake-up by
 * any other interrupt just loops. Interrupts are off again on return and
 * the timer is disarmed. Kernel context with interrupts off; returns at
 * once for a deadline in the past.
 */
void apic_timer_sleep_until(uint64_t deadline_tsc);

/*
 * apic_timer_set_slice - the one exception to "disarmed while the app
 * runs": with more than one app thread, kernel/thread.c arms the timer for
 * the end of a time slice (deadline_tsc) so that a thread spinning in ring
 * 3 is preempted; 0 disarms it. A sleep in between arms its own deadline
 * and puts the slice back when it ends (a slice already over then fires at
 * once). Kernel context, interrupts off. Without an APIC it does nothing.
 */
void apic_timer_set_slice(uint64_t deadline_tsc);

/* apic_timer_sleep_ns - apic_timer_sleep_until(now + ns in TSC ticks,
 * rounded up), saturating: at least ns nanoseconds of TSC time. */
void apic_timer_sleep_ns(uint64_t ns);

struct apic_timer_stats {
	uint64_t interrupts; /* timer interrupts taken */
	uint64_t wakeups;    /* returns from hlt in apic_timer_sleep_until */
	uint64_t spurious;   /* spurious-vector interrupts */
};
void apic_timer_get_stats(struct apic_timer_stats *st);

/*
 * Pure helpers (host-tested).
 *
 * apic_timer_ratio - the one-shot calibration: timer ticks per TSC tick as a
 * 32.32 fixed-point number, from timer_ticks counted over tsc_ticks; 0 when
 * either is 0 (no usable measurement).
 *
 * apic_timer_count - the initial count that makes the one-shot timer fire
 * tsc_delta TSC ticks from now at ratio: rounded down (an early wake-up only
 * costs one more loop, a late one oversleeps), at least 1 (0 would stop the
 * timer) and at most 0xffffffff (a longer sleep re-arms when it fires).
 *
 * apic_timer_tsc_ticks - ns nanoseconds as TSC ticks at tsc_hz, rounded up,
 * saturating at UINT64_MAX.
 */
uint64_t apic_timer_ratio(uint64_t timer_ticks, uint64_t tsc_ticks);
uint32_t apic_timer_count(uint64_t tsc_delta, uint64_t ratio);
uint64_t apic_timer_tsc_ticks(uint64_t ns, uint64_t tsc_hz);
