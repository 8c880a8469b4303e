/*
 * IDT setup and the C side of every interrupt and exception.
 *
 * Policy: an exception raised in ring 3 is the app's fault: it becomes the
 * signal Linux would send, which goes to the app's handler when it has one
 * (kernel/signal.c) and otherwise kills the app (never a kernel panic); an
 * exception in ring 0 is a kernel bug and ends in a register report and a
 * panic. Nothing here returns to a faulting kernel context.
 */
#include "kernel/arch/x86_64/trap.h"

#include "kernel/abi/signal.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/gdt.h"
#include "kernel/arch/x86_64/sigframe.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/ulvisible.h"
#include "kernel/irq.h"
#include "kernel/abi/errno.h"
#include "kernel/kprintf.h"
#include "kernel/lockstat.h"
#include "kernel/percpu.h"
#include "kernel/panic.h"
#include "kernel/signal.h"
#include "kernel/symbols.h"
#include "kernel/thread.h"
#include "kernel/time.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

#define GATE_INTERRUPT_DPL0 0x8e
#define GATE_INTERRUPT_DPL3 0xee /* reachable by "int n" from ring 3 */
#define STUB_SIZE	    16

extern const char trap_stubs[], trap_stubs_end[];
extern const char __kernel_start[], __kernel_end[];

static struct idt_gate idt[256] UL_VISIBLE;
static uint64_t stray_interrupts;

struct exception_info {
	const char *mnemonic;
	const char *name;
	int signal; /* Linux signal for a ring-3 fault; 0: not the app's fault */
};

static const struct exception_info exceptions[32] = {
    [0] = {"#DE", "divide error", SIGFPE},
    [1] = {"#DB", "debug exception", SIGTRAP},
    [2] = {"NMI", "non-maskable interrupt", 0},
    [3] = {"#BP", "breakpoint", SIGTRAP},
    [4] = {"#OF", "overflow", SIGSEGV},
    [5] = {"#BR", "bound range exceeded", SIGSEGV},
    [6] = {"#UD", "invalid opcode", SIGILL},
    [7] = {"#NM", "device not available", SIGFPE},
    [8] = {"#DF", "double fault", 0},
    [9] = {"#MF9", "coprocessor segment overrun", SIGFPE},
    [10] = {"#TS", "invalid TSS", SIGSEGV},
    [11] = {"#NP", "segment not present", SIGBUS},
    [12] = {"#SS", "stack-segment fault", SIGBUS},
    [13] = {"#GP", "general protection fault", SIGSEGV},
    [14] = {"#PF", "page fault", SIGSEGV},
    [15] = {"#15", "reserved exception 15", SIGSEGV},
    [16] = {"#MF", "x87 floating-point exception", SIGFPE},
    [17] = {"#AC", "alignment check", SIGBUS},
    [18] = {"#MC", "machine check", 0},
    [19] = {"#XM", "SIMD floating-point exception", SIGFPE},
    [20] = {"#VE", "virtualization exception", SIGSEGV},
    [21] = {"#CP", "control protection exception", SIGSEGV},
    [22] = {"#22", "reserved exception 22", SIGSEGV},
    [23] = {"#23", "reserved exception 23", SIGSEGV},
    [24] = {"#24", "reserved exception 24", SIGSEGV},
    [25] = {"#25", "reserved exception 25", SIGSEGV},
    [26] = {"#26", "reserved exception 26", SIGSEGV},
    [27] = {"#27", "reserved exception 27", SIGSEGV},
    [28] = {"#HV", "hypervisor injection exception", SIGSEGV},
    [29] = {"#VC", "VMM communication exception", SIGSEGV},
    [30] = {"#SX", "security exception", SIGSEGV},
    [31] = {"#31", "reserved exception 31", SIGSEGV},
};

const char *trap_name(uint64_t vector)
{
	return vector < 32 ? exceptions[vector].name : "interrupt";
}

const char *trap_mnemonic(uint64_t vector)
{
	return vector < 32 ? exceptions[vector].mnemonic : "IRQ";
}

static void set_gate(unsigned vector, uint8_t type_attr, uint8_t ist)
{
	uint64_t addr = (uint64_t)trap_stubs + (uint64_t)vector * STUB_SIZE;

	idt[vector] = (struct idt_gate){
	    .offset_low = (uint16_t)addr,
	    .selector = GDT_KERNEL_CS,
	    .ist = ist,
	    .type_attr = type_attr,
	    .offset_mid = (uint16_t)(addr >> 16),
	    .offset_high = (uint32_t)(addr >> 32),
	};
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_init(void)
{
	KASSERT(trap_stubs_end - trap_stubs == 256 * STUB_SIZE);
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, GATE_INTERRUPT_DPL0, 0);
	/* int3 from ring 3 must raise #BP (SIGTRAP), not #GP, as on Linux. */
	set_gate(TRAP_BP, GATE_INTERRUPT_DPL3, 0);
	set_gate(TRAP_DF, GATE_INTERRUPT_DPL0, IST_DOUBLE_FAULT);
	set_gate(TRAP_NMI, GATE_INTERRUPT_DPL0, IST_NMI);
	set_gate(TRAP_MC, GATE_INTERRUPT_DPL0, IST_MACHINE_CHECK);
	idt_load();
}

static int kernel_address(uint64_t addr)
{
	return addr >= (uint64_t)__kernel_start && addr < (uint64_t)__kernel_end;
}

/* "0xffffffff80009ef0 kmain+0x1a0", or the bare address outside any function. */
static void print_address(const char *prefix, uint64_t addr, const char *suffix)
{
	uint64_t offset;
	const char *name = symbolize(addr, &offset);

	if (name)
		kprintf("%s%#018lx %s+%#lx%s\n", prefix, addr, name, offset, suffix);
	else
		kprintf("%s%#018lx%s\n", prefix, addr, suffix);
}

static void print_backtrace(uint64_t rip, uint64_t rbp)
{
	kprintf("solo:   stack trace:\n");
	if (rip)
		print_address("solo:     ", rip, "");
	/* Only follow frames inside the kernel image: all kernel stacks live in
	 * its .bss, so a bad rbp ends the walk instead of faulting again. */
	for (int depth = 0;
	     depth < 24 && rbp && !(rbp & 7) && kernel_address(rbp) && kernel_address(rbp + 15);
	     depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		if (!frame[1])
			break;
		print_address("solo:     ", frame[1], "");
		if (frame[0] <= rbp)
			break; /* stacks grow down: a caller's frame is always higher */
		rbp = frame[0];
	}
}

void trap_print_report(const struct trap_frame *f)
{
	if (!f) {
		print_backtrace(0, read_rbp());
		return;
	}
	kprintf("solo: %s %s, error code %#lx, %s\n", trap_mnemonic(f->vector),
		trap_name(f->vector), f->error_code, (f->cs & 3) ? "in ring 3" : "in the kernel");
	if (f->cs & 3) {
		kprintf("solo:   rip %#018lx  cs %#lx  rflags %#lx\n", f->rip, f->cs, f->rflags);
	} else {
		char rest[64];

		ksnprintf(rest, sizeof(rest), "  cs %#lx  rflags %#lx", f->cs, f->rflags);
		print_address("solo:   rip ", f->rip, rest);
	}
	kprintf("solo:   rsp %#018lx  ss %#lx\n", f->rsp, f->ss);
	kprintf("solo:   cr2 %#018lx  cr3 %#018lx  cr0 %#lx  cr4 %#lx\n", read_cr2(), read_cr3(),
		read_cr0(), read_cr4());
	kprintf("solo:   rax %#018lx  rbx %#018lx  rcx %#018lx\n", f->rax, f->rbx, f->rcx);
	kprintf("solo:   rdx %#018lx  rsi %#018lx  rdi %#018lx\n", f->rdx, f->rsi, f->rdi);
	kprintf("solo:   rbp %#018lx  r8  %#018lx  r9  %#018lx\n", f->rbp, f->r8, f->r9);
	kprintf("solo:   r10 %#018lx  r11 %#018lx  r12 %#018lx\n", f->r10, f->r11, f->r12);
	kprintf("solo:   r13 %#018lx  r14 %#018lx  r15 %#018lx\n", f->r13, f->r14, f->r15);
	if (!(f->cs & 3))
		print_backtrace(f->rip, f->rbp);
}

static const char *page_fault_cause(uint64_t error)
{
	if (error & PF_RSVD)
		return "reserved bit set in a page-table entry";
	if (error & PF_FETCH)
		return (error & PF_PRESENT) ? "execute from a non-executable page"
					    : "execute from an unmapped address";
	if (error & PF_WRITE)
		return (error & PF_PRESENT) ? "write to a read-only or kernel page"
					    : "write to an unmapped address";
	return (error & PF_PRESENT) ? "read of a kernel page" : "read from an unmapped address";
}

/* Linux's si_code and si_addr for a ring-3 exception (arch/x86/kernel/traps.c
 * and mm/fault.c): the faulting address for page faults, the instruction
 * for #DE/#UD/#MF/#XM, nothing (SI_KERNEL) for #GP and the rest. */
static int fault_code(const struct trap_frame *f, uint64_t cr2, uint64_t *si_addr)
{
	*si_addr = 0;
	switch (f->vector) {
	case TRAP_PF:
		*si_addr = cr2;
		return (f->error_code & PF_PRESENT) && cr2 < VM_USER_TOP ? SEGV_ACCERR
									 : SEGV_MAPERR;
	case TRAP_DE:
		*si_addr = f->rip;
		return FPE_INTDIV;
	case TRAP_UD:
		*si_addr = f->rip;
		return ILL_ILLOPN;
	case TRAP_DB:
		*si_addr = f->rip;
		return TRAP_TRACE;
	case 16: /* #MF */
	case 19: /* #XM */
		*si_addr = f->rip;
		return SI_KERNEL;
	case 17: /* #AC */
		return BUS_ADRALN;
	default:
		return SI_KERNEL;
	}
}

/* Hands a ring-3 exception to the app's handler, or kills the app.
 * fault_err is app_page_fault's answer for a page fault: -EIO (a page past
 * the end of a mapped file: SIGBUS, as on Linux) and -EACCES (PROT_NONE)
 * name their cause; anything else is a plain bad access. */
static void user_exception(struct trap_frame *f, int fault_err)
{
	char reason[128];
	uint64_t addr = f->vector == TRAP_PF ? read_cr2() : f->rip;
	int sig = exceptions[f->vector].signal;

	if (f->vector == TRAP_PF && fault_err == -EIO) {
		sig = SIGBUS;
		ksnprintf(reason, sizeof(reason), "bus error: page past the end of a mapped file");
	} else if (f->vector == TRAP_PF && fault_err == -EACCES)
		ksnprintf(reason, sizeof(reason), "page fault (access to a PROT_NONE page)");
	else if (f->vector == TRAP_PF)
		ksnprintf(reason, sizeof(reason), "page fault (%s)",
			  page_fault_cause(f->error_code));
	else if (f->vector == TRAP_GP && f->error_code)
		ksnprintf(reason, sizeof(reason), "%s (selector %#lx)", trap_name(f->vector),
			  f->error_code);
	else
		ksnprintf(reason, sizeof(reason), "%s", trap_name(f->vector));

	struct user_regs r;
	uint64_t si_addr;
	int code = fault_code(f, addr, &si_addr);
	if (fault_err == -EIO)
		code = BUS_ADRERR;
	else if (fault_err == -EACCES)
		code = SEGV_ACCERR;
	user_regs_from_trap(f, &r);
	if (!signal_fault(&r, sig, code, si_addr, reason)) {
		user_regs_to_trap(&r, f);
		return; /* iretq into the handler */
	}
	app_kill(sig, reason, f->rip, addr);
}

static void trap_dispatch_locked(struct trap_frame *f);

static unsigned fault_access(uint64_t error_code)
{
	return ((error_code & PF_WRITE) ? ASPACE_ACCESS_WRITE : 0) |
	       ((error_code & PF_FETCH) ? ASPACE_ACCESS_EXEC : 0) |
	       ((error_code & PF_PRESENT) ? ASPACE_ACCESS_PRESENT : 0);
}

/* The common demand fault from ring 3, beside other CPUs' and without the
 * kernel lock (app_page_fault_shared): 1 when it is resolved, 0 when the
 * way under the lock must handle it. */
static int shared_fault(const struct trap_frame *f)
{
	if (f->vector != TRAP_PF || !(f->cs & 3) || (f->error_code & PF_RSVD))
		return 0;
	uint64_t addr = read_cr2(); /* before a wait for the lock's holder */
	if (!kernel_lock_share_begin())
		return 0;
	int err = app_page_fault_shared(addr, fault_access(f->error_code));
	kernel_lock_share_end();
	return !err;
}

/*
 * The end of an interrupt in a shared section, under LOCK_THREADS (both
 * released here): 1 when the CPU can go back to where it was without the
 * kernel lock; 0 when the lock must finish: a timer due that is not a
 * shared one (time_expired_left), and from ring 3 what
 * thread_interrupt_exit does under it (a switch, signals, deferred work).
 */
static int shared_interrupt_end(const struct trap_frame *f)
{
	int done = !time_expired_left() && (!(f->cs & 3) || !thread_interrupt_exit_needed());

	thread_shared_unlock();
	kernel_lock_share_end();
	return done;
}

/*
 * The call IPI's way back to ring 3, its calls run (without the lock): in
 * a shared section, which programs the timer another CPU put first on
 * this CPU's list (the kick may be for that). 1 when that was all; 0 when
 * the kernel lock must finish (thread_interrupt_exit).
 */
static int shared_ipi_exit(const struct trap_frame *f)
{
	if (!kernel_lock_share_begin())
		return 0;
	thread_shared_lock();
	time_reprogram();
	return shared_interrupt_end(f);
}

/*
 * The timer interrupt beside other CPUs (docs/architecture.md, "Lock
 * order"), from ring 3 or an idle CPU's halt (not from a wait for the
 * kernel lock, whose holder the section would wait for): its shared
 * timers (a wait's end, a slice: kernel/time.h) run in a section, and the
 * kernel lock is taken only for what the section could not do. 1 when
 * handled; 0 when trap_dispatch's way under the lock must do it all.
 */
static int shared_timer_interrupt(struct trap_frame *f)
{
	struct cpu *c = this_cpu();

	if (f->vector != APIC_TIMER_VECTOR)
		return 0;
	if (!(f->cs & 3) &&
	    (kernel_lock_held() || __atomic_load_n(&c->lock_waiting, __ATOMIC_RELAXED)))
		return 0;
	if (!kernel_lock_share_begin())
		return 0;
	thread_shared_lock();
	irq_dispatch(APIC_TIMER_VECTOR); /* acknowledges, runs the shared timers */
	if (shared_interrupt_end(f))
		return 1;
	/* Acknowledged: the rest of the handler's work, under the lock. */
	c->lock_reason = LOCKSTAT_TRAP(APIC_TIMER_VECTOR);
	(void)kernel_lock_enter();
	time_run_expired();
	if (f->cs & 3)
		thread_interrupt_exit(f);
	kernel_lock_exit(0);
	return 1;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector == SMP_IPI_VECTOR) {
		/* The cross-CPU calls take no kernel lock (a CPU spinning for
		 * it must answer them); from ring 3 the way back may switch
		 * threads or deliver signals, which needs it. */
		irq_dispatch((unsigned)f->vector);
		if ((f->cs & 3) && !shared_ipi_exit(f)) {
			this_cpu()->lock_reason = LOCKSTAT_TRAP((unsigned)f->vector);
			(void)kernel_lock_enter();
			thread_interrupt_exit(f);
			kernel_lock_exit(0);
		}
		return;
	}
	if (f->vector == TRAP_NMI) {
		/* Never waits for the kernel lock: it may interrupt its holder. */
		kprintf("solo: NMI at rip=%#lx (ignored)\n", f->rip);
		return;
	}
	if (shared_fault(f) || shared_timer_interrupt(f))
		return;
	/* Everything else runs kernel code: with the kernel lock, taken here
	 * from ring 3 and for an interrupt of the idle halt (which drops it).
	 * An exception in the kernel is a panic and takes nothing (it may come
	 * before this_cpu() works). Interrupts are off in the handler, so the
	 * flags kept are 0. */
	int locked = ((f->cs & 3) || f->vector >= 32) && !kernel_lock_held();
	if (locked) {
		this_cpu()->lock_reason = LOCKSTAT_TRAP((unsigned)f->vector & 0xff);
		(void)kernel_lock_enter();
	}
	trap_dispatch_locked(f);
	if (locked && kernel_lock_held())
		kernel_lock_exit(0);
}

static void trap_dispatch_locked(struct trap_frame *f)
{
	if (f->vector >= 32) {
		/* From ring 0 (the kernel idling with interrupts on) or ring 3
		 * (the app runs with IF set): the handlers acknowledge their
		 * device, and on the way back to ring 3 the scheduler may switch
		 * threads (a slice ended, a timer woke one) and signals are
		 * delivered. */
		if (!irq_dispatch((unsigned)f->vector) && stray_interrupts++ == 0)
			kprintf("solo: ignoring stray interrupt vector %lu\n", f->vector);
		if (f->cs & 3)
			thread_interrupt_exit(f);
		return;
	}
	if ((f->cs & 3) && f->vector == TRAP_PF) {
		/* Demand paging first: a fault inside a demand region is backed
		 * and the instruction restarts. */
		int err = (f->error_code & PF_RSVD)
			      ? -EFAULT
			      : app_page_fault(read_cr2(), fault_access(f->error_code), f->rip);
		if (!err)
			return;
		user_exception(f, err);
		return;
	}
	if ((f->cs & 3) && exceptions[f->vector].signal) {
		user_exception(f, 0);
		return;
	}

	console_urgent();
	trap_print_report(f);
	panic_after_report("%s %s in the kernel at rip=%#lx addr=%#lx", trap_mnemonic(f->vector),
			   trap_name(f->vector), f->rip,
			   f->vector == TRAP_PF ? read_cr2() : f->rip);
}
