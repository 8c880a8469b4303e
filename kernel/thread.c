/*
 * The app's threads and the scheduler (see thread.h). A fixed table: slot 0
 * starts as the main thread; a slot is free again as soon as its thread
 * exits (nothing waits on the slot itself: pthread_join waits on the
 * clear_child_tid word, in the app's memory).
 *
 * Invariants:
 *   - this_cpu()->thread is the current thread: the one whose registers are
 *     in the frame being returned through, or whose syscall runs. It is
 *     RUNNABLE unless the syscall in progress just made it wait or ended it.
 *   - Every other live thread's user registers are in its slot (regs); a
 *     RUNNABLE one with `retry` set was woken from a wait and runs its
 *     syscall (syscall_nr, arguments in regs) again before it returns.
 *   - A WAITING thread's wait entries are on the queues it waits on and its
 *     timer is armed when it has a deadline; a RUNNABLE one has neither.
 *   - The CPU holds the FS base and FPU state of cpu_owner (saved into its
 *     slot only when another thread's are loaded), and cpu_owner is the
 *     current thread whenever the CPU returns to ring 3.
 */
#include "kernel/thread.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/sched.h"
#include "kernel/abi/futex.h"
#include "kernel/abi/signal.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/gdt.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/sigframe.h"
#include "kernel/arch/x86_64/syscall.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/defer.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/lockstat.h"
#include "kernel/futex.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/syscall.h"
#include "kernel/time.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

#define CLONE_THREAD_FLAGS                                                                         \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED |              \
	 CLONE_CHILD_SETTID | CSIGNAL)
#define SLICE_NS    10000000ull /* 10 ms */
#define WAIT_INLINE 4		/* wait entries every thread has; poll needs more */
#define WAIT_CHUNK  32
#define NO_SYSCALL  UINT64_MAX
#define RFLAGS_IF   (1ull << 9)

enum thread_state {
	THREAD_FREE,
	THREAD_RUNNABLE,
	THREAD_WAITING, /* in thread_wait: on wait queues and/or until a deadline */
};

struct wait_chunk {
	struct wait_chunk *next;
	struct wait_entry e[WAIT_CHUNK];
};

struct thread {
	enum thread_state state;
	int tid;
	struct user_regs regs; /* while not current */
	uint64_t fs;	       /* while another thread's is loaded */
	uint64_t clear_child_tid;
	struct signal_thread sig;
	uint64_t syscall_nr;  /* the syscall it waits in / whose result regs.rax holds */
	uint64_t syscall_seq; /* and its number in this_cpu()->syscall_seq */
	unsigned on_cpu;      /* the CPU (index + 1) it is current on; 0: none */
	unsigned sent_to;     /* the idle CPU (index + 1) kicked to run it; 0: none */
	uint64_t affinity;    /* the CPUs (bit: index) it may run on; one online */
	int retry;	      /* woken: run syscall_nr again before returning */
	int result_pending;   /* regs.rax is syscall_nr's result (signals may restart it) */
	struct {
		int wake_pending;      /* a queue fired during the attempt, before thread_wait */
		uint64_t deadline_seq; /* the syscall_seq deadline belongs to, 0: none */
		uint64_t deadline;     /* monotonic ns; 0: none */
		uint64_t progress_seq; /* likewise for progress */
		uint64_t progress;
		uint64_t sleep_seq;	 /* the syscall_seq of a sleep (thread_sleep), 0: none */
		uint64_t sleep_deadline; /* and its deadline */
		struct ktimer timer;
		const char *what;
		uint64_t addr;
		unsigned nentries; /* entries in use in this attempt */
		struct wait_entry entries[WAIT_INLINE];
		struct wait_chunk *chunks; /* more entries, kept for reuse */
	} wait;
};

static struct thread threads[THREAD_MAX];
/* Slots [0, slots_used) have held a thread: the scans stop there (clone
 * takes the lowest free slot, so an app with a few threads scans a few
 * slots, not THREAD_MAX; a switch scans several times). Only grows. */
static int slots_used = 1;
/* The FPU images of threads not running; XSAVE wants 64-byte alignment. */
static uint8_t fpu_areas[THREAD_MAX][FPU_STATE_SIZE] __attribute__((aligned(64)));
static int live;
static int next_tid = 2;
static int main_status = -1; /* the main thread's exit status once it left */
/* Each CPU's slice, on its own timer (kernel/time.h). */
static struct ktimer slices[SMP_MAX_CPUS];
/* What shared sections change of the above, the futex waiters and the
 * timer lists, they change under this (thread_shared_lock). */
static struct spinlock shared_lock = SPINLOCK_INIT("threads (shared side)", LOCK_THREADS);
static unsigned long shared_lock_flags;

/* The end of the slots to scan (slots_used). */
static int slots_end(void)
{
	return __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);
}

/* See thread.h: 0 only while nothing but the running thread can run. */
int thread_exit_work;
struct cpu boot_cpu;

static struct thread *current(void)
{
	return this_cpu()->thread;
}

static int slot_of(const struct thread *t)
{
	return (int)(t - threads);
}

/* This CPU as a thread's on_cpu says it. */
static unsigned me(void)
{
	return this_cpu()->index + 1;
}

/* ---------------------------------------------------------------- the other CPUs */

/* Whether t may run on this CPU (sched_setaffinity). */
static int allowed_here(const struct thread *t)
{
	return (t->affinity >> this_cpu()->index) & 1;
}

static void give_slices(uint64_t cpus);

/* The CPUs that run app threads (bit: index). */
static uint64_t online_mask(void)
{
	return THREAD_SMP ? smp_online_mask() : 1;
}

/* t became runnable (or was let go by this CPU): one idle CPU it may run
 * on (if any) comes to run it. With none, it waits for a CPU: every CPU it
 * may run on gets a slice, so that its turn comes. */
static void find_a_cpu(struct thread *t)
{
	uint64_t cpus = t->affinity & online_mask() & ~(1ull << this_cpu()->index);

	for (; cpus; cpus &= cpus - 1) {
		unsigned c = (unsigned)__builtin_ctzll(cpus);
		struct cpu *p = cpu_entries[c].cpu;
		if (__atomic_exchange_n(&p->idle, 0, __ATOMIC_ACQ_REL)) {
			t->sent_to = c + 1;
			smp_kick(c);
			return;
		}
	}
	t->sent_to = 0;
	give_slices(t->affinity);
}

static void make_current(struct thread *t)
{
	this_cpu()->thread = t;
	this_cpu()->signals = &t->sig;
}

struct thread *thread_current(void)
{
	return current();
}

int thread_tid(const struct thread *t)
{
	return t->tid;
}

struct signal_thread *thread_signals(struct thread *t)
{
	return &t->sig;
}

struct thread *thread_by_tid(int tid)
{
	for (int i = 0, end = slots_end(); i < end; i++) {
		if (threads[i].state != THREAD_FREE && threads[i].tid == tid)
			return &threads[i];
	}
	return NULL;
}

void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg)
{
	for (int i = 0, end = slots_end(); i < end; i++) {
		if (threads[i].state != THREAD_FREE)
			fn(&threads[i], arg);
	}
}

/* ---------------------------------------------------------------- the slice */

/* Whether a thread waits for a CPU: runnable, and no CPU runs it (so N
 * threads on N CPUs need no slices; a thread about to run is claimed, so
 * it does not count). */
static int another_runnable(void)
{
	for (int i = 0, end = slots_end(); i < end; i++) {
		if (threads[i].state == THREAD_RUNNABLE && !threads[i].on_cpu)
			return 1;
	}
	return 0;
}

static void resched_call(void *arg)
{
	(void)arg;
	this_cpu()->resched = 1;
	thread_exit_work = 1;
}

static struct ktimer *my_slice(void)
{
	return &slices[this_cpu()->index];
}

/* A CPU's slice ended, on that CPU (its own timer): its thread gives the
 * CPU up at its next return to ring 3, if another thread waits for one. */
static void slice_over(struct ktimer *t)
{
	(void)t;
	if (another_runnable())
		resched_call(NULL);
}

/* A fresh slice for the thread about to run while another could run
 * instead; no slice (no timer interrupts) while it is alone. */
static void start_slice(void)
{
	if (another_runnable())
		ktimer_arm(my_slice(), time_add(time_now(), SLICE_NS));
	else
		ktimer_cancel(my_slice());
}

/* A thread waits for one of cpus: each of them that runs a thread and has
 * no slice gets one (another CPU's timer is armed through an IPI). */
static void give_slices(uint64_t cpus)
{
	for (int i = 0, end = slots_end(); i < end; i++) {
		unsigned c = threads[i].on_cpu;
		if (!c || threads[i].state != THREAD_RUNNABLE || !((cpus >> (c - 1)) & 1) ||
		    slices[c - 1].armed)
			continue;
		ktimer_arm_on(&slices[c - 1], c - 1, time_add(time_now(), SLICE_NS));
	}
}

/* ---------------------------------------------------------------- life cycle */

static void wait_timeout(struct ktimer *k);
static _Noreturn void run_here(struct thread *t);
static _Noreturn void enter_ring3(struct thread *t, int locked);
static void release(struct thread *t);
static void finish_switch(struct thread *next);
static _Noreturn void idle_here(void);
static void drop_entries(struct thread *t);

static void init_slot(struct thread *t, int tid)
{
	struct wait_chunk *chunks = t->wait.chunks; /* kept from an earlier thread */

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->affinity = ~0ull; /* every CPU, those started later too */
	t->wait.chunks = chunks;
	ktimer_init_shared(&t->wait.timer, wait_timeout);
}

void thread_release_all(void)
{
	thread_stop_other_cpus();
	for (int i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state == THREAD_WAITING) {
			drop_entries(t);
			ktimer_cancel(&t->wait.timer);
		}
		while (t->wait.chunks) {
			struct wait_chunk *next = t->wait.chunks->next;
			kfree(t->wait.chunks);
			t->wait.chunks = next;
		}
		t->state = THREAD_FREE;
	}
	for (unsigned c = 0; c < SMP_MAX_CPUS; c++)
		ktimer_cancel(&slices[c]);
	live = 0;
}

void thread_init(void)
{
	init_slot(&threads[0], 1);
	signal_thread_init(&threads[0].sig, NULL);
	threads[0].state = THREAD_RUNNABLE;
	live = 1;
	make_current(&threads[0]);
	threads[0].on_cpu = me();
	this_cpu()->fpu_owner = &threads[0];
	for (unsigned c = 0; c < SMP_MAX_CPUS; c++)
		ktimer_init_shared(&slices[c], slice_over);
	this_cpu()->syscall_nr = NO_SYSCALL;
}

long thread_clone(const struct syscall_frame *f, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls)
{
	struct thread *c = NULL;

	if (!(flags & CLONE_VM) || !(flags & CLONE_THREAD))
		return -ENOSYS; /* fork, vfork, posix_spawn: a new process */
	if ((flags & ~CLONE_THREAD_FLAGS) || !(flags & CLONE_SIGHAND))
		return -EINVAL;
	/* As ARCH_SET_FS: a kernel-half base would let %fs reach the kernel. */
	if ((flags & CLONE_SETTLS) && tls >= VM_USER_TOP)
		return -EPERM;
	for (int i = 0; i < THREAD_MAX && !c; i++) {
		if (threads[i].state == THREAD_FREE)
			c = &threads[i];
	}
	if (!c)
		return -EAGAIN;
	if (slot_of(c) >= slots_used)
		__atomic_store_n(&slots_used, slot_of(c) + 1, __ATOMIC_RELEASE);
	int32_t tid = next_tid;
	if ((flags & CLONE_PARENT_SETTID) && app_copy_to(ptid, &tid, sizeof(tid)))
		return -EFAULT;
	if ((flags & CLONE_CHILD_SETTID) && app_copy_to(ctid, &tid, sizeof(tid)))
		return -EFAULT;
	next_tid++;

	init_slot(c, tid);
	user_regs_from_syscall(f, &c->regs);
	c->regs.rax = 0;
	/* Any stack is taken: a bad one faults in the child, in ring 3,
	 * which kills the app like any unhandled fault. */
	if (stack)
		c->regs.rsp = stack;
	c->fs = (flags & CLONE_SETTLS) ? tls : arch_get_user_fs();
	signal_thread_init(&c->sig, &current()->sig);
	c->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
	c->affinity = current()->affinity; /* as Linux: the child inherits it */
	/* The child starts with a copy of the caller's FPU state, which the
	 * CPU holds: the caller is running. */
	fpu_state_save(fpu_areas[slot_of(c)]);
	c->state = THREAD_RUNNABLE;
	live++;
	thread_exit_work = 1;
	find_a_cpu(c);
	return tid;
}

void thread_set_clear_tid(uint64_t addr)
{
	current()->clear_child_tid = addr;
}

void thread_yield(void)
{
	if (live > 1)
		this_cpu()->yield_requested = 1;
	thread_exit_work = 1;
}

void thread_exit(int status)
{
	struct thread *t = current();

	/* As on Linux, the app's status is the main thread's when it left
	 * first (musl's and glibc's last pthread_exit call exit() anyway). */
	if (live == 1)
		app_exit(main_status >= 0 ? main_status : status);
	if (t->tid == 1)
		main_status = status;
	/* pthread_join waits for this word to become 0 (CLONE_CHILD_CLEARTID).
	 * A word the app unmapped is just not written, as on Linux. */
	if (t->clear_child_tid) {
		uint32_t zero = 0;
		if (!app_copy_to(t->clear_child_tid, &zero, sizeof(zero)))
			futex_wake(t->clear_child_tid, FUTEX_BITSET_MATCH_ANY, 1);
	}
	t->state = THREAD_FREE;
	release(t);
	live--;
	thread_exit_work = 1;
}

/* ---------------------------------------------------------------- waiting */

/* Takes every wait entry of t off its queue. */
static void drop_entries(struct thread *t)
{
	struct wait_chunk *chunk = t->wait.chunks;

	for (unsigned i = 0; i < t->wait.nentries; i++) {
		if (i < WAIT_INLINE) {
			waitq_remove(&t->wait.entries[i]);
			continue;
		}
		unsigned k = (i - WAIT_INLINE) % WAIT_CHUNK;
		if (i > WAIT_INLINE && !k)
			chunk = chunk->next;
		waitq_remove(&chunk->e[k]);
	}
	t->wait.nentries = 0;
	t->wait.wake_pending = 0;
}

/* Makes the waiting t runnable, to run its syscall again. */
static void resume(struct thread *t)
{
	if (t->state != THREAD_WAITING)
		return;
	drop_entries(t);
	ktimer_cancel(&t->wait.timer);
	t->state = THREAD_RUNNABLE;
	t->retry = 1;
	this_cpu()->woke_since_switch = 1;
	thread_exit_work = 1;
	find_a_cpu(t);
}

static void wake_entry(struct wait_entry *e, unsigned events)
{
	struct thread *t = e->owner;

	(void)events;
	if (t->state == THREAD_WAITING)
		resume(t);
	else
		t->wait.wake_pending = 1; /* during its own attempt: do not sleep through it */
}

static void wait_timeout(struct ktimer *k)
{
	struct thread *t = (struct thread *)((char *)k - offsetof(struct thread, wait.timer));

	resume(t);
}

void thread_interrupt(struct thread *t)
{
	resume(t);
	/* Running on another CPU: bring it out of ring 3 to take the signal. */
	if (t->on_cpu && t->on_cpu != me())
		smp_kick(t->on_cpu - 1);
}

/* The next free entry of t, or NULL without memory. */
static struct wait_entry *take_entry(struct thread *t)
{
	unsigned i = t->wait.nentries;
	struct wait_chunk **chunk = &t->wait.chunks;

	if (i < WAIT_INLINE) {
		t->wait.nentries++;
		return &t->wait.entries[i];
	}
	for (i -= WAIT_INLINE; i >= WAIT_CHUNK; i -= WAIT_CHUNK)
		chunk = &(*chunk)->next;
	if (!*chunk) {
		*chunk = kmalloc(sizeof(**chunk));
		if (!*chunk)
			return NULL;
		(*chunk)->next = NULL;
	}
	t->wait.nentries++;
	return &(*chunk)->e[i];
}

int thread_wait_on(struct waitq *wq)
{
	struct thread *t = current();
	struct wait_entry *e = take_entry(t);

	if (!e)
		return -ENOMEM;
	wait_entry_init(e, wake_entry, t);
	waitq_add(wq, e);
	return 0;
}

static void queue_current(struct poll_table *pt, struct waitq *wq)
{
	(void)pt;
	/* Out of entries, the wait just does not include this queue: the
	 * caller's deadline (or another queue) still ends it. */
	thread_wait_on(wq);
}

static struct poll_table current_poll_table = {queue_current};

struct poll_table *thread_poll_table(void)
{
	return &current_poll_table;
}

void thread_wait_cancel(void)
{
	drop_entries(current());
}

long thread_wait(uint64_t deadline, long restart, const char *what, uint64_t addr)
{
	struct thread *t = current();

	if (signal_pending(t)) {
		drop_entries(t);
		return restart;
	}
	if (deadline && time_now() >= deadline) {
		drop_entries(t);
		return -ETIMEDOUT;
	}
	t->wait.what = what;
	t->wait.addr = addr;
	t->state = THREAD_WAITING;
	if (deadline)
		ktimer_arm(&t->wait.timer, deadline);
	if (t->wait.wake_pending)
		resume(t);
	thread_exit_work = 1;
	return -EWAITING;
}

long thread_sleep(uint64_t deadline, const char *what)
{
	struct thread *t = current();

	t->wait.sleep_seq = this_cpu()->syscall_seq;
	t->wait.sleep_deadline = deadline;
	if (!syscall_shared())
		return thread_wait(deadline, -EINTR, what, 0);
	/* The boot CPU would go idle: the kernel lock's way, which its
	 * idling takes anyway, at once. */
	if (!thread_wait_stays_shared())
		return syscall_needs_lock();
	thread_shared_lock();
	long err = thread_wait(deadline, -EINTR, what, 0);
	thread_shared_unlock();
	return err;
}

uint64_t thread_wait_deadline(uint64_t timeout_ns)
{
	struct thread *t = current();

	if (t->wait.deadline_seq != this_cpu()->syscall_seq) {
		t->wait.deadline = timeout_ns == UINT64_MAX ? 0 : time_add(time_now(), timeout_ns);
		t->wait.deadline_seq = this_cpu()->syscall_seq;
	}
	return t->wait.deadline;
}

void thread_set_wait_deadline(uint64_t deadline)
{
	current()->wait.deadline = deadline;
	current()->wait.deadline_seq = this_cpu()->syscall_seq;
}

uint64_t thread_wait_progress(void)
{
	struct thread *t = current();

	return t->wait.progress_seq == this_cpu()->syscall_seq ? t->wait.progress : 0;
}

void thread_set_wait_progress(uint64_t progress)
{
	current()->wait.progress = progress;
	current()->wait.progress_seq = this_cpu()->syscall_seq;
}

/* ---------------------------------------------------------------- switching */

/* The FS base and FPU state the CPU holds go to their owner's slot (any
 * CPU may load them next); the CPU then holds no thread's. */
static void save_cpu_state(struct cpu *c)
{
	struct thread *owner = c->fpu_owner;

	if (owner && owner->state != THREAD_FREE) {
		owner->fs = arch_get_user_fs();
		fpu_state_save(fpu_areas[slot_of(owner)]);
	}
	c->fpu_owner = NULL;
}

/* Loads t's FS base and FPU state into the CPU, which holds no thread's. */
static void restore_cpu_state(struct cpu *c, struct thread *t)
{
	arch_set_user_fs(t->fs);
	fpu_state_load(fpu_areas[slot_of(t)]);
	c->fpu_owner = t;
}

/* t leaves this CPU: its FS base and FPU state go to its slot (any CPU
 * may load them next), and another CPU may take it. */
static void release(struct thread *t)
{
	struct cpu *c = this_cpu();

	if (c->fpu_owner == t)
		save_cpu_state(c);
	if (t->on_cpu == me()) {
		t->on_cpu = 0;
		c->busy_ns += time_now() - c->busy_since;
	}
}

/* This CPU stops running t: a thread still runnable (preempted, or one
 * whose affinity moved away) goes to an idle CPU that may run it, rather
 * than wait for this one. */
static void let_go(struct thread *t)
{
	int was_here = t->on_cpu == me();

	release(t);
	if (was_here && t->state == THREAD_RUNNABLE)
		find_a_cpu(t);
}

/* This CPU keeps no thread (it goes idle): its current one is let go,
 * and it has no slice to end. */
static void drop_current(void)
{
	struct cpu *c = this_cpu();

	ktimer_cancel(my_slice());
	if (c->thread)
		let_go(c->thread);
	c->thread = NULL;
	c->signals = NULL;
}

/* t becomes this CPU's current thread (no other CPU runs it). */
static void claim(struct thread *t)
{
	struct thread *cur = current();

	if (cur && cur != t)
		let_go(cur);
	if (t->on_cpu != me()) {
		t->on_cpu = me();
		this_cpu()->busy_since = time_now();
	}
	t->sent_to = 0;
	make_current(t);
}

/* Loads t's FS base and FPU state into the CPU. */
static void load_cpu_state(struct thread *t)
{
	struct cpu *c = this_cpu();

	if (c->fpu_owner == t)
		return;
	if (c->fpu_owner)
		release(c->fpu_owner);
	restore_cpu_state(c, t);
}

static _Noreturn void deadlocked(void)
{
	int n = 0, futexes = 0;

	for (int i = 0, end = slots_end(); i < end; i++) {
		if (threads[i].state == THREAD_WAITING) {
			n++;
			futexes += !strcmp(threads[i].wait.what, "futex wait");
		}
	}
	if (n == 1)
		kprintf("solo: app deadlocked: %s with no other thread or timer to end it\n",
			current()->wait.what);
	else if (futexes == n)
		kprintf("solo: app deadlocked: futex wait in all %d threads, none with a timeout\n",
			n);
	else
		kprintf("solo: app deadlocked: all %d threads wait, none with a timeout\n", n);
	for (int i = 0, end = slots_end(); i < end; i++) {
		const struct thread *t = &threads[i];
		if (t->state != THREAD_WAITING)
			continue;
		if (t->wait.addr)
			kprintf("solo:   tid %d: %s at %#lx\n", t->tid, t->wait.what, t->wait.addr);
		else
			kprintf("solo:   tid %d: %s\n", t->tid, t->wait.what);
	}
	app_exit(128 + SIGKILL);
}

/* Whether this CPU may run t: runnable, current nowhere else, allowed
 * here. not_sent: and not one an idle CPU was kicked to run
 * (thread_switch_shared leaves it to that CPU, which is on its way:
 * taking it, a CPU whose thread waits would run both threads of a
 * ping-pong in turns while the other CPU wakes for nothing). The loads are
 * relaxed atomics: thread_wait_stays_shared reads without a lock. */
static int may_run_here(const struct thread *t, int not_sent)
{
	unsigned on = __atomic_load_n(&t->on_cpu, __ATOMIC_RELAXED);
	unsigned sent = __atomic_load_n(&t->sent_to, __ATOMIC_RELAXED);

	return __atomic_load_n(&t->state, __ATOMIC_RELAXED) == THREAD_RUNNABLE &&
	       (!on || on == me()) && allowed_here(t) && !(not_sent && sent && sent != me());
}

/* The next runnable thread after the current one (round robin; the
 * current one comes last), or NULL; not_sent as for may_run_here. */
static struct thread *pick_thread(int not_sent)
{
	int n = slots_end();
	int start = current() ? slot_of(current()) : n - 1;

	for (int k = 1; k <= n; k++) {
		struct thread *t = &threads[(start + k) % n];
		if (may_run_here(t, not_sent))
			return t;
	}
	return NULL;
}

static struct thread *pick(void)
{
	return pick_thread(0);
}

/*
 * Makes t current; when it was woken from a wait, runs its syscall again.
 * Returns 0 when t can return to ring 3 (its registers complete), or
 * -EWAITING when the retry waits again.
 */
static long resume_syscall(struct thread *t)
{
	claim(t);
	if (!t->retry)
		return 0;
	t->retry = 0;
	struct syscall_args args = {
	    {t->regs.rdi, t->regs.rsi, t->regs.rdx, t->regs.r10, t->regs.r8, t->regs.r9}};
	/* The retry runs as its first attempt's syscall (for the state kept
	 * across attempts); the count itself only ever goes up. */
	uint64_t seq = this_cpu()->syscall_seq;
	this_cpu()->syscall_nr = t->syscall_nr;
	this_cpu()->syscall_seq = t->syscall_seq;
	long r = syscall_rerun(t->syscall_nr, &args);
	this_cpu()->syscall_seq = seq;
	if (r == -EWAITING)
		return r;
	t->regs.rax = (uint64_t)r;
	t->result_pending = 1;
	return 0;
}

/* The current thread next is about to return to ring 3 on this CPU. */
static void finish_switch(struct thread *next)
{
	load_cpu_state(next);
	this_cpu()->resched = 0;
	this_cpu()->woke_since_switch = 0;
	start_slice();
	this_cpu()->syscall_nr = next->result_pending ? next->syscall_nr : NO_SYSCALL;
	next->result_pending = 0;
	thread_exit_work = live > 1 || another_runnable() || my_slice()->armed || defer_pending();
}

/* This CPU let its thread go to idle: the boot CPU, if idle, looks again
 * (its deadlock check counts the threads other CPUs run). */
static void kick_boot_cpu_if_idle(void)
{
	if (__atomic_load_n(&cpu_entries[0].cpu->idle, __ATOMIC_ACQUIRE))
		smp_kick(0);
}

/* The caller of the syscall in f, t, leaves its CPU: its registers and
 * call are kept for when it runs again; result_pending: the call is done
 * and rax is its result. */
static void save_caller(struct syscall_frame *f, struct thread *t, int result_pending)
{
	user_regs_from_syscall(f, &t->regs);
	t->syscall_nr = this_cpu()->syscall_nr;
	t->syscall_seq = this_cpu()->syscall_seq;
	t->result_pending = result_pending;
}

/* A CPU other than the boot CPU with nothing to run: gives its thread up,
 * wakes the boot CPU to look again (its deadlock check counts the threads
 * other CPUs run) and goes back to its idle loop, leaving the stack it
 * ran on. */
static _Noreturn void idle_here(void)
{
	drop_current();
	kick_boot_cpu_if_idle();
	kernel_lock_exit(0);
	smp_idle_restart();
}

/* An idle CPU's look on the shared side begins: in a section (0 when one
 * cannot begin), under LOCK_THREADS, marked idle again (kicks in a section
 * come under the lock, so the next one sees the mark), its timer
 * programmed if another CPU put a timer first on its list (time.c). */
static int idle_look_begin(void)
{
	if (!kernel_lock_share_begin())
		return 0;
	thread_shared_lock();
	__atomic_store_n(&this_cpu()->idle, 1, __ATOMIC_RELEASE);
	time_reprogram();
	return 1;
}

/* Whether a waiting thread can still be woken: a thread is runnable (here
 * or on another CPU, which kicks the boot CPU when it stops), a timer is
 * armed, or an interrupt source (a NIC) still could. Else the app is
 * deadlocked. */
static int wake_still_possible(void)
{
	return thread_runnable_count() || time_timers_armed() || defer_sources_live();
}

/*
 * The boot CPU, halted in schedule() without the kernel lock, woke (an
 * interrupt, a kick): whether it may halt again without taking the lock.
 * The look is a shared section's (idle_look_begin): nothing to run here,
 * no deferred work, no timer due for the kernel lock, and a wake still
 * possible; else the locked look runs, and reports a deadlock.
 */
static int boot_stays_idle(void)
{
	if (!idle_look_begin())
		return 0;
	int stay = !defer_pending() && !time_expired_left() && !pick() && wake_still_possible();
	thread_shared_unlock();
	kernel_lock_share_end();
	return stay;
}

/*
 * The next thread to return to ring 3, made current with its CPU state
 * loaded and its retried syscall run. Halts while no thread can run; ends
 * the app when none ever could again.
 */
static struct thread *schedule(void)
{
	for (;;) {
		/* Deferred work first (the network's frames and timeouts): it
		 * may make a thread runnable. Here after every halt too. */
		defer_run();
		struct thread *t = pick();

		if (t) {
			if (resume_syscall(t) == 0)
				break;
			continue;
		}
		if (this_cpu()->index != 0)
			idle_here();
		if (defer_pending())
			continue;
		/* Halted, this CPU holds no thread: another CPU may run it (the
		 * current one, if its affinity no longer has this CPU). */
		if (current())
			let_go(current());
		/* No slice of ours to end. */
		ktimer_cancel(my_slice());
		if (!wake_still_possible())
			deadlocked();
		this_cpu()->idle = 1;
		time_idle_while(boot_stays_idle);
		this_cpu()->idle = 0;
	}
	struct thread *next = current();
	finish_switch(next);
	return next;
}

/* Whether the current thread must give the CPU up now. */
static int must_switch(const struct thread *t)
{
	return t->state != THREAD_RUNNABLE || t->retry || this_cpu()->yield_requested ||
	       this_cpu()->resched;
}

int thread_switch_pending(void)
{
	return must_switch(current()) || defer_pending();
}

int thread_syscall_exit_slow(struct syscall_frame *f)
{
	struct thread *t = current();

	/* Work raised during the syscall (or by an interrupt before it) runs
	 * now, before the caller goes on or the CPU halts. */
	defer_run();
	if (!must_switch(t)) {
		thread_exit_work = live > 1 || my_slice()->armed || defer_pending();
		return 0;
	}
	this_cpu()->yield_requested = 0;
	/* Switched out with its call done: rax is that call's result, which
	 * may still be an ERESTART* code for signals to resolve. */
	if (t->state != THREAD_FREE)
		save_caller(f, t, t->state == THREAD_RUNNABLE && !t->retry);
	struct thread *next = schedule();
	user_regs_to_syscall(&next->regs, f);
	return 1;
}

/* ---------------------------------------------------------------- the shared side */

void thread_shared_lock(void)
{
	unsigned long flags = spin_lock_irqsave(&shared_lock);

	shared_lock_flags = flags;
}

void thread_shared_unlock(void)
{
	spin_unlock_irqrestore(&shared_lock, shared_lock_flags);
}

int thread_wake_queue(struct waitq *wq, unsigned events)
{
	if (!syscall_shared())
		return waitq_wake(wq, events);
	/* Entries leave it meanwhile (under the lock), but none join. */
	if (!__atomic_load_n(&wq->head, __ATOMIC_RELAXED))
		return 0;
	thread_shared_lock();
	int ran = waitq_wake(wq, events);
	thread_shared_unlock();
	return ran;
}

/* Whether t's retry would find its sleep over (thread_sleep): its
 * deadline passed and no signal to end it otherwise (signals change only
 * under the kernel lock, which no section runs beside). */
static int sleep_over(struct thread *t)
{
	return t->wait.sleep_seq == t->syscall_seq && time_now() >= t->wait.sleep_deadline &&
	       !signal_pending(t);
}

/* Under thread_shared_lock, for a runnable t about to run here: whether
 * the shared side can resume it (preempted, or woken from a futex wait,
 * at the end of a sleep or of a futex wait's timeout, whose retry then
 * ends here with its known result: 0, 0, -ETIMEDOUT). */
static int resume_shared(struct thread *t)
{
	long result = 0;

	if (!t->retry)
		return 1;
	if (futex_end_timed_out_wait(t))
		result = -ETIMEDOUT;
	else if (!sleep_over(t) && !futex_end_woken_wait(t))
		return 0;
	t->retry = 0;
	t->regs.rax = (uint64_t)result;
	t->result_pending = 1;
	return 1;
}

int thread_wait_stays_shared(void)
{
	struct thread *cur = current();

	if (this_cpu()->index != 0)
		return 1;
	for (int i = 0, end = slots_end(); i < end; i++) {
		if (&threads[i] != cur && may_run_here(&threads[i], 1))
			return 1;
	}
	return 0;
}

/*
 * thread_switch_shared's other plain case, under LOCK_THREADS: t waits and
 * no thread can run here, on a CPU other than the boot CPU (whose idling
 * checks for a deadlock, under the kernel lock). t is saved from f and let
 * go, in the same steps as a switch (its state saved without the lock,
 * while t is still this CPU's); returns with the lock dropped. A wake that
 * came meanwhile sends t to an idle CPU, this one included once it looks.
 */
static void shared_go_idle(struct syscall_frame *f, struct thread *t)
{
	struct cpu *c = this_cpu();

	save_caller(f, t, 0);
	thread_shared_unlock();
	if (c->fpu_owner == t)
		save_cpu_state(c);
	thread_shared_lock();
	drop_current();
	kick_boot_cpu_if_idle();
	thread_shared_unlock();
}

/*
 * In three steps, so that the lock is not held across the longest ones
 * (XSAVE and XRSTOR): under the lock the decision, after which next is
 * this CPU's; without it the FPU state and FS base, of t and next alone
 * (t stays on this CPU, so no CPU takes it before its state is saved);
 * under the lock again t let go and next's slice.
 */
int thread_switch_shared(struct syscall_frame *f)
{
	struct cpu *c = this_cpu();
	struct thread *t = current(), *next;

	thread_shared_lock();
	/* sched_yield: the caller, still runnable, goes behind the others. */
	int yielding = c->yield_requested && t->state == THREAD_RUNNABLE && !t->retry;
	/* Woken meanwhile (retry), or asked for more than a switch: the
	 * locked way. Deferred work may need the kernel lock to run. */
	if ((t->state != THREAD_WAITING && !yielding) || c->resched || defer_pending()) {
		thread_shared_unlock();
		return 0;
	}
	next = pick_thread(1);
	if (!next && !yielding && c->index != 0) {
		shared_go_idle(f, t);
		return THREAD_SWITCH_IDLE;
	}
	if (yielding && (!next || next == t)) {
		/* Nothing else to run here: the caller goes on, as
		 * schedule() would let it. */
		c->yield_requested = 0;
		thread_shared_unlock();
		return 0;
	}
	/* The last check: from the retry's end on, the switch must happen. */
	if (!next || next == t || !resume_shared(next)) {
		thread_shared_unlock();
		return 0;
	}
	c->yield_requested = 0;
	save_caller(f, t, yielding); /* yielded: its call is done, rax is the result */
	next->on_cpu = me();
	make_current(next);
	thread_shared_unlock();

	/* The CPU holds the state of fpu_owner: t, which came from ring 3
	 * (the owner is then the current thread). */
	if (c->fpu_owner != next) {
		save_cpu_state(c);
		restore_cpu_state(c, next);
	}

	thread_shared_lock();
	let_go(t); /* runnable (yielded, or woken meanwhile): an idle CPU comes for it */
	c->busy_since = time_now();
	finish_switch(next);
	thread_shared_unlock();
	user_regs_to_syscall(&next->regs, f);
	return 1;
}

int thread_interrupt_exit_needed(void)
{
	struct thread *t = current(), *next;

	if (must_switch(t) || defer_pending() || signal_exit_work(&t->sig, 0))
		return 1;
	/* thread_interrupt_exit's switch to a woken thread: only if it has
	 * no other CPU to go to. */
	return this_cpu()->woke_since_switch && (next = pick_thread(1)) && next != t;
}

void thread_interrupt_exit(struct trap_frame *f)
{
	struct thread *t = current();
	struct user_regs r;
	uint64_t result_nr = NO_SYSCALL;

	/* An interrupt's deferred work (frames a NIC received) runs on the
	 * way back to ring 3; it may wake a thread to switch to. */
	defer_run();
	user_regs_from_trap(f, &r);
	r.err = r.trapno = r.cr2 = 0;
	if (must_switch(t) || this_cpu()->woke_since_switch) {
		this_cpu()->yield_requested = 0;
		t->regs = r;
		t = schedule();
		r = t->regs;
		result_nr = this_cpu()->syscall_nr;
	}
	if (signal_exit_work(&t->sig, result_nr != NO_SYSCALL ? r.rax : 0))
		signal_deliver(&r, result_nr);
	user_regs_to_trap(&r, f);
}

/* ---------------------------------------------------------------- other CPUs */

/*
 * The idle CPU's look on the shared side, in a section under LOCK_THREADS
 * (kicks in a section come under it): 1 when there is nothing to run, so
 * the CPU halts without having taken the kernel lock; 0 when the look must
 * be the locked one (a section cannot begin, deferred work, a thread whose
 * retry is not a woken futex wait's). When it finds a plain one, runs it
 * here and does not return.
 */
static int idle_shared(void)
{
	struct cpu *c = this_cpu();

	/* Marked idle again, as the locked way does, and for the same reason. */
	if (!idle_look_begin())
		return 0;
	struct thread *t = defer_pending() ? NULL : pick();
	if (!t || !resume_shared(t)) {
		int nothing = !t && !defer_pending();
		thread_shared_unlock();
		kernel_lock_share_end();
		return nothing;
	}
	claim(t);
	__atomic_store_n(&c->idle, 0, __ATOMIC_RELEASE);
	thread_shared_unlock();
	/* t is this CPU's now: no other takes it while its state loads. */
	load_cpu_state(t);
	thread_shared_lock();
	finish_switch(t);
	thread_shared_unlock();
	smp_flush_if_stale();
	enter_ring3(t, 0);
}

void thread_cpu_idle(void)
{
	struct cpu *c = this_cpu();

	if (!THREAD_SMP)
		return;
	/* Before the look at live: a thread made runnable from now on kicks us. */
	__atomic_store_n(&c->idle, 1, __ATOMIC_RELEASE);
	if (!__atomic_load_n(&live, __ATOMIC_RELAXED))
		return;
	if (idle_shared())
		return;
	c->lock_reason = LOCKSTAT_IDLE;
	(void)kernel_lock_enter();
	/* Again under the lock, before the look: a kick while we waited for
	 * the lock cleared the mark, and the thread it was for may wait again
	 * in the look below. Halting unmarked, this CPU would never be kicked
	 * for the next thread only it may run (a pinned one). Kicks come
	 * under the lock, so from here on they see the mark. */
	__atomic_store_n(&c->idle, 1, __ATOMIC_RELEASE);
	/* Work this CPU's timers raised while it idled (a network timeout). */
	defer_run();
	struct thread *t;
	while ((t = pick())) {
		if (resume_syscall(t) == 0)
			run_here(t);
	}
	drop_current();
	kernel_lock_exit(0);
}

static _Noreturn void run_here(struct thread *t)
{
	__atomic_store_n(&this_cpu()->idle, 0, __ATOMIC_RELEASE);
	finish_switch(t);
	enter_ring3(t, 1);
}

/*
 * t, this CPU's current thread with its state loaded (finish_switch),
 * enters ring 3 with its registers. locked: the caller holds the kernel
 * lock, dropped here once the signals due are delivered; else the caller
 * is in a shared section, ended here, or under the kernel lock first if a
 * signal or deferred work is due.
 */
static _Noreturn void enter_ring3(struct thread *t, int locked)
{
	struct cpu *c = this_cpu();
	uint64_t result_nr = c->syscall_nr;
	uint64_t result = result_nr != NO_SYSCALL ? t->regs.rax : 0;

	if (!locked && (signal_exit_work(&t->sig, result) || defer_pending())) {
		kernel_lock_share_end();
		c->lock_reason = LOCKSTAT_IDLE;
		(void)kernel_lock_enter();
		locked = 1;
		defer_run();
	}
	struct user_regs r = t->regs;
	if (signal_exit_work(&t->sig, result))
		signal_deliver(&r, result_nr);
	struct trap_frame f;
	memset(&f, 0, sizeof(f));
	user_regs_to_trap(&r, &f);
	f.rflags |= RFLAGS_IF;
	f.cs = GDT_USER_CS;
	f.ss = GDT_USER_DS;
	f.gs_swapped = 1;
	f.cr3 = ul_user_root;
	smp_note_app_cpu();
	if (locked)
		kernel_lock_exit(0);
	else
		kernel_lock_share_end();
	arch_trap_return(&f);
}

void thread_stop_other_cpus(void)
{
	/* Each answers from wherever it is (ring 3 included) and then waits
	 * for the kernel lock, which the exit never gives back. */
	(void)smp_call_all_others(smp_call_nop, NULL, 1);
}

/* ---------------------------------------------------------------- affinity */

uint64_t thread_cpus_online(void)
{
	return online_mask();
}

uint64_t thread_affinity(const struct thread *t)
{
	return t->affinity & online_mask();
}

int thread_set_affinity(struct thread *t, uint64_t mask)
{
	mask &= online_mask();
	if (!mask)
		return -EINVAL;
	t->affinity = mask;
	if (!t->on_cpu) {
		/* Waiting for a CPU: one it may now run on comes for it. */
		if (t->state == THREAD_RUNNABLE)
			find_a_cpu(t);
		return 0;
	}
	if ((mask >> (t->on_cpu - 1)) & 1)
		return 0;
	/* It runs where it may no longer: off that CPU at its next return to
	 * ring 3 (the scheduler there lets it go to an allowed one). */
	if (t->on_cpu == me()) {
		this_cpu()->resched = 1;
		thread_exit_work = 1;
	} else {
		(void)smp_call(t->on_cpu - 1, resched_call, NULL, 0);
	}
	return 0;
}

uint64_t thread_cpu_busy_ns(unsigned cpu)
{
	if (cpu >= SMP_MAX_CPUS || !smp_cpu_online(cpu))
		return 0;
	struct cpu *c = cpu_entries[cpu].cpu;
	uint64_t busy = __atomic_load_n(&c->busy_ns, __ATOMIC_RELAXED);
	/* Running a thread now: the time since it started counts too. */
	for (int i = 0, end = slots_end(); i < end; i++) {
		if (threads[i].on_cpu == cpu + 1)
			return busy +
			       (time_now() - __atomic_load_n(&c->busy_since, __ATOMIC_RELAXED));
	}
	return busy;
}

unsigned thread_runnable_count(void)
{
	unsigned n = 0;

	for (int i = 0, end = slots_end(); i < end; i++)
		n += threads[i].state == THREAD_RUNNABLE;
	return n;
}
