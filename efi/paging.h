/*
 * The temporary page tables the stub jumps to the kernel with. They map, all
 * present + writable and with no NX bit anywhere (the kernel's text may sit
 * in pages the firmware would call data):
 *
 *   [0, top)                    1:1, 2 MiB pages; top = max(end of the
 *                               highest RAM descriptor, 4 GiB) rounded up
 *                               to 1 GiB
 *   extra ranges above top      1:1 too, 2 MiB granular: the framebuffer and
 *                               MMIO/reserved descriptors beyond RAM
 *   SOLO_DIRECT_MAP_BASE + p    the same tables again (PML4 entries 256...)
 *   kernel_virt...              the kernel block, 4 KiB pages (PML4[511])
 *
 * The 1:1 part keeps the stub's own code, stack and buffers reachable when
 * CR3 is switched, wherever the firmware put them. Ranges far above RAM (a
 * 64-bit framebuffer BAR, a flash window) are mapped on their own instead
 * of growing [0, top) over a gap that may be terabytes wide: table memory
 * grows with top. All tables are in one EfiLoaderData block, allocated
 * before the final memory map is taken.
 */
#pragma once

#include <efi.h>

#define PAGING_MAX_EXTRA 16

struct paging_request {
	UINT64 mem_end;	 /* end of the highest RAM descriptor */
	unsigned nextra; /* see paging_add_range() */
	struct {
		UINT64 base;
		UINT64 size;
	} extra[PAGING_MAX_EXTRA];
	UINT64 kernel_virt; /* page aligned */
	UINT64 kernel_phys; /* page aligned, kernel_size bytes contiguous */
	UINT64 kernel_size; /* page multiple */
};

struct paging_tables {
	UINT64 cr3;	   /* physical address of the top-level table */
	UINT64 block_phys; /* the block holding every table */
	UINT64 block_size; /* bytes */
	UINT64 top;	   /* end of the 1:1 range of 2 MiB pages */
};

/*
 * paging_add_range - ask for [base, base + size) to be mapped 1:1 and in the
 * direct map as well. Ranges below top need nothing; when more than
 * PAGING_MAX_EXTRA ranges lie above it, mem_end grows to cover the range.
 */
void paging_add_range(struct paging_request *req, UINT64 base, UINT64 size);

/*
 * paging_build - allocate and fill the tables for req. Boot services only.
 * If the firmware runs with 5-level paging (CR4.LA57), which cannot be
 * turned off from long mode, a PML5 whose entries 0 and 511 both point at
 * the PML4 is added on top, so every address above translates the same.
 * Returns EFI_SUCCESS, or an error after printing why.
 */
EFI_STATUS paging_build(const struct paging_request *req, struct paging_tables *out);
