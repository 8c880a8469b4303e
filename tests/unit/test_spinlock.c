/*
 * Host tests of kernel/spinlock.c in its checking build: locks taken in the
 * written order pass and leave the (simulated) interrupt flag off while
 * held and as it was after; a lock taken out of order, two of one class
 * nested, a lock taken twice and too many held are reported with both
 * locks' names (through the test hook, then for real: panic aborts);
 * trylock; releasing a lock not held; and mutual exclusion between host
 * threads, each playing a CPU, on a counter that is not atomic.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "kernel/spinlock.h"

static jmp_buf violation_jmp;
static char violation_msg[200];

static void catch_violation(const char *msg)
{
	strncpy(violation_msg, msg, sizeof(violation_msg) - 1);
	longjmp(violation_jmp, 1);
}

static void setup(void)
{
	spin_violation_hook = catch_violation;
	violation_msg[0] = 0;
	spin_host_reset();
	spin_host_irqs_on = 1;
	spin_host_cpu = 0;
}

TestSuite(spinlock, .init = setup);

static struct spinlock threads_l = SPINLOCK_INIT("threads", LOCK_THREADS);
static struct spinlock inode_l = SPINLOCK_INIT("inode", LOCK_INODE);
static struct spinlock inode2_l = SPINLOCK_INIT("inode2", LOCK_INODE);
static struct spinlock waitq_l = SPINLOCK_INIT("waitq", LOCK_WAITQ);
static struct spinlock call_l = SPINLOCK_INIT("smp call queue", LOCK_SMP_CALL);

/* Whether taking `second` while holding `first` is reported; the message. */
static int nested_violates(struct spinlock *first, struct spinlock *second)
{
	unsigned long f1 = spin_lock_irqsave(first);
	int caught = 0;

	if (setjmp(violation_jmp) == 0) {
		unsigned long f2 = spin_lock_irqsave(second);
		spin_unlock_irqrestore(second, f2);
	} else {
		caught = 1;
		/* The report comes before the spin: the lock was not taken. */
		if (second != first)
			cr_assert(!spin_is_held_by_me(second));
	}
	spin_host_reset();
	spin_host_irqs_on = 1;
	first->locked = 0; /* the held stack was forgotten: free it by hand */
	first->owner = 0;
	(void)f1;
	return caught;
}

Test(spinlock, right_order_passes_with_interrupts_off_while_held)
{
	unsigned long f1 = spin_lock_irqsave(&threads_l);
	cr_assert_eq(spin_host_irqs_on, 0);
	unsigned long f2 = spin_lock_irqsave(&inode_l);
	unsigned long f3 = spin_lock_irqsave(&waitq_l);
	unsigned long f4 = spin_lock_irqsave(&call_l);
	cr_assert(spin_is_held_by_me(&threads_l) && spin_is_held_by_me(&call_l));
	cr_assert(!spin_is_held_by_me(&inode2_l));
	spin_unlock_irqrestore(&call_l, f4);
	spin_unlock_irqrestore(&waitq_l, f3);
	spin_unlock_irqrestore(&inode_l, f2);
	cr_assert_eq(spin_host_irqs_on, 0, "still off: the outer lock is held");
	spin_unlock_irqrestore(&threads_l, f1);
	cr_assert_eq(spin_host_irqs_on, 1, "back on after the outermost release");
	cr_assert(!spin_is_held_by_me(&threads_l));
	cr_assert_eq(threads_l.locked, 0);
	cr_assert_str_empty(violation_msg);
}

Test(spinlock, release_out_of_order_then_take_again)
{
	unsigned long f1 = spin_lock_irqsave(&threads_l);
	unsigned long f2 = spin_lock_irqsave(&waitq_l);
	spin_unlock_irqrestore(&threads_l, f2); /* outer first: allowed */
	cr_assert(!spin_is_held_by_me(&threads_l));
	cr_assert(spin_is_held_by_me(&waitq_l));
	/* Only waitq is held now: inode is outside it, so still refused... */
	if (setjmp(violation_jmp) == 0) {
		spin_lock_irqsave(&inode_l);
		cr_assert_fail("inode taken inside waitq");
	}
	cr_assert_str_eq(violation_msg, "spin_lock: order: taking inode while holding waitq");
	/* ...and the smp call queue, inside it, is fine. */
	unsigned long f3 = spin_lock_irqsave(&call_l);
	spin_unlock_irqrestore(&call_l, f3);
	spin_unlock_irqrestore(&waitq_l, f1);
	cr_assert_eq(spin_host_irqs_on, 1);
}

Test(spinlock, wrong_order_names_both_locks)
{
	cr_assert(nested_violates(&waitq_l, &inode_l));
	cr_assert_str_eq(violation_msg, "spin_lock: order: taking inode while holding waitq");
	cr_assert(nested_violates(&call_l, &threads_l));
	cr_assert_str_eq(violation_msg,
			 "spin_lock: order: taking threads while holding smp call queue");
}

Test(spinlock, one_class_never_nests)
{
	cr_assert(nested_violates(&inode_l, &inode2_l));
	cr_assert_str_eq(violation_msg, "spin_lock: order: taking inode2 while holding inode");
}

Test(spinlock, recursion_is_caught)
{
	cr_assert(nested_violates(&waitq_l, &waitq_l));
	cr_assert_str_eq(violation_msg, "spin_lock: recursion: taking waitq while holding waitq");
}

Test(spinlock, too_many_held)
{
	static struct spinlock l[LOCK_CLASS_COUNT];
	unsigned long f[LOCK_CLASS_COUNT];
	unsigned c;

	cr_assert_gt(LOCK_CLASS_COUNT - 1, SPIN_HELD_MAX, "enough classes to overflow");
	for (c = 1; c < LOCK_CLASS_COUNT; c++)
		spin_init(&l[c], "nth", (enum lock_class)c);
	for (c = 1; c <= SPIN_HELD_MAX; c++)
		f[c] = spin_lock_irqsave(&l[c]);
	if (setjmp(violation_jmp) == 0) {
		spin_lock_irqsave(&l[c]);
		cr_assert_fail("nine locks held");
	}
	cr_assert_str_eq(violation_msg, "spin_lock: more than 8 locks held, taking nth");
	spin_host_reset();
	(void)f;
}

Test(spinlock, trylock)
{
	unsigned long f, g;

	cr_assert_eq(spin_trylock(&inode_l, &f), 1);
	cr_assert_eq(spin_host_irqs_on, 0);
	cr_assert(spin_is_held_by_me(&inode_l));
	/* Held (by this CPU): refused, nothing changed, no report. */
	cr_assert_eq(spin_trylock(&inode_l, &g), 0);
	cr_assert_eq(spin_host_irqs_on, 0);
	cr_assert_str_empty(violation_msg);
	/* A trylocked lock counts for the order of what follows. */
	unsigned long w = spin_lock_irqsave(&waitq_l);
	spin_unlock_irqrestore(&waitq_l, w);
	if (setjmp(violation_jmp) == 0) {
		spin_lock_irqsave(&threads_l);
		cr_assert_fail("threads taken inside inode");
	}
	cr_assert_str_eq(violation_msg, "spin_lock: order: taking threads while holding inode");
	spin_host_reset();
	inode_l.locked = 0;
	inode_l.owner = 0;
	spin_host_irqs_on = 1;
	cr_assert_eq(spin_trylock(&inode_l, &f), 1);
	spin_unlock_irqrestore(&inode_l, f);
	cr_assert_eq(spin_host_irqs_on, 1);
}

/* Without the hook the report is the kernel's panic (the shim aborts). */
Test(spinlock, violation_panics, .signal = SIGABRT)
{
	spin_violation_hook = NULL;
	unsigned long f = spin_lock_irqsave(&waitq_l);
	spin_lock_irqsave(&inode_l);
	(void)f;
}

Test(spinlock, unlock_not_held_panics, .signal = SIGABRT)
{
	spin_unlock_irqrestore(&waitq_l, 1);
}

Test(spinlock, class_none_refused, .signal = SIGABRT)
{
	struct spinlock l;

	spin_init(&l, "bad", LOCK_CLASS_NONE);
}

/* ---------------------------------------------------------------- threads */
#define NTHREADS 4
#define ROUNDS	 200000

static struct spinlock counter_l = SPINLOCK_INIT("counter", LOCK_SELFTEST);
static volatile unsigned long counter;
static int others_saw_held; /* held by another CPU is not held by me */

static void *hammer(void *arg)
{
	spin_host_cpu = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < ROUNDS; i++) {
		unsigned long f = spin_lock_irqsave(&counter_l);
		/* A read, a pause, a write: a lost update shows without the lock. */
		unsigned long v = counter;
		if (!(i & 63))
			__builtin_ia32_pause();
		counter = v + 1;
		spin_unlock_irqrestore(&counter_l, f);
		if (!(i & 1023) && __atomic_load_n(&counter_l.locked, __ATOMIC_RELAXED) &&
		    spin_is_held_by_me(&counter_l))
			__atomic_store_n(&others_saw_held, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(spinlock, threads_exclude_each_other)
{
	pthread_t t[NTHREADS];

	counter = 0;
	for (uintptr_t i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, (void *)(i + 1)), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(counter, (unsigned long)NTHREADS * ROUNDS);
	cr_assert_eq(counter_l.locked, 0);
	cr_assert_eq(others_saw_held, 0, "a lock held by another CPU looked like mine");
}

/* ---------------------------------------------------------------- polling */
/* The kernel lock's hazard: its holder waits for something only the CPU
 * spinning for the lock can do (answer a TLB shootdown). With poll, the
 * waiter answers it while it spins, and both get on. */
static struct spinlock kernel_l = SPINLOCK_INIT("kernel", LOCK_KERNEL);
static int request;  /* the holder's "call", answered by the waiter's poll */
static int answered; /* set by the waiter's poll */
static int polls;
static int holder_has_it;

static void answer_calls(void)
{
	polls++;
	if (__atomic_load_n(&request, __ATOMIC_ACQUIRE))
		__atomic_store_n(&answered, 1, __ATOMIC_RELEASE);
}

static void *holder(void *arg)
{
	(void)arg;
	spin_host_cpu = 1;
	unsigned long f = spin_lock_irqsave(&kernel_l);
	__atomic_store_n(&holder_has_it, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&request, 1, __ATOMIC_RELEASE);
	/* Like smp_call with wait: only the other CPU can end this. */
	while (!__atomic_load_n(&answered, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	spin_unlock_irqrestore(&kernel_l, f);
	return NULL;
}

Test(spinlock, polling_waiter_answers_the_holder)
{
	pthread_t t;

	request = answered = polls = holder_has_it = 0;
	cr_assert_eq(pthread_create(&t, NULL, holder, NULL), 0);
	while (!__atomic_load_n(&holder_has_it, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	unsigned long f = spin_lock_polling(&kernel_l, answer_calls);
	cr_assert_eq(spin_host_irqs_on, 0, "interrupts off while held");
	cr_assert(spin_is_held_by_me(&kernel_l));
	cr_assert_eq(answered, 1, "the waiter answered the holder's call while it spun");
	cr_assert_gt(polls, 0);
	/* The call queue's lock nests inside the kernel lock. */
	unsigned long g = spin_lock_irqsave(&call_l);
	spin_unlock_irqrestore(&call_l, g);
	spin_unlock_irqrestore(&kernel_l, f);
	cr_assert_eq(spin_host_irqs_on, 1);
	pthread_join(t, NULL);
}

Test(spinlock, polling_free_lock_does_not_poll)
{
	polls = 0;
	unsigned long f = spin_lock_polling(&kernel_l, answer_calls);
	cr_assert_eq(polls, 0);
	spin_unlock_irqrestore(&kernel_l, f);
}

Test(spinlock, kernel_lock_is_outermost)
{
	cr_assert(nested_violates(&threads_l, &kernel_l));
	cr_assert_str_eq(violation_msg, "spin_lock: order: taking kernel while holding threads");
	cr_assert(!nested_violates(&kernel_l, &threads_l));
}

/* ---------------------------------------------------------------- handing over */

static void *take_handed_as_cpu_2(void *arg)
{
	unsigned long f;

	spin_host_cpu = 2;
	spin_take_handed(arg, &f);
	cr_assert_eq(spin_host_irqs_on, 0);
	cr_assert(spin_is_held_by_me(arg));
	/* It counts as held for the order of what follows. */
	unsigned long g = spin_lock_irqsave(&call_l);
	spin_unlock_irqrestore(&call_l, g);
	spin_unlock_irqrestore(arg, f);
	return NULL;
}

Test(spinlock, a_handed_over_lock_stays_taken_until_its_cpu_takes_it)
{
	unsigned long f = spin_lock_irqsave(&kernel_l), g;
	pthread_t t;

	spin_hand_over(&kernel_l);
	cr_assert(!spin_is_held_by_me(&kernel_l));
	cr_assert_eq(spin_host_irqs_on, 0, "interrupts stay off: the caller puts them back");
	cr_assert_eq(spin_trylock(&kernel_l, &g), 0, "nobody else takes a handed lock");
	/* Off this CPU's held stack: a lock of any class may be taken now. */
	unsigned long h = spin_lock_irqsave(&threads_l);
	spin_unlock_irqrestore(&threads_l, h);
	cr_assert_str_empty(violation_msg);
	cr_assert_eq(pthread_create(&t, NULL, take_handed_as_cpu_2, &kernel_l), 0);
	pthread_join(t, NULL);
	cr_assert_eq(kernel_l.locked, 0);
	cr_assert_eq(kernel_l.owner, 0);
	(void)f;
}

Test(spinlock, hand_over_of_a_lock_not_held_panics, .signal = SIGABRT)
{
	spin_violation_hook = NULL;
	spin_hand_over(&inode2_l);
}

Test(spinlock, taking_a_lock_nobody_handed_over_panics, .signal = SIGABRT)
{
	unsigned long f;

	spin_violation_hook = NULL;
	spin_take_handed(&inode2_l, &f);
}

/* The kernel lock's protocol (kernel/arch/x86_64/smp.c) between host
 * threads: a waiter announces itself; a releaser that sees one hands the
 * lock to it (whom it is for, published after the hand-over) instead of
 * releasing it; a waiter takes the lock by trylock or, named, as handed.
 * The counter is exact only if the lock never had two holders, and every
 * thread finishes only if no hand-over was lost. */
#define HAND_THREADS 4
#define HAND_ROUNDS  50000

#define HAND_MAX (100 * HAND_ROUNDS)

static struct spinlock handed_l = SPINLOCK_INIT("kernel", LOCK_KERNEL);
static unsigned handed_to; /* CPU + 1 */
static uint64_t hand_waiting;
static unsigned long hand_counter, handovers, hand_rounds[HAND_THREADS + 1];
static pthread_barrier_t hand_start;

static void *hand_hammer(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;

	spin_host_cpu = me;
	pthread_barrier_wait(&hand_start);
	/* On until the hand-overs are many (host threads may take turns
	 * without ever waiting for each other for a while). */
	for (unsigned long i = 0;
	     i < HAND_ROUNDS ||
	     (__atomic_load_n(&handovers, __ATOMIC_RELAXED) < 1000 && i < HAND_MAX);
	     i++) {
		hand_rounds[me]++;
		unsigned long f;
		__atomic_fetch_or(&hand_waiting, 1ull << me, __ATOMIC_SEQ_CST);
		for (unsigned spins = 1;; spins++) {
			if (__atomic_load_n(&handed_to, __ATOMIC_ACQUIRE) == me + 1) {
				__atomic_store_n(&handed_to, 0, __ATOMIC_RELAXED);
				spin_take_handed(&handed_l, &f);
				break;
			}
			if (spin_trylock(&handed_l, &f))
				break;
			/* More threads than host CPUs: the one the lock was
			 * handed to may not be running (a halted CPU, woken by
			 * the IPI, in the kernel). */
			if (!(spins & 63))
				sched_yield();
			else
				__builtin_ia32_pause();
		}
		__atomic_fetch_and(&hand_waiting, ~(1ull << me), __ATOMIC_SEQ_CST);
		unsigned long v = hand_counter;
		if (!(i & 63))
			__builtin_ia32_pause();
		hand_counter = v + 1;
		uint64_t others = __atomic_load_n(&hand_waiting, __ATOMIC_SEQ_CST);
		if (others && (i & 1)) {
			__atomic_fetch_add(&handovers, 1, __ATOMIC_RELAXED);
			spin_hand_over(&handed_l);
			__atomic_store_n(&handed_to, (unsigned)__builtin_ctzll(others) + 1,
					 __ATOMIC_RELEASE);
			spin_host_irqs_on = (int)f;
		} else {
			spin_unlock_irqrestore(&handed_l, f);
		}
	}
	return NULL;
}

Test(spinlock, handing_over_keeps_one_holder_and_loses_nobody)
{
	pthread_t t[HAND_THREADS];
	unsigned long rounds = 0;

	pthread_barrier_init(&hand_start, NULL, HAND_THREADS);
	for (uintptr_t i = 0; i < HAND_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hand_hammer, (void *)(i + 1)), 0);
	for (int i = 0; i < HAND_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 1; i <= HAND_THREADS; i++)
		rounds += hand_rounds[i];
	cr_assert_eq(hand_counter, rounds);
	cr_assert_gt(handovers, 0);
	cr_assert_eq(handed_l.locked, 0);
	cr_assert_eq(handed_to, 0);
}
