/* Host stand-ins for kernel services (see kernel_shim.h). */
#include "kernel_shim.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/tty.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/syscall.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm_arena.h"

uint64_t shim_now;
int thread_exit_work; /* kernel/thread.c's flag, set by kernel/defer.c */
int shim_wakes, shim_signal_pending, shim_last_signal, shim_signals;
uint64_t shim_deadline, shim_progress, shim_retry_deadline;
_Thread_local int shim_shared, shim_needs_lock, shim_copy_yields;
char shim_console[65536];
size_t shim_console_len;

#define SHIM_ENTRIES 256

static struct wait_entry entries[SHIM_ENTRIES];
static struct ktimer *armed;

/* As the kernel's: a shared syscall's copy that fails gives the attempt
 * up to the kernel lock. */
static int copy_fault(void)
{
	if (shim_shared)
		(void)syscall_needs_lock();
	return -EFAULT;
}

int app_copy_to(uint64_t dst, const void *src, size_t len)
{
	if (len && dst < 4096)
		return copy_fault();
	memcpy((void *)(uintptr_t)dst, src, len);
	return 0;
}

int app_copy_from(void *dst, uint64_t src, size_t len)
{
	if (len && src < 4096)
		return copy_fault();
	if (shim_copy_yields)
		sched_yield();
	memcpy(dst, (const void *)(uintptr_t)src, len);
	return 0;
}

uint64_t time_now(void)
{
	return shim_now;
}

int time_clock(int clock, uint64_t *ns)
{
	if (clock < 0 || clock > CLOCK_BOOTTIME)
		return -EINVAL;
	*ns = clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE
		  ? 1700000000ull * NSEC_PER_SEC + shim_now
		  : shim_now;
	return 0;
}

uint64_t time_clock_deadline(int clock, uint64_t ns)
{
	if (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)
		return ns >= 1700000000ull * NSEC_PER_SEC ? ns - 1700000000ull * NSEC_PER_SEC : 0;
	return ns;
}

void ktimer_arm(struct ktimer *t, uint64_t deadline)
{
	ktimer_cancel(t);
	t->deadline = deadline;
	t->armed = 1;
	t->next = armed;
	armed = t;
}

void ktimer_arm_period(struct ktimer *t, uint64_t due, uint64_t now)
{
	uint64_t soonest = time_add(now, TIME_MIN_REARM_NS);

	ktimer_arm(t, due > soonest ? due : soonest);
}

void ktimer_cancel(struct ktimer *t)
{
	for (struct ktimer **pp = &armed; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = 0;
	t->next = NULL;
}

int time_timers_armed(void)
{
	return armed != NULL;
}

void shim_advance(uint64_t now)
{
	shim_now = now;
	for (;;) {
		struct ktimer *due = NULL;
		for (struct ktimer *t = armed; t; t = t->next)
			if (t->deadline <= now && (!due || t->deadline < due->deadline))
				due = t;
		if (!due)
			return;
		ktimer_cancel(due);
		due->fn(due);
	}
}

static void shim_wake(struct wait_entry *e, unsigned events)
{
	(void)e;
	(void)events;
	shim_wakes++;
}

int thread_wait_on(struct waitq *wq)
{
	for (int i = 0; i < SHIM_ENTRIES; i++) {
		if (!entries[i].wq) {
			wait_entry_init(&entries[i], shim_wake, NULL);
			waitq_add(wq, &entries[i]);
			return 0;
		}
	}
	return -ENOMEM;
}

/* kernel/thread.c's: in a shared syscall the wake runs under the lock
 * shared sections take for threads (LOCK_THREADS), here a mutex. */
static pthread_mutex_t shim_threads_lock = PTHREAD_MUTEX_INITIALIZER;

int thread_wake_queue(struct waitq *wq, unsigned events)
{
	if (!shim_shared)
		return waitq_wake(wq, events);
	if (!__atomic_load_n(&wq->head, __ATOMIC_RELAXED))
		return 0;
	pthread_mutex_lock(&shim_threads_lock);
	int ran = waitq_wake(wq, events);
	pthread_mutex_unlock(&shim_threads_lock);
	return ran;
}

static void shim_queue(struct poll_table *pt, struct waitq *wq)
{
	(void)pt;
	thread_wait_on(wq);
}

static struct poll_table shim_table = {shim_queue};

struct poll_table *thread_poll_table(void)
{
	return &shim_table;
}

int shim_queued(void)
{
	int n = 0;

	for (int i = 0; i < SHIM_ENTRIES; i++)
		n += entries[i].wq != NULL;
	return n;
}

void shim_unqueue(void)
{
	for (int i = 0; i < SHIM_ENTRIES; i++)
		waitq_remove(&entries[i]);
}

void thread_wait_cancel(void)
{
	shim_unqueue();
}

long thread_wait(uint64_t deadline, long restart, const char *what, uint64_t addr)
{
	(void)what;
	(void)addr;
	shim_deadline = deadline;
	if (shim_signal_pending) {
		shim_unqueue();
		return restart;
	}
	if (deadline && shim_now >= deadline) {
		shim_unqueue();
		return -ETIMEDOUT;
	}
	return -EWAITING;
}

uint64_t thread_wait_deadline(uint64_t timeout_ns)
{
	if (shim_retry_deadline)
		return shim_retry_deadline;
	return timeout_ns == UINT64_MAX ? 0 : time_add(shim_now, timeout_ns);
}

void thread_set_wait_deadline(uint64_t deadline)
{
	shim_deadline = deadline;
}

uint64_t thread_wait_progress(void)
{
	return shim_progress;
}

void thread_set_wait_progress(uint64_t progress)
{
	shim_progress = progress;
}

struct thread *thread_current(void)
{
	return NULL;
}

int signal_raise(struct thread *t, int sig, const struct signal_info *info)
{
	(void)t;
	(void)info;
	shim_last_signal = sig;
	shim_signals++;
	return 0;
}

int signal_pending(struct thread *t)
{
	(void)t;
	return shim_signal_pending;
}

void signal_set_temporary_mask(uint64_t mask)
{
	(void)mask;
}

static const struct file_ops shim_console_ops = {.kind = "shim console"};

int tty_open_console(unsigned flags, struct file **out)
{
	*out = file_new(&shim_console_ops, flags, NULL);
	return *out ? 0 : -ENOMEM;
}

void console_write(const char *buf, size_t len)
{
	size_t room = sizeof(shim_console) - shim_console_len;

	fwrite(buf, 1, len, stdout); /* the dump tests read kprintf's output there */
	memcpy(shim_console + shim_console_len, buf, len < room ? len : room);
	shim_console_len += len < room ? len : room;
}

void console_set_colour(enum console_colour colour)
{
	(void)colour;
}

/* One host thread writes the shim's console at a time in these tests. */
int console_lock(void)
{
	return 0;
}

void console_unlock(int taken)
{
	(void)taken;
}

void console_stop_locking(void)
{
}

void shim_reset(void)
{
	shim_unqueue();
	while (armed)
		ktimer_cancel(armed);
	shim_now = 0;
	shim_wakes = shim_signal_pending = shim_last_signal = shim_signals = 0;
	shim_deadline = shim_progress = shim_retry_deadline = 0;
	shim_shared = shim_needs_lock = 0;
	shim_console_len = 0;
}

int syscall_shared(void)
{
	return shim_shared;
}

long syscall_needs_lock(void)
{
	shim_needs_lock = 1;
	return -EAGAIN;
}

int syscall_shared_dropped(void)
{
	return shim_needs_lock;
}

/* mm/kmalloc.c's shared side in a shared syscall (shim_shared): the heap's
 * lock and palloc's, as kernel/app.c's, are mutexes here; each host thread
 * takes pages from the palloc cache of its spin_host_cpu. */
static pthread_mutex_t shim_heap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t shim_pool_lock = PTHREAD_MUTEX_INITIALIZER;

static int shim_heap_in_section(void)
{
	return shim_shared;
}

static void shim_heap_take(void)
{
	pthread_mutex_lock(&shim_heap_lock);
}

static void shim_heap_give(void)
{
	pthread_mutex_unlock(&shim_heap_lock);
}

int shim_heap_pages_refused;

static paddr_t shim_heap_pages(size_t n)
{
	if (__atomic_load_n(&shim_heap_pages_refused, __ATOMIC_RELAXED))
		return 0;
	pthread_mutex_lock(&shim_pool_lock);
	paddr_t pa = n == 1 ? palloc_cache_take(spin_host_cpu) : palloc_no_reclaim(n);
	pthread_mutex_unlock(&shim_pool_lock);
	return pa;
}

static void shim_heap_free_pages(paddr_t pa, size_t n)
{
	pthread_mutex_lock(&shim_pool_lock);
	pfree(pa, n);
	pthread_mutex_unlock(&shim_pool_lock);
}

const struct kmalloc_shared_side shim_heap_side = {
    shim_heap_in_section, shim_heap_take, shim_heap_give, shim_heap_pages, shim_heap_free_pages};

void shim_setup(void)
{
	mm_test_setup();
	kmalloc_set_shared_side(&shim_heap_side);
	shim_reset();
}

void shim_close_all_and_check(void)
{
	fd_table_release();
	cr_assert_eq(shim_queued(), 0, "a wait entry outlived its file");
	cr_assert_not(time_timers_armed(), "a closed file left its timer armed");
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0, "memory leaked");
}

/* Deterministic, so a failing test fails the same way every run. */
void arch_random_bytes(void *buf, unsigned len)
{
	static uint64_t state = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < len; i++) {
		state = state * 6364136223846793005ull + 1442695040888963407ull;
		((unsigned char *)buf)[i] = (unsigned char)(state >> 56);
	}
}

/* kernel/proc.c's umask, for the modules that make names (net/unix.c). */
unsigned proc_umask(void)
{
	return 022;
}
