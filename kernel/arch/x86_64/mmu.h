/*
 * x86-64 page-table entry bits and the two MMU operations generic mm code
 * needs (TLB invalidation, reading the active root). Under HOST_TEST the
 * operations compile to nothing, so mm/vm.c runs in host tests unchanged.
 *
 * Cache modes go through the PAT: arch_cpu_init() programs PAT entry 1
 * (selected by PWT alone) as write-combining; PCD|PWT selects entry 3, UC.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PTE_PRESENT	    (1ull << 0)
#define PTE_WRITE	    (1ull << 1)
#define PTE_USER	    (1ull << 2)
#define PTE_PWT		    (1ull << 3)
#define PTE_PCD		    (1ull << 4)
#define PTE_ACCESSED	    (1ull << 5)
#define PTE_DIRTY	    (1ull << 6)
#define PTE_LARGE	    (1ull << 7) /* in a PDPT/PD entry: maps 1 GiB / 2 MiB */
#define PTE_GLOBAL	    (1ull << 8)
#define PTE_BORROWED	    (1ull << 9)	 /* software (bits 9-11 are the OS's): VM_BORROWED */
#define PTE_LAZYFREE	    (1ull << 10) /* software: VM_LAZYFREE (MADV_FREE) */
#define PTE_NX		    (1ull << 63)
#define PTE_ADDR_MASK	    0x000ffffffffff000ull
#define PTE_LARGE_ADDR_MASK 0x000fffffffe00000ull

#define PTE_CACHE_WC (PTE_PWT)
#define PTE_CACHE_UC (PTE_PWT | PTE_PCD)

#define PT_ENTRIES 512
#define PT_LEVELS  4

/* Index of va in the table at level (3 = PML4 ... 0 = PT). */
static inline unsigned pt_index(uint64_t va, int level)
{
	return (unsigned)((va >> (12 + 9 * level)) & 0x1ff);
}

#define MMU_CACHE_LINE 64

/* Writes the 4 KiB page at p back from the caches and orders it, before the
 * page is mapped with a cache mode other than write-back beside the direct
 * map's write-back view. (Also fine on the host: clflush is unprivileged.) */
static inline void mmu_flush_cache_page(void *p)
{
	for (unsigned off = 0; off < 4096; off += MMU_CACHE_LINE)
		__asm__ volatile("clflush (%0)" : : "r"((char *)p + off) : "memory");
	__asm__ volatile("mfence" : : : "memory");
}

/*
 * Zeroes one 4 KiB page. Every page the app or the page tables get is
 * cleared here, right before its first use, with rep stosq: ordinary
 * (cached) stores, so the lines the app touches next are already in the
 * cache, which non-temporal stores would throw away; and 512 iterations
 * rather than rep stosb's 4096, which costs the same on CPUs with fast
 * strings but is 8x fewer instructions under emulation (QEMU TCG, icount).
 */
static inline void mmu_zero_page(void *p)
{
	uint64_t count = 4096 / 8;

	__asm__ volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0ull) : "memory");
}

#ifdef HOST_TEST
static inline void mmu_invalidate_page(uint64_t va)
{
	(void)va;
}
static inline uint64_t mmu_active_root(void)
{
	return 0;
}
static inline void mmu_shootdown_pages(uint64_t va, size_t npages)
{
	(void)va;
	(void)npages;
}
#else
static inline void mmu_invalidate_page(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
static inline uint64_t mmu_active_root(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v & PTE_ADDR_MASK;
}
/* From kernel/arch/x86_64/smp.c (smp.h): once another CPU ran app code,
 * it may cache any mapping, so removing or weakening one there too: the
 * npages pages from va (0, or more than smp.h's TLB_SHOOTDOWN_MAX_PAGES:
 * every entry). */
extern int smp_app_cpus_spread;
int tlb_shootdown_app_pages(uint64_t va, size_t npages);
static inline void mmu_shootdown_pages(uint64_t va, size_t npages)
{
	if (__atomic_load_n(&smp_app_cpus_spread, __ATOMIC_ACQUIRE))
		(void)tlb_shootdown_app_pages(va, npages);
}
#endif
