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

#include "kernel/thread.h"

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
	if (d->pending)
		return;
	d->pending = 1;
	d->next = NULL;
	*tail = d;
	tail = &d->next;
	thread_exit_work = 1;
}

int defer_pending(void)
{
	return head != NULL;
}

void defer_run(void)
{
	if (running)
		return;
	running = 1;
	for (int pass = 0; pass < DEFER_PASSES && head; pass++) {
		/* This round: what is pending now; what it raises is the next. */
		struct deferred *list = head;
		head = NULL;
		tail = &head;
		while (list) {
			struct deferred *d = list;
			list = d->next;
			d->next = NULL;
			d->pending = 0;
			d->fn(d);
		}
	}
	running = 0;
	if (head)
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
