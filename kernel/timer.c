/* The clock and timer calls (see timer.h). */
#include "kernel/timer.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/signal.h"
#include "kernel/thread.h"
#include "kernel/time.h"

#define POSIX_TIMERS 32

static struct k_timeval timeval_of(uint64_t ns)
{
	return (struct k_timeval){(int64_t)(ns / NSEC_PER_SEC),
				  (int64_t)(ns % NSEC_PER_SEC / NSEC_PER_USEC)};
}

/* ---------------------------------------------------------------- clocks */

SYSCALL_DEFINE2(clock_gettime, int, clock, uint64_t, tp)
{
	uint64_t ns;
	int err = time_clock(clock, &ns);

	if (err)
		return err;
	struct k_timespec ts = time_ns_timespec(ns);
	return app_copy_to(tp, &ts, sizeof(ts));
}

/* Every clock reads the TSC: 1 ns resolution. */
SYSCALL_DEFINE2(clock_getres, int, clock, uint64_t, res)
{
	uint64_t ns;

	if (time_clock(clock, &ns))
		return -EINVAL;
	if (!res)
		return 0;
	struct k_timespec ts = {0, 1};
	return app_copy_to(res, &ts, sizeof(ts));
}

SYSCALL_DEFINE2(gettimeofday, uint64_t, tv, uint64_t, tz)
{
	uint64_t ns;
	int32_t zone[2] = {0, 0}; /* UTC, no DST */

	time_clock(CLOCK_REALTIME, &ns);
	struct k_timeval val = timeval_of(ns);
	if (tv && app_copy_to(tv, &val, sizeof(val)))
		return -EFAULT;
	if (tz && app_copy_to(tz, zone, sizeof(zone)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE1(time, uint64_t, tloc)
{
	uint64_t ns;

	time_clock(CLOCK_REALTIME, &ns);
	int64_t sec = (int64_t)(ns / NSEC_PER_SEC);
	if (tloc && app_copy_to(tloc, &sec, sizeof(sec)))
		return -EFAULT;
	return sec;
}

/* ---------------------------------------------------------------- sleeps */

/*
 * Sleeps until the monotonic deadline: 0 once it passed; -EINTR when a
 * signal came first, with the time left written to rem (when given, for a
 * relative sleep), as Linux does for a handler that returns.
 */
static long sleep_until(uint64_t deadline, uint64_t rem, const char *what)
{
	long err = thread_sleep(deadline, what);

	if (err == -ETIMEDOUT)
		return 0;
	if (err == -EINTR && rem) {
		uint64_t now = time_now();
		struct k_timespec left = time_ns_timespec(deadline > now ? deadline - now : 0);
		if (app_copy_to(rem, &left, sizeof(left)))
			return -EFAULT;
	}
	return err;
}

SYSCALL_DEFINE2(nanosleep, uint64_t, req, uint64_t, rem)
{
	uint64_t ns;
	int err = time_copy_timespec(req, &ns);

	if (err)
		return err;
	return sleep_until(thread_wait_deadline(ns), rem, "nanosleep");
}

SYSCALL_DEFINE4(clock_nanosleep, int, clock, int, flags, uint64_t, req, uint64_t, rem)
{
	uint64_t ns, deadline;

	if (flags & ~TIMER_ABSTIME)
		return -EINVAL;
	if (clock == CLOCK_THREAD_CPUTIME_ID || time_clock(clock, &ns))
		return -EINVAL;
	int err = time_copy_timespec(req, &ns);
	if (err)
		return err;
	if (flags & TIMER_ABSTIME) {
		deadline = time_clock_deadline(clock, ns);
		thread_set_wait_deadline(deadline ? deadline : 1);
		return sleep_until(deadline ? deadline : 1, 0, "clock_nanosleep");
	}
	return sleep_until(thread_wait_deadline(ns), rem, "clock_nanosleep");
}

/* ---------------------------------------------------------------- timers that signal */

struct sigtimer {
	struct ktimer timer;
	int used;
	int clock;
	uint64_t interval; /* ns; 0: one-shot */
	int sig, notify;
	struct thread *target; /* SIGEV_THREAD_ID, else NULL: the process */
	int target_tid;
	uint64_t value; /* sigev_value */
	int id;		/* the timer id; -1: ITIMER_REAL */
	int overrun;
	uint64_t due; /* the expiry the next run stands for (periodic) */
};

static struct sigtimer itimer_real = {.id = -1};
static struct sigtimer posix_timers[POSIX_TIMERS];

static void fire(struct ktimer *k)
{
	struct sigtimer *t = (struct sigtimer *)k;
	uint64_t now = time_now();

	if (t->interval) {
		/* Periods that passed unseen count as overruns, as on Linux.
		 * due keeps the period's grid; the timer runs no sooner than
		 * TIME_MIN_REARM_NS from now, and the periods it skips so are
		 * overruns of its next expiry. */
		uint64_t late = now > t->due ? (now - t->due) / t->interval : 0;
		t->overrun = late > INT32_MAX ? INT32_MAX : (int)late;
		t->due = time_add(t->due, (late + 1) * t->interval);
		ktimer_arm_period(k, t->due, now);
	}
	if (t->notify == SIGEV_NONE)
		return;
	struct thread *target = NULL;
	if (t->notify == SIGEV_THREAD_ID) {
		target = thread_by_tid(t->target_tid);
		if (!target)
			return; /* its thread is gone */
	}
	struct signal_info si = {.code = t->id < 0 ? SI_KERNEL : SI_TIMER,
				 .id = t->id,
				 .overrun = t->overrun,
				 .value = t->value};
	signal_raise(target, t->sig, &si);
}

/* What is left until t fires, in ns (0: disarmed). */
static uint64_t left(const struct sigtimer *t)
{
	uint64_t now = time_now();

	if (!t->timer.armed)
		return 0;
	return t->timer.deadline > now ? t->timer.deadline - now : 1;
}

/* (Re)starts t, which is not armed, for deadline (0: stays disarmed). */
static void arm(struct sigtimer *t, uint64_t deadline, uint64_t interval)
{
	t->timer.fn = fire;
	t->interval = interval;
	t->overrun = 0;
	t->due = deadline;
	if (deadline)
		ktimer_arm(&t->timer, deadline);
}

SYSCALL_DEFINE1(alarm, unsigned, seconds)
{
	uint64_t was = left(&itimer_real);

	itimer_real.sig = SIGALRM;
	itimer_real.notify = SIGEV_SIGNAL;
	ktimer_cancel(&itimer_real.timer);
	arm(&itimer_real, seconds ? time_add(time_now(), seconds * NSEC_PER_SEC) : 0, 0);
	/* The seconds that were left, rounded to the nearest and at least 1
	 * if any time was left, as Linux's alarm returns. */
	uint64_t secs = was / NSEC_PER_SEC;
	if (was && (!secs || was % NSEC_PER_SEC >= NSEC_PER_SEC / 2))
		secs++;
	return (long)secs;
}

static struct k_itimerval itimerval_of(const struct sigtimer *t)
{
	return (struct k_itimerval){timeval_of(t->interval), timeval_of(left(t))};
}

/* A user timeval as ns; -EINVAL out of range. */
static int timeval_ns(const struct k_timeval *tv, uint64_t *ns)
{
	if (tv->sec < 0 || tv->usec < 0 || tv->usec >= 1000000)
		return -EINVAL;
	*ns = (uint64_t)tv->sec > UINT64_MAX / NSEC_PER_SEC - 1
		  ? UINT64_MAX - 1
		  : (uint64_t)tv->sec * NSEC_PER_SEC + (uint64_t)tv->usec * NSEC_PER_USEC;
	return 0;
}

SYSCALL_DEFINE2(getitimer, int, which, uint64_t, out)
{
	if (which != ITIMER_REAL)
		return -EINVAL;
	struct k_itimerval v = itimerval_of(&itimer_real);
	return app_copy_to(out, &v, sizeof(v));
}

SYSCALL_DEFINE3(setitimer, int, which, uint64_t, unew, uint64_t, uold)
{
	struct k_itimerval v, old = itimerval_of(&itimer_real);
	uint64_t value = 0, interval = 0;

	if (which != ITIMER_REAL)
		return -EINVAL;
	if (unew) {
		if (app_copy_from(&v, unew, sizeof(v)))
			return -EFAULT;
		if (timeval_ns(&v.value, &value) || timeval_ns(&v.interval, &interval))
			return -EINVAL;
	}
	if (uold && app_copy_to(uold, &old, sizeof(old)))
		return -EFAULT;
	if (unew) {
		itimer_real.sig = SIGALRM;
		itimer_real.notify = SIGEV_SIGNAL;
		ktimer_cancel(&itimer_real.timer);
		arm(&itimer_real, value ? time_add(time_now(), value) : 0, value ? interval : 0);
	}
	return 0;
}

static struct sigtimer *posix_timer(int id)
{
	if (id < 0 || id >= POSIX_TIMERS || !posix_timers[id].used)
		return NULL;
	return &posix_timers[id];
}

SYSCALL_DEFINE3(timer_create, int, clock, uint64_t, usev, uint64_t, uid)
{
	struct k_sigevent sev = {.signo = SIGALRM, .notify = SIGEV_SIGNAL};
	uint64_t ns;
	int id;

	if (clock == CLOCK_THREAD_CPUTIME_ID || time_clock(clock, &ns))
		return -EINVAL;
	for (id = 0; id < POSIX_TIMERS && posix_timers[id].used; id++)
		;
	if (id == POSIX_TIMERS)
		return -EAGAIN;
	sev.value = (uint64_t)id;
	if (usev && app_copy_from(&sev, usev, sizeof(sev)))
		return -EFAULT;
	switch (sev.notify) {
	case SIGEV_NONE:
		break;
	case SIGEV_THREAD_ID:
		if (!thread_by_tid(sev.tid))
			return -EINVAL;
		/* fall through */
	case SIGEV_SIGNAL:
		if (sev.signo < 1 || sev.signo > NSIG)
			return -EINVAL;
		break;
	default:
		return -EINVAL; /* SIGEV_THREAD is the C library's, on SIGEV_THREAD_ID */
	}
	int32_t out = id;
	if (app_copy_to(uid, &out, sizeof(out)))
		return -EFAULT;
	posix_timers[id] = (struct sigtimer){.used = 1,
					     .clock = clock,
					     .sig = sev.signo,
					     .notify = sev.notify,
					     .target_tid = sev.tid,
					     .value = sev.value,
					     .id = id};
	ktimer_init(&posix_timers[id].timer, fire);
	return 0;
}

static struct k_itimerspec itimerspec_of(const struct sigtimer *t)
{
	return (struct k_itimerspec){time_ns_timespec(t->interval), time_ns_timespec(left(t))};
}

SYSCALL_DEFINE4(timer_settime, int, id, int, flags, uint64_t, unew, uint64_t, uold)
{
	struct sigtimer *t = posix_timer(id);
	struct k_itimerspec v, old;
	uint64_t value, interval;

	if (!t || (flags & ~TIMER_ABSTIME))
		return -EINVAL;
	if (app_copy_from(&v, unew, sizeof(v)))
		return -EFAULT;
	if (time_timespec_ns(&v.value, &value) || time_timespec_ns(&v.interval, &interval))
		return -EINVAL;
	old = itimerspec_of(t);
	if (uold && app_copy_to(uold, &old, sizeof(old)))
		return -EFAULT;
	ktimer_cancel(&t->timer);
	if (!value) {
		arm(t, 0, 0);
		return 0;
	}
	uint64_t deadline = (flags & TIMER_ABSTIME) ? time_clock_deadline(t->clock, value)
						    : time_add(time_now(), value);
	arm(t, deadline ? deadline : 1, interval);
	return 0;
}

SYSCALL_DEFINE2(timer_gettime, int, id, uint64_t, out)
{
	struct sigtimer *t = posix_timer(id);

	if (!t)
		return -EINVAL;
	struct k_itimerspec v = itimerspec_of(t);
	return app_copy_to(out, &v, sizeof(v));
}

SYSCALL_DEFINE1(timer_getoverrun, int, id)
{
	struct sigtimer *t = posix_timer(id);

	return t ? t->overrun : -EINVAL;
}

SYSCALL_DEFINE1(timer_delete, int, id)
{
	struct sigtimer *t = posix_timer(id);

	if (!t)
		return -EINVAL;
	ktimer_cancel(&t->timer);
	t->used = 0;
	return 0;
}

void timer_release_all(void)
{
	ktimer_cancel(&itimer_real.timer);
	for (int i = 0; i < POSIX_TIMERS; i++)
		ktimer_cancel(&posix_timers[i].timer);
}
