/*
 * Test app: signals. With no argument it runs the checks that end normally,
 * printing "signals: ok NAME" or "signals: FAIL NAME ..." per check, then
 * "signals: N failures", and exits with the number of failures. With an
 * argument it does one thing that must end the app (tests/boot/
 * test_signals.c checks how): abort, sigterm, sigkill, nested-fault,
 * no-restorer, and the hostile rt_sigreturn frames hostile-rip,
 * hostile-rsp, hostile-noncanonical, hostile-fpstate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static int failures;
/* volatile pointers: GCC may not turn a store through them into a trap */
static volatile int *volatile null_pointer = 0;
static volatile int *volatile bad_pointer = (volatile int *)8;

static void check(int ok, const char *name, const char *detail)
{
	if (ok) {
		printf("signals: ok %s\n", name);
	} else {
		printf("signals: FAIL %s %s\n", name, detail);
		failures++;
	}
	fflush(stdout);
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags, const sigset_t *mask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	if (mask)
		sa.sa_mask = *mask;
	if (sigaction(sig, &sa, NULL))
		printf("signals: sigaction(%d) failed: %s\n", sig, strerror(errno));
}

static void set_default(int sig)
{
	signal(sig, SIG_DFL);
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static uint64_t get_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

/* ------------------------------------------------------------ handler basics */

static volatile int hits, last_sig, last_code, last_pid;
static volatile uint32_t handler_mxcsr;
static volatile uintptr_t handler_uc;
static volatile uint64_t handler_uc_mask;
static volatile unsigned long handler_uc_flags;

static void counting(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid = si->si_pid;
	handler_uc = (uintptr_t)ctx;
	handler_uc_flags = uc->uc_flags;
	memcpy((void *)&handler_uc_mask, &uc->uc_sigmask, sizeof(handler_uc_mask));
}

/* Clobbers every caller-saved register the syscall ABI keeps, and xmm. */
static void clobbering(int sig, siginfo_t *si, void *ctx)
{
	hits++;
	handler_mxcsr = get_mxcsr();
	set_mxcsr(0x7f80); /* round toward zero: must not leak out */
	__asm__ volatile("mov $-1, %%r8\n\tmov $-1, %%r9\n\tmov $-1, %%r10\n\t"
			 "mov $-1, %%rdx\n\tmov $-1, %%rsi\n\tmov $-1, %%rdi\n\t"
			 "pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm8, %%xmm8\n\t"
			 "pcmpeqd %%xmm15, %%xmm15"
			 :
			 :
			 : "r8", "r9", "r10", "rdx", "rsi", "rdi", "xmm0", "xmm8", "xmm15",
			   "memory");
}

static void test_registers_survive_a_handler(void)
{
	char detail[200];

	on(SIGUSR1, clobbering, 0, NULL);
	hits = 0;
	set_mxcsr(0x3f80); /* round down, a state the handler must not see */
	register uint64_t r8 __asm__("r8") = 0x0808080808080808ull;
	register uint64_t r9 __asm__("r9") = 0x0909090909090909ull;
	register uint64_t r10 __asm__("r10") = 0x1010101010101010ull;
	uint64_t rax = SYS_tkill, rdi = 1, rsi = SIGUSR1, rdx = 0xdddddddddddddddd;
	uint64_t xin = 0x1122334455667788ull, xout;
	__asm__ volatile("movq %[xin], %%xmm8\n\tsyscall\n\tmovq %%xmm8, %[xout]"
			 : "+a"(rax), [xout] "=&r"(xout), "+r"(r8), "+r"(r9), "+r"(r10), "+d"(rdx),
			   "+S"(rsi), "+D"(rdi)
			 : [xin] "r"(xin)
			 : "rcx", "r11", "xmm8", "memory");
	uint32_t after = get_mxcsr();
	set_mxcsr(0x1f80);
	snprintf(detail, sizeof(detail),
		 "hits=%d rax=%lx r8=%lx r9=%lx r10=%lx rdx=%lx rsi=%lx rdi=%lx xmm8=%lx "
		 "mxcsr in=%x out=%x",
		 hits, rax, r8, r9, r10, rdx, rsi, rdi, xout, handler_mxcsr, after);
	check(hits == 1 && rax == 0 && r8 == 0x0808080808080808ull && r9 == 0x0909090909090909ull &&
		  r10 == 0x1010101010101010ull && rdx == 0xdddddddddddddddd && rsi == SIGUSR1 &&
		  rdi == 1 && xout == xin,
	      "registers_and_xmm_survive_a_handler", detail);
	check(handler_mxcsr == 0x1f80 && after == 0x3f80,
	      "handler_gets_a_fresh_fpu_and_mxcsr_returns", detail);

	/* A double live across raise() and the handler. */
	volatile double third = 1.0 / 3.0;
	double d = third * 3.0;
	raise(SIGUSR1);
	d = d * 2.0 + third;
	check(d > 2.33333 && d < 2.33334, "double_live_across_a_signal", "");
	set_default(SIGUSR1);
}

static void test_siginfo_and_ucontext(void)
{
	char detail[160];
	sigset_t usr2, old;

	on(SIGUSR1, counting, 0, NULL);
	hits = 0;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &old);
	raise(SIGUSR1);
	uint64_t mask = handler_uc_mask;
	snprintf(detail, sizeof(detail), "hits=%d sig=%d code=%d pid=%d uc=%lx mask=%lx", hits,
		 last_sig, last_code, last_pid, (unsigned long)handler_uc, (unsigned long)mask);
	check(hits == 1 && last_sig == SIGUSR1 && last_code == SI_TKILL && last_pid == 1,
	      "raise_gives_si_tkill_from_pid_1", detail);
	/* uc sits right above the return address: rsp at entry is 16n + 8. */
	check((handler_uc & 15) == 0, "handler_stack_is_aligned_like_after_a_call", detail);
	check(mask == (1ull << (SIGUSR2 - 1)), "uc_sigmask_is_the_mask_before_delivery", detail);
	printf("signals: FPU state saved as %s\n", (handler_uc_flags & 1) ? "XSAVE" : "FXSAVE");
	sigprocmask(SIG_SETMASK, &old, NULL);

	hits = 0;
	kill(getpid(), SIGUSR1);
	snprintf(detail, sizeof(detail), "hits=%d code=%d", hits, last_code);
	check(hits == 1 && last_code == SI_USER, "kill_self_runs_the_handler_with_si_user", detail);
	hits = 0;
	long r = syscall(SYS_tgkill, 1, 1, SIGUSR1);
	snprintf(detail, sizeof(detail), "r=%ld hits=%d code=%d", r, hits, last_code);
	check(r == 0 && hits == 1 && last_code == SI_TKILL, "tgkill_self_runs_the_handler", detail);

	int e1 = kill(getpid(), 0) == 0;
	int e2 = kill(2, SIGUSR1) == -1 && errno == ESRCH;
	int e3 = kill(1, 65) == -1 && errno == EINVAL;
	int e4 = syscall(SYS_tkill, 2, SIGUSR1) == -1 && errno == ESRCH;
	int e5 = syscall(SYS_tgkill, 1, 7, SIGUSR1) == -1 && errno == ESRCH;
	snprintf(detail, sizeof(detail), "%d %d %d %d %d hits=%d", e1, e2, e3, e4, e5, hits);
	check(e1 && e2 && e3 && e4 && e5 && hits == 1, "kill_errors_and_signal_0", detail);
	set_default(SIGUSR1);
}

/* ------------------------------------------------------------ masks and flags */

static volatile int order[8], norder, in_mask;

static void usr2_records(int sig, siginfo_t *si, void *ctx)
{
	order[norder++] = 3;
}

static void usr1_raises_usr2(int sig, siginfo_t *si, void *ctx)
{
	sigset_t cur;

	order[norder++] = 1;
	raise(SIGUSR2);
	order[norder++] = 2;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	in_mask = sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2);
}

static void test_sa_mask(void)
{
	char detail[80];
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	on(SIGUSR2, usr2_records, 0, NULL);
	on(SIGUSR1, usr1_raises_usr2, 0, &usr2);
	norder = 0;
	raise(SIGUSR1);
	snprintf(detail, sizeof(detail), "n=%d order=%d%d%d in_mask=%d", norder, order[0], order[1],
		 order[2], in_mask);
	check(norder == 3 && order[0] == 1 && order[1] == 2 && order[2] == 3 && in_mask,
	      "sa_mask_defers_a_signal_until_the_handler_returns", detail);

	on(SIGUSR1, usr1_raises_usr2, 0, NULL);
	norder = 0;
	raise(SIGUSR1);
	snprintf(detail, sizeof(detail), "n=%d order=%d%d%d", norder, order[0], order[1], order[2]);
	check(norder == 3 && order[0] == 1 && order[1] == 3 && order[2] == 2,
	      "without_sa_mask_the_other_signal_nests", detail);
	set_default(SIGUSR1);
	set_default(SIGUSR2);
}

static volatile int depth, max_depth, runs;

static void reraises(int sig, siginfo_t *si, void *ctx)
{
	runs++;
	if (++depth > max_depth)
		max_depth = depth;
	if (runs == 1)
		raise(sig);
	depth--;
}

static void test_nodefer_and_resethand(void)
{
	char detail[80];
	struct sigaction old;

	on(SIGUSR1, reraises, 0, NULL);
	depth = max_depth = runs = 0;
	raise(SIGUSR1);
	snprintf(detail, sizeof(detail), "runs=%d max_depth=%d", runs, max_depth);
	check(runs == 2 && max_depth == 1, "own_signal_is_deferred_during_its_handler", detail);

	on(SIGUSR1, reraises, SA_NODEFER, NULL);
	depth = max_depth = runs = 0;
	raise(SIGUSR1);
	snprintf(detail, sizeof(detail), "runs=%d max_depth=%d", runs, max_depth);
	check(runs == 2 && max_depth == 2, "sa_nodefer_nests_its_own_signal", detail);

	on(SIGUSR1, counting, SA_RESETHAND, NULL);
	hits = 0;
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &old);
	snprintf(detail, sizeof(detail), "hits=%d handler=%p", hits, (void *)old.sa_handler);
	check(hits == 1 && old.sa_handler == SIG_DFL, "sa_resethand_resets_to_sig_dfl", detail);
}

static void test_blocked_pending_and_ignored(void)
{
	char detail[80];
	sigset_t usr1, pend;

	on(SIGUSR1, counting, 0, NULL);
	hits = 0;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	raise(SIGUSR1);
	raise(SIGUSR1);
	int before = hits;
	sigpending(&pend);
	int was_pending = sigismember(&pend, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	int after = hits;
	sigpending(&pend);
	snprintf(detail, sizeof(detail), "before=%d pending=%d after=%d still=%d", before,
		 was_pending, after, sigismember(&pend, SIGUSR1));
	check(before == 0 && was_pending && after == 1 && !sigismember(&pend, SIGUSR1),
	      "blocked_signal_waits_and_arrives_when_unblocked", detail);

	signal(SIGUSR1, SIG_IGN);
	int r1 = raise(SIGUSR1);
	int r2 = raise(SIGCHLD) | raise(SIGWINCH) | raise(SIGURG) | raise(SIGCONT);
	snprintf(detail, sizeof(detail), "r=%d %d", r1, r2);
	check(!r1 && !r2, "sig_ign_and_default_ignore_drop_the_signal", detail);

	/* Set to SIG_IGN while pending: discarded. */
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	on(SIGUSR1, counting, 0, NULL);
	hits = 0;
	raise(SIGUSR1);
	signal(SIGUSR1, SIG_IGN);
	sigpending(&pend);
	int kept = sigismember(&pend, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	snprintf(detail, sizeof(detail), "kept=%d hits=%d", kept, hits);
	check(!kept && hits == 0, "ignoring_a_pending_signal_discards_it", detail);
	set_default(SIGUSR1);
}

static char alt_stack[32768] __attribute__((aligned(16)));
static volatile uintptr_t alt_local;
static volatile int alt_flags;
static volatile uintptr_t alt_sp;

static void on_alt(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	volatile int local = 0;

	alt_local = (uintptr_t)&local;
	alt_flags = uc->uc_stack.ss_flags;
	alt_sp = (uintptr_t)uc->uc_stack.ss_sp;
}

static void test_sigaltstack(void)
{
	char detail[120];
	stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack), .ss_flags = 0};
	stack_t small = {.ss_sp = alt_stack, .ss_size = 100, .ss_flags = 0};

	int toosmall = sigaltstack(&small, NULL) == -1 && errno == ENOMEM;
	sigaltstack(&ss, NULL);
	on(SIGUSR1, on_alt, SA_ONSTACK, NULL);
	raise(SIGUSR1);
	snprintf(detail, sizeof(detail), "local=%lx stack=%p flags=%d sp=%lx enomem=%d",
		 (unsigned long)alt_local, (void *)alt_stack, alt_flags, (unsigned long)alt_sp,
		 toosmall);
	check(alt_local > (uintptr_t)alt_stack &&
		  alt_local < (uintptr_t)alt_stack + sizeof(alt_stack) && alt_flags == 0 &&
		  alt_sp == (uintptr_t)alt_stack && toosmall,
	      "sa_onstack_runs_on_the_sigaltstack", detail);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	set_default(SIGUSR1);
}

/* ------------------------------------------------------------ faults */

static sigjmp_buf jump;
static volatile uintptr_t fault_addr;
static volatile int fault_code, fault_sig, fault_hits;

static void jump_out(int sig, siginfo_t *si, void *ctx)
{
	fault_hits++;
	fault_sig = sig;
	fault_addr = (uintptr_t)si->si_addr;
	fault_code = si->si_code;
	siglongjmp(jump, 1);
}

static void test_faults_caught(void)
{
	char detail[120];
	sigset_t cur;

	on(SIGSEGV, jump_out, 0, NULL);
	on(SIGILL, jump_out, 0, NULL);
	fault_hits = 0;
	for (int round = 0; round < 2; round++) {
		fault_addr = 1;
		if (!sigsetjmp(jump, 1)) {
			*null_pointer = 1;
			check(0, "null_deref_reaches_the_handler", "not caught");
		}
		sigprocmask(SIG_BLOCK, NULL, &cur);
		snprintf(detail, sizeof(detail),
			 "round=%d hits=%d sig=%d addr=%lx code=%d blocked=%d", round, fault_hits,
			 fault_sig, (unsigned long)fault_addr, fault_code,
			 sigismember(&cur, SIGSEGV));
		check(fault_hits == round + 1 && fault_sig == SIGSEGV && fault_addr == 0 &&
			  fault_code == SEGV_MAPERR && !sigismember(&cur, SIGSEGV),
		      "null_deref_caught_and_siglongjmp_out", detail);
	}

	if (!sigsetjmp(jump, 1))
		*(volatile unsigned char *)(uintptr_t)&test_faults_caught = 0xc3;
	snprintf(detail, sizeof(detail), "addr=%lx want=%p code=%d", (unsigned long)fault_addr,
		 (void *)&test_faults_caught, fault_code);
	check(fault_addr == (uintptr_t)&test_faults_caught && fault_code == SEGV_ACCERR,
	      "write_to_text_is_segv_accerr", detail);

	if (!sigsetjmp(jump, 1))
		__asm__ volatile("ud2");
	snprintf(detail, sizeof(detail), "sig=%d code=%d addr=%lx", fault_sig, fault_code,
		 (unsigned long)fault_addr);
	check(fault_sig == SIGILL && fault_code == ILL_ILLOPN && fault_addr > 0x10000,
	      "ud2_is_caught_as_sigill", detail);
	set_default(SIGSEGV);
	set_default(SIGILL);
}

extern char fault_insn[], fault_after[];
static volatile uintptr_t skip_rip;

/* Returns past the faulting instruction, and tries to smuggle privileged
 * RFLAGS bits and a bad MXCSR back through rt_sigreturn. */
static void skip_and_tamper(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	fault_hits++;
	fault_addr = (uintptr_t)si->si_addr;
	fault_code = si->si_code;
	skip_rip = uc->uc_mcontext.gregs[REG_RIP];
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fault_after;
	uc->uc_mcontext.gregs[REG_EFL] |= 0x3000 | 0x4000 | 0x20000 | 0x80000 | 0x100000;
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x200ll;
	if (uc->uc_mcontext.fpregs) {
		/* every byte of the legacy area garbage, the xsave signature kept */
		memset(uc->uc_mcontext.fpregs, 0xff, 464);
		uc->uc_mcontext.fpregs->mxcsr = 0xffffffff;
		/* with XSAVE (FP_XSTATE_MAGIC1), a header of all ones too */
		if (*(uint32_t *)((char *)uc->uc_mcontext.fpregs + 464) == 0x46505853)
			memset((char *)uc->uc_mcontext.fpregs + 512, 0xff, 64);
	}
}

__attribute__((noinline)) static void test_fault_handler_returns(void)
{
	char detail[200];

	on(SIGSEGV, skip_and_tamper, 0, NULL);
	fault_hits = 0;
	register uint64_t rcx __asm__("rcx") = 0xcccccccccccccccc;
	register uint64_t r11 __asm__("r11") = 0x1111111111111111;
	__asm__ volatile(".globl fault_insn, fault_after\n"
			 "fault_insn: movl 0x1234, %%eax\n"
			 "fault_after:"
			 : "+r"(rcx), "+r"(r11)
			 :
			 : "rax", "memory");
	uint64_t fl = get_rflags();
	__asm__ volatile("fninit");
	uint32_t mx = get_mxcsr();
	set_mxcsr(0x1f80);
	snprintf(detail, sizeof(detail),
		 "hits=%d addr=%lx code=%d rip=%lx want=%p rcx=%lx r11=%lx rflags=%lx mxcsr=%x",
		 fault_hits, (unsigned long)fault_addr, fault_code, (unsigned long)skip_rip,
		 (void *)fault_insn, rcx, r11, fl, mx);
	check(fault_hits == 1 && fault_addr == 0x1234 && fault_code == SEGV_MAPERR &&
		  skip_rip == (uintptr_t)fault_insn,
	      "segv_handler_sees_si_addr_and_the_faulting_rip", detail);
	check(rcx == 0xcccccccccccccccc && r11 == 0x1111111111111111,
	      "sigreturn_restores_rcx_and_r11", detail);
	check((fl & 0x200) && !(fl & 0x7000) && !(fl & 0x1a0000),
	      "sigreturn_keeps_if_and_drops_privileged_flags", detail);
	check(!(mx & 0xffff0000), "sigreturn_masks_mxcsr_reserved_bits", detail);
	set_default(SIGSEGV);
}

/* ------------------------------------------------------------ deadly modes */

static void plain(int sig)
{
	hits++;
}

static void nested(int sig, siginfo_t *si, void *ctx)
{
	printf("signals: in the SIGSEGV handler, faulting again\n");
	fflush(stdout);
	*bad_pointer = 1;
}

/* rt_sigreturn with a frame made up here: rsp points at the ucontext, as
 * after the handler's ret popped the restorer. */
static void fake_sigreturn(uint64_t rip, uint64_t rsp, uint64_t eflags, uint64_t fpstate)
{
	static ucontext_t uc __attribute__((aligned(16)));

	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)rip;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)rsp;
	uc.uc_mcontext.gregs[REG_EFL] = (greg_t)eflags;
	uc.uc_mcontext.gregs[REG_CSGSFS] = -1;
	uc.uc_mcontext.fpregs = (fpregset_t)fpstate;
	/* uc_sigmask stays empty: a fault after the return may use a handler */
	printf("signals: rt_sigreturn to rip=%lx rsp=%lx\n", (unsigned long)rip,
	       (unsigned long)rsp);
	fflush(stdout);
	__asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall" : : "r"(&uc) : "memory");
	__builtin_unreachable();
}

extern char pushes[];
__asm__(".text\npushes: push %rax\n\tud2\n");

static unsigned char garbage_fpu[4096] __attribute__((aligned(64)));

static int deadly(const char *what)
{
	if (!strcmp(what, "abort")) {
		abort();
	} else if (!strcmp(what, "sigterm")) {
		kill(getpid(), SIGTERM);
	} else if (!strcmp(what, "sigkill")) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL); /* SIGKILL cannot be blocked */
		kill(getpid(), SIGKILL);
	} else if (!strcmp(what, "nested-fault")) {
		on(SIGSEGV, nested, 0, NULL);
		*null_pointer = 1;
	} else if (!strcmp(what, "no-restorer")) {
		struct {
			void (*handler)(int);
			unsigned long flags;
			void (*restorer)(void);
			uint64_t mask;
		} ksa = {plain, 0, 0, 0};
		long r = syscall(SYS_rt_sigaction, SIGUSR1, &ksa, NULL, 8);
		printf("signals: raw rt_sigaction returned %ld\n", r);
		fflush(stdout);
		raise(SIGUSR1);
	} else if (!strcmp(what, "hostile-rip")) {
		fake_sigreturn(0xffffffff80001000ull, (uint64_t)&alt_stack[16384], 0x202,
			       (uint64_t)garbage_fpu);
	} else if (!strcmp(what, "hostile-rsp")) {
		/* The frame itself is fine: rip is the app's, the flags and FPU
		 * image are sanitized. Its stack is the kernel's, so the push
		 * at rip faults and the SIGSEGV frame cannot be written. */
		on(SIGSEGV, jump_out, 0, NULL);
		on(SIGBUS, jump_out, 0, NULL);
		memset(garbage_fpu, 0xff, sizeof(garbage_fpu));
		fake_sigreturn((uint64_t)pushes, 0xffffffff80010000ull, 0xfffffffffffffeffull,
			       (uint64_t)garbage_fpu);
	} else if (!strcmp(what, "hostile-noncanonical")) {
		fake_sigreturn((uint64_t)pushes, 0x8000000000001000ull, 0x202, 0);
	} else if (!strcmp(what, "hostile-fpstate")) {
		fake_sigreturn((uint64_t)pushes, (uint64_t)&alt_stack[16384], 0x202,
			       0xffff800000000000ull);
	} else {
		printf("signals: unknown mode %s\n", what);
		return 2;
	}
	printf("signals: survived %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return deadly(argv[1]);
	test_registers_survive_a_handler();
	test_siginfo_and_ucontext();
	test_sa_mask();
	test_nodefer_and_resethand();
	test_blocked_pending_and_ignored();
	test_sigaltstack();
	test_faults_caught();
	test_fault_handler_returns();
	printf("signals: %d failures\n", failures);
	return failures;
}
