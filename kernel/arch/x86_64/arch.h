/*
 * The arch interface generic kernel code uses: CPU bring-up, entering the
 * app, and a few queries. Implemented in kernel/arch/x86_64/.
 */
#pragma once

#include <stdint.h>

#define CPU_FEATURE_NX	       (1u << 0)
#define CPU_FEATURE_SMEP       (1u << 1)
#define CPU_FEATURE_SMAP       (1u << 2)
#define CPU_FEATURE_UMIP       (1u << 3)
#define CPU_FEATURE_PCID       (1u << 4)
#define CPU_FEATURE_RDRAND     (1u << 5)
#define CPU_FEATURE_RDSEED     (1u << 6)
#define CPU_FEATURE_XSAVE      (1u << 7)
#define CPU_FEATURE_AVX	       (1u << 8)
#define CPU_FEATURE_HYPERVISOR (1u << 9)
#define CPU_FEATURE_PAT	       (1u << 10)

struct cpu;

/* GDT/TSS/IDT, control registers, syscall MSRs, PAT; masks the legacy PICs;
 * points the GS base at the boot CPU's entry block, whose this_cpu() is
 * boot (kernel/percpu.h). Once, at boot, before the kernel's page tables
 * are loaded (NX must be on first) and before anything calls this_cpu().
 * Returns the CPU_FEATURE_* bits it found. */
unsigned arch_cpu_init(struct cpu *boot);
/* Turns on the protections that need the kernel's own page tables in place
 * (SMEP, SMAP, UMIP, global pages). Returns the CPU_FEATURE_* bits enabled. */
unsigned arch_cpu_harden(void);
/* Space-separated names of the bits in features, e.g. "NX SMEP SMAP". */
void arch_feature_names(unsigned features, char *buf, unsigned size);

/* Loads a page-table root (physical address). Kernel view only: code that
 * runs across a switch to the app's view lives in the UL_VISIBLE trampolines. */
void arch_switch_address_space(uint64_t root);
/* Tells the entry trampolines which root is the kernel's view. */
void arch_set_kernel_root(uint64_t root);
/* Loads the app's view (root) and drops to ring 3 at entry with the given
 * stack; never returns. Interrupts are enabled in ring 3 through RFLAGS. */
/* CR3 of the app's view (syscall.S): what a CPU returns to ring 3 with. */
extern uint64_t ul_user_root;
_Noreturn void arch_enter_user(uint64_t entry, uint64_t user_stack, uint64_t root);
/* Sets the app's FS base (TLS). */
void arch_set_user_fs(uint64_t base);
uint64_t arch_get_user_fs(void);
/* Fills buf with len random bytes (RDRAND when present, else a TSC mix). */
void arch_random_bytes(void *buf, unsigned len);
uint64_t arch_timestamp(void);
/* AT_HWCAP for the app: CPUID leaf 1 EDX, as Linux reports it on x86-64. */
uint64_t arch_hwcap(void);
