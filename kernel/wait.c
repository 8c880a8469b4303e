/* The wait queue (see wait.h): a doubly linked list of entries. */
#include "kernel/wait.h"

#include "kernel/panic.h"

void waitq_add(struct waitq *wq, struct wait_entry *e)
{
	if (e->wq)
		panic("waitq_add: entry %p is queued already", (void *)e);
	e->wq = wq;
	e->next = NULL;
	e->prev = wq->tail;
	if (wq->tail)
		wq->tail->next = e;
	else
		wq->head = e;
	wq->tail = e;
}

void waitq_remove(struct wait_entry *e)
{
	struct waitq *wq = e->wq;

	if (!wq)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		wq->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		wq->tail = e->prev;
	e->prev = e->next = NULL;
	e->wq = NULL;
}

int waitq_wake(struct waitq *wq, unsigned events)
{
	struct waitq pass = WAITQ_INIT;
	struct wait_entry *e;
	int woken = 0;

	/*
	 * The entries to call move to a private list first; each goes back
	 * to wq right before its callback. A callback then finds every entry
	 * where waitq_remove can take it off (its e->wq is right), entries
	 * added meanwhile are not in this pass, and removed ones are gone.
	 */
	while ((e = wq->head)) {
		waitq_remove(e);
		waitq_add(&pass, e);
	}
	while ((e = pass.head)) {
		waitq_remove(e);
		waitq_add(wq, e);
		e->wake(e, events);
		woken++;
	}
	return woken;
}

void waitq_release(struct waitq *wq)
{
	waitq_wake(wq, 0);
	while (wq->head)
		waitq_remove(wq->head);
}
