/*
 * Host tests of mm/kmalloc.c over palloc and the fake physical memory of
 * mm_arena.h. Built once plain and once with -DKMALLOC_CHECK=1 (the
 * canary tests at the end only exist in the second build).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/klib.h"
#include "kernel/spinlock.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "kernel_shim.h"
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

Test(kmalloc, an_empty_slab_stays_cached_until_trim)
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

/* A burst of large blocks grows the table; once they are gone, trim
 * shrinks it back, so the heap holds what it held before the burst (the
 * kernel compares the free pages before and after the app). */
Test(kmalloc, trim_shrinks_a_table_that_a_burst_of_large_blocks_grew)
{
	mm_test_setup();
	void *kept[2] = {kmalloc(5000), kmalloc_a(1)};
	static void *burst[600];

	kmalloc_trim();
	const size_t before = palloc_free();
	const size_t table_before =
	    mm_test_kmalloc_stats().pages_held - mm_test_kmalloc_stats().large_pages;
	for (size_t i = 0; i < ARRAY_SIZE(burst); i++)
		cr_assert_not_null(burst[i] = kmalloc_a(1));
	cr_assert_gt(mm_test_kmalloc_stats().pages_held - mm_test_kmalloc_stats().large_pages,
		     table_before, "the burst grew the table");
	for (size_t i = 0; i < ARRAY_SIZE(burst); i++)
		kfree(burst[i]);
	kmalloc_trim();
	cr_assert_eq(palloc_free(), before);
	kfree(kept[0]);
	kfree(kept[1]);
	kmalloc_trim();
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 0);
	cr_assert_eq(palloc_check(), 0);
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

/* ------------------------------------------- the kernel lock's shared side
 * Host threads stand for CPUs in shared sections (the shim's shim_shared):
 * the heap's lock is a mutex, and pages come from palloc's fault caches
 * under a second mutex, as kernel/app.c's hooks do under the shared fault
 * lock (kernel_shim.h's shim_heap_side). */

enum { SECTION_THREADS = 4, SECTION_OPS = 20000, SECTION_HELD = 48, EXCHANGE = 64 };

/* A block's bytes follow from its address, so any thread can check a
 * block another thread filled. */
static void fill_by_address(uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size; i++)
		p[i] = pattern((uintptr_t)p >> 4, i);
}

static void assert_filled_by_address(const uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size; i++)
		cr_assert_eq(p[i], pattern((uintptr_t)p >> 4, i),
			     "block %p+%zu byte %zu overwritten", (const void *)p, size, i);
}

/* Blocks passed between threads: one thread's allocation is often
 * another's kfree. */
static struct block exchange[EXCHANGE];
static pthread_mutex_t exchange_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t section_start;

static struct block exchange_swap(size_t slot, struct block b)
{
	pthread_mutex_lock(&exchange_mutex);
	struct block old = exchange[slot];
	exchange[slot] = b;
	pthread_mutex_unlock(&exchange_mutex);
	return old;
}

static void free_checked(struct block b)
{
	if (!b.p)
		return;
	assert_filled_by_address(b.p, b.size);
	kfree(b.p);
}

static void *section_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
	struct block held[SECTION_HELD];
	size_t n = 0;

	spin_host_cpu = (unsigned)(uintptr_t)arg + 1;
	shim_shared = 1;
	pthread_barrier_wait(&section_start);
	for (int op = 0; op < SECTION_OPS; op++) {
		unsigned r = (unsigned)rand_r(&seed);
		if (n < SECTION_HELD && (n == 0 || r % 100 < 55)) {
			size_t size = 1 + (size_t)rand_r(&seed) % (r % 4	 ? 256
								   : r % 16 != 3 ? KMALLOC_SMALL_MAX
										 : 20000);
			uint8_t *p = r % 8 ? kmalloc(size) : zmalloc(size);
			cr_assert_not_null(p, "a section's kmalloc(%zu)", size);
			cr_assert_eq((uintptr_t)p % 16, 0);
			if (r % 8 == 0)
				for (size_t i = 0; i < size; i++)
					cr_assert_eq(p[i], 0, "zmalloc(%zu) byte %zu", size, i);
			fill_by_address(p, size);
			held[n++] = (struct block){p, size};
		} else {
			size_t k = (size_t)rand_r(&seed) % n;
			struct block b = held[k];
			held[k] = held[--n];
			if (r % 3 == 0)
				b = exchange_swap((size_t)rand_r(&seed) % EXCHANGE, b);
			free_checked(b);
		}
	}
	while (n)
		free_checked(held[--n]);
	return NULL;
}

Test(kmalloc, sections_on_four_threads_allocate_and_free_beside_each_other)
{
	mm_test_setup();
	const size_t before = palloc_free();
	struct block big[EXCHANGE / 4];

	/* Large blocks a holder made, for the sections to free. */
	for (size_t i = 0; i < ARRAY_SIZE(big); i++) {
		big[i].size = 3000 + i * 1000;
		big[i].p = kmalloc(big[i].size);
		cr_assert_not_null(big[i].p);
		fill_by_address(big[i].p, big[i].size);
		exchange[i * 4] = big[i];
	}
	kmalloc_set_shared_side(&shim_heap_side);
	pthread_barrier_init(&section_start, NULL, SECTION_THREADS);
	pthread_t t[SECTION_THREADS];
	for (uintptr_t i = 0; i < SECTION_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, section_thread, (void *)i), 0);
	for (int i = 0; i < SECTION_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&section_start);

	/* The holder again: what is left in the exchange, then every page. */
	for (size_t i = 0; i < EXCHANGE; i++)
		free_checked(exchange_swap(i, (struct block){0}));
	struct kmalloc_stats st = mm_test_kmalloc_stats();
	cr_assert_eq(st.live_allocations, 0);
	cr_assert_eq(st.large_pages, 0);
	cr_assert_eq(kmalloc_check(), 0);
	kmalloc_trim();
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 0);
	cr_assert_eq(palloc_free(), before, "pages lost between the sections");
	cr_assert_eq(palloc_check(), 0);
	kmalloc_set_shared_side(NULL);
}

Test(kmalloc, a_section_gets_null_when_no_page_is_free_or_the_table_is_full)
{
	mm_test_setup();
	const size_t before = palloc_free();

	kmalloc_set_shared_side(&shim_heap_side);
	shim_shared = 1;
	cr_assert_null(kmalloc(KMALLOC_SMALL_MAX + 1),
		       "the large-block table is a holder's to make");
	cr_assert_null(kmalloc_a(16));
	cr_assert_eq(palloc_free(), before, "and the pages went back");

	/* No slab of this class yet and no page: NULL, nothing changed. */
	shim_heap_pages_refused = 1;
	cr_assert_null(kmalloc(100));
	cr_assert_eq(mm_test_kmalloc_stats().pages_held, 0);
	shim_heap_pages_refused = 0;
	void *p = kmalloc(100);
	cr_assert_not_null(p);
	/* The slab it made serves the next one without a page. */
	shim_heap_pages_refused = 1;
	void *q = kmalloc(100);
	cr_assert_not_null(q);
	kfree(p);
	kfree(q);
	shim_heap_pages_refused = 0;

	/* A holder made the table: a section's large blocks fit while it has
	 * room, and one past its half is NULL until a holder grows it. */
	shim_shared = 0;
	void *first = kmalloc_a(1);
	cr_assert_not_null(first);
	shim_shared = 1;
	static void *v[PAGE_SIZE];
	size_t n = 0;
	while ((v[n] = kmalloc_a(PAGE_SIZE)) != NULL)
		n++;
	cr_assert_eq(n + 1, mm_test_kmalloc_stats().large_allocations);
	cr_assert_gt(n, 0);
	size_t free_now = palloc_free();
	cr_assert_null(kmalloc(3 * PAGE_SIZE), "the table is full");
	cr_assert_eq(palloc_free(), free_now, "the run went back");
	shim_shared = 0;
	void *grown = kmalloc(3 * PAGE_SIZE);
	cr_assert_not_null(grown, "a holder grows the table");
	shim_shared = 1;
	while (n)
		kfree(v[--n]);
	kfree(grown);
	shim_shared = 0;
	kfree(first);
	kmalloc_set_shared_side(NULL);
	kmalloc_trim();
	cr_assert_eq(palloc_free(), before);
	cr_assert_eq(palloc_check(), 0);
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
