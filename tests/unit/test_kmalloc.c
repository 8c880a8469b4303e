/*
 * Host tests of mm/kmalloc.c over palloc and the fake physical memory of
 * mm_arena.h. Built once plain and once with -DKMALLOC_CHECK=1 (the
 * canary tests at the end only exist in the second build).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/klib.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm_arena.h"

static size_t palloc_free(void)
{
	struct palloc_stats st;
	palloc_get_stats(&st);
	return st.free_pages;
}

struct block {
	uint8_t *p;
	size_t size;
};

static int by_address(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	return x->p < y->p ? -1 : x->p > y->p;
}

/* Fails the test if any two of the n blocks overlap. Sorts v. */
static void assert_disjoint(struct block *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_address);
	for (size_t i = 1; i < n; i++)
		cr_assert_leq(v[i - 1].p + v[i - 1].size, v[i].p, "blocks %p+%zu and %p overlap",
			      v[i - 1].p, v[i - 1].size, v[i].p);
}

/* Inside the arena's managed RAM, i.e. from the direct map. */
static void assert_in_ram(const void *p, size_t size)
{
	paddr_t pa = virt_to_phys_direct(p);
	cr_assert(pa >= MM_TEST_RAM_BASE && pa + size <= MM_TEST_RAM_END, "%p outside RAM", p);
}

static uint8_t pattern(size_t id, size_t i)
{
	return (uint8_t)(id * 131 + i * 7 + 1);
}

static void fill(const struct block *b, size_t id)
{
	for (size_t i = 0; i < b->size; i++)
		b->p[i] = pattern(id, i);
}

static void assert_filled(const struct block *b, size_t id)
{
	for (size_t i = 0; i < b->size; i++)
		cr_assert_eq(b->p[i], pattern(id, i), "block %p+%zu byte %zu overwritten", b->p,
			     b->size, i);
}

Test(kmalloc, every_size_up_to_8192_is_aligned_writable_and_disjoint)
{
	mm_test_setup();
	size_t before = palloc_free();
	static struct block v[8192], sorted[8192];

	for (size_t size = 1; size <= 8192; size++) {
		struct block *b = &v[size - 1];
		b->size = size;
		b->p = kmalloc(size);
		cr_assert_not_null(b->p, "kmalloc(%zu)", size);
		cr_assert_eq((uintptr_t)b->p % 16, 0, "kmalloc(%zu) = %p", size, b->p);
		assert_in_ram(b->p, size);
		fill(b, size);
	}
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 8192);
	memcpy(sorted, v, sizeof(v));
	assert_disjoint(sorted, 8192);
	for (size_t size = 1; size <= 8192; size++)
		assert_filled(&v[size - 1], size);
	for (size_t size = 1; size <= 8192; size += 2)
		kfree(v[size - 1].p);
	for (size_t size = 2; size <= 8192; size += 2)
		kfree(v[size - 1].p);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
	cr_assert_eq(kmalloc_check(), 0);
	kmalloc_trim();
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 0);
	cr_assert_eq(palloc_free(), before);
}

Test(kmalloc, kmalloc_a_is_page_aligned)
{
	mm_test_setup();
	const size_t sizes[] = {1, 16, 100, 4095, 4096, 4097, 10000, 65536};
	void *p[ARRAY_SIZE(sizes)];

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = kmalloc_a(sizes[i]);
		cr_assert_not_null(p[i]);
		cr_assert_eq((uintptr_t)p[i] % PAGE_SIZE, 0, "kmalloc_a(%zu) = %p", sizes[i], p[i]);
		assert_in_ram(p[i], sizes[i]);
		memset(p[i], 0x5a, sizes[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		kfree(p[i]);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
}

Test(kmalloc, zmalloc_returns_zeroed_memory)
{
	mm_test_setup();
	/* Dirty blocks of each kind, free them, and get the same memory back zeroed. */
	for (int round = 0; round < 2; round++) {
		const size_t sizes[] = {24, 500, 2000, 3000, 20000};
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			uint8_t *p = round ? zmalloc_a(sizes[i]) : zmalloc(sizes[i]);
			cr_assert_not_null(p);
			for (size_t j = 0; j < sizes[i]; j++)
				cr_assert_eq(p[j], 0, "zmalloc%s(%zu)[%zu] = %#x",
					     round ? "_a" : "", sizes[i], j, p[j]);
			memset(p, 0xff, sizes[i]);
			kfree(p);
		}
	}
}

Test(kmalloc, kfree_null_does_nothing)
{
	mm_test_setup();
	kfree(NULL);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
}

Test(kmalloc, size_zero_returns_null)
{
	mm_test_setup();
	cr_assert_null(kmalloc(0));
	cr_assert_null(zmalloc(0));
	cr_assert_null(kmalloc_a(0));
	cr_assert_null(zmalloc_a(0));
	cr_assert_null(kmalloc(SIZE_MAX));
	cr_assert_null(kmalloc(SIZE_MAX / 2 + 1));
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 0);
}

Test(kmalloc, one_empty_slab_per_class_stays_cached)
{
	mm_test_setup();
	size_t before = palloc_free();

	for (int i = 0; i < 1000; i++)
		kfree(kmalloc(40));
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 1);
	cr_assert_eq(palloc_free(), before - 1);
	kmalloc_trim();
	cr_assert_eq(palloc_free(), before);
}

Test(kmalloc, stats_count_live_blocks_per_class)
{
	mm_test_setup();
	void *a = kmalloc(10), *b = kmalloc(16), *c = kmalloc(17), *d = kmalloc(5000);
	struct kmalloc_stats st = mm_test_kmalloc_stats();
	size_t live = 0, slabs = 0;

	cr_assert_eq(st.live_allocations, 4);
	cr_assert_eq(st.large_allocations, 1);
	cr_assert_geq(st.large_pages, 2);
	for (size_t k = 0; k < KMALLOC_NCLASSES; k++) {
		const struct kmalloc_class_stats *cs = &st.classes[k];
		live += cs->live;
		slabs += cs->slabs;
		cr_assert_eq(cs->live + cs->free, cs->slabs * ((PAGE_SIZE - 64) / cs->size));
	}
	cr_assert_eq(live, 3);
	cr_assert_eq(st.pages_held, slabs + st.large_pages + 1 /* the large-block table */);
	cr_assert_geq(st.bytes_in_use, 10 + 16 + 17 + 5000);
	kmalloc_dump();
	kfree(a);
	kfree(b);
	kfree(c);
	kfree(d);
	st = mm_test_kmalloc_stats();
	cr_assert_eq(st.live_allocations, 0);
	cr_assert_eq(st.bytes_in_use, 0);
}

Test(kmalloc, exhaustion_returns_null_and_recovers)
{
	mm_test_setup();
	size_t before = palloc_free();
	size_t cap = 1 << 20, n = 0;
	void **v = malloc(cap * sizeof(*v));
	void *p;

	while ((p = kmalloc(1 << 20)) != NULL)
		v[n++] = p;
	while ((p = kmalloc(3000)) != NULL)
		v[n++] = p;
	while ((p = kmalloc(100)) != NULL && n < cap)
		v[n++] = p;
	cr_assert_null(kmalloc(16));
	cr_assert_null(kmalloc_a(1));
	cr_assert_eq(palloc_free(), 0);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, n);
	while (n)
		kfree(v[--n]);
	kmalloc_trim();
	cr_assert_eq(palloc_free(), before);
	cr_assert_eq(palloc_check(), 0);
	free(v);
}

Test(kmalloc, storm_gives_every_page_back)
{
	mm_test_setup();
	size_t before = palloc_free();
	static struct block v[5000];
	size_t n = 0;

	mm_test_seed(777);
	for (int op = 0; op < 100000; op++) {
		if (n < ARRAY_SIZE(v) && (n == 0 || mm_test_random_below(2))) {
			size_t size =
			    1 + mm_test_random_below(mm_test_random_below(8) ? 512 : 12000);
			v[n].p = mm_test_random_below(20) ? kmalloc(size) : kmalloc_a(size);
			v[n].size = size;
			cr_assert_not_null(v[n].p);
			n++;
		} else {
			size_t k = mm_test_random_below(n);
			kfree(v[k].p);
			v[k] = v[--n];
		}
	}
	while (n)
		kfree(v[--n].p);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
	kmalloc_trim();
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 0);
	cr_assert_eq(palloc_free(), before);
	cr_assert_eq(palloc_check(), 0);
}

Test(kmalloc, random_operations_match_a_reference_model)
{
	mm_test_setup();
	const size_t before = palloc_free();
	enum { MAX_LIVE = 3000, OPS = 50000 };
	static struct block live[MAX_LIVE], sorted[MAX_LIVE];
	static size_t id[MAX_LIVE];
	size_t n = 0, next_id = 1, bytes = 0;

	mm_test_seed(0xfeedface);
	for (int op = 0; op < OPS; op++) {
		if (n < MAX_LIVE && (n == 0 || mm_test_random_below(100) < 52)) {
			size_t r = mm_test_random_below(100), size;
			size = r < 70	? 1 + mm_test_random_below(128)
			       : r < 95 ? 1 + mm_test_random_below(2100)
					: 1 + mm_test_random_below(40000);
			bool aligned = mm_test_random_below(100) < 3;
			bool zero = mm_test_random_below(100) < 10;
			uint8_t *p = aligned ? (zero ? zmalloc_a(size) : kmalloc_a(size))
					     : (zero ? zmalloc(size) : kmalloc(size));
			cr_assert_not_null(p, "op %d: size %zu", op, size);
			cr_assert_eq((uintptr_t)p % (aligned ? PAGE_SIZE : 16), 0);
			assert_in_ram(p, size);
			if (zero)
				for (size_t i = 0; i < size; i++)
					cr_assert_eq(p[i], 0);
			live[n] = (struct block){p, size};
			id[n] = next_id++;
			fill(&live[n], id[n]);
			bytes += size;
			n++;
		} else {
			size_t k = mm_test_random_below(n);
			assert_filled(&live[k], id[k]);
			kfree(live[k].p);
			bytes -= live[k].size;
			n--;
			live[k] = live[n];
			id[k] = id[n];
		}
		struct kmalloc_stats st = mm_test_kmalloc_stats();
		cr_assert_eq(st.live_allocations, n, "op %d", op);
		cr_assert_geq(st.bytes_in_use, bytes);
		cr_assert_eq(palloc_free() + st.pages_held, before, "op %d: pages leaked", op);
		if (op % 500 == 0) {
			memcpy(sorted, live, n * sizeof(live[0]));
			assert_disjoint(sorted, n);
			cr_assert_eq(kmalloc_check(), 0);
			cr_assert_eq(palloc_check(), 0);
		}
	}
	for (size_t k = 0; k < n; k++) {
		assert_filled(&live[k], id[k]);
		kfree(live[k].p);
	}
	kmalloc_trim();
	cr_assert_eq(palloc_free(), before);
}

Test(kmalloc, freeing_twice_panics, .signal = SIGABRT)
{
	mm_test_setup();
	void *keep = kmalloc(32); /* keeps the slab alive */
	void *p = kmalloc(32);
	(void)keep;
	kfree(p);
	kfree(p);
}

Test(kmalloc, freeing_a_large_block_twice_panics, .signal = SIGABRT)
{
	mm_test_setup();
	void *p = kmalloc(10000);
	kfree(p);
	kfree(p);
}

Test(kmalloc, freeing_a_pointer_inside_a_block_panics, .signal = SIGABRT)
{
	mm_test_setup();
	uint8_t *p = kmalloc(64);
	kfree(p + 16);
}

Test(kmalloc, freeing_a_page_kmalloc_never_returned_panics, .signal = SIGABRT)
{
	mm_test_setup();
	kfree(kmalloc(10000));
	kfree(phys_to_virt(palloc(1)));
}

Test(kmalloc, freeing_memory_outside_any_slab_panics, .signal = SIGABRT)
{
	mm_test_setup();
	uint8_t *page = phys_to_virt(palloc(1));
	memset(page, 0, PAGE_SIZE);
	kfree(page + 80);
}

Test(kmalloc, check_finds_nothing_wrong_in_a_healthy_heap)
{
	mm_test_setup();
	void *a = kmalloc(1), *b = kmalloc(1000), *c = kmalloc_a(5000);
	memset(a, 1, 1);
	memset(b, 2, 1000);
	memset(c, 3, 5000);
	cr_assert_eq(kmalloc_check(), 0);
	kfree(a);
	kfree(b);
	kfree(c);
}

#if defined(KMALLOC_CHECK) && KMALLOC_CHECK

static void overflow_by_one(uint8_t *p, size_t size)
{
	p[size] = 0; /* the classic off-by-one NUL */
}

static void underflow_by_one(uint8_t *p)
{
	p[-1] = 0x42;
}

Test(kmalloc_check, one_byte_overflow_is_caught_by_kfree, .signal = SIGABRT)
{
	mm_test_setup();
	uint8_t *p = kmalloc(24);
	overflow_by_one(p, 24);
	kfree(p);
}

Test(kmalloc_check, one_byte_underflow_is_caught_by_kfree, .signal = SIGABRT)
{
	mm_test_setup();
	uint8_t *p = kmalloc(24);
	underflow_by_one(p);
	kfree(p);
}

Test(kmalloc_check, one_byte_overflow_of_a_large_block_is_caught_by_kfree, .signal = SIGABRT)
{
	mm_test_setup();
	uint8_t *p = kmalloc(5000);
	overflow_by_one(p, 5000);
	kfree(p);
}

Test(kmalloc_check, one_byte_underflow_of_a_page_aligned_block_is_caught_by_kfree,
     .signal = SIGABRT)
{
	mm_test_setup();
	uint8_t *p = kmalloc_a(100);
	underflow_by_one(p);
	kfree(p);
}

Test(kmalloc_check, kmalloc_check_counts_each_damaged_block)
{
	mm_test_setup();
	const size_t sizes[] = {1, 24, 100, 1976, 1977, 4096, 5000};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (int under = 0; under < 2; under++) {
			for (int aligned = 0; aligned < 2; aligned++) {
				void *others[4];
				for (int j = 0; j < 4; j++)
					others[j] = kmalloc(sizes[i]);
				uint8_t *p = aligned ? kmalloc_a(sizes[i]) : kmalloc(sizes[i]);
				memset(p, 0x11, sizes[i]);
				cr_assert_eq(kmalloc_check(), 0);
				uint8_t saved = under ? p[-1] : p[sizes[i]];
				if (under)
					underflow_by_one(p);
				else
					overflow_by_one(p, sizes[i]);
				cr_assert_eq(kmalloc_check(), 1, "size %zu %s%s", sizes[i],
					     under ? "underflow" : "overflow",
					     aligned ? " (kmalloc_a)" : "");
				/* Repair it so kfree passes. */
				if (under)
					p[-1] = saved;
				else
					p[sizes[i]] = saved;
				cr_assert_eq(kmalloc_check(), 0);
				kfree(p);
				for (int j = 0; j < 4; j++)
					kfree(others[j]);
			}
		}
	}
}

Test(kmalloc_check, freed_blocks_are_poisoned)
{
	mm_test_setup();
	void *keep = kmalloc(48);
	uint8_t *p = kmalloc(48);
	(void)keep;
	kfree(p);
	for (size_t i = 0; i < 48; i++)
		cr_assert_eq(p[i], 0x6b);
}

#else

Test(kmalloc, check_returns_zero_without_kmalloc_check)
{
	mm_test_setup();
	uint8_t *p = kmalloc(24);
	p[24] = 0; /* lands in the next block: harmless here, and not detectable */
	cr_assert_eq(kmalloc_check(), 0);
	kfree(p);
}

#endif
