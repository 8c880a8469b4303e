/*
 * smp - the other CPUs: found by the boot sequence in the ACPI MADT, started
 * here with INIT-SIPI-SIPI through a real-mode trampoline in low memory
 * (smp_trampoline.S), set up like the boot CPU and then left in an idle
 * loop that halts with interrupts on and runs the cross-CPU calls other
 * CPUs queue for it (smp_call, below), woken by an IPI on SMP_IPI_VECTOR,
 * and asks the scheduler for an app thread to run (kernel/thread.h,
 * thread_cpu_idle; docs/architecture.md, "CPUs").
 *
 * Every CPU, the boot CPU included, has a struct cpu_entry: the few words
 * the entry trampolines need before the kernel's page tables are loaded
 * (so UL_VISIBLE, one static array), reached through the GS base while in
 * the kernel (swapgs on every way in from ring 3 and out to it). Its first
 * word points at the CPU's struct cpu (kernel/percpu.h): this_cpu() is one
 * GS-relative load.
 */
#pragma once

/* The most CPUs Solo starts; the MADT may list more (they stay off). */
#define SMP_MAX_CPUS 64

/* The vector of the cross-CPU call IPI: with the local APIC's own, above
 * the device vectors (kernel/irq.h), acknowledged by its handler. */
#define SMP_IPI_VECTOR 0xf1

/* How long a cross-CPU call waits for its CPU (to take it, and with wait,
 * to finish it) before it gives up with -ETIMEDOUT. */
#define SMP_CALL_TIMEOUT_MS 1000

/* Offsets in struct cpu_entry, for the assembly. */
#define CPU_ENTRY_CPU	     0
#define CPU_ENTRY_KERNEL_RSP 8
#define CPU_ENTRY_USER_RSP   16

#ifndef __ASSEMBLY__
#include <stddef.h>
#include <stdint.h>

struct cpu;
struct vm_ctx;

struct cpu_entry {
	struct cpu *cpu;     /* this_cpu() */
	uint64_t kernel_rsp; /* top of the syscall stack (also TSS rsp0) */
	uint64_t user_rsp;   /* syscall entry's scratch slot for the app's rsp */
	uint32_t index;	     /* 0 = the boot CPU, then in the order started */
	uint32_t apic_id;
};
_Static_assert(offsetof(struct cpu_entry, cpu) == CPU_ENTRY_CPU, "smp.h");
_Static_assert(offsetof(struct cpu_entry, kernel_rsp) == CPU_ENTRY_KERNEL_RSP, "smp.h");
_Static_assert(offsetof(struct cpu_entry, user_rsp) == CPU_ENTRY_USER_RSP, "smp.h");

extern struct cpu_entry cpu_entries[SMP_MAX_CPUS];

/*
 * smp_start - start the CPUs whose local APIC IDs are in apic_ids (n of
 * them, from the MADT; the boot CPU's own ID is skipped wherever it is;
 * past SMP_MAX_CPUS only counted, the arrays hold the first SMP_MAX_CPUS),
 * one at a time, until max_cpus CPUs run in all (the boot CPU counts;
 * 0: no cap). Each started CPU gets its own GDT, TSS, IST and syscall
 * stacks, struct cpu and GS base, the boot CPU's control registers, MSRs
 * and IDT, its local APIC enabled with the timer masked, and goes to the
 * idle loop (interrupts on only in its hlt; only SMP_IPI_VECTOR is ever
 * sent to it). A CPU that does not come up within a timeout is skipped
 * and logged ("solo: cpu N (apic A) did not start; skipped"); what it was
 * given (trampoline page, stacks) is never reused, in case it wakes late.
 * A CPU no IPI can name (an x2APIC ID above 255 while the APIC is in xAPIC
 * mode) is skipped too ("... cannot be signalled (why); skipped").
 * Logs one line naming the CPUs running (and, past SMP_MAX_CPUS, that Solo
 * runs no more). nodes[i] is apic_ids[i]'s NUMA node (< 256; NULL: all on
 * node 0): each CPU's struct cpu and number descriptor (gdt_set_cpu_number)
 * get theirs, the boot CPU's too, and "solo: smp: cpu nodes N0 N1 ..." (by
 * CPU index) is logged when not all are on node 0. Boot time, once, after
 * the kernel's page tables, kmalloc and apic_timer_init, and before any app
 * view is made from app_view_template: each started CPU's syscall and IST
 * stacks are mapped there too (same addresses, supervisor-only; their guard
 * pages not), so a scheduler can send the CPU to ring 3 (NULL: not mapped).
 * Returns how many CPUs run, the boot CPU included. Never fails the boot.
 */
unsigned smp_start(const uint32_t *apic_ids, const unsigned *nodes, unsigned n, unsigned max_cpus,
		   struct vm_ctx *app_view_template);

/* Whether every started CPU's syscall and IST stacks are mapped in view as
 * in the kernel's (same frames, writable, supervisor-only) and their guard
 * pages are not: 0 or -ENOENT. For the self-test. */
int smp_check_app_view(const struct vm_ctx *view);

/* The CPUs running (the boot CPU included): 1 before smp_start. */
unsigned smp_cpus_online(void);
/* Whether CPU number cpu (struct cpu's index) runs and takes calls. */
int smp_cpu_online(unsigned cpu);
/* The same for every CPU: bit i set when CPU i is online (a CPU never goes
 * offline, so a bit once read set stays set). */
uint64_t smp_online_mask(void);

typedef void (*smp_call_fn)(void *arg);

/*
 * smp_call - run fn(arg) on CPU cpu (an index, as this_cpu()->index), in
 * its interrupt context with interrupts off: queued on that CPU's call
 * queue, which an IPI makes it run. With wait, returns once fn returned
 * there; without, once it is queued (fn runs soon after). On this CPU
 * itself, fn runs at once (interrupts off) and 0 is returned.
 *
 * Bounded: a CPU that does not take the call, or with wait does not finish
 * it, within SMP_CALL_TIMEOUT_MS makes it return -ETIMEDOUT and log
 * "solo: smp: cpu N did not answer a call within M ms"; a call it had not
 * begun is withdrawn, one it is running finishes later on its own. So arg
 * must outlive the call even past a timeout when fn may have begun: pass
 * static or per-CPU memory, never a caller's stack unless fn copies
 * nothing out of it late (the shootdown below keeps its request per CPU).
 * While it waits, the calling CPU runs the calls queued for it, so two
 * CPUs that call each other do not deadlock. Never call it with a lock
 * held that fn or the target's other calls take.
 *
 * Kernel context, after smp_start (before it, only cpu 0 exists). Returns
 * 0, -EINVAL when cpu is not online, or -ETIMEDOUT. Blocks (spins) up to
 * the timeout. fn must not block or wait for another CPU.
 */
int smp_call(unsigned cpu, smp_call_fn fn, void *arg, int wait);

/* smp_call on every online CPU but this one, all queued first and then
 * waited for together (one timeout for all). Returns 0 (also with no other
 * CPU), or -ETIMEDOUT when one did not answer (each such CPU logged; the
 * others did run fn). */
int smp_call_all_others(smp_call_fn fn, void *arg, int wait);

/* The call that does nothing: what matters is the IPI, which brings the
 * target out of ring 3 or its halt into the kernel's way back (signals,
 * the scheduler, time_reprogram) or its idle loop. smp_kick sends it
 * without waiting; smp_call_all_others(smp_call_nop, NULL, 1) returns once
 * every other CPU has left ring 3. */
void smp_call_nop(void *arg);
void smp_kick(unsigned cpu);

/* smp_call with its own timeout, for the self-test of the timeout path. */
int smp_call_timeout(unsigned cpu, smp_call_fn fn, void *arg, int wait, unsigned timeout_ms);

/* Runs the calls queued for this CPU (the IPI handler and the idle loop
 * do; a CPU waiting in smp_call does). Interrupts off. */
void smp_call_run(void);

/*
 * The kernel lock (LOCK_KERNEL, outermost): the first SMP scheduler's way
 * of keeping the single-CPU kernel's invariant "one CPU in the kernel at a
 * time" (docs/architecture.md, "Lock order"). kernel_lock_enter turns
 * interrupts off and spins until this CPU holds it, running the calls
 * queued for this CPU while it spins (smp_call_run), so a holder that
 * waits for this CPU (a shootdown, smp_call with wait) is answered and no
 * deadlock forms. Returns the interrupt state before, for kernel_lock_exit.
 * Never taken while another lock is held (the checking build panics).
 * Blocks (spins) as long as another CPU is in the kernel.
 *
 * Taken on every entry from ring 3 (syscall.S, trap_dispatch) and dropped
 * on every return and around the idle halt (time_idle); the scheduler's
 * idle loop on the other CPUs takes it to look for a thread. It also
 * programs this CPU's timer when another CPU armed one on this CPU's list
 * (time_reprogram).
 */
unsigned long kernel_lock_enter(void);
void kernel_lock_exit(unsigned long flags);
/* Whether this CPU holds the kernel lock: for assertions. */
int kernel_lock_held(void);

/*
 * The kernel lock's shared side: a section that runs beside other such
 * sections on other CPUs, but never beside a holder of the kernel lock
 * (the demand fault of kernel/app.h's app_page_fault_shared; what it may
 * touch is listed in docs/architecture.md, "Lock order").
 * kernel_lock_share_begin returns 1 with the section entered, or 0 when a
 * CPU holds the kernel lock and keeps it for as long as a lock waiter
 * spins before it halts (take it instead: nothing was entered); while it
 * waits it runs the calls queued for this CPU.
 * kernel_lock_enter, once it holds the lock, waits for the sections in
 * progress to end, so a holder still has the kernel to itself. Interrupts
 * off from begin to end; a section is short, takes no lock a holder may
 * hold, and waits for nothing but other sections. Never blocks.
 */
int kernel_lock_share_begin(void);
void kernel_lock_share_end(void);
/* A shootdown skipped this CPU while it was idle or waiting for the kernel
 * lock (it touched no app memory): flushes its whole TLB, before it does
 * again. kernel_lock_enter calls it; so must a section that sends an idle
 * CPU to ring 3. */
void smp_flush_if_stale(void);

/* Set (for good) once a CPU other than the boot CPU ran app code: from
 * then on mm shoots down every mapping it removes or weakens (mm/vm.c). */
extern int smp_app_cpus_spread;
/* Called by the scheduler before this CPU enters ring 3 with app code. */
void smp_note_app_cpu(void);
/* Leaves whatever this CPU (not the boot CPU) was running, on the stack
 * top, into its idle loop: for a CPU whose thread stopped with nothing
 * else to run (no thread has a kernel stack of its own). Kernel lock not
 * held, interrupts off. */
_Noreturn void smp_idle_restart(void);

/* Above this many pages, a shootdown flushes the whole TLB instead. */
#define TLB_SHOOTDOWN_MAX_PAGES 32

/*
 * tlb_shootdown_all_others - invalidate the TLB entries of the npages pages
 * from va (page aligned) on every other online CPU, and wait for all of
 * them: past TLB_SHOOTDOWN_MAX_PAGES (or npages 0) each flushes its whole
 * TLB, global entries included. The caller has already changed the page
 * tables and invalidated its own entries (vm.c does). Returns 0 (at once
 * when no other CPU runs), or -ETIMEDOUT as smp_call_all_others (the CPU
 * that did not answer may still hold the old entries: a broken CPU).
 *
 * mm calls tlb_shootdown_app_pages below (mmu.h's mmu_shootdown_pages) for
 * the pages it unmaps or weakens once smp_app_cpus_spread is set (a page at
 * a time, or a batch: mm/vm.h), after changing the tables and
 * before the frames are freed or reused. Kernel context,
 * interrupts off; blocks (spins) for the answers.
 */
int tlb_shootdown_all_others(uint64_t va, size_t npages);
/* The same for the mappings mm changes (mmu.h's mmu_shootdown_pages),
 * under the kernel lock: a CPU that is idle or waits for the lock gets no
 * IPI but flushes its whole TLB when it next takes the kernel lock. */
int tlb_shootdown_app_pages(uint64_t va, size_t npages);
#endif
