/*
 * smp - app threads on several CPUs (kernel/thread.c's scheduler across
 * CPUs), checked from inside the app: two threads seen running at the same
 * moment on different CPUs (getcpu and a shared word each), a signal to a
 * thread spinning in ring 3 on another CPU arrives, munmap while another
 * thread reads the region (the reader faults and never sees anything but
 * what was there), and at the end exit while every other thread spins.
 * Needs two CPUs or more (under one, the first check fails). Prints
 * "smp: ok NAME" per check and exits with the number of failures.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PREFIX "smp"
#include "check.h"

#define LIMIT_NS 5000000000ull /* a bound, not a measurement */

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

/* ---------------------------------------------------------------- parallel */

static unsigned running_on[2]; /* CPU + 1 while spinning there, 0 before */
static int saw_other[2];

static void *spin_and_look(void *arg)
{
	int me = (int)(intptr_t)arg, other = !me;
	uint64_t end = now_ns() + LIMIT_NS;

	while (now_ns() < end && !__atomic_load_n(&saw_other[other], __ATOMIC_ACQUIRE)) {
		unsigned c = cpu_now();
		__atomic_store_n(&running_on[me], c + 1, __ATOMIC_RELEASE);
		unsigned o = __atomic_load_n(&running_on[other], __ATOMIC_ACQUIRE);
		/* The other thread published another CPU, and is still there
		 * now that this one is still on its own: both run at once. */
		if (o && o != c + 1 && cpu_now() == c &&
		    __atomic_load_n(&running_on[other], __ATOMIC_ACQUIRE) == o)
			__atomic_store_n(&saw_other[me], 1, __ATOMIC_RELEASE);
	}
	/* Stay visible until the other one saw this one too. */
	while (now_ns() < end && !__atomic_load_n(&saw_other[other], __ATOMIC_ACQUIRE))
		;
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

/* ---------------------------------------------------------------- exit */

static void *spin_forever(void *arg)
{
	(void)arg;
	for (;;)
		;
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	check_parallel();
	check_signal_to_spinner();
	check_munmap_under_reader();
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
