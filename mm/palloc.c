/*
 * Physical page allocator: a bitmap with a summary tree per block order.
 *
 * Owns every managed physical page at or above 1 MiB (the main pool) and
 * below it (the low pool). Invariants: a page's bit in its zone's map is set
 * iff the page is managed and free; page 0 is never managed; the summaries
 * obey the exact/hint rules below (palloc_check() verifies all of it).
 *
 * Why a bitmap and not a buddy allocator
 * --------------------------------------
 * A buddy allocator finds power-of-two blocks in O(1) and keeps "which
 * blocks are free" in lists threaded through the free pages. Its weak spot
 * is the common case: palloc(1) splits the smallest free block all the way
 * down to one page and pfree() merges it all the way back up, ~10 list
 * operations in cold free pages for every single-page pair, and catching a
 * double free needs per-page state beside the lists anyway. A plain bitmap
 * is the cheapest per-page state there is and gives double-free detection
 * for free; what it lacks is a way to find things without scanning. So:
 *
 *   map          1 bit per page, set = free. Word i covers pages 64i..64i+63.
 *
 *   order k      an aligned free block of 2^k pages (k = 0..9, 1 page to
 *                2 MiB). Whether a map word holds one is a fold of the word:
 *                g1 = w & w >> 1 & 0x5555..  (aligned free pairs),
 *                g2 = g1 & g1 >> 2 & 0x1111.. (aligned free quads), ...,
 *                g6 = (w == ~0). Orders 7..9 are the same fold one level up,
 *                over the bits that say "this map word is entirely free".
 *                Orders nest: a block of order k holds blocks of all lower
 *                orders.
 *
 *   sum[l][r][k] the summary tree, 64-ary. Level 1 has one bit per map word
 *                and order: "this word holds a free block of order k".
 *                Level l+1 has one bit per level-l row and order: "this row
 *                has a bit set for order k", except that at level 2 the bits
 *                of orders 7..9 say "the full-word bits of this row fold to
 *                order k". The top level is a single row. A row's 10 orders
 *                sit side by side (80 bytes), so an update touches one row.
 *
 *   Exact bits and hints. Orders 0 and 6 ("has a free page", "is all
 *   free") are exact and cheap to keep so: a word turning empty, non-empty,
 *   full or not full. Keeping orders 1..5 exact would mean folding the word
 *   before and after every change, which made a palloc(1)/pfree() pair
 *   three times slower. So the leaf bits of orders 1..5 (level 1) and 7..9
 *   (level 2) are hints: set wherever such a block exists, possibly set
 *   where none is left. Allocation never touches them; a free sets the hint
 *   of the largest block it completes (one order suffices, see mark_free());
 *   a search that reaches a stale hint clears it and walks again. Every bit
 *   above a leaf is an exact summary of the row below it.
 *
 *   palloc(n) for n <= 512: k = ceil(log2 n); walk down from the top, taking
 *   the lowest set bit of order k at each level, fold the word found, take
 *   the first n pages of that block (the rest of it stays free). That is
 *   one word per level: 4 levels cover 64 GiB, 6 cover 4 PiB; stale hints
 *   add O(1) per free, amortized. palloc(1) first looks at a per-zone
 *   cursor below which every map word is empty, so it usually needs no
 *   walk at all. An update carries up a level only when a row turns empty
 *   or non-empty for an order; most stop at level 1.
 *
 *   The policy is address-ordered first fit by aligned block (the lowest
 *   block of the size class), which keeps memory packed toward low addresses
 *   and has long been known to fragment little in practice.
 *
 *   Slow path: runs larger than 512 pages, alignments above 512 pages, and
 *   small runs when no aligned block of their class is free (memory so
 *   fragmented that only unaligned runs remain) search the free runs in
 *   address order, jumping through the exact summaries (runs of 128 pages or
 *   more only visit map words that are entirely free). Cost: the number of
 *   free runs visited, each measured a word at a time.
 *
 * Cost per GiB (262144 pages): map 32 KiB, level 1 4096 rows * 80 bytes =
 * 5 KiB (only 7 of a row's 10 words are used at level 1; packing them would
 * save 1.5 KiB and cost code), levels above ~80 bytes: about 37.6 KiB per
 * GiB, 1.15 bits per page, taken from the managed memory at init. Nothing
 * is written into free pages, so stray writes into free memory cannot
 * corrupt the allocator. Measured on the host (4 GiB, -O2): ~16 ns for a
 * palloc(1) + pfree() pair (~60 M pairs/s, ~220 instructions), ~150 ns for
 * palloc_aligned(512, 512) + pfree(), ~1.3 us for palloc(5000) + pfree().
 *
 * Zones and ranges
 * ----------------
 * A zone is one bitmap over a span of physical memory whose bit 0 is 2 MiB
 * aligned, so block alignment in the bitmap is physical alignment. Managed
 * memory separated by a hole of 1 GiB or more gets separate zones (at most
 * 8 from palloc_init), so holes cost little metadata; palloc_add_range()
 * adds memory outside every zone as a new zone with its own metadata (at
 * most 16 zones). Zone spans end on a 16 MiB boundary, which leaves room
 * for memory added next to the top of RAM later. The table of managed
 * ranges (sorted, adjacent ranges of one zone merged, at most 256) is what
 * pfree() checks against: a page with a clear bit is either allocated or
 * not palloc's at all, and only the range table tells which.
 *
 * The low pool is a fixed 256-bit bitmap searched linearly.
 *
 * Reclaim: a palloc() or palloc_aligned() that finds nothing calls the
 * registered reclaimer (palloc.h) once and searches again. It runs between
 * two searches, never inside one, so the pfree() calls it makes find the
 * allocator consistent; a flag keeps it from being entered twice.
 *
 * Concurrency: none; Solo runs on one CPU and palloc is not called from
 * interrupt handlers.
 */
#include "mm/palloc.h"

#include "mm/failinj.h"

#include <stdbool.h>

#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"

uintptr_t mm_direct_map_offset;

#define ORDERS		 10 /* fast-path orders 0..9: blocks of 1..512 pages */
#define WORD_ORDERS	 7  /* orders a 64-page map word can hold: 0..6 */
#define FULL_ORDER	 6  /* the order meaning "whole map word free" */
#define FAST_MAX_PAGES	 (1UL << (ORDERS - 1))
#define MAX_LEVELS	 7 /* 64^7 map words: far beyond 52-bit addresses */
#define MAX_ZONES	 16
#define INIT_ZONES	 8
#define MAX_RANGES	 256
#define ZONE_GAP_PAGES	 (1UL << (30 - PAGE_SHIFT)) /* 1 GiB hole: new zone */
#define ZONE_ALIGN_PAGES 512			    /* zone bit 0: 2 MiB aligned */
#define ZONE_END_PAGES	 4096			    /* zone span: 16 MiB multiple */
#define LOW_PAGES	 256			    /* the low pool: below 1 MiB */
#define NONE		 ((size_t)-1)

typedef uint64_t row_t[ORDERS];

struct zone {
	uint64_t base_pfn;	    /* page frame of map bit 0, ZONE_ALIGN_PAGES aligned */
	size_t nwords;		    /* map words; the span is nwords * 64 pages */
	uint64_t *map;		    /* bit set = page managed and free */
	row_t *sum[MAX_LEVELS + 1]; /* sum[1..levels]: summary rows */
	size_t rows[MAX_LEVELS + 1];
	unsigned levels; /* >= 2; level `levels` is a single row */
	size_t low_word; /* every map word below this one is 0 */
	size_t managed_pages;
	size_t free_pages;
	paddr_t meta; /* this zone's metadata pages */
	size_t meta_pages;
};

struct range {
	uint64_t base_pfn;
	uint64_t npages;
	unsigned zone;
};

static struct zone zones[MAX_ZONES];
static unsigned nzones;
static struct range ranges[MAX_RANGES]; /* sorted by base_pfn, disjoint */
static unsigned nranges;
static unsigned last_range; /* pfree's guess: the range it hit last time */
static size_t total_pages, free_pages, meta_pages;
static palloc_reclaim_fn reclaim_fn; /* palloc_set_reclaim */
static struct fault_cache {
	unsigned next, end; /* pages[next..end) are cached, lowest first */
	paddr_t pages[PALLOC_CACHE_PAGES];
} caches[PALLOC_CACHES];
static size_t cached_pages; /* in all caches: allocated in the bitmap, counted free */
static bool reclaiming;	    /* inside reclaim_fn: no second call */

static struct {
	uint64_t free[LOW_PAGES / 64];	  /* bit set = free */
	uint64_t managed[LOW_PAGES / 64]; /* bit set = palloc's */
	size_t total_pages, free_pages;
} low;

/* ------------------------------------------------------------ bit helpers */

static inline unsigned ctz64(uint64_t x)
{
	return (unsigned)__builtin_ctzll(x);
}

static inline unsigned clz64(uint64_t x)
{
	return (unsigned)__builtin_clzll(x);
}

/* No __builtin_popcountll: without -mpopcnt it calls libgcc. */
static size_t popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (size_t)((x * 0x0101010101010101ULL) >> 56);
}

/* Bits lo..hi-1 of a word, 0 <= lo < hi <= 64. */
static inline uint64_t bits_between(unsigned lo, unsigned hi)
{
	uint64_t upto = hi == 64 ? ~0ULL : (1ULL << hi) - 1;
	return upto & ~((1ULL << lo) - 1);
}

static const uint64_t fold_mask[6] = {
    0x5555555555555555ULL, 0x1111111111111111ULL, 0x0101010101010101ULL,
    0x0001000100010001ULL, 0x0000000100000001ULL, 0x0000000000000001ULL,
};

/*
 * fold - the aligned free blocks of 2^k bits in w: bit i of the result is
 * set iff i is a multiple of 2^k and bits i..i+2^k-1 of w are all set.
 */
static inline uint64_t fold(uint64_t w, unsigned k)
{
	for (unsigned j = 0; j < k; j++)
		w &= (w >> (1U << j)) & fold_mask[j];
	return w;
}

/*
 * word_orders - bit k set iff the map word w holds a free aligned block of
 * order k (0..6). A free block of order k holds free blocks of every lower
 * order, so the flags are always a prefix, bits 0..order_count(w) - 1.
 * fold() unrolled, each step masking before it shifts so both halves run
 * in parallel; a full word is answered without folding.
 */
static inline unsigned order_count(uint64_t w)
{
	if (w == ~0ULL)
		return WORD_ORDERS;
	uint64_t g1 = (w & fold_mask[0]) & (w >> 1);
	uint64_t g2 = (g1 & fold_mask[1]) & (g1 >> 2);
	uint64_t g3 = (g2 & fold_mask[2]) & (g2 >> 4);
	uint64_t g4 = (g3 & fold_mask[3]) & (g3 >> 8);
	uint64_t g5 = (g4 & fold_mask[4]) & (g4 >> 16);

	return (w != 0) + (g1 != 0) + (g2 != 0) + (g3 != 0) + (g4 != 0) + (g5 != 0);
}

static inline unsigned word_orders(uint64_t w)
{
	return (1U << order_count(w)) - 1;
}

/* Orders 7..9 (as bits 7..9, again a prefix) from a level-1 row's full-word bits. */
static inline unsigned full_orders(uint64_t full)
{
	if (full == ~0ULL)
		return 7U << WORD_ORDERS;
	uint64_t g1 = (full & fold_mask[0]) & (full >> 1);
	uint64_t g2 = (g1 & fold_mask[1]) & (g1 >> 2);
	uint64_t g3 = (g2 & fold_mask[2]) & (g2 >> 4);
	unsigned n = (g1 != 0) + (g2 != 0) + (g3 != 0);

	return ((1U << n) - 1) << WORD_ORDERS;
}

/* The flags a row of level l reports one level up. */
static unsigned row_orders(unsigned l, const uint64_t *row)
{
	unsigned f = 0;
	for (unsigned k = 0; k < ORDERS; k++)
		f |= (unsigned)(row[k] != 0) << k;
	if (l == 1)
		f |= full_orders(row[FULL_ORDER]);
	return f;
}

static unsigned ceil_log2(size_t n)
{
	return n <= 1 ? 0 : 64 - clz64((uint64_t)n - 1);
}

_Noreturn static void corrupt(const struct zone *z, const char *what)
{
	panic("palloc: zone at %#lx: %s", (unsigned long)(z->base_pfn << PAGE_SHIFT), what);
}

/* ------------------------------------------------------------ the tree */

static inline bool exact_order(unsigned k)
{
	return k == 0 || k == FULL_ORDER;
}

/*
 * sum_set - set bit r of order k at level l and carry on up while the row
 * it lands in was empty (a non-empty row already has its bit one level up).
 */
__attribute__((noinline)) static void sum_set(struct zone *z, unsigned l, size_t r, unsigned k)
{
	for (;; l++, r /= 64) {
		uint64_t *w = &z->sum[l][r / 64][k];
		uint64_t before = *w;

		*w = before | 1ULL << (r % 64);
		if (before || l == z->levels)
			return;
	}
}

/* sum_clear - clear bit r of order k at level l and carry on up while rows become empty. */
__attribute__((noinline)) static void sum_clear(struct zone *z, unsigned l, size_t r, unsigned k)
{
	for (;; l++, r /= 64) {
		uint64_t *w = &z->sum[l][r / 64][k];

		*w &= ~(1ULL << (r % 64));
		if (*w || l == z->levels)
			return;
	}
}

/*
 * block_order - the order of the largest aligned block of set bits in x
 * that contains bit b (which must be set): 6 when x is all ones. A clear
 * bit a rules out every block holding both a and b, i.e. orders above
 * msb(a ^ b); the nearest clear bits on either side rule out the most.
 */
static inline unsigned block_order(uint64_t x, unsigned b)
{
	uint64_t below = ~x & ((1ULL << b) - 1);
	uint64_t above = ~x & ~((2ULL << b) - 1); /* b == 63: 2 << 63 is 0, mask 0 */
	unsigned k = 6;

	if (below)
		k = MIN(k, 63 - clz64((uint64_t)(b ^ (63 - clz64(below)))));
	if (above)
		k = MIN(k, 63 - clz64((uint64_t)(b ^ ctz64(above))));
	return k;
}

/*
 * word_take - clear the bits of mask in map word i (pages allocated).
 * Exact orders follow; hints are left as they are (they may go stale).
 */
static inline void word_take(struct zone *z, size_t i, uint64_t mask)
{
	uint64_t old = z->map[i], val = old & ~mask;

	z->map[i] = val;
	if (old == ~0ULL || val == 0) {
		uint64_t *row = z->sum[1][i / 64];
		uint64_t bit = 1ULL << (i % 64);
		if (old == ~0ULL && !(row[FULL_ORDER] &= ~bit))
			sum_clear(z, 2, i / 64, FULL_ORDER);
		if (val == 0 && !(row[0] &= ~bit))
			sum_clear(z, 2, i / 64, 0);
	}
}

/*
 * mark_free - map word i gained free blocks of orders lo..top (top <= 6,
 * 6 meaning the word became full): set their bits at level 1 (orders 0 and
 * 6 exact, 1..5 hints; setting a set bit is harmless) and, for a word that
 * became full, the level-2 hint of the group of full words it completes.
 *
 * Why one order is enough for a single page: if the page completes a
 * free block of order K, the other half of that block, a free block of
 * order K - 1, was there before, so the word already held blocks of every
 * order below K and their bits were set (a hint is set wherever a block
 * is). The same argument one level up leaves one group order (7..9) to
 * mark when a word becomes full, whatever freed it.
 */
static inline void mark_free(struct zone *z, size_t i, unsigned lo, unsigned top)
{
	uint64_t *row = z->sum[1][i / 64];
	uint64_t bit = 1ULL << (i % 64);

	for (unsigned k = lo; k <= top; k++) {
		uint64_t before = row[k];
		row[k] = before | bit;
		if (!before)
			sum_set(z, 2, i / 64, k);
	}
	if (top == FULL_ORDER) {
		size_t r = i / 64;
		unsigned k = WORD_ORDERS - 1 + block_order(row[FULL_ORDER], i % 64);
		if (k >= WORD_ORDERS && k < ORDERS) {
			uint64_t *w = &z->sum[2][r / 64][k];
			uint64_t before = *w;
			*w = before | 1ULL << (r % 64);
			if (!before && z->levels > 2)
				sum_set(z, 3, r / 64, k);
		}
	}
}

/*
 * word_give - set the bits of mask in map word i (pages freed) and mark
 * the blocks they complete: for one page only the largest block around it
 * (see mark_free()), for several pages every order the word now holds.
 */
static inline void word_give(struct zone *z, size_t i, uint64_t mask)
{
	uint64_t val = z->map[i] | mask;

	z->map[i] = val;
	if (i < z->low_word)
		z->low_word = i;
	if (mask & (mask - 1)) {
		mark_free(z, i, 0, order_count(val) - 1);
	} else {
		unsigned k = block_order(val, ctz64(mask));
		mark_free(z, i, k, k);
	}
}

/* Recomputes every summary from the map, exactly (init and add of a new zone). */
static void rebuild(struct zone *z)
{
	for (unsigned l = 1; l <= z->levels; l++)
		memset(z->sum[l], 0, z->rows[l] * sizeof(row_t));
	for (size_t i = 0; i < z->nwords; i++) {
		unsigned f = word_orders(z->map[i]);
		for (; f; f &= f - 1)
			z->sum[1][i / 64][ctz64(f)] |= 1ULL << (i % 64);
	}
	for (unsigned l = 1; l < z->levels; l++) {
		for (size_t r = 0; r < z->rows[l]; r++) {
			unsigned f = row_orders(l, z->sum[l][r]);
			for (; f; f &= f - 1)
				z->sum[l + 1][r / 64][ctz64(f)] |= 1ULL << (r % 64);
		}
	}
}

/*
 * find_block - the zone page index of the lowest free aligned block of
 * order k (< ORDERS), or NONE. One word per level down to the leaf (level
 * 1, or level 2 for orders 7..9); a stale hint found there is cleared and
 * the walk starts again. Each stale hint was set by one free, so the
 * retries cost O(1) per free, amortized.
 */
static inline size_t find_block(struct zone *z, unsigned k)
{
	for (;;) {
		size_t r = 0;

		for (unsigned l = z->levels; l >= 2; l--) {
			uint64_t x = z->sum[l][r][k];
			if (!x) {
				if (l == z->levels)
					return NONE;
				corrupt(z, "summary bit without a block below");
			}
			r = r * 64 + ctz64(x);
		}
		if (k < WORD_ORDERS) {
			uint64_t x = z->sum[1][r][k];
			if (!x)
				corrupt(z, "summary bit without a block below");
			size_t i = r * 64 + ctz64(x);
			uint64_t g = fold(z->map[i], k);
			if (g)
				return i * 64 + ctz64(g);
			if (exact_order(k))
				corrupt(z, "level-1 bit without a block in its word");
			sum_clear(z, 1, i, k);
		} else {
			uint64_t g = fold(z->sum[1][r][FULL_ORDER], k - FULL_ORDER);
			if (g)
				return (r * 64 + ctz64(g)) * 64;
			sum_clear(z, 2, r, k);
		}
	}
}

/* The lowest set bit >= idx of order k (0..6) in level l's bitmap, or NONE. */
static size_t next_set(const struct zone *z, unsigned l, unsigned k, size_t idx)
{
	size_t r = idx / 64;

	if (r >= z->rows[l])
		return NONE;
	uint64_t x = z->sum[l][r][k] & (~0ULL << (idx % 64));
	if (!x) {
		if (l == z->levels)
			return NONE;
		r = next_set(z, l + 1, k, r + 1);
		if (r == NONE)
			return NONE;
		x = z->sum[l][r][k];
		if (!x)
			corrupt(z, "summary bit without a block below");
	}
	return r * 64 + ctz64(x);
}

/* The first free page >= p in the zone, or NONE. */
static size_t next_free(const struct zone *z, size_t p)
{
	size_t i = p / 64;

	if (i >= z->nwords)
		return NONE;
	uint64_t x = z->map[i] & (~0ULL << (p % 64));
	if (x)
		return i * 64 + ctz64(x);
	i = next_set(z, 1, 0, i + 1);
	if (i == NONE)
		return NONE;
	return i * 64 + ctz64(z->map[i]);
}

/* The first page in [p, end) whose bit is clear, or end. */
static size_t first_clear(const struct zone *z, size_t p, size_t end)
{
	while (p < end) {
		size_t i = p / 64;
		uint64_t x = ~z->map[i] & (~0ULL << (p % 64));
		if (x)
			return MIN(i * 64 + ctz64(x), end);
		p = (i + 1) * 64;
	}
	return end;
}

/* The first page in [p, end) whose bit is set, or NONE. */
static size_t first_set(const struct zone *z, size_t p, size_t end)
{
	while (p < end) {
		size_t i = p / 64;
		uint64_t x = z->map[i] & (~0ULL << (p % 64));
		if (x) {
			size_t q = i * 64 + ctz64(x);
			return q < end ? q : NONE;
		}
		p = (i + 1) * 64;
	}
	return NONE;
}

/* Sets (give) or clears (take) the bits of pages [p, p + n). */
static void update_run(struct zone *z, size_t p, size_t n, bool give)
{
	size_t end = p + n;

	while (p < end) {
		size_t i = p / 64;
		unsigned hi = (unsigned)MIN(end - i * 64, (size_t)64);
		uint64_t mask = bits_between(p % 64, hi);

		if (give)
			word_give(z, i, mask);
		else if ((z->map[i] & mask) != mask)
			corrupt(z, "allocating a page that is not free");
		else
			word_take(z, i, mask);
		p = i * 64 + hi;
	}
}

/*
 * find_run - the lowest zone page index of n free pages whose physical frame
 * is a multiple of align, or NONE: the slow path, address order over the
 * free runs. Runs of 128 pages or more contain a whole free map word, so for
 * them only free runs containing one are visited.
 */
static size_t find_run(const struct zone *z, size_t n, size_t align)
{
	size_t span = z->nwords * 64;
	size_t pos = 0;

	for (;;) {
		size_t s;

		if (n >= 128) {
			size_t w = next_set(z, 1, FULL_ORDER, (pos + 63) / 64);
			if (w == NONE)
				return NONE;
			/*
			 * The run may begin in the word before: its free top bits.
			 * That word is full only if it holds pos, hence the clamp.
			 */
			s = w * 64;
			if (w > 0)
				s -= ~z->map[w - 1] ? clz64(~z->map[w - 1]) : 64;
			s = MAX(s, pos);
		} else {
			s = next_free(z, pos);
			if (s == NONE)
				return NONE;
		}
		s = ALIGN_UP(z->base_pfn + s, (uint64_t)align) - z->base_pfn;
		if (s > span || span - s < n)
			return NONE;
		size_t e = first_clear(z, s, s + n);
		if (e == s + n)
			return s;
		pos = e + 1;
	}
}

/* ------------------------------------------------------------ ranges */

/* The index of the range holding pfn, or -1. */
static int range_lookup(uint64_t pfn)
{
	const struct range *r = &ranges[last_range];

	if (last_range < nranges && pfn >= r->base_pfn && pfn - r->base_pfn < r->npages)
		return (int)last_range;
	unsigned lo = 0, hi = nranges; /* the answer is below hi */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (ranges[mid].base_pfn <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	r = &ranges[lo - 1];
	if (pfn - r->base_pfn >= r->npages)
		return -1;
	last_range = lo - 1;
	return (int)(lo - 1);
}

static void range_remove(unsigned i)
{
	memmove(&ranges[i], &ranges[i + 1], (nranges - i - 1) * sizeof(ranges[0]));
	nranges--;
	last_range = 0;
}

/*
 * range_insert - add [pfn, pfn + n) to the sorted table for zone, merging
 * with neighbours of the same zone. Panics on overlap; returns 0 or -ENOMEM
 * when the table is full.
 */
static int range_insert(uint64_t pfn, uint64_t n, unsigned zone, const char *who)
{
	unsigned i = 0;

	while (i < nranges && ranges[i].base_pfn < pfn)
		i++;
	if ((i > 0 && ranges[i - 1].base_pfn + ranges[i - 1].npages > pfn) ||
	    (i < nranges && pfn + n > ranges[i].base_pfn))
		panic("%s: range %#lx+%lu pages overlaps managed memory", who,
		      (unsigned long)(pfn << PAGE_SHIFT), (unsigned long)n);
	last_range = 0;
	if (i > 0 && ranges[i - 1].zone == zone &&
	    ranges[i - 1].base_pfn + ranges[i - 1].npages == pfn) {
		ranges[i - 1].npages += n;
		if (i < nranges && ranges[i].zone == zone && pfn + n == ranges[i].base_pfn) {
			ranges[i - 1].npages += ranges[i].npages;
			range_remove(i);
		}
		return 0;
	}
	if (i < nranges && ranges[i].zone == zone && pfn + n == ranges[i].base_pfn) {
		ranges[i].base_pfn = pfn;
		ranges[i].npages += n;
		return 0;
	}
	if (nranges == MAX_RANGES)
		return -ENOMEM;
	memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof(ranges[0]));
	ranges[i] = (struct range){.base_pfn = pfn, .npages = n, .zone = zone};
	nranges++;
	return 0;
}

/* ------------------------------------------------------------ zones */

/* Sets the zone's geometry for the span [base_pfn, end_pfn); returns its metadata pages. */
static size_t zone_plan(struct zone *z, uint64_t base_pfn, uint64_t end_pfn)
{
	size_t bytes;

	memset(z, 0, sizeof(*z));
	z->base_pfn = ALIGN_DOWN(base_pfn, (uint64_t)ZONE_ALIGN_PAGES);
	end_pfn = ALIGN_UP(end_pfn, (uint64_t)ZONE_END_PAGES);
	z->nwords = (end_pfn - z->base_pfn) / 64;
	bytes = z->nwords * sizeof(uint64_t);
	size_t n = z->nwords;
	unsigned l = 0;
	do {
		n = (n + 63) / 64;
		z->rows[++l] = n;
		bytes += n * sizeof(row_t);
	} while (n > 1 || l < 2);
	z->levels = l;
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Points the zone at its metadata pages and clears them (all pages allocated). */
static void zone_place(struct zone *z, paddr_t meta, size_t npages)
{
	uint8_t *p = phys_to_virt(meta);

	z->meta = meta;
	z->meta_pages = npages;
	memset(p, 0, npages * PAGE_SIZE);
	z->map = (uint64_t *)p;
	p += z->nwords * sizeof(uint64_t);
	for (unsigned l = 1; l <= z->levels; l++) {
		z->sum[l] = (row_t *)p;
		p += z->rows[l] * sizeof(row_t);
	}
}

/* Marks [pfn, pfn + n) free in the map only; rebuild() must follow. */
static void zone_fill(struct zone *z, uint64_t pfn, uint64_t n)
{
	size_t p = pfn - z->base_pfn, end = p + n;

	while (p < end) {
		size_t i = p / 64;
		unsigned hi = (unsigned)MIN(end - i * 64, (size_t)64);
		z->map[i] |= bits_between(p % 64, hi);
		p = i * 64 + hi;
	}
	z->managed_pages += n;
	z->free_pages += n;
	total_pages += n;
	free_pages += n;
}

static bool zone_covers(const struct zone *z, uint64_t pfn)
{
	return pfn >= z->base_pfn && pfn - z->base_pfn < z->nwords * 64;
}

/* ------------------------------------------------------------ low pool */

static bool low_test(const uint64_t *map, uint64_t pfn)
{
	return map[pfn / 64] >> (pfn % 64) & 1;
}

static void low_add(uint64_t pfn, uint64_t n, const char *who)
{
	for (uint64_t p = pfn; p < pfn + n; p++) {
		if (low_test(low.managed, p))
			panic("%s: page %#lx already managed", who,
			      (unsigned long)(p << PAGE_SHIFT));
		low.managed[p / 64] |= 1ULL << (p % 64);
		low.free[p / 64] |= 1ULL << (p % 64);
	}
	low.total_pages += n;
	low.free_pages += n;
}

/* ------------------------------------------------------------ init */

/*
 * add_input - validate one caller range, drop page 0, give what lies below
 * 1 MiB to the low pool and insert the rest (zone unassigned) in the table.
 */
static void add_input(paddr_t base, size_t npages, const char *who, uint64_t *hi_pfn,
		      uint64_t *hi_n)
{
	uint64_t pfn = base >> PAGE_SHIFT, n = npages;

	if (base & (PAGE_SIZE - 1))
		panic("%s: range base %#lx not page aligned", who, (unsigned long)base);
	if (n > (UINT64_MAX >> PAGE_SHIFT) - pfn)
		panic("%s: range %#lx+%lu pages wraps around", who, (unsigned long)base,
		      (unsigned long)n);
	*hi_n = 0;
	if (n && pfn == 0) {
		pfn++;
		n--;
	}
	if (n && pfn < LOW_PAGES) {
		uint64_t m = MIN(n, LOW_PAGES - pfn);
		low_add(pfn, m, who);
		pfn += m;
		n -= m;
	}
	*hi_pfn = pfn;
	*hi_n = n;
}

/* Assigns ranges to zones: a new zone after each of the largest >= 1 GiB holes. */
static void plan_zones(void)
{
	bool split[MAX_RANGES] = {false};
	unsigned nsplit = 0;

	for (unsigned i = 0; i + 1 < nranges; i++) {
		uint64_t gap = ranges[i + 1].base_pfn - (ranges[i].base_pfn + ranges[i].npages);
		if (gap >= ZONE_GAP_PAGES) {
			split[i] = true;
			nsplit++;
		}
	}
	while (nsplit > INIT_ZONES - 1) {
		unsigned smallest = 0;
		uint64_t best = UINT64_MAX;
		for (unsigned i = 0; i + 1 < nranges; i++) {
			uint64_t gap =
			    ranges[i + 1].base_pfn - (ranges[i].base_pfn + ranges[i].npages);
			if (split[i] && gap < best) {
				best = gap;
				smallest = i;
			}
		}
		split[smallest] = false;
		nsplit--;
	}
	nzones = 0;
	for (unsigned i = 0; i < nranges; i++) {
		ranges[i].zone = nzones;
		if (split[i] || i + 1 == nranges)
			nzones++;
	}
}

/* Takes npages from the end of the largest range (of zone `zone` if one is large enough). */
static paddr_t carve(unsigned zone, size_t npages)
{
	int best = -1;

	for (int pass = 0; pass < 2 && best < 0; pass++) {
		for (unsigned i = 0; i < nranges; i++) {
			if (pass == 0 && ranges[i].zone != zone)
				continue;
			if (ranges[i].npages >= npages &&
			    (best < 0 || ranges[i].npages > ranges[best].npages))
				best = (int)i;
		}
	}
	if (best < 0)
		return 0;
	struct range *r = &ranges[best];
	r->npages -= npages;
	paddr_t meta = (r->base_pfn + r->npages) << PAGE_SHIFT;
	if (r->npages == 0)
		range_remove((unsigned)best);
	return meta;
}

int palloc_init(const struct palloc_range *free, size_t count)
{
	memset(zones, 0, sizeof(zones));
	memset(&low, 0, sizeof(low));
	nzones = nranges = last_range = 0;
	reclaim_fn = NULL;
	memset(caches, 0, sizeof(caches));
	total_pages = free_pages = meta_pages = cached_pages = 0;

	for (size_t i = 0; i < count; i++) {
		uint64_t pfn, n;
		add_input(free[i].base, free[i].npages, "palloc_init", &pfn, &n);
		if (n && range_insert(pfn, n, 0, "palloc_init") < 0)
			goto fail;
	}
	if (nranges == 0)
		return 0;

	plan_zones();
	size_t need[MAX_ZONES];
	for (unsigned zi = 0, i = 0; zi < nzones; zi++) {
		unsigned first = i;
		while (i + 1 < nranges && ranges[i + 1].zone == zi)
			i++;
		need[zi] = zone_plan(&zones[zi], ranges[first].base_pfn,
				     ranges[i].base_pfn + ranges[i].npages);
		i++;
	}
	for (unsigned zi = 0; zi < nzones; zi++) {
		paddr_t meta = carve(zi, need[zi]);
		if (!meta)
			goto fail;
		zone_place(&zones[zi], meta, need[zi]);
		meta_pages += need[zi];
	}
	for (unsigned i = 0; i < nranges; i++)
		zone_fill(&zones[ranges[i].zone], ranges[i].base_pfn, ranges[i].npages);
	for (unsigned zi = 0; zi < nzones; zi++)
		rebuild(&zones[zi]);
	return 0;

fail:
	/* Leave an empty main pool rather than a half-built one. */
	memset(zones, 0, sizeof(zones));
	nzones = nranges = last_range = 0;
	total_pages = free_pages = meta_pages = 0;
	return -ENOMEM;
}

/* Adds [pfn, pfn + n), which lies in no zone's span, as a new zone. */
static int add_zone(uint64_t pfn, uint64_t n)
{
	struct zone *z = &zones[nzones];
	size_t need;

	if (nzones == MAX_ZONES)
		goto drop;
	need = zone_plan(z, pfn, pfn + n);
	if (n <= need || range_insert(pfn, n - need, nzones, "palloc_add_range") < 0)
		goto drop;
	zone_place(z, (pfn + n - need) << PAGE_SHIFT, need);
	meta_pages += need;
	nzones++;
	zone_fill(z, pfn, n - need);
	rebuild(z);
	return 0;

drop:
	kprintf("solo: palloc: %lu pages at %#lx not added (no room for metadata)\n",
		(unsigned long)n, (unsigned long)(pfn << PAGE_SHIFT));
	return -ENOMEM;
}

int palloc_add_range(paddr_t base, size_t npages)
{
	uint64_t pfn, n;
	int err = 0;

	add_input(base, npages, "palloc_add_range", &pfn, &n);
	for (unsigned zi = 0; zi < nzones; zi++) {
		const struct zone *z = &zones[zi];
		uint64_t mb = z->meta >> PAGE_SHIFT;
		if (n && pfn < mb + z->meta_pages && mb < pfn + n)
			panic("palloc_add_range: range %#lx+%lu pages overlaps palloc metadata",
			      (unsigned long)base, (unsigned long)npages);
	}
	while (n) {
		unsigned zi;
		uint64_t m = n;

		for (zi = 0; zi < nzones; zi++)
			if (zone_covers(&zones[zi], pfn))
				break;
		if (zi < nzones) {
			struct zone *z = &zones[zi];
			m = MIN(n, z->base_pfn + z->nwords * 64 - pfn);
			if (range_insert(pfn, m, zi, "palloc_add_range") < 0) {
				err = -ENOMEM;
			} else {
				z->managed_pages += m;
				z->free_pages += m;
				total_pages += m;
				free_pages += m;
				update_run(z, pfn - z->base_pfn, m, true);
			}
		} else {
			/* Up to the next zone's span, which must not be covered twice. */
			for (unsigned j = 0; j < nzones; j++)
				if (zones[j].base_pfn > pfn)
					m = MIN(m, zones[j].base_pfn - pfn);
			if (add_zone(pfn, m) < 0)
				err = -ENOMEM;
		}
		pfn += m;
		n -= m;
	}
	return err;
}

static paddr_t take(struct zone *z, size_t s, size_t n)
{
	update_run(z, s, n, false);
	z->free_pages -= n;
	free_pages -= n;
	return (z->base_pfn + s) << PAGE_SHIFT;
}

/* ------------------------------------------------------------ reclaim */

void palloc_set_reclaim(palloc_reclaim_fn fn)
{
	reclaim_fn = fn;
}

size_t palloc_reclaim(size_t npages)
{
	if (!reclaim_fn || reclaiming || !npages)
		return 0;
	reclaiming = true;
	size_t n = reclaim_fn(npages);
	reclaiming = false;
	return n;
}

/* ------------------------------------------------------------ alloc/free */

static paddr_t try_aligned(size_t npages, size_t align_pages)
{
	if (npages > free_pages)
		return 0;

	if (npages <= FAST_MAX_PAGES && align_pages <= FAST_MAX_PAGES) {
		unsigned k = MAX(ceil_log2(npages), ceil_log2(align_pages));
		for (unsigned zi = 0; zi < nzones; zi++) {
			size_t s = find_block(&zones[zi], k);
			if (s != NONE)
				return take(&zones[zi], s, npages);
		}
	}
	for (unsigned zi = 0; zi < nzones; zi++) {
		if (zones[zi].free_pages < npages)
			continue;
		size_t s = find_run(&zones[zi], npages, align_pages);
		if (s != NONE)
			return take(&zones[zi], s, npages);
	}
	return 0;
}

/* Gives every fault cache's pages back to the pool; returns how many. */
static size_t drain_caches(void)
{
	size_t n = cached_pages;

	for (unsigned i = 0; cached_pages && i < PALLOC_CACHES; i++)
		while (caches[i].next < caches[i].end) {
			cached_pages--;
			pfree(caches[i].pages[caches[i].next++], 1);
		}
	return n;
}

paddr_t palloc_aligned(size_t npages, size_t align_pages)
{
	if (align_pages == 0)
		align_pages = 1;
	if (align_pages & (align_pages - 1))
		panic("palloc_aligned: alignment %zu pages not a power of two", align_pages);
	if (npages == 0 || failinj_point())
		return 0;
	paddr_t pa = try_aligned(npages, align_pages);
	if (!pa && drain_caches())
		pa = try_aligned(npages, align_pages);
	if (!pa && palloc_reclaim(npages))
		pa = try_aligned(npages, align_pages);
	return pa;
}

/* The lowest free page, usually found at the cursor. */
static paddr_t try_one(void)
{
	for (unsigned zi = 0; zi < nzones; zi++) {
		struct zone *z = &zones[zi];
		size_t i = z->low_word;

		if (i >= z->nwords || !z->map[i]) {
			size_t s = find_block(z, 0);
			if (s == NONE) {
				z->low_word = z->nwords;
				continue;
			}
			i = z->low_word = s / 64;
		}
		uint64_t bit = z->map[i] & -z->map[i];
		word_take(z, i, bit);
		z->free_pages--;
		free_pages--;
		return (z->base_pfn + i * 64 + ctz64(bit)) << PAGE_SHIFT;
	}
	return 0;
}

paddr_t palloc(size_t npages)
{
	if (npages != 1)
		return palloc_aligned(npages, 1);
	if (failinj_point())
		return 0;
	paddr_t pa = try_one();
	if (!pa && drain_caches())
		pa = try_one();
	if (!pa && palloc_reclaim(1))
		pa = try_one();
	return pa;
}

paddr_t palloc_no_reclaim(size_t npages)
{
	if (npages == 0 || failinj_point())
		return 0;
	return npages == 1 ? try_one() : try_aligned(npages, 1);
}

paddr_t palloc_cache_take(unsigned cache)
{
	if (failinj_point())
		return 0;
	if (cache >= PALLOC_CACHES)
		return try_one();
	struct fault_cache *c = &caches[cache];
	if (c->next == c->end) {
		c->next = c->end = 0;
		while (c->end < PALLOC_CACHE_PAGES && (c->pages[c->end] = try_one()) != 0)
			c->end++;
		if (!c->end)
			return 0;
		cached_pages += c->end;
	}
	cached_pages--;
	return c->pages[c->next++];
}

void pfree(paddr_t page, size_t npages)
{
	uint64_t pfn = page >> PAGE_SHIFT;

	if (npages == 0)
		return;
	if (page & (PAGE_SIZE - 1))
		panic("pfree: page %#lx not allocated (not page aligned)", (unsigned long)page);
	int ri = range_lookup(pfn);
	if (ri < 0)
		panic("pfree: page %#lx not allocated (not managed by palloc)",
		      (unsigned long)page);
	const struct range *r = &ranges[ri];
	if (npages > r->npages - (pfn - r->base_pfn))
		panic("pfree: page %#lx not allocated (not managed by palloc)",
		      (unsigned long)((r->base_pfn + r->npages) << PAGE_SHIFT));

	struct zone *z = &zones[r->zone];
	size_t s = pfn - z->base_pfn;
	if (npages == 1) {
		uint64_t w = z->map[s / 64], bit = 1ULL << (s % 64);
		if (w & bit)
			panic("pfree: page %#lx not allocated (already free)", (unsigned long)page);
		word_give(z, s / 64, bit);
	} else {
		size_t f = first_set(z, s, s + npages);
		if (f != NONE)
			panic("pfree: page %#lx not allocated (already free)",
			      (unsigned long)((z->base_pfn + f) << PAGE_SHIFT));
		update_run(z, s, npages, true);
	}
	z->free_pages += npages;
	free_pages += npages;
}

/*
 * Three passes over the managed ranges the request touches: every page
 * managed (else -ENOENT), every page free (else -EBUSY), then take them.
 * Checking everything before changing anything keeps it all or nothing.
 */
int palloc_claim(paddr_t base, size_t npages)
{
	uint64_t pfn = base >> PAGE_SHIFT;

	if ((base & (PAGE_SIZE - 1)) || npages == 0 || npages > (UINT64_MAX >> PAGE_SHIFT) - pfn)
		return -EINVAL;
	drain_caches(); /* a cached page is free to claim */
	for (int pass = 0; pass < 3; pass++) {
		for (uint64_t p = pfn, end = pfn + npages; p < end;) {
			int ri = range_lookup(p);
			if (ri < 0)
				return -ENOENT; /* only pass 0 can get here */
			const struct range *r = &ranges[ri];
			struct zone *z = &zones[r->zone];
			uint64_t n = MIN(end, r->base_pfn + r->npages) - p;
			size_t s = p - z->base_pfn;

			if (pass == 1 && first_clear(z, s, s + n) != s + n)
				return -EBUSY;
			if (pass == 2) {
				update_run(z, s, n, false);
				z->free_pages -= n;
				free_pages -= n;
			}
			p += n;
		}
	}
	return 0;
}

paddr_t palloc_low(size_t npages)
{
	if (npages == 0 || npages > low.free_pages)
		return 0;
	for (size_t p = 1; p + npages <= LOW_PAGES; p++) {
		size_t q = p;
		while (q < p + npages && low_test(low.free, q))
			q++;
		if (q == p + npages) {
			for (q = p; q < p + npages; q++)
				low.free[q / 64] &= ~(1ULL << (q % 64));
			low.free_pages -= npages;
			return (paddr_t)p << PAGE_SHIFT;
		}
		p = q; /* page q is not free */
	}
	return 0;
}

void pfree_low(paddr_t page, size_t npages)
{
	uint64_t pfn = page >> PAGE_SHIFT;

	if (npages == 0)
		return;
	if (page & (PAGE_SIZE - 1))
		panic("pfree_low: page %#lx not allocated (not page aligned)", (unsigned long)page);
	for (uint64_t p = pfn; p - pfn < npages; p++) {
		if (p >= LOW_PAGES || !low_test(low.managed, p))
			panic("pfree_low: page %#lx not allocated (not in the low pool)",
			      (unsigned long)(p << PAGE_SHIFT));
		if (low_test(low.free, p))
			panic("pfree_low: page %#lx not allocated (already free)",
			      (unsigned long)(p << PAGE_SHIFT));
	}
	for (uint64_t p = pfn; p - pfn < npages; p++)
		low.free[p / 64] |= 1ULL << (p % 64);
	low.free_pages += npages;
}

/* ------------------------------------------------------------ stats and checks */

/* The longest run of set bits in w. */
static unsigned longest_ones(uint64_t w)
{
	unsigned n = 0;

	for (; w; n++)
		w &= w << 1;
	return n;
}

static size_t zone_longest_run(const struct zone *z)
{
	size_t best = 0, cur = 0;

	for (size_t i = 0; i < z->nwords; i++) {
		uint64_t w = z->map[i];

		if (w == ~0ULL) {
			cur += 64;
			continue;
		}
		cur += ctz64(~w);
		best = MAX(best, cur);
		if (best < 63) /* a run inside a word that is not full is at most 63 */
			best = MAX(best, (size_t)longest_ones(w));
		cur = w ? clz64(~w) : 0;
	}
	return MAX(best, cur);
}

size_t palloc_free_pages(void)
{
	return free_pages + cached_pages;
}

void palloc_get_stats(struct palloc_stats *out)
{
	size_t run = 0;

	for (unsigned zi = 0; zi < nzones; zi++)
		run = MAX(run, zone_longest_run(&zones[zi]));
	*out = (struct palloc_stats){
	    .total_pages = total_pages,
	    .free_pages = palloc_free_pages(),
	    .largest_free_run = run,
	    .low_total_pages = low.total_pages,
	    .low_free_pages = low.free_pages,
	    .meta_pages = meta_pages,
	};
}

int palloc_check(void)
{
	int bad = 0;
	size_t all_free = 0, all_managed = 0;

	for (unsigned zi = 0; zi < nzones; zi++) {
		const struct zone *z = &zones[zi];
		size_t nfree = 0, in_ranges = 0, managed = 0;

		/*
		 * Exact bits must equal the truth below them; a hint leaf (orders
		 * 1..5 at level 1, 7..9 at level 2) may be set without a block but
		 * never clear with one.
		 */
		for (size_t i = 0; i < z->nwords; i++) {
			nfree += popcount64(z->map[i]);
			unsigned f = word_orders(z->map[i]);
			for (unsigned k = 0; k < WORD_ORDERS; k++) {
				unsigned have = z->sum[1][i / 64][k] >> (i % 64) & 1,
					 want = f >> k & 1;
				if (have != want && (exact_order(k) || want)) {
					kprintf("solo: palloc_check: zone %u word %zu order %u: "
						"summary disagrees\n",
						zi, i, k);
					bad++;
				}
			}
		}
		for (unsigned l = 1; l < z->levels; l++) {
			for (size_t r = 0; r < z->rows[l]; r++) {
				unsigned f = row_orders(l, z->sum[l][r]);
				for (unsigned k = 0; k < ORDERS; k++) {
					unsigned have = z->sum[l + 1][r / 64][k] >> (r % 64) & 1;
					unsigned want = f >> k & 1;
					bool hint = l == 1 && k >= WORD_ORDERS;
					if (have != want && (!hint || want)) {
						kprintf(
						    "solo: palloc_check: zone %u level %u row %zu "
						    "order %u: summary disagrees\n",
						    zi, l + 1, r, k);
						bad++;
					}
				}
			}
		}
		for (unsigned i = 0; i < nranges; i++) {
			const struct range *r = &ranges[i];
			size_t s, n = r->npages;
			if (r->zone != zi)
				continue;
			managed += n;
			s = r->base_pfn - z->base_pfn;
			for (size_t p = first_set(z, s, s + n); p != NONE;
			     p = first_set(z, p + 1, s + n))
				in_ranges++;
		}
		if (nfree != z->free_pages || nfree != in_ranges || managed != z->managed_pages) {
			kprintf("solo: palloc_check: zone %u: %zu free bits, %zu in ranges, "
				"count %zu; %zu managed, count %zu\n",
				zi, nfree, in_ranges, z->free_pages, managed, z->managed_pages);
			bad++;
		}
		all_free += z->free_pages;
		all_managed += z->managed_pages;
	}
	if (all_free != free_pages || all_managed != total_pages) {
		kprintf("solo: palloc_check: totals %zu/%zu, zones %zu/%zu\n", free_pages,
			total_pages, all_free, all_managed);
		bad++;
	}
	for (unsigned i = 0; i + 1 < nranges; i++) {
		if (ranges[i].base_pfn + ranges[i].npages > ranges[i + 1].base_pfn) {
			kprintf("solo: palloc_check: ranges %u and %u overlap\n", i, i + 1);
			bad++;
		}
	}
	size_t lf = 0, lm = 0;
	for (unsigned i = 0; i < LOW_PAGES / 64; i++) {
		lf += popcount64(low.free[i]);
		lm += popcount64(low.managed[i]);
		if (low.free[i] & ~low.managed[i]) {
			kprintf("solo: palloc_check: low pool: free page not managed\n");
			bad++;
		}
	}
	if (lf != low.free_pages || lm != low.total_pages) {
		kprintf("solo: palloc_check: low pool counts disagree\n");
		bad++;
	}
	return bad;
}
