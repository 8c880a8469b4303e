/* Host tests of mm/palloc.c over the fake physical memory of mm_arena.h. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "mm/palloc.h"
#include "mm_arena.h"

#define RAM_PAGES	(MM_TEST_RAM_BYTES / PAGE_SIZE)
#define LOW_PAGES_GIVEN ((MM_TEST_LOW_END - MM_TEST_LOW_BASE) / PAGE_SIZE)

/* The managed main-pool RAM of the default layout: metadata is carved from its end. */
static paddr_t ram_managed_end(void)
{
	return MM_TEST_RAM_END - mm_test_palloc_stats().meta_pages * PAGE_SIZE;
}

/* Allocates every free main-pool page one at a time; returns them in *out (malloc'd). */
static size_t take_all_singles(paddr_t **out)
{
	size_t n = mm_test_palloc_stats().free_pages, got = 0;
	paddr_t *v = malloc((n + 1) * sizeof(*v));
	paddr_t p;

	while ((p = palloc(1)) != 0)
		v[got++] = p;
	*out = v;
	return got;
}

Test(palloc, init_accounts_for_every_page)
{
	mm_test_setup();
	struct palloc_stats st = mm_test_palloc_stats();

	cr_assert_gt(st.meta_pages, 0);
	cr_assert_eq(st.total_pages + st.meta_pages, RAM_PAGES);
	cr_assert_eq(st.free_pages, st.total_pages);
	cr_assert_eq(st.largest_free_run, st.total_pages);
	cr_assert_eq(st.low_total_pages, LOW_PAGES_GIVEN);
	cr_assert_eq(st.low_free_pages, LOW_PAGES_GIVEN);
	/* ~38 KiB per GiB: 112 MiB needs 2 pages at most. */
	cr_assert_leq(st.meta_pages, 2);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, single_pages_are_distinct_aligned_and_managed)
{
	mm_test_setup();
	paddr_t *v;
	size_t n = take_all_singles(&v);
	uint8_t *seen = calloc(RAM_PAGES, 1);

	cr_assert_eq(n, mm_test_palloc_stats().total_pages);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(v[i] % PAGE_SIZE, 0);
		cr_assert(v[i] >= MM_TEST_RAM_BASE && v[i] < ram_managed_end(), "page %#lx", v[i]);
		size_t idx = (v[i] - MM_TEST_RAM_BASE) / PAGE_SIZE;
		cr_assert_eq(seen[idx], 0, "page %#lx handed out twice", v[i]);
		seen[idx] = 1;
		/* The page is usable through the direct map. */
		memset(phys_to_virt(v[i]), 0xab, PAGE_SIZE);
	}
	cr_assert_eq(palloc_check(), 0);
	for (size_t i = 0; i < n; i++)
		pfree(v[i], 1);
	cr_assert_eq(mm_test_palloc_stats().free_pages, mm_test_palloc_stats().total_pages);
	cr_assert_eq(palloc_check(), 0);
	free(seen);
	free(v);
}

Test(palloc, single_pages_come_lowest_address_first)
{
	mm_test_setup();
	paddr_t a = palloc(1), b = palloc(1);

	cr_assert_eq(a, MM_TEST_RAM_BASE);
	cr_assert_eq(b, MM_TEST_RAM_BASE + PAGE_SIZE);
	pfree(a, 1);
	cr_assert_eq(palloc(1), a);
}

Test(palloc, never_returns_page_zero_or_low_memory)
{
	const struct palloc_range r[] = {{0, 1024}}; /* 0 .. 4 MiB, page 0 included */
	mm_test_setup_ranges(r, 1);
	paddr_t *v;
	size_t n = take_all_singles(&v);

	cr_assert_eq(mm_test_palloc_stats().low_total_pages, 255);
	cr_assert_eq(n + mm_test_palloc_stats().meta_pages, 1024 - 256);
	for (size_t i = 0; i < n; i++)
		cr_assert_geq(v[i], 1UL << 20);
	paddr_t p;
	size_t low = 0;
	while ((p = palloc_low(1)) != 0) {
		cr_assert_neq(p, 0);
		cr_assert_lt(p, 1UL << 20);
		low++;
	}
	cr_assert_eq(low, 255);
	free(v);
}

Test(palloc, zero_pages_returns_zero_and_pfree_of_zero_pages_does_nothing)
{
	mm_test_setup();
	size_t before = mm_test_palloc_stats().free_pages;

	cr_assert_eq(palloc(0), 0);
	cr_assert_eq(palloc_aligned(0, 8), 0);
	cr_assert_eq(palloc_low(0), 0);
	pfree(MM_TEST_RAM_BASE, 0);
	pfree(0, 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, before);
}

Test(palloc, exhaustion_returns_zero_and_changes_nothing)
{
	mm_test_setup();
	size_t total = mm_test_palloc_stats().total_pages;

	cr_assert_eq(palloc(total + 1), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total);

	paddr_t *v;
	size_t n = take_all_singles(&v);
	cr_assert_eq(n, total);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 0);
	cr_assert_eq(palloc(1), 0);
	cr_assert_eq(palloc(2), 0);
	cr_assert_eq(palloc(600), 0);
	cr_assert_eq(palloc_aligned(1, 512), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 0);

	/* One page back: only single pages fit, and a failed run takes nothing. */
	pfree(v[n / 2], 1);
	cr_assert_eq(palloc(2), 0);
	cr_assert_eq(palloc_aligned(1, 1UL << 20), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 1);
	cr_assert_eq(palloc(1), v[n / 2]);
	cr_assert_eq(palloc_check(), 0);
	free(v);
}

Test(palloc, freed_pages_coalesce_into_one_run)
{
	mm_test_setup();
	paddr_t *v;
	size_t n = take_all_singles(&v);

	mm_test_seed(12345);
	for (size_t i = n - 1; i > 0; i--) { /* free in random order */
		size_t j = mm_test_random_below(i + 1);
		paddr_t t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		pfree(v[i], 1);
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, n);
	paddr_t all = palloc(n);
	cr_assert_eq(all, MM_TEST_RAM_BASE);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 0);
	pfree(all, n);
	cr_assert_eq(palloc_check(), 0);
	free(v);
}

Test(palloc, aligned_runs_are_aligned)
{
	mm_test_setup();
	/* Scatter some single pages first so that the lowest free page is not aligned. */
	for (int i = 0; i < 37; i++)
		palloc(1);
	for (size_t align = 1; align <= 4096; align *= 2) {
		for (size_t n = 1; n <= 1100; n = n * 3 + 1) {
			paddr_t p = palloc_aligned(n, align);
			cr_assert_neq(p, 0, "palloc_aligned(%zu, %zu) failed", n, align);
			cr_assert_eq((p / PAGE_SIZE) % align, 0, "palloc_aligned(%zu, %zu) = %#lx",
				     n, align, p);
			pfree(p, n);
		}
	}
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, runs_up_to_512_pages_come_from_aligned_blocks)
{
	mm_test_setup();
	palloc(1);
	for (size_t n = 2; n <= 512; n++) {
		paddr_t p = palloc(n);
		size_t block = 1;
		while (block < n)
			block *= 2;
		cr_assert_eq((p / PAGE_SIZE) % block, 0, "palloc(%zu) = %#lx", n, p);
		pfree(p, n);
	}
	paddr_t huge = palloc(512);
	cr_assert_eq(huge % (2UL << 20), 0);
}

Test(palloc, large_runs_are_contiguous_and_disjoint)
{
	mm_test_setup();
	paddr_t a = palloc(3000), b = palloc(5000), c = palloc(1);

	cr_assert(a && b && c);
	cr_assert(a + 3000 * PAGE_SIZE <= b || b + 5000 * PAGE_SIZE <= a);
	cr_assert(c + PAGE_SIZE <= a || c >= a + 3000 * PAGE_SIZE);
	cr_assert(c + PAGE_SIZE <= b || c >= b + 5000 * PAGE_SIZE);
	memset(phys_to_virt(a), 1, 3000 * PAGE_SIZE);
	memset(phys_to_virt(b), 2, 5000 * PAGE_SIZE);
	cr_assert_eq(mm_test_palloc_stats().free_pages, mm_test_palloc_stats().total_pages - 8001);
	pfree(a, 3000);
	pfree(b, 5000);
	pfree(c, 1);
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, mm_test_palloc_stats().total_pages);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, parts_of_a_run_can_be_freed_separately)
{
	mm_test_setup();
	paddr_t p = palloc(10);
	size_t before = mm_test_palloc_stats().free_pages;

	pfree(p + 3 * PAGE_SIZE, 4);
	pfree(p, 3);
	pfree(p + 7 * PAGE_SIZE, 3);
	cr_assert_eq(mm_test_palloc_stats().free_pages, before + 10);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, fragmented_memory_still_serves_unaligned_runs)
{
	mm_test_setup();
	paddr_t *v;
	size_t n = take_all_singles(&v);

	/* Free the odd pages only: no two free pages are adjacent. */
	size_t freed = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] / PAGE_SIZE % 2 == 1) {
			pfree(v[i], 1);
			freed++;
		}
	}
	cr_assert_eq(palloc(2), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, freed);
	/* Free 40 pages that are 2 mod 4, at the bottom: runs of 3 from 1 mod 4, no aligned 4. */
	size_t more = 0;
	for (size_t i = 0; i < n && more < 40; i++) {
		if (v[i] / PAGE_SIZE % 4 == 2) {
			pfree(v[i], 1);
			more++;
		}
	}
	cr_assert_eq(palloc(4), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, freed + more);
	paddr_t p = palloc(3);
	cr_assert_neq(p, 0);
	cr_assert_eq(p / PAGE_SIZE % 4, 1);
	paddr_t q = palloc(2);
	cr_assert_neq(q, 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, freed + more - 5);
	cr_assert_eq(palloc_check(), 0);
	free(v);
}

Test(palloc, stale_block_hints_neither_hide_nor_fake_blocks)
{
	mm_test_setup();
	paddr_t *v;
	size_t n = take_all_singles(&v);

	/* v[] is in address order and v[0] is 2 MiB aligned. A free pair at 2..3
	 * gets its hint; taking page 2 leaves the hint stale. */
	pfree(v[2], 1);
	pfree(v[3], 1);
	cr_assert_eq(palloc(1), v[2]);
	cr_assert_eq(palloc(2), 0);
	cr_assert_eq(palloc_check(), 0);
	/* A real pair higher up is found past the stale hint... */
	pfree(v[200], 1);
	pfree(v[201], 1);
	pfree(v[7], 1);
	cr_assert_eq(palloc(2), v[200]);
	/* ...and a block completed by a multi-page free is found too. */
	pfree(v[64], 8);
	cr_assert_eq(palloc_aligned(8, 8), v[64]);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 2); /* pages 3 and 7 */
	cr_assert_eq(palloc_check(), 0);
	(void)n;
	free(v);
}

Test(palloc, large_runs_skip_free_runs_that_are_too_short)
{
	mm_test_setup();
	paddr_t *v;
	size_t n = take_all_singles(&v);

	/* v[] is in address order: free 100 pages at 64, then 300 pages at 1000. */
	for (size_t i = 64; i < 164; i++)
		pfree(v[i], 1);
	for (size_t i = 1000; i < 1300; i++)
		pfree(v[i], 1);
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, 300);
	/* The first run holds a whole free 64-page word but is too short. */
	cr_assert_eq(palloc(290), v[1000]);
	cr_assert_eq(palloc(101), 0);
	cr_assert_eq(palloc(100), v[64]);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 10);
	cr_assert_eq(palloc_check(), 0);
	(void)n;
	free(v);
}

Test(palloc, low_pool_is_separate)
{
	mm_test_setup();
	size_t low_total = mm_test_palloc_stats().low_total_pages;
	paddr_t p = palloc_low(4);

	cr_assert_eq(p, MM_TEST_LOW_BASE);
	cr_assert_eq(mm_test_palloc_stats().low_free_pages, low_total - 4);
	cr_assert_eq(mm_test_palloc_stats().free_pages, mm_test_palloc_stats().total_pages);
	cr_assert_eq(palloc_low(low_total), 0);
	cr_assert_eq(palloc_low(low_total - 4) != 0, 1);
	cr_assert_eq(palloc_low(1), 0);
	cr_assert_eq(mm_test_palloc_stats().low_free_pages, 0);
	pfree_low(p, 4);
	cr_assert_eq(mm_test_palloc_stats().low_free_pages, 4);
	cr_assert_eq(palloc_check(), 0);
	/* The main pool never hands out low memory, even when it is all that is free. */
	paddr_t *v;
	take_all_singles(&v);
	cr_assert_eq(palloc(1), 0);
	free(v);
}

Test(palloc, unsorted_ranges_with_holes_are_all_used)
{
	const struct palloc_range r[] = {
	    {40UL << 20, 100},
	    {MM_TEST_LOW_BASE, 8},
	    {16UL << 20, 1000},
	    {(40UL << 20) + 100 * PAGE_SIZE, 50}, /* adjacent to the first */
	    {(64UL << 20) - 4 * PAGE_SIZE, 4},
	    {30UL << 20, 7},
	    {(1UL << 20) - 2 * PAGE_SIZE, 300}, /* straddles 1 MiB */
	};
	mm_test_setup_ranges(r, ARRAY_SIZE(r));
	struct palloc_stats st = mm_test_palloc_stats();

	cr_assert_eq(st.low_total_pages, 8 + 2);
	cr_assert_eq(st.total_pages + st.meta_pages, 100 + 1000 + 50 + 4 + 7 + 298);
	paddr_t *v;
	size_t n = take_all_singles(&v);
	cr_assert_eq(n, st.total_pages);
	for (size_t i = 0; i < n; i++) {
		bool inside = false;
		for (size_t j = 0; j < ARRAY_SIZE(r); j++)
			inside |= v[i] >= r[j].base && v[i] < r[j].base + r[j].npages * PAGE_SIZE;
		cr_assert(inside && v[i] >= (1UL << 20), "page %#lx outside the ranges", v[i]);
	}
	for (size_t i = 0; i < n; i++)
		pfree(v[i], 1);
	/* Take the two larger runs; what is left that holds 150 pages is the two
	 * adjacent ranges at 40 MiB, merged. */
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, 1000 - st.meta_pages);
	cr_assert_eq(palloc(1000 - st.meta_pages), 16UL << 20);
	cr_assert_eq(palloc(298), 1UL << 20);
	cr_assert_eq(palloc(150), 40UL << 20);
	cr_assert_eq(palloc_check(), 0);
	free(v);
}

Test(palloc, memory_beyond_a_large_hole_gets_its_own_zone)
{
	const struct palloc_range r[] = {
	    {16UL << 20, 1024}, {3UL << 30, 2048}, /* 3 GiB: a hole of ~3 GiB */
	};
	mm_test_setup_ranges(r, 2);
	struct palloc_stats st = mm_test_palloc_stats();

	/* Two small zones: one metadata page each instead of ~24 for one bitmap. */
	cr_assert_eq(st.meta_pages, 2);
	cr_assert_eq(st.total_pages, 1024 + 2048 - 2);
	paddr_t a = palloc(1500);
	cr_assert_geq(a, 3UL << 30);
	paddr_t b = palloc(1000);
	cr_assert(b >= (16UL << 20) && b < (20UL << 20));
	paddr_t *v;
	size_t n = take_all_singles(&v);
	cr_assert_eq(n, st.total_pages - 2500);
	for (size_t i = 0; i < n; i++)
		pfree(v[i], 1);
	pfree(a, 1500);
	pfree(b, 1000);
	cr_assert_eq(mm_test_palloc_stats().free_pages, st.total_pages);
	cr_assert_eq(palloc_check(), 0);
	free(v);
}

Test(palloc, add_range_extends_a_zone_and_coalesces)
{
	/* 17..25 MiB: the zone's span is 16..32 MiB, the metadata page at 25 MiB - 4 KiB. */
	const struct palloc_range r[] = {{17UL << 20, 2048}};
	mm_test_setup_ranges(r, 1);
	size_t total = mm_test_palloc_stats().total_pages, meta = mm_test_palloc_stats().meta_pages;

	cr_assert_eq(meta, 1);
	cr_assert_eq(palloc_add_range(16UL << 20, 256), 0);  /* just below: merges */
	cr_assert_eq(palloc_add_range(25UL << 20, 1024), 0); /* just above the metadata */
	cr_assert_eq(mm_test_palloc_stats().total_pages, total + 256 + 1024);
	cr_assert_eq(mm_test_palloc_stats().meta_pages, meta);
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, 256 + 2047);
	cr_assert_eq(palloc_check(), 0);
	cr_assert_eq(palloc(256 + 2047), 16UL << 20);
	cr_assert_eq(palloc(1024), 25UL << 20);
	cr_assert_eq(mm_test_palloc_stats().free_pages, 0);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, add_range_outside_every_zone_makes_a_new_one)
{
	const struct palloc_range r[] = {{16UL << 20, 2048}};
	mm_test_setup_ranges(r, 1);
	size_t total = mm_test_palloc_stats().total_pages, meta = mm_test_palloc_stats().meta_pages;

	cr_assert_eq(palloc_add_range(40UL << 20, 4096), 0); /* beyond the 32 MiB span */
	cr_assert_eq(mm_test_palloc_stats().meta_pages, meta + 1);
	cr_assert_eq(mm_test_palloc_stats().total_pages, total + 4095);
	paddr_t p = palloc(3000);
	cr_assert_geq(p, 40UL << 20);
	cr_assert_eq(palloc_check(), 0);
	pfree(p, 3000);
	/* Below 1 MiB goes to the low pool. */
	cr_assert_eq(palloc_add_range(0x10000, 16), 0);
	cr_assert_eq(mm_test_palloc_stats().low_total_pages, 16);
	/* A single page cannot hold its own metadata and a page to give. */
	cr_assert_eq(palloc_add_range(200UL << 20, 1), -ENOMEM);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, add_range_overlapping_managed_memory_panics, .signal = SIGABRT)
{
	mm_test_setup();
	palloc_add_range(MM_TEST_RAM_BASE + 10 * PAGE_SIZE, 1);
}

Test(palloc, add_range_overlapping_palloc_metadata_panics, .signal = SIGABRT)
{
	mm_test_setup();
	palloc_add_range(MM_TEST_RAM_END - PAGE_SIZE, 1);
}

Test(palloc, init_with_too_many_ranges_returns_enomem)
{
	static struct palloc_range r[300];
	for (size_t i = 0; i < 300; i++)
		r[i] = (struct palloc_range){(16UL << 20) + i * 2 * PAGE_SIZE, 1};
	mm_test_arena();
	cr_assert_eq(palloc_init(r, 300), -ENOMEM);
	cr_assert_eq(palloc(1), 0);
	cr_assert_eq(mm_test_palloc_stats().total_pages, 0);
}

Test(palloc, init_with_no_ranges_gives_an_empty_allocator)
{
	mm_test_arena();
	cr_assert_eq(palloc_init(NULL, 0), 0);
	cr_assert_eq(palloc(1), 0);
	cr_assert_eq(palloc_low(1), 0);
}

Test(palloc, init_with_an_unaligned_range_panics, .signal = SIGABRT)
{
	const struct palloc_range r[] = {{(16UL << 20) + 100, 10}};
	mm_test_arena();
	palloc_init(r, 1);
}

Test(palloc, init_with_overlapping_ranges_panics, .signal = SIGABRT)
{
	const struct palloc_range r[] = {{16UL << 20, 10}, {(16UL << 20) + 9 * PAGE_SIZE, 10}};
	mm_test_arena();
	palloc_init(r, 2);
}

Test(palloc, reinit_discards_all_state)
{
	mm_test_setup();
	palloc(100);
	palloc_low(3);
	mm_test_setup();
	cr_assert_eq(mm_test_palloc_stats().free_pages, mm_test_palloc_stats().total_pages);
	cr_assert_eq(mm_test_palloc_stats().low_free_pages, mm_test_palloc_stats().low_total_pages);
	cr_assert_eq(palloc(1), MM_TEST_RAM_BASE);
}

Test(palloc, freeing_twice_panics, .signal = SIGABRT)
{
	mm_test_setup();
	paddr_t p = palloc(1);
	pfree(p, 1);
	pfree(p, 1);
}

Test(palloc, freeing_a_run_with_a_free_page_in_it_panics, .signal = SIGABRT)
{
	mm_test_setup();
	paddr_t p = palloc(4);
	pfree(p + PAGE_SIZE * 2, 1);
	pfree(p, 4);
}

Test(palloc, freeing_a_page_never_allocated_panics, .signal = SIGABRT)
{
	mm_test_setup();
	palloc(1);
	pfree(MM_TEST_RAM_BASE + 100 * PAGE_SIZE, 1);
}

Test(palloc, freeing_outside_managed_memory_panics, .signal = SIGABRT)
{
	mm_test_setup();
	pfree(8UL << 20, 1); /* the hole between low memory and RAM */
}

Test(palloc, freeing_past_the_end_of_managed_memory_panics, .signal = SIGABRT)
{
	mm_test_setup();
	paddr_t *v;
	size_t n = take_all_singles(&v);
	pfree(v[n - 1], 2 + mm_test_palloc_stats().meta_pages); /* last page + metadata + beyond */
}

Test(palloc, freeing_metadata_pages_panics, .signal = SIGABRT)
{
	mm_test_setup();
	pfree(MM_TEST_RAM_END - PAGE_SIZE, 1);
}

Test(palloc, freeing_page_zero_panics, .signal = SIGABRT)
{
	mm_test_setup();
	pfree(0, 1);
}

Test(palloc, freeing_a_low_page_with_pfree_panics, .signal = SIGABRT)
{
	mm_test_setup();
	pfree(palloc_low(1), 1);
}

Test(palloc, freeing_a_main_page_with_pfree_low_panics, .signal = SIGABRT)
{
	mm_test_setup();
	pfree_low(palloc(1), 1);
}

Test(palloc, freeing_a_low_page_twice_panics, .signal = SIGABRT)
{
	mm_test_setup();
	paddr_t p = palloc_low(2);
	pfree_low(p, 2);
	pfree_low(p + PAGE_SIZE, 1);
}

Test(palloc, freeing_an_unaligned_address_panics, .signal = SIGABRT)
{
	mm_test_setup();
	pfree(palloc(1) + 8, 1);
}

Test(palloc, alignment_not_a_power_of_two_panics, .signal = SIGABRT)
{
	mm_test_setup();
	palloc_aligned(1, 3);
}

/* ------------------------------------------------------------ claim */

Test(palloc, claim_takes_exactly_the_pages_asked_for)
{
	mm_test_setup();
	size_t total = mm_test_palloc_stats().total_pages;
	paddr_t base = MM_TEST_RAM_BASE + 100 * PAGE_SIZE;

	cr_assert_eq(palloc_claim(base, 300), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total - 300);
	cr_assert_eq(palloc_check(), 0);
	/* palloc() hands out the pages around the claim, never inside it. */
	paddr_t *v;
	size_t n = take_all_singles(&v);
	cr_assert_eq(n, total - 300);
	for (size_t i = 0; i < n; i++)
		cr_assert(v[i] < base || v[i] >= base + 300 * PAGE_SIZE,
			  "page %#lx inside the claim", v[i]);
	for (size_t i = 0; i < n; i++)
		pfree(v[i], 1);
	free(v);
	/* Claimed pages are freed like any others, in any split. */
	pfree(base, 100);
	pfree(base + 100 * PAGE_SIZE, 200);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total);
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, total);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, claim_of_an_allocated_page_returns_ebusy_and_changes_nothing)
{
	mm_test_setup();
	size_t total = mm_test_palloc_stats().total_pages;
	paddr_t a = palloc(1), b = palloc(1);

	cr_assert_eq(b, a + PAGE_SIZE);
	pfree(a, 1);
	/* a is free, b is not: the whole claim fails, a stays free. */
	cr_assert_eq(palloc_claim(a, 2), -EBUSY);
	cr_assert_eq(palloc_claim(b, 1), -EBUSY);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total - 1);
	cr_assert_eq(palloc_check(), 0);
	cr_assert_eq(palloc_claim(a, 1), 0);
	cr_assert_eq(palloc_claim(a, 1), -EBUSY);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total - 2);
}

Test(palloc, claim_outside_the_main_pool_returns_enoent)
{
	mm_test_setup();
	size_t total = mm_test_palloc_stats().total_pages;
	paddr_t meta = ram_managed_end();

	cr_assert_eq(palloc_claim(MM_TEST_LOW_BASE, 1), -ENOENT);	      /* low pool */
	cr_assert_eq(palloc_claim(MM_TEST_RAM_BASE - PAGE_SIZE, 2), -ENOENT); /* hole before */
	cr_assert_eq(palloc_claim(meta - PAGE_SIZE, 2), -ENOENT);	      /* metadata */
	cr_assert_eq(palloc_claim(MM_TEST_RAM_END, 1), -ENOENT);	      /* beyond RAM */
	/* -ENOENT wins over -EBUSY. */
	paddr_t first = palloc(1);
	cr_assert_eq(palloc_claim(first - PAGE_SIZE, 2), -ENOENT);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total - 1);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, claim_rejects_bad_arguments)
{
	mm_test_setup();
	cr_assert_eq(palloc_claim(MM_TEST_RAM_BASE + 8, 1), -EINVAL);
	cr_assert_eq(palloc_claim(MM_TEST_RAM_BASE, 0), -EINVAL);
	cr_assert_eq(palloc_claim(MM_TEST_RAM_BASE, SIZE_MAX / 2), -EINVAL);
	cr_assert_eq(mm_test_palloc_stats().free_pages, mm_test_palloc_stats().total_pages);
}

Test(palloc, claim_spans_adjacent_ranges_of_different_zones)
{
	/* Two zones, the second's range starting where the first's span ends. */
	const struct palloc_range r[] = {{16UL << 20, 2048}};
	mm_test_setup_ranges(r, 1);
	cr_assert_eq(palloc_add_range(32UL << 20, 4096), 0); /* a new zone at 32 MiB */
	/* The first zone's metadata ends its range at 24 MiB - 4 KiB: add the
	 * rest up to the new zone so that the ranges touch. */
	cr_assert_eq(palloc_add_range(24UL << 20, 2048), 0);
	size_t free_before = mm_test_palloc_stats().free_pages;

	cr_assert_eq(palloc_claim((32UL << 20) - 8 * PAGE_SIZE, 16), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, free_before - 16);
	cr_assert_eq(palloc_check(), 0);
	pfree((32UL << 20) - 8 * PAGE_SIZE, 8);
	pfree(32UL << 20, 8);
	cr_assert_eq(mm_test_palloc_stats().free_pages, free_before);
	cr_assert_eq(palloc_check(), 0);
}

Test(palloc, free_pages_matches_the_stats)
{
	mm_test_setup();
	paddr_t p = palloc(37);

	cr_assert_eq(palloc_free_pages(), mm_test_palloc_stats().free_pages);
	pfree(p, 37);
	cr_assert_eq(palloc_free_pages(), mm_test_palloc_stats().total_pages);
}

/* ------------------------------------------------------------ fault caches */

/* Each cache hands out distinct pages, lowest first within its stash, and
 * a cached page still counts as free: only the pages handed out leave the
 * free count, in palloc_free_pages and the stats alike. */
Test(palloc, fault_caches_hand_out_distinct_pages_that_count_as_taken)
{
	mm_test_setup();
	const size_t total = mm_test_palloc_stats().total_pages;
	paddr_t got[3 * PALLOC_CACHE_PAGES];
	unsigned n = 0;

	for (unsigned i = 0; i < PALLOC_CACHE_PAGES + 3; i++)
		got[n++] = palloc_cache_take(0);
	for (unsigned i = 0; i < 5; i++)
		got[n++] = palloc_cache_take(PALLOC_CACHES - 1);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_neq(got[i], 0);
		for (unsigned j = 0; j < i; j++)
			cr_assert_neq(got[i], got[j], "page %#lx handed out twice", got[i]);
	}
	for (unsigned i = 1; i < PALLOC_CACHE_PAGES; i++)
		cr_assert_gt(got[i], got[i - 1], "a stash hands out its pages lowest first");
	cr_assert_eq(palloc_free_pages(), total - n);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total - n);
	cr_assert_eq(palloc_check(), 0);
	for (unsigned i = 0; i < n; i++)
		pfree(got[i], 1);
	cr_assert_eq(palloc_free_pages(), total);
}

/* A number past the last cache takes straight from the pool: nothing is
 * stashed, so every other page stays free in the bitmap itself. */
Test(palloc, a_cache_number_past_the_last_takes_from_the_pool)
{
	mm_test_setup();
	const size_t total = mm_test_palloc_stats().total_pages;
	paddr_t p = palloc_cache_take(PALLOC_CACHES);

	cr_assert_neq(p, 0);
	cr_assert_eq(palloc_free_pages(), total - 1);
	cr_assert_eq(mm_test_palloc_stats().largest_free_run, total - 1);
	pfree(p, 1);
}

/* When the pool runs short, palloc and palloc_aligned take the cached
 * pages back before they give up: every free page can still be had. */
Test(palloc, the_pool_takes_cached_pages_back_when_it_runs_short)
{
	mm_test_setup();
	const size_t total = mm_test_palloc_stats().total_pages;
	paddr_t first = palloc_cache_take(0), second = palloc_cache_take(1);
	paddr_t *v;

	cr_assert(first && second);
	size_t n = take_all_singles(&v);
	cr_assert_eq(n, total - 2, "the pages in the caches were not given back");
	cr_assert_eq(palloc_cache_take(0), 0, "a drained cache has nothing left");
	cr_assert_eq(palloc_free_pages(), 0);
	cr_assert_eq(palloc_check(), 0);
	for (size_t i = 0; i < n; i++)
		pfree(v[i], 1);
	free(v);

	pfree(first, 1);
	pfree(second, 1);

	/* A run that fits only once the cached pages are back: all but the
	 * lowest page, whose cache holds the next ones. */
	cr_assert_eq(palloc_cache_take(0), first);
	paddr_t run = palloc(total - 1);
	cr_assert_eq(run, first + PAGE_SIZE);
	cr_assert_eq(palloc_free_pages(), 0);
	pfree(run, total - 1);
	pfree(first, 1);
	cr_assert_eq(palloc_free_pages(), total);
	cr_assert_eq(palloc_check(), 0);
}

/* A page sitting in a cache is free to claim: the claim takes it back. */
Test(palloc, claim_of_a_cached_page_succeeds)
{
	mm_test_setup();
	paddr_t taken = palloc_cache_take(0);

	cr_assert_neq(taken, 0);
	cr_assert_eq(palloc_claim(taken + PAGE_SIZE, 2), 0);
	cr_assert_eq(palloc_claim(taken, 1), -EBUSY, "the page handed out is not free");
	cr_assert_eq(palloc_free_pages(), mm_test_palloc_stats().total_pages - 3);
	pfree(taken, 1);
	pfree(taken + PAGE_SIZE, 2);
	cr_assert_eq(palloc_check(), 0);
}

/* ------------------------------------------------------------ randomized */

struct alloc {
	paddr_t base;
	size_t npages;
};

/* Longest run of free pages in the model starting on an align boundary. */
static bool model_has_run(const uint32_t *owner, size_t managed, size_t n, size_t align)
{
	for (size_t s = 0; s + n <= managed; s++) {
		if ((MM_TEST_RAM_BASE / PAGE_SIZE + s) % align)
			continue;
		size_t e = s;
		while (e < s + n && !owner[e])
			e++;
		if (e == s + n)
			return true;
		s = e; /* page e is taken */
	}
	return false;
}

static size_t model_longest(const uint32_t *owner, size_t managed)
{
	size_t best = 0, cur = 0;
	for (size_t i = 0; i < managed; i++) {
		cur = owner[i] ? 0 : cur + 1;
		if (cur > best)
			best = cur;
	}
	return best;
}

Test(palloc, random_operations_match_a_reference_model)
{
	mm_test_setup();
	const size_t total = mm_test_palloc_stats().total_pages;
	const paddr_t end = ram_managed_end();
	const size_t managed = (end - MM_TEST_RAM_BASE) / PAGE_SIZE;
	uint32_t *owner = calloc(managed, sizeof(*owner)); /* 0 = free */
	struct alloc *live = calloc(40000, sizeof(*live));
	size_t nlive = 0, used = 0;
	uint32_t next_id = 1;

	cr_assert_eq(managed, total);
	mm_test_seed(0x5eed5eed12345ULL);
	for (int op = 0; op < 40000; op++) {
		bool do_alloc =
		    nlive == 0 || (used < total * 8 / 10 ? mm_test_random_below(100) < 55
							 : mm_test_random_below(100) < 30);
		if (do_alloc) {
			size_t r = mm_test_random_below(100), n, align = 1;
			n = r < 60   ? 1
			    : r < 85 ? 2 + mm_test_random_below(15)
			    : r < 95 ? 17 + mm_test_random_below(184)
				     : 201 + mm_test_random_below(900);
			if (mm_test_random_below(100) < 15)
				align = 1UL << mm_test_random_below(11);
			paddr_t p = align > 1 ? palloc_aligned(n, align) : palloc(n);
			if (!p) {
				cr_assert(!model_has_run(owner, managed, n, align),
					  "op %d: palloc_aligned(%zu, %zu) failed with room", op, n,
					  align);
				continue;
			}
			cr_assert_eq((p / PAGE_SIZE) % align, 0);
			cr_assert(p >= MM_TEST_RAM_BASE && p + n * PAGE_SIZE <= end);
			size_t s = (p - MM_TEST_RAM_BASE) / PAGE_SIZE;
			for (size_t i = s; i < s + n; i++) {
				cr_assert_eq(owner[i], 0, "op %d: page %#lx handed out twice", op,
					     MM_TEST_RAM_BASE + i * PAGE_SIZE);
				owner[i] = next_id;
			}
			*(uint32_t *)phys_to_virt(p) = next_id;
			*(uint32_t *)phys_to_virt(p + (n - 1) * PAGE_SIZE) = next_id;
			next_id++;
			live[nlive++] = (struct alloc){p, n};
			used += n;
		} else {
			size_t k = mm_test_random_below(nlive);
			struct alloc a = live[k];
			size_t s = (a.base - MM_TEST_RAM_BASE) / PAGE_SIZE;
			cr_assert_eq(*(uint32_t *)phys_to_virt(a.base), owner[s]);
			cr_assert_eq(*(uint32_t *)phys_to_virt(a.base + (a.npages - 1) * PAGE_SIZE),
				     owner[s]);
			if (a.npages > 2 && mm_test_random_below(100) < 20) {
				/* Free the tail half; the head stays allocated. */
				size_t keep = a.npages / 2;
				pfree(a.base + keep * PAGE_SIZE, a.npages - keep);
				for (size_t i = s + keep; i < s + a.npages; i++)
					owner[i] = 0;
				live[k].npages = keep;
				*(uint32_t *)phys_to_virt(a.base + (keep - 1) * PAGE_SIZE) =
				    owner[s];
				used -= a.npages - keep;
			} else {
				pfree(a.base, a.npages);
				for (size_t i = s; i < s + a.npages; i++)
					owner[i] = 0;
				live[k] = live[--nlive];
				used -= a.npages;
			}
		}
		cr_assert_eq(mm_test_palloc_stats().free_pages, total - used, "op %d", op);
		if (op % 16 == 0)
			cr_assert_eq(palloc_check(), 0, "op %d", op);
		if (op % 256 == 0) {
			cr_assert_eq(mm_test_palloc_stats().largest_free_run,
				     model_longest(owner, managed));
		}
	}
	while (nlive) {
		nlive--;
		pfree(live[nlive].base, live[nlive].npages);
	}
	cr_assert_eq(palloc_check(), 0);
	cr_assert_eq(mm_test_palloc_stats().free_pages, total);
	cr_assert_eq(palloc(total), MM_TEST_RAM_BASE);
	free(owner);
	free(live);
}
