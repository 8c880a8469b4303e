/*
 * smp - app threads on several CPUs (kernel/thread.c's scheduler across
 * CPUs), checked from inside the app:
 * - the CPU count agrees everywhere an app looks (sched_getaffinity,
 *   sysconf, /proc/cpuinfo, /proc/stat), printed as "smp: N cpus online";
 * - two threads seen running at the same moment on different CPUs;
 * - sched_setaffinity pins the caller, and moves another thread that
 *   spins, and getcpu (the vDSO's and the syscall) agrees;
 * - a compute job split over one thread per CPU, its result printed
 *   ("smp: compute HEX"; `smp.elf compute` prints the same line from one
 *   thread, on any host: the boot test's oracle);
 * - a futex ping-pong between two threads on two CPUs (rounds: argv[1]);
 * - wakes from every CPU at once on one word wake each waiter once;
 * - threads pinned one to each CPU take turns on one mutex, none stuck;
 * - futex ping-pong pairs, a pair pinned to each CPU, all at once, their
 *   waits with timeouts, beside a thread whose waits only time out; and
 *   waiters requeued from one word to another, each woken once; a storm
 *   of futex calls, mutex and condition variable use, affinity changes and
 *   signals from threads on every CPU loses no wake-up and no count;
 * - threads on every CPU that mmap, fill, check and munmap at once;
 * - a signal to a thread spinning in ring 3 on another CPU arrives;
 * - each CPU's own local APIC timer ends the sleeps and slices there
 *   (/proc/interrupts' LOC line), and an alarm that fires on a CPU left
 *   idle interrupts a sleep on another;
 * - munmap while another thread reads the region (the reader faults and
 *   never sees anything but what was there);
 * - threads pread and read one file at once (the shared syscalls), every
 *   byte right and every record of a shared descriptor read once; and
 *   write one descriptor at once, every record landing whole and once;
 * - pipes across CPUs: a stream through each pair's own pipe (blocking
 *   reads, or epoll), and records of up to PIPE_BUF bytes from every CPU
 *   into one pipe, each whole and in order, each counted once by an
 *   eventfd that a blocked reader takes;
 * - AF_UNIX stream pairs across CPUs, the same streams both ways;
 * - at the end exit while every other thread spins.
 * Needs two CPUs or more (under one, the parallel checks fail). Prints
 * "smp: ok NAME" per check and exits with the number of failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Linux's futex ops (musl has no <linux/futex.h>). */
#define FUTEX_WAIT_PRIVATE	  128
#define FUTEX_WAKE_PRIVATE	  129
#define FUTEX_CMP_REQUEUE_PRIVATE 132

#define CHECK_PREFIX "smp"
#include "check.h"

#define LIMIT_NS 20000000000ull /* a bound, not a measurement */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The raw syscall: the vDSO's answer is not the kernel's yet. */
static unsigned cpu_now(void)
{
	unsigned cpu = ~0u;
	syscall(SYS_getcpu, &cpu, NULL, NULL);
	return cpu;
}

/* The check failed with threads stuck, which cannot be joined: the app
 * ends here, with the reason printed before. */
static _Noreturn void fail_and_end(const char *check)
{
	CHECK(check, 0);
	printf("smp: %d failures\n", failures);
	exit(failures);
}

/* The CLOCK_REALTIME time ns from now (the deadline pthread's timed calls
 * take). */
static struct timespec realtime_after(uint64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns += (uint64_t)ts.tv_nsec;
	ts.tv_sec += (time_t)(ns / 1000000000ull);
	ts.tv_nsec = (long)(ns % 1000000000ull);
	return ts;
}

/* Joins t, or ends the app with the check failed when t is not done
 * within LIMIT_NS: a lost wake-up shows as a named failure, not as the
 * boot's timeout. */
static void join_or_fail(pthread_t t, const char *check, void **ret)
{
	struct timespec by = realtime_after(LIMIT_NS);

	if (pthread_timedjoin_np(t, ret, &by) == 0)
		return;
	printf("smp: a thread of %s not done after %llu s\n", check,
	       (unsigned long long)(LIMIT_NS / 1000000000ull));
	fail_and_end(check);
}

/* ---------------------------------------------------------------- parallel */

static unsigned running_on[2]; /* CPU + 1 while spinning there, 0 before */
static unsigned long ticks[2]; /* each loop of each thread */
static int saw_other[2];

static void *spin_and_look(void *arg)
{
	int me = (int)(intptr_t)arg, other = !me;
	uint64_t end = now_ns() + LIMIT_NS;

	/* Look until this one saw the other... */
	while (now_ns() < end && !__atomic_load_n(&saw_other[me], __ATOMIC_ACQUIRE)) {
		unsigned c = (unsigned)sched_getcpu();
		__atomic_store_n(&running_on[me], c + 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&ticks[me], 1, __ATOMIC_RELEASE);
		unsigned long before = __atomic_load_n(&ticks[other], __ATOMIC_ACQUIRE);
		unsigned o = __atomic_load_n(&running_on[other], __ATOMIC_ACQUIRE);
		for (int i = 0; i < 1000; i++)
			__asm__ volatile("pause");
		/* The other thread made progress on another CPU while this one
		 * stayed on its own: both ran at once. */
		if (o && o != c + 1 && (unsigned)sched_getcpu() == c &&
		    __atomic_load_n(&running_on[other], __ATOMIC_ACQUIRE) == o &&
		    __atomic_load_n(&ticks[other], __ATOMIC_ACQUIRE) != before)
			__atomic_store_n(&saw_other[me], 1, __ATOMIC_RELEASE);
	}
	/* ...then stay visible (and moving) until the other one saw this one. */
	while (now_ns() < end && !__atomic_load_n(&saw_other[other], __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&running_on[me], (unsigned)sched_getcpu() + 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&ticks[me], 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void check_parallel(void)
{
	pthread_t t[2];

	for (intptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spin_and_look, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK("two_threads_run_at_once_on_different_cpus", saw_other[0] && saw_other[1]);
}

/* ---------------------------------------------------------------- the count */

static int ncpus;

static int count_lines(const char *path, const char *prefix, int digit_after)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t k = strlen(prefix);
		if (!strncmp(line, prefix, k) &&
		    (!digit_after || (line[k] >= '0' && line[k] <= '9')))
			n++;
	}
	fclose(f);
	return n;
}

/* The number of CPUs in a Linux CPU list file ("0-3", "0,2-3\n"). */
static int count_cpu_list(const char *path)
{
	char text[256];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f || !fgets(text, sizeof(text), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	for (char *p = text; *p && *p != '\n';) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			return -1;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += (int)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

static void check_cpu_count(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	int got = sched_getaffinity(0, sizeof(set), &set);
	ncpus = CPU_COUNT(&set);
	long conf = sysconf(_SC_NPROCESSORS_ONLN);
	int cpuinfo = count_lines("/proc/cpuinfo", "processor", 0);
	int stat = count_lines("/proc/stat", "cpu", 1);
	int sys = count_cpu_list("/sys/devices/system/cpu/online");
	printf("smp: %d cpus online (sysconf %ld, /proc/cpuinfo %d, /proc/stat %d, /sys %d)\n",
	       ncpus, conf, cpuinfo, stat, sys);
	CHECK("cpu_count_agrees_everywhere", got == 0 && ncpus >= 1 && conf == ncpus &&
						 cpuinfo == ncpus && stat == ncpus && sys == ncpus);
}

/* ---------------------------------------------------------------- affinity */

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

static void unpin(pid_t tid)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < ncpus; c++)
		CPU_SET(c, &set);
	sched_setaffinity(tid, sizeof(set), &set);
}

/* Pinned to each CPU in turn, the caller runs there and nowhere else,
 * across yields and sleeps; a set of no CPU in use is EINVAL. */
static void check_pin_self(void)
{
	int ok = 1;
	struct timespec tick = {0, 1000000};

	for (int c = ncpus - 1; c >= 0; c--) {
		ok &= pin(0, c) == 0;
		for (int i = 0; i < 50 && ok; i++) {
			if (i % 10 == 0)
				nanosleep(&tick, NULL);
			else
				sched_yield();
			ok &= sched_getcpu() == c && (int)cpu_now() == c;
		}
		cpu_set_t back;
		CPU_ZERO(&back);
		ok &= sched_getaffinity(0, sizeof(back), &back) == 0 && CPU_COUNT(&back) == 1 &&
		      CPU_ISSET(c, &back);
	}
	cpu_set_t none;
	CPU_ZERO(&none);
	CPU_SET(63, &none);
	ok &= errno_of(sched_setaffinity(0, sizeof(none), &none), EINVAL);
	unpin(0);
	CHECK("sched_setaffinity_pins_the_caller_and_getcpu_agrees", ok);
}

static volatile int mover_cpu = -1, mover_stop;
static volatile pid_t mover_tid;

static void *spin_and_report(void *arg)
{
	(void)arg;
	mover_tid = (pid_t)syscall(SYS_gettid);
	while (!mover_stop)
		mover_cpu = sched_getcpu();
	return NULL;
}

/* Another thread, spinning in ring 3, is moved by setting its affinity. */
static void check_move_other(void)
{
	pthread_t t;
	int ok = 1;

	pthread_create(&t, NULL, spin_and_report, NULL);
	while (!mover_tid || mover_cpu < 0)
		;
	for (int round = 0; round < 2 * ncpus; round++) {
		int want = (mover_cpu + 1) % ncpus;
		ok &= pin(mover_tid, want) == 0;
		uint64_t end = now_ns() + LIMIT_NS;
		while (mover_cpu != want && now_ns() < end)
			sched_yield();
		ok &= mover_cpu == want;
	}
	mover_stop = 1;
	pthread_join(t, NULL);
	CHECK("sched_setaffinity_moves_a_spinning_thread", ok);
}

/* ---------------------------------------------------------------- compute */

#define COMPUTE_CHUNKS 16
#define COMPUTE_STEPS  400000

static uint64_t chunk_result[COMPUTE_CHUNKS];
static int compute_threads = 1;

/* A chunk's result depends only on its number. */
static uint64_t compute_chunk(int chunk)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(chunk + 1), acc = 0;

	for (int i = 0; i < COMPUTE_STEPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc = acc * 31 + (x % 1000003);
	}
	return acc;
}

static void *compute_worker(void *arg)
{
	for (int c = (int)(intptr_t)arg; c < COMPUTE_CHUNKS; c += compute_threads)
		chunk_result[c] = compute_chunk(c);
	return NULL;
}

/* The chunks over n threads; prints the combined result and the time. */
static void compute(int n)
{
	pthread_t t[64];
	uint64_t start = now_ns(), sum = 0;

	compute_threads = n;
	for (intptr_t i = 1; i < n; i++)
		pthread_create(&t[i], NULL, compute_worker, (void *)i);
	compute_worker((void *)0);
	for (int i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	for (int c = 0; c < COMPUTE_CHUNKS; c++)
		sum = sum * 1000003 + chunk_result[c];
	printf("smp: compute %016llx\n", (unsigned long long)sum);
	printf("smp: the compute job on %d threads took %llu ms\n", n,
	       (unsigned long long)((now_ns() - start) / 1000000));
}

/* ---------------------------------------------------------------- futex */

static int pp_word;
static long pp_rounds;
static volatile int pp_cpu_ok = 1;

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* Player side (0 or 1): waits for its turn, hands it over, wakes. */
static void *play(void *arg)
{
	int side = (int)(intptr_t)arg, cpu = side % ncpus;

	pin(0, cpu);
	for (long r = 0; r < pp_rounds; r++) {
		int want = (int)(2 * r + side);
		int v;
		while ((v = __atomic_load_n(&pp_word, __ATOMIC_ACQUIRE)) != want)
			futex(&pp_word, FUTEX_WAIT_PRIVATE, v);
		if (sched_getcpu() != cpu)
			pp_cpu_ok = 0;
		__atomic_store_n(&pp_word, want + 1, __ATOMIC_RELEASE);
		futex(&pp_word, FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static void check_futex_ping_pong(long rounds)
{
	pthread_t t[2];
	uint64_t start = now_ns();

	pp_rounds = rounds;
	for (intptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, play, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	uint64_t took = now_ns() - start;
	printf("smp: futex ping-pong %ld rounds across cpus 0 and %d: %llu ms, %llu ns a round\n",
	       rounds, 1 % ncpus, (unsigned long long)(took / 1000000),
	       (unsigned long long)(took / (uint64_t)rounds));
	CHECK("futex_ping_pong_across_cpus", pp_word == 2 * rounds && pp_cpu_ok);
}

/*
 * Wakes from several CPUs at once on one word: WAKE_WAITERS threads sleep
 * on a word that never changes, then one waker per CPU (at least two)
 * wakes one at a time until all are awake. Each waiter must be woken
 * exactly once: the wakers' counts add up to the waiters, and every
 * waiter's wait returns 0.
 */
#define WAKE_WAITERS 8
#define WAKE_ROUNDS  20
#define WAKES_CHECK  "futex_wakes_from_several_cpus_wake_each_waiter_once"

static int wake_word;
static _Atomic int wake_asleep, wake_returned, wake_bad;
static _Atomic long wake_counted;

/* One wait on word (0), counted: asleep before it, then woken (it
 * returned 0) or bad. */
static void wait_once(int *word, _Atomic int *asleep, _Atomic int *woken, _Atomic int *bad)
{
	(*asleep)++;
	if (futex(word, FUTEX_WAIT_PRIVATE, 0) == 0)
		(*woken)++;
	else
		(*bad)++;
}

static void *sleep_once(void *arg)
{
	(void)arg;
	wait_once(&wake_word, &wake_asleep, &wake_returned, &wake_bad);
	return NULL;
}

static void *wake_one_at_a_time(void *arg)
{
	pin(0, (int)(intptr_t)arg % ncpus);
	while (wake_counted < WAKE_WAITERS) {
		long n = futex(&wake_word, FUTEX_WAKE_PRIVATE, 1);
		if (n < 0)
			wake_bad++;
		else
			wake_counted += n;
		/* Nobody asleep yet: a waiter that has not reached its wait
		 * needs this CPU (the wakers hold every CPU otherwise). */
		if (n == 0)
			sched_yield();
	}
	return NULL;
}

static void check_wakes_from_several_cpus(void)
{
	int wakers = ncpus < 2 ? 2 : ncpus, rounds_ok = 0;

	for (int round = 0; round < WAKE_ROUNDS; round++) {
		pthread_t w[WAKE_WAITERS], k[64];
		wake_asleep = wake_returned = 0;
		wake_counted = 0;
		for (int i = 0; i < WAKE_WAITERS; i++)
			pthread_create(&w[i], NULL, sleep_once, NULL);
		while (wake_asleep < WAKE_WAITERS)
			sched_yield();
		struct timespec d = {0, 5000000}; /* they block in their waits */
		nanosleep(&d, NULL);
		for (intptr_t i = 0; i < wakers; i++)
			pthread_create(&k[i], NULL, wake_one_at_a_time, (void *)i);
		for (int i = 0; i < wakers; i++)
			join_or_fail(k[i], WAKES_CHECK, NULL);
		for (int i = 0; i < WAKE_WAITERS; i++)
			join_or_fail(w[i], WAKES_CHECK, NULL);
		rounds_ok += wake_counted == WAKE_WAITERS && wake_returned == WAKE_WAITERS;
	}
	printf("smp: %d waiters woken by %d cpus at once: %d of %d rounds exact, %d bad calls\n",
	       WAKE_WAITERS, wakers, rounds_ok, WAKE_ROUNDS, (int)wake_bad);
	CHECK(WAKES_CHECK, rounds_ok == WAKE_ROUNDS && !wake_bad);
}

/*
 * One thread pinned to each CPU takes a mutex in turn while one more,
 * unpinned, holds the kernel lock in long stretches. Two lost wake-ups
 * showed here (first in the wakes check above, as pinned threads left
 * runnable and every CPU halted):
 * - a CPU going idle waits for the kernel lock, is kicked meanwhile for
 *   its thread, and finds the mutex taken again, so the thread waits once
 *   more: the CPU must still halt marked idle, or the thread's next wake
 *   kicks nobody;
 * - the holder runs on a pinned thread's CPU: that CPU's slice must end
 *   even while the boot CPU, whose timer ends every slice, is idle.
 * A thread that takes no turn for LIMIT_NS fails the check (with every
 * thread's count) instead of hanging the boot.
 */
#define MUTEX_TURNS 500
#define MUTEX_CHECK "pinned_threads_take_turns_on_one_mutex"
#define HOLD_BYTES  (4 << 20)

static pthread_mutex_t turn_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic long turns_taken[64];
static long turn_total;
static _Atomic int turns_done;

static void *take_turns(void *arg)
{
	int me = (int)(intptr_t)arg;

	pin(0, me % ncpus);
	for (int i = 0; i < MUTEX_TURNS; i++) {
		pthread_mutex_lock(&turn_mutex);
		turn_total++;
		for (int k = 0; k < 200; k++)
			__asm__ volatile("pause");
		pthread_mutex_unlock(&turn_mutex);
		turns_taken[me]++;
	}
	turns_done++;
	return NULL;
}

/* Holds the kernel lock for long stretches (a 4 MiB read of /dev/zero is
 * one locked call): a CPU going idle then waits for it, as it does on a
 * busy host, where the first window above is widest. */
static void *hold_the_kernel_lock(void *arg)
{
	int takers = (int)(intptr_t)arg;
	int fd = open("/dev/zero", O_RDONLY);
	char *buf =
	    mmap(NULL, HOLD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (fd < 0 || buf == MAP_FAILED)
		return (void *)1;
	while (turns_done < takers)
		if (read(fd, buf, HOLD_BYTES) != HOLD_BYTES)
			return (void *)1;
	munmap(buf, HOLD_BYTES);
	close(fd);
	return NULL;
}

static void check_pinned_threads_take_turns(void)
{
	pthread_t t[64], holder;
	int n = ncpus < 2 ? 2 : ncpus;
	uint64_t start = now_ns(), last_move = start;
	long last_sum = -1;

	pthread_create(&holder, NULL, hold_the_kernel_lock, (void *)(intptr_t)n);
	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, take_turns, (void *)i);
	while (turns_done < n) {
		long sum = 0;
		for (int i = 0; i < n; i++)
			sum += turns_taken[i];
		if (sum != last_sum) {
			last_sum = sum;
			last_move = now_ns();
		} else if (now_ns() - last_move > LIMIT_NS) {
			break;
		}
		struct timespec d = {0, 10000000};
		nanosleep(&d, NULL);
	}
	if (turns_done < n) {
		printf("smp: pinned threads stalled at");
		for (int i = 0; i < n; i++)
			printf(" %ld", (long)turns_taken[i]);
		printf(" of %d turns each\n", MUTEX_TURNS);
		fail_and_end(MUTEX_CHECK);
	}
	for (int i = 0; i < n; i++)
		join_or_fail(t[i], MUTEX_CHECK, NULL);
	void *held;
	join_or_fail(holder, MUTEX_CHECK, &held);
	printf("smp: %d pinned threads took %ld turns of one mutex in %llu ms\n", n, turn_total,
	       (unsigned long long)((now_ns() - start) / 1000000));
	CHECK(MUTEX_CHECK, turn_total == (long)n * MUTEX_TURNS && !held);
}

/*
 * The futex calls and the switches they cause run beside each other on
 * every CPU (the kernel lock's shared side): a ping-pong pair pinned to
 * each CPU (two at least), every pair at once, each side waiting with a
 * 2 ms timeout (a wake cancels the wait's timer, sometimes from another
 * CPU's list; a timeout just waits again). Each side checks that it sees
 * its turns in order and on its CPU. Beside them a ticker's waits, on a
 * word nobody wakes, must each time out, and not before their 200 us.
 */
#define PAIR_ROUNDS   2000
#define PAIR_CHECK    "futex_pairs_on_every_cpu_at_once_with_timeouts"
#define TICKS	      200
#define TICK_NS	      200000
#define REQUEUE_WAIT  6
#define REQUEUE_CHECK "futex_requeue_moves_waiters_and_each_is_woken_once"

struct pair {
	int word;
	int cpu;
	_Atomic int bad;
};

static struct pair pairs[64];
static _Atomic int pairs_running;

static long futex_timed(int *uaddr, int op, int val, long ns)
{
	struct timespec ts = {ns / 1000000000, ns % 1000000000};
	return syscall(SYS_futex, uaddr, op, val, &ts, NULL, 0);
}

static void *pair_side(void *arg)
{
	struct pair *p = &pairs[(intptr_t)arg / 2];
	int side = (int)((intptr_t)arg % 2);

	pin(0, p->cpu);
	for (int r = 0; r < PAIR_ROUNDS; r++) {
		int want = 2 * r + side, v;
		uint64_t since = now_ns();
		while ((v = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE)) != want) {
			if (v > want || now_ns() - since > LIMIT_NS) {
				p->bad++;
				return NULL;
			}
			futex_timed(&p->word, FUTEX_WAIT_PRIVATE, v, 2000000);
		}
		if ((int)cpu_now() != p->cpu)
			p->bad++;
		__atomic_store_n(&p->word, want + 1, __ATOMIC_RELEASE);
		futex(&p->word, FUTEX_WAKE_PRIVATE, 1);
	}
	pairs_running--;
	return NULL;
}

static int tick_word;
static _Atomic int ticks_bad;

static void *tick(void *arg)
{
	(void)arg;
	for (int i = 0; i < TICKS && pairs_running; i++) {
		uint64_t start = now_ns();
		long r = futex_timed(&tick_word, FUTEX_WAIT_PRIVATE, 0, TICK_NS);
		if (r != -1 || errno != ETIMEDOUT || now_ns() - start < TICK_NS)
			ticks_bad++;
	}
	return NULL;
}

static void check_futex_pairs(void)
{
	int n = ncpus < 2 ? 2 : ncpus, bad = 0;
	pthread_t t[128], ticker;
	uint64_t start = now_ns();

	pairs_running = n;
	for (int i = 0; i < n; i++)
		pairs[i] = (struct pair){.cpu = i % ncpus};
	pthread_create(&ticker, NULL, tick, NULL);
	for (intptr_t i = 0; i < 2 * n; i++)
		pthread_create(&t[i], NULL, pair_side, (void *)i);
	for (int i = 0; i < 2 * n; i++)
		join_or_fail(t[i], PAIR_CHECK, NULL);
	join_or_fail(ticker, PAIR_CHECK, NULL);
	for (int i = 0; i < n; i++)
		bad += pairs[i].bad || pairs[i].word != 2 * PAIR_ROUNDS;
	printf("smp: %d futex pairs, one on each cpu, %d rounds each: %llu ms, %d bad pairs, "
	       "%d bad ticks\n",
	       n, PAIR_ROUNDS, (unsigned long long)((now_ns() - start) / 1000000), bad,
	       (int)ticks_bad);
	CHECK(PAIR_CHECK, !bad && !ticks_bad);
}

/*
 * FUTEX_CMP_REQUEUE from one word to another while the waiters sleep on
 * several CPUs: one woken on the first word, the rest moved, then woken
 * one at a time on the second. Each wait returns 0 exactly once; a
 * requeue whose value check fails moves nobody (EAGAIN).
 */
static int rq_from, rq_to;
static _Atomic int rq_asleep, rq_woken, rq_bad;

static void *rq_wait(void *arg)
{
	pin(0, (int)(intptr_t)arg % ncpus);
	wait_once(&rq_from, &rq_asleep, &rq_woken, &rq_bad);
	return NULL;
}

static void check_futex_requeue(void)
{
	pthread_t t[REQUEUE_WAIT];
	long woken = 0;

	for (intptr_t i = 0; i < REQUEUE_WAIT; i++)
		pthread_create(&t[i], NULL, rq_wait, (void *)i);
	while (rq_asleep < REQUEUE_WAIT)
		sched_yield();
	struct timespec d = {0, 20000000}; /* they block in their waits */
	nanosleep(&d, NULL);
	long stale = syscall(SYS_futex, &rq_from, FUTEX_CMP_REQUEUE_PRIVATE, 1,
			     (void *)(long)INT32_MAX, &rq_to, 1);
	int stale_ok = stale == -1 && errno == EAGAIN;
	/* Each waiter is woken by the first call or moved once: the calls'
	 * results (woken + moved) add up to the waiters. */
	long first = syscall(SYS_futex, &rq_from, FUTEX_CMP_REQUEUE_PRIVATE, 1,
			     (void *)(long)INT32_MAX, &rq_to, 0);
	long requeued = first;
	uint64_t since = now_ns();
	while (rq_woken < REQUEUE_WAIT && first >= 0 && now_ns() - since < LIMIT_NS) {
		/* A waiter still on its way to its wait (a busy host) is
		 * moved by a later call, which wakes nobody. */
		if (requeued < REQUEUE_WAIT) {
			long r = syscall(SYS_futex, &rq_from, FUTEX_CMP_REQUEUE_PRIVATE, 0,
					 (void *)(long)INT32_MAX, &rq_to, 0);
			requeued += r > 0 ? r : 0;
		}
		long r = futex(&rq_to, FUTEX_WAKE_PRIVATE, 1);
		if (r < 0)
			break;
		woken += r;
		if (!r)
			sched_yield();
	}
	for (int i = 0; i < REQUEUE_WAIT; i++)
		join_or_fail(t[i], REQUEUE_CHECK, NULL);
	printf("smp: requeue of %d waiters: %ld woken or moved at once, %ld in all, %ld woken "
	       "after, %d returned 0\n",
	       REQUEUE_WAIT, first, requeued, woken, (int)rq_woken);
	CHECK(REQUEUE_CHECK, stale_ok && requeued == REQUEUE_WAIT && woken <= REQUEUE_WAIT &&
				 rq_woken == REQUEUE_WAIT && !rq_bad);
}

/*
 * A storm of futex calls from threads moving between every CPU: random
 * timed waits, wakes, requeues between four words and bumps of them; a
 * mutex and condition variable around a counter (timed waits too);
 * affinity changes; signals to random threads. For STORM_NS, then every
 * thread must be joined (none left waiting for a wake that was lost) and
 * the counter must equal the sum of each thread's increments (the mutex
 * excluded). The kernel must not fail, which the boot test sees.
 */
#define STORM_THREADS 8
#define STORM_NS      2000000000ull
#define STORM_CHECK   "futex_storm_from_every_cpu_loses_no_wake"

static int storm_words[4];
static pthread_mutex_t storm_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t storm_cond = PTHREAD_COND_INITIALIZER;
static long storm_counter, storm_incs[STORM_THREADS];
static _Atomic int storm_stop;
static _Atomic pid_t storm_tids[STORM_THREADS];

static void on_storm_signal(int sig)
{
	(void)sig;
}

static uint64_t storm_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void storm_count(int me)
{
	storm_counter++;
	storm_incs[me]++;
}

static void *storm(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(me + 1);

	storm_tids[me] = (pid_t)syscall(SYS_gettid);
	while (!storm_stop) {
		int *word = &storm_words[storm_next(&x) % 4];
		struct timespec ts = {0, (long)(storm_next(&x) % 200000)};
		switch (storm_next(&x) % 10) {
		case 0:
		case 1:
			syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, *word, &ts, NULL, 0);
			break;
		case 2:
			futex(word, FUTEX_WAKE_PRIVATE, (int)(storm_next(&x) % 3));
			break;
		case 3:
			syscall(SYS_futex, word, FUTEX_CMP_REQUEUE_PRIVATE,
				(int)(storm_next(&x) % 2), (void *)(long)(storm_next(&x) % 3),
				&storm_words[storm_next(&x) % 4], *word);
			break;
		case 4:
			__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
			futex(word, FUTEX_WAKE_PRIVATE, 1);
			break;
		case 5:
		case 6:
			pthread_mutex_lock(&storm_mutex);
			storm_count(me);
			if (storm_next(&x) % 4 == 0)
				pthread_cond_broadcast(&storm_cond);
			pthread_mutex_unlock(&storm_mutex);
			break;
		case 7:
			pthread_mutex_lock(&storm_mutex);
			ts = realtime_after(100000);
			pthread_cond_timedwait(&storm_cond, &storm_mutex, &ts);
			storm_count(me);
			pthread_mutex_unlock(&storm_mutex);
			break;
		case 8: {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET((int)(storm_next(&x) % (uint64_t)ncpus), &set);
			CPU_SET((int)(storm_next(&x) % (uint64_t)ncpus), &set);
			sched_setaffinity(0, sizeof(set), &set);
			break;
		}
		case 9: {
			pid_t tid = storm_tids[storm_next(&x) % STORM_THREADS];
			if (tid)
				syscall(SYS_tgkill, getpid(), tid, SIGUSR2);
			break;
		}
		}
	}
	return NULL;
}

/* Every thread still waiting on a word or the condition variable is
 * woken, over and over, until it is joined (or LIMIT_NS passes). */
static int storm_join(pthread_t t)
{
	uint64_t since = now_ns();

	for (;;) {
		for (int k = 0; k < 4; k++) {
			__atomic_fetch_add(&storm_words[k], 1, __ATOMIC_SEQ_CST);
			futex(&storm_words[k], FUTEX_WAKE_PRIVATE, INT32_MAX);
		}
		pthread_mutex_lock(&storm_mutex);
		pthread_cond_broadcast(&storm_cond);
		pthread_mutex_unlock(&storm_mutex);
		struct timespec by = realtime_after(10000000);
		if (pthread_timedjoin_np(t, NULL, &by) == 0)
			return 0;
		if (now_ns() - since > LIMIT_NS)
			return -1;
	}
}

static void check_futex_storm(void)
{
	pthread_t t[STORM_THREADS];
	struct sigaction sa = {.sa_handler = on_storm_signal};
	long sum = 0;

	sigaction(SIGUSR2, &sa, NULL);
	for (intptr_t i = 0; i < STORM_THREADS; i++)
		pthread_create(&t[i], NULL, storm, (void *)i);
	uint64_t end = now_ns() + STORM_NS;
	while (now_ns() < end) {
		struct timespec d = {0, 50000000};
		nanosleep(&d, NULL);
	}
	storm_stop = 1;
	for (int i = 0; i < STORM_THREADS; i++) {
		if (storm_join(t[i])) {
			printf("smp: futex storm: thread %d not done after %llu s\n", i,
			       (unsigned long long)(LIMIT_NS / 1000000000ull));
			fail_and_end(STORM_CHECK);
		}
		sum += storm_incs[i];
	}
	printf("smp: futex storm of %d threads for %llu ms: %ld counted, %ld by the threads\n",
	       STORM_THREADS, (unsigned long long)(STORM_NS / 1000000), storm_counter, sum);
	CHECK(STORM_CHECK, storm_counter == sum && sum > 0);
}

/* ---------------------------------------------------------------- moving */

/*
 * The kernel keeps a call's state across its retries (how far a write got,
 * that a futex wait is under way) under the call's number. A thread that
 * moves to another CPU must never meet that number there: when syscalls
 * were numbered per CPU, a write after a futex wait on another CPU could
 * take the wait's "progress 1" as its own and skip its first byte. The
 * mover makes many calls on the last CPU, blocks in a futex wait there,
 * then appends two-byte records from CPU 0 until that CPU's count has
 * passed the wait's number; every record must land whole.
 */
#define MOVE_CALLS  10000
#define MOVE_WRITES (2 * MOVE_CALLS)

static int move_word;

static void *move_and_write(void *arg)
{
	int fd = (int)(intptr_t)arg;

	pin(0, ncpus - 1);
	for (int i = 0; i < MOVE_CALLS; i++)
		syscall(SYS_getppid);
	__atomic_store_n(&move_word, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&move_word, __ATOMIC_ACQUIRE) == 1)
		futex(&move_word, FUTEX_WAIT_PRIVATE, 1);
	pin(0, 0);
	for (int i = 0; i < MOVE_WRITES; i++)
		if (write(fd, "ab", 2) != 2)
			return (void *)1;
	return NULL;
}

static void check_moved_thread_writes(void)
{
	static char got[2 * MOVE_WRITES];
	int fd = open("/smp-moved", O_RDWR | O_CREAT | O_TRUNC, 0600);
	pthread_t t;
	void *ret = (void *)1;
	int whole = 1;

	if (ncpus < 2 || fd < 0) {
		CHECK("a_thread_moved_between_cpus_writes_every_byte", ncpus < 2);
		return;
	}
	pin(0, ncpus - 1); /* no calls of this thread on CPU 0 */
	pthread_create(&t, NULL, move_and_write, (void *)(intptr_t)fd);
	while (__atomic_load_n(&move_word, __ATOMIC_ACQUIRE) != 1)
		sched_yield();
	struct timespec d = {0, 10000000}; /* the mover blocks in its wait */
	nanosleep(&d, NULL);
	__atomic_store_n(&move_word, 2, __ATOMIC_RELEASE);
	futex(&move_word, FUTEX_WAKE_PRIVATE, 1);
	pthread_join(t, &ret);
	unpin(0);
	long n = pread(fd, got, sizeof(got), 0);
	for (long i = 0; i + 1 < n && whole; i += 2)
		whole = got[i] == 'a' && got[i + 1] == 'b';
	printf("smp: moved thread wrote %ld bytes of %d\n", n, 2 * MOVE_WRITES);
	close(fd);
	unlink("/smp-moved");
	CHECK("a_thread_moved_between_cpus_writes_every_byte",
	      ret == NULL && n == 2 * MOVE_WRITES && whole);
}

/* ---------------------------------------------------------------- mmap churn */

#define CHURN_ROUNDS 200
#define CHURN_PAGES  16

static volatile int churn_bad;

/* Maps, fills with its own tag, checks and unmaps, over and over: a stale
 * TLB entry on any CPU would show one thread another's frame. */
static void *churn(void *arg)
{
	uint64_t tag = (uint64_t)(intptr_t)arg << 32;
	size_t words = CHURN_PAGES * 4096 / 8;

	for (int r = 0; r < CHURN_ROUNDS; r++) {
		uint64_t *p = mmap(NULL, CHURN_PAGES * 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			churn_bad = 1;
			return NULL;
		}
		for (size_t i = 0; i < words; i++) {
			if (p[i] != 0)
				churn_bad = 1; /* a fresh mapping reads zero */
			p[i] = tag | (uint64_t)r << 16 | (i & 0xffff);
		}
		sched_yield();
		for (size_t i = 0; i < words; i++) {
			if (p[i] != (tag | (uint64_t)r << 16 | (i & 0xffff)))
				churn_bad = 1;
		}
		munmap(p, CHURN_PAGES * 4096);
	}
	return NULL;
}

static void check_mmap_churn(void)
{
	int n = ncpus < 2 ? 2 : ncpus;
	pthread_t t[64];

	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, churn, (void *)(i + 1));
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	CHECK("threads_mmap_fill_and_munmap_at_once", !churn_bad);
}

/* ---------------------------------------------------------------- same pages */

/*
 * Demand faults of several CPUs on the same fresh pages at once (the
 * kernel backs them beside each other, without its lock): each thread
 * writes its own word of every page, starting together. Two CPUs that
 * each backed a page and kept both would lose one thread's words; every
 * page must hold every thread's word, and nothing else.
 */
#define SAME_PAGES 2048

static uint64_t *same_region;
static int same_threads;
static _Atomic int same_ready;

static void *touch_same_pages(void *arg)
{
	int me = (int)(intptr_t)arg;

	same_ready++;
	while (same_ready < same_threads)
		;
	for (size_t pg = 0; pg < SAME_PAGES; pg++)
		same_region[pg * 512 + (size_t)me] = (uint64_t)(me + 1) << 32 | pg;
	return NULL;
}

static void check_same_pages(void)
{
	int n = ncpus < 2 ? 2 : ncpus;
	pthread_t t[64];
	long bad = 0;

	same_threads = n;
	same_region = mmap(NULL, SAME_PAGES * 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (same_region == MAP_FAILED) {
		CHECK("threads_fault_the_same_fresh_pages_at_once", 0);
		return;
	}
	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, touch_same_pages, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (size_t pg = 0; pg < SAME_PAGES; pg++)
		for (size_t w = 0; w < 512; w++) {
			uint64_t want = w < (size_t)n ? (uint64_t)(w + 1) << 32 | pg : 0;
			bad += same_region[pg * 512 + w] != want;
		}
	munmap(same_region, SAME_PAGES * 4096);
	printf("smp: %d threads faulted the same %d pages: %ld words wrong\n", n, SAME_PAGES, bad);
	CHECK("threads_fault_the_same_fresh_pages_at_once", bad == 0);
}

/* ---------------------------------------------------------------- reads */

/*
 * Reads of one file beside each other (read and pread of a tmpfs file are
 * shared syscalls: they run without the kernel lock, kernel/syscall.c):
 * - each thread preads every 4 KiB block of the file, in its own order,
 *   at once with the others: into fresh pages (the copy backs them beside
 *   the others' faults) and, every eighth block, into a private file
 *   mapping whose page it has just dropped (a copy-on-write fault, which
 *   the shared side leaves to the lock: the read runs again there). Every
 *   byte must be the file's;
 * - then they read() one shared descriptor together, a record at a time:
 *   its offset moves for one reader at a time, so every record is read
 *   exactly once;
 * - meanwhile a writer rewrites and truncates another file (calls that
 *   take the lock).
 */
#define RECORDS	       4096
#define RECORD_SIZE    64
#define READ_FILE_SIZE (RECORDS * RECORD_SIZE)
#define READ_BLOCKS    (READ_FILE_SIZE / 4096)
#define READ_ROUNDS    4

/* Shared by the read and write checks: how many threads, and bad results. */
static int file_threads;
static _Atomic long file_bad;
static int read_fd;
static _Atomic int read_ready, read_ready2, read_stop;
static _Atomic int record_seen[RECORDS];

static void record_fill(unsigned char *rec, uint32_t k)
{
	memcpy(rec, &k, sizeof(k));
	for (int i = sizeof(k); i < RECORD_SIZE; i++)
		rec[i] = (unsigned char)(k * 31 + (uint32_t)i);
}

/* Whether rec holds record k. */
static int record_ok(const unsigned char *rec, uint32_t k)
{
	unsigned char want[RECORD_SIZE];

	record_fill(want, k);
	return !memcmp(rec, want, RECORD_SIZE);
}

static int block_ok(const unsigned char *block, int blk)
{
	for (int j = 0; j < 4096 / RECORD_SIZE; j++)
		if (!record_ok(block + j * RECORD_SIZE, (uint32_t)(blk * (4096 / RECORD_SIZE) + j)))
			return 0;
	return 1;
}

static void *read_blocks_and_records(void *arg)
{
	int me = (int)(intptr_t)arg;
	unsigned char *fresh =
	    mmap(NULL, READ_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int map_fd = open("/smp-read", O_RDONLY);
	unsigned char *mapped =
	    map_fd < 0 ? MAP_FAILED
		       : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, map_fd, 0);
	long bad = fresh == MAP_FAILED || mapped == MAP_FAILED;

	read_ready++;
	while (read_ready < file_threads)
		;
	for (int round = 0; round < READ_ROUNDS && !bad; round++) {
		for (int b = 0; b < READ_BLOCKS; b++) {
			int blk = (b + me * 7) % READ_BLOCKS;
			unsigned char *dst = fresh + blk * 4096;
			if (b % 8 == 7) {
				madvise(mapped, 4096, MADV_DONTNEED);
				dst = mapped;
			}
			bad += pread(read_fd, dst, 4096, blk * 4096) != 4096 || !block_ok(dst, blk);
		}
		madvise(fresh, READ_FILE_SIZE, MADV_DONTNEED); /* fresh pages again */
	}
	read_ready2++;
	while (read_ready2 < file_threads)
		;
	for (;;) {
		unsigned char rec[RECORD_SIZE];
		uint32_t k;
		long n = read(read_fd, rec, RECORD_SIZE);
		if (n == 0)
			break;
		memcpy(&k, rec, sizeof(k));
		if (n != RECORD_SIZE || k >= RECORDS || !record_ok(rec, k)) {
			bad++;
			break;
		}
		record_seen[k]++;
	}
	if (fresh != MAP_FAILED)
		munmap(fresh, READ_FILE_SIZE);
	if (mapped != MAP_FAILED)
		munmap(mapped, 4096);
	if (map_fd >= 0)
		close(map_fd);
	file_bad += bad;
	return NULL;
}

static void *rewrite_another_file(void *arg)
{
	static char block[4096];
	int fd = open("/smp-other", O_RDWR | O_CREAT | O_TRUNC, 0600);

	(void)arg;
	for (int i = 0; fd >= 0 && !read_stop; i++) {
		memset(block, i, sizeof(block));
		if (pwrite(fd, block, sizeof(block), (i % 16) * 4096) != sizeof(block) ||
		    (i % 16 == 15 && ftruncate(fd, 0)))
			file_bad++;
	}
	if (fd >= 0)
		close(fd);
	unlink("/smp-other");
	return NULL;
}

static void check_reads_beside_each_other(void)
{
	static unsigned char file[READ_FILE_SIZE];
	int n = ncpus < 2 ? 2 : ncpus;
	pthread_t t[64], writer;
	int fd = open("/smp-read", O_RDWR | O_CREAT | O_TRUNC, 0600);
	long once = 0;

	for (uint32_t k = 0; k < RECORDS; k++)
		record_fill(file + k * RECORD_SIZE, k);
	if (fd < 0 || write(fd, file, sizeof(file)) != (long)sizeof(file)) {
		CHECK("threads_read_one_file_at_once", 0);
		return;
	}
	lseek(fd, 0, SEEK_SET);
	read_fd = fd;
	file_threads = n;
	pthread_create(&writer, NULL, rewrite_another_file, NULL);
	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, read_blocks_and_records, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	read_stop = 1;
	pthread_join(writer, NULL);
	for (int k = 0; k < RECORDS; k++)
		once += record_seen[k] == 1;
	close(fd);
	unlink("/smp-read");
	printf("smp: %d threads read %d blocks each, %ld bad; records read once: %ld of %d\n", n,
	       READ_ROUNDS * READ_BLOCKS, (long)file_bad, once, RECORDS);
	CHECK("threads_read_one_file_at_once", file_bad == 0 && once == RECORDS);
}

/*
 * Writes through one descriptor beside each other: the file already has
 * its bytes (written once, then rewound), so each write() goes over them
 * in place on the shared side. The offset moves for one writer at a time,
 * so every slot ends up holding one whole record and every record written
 * lands once.
 */
static int write_fd;
static _Atomic int write_ready;

static void *write_records(void *arg)
{
	int me = (int)(intptr_t)arg;
	unsigned char rec[RECORD_SIZE];

	write_ready++;
	while (write_ready < file_threads)
		;
	for (int i = 0; i < RECORDS / file_threads; i++) {
		record_fill(rec, (uint32_t)me << 16 | (uint32_t)i);
		if (write(write_fd, rec, RECORD_SIZE) != RECORD_SIZE)
			file_bad++;
	}
	return NULL;
}

static void check_writes_beside_each_other(void)
{
	static unsigned char file[READ_FILE_SIZE];
	static unsigned char seen[64][RECORDS];
	int n = ncpus < 2 ? 2 : ncpus;
	pthread_t t[64];
	long whole = 0, once = 0;

	write_fd = open("/smp-write", O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(file, 0, sizeof(file));
	if (write_fd < 0 || write(write_fd, file, sizeof(file)) != (long)sizeof(file)) {
		CHECK("threads_write_one_descriptor_at_once", 0);
		return;
	}
	lseek(write_fd, 0, SEEK_SET);
	file_threads = n;
	file_bad = 0;
	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, write_records, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	long got = pread(write_fd, file, sizeof(file), 0);
	int per = RECORDS / n;
	for (int slot = 0; got == (long)sizeof(file) && slot < per * n; slot++) {
		uint32_t tag;
		memcpy(&tag, file + slot * RECORD_SIZE, sizeof(tag));
		unsigned who = tag >> 16, seq = tag & 0xffff;
		if (who < (unsigned)n && seq < (unsigned)per &&
		    record_ok(file + slot * RECORD_SIZE, tag)) {
			whole++;
			once += !seen[who][seq]++;
		}
	}
	close(write_fd);
	unlink("/smp-write");
	printf("smp: %d threads wrote %d records through one descriptor: %ld whole, %ld "
	       "distinct, %ld bad calls\n",
	       n, per * n, whole, once, (long)file_bad);
	CHECK("threads_write_one_descriptor_at_once",
	      file_bad == 0 && whole == per * n && once == per * n);
}

/*
 * Appends to one log beside each other: every thread opens the file with
 * O_APPEND (a description of its own, as loggers do) and writes records
 * after a one-byte header, so records cross pages. Most appends land in
 * the file's last page on the shared side; the one that needs a new page
 * takes the lock. A reader follows the log meanwhile. Every record
 * must land whole and once, and the reader must never find under the
 * size a record that is not whole.
 */
static _Atomic int append_ready, append_done;

static void *append_records(void *arg)
{
	int me = (int)(intptr_t)arg;
	unsigned char rec[RECORD_SIZE];
	int fd = open("/smp-log", O_WRONLY | O_APPEND);

	append_ready++;
	while (append_ready < file_threads)
		;
	for (int i = 0; fd >= 0 && i < RECORDS / file_threads; i++) {
		record_fill(rec, (uint32_t)me << 16 | (uint32_t)i);
		if (write(fd, rec, RECORD_SIZE) != RECORD_SIZE)
			file_bad++;
	}
	file_bad += fd < 0;
	if (fd >= 0)
		close(fd);
	append_done++;
	return NULL;
}

/* Whole records only in [from, len) of buf (from: where the first
 * starts): the count, or -1. */
static long log_records(const unsigned char *buf, long from, long len, int n,
			unsigned char (*seen)[RECORDS])
{
	long whole = 0;

	for (long at = from; at + RECORD_SIZE <= len; at += RECORD_SIZE) {
		uint32_t tag;
		memcpy(&tag, buf + at, sizeof(tag));
		unsigned who = tag >> 16, seq = tag & 0xffff;
		if (who >= (unsigned)n || seq >= RECORDS || !record_ok(buf + at, tag))
			return -1;
		if (seen)
			seen[who][seq]++;
		whole++;
	}
	return whole;
}

/* Follows the log as `tail -f` does: reads what came after the last whole
 * record it read, until the writers are done and it has all. */
static void *read_the_log(void *arg)
{
	static unsigned char buf[8 * RECORD_SIZE];
	int fd = open("/smp-log", O_RDONLY);
	long at = 1, end = 1 + (long)(RECORDS / file_threads) * file_threads * RECORD_SIZE;

	(void)arg;
	while (fd >= 0 && at < end) {
		int done = append_done == file_threads;
		long got = pread(fd, buf, sizeof(buf), at);
		long whole = got < 0 ? -1 : log_records(buf, 0, got, file_threads, NULL);
		if (whole < 0 || (done && !whole)) {
			file_bad++;
			break;
		}
		at += whole * RECORD_SIZE;
	}
	file_bad += fd < 0;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void check_appends_beside_each_other(void)
{
	static unsigned char file[READ_FILE_SIZE + 1];
	static unsigned char seen[64][RECORDS];
	int n = ncpus < 2 ? 2 : ncpus;
	pthread_t t[64], reader;
	long once = 0;
	int fd = open("/smp-log", O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, "#", 1) != 1) {
		CHECK("threads_append_to_one_log_at_once", 0);
		return;
	}
	file_threads = n;
	file_bad = 0;
	pthread_create(&reader, NULL, read_the_log, NULL);
	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, append_records, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_join(reader, NULL);
	int per = RECORDS / n;
	long got = pread(fd, file, sizeof(file), 0);
	long whole =
	    got == 1 + (long)per * n * RECORD_SIZE ? log_records(file, 1, got, n, seen) : -1;
	for (int who = 0; who < n; who++) {
		for (int seq = 0; seq < per; seq++)
			once += seen[who][seq] == 1;
	}
	close(fd);
	unlink("/smp-log");
	printf("smp: %d threads appended %d records to one log: %ld bytes, %ld whole, %ld once, "
	       "%ld bad\n",
	       n, per * n, got, whole, once, (long)file_bad);
	CHECK("threads_append_to_one_log_at_once",
	      file_bad == 0 && whole == per * n && once == per * n);
}

/* ---------------------------------------------------------------- signal */

static volatile sig_atomic_t got_usr1;
static unsigned spinner_cpu;
static int spinner_ready;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *spin_until_signalled(void *arg)
{
	(void)arg;
	uint64_t end = now_ns() + LIMIT_NS;
	__atomic_store_n(&spinner_cpu, cpu_now() + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&spinner_ready, 1, __ATOMIC_RELEASE);
	/* No syscall in the loop but the clock's (vDSO): only an interrupt
	 * brings this thread into the kernel. */
	while (!got_usr1 && now_ns() < end)
		;
	return NULL;
}

static void check_signal_to_spinner(void)
{
	pthread_t t;
	struct sigaction sa = {.sa_handler = on_usr1};

	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&t, NULL, spin_until_signalled, NULL);
	while (!__atomic_load_n(&spinner_ready, __ATOMIC_ACQUIRE))
		;
	unsigned there = __atomic_load_n(&spinner_cpu, __ATOMIC_ACQUIRE) - 1;
	int elsewhere = there != cpu_now();
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	CHECK("signal_reaches_a_thread_spinning_on_another_cpu", elsewhere && got_usr1);
}

/* ---------------------------------------------------------------- munmap */

#define PATTERN 0x5a5a5a5a5a5a5a5aull

static volatile uint64_t *region;
static sigjmp_buf fault_jmp;
static volatile int reader_faulted, reader_saw_other, reader_started;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

static void *read_until_fault(void *arg)
{
	(void)arg;
	uint64_t end = now_ns() + LIMIT_NS;
	stack_t ss = {.ss_size = 65536};
	static char altstack[65536];

	ss.ss_sp = altstack;
	sigaltstack(&ss, NULL);
	if (sigsetjmp(fault_jmp, 1)) {
		reader_faulted = 1;
		return NULL;
	}
	reader_started = 1;
	while (now_ns() < end) {
		for (int i = 0; i < 512; i += 64) {
			if (region[i] != PATTERN)
				reader_saw_other = 1;
		}
	}
	return NULL;
}

static void check_munmap_under_reader(void)
{
	pthread_t t;
	struct sigaction sa = {.sa_handler = on_segv, .sa_flags = SA_ONSTACK};

	region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 512; i++)
		region[i] = PATTERN;
	sigaction(SIGSEGV, &sa, NULL);
	pthread_create(&t, NULL, read_until_fault, NULL);
	while (!reader_started)
		;
	munmap((void *)region, 4096);
	/* The freed frame is reused at once by the next mapping, written with
	 * something else: a stale TLB entry would show it to the reader. */
	volatile uint64_t *reuse =
	    mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < (1 << 20) / 8; i++)
		reuse[i] = ~PATTERN;
	pthread_join(t, NULL);
	signal(SIGSEGV, SIG_DFL);
	CHECK("munmap_while_another_cpu_reads_faults_it", reader_faulted && !reader_saw_other);
}

/* ---------------------------------------------------------------- local timers */

/* CPU cpu's count on /proc/interrupts' LOC line (local timer interrupts),
 * or -1: the column is found by its "CPUn" heading, as on Linux. */
static long local_timer_interrupts(int cpu)
{
	char line[4096], want[16];
	long count = -1;
	int column = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "CPU%d", cpu);
	if (fgets(line, sizeof(line), f)) {
		int i = 0;
		for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n"), i++) {
			if (!strcmp(tok, want))
				column = i;
		}
	}
	while (column >= 0 && count < 0 && fgets(line, sizeof(line), f)) {
		char *tok = strtok(line, " \n");
		if (!tok || strcmp(tok, "LOC:"))
			continue;
		for (int i = 0; (tok = strtok(NULL, " \n")) && i <= column; i++) {
			if (i == column)
				count = atol(tok);
		}
	}
	fclose(f);
	return count;
}

static volatile int share_stop;
static _Atomic long share_loops[2];

static int share_cpu;

static void *spin_and_count(void *arg)
{
	_Atomic long *loops = arg;

	if (pin(0, share_cpu))
		return NULL;
	while (!share_stop)
		__atomic_fetch_add(loops, 1, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * Every CPU times itself: a thread pinned to a CPU that sleeps there is
 * woken by that CPU's own local APIC timer (its LOC count grows by about
 * one a sleep: 15 of 20 are asked for, since a CPU woken early by an IPI
 * may find a deadline passed without its interrupt), and two spinners pinned to the last CPU both
 * run while the caller sleeps on CPU 0 (that CPU's own slices end their turns).
 */
static void check_each_cpu_times_itself(void)
{
	struct timespec tick = {0, 1000000};
	int ok = 1;

	for (int c = 0; c < ncpus; c++) {
		ok &= pin(0, c) == 0;
		long before = local_timer_interrupts(c);
		for (int i = 0; i < 20; i++)
			nanosleep(&tick, NULL);
		long after = local_timer_interrupts(c);
		printf("smp: cpu %d took %ld local timer interrupts in 20 sleeps\n", c,
		       after - before);
		ok &= before >= 0 && after - before >= 15;
	}
	unpin(0);
	CHECK("sleeps_on_each_cpu_end_by_its_own_timer", ok);

	pthread_t t[2];
	share_cpu = ncpus - 1;
	pin(0, 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spin_and_count, (void *)&share_loops[i]);
	struct timespec while_they_spin = {0, 300000000};
	nanosleep(&while_they_spin, NULL);
	long seen[2] = {share_loops[0], share_loops[1]};
	share_stop = 1;
	for (int i = 0; i < 2; i++)
		join_or_fail(t[i], "two_spinners_pinned_to_one_cpu_take_turns", NULL);
	unpin(0);
	CHECK("two_spinners_pinned_to_one_cpu_take_turns", seen[0] > 0 && seen[1] > 0);
}

static volatile sig_atomic_t got_alarm;

static void on_alarm(int sig)
{
	(void)sig;
	got_alarm = 1;
}

/* An alarm armed on the last CPU fires there once that CPU is idle (its
 * thread moved to CPU 0): the process's SIGALRM is raised on a CPU that
 * runs no thread, and interrupts the sleep on CPU 0. */
static void check_alarm_from_an_idle_cpu(void)
{
	struct sigaction sa;
	struct itimerval in_100ms = {{0, 0}, {0, 100000}};
	struct timespec two_s = {2, 0};
	int last = ncpus - 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	pin(0, last);
	long before = local_timer_interrupts(last);
	int armed = setitimer(ITIMER_REAL, &in_100ms, NULL);
	pin(0, 0);
	int slept = nanosleep(&two_s, NULL);
	int err = errno;
	long after = local_timer_interrupts(last);
	unpin(0);
	printf("smp: the alarm armed on cpu %d: %ld local timer interrupts there\n", last,
	       after - before);
	errno = err;
	CHECK("an_alarm_that_fires_on_an_idle_cpu_interrupts_a_sleeper",
	      armed == 0 && errno_of(slept, EINTR) && got_alarm && after > before);
}

/* ---------------------------------------------------------------- sleeps */

/*
 * Sleeps on every CPU (kernel/timer.c on the shared side: the sleep, the
 * timer that ends it and the idle CPU's look, without the kernel lock): a
 * sleeper pinned to each CPU, in nanosleep, relative clock_nanosleep and
 * absolute clock_nanosleep in turn, for random times up to 500 us; on
 * even CPUs beside a spinner pinned there too (the timer interrupts the
 * spinner in ring 3 and the switch to the sleeper takes the lock), on odd
 * ones alone (the CPU idles between sleeps). Every sleep returns 0 and
 * never before its time. Then a sleep of 10 s on the last CPU ends at
 * once in EINTR, with the time left, for a signal sent from CPU 0.
 */
#define SLEEPS	     300
#define SLEEP_MAX_NS 500000

static _Atomic int sleepers_done, sleep_bad;
static _Atomic long sleeps_total;

static void *sleep_many(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	uint64_t x = 0x9e3779b97f4a7c15ull * (unsigned)(cpu + 1);

	pin(0, cpu);
	for (int i = 0; i < SLEEPS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		long ns = (long)(x % SLEEP_MAX_NS) + 1;
		struct timespec d = {0, ns}, at;
		uint64_t start = now_ns();
		int r;
		if (i % 3 == 0) {
			r = nanosleep(&d, NULL);
		} else if (i % 3 == 1) {
			r = clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &at);
			start = (uint64_t)at.tv_sec * 1000000000ull + (uint64_t)at.tv_nsec;
			at.tv_nsec += ns;
			if (at.tv_nsec >= 1000000000) {
				at.tv_sec++;
				at.tv_nsec -= 1000000000;
			}
			r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
		}
		uint64_t took = now_ns() - start;
		if (r != 0 || took < (uint64_t)ns) {
			if (sleep_bad++ == 0)
				printf("smp: a sleep of %ld ns on cpu %d: %d after %llu ns\n", ns,
				       cpu, r, (unsigned long long)took);
		}
		sleeps_total++;
	}
	sleepers_done++;
	return NULL;
}

static void *spin_while_sleepers(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	uint64_t end = now_ns() + LIMIT_NS;

	pin(0, cpu);
	while (__atomic_load_n(&sleepers_done, __ATOMIC_ACQUIRE) < ncpus && now_ns() < end)
		;
	return NULL;
}

static volatile sig_atomic_t got_usr2;
static _Atomic int long_sleep_ready;
static int long_sleep_result, long_sleep_errno;
static struct timespec long_sleep_left;

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2 = 1;
}

static void *sleep_long(void *arg)
{
	struct timespec ten_s = {10, 0};

	pin(0, (int)(intptr_t)arg);
	long_sleep_ready = 1;
	long_sleep_result = nanosleep(&ten_s, &long_sleep_left);
	long_sleep_errno = errno;
	return NULL;
}

static void check_sleeps_on_every_cpu(void)
{
	pthread_t sleepers[64], spinners[64], t;
	int n = ncpus < 64 ? ncpus : 64, spinning = 0;
	uint64_t start = now_ns();

	for (int c = 0; c < n; c++) {
		pthread_create(&sleepers[c], NULL, sleep_many, (void *)(intptr_t)c);
		if (c % 2 == 0)
			pthread_create(&spinners[spinning++], NULL, spin_while_sleepers,
				       (void *)(intptr_t)c);
	}
	for (int c = 0; c < n; c++)
		join_or_fail(sleepers[c], "sleeps_on_every_cpu_end_on_time", NULL);
	for (int i = 0; i < spinning; i++)
		join_or_fail(spinners[i], "sleeps_on_every_cpu_end_on_time", NULL);
	printf("smp: %ld sleeps on %d cpus in %llu ms\n", (long)sleeps_total, n,
	       (unsigned long long)((now_ns() - start) / 1000000));
	CHECK("sleeps_on_every_cpu_end_on_time",
	      sleep_bad == 0 && sleeps_total == (long)n * SLEEPS);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	pthread_create(&t, NULL, sleep_long, (void *)(intptr_t)(ncpus - 1));
	while (!long_sleep_ready)
		sched_yield();
	usleep(20000); /* into its sleep */
	start = now_ns();
	pthread_kill(t, SIGUSR2);
	join_or_fail(t, "a_signal_ends_a_sleep_on_another_cpu", NULL);
	uint64_t took = now_ns() - start;
	printf("smp: a signal ended a sleep on cpu %d after %llu us, %ld.%09ld s left\n", ncpus - 1,
	       (unsigned long long)(took / 1000), (long)long_sleep_left.tv_sec,
	       long_sleep_left.tv_nsec);
	CHECK("a_signal_ends_a_sleep_on_another_cpu",
	      long_sleep_result == -1 && long_sleep_errno == EINTR && got_usr2 &&
		  long_sleep_left.tv_sec >= 5 && long_sleep_left.tv_sec < 10 &&
		  took < 5000000000ull);
}

/* ---------------------------------------------------------------- console */

/*
 * Threads on every CPU write lines to the console at once (fs/tty.c on
 * the shared side, behind the console's own lock): a thread pinned to each
 * CPU writes TTY_LINES lines with write(2), each naming its thread and
 * number with a pattern after, and one longer than the shared side takes
 * (over 1 KiB, the kernel lock's way). The boot test finds every line
 * whole, once (tests/boot/test_smp.c, assert_tty_lines).
 */
#define TTY_LINES 40

static void tty_line(char *line, size_t size, int thread, int k, int len)
{
	int n = snprintf(line, size, "smp: tty %d %d ", thread, k);

	for (; n < len - 1; n++)
		line[n] = (char)('a' + (thread * 7 + k + n) % 26);
	line[n++] = '\n';
	line[n] = 0;
}

static void *write_tty_lines(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	char line[1600];

	pin(0, cpu);
	for (int k = 0; k < TTY_LINES; k++) {
		tty_line(line, sizeof(line), cpu, k, k == TTY_LINES / 2 ? 1500 : 64 + k);
		if (write(1, line, strlen(line)) != (ssize_t)strlen(line))
			printf("smp: a console write on cpu %d came short\n", cpu);
	}
	return NULL;
}

static void write_console_lines(void)
{
	pthread_t t[64];
	int n = ncpus < 64 ? ncpus : 64;

	fflush(stdout);
	for (int c = 0; c < n; c++)
		pthread_create(&t[c], NULL, write_tty_lines, (void *)(intptr_t)c);
	for (int c = 0; c < n; c++)
		join_or_fail(t[c], "console_lines", NULL);
	printf("smp: %d threads wrote %d console lines each\n", n, TTY_LINES);
}

/* ---------------------------------------------------------------- pipes */

/*
 * Pipes across CPUs (fs/pipe.c on the shared side): a pair of threads per
 * CPU, the writer pinned to it and the reader to the next one, each pair
 * with its own pipe. The writer pushes PIPE_STREAM bytes of a pattern in
 * blocking writes (and writevs) of random sizes up to 9000 bytes (over
 * PIPE_BUF: those may wait part way); the reader takes random pieces
 * (read, or readv into two halves) and checks every byte's place in the
 * stream, blocking in read() on even pairs and in epoll_wait() on a
 * non-blocking end on odd ones, until end of file.
 * Beside them one writer per CPU puts records of at most PIPE_BUF bytes
 * into one shared pipe, which a reader on poll() takes apart: each
 * record whole and each writer's in order; and counts each record on an
 * eventfd, which a thread blocked in read() sums: every one once.
 */
#define PIPE_STREAM  (1 << 20)
#define PIPE_CHUNK   9000
#define PIPE_RECORDS 2000
#define PIPE_ATOMIC  4096

static unsigned char stream_byte(uint64_t i)
{
	return (unsigned char)((i * 0x9e3779b97f4a7c15ull) >> 56);
}

struct pipe_pair {
	int fd[2];
	int writer_cpu, reader_cpu, use_epoll;
	int use_send; /* a socketpair's: send and recv instead of write and read */
	long bad;
	uint64_t got;
};

/* write, or writev of the bytes cut in 3 or 12 pieces (more iovecs than
 * the shared side copies: the kernel lock's), by how far the stream is. */
static ssize_t write_pieces(int fd, const unsigned char *buf, size_t n, uint64_t at)
{
	struct iovec iov[12];
	int pieces = at % 3 == 0 ? 3 : at % 7 == 0 ? 12 : 1;

	if (pieces == 1 || n < (size_t)pieces)
		return write(fd, buf, n);
	for (int i = 0; i < pieces; i++) {
		size_t from = n * (size_t)i / (size_t)pieces,
		       to = n * (size_t)(i + 1) / (size_t)pieces;
		iov[i] = (struct iovec){(void *)(buf + from), to - from};
	}
	return writev(fd, iov, pieces);
}

static void *pipe_stream_writer(void *arg)
{
	struct pipe_pair *p = arg;
	static _Thread_local unsigned char buf[PIPE_CHUNK];
	unsigned seed = (unsigned)p->writer_cpu * 31u + 7u;

	pin(0, p->writer_cpu);
	for (uint64_t at = 0; at < PIPE_STREAM;) {
		size_t n = 1 + (size_t)rand_r(&seed) % PIPE_CHUNK;
		if (n > PIPE_STREAM - at)
			n = PIPE_STREAM - at;
		for (size_t i = 0; i < n; i++)
			buf[i] = stream_byte(at + i);
		ssize_t put = p->use_send ? send(p->fd[1], buf, n, MSG_NOSIGNAL)
					  : write_pieces(p->fd[1], buf, n, at);
		if (put != (ssize_t)n) {
			p->bad++; /* a blocking write moves all of it */
			break;
		}
		at += n;
	}
	close(p->fd[1]);
	return NULL;
}

static void *pipe_stream_reader(void *arg)
{
	struct pipe_pair *p = arg;
	static _Thread_local unsigned char buf[PIPE_CHUNK];
	unsigned seed = (unsigned)p->reader_cpu * 17u + 3u;
	int ep = -1;

	pin(0, p->reader_cpu);
	if (p->use_epoll) {
		struct epoll_event ev = {.events = EPOLLIN};
		ep = epoll_create1(0);
		if (ep < 0 || fcntl(p->fd[0], F_SETFL, O_NONBLOCK) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, p->fd[0], &ev)) {
			p->bad++;
			return NULL;
		}
	}
	for (;;) {
		size_t want = 1 + (size_t)rand_r(&seed) % PIPE_CHUNK;
		struct iovec halves[2] = {{buf, want / 2}, {buf + want / 2, want - want / 2}};
		ssize_t n = p->use_send ? recv(p->fd[0], buf, want, want % 3 ? 0 : MSG_DONTWAIT)
			    : want % 2	? read(p->fd[0], buf, want)
					: readv(p->fd[0], halves, 2);
		if (n == 0)
			break;
		if (n < 0 && errno == EAGAIN && ep < 0 && p->use_send) {
			/* A MSG_DONTWAIT recv found nothing yet: wait with poll. */
			struct pollfd pfd = {.fd = p->fd[0], .events = POLLIN};
			if (poll(&pfd, 1, 10000) != 1) {
				p->bad++; /* ten seconds with nothing: a lost wake */
				break;
			}
			continue;
		}
		if (n < 0 && errno == EAGAIN && ep >= 0) {
			struct epoll_event ev;
			/* A look first (timeout 0: the shared side's when
			 * nothing is ready), then the wait. */
			if (epoll_wait(ep, &ev, 1, 0) == 0 && epoll_wait(ep, &ev, 1, 10000) != 1) {
				p->bad++; /* ten seconds with nothing: a lost wake */
				break;
			}
			continue;
		}
		if (n < 0) {
			p->bad++;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			p->bad += buf[i] != stream_byte(p->got + (uint64_t)i);
		p->got += (uint64_t)n;
	}
	if (ep >= 0)
		close(ep);
	return NULL;
}

static int shared_pipe[2], shared_counter; /* the counter: an eventfd */
static uint64_t counted;

/* Reads the eventfd the record writers bump (blocking) until it counted
 * every record. */
static void *count_records(void *arg)
{
	long want = (long)(intptr_t)arg;
	uint64_t v;

	while (counted < (uint64_t)want && read(shared_counter, &v, sizeof(v)) == sizeof(v))
		counted += v;
	return NULL;
}

static void *pipe_record_writer(void *arg)
{
	int me = (int)(intptr_t)arg;
	unsigned char rec[PIPE_ATOMIC];
	unsigned seed = (unsigned)me * 7919u + 1u;

	pin(0, me % ncpus);
	for (uint32_t seq = 0; seq < PIPE_RECORDS; seq++) {
		uint32_t len = seq % 50 ? 12 + (uint32_t)rand_r(&seed) % 700 : PIPE_ATOMIC;
		uint32_t head[3] = {(uint32_t)me, seq, len};
		memcpy(rec, head, sizeof(head));
		for (uint32_t i = 12; i < len; i++)
			rec[i] = stream_byte((uint64_t)me << 40 | (uint64_t)seq << 16 | i);
		uint64_t one = 1;
		struct iovec parts[2] = {{rec, 12}, {rec + 12, len - 12}};
		if (writev(shared_pipe[1], parts, 2) != (ssize_t)len ||
		    write(shared_counter, &one, sizeof(one)) != sizeof(one))
			return (void *)1;
	}
	return NULL;
}

/* Takes the shared pipe's records apart: the number of bad ones. */
static long read_records(int writers, long *records)
{
	static unsigned char stream[2 * PIPE_ATOMIC];
	uint32_t next[64] = {0};
	size_t have = 0;
	long bad = 0;
	struct pollfd pfd = {.fd = shared_pipe[0], .events = POLLIN};

	*records = 0;
	while (*records < (long)writers * PIPE_RECORDS && !bad) {
		if (poll(&pfd, 1, 10000) != 1)
			return bad + 1;
		ssize_t n = read(shared_pipe[0], stream + have, sizeof(stream) - have);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return bad + 1;
		have += (size_t)n;
		uint32_t head[3];
		while (have >= sizeof(head) &&
		       (memcpy(head, stream, sizeof(head)), have >= head[2])) {
			if (head[0] >= (uint32_t)writers || head[2] < 12 || head[2] > PIPE_ATOMIC ||
			    head[1] != next[head[0]])
				return bad + 1; /* torn, mixed or out of order */
			for (uint32_t i = 12; i < head[2]; i++)
				bad += stream[i] != stream_byte((uint64_t)head[0] << 40 |
								(uint64_t)head[1] << 16 | i);
			next[head[0]]++;
			(*records)++;
			memmove(stream, stream + head[2], have - head[2]);
			have -= head[2];
		}
	}
	return bad;
}

static void check_pipes_across_cpus(void)
{
	static struct pipe_pair streams[64];
	pthread_t w[64], r[64], rw[64];
	int n = ncpus < 2 ? 2 : ncpus, ok = 1;
	long bad = 0, records;

	counted = 0;
	shared_counter = eventfd(0, 0);
	if (shared_counter < 0 || pipe(shared_pipe) || fcntl(shared_pipe[0], F_SETFL, O_NONBLOCK)) {
		CHECK("pipes_across_cpus_lose_and_mix_nothing", 0);
		return;
	}
	for (int i = 0; i < n; i++) {
		streams[i] = (struct pipe_pair){
		    .writer_cpu = i % ncpus, .reader_cpu = (i + 1) % ncpus, .use_epoll = i % 2};
		if (pipe(streams[i].fd)) {
			CHECK("pipes_across_cpus_lose_and_mix_nothing", 0);
			return;
		}
	}
	uint64_t start = now_ns();
	pthread_t counter;
	pthread_create(&counter, NULL, count_records, (void *)(intptr_t)(n * PIPE_RECORDS));
	for (int i = 0; i < n; i++) {
		pthread_create(&r[i], NULL, pipe_stream_reader, &streams[i]);
		pthread_create(&w[i], NULL, pipe_stream_writer, &streams[i]);
		pthread_create(&rw[i], NULL, pipe_record_writer, (void *)(intptr_t)i);
	}
	bad = read_records(n, &records);
	for (int i = 0; i < n; i++) {
		void *ret;
		join_or_fail(w[i], "pipes_across_cpus_lose_and_mix_nothing", NULL);
		join_or_fail(r[i], "pipes_across_cpus_lose_and_mix_nothing", NULL);
		join_or_fail(rw[i], "pipes_across_cpus_lose_and_mix_nothing", &ret);
		ok &= ret == NULL && streams[i].bad == 0 && streams[i].got == PIPE_STREAM;
		close(streams[i].fd[0]);
	}
	join_or_fail(counter, "pipes_across_cpus_lose_and_mix_nothing", NULL);
	close(shared_pipe[0]);
	close(shared_pipe[1]);
	close(shared_counter);
	printf("smp: %d pipe pairs moved %d bytes each in %llu ms; %ld of %d records whole, %ld "
	       "bad, %llu counted\n",
	       n, PIPE_STREAM, (unsigned long long)((now_ns() - start) / 1000000), records,
	       n * PIPE_RECORDS, bad, (unsigned long long)counted);
	CHECK("pipes_across_cpus_lose_and_mix_nothing", ok && bad == 0 &&
							    records == (long)n * PIPE_RECORDS &&
							    counted == (uint64_t)n * PIPE_RECORDS);
}

/* Runs a reader and a writer for each of the n streams set up (the
 * writer closes its end, the reader reads to the end), then closes the
 * readers' ends and reports the check. */
static void run_streams(struct pipe_pair *streams, int n, const char *check, const char *what)
{
	static pthread_t w[64], r[64];
	int ok = 1;
	uint64_t start = now_ns();

	for (int i = 0; i < n; i++) {
		pthread_create(&r[i], NULL, pipe_stream_reader, &streams[i]);
		pthread_create(&w[i], NULL, pipe_stream_writer, &streams[i]);
	}
	for (int i = 0; i < n; i++) {
		join_or_fail(w[i], check, NULL);
		join_or_fail(r[i], check, NULL);
		ok &= streams[i].bad == 0 && streams[i].got == PIPE_STREAM;
		close(streams[i].fd[0]);
	}
	printf("smp: %d %s moved %d bytes each in %llu ms\n", n, what, PIPE_STREAM,
	       (unsigned long long)((now_ns() - start) / 1000000));
	CHECK(check, ok);
}

/*
 * AF_UNIX stream pairs across CPUs: the same streams as the pipes' above
 * through a socketpair of each, written on one CPU and read on the next
 * (half the readers with epoll), half of them from the pair's first end
 * to its second with read and write, half the other way with send and
 * recv (some MSG_DONTWAIT). Their read and write run on the
 * shared side (net/unix.c), each pair's queue behind its own lock.
 */
static void check_unix_streams_across_cpus(void)
{
	static struct pipe_pair streams[64];
	int n = ncpus < 2 ? 2 : ncpus;

	for (int i = 0; i < n; i++) {
		int sv[2];
		streams[i] = (struct pipe_pair){.writer_cpu = i % ncpus,
						.reader_cpu = (i + 1) % ncpus,
						.use_epoll = i % 2,
						.use_send = (i + 1) / 2 % 2};
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			CHECK("unix_streams_across_cpus_lose_and_mix_nothing", 0);
			return;
		}
		streams[i].fd[0] = sv[(i + i / 2) % 2];
		streams[i].fd[1] = sv[1 - (i + i / 2) % 2];
	}
	run_streams(streams, n, "unix_streams_across_cpus_lose_and_mix_nothing",
		    "unix stream pairs");
}

/*
 * TCP connections over the loopback interface across CPUs: the same
 * streams again, each through a connection of its own to a listener on
 * 127.0.0.1, written on one CPU and read on the next, half with epoll and
 * half with send and recv. Every call on them takes the kernel lock, and
 * what a send loops back is the stack's deferred work: lwIP's one context
 * must hold with threads on every CPU.
 */
static void check_tcp_streams_across_cpus(void)
{
	static struct pipe_pair streams[64];
	int n = ncpus < 2 ? 2 : ncpus;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 64) ||
	    getsockname(l, (struct sockaddr *)&a, &len)) {
		CHECK("tcp_streams_across_cpus_lose_and_mix_nothing", 0);
		return;
	}
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), s;
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) ||
		    (s = accept(l, NULL, NULL)) < 0) {
			CHECK("tcp_streams_across_cpus_lose_and_mix_nothing", 0);
			return;
		}
		streams[i] = (struct pipe_pair){.writer_cpu = i % ncpus,
						.reader_cpu = (i + 1) % ncpus,
						.use_epoll = i % 2,
						.use_send = (i + 1) / 2 % 2};
		streams[i].fd[0] = i % 2 ? s : c;
		streams[i].fd[1] = i % 2 ? c : s;
	}
	close(l);
	run_streams(streams, n, "tcp_streams_across_cpus_lose_and_mix_nothing", "tcp connections");
}

/* ---------------------------------------------------------------- exit */

static void *spin_forever(void *arg)
{
	(void)arg;
	for (;;)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The oracle: the same result from one thread, wherever it runs. */
	if (argc > 1 && !strcmp(argv[1], "compute")) {
		compute(1);
		return 0;
	}
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	check_cpu_count();
	check_moved_thread_writes(); /* first: the CPUs' call counts are still near each other */
	check_parallel();
	check_pin_self();
	check_move_other();
	compute(ncpus < 2 ? 2 : ncpus);
	check_futex_ping_pong(rounds > 0 ? rounds : 20000);
	check_wakes_from_several_cpus();
	check_pinned_threads_take_turns();
	check_futex_pairs();
	check_futex_requeue();
	check_futex_storm();
	check_mmap_churn();
	check_same_pages();
	check_reads_beside_each_other();
	check_writes_beside_each_other();
	check_appends_beside_each_other();
	check_pipes_across_cpus();
	check_unix_streams_across_cpus();
	check_tcp_streams_across_cpus();
	check_signal_to_spinner();
	check_munmap_under_reader();
	check_each_cpu_times_itself();
	check_alarm_from_an_idle_cpu();
	check_sleeps_on_every_cpu();
	write_console_lines();
	/* Exit while every other CPU spins in ring 3: the kernel stops them
	 * before it tears the app down; "solo: exit N" comes once. */
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		pthread_create(&t, NULL, spin_forever, NULL);
	}
	struct timespec d = {0, 50000000};
	nanosleep(&d, NULL);
	printf("smp: exiting while 4 threads spin\n");
	printf("smp: %d failures\n", failures);
	return failures;
}
