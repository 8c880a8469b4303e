/*
 * The kernel's clocks and timers (see time.h).
 *
 * Each CPU's armed timers are a list sorted by deadline: arming is O(armed
 * timers), expiry O(1) per timer. An app has a handful (a sleeping thread
 * each, its timers, the slices, the console poll); a heap would pay off
 * with hundreds.
 *
 * The conversions at the top are plain C (host-tested, the app's memory
 * through the shim); the rest needs the CPU.
 */
#include "kernel/time.h"

#include <stddef.h>

#include <solo/vvar.h>

#include "kernel/abi/errno.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"

int time_timespec_ns(const struct k_timespec *ts, uint64_t *ns)
{
	if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	*ns = (uint64_t)ts->sec > TIME_NS_MAX / NSEC_PER_SEC - 1
		  ? TIME_NS_MAX
		  : (uint64_t)ts->sec * NSEC_PER_SEC + (uint64_t)ts->nsec;
	return 0;
}

int time_copy_timespec(uint64_t uts, uint64_t *ns)
{
	struct k_timespec ts;

	if (app_copy_from(&ts, uts, sizeof(ts)))
		return -EFAULT;
	return time_timespec_ns(&ts, ns);
}

struct k_timespec time_ns_timespec(uint64_t ns)
{
	return (struct k_timespec){(int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC)};
}

uint64_t time_ns_to_ticks(uint64_t ns, uint64_t hz)
{
	uint64_t sec = ns / NSEC_PER_SEC, rest = ns % NSEC_PER_SEC;

	if (hz && sec > UINT64_MAX / hz)
		return UINT64_MAX;
	uint64_t whole = sec * hz;
	/* rest * hz fits while the TSC runs below 18 GHz. */
	uint64_t part = (rest * hz + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	return part > UINT64_MAX - whole ? UINT64_MAX : whole + part;
}

#ifndef HOST_TEST
#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/lockstat.h"
#include "kernel/percpu.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/vdso.h"

/* The clock parameters; the vDSO computes its clocks from a copy of them
 * (vdso_update), with the same vvar.h arithmetic as time_now here. */
static uint64_t hz, entry_tsc, ns_mult, realtime_base_ns, app_start_ns;
/* Each CPU's armed timers, by deadline; its local APIC timer is armed for
 * the first. */
static struct ktimer *armed[SMP_MAX_CPUS];
/* Another CPU put a timer first on this CPU's list: this CPU programs its
 * hardware at its next kernel lock (time_reprogram), after the kick. */
static int reprogram_pending[SMP_MAX_CPUS];

void time_init(uint64_t tsc_rate, uint64_t entry, uint64_t realtime_seconds, uint64_t realtime_tsc)
{
	hz = tsc_rate;
	entry_tsc = entry;
	ns_mult = vvar_ns_mult(hz);
	/* The wall clock at monotonic zero: what the RTC read, minus the
	 * monotonic time that had passed when it was read. */
	uint64_t at = vvar_monotonic_ns(realtime_tsc, entry, ns_mult);
	uint64_t wall = realtime_seconds * NSEC_PER_SEC;
	realtime_base_ns = wall > at ? wall - at : 0;
	apic_timer_set_callback(time_run_expired);
	vdso_update();
}

void time_get_params(uint64_t *tsc_base, uint64_t *mult, uint64_t *realtime)
{
	*tsc_base = entry_tsc;
	*mult = ns_mult;
	*realtime = realtime_base_ns;
}

uint64_t time_now(void)
{
	return vvar_monotonic_ns(arch_timestamp(), entry_tsc, ns_mult);
}

void time_set_app_start(uint64_t ns)
{
	app_start_ns = ns;
}

int time_clock(int clock, uint64_t *ns)
{
	uint64_t now = time_now();

	switch (clock) {
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		*ns = now;
		return 0;
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_REALTIME_ALARM:
		*ns = realtime_base_ns + now;
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = now > app_start_ns ? now - app_start_ns : 0;
		return 0;
	default:
		return -EINVAL;
	}
}

uint64_t time_clock_deadline(int clock, uint64_t ns)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_REALTIME_ALARM:
		return ns > realtime_base_ns ? ns - realtime_base_ns : 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		return time_add(app_start_ns, ns);
	default:
		return ns;
	}
}

uint64_t time_tsc_at(uint64_t ns)
{
	uint64_t ticks = time_ns_to_ticks(ns, hz);

	return ticks > UINT64_MAX - entry_tsc ? UINT64_MAX : entry_tsc + ticks;
}

/* Makes this CPU's hardware fire by its earliest timer (apic_timer_arm:
 * a cancel or a later deadline leaves it as it is). */
static void program(void)
{
	unsigned cpu = this_cpu()->index;

	__atomic_store_n(&reprogram_pending[cpu], 0, __ATOMIC_RELAXED);
	apic_timer_arm(armed[cpu] ? time_tsc_at(armed[cpu]->deadline) : 0);
}

void time_reprogram(void)
{
	if (__atomic_load_n(&reprogram_pending[this_cpu()->index], __ATOMIC_ACQUIRE))
		program();
}

/* cpu's earliest timer changed: this CPU programs its hardware at once;
 * another does at its next kernel lock (time_reprogram), which kick makes
 * come soon (an IPI). */
static void earliest_changed(unsigned cpu, int kick)
{
	if (cpu == this_cpu()->index) {
		program();
		return;
	}
	__atomic_store_n(&reprogram_pending[cpu], 1, __ATOMIC_RELEASE);
	if (kick)
		smp_kick(cpu);
}

static void unlink_timer(struct ktimer *t)
{
	for (struct ktimer **pp = &armed[t->cpu]; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = 0;
}

void ktimer_arm_on(struct ktimer *t, unsigned cpu, uint64_t deadline)
{
	struct ktimer **pp = &armed[cpu];

	if (t->armed)
		unlink_timer(t);
	t->deadline = deadline;
	t->cpu = cpu;
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = 1;
	if (armed[cpu] == t)
		earliest_changed(cpu, 1);
}

void ktimer_arm(struct ktimer *t, uint64_t deadline)
{
	ktimer_arm_on(t, this_cpu()->index, deadline);
}

void ktimer_arm_period(struct ktimer *t, uint64_t due, uint64_t now)
{
	uint64_t soonest = time_add(now, TIME_MIN_REARM_NS);

	ktimer_arm(t, due > soonest ? due : soonest);
}

void ktimer_cancel(struct ktimer *t)
{
	if (!t->armed)
		return;
	int first = armed[t->cpu] == t;

	unlink_timer(t);
	/* First on another CPU's list: no kick. That CPU re-arms at its next
	 * kernel lock, or its timer fires for nothing and it re-arms then;
	 * either is cheaper than an IPI now. */
	if (first)
		earliest_changed(t->cpu, 0);
}

int time_timers_armed(void)
{
	for (unsigned cpu = 0; cpu < SMP_MAX_CPUS; cpu++) {
		for (const struct ktimer *t = armed[cpu]; t; t = t->next) {
			if (!t->background)
				return 1;
		}
	}
	return 0;
}

void time_run_expired(void)
{
	struct ktimer **mine = &armed[this_cpu()->index];
	uint64_t now = time_now();
	int shared = this_cpu()->shared_section;

	/* now is read once: a periodic timer re-arms after the now of its
	 * callback, so it cannot come due again in this pass. */
	while (*mine && (*mine)->deadline <= now) {
		struct ktimer *t = *mine;
		if (shared && !t->shared)
			break; /* and what is behind it: the kernel lock's */
		unlink_timer(t);
		t->fn(t); /* may arm timers, this one too */
	}
	program();
}

int time_expired_left(void)
{
	const struct ktimer *first = armed[this_cpu()->index];

	/* A shared timer that came due after the pass began is not: the
	 * hardware, armed for it, fires at once. */
	return first && !first->shared && first->deadline <= time_now();
}

void time_idle(void)
{
	time_idle_while(NULL);
}

void time_idle_while(int (*stay)(void))
{
	/* The kernel lock is dropped while the CPU waits, so that another CPU
	 * can enter the kernel (the interrupt that ends the halt takes it in
	 * trap_dispatch, unless a shared section serves it); the timers run
	 * under it again. */
	int held = kernel_lock_held();

	if (apic_timer_present()) {
		program();
		if (held)
			kernel_lock_exit(0);
		do
			apic_timer_idle();
		while (stay && stay());
	} else {
		/* No timer interrupt: spin to the earliest deadline (read
		 * without the lock; it is checked again under it). */
		const struct ktimer *first = armed[this_cpu()->index];
		uint64_t deadline = first ? first->deadline : 0;
		if (held)
			kernel_lock_exit(0);
		while (deadline && time_now() < deadline)
			__builtin_ia32_pause();
	}
	if (held) {
		this_cpu()->lock_reason = LOCKSTAT_IDLE;
		(void)kernel_lock_enter();
	}
	time_run_expired();
}
#endif
