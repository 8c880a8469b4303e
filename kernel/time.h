/*
 * time - the kernel's clocks and timers.
 *
 * Clocks: one counter, the CPU's TSC (kernel/arch/x86_64/tsc.h), read as
 * nanoseconds since kernel entry with include/solo/vvar.h's arithmetic,
 * which the vDSO shares (kernel/vdso.h) so that both read the same time. That is CLOCK_MONOTONIC
 * (and BOOTTIME: nothing suspends); CLOCK_REALTIME is the RTC's reading at boot plus the same
 * count. Nothing sets the clocks. Deadlines are absolute monotonic nanoseconds throughout the
 * kernel; the one conversion to TSC ticks is time_tsc_at() here, used only to program the timer
 * hardware.
 *
 * Timers: a struct ktimer runs its callback once the monotonic clock has
 * reached its deadline. Callbacks run in kernel context with interrupts
 * off, from the timer interrupt (which arrives only while the app runs in
 * ring 3 or while the CPU idles: the kernel itself is never interrupted)
 * or from time_idle(). They may wake threads, raise signals and re-arm
 * timers; they must not block. The timer hardware is armed for the
 * earliest armed timer only, so an app with no timers takes no timer
 * interrupts.
 *
 * Every CPU has its own list and its own local APIC timer: a timer goes on
 * the list of the CPU that arms it (or the one ktimer_arm_on names) and
 * its callback runs on that CPU. The lists are under the kernel lock, and
 * in a shared section (docs/architecture.md, "Lock order") under
 * LOCK_THREADS (thread_shared_lock), where the timer interrupt runs the
 * shared timers due (ktimer_init_shared) and leaves the others to the
 * kernel lock.
 */
#pragma once

#include <stdint.h>

/*
 * time_init - start the clocks: tsc_hz is the calibrated TSC rate,
 * entry_tsc the TSC at kernel entry (monotonic zero), and the wall clock
 * read realtime_seconds (since 1970, UTC) when the TSC was realtime_tsc.
 * Once, at boot.
 */
void time_init(uint64_t tsc_hz, uint64_t entry_tsc, uint64_t realtime_seconds,
	       uint64_t realtime_tsc);

/*
 * time_get_params - what the clocks are computed from, for the vDSO's data
 * page (include/solo/vvar.h): the TSC at monotonic zero, the TSC-to-ns
 * multiplier (vvar_ns_mult of the TSC rate) and CLOCK_REALTIME at
 * monotonic zero in ns. time_now is vvar_monotonic_ns of the TSC with
 * these, in the kernel and in the vDSO alike. After time_init; whoever
 * changes them calls vdso_update.
 */
void time_get_params(uint64_t *tsc_base, uint64_t *ns_mult, uint64_t *realtime_base_ns);

/* Monotonic nanoseconds since kernel entry. */
uint64_t time_now(void);
/*
 * time_clock - the time of Linux clock id in ns into *ns: MONOTONIC and its
 * RAW, COARSE and BOOTTIME twins; REALTIME and REALTIME_COARSE (since
 * 1970); the CPU-time clocks count from the app's start (app_start, the
 * monotonic time then; threads are not told apart). Returns 0 or -EINVAL
 * for a clock Solo does not have.
 */
int time_clock(int clock, uint64_t *ns);
/* The monotonic deadline at which clock (a time_clock id) reads ns; for
 * the clocks that run at the monotonic rate this is exact. */
uint64_t time_clock_deadline(int clock, uint64_t ns);
/* Sets the monotonic time the app started (CPU-time clocks count from it). */
void time_set_app_start(uint64_t ns);

/* ns + delta, saturating at UINT64_MAX ("never"). */
static inline uint64_t time_add(uint64_t ns, uint64_t delta)
{
	return delta > UINT64_MAX - ns ? UINT64_MAX : ns + delta;
}

/*
 * Timespecs from the app. time_timespec_ns - *ts as ns into *ns: 0, or
 * -EINVAL unless sec >= 0 and 0 <= nsec < 1 s. Past ~584 years it
 * saturates at TIME_NS_MAX, a finite time: UINT64_MAX stays free to mean
 * "no timeout". Pure (host-tested).
 */
#define TIME_NS_MAX (UINT64_MAX - 1)
struct k_timespec;
int time_timespec_ns(const struct k_timespec *ts, uint64_t *ns);
/* The same for the timespec at app address uts; -EFAULT when unreadable. */
int time_copy_timespec(uint64_t uts, uint64_t *ns);
/* ns as a timespec (for the app). Pure. */
struct k_timespec time_ns_timespec(uint64_t ns);

/* The TSC value at monotonic time ns, rounded up (for the hardware). */
uint64_t time_tsc_at(uint64_t ns);
/* The pure conversion behind it: ns nanoseconds as ticks of a clock at hz,
 * rounded up, saturating at UINT64_MAX. Host-tested. */
uint64_t time_ns_to_ticks(uint64_t ns, uint64_t hz);

struct ktimer;
typedef void (*ktimer_fn)(struct ktimer *t);

struct ktimer {
	uint64_t deadline; /* monotonic ns */
	ktimer_fn fn;
	struct ktimer *next; /* the armed list, by deadline */
	int armed;
	unsigned cpu;	/* whose list it is on, while armed */
	int background; /* see ktimer_init_background */
	int shared;	/* see ktimer_init_shared */
};

static inline void ktimer_init(struct ktimer *t, ktimer_fn fn)
{
	*t = (struct ktimer){.fn = fn};
}

/*
 * ktimer_init_background - a timer for the kernel's own housekeeping (the
 * network stack's protocol timers): it runs like any other but does not
 * count in time_timers_armed, so it never keeps a deadlocked app alive.
 * Its owner reports what it can wake through kernel/defer.h instead.
 */
static inline void ktimer_init_background(struct ktimer *t, ktimer_fn fn)
{
	*t = (struct ktimer){.fn = fn, .background = 1};
}

/*
 * ktimer_init_shared - a timer whose callback may run in a shared section,
 * under LOCK_THREADS and without the kernel lock: it changes only what
 * that lock covers (a thread's wait ending, a slice). The thread layer's.
 */
static inline void ktimer_init_shared(struct ktimer *t, ktimer_fn fn)
{
	*t = (struct ktimer){.fn = fn, .shared = 1};
}

/* Arms t for deadline on this CPU (an armed t moves, from any CPU's list).
 * A deadline in the past runs the callback at the next timer check, not
 * inside this call. */
void ktimer_arm(struct ktimer *t, uint64_t deadline);
/* The same on the online CPU cpu: its callback runs there. Another CPU's
 * timer hardware is programmed by that CPU, so it is kicked (an IPI) when
 * t becomes its earliest timer. */
void ktimer_arm_on(struct ktimer *t, unsigned cpu, uint64_t deadline);
/* ktimer_arm for a periodic timer's next period, due, at now: not sooner
 * than TIME_MIN_REARM_NS (below) after now. */
void ktimer_arm_period(struct ktimer *t, uint64_t due, uint64_t now);
/* Disarms t, wherever it is armed; nothing happens when it is not. */
void ktimer_cancel(struct ktimer *t);

/* Whether any timer but a background one is armed, on any CPU: with none,
 * no timer can make a waiting thread runnable (the scheduler's deadlock
 * test). */
int time_timers_armed(void);
/* Runs the callbacks of this CPU's timers whose deadline had passed when
 * it began (a timer a callback re-arms waits for the next run, so a pass
 * ends however short a period is) and re-arms its hardware for the next.
 * From the timer interrupt and time_idle. In a shared section (the caller
 * holds LOCK_THREADS) it stops at the first timer due that is not a
 * shared one: time_expired_left then says so. */
void time_run_expired(void);
/* Whether time_run_expired left a timer due on this CPU's list to the
 * kernel lock (one not shared). Under the kernel lock or LOCK_THREADS. */
int time_expired_left(void);

/* The shortest gap between two expiries of one periodic timer (a POSIX or
 * interval timer, a timerfd): a shorter period's expiries in between are
 * counted, not run (overruns, a timerfd's ticks). Without it a period
 * shorter than an expiry's own cost would take the CPU from the app for
 * good (found by make fuzz-guest's io mode). */
#define TIME_MIN_REARM_NS 100000ull
/* Under the kernel lock: programs this CPU's timer when another CPU put a
 * timer first on its list since (ktimer_arm_on). */
void time_reprogram(void);
/*
 * time_idle - halts the CPU until an interrupt (with its hardware armed for
 * its earliest timer), then runs its expired timers. Kernel context,
 * interrupts off, and off again on return. Without a timer interrupt
 * source (no local APIC) it spins on the clock until the earliest deadline.
 */
void time_idle(void);
/* time_idle, halting again after each interrupt while stay() says so
 * (called without the kernel lock, interrupts off): a CPU that can tell
 * from a shared section that it has nothing to do takes no lock. With no
 * timer interrupt source, the same as time_idle. */
void time_idle_while(int (*stay)(void));
