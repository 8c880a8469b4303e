/*
 * palloc - the physical page allocator.
 *
 * Hands out runs of contiguous 4 KiB physical pages. It does not remember
 * the size of an allocation: pfree() is given the same (page, npages) back,
 * or any split of it (palloc(4) may be returned as two pfree(.., 2)).
 * Page contents are undefined on return; nothing is zeroed.
 *
 * Two pools:
 *   - the main pool, all managed memory at or above 1 MiB: palloc(),
 *     palloc_aligned(), pfree();
 *   - the low pool, managed memory below 1 MiB (for real-mode trampolines
 *     and the like): palloc_low(), pfree_low(). palloc() never returns it.
 * Physical page 0 is never managed, so 0 always means "no page".
 *
 * Costs (the essay at the top of palloc.c explains why): one bit per page
 * plus ~16% for summaries, i.e. ~38 KiB of metadata per GiB, taken from the
 * managed memory itself at init. palloc(1) and pfree() are a few word
 * operations (~16 ns a pair on the host); a run of up to 512 pages (2 MiB),
 * aligned when asked, is found in O(log n) word operations (amortized: a
 * stale summary hint costs one retry, once). Nothing is written into the
 * pages themselves. Larger runs, and small runs when memory is too
 * fragmented to hold an aligned block of their size, fall back to a search
 * over the free runs.
 *
 * Context: one CPU at a time, not interrupt-safe (no locking of its own):
 * the kernel serializes its callers (the kernel lock, or for the demand
 * faults beside each other LOCK_SHARED_FAULT, kernel/app.c); do not call
 * from interrupt handlers. Double frees and frees of memory palloc does not own
 * panic ("pfree: page 0x... not allocated"); exhaustion never panics.
 *
 * Reclaim: when the main pool cannot satisfy palloc() or palloc_aligned(),
 * palloc calls the registered reclaimer (palloc_set_reclaim: the app's
 * lazily freed pages, mm/aspace.h), which may pfree() pages it can do
 * without, and tries once more. So any allocation may run the reclaimer
 * first; it never allocates and is never re-entered.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/phys.h"

/* A run of npages physical pages starting at the page-aligned address base. */
struct palloc_range {
	paddr_t base;
	size_t npages;
};

/*
 * palloc_init - build the allocator over the given free ranges.
 * free: count page-aligned ranges of unused RAM, in any order, not
 * overlapping (the kernel passes usable RAM minus what it still uses).
 * Ranges below 1 MiB go to the low pool, the rest to the main pool; page 0
 * is dropped. The metadata is carved out of the ranges (from the end of the
 * largest one) and written through the direct map, so mm_direct_map_offset
 * must be set first.
 * Calling it again discards all previous state without freeing anything
 * (host tests re-init per test; the kernel calls it once).
 * Returns 0, or -ENOMEM when the metadata does not fit in the ranges or
 * there are more than 256 separate ranges. Panics on an unaligned or
 * overlapping range (a caller bug).
 */
int palloc_init(const struct palloc_range *free, size_t count);

/*
 * palloc_add_range - give npages more pages at base to the allocator later
 * (e.g. boot-services memory once the kernel no longer needs it).
 * Same rules as one range of palloc_init(). Memory outside what palloc
 * already covers gets its own metadata, carved from the range itself.
 * Returns 0, or -ENOMEM when (part of) the range could not be added: out of
 * zone or range slots, or a piece too small to hold its own metadata; the
 * pages not added stay unused. Panics when the range overlaps memory palloc
 * already manages, including its metadata.
 */
int palloc_add_range(paddr_t base, size_t npages);

/*
 * palloc - allocate npages contiguous physical pages (main pool, >= 1 MiB).
 * Returns the physical address of the first page, or 0 when no run of
 * npages is free, even after a reclaim (see the top), or npages is 0. A run of up to 512 pages
 * comes from a block aligned to the next power of two >= npages when one exists, so palloc(512) is
 * normally 2 MiB aligned; use palloc_aligned() to require it. The caller frees with pfree(page,
 * npages).
 */
paddr_t palloc(size_t npages);

/*
 * The fault caches: a small stash of free pages for each CPU, for the
 * demand faults beside each other (mm/aspace.h's aspace_fault_shared).
 * Two CPUs that each took one page at a time from the pool wrote the same
 * bitmap words, summaries and counts at every fault, under one lock; with
 * a stash each, they meet in the pool once every PALLOC_CACHE_PAGES
 * faults. Cached pages are allocated in the pool's bitmap but still count
 * as free (palloc_free_pages, the stats), so a check of free memory sees
 * no difference; when the pool itself runs short, palloc() and
 * palloc_aligned() give every cached page back to it before they call the
 * reclaimer or fail, and palloc_claim() does before it looks.
 */
#define PALLOC_CACHES	   64 /* one per CPU: kernel/arch/x86_64/smp.h's SMP_MAX_CPUS */
#define PALLOC_CACHE_PAGES 16

/*
 * palloc_cache_take - one page from cache number cache, which is refilled
 * from the pool (up to PALLOC_CACHE_PAGES pages, never by the reclaimer)
 * when it is empty; a cache number >= PALLOC_CACHES takes from the pool.
 * Returns 0 when neither has a page. Context: serialized against every
 * other palloc call like them (palloc_cache_take of different caches
 * included): the kernel's shared fault lock.
 */
paddr_t palloc_cache_take(unsigned cache);

/*
 * palloc_no_reclaim - palloc(npages) without the reclaimer and without
 * taking the fault caches' pages back: for a caller that may not run the
 * reclaimer (the kernel lock's shared side, serialized by the kernel's
 * shared fault lock). Returns 0 when the pool has no free run of npages
 * now, or npages is 0.
 */
paddr_t palloc_no_reclaim(size_t npages);

/*
 * palloc_aligned - like palloc(), but the first page's address is a
 * multiple of align_pages pages (a power of two; 0 and 1 mean no
 * alignment; e.g. 512 for a 2 MiB page). Panics if align_pages is not a
 * power of two. Returns 0 when no such run is free.
 */
paddr_t palloc_aligned(size_t npages, size_t align_pages);

/*
 * pfree - return npages pages starting at page, which palloc() or
 * palloc_aligned() handed out. Any subset of an allocation may be freed on
 * its own. npages == 0 does nothing.
 * Panics "pfree: page 0x... not allocated" naming the first offending page
 * when a page is already free, was never managed by palloc (a hole, the
 * kernel image, palloc's metadata, the low pool) or the address is not
 * page aligned.
 */
void pfree(paddr_t page, size_t npages);

/*
 * A reclaimer: frees (with pfree) pages it can do without, at least npages
 * when it can (it may free more, or fewer when it has nothing left), and
 * returns how many it freed. It must not allocate; palloc never calls it
 * while it runs.
 */
typedef size_t (*palloc_reclaim_fn)(size_t npages);

/*
 * palloc_set_reclaim - registers fn (NULL: none) as the one reclaimer.
 * palloc_init forgets it. O(1).
 */
void palloc_set_reclaim(palloc_reclaim_fn fn);

/*
 * palloc_reclaim - runs the reclaimer for npages: for a caller that checks
 * palloc_free_pages() against what it is about to need (a commit check)
 * and finds too few. Returns the pages freed: 0 with no reclaimer, with
 * nothing to reclaim, when npages is 0, or when called from inside the
 * reclaimer.
 */
size_t palloc_reclaim(size_t npages);

/*
 * palloc_claim - allocate exactly the npages pages at base (page aligned)
 * from the main pool: for a caller that needs particular physical pages
 * (an app asking for RAM at a fixed address). All or nothing.
 * Returns 0 when every page was free (they are now allocated; free them
 * with pfree()); -ENOENT when any page is not managed by the main pool (a
 * hole, the low pool, palloc's metadata), which wins over -EBUSY when any
 * page is allocated; -EINVAL when base is not page aligned, npages is 0 or
 * the range wraps. Nothing changes on failure. Cost: O(npages / 64) word
 * operations plus a binary search of the managed ranges per range touched.
 */
int palloc_claim(paddr_t base, size_t npages);

/*
 * palloc_low - allocate npages contiguous pages below 1 MiB (the low pool).
 * Returns the physical address, or 0 when no such run is free or npages
 * is 0. The pool is at most 255 pages; the search is linear in it.
 */
paddr_t palloc_low(size_t npages);

/*
 * pfree_low - return pages palloc_low() handed out. Panics like pfree()
 * ("pfree_low: page 0x... not allocated").
 */
void pfree_low(paddr_t page, size_t npages);

struct palloc_stats {
	size_t total_pages;	 /* main pool pages managed (metadata excluded) */
	size_t free_pages;	 /* main pool pages free now, the fault caches' included */
	size_t largest_free_run; /* largest npages palloc() could return now */
	size_t low_total_pages;	 /* low pool pages managed */
	size_t low_free_pages;	 /* low pool pages free now */
	size_t meta_pages;	 /* pages palloc took for its own metadata */
};

/*
 * palloc_free_pages - main pool pages free now (palloc_stats.free_pages),
 * the fault caches' pages included. O(1), unlike palloc_get_stats(): for
 * checks on hot paths (the app's demand faults keep the kernel's reserve).
 */
size_t palloc_free_pages(void);

/*
 * palloc_get_stats - fill *out. Walks the bitmaps to find the largest free
 * run: O(pages / 64), meant for diagnostics, not hot paths.
 */
void palloc_get_stats(struct palloc_stats *out);

/*
 * palloc_check - verify the allocator's internal consistency (summaries
 * against the bitmap, free counts, no free page outside managed memory).
 * Reports each problem with kprintf and returns their number; 0 means
 * consistent. O(pages / 64): for tests and debug builds.
 */
int palloc_check(void);
