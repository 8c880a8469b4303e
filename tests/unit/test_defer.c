/* Deferred work (kernel/defer.c): raising is idempotent, work runs in the
 * order raised, work raised while running runs in the same call up to a
 * bound, and a source's live callback is what the scheduler asks. */
#include <criterion/criterion.h>

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
