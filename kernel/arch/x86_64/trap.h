/*
 * Interrupt and exception entry. Every vector pushes the same frame
 * (trap.S), then trap_dispatch() sorts it out: exceptions from ring 3 become
 * the app's signals, exceptions in the kernel print a report and panic,
 * interrupts go to the handlers registered for their vector (kernel/irq.h),
 * stray interrupts are counted and ignored.
 */
#pragma once

#include <stdint.h>

struct trap_frame {
	uint64_t gs_swapped; /* 1: entry swapped GS and the exit swaps back (trap.S) */
	uint64_t cr3;	     /* page-table root at entry, restored on return */
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct trap_frame) == 24 * 8, "trap frame matches trap.S");

#define TRAP_DE	 0
#define TRAP_DB	 1
#define TRAP_NMI 2
#define TRAP_BP	 3
#define TRAP_UD	 6
#define TRAP_DF	 8
#define TRAP_GP	 13
#define TRAP_PF	 14
#define TRAP_MC	 18

/* Page-fault error code bits. */
#define PF_PRESENT (1u << 0)
#define PF_WRITE   (1u << 1)
#define PF_USER	   (1u << 2)
#define PF_RSVD	   (1u << 3)
#define PF_FETCH   (1u << 4)

/* Builds and loads the IDT: every vector has an entry. Once, at boot. */
void idt_init(void);
/* Loads the IDT idt_init built on the calling CPU (the other CPUs share it). */
void idt_load(void);

/* Enters ring 3 (or wherever f says) through trap.S's exit, with f on
 * this CPU's syscall stack (UL_VISIBLE); kernel lock not held. */
_Noreturn void arch_trap_return(struct trap_frame *f);

/* Called from trap.S with interrupts off. */
void trap_dispatch(struct trap_frame *f);

/* Name of exception vector v ("page fault"), or "interrupt" for v >= 32. */
const char *trap_name(uint64_t vector);
/* Short mnemonic ("#PF"). */
const char *trap_mnemonic(uint64_t vector);

/* Prints the registers of f and a frame-pointer stack trace (f may be NULL:
 * then the trace starts at the caller). */
void trap_print_report(const struct trap_frame *f);
