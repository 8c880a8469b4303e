/*
 * futex (see futex.h). One waiter record per waiting thread, each with a
 * wait queue of its own that only its thread waits on: a wake picks
 * waiters by address and bitset, marks them woken and wakes their queue;
 * a requeue just changes the address. THREAD_MAX records (an app has at
 * most that many waiters), scanned up to the highest one used.
 */
#include "kernel/futex.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/futex.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/thread.h"
#include "kernel/time.h"

struct waiter {
	struct thread *thread; /* NULL: a free record */
	uint64_t addr;	       /* 0 once woken */
	uint32_t bitset;
	uint64_t seq; /* arrival order */
	int woken;
	struct waitq wq;
};

static struct waiter waiters[THREAD_MAX];
/* Records [0, records_used) have been used: the scans stop there (a new
 * waiter takes the lowest free record). Only grows; read by shared calls
 * without the kernel lock. */
static int records_used;
static uint64_t next_seq;

static int records_end(void)
{
	return __atomic_load_n(&records_used, __ATOMIC_ACQUIRE);
}

/* t's record, or with t NULL a free one. */
static struct waiter *waiter_of(struct thread *t)
{
	for (int i = 0, end = t ? records_end() : THREAD_MAX; i < end; i++) {
		if (waiters[i].thread == t)
			return &waiters[i];
	}
	return NULL;
}

/* The oldest waiter on addr not yet woken whose bitset meets bitset. */
static struct waiter *oldest_on(uint64_t addr, uint32_t bitset)
{
	struct waiter *best = NULL;

	for (int i = 0, end = records_end(); i < end; i++) {
		struct waiter *w = &waiters[i];
		if (w->thread && !w->woken && w->addr == addr && (w->bitset & bitset) &&
		    (!best || w->seq < best->seq))
			best = w;
	}
	return best;
}

long futex_wake(uint64_t uaddr, uint32_t bitset, long n)
{
	long woken = 0;
	struct waiter *w;

	while (woken < n && (w = oldest_on(uaddr, bitset))) {
		w->woken = 1;
		waitq_wake(&w->wq, 0);
		woken++;
	}
	return woken;
}

static long requeue(uint64_t uaddr, long n, uint64_t uaddr2, long n2)
{
	long done = futex_wake(uaddr, FUTEX_BITSET_MATCH_ANY, n);
	struct waiter *w;

	for (long moved = 0; moved < n2 && (w = oldest_on(uaddr, FUTEX_BITSET_MATCH_ANY));
	     moved++, done++)
		w->addr = uaddr2;
	return done;
}

/*
 * A shared syscall's futex (kernel/syscall.h): the waiters are read-only
 * there, and a holder's wait (word check, then queuing) runs wholly before
 * or after it. So a wake that finds no waiter is done (whoever waits
 * later sees the word its caller changed), and so is a wait whose word
 * differs. Anything else is the locked run's: a wake of a thread, a wait,
 * a requeue.
 */
static long futex_shared(int cmd, uint64_t uaddr, uint32_t val, uint64_t timeout, uint32_t val3)
{
	uint32_t word;
	uint64_t ns;

	switch (cmd) {
	case FUTEX_WAKE_BITSET:
	case FUTEX_WAKE:
		if ((cmd == FUTEX_WAKE_BITSET && !val3) || (int)val <= 0 ||
		    oldest_on(uaddr, cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3))
			break;
		if (app_copy_from(&word, uaddr, sizeof(word)))
			break;
		return 0;
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		/* A record left by this thread's earlier wait is the locked
		 * run's to clear. */
		if ((cmd == FUTEX_WAIT_BITSET && !val3) || waiter_of(thread_current()))
			break;
		/* A bad timeout is the answer before the word is (Linux's
		 * order); its copy may also give up the attempt. */
		if (timeout) {
			int err = time_copy_timespec(timeout, &ns);
			if (err)
				return err;
		}
		if (app_copy_from(&word, uaddr, sizeof(word)) || word == val)
			break;
		return -EAGAIN;
	}
	return syscall_needs_lock();
}

/* The wait itself; deadline 0: none. A retry (the thread's record exists)
 * ends with 0 after a wake, else with what thread_wait says. */
static long wait(uint64_t uaddr, uint32_t val, uint32_t bitset, uint64_t deadline, long restart)
{
	struct thread *self = thread_current();
	struct waiter *w = waiter_of(self);
	uint32_t word;

	if (w && !thread_wait_progress()) {
		w->thread = NULL; /* left over from a call that ended otherwise */
		w = NULL;
	}
	if (!w) {
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		if (word != val)
			return -EAGAIN;
		w = waiter_of(NULL);
		if (!w)
			return -ENOMEM; /* cannot happen: one record per thread */
		*w = (struct waiter){self, uaddr, bitset, next_seq++, 0, WAITQ_INIT};
		if (w - waiters >= records_used)
			__atomic_store_n(&records_used, (int)(w - waiters) + 1, __ATOMIC_RELEASE);
		thread_set_wait_progress(1);
	} else if (w->woken) {
		w->thread = NULL;
		return 0;
	}
	long err = thread_wait_on(&w->wq);
	if (!err)
		err = thread_wait(deadline, restart, "futex wait", w->addr ? w->addr : uaddr);
	if (err != -EWAITING)
		w->thread = NULL;
	return err;
}

SYSCALL_DEFINE6(futex, uint64_t, uaddr, int, op, uint32_t, val, uint64_t, timeout, uint64_t, uaddr2,
		uint32_t, val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	uint32_t word;

	if (uaddr & 3)
		return -EINVAL;
	if (syscall_shared())
		return futex_shared(cmd, uaddr, val, timeout, val3);
	switch (cmd) {
	case FUTEX_WAKE_BITSET:
		if (!val3)
			return -EINVAL;
		/* fall through */
	case FUTEX_WAKE:
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		return futex_wake(uaddr, cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3,
				  (int)val < 0 ? 0 : (int)val);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		/* timeout is val2 here: how many to move. */
		if ((uaddr2 & 3) || (int)val < 0 || (int)timeout < 0)
			return -EINVAL;
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		if (cmd == FUTEX_CMP_REQUEUE && word != val3)
			return -EAGAIN;
		return requeue(uaddr, (int)val, uaddr2, (int)timeout);
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		uint64_t deadline = 0;
		if (cmd == FUTEX_WAIT_BITSET && !val3)
			return -EINVAL;
		if (timeout) {
			uint64_t ns;
			int err = time_copy_timespec(timeout, &ns);
			if (err)
				return err;
			/* FUTEX_WAIT's timeout is relative; the BITSET one is
			 * absolute, on the realtime clock when asked. */
			if (cmd == FUTEX_WAIT)
				deadline = thread_wait_deadline(ns);
			else
				deadline = time_clock_deadline(
				    (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC,
				    ns);
			if (!deadline)
				deadline = 1; /* already passed */
		}
		return wait(uaddr, val, cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3, deadline,
			    timeout ? -EINTR : -ERESTARTSYS);
	}
	default:
		return -ENOSYS;
	}
}
