/*
 * The app's threads (see thread.h). A fixed table: slot 0 starts as the
 * main thread; a slot is free again as soon as its thread exits (nothing
 * waits on the slot itself: pthread_join waits on the clear_child_tid
 * word, in the app's memory).
 *
 * Invariants: exactly one slot is `current`, the thread whose registers
 * are in the CPU (or in the frame being returned through) and whose FPU
 * state, FS base and signal mask are loaded; it is RUNNABLE unless the
 * syscall in progress just blocked or ended it. Every other live slot
 * holds its thread's saved user registers, FS base, mask and FPU image.
 */
#include "kernel/thread.h"

#include "drivers/apic_timer.h"
#include "drivers/tsc.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/sigframe.h"
#include "kernel/arch/x86_64/syscall.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/signal.h"
#include "mm/vm.h"

#define CLONE_VM	     0x00000100ull
#define CLONE_FS	     0x00000200ull
#define CLONE_FILES	     0x00000400ull
#define CLONE_SIGHAND	     0x00000800ull
#define CLONE_THREAD	     0x00010000ull
#define CLONE_SYSVSEM	     0x00040000ull
#define CLONE_SETTLS	     0x00080000ull
#define CLONE_PARENT_SETTID  0x00100000ull
#define CLONE_CHILD_CLEARTID 0x00200000ull
#define CLONE_DETACHED	     0x00400000ull
#define CLONE_CHILD_SETTID   0x01000000ull
#define CSIGNAL		     0xffull /* exit signal: ignored for threads, as on Linux */
#define CLONE_THREAD_FLAGS                                                                         \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED |              \
	 CLONE_CHILD_SETTID | CSIGNAL)
#define SIGKILL	 9
#define SLICE_NS 10000000ull /* 10 ms */

enum thread_state {
	THREAD_FREE,
	THREAD_RUNNABLE,
	THREAD_FUTEX, /* waiting on futex_addr, until a wake or the deadline */
	THREAD_SLEEP, /* until the deadline */
};

struct thread {
	enum thread_state state;
	int tid;
	struct user_regs regs; /* while not current */
	uint64_t fs;	       /* while not current */
	uint64_t sigmask;      /* while not current */
	uint64_t clear_child_tid;
	uint64_t futex_addr;
	uint32_t futex_bitset;
	uint64_t deadline;   /* TSC; 0: none */
	long timeout_result; /* rax when the deadline passes */
};

static struct thread threads[THREAD_MAX] = {[0] = {.state = THREAD_RUNNABLE, .tid = 1}};
/* The FPU images of threads not running; XSAVE wants 64-byte alignment. */
static uint8_t fpu_areas[THREAD_MAX][FPU_STATE_SIZE] __attribute__((aligned(64)));
static int current;
static int live = 1;
static int next_tid = 2;
static int yield_requested;
static uint64_t slice_deadline; /* TSC; 0: the timer is not armed for a slice */

/* See thread.h: 0 only while one runnable thread, no yield and no slice. */
int thread_exit_work;
static int main_status = -1; /* the main thread's exit status once it left */

int thread_tid(void)
{
	return threads[current].tid;
}

int thread_count(void)
{
	return live;
}

int thread_alive(int tid)
{
	for (int i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].tid == tid)
			return 1;
	return 0;
}

long thread_clone(const struct syscall_frame *f, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls)
{
	int slot;

	if (!(flags & CLONE_VM) || !(flags & CLONE_THREAD))
		return -ENOSYS; /* fork, vfork, posix_spawn: a new process */
	if ((flags & ~CLONE_THREAD_FLAGS) || !(flags & CLONE_SIGHAND))
		return -EINVAL;
	/* As ARCH_SET_FS: a kernel-half base would let %fs reach the kernel. */
	if ((flags & CLONE_SETTLS) && tls >= VM_USER_TOP)
		return -EPERM;
	for (slot = 0; slot < THREAD_MAX; slot++)
		if (threads[slot].state == THREAD_FREE)
			break;
	if (slot == THREAD_MAX)
		return -EAGAIN;
	int32_t tid = next_tid;
	if ((flags & CLONE_PARENT_SETTID) && app_copy_to(ptid, &tid, sizeof(tid)))
		return -EFAULT;
	if ((flags & CLONE_CHILD_SETTID) && app_copy_to(ctid, &tid, sizeof(tid)))
		return -EFAULT;
	next_tid++;

	struct thread *c = &threads[slot];
	memset(c, 0, sizeof(*c));
	user_regs_from_syscall(f, &c->regs);
	c->regs.rax = 0;
	/* Any stack is taken: a bad one faults in the child, in ring 3,
	 * which kills the app like any unhandled fault. */
	if (stack)
		c->regs.rsp = stack;
	c->fs = (flags & CLONE_SETTLS) ? tls : arch_get_user_fs();
	c->sigmask = signal_state.blocked;
	c->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
	fpu_state_save(fpu_areas[slot]); /* the child starts with a copy of the caller's */
	c->tid = tid;
	c->state = THREAD_RUNNABLE;
	live++;
	thread_exit_work = 1;
	return tid;
}

void thread_set_clear_tid(uint64_t addr)
{
	threads[current].clear_child_tid = addr;
}

void thread_futex_wait(uint64_t uaddr, uint32_t bitset, uint64_t deadline_tsc)
{
	struct thread *t = &threads[current];

	t->state = THREAD_FUTEX;
	thread_exit_work = 1;
	t->futex_addr = uaddr;
	t->futex_bitset = bitset;
	t->deadline = deadline_tsc;
	t->timeout_result = -ETIMEDOUT;
}

void thread_sleep(uint64_t deadline_tsc)
{
	struct thread *t = &threads[current];

	t->state = THREAD_SLEEP;
	thread_exit_work = 1;
	t->deadline = deadline_tsc;
	t->timeout_result = 0;
}

void thread_yield(void)
{
	if (live > 1)
		yield_requested = 1;
	thread_exit_work = 1;
}

/* Makes t runnable again; its syscall returns result. The current thread's
 * result is in the frame instead: the switch saves it from there. */
static void wake(struct thread *t, long result)
{
	t->state = THREAD_RUNNABLE;
	t->deadline = 0;
	t->regs.rax = (uint64_t)result;
}

long thread_futex_wake(uint64_t uaddr, uint32_t bitset, long n, uint64_t uaddr2, long n_requeue)
{
	long woken = 0, moved = 0;

	/* Starting after the caller is round robin enough for waiters that
	 * came in any order. */
	for (int k = 1; k <= THREAD_MAX; k++) {
		struct thread *t = &threads[(current + k) % THREAD_MAX];
		if (t->state != THREAD_FUTEX || t->futex_addr != uaddr ||
		    !(t->futex_bitset & bitset))
			continue;
		if (woken < n) {
			wake(t, 0);
			woken++;
		} else if (moved < n_requeue) {
			t->futex_addr = uaddr2;
			moved++;
		} else {
			break;
		}
	}
	return woken + moved;
}

void thread_exit(int status)
{
	struct thread *t = &threads[current];

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
			thread_futex_wake(t->clear_child_tid, ~0u, 1, 0, 0);
	}
	t->state = THREAD_FREE;
	live--;
	thread_exit_work = 1;
}

/* Parks the CPU state of the current thread (its registers are the
 * caller's to save) in its slot. */
static void park_current(void)
{
	struct thread *t = &threads[current];

	t->fs = arch_get_user_fs();
	t->sigmask = signal_state.blocked;
	fpu_state_save(fpu_areas[current]);
}

static void load(int slot)
{
	struct thread *t = &threads[slot];

	current = slot;
	arch_set_user_fs(t->fs);
	signal_state.blocked = t->sigmask;
	fpu_state_load(fpu_areas[slot]);
}

/* Arms a fresh slice while more than one thread lives; disarms otherwise. */
static void arm_slice(int fresh)
{
	if (live > 1 && (fresh || !slice_deadline)) {
		uint64_t now = arch_timestamp();
		slice_deadline = now + apic_timer_tsc_ticks(SLICE_NS, tsc_hz());
		apic_timer_set_slice(slice_deadline);
	} else if (live == 1 && slice_deadline) {
		slice_deadline = 0;
		apic_timer_set_slice(0);
	}
}

static _Noreturn void deadlocked(void)
{
	int blocked = 0;

	for (int i = 0; i < THREAD_MAX; i++)
		blocked += threads[i].state == THREAD_FUTEX;
	kprintf("solo: app deadlocked: futex wait in all %d threads, none with a timeout\n",
		blocked);
	for (int i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_FUTEX)
			kprintf("solo:   tid %d: futex wait at %#lx\n", threads[i].tid,
				threads[i].futex_addr);
	app_exit(128 + SIGKILL);
}

/*
 * The next thread to run: round robin from the one after the current
 * (which comes last). Threads whose deadline has passed are woken first;
 * when none can run, the CPU halts until the earliest deadline. Returns a
 * RUNNABLE slot, or ends the app when nothing could ever run again.
 */
static int schedule(void)
{
	for (;;) {
		uint64_t now = arch_timestamp(), earliest = 0;

		for (int i = 0; i < THREAD_MAX; i++) {
			struct thread *t = &threads[i];
			if ((t->state == THREAD_FUTEX || t->state == THREAD_SLEEP) && t->deadline) {
				if (t->deadline <= now)
					wake(t, t->timeout_result);
				else if (!earliest || t->deadline < earliest)
					earliest = t->deadline;
			}
		}
		for (int k = 1; k <= THREAD_MAX; k++) {
			int slot = (current + k) % THREAD_MAX;
			if (threads[slot].state == THREAD_RUNNABLE)
				return slot;
		}
		if (!earliest)
			deadlocked();
		apic_timer_sleep_until(earliest);
	}
}

int thread_syscall_exit_slow(struct syscall_frame *f)
{
	struct thread *t = &threads[current];

	if (t->state == THREAD_RUNNABLE && !yield_requested) {
		arm_slice(0);
		thread_exit_work = live > 1 || slice_deadline;
		return 0;
	}
	yield_requested = 0;
	if (t->state != THREAD_FREE) {
		user_regs_from_syscall(f, &t->regs); /* rax: the result so far */
		park_current();
	}
	int next = schedule();
	load(next);
	arm_slice(1);
	user_regs_to_syscall(&threads[next].regs, f);
	thread_exit_work = live > 1 || slice_deadline;
	return 1;
}

void thread_interrupted(struct trap_frame *f)
{
	struct thread *t = &threads[current];

	if (!slice_deadline)
		return;
	if (arch_timestamp() < slice_deadline) {
		/* Another interrupt, or the one-shot timer a hair early. */
		apic_timer_set_slice(slice_deadline);
		return;
	}
	user_regs_from_trap(f, &t->regs);
	t->regs.err = t->regs.trapno = t->regs.cr2 = 0;
	park_current();
	int next = schedule(); /* the current thread is runnable: never halts */
	load(next);
	arm_slice(1);
	user_regs_to_trap(&threads[next].regs, f);
}
