/*
 * Deferred work (see defer.h): a FIFO of raised items, threaded through the
 * items themselves, so raising takes no memory and never fails.
 *
 * Raising also sets thread_exit_work, the flag the syscall exit tests on
 * its fast path: that is what makes work raised in a syscall run at the
 * end of that syscall.
 */
#include "kernel/defer.h"

#include <stddef.h>

#include "kernel/spinlock.h"
#include "kernel/thread.h"

/* The pending list and the items' pending flags: raised from any CPU,
 * run by the holder of the kernel lock. */
static struct spinlock lock = SPINLOCK_INIT("deferred work", LOCK_DEFER);
static struct deferred *head, **tail = &head;
static struct deferred *items; /* those with a live callback */
static int running;

void defer_init(struct deferred *d, defer_fn fn, defer_live_fn live)
{
	*d = (struct deferred){.fn = fn, .live = live};
	if (live) {
		d->next_item = items;
		items = d;
	}
}

void defer_raise(struct deferred *d)
{
	unsigned long flags = spin_lock_irqsave(&lock);

	if (!d->pending) {
		d->pending = 1;
		d->next = NULL;
		__atomic_store_n(tail, d, __ATOMIC_RELAXED);
		tail = &d->next;
		__atomic_store_n(&thread_exit_work, 1, __ATOMIC_RELAXED);
	}
	spin_unlock_irqrestore(&lock, flags);
}

int defer_pending(void)
{
	return __atomic_load_n(&head, __ATOMIC_RELAXED) != NULL;
}

void defer_run(void)
{
	if (running)
		return;
	running = 1;
	for (int pass = 0; pass < DEFER_PASSES && head; pass++) {
		/* This round: what is pending now; what it raises is the next. */
		unsigned long flags = spin_lock_irqsave(&lock);
		struct deferred *list = head;
		head = NULL;
		tail = &head;
		spin_unlock_irqrestore(&lock, flags);
		while (list) {
			struct deferred *d = list;
			/* Raised again from here on, it goes on the next round's
			 * list: its work then sees what that raiser did. */
			flags = spin_lock_irqsave(&lock);
			list = d->next;
			d->next = NULL;
			d->pending = 0;
			spin_unlock_irqrestore(&lock, flags);
			d->fn(d);
		}
	}
	running = 0;
	if (defer_pending())
		thread_exit_work = 1;
}

int defer_sources_live(void)
{
	for (struct deferred *d = items; d; d = d->next_item) {
		if (d->live(d))
			return 1;
	}
	return 0;
}
