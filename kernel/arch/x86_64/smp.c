/*
 * Starting the other CPUs (see smp.h).
 *
 * One CPU at a time, by the Intel SDM's INIT-SIPI-SIPI sequence (vol. 3,
 * "MP initialization"; Linux's wakeup_secondary_cpu_via_init does the
 * same): INIT asserted then deasserted, 10 ms, then two STARTUP IPIs 200 us
 * apart naming the trampoline's page. The CPU runs the trampoline
 * (smp_trampoline.S) into long mode and smp_ap_main below, which sets it up
 * from what the boot CPU has (control registers, EFER, PAT, XCR0, the
 * syscall MSRs: read here once, so every CPU is the same) and sends it to
 * the idle loop.
 *
 * What a CPU is given (its struct ap_boot, stacks, struct cpu, entry block
 * index, and the trampoline page with its page tables while it may still
 * read them) is its own: a CPU that misses the timeout may still wake up
 * later, so none of it is ever reused or freed, and the next CPU gets a
 * fresh trampoline. Such a late CPU sees `abandoned` and parks at once.
 *
 * Cross-CPU calls: each CPU has a queue of CALL_SLOTS fixed slots, in
 * static memory, behind a spinlock (LOCK_SMP_CALL). A caller fills a free
 * slot of the target's queue and sends SMP_IPI_VECTOR; the target's
 * handler takes the oldest queued slot (RUNNING), runs it without the lock
 * and marks it DONE for a waiting caller (who frees it) or FREE. Because a
 * slot belongs to the target and is never freed, a caller that gives up
 * never leaves the target writing into memory that is gone: it withdraws a
 * slot not yet begun, and marks a running one abandoned, which the target
 * then frees itself.
 */
#include "kernel/arch/x86_64/smp.h"

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/gdt.h"
#include "kernel/arch/x86_64/smp_trampoline.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/arch/x86_64/ulvisible.h"
#include "kernel/irq.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/lockstat.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/phys.h"
#include "mm/valloc.h"
#include "mm/vm.h"

#define SYSCALL_STACK_PAGES 8 /* as the boot CPU's 32 KiB */
#define IST_STACK_PAGES	    4 /* as gdt.c's 16 KiB */
#define START_TIMEOUT_MS    2000
#define EFER_LMA	    (1ull << 10)
#define PTE_P		    0x1ull
#define PTE_W		    0x2ull
#define PTE_PS		    0x80ull
#define TRAMP_PAGES	    4 /* code and data, PML4, PDPT, PD */

struct cpu_entry cpu_entries[SMP_MAX_CPUS] UL_VISIBLE;
_Static_assert(SMP_MAX_CPUS <= 1u << SYSCALL_SEQ_CPU_BITS,
	       "a CPU index fits in a syscall number's low bits");

/* What a starting CPU needs, made by the boot CPU; never freed. */
struct ap_boot {
	unsigned index;
	uint64_t stack_top;
	uint64_t ist_top[GDT_IST_STACKS];
	struct cpu *cpu;
	volatile int online;	/* 1: set up and parked; -1: this_cpu() was wrong */
	volatile int abandoned; /* the boot CPU gave up on it */
};

/* The boot CPU's settings, copied onto every other CPU. */
static struct {
	uint64_t cr0, cr4, efer, pat, star, lstar, fmask, xcr0;
	int pat_valid, xsave;
} bsp;

static unsigned online = 1;
/* A bit per CPU index, set before the CPU gets calls. */
static uint64_t cpu_up_mask = 1;

#define CALL_SLOTS 16

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct call_slot {
	smp_call_fn fn;
	void *arg;
	uint64_t ticket; /* queue order */
	int state;	 /* enum slot_state; read without the lock by the waiter */
	int wait;	 /* the caller frees it (after DONE) */
	int abandoned;	 /* the caller gave up while it ran: the target frees it */
};

struct call_queue {
	struct spinlock lock;
	uint64_t next_ticket;
	struct call_slot slot[CALL_SLOTS];
};

static struct call_queue queues[SMP_MAX_CPUS] = {
    [0 ... SMP_MAX_CPUS - 1] = {.lock = SPINLOCK_INIT("smp call queue", LOCK_SMP_CALL)}};

extern char smp_trampoline_start[], smp_trampoline_end[], smp_tramp_32[], smp_tramp_64[];
extern char smp_ap_entry[];
_Noreturn void smp_ap_main(struct ap_boot *b);
_Noreturn void smp_idle_loop(void);

unsigned smp_cpus_online(void)
{
	return online;
}

int smp_cpu_online(unsigned cpu)
{
	return cpu < SMP_MAX_CPUS && ((smp_online_mask() >> cpu) & 1);
}

uint64_t smp_online_mask(void)
{
	return __atomic_load_n(&cpu_up_mask, __ATOMIC_ACQUIRE);
}

static uint64_t ms_to_tsc(unsigned ms)
{
	return tsc_hz() / 1000 * ms;
}

void smp_call_run(void)
{
	struct call_queue *q = &queues[this_cpu()->index];

	for (;;) {
		unsigned long flags = spin_lock_irqsave(&q->lock);
		struct call_slot *s = NULL;
		for (unsigned i = 0; i < CALL_SLOTS; i++) {
			struct call_slot *c = &q->slot[i];
			if (c->state == SLOT_QUEUED && (!s || c->ticket < s->ticket))
				s = c;
		}
		if (!s) {
			spin_unlock_irqrestore(&q->lock, flags);
			return;
		}
		s->state = SLOT_RUNNING;
		smp_call_fn fn = s->fn;
		void *arg = s->arg;
		spin_unlock_irqrestore(&q->lock, flags);

		fn(arg);

		flags = spin_lock_irqsave(&q->lock);
		if (s->wait && !s->abandoned) {
			__atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
		} else {
			s->abandoned = 0;
			s->state = SLOT_FREE;
		}
		spin_unlock_irqrestore(&q->lock, flags);
	}
}

static void tlb_flush_all(void);

static struct spinlock kernel_lock = SPINLOCK_INIT("kernel", LOCK_KERNEL);

/* The CPUs halted in kernel_lock_enter (bit: index), woken by an IPI from
 * kernel_lock_exit. */
static uint64_t lock_sleepers;

/*
 * The CPU (index + 1) the kernel lock was handed to, 0: none. A halted
 * waiter wakes too late to win a lock its holder takes again at once (a
 * thread making calls back to back): it could wait for seconds. So a
 * holder that leaves while a halted waiter has waited LOCK_HANDOFF_NS
 * hands the lock over instead of releasing it (spin_hand_over: it stays
 * taken, so no CPU can barge in), names the waiter here and wakes it.
 * Written only by the holder, while the lock stays taken; cleared by the
 * CPU named as it takes the lock. The waiter named cannot have stopped
 * waiting: a CPU leaves kernel_lock_enter's loop only with the lock.
 */
static unsigned lock_handed_to;

/* Only after this long: handing over at every release would make the CPUs
 * take turns at the pace of the slowest wake-up (a halted vCPU can take a
 * millisecond to run again on a busy host). */
#define LOCK_HANDOFF_NS 2000000ull

/* The CPUs in a shared section (kernel_lock_share_begin). */
static unsigned shared_sections;

/* How many times a waiter tries before it halts: counted in tries, not
 * time, so that it scales with how fast the CPU runs this loop (tens of
 * microseconds on hardware, more under emulation, where the holder's own
 * path is slower too). Long enough for a usual critical section; beyond
 * it, under a hypervisor, spinning would only burn the host CPU that the
 * holder's vCPU needs. */
#define LOCK_SPINS 2000

/* Whether the kernel lock was handed to this CPU (kernel_lock_exit). */
static int lock_handed_to_me(void)
{
	return __atomic_load_n(&lock_handed_to, __ATOMIC_ACQUIRE) == this_cpu()->index + 1;
}

/* Halts until kernel_lock_exit's IPI (or any interrupt); since: when this
 * CPU began to wait for the lock. */
static void halt_for_kernel_lock(uint64_t since)
{
	struct cpu *c = this_cpu();
	uint64_t bit = 1ull << c->index;

	/* An interrupt taken in the halt below may want the lock too: it
	 * spins (one halted waiter per CPU, no unbounded nesting). So does a
	 * handler that has not acknowledged its interrupt yet, if that holds
	 * the call IPI back (the timer's vector shares its priority class):
	 * halted, it could not answer a holder's shootdown. */
	if (c->lock_halting || apic_vector_blocked(SMP_IPI_VECTOR)) {
		__builtin_ia32_pause();
		return;
	}
	c->lock_halting = 1;
	uint64_t cr2 = read_cr2(); /* a page fault's address, not yet read */
	__atomic_store_n(&c->lock_wait_since, since, __ATOMIC_RELAXED);
	__atomic_fetch_or(&lock_sleepers, bit, __ATOMIC_SEQ_CST);
	/* Seen held, and not handed to us, after we announced ourselves: the
	 * holder's exit sees us (both sides are sequentially consistent) and
	 * sends the IPI, after it names us if it hands the lock over. */
	if (__atomic_load_n(&kernel_lock.locked, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&lock_handed_to, __ATOMIC_SEQ_CST) != c->index + 1)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	__atomic_fetch_and(&lock_sleepers, ~bit, __ATOMIC_SEQ_CST);
	write_cr2(cr2);
	c->lock_halting = 0;
}

void smp_flush_if_stale(void)
{
	if (__atomic_exchange_n(&this_cpu()->tlb_stale, 0, __ATOMIC_ACQ_REL))
		tlb_flush_all();
}

unsigned long kernel_lock_enter(void)
{
	unsigned long flags;
	unsigned spins = 0;

	/* The lock's taker waits for every shared section to end: its own
	 * too, forever. */
	if (this_cpu()->shared_section)
		panic("kernel_lock_enter: inside a shared section");
	/* Polling: the holder may be waiting for this CPU to answer a call
	 * (a TLB shootdown); interrupts are off while we spin, so the IPI
	 * alone would never be taken. */
	struct cpu *c = this_cpu();
	int waited = 0;
	uint64_t since = 0;
	/* Read before the wait: an interrupt taken in the halt names its own. */
	unsigned reason = c->lock_reason;
	uint64_t asked = lockstat_enabled ? time_now() : 0;

	c->lock_reason = LOCKSTAT_OTHER;
	for (;;) {
		if (lock_handed_to_me()) {
			__atomic_store_n(&lock_handed_to, 0, __ATOMIC_RELAXED);
			spin_take_handed(&kernel_lock, &flags);
			break;
		}
		if (spin_trylock(&kernel_lock, &flags))
			break;
		/* From here to the flush below this CPU reads no app memory:
		 * a shootdown may skip it (tlb_shootdown_app_page). */
		if (!waited) {
			__atomic_store_n(&c->lock_waiting, 1, __ATOMIC_SEQ_CST);
			waited = 1;
			since = time_now();
		}
		smp_call_run();
		if (++spins < LOCK_SPINS) {
			__builtin_ia32_pause();
			continue;
		}
		halt_for_kernel_lock(since);
		spins = 0;
	}
	if (waited)
		__atomic_store_n(&c->lock_waiting, 0, __ATOMIC_SEQ_CST);
	/* The shared sections that began before we took the lock end first;
	 * none begins now that it is held (kernel_lock_share_begin). */
	while (__atomic_load_n(&shared_sections, __ATOMIC_SEQ_CST)) {
		smp_call_run();
		__builtin_ia32_pause();
	}

	smp_flush_if_stale();

	/* Another CPU may have put a timer first on this CPU's list (a
	 * slice), which only this CPU's local APIC can time (kernel/time.c). */
	time_reprogram();
	if (lockstat_enabled) {
		c->lock_held_reason = reason;
		c->lock_held_since = time_now();
		c->lock_waited_ns = c->lock_held_since - asked;
	}
	return flags;
}

/* The halted waiter (not this CPU) that has waited longest, or -1. */
static int oldest_sleeper(uint64_t *since)
{
	uint64_t sleepers = __atomic_load_n(&lock_sleepers, __ATOMIC_SEQ_CST);
	int oldest = -1;

	sleepers &= ~(1ull << this_cpu()->index);
	for (; sleepers; sleepers &= sleepers - 1) {
		int cpu = __builtin_ctzll(sleepers);
		uint64_t t =
		    __atomic_load_n(&cpu_entries[cpu].cpu->lock_wait_since, __ATOMIC_RELAXED);
		if (oldest < 0 || t < *since) {
			oldest = cpu;
			*since = t;
		}
	}
	return oldest;
}

static void wake_for_lock(int cpu)
{
	(void)apic_send_ipi(cpu_entries[cpu].apic_id, APIC_IPI_FIXED | SMP_IPI_VECTOR);
}

void kernel_lock_exit(unsigned long flags)
{
	struct cpu *c = this_cpu();

	if (c->lock_held_since) {
		lockstat_account(c->lock_held_reason, c->lock_waited_ns,
				 time_now() - c->lock_held_since);
		c->lock_held_since = 0;
	}
	uint64_t since = 0;
	int cpu = oldest_sleeper(&since);

	if (cpu >= 0 && time_now() - since >= LOCK_HANDOFF_NS) {
		spin_hand_over(&kernel_lock);
		__atomic_store_n(&lock_handed_to, (unsigned)cpu + 1, __ATOMIC_SEQ_CST);
		/* Woken before our interrupts are back on: an interrupt here
		 * whose handler wants the lock would spin for it while the
		 * CPU that has it halts, never told. */
		wake_for_lock(cpu);
		if (flags)
			sti();
		return;
	}
	spin_unlock_irqrestore(&kernel_lock, flags);
	/* One halted waiter, the oldest, is woken to try again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	cpu = oldest_sleeper(&since);
	if (cpu >= 0)
		wake_for_lock(cpu);
}

int kernel_lock_held(void)
{
	return spin_is_held_by_me(&kernel_lock);
}

int kernel_lock_share_begin(void)
{
	/* A holder's stretch is usually short: waiting it out (answering its
	 * calls meanwhile) keeps the shared faults off the lock, where one
	 * fault taking the lock would send every other CPU's after it. */
	for (unsigned spins = 0; spins < LOCK_SPINS; spins++) {
		if (__atomic_load_n(&kernel_lock.locked, __ATOMIC_RELAXED)) {
			smp_call_run();
			__builtin_ia32_pause();
			continue;
		}
		__atomic_fetch_add(&shared_sections, 1, __ATOMIC_SEQ_CST);
		/* Seen free after we counted ourselves: a CPU that takes the
		 * lock from now on sees the count and waits for us (both sides
		 * are sequentially consistent, as in halt_for_kernel_lock). */
		if (!__atomic_load_n(&kernel_lock.locked, __ATOMIC_SEQ_CST)) {
			this_cpu()->shared_section = 1;
			return 1;
		}
		__atomic_fetch_sub(&shared_sections, 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

void kernel_lock_share_end(void)
{
	this_cpu()->shared_section = 0;
	__atomic_fetch_sub(&shared_sections, 1, __ATOMIC_SEQ_CST);
}

static void ipi_interrupt(void *dev)
{
	(void)dev;
	/* First: an IPI sent while the queue runs is kept pending, not lost. */
	apic_eoi();
	this_cpu()->call_interrupts++;
	smp_call_run();
}

static void no_answer(unsigned cpu, unsigned timeout_ms)
{
	kinfo("solo: smp: cpu %u did not answer a call within %u ms\n", cpu, timeout_ms);
}

/* A free slot of cpu's queue, filled and queued, or NULL when none frees
 * up before deadline. Runs this CPU's own calls while it waits. */
static struct call_slot *queue_call(unsigned cpu, smp_call_fn fn, void *arg, int wait,
				    uint64_t deadline)
{
	struct call_queue *q = &queues[cpu];

	for (;;) {
		unsigned long flags = spin_lock_irqsave(&q->lock);
		for (unsigned i = 0; i < CALL_SLOTS; i++) {
			struct call_slot *s = &q->slot[i];
			if (s->state != SLOT_FREE)
				continue;
			*s = (struct call_slot){.fn = fn,
						.arg = arg,
						.ticket = q->next_ticket++,
						.state = SLOT_QUEUED,
						.wait = wait};
			spin_unlock_irqrestore(&q->lock, flags);
			/* The slot is visible before the IPI (a locked release, then
			 * the ICR write; x2APIC's WRMSR is fenced in apic_send_ipi). */
			(void)apic_send_ipi(cpu_entries[cpu].apic_id,
					    APIC_IPI_FIXED | SMP_IPI_VECTOR);
			return s;
		}
		spin_unlock_irqrestore(&q->lock, flags);
		if (rdtsc() > deadline)
			return NULL;
		smp_call_run();
		__builtin_ia32_pause();
	}
}

/* Waits for a waited-for slot of cpu's queue until deadline: 0, or
 * -ETIMEDOUT after withdrawing or abandoning it. */
static int wait_slot(unsigned cpu, struct call_slot *s, uint64_t deadline)
{
	struct call_queue *q = &queues[cpu];
	int err = 0;

	while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_DONE) {
		if (rdtsc() > deadline) {
			err = -ETIMEDOUT;
			break;
		}
		smp_call_run();
		__builtin_ia32_pause();
	}
	unsigned long flags = spin_lock_irqsave(&q->lock);
	if (s->state == SLOT_DONE) {
		err = 0; /* it finished as time ran out */
		s->state = SLOT_FREE;
	} else if (s->state == SLOT_QUEUED) {
		s->state = SLOT_FREE; /* never begun: withdrawn */
	} else {
		s->abandoned = 1; /* running: the target frees it */
	}
	spin_unlock_irqrestore(&q->lock, flags);
	return err;
}

int smp_call_timeout(unsigned cpu, smp_call_fn fn, void *arg, int wait, unsigned timeout_ms)
{
	if (cpu == this_cpu()->index) {
		unsigned long flags;
		__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
		fn(arg);
		if (flags & (1ul << 9))
			__asm__ volatile("sti" ::: "memory");
		return 0;
	}
	if (!smp_cpu_online(cpu))
		return -EINVAL;
	uint64_t deadline = rdtsc() + ms_to_tsc(timeout_ms);
	struct call_slot *s = queue_call(cpu, fn, arg, wait, deadline);
	int err = !s ? -ETIMEDOUT : wait ? wait_slot(cpu, s, deadline) : 0;
	if (err)
		no_answer(cpu, timeout_ms);
	return err;
}

int smp_call(unsigned cpu, smp_call_fn fn, void *arg, int wait)
{
	return smp_call_timeout(cpu, fn, arg, wait, SMP_CALL_TIMEOUT_MS);
}

/* smp_call_all_others, but a CPU for which skip (if any) says 1 gets no
 * call. */
static int call_others_but(smp_call_fn fn, void *arg, int wait, int (*skip)(struct cpu *))
{
	struct call_slot *slots[SMP_MAX_CPUS];
	unsigned me = this_cpu()->index;
	uint64_t deadline = rdtsc() + ms_to_tsc(SMP_CALL_TIMEOUT_MS);
	int err = 0;

	for (unsigned c = 0; c < SMP_MAX_CPUS; c++) {
		slots[c] = NULL;
		if (c == me || !smp_cpu_online(c) || (skip && skip(cpu_entries[c].cpu)))
			continue;
		slots[c] = queue_call(c, fn, arg, wait, deadline);
		if (!slots[c]) {
			no_answer(c, SMP_CALL_TIMEOUT_MS);
			err = -ETIMEDOUT;
		}
	}
	if (!wait)
		return err;
	for (unsigned c = 0; c < SMP_MAX_CPUS; c++) {
		if (slots[c] && wait_slot(c, slots[c], deadline)) {
			no_answer(c, SMP_CALL_TIMEOUT_MS);
			err = -ETIMEDOUT;
		}
	}
	return err;
}

int smp_call_all_others(smp_call_fn fn, void *arg, int wait)
{
	return call_others_but(fn, arg, wait, NULL);
}

void smp_call_nop(void *arg)
{
	(void)arg;
}

void smp_kick(unsigned cpu)
{
	(void)smp_call(cpu, smp_call_nop, NULL, 0);
}

/* Per calling CPU: a late CPU (one that timed out) may still read it. */
static struct tlb_request {
	uint64_t va;
	size_t npages;
} tlb_requests[SMP_MAX_CPUS];

static void tlb_flush_all(void)
{
	uint64_t cr4 = read_cr4();

	if (cr4 & CR4_PGE) {
		/* Clearing PGE flushes every entry, global ones included. */
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr4(cr4); /* keeps cr4 as it was; cr3 below flushes */
		__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	}
}

static void tlb_flush_request(void *arg)
{
	const struct tlb_request *r = arg;
	uint64_t va = r->va;
	size_t n = r->npages;

	if (!n || n > TLB_SHOOTDOWN_MAX_PAGES) {
		tlb_flush_all();
		return;
	}
	for (size_t i = 0; i < n; i++)
		invlpg(va + i * PAGE_SIZE);
}

/* Idle (halted or in its idle loop) or waiting for the kernel lock, which
 * this CPU holds: p touches no app memory until it takes the lock, and
 * flushes then (tlb_stale). No IPI to wake it. */
static int flushes_later(struct cpu *p)
{
	if (!__atomic_load_n(&p->idle, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&p->lock_waiting, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&p->tlb_stale, 1, __ATOMIC_RELEASE);
	return 1;
}

int tlb_shootdown_app_pages(uint64_t va, size_t npages)
{
	struct tlb_request *r = &tlb_requests[this_cpu()->index];

	r->va = va;
	r->npages = npages;
	return call_others_but(tlb_flush_request, r, 1, flushes_later);
}

int tlb_shootdown_all_others(uint64_t va, size_t npages)
{
	if (online == 1)
		return 0;
	struct tlb_request *r = &tlb_requests[this_cpu()->index];
	r->va = va;
	r->npages = npages;
	return smp_call_all_others(tlb_flush_request, r, 1);
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void read_bsp_settings(void)
{
	uint32_t r[4];

	bsp.cr0 = read_cr0();
	bsp.cr4 = read_cr4();
	bsp.efer = rdmsr(MSR_EFER);
	cpuid(1, 0, r);
	bsp.pat_valid = !!(r[3] & (1u << 16));
	if (bsp.pat_valid)
		bsp.pat = rdmsr(MSR_PAT);
	bsp.star = rdmsr(MSR_STAR);
	bsp.lstar = rdmsr(MSR_LSTAR);
	bsp.fmask = rdmsr(MSR_FMASK);
	bsp.xsave = !!(bsp.cr4 & CR4_OSXSAVE);
	if (bsp.xsave)
		bsp.xcr0 = xgetbv0();
}

/* Runs on the new CPU, on its own stack and the kernel's page tables. */
_Noreturn void smp_ap_main(struct ap_boot *b)
{
	if (b->abandoned)
		cpu_halt_forever();
	/* CR0 first: a CPU comes out of INIT with caching disabled (CD, NW). */
	write_cr0(bsp.cr0);
	write_cr4(bsp.cr4);
	if (bsp.xsave)
		xsetbv(0, bsp.xcr0);
	wrmsr(MSR_EFER, bsp.efer);
	if (bsp.pat_valid)
		wrmsr(MSR_PAT, bsp.pat);
	gdt_init_cpu(b->index, b->ist_top, b->stack_top);
	struct cpu_entry *e = &cpu_entries[b->index];
	wrmsr(MSR_GS_BASE, (uint64_t)e);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	idt_load();
	wrmsr(MSR_STAR, bsp.star);
	wrmsr(MSR_LSTAR, bsp.lstar);
	wrmsr(MSR_FMASK, bsp.fmask);
	e->apic_id = apic_timer_init_ap();
	/* Online only if this_cpu() finds this CPU's own struct cpu through
	 * the GS base. */
	int ok = this_cpu() == b->cpu;
	__atomic_store_n(&b->online, ok ? 1 : -1, __ATOMIC_RELEASE);
	if (!ok)
		cpu_halt_forever();
	/* The idle loop: only the call IPI is sent here and the timer is
	 * masked. The IPI's handler runs the queue; running it here too
	 * catches a call queued while interrupts were off. An IPI that comes
	 * between the run and the hlt is held pending and wakes the hlt (sti
	 * takes effect after the next instruction). */
	smp_idle_loop();
}

int smp_app_cpus_spread;

void smp_note_app_cpu(void)
{
	if (this_cpu()->index != 0)
		__atomic_store_n(&smp_app_cpus_spread, 1, __ATOMIC_RELEASE);
}

/* The idle loop: the call IPI wakes it, a thread made runnable sends one
 * (kernel/thread.c), and the scheduler may send it to ring 3 from here. */
_Noreturn void smp_idle_loop(void)
{
	for (;;) {
		smp_call_run();
		thread_cpu_idle();
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}

_Noreturn void smp_idle_restart(void)
{
	__asm__ volatile("movq %%gs:%c0, %%rsp\n\tcall smp_idle_loop"
			 :
			 : "i"(CPU_ENTRY_KERNEL_RSP)
			 : "memory");
	__builtin_unreachable();
}

/* A trampoline page and its page tables, or 0 when low memory is gone. */
static paddr_t make_trampoline(void)
{
	paddr_t page = palloc_low(TRAMP_PAGES);

	if (!page)
		return 0;
	uint8_t *t = phys_to_virt(page);
	memset(t, 0, TRAMP_PAGES * PAGE_SIZE);
	memcpy(t, smp_trampoline_start, (size_t)(smp_trampoline_end - smp_trampoline_start));

	uint64_t *pml4 = (uint64_t *)(t + PAGE_SIZE);
	uint64_t *pdpt = (uint64_t *)(t + 2 * PAGE_SIZE);
	uint64_t *pd = (uint64_t *)(t + 3 * PAGE_SIZE);
	const uint64_t *kernel_pml4 = phys_to_virt(read_cr3() & ~(uint64_t)(PAGE_SIZE - 1));
	/* The low 2 MiB to themselves (the page runs from there), and the
	 * kernel's half as the kernel's tables have it. */
	pml4[0] = (page + 2 * PAGE_SIZE) | PTE_P | PTE_W;
	pdpt[0] = (page + 3 * PAGE_SIZE) | PTE_P | PTE_W;
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS;
	for (unsigned i = 256; i < 512; i++)
		pml4[i] = kernel_pml4[i];

	uint16_t limit = 4 * 8 - 1;
	uint32_t gdt = (uint32_t)page + TRAMP_GDT;
	memcpy(t + TRAMP_GDTR, &limit, 2);
	memcpy(t + TRAMP_GDTR + 2, &gdt, 4);
	uint32_t off32 = (uint32_t)page + (uint32_t)(smp_tramp_32 - smp_trampoline_start);
	uint32_t off64 = (uint32_t)page + (uint32_t)(smp_tramp_64 - smp_trampoline_start);
	uint16_t sel32 = TRAMP_SEL_CODE32, sel64 = TRAMP_SEL_CODE64;
	memcpy(t + TRAMP_JMP32, &off32, 4);
	memcpy(t + TRAMP_JMP32 + 4, &sel32, 2);
	memcpy(t + TRAMP_JMP64, &off64, 4);
	memcpy(t + TRAMP_JMP64 + 4, &sel64, 2);
	uint32_t cr3 = (uint32_t)page + PAGE_SIZE;
	uint64_t efer = bsp.efer & ~EFER_LMA;
	uint64_t kernel_cr3 = read_cr3(), entry = (uint64_t)smp_ap_entry;
	memcpy(t + TRAMP_CR3, &cr3, 4);
	memcpy(t + TRAMP_EFER, &efer, 8);
	memcpy(t + TRAMP_KERNEL_CR3, &kernel_cr3, 8);
	memcpy(t + TRAMP_ENTRY, &entry, 8);
	return page;
}

static void delay_us(uint64_t us)
{
	uint64_t start = rdtsc(), ticks = tsc_hz() / 1000000 * us;

	while (rdtsc() - start < ticks)
		__builtin_ia32_pause();
}

/* Each started CPU's syscall stack and IST stacks, as mapped in the
 * kernel's view and, at the same addresses, in the app's view template. */
static struct kstack cpu_stacks[SMP_MAX_CPUS][1 + GDT_IST_STACKS];
static struct vm_ctx *app_view;

/* Maps ks's pages into the app view template at the same addresses,
 * supervisor-only and writable, as the boot CPU's static ones are. */
static int map_into_app_view(const struct kstack *ks)
{
	if (!app_view)
		return 0;
	for (vaddr_t va = ks->bottom; va < ks->top; va += PAGE_SIZE) {
		paddr_t pa;
		if (vm_lookup(&kernel_ctx, va, &pa, NULL))
			return -ENOENT;
		int err = vm_map(app_view, va, pa, VM_WRITE);
		if (err)
			return err;
	}
	return 0;
}

/* A new CPU's own memory: 0, or -1 when there is not enough (then it is
 * not started; what was taken is kept, as for a failed start: rare). */
static int give_memory(struct ap_boot *b, unsigned index)
{
	struct kstack *ks = cpu_stacks[index];

	if (kstack_alloc(SYSCALL_STACK_PAGES, &ks[0]) || map_into_app_view(&ks[0]))
		return -1;
	b->stack_top = ks[0].top;
	for (int i = 0; i < GDT_IST_STACKS; i++) {
		if (kstack_alloc(IST_STACK_PAGES, &ks[1 + i]) || map_into_app_view(&ks[1 + i]))
			return -1;
		b->ist_top[i] = ks[1 + i].top;
	}
	b->cpu = zmalloc(sizeof(*b->cpu));
	return b->cpu ? 0 : -1;
}

int smp_check_app_view(const struct vm_ctx *view)
{
	for (unsigned c = 1; c < SMP_MAX_CPUS; c++) {
		if (!smp_cpu_online(c))
			continue;
		for (unsigned i = 0; i < 1 + GDT_IST_STACKS; i++) {
			const struct kstack *ks = &cpu_stacks[c][i];
			for (vaddr_t va = ks->bottom; va < ks->top; va += PAGE_SIZE) {
				paddr_t kpa, vpa;
				unsigned flags;
				if (vm_lookup(&kernel_ctx, va, &kpa, NULL) ||
				    vm_lookup(view, va, &vpa, &flags) || vpa != kpa ||
				    (flags & (VM_USER | VM_WRITE)) != VM_WRITE)
					return -ENOENT;
			}
			/* The guard page stays unmapped there too. */
			if (!ks->top || !vm_lookup(view, ks->guard, NULL, NULL))
				return -ENOENT;
		}
	}
	return 0;
}

/* INIT-SIPI-SIPI to apic_id, then wait for b to come online. Returns 0,
 * -EINVAL or -ENODEV when no IPI could be sent (so nothing can wake), or
 * -ETIMEDOUT. */
static int start_one(uint32_t apic_id, paddr_t tramp, struct ap_boot *b)
{
	int err;

	uint8_t *t = phys_to_virt(tramp);
	uint64_t stack = b->stack_top, arg = (uint64_t)b;

	memcpy(t + TRAMP_STACK, &stack, 8);
	memcpy(t + TRAMP_ARG, &arg, 8);
	cpu_entries[b->index] = (struct cpu_entry){
	    .cpu = b->cpu, .kernel_rsp = b->stack_top, .index = b->index, .apic_id = apic_id};
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	err = apic_send_ipi(apic_id, APIC_IPI_INIT | APIC_IPI_LEVEL_TRIG | APIC_IPI_LEVEL_ASSERT);
	if (err)
		return err;
	if (apic_send_ipi(apic_id, APIC_IPI_INIT | APIC_IPI_LEVEL_TRIG))
		return -ETIMEDOUT;
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		if (apic_send_ipi(apic_id, APIC_IPI_STARTUP | (uint32_t)(tramp >> 12)))
			return -ETIMEDOUT;
		delay_us(200);
	}
	uint64_t start = rdtsc(), limit = tsc_hz() / 1000 * START_TIMEOUT_MS;
	int state;
	while (!(state = __atomic_load_n(&b->online, __ATOMIC_ACQUIRE))) {
		if (rdtsc() - start > limit)
			return -ETIMEDOUT;
		__builtin_ia32_pause();
	}
	return state == 1 ? 0 : -ETIMEDOUT;
}

/* CPU index, on node, is numbered so in its struct cpu and for ring 3. */
static void set_node(struct cpu *c, unsigned node)
{
	c->node = node;
	gdt_set_cpu_number(c->index, node);
}

/* "solo: smp: cpu nodes ..." when the CPUs running are on several nodes. */
static void log_nodes(void)
{
	char list[SMP_MAX_CPUS * 4 + 1];
	unsigned len = 0, several = 0;

	for (unsigned i = 0; i < SMP_MAX_CPUS; i++) {
		if (!smp_cpu_online(i))
			continue;
		several |= cpu_entries[i].cpu->node != 0;
		len += (unsigned)ksnprintf(list + len, sizeof(list) - len, " %u",
					   cpu_entries[i].cpu->node);
	}
	if (several)
		kinfo("solo: smp: cpu nodes%s\n", list);
}

unsigned smp_start(const uint32_t *apic_ids, const unsigned *nodes, unsigned n, unsigned max_cpus,
		   struct vm_ctx *app_view_template)
{
	uint32_t self = apic_id();
	char list[SMP_MAX_CPUS * 11 + 1];
	unsigned len = 0, next_index = 1, listed = 0;
	paddr_t tramp = 0;

	app_view = app_view_template;
	cpu_entries[0].apic_id = self;
	cpu_entries[0].cpu->apic_id = self;
	len += (unsigned)ksnprintf(list + len, sizeof(list) - len, " %u", self);
	/* Past SMP_MAX_CPUS the MADT's CPUs are only counted; it lists the
	 * boot CPU too (ACPI says every processor). */
	unsigned stored = n < SMP_MAX_CPUS ? n : SMP_MAX_CPUS;
	for (unsigned i = 0; i < stored; i++) {
		listed += apic_ids[i] != self;
		if (apic_ids[i] == self && nodes)
			set_node(cpu_entries[0].cpu, nodes[i]);
	}
	if (n > stored)
		listed = n - 1;
	if (!listed)
		return online; /* one CPU: nothing to say, nothing sent */
	read_bsp_settings();
	irq_register(SMP_IPI_VECTOR, ipi_interrupt, NULL);
	for (unsigned i = 0; i < stored; i++) {
		uint32_t id = apic_ids[i];
		if (id == self)
			continue;
		if ((max_cpus && online >= max_cpus) || next_index >= SMP_MAX_CPUS)
			break;
		if (!tramp)
			tramp = make_trampoline();
		struct ap_boot *b = zmalloc(sizeof(*b));
		if (!tramp || !b || give_memory(b, next_index)) {
			kinfo("solo: smp: no memory to start cpu %u (apic %u); the rest stay off\n",
			      next_index, id);
			break;
		}
		b->index = next_index++;
		b->cpu->index = b->index;
		b->cpu->apic_id = id;
		int err = start_one(id, tramp, b);
		if (err == -ETIMEDOUT) {
			b->abandoned = 1;
			kinfo("solo: cpu %u (apic %u) did not start; skipped\n", b->index, id);
			tramp = 0; /* it may still read this one */
			continue;
		}
		if (err) {
			/* Never signalled: the trampoline stays good. */
			kinfo("solo: cpu %u (apic %u) cannot be signalled (%s); skipped\n",
			      b->index, id,
			      err == -EINVAL ? "x2APIC ID without x2APIC" : "no local APIC");
			continue;
		}
		online++;
		set_node(b->cpu, nodes ? nodes[i] : 0);
		__atomic_fetch_or(&cpu_up_mask, 1ull << b->index, __ATOMIC_RELEASE);
		len += (unsigned)ksnprintf(list + len, sizeof(list) - len, " %u", id);
	}
	if (tramp)
		pfree_low(tramp, TRAMP_PAGES);
	if (max_cpus && listed + 1 > max_cpus)
		kinfo("solo: smp: %u of %u cpus running (apic%s), cpus=%u\n", online, listed + 1,
		      list, max_cpus);
	else if (n > SMP_MAX_CPUS)
		kinfo("solo: smp: %u of %u cpus running (apic%s), Solo runs at most %u\n", online,
		      listed + 1, list, SMP_MAX_CPUS);
	else
		kinfo("solo: smp: %u of %u cpus running (apic%s)\n", online, listed + 1, list);
	log_nodes();
	return online;
}
