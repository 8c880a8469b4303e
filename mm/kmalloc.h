/*
 * kmalloc - the kernel heap.
 *
 * Small requests (up to 2016 bytes) come from one-page slabs of 29 size
 * classes; larger ones and every kmalloc_a()/zmalloc_a() are whole pages
 * from palloc(). All memory is reached through the direct map. kfree()
 * needs no size. Every pointer returned is 16-byte aligned.
 *
 * Context: the kernel serializes its callers (the kernel lock), except in
 * the kernel lock's shared side: once kmalloc_set_shared_side() has named
 * it, sections running beside each other on several CPUs may allocate
 * (a large block only while the large-block table has room) and kfree()
 * any block, taking the heap's own lock (below). Not interrupt-safe: do not call
 * from interrupt handlers. kfree() of a pointer kmalloc did not return, or a
 * second kfree(), panics "kfree: <ptr> not allocated ..." when it can tell
 * (always inside slabs; always for page-aligned pointers); exhaustion never
 * panics, it returns NULL.
 *
 * KMALLOC_CHECK (set to 1 by DEBUG=1 builds): each allocation is fenced by
 * canaries, records its size and its caller, and kfree() panics with all
 * three when a canary changed; freed small blocks are poisoned with 0x6b.
 * Costs 40 bytes per small allocation and one page per large one.
 */
#pragma once

#include <stddef.h>

#include "mm/phys.h"

/* The largest kmalloc() served from a one-page slab (a small block). */
#if defined(KMALLOC_CHECK) && KMALLOC_CHECK
#define KMALLOC_SMALL_MAX (2016 - 40) /* less the canaries and the header */
#else
#define KMALLOC_SMALL_MAX 2016
#endif

/*
 * kmalloc_init - (re)start the heap empty, after palloc_init(). Allocating
 * before it panics. Calling it again discards all previous state without
 * freeing anything (host tests re-init per test after palloc_init()).
 */
void kmalloc_init(void);

/*
 * kmalloc - size bytes, 16-byte aligned, contents undefined.
 * Returns NULL when size is 0 or memory is exhausted. Free with kfree().
 */
void *kmalloc(size_t size);

/* zmalloc - kmalloc() and zero the size bytes. */
void *zmalloc(size_t size);

/*
 * kmalloc_a - size bytes starting on a page boundary, rounded up to whole
 * pages from palloc(). NULL when size is 0 or memory is exhausted. Free
 * with kfree(). (A caller that needs pages, not a heap block, should use
 * palloc() directly.)
 */
void *kmalloc_a(size_t size);

/* zmalloc_a - kmalloc_a() and zero the size bytes. */
void *zmalloc_a(size_t size);

/*
 * kfree - free a block from any of the four above. kfree(NULL) does
 * nothing. Panics on a pointer not currently allocated (see above) and,
 * with KMALLOC_CHECK, on a damaged canary.
 */
void kfree(void *ptr);

/*
 * The kernel lock's shared side (kernel/arch/x86_64/smp.h): sections that
 * run beside each other, never beside a holder of the kernel lock. A
 * holder has the heap to itself and takes no lock; a section takes the
 * heap's lock around every change of the slabs or the large-block table,
 * and never holds it while it gets or frees pages, which go through the
 * side's own page hooks (palloc's callers there are serialized by another
 * lock, and must not reclaim). In a section:
 *   - all four allocations work as usual, except that their pages (a new
 *     slab's, a large block's) come from pages(), and that a large block
 *     needs room in the large-block table, which only a holder grows:
 *     NULL when pages() has none or the table is full (the caller asks
 *     for the kernel lock instead, where the reclaimer may run);
 *   - kfree() of any block works; the pages it gives back go to
 *     free_pages();
 *   - kmalloc_trim(), kmalloc_check(), kmalloc_get_stats() and
 *     kmalloc_dump() are not allowed (holders only).
 */
struct kmalloc_shared_side {
	int (*in_section)(void); /* whether this CPU runs in a section now */
	void (*lock)(void);	 /* the heap's lock: a spinlock only sections take */
	void (*unlock)(void);
	paddr_t (*pages)(size_t n);		  /* n pages without a reclaim, or 0 */
	void (*free_pages)(paddr_t pa, size_t n); /* pages a kfree gives back */
};

/*
 * kmalloc_set_shared_side - install side (static, lives for the kernel's
 * life), or NULL to have none (host tests). Boot time, before any section
 * can run; kmalloc_init() keeps it.
 */
void kmalloc_set_shared_side(const struct kmalloc_shared_side *side);

/*
 * kmalloc_trim - give palloc back what the heap holds but does not use:
 * the one empty slab each size class keeps, and the large-allocation
 * table when no large allocation is live, or the part of it that a burst
 * of them grew (it shrinks to the smallest size with room for one more).
 */
void kmalloc_trim(void);

/*
 * kmalloc_check - check the canaries of every live allocation; kprintf
 * each damaged one with its address, size and the caller that allocated
 * it. Returns the number of damaged allocations. Without KMALLOC_CHECK
 * there are no canaries and it returns 0.
 */
int kmalloc_check(void);

#define KMALLOC_NCLASSES 29

struct kmalloc_class_stats {
	size_t size;  /* bytes per block of this class */
	size_t slabs; /* one-page slabs held */
	size_t live;  /* blocks allocated */
	size_t free;  /* blocks free in the slabs held */
};

struct kmalloc_stats {
	size_t bytes_in_use;	  /* live blocks at their class size + live large pages in bytes */
	size_t pages_held;	  /* pages taken from palloc: slabs, large blocks, the table */
	size_t live_allocations;  /* small and large */
	size_t large_allocations; /* of which page-sized */
	size_t large_pages;	  /* pages held by large allocations */
	struct kmalloc_class_stats classes[KMALLOC_NCLASSES];
};

/* kmalloc_get_stats - fill *out. O(number of classes). */
void kmalloc_get_stats(struct kmalloc_stats *out);

/* kmalloc_dump - kprintf the totals and one line per size class in use. */
void kmalloc_dump(void);
