/*
 * Address-range pools (see valloc.h), and pvalloc, map_mmio and kernel
 * stacks on top of them.
 *
 * A pool is the set of free ranges of its span, kept as an AVL tree keyed
 * by base address. The ranges never overlap and never touch: vfree()
 * merges a range with a free neighbour on either side, so the tree holds
 * the fewest ranges that describe the free pages. Each node also holds
 * the largest npages in its subtree (max_npages), which is what makes
 * address-ordered first fit O(log r): from the root, go left while the
 * left subtree has a run large enough, else take this node if it is large
 * enough, else go right. Lowest-address first fit keeps the allocated
 * part of a pool packed at its bottom, which keeps page tables few, and
 * is known to fragment about as little as best fit.
 *
 * Changing a node's base or size never reorders the tree (a range only
 * grows into free space, which no other node holds, or shrinks), so those
 * updates only recompute max_npages on the path from the root; inserting
 * and removing a node rebalance on the way back up. Every operation walks
 * one or two root-to-leaf paths: O(log r), recursion depth <= 1.44 log2 r.
 *
 * Nodes are 48 bytes, 84 to a palloc() page (the page's first slot links
 * the pool's node pages). Unused nodes wait on a free list; node pages go
 * back to palloc() only with the pool. valloc() and valloc_reserve() of
 * a whole free range put a node on the free list; splitting a range in
 * the middle and freeing a range with no free neighbour take one.
 */
#include "mm/valloc.h"

#include <stdbool.h>

#include "kernel/arch/x86_64/mmu.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "mm/failinj.h"
#include "mm/palloc.h"

struct valloc_node {
	vaddr_t base;
	size_t npages;
	size_t max_npages; /* the largest npages in this subtree */
	struct valloc_node *left, *right;
	int height; /* a leaf is 1 */
};

_Static_assert(sizeof(struct valloc_node) == 48, "valloc_node is not 48 bytes");

struct node_page {
	paddr_t next; /* the pool's next node page, 0 at the end */
};

#define NODES_PER_PAGE (PAGE_SIZE / sizeof(struct valloc_node) - 1)
#define PVALLOC_FLAGS  (VM_WRITE | VM_EXEC | VM_USER | VM_GLOBAL | VM_UNCACHED | VM_WRITE_COMBINING)

_Static_assert(NODES_PER_PAGE == 84, "the header promises 84 nodes per page");

/* ------------------------------------------------------------ nodes */

static bool node_page_add(struct valloc_pool *pool)
{
	paddr_t pa = palloc(1);

	if (!pa)
		return false;
	struct node_page *page = phys_to_virt(pa);
	struct valloc_node *nodes = (struct valloc_node *)page + 1;

	page->next = pool->node_pages;
	pool->node_pages = pa;
	pool->nnode_pages++;
	for (size_t i = 0; i < NODES_PER_PAGE; i++) {
		nodes[i].left = pool->spare;
		pool->spare = &nodes[i];
	}
	return true;
}

/* An unused node, or NULL when none is left and palloc() has no page. */
static struct valloc_node *node_get(struct valloc_pool *pool)
{
	if (!pool->spare && !node_page_add(pool))
		return NULL;
	struct valloc_node *n = pool->spare;
	pool->spare = n->left;
	return n;
}

static void node_put(struct valloc_pool *pool, struct valloc_node *n)
{
	n->left = pool->spare;
	pool->spare = n;
}

static vaddr_t node_end(const struct valloc_node *n)
{
	return n->base + n->npages * PAGE_SIZE;
}

/* ------------------------------------------------------------ AVL tree */

static int height_of(const struct valloc_node *n)
{
	return n ? n->height : 0;
}

static size_t max_of(const struct valloc_node *n)
{
	return n ? n->max_npages : 0;
}

/* Recomputes n's height and max_npages from its children. */
static void fix(struct valloc_node *n)
{
	n->height = 1 + MAX(height_of(n->left), height_of(n->right));
	n->max_npages = MAX(n->npages, MAX(max_of(n->left), max_of(n->right)));
}

static struct valloc_node *rotate_right(struct valloc_node *n)
{
	struct valloc_node *l = n->left;

	n->left = l->right;
	l->right = n;
	fix(n);
	fix(l);
	return l;
}

static struct valloc_node *rotate_left(struct valloc_node *n)
{
	struct valloc_node *r = n->right;

	n->right = r->left;
	r->left = n;
	fix(n);
	fix(r);
	return r;
}

/* n's subtrees are AVL trees whose heights differ by at most 2: returns the
 * balanced subtree that replaces n. */
static struct valloc_node *balance(struct valloc_node *n)
{
	int diff = height_of(n->left) - height_of(n->right);

	if (diff > 1) {
		if (height_of(n->left->left) < height_of(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (diff < -1) {
		if (height_of(n->right->right) < height_of(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	fix(n);
	return n;
}

static struct valloc_node *tree_insert(struct valloc_node *t, struct valloc_node *n)
{
	if (!t) {
		n->left = n->right = NULL;
		fix(n);
		return n;
	}
	if (n->base < t->base)
		t->left = tree_insert(t->left, n);
	else
		t->right = tree_insert(t->right, n);
	return balance(t);
}

static struct valloc_node *tree_remove_min(struct valloc_node *t, struct valloc_node **min)
{
	if (!t->left) {
		*min = t;
		return t->right;
	}
	t->left = tree_remove_min(t->left, min);
	return balance(t);
}

/* Unlinks the node whose base is base (it must be there). */
static struct valloc_node *tree_remove(struct valloc_node *t, vaddr_t base)
{
	if (!t)
		panic("valloc: free range at %#lx missing from its tree", base);
	if (base < t->base) {
		t->left = tree_remove(t->left, base);
	} else if (base > t->base) {
		t->right = tree_remove(t->right, base);
	} else {
		struct valloc_node *successor;

		if (!t->right)
			return t->left;
		struct valloc_node *right = tree_remove_min(t->right, &successor);
		successor->left = t->left;
		successor->right = right;
		return balance(successor);
	}
	return balance(t);
}

/* Recomputes max_npages on the path to the node whose base is base, after
 * its size changed. */
static void tree_refresh(struct valloc_node *t, vaddr_t base)
{
	if (base < t->base)
		tree_refresh(t->left, base);
	else if (base > t->base)
		tree_refresh(t->right, base);
	fix(t);
}

/* The free range with the highest base <= va, or NULL. */
static struct valloc_node *floor_node(struct valloc_node *t, vaddr_t va)
{
	struct valloc_node *best = NULL;

	while (t) {
		if (t->base <= va) {
			best = t;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best;
}

/* The free range with the lowest base > va, or NULL. */
static struct valloc_node *above_node(struct valloc_node *t, vaddr_t va)
{
	struct valloc_node *best = NULL;

	while (t) {
		if (t->base > va) {
			best = t;
			t = t->left;
		} else {
			t = t->right;
		}
	}
	return best;
}

/* The lowest free range of at least npages, or NULL. */
static struct valloc_node *first_fit(struct valloc_node *t, size_t npages)
{
	if (max_of(t) < npages)
		return NULL;
	for (;;) {
		if (max_of(t->left) >= npages)
			t = t->left;
		else if (t->npages >= npages)
			return t;
		else
			t = t->right;
	}
}

/* ------------------------------------------------------------ pools */

int valloc_pool_init(struct valloc_pool *pool, vaddr_t base, vaddr_t end)
{
	if ((base | end) & (PAGE_SIZE - 1) || base >= end)
		panic("valloc_pool_init: bad span [%#lx, %#lx)", base, end);
	*pool = (struct valloc_pool){.base = base, .end = end};

	struct valloc_node *n = node_get(pool);
	if (!n)
		return -ENOMEM;
	n->base = base;
	n->npages = (end - base) / PAGE_SIZE;
	pool->root = tree_insert(NULL, n);
	pool->npages_free = n->npages;
	pool->nranges_free = 1;
	return 0;
}

void valloc_pool_destroy(struct valloc_pool *pool)
{
	for (paddr_t pa = pool->node_pages, next; pa; pa = next) {
		next = ((struct node_page *)phys_to_virt(pa))->next;
		pfree(pa, 1);
	}
	*pool = (struct valloc_pool){0};
}

/* Whether [base, + npages pages) is a non-empty, page-aligned range inside
 * the pool's span. */
static bool in_span(const struct valloc_pool *pool, vaddr_t base, size_t npages)
{
	return !(base & (PAGE_SIZE - 1)) && npages && base >= pool->base && base < pool->end &&
	       npages <= (pool->end - base) / PAGE_SIZE;
}

/* Takes [base, base + npages pages) out of free range n, which holds it. */
static int take_from(struct valloc_pool *pool, struct valloc_node *n, vaddr_t base, size_t npages)
{
	vaddr_t end = base + npages * PAGE_SIZE, n_end = node_end(n);

	if (base == n->base && end == n_end) {
		pool->root = tree_remove(pool->root, n->base);
		node_put(pool, n);
		pool->nranges_free--;
	} else if (base == n->base) {
		n->base = end; /* stays between its neighbours: no reordering */
		n->npages -= npages;
		tree_refresh(pool->root, n->base);
	} else if (end == n_end) {
		n->npages -= npages;
		tree_refresh(pool->root, n->base);
	} else {
		struct valloc_node *tail = node_get(pool);
		if (!tail)
			return -ENOMEM;
		tail->base = end;
		tail->npages = (n_end - end) / PAGE_SIZE;
		n->npages = (base - n->base) / PAGE_SIZE;
		tree_refresh(pool->root, n->base);
		pool->root = tree_insert(pool->root, tail);
		pool->nranges_free++;
	}
	pool->npages_free -= npages;
	return 0;
}

vaddr_t valloc(size_t npages, struct vm_ctx *ctx)
{
	struct valloc_pool *pool = &ctx->ranges;
	struct valloc_node *n = npages && !failinj_point() ? first_fit(pool->root, npages) : NULL;

	if (!n)
		return 0;
	vaddr_t base = n->base;
	take_from(pool, n, base, npages); /* from the front: cannot fail */
	return base;
}

int valloc_reserve(struct vm_ctx *ctx, vaddr_t base, size_t npages)
{
	struct valloc_pool *pool = &ctx->ranges;

	if (!in_span(pool, base, npages))
		return -EINVAL;
	struct valloc_node *n = floor_node(pool->root, base);
	if (!n || base >= node_end(n) || npages > (node_end(n) - base) / PAGE_SIZE)
		return -EEXIST;
	return take_from(pool, n, base, npages);
}

void vfree(vaddr_t base, size_t npages, struct vm_ctx *ctx)
{
	struct valloc_pool *pool = &ctx->ranges;

	if (!npages)
		return;
	if (!in_span(pool, base, npages))
		panic("vfree: [%#lx, +%zu pages) is not a page-aligned range inside the pool "
		      "[%#lx, %#lx)",
		      base, npages, pool->base, pool->end);
	vaddr_t end = base + npages * PAGE_SIZE;
	struct valloc_node *before = floor_node(pool->root, base);
	struct valloc_node *after = above_node(pool->root, base);

	if (before && node_end(before) > base)
		panic("vfree: [%#lx, %#lx) is already free in part: [%#lx, %#lx) is free", base,
		      end, before->base, node_end(before));
	if (after && after->base < end)
		panic("vfree: [%#lx, %#lx) is already free in part: [%#lx, %#lx) is free", base,
		      end, after->base, node_end(after));

	bool join_before = before && node_end(before) == base;
	bool join_after = after && after->base == end;

	if (join_before && join_after) {
		before->npages += npages + after->npages;
		pool->root = tree_remove(pool->root, after->base);
		node_put(pool, after);
		pool->nranges_free--;
		tree_refresh(pool->root, before->base);
	} else if (join_before) {
		before->npages += npages;
		tree_refresh(pool->root, before->base);
	} else if (join_after) {
		after->base = base;
		after->npages += npages;
		tree_refresh(pool->root, after->base);
	} else {
		struct valloc_node *n = node_get(pool);
		if (!n) {
			/* Out of memory for one node: leaving the range reserved is
			 * safe (it is never handed out twice), so this is no panic. */
			pool->npages_lost += npages;
			kprintf("solo: vfree: no page for a range node, [%#lx, %#lx) stays "
				"reserved\n",
				base, end);
			return;
		}
		n->base = base;
		n->npages = npages;
		pool->root = tree_insert(pool->root, n);
		pool->nranges_free++;
	}
	pool->npages_free += npages;
}

/* ------------------------------------------------------------ backed ranges */

static void check_flags(const char *who, const struct vm_ctx *ctx, unsigned flags)
{
	if (flags & ~PVALLOC_FLAGS)
		panic("%s: unknown flags %#x", who, flags & ~PVALLOC_FLAGS);
	if ((flags & VM_UNCACHED) && (flags & VM_WRITE_COMBINING))
		panic("%s: both VM_UNCACHED and VM_WRITE_COMBINING", who);
	if ((flags & VM_USER) && ctx->ranges.base >= VM_KERNEL_HALF)
		panic("%s: VM_USER in the kernel context", who);
}

/* Unmaps the npages pages at va and, when free_frames is set, pfree()s the
 * page behind each. Panics naming who on a page that is not mapped. */
static void unback(const char *who, struct vm_ctx *ctx, vaddr_t va, size_t npages, bool free_frames)
{
	for (size_t i = 0; i < npages; i++) {
		vaddr_t page = va + i * PAGE_SIZE;
		paddr_t pa;

		if (vm_unmap(ctx, page, &pa))
			panic("%s: page %#lx of [%#lx, %#lx) not mapped", who, page, va,
			      va + npages * PAGE_SIZE);
		if (free_frames)
			pfree(pa, 1);
	}
}

/* back()'s phys for "a fresh zeroed page each": never a page address. */
#define FRESH_PAGES ((paddr_t)-1)

/* Maps page i of [va, + npages pages) to phys + i pages, or to a fresh
 * zeroed page when phys is FRESH_PAGES. On failure unmaps (and frees) what
 * it did and returns -ENOMEM. A page already mapped in a range the pool
 * handed out means the pool and the page tables disagree: panic. */
static int back(const char *who, struct vm_ctx *ctx, vaddr_t va, size_t npages, paddr_t phys,
		unsigned flags)
{
	bool fresh = phys == FRESH_PAGES;
	size_t i;

	for (i = 0; i < npages; i++) {
		paddr_t pa = fresh ? palloc(1) : phys + i * PAGE_SIZE;

		if (fresh && !pa)
			goto unmap_done;
		if (fresh) {
			mmu_zero_page(phys_to_virt(pa));
			if (flags & (VM_UNCACHED | VM_WRITE_COMBINING))
				mmu_flush_cache_page(phys_to_virt(pa));
		}
		int err = vm_map(ctx, va + i * PAGE_SIZE, pa, flags);
		if (err == -EEXIST)
			panic("%s: %#lx is already mapped but was free in the pool", who,
			      va + i * PAGE_SIZE);
		if (err) {
			if (fresh)
				pfree(pa, 1);
			goto unmap_done;
		}
	}
	return 0;

unmap_done:
	unback(who, ctx, va, i, fresh);
	return -ENOMEM;
}

vaddr_t pvalloc(size_t npages, struct vm_ctx *ctx, unsigned flags)
{
	check_flags("pvalloc", ctx, flags);
	vaddr_t va = valloc(npages, ctx);
	if (!va)
		return 0;
	if (back("pvalloc", ctx, va, npages, FRESH_PAGES, flags)) {
		vfree(va, npages, ctx);
		return 0;
	}
	return va;
}

void pvfree(vaddr_t base, size_t npages, struct vm_ctx *ctx)
{
	unback("pvfree", ctx, base, npages, true);
	vfree(base, npages, ctx);
}

/* ------------------------------------------------------------ MMIO */

/* Above the 52-bit physical address space, a page-table entry cannot say it. */
#define PHYS_LIMIT (1ull << 52)

void *map_mmio(paddr_t phys, size_t size, unsigned cache)
{
	if (cache != 0 && cache != VM_UNCACHED && cache != VM_WRITE_COMBINING)
		panic("map_mmio: cache mode %#x is not VM_UNCACHED, VM_WRITE_COMBINING or 0",
		      cache);
	if (!size || phys >= PHYS_LIMIT || size > PHYS_LIMIT - phys)
		return NULL;
	size_t offset = phys & (PAGE_SIZE - 1);
	size_t npages = (offset + size + PAGE_SIZE - 1) / PAGE_SIZE;
	vaddr_t va = valloc(npages, &kernel_ctx);

	if (!va)
		return NULL;
	if (back("map_mmio", &kernel_ctx, va, npages, phys - offset, VM_WRITE | cache)) {
		vfree(va, npages, &kernel_ctx);
		return NULL;
	}
	return (void *)(uintptr_t)(va + offset);
}

void unmap_mmio(void *va, size_t size)
{
	vaddr_t v = (vaddr_t)(uintptr_t)va;
	size_t offset = v & (PAGE_SIZE - 1);
	size_t npages = (offset + size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (!size)
		return;
	unback("unmap_mmio", &kernel_ctx, v - offset, npages, false);
	vfree(v - offset, npages, &kernel_ctx);
}

/* ------------------------------------------------------------ kernel stacks */

int kstack_alloc(size_t npages, struct kstack *out)
{
	if (!npages || npages >= VM_KERNEL_RANGES_SIZE / PAGE_SIZE)
		return -EINVAL;
	vaddr_t guard = valloc(npages + 1, &kernel_ctx);
	if (!guard)
		return -ENOMEM;
	if (back("kstack_alloc", &kernel_ctx, guard + PAGE_SIZE, npages, FRESH_PAGES, VM_WRITE)) {
		vfree(guard, npages + 1, &kernel_ctx);
		return -ENOMEM;
	}
	*out = (struct kstack){
	    .guard = guard, .bottom = guard + PAGE_SIZE, .top = guard + (npages + 1) * PAGE_SIZE};
	return 0;
}

void kstack_free(struct kstack *ks)
{
	if (ks->bottom != ks->guard + PAGE_SIZE || ks->top <= ks->bottom ||
	    (ks->top & (PAGE_SIZE - 1)))
		panic("kstack_free: [%#lx, %#lx) guard %#lx is not a kernel stack", ks->bottom,
		      ks->top, ks->guard);
	if (!vm_lookup(&kernel_ctx, ks->guard, NULL, NULL))
		panic("kstack_free: guard page %#lx of stack [%#lx, %#lx) is mapped", ks->guard,
		      ks->bottom, ks->top);
	size_t npages = (ks->top - ks->bottom) / PAGE_SIZE;

	unback("kstack_free", &kernel_ctx, ks->bottom, npages, true);
	vfree(ks->guard, npages + 1, &kernel_ctx);
	*ks = (struct kstack){0};
}

/* ------------------------------------------------------------ diagnostics */

void valloc_get_stats(const struct vm_ctx *ctx, struct valloc_stats *out)
{
	const struct valloc_pool *pool = &ctx->ranges;

	*out = (struct valloc_stats){
	    .base = pool->base,
	    .end = pool->end,
	    .npages_free = pool->npages_free,
	    .nranges_free = pool->nranges_free,
	    .largest_free = max_of(pool->root),
	    .nnode_pages = pool->nnode_pages,
	    .npages_lost = pool->npages_lost,
	};
}

struct check {
	const struct valloc_pool *pool;
	vaddr_t prev_end; /* end of the last range visited, 0 before the first */
	size_t npages, nranges;
	int bad;
};

/* Checks the subtree t in address order; returns its height. */
static int check_subtree(struct check *c, const struct valloc_node *t)
{
	if (!t)
		return 0;
	int hl = check_subtree(c, t->left);
	const struct valloc_pool *pool = c->pool;

	if (t->base & (PAGE_SIZE - 1) || !t->npages || t->base < pool->base ||
	    t->npages > (pool->end - t->base) / PAGE_SIZE) {
		kprintf("solo: valloc_check: range [%#lx, +%zu pages) outside [%#lx, %#lx)\n",
			t->base, t->npages, pool->base, pool->end);
		c->bad++;
	}
	if (c->nranges && t->base <= c->prev_end) {
		kprintf("solo: valloc_check: range at %#lx overlaps or touches the one ending at "
			"%#lx\n",
			t->base, c->prev_end);
		c->bad++;
	}
	c->prev_end = node_end(t);
	c->npages += t->npages;
	c->nranges++;
	int hr = check_subtree(c, t->right);

	if (t->height != 1 + MAX(hl, hr) || hl - hr > 1 || hr - hl > 1) {
		kprintf("solo: valloc_check: node %#lx height %d, children %d and %d\n", t->base,
			t->height, hl, hr);
		c->bad++;
	}
	if (t->max_npages != MAX(t->npages, MAX(max_of(t->left), max_of(t->right)))) {
		kprintf("solo: valloc_check: node %#lx max %zu is wrong\n", t->base, t->max_npages);
		c->bad++;
	}
	return 1 + MAX(hl, hr);
}

int valloc_check(const struct vm_ctx *ctx)
{
	struct check c = {.pool = &ctx->ranges};

	check_subtree(&c, ctx->ranges.root);
	if (c.npages != ctx->ranges.npages_free || c.nranges != ctx->ranges.nranges_free) {
		kprintf("solo: valloc_check: %zu pages in %zu ranges, counters say %zu in %zu\n",
			c.npages, c.nranges, ctx->ranges.npages_free, ctx->ranges.nranges_free);
		c.bad++;
	}
	return c.bad;
}

static void dump_subtree(const struct valloc_node *t)
{
	if (!t)
		return;
	dump_subtree(t->left);
	kprintf("solo:   free %016lx - %016lx  %zu pages\n", t->base, node_end(t), t->npages);
	dump_subtree(t->right);
}

void valloc_dump(const struct vm_ctx *ctx)
{
	const struct valloc_pool *pool = &ctx->ranges;

	kprintf("solo: valloc pool [%#lx, %#lx): %zu pages free in %zu ranges, %zu node pages\n",
		pool->base, pool->end, pool->npages_free, pool->nranges_free, pool->nnode_pages);
	dump_subtree(pool->root);
}
