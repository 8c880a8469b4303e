/*
 * Signals, with Linux's numbers and semantics (kernel/abi/signal.h).
 *
 * Per process: the action of each signal and a pending set for signals
 * sent to the process (kill, alarm and timers, ^C on the console). Per
 * thread (struct signal_thread, inside each thread): the blocked mask, a
 * pending set for signals sent to that thread (tkill, tgkill,
 * SIGEV_THREAD_ID timers, SIGPIPE, its own faults), the alternate stack,
 * and the mask to put back after a call that waits with another one
 * (ppoll, pselect6, epoll_pwait, rt_sigsuspend).
 *
 * A pending set holds each signal once (Linux queues real-time signals;
 * Solo does not), with the siginfo of its last sending. A signal the app
 * ignores and does not block is dropped when sent; the stop signals have
 * no one to continue the app, so they are ignored too, with a log line.
 *
 * Delivery happens on the way back to ring 3, from a syscall or from an
 * interrupt: lowest number first, thread-directed before process-wide; a
 * handler runs on a Linux rt_sigframe (kernel/arch/x86_64/sigframe.h)
 * that rt_sigreturn undoes; a default action that terminates ends the app
 * with status 128 + signal. A signal sent to the process goes to the
 * running thread if it does not block it, else to a thread that waits and
 * does not block it (woken: its call ends with EINTR or restarts, see
 * ERESTARTSYS), else to whichever thread unblocks it first.
 */
#pragma once

#include <stdint.h>

#include "kernel/abi/errno.h"
#include "kernel/abi/signal.h"
#include "kernel/app.h"
#include "kernel/syscall.h"

struct syscall_frame;
struct user_regs;
struct thread;

/* What a pending signal was sent with (si_code and friends). */
struct signal_info {
	int32_t code;	 /* SI_USER, SI_TKILL, SI_TIMER, SI_KERNEL, ... */
	int32_t id;	 /* SI_TIMER: the timer id; else the sender's pid (1) */
	int32_t overrun; /* SI_TIMER */
	uint64_t value;	 /* SI_TIMER: sigev_value */
};

/* One thread's signal state (owned by kernel/signal.c). */
struct signal_thread {
	uint64_t blocked; /* bit sig - 1 for signal sig */
	uint64_t pending;
	uint64_t saved_mask;	 /* with restore_mask: the mask before a temporary one */
	int restore_mask;	 /* put saved_mask back when the call ends */
	int sigreturn_requested; /* rt_sigreturn: restore the frame on the way out */
	struct k_stack altstack;
	struct signal_info info[NSIG + 1];
};

/* The process-wide pending set (kernel/signal.c's; public for the inline
 * check below, which every syscall runs). */
extern uint64_t signal_process_pending;

/* A new thread's state: the creator's mask, no pending signal, no
 * alternate stack (as clone with CLONE_VM does). creator NULL: the main
 * thread at start. */
void signal_thread_init(struct signal_thread *st, const struct signal_thread *creator);

/*
 * signal_raise - sends sig to the process (t NULL) or to thread t, as the
 * kernel: the console's ^C (SIGINT), a pipe without readers (SIGPIPE to
 * the writer), an expired timer. info may be NULL (si_code SI_KERNEL).
 * Wakes a waiting thread that will take it (see the top). Safe from timer
 * callbacks. Returns 0, or -EINVAL for a bad number.
 */
int signal_raise(struct thread *t, int sig, const struct signal_info *info);
/* Whether thread t has a pending signal it does not block (a wait that
 * starts now would be interrupted at once). */
int signal_pending(struct thread *t);
/* Reads the app's sigset at uset into *set: -EINVAL unless setsize is
 * Linux's 8 bytes, -EFAULT. */
static inline int signal_copy_sigset(uint64_t uset, uint64_t setsize, uint64_t *set)
{
	if (setsize != SIGSET_BYTES)
		return -EINVAL;
	return app_copy_from(set, uset, sizeof(*set)) ? -EFAULT : 0;
}
/* For ppoll, pselect6, epoll_pwait, rt_sigsuspend: blocks mask instead of
 * the current mask until the call ends (the old mask is what a handler
 * that the call's EINTR runs sees as its uc_sigmask). */
void signal_set_temporary_mask(uint64_t mask);

/*
 * signal_deliver - delivers what is pending for the current thread into
 * its registers r, on the way back to ring 3: performs a requested
 * rt_sigreturn, resolves an interrupted call's restart (result_nr is the
 * syscall whose result is in r->rax, or UINT64_MAX when r holds none),
 * restores a temporary mask and enters handlers for the pending signals
 * that are not blocked. May kill the app (a default action, a bad frame).
 * Returns 1 when r changed beyond rax (the exit must restore everything).
 */
int signal_deliver(struct user_regs *r, uint64_t result_nr);

/* Whether the current thread (its state st, rax the result the syscall
 * returns) has signal work on the way out: a rt_sigreturn, a mask to
 * restore, a deliverable signal, or an ERESTART* result to resolve. The
 * dispatcher tests this inline on every syscall. */
static inline int signal_exit_work(const struct signal_thread *st, uint64_t rax)
{
	return st->sigreturn_requested | st->restore_mask |
	       !!((st->pending | signal_process_pending) & ~st->blocked) |
	       (rax - (uint64_t)-ERESTARTNOHAND <= (uint64_t)(ERESTARTNOHAND - ERESTARTSYS));
}

/* signal_deliver for the syscall frame f: returns 1 when f must be left
 * with iretq. loaded: a thread switch loaded f with all of a thread's
 * registers (rcx and r11 included) instead of the syscall's. */
int signal_syscall_exit_slow(struct syscall_frame *f, int loaded);

/*
 * signal_fault - the app raised a CPU fault that Linux reports as sig
 * (si_code code, si_addr addr), with its registers in r. If the app has a
 * handler for sig that is not blocked, changes r to enter it and returns 0.
 * Returns -1 when the fault must kill the app as before (no handler,
 * blocked or ignored: a fault cannot be ignored). Kills the app itself, as
 * SIGSEGV with reason in the message, when the frame does not fit.
 */
int signal_fault(struct user_regs *r, int sig, int code, uint64_t addr, const char *reason);

/* "SIGSEGV" for 11; "SIGRT" for the real-time range; "?" otherwise. */
const char *signal_name(int sig);

SYSCALL_DECLARE(rt_sigaction);
SYSCALL_DECLARE(rt_sigprocmask);
SYSCALL_DECLARE(rt_sigpending);
SYSCALL_DECLARE(rt_sigreturn);
SYSCALL_DECLARE(rt_sigsuspend);
SYSCALL_DECLARE(rt_sigtimedwait);
SYSCALL_DECLARE(pause);
SYSCALL_DECLARE(sigaltstack);
SYSCALL_DECLARE(kill);
SYSCALL_DECLARE(tkill);
SYSCALL_DECLARE(tgkill);
