/*
 * threads - musl pthreads on Solo's threads (kernel/thread.c): mutexes,
 * condition variables, semaphores, join values, TLS, tids, sleeps that
 * overlap, a spin that only preemption ends, the FPU kept per thread, the
 * thread table's limit and slot reuse, signals to a thread, fork still
 * ENOSYS. Prints "threads: ok NAME" per check and exits with the number of
 * failures.
 *
 * With the argument "deadlock" it deadlocks two threads instead (each waits
 * for a mutex the other holds): the kernel must end it with status 137.
 * "deadlock-last-cpu" does the same with the thread that waits last pinned
 * to the last CPU and the other to CPU 0, so the boot CPU, idle, must
 * find the deadlock after another CPU's last wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PREFIX "threads"
#include "check.h"

#define NTHREADS 8
#define NINCR	 20000

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- mutex counter */

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add_many(void *arg)
{
	for (int i = 0; i < NINCR; i++) {
		pthread_mutex_lock(&counter_lock);
		long v = counter;
		if ((i & 255) == 0)
			sched_yield(); /* inside the lock: the others must wait on it */
		counter = v + 1;
		pthread_mutex_unlock(&counter_lock);
	}
	return arg;
}

static void mutex_counter(void)
{
	pthread_t t[NTHREADS];
	int ok = 1;

	for (int i = 0; i < NTHREADS; i++)
		ok &= pthread_create(&t[i], NULL, add_many, (void *)(intptr_t)(i * 3)) == 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *ret = NULL;
		ok &= pthread_join(t[i], &ret) == 0 && ret == (void *)(intptr_t)(i * 3);
	}
	CHECK("mutex_counter_and_join_values", ok && counter == (long)NTHREADS * NINCR);
}

/* ---------------------------------------------------------------- condvar ping-pong */

static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int turn, rounds_done[2];

#define ROUNDS 500

static void *ping_pong(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&pp_lock);
		while (turn != me)
			pthread_cond_wait(&pp_cond, &pp_lock);
		rounds_done[me]++;
		turn = !me;
		pthread_cond_broadcast(&pp_cond);
		pthread_mutex_unlock(&pp_lock);
	}
	return NULL;
}

static void condvar_ping_pong(void)
{
	pthread_t a, b;
	int ok = pthread_create(&a, NULL, ping_pong, (void *)0) == 0 &&
		 pthread_create(&b, NULL, ping_pong, (void *)1) == 0;

	ok &= pthread_join(a, NULL) == 0 && pthread_join(b, NULL) == 0;
	CHECK("condvar_ping_pong", ok && rounds_done[0] == ROUNDS && rounds_done[1] == ROUNDS);
}

/* ---------------------------------------------------------------- sleeps overlap */

/* Each sleeper's span, CLOCK_MONOTONIC: overlap is judged from these, not
 * from a wall-clock bound that a loaded host could break. */
static uint64_t sleep_began[4], sleep_ended[4];
static pthread_barrier_t sleepers_ready; /* all four made before any sleeps */

static void *sleep_100ms(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct timespec ts = {0, 100000000};

	pthread_barrier_wait(&sleepers_ready);
	sleep_began[i] = now_ns();
	nanosleep(&ts, NULL);
	sleep_ended[i] = now_ns();
	return NULL;
}

/* Four threads' 100 ms sleeps run at once: some moment lies inside all
 * four (the last to begin began before the first to end ended), and each
 * lasted its 100 ms. A kernel that let one thread sleep at a time fails. */
static void sleeps_overlap(void)
{
	pthread_t t[4];
	int ok = 1;
	uint64_t start = now_ns(), last_began = 0, first_ended = UINT64_MAX;

	pthread_barrier_init(&sleepers_ready, NULL, 4);
	for (int i = 0; i < 4; i++)
		ok &= pthread_create(&t[i], NULL, sleep_100ms, (void *)(intptr_t)i) == 0;
	for (int i = 0; i < 4; i++)
		ok &= pthread_join(t[i], NULL) == 0;
	uint64_t took = now_ns() - start;
	pthread_barrier_destroy(&sleepers_ready);
	for (int i = 0; i < 4; i++) {
		ok &= sleep_ended[i] - sleep_began[i] >= 100000000ull;
		last_began = sleep_began[i] > last_began ? sleep_began[i] : last_began;
		first_ended = sleep_ended[i] < first_ended ? sleep_ended[i] : first_ended;
	}
	printf("threads: four 100 ms sleeps took %llu ms, all four asleep for %lld ms\n",
	       (unsigned long long)(took / 1000000),
	       (long long)((int64_t)(first_ended - last_began) / 1000000));
	CHECK("sleeps_overlap", ok && last_began < first_ended);
}

/* A thread sleeps while another computes: the sleep does not stop it. */
static volatile int sleeper_done;

static void *sleep_then_flag(void *arg)
{
	struct timespec ts = {0, 50000000};
	nanosleep(&ts, NULL);
	sleeper_done = 1;
	return NULL;
}

/* ---------------------------------------------------------------- preemption */

static volatile int spin_flag;

static void *set_flag(void *arg)
{
	spin_flag = 1;
	return NULL;
}

/* The main thread spins without a syscall: only the time slice lets the
 * other thread run and set the flag. */
static void spin_until_flag(void)
{
	pthread_t t;
	uint64_t spins = 0;
	int ok = pthread_create(&t, NULL, set_flag, NULL) == 0;

	while (ok && !spin_flag)
		spins++;
	ok &= pthread_join(t, NULL) == 0;
	CHECK("spin_on_a_flag_set_by_another_thread", ok && spin_flag);

	/* And a sleeper's deadline passes while the main thread spins. */
	ok = pthread_create(&t, NULL, sleep_then_flag, NULL) == 0;
	while (ok && !sleeper_done)
		spins++;
	ok &= pthread_join(t, NULL) == 0;
	CHECK("sleeper_wakes_while_another_thread_spins", ok && sleeper_done);
}

/* ---------------------------------------------------------------- semaphores */

static sem_t items, slots;
static int ring[4], produced_sum, consumed_sum;

#define ITEMS 2000

static void *producer(void *arg)
{
	for (int i = 1; i <= ITEMS; i++) {
		sem_wait(&slots);
		ring[i % 4] = i;
		produced_sum += i;
		sem_post(&items);
	}
	return NULL;
}

static void semaphores(void)
{
	pthread_t t;
	int ok = sem_init(&items, 0, 0) == 0 && sem_init(&slots, 0, 4) == 0 &&
		 pthread_create(&t, NULL, producer, NULL) == 0;

	for (int i = 1; ok && i <= ITEMS; i++) {
		sem_wait(&items);
		consumed_sum += ring[i % 4];
		sem_post(&slots);
	}
	ok &= pthread_join(t, NULL) == 0;
	CHECK("sem_wait_and_sem_post_across_threads",
	      ok && consumed_sum == produced_sum && consumed_sum == ITEMS * (ITEMS + 1) / 2);
}

/* ---------------------------------------------------------------- TLS, tids, FPU */

static __thread int tls_value = 7;
static long tids[NTHREADS];
static int tls_ok[NTHREADS], fpu_ok[NTHREADS];

static void *per_thread(void *arg)
{
	int me = (int)(intptr_t)arg;
	volatile double x = 1.0 + me;
	double sum = 0;

	tids[me] = syscall(SYS_gettid);
	tls_ok[me] = tls_value == 7;
	tls_value = 100 + me;
	for (int i = 0; i < 200; i++) {
		sum += x * 0.5; /* lives in an xmm register across the yields */
		sched_yield();
	}
	tls_ok[me] &= tls_value == 100 + me;
	fpu_ok[me] = sum == 100.0 * (1.0 + me);
	return NULL;
}

static void tls_tids_fpu(void)
{
	pthread_t t[NTHREADS];
	int ok = 1, distinct = 1, tls = 1, fpu = 1;

	tls_value = 1;
	for (int i = 0; i < NTHREADS; i++)
		ok &= pthread_create(&t[i], NULL, per_thread, (void *)(intptr_t)i) == 0;
	for (int i = 0; i < NTHREADS; i++)
		ok &= pthread_join(t[i], NULL) == 0;
	for (int i = 0; i < NTHREADS; i++) {
		tls &= tls_ok[i];
		fpu &= fpu_ok[i];
		distinct &= tids[i] > 1;
		for (int j = 0; j < i; j++)
			distinct &= tids[i] != tids[j];
	}
	CHECK("tls_is_per_thread", ok && tls && tls_value == 1);
	CHECK("gettid_is_distinct_and_main_is_1",
	      ok && distinct && syscall(SYS_gettid) == 1 && getpid() == 1);
	CHECK("fpu_state_is_per_thread", ok && fpu);
}

/* ---------------------------------------------------------------- the table */

static sem_t hold;

static void *wait_on_hold(void *arg)
{
	sem_wait(&hold);
	return arg;
}

/* Fill the table: the 64th thread (the main one counts) is the last. */
static void thread_limit_and_reuse(void)
{
	static pthread_t t[80];
	pthread_attr_t attr;
	int n = 0, err = 0, ok = 1;

	sem_init(&hold, 0, 0);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 16384);
	while (n < 80 && !(err = pthread_create(&t[n], &attr, wait_on_hold, NULL)))
		n++;
	for (int i = 0; i < n; i++)
		sem_post(&hold);
	for (int i = 0; i < n; i++)
		ok &= pthread_join(t[i], NULL) == 0;
	printf("threads: %d threads besides main, then error %d\n", n, err);
	CHECK("clone_is_eagain_when_the_table_is_full", ok && n == 63 && err == EAGAIN);

	/* Slots come back: many more threads than the table holds, in turn. */
	ok = 1;
	for (int i = 0; i < 200; i++) {
		pthread_t one;
		void *ret = NULL;
		ok &= pthread_create(&one, &attr, wait_on_hold, (void *)(intptr_t)i) == 0;
		sem_post(&hold);
		ok &= pthread_join(one, &ret) == 0 && ret == (void *)(intptr_t)i;
	}
	CHECK("slots_are_reused", ok);

	/* Detached threads exit on their own. */
	ok = 1;
	for (int i = 0; i < 100; i++) {
		pthread_t one;
		ok &= pthread_create(&one, &attr, wait_on_hold, NULL) == 0 &&
		      pthread_detach(one) == 0;
		sem_post(&hold);
		sched_yield(); /* it runs and exits: the table does not fill up */
	}
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	CHECK("detached_threads", ok);
	pthread_attr_destroy(&attr);
}

/* ---------------------------------------------------------------- signals, fork */

static volatile int usr1_hits;

static void on_usr1(int sig)
{
	usr1_hits++;
}

static void signal_to_a_thread(void)
{
	pthread_t t;
	struct sigaction sa = {.sa_handler = on_usr1};

	sigaction(SIGUSR1, &sa, NULL);
	sem_init(&hold, 0, 0);
	int ok = pthread_create(&t, NULL, wait_on_hold, NULL) == 0;
	ok &= pthread_kill(t, SIGUSR1) == 0;
	sched_yield();
	sem_post(&hold);
	ok &= pthread_join(t, NULL) == 0;
	CHECK("pthread_kill_reaches_the_app", ok && usr1_hits == 1);
	CHECK("tkill_of_an_exited_thread_is_esrch", errno_of(syscall(SYS_tkill, 9999, 0), ESRCH));
}

static void fork_still_fails(void)
{
	pid_t pid = fork();

	CHECK("fork_is_enosys", errno_of(pid, ENOSYS));
}

/* ---------------------------------------------------------------- deadlock */

static pthread_mutex_t dl_a = PTHREAD_MUTEX_INITIALIZER, dl_b = PTHREAD_MUTEX_INITIALIZER;
static volatile int holds_b;

/* Pins the caller to one CPU: the last one allowed, or CPU 0. */
static void pin_to(int last)
{
	cpu_set_t set, one;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int c = 0; last && c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set))
			cpu = c;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

static int pin_last;

static void *take_b_then_a(void *arg)
{
	if (pin_last)
		pin_to(0);
	pthread_mutex_lock(&dl_b);
	holds_b = 1;
	pthread_mutex_lock(&dl_a);
	printf("threads: survived the deadlock?\n");
	return NULL;
}

static int deadlock(void)
{
	pthread_t t;

	if (pin_last)
		pin_to(1);
	pthread_mutex_lock(&dl_a);
	pthread_create(&t, NULL, take_b_then_a, NULL);
	while (!holds_b)
		sched_yield();
	printf("threads: deadlocking\n");
	fflush(stdout);
	pthread_mutex_lock(&dl_b);
	printf("threads: survived the deadlock\n");
	return 1;
}

/* A raw clone onto an unmapped stack: the child faults on its first
 * stack access (the ret of syscall()) and that ends the app. */
/* The child may run, fault and end the app before clone returns to the
 * parent (a slice can end in between), so the line before clone is the
 * one the test can count on. */
static int bad_stack(void)
{
	printf("threads: cloning onto a bad stack\n");
	fflush(stdout);
	long tid = syscall(SYS_clone,
			   CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			       CLONE_SYSVSEM,
			   (void *)0x1000, NULL, NULL, 0);
	printf("threads: clone onto a bad stack gave %ld\n", tid);
	while (sched_yield() == 0)
		; /* the child runs, faults, and the app ends here */
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "deadlock"))
		return deadlock();
	if (argc > 1 && !strcmp(argv[1], "deadlock-last-cpu")) {
		pin_last = 1;
		return deadlock();
	}
	if (argc > 1 && !strcmp(argv[1], "bad-stack"))
		return bad_stack();
	setvbuf(stdout, NULL, _IONBF, 0);
	mutex_counter();
	condvar_ping_pong();
	sleeps_overlap();
	spin_until_flag();
	semaphores();
	tls_tids_fpu();
	thread_limit_and_reuse();
	signal_to_a_thread();
	fork_still_fails();
	printf("threads: %d failures\n", failures);
	return failures;
}
