/*
 * Host tests of mm/vm.c: page tables built in the fake physical memory of
 * mm_arena.h. vm_lookup() walks them through the direct map; the mapped
 * virtual addresses themselves are never touched (on the host they are
 * not ours). User copies go through the direct map, so they work here.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/mmu.h"
#include "kernel/klib.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm_arena.h"

#define LARGE	VM_LARGE_PAGE_SIZE
#define FRAME	(MM_TEST_RAM_BASE + 0x5000) /* a physical page; vm never reads it */
#define FRAME2M (MM_TEST_RAM_BASE + 4 * LARGE)

static struct vm_ctx kctx, uctx;

static size_t free_pages(void)
{
	struct palloc_stats st;
	palloc_get_stats(&st);
	return st.free_pages;
}

/* Fresh allocators, a kernel context with the kernel-ranges PML4 entry (as
 * kmain makes it) and a user context made from it. */
static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	cr_assert_eq(vm_ctx_init_user(&uctx, &kctx), 0);
}

/* A fresh palloc'd page, zeroed, for tests that copy through it. */
static paddr_t zeroed_page(void)
{
	paddr_t pa = palloc(1);
	cr_assert_neq(pa, 0);
	memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

Test(vm, map_then_lookup_gives_the_frame_offset_and_flags)
{
	setup();
	vaddr_t va = 0x400000;
	paddr_t pa;
	unsigned flags;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_lookup(&uctx, va + 0x123, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME + 0x123);
	cr_assert_eq(flags, VM_USER | VM_WRITE);
	cr_assert_eq(vm_lookup(&uctx, va + PAGE_SIZE, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_lookup(&uctx, va - 1, NULL, NULL), -ENOENT);

	cr_assert_eq(vm_map(&kctx, VM_KERNEL_RANGES_BASE, FRAME, VM_EXEC | VM_GLOBAL), 0);
	cr_assert_eq(vm_lookup(&kctx, VM_KERNEL_RANGES_BASE + 8, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME + 8);
	cr_assert_eq(flags, VM_EXEC | VM_GLOBAL);
}

Test(vm, cache_modes_round_trip_through_lookup)
{
	setup();
	const unsigned modes[] = {0, VM_UNCACHED, VM_WRITE_COMBINING};
	unsigned flags;

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		vaddr_t va = 0x400000 + i * PAGE_SIZE;
		cr_assert_eq(vm_map(&uctx, va, FRAME, VM_WRITE | modes[i]), 0);
		cr_assert_eq(vm_lookup(&uctx, va, NULL, &flags), 0);
		cr_assert_eq(flags, VM_WRITE | modes[i], "mode %#x: flags %#x", modes[i], flags);
		vaddr_t big = 0x40000000 + i * LARGE;
		cr_assert_eq(vm_map_large(&uctx, big, FRAME2M, modes[i]), 0);
		cr_assert_eq(vm_lookup(&uctx, big, NULL, &flags), 0);
		cr_assert_eq(flags, VM_LARGE | modes[i], "mode %#x: flags %#x", modes[i], flags);
	}
}

Test(vm, map_large_then_lookup_reports_a_2mib_page)
{
	setup();
	vaddr_t va = 0x40000000;
	paddr_t pa;
	unsigned flags;

	cr_assert_eq(vm_map_large(&uctx, va, FRAME2M, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_lookup(&uctx, va + 0x1234567 % LARGE, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME2M + 0x1234567 % LARGE);
	cr_assert_eq(flags, VM_USER | VM_WRITE | VM_LARGE);
	cr_assert_eq(vm_lookup(&uctx, va + LARGE - 1, &pa, NULL), 0);
	cr_assert_eq(pa, FRAME2M + LARGE - 1);
	cr_assert_eq(vm_lookup(&uctx, va + LARGE, NULL, NULL), -ENOENT);
}

Test(vm, mapping_a_mapped_address_returns_eexist_and_changes_nothing)
{
	setup();
	vaddr_t va = 0x400000, big = 0x40000000;
	paddr_t pa;
	unsigned flags;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER), 0);
	cr_assert_eq(vm_map(&uctx, va, FRAME + PAGE_SIZE, VM_USER | VM_WRITE), -EEXIST);
	cr_assert_eq(vm_lookup(&uctx, va, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME);
	cr_assert_eq(flags, VM_USER);
	/* A 2 MiB page over a table of 4 KiB pages, and a 4 KiB page inside a 2 MiB one. */
	cr_assert_eq(vm_map_large(&uctx, va & ~(LARGE - 1), FRAME2M, VM_USER), -EEXIST);
	cr_assert_eq(vm_map_large(&uctx, big, FRAME2M, VM_USER), 0);
	cr_assert_eq(vm_map_large(&uctx, big, FRAME2M, VM_USER), -EEXIST);
	cr_assert_eq(vm_map(&uctx, big + 5 * PAGE_SIZE, FRAME, VM_USER), -EEXIST);
	cr_assert_eq(vm_lookup(&uctx, big + 5 * PAGE_SIZE, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME2M + 5 * PAGE_SIZE);
	cr_assert_eq(flags, VM_USER | VM_LARGE);
}

Test(vm, unmap_returns_the_frame_and_the_page_is_gone)
{
	setup();
	vaddr_t va = 0x7f0000001000;
	paddr_t pa = 0;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER), 0);
	cr_assert_eq(vm_map(&uctx, va + PAGE_SIZE, FRAME + PAGE_SIZE, VM_USER), 0);
	cr_assert_eq(vm_unmap(&uctx, va, &pa), 0);
	cr_assert_eq(pa, FRAME);
	cr_assert_eq(vm_lookup(&uctx, va, NULL, NULL), -ENOENT);
	/* Its neighbour in the same table is untouched. */
	cr_assert_eq(vm_lookup(&uctx, va + PAGE_SIZE, &pa, NULL), 0);
	cr_assert_eq(pa, FRAME + PAGE_SIZE);
	cr_assert_eq(vm_unmap(&uctx, va, &pa), -ENOENT);
	cr_assert_eq(vm_unmap(&uctx, va + PAGE_SIZE, NULL), 0);
	cr_assert_eq(vm_unmap(&uctx, 0x1000, NULL), -ENOENT);
	cr_assert_eq(vm_unmap(&uctx, 0x0000900000000000ull, NULL), -ENOENT); /* non-canonical */
}

Test(vm, unmap_large_returns_the_frame_and_the_2mib_page_is_gone)
{
	setup();
	vaddr_t big = 0x40000000;
	paddr_t pa = 0;

	cr_assert_eq(vm_map_large(&uctx, big, FRAME2M, VM_USER), 0);
	cr_assert_eq(vm_unmap_large(&uctx, big, &pa), 0);
	cr_assert_eq(pa, FRAME2M);
	cr_assert_eq(vm_lookup(&uctx, big + PAGE_SIZE, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_unmap_large(&uctx, big, NULL), -ENOENT);
}

Test(vm, unmap_of_the_wrong_page_size_returns_enoent)
{
	setup();
	vaddr_t va = 0x400000, big = 0x40000000;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER), 0);
	cr_assert_eq(vm_map_large(&uctx, big, FRAME2M, VM_USER), 0);
	cr_assert_eq(vm_unmap_large(&uctx, va & ~(LARGE - 1), NULL), -ENOENT);
	cr_assert_eq(vm_unmap(&uctx, big, NULL), -ENOENT);
	cr_assert_eq(vm_unmap(&uctx, big + PAGE_SIZE, NULL), -ENOENT);
	cr_assert_eq(vm_lookup(&uctx, va, NULL, NULL), 0);
	cr_assert_eq(vm_lookup(&uctx, big, NULL, NULL), 0);
}

Test(vm, unmap_large_of_a_misaligned_address_panics, .signal = SIGABRT)
{
	setup();
	vm_unmap_large(&uctx, 0x40000000 + PAGE_SIZE, NULL);
}

Test(vm, map_of_a_misaligned_address_panics, .signal = SIGABRT)
{
	setup();
	vm_map(&uctx, 0x400010, FRAME, VM_USER);
}

Test(vm, map_large_of_a_misaligned_frame_panics, .signal = SIGABRT)
{
	setup();
	vm_map_large(&uctx, 0x40000000, FRAME2M + PAGE_SIZE, VM_USER);
}

Test(vm, protect_changes_the_flags_and_keeps_the_frame)
{
	setup();
	vaddr_t va = 0x400000;
	paddr_t pa;
	unsigned flags;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_protect(&uctx, va + 0x10, VM_USER | VM_EXEC), 0);
	cr_assert_eq(vm_lookup(&uctx, va, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME);
	cr_assert_eq(flags, VM_USER | VM_EXEC);
	cr_assert_eq(vm_protect(&uctx, va + PAGE_SIZE, VM_USER), -ENOENT);
}

Test(vm, protect_large_changes_a_2mib_page_and_protect_leaves_it_alone)
{
	setup();
	vaddr_t big = 0x40000000;
	paddr_t pa;
	unsigned flags;

	cr_assert_eq(vm_map_large(&uctx, big, FRAME2M, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_protect(&uctx, big, VM_USER), -ENOENT);
	cr_assert_eq(vm_protect_large(&uctx, big, VM_USER | VM_EXEC | VM_UNCACHED), 0);
	cr_assert_eq(vm_lookup(&uctx, big + 0x3000, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME2M + 0x3000);
	cr_assert_eq(flags, VM_USER | VM_EXEC | VM_UNCACHED | VM_LARGE);
	cr_assert_eq(vm_protect_large(&uctx, big + LARGE, VM_USER), -ENOENT);
	cr_assert_eq(vm_map(&uctx, 0x400000, FRAME, VM_USER), 0);
	cr_assert_eq(vm_protect_large(&uctx, 0x400000 & ~(LARGE - 1), VM_USER), -ENOENT);
}

Test(vm, protect_large_of_a_misaligned_address_panics, .signal = SIGABRT)
{
	setup();
	vm_protect_large(&uctx, 0x40000000 + PAGE_SIZE, VM_USER);
}

/* ------------------------------------------------------------ borrowed frames */

Test(vm, borrowed_is_a_software_bit_that_map_sets_and_lookup_reports)
{
	setup();
	vaddr_t va = 0x400000;
	paddr_t pa;
	unsigned flags;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER | VM_WRITE | VM_BORROWED), 0);
	cr_assert_eq(vm_lookup(&uctx, va + 8, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME + 8);
	cr_assert_eq(flags, VM_USER | VM_WRITE | VM_BORROWED);
	cr_assert_eq(vm_map_large(&uctx, 0x40000000, FRAME2M, VM_USER | VM_BORROWED), 0);
	cr_assert_eq(vm_lookup(&uctx, 0x40000000, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_BORROWED | VM_LARGE);

	/* In the entry it is bit 9, which the CPU ignores; the bits the CPU
	 * reads are those of the same mapping without it. */
	cr_assert_eq(vm_map(&uctx, va + PAGE_SIZE, FRAME, VM_USER | VM_WRITE), 0);
	const uint64_t *pml4 = phys_to_virt(uctx.root);
	const uint64_t *pdpt = phys_to_virt(pml4[0] & PTE_ADDR_MASK);
	const uint64_t *pd = phys_to_virt(pdpt[0] & PTE_ADDR_MASK);
	const uint64_t *pt = phys_to_virt(pd[2] & PTE_ADDR_MASK);
	cr_assert_eq(pt[0], pt[1] | PTE_BORROWED);
	cr_assert_eq(PTE_BORROWED, 1ull << 9);
}

Test(vm, protect_keeps_the_borrowed_mark_whatever_the_flags_say)
{
	setup();
	vaddr_t va = 0x400000;
	unsigned flags;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER | VM_BORROWED), 0);
	cr_assert_eq(vm_protect(&uctx, va, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_lookup(&uctx, va, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_WRITE | VM_BORROWED);
	cr_assert_eq(vm_protect(&uctx, va, 0), 0);
	cr_assert_eq(vm_lookup(&uctx, va, NULL, &flags), 0);
	cr_assert_eq(flags, VM_BORROWED);

	cr_assert_eq(vm_map(&uctx, va + PAGE_SIZE, FRAME, VM_USER), 0);
	cr_assert_eq(vm_protect(&uctx, va + PAGE_SIZE, VM_USER | VM_EXEC | VM_BORROWED), 0);
	cr_assert_eq(vm_lookup(&uctx, va + PAGE_SIZE, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_EXEC, "an owned frame does not become borrowed");

	cr_assert_eq(vm_map_large(&uctx, 0x40000000, FRAME2M, VM_USER | VM_BORROWED), 0);
	cr_assert_eq(vm_protect_large(&uctx, 0x40000000, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_lookup(&uctx, 0x40000000, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_WRITE | VM_BORROWED | VM_LARGE);
}

Test(vm, unmap_entry_reports_the_flags_the_entry_had)
{
	setup();
	vaddr_t va = 0x400000;
	paddr_t pa = 0;
	unsigned flags = 0;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER | VM_BORROWED), 0);
	cr_assert_eq(vm_map(&uctx, va + PAGE_SIZE, FRAME + PAGE_SIZE, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_unmap_entry(&uctx, va, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME);
	cr_assert_eq(flags, VM_USER | VM_BORROWED);
	cr_assert_eq(vm_lookup(&uctx, va, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_unmap_entry(&uctx, va, &pa, &flags), -ENOENT);
	cr_assert_eq(vm_unmap_entry(&uctx, va + PAGE_SIZE, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_WRITE);
	cr_assert_eq(((uint64_t *)phys_to_virt(uctx.root))[0], 0, "the tables went too");
}

Test(vm, replace_points_an_entry_at_another_frame_in_one_step)
{
	setup();
	vaddr_t va = 0x400000;
	paddr_t pa, old = 0;
	unsigned flags;

	cr_assert_eq(vm_map(&uctx, va, FRAME, VM_USER | VM_BORROWED), 0);
	size_t before = free_pages();
	cr_assert_eq(vm_replace(&uctx, va + 5, FRAME + PAGE_SIZE, VM_USER | VM_WRITE, &old), 0);
	cr_assert_eq(old, FRAME);
	cr_assert_eq(vm_lookup(&uctx, va, &pa, &flags), 0);
	cr_assert_eq(pa, FRAME + PAGE_SIZE);
	cr_assert_eq(flags, VM_USER | VM_WRITE, "the new frame is not borrowed");
	cr_assert_eq(free_pages(), before, "no table made or freed");
	cr_assert_eq(vm_replace(&uctx, va, FRAME, VM_USER | VM_BORROWED, NULL), 0);
	cr_assert_eq(vm_lookup(&uctx, va, &pa, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_BORROWED);

	cr_assert_eq(vm_replace(&uctx, va + PAGE_SIZE, FRAME, VM_USER, NULL), -ENOENT);
	cr_assert_eq(vm_replace(&uctx, 0x0000800000000000ull, FRAME, VM_USER, NULL), -ENOENT);
	cr_assert_eq(vm_map_large(&uctx, 0x40000000, FRAME2M, VM_USER), 0);
	cr_assert_eq(vm_replace(&uctx, 0x40000000, FRAME, VM_USER, NULL), -ENOENT);
	cr_assert_eq(vm_lookup(&uctx, 0x40000000, &pa, NULL), 0);
	cr_assert_eq(pa, FRAME2M);
}

Test(vm, replace_with_a_misaligned_frame_panics, .signal = SIGABRT)
{
	setup();
	cr_assert_eq(vm_map(&uctx, 0x400000, FRAME, VM_USER), 0);
	vm_replace(&uctx, 0x400000, FRAME + 8, VM_USER, NULL);
}

Test(vm, destroying_a_user_context_never_frees_a_borrowed_frame)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	/* The lender's frames: a run of 4 KiB pages and one 2 MiB page. */
	paddr_t lent = palloc(8), lent2m = palloc_aligned(512, 512);
	cr_assert(lent && lent2m);
	size_t before = free_pages();

	cr_assert_eq(vm_ctx_init_user(&uctx, &kctx), 0);
	for (int i = 0; i < 8; i++) {
		paddr_t own = palloc(1);
		cr_assert_neq(own, 0);
		cr_assert_eq(vm_map(&uctx, 0x400000 + 2 * i * PAGE_SIZE, own, VM_USER | VM_WRITE),
			     0);
		cr_assert_eq(vm_map(&uctx, 0x400000 + (2 * i + 1) * PAGE_SIZE, lent + i * PAGE_SIZE,
				    VM_USER | VM_BORROWED),
			     0);
		/* The same frame may be lent to two places at once. */
		cr_assert_eq(vm_map(&uctx, 0x7f0000000000 + i * PAGE_SIZE, lent + i * PAGE_SIZE,
				    VM_USER | VM_BORROWED),
			     0);
	}
	cr_assert_eq(vm_map_large(&uctx, 0x40000000, lent2m, VM_USER | VM_BORROWED), 0);
	vm_ctx_destroy_user(&uctx, 1);
	cr_assert_eq(free_pages(), before, "the app's frames and tables came back, no more");
	cr_assert_eq(palloc_check(), 0);
	pfree(lent, 8); /* panics if any was freed already */
	pfree(lent2m, 512);
	cr_assert_eq(palloc_check(), 0);
}

Test(vm, dump_marks_borrowed_pages, .init = cr_redirect_stdout)
{
	setup();
	cr_assert_eq(vm_map(&uctx, 0x400000, FRAME, VM_USER | VM_BORROWED), 0);
	vm_dump(&uctx, 0x400000, 0x401000);
	fflush(stdout);
	char expect[256];
	snprintf(expect, sizeof(expect),
		 "solo: page tables of context %#lx, [0x400000, 0x401000):\n"
		 "solo:       0 0000000000400000 -> %016lx (flags: VALID | R | USER | BORROWED)\n",
		 uctx.root, (unsigned long)FRAME);
	cr_assert_stdout_eq_str(expect);
}

/* Maps n pages at random user addresses (a fifth of them 2 MiB pages),
 * checks each by lookup, then unmaps them in another order. */
static void scatter_and_unmap(struct vm_ctx *ctx, vaddr_t lo, vaddr_t hi, size_t n)
{
	struct {
		vaddr_t va;
		int large;
	} *v = calloc(n, sizeof(*v));
	size_t got = 0;

	while (got < n) {
		int large = mm_test_random() % 5 == 0;
		uint64_t align = large ? LARGE : PAGE_SIZE;
		vaddr_t va = (lo + mm_test_random() % (hi - lo)) & ~(align - 1);
		if (va < lo)
			continue;
		int err = large ? vm_map_large(ctx, va, FRAME2M, VM_WRITE)
				: vm_map(ctx, va, FRAME, VM_WRITE);
		if (err == -EEXIST)
			continue;
		cr_assert_eq(err, 0);
		v[got].va = va;
		v[got].large = large;
		got++;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned flags;
		cr_assert_eq(vm_lookup(ctx, v[i].va, NULL, &flags), 0);
		cr_assert_eq(!!(flags & VM_LARGE), v[i].large);
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = (k * 7919) % n; /* n is not a multiple of 7919: a permutation */
		paddr_t pa;
		int err =
		    v[i].large ? vm_unmap_large(ctx, v[i].va, &pa) : vm_unmap(ctx, v[i].va, &pa);
		cr_assert_eq(err, 0, "unmap %#lx", v[i].va);
		cr_assert_eq(pa, v[i].large ? FRAME2M : FRAME);
	}
	free(v);
}

Test(vm, unmapping_scattered_user_pages_frees_every_table)
{
	setup();
	size_t before = free_pages();

	mm_test_seed(0x9e3779b97f4a7c15ull);
	/* Dense (many pages per table) and sparse (one per PML4 entry). */
	scatter_and_unmap(&uctx, 0x10000, 0x10000 + (64ull << 20), 3000);
	cr_assert_eq(free_pages(), before);
	scatter_and_unmap(&uctx, 0x10000, VM_USER_TOP, 3000);
	cr_assert_eq(free_pages(), before);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(((uint64_t *)phys_to_virt(uctx.root))[i], 0, "PML4 entry %u left", i);
}

Test(vm, unmapping_kernel_pages_frees_tables_below_the_shared_pdpt)
{
	setup();
	size_t before = free_pages();

	mm_test_seed(12345);
	scatter_and_unmap(&kctx, VM_KERNEL_RANGES_BASE,
			  VM_KERNEL_RANGES_BASE + VM_KERNEL_RANGES_SIZE, 2000);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(vm_lookup(&kctx, VM_KERNEL_RANGES_BASE, NULL, NULL), -ENOENT);
}

Test(vm, map_without_memory_for_tables_frees_what_it_made)
{
	setup();
	paddr_t keep = palloc(1); /* one page left: not enough for PDPT + PD + PT */
	cr_assert_neq(keep, 0);
	while (palloc(1))
		;
	pfree(keep, 1);
	cr_assert_eq(free_pages(), 1);

	cr_assert_eq(vm_map(&uctx, 0x400000, FRAME, VM_USER), -ENOMEM);
	cr_assert_eq(free_pages(), 1);
	cr_assert_eq(vm_lookup(&uctx, 0x400000, NULL, NULL), -ENOENT);
	cr_assert_eq(((uint64_t *)phys_to_virt(uctx.root))[0], 0);
	cr_assert_eq(vm_map_large(&uctx, 0x40000000, FRAME2M, VM_USER), -ENOMEM);
	cr_assert_eq(free_pages(), 1);
}

Test(vm, map_range_uses_2mib_pages_where_aligned)
{
	setup();
	vaddr_t va = 0x40000000 - 2 * PAGE_SIZE;
	paddr_t pa = FRAME2M - 2 * PAGE_SIZE;
	unsigned flags;

	cr_assert_eq(vm_map_range(&uctx, va, pa, 2 * PAGE_SIZE + LARGE + PAGE_SIZE, VM_USER), 0);
	cr_assert_eq(vm_lookup(&uctx, va, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER);
	cr_assert_eq(vm_lookup(&uctx, 0x40000000, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER | VM_LARGE);
	cr_assert_eq(vm_lookup(&uctx, 0x40000000 + LARGE, NULL, &flags), 0);
	cr_assert_eq(flags, VM_USER);
	cr_assert_eq(vm_lookup(&uctx, 0x40000000 + LARGE + PAGE_SIZE, NULL, NULL), -ENOENT);
}

Test(vm, destroying_a_user_context_frees_its_tables_pool_and_frames)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	size_t before = free_pages();

	cr_assert_eq(vm_ctx_init_user(&uctx, &kctx), 0);
	cr_assert_lt(free_pages(), before);
	mm_test_seed(777);
	for (int i = 0; i < 500; i++) {
		vaddr_t va =
		    (0x10000 + mm_test_random() % (VM_USER_TOP - 0x10000)) & ~(PAGE_SIZE - 1);
		paddr_t pa = palloc(1);
		cr_assert_neq(pa, 0);
		if (vm_map(&uctx, va, pa, VM_USER | VM_WRITE))
			pfree(pa, 1);
	}
	for (int i = 0; i < 4; i++) {
		paddr_t pa = palloc_aligned(512, 512);
		cr_assert_neq(pa, 0);
		if (vm_map_large(&uctx, 0x200000000ull + i * LARGE, pa, VM_USER))
			pfree(pa, 512);
	}
	vm_ctx_destroy_user(&uctx, 1);
	cr_assert_eq(uctx.root, 0);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(palloc_check(), 0);
}

Test(vm, destroying_without_free_frames_keeps_the_frames)
{
	setup();
	size_t before = free_pages();
	paddr_t pa = palloc(1);

	cr_assert_eq(vm_map(&uctx, 0x400000, pa, VM_USER), 0);
	vm_ctx_destroy_user(&uctx, 0);
	/* The context's PML4 and pool page come back too; the frame does not. */
	cr_assert_eq(free_pages(), before - 1 + 2);
	pfree(pa, 1);
}

Test(vm, user_contexts_share_the_kernel_half)
{
	setup();
	paddr_t pa;

	cr_assert_eq(vm_map(&kctx, VM_KERNEL_RANGES_BASE + PAGE_SIZE, FRAME, VM_WRITE), 0);
	cr_assert_eq(vm_lookup(&uctx, VM_KERNEL_RANGES_BASE + PAGE_SIZE, &pa, NULL), 0);
	cr_assert_eq(pa, FRAME);
	cr_assert_eq(vm_lookup(&kctx, 0x400000, NULL, NULL), -ENOENT);
}

Test(vm, new_kernel_pml4_entry_after_a_user_context_panics, .signal = SIGABRT)
{
	setup();
	vm_map(&kctx, 0xffffff0000000000ull, FRAME, VM_WRITE);
}

Test(vm, copies_to_and_from_user_pages_cross_page_boundaries)
{
	setup();
	vaddr_t va = 0x500000;
	char out[6000], in[6000];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(vm_map(&uctx, va + i * PAGE_SIZE, zeroed_page(), VM_USER | VM_WRITE),
			     0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 13 + 1);
	cr_assert_eq(vm_copy_to_user(&uctx, va + 100, out, sizeof(out)), 0);
	cr_assert_eq(vm_copy_from_user(&uctx, in, va + 100, sizeof(in)), 0);
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);
	/* The bytes landed in the frames behind the pages. */
	paddr_t pa;
	cr_assert_eq(vm_lookup(&uctx, va + PAGE_SIZE, &pa, NULL), 0);
	cr_assert_eq(*(char *)phys_to_virt(pa), out[PAGE_SIZE - 100]);
}

Test(vm, copy_to_user_refuses_read_only_pages)
{
	setup();
	vaddr_t va = 0x500000;
	char buf[16] = "abc";

	cr_assert_eq(vm_map(&uctx, va, zeroed_page(), VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_map(&uctx, va + PAGE_SIZE, zeroed_page(), VM_USER), 0);
	cr_assert_eq(vm_copy_to_user(&uctx, va + PAGE_SIZE, buf, 4), -EFAULT);
	cr_assert_eq(vm_copy_to_user(&uctx, va + PAGE_SIZE - 2, buf, 4), -EFAULT);
	cr_assert_eq(vm_copy_to_user(&uctx, va, buf, 4), 0);
	/* Reading it is fine; the loader may write it anyway. */
	cr_assert_eq(vm_copy_from_user(&uctx, buf, va + PAGE_SIZE, 16), 0);
	cr_assert_eq(vm_copy_to_mapped(&uctx, va + PAGE_SIZE, "xyz", 4), 0);
	cr_assert_eq(vm_copy_from_user(&uctx, buf, va + PAGE_SIZE, 4), 0);
	cr_assert_str_eq(buf, "xyz");
}

Test(vm, copies_refuse_non_user_and_unmapped_pages)
{
	setup();
	vaddr_t va = 0x500000;
	char buf[16] = {0};

	cr_assert_eq(vm_map(&uctx, va, zeroed_page(), VM_WRITE), 0); /* kernel-only */
	cr_assert_eq(vm_copy_to_user(&uctx, va, buf, 4), -EFAULT);
	cr_assert_eq(vm_copy_from_user(&uctx, buf, va, 4), -EFAULT);
	cr_assert_eq(vm_copy_string_from_user(&uctx, buf, va, 16), -EFAULT);
	cr_assert_eq(vm_copy_from_user(&uctx, buf, va + PAGE_SIZE, 1), -EFAULT);
	cr_assert_eq(vm_copy_to_mapped(&uctx, va + PAGE_SIZE, buf, 1), -EFAULT);
	/* Kernel-half addresses are never user memory, even when mapped. */
	cr_assert_eq(vm_map(&kctx, VM_KERNEL_RANGES_BASE, zeroed_page(), VM_WRITE | VM_USER), 0);
	cr_assert_eq(vm_copy_from_user(&uctx, buf, VM_KERNEL_RANGES_BASE, 1), -EFAULT);
	cr_assert_eq(vm_copy_to_user(&uctx, VM_KERNEL_RANGES_BASE, buf, 1), -EFAULT);
}

Test(vm, copies_refuse_ranges_crossing_the_user_top)
{
	setup();
	vaddr_t top_page = VM_USER_TOP - PAGE_SIZE;
	char buf[32] = {0};

	cr_assert_eq(vm_map(&uctx, top_page, zeroed_page(), VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_copy_to_user(&uctx, VM_USER_TOP - 16, buf, 16), 0);
	cr_assert_eq(vm_copy_to_user(&uctx, VM_USER_TOP - 16, buf, 17), -EFAULT);
	cr_assert_eq(vm_copy_from_user(&uctx, buf, VM_USER_TOP - 16, 32), -EFAULT);
	cr_assert_eq(vm_copy_from_user(&uctx, buf, VM_USER_TOP - 16, SIZE_MAX), -EFAULT);
	cr_assert_eq(vm_copy_to_user(&uctx, VM_USER_TOP, buf, 1), -EFAULT);
	cr_assert_eq(vm_copy_to_user(&uctx, VM_USER_TOP - 4, "abcd", 4), 0); /* no NUL */
	cr_assert_eq(vm_copy_string_from_user(&uctx, buf, VM_USER_TOP - 4, 32), -EFAULT);
}

Test(vm, copy_string_from_user_stops_at_the_nul_or_the_limit)
{
	setup();
	vaddr_t va = 0x500000;
	char buf[16];

	cr_assert_eq(vm_map(&uctx, va, zeroed_page(), VM_USER), 0);
	cr_assert_eq(vm_copy_to_mapped(&uctx, va, "hello", 6), 0);
	cr_assert_eq(vm_copy_string_from_user(&uctx, buf, va, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(vm_copy_string_from_user(&uctx, buf, va, 5), -ENAMETOOLONG);
}

Test(vm, lookup_of_a_non_canonical_address_returns_enoent)
{
	setup();
	cr_assert_eq(vm_lookup(&uctx, 0x0000800000000000ull, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_lookup(&kctx, 0xfffe000000000000ull, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_protect(&uctx, 0x0000800000000000ull, VM_USER), -ENOENT);
}

Test(vm, dump_lists_4k_and_2m_pages_in_the_xous_style, .init = cr_redirect_stdout)
{
	setup();
	cr_assert_eq(vm_map(&uctx, 0x400000, FRAME, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_map_large(&uctx, 0x40000000, FRAME2M, VM_USER | VM_EXEC), 0);
	cr_assert_eq(vm_map(&uctx, 0x7f0000000000, FRAME, VM_WRITE | VM_WRITE_COMBINING), 0);
	cr_assert_eq(vm_map(&uctx, 0x7f0000001000, FRAME, VM_WRITE | VM_UNCACHED), 0);
	vm_dump(&uctx, 0, 0x7f0000001000); /* end is exclusive: the last page is left out */
	/* (kprintf, the kernel's formatter, prints %#lx of 0 as 0x0) */
	fflush(stdout);
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "solo: page tables of context %#lx, [0x0, 0x7f0000001000):\n"
		 "solo:       0 0000000000400000 -> %016lx (flags: VALID | R | W | USER)\n"
		 "solo:       1 0000000040000000 -> %016lx (flags: VALID | R | X | USER | 2M)\n"
		 "solo:       2 00007f0000000000 -> %016lx (flags: VALID | R | W | WC)\n",
		 uctx.root, (unsigned long)FRAME, (unsigned long)FRAME2M, (unsigned long)FRAME);
	cr_assert_stdout_eq_str(expect);
}

/* ------------------------------------------------------------ shootdown batches */

/* Inside a batch, neither the frames given to vm_free_frame nor the tables
 * an unmap empties are freed before the batch ends (the other CPUs'
 * shootdown comes first); nested batches end at the outermost end. */
Test(vm, a_batch_frees_frames_and_emptied_tables_only_at_its_end)
{
	setup();
	vaddr_t va = 0x40000000; /* a fresh PDPT entry: the unmaps empty three tables */
	paddr_t frames[8];
	size_t before = free_pages();

	for (int i = 0; i < 8; i++) {
		cr_assert_neq(frames[i] = palloc(1), 0);
		cr_assert_eq(vm_map(&uctx, va + i * PAGE_SIZE, frames[i], VM_USER | VM_WRITE), 0);
	}
	size_t mapped = free_pages();
	cr_assert_eq(mapped, before - 8 - 3, "8 frames and 3 tables");

	vm_batch_begin();
	vm_batch_begin();
	for (int i = 0; i < 8; i++) {
		paddr_t pa;
		cr_assert_eq(vm_unmap(&uctx, va + i * PAGE_SIZE, &pa), 0);
		cr_assert_eq(pa, frames[i]);
		vm_free_frame(pa);
	}
	vm_batch_end();
	cr_assert_eq(free_pages(), mapped, "freed inside the batch");
	vm_batch_end();
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(palloc_check(), 0);

	/* Outside a batch it is pfree. */
	paddr_t pa = palloc(1);
	vm_free_frame(pa);
	cr_assert_eq(free_pages(), before);
}

/* A batch holds VM_BATCH_FRAMES frames: one more flushes those (their
 * shootdown, then their frees) and waits itself. */
Test(vm, a_full_batch_flushes_before_it_takes_more)
{
	setup();
	paddr_t frames[VM_BATCH_FRAMES + 1];

	for (int i = 0; i <= VM_BATCH_FRAMES; i++)
		cr_assert_neq(frames[i] = palloc(1), 0);
	size_t held = free_pages();
	vm_batch_begin();
	for (int i = 0; i < VM_BATCH_FRAMES; i++)
		vm_free_frame(frames[i]);
	cr_assert_eq(free_pages(), held);
	vm_free_frame(frames[VM_BATCH_FRAMES]);
	cr_assert_eq(free_pages(), held + VM_BATCH_FRAMES);
	vm_batch_end();
	cr_assert_eq(free_pages(), held + VM_BATCH_FRAMES + 1);
	cr_assert_eq(palloc_check(), 0);
}

Test(vm, ending_a_batch_that_was_not_begun_panics, .signal = SIGABRT)
{
	setup();
	vm_batch_end();
}
