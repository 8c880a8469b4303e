/*
 * GDT with flat 64-bit kernel and user segments and one TSS, per CPU. The
 * TSS carries rsp0 (kernel stack for traps from ring 3) and the IST stacks
 * for #DF, NMI and #MC, so those still get a good stack after a kernel stack
 * overflow. Each CPU needs its own TSS (ltr marks it busy, and rsp0 and the
 * IST stacks are that CPU's), hence its own GDT to hold the descriptor.
 * Both are UL_VISIBLE: the CPU reads them on every interrupt, whatever CR3
 * is loaded. The boot CPU's IST stacks are static UL_VISIBLE too; the other
 * CPUs' come from smp.c (kernel view only, until they run app code).
 */
#include "kernel/arch/x86_64/gdt.h"

#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/ulvisible.h"
#include "kernel/klib.h"
#include "kernel/panic.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iopb_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

#define IST_STACK_SIZE 16384
#define GDT_ENTRIES    8

static struct tss tss[SMP_MAX_CPUS] UL_VISIBLE;
static uint8_t boot_ist_stacks[GDT_IST_STACKS][IST_STACK_SIZE] UL_VISIBLE;
static uint64_t gdt[SMP_MAX_CPUS][GDT_ENTRIES] UL_VISIBLE;

static const uint64_t gdt_template[GDT_ENTRIES] = {
    0,
    0x00af9a000000ffff, /* 0x08 kernel code: 64-bit, DPL 0 */
    0x00cf92000000ffff, /* 0x10 kernel data */
    0x00cff2000000ffff, /* 0x18 user data, DPL 3 */
    0x00affa000000ffff, /* 0x20 user code: 64-bit, DPL 3 */
    0,
    0, /* 0x28 TSS (16-byte system descriptor) */
    0, /* 0x38 the CPU's number (gdt_init_cpu) */
};

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void gdt_boot_ist_tops(uint64_t ist_top[GDT_IST_STACKS])
{
	for (int i = 0; i < GDT_IST_STACKS; i++)
		ist_top[i] = (uint64_t)&boot_ist_stacks[i][IST_STACK_SIZE];
}

/* The number descriptor's limit holds an index in 12 bits (Linux's). */
_Static_assert(SMP_MAX_CPUS <= 4096, "gdt: cpu index wider than 12 bits");

void gdt_set_cpu_number(unsigned index, unsigned node)
{
	if (index >= SMP_MAX_CPUS || node >= 256)
		panic("gdt_set_cpu_number: cpu %u node %u", index, node);
	uint32_t limit = index | node << 12;
	/* A present DPL-3 data segment that no one loads: its limit is the
	 * number, which ring 3 reads with lsl, as Linux's per-CPU segment
	 * does. Byte granular: 20 bits. */
	__atomic_store_n(&gdt[index][GDT_CPU_NUMBER >> 3],
			 (uint64_t)(limit & 0xffff) | ((uint64_t)(limit >> 16 & 0xf) << 48) |
			     (0xf2ull << 40),
			 __ATOMIC_RELAXED);
}

void gdt_init_cpu(unsigned index, const uint64_t ist_top[GDT_IST_STACKS], uint64_t rsp0)
{
	if (index >= SMP_MAX_CPUS)
		panic("gdt_init_cpu: cpu index %u", index);
	struct tss *t = &tss[index];
	uint64_t *g = gdt[index];
	uint64_t base = (uint64_t)t;
	uint64_t limit = sizeof(*t) - 1;

	memcpy(g, gdt_template, sizeof(gdt_template));
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < GDT_IST_STACKS; i++)
		t->ist[i] = ist_top[i];
	t->rsp[0] = rsp0;
	t->iopb_offset = sizeof(*t); /* no I/O permission bitmap: ring 3 gets no ports */

	g[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	       (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	g[6] = base >> 32;
	gdt_set_cpu_number(index, 0);

	struct descriptor_pointer gdtr = {sizeof(gdt[0]) - 1, (uint64_t)g};
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movw %%ax, %%fs\n\t"
			 "movw %%ax, %%gs\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS), "r"(GDT_TSS)
			 : "rax", "memory");
}
