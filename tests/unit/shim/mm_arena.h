/*
 * Fake physical memory for host tests of mm/.
 *
 * One arena of MM_TEST_ARENA_BYTES of address space (reserved with
 * MAP_NORESERVE: only the pages the allocators and tests touch cost
 * memory) stands for physical addresses [0, MM_TEST_ARENA_BYTES):
 * mm_direct_map_offset is set so that phys_to_virt(p) is arena + p.
 *
 * The default layout:
 *
 *   0x0000_0000  page 0 (never managed)
 *   0x0000_1000  low pool  ....... up to 0x9f000 (158 pages)
 *   0x000a_0000  hole (VGA/ROM) up to 16 MiB
 *   0x0100_0000  RAM, MM_TEST_RAM_BYTES (112 MiB) in one range
 *   0x0800_0000  hole up to the end of the arena (4 GiB)
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/kmalloc.h"
#include "mm/palloc.h"

#define MM_TEST_ARENA_BYTES (4UL << 30)
#define MM_TEST_LOW_BASE    0x1000UL
#define MM_TEST_LOW_END	    0x9f000UL
#define MM_TEST_RAM_BASE    (16UL << 20)
#define MM_TEST_RAM_BYTES   (112UL << 20)
#define MM_TEST_RAM_END	    (MM_TEST_RAM_BASE + MM_TEST_RAM_BYTES)

/* The arena's first byte (physical address 0); maps it on first use. */
uint8_t *mm_test_arena(void);

/*
 * mm_test_setup_ranges - map the arena, palloc_init() the n ranges (the
 * test fails unless it returns 0) and kmalloc_init(): fresh allocators,
 * all previous state discarded.
 */
void mm_test_setup_ranges(const struct palloc_range *r, size_t n);

/* mm_test_setup - mm_test_setup_ranges() with the default layout above. */
void mm_test_setup(void);

/* Reproducible pseudo-random numbers (xorshift64) for the randomized tests:
 * seed once per test, so a failure replays. seed must not be 0. */
void mm_test_seed(uint64_t seed);
uint64_t mm_test_random(void);
/* A number in [0, n), n > 0. */
size_t mm_test_random_below(size_t n);

/* The allocators' statistics as values, for comparisons in assertions. */
struct palloc_stats mm_test_palloc_stats(void);
struct kmalloc_stats mm_test_kmalloc_stats(void);
