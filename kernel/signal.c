/*
 * Signals (see signal.h).
 *
 * Two places deliver: the end of a syscall (signal_syscall_exit_slow, for
 * the thread the frame returns to, which covers the kill that raised it,
 * the rt_sigprocmask or rt_sigreturn that unblocked it, and a wait that it
 * interrupted) and the end of an interrupt that arrived in ring 3
 * (thread_interrupt_exit: a timer's signal reaches a thread that spins).
 * CPU faults go through signal_fault, at once.
 *
 * A call a signal interrupts returns one of the ERESTART* codes; delivery
 * resolves it as Linux's handle_signal does: restart the call (the syscall
 * instruction runs again: rip - 2, rax = the number) when no handler runs
 * or the handler has SA_RESTART (for ERESTARTSYS), else EINTR.
 */
#include "kernel/signal.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/sigframe.h"
#include "kernel/arch/x86_64/syscall.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/percpu.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "mm/vm.h"

#define APP_PID	     1 /* the app is pid 1 and its main thread tid 1 */
#define NO_SYSCALL   UINT64_MAX
#define SYSCALL_INSN 2 /* bytes of "syscall": a restart re-executes it */

#define BIT(sig)    (1ull << ((sig)-1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))

enum default_action { TERMINATE, IGNORE, STOP };

static struct k_sigaction actions[NSIG + 1];
uint64_t signal_process_pending;
static struct signal_info process_info[NSIG + 1];

const char *signal_name(int sig)
{
	static const char *const names[] = {
	    "?",	"SIGHUP",  "SIGINT",	"SIGQUIT", "SIGILL",  "SIGTRAP",   "SIGABRT",
	    "SIGBUS",	"SIGFPE",  "SIGKILL",	"SIGUSR1", "SIGSEGV", "SIGUSR2",   "SIGPIPE",
	    "SIGALRM",	"SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",   "SIGTSTP",
	    "SIGTTIN",	"SIGTTOU", "SIGURG",	"SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
	    "SIGWINCH", "SIGIO",   "SIGPWR",	"SIGSYS",
	};
	if (sig > 0 && sig < (int)ARRAY_SIZE(names))
		return names[sig];
	return sig >= SIGRTMIN && sig <= NSIG ? "SIGRT" : "?";
}

static enum default_action default_action(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
	case SIGCONT:
		return IGNORE;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return STOP;
	default:
		return TERMINATE;
	}
}

/* True when delivering sig would do nothing (or only log a stop). */
static int is_ignored(int sig)
{
	uint64_t h = actions[sig].handler;

	return h == SIG_IGN || (h == SIG_DFL && default_action(sig) != TERMINATE);
}

static void note_stop(int sig)
{
	kprintf("solo: %s would stop the app; Solo has no job control: ignored\n",
		signal_name(sig));
}

static struct signal_thread *self(void)
{
	return this_cpu()->signals;
}

void signal_thread_init(struct signal_thread *st, const struct signal_thread *creator)
{
	memset(st, 0, sizeof(*st));
	st->blocked = creator ? creator->blocked : 0;
	st->altstack.flags = SS_DISABLE;
}

int signal_pending(struct thread *t)
{
	const struct signal_thread *st = thread_signals(t);

	return ((st->pending | signal_process_pending) & ~st->blocked) != 0;
}

/* The waiting thread that takes a signal sent to the process: one that does
 * not block it. */
struct taker {
	int sig;
	struct thread *found;
};

static void find_taker(struct thread *t, void *arg)
{
	struct taker *k = arg;

	if (!k->found && !(thread_signals(t)->blocked & BIT(k->sig)))
		k->found = t;
}

static void find_any(struct thread *t, void *arg)
{
	struct thread **found = arg;

	if (!*found)
		*found = t;
}

int signal_raise(struct thread *t, int sig, const struct signal_info *info)
{
	struct signal_info si = info ? *info : (struct signal_info){.code = SI_KERNEL};
	struct thread *cur = thread_current();

	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	/* Raised on a CPU that runs no thread (a timer that fired in its idle
	 * loop): the process's signal is judged as its first thread's. */
	if (!t && !cur)
		thread_for_each(find_any, &cur);
	if (!t && !cur)
		return 0; /* no thread left to take it */
	const struct signal_thread *judge = thread_signals(t ? t : cur);
	if (!(judge->blocked & BIT(sig)) && is_ignored(sig)) {
		if (actions[sig].handler == SIG_DFL && default_action(sig) == STOP)
			note_stop(sig);
		return 0;
	}
	if (t) {
		thread_signals(t)->pending |= BIT(sig);
		thread_signals(t)->info[sig] = si;
	} else {
		signal_process_pending |= BIT(sig);
		process_info[sig] = si;
		/* The running thread takes it on its way out, unless it blocks
		 * it; then a waiting thread that does not is interrupted. */
		struct taker k = {sig, NULL};
		if (!(thread_signals(cur)->blocked & BIT(sig)))
			k.found = cur;
		else
			thread_for_each(find_taker, &k);
		t = k.found;
	}
	if (t && !(thread_signals(t)->blocked & BIT(sig)))
		thread_interrupt(t); /* nothing happens unless it waits */
	return 0;
}

void signal_set_temporary_mask(uint64_t mask)
{
	struct signal_thread *st = self();

	if (!st->restore_mask) {
		st->saved_mask = st->blocked;
		st->restore_mask = 1;
	}
	st->blocked = mask & ~UNBLOCKABLE;
}

static _Noreturn void kill_by_signal(int sig, const struct user_regs *r)
{
	char reason[48];

	ksnprintf(reason, sizeof(reason), "signal %d (%s)", sig, signal_name(sig));
	app_kill(sig, reason, user_regs_pc(r), 0);
}

static int on_altstack(const struct signal_thread *st, uint64_t sp)
{
	return !(st->altstack.flags & SS_DISABLE) && sp - st->altstack.sp < st->altstack.size;
}

/* Builds the handler's frame on the right stack and enters the handler;
 * old_mask is what rt_sigreturn puts back. */
static int enter_handler(struct user_regs *r, int sig, const struct k_siginfo *info,
			 uint64_t old_mask)
{
	struct signal_thread *st = self();
	struct k_sigaction *act = &actions[sig];
	uint64_t sp = user_regs_sp(r);
	int on_alt = on_altstack(st, sp);

	/* x86-64 Linux has no default return path without SA_RESTORER (no
	 * vdso here either): the handler would return to nowhere. */
	if (!(act->flags & SA_RESTORER)) {
		char reason[96];
		ksnprintf(reason, sizeof(reason),
			  "%s handler installed without SA_RESTORER (no vdso to return to)",
			  signal_name(sig));
		app_kill(SIGSEGV, reason, user_regs_pc(r), act->handler);
	}
	if (act->handler >= VM_USER_TOP)
		app_kill(SIGSEGV, "signal handler outside the app", user_regs_pc(r), act->handler);

	struct sigframe_args a = {
	    .sig = sig,
	    .info = info,
	    .handler = act->handler,
	    .restorer = act->restorer,
	    .old_mask = old_mask,
	    .ss_sp = st->altstack.sp,
	    .ss_size = st->altstack.size,
	    .ss_flags = on_alt ? SS_ONSTACK : (st->altstack.flags & SS_DISABLE),
	};
	if ((act->flags & SA_ONSTACK) && !(st->altstack.flags & SS_DISABLE) && !on_alt)
		a.stack_top = st->altstack.sp + st->altstack.size;
	if (sigframe_push(r, &a))
		return -EFAULT;
	st->blocked |= act->mask | ((act->flags & SA_NODEFER) ? 0 : BIT(sig));
	st->blocked &= ~UNBLOCKABLE;
	if (act->flags & SA_RESETHAND)
		act->handler = SIG_DFL;
	return 0;
}

/* Re-executes the interrupted syscall nr when the thread returns. */
static void restart_syscall(struct user_regs *r, uint64_t nr)
{
	r->rax = nr;
	r->rip -= SYSCALL_INSN;
}

/*
 * The interrupted call's fate when a handler for a signal with flags runs
 * (Linux's handle_signal): EINTR, or a restart.
 */
static void resolve_for_handler(struct user_regs *r, long code, uint64_t nr, uint64_t flags)
{
	if (code == ERESTARTNOINTR || (code == ERESTARTSYS && (flags & SA_RESTART)))
		restart_syscall(r, nr);
	else
		r->rax = (uint64_t)-EINTR;
}

/* Takes the lowest deliverable signal, thread-directed first; 0: none. */
static int dequeue(struct signal_thread *st, struct k_siginfo *info, uint64_t only)
{
	uint64_t mine = st->pending & ~st->blocked & only;
	uint64_t shared = signal_process_pending & ~st->blocked & only;
	const struct signal_info *si;
	int sig;

	if (mine) {
		sig = __builtin_ctzll(mine) + 1;
		st->pending &= ~BIT(sig);
		si = &st->info[sig];
	} else if (shared) {
		sig = __builtin_ctzll(shared) + 1;
		signal_process_pending &= ~BIT(sig);
		si = &process_info[sig];
	} else {
		return 0;
	}
	*info = (struct k_siginfo){.signo = sig, .code = si->code};
	if (si->code == SI_TIMER) {
		info->u.timer.tid = si->id;
		info->u.timer.overrun = si->overrun;
		info->u.timer.value = si->value;
	} else {
		info->u.kill.pid = APP_PID;
	}
	return sig;
}

int signal_deliver(struct user_regs *r, uint64_t result_nr)
{
	struct signal_thread *st = self();
	struct k_siginfo info;
	long code = 0;
	int sig, changed = 0;

	if (st->sigreturn_requested) {
		const char *why;
		uint64_t mask;

		st->sigreturn_requested = 0;
		if (sigframe_pop(r, &mask, &why))
			app_kill(SIGSEGV, why, r->rip, user_regs_sp(r));
		st->blocked = mask & ~UNBLOCKABLE;
		result_nr = NO_SYSCALL; /* rax is the interrupted code's again */
		changed = 1;
	}
	if (result_nr != NO_SYSCALL) {
		long ret = (long)r->rax;
		if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND)
			code = -ret;
	}
	/* The mask a handler's frame keeps is the one from before a temporary
	 * mask (ppoll, sigsuspend), which stays in force while the call's
	 * signals are delivered. */
	uint64_t frame_mask = st->restore_mask ? st->saved_mask : st->blocked;
	int entered = 0;
	for (;;) {
		/* Each handler entered blocks at least its own signal, so this
		 * ends; several ready signals nest, the last one's handler
		 * running first. */
		while ((sig = dequeue(st, &info, ~0ull))) {
			uint64_t h = actions[sig].handler;
			if (h == SIG_IGN)
				continue;
			if (h == SIG_DFL) {
				enum default_action d = default_action(sig);
				if (d == TERMINATE)
					kill_by_signal(sig, r);
				if (d == STOP)
					note_stop(sig);
				continue;
			}
			if (code) {
				resolve_for_handler(r, code, result_nr, actions[sig].flags);
				code = 0;
			}
			changed = 1;
			if (enter_handler(r, sig, &info, entered ? st->blocked : frame_mask)) {
				char reason[96];
				ksnprintf(reason, sizeof(reason),
					  "no room on the stack for the %s frame",
					  signal_name(sig));
				app_kill(SIGSEGV, reason, user_regs_pc(r), user_regs_sp(r));
			}
			entered = 1;
		}
		if (!st->restore_mask)
			break;
		st->restore_mask = 0;
		if (entered)
			break; /* rt_sigreturn puts the old mask back */
		st->blocked = st->saved_mask;
	}
	if (code) {
		restart_syscall(r, result_nr); /* no handler ran: the call goes on */
		changed = 1;
	}
	return changed;
}

int signal_syscall_exit_slow(struct syscall_frame *f, int loaded)
{
	struct user_regs r;

	user_regs_from_syscall(f, &r);
	if (loaded) {
		/* A thread switch put another thread's registers in f, whose
		 * rcx and r11 are its own, not the syscall's return values. */
		r.rcx = f->rcx;
		r.r11 = f->r11;
	}
	signal_deliver(&r, this_cpu()->syscall_nr);
	return user_regs_to_syscall(&r, f);
}

int signal_fault(struct user_regs *r, int sig, int code, uint64_t addr, const char *reason)
{
	struct k_siginfo info = {.signo = sig, .code = code, .u.addr = addr};
	struct signal_thread *st = self();
	uint64_t h = actions[sig].handler;

	/* As Linux's force_sig_fault: a blocked or ignored fault signal
	 * cannot be set aside, the instruction would only fault again. */
	if ((st->blocked & BIT(sig)) || h == SIG_DFL || h == SIG_IGN)
		return -1;
	if (enter_handler(r, sig, &info, st->blocked)) {
		char why[160];
		ksnprintf(why, sizeof(why), "%s; no room on the stack for the %s frame", reason,
			  signal_name(sig));
		app_kill(SIGSEGV, why, user_regs_pc(r), user_regs_sp(r));
	}
	return 0;
}

/* ---------------------------------------------------------------- syscalls */

/* The signal argument is an int: the upper half of the register is not
 * part of it, as on Linux. */
static int valid_signal(int sig)
{
	return sig >= 0 && sig <= NSIG;
}

static long send_from_app(struct thread *t, int sig, int code)
{
	struct signal_info si = {.code = code, .id = APP_PID};

	return sig ? signal_raise(t, sig, &si) : 0; /* 0 only checks */
}

/* pid 1 is the app; 0 (its process group) and -1 (every process it may
 * signal) mean the app too, as it is alone. */
SYSCALL_DEFINE2(kill, int, pid, int, sig)
{
	if (!valid_signal(sig))
		return -EINVAL;
	if (pid != APP_PID && pid != 0 && pid != -1)
		return -ESRCH;
	return send_from_app(NULL, sig, SI_USER);
}

SYSCALL_DEFINE2(tkill, int, tid, int, sig)
{
	struct thread *t;

	if (tid <= 0 || !valid_signal(sig))
		return -EINVAL;
	if (!(t = thread_by_tid(tid)))
		return -ESRCH;
	return send_from_app(t, sig, SI_TKILL);
}

SYSCALL_DEFINE3(tgkill, int, tgid, int, tid, int, sig)
{
	struct thread *t;

	if (tgid <= 0 || tid <= 0 || !valid_signal(sig))
		return -EINVAL;
	if (tgid != APP_PID || !(t = thread_by_tid(tid)))
		return -ESRCH;
	return send_from_app(t, sig, SI_TKILL);
}

SYSCALL_DEFINE0(rt_sigreturn)
{
	self()->sigreturn_requested = 1;
	return 0; /* replaced by the restored rax */
}

SYSCALL_DEFINE4(rt_sigaction, int, sig, uint64_t, act, uint64_t, oact, uint64_t, setsize)
{
	struct k_sigaction new;

	if (setsize != SIGSET_BYTES || sig < 1 || sig > NSIG)
		return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (act && app_copy_from(&new, act, sizeof(new)))
		return -EFAULT;
	if (oact && app_copy_to(oact, &actions[sig], sizeof(new)))
		return -EFAULT;
	if (act) {
		new.mask &= ~UNBLOCKABLE;
		actions[sig] = new;
		/* POSIX: setting a pending signal to be ignored discards it. */
		if (is_ignored(sig)) {
			signal_process_pending &= ~BIT(sig);
			self()->pending &= ~BIT(sig);
		}
	}
	return 0;
}

SYSCALL_DEFINE4(rt_sigprocmask, int, how, uint64_t, set, uint64_t, oset, uint64_t, setsize)
{
	struct signal_thread *st = self();
	uint64_t new = 0, old = st->blocked;

	if (setsize != SIGSET_BYTES)
		return -EINVAL;
	if (set) {
		if (app_copy_from(&new, set, sizeof(new)))
			return -EFAULT;
		switch (how) {
		case SIG_BLOCK:
			new = old | new;
			break;
		case SIG_UNBLOCK:
			new = old & ~new;
			break;
		case SIG_SETMASK:
			break;
		default:
			return -EINVAL;
		}
	}
	if (oset && app_copy_to(oset, &old, sizeof(old)))
		return -EFAULT;
	if (set)
		st->blocked = new & ~UNBLOCKABLE; /* newly unblocked ones go on the way out */
	return 0;
}

SYSCALL_DEFINE2(rt_sigpending, uint64_t, set, uint64_t, setsize)
{
	uint64_t pending = self()->pending | signal_process_pending;

	if (setsize > sizeof(pending))
		return -EINVAL;
	return app_copy_to(set, &pending, setsize);
}

/* Waits for any signal that is not blocked (with mask instead of the
 * current mask); always ends with EINTR once a handler ran. */
SYSCALL_DEFINE2(rt_sigsuspend, uint64_t, umask, uint64_t, setsize)
{
	uint64_t mask;
	int err = signal_copy_sigset(umask, setsize, &mask);

	if (err)
		return err;
	signal_set_temporary_mask(mask);
	return thread_wait(0, -ERESTARTNOHAND, "sigsuspend", 0);
}

SYSCALL_DEFINE0(pause)
{
	return thread_wait(0, -ERESTARTNOHAND, "pause", 0);
}

/*
 * rt_sigtimedwait (sigwaitinfo, sigtimedwait, sigwait): takes a pending
 * signal of set without running its handler, waiting for one with set
 * unblocked meanwhile (so that its arrival wakes the thread); another
 * signal interrupts the wait with EINTR.
 */
SYSCALL_DEFINE4(rt_sigtimedwait, uint64_t, uset, uint64_t, uinfo, uint64_t, utimeout, uint64_t,
		setsize)
{
	struct signal_thread *st = self();
	struct k_siginfo info;
	uint64_t set, timeout_ns = UINT64_MAX;
	int sig = signal_copy_sigset(uset, setsize, &set);

	if (sig)
		return sig;
	set &= ~UNBLOCKABLE;
	if (utimeout) {
		int err = time_copy_timespec(utimeout, &timeout_ns);
		if (err)
			return err;
	}
	/* The signals of set count as unblocked while this call looks for
	 * them (the mask it started with comes back when it ends). */
	signal_set_temporary_mask(st->restore_mask ? st->blocked : st->blocked & ~set);
	if ((sig = dequeue(st, &info, set))) {
		if (uinfo && app_copy_to(uinfo, &info, sizeof(info)))
			return -EFAULT;
		return sig;
	}
	long err = thread_wait(thread_wait_deadline(timeout_ns), -EINTR, "sigtimedwait", 0);
	return err == -ETIMEDOUT ? -EAGAIN : err;
}

SYSCALL_DEFINE2(sigaltstack, uint64_t, ss, uint64_t, old_ss)
{
	struct signal_thread *st = self();
	struct k_stack new, old = st->altstack;
	int on_alt = on_altstack(st, this_cpu()->frame->rsp);

	if (on_alt)
		old.flags = SS_ONSTACK;
	if (ss && app_copy_from(&new, ss, sizeof(new)))
		return -EFAULT;
	if (old_ss && app_copy_to(old_ss, &old, sizeof(old)))
		return -EFAULT;
	if (ss) {
		if (on_alt)
			return -EPERM; /* no change while a handler runs on it */
		if (new.flags & ~SS_DISABLE)
			return -EINVAL;
		if (new.flags & SS_DISABLE) {
			new.sp = new.size = 0;
		} else if (new.size < MINSIGSTKSZ) {
			return -ENOMEM;
		}
		new.pad = 0;
		st->altstack = new;
	}
	return 0;
}
