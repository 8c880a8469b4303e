/*
 * selftest=mm: allocate and free in a pseudo-random pattern, fill every
 * block with a pattern derived from its address and check it before the
 * free (so overlapping blocks are caught), then check that the free page
 * count returned exactly to where it started.
 */
#include "kernel/selftest.h"

#include <stdint.h>

#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/phys.h"

#define LIVE_SLOTS 256
#define OPERATIONS 20000

struct block {
	unsigned char *p;
	size_t size;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned char pattern(const void *p, size_t i)
{
	return (unsigned char)(((uintptr_t)p >> 4) + i * 7);
}

static int fill_and_check(struct block *b, int check)
{
	for (size_t i = 0; i < b->size; i++) {
		if (!check) {
			b->p[i] = pattern(b->p, i);
		} else if (b->p[i] != pattern(b->p, i)) {
			kprintf("solo: selftest mm: block %p (%zu bytes) corrupted at byte %zu\n",
				(void *)b->p, b->size, i);
			return -1;
		}
	}
	return 0;
}

static int kmalloc_storm(void)
{
	static struct block live[LIVE_SLOTS];
	unsigned long allocations = 0;
	int failed = 0;

	for (int op = 0; op < OPERATIONS; op++) {
		struct block *b = &live[next_random() % LIVE_SLOTS];
		if (b->p) {
			failed |= fill_and_check(b, 1);
			kfree(b->p);
			b->p = NULL;
			continue;
		}
		/* Mostly small, sometimes up to 16 KiB, now and then page aligned. */
		uint64_t r = next_random();
		b->size = (r & 7) ? 1 + (r >> 8) % 512 : 1 + (r >> 8) % 16384;
		b->p = (r & 0x1f0) == 0x10 ? kmalloc_a(b->size) : kmalloc(b->size);
		if (!b->p) {
			kprintf("solo: selftest mm: kmalloc(%zu) failed\n", b->size);
			return -1;
		}
		allocations++;
		fill_and_check(b, 0);
	}
	for (int i = 0; i < LIVE_SLOTS; i++) {
		if (live[i].p) {
			failed |= fill_and_check(&live[i], 1);
			kfree(live[i].p);
			live[i].p = NULL;
		}
	}
	failed |= kmalloc_check() ? -1 : 0;
	kprintf("solo: selftest mm: %lu kmalloc/kfree pairs\n", allocations);
	return failed;
}

static int palloc_storm(void)
{
	static struct {
		paddr_t pa;
		size_t n;
	} live[LIVE_SLOTS];
	int failed = 0;

	for (int op = 0; op < OPERATIONS; op++) {
		unsigned slot = next_random() % LIVE_SLOTS;
		if (live[slot].pa) {
			pfree(live[slot].pa, live[slot].n);
			live[slot].pa = 0;
			continue;
		}
		uint64_t r = next_random();
		live[slot].n = (r & 15) ? 1 : 1 + (r >> 8) % 512;
		live[slot].pa =
		    (r & 0x30) == 0x10 ? palloc_aligned(live[slot].n, 512) : palloc(live[slot].n);
		if (!live[slot].pa) {
			kprintf("solo: selftest mm: palloc(%zu) failed\n", live[slot].n);
			failed = -1;
			continue;
		}
		/* Touch first and last page through the direct map. */
		*(volatile uint64_t *)phys_to_virt(live[slot].pa) = live[slot].pa;
		*(volatile uint64_t *)phys_to_virt(live[slot].pa + (live[slot].n - 1) * PAGE_SIZE) =
		    live[slot].pa;
	}
	for (int i = 0; i < LIVE_SLOTS; i++) {
		if (live[i].pa)
			pfree(live[i].pa, live[i].n);
		live[i].pa = 0;
	}
	return failed;
}

int selftest_mm(void)
{
	struct palloc_stats before, after;
	int failed = 0;

	kmalloc_trim(); /* count from a heap that holds no spare pages */
	palloc_get_stats(&before);
	failed |= kmalloc_storm();
	kmalloc_trim();
	failed |= palloc_storm();
	palloc_get_stats(&after);
	if (palloc_check()) {
		kprintf("solo: selftest mm: palloc_check found inconsistencies\n");
		failed = -1;
	}
	kprintf("solo: selftest mm: free pages before %zu, after %zu\n", before.free_pages,
		after.free_pages);
	if (before.free_pages != after.free_pages)
		failed = -1;
	kprintf("solo: selftest mm: %s\n", failed ? "FAILED" : "ok");
	return failed;
}
