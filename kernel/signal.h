/*
 * Signals for the one app, with Linux's numbers and semantics, process-wide
 * across its threads except for the blocked mask, which kernel/thread.c
 * swaps with the thread: the app sends them to itself (kill, tkill, tgkill, raise,
 * abort) or gets one for a CPU fault. A signal is delivered on the way back
 * to ring 3: ignored, the default action (terminate the app through
 * app_kill with status 128 + signal), or a handler entered through a Linux
 * rt_sigframe (kernel/arch/x86_64/sigframe.h) that rt_sigreturn undoes.
 * The kernel sends one more: SIGPIPE for a write to a pipe nobody reads.
 * There are no timers, children or terminal to send others.
 */
#pragma once

#include <stdint.h>

struct syscall_frame;
struct user_regs;

/* The syscalls; arguments and results as on Linux (see docs/syscalls.md). */
long sys_rt_sigaction(uint64_t sig, uint64_t act, uint64_t oact, uint64_t setsize, uint64_t a4,
		      uint64_t a5);
long sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oset, uint64_t setsize, uint64_t a4,
			uint64_t a5);
long sys_rt_sigpending(uint64_t set, uint64_t setsize, uint64_t a2, uint64_t a3, uint64_t a4,
		       uint64_t a5);
long sys_sigaltstack(uint64_t ss, uint64_t old_ss, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5);
long sys_kill(uint64_t pid, uint64_t sig, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
long sys_tkill(uint64_t tid, uint64_t sig, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
long sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig, uint64_t a3, uint64_t a4, uint64_t a5);
/* Only notes the request: signal_syscall_exit does the work, with the frame. */
long sys_rt_sigreturn(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/* Owned by kernel/signal.c. Public only for the inline check below, which
 * every syscall runs: a function call there cost 25 instructions. */
struct signal_state {
	uint64_t pending, blocked; /* bit sig - 1 for signal sig */
	int sigreturn_requested;
};
extern struct signal_state signal_state;

/* The slow path of signal_syscall_exit. */
int signal_deliver_on_exit(struct syscall_frame *f);

/*
 * signal_syscall_exit - the last step of every syscall, with f holding the
 * result: performs a requested rt_sigreturn, then delivers the pending
 * signals that are not blocked. May kill the app (a default action, a bad
 * frame). Returns 1 when f must be restored in full (iretq), else 0.
 */
static inline int signal_syscall_exit(struct syscall_frame *f)
{
	if (!signal_state.sigreturn_requested && !(signal_state.pending & ~signal_state.blocked))
		return 0;
	return signal_deliver_on_exit(f);
}

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
