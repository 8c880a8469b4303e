/*
 * The local APIC timer, one per CPU: the hardware behind the kernel's
 * timers (kernel/time.h), which arms each CPU's for that CPU's earliest
 * deadline and halts the CPU in between (apic_timer_idle). It fires once
 * per arming, never later than asked but possibly sooner; its interrupt
 * acknowledges itself, counts itself in this_cpu()->timer_interrupts and
 * calls the callback time.c registered, on the CPU it fired on, in trap
 * context (the kernel is only ever interrupted in ring 3 or in the idle
 * hlt: it runs with interrupts off everywhere else).
 *
 * Modes, best first: TSC-deadline (CPUID.01H:ECX[24]: the timer fires when
 * the TSC reaches a value, no calibration), else one-shot counting at the
 * APIC bus clock / 16, calibrated against the TSC at init (a deadline
 * further away than the 32-bit count reaches fires early, and the kernel
 * re-arms). With no local APIC (CPUID.01H:EDX[9] clear) there is no timer
 * interrupt: time_idle spins on the clock instead. The APIC is used in
 * the mode the firmware left it: xAPIC registers through an uncached MMIO
 * mapping, or x2APIC MSRs when the firmware enabled x2APIC.
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

/* Calls expired (in trap context) at each timer interrupt from now on. */
void apic_timer_set_callback(void (*expired)(void));
/* Whether the timer works (apic_timer_init found a local APIC). */
int apic_timer_present(void);
/* Makes this CPU's timer fire by the time the TSC reaches deadline_tsc (at
 * once for a deadline in the past): it may fire sooner, for an earlier
 * arming that still stands, and the caller then arms again. 0: nothing is
 * due (an earlier arming may still fire once). Kernel context. */
void apic_timer_arm(uint64_t deadline_tsc);
/* `sti; hlt; cli`: halts until the next interrupt (an interrupt already
 * pending wakes the hlt at once), counted as a wake-up. */
void apic_timer_idle(void);

/* Whether this CPU's local APIC would hold vector back now: an interrupt
 * of its priority class or above is in service and not yet acknowledged
 * (the processor priority). A CPU inside such a handler must not halt
 * waiting for an IPI of that vector. */
int apic_vector_blocked(uint8_t vector);
/* This CPU's local APIC ID (on the boot CPU: what an MSI message's
 * destination field names), 0 without an APIC. */
uint32_t apic_id(void);
/* Signals end of interrupt to the local APIC. apic_timer_init hands it to
 * irq_set_eoi for the device vectors. */
void apic_eoi(void);

/*
 * apic_timer_init_ap - on another CPU, after smp.c set it up: enable its
 * local APIC in the boot CPU's mode (xAPIC or x2APIC: an AP whose firmware
 * left it in xAPIC mode is switched like the boot CPU), as apic_timer_init
 * did the boot CPU's, with the timer in the boot CPU's mode and its
 * calibration (one bus clock), unmasked and disarmed until this CPU arms
 * it. Returns this CPU's APIC ID. Boot time, interrupts off.
 */
uint32_t apic_timer_init_ap(void);

/* Delivery modes and flags of an interprocessor interrupt (ICR low word). */
#define APIC_IPI_FIXED	      0x00000000u /* | the vector */
#define APIC_IPI_INIT	      0x00000500u
#define APIC_IPI_STARTUP      0x00000600u
#define APIC_IPI_LEVEL_TRIG   0x00008000u
#define APIC_IPI_LEVEL_ASSERT 0x00004000u

/*
 * apic_send_ipi - send an interprocessor interrupt with ICR low word icr
 * (delivery mode, flags, vector) to the local APIC apic_id. Waits (up to
 * 20 ms) for an xAPIC to report it sent. Returns 0, -ETIMEDOUT when it was
 * not, -EINVAL when apic_id cannot be named in the APIC's mode (above 255
 * without x2APIC), or -ENODEV without a usable local APIC. Kernel
 * context, interrupts off (an xAPIC's two ICR writes must not be split by
 * an interrupt that sends another), on any CPU: the INIT and STARTUP IPIs
 * at boot, the cross-CPU call IPI (smp.c) after. Memory written before it
 * is visible to the target before the IPI arrives.
 */
int apic_send_ipi(uint32_t apic_id, uint32_t icr);

/* Returns from hlt in apic_timer_idle, on every CPU. The interrupts are
 * counted per CPU (struct cpu). */
uint64_t apic_timer_wakeups(void);

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
 * apic_timer_fires_in_time - whether a timer armed to fire by fires_by (a
 * TSC value; 0: no arming stands) needs no write to fire by deadline: it
 * has not fired yet at now, and fires_by is no later than deadline.
 */
uint64_t apic_timer_ratio(uint64_t timer_ticks, uint64_t tsc_ticks);
uint32_t apic_timer_count(uint64_t tsc_delta, uint64_t ratio);
int apic_timer_fires_in_time(uint64_t fires_by, uint64_t deadline, uint64_t now);
