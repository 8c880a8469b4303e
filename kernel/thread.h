/*
 * The app's threads and the scheduler: clone(CLONE_VM | CLONE_THREAD) for
 * pthreads, run by every CPU (THREAD_SMP) from one run queue (the thread
 * table) under the kernel lock; a thread runs on one CPU at a time. The main thread is tid 1 (= the
 * pid); new threads get 2, 3, ... (never reused). At most THREAD_MAX threads live at once.
 *
 * No thread has a kernel stack of its own: the kernel runs each syscall to
 * its end on its CPU's syscall stack and is never preempted. A switch saves
 * the registers of the thread going out from the frame it was about to
 * return through (the syscall frame, left with iretq, or an interrupt's
 * trap frame) and loads the next thread's into it.
 *
 * Blocking, the Nanos way: a syscall that cannot complete yet queues the
 * calling thread on the wait queues (kernel/wait.h) of what it waits for,
 * with thread_wait_on() or a poll_table, and returns thread_wait(). The
 * thread then sleeps until a queue wakes it, its deadline passes or a
 * signal arrives for it; then the same handler runs again with the same
 * arguments (a "retry"), and either completes or waits again. A handler
 * may keep state across its retries: its deadline (thread_wait_deadline)
 * and how far it got (thread_wait_progress).
 *
 * Scheduling: round robin. A switch happens when the running thread
 * blocks, yields or exits at the end of a syscall, and when it has run a
 * 10 ms slice (its CPU's own kernel timer, armed while another thread
 * waits for a CPU), on the
 * next return to ring 3. When no thread can run, the CPU halts until an
 * interrupt (kernel/time.h, time_idle); when no thread can run, no timer
 * is armed and no interrupt source can still deliver (kernel/defer.h), nothing
 * can ever wake one: the app is deadlocked and is ended with a message and
 * status 137. Deferred work (kernel/defer.h) runs at the end of every
 * syscall, on the way back to ring 3 from an interrupt and in the idle loop.
 */
#pragma once

#include <stdint.h>

#include "kernel/signal.h"
#include "kernel/wait.h"

#define THREAD_MAX 64

struct syscall_frame;
struct trap_frame;
struct user_regs;
struct thread;

/* Makes the main thread (tid 1) the only one. Once, before the app starts. */
void thread_init(void);
/* At the app's exit: takes every thread off its queues and timers and
 * frees what the threads held (their extra wait entries). */
void thread_release_all(void);

/* The calling thread (every syscall and fault runs on behalf of one). */
struct thread *thread_current(void);
/* Its tid, and its signal state (kernel/signal.c's; see signal.h). */
int thread_tid(const struct thread *t);
struct signal_thread *thread_signals(struct thread *t);
/* The live thread with tid, or NULL. */
struct thread *thread_by_tid(int tid);
/* Calls fn for each live thread, in table order. */
void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg);

/* The CPUs that run app threads, as a mask (bit: struct cpu's index; the
 * boot CPU's bit 0 always set). */
uint64_t thread_cpus_online(void);
/* t's CPU affinity (sched_getaffinity): a non-empty subset of the above. A
 * new thread inherits its creator's. */
uint64_t thread_affinity(const struct thread *t);
/* Sets it to mask & thread_cpus_online(): -EINVAL if that is empty. A thread
 * running on a CPU no longer in its set leaves it at its next return to
 * ring 3 (the caller itself included). Never blocks. */
int thread_set_affinity(struct thread *t, uint64_t mask);
/* ns CPU cpu has spent running app threads (in ring 3 or in the kernel for
 * them) since boot; 0 for a CPU not online. For /proc/stat. */
uint64_t thread_cpu_busy_ns(unsigned cpu);
/* How many threads are runnable (running or waiting for a CPU). */
unsigned thread_runnable_count(void);

/*
 * thread_clone - the clone syscall, with the caller's registers in f: a
 * new thread that starts after the syscall with rax 0, rsp stack (0: the
 * caller's) and, with CLONE_SETTLS, FS base tls. Returns the new tid;
 * -ENOSYS for anything that needs a new process (no CLONE_VM or no
 * CLONE_THREAD), -EINVAL for other flags Solo does not do, -EPERM for a
 * kernel-half tls, -EFAULT when a tid cannot be written, -EAGAIN when
 * THREAD_MAX threads exist (or no memory for one).
 */
long thread_clone(const struct syscall_frame *f, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls);
/* set_tid_address: the word cleared and woken when the caller exits. */
void thread_set_clear_tid(uint64_t addr);
/* sched_yield: the caller goes to the back of the line. */
void thread_yield(void);
/*
 * thread_exit - SYS_exit: ends the calling thread (clear_child_tid := 0
 * and a futex wake on it) at the end of this syscall; the last thread ends
 * the app, with the main thread's status if the main thread exited before,
 * else with status.
 */
void thread_exit(int status);

/* ---------------------------------------------------------------- blocking */

/* thread_wait_on - in a syscall handler: the calling thread waits on wq
 * in this attempt. Returns 0, or -ENOMEM when no entry could be had (the
 * caller fails the call with it). */
int thread_wait_on(struct waitq *wq);
/* A poll_table whose queue callback is thread_wait_on (file poll ops). */
struct poll_table *thread_poll_table(void);
/*
 * thread_wait - how a handler ends an attempt that must wait. Returns what
 * the handler returns: -EWAITING when the thread now waits (on the queues
 * it joined and, with deadline, until the monotonic time deadline; 0: no
 * deadline); restart when a signal that is not blocked is pending (the
 * handler's code for an interrupted call: -EINTR, -ERESTARTSYS, ...); or
 * -ETIMEDOUT when the deadline has passed. In the last two cases the
 * thread joined no queue. what names the wait in a deadlock report
 * ("pipe read", "futex wait"), addr is shown with it when nonzero.
 */
long thread_wait(uint64_t deadline, long restart, const char *what, uint64_t addr);
/* Undoes this attempt's thread_wait_on calls: the call completes after
 * all (something became ready while it queued itself). */
void thread_wait_cancel(void);
/*
 * thread_sleep - thread_wait(deadline, -EINTR, what, 0) for a call that
 * waits only for its deadline (nanosleep): its retry once the deadline
 * passed, with no signal pending, is known to end in 0, so the shared side
 * ends it without running it (an idle CPU's look, a shared switch). In a
 * shared section it waits under thread_shared_lock, or asks for the
 * kernel lock where the wait would leave the boot CPU idle.
 */
long thread_sleep(uint64_t deadline, const char *what);
/* The deadline timeout_ns from the first attempt of this syscall, the same
 * in every retry (UINT64_MAX timeout: none, 0 returned). */
uint64_t thread_wait_deadline(uint64_t timeout_ns);
/* Sets the deadline of this syscall explicitly (absolute waits). */
void thread_set_wait_deadline(uint64_t deadline);
/* How far this syscall got in earlier attempts (0 in the first). */
uint64_t thread_wait_progress(void);
void thread_set_wait_progress(uint64_t progress);
/* Makes t, waiting in thread_wait, runnable for a retry (a signal for it
 * arrived). Nothing happens when t does not wait. */
void thread_interrupt(struct thread *t);

/* ---------------------------------------------------------------- the exits */

/*
 * thread_syscall_exit - the switch point at the end of every syscall,
 * before signals: when the caller waits (the handler returned -EWAITING),
 * yielded, exited or used up its slice, saves it from f and loads the next
 * runnable thread into f, running its syscall again first if it was
 * woken from a wait. Returns 1 when f now holds another thread (or the
 * same one woken) and must be left with iretq, else 0. May halt, or end a
 * deadlocked app. thread_exit_work is nonzero whenever there may be work,
 * so a single-threaded app pays a test and a branch, not a call.
 */
extern int thread_exit_work;
int thread_syscall_exit_slow(struct syscall_frame *f);
static inline int thread_syscall_exit(struct syscall_frame *f)
{
	return thread_exit_work ? thread_syscall_exit_slow(f) : 0;
}
/* Whether thread_syscall_exit would have work now (a switch, deferred
 * work): read without the kernel lock after a shared syscall, which then
 * returns straight to ring 3 when there is none. A holder that raises
 * such work later kicks this CPU with an IPI. */
int thread_switch_pending(void);
/*
 * The scheduler on the kernel lock's shared side (docs/architecture.md,
 * "Lock order"). thread_shared_lock / thread_shared_unlock - the lock
 * (LOCK_THREADS) that a shared syscall takes to change threads' states:
 * the thread table, the futex waiters and the kernel timer lists, which
 * outside shared sections only a holder of the kernel lock changes. Only
 * ever taken inside a shared section (no holder runs beside one), so a
 * holder needs it not. Spins with interrupts off; never held across a
 * wait.
 */
void thread_shared_lock(void);
void thread_shared_unlock(void);
/*
 * thread_wake_queue - waitq_wake(wq, events) from either side of the
 * kernel lock: in a shared section under thread_shared_lock, since there
 * every wait queue, and what a wake changes (the threads it resumes and
 * their timers and entries, the ready lists of the epoll instances it
 * reaches), changes under that lock. Only for a queue that entries join
 * under the kernel lock alone (a file's, not a futex word's): one that
 * is seen empty in a section stays so, and the wake takes no lock.
 * Returns how many callbacks ran.
 */
int thread_wake_queue(struct waitq *wq, unsigned events);
/*
 * thread_switch_shared - in a shared section, after a shared syscall left
 * the caller waiting (-EWAITING in f->rax) or yielding (sched_yield): the
 * switch thread_syscall_exit would make, when it is the plain case:
 * another thread can run here now, and it was either preempted or woken
 * from a futex wait (whose retry returns 0). Saves the caller from f and
 * loads that thread into f; returns 1 (f must be left with iretq). A
 * waiting caller with no thread to run here, on a CPU other than the boot
 * CPU, is saved from f and let go: THREAD_SWITCH_IDLE, and the caller
 * ends the section and leaves for the idle loop (smp_idle_restart). A
 * yield with nothing else to run here is done (0, the caller goes on).
 * Anything else (no thread to run for a waiting caller on the boot CPU, a
 * retry of another call, a slice to honour, deferred work) changes
 * nothing and returns 0: thread_syscall_exit under the kernel lock does
 * it.
 */
#define THREAD_SWITCH_IDLE 2
int thread_switch_shared(struct syscall_frame *f);
/* Whether a wait that starts here in a shared section can end there too:
 * another thread could run on this CPU now (a hint read without a lock),
 * or this CPU may go idle there (it is not the boot CPU). Else the wait
 * takes the kernel lock at once, as the boot CPU's idling does anyway. */
int thread_wait_stays_shared(void);
/*
 * The scheduler across CPUs (THREAD_SMP 0 leaves the other CPUs idle).
 * thread_cpu_idle - from a CPU's idle loop (not the boot CPU's),
 * interrupts off, no lock held: when a thread is runnable and no other CPU
 * runs it, runs it here: enters ring 3 and never returns. Returns when
 * there is nothing to run. The look is a shared section's when it can be
 * (a preempted thread, one woken from a futex wait, or none to run), else
 * it takes the kernel lock.
 */
#ifndef THREAD_SMP
#define THREAD_SMP 1
#endif
void thread_cpu_idle(void);
/* Brings every other CPU out of ring 3 and keeps it out (the app exits
 * while this CPU holds the kernel lock for good). */
void thread_stop_other_cpus(void);

/* In a shared section, under thread_shared_lock, after an interrupt from
 * ring 3 ran its shared timers: whether thread_interrupt_exit has work,
 * under the kernel lock (a switch, signals, deferred work). */
int thread_interrupt_exit_needed(void);
/* An interrupt arrived in ring 3 with f: switch threads when the slice is
 * over (or a timer made a waiting thread runnable and nothing else ran). */
void thread_interrupt_exit(struct trap_frame *f);
