/*
 * GDT and TSS. The selector order is fixed by syscall/sysret: STAR makes the
 * CPU derive kernel SS = KERNEL_CS + 8 and user SS = STAR[63:48] + 8,
 * user CS = STAR[63:48] + 16, hence data before code for the user pair.
 */
#pragma once

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_USER_DS   (0x18 | 3)
#define GDT_USER_CS   (0x20 | 3)
#define GDT_TSS	      0x28
/* A descriptor whose limit is the CPU's index and NUMA node, for lsl in
 * ring 3 (gdt_set_cpu_number). */
#define GDT_CPU_NUMBER (0x38 | 3)

/* IST slots (1-based, as in the IDT gate) for the exceptions that must never
 * run on a possibly broken stack. */
#define IST_DOUBLE_FAULT  1
#define IST_NMI		  2
#define IST_MACHINE_CHECK 3

#ifndef __ASSEMBLY__
#include <stdint.h>

/* IST stacks each CPU needs (slots 1..GDT_IST_STACKS). */
#define GDT_IST_STACKS 3

/*
 * gdt_init_cpu - fill CPU index's own GDT and TSS (index < SMP_MAX_CPUS, each
 * index once), with ist_top[i] the top of the stack for IST slot i + 1 and
 * rsp0 the stack for interrupts and exceptions from ring 3, then load them
 * on the calling CPU and reload every segment register (GS's base too: the
 * caller sets it afterwards). Boot time, on the CPU being set up.
 */
void gdt_init_cpu(unsigned index, const uint64_t ist_top[GDT_IST_STACKS], uint64_t rsp0);
/*
 * gdt_set_cpu_number - what CPU index's number descriptor tells ring 3 (lsl
 * of GDT_CPU_NUMBER, the vDSO's getcpu): index | node << 12, as Linux's
 * per-CPU segment (index < 4096, node < 256). gdt_init_cpu sets node 0.
 * Any CPU may set it for another: lsl reads the table, not a cache. Boot
 * time, before any app runs.
 */
void gdt_set_cpu_number(unsigned index, unsigned node);
/* The boot CPU's IST stacks (static, UL_VISIBLE), for gdt_init_cpu(0, ...). */
void gdt_boot_ist_tops(uint64_t ist_top[GDT_IST_STACKS]);
#endif
