/*
 * Host tests of mm/valloc.c: address-range pools against a reference
 * model, pvalloc/pvfree, map_mmio and guarded kernel stacks, with page
 * tables in the fake physical memory of mm_arena.h (mapped addresses are
 * checked with vm_lookup(), never touched).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "mm/palloc.h"
#include "mm/valloc.h"
#include "mm/vm.h"
#include "mm_arena.h"

/* The kernel defines it in kernel/main.c; map_mmio() and kstacks use it. */
struct vm_ctx kernel_ctx;

static struct vm_ctx uctx;

static size_t free_pages(void)
{
	struct palloc_stats st;
	palloc_get_stats(&st);
	return st.free_pages;
}

static struct valloc_stats vstats(const struct vm_ctx *ctx)
{
	struct valloc_stats st;
	valloc_get_stats(ctx, &st);
	return st;
}

/* Fresh allocators and kernel context, as kmain leaves them. */
static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kernel_ctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kernel_ctx, VM_KERNEL_RANGES_BASE), 0);
}

static void setup_user(void)
{
	setup();
	cr_assert_eq(vm_ctx_init_user(&uctx, &kernel_ctx), 0);
}

/* A context with only a pool, over npages pages at base (no page tables). */
#define SMALL_BASE 0x100000000ull
static struct vm_ctx small_pool(size_t npages)
{
	struct vm_ctx ctx = {0};
	cr_assert_eq(valloc_pool_init(&ctx.ranges, SMALL_BASE, SMALL_BASE + npages * PAGE_SIZE), 0);
	return ctx;
}

/* ------------------------------------------------------------ pools */

Test(valloc, kernel_pool_covers_the_kernel_ranges)
{
	setup();
	struct valloc_stats st = vstats(&kernel_ctx);

	cr_assert_eq(st.base, VM_KERNEL_RANGES_BASE);
	cr_assert_eq(st.end, VM_KERNEL_RANGES_BASE + VM_KERNEL_RANGES_SIZE);
	cr_assert_eq(st.npages_free, VM_KERNEL_RANGES_SIZE / PAGE_SIZE);
	cr_assert_eq(st.nranges_free, 1);
	cr_assert_eq(st.nnode_pages, 1);
	cr_assert_eq(valloc(1, &kernel_ctx), VM_KERNEL_RANGES_BASE);
	cr_assert_eq(valloc(3, &kernel_ctx), VM_KERNEL_RANGES_BASE + PAGE_SIZE);
	cr_assert_eq(valloc_check(&kernel_ctx), 0);
}

Test(valloc, user_pool_spans_the_null_guard_to_one_page_below_the_top)
{
	setup_user();
	struct valloc_stats st = vstats(&uctx);

	cr_assert_eq(st.base, 0x10000);
	cr_assert_eq(st.end, VM_USER_TOP - PAGE_SIZE);
	cr_assert_eq(valloc(1, &uctx), 0x10000);
	/* The loader's stack: 256 KiB under 0x7ffffffff000. */
	cr_assert_eq(valloc_reserve(&uctx, VM_USER_TOP - PAGE_SIZE - (256 << 10), 64), 0);
	cr_assert_eq(valloc_reserve(&uctx, VM_USER_TOP - PAGE_SIZE, 1), -EINVAL);
	cr_assert_eq(valloc_reserve(&uctx, 0xf000, 1), -EINVAL);
	cr_assert_eq(valloc_check(&uctx), 0);
}

Test(valloc, ranges_are_page_aligned_lowest_first_and_inside_the_pool)
{
	setup();
	struct vm_ctx ctx = small_pool(100);

	cr_assert_eq(valloc(0, &ctx), 0);
	cr_assert_eq(valloc(10, &ctx), SMALL_BASE);
	cr_assert_eq(valloc(20, &ctx), SMALL_BASE + 10 * PAGE_SIZE);
	vfree(SMALL_BASE, 10, &ctx);
	cr_assert_eq(valloc(15, &ctx), SMALL_BASE + 30 * PAGE_SIZE); /* the hole is too small */
	cr_assert_eq(valloc(10, &ctx), SMALL_BASE);
	cr_assert_eq(valloc_check(&ctx), 0);
	valloc_pool_destroy(&ctx.ranges);
}

Test(valloc, exhaustion_returns_zero_and_changes_nothing)
{
	setup();
	struct vm_ctx ctx = small_pool(100);

	cr_assert_eq(valloc(101, &ctx), 0);
	cr_assert_eq(valloc(SIZE_MAX, &ctx), 0);
	cr_assert_eq(valloc(100, &ctx), SMALL_BASE);
	cr_assert_eq(valloc(1, &ctx), 0);
	cr_assert_eq(vstats(&ctx).npages_free, 0);
	cr_assert_eq(vstats(&ctx).nranges_free, 0);
	vfree(SMALL_BASE + 50 * PAGE_SIZE, 1, &ctx);
	cr_assert_eq(valloc(2, &ctx), 0);
	cr_assert_eq(valloc(1, &ctx), SMALL_BASE + 50 * PAGE_SIZE);
	cr_assert_eq(valloc_check(&ctx), 0);
	valloc_pool_destroy(&ctx.ranges);
}

Test(valloc, freeing_everything_coalesces_into_one_range)
{
	setup();
	const size_t span = 10000;
	struct vm_ctx ctx = small_pool(span);
	struct {
		vaddr_t base;
		size_t npages;
	} v[4000];
	size_t n = 0;

	mm_test_seed(42);
	for (;;) {
		size_t npages = 1 + mm_test_random_below(8);
		vaddr_t va = valloc(npages, &ctx);
		if (!va)
			break;
		v[n].base = va;
		v[n].npages = npages;
		n++;
	}
	cr_assert_gt(n, 1000);
	/* Free in random order, some ranges in two parts. */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = mm_test_random_below(i + 1);
		__typeof__(v[0]) t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		size_t first =
		    v[i].npages > 1 ? 1 + mm_test_random_below(v[i].npages - 1) : v[i].npages;
		vfree(v[i].base, first, &ctx);
		vfree(v[i].base + first * PAGE_SIZE, v[i].npages - first, &ctx);
		if (i % 100 == 0)
			cr_assert_eq(valloc_check(&ctx), 0);
	}
	struct valloc_stats st = vstats(&ctx);
	cr_assert_eq(st.nranges_free, 1);
	cr_assert_eq(st.npages_free, span);
	cr_assert_eq(st.largest_free, span);
	cr_assert_eq(valloc(span, &ctx), SMALL_BASE);
	valloc_pool_destroy(&ctx.ranges);
}

/*
 * Reference model: one byte per page (1 = allocated). valloc must return
 * exactly the lowest run of free pages the model finds, valloc_reserve
 * must fail exactly when the model has a taken page, and the pool's
 * counters must match the model's free pages and maximal free runs.
 */
#define MODEL_PAGES 3000

struct model {
	uint8_t used[MODEL_PAGES];
};

static size_t model_first_fit(const struct model *m, size_t npages)
{
	size_t run = 0;

	for (size_t p = 0; p < MODEL_PAGES; p++) {
		run = m->used[p] ? 0 : run + 1;
		if (run == npages)
			return p + 1 - npages;
	}
	return SIZE_MAX;
}

static void model_check(const struct model *m, const struct vm_ctx *ctx)
{
	size_t free = 0, runs = 0, longest = 0, run = 0;

	for (size_t p = 0; p < MODEL_PAGES; p++) {
		if (m->used[p]) {
			run = 0;
			continue;
		}
		free++;
		if (run++ == 0)
			runs++;
		longest = MAX(longest, run);
	}
	struct valloc_stats st = vstats(ctx);
	cr_assert_eq(st.npages_free, free);
	cr_assert_eq(st.nranges_free, runs);
	cr_assert_eq(st.largest_free, longest);
	cr_assert_eq(valloc_check(ctx), 0);
}

Test(valloc, random_operations_never_overlap_and_match_a_reference_model)
{
	setup();
	struct vm_ctx ctx = small_pool(MODEL_PAGES);
	static struct model m;
	size_t allocs = 0, reserves = 0, frees = 0, fails = 0;

	memset(&m, 0, sizeof(m));
	mm_test_seed(0x1234567887654321ull);
	for (int op = 0; op < 30000; op++) {
		unsigned kind = (unsigned)mm_test_random_below(10);
		size_t npages = 1 + (mm_test_random_below(4) ? mm_test_random_below(8)
							     : mm_test_random_below(200));

		if (kind < 4) {
			vaddr_t va = valloc(npages, &ctx);
			size_t want = model_first_fit(&m, npages);
			if (want == SIZE_MAX) {
				cr_assert_eq(va, 0, "op %d: valloc(%zu) = %#lx, model full", op,
					     npages, va);
				fails++;
				continue;
			}
			cr_assert_eq(va, SMALL_BASE + want * PAGE_SIZE, "op %d: valloc(%zu)", op,
				     npages);
			memset(&m.used[want], 1, npages);
			allocs++;
		} else if (kind < 6) {
			size_t p = mm_test_random_below(MODEL_PAGES);
			int err = valloc_reserve(&ctx, SMALL_BASE + p * PAGE_SIZE, npages);
			if (p + npages > MODEL_PAGES) {
				cr_assert_eq(err, -EINVAL);
				continue;
			}
			int taken = memchr(&m.used[p], 1, npages) != NULL;
			cr_assert_eq(err, taken ? -EEXIST : 0, "op %d: reserve %zu+%zu: %d", op, p,
				     npages, err);
			if (!taken) {
				memset(&m.used[p], 1, npages);
				reserves++;
			}
		} else {
			/* Free a random run of allocated pages (any part of any range). */
			size_t p = mm_test_random_below(MODEL_PAGES), n = 0;
			while (p < MODEL_PAGES && !m.used[p])
				p++;
			while (p + n < MODEL_PAGES && m.used[p + n] && n < npages)
				n++;
			if (!n)
				continue;
			vfree(SMALL_BASE + p * PAGE_SIZE, n, &ctx);
			memset(&m.used[p], 0, n);
			frees++;
		}
		if (op % 500 == 0)
			model_check(&m, &ctx);
	}
	model_check(&m, &ctx);
	cr_assert_gt(allocs, 1000);
	cr_assert_gt(reserves, 100);
	cr_assert_gt(frees, 1000);
	cr_assert_gt(fails, 10);
	cr_assert_gt(vstats(&ctx).nnode_pages, 0);
	valloc_pool_destroy(&ctx.ranges);
}

Test(valloc, reserve_takes_exactly_the_pages_asked_for)
{
	setup();
	struct vm_ctx ctx = small_pool(100);
	vaddr_t at = SMALL_BASE + 40 * PAGE_SIZE;

	cr_assert_eq(valloc_reserve(&ctx, at, 10), 0); /* in the middle: splits */
	cr_assert_eq(vstats(&ctx).nranges_free, 2);
	cr_assert_eq(valloc_reserve(&ctx, at + 9 * PAGE_SIZE, 1), -EEXIST);
	cr_assert_eq(valloc_reserve(&ctx, at - PAGE_SIZE, 2), -EEXIST);
	cr_assert_eq(valloc_reserve(&ctx, at + 10 * PAGE_SIZE, 1), 0);
	cr_assert_eq(valloc_reserve(&ctx, SMALL_BASE, 40), 0);
	cr_assert_eq(valloc(50, &ctx), 0);
	cr_assert_eq(valloc(49, &ctx), SMALL_BASE + 51 * PAGE_SIZE);
	cr_assert_eq(vstats(&ctx).npages_free, 0);
	cr_assert_eq(valloc_reserve(&ctx, SMALL_BASE + 1, 1), -EINVAL);
	cr_assert_eq(valloc_reserve(&ctx, SMALL_BASE, 0), -EINVAL);
	cr_assert_eq(valloc_reserve(&ctx, SMALL_BASE - PAGE_SIZE, 2), -EINVAL);
	cr_assert_eq(valloc_reserve(&ctx, SMALL_BASE + 99 * PAGE_SIZE, 2), -EINVAL);
	cr_assert_eq(valloc_reserve(&ctx, SMALL_BASE, SIZE_MAX), -EINVAL);
	vfree(SMALL_BASE, 100, &ctx);
	cr_assert_eq(vstats(&ctx).nranges_free, 1);
	cr_assert_eq(valloc_check(&ctx), 0);
	valloc_pool_destroy(&ctx.ranges);
}

Test(valloc, vfree_twice_panics, .signal = SIGABRT)
{
	setup();
	struct vm_ctx ctx = small_pool(100);
	vaddr_t va = valloc(4, &ctx);

	valloc(4, &ctx);
	vfree(va, 4, &ctx);
	vfree(va, 4, &ctx);
}

Test(valloc, vfree_of_a_partly_free_range_panics, .signal = SIGABRT)
{
	setup();
	struct vm_ctx ctx = small_pool(100);
	vaddr_t va = valloc(4, &ctx);

	valloc(4, &ctx);
	vfree(va + 2 * PAGE_SIZE, 2, &ctx);
	vfree(va, 3, &ctx);
}

Test(valloc, vfree_reaching_into_a_free_range_above_panics, .signal = SIGABRT)
{
	setup();
	struct vm_ctx ctx = small_pool(100);
	vaddr_t va = valloc(4, &ctx);

	vfree(va, 5, &ctx);
}

Test(valloc, vfree_outside_the_pool_panics, .signal = SIGABRT)
{
	setup();
	struct vm_ctx ctx = small_pool(100);

	valloc(100, &ctx);
	vfree(SMALL_BASE - PAGE_SIZE, 1, &ctx);
}

Test(valloc, vfree_of_a_misaligned_address_panics, .signal = SIGABRT)
{
	setup();
	struct vm_ctx ctx = small_pool(100);
	vaddr_t va = valloc(4, &ctx);

	vfree(va + 8, 1, &ctx);
}

Test(valloc, vfree_without_memory_for_a_node_leaves_the_range_reserved)
{
	setup();
	struct vm_ctx ctx = small_pool(400);

	cr_assert_eq(valloc(400, &ctx), SMALL_BASE); /* the one node goes spare: 84 spare */
	for (size_t i = 0; i < 2 * 84; i += 2)
		vfree(SMALL_BASE + i * PAGE_SIZE, 1, &ctx); /* 84 ranges: no spare left */
	cr_assert_eq(vstats(&ctx).nnode_pages, 1);
	while (palloc(1))
		;
	vfree(SMALL_BASE + 300 * PAGE_SIZE, 2, &ctx);
	struct valloc_stats st = vstats(&ctx);
	cr_assert_eq(st.npages_lost, 2);
	cr_assert_eq(st.nranges_free, 84);
	cr_assert_eq(st.npages_free, 84);
	cr_assert_eq(valloc_check(&ctx), 0);
	/* A free that merges needs no node and still works. */
	vfree(SMALL_BASE + PAGE_SIZE, 1, &ctx);
	cr_assert_eq(vstats(&ctx).nranges_free, 83);
	cr_assert_eq(valloc_check(&ctx), 0);
}

Test(valloc, pool_node_pages_grow_with_fragments_and_die_with_the_context)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kernel_ctx), 0);
	size_t before = free_pages();

	cr_assert_eq(vm_ctx_init_user(&uctx, &kernel_ctx), 0);
	/* Every other page: 1000 free ranges and the rest of the pool above. */
	vaddr_t base = valloc(2000, &uctx);
	for (size_t i = 0; i < 2000; i += 2)
		vfree(base + i * PAGE_SIZE, 1, &uctx);
	struct valloc_stats st = vstats(&uctx);
	cr_assert_eq(st.nranges_free, 1001);
	cr_assert_eq(st.nnode_pages, (1001 + 83) / 84);
	cr_assert_eq(valloc_check(&uctx), 0);
	vm_ctx_destroy_user(&uctx, 1);
	cr_assert_eq(free_pages(), before);
}

/* ------------------------------------------------------------ pvalloc */

/* Checks the npages at va: mapped with exactly flags, distinct zeroed frames. */
static void assert_backed(const struct vm_ctx *ctx, vaddr_t va, size_t npages, unsigned flags)
{
	paddr_t *seen = calloc(npages, sizeof(*seen));

	for (size_t i = 0; i < npages; i++) {
		paddr_t pa;
		unsigned got;
		cr_assert_eq(vm_lookup(ctx, va + i * PAGE_SIZE, &pa, &got), 0, "page %zu", i);
		cr_assert_eq(got, flags, "page %zu: flags %#x, want %#x", i, got, flags);
		cr_assert(pa >= MM_TEST_RAM_BASE && pa < MM_TEST_RAM_END);
		for (size_t j = 0; j < i; j++)
			cr_assert_neq(seen[j], pa, "pages %zu and %zu share %#lx", j, i, pa);
		seen[i] = pa;
		const uint8_t *bytes = phys_to_virt(pa);
		for (size_t b = 0; b < PAGE_SIZE; b++)
			cr_assert_eq(bytes[b], 0, "page %zu byte %zu not zeroed", i, b);
	}
	free(seen);
}

/* Dirties every free page so that zeroing is visible. */
static void dirty_free_memory(void)
{
	paddr_t p;
	paddr_t *v = malloc(sizeof(*v) * (MM_TEST_RAM_BYTES / PAGE_SIZE));
	size_t n = 0;

	while ((p = palloc(1)) != 0) {
		memset(phys_to_virt(p), 0xa5, PAGE_SIZE);
		v[n++] = p;
	}
	while (n)
		pfree(v[--n], 1);
	free(v);
}

Test(valloc, pvalloc_maps_every_page_zeroed_with_the_flags)
{
	setup_user();
	dirty_free_memory();
	vaddr_t u = pvalloc(40, &uctx, VM_USER | VM_WRITE);
	vaddr_t k = pvalloc(3, &kernel_ctx, VM_WRITE | VM_EXEC | VM_GLOBAL);

	cr_assert_eq(u, 0x10000);
	cr_assert_eq(k, VM_KERNEL_RANGES_BASE);
	assert_backed(&uctx, u, 40, VM_USER | VM_WRITE);
	assert_backed(&kernel_ctx, k, 3, VM_WRITE | VM_EXEC | VM_GLOBAL);
	cr_assert_eq(vm_lookup(&uctx, u + 40 * PAGE_SIZE, NULL, NULL), -ENOENT);
	cr_assert_eq(pvalloc(0, &uctx, VM_USER), 0);
}

Test(valloc, pvalloc_cache_modes_show_in_the_mappings)
{
	setup();
	vaddr_t uc = pvalloc(2, &kernel_ctx, VM_WRITE | VM_UNCACHED);
	vaddr_t wc = pvalloc(2, &kernel_ctx, VM_WRITE | VM_WRITE_COMBINING);

	assert_backed(&kernel_ctx, uc, 2, VM_WRITE | VM_UNCACHED);
	assert_backed(&kernel_ctx, wc, 2, VM_WRITE | VM_WRITE_COMBINING);
}

Test(valloc, pvfree_returns_every_page_table_and_range)
{
	setup_user();
	size_t before = free_pages();
	struct valloc_stats kbefore = vstats(&kernel_ctx), ubefore = vstats(&uctx);

	vaddr_t k = pvalloc(700, &kernel_ctx, VM_WRITE); /* spans two page tables */
	vaddr_t u = pvalloc(5, &uctx, VM_USER);
	cr_assert_neq(k, 0);
	cr_assert_neq(u, 0);
	cr_assert_lt(free_pages(), before - 705);
	pvfree(k, 300, &kernel_ctx); /* a part first */
	pvfree(k + 300 * PAGE_SIZE, 400, &kernel_ctx);
	pvfree(u, 5, &uctx);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(vstats(&kernel_ctx).npages_free, kbefore.npages_free);
	cr_assert_eq(vstats(&kernel_ctx).nranges_free, 1);
	cr_assert_eq(vstats(&uctx).npages_free, ubefore.npages_free);
	cr_assert_eq(vm_lookup(&kernel_ctx, k, NULL, NULL), -ENOENT);
	cr_assert_eq(palloc_check(), 0);
}

Test(valloc, pvalloc_out_of_memory_undoes_everything)
{
	setup();
	struct valloc_stats vbefore = vstats(&kernel_ctx);

	/* Leave 20 pages free: not enough for 30 pages and their tables. */
	size_t spare = free_pages() - 20;
	paddr_t big = palloc(spare);
	cr_assert_neq(big, 0);
	size_t before = free_pages();
	cr_assert_eq(before, 20);

	cr_assert_eq(pvalloc(30, &kernel_ctx, VM_WRITE), 0);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(vstats(&kernel_ctx).npages_free, vbefore.npages_free);
	cr_assert_eq(vstats(&kernel_ctx).nranges_free, 1);
	cr_assert_eq(vm_lookup(&kernel_ctx, VM_KERNEL_RANGES_BASE, NULL, NULL), -ENOENT);
	/* And a size that fits still works afterwards. */
	vaddr_t va = pvalloc(10, &kernel_ctx, VM_WRITE);
	cr_assert_neq(va, 0);
	pvfree(va, 10, &kernel_ctx);
	cr_assert_eq(free_pages(), before);
	pfree(big, spare);
}

Test(valloc, pvalloc_user_pages_in_the_kernel_context_panics, .signal = SIGABRT)
{
	setup();
	pvalloc(1, &kernel_ctx, VM_USER | VM_WRITE);
}

Test(valloc, pvalloc_with_two_cache_modes_panics, .signal = SIGABRT)
{
	setup();
	pvalloc(1, &kernel_ctx, VM_UNCACHED | VM_WRITE_COMBINING);
}

Test(valloc, pvalloc_with_an_unknown_flag_panics, .signal = SIGABRT)
{
	setup();
	pvalloc(1, &kernel_ctx, VM_LARGE);
}

Test(valloc, pvfree_of_an_unmapped_page_panics, .signal = SIGABRT)
{
	setup();
	vaddr_t va = pvalloc(2, &kernel_ctx, VM_WRITE);

	pvfree(va, 3, &kernel_ctx);
}

Test(valloc, pvalloc_over_a_page_mapped_behind_the_pools_back_panics, .signal = SIGABRT)
{
	setup();
	vm_map(&kernel_ctx, VM_KERNEL_RANGES_BASE + PAGE_SIZE, MM_TEST_RAM_BASE, VM_WRITE);
	pvalloc(2, &kernel_ctx, VM_WRITE);
}

/* ------------------------------------------------------------ MMIO */

Test(valloc, map_mmio_keeps_the_offset_and_maps_uncached)
{
	setup();
	size_t before = free_pages();
	void *p = map_mmio(0xfee00020, 0x10, VM_UNCACHED);
	paddr_t pa;
	unsigned flags;

	cr_assert_not_null(p);
	cr_assert_eq((uintptr_t)p & (PAGE_SIZE - 1), 0x20);
	cr_assert_geq((vaddr_t)(uintptr_t)p, VM_KERNEL_RANGES_BASE);
	cr_assert_eq(vm_lookup(&kernel_ctx, (vaddr_t)(uintptr_t)p, &pa, &flags), 0);
	cr_assert_eq(pa, 0xfee00020);
	cr_assert_eq(flags, VM_WRITE | VM_UNCACHED);
	unmap_mmio(p, 0x10);
	cr_assert_eq(vm_lookup(&kernel_ctx, (vaddr_t)(uintptr_t)p, NULL, NULL), -ENOENT);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(vstats(&kernel_ctx).nranges_free, 1);
}

Test(valloc, map_mmio_covers_every_page_the_range_touches_write_combining)
{
	setup();
	paddr_t fb = 0x80000ff0; /* 32 bytes across a page boundary, then 8 MiB */
	char *p = map_mmio(fb, 32, VM_WRITE_COMBINING);
	paddr_t pa;
	unsigned flags;

	cr_assert_not_null(p);
	cr_assert_eq(vm_lookup(&kernel_ctx, (vaddr_t)(uintptr_t)(p + 31), &pa, &flags), 0);
	cr_assert_eq(pa, fb + 31);
	cr_assert_eq(flags, VM_WRITE | VM_WRITE_COMBINING);
	cr_assert_eq(vm_lookup(&kernel_ctx, (vaddr_t)(uintptr_t)(p + 32 + PAGE_SIZE), NULL, NULL),
		     -ENOENT);
	unmap_mmio(p, 32);

	char *big = map_mmio(0xc0000000, 8u << 20, VM_WRITE_COMBINING);
	cr_assert_not_null(big);
	cr_assert_eq(vm_lookup(&kernel_ctx, (vaddr_t)(uintptr_t)(big + (8u << 20) - 1), &pa, NULL),
		     0);
	cr_assert_eq(pa, 0xc0000000 + (8u << 20) - 1);
	unmap_mmio(big, 8u << 20);
	cr_assert_eq(vstats(&kernel_ctx).nranges_free, 1);
}

Test(valloc, map_mmio_of_physical_page_zero_maps_page_zero)
{
	setup();
	void *p = map_mmio(0x400, 0x100, 0);
	paddr_t pa;
	unsigned flags;

	cr_assert_not_null(p);
	cr_assert_eq(vm_lookup(&kernel_ctx, (vaddr_t)(uintptr_t)p, &pa, &flags), 0);
	cr_assert_eq(pa, 0x400);
	cr_assert_eq(flags, VM_WRITE);
	unmap_mmio(p, 0x100);
}

Test(valloc, map_mmio_of_nothing_or_beyond_physical_addresses_returns_null)
{
	setup();
	cr_assert_null(map_mmio(0xfee00000, 0, VM_UNCACHED));
	cr_assert_null(map_mmio(1ull << 52, PAGE_SIZE, VM_UNCACHED));
	cr_assert_null(map_mmio((1ull << 52) - PAGE_SIZE, 2 * PAGE_SIZE, VM_UNCACHED));
	cr_assert_eq(vstats(&kernel_ctx).nranges_free, 1);
}

Test(valloc, map_mmio_with_a_bad_cache_mode_panics, .signal = SIGABRT)
{
	setup();
	map_mmio(0xfee00000, PAGE_SIZE, VM_EXEC);
}

Test(valloc, unmap_mmio_of_an_unmapped_range_panics, .signal = SIGABRT)
{
	setup();
	unmap_mmio((void *)(uintptr_t)VM_KERNEL_RANGES_BASE, PAGE_SIZE);
}

/* ------------------------------------------------------------ kernel stacks */

Test(valloc, kstack_has_an_unmapped_guard_page_below_it)
{
	setup();
	size_t before = free_pages();
	struct kstack ks, ks2;
	unsigned flags;

	cr_assert_eq(kstack_alloc(4, &ks), 0);
	cr_assert_eq(kstack_alloc(2, &ks2), 0);
	cr_assert_eq(ks.bottom, ks.guard + PAGE_SIZE);
	cr_assert_eq(ks.top, ks.bottom + 4 * PAGE_SIZE);
	cr_assert_eq(vm_lookup(&kernel_ctx, ks.guard, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_lookup(&kernel_ctx, ks.guard + PAGE_SIZE - 1, NULL, NULL), -ENOENT);
	assert_backed(&kernel_ctx, ks.bottom, 4, VM_WRITE);
	cr_assert_eq(vm_lookup(&kernel_ctx, ks.top - 1, NULL, &flags), 0);
	cr_assert_eq(flags & VM_EXEC, 0);
	/* The next stack's guard sits between the two. */
	cr_assert_eq(ks2.guard, ks.top);
	cr_assert_eq(vm_lookup(&kernel_ctx, ks2.guard, NULL, NULL), -ENOENT);
	kstack_free(&ks);
	kstack_free(&ks2);
	cr_assert_eq(ks.top, 0);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(vstats(&kernel_ctx).nranges_free, 1);
}

Test(valloc, kstack_of_zero_pages_is_refused)
{
	setup();
	struct kstack ks;

	cr_assert_eq(kstack_alloc(0, &ks), -EINVAL);
}

Test(valloc, kstack_free_with_a_mapped_guard_panics, .signal = SIGABRT)
{
	setup();
	struct kstack ks;

	cr_assert_eq(kstack_alloc(2, &ks), 0);
	vm_map(&kernel_ctx, ks.guard, MM_TEST_RAM_BASE, VM_WRITE);
	kstack_free(&ks);
}
