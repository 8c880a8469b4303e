/*
 * The physical-address policy of map_memory (see physpolicy.h). The kept
 * ranges are few (a dozen on a PC: a framebuffer, the APICs, the ECAM
 * window, the BARs of the NICs), so a linear scan per map_memory call is
 * all it needs.
 */
#include "kernel/physpolicy.h"

#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"

/* The architectural interrupt address range: local APIC registers in
 * xAPIC mode, and where MSI writes go. */
#define INTERRUPT_RANGE_BASE 0xfee00000ull
#define INTERRUPT_RANGE_SIZE 0x100000ull

struct kept_range {
	uint64_t base, end; /* [base, end) */
};

static struct {
	const struct solo_mem_region *memmap;
	unsigned memmap_count;
	struct kept_range kept[PHYSPOLICY_MAX_KEPT];
	unsigned nkept;
	int overflowed; /* a keep was lost: refuse every device mapping */
} policy;

void physpolicy_reset(void)
{
	memset(&policy, 0, sizeof(policy));
}

void physpolicy_set_memmap(const struct solo_mem_region *memmap, unsigned count)
{
	policy.memmap = memmap;
	policy.memmap_count = count;
}

int physpolicy_keep(uint64_t base, uint64_t size, const char *what)
{
	if (!size)
		return 0;
	if (policy.nkept == PHYSPOLICY_MAX_KEPT) {
		policy.overflowed = 1;
		kprintf("solo: map_memory policy: no room to keep %s at %#lx; device mappings "
			"refused\n",
			what, base);
		return -ENOMEM;
	}
	uint64_t end = base + size < base ? UINT64_MAX : base + size;
	policy.kept[policy.nkept++] = (struct kept_range){base, end};
	return 0;
}

static int overlaps_kept(uint64_t base, uint64_t end)
{
	if (base < INTERRUPT_RANGE_BASE + INTERRUPT_RANGE_SIZE && INTERRUPT_RANGE_BASE < end)
		return 1;
	for (unsigned i = 0; i < policy.nkept; i++) {
		if (base < policy.kept[i].end && policy.kept[i].base < end)
			return 1;
	}
	return 0;
}

enum aspace_phys_class physpolicy_classify(paddr_t phys, size_t npages)
{
	uint64_t end = phys + (uint64_t)npages * PAGE_SIZE;
	uint64_t covered = 0;
	int ram = 0, device = 0;

	if (!npages || end < phys)
		return ASPACE_PHYS_FORBIDDEN;
	for (unsigned i = 0; i < policy.memmap_count; i++) {
		const struct solo_mem_region *r = &policy.memmap[i];
		uint64_t rend = r->base + r->npages * PAGE_SIZE;
		if (rend <= phys || r->base >= end)
			continue;
		covered += MIN(rend, end) - MAX(r->base, phys);
		if (r->type == SOLO_MEM_USABLE || r->type == SOLO_MEM_BOOT_SERVICES ||
		    r->type == SOLO_MEM_LOADER)
			ram = 1;
		else if (r->type == SOLO_MEM_MMIO)
			device = 1;
		else
			return ASPACE_PHYS_FORBIDDEN;
	}
	if (covered < end - phys)
		device = 1; /* not described: a device window */
	if (ram && device)
		return ASPACE_PHYS_FORBIDDEN;
	if (overlaps_kept(phys, end))
		return ASPACE_PHYS_FORBIDDEN;
	if (device && policy.overflowed)
		return ASPACE_PHYS_FORBIDDEN;
	return ram ? ASPACE_PHYS_RAM : ASPACE_PHYS_DEVICE;
}
