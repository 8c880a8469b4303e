/*
 * Builder of the stub's temporary page tables (see paging.h).
 *
 * The number of table pages is bounded first, by counting for each mapped
 * range how many 512 GiB, 1 GiB and 2 MiB regions it touches (one PDPT, PD
 * and PT per region respectively, never more), and one block of that many
 * pages is allocated. The tables are then filled by a walker that takes
 * fresh pages from the block. The firmware identity-maps memory, so a
 * table's physical address is also where the stub writes it.
 */
#include "paging.h"

#include <efilib.h>
#include <solo/bootinfo.h>

#include "alloc.h"

#define PTE_P	 0x001ull
#define PTE_W	 0x002ull
#define PTE_PS	 0x080ull
#define PTE_ADDR 0x000ffffffffff000ull

#define SZ_2M	(1ull << 21)
#define SZ_1G	(1ull << 30)
#define SZ_4G	(1ull << 32)
#define SZ_512G (1ull << 39)

#define CR4_LA57 (1ull << 12)

/*
 * The direct map starts at PML4 entry 256 and the kernel sits at 511, so
 * the 1:1 range and its direct-map copy get at most 255 entries each.
 */
#define DIRECT_MAP_SLOT ((SOLO_DIRECT_MAP_BASE >> 39) & 511)
#define PHYS_LIMIT	(255 * SZ_512G)

struct pt_pool {
	UINT64 *next;
	UINT64 *end;
};

static UINT64 align_up(UINT64 x, UINT64 a)
{
	return (x + a - 1) & ~(a - 1);
}

/* How many 2^shift regions [start, end) touches; end > start. */
static UINT64 regions(UINT64 start, UINT64 end, unsigned shift)
{
	return ((end - 1) >> shift) - (start >> shift) + 1;
}

/* Table pages needed for [start, end): PDPTs, PDs and, for 4 KiB maps, PTs. */
static UINT64 tables_for(UINT64 start, UINT64 end, int small_pages)
{
	UINT64 n = regions(start, end, 39) + regions(start, end, 30);

	if (small_pages)
		n += regions(start, end, 21);
	return n;
}

/* The table entry e points to, made (zeroed, from the pool) if missing. */
static UINT64 *pt_next(struct pt_pool *pool, UINT64 *e)
{
	if (!(*e & PTE_P)) {
		if (pool->next == pool->end)
			return NULL;
		*e = (UINT64)(UINTN)pool->next | PTE_P | PTE_W;
		pool->next += 512;
	} else if (*e & PTE_PS) {
		return NULL; /* already a large page: the ranges overlap */
	}
	return (UINT64 *)(UINTN)(*e & PTE_ADDR);
}

/* Map one page of 2 MiB (large) or 4 KiB at va -> pa. 0 on success. */
static int pt_map(struct pt_pool *pool, UINT64 *pml4, UINT64 va, UINT64 pa, int large)
{
	UINT64 *pdpt, *pd, *pt;

	pdpt = pt_next(pool, &pml4[(va >> 39) & 511]);
	if (!pdpt)
		return -1;
	pd = pt_next(pool, &pdpt[(va >> 30) & 511]);
	if (!pd)
		return -1;
	if (large) {
		pd[(va >> 21) & 511] = pa | PTE_P | PTE_W | PTE_PS;
		return 0;
	}
	pt = pt_next(pool, &pd[(va >> 21) & 511]);
	if (!pt)
		return -1;
	pt[(va >> 12) & 511] = pa | PTE_P | PTE_W;
	return 0;
}

static UINT64 read_cr4(void)
{
	UINT64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* End of the 2 MiB-page 1:1 range for a given mem_end. */
static UINT64 paging_top(UINT64 mem_end)
{
	return align_up(mem_end > SZ_4G ? mem_end : SZ_4G, SZ_1G);
}

void paging_add_range(struct paging_request *req, UINT64 base, UINT64 size)
{
	if (size == 0 || base + size <= paging_top(req->mem_end))
		return;
	if (req->nextra == PAGING_MAX_EXTRA) {
		req->mem_end = base + size;
		return;
	}
	req->extra[req->nextra].base = base;
	req->extra[req->nextra].size = size;
	req->nextra++;
}

EFI_STATUS paging_build(const struct paging_request *req, struct paging_tables *out)
{
	UINT64 top, phys_end, k_end, npages, *pml4, *root;
	UINT64 ex_start[PAGING_MAX_EXTRA], ex_end[PAGING_MAX_EXTRA];
	int la57 = (read_cr4() & CR4_LA57) != 0;
	struct pt_pool pool;
	EFI_PHYSICAL_ADDRESS block;
	EFI_STATUS status;

	top = paging_top(req->mem_end);
	phys_end = top;
	/* Extra ranges: clipped to start at top, widened to 2 MiB pages. */
	for (unsigned i = 0; i < req->nextra; i++) {
		ex_start[i] = req->extra[i].base & ~(SZ_2M - 1);
		if (ex_start[i] < top)
			ex_start[i] = top;
		ex_end[i] = align_up(req->extra[i].base + req->extra[i].size, SZ_2M);
		if (ex_end[i] < ex_start[i])
			ex_end[i] = ex_start[i]; /* wholly below top (mem_end grew) */
		if (ex_end[i] > phys_end)
			phys_end = ex_end[i];
	}
	if (phys_end > PHYS_LIMIT) {
		Print(L"solo: physical addresses up to 0x%lx: more than the 127 TiB "
		      L"Solo can map\n",
		      phys_end);
		return EFI_UNSUPPORTED;
	}
	k_end = req->kernel_virt + req->kernel_size;
	if (req->kernel_virt < SOLO_KERNEL_HALF || k_end <= req->kernel_virt ||
	    ((req->kernel_virt >> 39) & 511) < DIRECT_MAP_SLOT + regions(0, phys_end, 39)) {
		Print(L"solo: the kernel's addresses 0x%lx-0x%lx collide with the direct map\n",
		      req->kernel_virt, k_end);
		return EFI_UNSUPPORTED;
	}

	npages = 1 + la57 + tables_for(0, top, 0) + tables_for(req->kernel_virt, k_end, 1);
	for (unsigned i = 0; i < req->nextra; i++)
		if (ex_end[i] > ex_start[i])
			npages += tables_for(ex_start[i], ex_end[i], 0);
	status =
	    alloc_pages(EfiLoaderData, npages * EFI_PAGE_SIZE, ALLOC_ZERO, "page tables", &block);
	if (EFI_ERROR(status))
		return status;

	root = (UINT64 *)(UINTN)block;
	pml4 = root + (la57 ? 512 : 0);
	pool.next = pml4 + 512;
	pool.end = root + npages * 512;

	for (UINT64 pa = 0; pa < top; pa += SZ_2M)
		if (pt_map(&pool, pml4, pa, pa, 1))
			goto broken;
	/* Overlapping extra ranges just rewrite the same 2 MiB entries. */
	for (unsigned i = 0; i < req->nextra; i++)
		for (UINT64 pa = ex_start[i]; pa < ex_end[i]; pa += SZ_2M)
			if (pt_map(&pool, pml4, pa, pa, 1))
				goto broken;
	/* The direct map shares the 1:1 PDPTs: same physical pages, second name. */
	for (unsigned i = 0; i < DIRECT_MAP_SLOT - 1; i++)
		pml4[DIRECT_MAP_SLOT + i] = pml4[i];
	for (UINT64 off = 0; off < req->kernel_size; off += EFI_PAGE_SIZE)
		if (pt_map(&pool, pml4, req->kernel_virt + off, req->kernel_phys + off, 0))
			goto broken;
	if (la57)
		root[0] = root[511] = (UINT64)(UINTN)pml4 | PTE_P | PTE_W;

	out->cr3 = block;
	out->block_phys = block;
	out->block_size = npages * EFI_PAGE_SIZE;
	out->top = top;
	return EFI_SUCCESS;

broken:
	/* The page count above is an upper bound, so this is a stub bug. */
	Print(L"solo: stub bug: page-table block of %ld pages too small or ranges overlap\n",
	      npages);
	alloc_free(block);
	return EFI_ABORTED;
}
