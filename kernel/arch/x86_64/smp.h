/*
 * smp - the other CPUs: found by the boot sequence in the ACPI MADT, started
 * here with INIT-SIPI-SIPI through a real-mode trampoline in low memory
 * (smp_trampoline.S), set up like the boot CPU and then parked. They run no
 * app code yet: the scheduler is single-CPU (docs/architecture.md, "What
 * assumes one CPU").
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

/* Offsets in struct cpu_entry, for the assembly. */
#define CPU_ENTRY_CPU	     0
#define CPU_ENTRY_KERNEL_RSP 8
#define CPU_ENTRY_USER_RSP   16

#ifndef __ASSEMBLY__
#include <stddef.h>
#include <stdint.h>

struct cpu;

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
 * them, from the MADT; the boot CPU's own ID is skipped wherever it is),
 * one at a time, until max_cpus CPUs run in all (the boot CPU counts;
 * 0: no cap). Each started CPU gets its own GDT, TSS, IST and syscall
 * stacks, struct cpu and GS base, the boot CPU's control registers, MSRs
 * and IDT, its local APIC enabled with the timer masked, and parks with
 * interrupts off. A CPU that does not come up within a timeout is skipped
 * and logged ("solo: cpu N (apic A) did not start; skipped"); what it was
 * given (trampoline page, stacks) is never reused, in case it wakes late.
 * A CPU no IPI can name (an x2APIC ID above 255 while the APIC is in xAPIC
 * mode) is skipped too ("... cannot be signalled (why); skipped").
 * Logs one line naming the CPUs running. Boot time, once, after the kernel's
 * page tables, kmalloc and apic_timer_init. Returns how many CPUs run,
 * the boot CPU included. Never fails the boot.
 */
unsigned smp_start(const uint32_t *apic_ids, unsigned n, unsigned max_cpus);

/* The CPUs running (the boot CPU included): 1 before smp_start. */
unsigned smp_cpus_online(void);
#endif
