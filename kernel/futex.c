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
	uint64_t seq;	   /* arrival order */
	uint64_t deadline; /* monotonic ns; 0: none */
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

/* Whether a record may wait on addr, read without the lock (a shared
 * wake's first look): a record is published, its address first, before
 * its waiter reads the word (wait()), so a waker that changed the word
 * and finds none here has nobody to wake. May say yes for a record just
 * woken or about to be dropped: the look under the lock decides. */
static int anyone_may_wait_on(uint64_t addr)
{
	for (int i = 0, end = records_end(); i < end; i++) {
		if (__atomic_load_n(&waiters[i].thread, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&waiters[i].addr, __ATOMIC_RELAXED) == addr)
			return 1;
	}
	return 0;
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
		w = waiter_of(NULL);
		if (!w)
			return -ENOMEM; /* cannot happen: one record per thread */
		*w = (struct waiter){NULL, uaddr, bitset, next_seq++, deadline, 0, WAITQ_INIT};
		if (w - waiters >= records_used)
			__atomic_store_n(&records_used, (int)(w - waiters) + 1, __ATOMIC_RELEASE);
		/* Published, then the word read, with a full barrier between
		 * (a shared waker's store and look are ordered by its section's
		 * entry): either this read sees the waker's word, or the waker
		 * sees the record (anyone_may_wait_on). */
		__atomic_store_n(&w->thread, self, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		long err = 0;
		if (app_copy_from(&word, uaddr, sizeof(word)))
			err = -EFAULT;
		else if (word != val)
			err = -EAGAIN;
		if (err) {
			__atomic_store_n(&w->thread, NULL, __ATOMIC_RELEASE);
			return err;
		}
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

int futex_end_timed_out_wait(struct thread *t)
{
	struct waiter *w = waiter_of(t);

	/* The retry's order (wait()): a wake first, then a signal, then the
	 * deadline. */
	if (!w || w->woken || !w->deadline || time_now() < w->deadline || signal_pending(t))
		return 0;
	w->thread = NULL;
	return 1;
}

int futex_end_woken_wait(struct thread *t)
{
	struct waiter *w = waiter_of(t);

	if (!w || !w->woken)
		return 0;
	w->thread = NULL;
	return 1;
}

/*
 * On the kernel lock's shared side a call changes the waiters (and the
 * threads it wakes or makes wait, and their timers) under
 * thread_shared_lock; a holder of the kernel lock needs no lock. Without
 * it go the answers that need no change: a wake or requeue with nobody
 * waiting on the word (anyone_may_wait_on), a wait whose word differs.
 * The copies may give the attempt up to the kernel lock (a fault the
 * shared side cannot serve) before anything changed, or, a wait's word
 * under the lock, after a leftover record was cleared and the new one
 * dropped again.
 */
static void waiters_lock(void)
{
	if (syscall_shared())
		thread_shared_lock();
}

static void waiters_unlock(void)
{
	if (syscall_shared())
		thread_shared_unlock();
}

SYSCALL_DEFINE6(futex, uint64_t, uaddr, int, op, uint32_t, val, uint64_t, timeout, uint64_t, uaddr2,
		uint32_t, val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	uint32_t word;
	long ret;

	if (uaddr & 3)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAKE_BITSET:
		if (!val3)
			return -EINVAL;
		/* fall through */
	case FUTEX_WAKE:
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		if (syscall_shared() && !anyone_may_wait_on(uaddr))
			return 0;
		waiters_lock();
		ret = futex_wake(uaddr, cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3,
				 (int)val < 0 ? 0 : (int)val);
		waiters_unlock();
		return ret;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		/* timeout is val2 here: how many to move. */
		if ((uaddr2 & 3) || (int)val < 0 || (int)timeout < 0)
			return -EINVAL;
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		if (cmd == FUTEX_CMP_REQUEUE && word != val3)
			return -EAGAIN;
		if (syscall_shared() && !anyone_may_wait_on(uaddr))
			return 0;
		waiters_lock();
		ret = requeue(uaddr, (int)val, uaddr2, (int)timeout);
		waiters_unlock();
		return ret;
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
		/* A word that differs is the answer at once; so is one that
		 * differs under the lock (wait()). A record this thread left
		 * is cleared there, before a wake could take it for a waiter. */
		if (syscall_shared() && !waiter_of(thread_current())) {
			if (app_copy_from(&word, uaddr, sizeof(word)))
				return -EFAULT;
			if (word != val)
				return -EAGAIN;
			/* The boot CPU would go idle: the kernel lock's way,
			 * which its idling takes anyway, at once. */
			if (!thread_wait_stays_shared())
				return syscall_needs_lock();
		}
		waiters_lock();
		ret = wait(uaddr, val, cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3, deadline,
			   timeout ? -EINTR : -ERESTARTSYS);
		waiters_unlock();
		return ret;
	}
	default:
		return -ENOSYS;
	}
}
