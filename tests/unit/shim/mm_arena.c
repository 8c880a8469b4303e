/* Fake physical memory for host tests of mm/: see mm_arena.h. */
#include "mm_arena.h"

#include <criterion/criterion.h>
#include <sys/mman.h>

#include "mm/kmalloc.h"
#include "mm/phys.h"

static uint8_t *arena;

uint8_t *mm_test_arena(void)
{
	if (!arena) {
		void *p = mmap(NULL, MM_TEST_ARENA_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		cr_assert(p != MAP_FAILED, "cannot reserve the test arena");
		arena = p;
	}
	mm_direct_map_offset = (uintptr_t)arena;
	return arena;
}

void mm_test_setup_ranges(const struct palloc_range *r, size_t n)
{
	mm_test_arena();
	cr_assert_eq(palloc_init(r, n), 0, "palloc_init failed");
	kmalloc_init();
}

void mm_test_setup(void)
{
	const struct palloc_range r[] = {
	    {MM_TEST_LOW_BASE, (MM_TEST_LOW_END - MM_TEST_LOW_BASE) / PAGE_SIZE},
	    {MM_TEST_RAM_BASE, MM_TEST_RAM_BYTES / PAGE_SIZE},
	};

	mm_test_setup_ranges(r, 2);
}

static uint64_t random_state = 1;

void mm_test_seed(uint64_t seed)
{
	random_state = seed;
}

uint64_t mm_test_random(void)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 7;
	random_state ^= random_state << 17;
	return random_state;
}

size_t mm_test_random_below(size_t n)
{
	return (size_t)(mm_test_random() % n);
}

struct palloc_stats mm_test_palloc_stats(void)
{
	struct palloc_stats st;

	palloc_get_stats(&st);
	return st;
}

struct kmalloc_stats mm_test_kmalloc_stats(void)
{
	struct kmalloc_stats st;

	kmalloc_get_stats(&st);
	return st;
}
