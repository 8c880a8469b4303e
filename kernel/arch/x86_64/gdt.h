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

/* IST slots (1-based, as in the IDT gate) for the exceptions that must never
 * run on a possibly broken stack. */
#define IST_DOUBLE_FAULT  1
#define IST_NMI		  2
#define IST_MACHINE_CHECK 3

#ifndef __ASSEMBLY__
#include <stdint.h>

/* Loads the GDT and TSS and reloads every segment register. Once, at boot. */
void gdt_init(void);
/* The stack the CPU switches to on an interrupt or exception from ring 3. */
void tss_set_kernel_stack(uint64_t top);
#endif
