/*
 * The app's threads: clone(CLONE_VM | CLONE_THREAD) for pthreads, on the
 * one CPU. The main thread is tid 1 (= the pid); new threads get 2, 3, ...
 * (never reused). At most THREAD_MAX threads live at once.
 *
 * Scheduling is cooperative with a safety net. A thread switch happens at
 * the end of a syscall (futex wait, sleep, sched_yield, exit) or on the
 * time-slice interrupt when a thread stays in ring 3 longer than a slice;
 * both rewrite the frame the app returns through (the syscall frame, left
 * with iretq, or the trap frame), so no thread needs a kernel stack of its
 * own: syscalls never nest and the kernel is never preempted. A switch
 * parks the registers, the FS base, the FPU state and the signal mask of
 * the thread going out and loads those of the thread coming in. Pending
 * signals, handlers and everything else stay process-wide.
 *
 * When no thread can run, the CPU halts until the earliest deadline of a
 * blocked thread; with no deadline at all nothing can ever wake one: the
 * app is deadlocked, and it is ended with a message and status 137.
 */
#pragma once

#include <stdint.h>

#define THREAD_MAX 64

struct syscall_frame;
struct trap_frame;

/* The calling thread's tid. */
int thread_tid(void);
/* How many threads are alive (1 until the first clone). */
int thread_count(void);
/* 1 when tid names a live thread of the app. */
int thread_alive(int tid);

/*
 * thread_clone - the clone syscall, with the caller's registers in f: a
 * new thread that starts after the syscall with rax 0, rsp stack (0: the
 * caller's) and, with CLONE_SETTLS, FS base tls. Returns the new tid;
 * -ENOSYS for anything that needs a new process (no CLONE_VM or no
 * CLONE_THREAD), -EINVAL for other flags Solo does not do, -EPERM for a
 * kernel-half tls, -EFAULT when a tid cannot be written, -EAGAIN when
 * THREAD_MAX threads exist.
 */
long thread_clone(const struct syscall_frame *f, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls);
/* set_tid_address: the word cleared and woken when the caller exits. */
void thread_set_clear_tid(uint64_t addr);

/*
 * The blocking calls mark the calling thread and return; the switch
 * happens in thread_syscall_exit. The value the syscall then returns is
 * the waker's: 0 for a futex wake or the end of a sleep, -ETIMEDOUT for a
 * futex deadline. deadline_tsc 0: none.
 */
void thread_futex_wait(uint64_t uaddr, uint32_t bitset, uint64_t deadline_tsc);
void thread_sleep(uint64_t deadline_tsc);
void thread_yield(void);
/* Wakes up to n threads waiting on uaddr whose bitset meets bitset, then
 * moves up to n_requeue more to uaddr2. Returns the count woken (plus the
 * count moved, as FUTEX_CMP_REQUEUE returns). */
long thread_futex_wake(uint64_t uaddr, uint32_t bitset, long n, uint64_t uaddr2, long n_requeue);
/* SYS_exit: ends the calling thread (clear_child_tid := 0 and a wake on
 * it); the last thread ends the app, with the main thread's status if the
 * main thread exited before, else with status. */
void thread_exit(int status);

/* The switch point at the end of every syscall, before signals. Returns 1
 * when f was loaded with another thread (or the same one woken) and must
 * be left with iretq, else 0. May halt, or end a deadlocked app.
 * thread_exit_work is nonzero whenever there may be work: more than one
 * thread, a slice armed, or the caller blocked, yielded or exited. Every
 * syscall runs this check, so a single-threaded app pays two instructions
 * rather than a call (the same reasoning as signal_syscall_exit). */
extern int thread_exit_work;
int thread_syscall_exit_slow(struct syscall_frame *f);
static inline int thread_syscall_exit(struct syscall_frame *f)
{
	return thread_exit_work ? thread_syscall_exit_slow(f) : 0;
}
/* An interrupt arrived in ring 3 with f: at the end of the slice, switch
 * to the next runnable thread. */
void thread_interrupted(struct trap_frame *f);
