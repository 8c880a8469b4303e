/*
 * The x86-64 half of signal delivery: the app's registers as a signal sees
 * them, the Linux rt_sigframe built on the app's stack for a handler, and
 * rt_sigreturn reading it back. kernel/signal.c decides what to deliver and
 * when; this file knows only the layout (Linux's uapi asm/sigcontext.h and
 * musl's arch/x86_64/bits/signal.h, which agree) and the FPU state.
 *
 * Nothing in a frame is trusted on the way back: the return address must be
 * in the app's half, RFLAGS keeps only the bits an app may set itself, the
 * segments are always the app's, and the FPU image is sanitized so that
 * FXRSTOR/XRSTOR cannot fault in the kernel. A non-canonical stack pointer
 * is refused; any other is loaded as is, and if it is not the app's memory,
 * the app's next stack access faults in ring 3, like on Linux.
 */
#pragma once

#include <stdint.h>

struct syscall_frame;
struct trap_frame;

/* The app's registers where a signal interrupts it, in sigcontext order. */
struct user_regs {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, rflags;
	uint64_t err, trapno, cr2; /* the fault's; 0 after a syscall */
};

static inline uint64_t user_regs_pc(const struct user_regs *r)
{
	return r->rip;
}

static inline uint64_t user_regs_sp(const struct user_regs *r)
{
	return r->rsp;
}

/* After a syscall, rcx and r11 hold the return rip and rflags (the syscall
 * instruction put them there), as the app will see them. */
void user_regs_from_syscall(const struct syscall_frame *f, struct user_regs *r);
/* Writes r back. Returns 1 when rcx/r11 differ from rip/rflags, so that the
 * syscall must return with iretq (sysret would clobber them), else 0. */
int user_regs_to_syscall(const struct user_regs *r, struct syscall_frame *f);
void user_regs_from_trap(const struct trap_frame *f, struct user_regs *r);
void user_regs_to_trap(const struct user_regs *r, struct trap_frame *f);

/*
 * fpu_state_save/load - park the CPU's FPU state (the app thread's that
 * ran last) in area, or load it back, for a thread switch. area is
 * FPU_STATE_SIZE bytes, 64-byte aligned, kernel memory, and only ever
 * written by fpu_state_save (so XRSTOR cannot fault on it).
 */
#define FPU_STATE_SIZE 4096
void fpu_state_save(void *area);
void fpu_state_load(const void *area);

#define SIGINFO_SIZE 128

struct sigframe_args {
	int sig;
	const void *info; /* SIGINFO_SIZE bytes of siginfo_t, copied as is */
	uint64_t handler, restorer;
	uint64_t old_mask; /* uc_sigmask: what rt_sigreturn puts back */
	uint64_t
	    stack_top; /* 0: below the interrupted rsp's red zone; else the alternate stack's top */
	uint64_t ss_sp, ss_size; /* uc_stack, as sigaltstack reports it */
	int ss_flags;
};

/*
 * sigframe_push - save the registers and FPU state of r into a new
 * rt_sigframe on the app's stack and change r to enter a->handler(sig,
 * &info, &uc) with a fresh FPU state, returning to a->restorer.
 * Returns 0, or -EFAULT when the frame does not fit in the app's memory
 * (r and the FPU are then unchanged).
 */
int sigframe_push(struct user_regs *r, const struct sigframe_args *a);

/*
 * sigframe_pop - rt_sigreturn: r->rsp - 8 is the frame sigframe_push built
 * (the handler's ret popped pretcode). Loads the saved registers into r and
 * the saved FPU state into the CPU, and the saved signal mask into *mask.
 * Returns 0, or -EFAULT with *why set when the frame cannot be used (the
 * caller kills the app; r may then be partly changed).
 */
int sigframe_pop(struct user_regs *r, uint64_t *mask, const char **why);
