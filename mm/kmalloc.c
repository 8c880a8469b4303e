/*
 * Kernel heap: size-class slabs for small blocks, whole pages for large ones.
 *
 * Small blocks (need <= 2016 bytes): 29 size classes, 16..256 in steps of
 * 16, then the largest multiples of 16 that fit 14, 13, 12, 11, 10, 9, 8,
 * 7, 6, 5, 4, 3 and 2 blocks in a slab, so a slab wastes at most a few
 * percent past 256 bytes. A slab is one palloc() page, reached through the
 * direct map:
 *
 *   page + 0     struct slab: magic, list links, class, counts,
 *                free bitmap (bit set = block free), 64 bytes
 *   page + 64    block 0, block 1, ... (class size each, 16-byte aligned)
 *
 * kfree() finds the slab by masking the pointer down to its page: a slab
 * block is never page aligned (the header is in front of it), so a
 * page-aligned pointer is always a large block. The free bitmap makes a
 * double free or a pointer into the middle of a block cheap to detect.
 * Each class keeps slabs with free blocks on a `partial` list (allocation
 * takes from its head; a slab that becomes empty moves to the tail) and
 * full slabs on a `full` list (only kmalloc_check() walks it). One empty
 * slab per class stays cached so a kmalloc/kfree pair does not go to
 * palloc every time; the next slab to become empty goes back to palloc.
 *
 * Large blocks (need > 2016 bytes, and every kmalloc_a()): whole pages from
 * palloc(), always page aligned. Their size lives in a hash table keyed by
 * address (open addressing, linear probing, backward-shift deletion, at
 * most half full, 32-byte entries in palloc pages, grown by doubling): no
 * header page per block, and kfree() of a page-aligned pointer the table
 * does not hold panics.
 *
 * Why large blocks are physically contiguous runs reached through the
 * direct map, and not pvalloc() ranges in the kernel context: the direct
 * map already maps every page (with 2 MiB pages), so a large block costs
 * no page-table work, no TLB shootdown on free and no extra TLB entries,
 * and kfree() stays one hash lookup and one pfree(); palloc finds a run of
 * up to 512 pages in O(log n), so contiguity is cheap. It also keeps the
 * heap below valloc (valloc's pool metadata never comes from kmalloc) and
 * keeps this file testable on the host, where kernel-range addresses are
 * not memory. The price: a large block needs a free physical run of its
 * size, so a heavily fragmented machine may fail a big kmalloc that
 * pvalloc() could still serve; callers that need many pages and not
 * contiguity should use pvalloc(n, &kernel_ctx, VM_WRITE) directly.
 *
 * KMALLOC_CHECK layout (the 16 bytes of canary sit right against the
 * user's bytes on both sides, so one byte over or under is caught):
 *
 *   small:  | size | caller | canary 16 | user bytes | canary to end of block (>= 8) |
 *   large:  | front page ... canary 16 | user bytes (page aligned) | canary to end of pages |
 *
 * Canary bytes are 0xa0 | (address & 15): never 0, so a stray NUL
 * terminator is caught too. Freed small blocks are filled with 0x6b.
 */
#include "mm/kmalloc.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "mm/failinj.h"
#include "mm/palloc.h"
#include "mm/phys.h"

#if defined(KMALLOC_CHECK) && KMALLOC_CHECK
#define KCHECK 1
#else
#define KCHECK 0
#endif

#define SLAB_MAGIC 0x4c4142534b4d414cULL /* "LAMKSBAL": a live kmalloc slab */
#define SLAB_HDR   64
#define SLAB_BYTES (PAGE_SIZE - SLAB_HDR)
#define SMALL_MAX  2016
#define CANARY	   16		     /* canary bytes in front of a block */
#define FRONT	   (KCHECK ? 32 : 0) /* size, caller, canary */
#define TAIL_MIN   (KCHECK ? 8 : 0)  /* canary bytes at least after a block */
#define POISON	   0x6b
#define NONE	   ((size_t)-1)

/* clang-format off */
#define CLASSES(X)                                                                     \
	X(16) X(32) X(48) X(64) X(80) X(96) X(112) X(128) X(144) X(160) X(176) X(192)  \
	X(208) X(224) X(240) X(256) X(288) X(304) X(336) X(352) X(400) X(448) X(496)   \
	X(576) X(672) X(800) X(1008) X(1344) X(2016)
/* clang-format on */
#define SIZE_OF(n) n,
/* ceil(2^32 / n): off * recip >> 32 == off / n exactly for off < 4096, n <= 2016,
 * because off / n never has a fraction closer to 1 than 1/n. */
#define RECIP_OF(n) (uint32_t)((0x100000000ULL + (n)-1) / (n)),

static const uint16_t class_size[] = {CLASSES(SIZE_OF)};
static const uint32_t class_recip[] = {CLASSES(RECIP_OF)};

_Static_assert(ARRAY_SIZE(class_size) == KMALLOC_NCLASSES, "class table and header disagree");
_Static_assert(KMALLOC_SMALL_MAX == SMALL_MAX - FRONT - TAIL_MIN,
	       "small limit and header disagree");

struct slab {
	uint64_t magic; /* SLAB_MAGIC while the page is a slab */
	struct slab *next, *prev;
	uint16_t cls;
	uint16_t nfree;
	uint16_t nobjs;
	uint16_t unused;
	uint64_t free[4]; /* bit set = block free */
};

_Static_assert(sizeof(struct slab) == SLAB_HDR, "slab header is not 64 bytes");
_Static_assert(SLAB_BYTES / 16 <= 4 * 64, "free bitmap too small for 16-byte blocks");

struct slab_list {
	struct slab *head, *tail;
};

struct size_class {
	struct slab_list partial; /* slabs with a free block; empty ones at the tail */
	struct slab_list full;
	size_t slabs, live, empty;
};

/* KMALLOC_CHECK: what sits in front of a small block. */
struct front {
	size_t size;
	void *caller;
	uint8_t canary[CANARY];
};

_Static_assert(sizeof(struct front) == 32, "front is not 32 bytes");

struct big {
	uintptr_t addr; /* the block (page aligned); 0 = empty slot */
	size_t size;	/* bytes asked for */
	size_t npages;	/* pages taken from palloc, front page included */
	void *caller;
};

static struct size_class classes[KMALLOC_NCLASSES];
/* (need + 15) / 16 -> size class; built by kmalloc_init(). */
static uint8_t class_of[SMALL_MAX / 16 + 1];
static bool ready;
static const struct kmalloc_shared_side *side;

static struct {
	struct big *tab;
	size_t cap;	  /* slots, a power of two, or 0 */
	unsigned shift;	  /* 64 - log2(cap) */
	size_t count;	  /* live large blocks */
	size_t tab_pages; /* pages holding the table */
	size_t pages;	  /* pages held by live large blocks */
} big;

void kmalloc_init(void)
{
	memset(classes, 0, sizeof(classes));
	memset(&big, 0, sizeof(big));
	for (unsigned j = 0, c = 0; j < ARRAY_SIZE(class_of); j++) {
		while (class_size[c] < j * 16)
			c++;
		class_of[j] = (uint8_t)c;
	}
	ready = true;
}

void kmalloc_set_shared_side(const struct kmalloc_shared_side *s)
{
	side = s;
}

/* Whether this call runs in a shared section, where it takes the heap's
 * lock and gets and frees pages through the side's hooks. */
static bool in_section(void)
{
	return side && side->in_section();
}

static void heap_lock(bool shared)
{
	if (shared)
		side->lock();
}

static void heap_unlock(bool shared)
{
	if (shared)
		side->unlock();
}

/* Pages the heap gives back: to palloc, or in a section to the side. */
static void pages_free(bool shared, paddr_t pa, size_t n)
{
	if (shared)
		side->free_pages(pa, n);
	else
		pfree(pa, n);
}

/* ------------------------------------------------------------ lists */

static void list_remove(struct slab_list *l, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->next = s->prev = NULL;
}

static void list_push_head(struct slab_list *l, struct slab *s)
{
	s->prev = NULL;
	s->next = l->head;
	if (l->head)
		l->head->prev = s;
	else
		l->tail = s;
	l->head = s;
}

static void list_push_tail(struct slab_list *l, struct slab *s)
{
	s->next = NULL;
	s->prev = l->tail;
	if (l->tail)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
}

/* ------------------------------------------------------------ canaries */

static inline uint8_t canary_byte(const uint8_t *p)
{
	return (uint8_t)(0xa0 | ((uintptr_t)p & 15));
}

static void canary_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = canary_byte(p + i);
}

static bool canary_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != canary_byte(p + i))
			return false;
	return true;
}

/* What is wrong with the fences of user block [p, p + size) ending at end, or NULL. */
static const char *damage(const uint8_t *p, size_t size, const uint8_t *end)
{
	if (!canary_ok(p - CANARY, CANARY))
		return "underflow (canary before the block damaged)";
	if (!canary_ok(p + size, (size_t)(end - (p + size))))
		return "overflow (canary after the block damaged)";
	return NULL;
}

/* ------------------------------------------------------------ small blocks */

static inline unsigned size_class(size_t need)
{
	return class_of[(need + 15) / 16];
}

/* Makes page pa a slab of class c, at the head of its partial list. */
static struct slab *slab_init(paddr_t pa, unsigned c)
{
	struct slab *s = phys_to_virt(pa);
	unsigned n = (unsigned)(SLAB_BYTES / class_size[c]);

	*s = (struct slab){
	    .magic = SLAB_MAGIC, .cls = (uint16_t)c, .nfree = (uint16_t)n, .nobjs = (uint16_t)n};
	for (unsigned w = 0; w < 4; w++) {
		unsigned lo = w * 64;
		s->free[w] = n <= lo ? 0 : n - lo >= 64 ? ~0ULL : (1ULL << (n - lo)) - 1;
	}
	list_push_head(&classes[c].partial, s);
	classes[c].slabs++;
	classes[c].empty++;
	return s;
}

/* Takes empty slab s off its class; the caller frees its page. */
static void slab_detach(struct size_class *sc, struct slab *s)
{
	list_remove(&sc->partial, s);
	s->magic = 0;
	sc->slabs--;
	sc->empty--;
}

static void slab_release(struct size_class *sc, struct slab *s)
{
	slab_detach(sc, s);
	pfree(virt_to_phys_direct(s), 1);
}

static void *small_alloc(size_t size, void *caller)
{
	unsigned c = size_class(size + FRONT + TAIL_MIN);
	struct size_class *sc = &classes[c];
	bool shared = in_section();

	heap_lock(shared);
	struct slab *s = sc->partial.head;
	if (!s) {
		/* In a section the page comes without the heap's lock held
		 * (its hook takes palloc's), so another CPU may have added a
		 * slab meanwhile: then this class just has one more. */
		heap_unlock(shared);
		paddr_t pa = shared ? side->pages(1) : palloc(1);
		if (!pa)
			return NULL;
		heap_lock(shared);
		s = slab_init(pa, c);
	}
	if (s->nfree == s->nobjs)
		sc->empty--;
	unsigned w = 0;
	while (!s->free[w])
		w++;
	unsigned idx = w * 64 + (unsigned)__builtin_ctzll(s->free[w]);
	s->free[w] &= s->free[w] - 1;
	if (--s->nfree == 0) {
		list_remove(&sc->partial, s);
		list_push_head(&sc->full, s);
	}
	sc->live++;
	heap_unlock(shared);

	/* The block is this caller's alone from here. */
	uint8_t *block = (uint8_t *)s + SLAB_HDR + (size_t)idx * class_size[c];
	if (KCHECK) {
		struct front *f = (struct front *)block;
		f->size = size;
		f->caller = caller;
		canary_fill(f->canary, CANARY);
		canary_fill(block + FRONT + size, class_size[c] - FRONT - size);
	}
	return block + FRONT;
}

/* KMALLOC_CHECK: the damage of the small block whose struct front is at block, or NULL. */
static const char *small_damage(const uint8_t *block, unsigned c, size_t *size)
{
	const struct front *f = (const struct front *)block;

	*size = f->size;
	if (f->size > (size_t)class_size[c] - FRONT - TAIL_MIN) {
		*size = 0;
		return "underflow (block header damaged)";
	}
	return damage(block + FRONT, f->size, block + class_size[c]);
}

static void small_free(void *ptr)
{
	struct slab *s = (struct slab *)((uintptr_t)ptr & ~(PAGE_SIZE - 1));
	bool shared = in_section();

	heap_lock(shared);
	if (s->magic != SLAB_MAGIC || s->cls >= KMALLOC_NCLASSES)
		panic("kfree: %p not allocated (not in a kmalloc slab)", ptr);
	unsigned c = s->cls;
	struct size_class *sc = &classes[c];
	uint8_t *first = (uint8_t *)s + SLAB_HDR;
	size_t off = (size_t)((uint8_t *)ptr - FRONT - first);
	size_t idx = off < SLAB_BYTES ? (off * class_recip[c]) >> 32 : NONE;

	if (idx >= s->nobjs || idx * class_size[c] != off)
		panic("kfree: %p not allocated (not the start of a block)", ptr);
	uint64_t bit = 1ULL << (idx % 64);
	if (s->free[idx / 64] & bit)
		panic("kfree: %p not allocated (already free)", ptr);
	if (KCHECK) {
		uint8_t *block = first + off;
		size_t size;
		const char *what = small_damage(block, c, &size);
		if (what)
			panic("kfree: %p (%zu bytes, allocated by %p): %s", ptr, size,
			      ((struct front *)block)->caller, what);
		memset(block, POISON, class_size[c]);
	}

	s->free[idx / 64] |= bit;
	sc->live--;
	if (s->nfree++ == 0) {
		list_remove(&sc->full, s);
		list_push_head(&sc->partial, s);
	}
	if (s->nfree == s->nobjs) {
		sc->empty++;
		if (sc->empty > 1) {
			slab_detach(sc, s);
			heap_unlock(shared);
			pages_free(shared, virt_to_phys_direct(s), 1);
			return;
		}
		list_remove(&sc->partial, s);
		list_push_tail(&sc->partial, s);
	}
	heap_unlock(shared);
}

/* ------------------------------------------------------------ large blocks */

static size_t big_slot(uintptr_t addr)
{
	return (size_t)(((uint64_t)(addr >> PAGE_SHIFT) * 0x9e3779b97f4a7c15ULL) >> big.shift);
}

static void big_insert(const struct big *e)
{
	size_t i = big_slot(e->addr);

	while (big.tab[i].addr)
		i = (i + 1) & (big.cap - 1);
	big.tab[i] = *e;
}

#define BIG_MIN_CAP (PAGE_SIZE / sizeof(struct big)) /* a page of slots */

/* Moves the table into one of cap slots (a power of two, at least
 * BIG_MIN_CAP, more than twice the live blocks); false when palloc is out
 * of pages (the old table stays). */
static bool big_rehash(size_t cap)
{
	size_t npages = cap * sizeof(struct big) / PAGE_SIZE;
	paddr_t pa = palloc(npages);

	if (!pa)
		return false;
	struct big *old = big.tab;
	size_t old_cap = big.cap, old_pages = big.tab_pages;

	big.tab = phys_to_virt(pa);
	memset(big.tab, 0, npages * PAGE_SIZE);
	big.cap = cap;
	big.shift = 64 - (unsigned)__builtin_ctzll(cap);
	big.tab_pages = npages;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].addr)
			big_insert(&old[i]);
	if (old)
		pfree(virt_to_phys_direct(old), old_pages);
	return true;
}

/* Whether a table of cap slots has room for one more large block: it is
 * kept at most half full. */
static bool room_for_one_more(size_t cap)
{
	return (big.count + 1) * 2 <= cap;
}

/* Doubles the table (or makes the first one). */
static bool big_grow(void)
{
	return big_rehash(big.cap ? big.cap * 2 : BIG_MIN_CAP);
}

static size_t big_find(uintptr_t addr)
{
	if (!big.cap)
		return NONE;
	for (size_t i = big_slot(addr);; i = (i + 1) & (big.cap - 1)) {
		if (big.tab[i].addr == addr)
			return i;
		if (!big.tab[i].addr)
			return NONE;
	}
}

/* Empties slot i, shifting back later entries of its probe chain. */
static void big_delete(size_t i)
{
	size_t mask = big.cap - 1;

	for (size_t j = i;;) {
		big.tab[i].addr = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!big.tab[j].addr)
				return;
			size_t h = big_slot(big.tab[j].addr);
			/* Entry j may move to i unless its home h lies cyclically in (i, j]. */
			bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
			if (!stays)
				break;
		}
		big.tab[i] = big.tab[j];
		i = j;
	}
}

static void *big_alloc(size_t size, void *caller)
{
	size_t npages = (size + TAIL_MIN + PAGE_SIZE - 1) / PAGE_SIZE + (KCHECK ? 1 : 0);
	bool shared = in_section();

	/* Growing the table frees the old one and may reclaim: a holder's. */
	if (!shared && !room_for_one_more(big.cap) && !big_grow())
		return NULL;
	paddr_t pa = shared ? side->pages(npages) : palloc(npages);
	if (!pa)
		return NULL;
	heap_lock(shared);
	if (!room_for_one_more(big.cap)) { /* only in a section */
		heap_unlock(shared);
		pages_free(shared, pa, npages);
		return NULL;
	}
	uint8_t *p = (uint8_t *)phys_to_virt(pa) + (KCHECK ? PAGE_SIZE : 0);
	struct big e = {.addr = (uintptr_t)p, .size = size, .npages = npages, .caller = caller};

	big_insert(&e);
	big.count++;
	big.pages += npages;
	heap_unlock(shared);
	if (KCHECK) {
		uint8_t *end = (uint8_t *)phys_to_virt(pa) + npages * PAGE_SIZE;
		canary_fill(p - CANARY, CANARY);
		canary_fill(p + size, (size_t)(end - (p + size)));
	}
	return p;
}

static const char *big_damage(const struct big *e)
{
	const uint8_t *p = (const uint8_t *)e->addr;
	const uint8_t *end = p - (KCHECK ? PAGE_SIZE : 0) + e->npages * PAGE_SIZE;

	return damage(p, e->size, end);
}

static void big_free(void *ptr)
{
	bool shared = in_section();

	heap_lock(shared);
	size_t i = big_find((uintptr_t)ptr);

	if (i == NONE)
		panic("kfree: %p not allocated (no such large block)", ptr);
	struct big e = big.tab[i];
	if (KCHECK) {
		const char *what = big_damage(&e);
		if (what)
			panic("kfree: %p (%zu bytes, allocated by %p): %s", ptr, e.size, e.caller,
			      what);
	}
	big_delete(i);
	big.count--;
	big.pages -= e.npages;
	heap_unlock(shared);
	pages_free(shared, virt_to_phys_direct(ptr) - (KCHECK ? PAGE_SIZE : 0), e.npages);
}

/* ------------------------------------------------------------ public */

static void *alloc(size_t size, bool page_aligned, void *caller)
{
	if (!ready)
		panic("kmalloc: called before kmalloc_init");
	if (size == 0 || size > SIZE_MAX / 2 || failinj_point())
		return NULL;
	if (!page_aligned && size <= KMALLOC_SMALL_MAX)
		return small_alloc(size, caller);
	return big_alloc(size, caller);
}

void *kmalloc(size_t size)
{
	return alloc(size, false, __builtin_return_address(0));
}

void *zmalloc(size_t size)
{
	void *p = alloc(size, false, __builtin_return_address(0));
	if (p)
		memset(p, 0, size);
	return p;
}

void *kmalloc_a(size_t size)
{
	return alloc(size, true, __builtin_return_address(0));
}

void *zmalloc_a(size_t size)
{
	void *p = alloc(size, true, __builtin_return_address(0));
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	if ((uintptr_t)ptr & (PAGE_SIZE - 1))
		small_free(ptr);
	else
		big_free(ptr);
}

void kmalloc_trim(void)
{
	for (unsigned c = 0; c < KMALLOC_NCLASSES; c++) {
		struct size_class *sc = &classes[c];
		for (struct slab *s = sc->partial.head, *next; s; s = next) {
			next = s->next;
			if (s->nfree == s->nobjs)
				slab_release(sc, s);
		}
	}
	if (big.count == 0 && big.tab) {
		pfree(virt_to_phys_direct(big.tab), big.tab_pages);
		big.tab = NULL;
		big.cap = big.tab_pages = 0;
		return;
	}
	/* A table grown for a burst of large blocks shrinks back to the
	 * smallest that has room for the next one (as big_alloc wants). */
	size_t cap = BIG_MIN_CAP;
	while (!room_for_one_more(cap))
		cap *= 2;
	if (cap < big.cap)
		(void)big_rehash(cap); /* without a page for it, the larger one stays */
}

/* KMALLOC_CHECK: reports each damaged live block of slab s; returns how many. */
static int check_slab(const struct slab *s)
{
	int bad = 0;

	for (unsigned idx = 0; idx < s->nobjs; idx++) {
		if (s->free[idx / 64] >> (idx % 64) & 1)
			continue;
		const uint8_t *block =
		    (const uint8_t *)s + SLAB_HDR + (size_t)idx * class_size[s->cls];
		const struct front *f = (const struct front *)block;
		size_t size;
		const char *what = small_damage(block, s->cls, &size);
		if (what) {
			kprintf("solo: kmalloc_check: %p (%zu bytes, allocated by %p): %s\n",
				(const void *)(block + FRONT), size, f->caller, what);
			bad++;
		}
	}
	return bad;
}

int kmalloc_check(void)
{
	int bad = 0;

	if (!KCHECK)
		return 0;
	for (unsigned c = 0; c < KMALLOC_NCLASSES; c++) {
		for (const struct slab *s = classes[c].partial.head; s; s = s->next)
			bad += check_slab(s);
		for (const struct slab *s = classes[c].full.head; s; s = s->next)
			bad += check_slab(s);
	}
	for (size_t i = 0; i < big.cap; i++) {
		const struct big *e = &big.tab[i];
		const char *what = e->addr ? big_damage(e) : NULL;
		if (what) {
			kprintf("solo: kmalloc_check: %p (%zu bytes, allocated by %p): %s\n",
				(void *)e->addr, e->size, e->caller, what);
			bad++;
		}
	}
	return bad;
}

void kmalloc_get_stats(struct kmalloc_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned c = 0; c < KMALLOC_NCLASSES; c++) {
		const struct size_class *sc = &classes[c];
		struct kmalloc_class_stats *cs = &out->classes[c];

		cs->size = class_size[c];
		cs->slabs = sc->slabs;
		cs->live = sc->live;
		cs->free = sc->slabs * (SLAB_BYTES / class_size[c]) - sc->live;
		out->bytes_in_use += sc->live * class_size[c];
		out->pages_held += sc->slabs;
		out->live_allocations += sc->live;
	}
	out->bytes_in_use += big.pages * PAGE_SIZE;
	out->pages_held += big.pages + big.tab_pages;
	out->live_allocations += big.count;
	out->large_allocations = big.count;
	out->large_pages = big.pages;
}

void kmalloc_dump(void)
{
	struct kmalloc_stats st;

	kmalloc_get_stats(&st);
	kprintf("solo: kmalloc: %zu live, %zu bytes in use, %zu pages held%s\n",
		st.live_allocations, st.bytes_in_use, st.pages_held,
		KCHECK ? " (KMALLOC_CHECK)" : "");
	for (unsigned c = 0; c < KMALLOC_NCLASSES; c++) {
		const struct kmalloc_class_stats *cs = &st.classes[c];
		if (cs->slabs)
			kprintf("solo: kmalloc:   %4zu bytes: %3zu slabs, %6zu live, %6zu free\n",
				cs->size, cs->slabs, cs->live, cs->free);
	}
	kprintf("solo: kmalloc:   large: %zu blocks, %zu pages; table %zu pages\n",
		st.large_allocations, st.large_pages, big.tab_pages);
}
