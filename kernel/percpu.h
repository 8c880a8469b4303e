/*
 * percpu - what the kernel keeps per CPU, gathered in one place (xv6's
 * struct cpu). One instance per CPU: boot_cpu for the boot CPU, one
 * allocated for each other CPU the boot starts (kernel/arch/x86_64/smp.h),
 * each of which runs app threads (kernel/thread.c). this_cpu() is the one way to reach it: one load
 * through the GS base, which in the kernel points at the CPU's entry block
 * (struct cpu_entry), whose first word is this pointer; the entry paths
 * swapgs so that it holds in every kernel context. docs/architecture.md
 * lists every other place that still assumes one CPU.
 */
#pragma once

#include <stdint.h>

#include "kernel/abi/fcntl.h"
#include "kernel/spinlock.h"

struct thread;
struct signal_thread;
struct syscall_frame;

#define SYSCALL_SEQ_CPU_BITS 8 /* every CPU index fits (SMP_MAX_CPUS) */

struct cpu {
	/* Which CPU: 0 is the boot CPU, the others in the order they were
	 * started (a CPU that failed to start leaves its number unused); and
	 * its local APIC ID (the boot CPU's from smp_start on) and NUMA node
	 * (from the SRAT, numbered as Linux does; 0 without one). */
	unsigned index;
	uint32_t apic_id;
	unsigned node;
	/* The app thread whose registers are in the CPU or in the frame being
	 * returned through (kernel/thread.c). */
	struct thread *thread;
	struct signal_thread *signals; /* the thread's signal state, for the exit check */
	/* The syscall in progress, or whose result the frame being returned
	 * through holds: its frame (clone copies the caller's registers) and
	 * number (an interrupted call restarts it). */
	struct syscall_frame *frame;
	uint64_t syscall_nr;
	/* Numbers syscalls; a retry runs under its first attempt's number, so
	 * state a handler keeps across retries (per thread) is told from stale
	 * state. Unique across CPUs, not just on this one: the count is above
	 * the low SYSCALL_SEQ_CPU_BITS, which hold the CPU's index. A thread
	 * that moved CPUs could otherwise meet its old call's number again and
	 * take that call's state as its own (a writev skipped the byte a futex
	 * wait had left as its progress). */
	uint64_t syscall_seq;
	/* The current thread's slice is over: switch at the next return to
	 * ring 3 (kernel/thread.c). */
	int resched;
	/* Whose FS base and FPU state this CPU holds (kernel/thread.c). */
	struct thread *fpu_owner;
	/* sched_yield asked for a switch; a thread became runnable since the
	 * last switch (an interrupt that woke one switches to it at once). */
	int yield_requested;
	int woke_since_switch;
	/* In the idle loop or halted in the scheduler: a thread that becomes
	 * runnable kicks the CPU with an IPI (kernel/thread.c). */
	int idle;
	/* A shootdown skipped this CPU while idle or waiting for the kernel
	 * lock: it flushes its TLB when it next takes the lock
	 * (kernel/arch/x86_64/smp.c). */
	int tlb_stale;
	/* Waiting for the kernel lock, and halted while it waits, since when
	 * (monotonic ns, set as it halts) (kernel/arch/x86_64/smp.c). */
	int lock_waiting;
	int lock_halting;
	uint64_t lock_wait_since;
	/* In a shared section of the kernel lock (a demand fault or a shared
	 * syscall beside other CPUs', kernel/arch/x86_64/smp.h), and whether
	 * the shared syscall in progress found work it may not do there and
	 * must run again under the lock (kernel/syscall.h). */
	int shared_section;
	int shared_needs_lock;
	/* Interrupts this CPU took (/proc/interrupts): its local APIC timer's,
	 * the call IPI's and spurious ones (kernel/arch/x86_64/). Written only
	 * by this CPU. */
	uint64_t timer_interrupts;
	uint64_t call_interrupts;
	uint64_t spurious_interrupts;
	/* The TSC value by which this CPU's local APIC timer fires for its
	 * last arming (0: no such promise), kernel/arch/x86_64/apic_timer.c.
	 * Used only by this CPU. */
	uint64_t timer_fires_by;
	/* Time spent running app threads (kernel/thread.c, /proc/stat): the
	 * total of finished stretches, and when the current one began. */
	uint64_t busy_ns;
	uint64_t busy_since;
	/* kernel/lockstat.h: why this CPU's next kernel_lock_enter takes the
	 * lock (set by its caller), and, while it holds it, why and since
	 * when, and how long it waited. */
	unsigned lock_reason;
	unsigned lock_held_reason;
	uint64_t lock_held_since;
	uint64_t lock_waited_ns;
	/* The path arguments of the syscall in progress (fs/namei.c); syscalls
	 * do not nest, and a retry copies them again. */
	char path[PATH_MAX];
	char path2[PATH_MAX]; /* the second path of link, rename, symlink */
	/* The spinlocks this CPU holds, innermost last (kernel/spinlock.h):
	 * kept only by the checking build, there in every build so that the
	 * layout does not depend on it. */
	struct spin_held spin_held;
};

extern struct cpu boot_cpu;

/* Not volatile: a CPU's answer never changes, so the compiler may reuse it
 * (the kernel is not preempted, so code never moves to another CPU). Valid
 * from arch_cpu_init on. */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__("movq %%gs:0, %0" : "=r"(c));
	return c;
}
