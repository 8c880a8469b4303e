/*
 * Host tests of kernel/wait.c, the one wait queue: order of the wake
 * callbacks, what a callback may do to the queue while it is being woken
 * (remove itself or another entry, add one, add itself again), the count
 * waitq_wake returns, the panic for an entry queued twice, and a
 * randomized run against a reference model (an array in queue order).
 * Every test checks the list's links (forward and backward) as it goes.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "kernel/wait.h"
#include "mm_arena.h"

#define NENTRIES 16

/* What a callback does when it runs. */
enum action {
	ACT_NONE,
	ACT_REMOVE_SELF,
	ACT_REMOVE_OTHER,	/* removes entries[target] */
	ACT_ADD_OTHER,		/* adds entries[target] to the queue being woken (if on none) */
	ACT_READD_SELF,		/* removes itself and adds itself again (to the tail) */
	ACT_ADD_SELF_ELSEWHERE, /* removes itself and adds itself to other_wq */
};

static struct wait_entry entries[NENTRIES];
static enum action actions[NENTRIES];
static int targets[NENTRIES];
static struct waitq *woken_wq; /* the queue being woken: where ACT_ADD_OTHER adds */
static struct waitq other_wq;

static int calls[4 * NENTRIES]; /* the entries called, in order */
static int ncalls;
static unsigned last_events;

static int index_of(const struct wait_entry *e)
{
	return (int)(e - entries);
}

static void record(struct wait_entry *e, unsigned events)
{
	int i = index_of(e);

	cr_assert_eq(e->owner, &entries[i], "the owner pointer is the callback's");
	cr_assert_lt(ncalls, (int)(sizeof(calls) / sizeof(calls[0])));
	calls[ncalls++] = i;
	last_events = events;
	/* A callback finds its own entry on the queue being woken. */
	cr_assert_eq(e->wq, woken_wq, "entry %d is not on the queue during its callback", i);
	switch (actions[i]) {
	case ACT_NONE:
		break;
	case ACT_REMOVE_SELF:
		waitq_remove(e);
		break;
	case ACT_REMOVE_OTHER:
		waitq_remove(&entries[targets[i]]);
		break;
	case ACT_ADD_OTHER:
		if (!entries[targets[i]].wq)
			waitq_add(woken_wq, &entries[targets[i]]);
		break;
	case ACT_READD_SELF:
		waitq_remove(e);
		waitq_add(woken_wq, e);
		break;
	case ACT_ADD_SELF_ELSEWHERE:
		waitq_remove(e);
		waitq_add(&other_wq, e);
		break;
	}
}

static void setup(void)
{
	for (int i = 0; i < NENTRIES; i++) {
		wait_entry_init(&entries[i], record, &entries[i]);
		actions[i] = ACT_NONE;
		targets[i] = 0;
	}
	waitq_init(&other_wq);
	woken_wq = NULL;
	ncalls = 0;
	last_events = 0;
}

TestSuite(wait, .init = setup);

/* The entries of wq in order (forward links), checking the backward links,
 * head/tail and every entry's wq on the way. Returns the count. */
static int queue_order(const struct waitq *wq, int *order, int max)
{
	const struct wait_entry *prev = NULL;
	int n = 0;

	for (const struct wait_entry *e = wq->head; e; prev = e, e = e->next) {
		cr_assert_lt(n, max, "the queue does not end (a cycle?)");
		cr_assert_eq(e->prev, prev, "entry %d has a wrong prev link", index_of(e));
		cr_assert_eq(e->wq, wq, "entry %d on the list names another queue", index_of(e));
		order[n++] = index_of(e);
	}
	cr_assert_eq(wq->tail, prev, "tail is not the last entry");
	cr_assert_eq(waitq_empty(wq), n == 0);
	return n;
}

static void assert_queue(const struct waitq *wq, const int *want, int nwant)
{
	int got[NENTRIES + 1];
	int n = queue_order(wq, got, NENTRIES + 1);

	cr_assert_eq(n, nwant, "queue has %d entries, expected %d", n, nwant);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "queue position %d holds %d, expected %d", i, got[i],
			     want[i]);
}

static void assert_calls(const int *want, int nwant)
{
	cr_assert_eq(ncalls, nwant, "%d callbacks ran, expected %d", ncalls, nwant);
	for (int i = 0; i < ncalls; i++)
		cr_assert_eq(calls[i], want[i], "call %d was entry %d, expected %d", i, calls[i],
			     want[i]);
}

static int wake(struct waitq *wq, unsigned events)
{
	woken_wq = wq;
	return waitq_wake(wq, events);
}

/* ---------------------------------------------------------------- add and remove */

Test(wait, a_new_queue_and_entry_are_empty_and_unqueued)
{
	struct waitq wq = WAITQ_INIT, wq2;

	waitq_init(&wq2);
	cr_assert(waitq_empty(&wq));
	cr_assert(waitq_empty(&wq2));
	cr_assert_null(entries[0].wq);
	cr_assert_eq(entries[0].wake, record);
	cr_assert_eq(wake(&wq, 0), 0, "waking an empty queue runs no callback");
	cr_assert_eq(ncalls, 0);
}

Test(wait, add_appends_in_order)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 5; i++)
		waitq_add(&wq, &entries[i]);
	assert_queue(&wq, (int[]){0, 1, 2, 3, 4}, 5);
}

Test(wait, remove_takes_head_middle_and_tail)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 5; i++)
		waitq_add(&wq, &entries[i]);
	waitq_remove(&entries[2]);
	assert_queue(&wq, (int[]){0, 1, 3, 4}, 4);
	waitq_remove(&entries[0]);
	assert_queue(&wq, (int[]){1, 3, 4}, 3);
	waitq_remove(&entries[4]);
	assert_queue(&wq, (int[]){1, 3}, 2);
	waitq_remove(&entries[1]);
	waitq_remove(&entries[3]);
	assert_queue(&wq, NULL, 0);
	for (int i = 0; i < 5; i++) {
		cr_assert_null(entries[i].wq);
		cr_assert_null(entries[i].prev);
		cr_assert_null(entries[i].next);
	}
}

Test(wait, removing_an_unqueued_entry_does_nothing)
{
	struct waitq wq = WAITQ_INIT;

	waitq_add(&wq, &entries[0]);
	waitq_add(&wq, &entries[1]);
	waitq_remove(&entries[5]); /* never queued */
	waitq_remove(&entries[1]);
	waitq_remove(&entries[1]); /* twice */
	assert_queue(&wq, (int[]){0}, 1);
}

Test(wait, a_removed_entry_can_be_added_again_at_the_tail)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 3; i++)
		waitq_add(&wq, &entries[i]);
	waitq_remove(&entries[0]);
	waitq_add(&wq, &entries[0]);
	assert_queue(&wq, (int[]){1, 2, 0}, 3);
}

Test(wait, an_entry_moves_between_queues)
{
	struct waitq a = WAITQ_INIT, b = WAITQ_INIT;

	waitq_add(&a, &entries[0]);
	waitq_add(&a, &entries[1]);
	waitq_remove(&entries[0]);
	waitq_add(&b, &entries[0]);
	assert_queue(&a, (int[]){1}, 1);
	assert_queue(&b, (int[]){0}, 1);
}

Test(wait, adding_a_queued_entry_panics, .signal = SIGABRT)
{
	struct waitq wq = WAITQ_INIT;

	waitq_add(&wq, &entries[0]);
	waitq_add(&wq, &entries[0]);
}

Test(wait, adding_an_entry_queued_on_another_queue_panics, .signal = SIGABRT)
{
	struct waitq a = WAITQ_INIT, b = WAITQ_INIT;

	waitq_add(&a, &entries[0]);
	waitq_add(&b, &entries[0]);
}

/* ---------------------------------------------------------------- wake */

Test(wait, wake_calls_every_entry_in_fifo_order_with_the_events)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 4; i++)
		waitq_add(&wq, &entries[3 - i]);
	cr_assert_eq(wake(&wq, 0x41), 4);
	assert_calls((int[]){3, 2, 1, 0}, 4);
	cr_assert_eq(last_events, 0x41);
	/* The entries stay queued, in the same order. */
	assert_queue(&wq, (int[]){3, 2, 1, 0}, 4);
	ncalls = 0;
	cr_assert_eq(wake(&wq, 0), 4, "a second wake calls them all again");
	assert_calls((int[]){3, 2, 1, 0}, 4);
	cr_assert_eq(last_events, 0);
}

Test(wait, wake_leaves_other_queues_alone)
{
	struct waitq a = WAITQ_INIT, b = WAITQ_INIT;

	waitq_add(&a, &entries[0]);
	waitq_add(&b, &entries[1]);
	cr_assert_eq(wake(&a, 1), 1);
	assert_calls((int[]){0}, 1);
	assert_queue(&b, (int[]){1}, 1);
}

Test(wait, a_callback_that_removes_itself_is_gone_afterwards)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 3; i++)
		waitq_add(&wq, &entries[i]);
	actions[1] = ACT_REMOVE_SELF;
	cr_assert_eq(wake(&wq, 1), 3);
	assert_calls((int[]){0, 1, 2}, 3);
	assert_queue(&wq, (int[]){0, 2}, 2);
	cr_assert_null(entries[1].wq);
}

Test(wait, every_callback_removing_itself_empties_the_queue)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 4; i++) {
		waitq_add(&wq, &entries[i]);
		actions[i] = ACT_REMOVE_SELF;
	}
	cr_assert_eq(wake(&wq, 1), 4);
	assert_calls((int[]){0, 1, 2, 3}, 4);
	assert_queue(&wq, NULL, 0);
}

Test(wait, an_entry_removed_before_its_turn_is_not_called)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 4; i++)
		waitq_add(&wq, &entries[i]);
	actions[0] = ACT_REMOVE_OTHER;
	targets[0] = 2;
	cr_assert_eq(wake(&wq, 1), 3, "the count is of callbacks that ran");
	assert_calls((int[]){0, 1, 3}, 3);
	assert_queue(&wq, (int[]){0, 1, 3}, 3);
	cr_assert_null(entries[2].wq);
}

Test(wait, removing_the_last_pending_entry_ends_the_pass)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 3; i++)
		waitq_add(&wq, &entries[i]);
	actions[1] = ACT_REMOVE_OTHER;
	targets[1] = 2;
	cr_assert_eq(wake(&wq, 1), 2);
	assert_calls((int[]){0, 1}, 2);
	assert_queue(&wq, (int[]){0, 1}, 2);
}

Test(wait, an_entry_already_called_can_be_removed_by_a_later_callback)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 3; i++)
		waitq_add(&wq, &entries[i]);
	actions[2] = ACT_REMOVE_OTHER;
	targets[2] = 0;
	cr_assert_eq(wake(&wq, 1), 3);
	assert_calls((int[]){0, 1, 2}, 3);
	assert_queue(&wq, (int[]){1, 2}, 2);
}

Test(wait, an_entry_added_by_a_callback_waits_for_the_next_wake)
{
	struct waitq wq = WAITQ_INIT;

	waitq_add(&wq, &entries[0]);
	waitq_add(&wq, &entries[1]);
	actions[0] = ACT_ADD_OTHER;
	targets[0] = 7;
	cr_assert_eq(wake(&wq, 1), 2);
	assert_calls((int[]){0, 1}, 2);
	/* Queued behind the entries called before it was added, ahead of
	 * those called after. */
	assert_queue(&wq, (int[]){0, 7, 1}, 3);
	ncalls = 0;
	cr_assert_eq(wake(&wq, 1), 3);
	assert_calls((int[]){0, 7, 1}, 3);
}

Test(wait, a_callback_that_adds_itself_again_is_called_once)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 3; i++)
		waitq_add(&wq, &entries[i]);
	actions[0] = ACT_READD_SELF;
	cr_assert_eq(wake(&wq, 1), 3);
	assert_calls((int[]){0, 1, 2}, 3);
	/* Re-added at the tail of the queue as it was then: behind the
	 * entries already called, ahead of those still to call. */
	assert_queue(&wq, (int[]){0, 1, 2}, 3);
}

Test(wait, a_callback_can_move_its_entry_to_another_queue)
{
	struct waitq wq = WAITQ_INIT;

	for (int i = 0; i < 3; i++)
		waitq_add(&wq, &entries[i]);
	actions[1] = ACT_ADD_SELF_ELSEWHERE;
	cr_assert_eq(wake(&wq, 1), 3);
	assert_calls((int[]){0, 1, 2}, 3);
	assert_queue(&wq, (int[]){0, 2}, 2);
	assert_queue(&other_wq, (int[]){1}, 1);
}

static struct wait_entry *add_twice_target;

static void add_queued(struct wait_entry *e, unsigned events)
{
	(void)e;
	(void)events;
	waitq_add(woken_wq, add_twice_target); /* still pending in this pass */
}

Test(wait, a_callback_adding_an_entry_still_pending_in_the_pass_panics, .signal = SIGABRT)
{
	struct waitq wq = WAITQ_INIT;

	wait_entry_init(&entries[0], add_queued, NULL);
	waitq_add(&wq, &entries[0]);
	waitq_add(&wq, &entries[1]);
	add_twice_target = &entries[1];
	wake(&wq, 1);
}

/* ---------------------------------------------------------------- poll_wait */

static int queue_calls;
static struct waitq *queued_on;

static void table_queue(struct poll_table *pt, struct waitq *wq)
{
	(void)pt;
	queue_calls++;
	queued_on = wq;
}

Test(wait, poll_wait_hands_the_queue_to_the_table)
{
	struct waitq wq = WAITQ_INIT;
	struct poll_table pt = {table_queue};

	queue_calls = 0;
	poll_wait(&pt, &wq);
	cr_assert_eq(queue_calls, 1);
	cr_assert_eq(queued_on, &wq);
}

Test(wait, poll_wait_with_no_table_does_nothing)
{
	struct waitq wq = WAITQ_INIT;

	queue_calls = 0;
	poll_wait(NULL, &wq);
	cr_assert_eq(queue_calls, 0);
	cr_assert(waitq_empty(&wq));
}

/* ---------------------------------------------------------------- randomized */

/*
 * The model: the queue as an array in order. A wake takes a snapshot (the
 * pass); each entry still in the pass moves to the tail of the queue, then
 * its action runs on the model as record() runs it on the real queue.
 */
struct model {
	int q[NENTRIES], nq;
	int pass[NENTRIES], npass;
	int other[NENTRIES], nother;
};

static int find(const int *a, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (a[i] == x)
			return i;
	return -1;
}

static void drop(int *a, int *n, int x)
{
	int at = find(a, *n, x);

	if (at < 0)
		return;
	memmove(&a[at], &a[at + 1], (size_t)(*n - at - 1) * sizeof(*a));
	(*n)--;
}

static void model_remove(struct model *m, int x)
{
	drop(m->q, &m->nq, x);
	drop(m->pass, &m->npass, x);
	drop(m->other, &m->nother, x);
}

static int model_queued(const struct model *m, int x)
{
	return find(m->q, m->nq, x) >= 0 || find(m->pass, m->npass, x) >= 0 ||
	       find(m->other, m->nother, x) >= 0;
}

static int model_wake(struct model *m, int *order)
{
	int n = 0;

	memcpy(m->pass, m->q, (size_t)m->nq * sizeof(int));
	m->npass = m->nq;
	m->nq = 0;
	while (m->npass) {
		int i = m->pass[0];
		drop(m->pass, &m->npass, i);
		m->q[m->nq++] = i;
		order[n++] = i;
		switch (actions[i]) {
		case ACT_NONE:
			break;
		case ACT_REMOVE_SELF:
			model_remove(m, i);
			break;
		case ACT_REMOVE_OTHER:
			model_remove(m, targets[i]);
			break;
		case ACT_ADD_OTHER:
			if (!model_queued(m, targets[i]))
				m->q[m->nq++] = targets[i];
			break;
		case ACT_READD_SELF:
			model_remove(m, i);
			m->q[m->nq++] = i;
			break;
		case ACT_ADD_SELF_ELSEWHERE:
			model_remove(m, i);
			m->other[m->nother++] = i;
			break;
		}
	}
	return n;
}

Test(wait, random_adds_removes_and_wakes_match_a_model)
{
	struct waitq wq = WAITQ_INIT;
	struct model m = {0};
	int order[4 * NENTRIES];

	mm_test_seed(0x5eed0fa11);
	for (int step = 0; step < 20000; step++) {
		int x = (int)mm_test_random_below(NENTRIES);
		switch (mm_test_random_below(4)) {
		case 0:
			if (!entries[x].wq) {
				waitq_add(&wq, &entries[x]);
				m.q[m.nq++] = x;
			}
			break;
		case 1:
			waitq_remove(&entries[x]);
			model_remove(&m, x);
			break;
		case 2: /* the other queue's entries come back to the free pool */
			while (other_wq.head)
				waitq_remove(other_wq.head);
			m.nother = 0;
			break;
		case 3:
			for (int i = 0; i < NENTRIES; i++) {
				actions[i] = (enum action)mm_test_random_below(6);
				targets[i] = (int)mm_test_random_below(NENTRIES);
			}
			unsigned events = (unsigned)mm_test_random();
			ncalls = 0;
			int want = model_wake(&m, order);
			cr_assert_eq(wake(&wq, events), want, "step %d: wrong count", step);
			assert_calls(order, want);
			if (want)
				cr_assert_eq(last_events, events);
			break;
		}
		assert_queue(&wq, m.q, m.nq);
		assert_queue(&other_wq, m.other, m.nother);
		for (int i = 0; i < NENTRIES; i++)
			cr_assert_eq(entries[i].wq != NULL, model_queued(&m, i),
				     "step %d: entry %d queued state differs", step, i);
	}
}
