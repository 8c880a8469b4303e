/*
 * GDT with flat 64-bit kernel and user segments and one TSS. The TSS carries
 * rsp0 (kernel stack for traps from ring 3) and the IST stacks for #DF, NMI
 * and #MC, so those still get a good stack after a kernel stack overflow.
 */
#include "kernel/arch/x86_64/gdt.h"

#include "kernel/arch/x86_64/ulvisible.h"
#include "kernel/klib.h"

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

static struct tss tss UL_VISIBLE;
static uint8_t ist_stacks[3][IST_STACK_SIZE] UL_VISIBLE;

static uint64_t gdt[7] UL_VISIBLE = {
    0,
    0x00af9a000000ffff, /* 0x08 kernel code: 64-bit, DPL 0 */
    0x00cf92000000ffff, /* 0x10 kernel data */
    0x00cff2000000ffff, /* 0x18 user data, DPL 3 */
    0x00affa000000ffff, /* 0x20 user code: 64-bit, DPL 3 */
    0,
    0, /* 0x28 TSS (16-byte system descriptor) */
};

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void tss_set_kernel_stack(uint64_t top)
{
	tss.rsp[0] = top;
}

void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	for (int i = 0; i < 3; i++)
		tss.ist[i] = (uint64_t)&ist_stacks[i][IST_STACK_SIZE];
	tss.iopb_offset = sizeof(tss); /* no I/O permission bitmap: ring 3 gets no ports */

	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;

	struct descriptor_pointer gdtr = {sizeof(gdt) - 1, (uint64_t)gdt};
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
