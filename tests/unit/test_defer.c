/* Deferred work (kernel/defer.c): raising is idempotent, work runs in the
 * order raised, work raised while running runs in the same call up to a
 * bound, and a source's live callback is what the scheduler asks. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>

#include "kernel/defer.h"
#include "kernel/thread.h"

static int order[16], nrun;
static struct deferred a, b, self;
static int self_left;

static void record(struct deferred *d)
{
	order[nrun++] = d == &a ? 1 : d == &b ? 2 : 3;
}

static void raise_again(struct deferred *d)
{
	record(d);
	if (self_left-- > 0)
		defer_raise(d);
}

static int live_answer;
static int live(struct deferred *d)
{
	(void)d;
	return live_answer;
}

static void setup(void)
{
	nrun = 0;
	thread_exit_work = 0;
	defer_run(); /* nothing left from another test */
	nrun = 0;
}

TestSuite(defer, .init = setup);

Test(defer, raising_twice_runs_once)
{
	defer_init(&a, record, NULL);
	defer_raise(&a);
	defer_raise(&a);
	cr_assert(defer_pending());
	cr_assert(thread_exit_work, "the syscall exit must look");
	defer_run();
	cr_assert_eq(nrun, 1);
	cr_assert_not(defer_pending());
}

Test(defer, runs_in_the_order_raised)
{
	defer_init(&a, record, NULL);
	defer_init(&b, record, NULL);
	defer_raise(&b);
	defer_raise(&a);
	defer_run();
	cr_assert_eq(nrun, 2);
	cr_assert_eq(order[0], 2);
	cr_assert_eq(order[1], 1);
}

Test(defer, work_raising_itself_is_bounded_per_call)
{
	defer_init(&self, raise_again, NULL);
	self_left = 100;
	defer_raise(&self);
	defer_run();
	cr_assert_eq(nrun, DEFER_PASSES);
	cr_assert(defer_pending(), "the rest waits for the next call");
	self_left = 0;
	defer_run();
	cr_assert_eq(nrun, DEFER_PASSES + 1);
	cr_assert_not(defer_pending());
}

Test(defer, nothing_pending_runs_nothing)
{
	defer_init(&a, record, NULL);
	defer_run();
	cr_assert_eq(nrun, 0);
}

Test(defer, a_live_source_is_reported)
{
	static struct deferred src;

	defer_init(&src, record, live);
	live_answer = 0;
	cr_assert_not(defer_sources_live());
	live_answer = 1;
	cr_assert(defer_sources_live());
	live_answer = 0;
}

/* Raisers on several CPUs (shared syscalls, an interrupt) and the kernel
 * lock's holder running the work at once: no raise is lost, and each
 * item's last run comes after its last raise, so its work saw it. */
#define RAISERS	       4
#define RAISER_ITEMS   16
#define RAISES_PER_ONE 2000

struct counted {
	struct deferred d; /* first: the function's argument is this */
	unsigned raised, seen;
};

static struct counted counted[RAISERS][RAISER_ITEMS];
static int raisers_done;

static void note_seen(struct deferred *d)
{
	struct counted *c = (struct counted *)d;

	c->seen = __atomic_load_n(&c->raised, __ATOMIC_ACQUIRE);
}

static void *raiser(void *arg)
{
	struct counted *mine = counted[(uintptr_t)arg];

	for (unsigned i = 0; i < RAISES_PER_ONE; i++) {
		struct counted *c = &mine[i % RAISER_ITEMS];
		__atomic_add_fetch(&c->raised, 1, __ATOMIC_RELEASE);
		defer_raise(&c->d);
	}
	return NULL;
}

Test(defer, raises_from_several_cpus_beside_the_run_are_all_seen)
{
	pthread_t t[RAISERS];

	for (unsigned r = 0; r < RAISERS; r++)
		for (unsigned i = 0; i < RAISER_ITEMS; i++)
			defer_init(&counted[r][i].d, note_seen, NULL);
	for (uintptr_t r = 0; r < RAISERS; r++)
		cr_assert_eq(pthread_create(&t[r], NULL, raiser, (void *)r), 0);
	/* The holder's side: run what is pending while the raisers go on. */
	while (__atomic_load_n(&raisers_done, __ATOMIC_RELAXED) < 1) {
		defer_run();
		unsigned finished = 0;
		for (unsigned r = 0; r < RAISERS; r++)
			finished +=
			    __atomic_load_n(&counted[r][RAISER_ITEMS - 1].raised,
					    __ATOMIC_RELAXED) == RAISES_PER_ONE / RAISER_ITEMS;
		if (finished == RAISERS)
			raisers_done = 1;
	}
	for (unsigned r = 0; r < RAISERS; r++)
		pthread_join(t[r], NULL);
	while (defer_pending())
		defer_run();
	for (unsigned r = 0; r < RAISERS; r++)
		for (unsigned i = 0; i < RAISER_ITEMS; i++) {
			struct counted *c = &counted[r][i];
			cr_assert_eq(c->raised, RAISES_PER_ONE / RAISER_ITEMS);
			cr_assert_eq(c->seen, c->raised, "raiser %u item %u: its work saw %u of %u",
				     r, i, c->seen, c->raised);
			cr_assert_not(c->d.pending);
		}
}
