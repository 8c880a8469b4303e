/*
 * wait - the one wait queue every blocking call uses.
 *
 * An object something can wait for (a pipe, the console, an eventfd, an
 * epoll instance, the futex words) owns a struct waitq. Whoever waits puts
 * a struct wait_entry on it; the object calls waitq_wake() whenever its
 * state changes. What a wake means is the entry's callback: a blocked
 * thread's entry (kernel/thread.h, thread_wait_on) makes the thread
 * runnable so that its syscall runs again and either completes or waits
 * again (Nanos' blockq; xv6's sleep/wakeup on a channel, as a list); an
 * epoll interest's entry (fs/epoll.c) marks the interest ready.
 *
 * A struct poll_table is how a file's poll operation names the queues a
 * waiter should join without knowing who waits: poll_wait(pt, wq) hands wq
 * to the table's callback (thread_wait_on for poll/select and blocking
 * reads, the interest's own entry for epoll); pt may be NULL when the
 * caller only wants the events.
 *
 * Pure data structure: no allocation, no locking (the kernel is not
 * preempted and runs on one CPU; see docs/architecture.md). Host-tested.
 */
#pragma once

#include <stddef.h>

struct waitq;
struct wait_entry;

/* Called by waitq_wake with the events that woke the queue (POLL* bits, or
 * 0: "something changed"). The entry is still queued; the callback may
 * remove it, or any other entry. */
typedef void (*wait_fn)(struct wait_entry *e, unsigned events);

struct wait_entry {
	struct wait_entry *prev, *next;
	struct waitq *wq; /* the queue it is on, NULL when on none */
	wait_fn wake;
	void *owner; /* the callback's: a thread, an epoll interest */
};

struct waitq {
	struct wait_entry *head, *tail;
};

#define WAITQ_INIT                                                                                 \
	{                                                                                          \
		NULL, NULL                                                                         \
	}

static inline void waitq_init(struct waitq *wq)
{
	wq->head = wq->tail = NULL;
}

static inline void wait_entry_init(struct wait_entry *e, wait_fn wake, void *owner)
{
	*e = (struct wait_entry){.wake = wake, .owner = owner};
}

static inline int waitq_empty(const struct waitq *wq)
{
	return !wq->head;
}

/* Appends e (which must be on no queue: panic otherwise) to wq. O(1). */
void waitq_add(struct waitq *wq, struct wait_entry *e);
/* Takes e off its queue; nothing happens when it is on none. O(1). */
void waitq_remove(struct wait_entry *e);
/*
 * waitq_wake - calls the wake callback of every entry that is on wq when
 * the call starts, in queue order, with events. Entries a callback adds are
 * not called in this pass; entries a callback removes are not called any
 * more. Returns how many callbacks ran.
 */
int waitq_wake(struct waitq *wq, unsigned events);
/*
 * waitq_release - before the memory that holds wq is freed: wakes every
 * entry (with events 0) and takes off any entry still queued after its
 * callback, so that no waiter keeps a pointer into freed memory. (A thread
 * of the app blocked on a descriptor that another thread closes is woken
 * here; its retry finds EBADF.)
 */
void waitq_release(struct waitq *wq);

struct poll_table {
	void (*queue)(struct poll_table *pt, struct waitq *wq);
};

/* In a file's poll operation: the waiter behind pt (if any) waits on wq. */
static inline void poll_wait(struct poll_table *pt, struct waitq *wq)
{
	if (pt)
		pt->queue(pt, wq);
}
