/*
 * timerfd - a timer as a file (see timerfd.h), with Linux's semantics: a
 * kernel timer (struct ktimer) counts expirations into ticks and wakes the
 * file's queue; read takes the count and resets it, or returns -EAGAIN
 * while it is 0 (the generic read path waits on the queue poll names).
 *
 * Every deadline is monotonic (kernel/time.h). An absolute setting on
 * CLOCK_REALTIME is converted once, when it is set (time_clock_deadline):
 * nothing sets the clocks, so the conversion stays right and
 * TFD_TIMER_CANCEL_ON_SET never has anything to report. The _ALARM clocks
 * are their base clocks (the app is root, and nothing suspends).
 *
 * Invariants: the ktimer is armed exactly while armed is set, for
 * deadline; a periodic timer that expired late counts every period that
 * passed and is re-armed at the next period boundary after now, so its
 * expirations stay on the grid its first one set; ticks only grow between
 * reads and settime.
 */
#include "fs/timerfd.h"

#include <stddef.h>

#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/time.h"
#include "kernel/wait.h"
#include "mm/kmalloc.h"

struct timerfd {
	int clock;	   /* CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME */
	int armed;	   /* the timer runs, for deadline */
	uint64_t deadline; /* the next expiration, monotonic ns */
	uint64_t interval; /* ns between expirations; 0: one-shot */
	uint64_t ticks;	   /* expirations since the last read or settime */
	struct ktimer timer;
	struct waitq wq;
};

static const struct file_ops timerfd_ops;

/* ---------------------------------------------------------------- expiring */

/*
 * The timer's expiration happened late ns ago (0: now): count it and, for a
 * periodic timer, the periods that passed since, then re-arm at the next
 * period boundary after now (now + interval - late % interval) or disarm.
 */
static void timerfd_expire(struct timerfd *tfd, uint64_t now, uint64_t late)
{
	uint64_t n = 1;

	tfd->armed = 0;
	if (tfd->interval) {
		n += late / tfd->interval;
		tfd->deadline = time_add(now, tfd->interval - late % tfd->interval);
		tfd->armed = 1;
		/* The periods a late run skips are counted at that run
		 * (late is taken from deadline, the period's grid). */
		ktimer_arm_period(&tfd->timer, tfd->deadline, now);
	}
	tfd->ticks = n > UINT64_MAX - tfd->ticks ? UINT64_MAX : tfd->ticks + n;
	waitq_wake(&tfd->wq, POLLIN);
}

static void timerfd_fire(struct ktimer *t)
{
	struct timerfd *tfd = (struct timerfd *)((char *)t - offsetof(struct timerfd, timer));
	uint64_t now = time_now();

	timerfd_expire(tfd, now, now > tfd->deadline ? now - tfd->deadline : 0);
}

/* What timerfd_gettime reports: the time to the next expiration (0 when
 * disarmed, and when it is due but its callback has not run yet, as Linux
 * clamps) and the interval. */
static struct k_itimerspec timerfd_current(const struct timerfd *tfd)
{
	uint64_t now = time_now(), left = 0;

	if (tfd->armed && tfd->deadline > now)
		left = tfd->deadline - now;
	return (struct k_itimerspec){.interval = time_ns_timespec(tfd->interval),
				     .value = time_ns_timespec(left)};
}

/* Replaces the setting (value and interval in ns): the count restarts at
 * 0; a zero value disarms; an absolute time that has passed already
 * expires here, with the periods since counted, as Linux's immediate
 * hrtimer expiry and its overrun count would. */
static void timerfd_set(struct timerfd *tfd, int flags, uint64_t value, uint64_t interval)
{
	uint64_t now = time_now(), clock_now;

	ktimer_cancel(&tfd->timer);
	tfd->armed = 0;
	tfd->ticks = 0;
	tfd->interval = interval;
	if (!value)
		return;
	if (!(flags & TFD_TIMER_ABSTIME)) {
		tfd->deadline = time_add(now, value);
	} else {
		if (time_clock(tfd->clock, &clock_now))
			clock_now = now; /* the three clocks exist: cannot happen */
		if (value <= clock_now) {
			timerfd_expire(tfd, now, clock_now - value);
			return;
		}
		tfd->deadline = time_clock_deadline(tfd->clock, value);
	}
	tfd->armed = 1;
	ktimer_arm(&tfd->timer, tfd->deadline);
}

/* ---------------------------------------------------------------- the file */

static long timerfd_read(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	struct timerfd *tfd = f->priv;
	int err;

	(void)pos;
	if (iobuf_left(buf) < sizeof(tfd->ticks))
		return -EINVAL;
	if (!tfd->ticks)
		return -EAGAIN;
	err = iobuf_put(buf, &tfd->ticks, sizeof(tfd->ticks));
	if (err)
		return err; /* the count stays for the next read */
	tfd->ticks = 0;
	return sizeof(tfd->ticks);
}

static unsigned timerfd_poll(struct file *f, struct poll_table *pt)
{
	struct timerfd *tfd = f->priv;

	poll_wait(pt, &tfd->wq);
	return tfd->ticks ? POLLIN : 0;
}

static void timerfd_release(struct file *f)
{
	struct timerfd *tfd = f->priv;

	ktimer_cancel(&tfd->timer);
	/* A thread may still wait in a read of a descriptor another thread
	 * closed: wake it (its retry finds EBADF); no entry may point into
	 * the freed queue. */
	waitq_release(&tfd->wq);
	kfree(tfd);
}

static const struct file_ops timerfd_ops = {
    .kind = "timerfd",
    .read = timerfd_read,
    .poll = timerfd_poll,
    .release = timerfd_release,
};

/* The timerfd behind descriptor fd, or -EBADF / -EINVAL (another kind). */
static long timerfd_lookup(int fd, struct timerfd **out)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (f->ops != &timerfd_ops)
		return -EINVAL;
	*out = f->priv;
	return 0;
}

/* ---------------------------------------------------------------- syscalls */

SYSCALL_DEFINE2(timerfd_create, int, clockid, int, flags)
{
	struct timerfd *tfd;
	struct file *f;
	int fd;

	if (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC))
		return -EINVAL;
	switch (clockid) {
	case CLOCK_REALTIME_ALARM:
		clockid = CLOCK_REALTIME;
		break;
	case CLOCK_BOOTTIME_ALARM:
		clockid = CLOCK_BOOTTIME;
		break;
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
		break;
	default:
		return -EINVAL;
	}
	tfd = kmalloc(sizeof(*tfd));
	if (!tfd)
		return -ENOMEM;
	*tfd = (struct timerfd){.clock = clockid};
	ktimer_init(&tfd->timer, timerfd_fire);
	waitq_init(&tfd->wq);
	f = file_new(&timerfd_ops, O_RDWR | (flags & TFD_NONBLOCK), tfd);
	if (!f) {
		kfree(tfd);
		return -ENOMEM;
	}
	fd = fd_install(0, f, (flags & TFD_CLOEXEC) != 0);
	file_put(f); /* the descriptor holds it now, or nothing does */
	return fd;
}

/*
 * Linux's checks in Linux's order. One difference: the old setting is
 * written before the new one takes effect, so that a bad old pointer
 * (EFAULT) changes nothing, where Linux has already re-armed the timer.
 */
SYSCALL_DEFINE4(timerfd_settime, int, fd, int, flags, uint64_t, unew, uint64_t, uold)
{
	struct k_itimerspec its, old;
	uint64_t value, interval;
	struct timerfd *tfd;
	long err;

	if (app_copy_from(&its, unew, sizeof(its)))
		return -EFAULT;
	if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -EINVAL;
	if (time_timespec_ns(&its.value, &value) || time_timespec_ns(&its.interval, &interval))
		return -EINVAL;
	err = timerfd_lookup(fd, &tfd);
	if (err)
		return err;
	if (uold) {
		old = timerfd_current(tfd);
		if (app_copy_to(uold, &old, sizeof(old)))
			return -EFAULT;
	}
	timerfd_set(tfd, flags, value, interval);
	return 0;
}

SYSCALL_DEFINE2(timerfd_gettime, int, fd, uint64_t, ucur)
{
	struct k_itimerspec cur;
	struct timerfd *tfd;
	long err = timerfd_lookup(fd, &tfd);

	if (err)
		return err;
	cur = timerfd_current(tfd);
	return app_copy_to(ucur, &cur, sizeof(cur)) ? -EFAULT : 0;
}
