/*
 * Signals (see signal.h). The state is Linux's for one thread: an action
 * per signal, the blocked mask, the pending set and the alternate stack.
 * With more threads only the mask is per thread (kernel/thread.c swaps
 * signal_state.blocked); a pending signal goes to whichever thread next
 * returns from a syscall with it unblocked.
 *
 * Pending is a set, not a queue: a signal sent twice before delivery is
 * delivered once (Linux queues real-time signals; Solo does not). Signals
 * are delivered lowest number first. A signal the app ignores (SIG_IGN, or
 * SIG_DFL for SIGCHLD, SIGURG, SIGWINCH, SIGCONT) and does not block is
 * dropped when sent. The stop signals have no one to continue the app, so
 * they are ignored too, with a log line.
 *
 * Every signal is raised from a syscall or a fault of the app itself, so
 * two places deliver: the end of a syscall (signal_syscall_exit, which
 * covers the kill that raised it and the rt_sigprocmask or rt_sigreturn
 * that unblocked it) and the fault path (signal_fault).
 */
#include "kernel/signal.h"

#include "kernel/app.h"
#include "kernel/arch/x86_64/sigframe.h"
#include "kernel/arch/x86_64/syscall.h"
#include "kernel/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/thread.h"
#include "mm/vm.h"

#define NSIG	     64
#define SIGKILL	     9
#define SIGSEGV	     11
#define SIGCHLD	     17
#define SIGCONT	     18
#define SIGSTOP	     19
#define SIGTSTP	     20
#define SIGTTIN	     21
#define SIGTTOU	     22
#define SIGURG	     23
#define SIGWINCH     28
#define SIG_DFL	     0
#define SIG_IGN	     1
#define SIG_BLOCK    0
#define SIG_UNBLOCK  1
#define SIG_SETMASK  2
#define SA_RESTORER  0x04000000u
#define SA_ONSTACK   0x08000000u
#define SA_NODEFER   0x40000000u
#define SA_RESETHAND 0x80000000u
#define SS_ONSTACK   1
#define SS_DISABLE   2
#define MINSIGSTKSZ  2048
#define SI_USER	     0
#define SI_TKILL     (-6)
#define APP_PID	     1 /* the app is pid 1 and tid 1 */

#define BIT(sig)    (1ull << ((sig)-1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Linux's siginfo_t for 64-bit, the members Solo fills. */
struct k_siginfo {
	int32_t signo, errno_, code, pad;
	union {
		struct {
			int32_t pid;
			uint32_t uid;
		} kill;
		uint64_t addr; /* faults */
		uint8_t bytes[SIGINFO_SIZE - 16];
	} u;
};
_Static_assert(sizeof(struct k_siginfo) == SIGINFO_SIZE, "siginfo_t is 128 bytes");

enum default_action { TERMINATE, IGNORE, STOP };

static struct k_sigaction actions[NSIG + 1];
struct signal_state signal_state;
static int32_t pending_code[NSIG + 1]; /* si_code of the pending signal */
static struct {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
} altstack = {.flags = SS_DISABLE};

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
	return sig >= 32 && sig <= NSIG ? "SIGRT" : "?";
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

static _Noreturn void kill_by_signal(int sig, const struct user_regs *r)
{
	char reason[48];

	ksnprintf(reason, sizeof(reason), "signal %d (%s)", sig, signal_name(sig));
	app_kill(sig, reason, user_regs_pc(r), 0);
}

static int on_altstack(uint64_t sp)
{
	return !(altstack.flags & SS_DISABLE) && sp - altstack.sp < altstack.size;
}

/* Builds the handler's frame on the right stack and enters the handler. */
static int enter_handler(struct user_regs *r, int sig, const struct k_siginfo *info)
{
	struct k_sigaction *act = &actions[sig];
	uint64_t sp = user_regs_sp(r);
	int on_alt = on_altstack(sp);

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
	    .old_mask = signal_state.blocked,
	    .ss_sp = altstack.sp,
	    .ss_size = altstack.size,
	    .ss_flags = on_alt ? SS_ONSTACK : (altstack.flags & SS_DISABLE),
	};
	if ((act->flags & SA_ONSTACK) && !(altstack.flags & SS_DISABLE) && !on_alt)
		a.stack_top = altstack.sp + altstack.size;
	if (sigframe_push(r, &a))
		return -EFAULT;
	signal_state.blocked |= act->mask | ((act->flags & SA_NODEFER) ? 0 : BIT(sig));
	signal_state.blocked &= ~UNBLOCKABLE;
	if (act->flags & SA_RESETHAND)
		act->handler = SIG_DFL;
	return 0;
}

static void deliver(struct user_regs *r, int sig, const struct k_siginfo *info)
{
	uint64_t h = actions[sig].handler;

	if (h == SIG_IGN)
		return;
	if (h == SIG_DFL) {
		switch (default_action(sig)) {
		case TERMINATE:
			kill_by_signal(sig, r);
		case STOP:
			note_stop(sig);
			return;
		case IGNORE:
			return;
		}
	}
	if (enter_handler(r, sig, info)) {
		char reason[96];
		ksnprintf(reason, sizeof(reason), "no room on the stack for the %s frame",
			  signal_name(sig));
		app_kill(SIGSEGV, reason, user_regs_pc(r), user_regs_sp(r));
	}
}

static void deliver_pending(struct user_regs *r)
{
	uint64_t ready;

	/* Each handler entered blocks at least its own signal, so this ends;
	 * several ready signals nest, the last one's handler running first. */
	while ((ready = signal_state.pending & ~signal_state.blocked)) {
		int sig = __builtin_ctzll(ready) + 1;
		struct k_siginfo info = {.signo = sig, .code = pending_code[sig]};

		info.u.kill.pid = APP_PID;
		signal_state.pending &= ~BIT(sig);
		deliver(r, sig, &info);
	}
}

int signal_deliver_on_exit(struct syscall_frame *f)
{
	struct user_regs r;

	user_regs_from_syscall(f, &r);
	if (signal_state.sigreturn_requested) {
		const char *why;
		uint64_t mask;

		signal_state.sigreturn_requested = 0;
		if (sigframe_pop(&r, &mask, &why))
			app_kill(SIGSEGV, why, f->rip, user_regs_sp(&r));
		signal_state.blocked = mask & ~UNBLOCKABLE;
	}
	deliver_pending(&r);
	return user_regs_to_syscall(&r, f);
}

int signal_fault(struct user_regs *r, int sig, int code, uint64_t addr, const char *reason)
{
	struct k_siginfo info = {.signo = sig, .code = code, .u.addr = addr};
	uint64_t h = actions[sig].handler;

	/* As Linux's force_sig_fault: a blocked or ignored fault signal
	 * cannot be set aside, the instruction would only fault again. */
	if ((signal_state.blocked & BIT(sig)) || h == SIG_DFL || h == SIG_IGN)
		return -1;
	if (enter_handler(r, sig, &info)) {
		char why[160];
		ksnprintf(why, sizeof(why), "%s; no room on the stack for the %s frame", reason,
			  signal_name(sig));
		app_kill(SIGSEGV, why, user_regs_pc(r), user_regs_sp(r));
	}
	return 0;
}

/* Queues sig for the app (0: only checks that the app exists). */
static long send(int sig, int code)
{
	if (!sig)
		return 0;
	if (!(signal_state.blocked & BIT(sig)) && is_ignored(sig)) {
		if (actions[sig].handler == SIG_DFL && default_action(sig) == STOP)
			note_stop(sig);
		return 0;
	}
	signal_state.pending |= BIT(sig);
	pending_code[sig] = code;
	return 0;
}

/* The signal argument is an int: the upper half of the register is not
 * part of it, as on Linux. */
static int valid_signal(uint64_t sig)
{
	return (int)sig >= 0 && (int)sig <= NSIG;
}

/* pid 1 is the app; 0 (its process group) and -1 (every process it may
 * signal) mean the app too, as it is alone. */
long sys_kill(uint64_t pid, uint64_t sig, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	int p = (int)pid;

	if (!valid_signal(sig))
		return -EINVAL;
	if (p != APP_PID && p != 0 && p != -1)
		return -ESRCH;
	return send((int)sig, SI_USER);
}

long sys_tkill(uint64_t tid, uint64_t sig, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	if ((int)tid <= 0 || !valid_signal(sig))
		return -EINVAL;
	if (!thread_alive((int)tid))
		return -ESRCH; /* pending is process-wide: any thread may take it */
	return send((int)sig, SI_TKILL);
}

long sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig, uint64_t a3, uint64_t a4, uint64_t a5)
{
	if ((int)tgid <= 0 || (int)tid <= 0 || !valid_signal(sig))
		return -EINVAL;
	if ((int)tgid != APP_PID || !thread_alive((int)tid))
		return -ESRCH;
	return send((int)sig, SI_TKILL);
}

long sys_rt_sigreturn(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	signal_state.sigreturn_requested = 1;
	return 0; /* replaced by the restored rax */
}

long sys_rt_sigaction(uint64_t sig, uint64_t act, uint64_t oact, uint64_t setsize, uint64_t a4,
		      uint64_t a5)
{
	struct k_sigaction new;

	if (setsize != 8 || sig < 1 || sig > NSIG)
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
		if (is_ignored((int)sig))
			signal_state.pending &= ~BIT(sig);
	}
	return 0;
}

long sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oset, uint64_t setsize, uint64_t a4,
			uint64_t a5)
{
	uint64_t new = 0, old = signal_state.blocked;

	if (setsize != 8)
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
		signal_state.blocked =
		    new & ~UNBLOCKABLE; /* newly unblocked ones go on the way out */
	return 0;
}

long sys_rt_sigpending(uint64_t set, uint64_t setsize, uint64_t a2, uint64_t a3, uint64_t a4,
		       uint64_t a5)
{
	if (setsize > sizeof(signal_state.pending))
		return -EINVAL;
	return app_copy_to(set, &signal_state.pending, setsize);
}

/* The current stack is not known here, so sigaltstack neither reports
 * SS_ONSTACK nor refuses (EPERM) a change while the handler runs on it. */
long sys_sigaltstack(uint64_t ss, uint64_t old_ss, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5)
{
	__typeof__(altstack) new;

	if (ss && app_copy_from(&new, ss, sizeof(new)))
		return -EFAULT;
	if (old_ss && app_copy_to(old_ss, &altstack, sizeof(altstack)))
		return -EFAULT;
	if (ss) {
		if (new.flags & ~SS_DISABLE)
			return -EINVAL;
		if (new.flags & SS_DISABLE) {
			new.sp = new.size = 0;
		} else if (new.size < MINSIGSTKSZ) {
			return -ENOMEM;
		}
		new.pad = 0;
		altstack = new;
	}
	return 0;
}
