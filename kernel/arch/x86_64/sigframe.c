/*
 * Linux x86-64 signal frames (see sigframe.h). What a handler finds, from
 * its rsp up (rsp is 16-byte aligned minus 8 at entry, as after a call):
 *
 *   rsp ->  pretcode            sa_restorer: the handler's ret goes there,
 *                               and musl's __restore_rt calls rt_sigreturn
 *           struct ucontext     uc_flags, uc_link, uc_stack, uc_mcontext
 *                               (gregs in REG_R8..REG_CR2 order, fpstate
 *                               pointer), uc_sigmask: the mask before
 *           siginfo_t           128 bytes
 *           (padding)
 *   fpstate (64-byte aligned)   XSAVE image with Linux's fpx_sw_bytes in
 *                               the FXSAVE area's software bytes and
 *                               FP_XSTATE_MAGIC2 after it; plain FXSAVE
 *                               when the CPU has no XSAVE
 *           128-byte red zone   of the interrupted code, left alone
 *
 * The kernel is built without SSE and never touches the FPU, so on every
 * entry from ring 3 the FPU registers still hold the app's state: saving
 * and restoring it here is all it takes.
 */
#include "kernel/arch/x86_64/sigframe.h"

#include <stddef.h>

#include "kernel/app.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/gdt.h"
#include "kernel/arch/x86_64/syscall.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "mm/vm.h"

#define REDZONE		     128
#define FXSAVE_SIZE	     512
#define XSAVE_HEADER_SIZE    64
#define FPU_AREA_MAX	     4096
#define FP_XSTATE_MAGIC1     0x46505853u
#define FP_XSTATE_MAGIC2     0x46505845u
#define FP_XSTATE_MAGIC2_LEN 4
#define XFEATURE_FP_SSE	     0x3ull
#define MXCSR_DEFAULT	     0x1f80u
#define MXCSR_MASK_DEFAULT   0xffbfu /* when FXSAVE reports 0: no DAZ */
#define FCW_DEFAULT	     0x37fu
#define UC_FP_XSTATE	     0x1
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4

/* Bits of RFLAGS an app may change (Linux's FIX_EFLAGS): the arithmetic
 * flags, TF, DF, AC and RF. IF, IOPL, NT, VM... come from the kernel. */
#define RFLAGS_USER_BITS 0x50dd5ull
#define RFLAGS_FIXED	 0x202ull /* IF and the always-one bit 1 */
#define RFLAGS_TF	 (1ull << 8)
#define RFLAGS_DF	 (1ull << 10)
#define RFLAGS_RF	 (1ull << 16)

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* user address of the FPU image, or 0 */
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags, pad;
		uint64_t ss_size;
	} uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[SIGINFO_SIZE];
};

/* Linux's struct _fpx_sw_bytes, in the FXSAVE area's bytes 464..511. */
struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size; /* the whole image, FP_XSTATE_MAGIC2 included */
	uint64_t xfeatures;
	uint32_t xstate_size; /* the XSAVE image without FP_XSTATE_MAGIC2 */
	uint32_t padding[7];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(offsetof(struct k_sigcontext, rip) == 16 * 8, "REG_RIP is 16");
_Static_assert(offsetof(struct k_sigcontext, err) == 19 * 8, "REG_ERR is 19");
_Static_assert(offsetof(struct k_sigcontext, cr2) == 22 * 8, "REG_CR2 is 22");
_Static_assert(offsetof(struct k_ucontext, uc_mcontext) == 40, "uc_mcontext offset");
_Static_assert(offsetof(struct k_ucontext, uc_sigmask) == 296, "uc_sigmask offset");
_Static_assert(sizeof(struct rt_sigframe) == 440, "Linux x86-64 rt_sigframe size");
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "fpx_sw_bytes fill bytes 464..511");
_Static_assert(offsetof(struct user_regs, rflags) == offsetof(struct k_sigcontext, eflags),
	       "user_regs is in sigcontext order");

/* The FPU image goes through here: XSAVE/FXSAVE need aligned kernel memory,
 * and one app on one CPU never has two signals in flight in the kernel. */
static uint8_t fpu_area[FPU_AREA_MAX] __attribute__((aligned(64)));
static uint8_t fpu_init_area[FPU_AREA_MAX] __attribute__((aligned(64)));
static int fpu_probed;
static uint32_t xsave_size; /* 0: FXSAVE only */
static uint64_t xcr0;
static uint32_t mxcsr_mask;

static inline uint64_t xgetbv(uint32_t reg)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(reg));
	return ((uint64_t)hi << 32) | lo;
}

static void fxsave(void *area)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[FXSAVE_SIZE])area));
}

static void fxrstor(const void *area)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[FXSAVE_SIZE])area));
}

static void xsave(void *area, uint64_t rfbm)
{
	__asm__ volatile("xsave64 (%0)"
			 :
			 : "r"(area), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}

static void xrstor(const void *area, uint64_t rfbm)
{
	__asm__ volatile("xrstor64 (%0)"
			 :
			 : "r"(area), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}

static uint32_t *mxcsr_of(uint8_t *area)
{
	return (uint32_t *)(area + 24);
}

/* Which save format the CPU (as cpu.c set it up) uses, and MXCSR's valid
 * bits; once, on the first signal. */
static void fpu_probe(void)
{
	uint32_t r[4];

	fpu_probed = 1;
	cpuid(1, 0, r);
	if (r[2] & (1u << 27)) { /* OSXSAVE: cpu.c turned XSAVE on */
		xcr0 = xgetbv(0);
		cpuid(0xd, 0, r);
		/* EBX: the image size for the features enabled in XCR0. */
		if (r[1] >= FXSAVE_SIZE + XSAVE_HEADER_SIZE &&
		    r[1] + FP_XSTATE_MAGIC2_LEN <= FPU_AREA_MAX)
			xsave_size = r[1];
	}
	memset(fpu_area, 0, sizeof(fpu_area));
	fxsave(fpu_area);
	mxcsr_mask = *(uint32_t *)(fpu_area + 28);
	if (!mxcsr_mask)
		mxcsr_mask = MXCSR_MASK_DEFAULT;
	/* The state a handler starts with (Linux gives it a fresh FPU too):
	 * x87 and SSE at their reset values, an all-zero XSAVE header
	 * meaning every other component in its initial state. */
	*(uint16_t *)fpu_init_area = FCW_DEFAULT;
	*mxcsr_of(fpu_init_area) = MXCSR_DEFAULT;
}

/* Saves the app's FPU state into fpu_area; returns the bytes to copy out. */
static uint32_t fpu_save(void)
{
	if (!fpu_probed)
		fpu_probe();
	if (!xsave_size) {
		memset(fpu_area, 0, FXSAVE_SIZE);
		fxsave(fpu_area);
		return FXSAVE_SIZE;
	}
	memset(fpu_area, 0, xsave_size + FP_XSTATE_MAGIC2_LEN); /* XSAVE writes only XSTATE_BV */
	xsave(fpu_area, xcr0);
	struct fpx_sw_bytes *sw = (struct fpx_sw_bytes *)(fpu_area + 464);
	sw->magic1 = FP_XSTATE_MAGIC1;
	sw->extended_size = xsave_size + FP_XSTATE_MAGIC2_LEN;
	sw->xfeatures = xcr0;
	sw->xstate_size = xsave_size;
	*(uint32_t *)(fpu_area + xsave_size) = FP_XSTATE_MAGIC2;
	return xsave_size + FP_XSTATE_MAGIC2_LEN;
}

static void fpu_reset(void)
{
	if (xsave_size)
		xrstor(fpu_init_area, xcr0);
	else
		fxrstor(fpu_init_area);
}

/*
 * Loads the FPU image at user address uaddr (0: a fresh FPU). The image
 * is copied into the kernel and made harmless first: MXCSR's reserved bits
 * and any XSAVE header bit the CPU does not have would make FXRSTOR/XRSTOR
 * raise #GP in ring 0. An image without valid fpx_sw_bytes is taken as
 * FXSAVE only (the AVX state is reset), as Linux does.
 */
static int fpu_restore(uint64_t uaddr)
{
	if (!fpu_probed)
		fpu_probe();
	if (!uaddr) {
		fpu_reset();
		return 0;
	}
	uint32_t size = xsave_size ? xsave_size : FXSAVE_SIZE;
	memset(fpu_area, 0, size);
	if (app_copy_from(fpu_area, uaddr, FXSAVE_SIZE))
		return -EFAULT;
	*mxcsr_of(fpu_area) &= mxcsr_mask;
	if (!xsave_size) {
		fxrstor(fpu_area);
		return 0;
	}
	const struct fpx_sw_bytes *sw = (const struct fpx_sw_bytes *)(fpu_area + 464);
	uint64_t features = XFEATURE_FP_SSE;
	if (sw->magic1 == FP_XSTATE_MAGIC1 && sw->xstate_size == xsave_size &&
	    sw->extended_size == xsave_size + FP_XSTATE_MAGIC2_LEN) {
		uint32_t magic2;
		if (app_copy_from(fpu_area + FXSAVE_SIZE, uaddr + FXSAVE_SIZE,
				  xsave_size - FXSAVE_SIZE) ||
		    app_copy_from(&magic2, uaddr + xsave_size, sizeof(magic2)))
			return -EFAULT;
		if (magic2 == FP_XSTATE_MAGIC2)
			features = *(uint64_t *)(fpu_area + FXSAVE_SIZE) | XFEATURE_FP_SSE;
		else
			memset(fpu_area + FXSAVE_SIZE, 0, xsave_size - FXSAVE_SIZE);
	}
	/* Standard-format header: XSTATE_BV within XCR0, bytes 8..63 zero. */
	memset(fpu_area + FXSAVE_SIZE, 0, XSAVE_HEADER_SIZE);
	*(uint64_t *)(fpu_area + FXSAVE_SIZE) = features & xcr0;
	xrstor(fpu_area, xcr0);
	return 0;
}

/* The CPU's FPU registers hold the running thread's state (the kernel
 * never touches them); a thread switch parks them in the thread's area.
 * XSAVE writes only XSTATE_BV in the header, so the rest of the header is
 * cleared first: XRSTOR #GPs on a header with any other byte set. The
 * components need no clearing: XRSTOR loads a component whose XSTATE_BV
 * bit is clear with its initial state, not from the area. (Clearing the
 * whole area at each switch: a futex ping-pong of two threads on one CPU
 * took 81 us a round trip under TCG, 53-65 us without.) */
void fpu_state_save(void *area)
{
	if (!fpu_probed)
		fpu_probe();
	if (!xsave_size) {
		memset(area, 0, FXSAVE_SIZE);
		fxsave(area);
		return;
	}
	memset((uint8_t *)area + FXSAVE_SIZE, 0, XSAVE_HEADER_SIZE);
	xsave(area, xcr0);
}

void fpu_state_load(const void *area)
{
	if (!fpu_probed)
		fpu_probe();
	if (xsave_size)
		xrstor(area, xcr0);
	else
		fxrstor(area);
}

void user_regs_from_syscall(const struct syscall_frame *f, struct user_regs *r)
{
	*r = (struct user_regs){
	    .r8 = f->r8,
	    .r9 = f->r9,
	    .r10 = f->r10,
	    .r11 = f->rflags,
	    .r12 = f->r12,
	    .r13 = f->r13,
	    .r14 = f->r14,
	    .r15 = f->r15,
	    .rdi = f->rdi,
	    .rsi = f->rsi,
	    .rbp = f->rbp,
	    .rbx = f->rbx,
	    .rdx = f->rdx,
	    .rax = f->rax,
	    .rcx = f->rip,
	    .rsp = f->rsp,
	    .rip = f->rip,
	    .rflags = f->rflags,
	};
}

int user_regs_to_syscall(const struct user_regs *r, struct syscall_frame *f)
{
	f->r8 = r->r8;
	f->r9 = r->r9;
	f->r10 = r->r10;
	f->r12 = r->r12;
	f->r13 = r->r13;
	f->r14 = r->r14;
	f->r15 = r->r15;
	f->rdi = r->rdi;
	f->rsi = r->rsi;
	f->rbp = r->rbp;
	f->rbx = r->rbx;
	f->rdx = r->rdx;
	f->rax = r->rax;
	f->rsp = r->rsp;
	f->rip = r->rip;
	f->rflags = r->rflags;
	f->rcx = r->rcx;
	f->r11 = r->r11;
	return r->rcx != r->rip || r->r11 != r->rflags;
}

void user_regs_from_trap(const struct trap_frame *f, struct user_regs *r)
{
	*r = (struct user_regs){
	    .r8 = f->r8,
	    .r9 = f->r9,
	    .r10 = f->r10,
	    .r11 = f->r11,
	    .r12 = f->r12,
	    .r13 = f->r13,
	    .r14 = f->r14,
	    .r15 = f->r15,
	    .rdi = f->rdi,
	    .rsi = f->rsi,
	    .rbp = f->rbp,
	    .rbx = f->rbx,
	    .rdx = f->rdx,
	    .rax = f->rax,
	    .rcx = f->rcx,
	    .rsp = f->rsp,
	    .rip = f->rip,
	    .rflags = f->rflags,
	    .err = f->error_code,
	    .trapno = f->vector,
	    .cr2 = f->vector == TRAP_PF ? read_cr2() : 0,
	};
}

void user_regs_to_trap(const struct user_regs *r, struct trap_frame *f)
{
	f->r8 = r->r8;
	f->r9 = r->r9;
	f->r10 = r->r10;
	f->r11 = r->r11;
	f->r12 = r->r12;
	f->r13 = r->r13;
	f->r14 = r->r14;
	f->r15 = r->r15;
	f->rdi = r->rdi;
	f->rsi = r->rsi;
	f->rbp = r->rbp;
	f->rbx = r->rbx;
	f->rdx = r->rdx;
	f->rax = r->rax;
	f->rcx = r->rcx;
	f->rsp = r->rsp;
	f->rip = r->rip;
	f->rflags = r->rflags;
}

int sigframe_push(struct user_regs *r, const struct sigframe_args *a)
{
	struct rt_sigframe frame;
	uint64_t sp = a->stack_top ? a->stack_top : r->rsp - REDZONE;
	uint32_t fpu_size = fpu_save();

	/* Any rsp may arrive here, even a wrapped or kernel one: keep the
	 * arithmetic in the app's half; the copies check the pages. */
	if (sp > VM_USER_TOP || sp < fpu_size + sizeof(frame) + 128)
		return -EFAULT;
	uint64_t fpstate = ALIGN_DOWN(sp - fpu_size, 64);
	uint64_t at = ALIGN_DOWN(fpstate - sizeof(frame) + 8, 16) - 8;

	memset(&frame, 0, sizeof(frame));
	frame.pretcode = a->restorer;
	frame.uc.uc_flags =
	    UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (xsave_size ? UC_FP_XSTATE : 0);
	frame.uc.uc_stack.ss_sp = a->ss_sp;
	frame.uc.uc_stack.ss_flags = a->ss_flags;
	frame.uc.uc_stack.ss_size = a->ss_size;
	struct k_sigcontext *sc = &frame.uc.uc_mcontext;
	memcpy(sc, r, offsetof(struct user_regs, err)); /* r8 .. rflags */
	sc->cs = GDT_USER_CS;
	sc->ss = GDT_USER_DS;
	sc->err = r->err;
	sc->trapno = r->trapno;
	sc->oldmask = a->old_mask;
	sc->cr2 = r->cr2;
	sc->fpstate = fpstate;
	frame.uc.uc_sigmask = a->old_mask;
	memcpy(frame.info, a->info, SIGINFO_SIZE);
	if (app_copy_to(fpstate, fpu_area, fpu_size) || app_copy_to(at, &frame, sizeof(frame)))
		return -EFAULT;

	r->rip = a->handler;
	r->rsp = at;
	r->rdi = (uint64_t)a->sig;
	r->rsi = at + offsetof(struct rt_sigframe, info);
	r->rdx = at + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rflags &= ~(RFLAGS_DF | RFLAGS_TF | RFLAGS_RF);
	fpu_reset();
	return 0;
}

int sigframe_pop(struct user_regs *r, uint64_t *mask, const char **why)
{
	struct k_ucontext uc;
	uint64_t at = r->rsp - 8;

	if (app_copy_from(&uc, at + offsetof(struct rt_sigframe, uc), sizeof(uc))) {
		*why = "rt_sigreturn with an unreadable signal frame";
		return -EFAULT;
	}
	const struct k_sigcontext *sc = &uc.uc_mcontext;
	/* iretq to a non-canonical rip faults in ring 0; a kernel rip would
	 * only fault in ring 3, but there is no reason to go there. */
	if (sc->rip >= VM_USER_TOP) {
		*why = "rt_sigreturn to an address outside the app";
		return -EFAULT;
	}
	/* A non-canonical rsp is refused too rather than left to fault later:
	 * the app could not have got one by itself, and the frame's job is to
	 * put back what the app had. */
	if ((uint64_t)((int64_t)(sc->rsp << 16) >> 16) != sc->rsp) {
		*why = "rt_sigreturn with a non-canonical stack pointer";
		return -EFAULT;
	}
	if (fpu_restore(sc->fpstate)) {
		*why = "rt_sigreturn with an unreadable FPU state";
		return -EFAULT;
	}
	memcpy(r, sc, offsetof(struct user_regs, err));
	r->rflags = RFLAGS_FIXED | (sc->eflags & RFLAGS_USER_BITS);
	r->err = r->trapno = r->cr2 = 0;
	*mask = uc.uc_sigmask;
	return 0;
}
