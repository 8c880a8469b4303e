/*
 * The app's address space (see aspace.h): regions over one user context.
 *
 * Regions are kmalloc'd records in a singly linked list sorted by base,
 * which the walks over ranges follow, and in a treap by base, through
 * which the region of an address is found: O(log regions) per fault and
 * per call, O(1) when it is the region found last (the hint). An app has
 * a handful of regions or, with musl's allocator under churn or Go,
 * hundreds (musl maps each large group on its own): with the list alone,
 * make bench-apps' malloc spent most of its kernel time walking it.
 *
 * Two records of the same thing are kept in step:
 *   - the context's range pool (valloc) holds every region's range, and the
 *     stack's guard page, as reserved. The pool is the authority on what is
 *     free: a fixed-address mapping or a heap that grows is reserved there
 *     first, and -EEXIST from valloc_reserve() is the overlap check;
 *   - the page tables hold the backed pages. Each region counts its backed
 *     pages (except IMAGE, whose pages the loader maps behind our back: they
 *     are counted with vm_lookup() when asked).
 *
 * Pages are 4 KiB throughout (no 2 MiB mappings in the app's half).
 *
 * Page ownership: demand pages (HEAP, MAPPING, STACK), the private copies
 * made by copy on write, the image pages and claimed RAM (DEVICE with
 * owns_phys) came from palloc and are pfree'd when unmapped; device pages
 * (DEVICE without owns_phys) never are. An object mapping's entries that
 * map the object's own pages carry VM_BORROWED: those frames belong to the
 * object, are never pfree'd here (vm_ctx_destroy_user skips them too) and
 * are not counted against the app's share of palloc (app_may_take), though
 * they count as backed. So every unmap reads the entry it removes
 * (vm_unmap_entry) and frees the frame only when it is not borrowed. In a
 * private mapping a borrowed entry is never writable: the write that
 * faults on it is what copies (vm_replace swaps the frame in one step).
 * Each region record over an object holds the object once (aspace.h);
 * records are freed through region_free, which releases it, and only after
 * their pages are out of the page tables, so the object may free its
 * pages on the last release. PROT_NONE pages stay in the page tables
 * (supervisor-only), so every walk above counts and frees them as usual.
 * mremap moves page-table entries, not pages: a frame changes its address,
 * never its owner, and a borrowed entry stays borrowed.
 *
 * The live address spaces are on one list (aspace_init adds, destroy
 * removes) for vmobj_unmap_from and vmobj_unmap_page, which visit each of
 * them: O(address spaces x regions) plus the pages they take out, and for
 * the reclaimer of lazily freed pages.
 *
 * Lazy-free marks (MADV_FREE, aspace.h) live in the entries (VM_LAZYFREE)
 * and nowhere else, so they go wherever an entry goes; the counts follow
 * them: every unmap reads the entry's flags (unmap_pages) and counts a
 * marked one out, a move re-marks the new entry only while the old one is
 * still clean, and destroy drops the address space's count whole. Only
 * the app's own frames in regions without an object are ever marked, so
 * the object paths (borrowed entries, copy on write, truncation) never
 * meet a mark. The reclaimer finds marked entries with vm_lazyfree_next,
 * which skips missing tables, region by region from a cursor: a reclaim
 * costs the page tables it walks, not the address space's size.
 *
 * Costs: a demand fault is one tree lookup, one vm_lookup, one palloc(1), a
 * 4 KiB memset and one vm_map; over an object, get_page instead of the
 * memset (shared, or a private read) or before a 4 KiB copy (a private
 * write), then for a read or exec up to 15 vm_lookup + find_page + vm_map
 * for the fault-around window. Copy on write of a present page is one
 * palloc(1), a 4 KiB copy and one vm_replace. Unmapping and shrinking walk
 * the released range page by page with vm_unmap (stopping early once the
 * region has no backed page left): O(pages in the range), a short
 * page-table walk per page that is not backed. A tree walk that skips
 * missing tables (a vm_next_mapped() in vm.c) would make that O(tables)
 * when it matters.
 * aspace_destroy is O(page tables), whatever the sizes of the regions.
 */
#include "mm/aspace.h"

#include "kernel/arch/x86_64/mmu.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/valloc.h"
#include "mm/vmobj.h"

#define MAP_FLAGS	     (VM_WRITE | VM_EXEC | VM_UNCACHED | VM_WRITE_COMBINING | ASPACE_NOACCESS)
#define CACHE_FLAGS	     (VM_UNCACHED | VM_WRITE_COMBINING)
#define PHYS_LIMIT	     (1ull << 52) /* a page-table entry cannot say more */
#define DUMP_PAGES	     16		  /* per-page lines per region in aspace_dump */
#define USER_POOL_END	     (VM_USER_TOP - PAGE_SIZE) /* the user pool's end (vm.h) */
#define PT_SPAN_PAGES	     512ull
#define TOP_TABLE_SPAN_PAGES (512ull * 512 * 512) /* pages under one PDPT */
#define FAULT_AROUND_PAGES   16ull		  /* Linux's fault_around_bytes: 64 KiB */

static aspace_phys_policy_fn phys_policy;
static struct aspace *live_aspaces; /* linked through next_live */
static size_t lazy_total;	    /* the live address spaces' lazy_pages */

static vaddr_t region_end(const struct region *r)
{
	return r->base + r->npages * PAGE_SIZE;
}

/* The page-table flags for region flags: VM_USER unless no access (see
 * aspace.h: PROT_NONE pages stay mapped, supervisor-only). */
static unsigned pte_flags(unsigned flags)
{
	if (flags & ASPACE_NOACCESS)
		return flags & CACHE_FLAGS;
	return VM_USER | flags;
}

/* The page-table flags of a page of r: one of the app's own, or one of
 * its object's (borrowed), which a private mapping never maps writable. */
static unsigned page_flags(const struct region *r, int borrowed)
{
	if (!borrowed)
		return pte_flags(r->flags);
	return pte_flags(r->shared ? r->flags : r->flags & ~VM_WRITE) | VM_BORROWED;
}

/* ------------------------------------------------------------ the kernel's reserve */

/*
 * The most page-table pages that mapping npages contiguous pages can take:
 * at each level below the PML4, a range of n pages touches at most
 * ceil((n - 1) / span) + 1 tables, span being the pages under one table.
 */
static size_t tables_bound(size_t npages)
{
	size_t n = 0;

	for (uint64_t span = PT_SPAN_PAGES; span <= TOP_TABLE_SPAN_PAGES; span *= 512)
		n += (npages + span - 2) / span + 1;
	return n;
}

/*
 * Whether need pages are free; when too few are, reclaim is set and the
 * lazily freed ones could make up the difference, those are reclaimed
 * first. O(1) unless it reclaims.
 */
static int free_at_least(uint64_t need, int reclaim)
{
	size_t free = palloc_free_pages();

	if (reclaim && free < need && need - free <= lazy_total)
		free += palloc_reclaim((size_t)(need - free));
	return free >= need;
}

/*
 * Whether n pages that are not charged memory may come from palloc and
 * leave the kernel's reserve and what the commit charge holds (0 in lazy
 * mode) free. A reclaim of lazily freed charged pages frees as much as it
 * adds to what is held, so the need is looked at again after it.
 */
static int room_for(uint64_t n, int reclaim)
{
	if (n > UINT64_MAX / 2)
		return 0;
	if (!free_at_least(n + ASPACE_KERNEL_RESERVE_PAGES + commit_held(), reclaim))
		return 0;
	return palloc_free_pages() >= n + ASPACE_KERNEL_RESERVE_PAGES + commit_held();
}

/* The table budget of a charge of npages (commit.h): 0 for none. */
static size_t tables_for(size_t npages)
{
	return npages ? tables_bound(npages) : 0;
}

/*
 * Whether the app may take nframes more pages from palloc and map nmapped
 * pages in region r (NULL: no region's), and still leave the kernel
 * ASPACE_KERNEL_RESERVE_PAGES free. In strict mode a charged region's pages
 * and tables are held for it already (commit.h), so only the frames are
 * looked at; anything else must leave what is held free too.
 */
static int may_take(const struct region *r, size_t nframes, size_t nmapped, int reclaim)
{
	if (r && r->commit && commit_mode() == COMMIT_STRICT)
		return free_at_least(nframes + ASPACE_KERNEL_RESERVE_PAGES, reclaim);
	return room_for(nframes + tables_bound(nmapped), reclaim);
}

static int app_may_take(const struct region *r, size_t nframes, size_t nmapped)
{
	return may_take(r, nframes, nmapped, 1);
}

/* Whether npages more charged pages and ntables more table budget may be
 * promised (always in lazy mode). Charged lazily freed pages are held
 * either way, so no reclaim can help: none is tried. */
static int may_charge(size_t npages, size_t ntables)
{
	if (commit_mode() != COMMIT_STRICT)
		return 1;
	size_t free = palloc_free_pages(), held = commit_held();
	return free >= ASPACE_KERNEL_RESERVE_PAGES && npages <= SIZE_MAX / 4 &&
	       free - ASPACE_KERNEL_RESERVE_PAGES >= held &&
	       free - ASPACE_KERNEL_RESERVE_PAGES - held >= npages + ntables;
}

int aspace_pages_available(uint64_t npages)
{
	return room_for(npages, 1);
}

size_t aspace_commit_limit(void)
{
	return commit_limit(palloc_free_pages(), ASPACE_KERNEL_RESERVE_PAGES);
}

/* ------------------------------------------------------------ the region list */

/*
 * Regions are found through a treap keyed by base beside the sorted list:
 * an allocator's madvise calls and an app's faults look one up each time,
 * and a process may have hundreds (musl maps each large group on its own;
 * Go and Python map many). The priorities are a hash of the record's
 * address, which the app does not choose, so the depth stays logarithmic
 * whatever addresses it maps; every walk below is a loop, never recursion
 * over the depth. The one region with no pages (the heap before brk grows
 * it) may sit inside another region's range, so at such a node a lookup
 * looks on both sides.
 */
static unsigned tree_prio(const struct region *r)
{
	uint64_t x = (uint64_t)(uintptr_t)r;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (unsigned)x;
}

/* Splits t into the regions with base < key (*lo) and the rest (*hi). */
static void tree_split(struct region *t, vaddr_t key, struct region **lo, struct region **hi)
{
	while (t) {
		if (t->base < key) {
			*lo = t;
			lo = &t->right;
			t = t->right;
		} else {
			*hi = t;
			hi = &t->left;
			t = t->left;
		}
	}
	*lo = *hi = NULL;
}

/* Joins a and b, every base in a below every base in b (or equal, b's). */
static struct region *tree_merge(struct region *a, struct region *b)
{
	struct region *root = NULL, **link = &root;

	while (a && b) {
		if (tree_prio(a) > tree_prio(b)) {
			*link = a;
			link = &a->right;
			a = a->right;
		} else {
			*link = b;
			link = &b->left;
			b = b->left;
		}
	}
	*link = a ? a : b;
	return root;
}

static void tree_insert(struct aspace *as, struct region *r)
{
	struct region **link = &as->tree;
	unsigned prio = tree_prio(r);

	while (*link && tree_prio(*link) >= prio)
		link = r->base < (*link)->base ? &(*link)->left : &(*link)->right;
	tree_split(*link, r->base, &r->left, &r->right);
	*link = r;
}

/* The link that points at r in the subtree at *link, or NULL: guided by
 * base, O(depth). At the empty region both sides are looked at: a region
 * that held its base and then gave up its start (munmap of its first
 * pages) has a base past it, on the side it was linked on. */
static struct region **tree_link_of(struct region **link, const struct region *r)
{
	while (*link && *link != r) {
		struct region *t = *link;
		if (!t->npages) {
			struct region **found = tree_link_of(&t->right, r);
			if (found)
				return found;
			link = &t->left;
			continue;
		}
		link = r->base < t->base ? &t->left : &t->right;
	}
	return *link ? link : NULL;
}

static void tree_remove(struct aspace *as, struct region *r)
{
	struct region **link = tree_link_of(&as->tree, r);

	if (!link)
		panic("aspace: region %#lx missing from its tree", r->base);
	*link = tree_merge(r->left, r->right);
	r->left = r->right = NULL;
}

/* The region of t holding addr, or NULL. */
static struct region *tree_find(struct region *t, vaddr_t addr)
{
	while (t) {
		if (addr < t->base) {
			t = t->left;
		} else if (addr < region_end(t)) {
			return t;
		} else if (!t->npages) {
			/* An empty region decides nothing: one holding addr
			 * may start below it. (Recursion only here: one
			 * such region per address space.) */
			struct region *r = tree_find(t->right, addr);
			if (r)
				return r;
			t = t->left;
		} else {
			t = t->right; /* below t, a region would overlap it */
		}
	}
	return NULL;
}

/*
 * The region holding addr, or NULL. O(log regions), O(1) when it is the
 * one the last lookup found. The hint is only a pointer into the list:
 * region_unlink drops it, and a record that changes its range is checked
 * again on every use.
 */
static struct region *region_at(const struct aspace *as, vaddr_t addr)
{
	struct region *h = as->hint;

	if (h && h->base <= addr && addr < region_end(h))
		return h;
	h = tree_find(as->tree, addr);
	if (h)
		((struct aspace *)as)->hint = h; /* a cache, not the space's state */
	return h;
}

/* Inserts r after every region whose base is <= r->base. */
static void region_link(struct aspace *as, struct region *r)
{
	struct region **pp = &as->regions;

	while (*pp && (*pp)->base <= r->base)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	tree_insert(as, r);
}

static void region_unlink(struct aspace *as, struct region *r)
{
	struct region **pp = &as->regions;

	if (as->hint == r)
		as->hint = NULL;
	while (*pp != r) {
		if (!*pp)
			panic("aspace: region %#lx missing from its list", r->base);
		pp = &(*pp)->next;
	}
	*pp = r->next;
	tree_remove(as, r);
}

static struct region *region_new(enum region_kind kind, vaddr_t base, size_t npages, unsigned flags)
{
	struct region *r = kmalloc(sizeof(*r));

	if (r)
		*r = (struct region){.base = base, .npages = npages, .flags = flags, .kind = kind};
	return r;
}

/* Makes r a mapping of obj from byte offset off, holding obj once. */
static void region_set_object(struct region *r, struct vmobj *obj, uint64_t off, int shared)
{
	r->obj = obj;
	r->obj_off = off;
	r->shared = shared;
	if (obj)
		vmobj_hold(obj);
}

/* Frees a record (NULL is fine), releasing its object: its pages must be
 * out of the page tables already. */
static void region_free(struct region *r)
{
	if (r && r->obj)
		vmobj_release(r->obj);
	kfree(r);
}

/*
 * A new record for the part of r from at (page aligned, inside r) to r's
 * end: same kind, flags, ownership and object (held again), with the
 * physical and object offsets moved along. Nothing is linked; backed is 0.
 * NULL without memory.
 */
static struct region *region_new_above(const struct region *r, vaddr_t at)
{
	struct region *hi = region_new(r->kind, at, (region_end(r) - at) / PAGE_SIZE, r->flags);

	if (hi) {
		hi->owns_phys = r->owns_phys;
		hi->phys = r->phys ? r->phys + (at - r->base) : 0;
		region_set_object(hi, r->obj, r->obj ? r->obj_off + (at - r->base) : 0, r->shared);
	}
	return hi;
}

/* Moves r's base up to at (inside r), keeping its end and offsets. */
static void region_raise_base(struct region *r, vaddr_t at)
{
	if (r->phys)
		r->phys += at - r->base;
	if (r->obj)
		r->obj_off += at - r->base;
	r->npages -= (at - r->base) / PAGE_SIZE;
	r->base = at;
}

/* Pages of [base, + npages pages) mapped in ctx. O(npages). */
static size_t count_mapped(const struct vm_ctx *ctx, vaddr_t base, size_t npages)
{
	size_t n = 0;

	for (size_t i = 0; i < npages; i++)
		n += !vm_lookup(ctx, base + i * PAGE_SIZE, NULL, NULL);
	return n;
}

/* A region's backed pages: kept in the record except for IMAGE (see the top). */
static size_t region_backed(const struct aspace *as, const struct region *r)
{
	return r->kind == REGION_IMAGE ? count_mapped(&as->ctx, r->base, r->npages) : r->backed;
}

/* ------------------------------------------------------------ the commit charge */

/* Whether r's pages are charged (commit.h): private writable demand memory. */
static int region_chargeable(const struct region *r)
{
	return (r->kind == REGION_HEAP || r->kind == REGION_STACK || r->kind == REGION_MAPPING) &&
	       (r->flags & VM_WRITE) && !(r->obj && r->shared);
}

/* Adds the deltas to as's share and to the totals. */
static void account(struct aspace *as, long dpages, long downed, long dtables)
{
	as->commit_pages += (size_t)dpages;
	as->commit_owned += (size_t)downed;
	as->commit_tables += (size_t)dtables;
	commit_add(dpages, downed, dtables);
}

/* n frames of the app's own came (n > 0) to or went (n < 0) from r. */
static void count_owned(struct aspace *as, const struct region *r, long n)
{
	if (r->commit)
		account(as, 0, n, 0);
}

/* The frames of r the app owns: its backed pages, less an object's
 * borrowed ones (a walk then: O(pages of r)). */
static size_t region_owned(const struct aspace *as, const struct region *r)
{
	size_t n = 0, seen = 0;

	if (!r->obj)
		return r->backed;
	for (vaddr_t va = r->base; va < region_end(r) && seen < r->backed; va += PAGE_SIZE) {
		unsigned f;

		if (vm_lookup(&as->ctx, va, NULL, &f))
			continue;
		seen++;
		n += !(f & VM_BORROWED);
	}
	return n;
}

/*
 * Brings r's charge in line with its size and flags. owned: whether its
 * frames move in or out of the owned count with it (its chargeability
 * changed: mprotect, a new region); otherwise its frames are counted where
 * they are already (a region that only changed size, or a part split off
 * a charged region, whose frames the whole counted).
 */
static void charge_set(struct aspace *as, struct region *r, int owned)
{
	size_t want = region_chargeable(r) ? r->npages : 0;
	long downed = 0;

	if (want == r->commit)
		return;
	if (owned && !want != !r->commit) {
		size_t o = region_owned(as, r);
		downed = want ? (long)o : -(long)o;
	}
	account(as, (long)want - (long)r->commit, downed,
		(long)tables_for(want) - (long)tables_for(r->commit));
	r->commit = want;
}

/* r's size changed, or r is a part split off: pages and tables only. */
static void charge_resize(struct aspace *as, struct region *r)
{
	charge_set(as, r, 0);
}

/* What the table budget of charged region r grows by when [lo, hi) (inside
 * it, page aligned) leaves and the parts below and above stay charged:
 * each part is bounded on its own, so a split may add a little. */
static size_t split_tables(const struct region *r, vaddr_t lo, vaddr_t hi)
{
	size_t below = tables_for((lo - r->base) / PAGE_SIZE);
	size_t above = tables_for((region_end(r) - hi) / PAGE_SIZE);

	return below + above > tables_for(r->npages) ? below + above - tables_for(r->npages) : 0;
}

/* r goes: its frames must be unmapped (counted out) already. */
static void charge_drop(struct aspace *as, struct region *r)
{
	account(as, -(long)r->commit, 0, -(long)tables_for(r->commit));
	r->commit = 0;
}

/* ------------------------------------------------------------ backing pages */

/*
 * A new page for the app in region r: zeroed, or a copy of the page at src
 * (an object's). Either happens at fault time rather than when pages are
 * freed: the page is about to be used, so the lines the stores leave in
 * the cache are the ones the app touches next. For an uncached or
 * write-combining mapping the contents are flushed out first: the direct
 * map that wrote them is write-back. nmapped: the pages about to be mapped
 * (for app_may_take's table bound). Returns the page, or 0 when none may
 * be had (also when only the kernel's reserve is left).
 */
static paddr_t new_page(const struct region *r, const void *src, size_t nmapped)
{
	if (!app_may_take(r, 1, nmapped))
		return 0;
	paddr_t pa = palloc(1);
	if (!pa)
		return 0;
	if (src)
		memcpy(phys_to_virt(pa), src, PAGE_SIZE);
	else
		mmu_zero_page(phys_to_virt(pa));
	if (r->flags & CACHE_FLAGS)
		mmu_flush_cache_page(phys_to_virt(pa));
	return pa;
}

/* r gained n backed pages: the running count and its peak (aspace.h). O(1):
 * it runs on every demand fault. */
static void count_backed(struct aspace *as, const struct region *r, size_t n)
{
	if (r->kind == REGION_IMAGE)
		return;
	as->backed_now += n;
	if (as->backed_now > as->backed_peak)
		as->backed_peak = as->backed_now;
}

/* r lost n backed pages. */
static void count_unbacked(struct aspace *as, const struct region *r, size_t n)
{
	if (r->kind != REGION_IMAGE)
		as->backed_now -= n;
}

/* n entries of as lost their lazy-free mark (unmapped, moved or settled). */
static void count_unmarked(struct aspace *as, size_t n)
{
	as->lazy_pages -= n;
	lazy_total -= n;
}

/* Maps pa at va (not mapped: the caller looked) with flags, counted in r.
 * Returns 0 or -ENOMEM (no page for a table); the caller still has pa. */
static int map_page(struct aspace *as, struct region *r, vaddr_t va, paddr_t pa, unsigned flags)
{
	int err = vm_map(&as->ctx, va, pa, flags);

	if (err == -EEXIST)
		panic("aspace: %#lx is mapped but was not backed", va);
	if (!err) {
		r->backed++;
		count_backed(as, r, 1);
	}
	return err;
}

/* A zeroed page for the app at va (not mapped) in r, which has no object.
 * Returns 0 or -ENOMEM. */
static int back_page(struct aspace *as, struct region *r, vaddr_t va)
{
	paddr_t pa = new_page(r, NULL, 1);

	if (!pa)
		return -ENOMEM;
	int err = map_page(as, r, va, pa, pte_flags(r->flags));
	if (err)
		pfree(pa, 1);
	else
		count_owned(as, r, 1);
	return err;
}

/*
 * After a read or exec fault at va in object mapping r: maps the other
 * pages of va's aligned FAULT_AROUND_PAGES window that lie in r, are not
 * mapped yet and that the object already has (find_page), borrowed and
 * read-only as the fault's own page. The window sits inside the page table
 * that now maps va, so no table is allocated and nothing can fail. Not in
 * a shared writable mapping: there get_page must learn of each page the
 * mapping may write.
 */
static void fault_around(struct aspace *as, struct region *r, vaddr_t va)
{
	const uint64_t window = FAULT_AROUND_PAGES * PAGE_SIZE;

	if (!r->obj->ops->find_page || (r->shared && (r->flags & VM_WRITE)))
		return;
	vaddr_t start = MAX(ALIGN_DOWN(va, window), r->base);
	vaddr_t end = MIN(ALIGN_DOWN(va, window) + window, region_end(r));
	for (vaddr_t at = start; at < end; at += PAGE_SIZE) {
		uint64_t index = (r->obj_off + (at - r->base)) / PAGE_SIZE;
		paddr_t pa;
		unsigned f;

		if (at == va || !vm_lookup(&as->ctx, at, &pa, &f) ||
		    r->obj->ops->find_page(r->obj, index, &pa))
			continue;
		if (map_page(as, r, at, pa, page_flags(r, 1)))
			panic("fault_around: %#lx needed a page table", at);
	}
}

/*
 * The page at va (not mapped) of object mapping r, for a fault with
 * access: the object's page itself (shared, or a private read or exec;
 * borrowed), or for a private write a copy of it that the app owns. The
 * page index cannot overflow (aspace_map_object and aspace_remap keep
 * obj_off + the region's size below 2^64). Returns 0, -EIO (past the
 * object's end) or -ENOMEM (the object's -ENOSPC too).
 */
static int back_object_page(struct aspace *as, struct region *r, vaddr_t va, unsigned access)
{
	int copy = !r->shared && (access & ASPACE_ACCESS_WRITE);
	uint64_t index = (r->obj_off + (va - r->base)) / PAGE_SIZE;
	paddr_t pa;

	if (!app_may_take(r, copy, 1))
		return -ENOMEM;
	int err = r->obj->ops->get_page(r->obj, index, r->shared && (r->flags & VM_WRITE), &pa);
	if (err)
		return err == -ENOSPC ? -ENOMEM : err;
	if (!copy) {
		err = map_page(as, r, va, pa, page_flags(r, 1));
		if (!err)
			fault_around(as, r, va);
		return err;
	}
	paddr_t own = new_page(r, phys_to_virt(pa), 1);
	if (!own)
		return -ENOMEM;
	err = map_page(as, r, va, own, page_flags(r, 0));
	if (err)
		pfree(own, 1);
	else
		count_owned(as, r, 1);
	return err;
}

/* Copy on write: the object's page mapped (borrowed, read-only) at va in
 * private object mapping r becomes a copy the app owns, mapped writable in
 * its place. Returns 0 or -ENOMEM (nothing changes). */
static int copy_on_write(struct aspace *as, struct region *r, vaddr_t va, paddr_t src)
{
	paddr_t own = new_page(r, phys_to_virt(src), 0);

	if (!own)
		return -ENOMEM;
	if (vm_replace(&as->ctx, va, own, page_flags(r, 0), NULL))
		panic("aspace: %#lx was mapped and is not", va);
	count_owned(as, r, 1);
	return 0;
}

/*
 * Unmaps the pages of [base, + npages pages) in region r, pfree()s those
 * the app owns (never device pages without owns_phys nor an object's
 * borrowed ones) and counts them out of r (and out of the lazy-free count
 * when marked). Pages not backed are skipped,
 * and the walk stops once r has no backed page left; a DEVICE region's
 * pages must all be mapped (panic otherwise).
 */
static void unmap_pages(struct aspace *as, struct region *r, vaddr_t base, size_t npages)
{
	int device = r->kind == REGION_DEVICE;
	int owned = !device || r->owns_phys;

	vm_batch_begin();
	for (size_t i = 0; i < npages && r->backed; i++) {
		vaddr_t va = base + i * PAGE_SIZE;
		paddr_t pa;
		unsigned f;

		if (vm_unmap_entry(&as->ctx, va, &pa, &f)) {
			if (device)
				panic("aspace: device page %#lx of [%#lx, %#lx) not mapped", va,
				      r->base, region_end(r));
			continue;
		}
		if (owned && !(f & VM_BORROWED)) {
			vm_free_frame(pa);
			count_owned(as, r, -1);
		}
		if (f & VM_LAZYFREE)
			count_unmarked(as, 1);
		r->backed--;
		count_unbacked(as, r, 1);
	}
	vm_batch_end();
}

/* unmap_pages, then vfree()s the range. */
static void release(struct aspace *as, struct region *r, vaddr_t base, size_t npages)
{
	unmap_pages(as, r, base, npages);
	vfree(base, npages, &as->ctx);
}

/* ------------------------------------------------------------ life cycle */

void aspace_set_phys_policy(aspace_phys_policy_fn policy)
{
	phys_policy = policy;
}

/* Takes as off the live list, if it is there, and its marks out of the
 * total. */
static void live_unlink(struct aspace *as)
{
	for (struct aspace **pp = &live_aspaces; *pp; pp = &(*pp)->next_live) {
		if (*pp == as) {
			*pp = as->next_live;
			lazy_total -= as->lazy_pages; /* the marked frames go with it */
			/* and its charge: destroy frees every page of it */
			commit_add(-(long)as->commit_pages, -(long)as->commit_owned,
				   -(long)as->commit_tables);
			return;
		}
	}
}

static size_t reclaim(size_t npages);

int aspace_init(struct aspace *as, const struct vm_ctx *kernel_half)
{
	live_unlink(as); /* initialised again without a destroy: not twice on the list */
	*as = (struct aspace){0};
	palloc_set_reclaim(reclaim);
	int err = vm_ctx_init_user(&as->ctx, kernel_half);
	if (err)
		return err;
	as->next_live = live_aspaces;
	live_aspaces = as;
	return 0;
}

void aspace_destroy(struct aspace *as)
{
	struct region *r, *next;

	if (!as->ctx.root)
		return; /* never initialised, or destroyed already */
	live_unlink(as);
	/* Device pages are not palloc's: take them out of the tables so that
	 * vm_ctx_destroy_user does not free them. */
	for (r = as->regions; r; r = r->next) {
		if (r->kind != REGION_DEVICE || r->owns_phys)
			continue;
		for (size_t i = 0; i < r->npages; i++) {
			if (vm_unmap(&as->ctx, r->base + i * PAGE_SIZE, NULL))
				panic("aspace_destroy: device page %#lx not mapped",
				      r->base + i * PAGE_SIZE);
		}
	}
	/* Everything still mapped is palloc's (demand pages, private copies,
	 * the image, claimed RAM) or an object's, marked borrowed, which
	 * vm_ctx_destroy_user leaves alone. The pool's node pages and the
	 * tables go with it. Then the records, and with them the holds on
	 * objects: no page of theirs is mapped any more. */
	vm_ctx_destroy_user(&as->ctx, 1);
	for (r = as->regions; r; r = next) {
		next = r->next;
		region_free(r);
	}
	*as = (struct aspace){0};
}

int aspace_add_image(struct aspace *as, vaddr_t base, size_t npages)
{
	struct region *r = region_new(REGION_IMAGE, base, npages, 0);

	if (!r)
		return -ENOMEM;
	int err = valloc_reserve(&as->ctx, base, npages);
	if (err) {
		kfree(r);
		return err;
	}
	region_link(as, r);
	return 0;
}

int aspace_init_heap(struct aspace *as, vaddr_t base)
{
	if (as->heap)
		return -EEXIST;
	if ((base & (PAGE_SIZE - 1)) || base < VM_USER_BASE || base >= USER_POOL_END)
		return -EINVAL;
	if (region_at(as, base))
		return -EEXIST;
	struct region *r = region_new(REGION_HEAP, base, 0, VM_WRITE);
	if (!r)
		return -ENOMEM;
	region_link(as, r);
	as->heap = r;
	return 0;
}

int aspace_init_stack(struct aspace *as, vaddr_t top, size_t reserve_pages, size_t initial_pages)
{
	if (as->stack)
		return -EEXIST;
	if ((top & (PAGE_SIZE - 1)) || top > USER_POOL_END || top < VM_USER_BASE ||
	    reserve_pages == 0 || initial_pages > reserve_pages ||
	    reserve_pages >= (top - VM_USER_BASE) / PAGE_SIZE)
		return -EINVAL;
	vaddr_t base = top - reserve_pages * PAGE_SIZE;
	struct region *r = region_new(REGION_STACK, base, reserve_pages, VM_WRITE);
	if (!r)
		return -ENOMEM;
	/* The guard page below is reserved too, so nothing is ever placed
	 * there and an overflow faults outside every region. */
	int err = may_charge(reserve_pages, tables_for(reserve_pages)) ? 0 : -ENOMEM;
	if (!err)
		err = valloc_reserve(&as->ctx, base - PAGE_SIZE, reserve_pages + 1);
	if (err)
		goto free_record;
	/* Charged first: its first pages are then held for it, and counted
	 * as owned as they come. */
	charge_set(as, r, 1);
	err = app_may_take(r, initial_pages, initial_pages) ? 0 : -ENOMEM;
	for (size_t i = 1; !err && i <= initial_pages; i++)
		err = back_page(as, r, top - i * PAGE_SIZE);
	if (err) {
		release(as, r, base, reserve_pages);
		charge_drop(as, r);
		vfree(base - PAGE_SIZE, 1, &as->ctx);
		goto free_record;
	}
	region_link(as, r);
	as->stack = r;
	return 0;

free_record:
	kfree(r);
	return err;
}

/* ------------------------------------------------------------ faults */

int aspace_fault(struct aspace *as, vaddr_t addr, unsigned access)
{
	if (addr >= VM_USER_TOP)
		return -EFAULT;
	struct region *r = region_at(as, addr);
	if (r && (r->flags & ASPACE_NOACCESS))
		return -EACCES; /* PROT_NONE, backed or not: never backed on access */
	vaddr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	paddr_t pa = 0;
	unsigned f = 0;
	int present = r && !vm_lookup(&as->ctx, va, &pa, &f);
	if (r && r->kind == REGION_IMAGE && (access & ASPACE_ACCESS_PRESENT) && present &&
	    !(f & VM_USER))
		return -EACCES; /* an image page made PROT_NONE (kept per page) */
	if (!r || r->kind == REGION_IMAGE || r->kind == REGION_DEVICE)
		return -EFAULT; /* nothing there, or a page left unmapped on purpose */
	if (((access & ASPACE_ACCESS_WRITE) && !(r->flags & VM_WRITE)) ||
	    ((access & ASPACE_ACCESS_EXEC) && !(r->flags & VM_EXEC)))
		return -EFAULT;
	if (access & ASPACE_ACCESS_PRESENT) {
		/* A protection fault: fixed up only by copy on write, a write
		 * the region allows (checked above) to an object's page still
		 * mapped read-only in a private mapping. */
		if (present && (f & VM_BORROWED) && !r->shared && (access & ASPACE_ACCESS_WRITE))
			return copy_on_write(as, r, va, pa);
		return -EFAULT;
	}
	/* Backed already: the same fault reported twice. Restarting is
	 * harmless; if the access is not allowed it faults again as a
	 * protection fault. */
	if (present)
		return 0;
	return r->obj ? back_object_page(as, r, va, access) : back_page(as, r, va);
}

int aspace_fault_shared(struct aspace *as, vaddr_t addr, unsigned access,
			const struct aspace_shared_sync *sync, unsigned cache)
{
	if (addr >= VM_USER_TOP || (access & (ASPACE_ACCESS_PRESENT | ASPACE_ACCESS_EXEC)))
		return -EAGAIN;
	/* region_at without its hint update: the hint is the writers'. */
	struct region *r = as->hint;
	if (!r || addr < r->base || addr >= region_end(r))
		r = tree_find(as->tree, addr);
	if (!r || r->obj || r->kind == REGION_IMAGE || r->kind == REGION_DEVICE ||
	    (r->flags & (ASPACE_NOACCESS | CACHE_FLAGS)) ||
	    ((access & ASPACE_ACCESS_WRITE) && !(r->flags & VM_WRITE)))
		return -EAGAIN;
	vaddr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	if (!vm_lookup(&as->ctx, va, NULL, NULL))
		return 0; /* another CPU backed it meanwhile */

	/* One turn of the lock a fault: the page is counted as it is taken,
	 * before it is mapped. A fault that loses the page to another CPU's
	 * gives both back (the peak keeps it: the app held it for that
	 * moment). */
	sync->lock();
	paddr_t pa = may_take(r, 1, 1, 0) ? palloc_cache_take(cache) : 0;
	if (pa) {
		r->backed++;
		count_backed(as, r, 1);
		count_owned(as, r, 1);
	}
	sync->unlock();
	if (!pa)
		return -EAGAIN;
	mmu_zero_page(phys_to_virt(pa));
	int err = vm_map_if_empty(&as->ctx, va, pa, pte_flags(r->flags));
	if (err) {
		sync->lock();
		pfree(pa, 1);
		r->backed--;
		count_unbacked(as, r, 1);
		count_owned(as, r, -1);
		sync->unlock();
	}
	if (err == -EEXIST)
		return 0;
	return err ? -EAGAIN : 0;
}

/* ------------------------------------------------------------ the heap */

/*
 * How far the heap may grow: ASPACE_HEAP_LIMIT, unless the image (and so
 * the heap) starts at or above it (a PIE loaded high): such a heap grows
 * until it meets the next reserved range, like a brk that meets mmap.
 */
static vaddr_t heap_limit(const struct region *h)
{
	return h->base < ASPACE_HEAP_LIMIT ? ASPACE_HEAP_LIMIT : USER_POOL_END;
}

/* Grows the heap by npages at its end. Returns 0, or -ENOMEM when that
 * passes the heap's limit, runs into a reserved range or the pool has no
 * node (nothing changes). */
static int heap_grow(struct aspace *as, size_t npages)
{
	struct region *h = as->heap;
	vaddr_t end = region_end(h);

	if (npages > (heap_limit(h) - end) / PAGE_SIZE)
		return -ENOMEM;
	if (region_chargeable(h) &&
	    !may_charge(npages, tables_for(h->npages + npages) - tables_for(h->commit)))
		return -ENOMEM;
	if (valloc_reserve(&as->ctx, end, npages))
		return -ENOMEM;
	h->npages += npages;
	charge_resize(as, h);
	return 0;
}

/* Gives up the top npages of the heap (at most its size). */
static void heap_shrink(struct aspace *as, size_t npages)
{
	struct region *h = as->heap;

	h->npages -= npages;
	if (npages)
		release(as, h, region_end(h), npages);
	charge_resize(as, h);
}

vaddr_t aspace_brk(struct aspace *as, vaddr_t new_end)
{
	struct region *h = as->heap;

	if (!h)
		return 0;
	vaddr_t end = region_end(h);
	if (new_end == 0 || new_end < h->base || new_end > heap_limit(h))
		return end;
	new_end = ALIGN_UP(new_end, PAGE_SIZE);
	if (new_end > end) {
		if (heap_grow(as, (new_end - end) / PAGE_SIZE))
			return end;
	} else {
		heap_shrink(as, (end - new_end) / PAGE_SIZE);
	}
	return new_end;
}

long aspace_increase_heap(struct aspace *as, size_t size, unsigned flags)
{
	struct region *h = as->heap;

	if (!h || flags != VM_WRITE || size == 0 || (size & (PAGE_SIZE - 1)))
		return -EINVAL;
	vaddr_t start = region_end(h);
	int err = heap_grow(as, size / PAGE_SIZE);
	return err ? err : (long)start;
}

long aspace_decrease_heap(struct aspace *as, size_t size)
{
	struct region *h = as->heap;

	if (!h || (size & (PAGE_SIZE - 1)) || size / PAGE_SIZE > h->npages)
		return -EINVAL;
	heap_shrink(as, size / PAGE_SIZE);
	return 0;
}

/* ------------------------------------------------------------ map / unmap */

/*
 * The lowest free range of npages in the default region: the first gap
 * between regions (the list is sorted) that holds it. A stack's guard page
 * counts as part of the stack. Returns 0 when none is left.
 */
static vaddr_t default_gap(const struct aspace *as, size_t npages)
{
	vaddr_t at = ASPACE_DEFAULT_BASE;

	if (npages > (ASPACE_DEFAULT_END - ASPACE_DEFAULT_BASE) / PAGE_SIZE)
		return 0;
	for (const struct region *r = as->regions; r; r = r->next) {
		vaddr_t lo = r->base - (r->kind == REGION_STACK ? PAGE_SIZE : 0);
		vaddr_t hi = region_end(r);

		if (hi <= at || r->npages == 0)
			continue;
		if (lo >= at && (lo - at) / PAGE_SIZE >= npages)
			break;
		at = hi;
		if (at >= ASPACE_DEFAULT_END)
			return 0;
	}
	return (ASPACE_DEFAULT_END - at) / PAGE_SIZE >= npages ? at : 0;
}

/* Reserves the range for a mapping: fixed at virt, or found in the default
 * region when virt is 0. Returns the base or a negative errno. */
static long reserve_range(struct aspace *as, vaddr_t virt, size_t npages)
{
	if (!virt) {
		virt = default_gap(as, npages);
		if (!virt)
			return -ENOMEM;
		/* -EEXIST: the pool holds a range no region knows of (reserved
		 * behind aspace's back); report it as no room. */
		int err = valloc_reserve(&as->ctx, virt, npages);
		return err ? -ENOMEM : (long)virt;
	}
	if ((virt & (PAGE_SIZE - 1)) || virt < VM_USER_BASE || virt >= USER_POOL_END ||
	    npages > (USER_POOL_END - virt) / PAGE_SIZE)
		return -EINVAL;
	int err = valloc_reserve(&as->ctx, virt, npages);
	return err ? err : (long)virt;
}

/* A new region of kind over a range reserve_range found (virt 0: anywhere),
 * not linked yet: *out and the base, or a negative errno with nothing
 * taken. */
static long region_reserve(struct aspace *as, enum region_kind kind, vaddr_t virt, size_t npages,
			   unsigned flags, struct region **out)
{
	struct region *r = region_new(kind, 0, npages, flags);

	if (!r)
		return -ENOMEM;
	long base = reserve_range(as, virt, npages);
	if (base < 0) {
		kfree(r);
		return base;
	}
	r->base = (vaddr_t)base;
	*out = r;
	return base;
}

/* Undoes region_reserve for a region that was never linked. */
static void region_unreserve(struct aspace *as, struct region *r)
{
	vfree(r->base, r->npages, &as->ctx);
	kfree(r);
}

/*
 * Maps [r->base, + npages) to [phys, + npages) now: device memory as it
 * is, or claimed RAM zeroed first. On failure unmaps what it mapped and
 * returns -ENOMEM.
 */
static int map_phys(struct aspace *as, struct region *r, int zero)
{
	size_t i;

	for (i = 0; i < r->npages; i++) {
		paddr_t pa = r->phys + i * PAGE_SIZE;

		if (zero) {
			mmu_zero_page(phys_to_virt(pa));
			if (r->flags & CACHE_FLAGS)
				mmu_flush_cache_page(phys_to_virt(pa));
		}
		int err = vm_map(&as->ctx, r->base + i * PAGE_SIZE, pa, VM_USER | r->flags);
		if (err == -EEXIST)
			panic("aspace_map: %#lx is mapped but was free in the pool",
			      r->base + i * PAGE_SIZE);
		if (err)
			break;
	}
	r->backed = i;
	if (i == r->npages) {
		count_backed(as, r, i);
		return 0;
	}
	/* Undo: unmap without freeing (the caller owns the frames) */
	for (size_t j = 0; j < i; j++)
		vm_unmap(&as->ctx, r->base + j * PAGE_SIZE, NULL);
	r->backed = 0;
	return -ENOMEM;
}

/*
 * aspace_map, and for a demand region the object it maps (obj NULL: none)
 * and whether it is shared, set before the region is linked and charged.
 */
static long map_region(struct aspace *as, paddr_t phys, vaddr_t virt, size_t size, unsigned flags,
		       struct vmobj *obj, uint64_t offset, int shared)
{
	enum aspace_phys_class class = ASPACE_PHYS_FORBIDDEN;

	if (size == 0 || (size & (PAGE_SIZE - 1)) || (flags & ~MAP_FLAGS) ||
	    (flags & (VM_WRITE | VM_EXEC)) == (VM_WRITE | VM_EXEC) ||
	    ((flags & ASPACE_NOACCESS) && (phys || flags != ASPACE_NOACCESS)) ||
	    (flags & CACHE_FLAGS) == CACHE_FLAGS || (phys & (PAGE_SIZE - 1)) ||
	    phys >= PHYS_LIMIT || size > PHYS_LIMIT - phys)
		return -EINVAL;
	size_t npages = size / PAGE_SIZE;
	if (phys) {
		class = phys_policy ? phys_policy(phys, npages) : ASPACE_PHYS_FORBIDDEN;
		if (class != ASPACE_PHYS_DEVICE && class != ASPACE_PHYS_RAM)
			return -EPERM;
		if (class == ASPACE_PHYS_DEVICE && !(flags & CACHE_FLAGS))
			flags |= VM_UNCACHED;
		if (!app_may_take(NULL, class == ASPACE_PHYS_RAM ? npages : 0, npages))
			return -ENOMEM;
	} else {
		struct region probe = {
		    .kind = REGION_MAPPING, .flags = flags, .obj = obj, .shared = shared};
		if (region_chargeable(&probe) && !may_charge(npages, tables_for(npages)))
			return -ENOMEM;
	}
	struct region *r;
	long base =
	    region_reserve(as, phys ? REGION_DEVICE : REGION_MAPPING, virt, npages, flags, &r);
	if (base < 0)
		return base;
	if (phys) {
		long err = 0;

		r->phys = phys;
		if (class == ASPACE_PHYS_RAM) {
			err = palloc_claim(phys, npages);
			if (err == -ENOENT)
				err = -EPERM; /* not palloc's after all: kernel or firmware */
			r->owns_phys = 1;
		}
		if (!err) {
			err = map_phys(as, r, class == ASPACE_PHYS_RAM);
			if (err && r->owns_phys)
				pfree(phys, npages);
		}
		if (err) {
			region_unreserve(as, r);
			return err;
		}
	} else {
		region_set_object(r, obj, offset, shared);
	}
	region_link(as, r);
	charge_set(as, r, 1);
	return base;
}

long aspace_map(struct aspace *as, paddr_t phys, vaddr_t virt, size_t size, unsigned flags)
{
	return map_region(as, phys, virt, size, flags, NULL, 0, 0);
}

long aspace_map_shared_anon(struct aspace *as, vaddr_t virt, size_t size, unsigned flags)
{
	return map_region(as, 0, virt, size, flags, NULL, 0, 1);
}

long aspace_map_kernel(struct aspace *as, paddr_t phys, vaddr_t virt, size_t npages, unsigned flags)
{
	if (npages == 0 || (flags & ~VM_EXEC) || (phys & (PAGE_SIZE - 1)) || phys >= PHYS_LIMIT ||
	    npages > (PHYS_LIMIT - phys) / PAGE_SIZE || !virt)
		return -EINVAL;
	if (!app_may_take(NULL, 0, npages))
		return -ENOMEM;
	struct region *r;
	long base = region_reserve(as, REGION_DEVICE, virt, npages, flags, &r);
	if (base < 0)
		return base;
	r->phys = phys; /* owns_phys 0: unmap and destroy never free these */
	int err = map_phys(as, r, 0);
	if (err) {
		region_unreserve(as, r);
		return err;
	}
	region_link(as, r);
	return base;
}

long aspace_map_object(struct aspace *as, vaddr_t virt, size_t size, unsigned flags,
		       struct vmobj *obj, uint64_t offset, int shared)
{
	/* No cache mode: the object's pages are write-back in the direct map,
	 * and one frame must not be mapped with two memory types. */
	if (!obj || (offset & (PAGE_SIZE - 1)) || (flags & CACHE_FLAGS))
		return -EINVAL;
	if (offset > UINT64_MAX - size)
		return -EOVERFLOW; /* page indexes must not wrap */
	return map_region(as, 0, virt, size, flags, obj, offset, !!shared);
}

/*
 * Removes [base, + npages) from region r (MAPPING or DEVICE; the range
 * inside it): frees what the app owns there and gives the range back to
 * the pool. tail is the record for the part above the range when the
 * range is in the middle of r (made beforehand with region_new_above, so
 * that this cannot fail), else NULL.
 */
static void unmap_in_region(struct aspace *as, struct region *r, vaddr_t base, size_t npages,
			    struct region *tail)
{
	vaddr_t end = base + npages * PAGE_SIZE, r_end = region_end(r);

	release(as, r, base, npages);
	if (base == r->base && end == r_end) {
		charge_drop(as, r);
		region_unlink(as, r);
		region_free(r);
		return;
	}
	if (base == r->base) {
		region_raise_base(r, end);
		charge_resize(as, r);
		return;
	}
	r->npages = (base - r->base) / PAGE_SIZE;
	charge_resize(as, r);
	if (!tail)
		return; /* the top of the region went */
	if (r->kind == REGION_DEVICE) {
		tail->backed = tail->npages;
		r->backed = r->npages;
	} else if (tail->npages < r->npages) {
		/* Count the backed pages of the smaller part. */
		tail->backed = count_mapped(&as->ctx, tail->base, tail->npages);
		r->backed -= tail->backed;
	} else {
		size_t below = count_mapped(&as->ctx, r->base, r->npages);
		tail->backed = r->backed - below;
		r->backed = below;
	}
	region_link(as, tail);
	charge_resize(as, tail);
}

long aspace_unmap(struct aspace *as, vaddr_t base, size_t size)
{
	if (size == 0 || ((base | size) & (PAGE_SIZE - 1)) || base >= VM_USER_TOP ||
	    size > VM_USER_TOP - base)
		return -EINVAL;
	struct region *r = region_at(as, base);
	vaddr_t end = base + size;
	if (!r || (r->kind != REGION_MAPPING && r->kind != REGION_DEVICE) || end > region_end(r))
		return -EINVAL;

	struct region *tail = NULL;
	if (base > r->base && end < region_end(r)) {
		/* The range is in the middle: the part above becomes a region
		 * of its own. Made first, so that failing changes nothing. */
		if (r->commit && !may_charge(0, split_tables(r, base, end)))
			return -ENOMEM;
		tail = region_new_above(r, end);
		if (!tail)
			return -ENOMEM;
	}
	unmap_in_region(as, r, base, size / PAGE_SIZE, tail);
	return 0;
}

long aspace_unmap_range(struct aspace *as, vaddr_t base, size_t size)
{
	if (size == 0 || ((base | size) & (PAGE_SIZE - 1)) || base >= VM_USER_TOP ||
	    size > VM_USER_TOP - base)
		return -EINVAL;
	vaddr_t end = base + size;
	for (const struct region *r = as->regions; r && r->base < end; r = r->next) {
		if (r->npages && region_end(r) > base && r->kind != REGION_MAPPING &&
		    r->kind != REGION_DEVICE)
			return -EINVAL;
	}
	struct region *r = region_at(as, base);
	if (r && end <= region_end(r))
		return aspace_unmap(as, base, size); /* may split: may need a record */
	/* The range is not inside one region, so no region loses its middle:
	 * each one meeting it loses its top, its bottom or everything, and
	 * nothing needs a new record. */
	for (vaddr_t at = base; at < end;) {
		for (r = as->regions; r && (!r->npages || region_end(r) <= at); r = r->next)
			;
		if (!r || r->base >= end)
			break;
		vaddr_t lo = MAX(at, r->base), hi = MIN(end, region_end(r));
		at = hi; /* before r may be freed */
		unmap_in_region(as, r, lo, (hi - lo) / PAGE_SIZE, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------ mremap */

/* Grows r (ending at the end of the remapped range) by npages in place.
 * Returns 0, or -ENOMEM when the pages after it are taken or past the
 * user pool (nothing changes). */
static int grow_in_place(struct aspace *as, struct region *r, size_t npages)
{
	vaddr_t end = region_end(r);

	if (npages > (USER_POOL_END - end) / PAGE_SIZE)
		return -ENOMEM;
	if (r->commit &&
	    !may_charge(npages, tables_for(r->npages + npages) - tables_for(r->npages)))
		return -ENOMEM;
	if (valloc_reserve(&as->ctx, end, npages))
		return -ENOMEM;
	r->npages += npages;
	charge_resize(as, r);
	return 0;
}

/*
 * Moves [old, + old_n pages) of MAPPING region r to a new region of new_n
 * pages at dest (0: the lowest gap of the default region). The backed
 * frames of the first min(old_n, new_n) pages are mapped at the new place
 * before anything is taken down, so a failure (no record, no room, no
 * page for a table) undoes the new mappings and changes nothing; then the
 * old range is unmapped like munmap, which frees only the pages that did
 * not move (a shrinking move). O(pages moved) page-table walks, stopping
 * once every backed page of r has been seen; no page is copied, and an
 * object's page stays borrowed (page_flags). A lazy-free mark moves with
 * its entry while the page is clean (a dirty one is settled: it loses the
 * mark, as a reclaim would decide). No reclaim may touch as while frames
 * are mapped at both places (vm_map may allocate tables, which may
 * reclaim).
 */
static long move_range(struct aspace *as, struct region *r, vaddr_t old, size_t old_n, vaddr_t dest,
		       size_t new_n)
{
	size_t keep = MIN(old_n, new_n), moved = 0, seen = 0, i;
	vaddr_t old_end = old + old_n * PAGE_SIZE;
	struct region *nr = region_new(REGION_MAPPING, 0, new_n, r->flags), *tail = NULL;
	long base, err = -ENOMEM;

	if (!nr)
		return -ENOMEM;
	region_set_object(nr, r->obj, r->obj ? r->obj_off + (old - r->base) : 0, r->shared);
	if (old > r->base && old_end < region_end(r)) {
		tail = region_new_above(r, old_end);
		if (!tail)
			goto free_records;
	}
	/* The new region is charged whole before the old range lets go:
	 * the pages it grows by, its tables, and what the split adds. */
	if (r->commit && !may_charge(new_n > old_n ? new_n - old_n : 0,
				     tables_for(new_n) + split_tables(r, old, old_end)))
		goto free_records;
	if (!app_may_take(r, 0, keep))
		goto free_records;
	base = reserve_range(as, dest, new_n);
	if (base < 0) {
		err = base == -EINVAL ? -EINVAL : -ENOMEM;
		goto free_records;
	}
	nr->base = (vaddr_t)base;
	as->no_reclaim++;
	for (i = 0; i < keep && seen < r->backed; i++) {
		vaddr_t va = old + i * PAGE_SIZE;
		paddr_t pa;
		unsigned f;

		if (vm_lookup(&as->ctx, va, &pa, &f))
			continue;
		seen++;
		if ((f & VM_LAZYFREE) && !vm_lazyfree_settle(&as->ctx, va, 0, NULL)) {
			count_unmarked(as, 1); /* written since: kept, unmarked */
			f &= ~VM_LAZYFREE;
		}
		int e = vm_map(&as->ctx, nr->base + i * PAGE_SIZE, pa,
			       page_flags(r, f & VM_BORROWED) | (f & VM_LAZYFREE));
		if (e == -EEXIST)
			panic("aspace_remap: %#lx is mapped but was free in the pool",
			      nr->base + i * PAGE_SIZE);
		if (e)
			goto unmap_new;
		moved++;
	}
	/* Committed: the moved frames leave the old page tables unfreed
	 * (and the owned count, until the new region counts them). */
	for (size_t j = 0; j < i; j++) {
		unsigned f;
		if (!vm_unmap_entry(&as->ctx, old + j * PAGE_SIZE, NULL, &f)) {
			r->backed--;
			count_unbacked(as, r, 1);
			if (!(f & VM_BORROWED))
				count_owned(as, r, -1);
		}
	}
	as->no_reclaim--;
	nr->backed = moved;
	count_backed(as, nr, moved);
	unmap_in_region(as, r, old, old_n, tail);
	region_link(as, nr);
	charge_set(as, nr, 1);
	return base;

unmap_new:
	for (size_t j = 0; j < i; j++)
		vm_unmap(&as->ctx, nr->base + j * PAGE_SIZE, NULL);
	as->no_reclaim--;
	vfree(nr->base, new_n, &as->ctx);
free_records:
	region_free(tail);
	region_free(nr);
	return err;
}

long aspace_remap(struct aspace *as, vaddr_t old, size_t old_size, size_t new_size, unsigned flags,
		  vaddr_t new_addr)
{
	const unsigned known = ASPACE_REMAP_MAYMOVE | ASPACE_REMAP_FIXED;

	if ((flags & ~known) || (flags & known) == ASPACE_REMAP_FIXED || !old_size || !new_size ||
	    ((old | old_size | new_size) & (PAGE_SIZE - 1)) || old >= VM_USER_TOP ||
	    old_size > VM_USER_TOP - old || new_size > VM_USER_TOP)
		return -EINVAL;
	size_t old_n = old_size / PAGE_SIZE, new_n = new_size / PAGE_SIZE;
	struct region *r = region_at(as, old);
	if (!r || old_size > region_end(r) - old)
		return -EFAULT; /* Linux: the range is not one mapping */
	if (r->kind != REGION_MAPPING && r->kind != REGION_DEVICE &&
	    !(flags & ASPACE_REMAP_MAYMOVE)) {
		/* Linux cannot grow a piece of one mapping in place when the
		 * mapping goes on after it: ENOMEM, page after page, is how
		 * musl's pthread_getattr_np finds the main thread's stack. */
		if (new_n == old_n)
			return (long)old;
		if (new_n > old_n)
			return -ENOMEM;
	}
	if (r->kind != REGION_MAPPING)
		return -EINVAL; /* the image, heap, stack and devices stay put */
	if (r->obj && new_size > UINT64_MAX - (r->obj_off + (old - r->base)))
		return -EINVAL; /* past 2^64 in the object (Linux checks this too) */

	if (flags & ASPACE_REMAP_FIXED) {
		if ((new_addr & (PAGE_SIZE - 1)) || new_addr < VM_USER_BASE ||
		    new_addr >= USER_POOL_END || new_n > (USER_POOL_END - new_addr) / PAGE_SIZE)
			return -EINVAL;
		if (new_addr < old + old_size && old < new_addr + new_size)
			return -EINVAL;
		/* Whatever mapping was there goes, as with MAP_FIXED. It may
		 * split r: look the old range up again. */
		aspace_unmap_range(as, new_addr, new_size);
		r = region_at(as, old);
		return move_range(as, r, old, old_n, new_addr, new_n);
	}
	if (new_n < old_n) {
		long err = aspace_unmap(as, old + new_size, old_size - new_size);
		return err ? err : (long)old;
	}
	if (new_n == old_n)
		return (long)old;
	if (old + old_size == region_end(r) && !grow_in_place(as, r, new_n - old_n))
		return (long)old;
	if (!(flags & ASPACE_REMAP_MAYMOVE))
		return -ENOMEM;
	return move_range(as, r, old, old_n, 0, new_n);
}

/* ------------------------------------------------------------ diagnostics */

/* ------------------------------------------------------------ mprotect and madvise */

/*
 * Splits MAPPING region r at at (page aligned, inside r, above its base): r
 * keeps the part below, a new region the part from at up. The backed count
 * of the smaller part is counted (O(its pages)). Returns 0 or -ENOMEM.
 */
static int region_split(struct aspace *as, struct region *r, vaddr_t at)
{
	size_t lo = (at - r->base) / PAGE_SIZE, hi_pages = r->npages - lo;
	struct region *hi = region_new_above(r, at);

	if (!hi)
		return -ENOMEM;
	if (hi_pages < lo) {
		hi->backed = count_mapped(&as->ctx, at, hi_pages);
		r->backed -= hi->backed;
	} else {
		size_t below = count_mapped(&as->ctx, r->base, lo);
		hi->backed = r->backed - below;
		r->backed = below;
	}
	r->npages = lo;
	region_link(as, hi);
	charge_resize(as, r);
	charge_resize(as, hi);
	return 0;
}

/* Checks that regions cover [base, end) with none of a kind in refused
 * (a bit mask of 1 << kind). Returns 0, -ENOMEM (a hole) or -EINVAL. */
static int check_covered(const struct aspace *as, vaddr_t base, vaddr_t end, unsigned refused)
{
	for (vaddr_t at = base; at < end;) {
		const struct region *r = region_at(as, at);
		if (!r)
			return -ENOMEM;
		if (refused & (1u << r->kind))
			return -EINVAL;
		at = region_end(r);
	}
	return 0;
}

static int range_ok(vaddr_t base, size_t size)
{
	return size && !((base | size) & (PAGE_SIZE - 1)) && base < VM_USER_TOP &&
	       size <= VM_USER_TOP - base;
}

/*
 * Gives object mapping r (wholly inside the mprotect range) the flags
 * flags, and its mapped pages theirs (page_flags: an object's page stays
 * read-only in a private mapping). A shared mapping that gains VM_WRITE
 * unmaps the object's pages instead: they were asked for without write,
 * and the next touch asks again. O(pages of r), a lookup and a protect or
 * an unmap each, stopping when every backed page was seen.
 */
static void protect_object_pages(struct aspace *as, struct region *r, unsigned flags)
{
	int refetch = r->shared && (flags & VM_WRITE) && !(r->flags & VM_WRITE);
	size_t seen = 0, backed = r->backed;

	r->flags = flags; /* no cache mode in an object mapping */
	for (vaddr_t va = r->base; va < region_end(r) && seen < backed; va += PAGE_SIZE) {
		unsigned f;

		if (vm_lookup(&as->ctx, va, NULL, &f))
			continue;
		seen++;
		if (refetch && (f & VM_BORROWED)) {
			vm_unmap(&as->ctx, va, NULL);
			r->backed--;
			count_unbacked(as, r, 1);
		} else {
			vm_protect(&as->ctx, va, page_flags(r, f & VM_BORROWED));
		}
	}
}

/*
 * Whether mprotect of [base, end) (covered by regions) to flags may charge
 * what it would: the MAPPING pages in the range that become charged, their
 * regions' tables, and what splitting a charged region at either end adds
 * to the budget. 0 or -ENOMEM (nothing has changed yet).
 */
static int protect_may_charge(const struct aspace *as, vaddr_t base, vaddr_t end, unsigned flags)
{
	size_t pages = 0, tables = 0;

	for (vaddr_t at = base; at < end;) {
		const struct region *r = region_at(as, at);
		vaddr_t lo = MAX(base, r->base), hi = MIN(end, region_end(r));
		struct region after = *r;

		after.flags = (r->flags & CACHE_FLAGS) | flags;
		if (r->kind == REGION_MAPPING && region_chargeable(&after)) {
			if (!r->commit) {
				pages += (hi - lo) / PAGE_SIZE;
				tables += tables_for((hi - lo) / PAGE_SIZE);
			}
			if (r->commit && (lo > r->base || hi < region_end(r)))
				tables += split_tables(r, lo, lo) + split_tables(r, hi, hi);
		} else if (r->kind == REGION_MAPPING && r->commit &&
			   (lo > r->base || hi < region_end(r))) {
			tables += split_tables(r, lo, hi);
		}
		at = region_end(r);
	}
	return pages + tables == 0 || may_charge(pages, tables) ? 0 : -ENOMEM;
}

long aspace_protect(struct aspace *as, vaddr_t base, size_t size, unsigned flags)
{
	vaddr_t end = base + size;

	if (!range_ok(base, size) || (flags & ~(VM_WRITE | VM_EXEC | ASPACE_NOACCESS)) ||
	    ((flags & ASPACE_NOACCESS) && flags != ASPACE_NOACCESS))
		return -EINVAL;
	if ((flags & (VM_WRITE | VM_EXEC)) == (VM_WRITE | VM_EXEC))
		return -EACCES;
	int err = check_covered(as, base, end, 1u << REGION_DEVICE);
	if (err)
		return err;
	/* HEAP and STACK are single regions that brk and stack growth rely
	 * on: they keep their permissions (and so are never PROT_NONE). */
	for (vaddr_t at = base; at < end;) {
		const struct region *r = region_at(as, at);
		if ((r->kind == REGION_HEAP || r->kind == REGION_STACK) && r->flags != flags)
			return -EINVAL;
		at = region_end(r);
	}
	err = protect_may_charge(as, base, end, flags);
	if (err)
		return err;
	/* MAPPING regions are split so that the range is whole regions. */
	struct region *first = region_at(as, base), *last = region_at(as, end - 1);
	if (first->kind == REGION_MAPPING && first->base < base) {
		err = region_split(as, first, base);
		if (err)
			return err;
	}
	last = region_at(as, end - 1);
	if (last->kind == REGION_MAPPING && region_end(last) > end) {
		err = region_split(as, last, end);
		if (err)
			return err; /* the first split alone changes nothing visible */
	}
	for (vaddr_t at = base; at < end;) {
		struct region *r = region_at(as, at);
		vaddr_t stop = MIN(end, region_end(r));
		if (r->kind == REGION_MAPPING && r->obj)
			protect_object_pages(as, r, flags);
		else if (r->kind == REGION_MAPPING || r->kind == REGION_IMAGE) {
			if (r->kind == REGION_MAPPING)
				r->flags = (r->flags & CACHE_FLAGS) | flags;
			for (vaddr_t va = at; va < stop; va += PAGE_SIZE)
				vm_protect(&as->ctx, va,
					   pte_flags((r->flags & CACHE_FLAGS) | flags));
		}
		charge_set(as, r, 1); /* made writable or no longer */
		at = stop;
	}
	return 0;
}

long aspace_dontneed(struct aspace *as, vaddr_t base, size_t size)
{
	vaddr_t end = base + size;

	if (!range_ok(base, size))
		return -EINVAL;
	int err = check_covered(as, base, end, (1u << REGION_DEVICE) | (1u << REGION_IMAGE));
	if (err)
		return err;
	for (vaddr_t at = base; at < end;) {
		struct region *r = region_at(as, at);
		vaddr_t stop = MIN(end, region_end(r));
		unmap_pages(as, r, at, (stop - at) / PAGE_SIZE);
		at = stop;
	}
	return 0;
}

/* ------------------------------------------------------------ lazy freeing */

/* Whether MADV_FREE may mark r's pages: the app's own private anonymous
 * memory (Linux's madvise_free_single_vma takes anonymous VMAs only). */
static int lazy_eligible(const struct region *r)
{
	return (r->kind == REGION_HEAP || r->kind == REGION_STACK || r->kind == REGION_MAPPING) &&
	       !r->obj && !r->shared;
}

/* The first region with pages that ends above at, or NULL. */
static struct region *region_from(const struct aspace *as, vaddr_t at)
{
	struct region *r = region_at(as, at);

	if (r && r->npages)
		return r; /* it holds at, so it is the first to end past it */
	r = as->regions;
	while (r && (!r->npages || region_end(r) <= at))
		r = r->next;
	return r;
}

long aspace_free_lazily(struct aspace *as, vaddr_t base, size_t size)
{
	vaddr_t end = base + size;
	long unmapped = 0;

	if (!range_ok(base, size))
		return -EINVAL;
	/* Linux's madvise_walk_vmas: holes are skipped but reported, a VMA
	 * that refuses stops the walk with what was done so far kept. */
	for (vaddr_t at = base; at < end;) {
		struct region *r = region_from(as, at);
		if (!r)
			return -ENOMEM;
		if (r->base > at) {
			unmapped = -ENOMEM;
			at = r->base;
			if (at >= end)
				break;
		}
		if (!lazy_eligible(r))
			return -EINVAL;
		vaddr_t stop = MIN(end, region_end(r));
		if (r->backed) {
			size_t n = vm_lazyfree_mark(&as->ctx, at, stop);
			as->lazy_pages += n;
			lazy_total += n;
		}
		at = stop;
	}
	return unmapped;
}

size_t aspace_lazyfree_pages(void)
{
	return lazy_total;
}

/*
 * Settles the marked entries of r in [va, stop) in address order until
 * want pages were freed or as has no mark left: a clean one is unmapped
 * and its frame freed, a dirty one loses its mark. Returns the pages freed;
 * *at gets the address after the last entry settled (va when none).
 */
static size_t reclaim_range(struct aspace *as, struct region *r, vaddr_t va, vaddr_t stop,
			    size_t want, vaddr_t *at)
{
	size_t freed = 0;

	*at = va;
	while (freed < want && as->lazy_pages) {
		va = vm_lazyfree_next(&as->ctx, va, stop);
		if (va >= stop)
			break;
		paddr_t pa;
		int took = vm_lazyfree_settle(&as->ctx, va, VM_SETTLE_TAKE, &pa);
		if (took < 0)
			panic("aspace_reclaim: %#lx was marked and is not", va);
		count_unmarked(as, 1);
		if (took) {
			/* The entry is gone and its TLB entry with it:
			 * nothing can reach the frame any more. */
			pfree(pa, 1);
			r->backed--;
			count_unbacked(as, r, 1);
			count_owned(as, r, -1);
			freed++;
		}
		va += PAGE_SIZE;
		*at = va;
	}
	return freed;
}

/*
 * Reclaims from as, walking its regions from the cursor up to the top of
 * the user range, then from the bottom up to the cursor, until want pages
 * were freed or no mark is left; the cursor moves to where it stopped.
 * Returns the pages freed.
 */
static size_t reclaim_from(struct aspace *as, size_t want)
{
	vaddr_t cursor = as->reclaim_cursor, at = cursor;
	size_t freed = 0;

	for (int pass = 0; pass < 2 && freed < want && as->lazy_pages; pass++) {
		vaddr_t lo = pass ? 0 : cursor, hi = pass ? cursor : VM_USER_TOP;
		for (struct region *r = as->regions; r && freed < want && as->lazy_pages;
		     r = r->next) {
			if (!lazy_eligible(r) || !r->backed || region_end(r) <= lo || r->base >= hi)
				continue;
			vaddr_t stop = MIN(hi, region_end(r)), last;
			freed += reclaim_range(as, r, MAX(lo, r->base), stop, want - freed, &last);
			if (last > MAX(lo, r->base))
				at = last;
		}
	}
	as->reclaim_cursor = at < VM_USER_TOP ? at : 0;
	return freed;
}

/*
 * The reclaimer palloc calls (palloc_set_reclaim, registered by
 * aspace_init) when it finds no page, and app_may_take through
 * palloc_reclaim: at least npages, in a batch of ASPACE_RECLAIM_BATCH when
 * there is that much, so that memory pressure does not call it for every
 * page. Safe inside any allocation (see aspace.h): it only clears leaf
 * entries, frees their frames and changes backed counts; an address space
 * in the middle of a move is skipped. palloc keeps it from running twice.
 */
static size_t reclaim(size_t npages)
{
	size_t want = MAX(npages, (size_t)ASPACE_RECLAIM_BATCH), freed = 0;

	for (struct aspace *as = live_aspaces; as && freed < want; as = as->next_live) {
		if (as->lazy_pages && !as->no_reclaim)
			freed += reclaim_from(as, want - freed);
	}
	return freed;
}

/*
 * Truncation (mm/vmobj.h): in every live address space, every region over
 * obj loses the pages at object index first_index and up: the object's
 * (unmapped) and the private copies made of them (freed), as Linux's
 * truncate does. The regions stay; a later touch faults again.
 */
void vmobj_unmap_from(struct vmobj *obj, uint64_t first_index)
{
	if (first_index > UINT64_MAX / PAGE_SIZE)
		return; /* no mapping reaches an offset of 2^64 */
	uint64_t cut = first_index * PAGE_SIZE;

	for (struct aspace *as = live_aspaces; as; as = as->next_live) {
		for (struct region *r = as->regions; r; r = r->next) {
			if (r->obj != obj || !r->backed)
				continue;
			size_t skip = 0;
			if (cut > r->obj_off) {
				if ((cut - r->obj_off) / PAGE_SIZE >= r->npages)
					continue; /* the region ends before the cut */
				skip = (size_t)((cut - r->obj_off) / PAGE_SIZE);
			}
			unmap_pages(as, r, r->base + skip * PAGE_SIZE, r->npages - skip);
		}
	}
}

/*
 * A page replaced (mm/vmobj.h): in every live address space, every region
 * over obj that maps the object's own page at index (a borrowed entry)
 * loses that entry; a private copy made of it is the app's and stays. The
 * region stays; a later touch asks the object again.
 */
void vmobj_unmap_page(struct vmobj *obj, uint64_t index)
{
	if (index > UINT64_MAX / PAGE_SIZE)
		return;
	uint64_t at = index * PAGE_SIZE;

	for (struct aspace *as = live_aspaces; as; as = as->next_live) {
		for (struct region *r = as->regions; r; r = r->next) {
			unsigned f;
			if (r->obj != obj || !r->backed || at < r->obj_off ||
			    (at - r->obj_off) / PAGE_SIZE >= r->npages)
				continue;
			vaddr_t va = r->base + (at - r->obj_off);
			if (vm_lookup(&as->ctx, va, NULL, &f) || !(f & VM_BORROWED))
				continue;
			vm_unmap(&as->ctx, va, NULL);
			r->backed--;
			count_unbacked(as, r, 1);
		}
	}
}

size_t aspace_region_backed(const struct aspace *as, const struct region *r)
{
	return region_backed(as, r);
}

void aspace_get_stats(const struct aspace *as, struct aspace_stats *out)
{
	*out = (struct aspace_stats){.system_free_pages = palloc_free_pages()};
	for (const struct region *r = as->regions; r; r = r->next) {
		out->reserved[r->kind] += r->npages;
		out->backed[r->kind] += region_backed(as, r);
	}
}

static const char *const kind_names[REGION_KINDS] = {
    [REGION_IMAGE] = "image",	[REGION_HEAP] = "heap",	  [REGION_MAPPING] = "mapping",
    [REGION_DEVICE] = "device", [REGION_STACK] = "stack",
};

/* One page in the Xous page-table view: backed pages with their frame and
 * flags, demand pages with no frame and the flags they will get. */
static void dump_page(const struct aspace *as, const struct region *r, size_t i)
{
	vaddr_t va = r->base + i * PAGE_SIZE;
	paddr_t pa;
	unsigned f;

	if (!vm_lookup(&as->ctx, va, &pa, &f)) {
		kprintf("solo:     %5zu %016lx -> %016lx (flags: VALID | R%s%s%s%s%s%s%s)\n", i, va,
			pa, f & VM_WRITE ? " | W" : "", f & VM_EXEC ? " | X" : "",
			f & VM_USER ? " | USER" : "", f & VM_UNCACHED ? " | UC" : "",
			f & VM_WRITE_COMBINING ? " | WC" : "", f & VM_BORROWED ? " | BORROWED" : "",
			f & VM_LAZYFREE ? " | LAZYFREE" : "");
	} else if (r->kind == REGION_IMAGE) {
		kprintf("solo:     %5zu %016lx -> %016lx (unmapped)\n", i, va, 0ul);
	} else if (r->flags & ASPACE_NOACCESS) {
		kprintf("solo:     %5zu %016lx -> %016lx (no access)\n", i, va, 0ul);
	} else {
		kprintf("solo:     %5zu %016lx -> %016lx (flags: R%s%s)\n", i, va, 0ul,
			r->flags & VM_WRITE ? " | W" : "", r->flags & VM_EXEC ? " | X" : "");
	}
}

void aspace_dump(const struct aspace *as)
{
	kprintf("solo: address space %#lx:\n", as->ctx.root);
	for (const struct region *r = as->regions; r; r = r->next) {
		size_t backed = region_backed(as, r);
		unsigned f = r->flags;

		kprintf("solo:   %s %#lx-%#lx", kind_names[r->kind], r->base, region_end(r));
		if (r->kind != REGION_IMAGE && (f & ASPACE_NOACCESS))
			kprintf(" none");
		else if (r->kind != REGION_IMAGE)
			kprintf(" R%s%s%s%s", f & VM_WRITE ? "W" : "", f & VM_EXEC ? "X" : "",
				f & VM_UNCACHED ? " UC" : "", f & VM_WRITE_COMBINING ? " WC" : "");
		if (r->obj)
			kprintf(" %s object %p offset %#lx", r->shared ? "shared" : "private",
				(void *)r->obj, r->obj_off);
		if (r->kind == REGION_DEVICE)
			kprintf(" phys %#lx%s", r->phys, r->owns_phys ? " (RAM)" : "");
		kprintf(": %zu backed, %zu %s\n", backed, r->npages - backed,
			r->kind == REGION_IMAGE ? "unmapped" : "on demand");
		/* The first pages, or for the stack the top ones (where it is used). */
		size_t n = MIN(r->npages, (size_t)DUMP_PAGES);
		size_t first = r->kind == REGION_STACK ? r->npages - n : 0;
		for (size_t i = first; i < first + n; i++)
			dump_page(as, r, i);
		if (r->npages > n)
			kprintf("solo:     ... %zu more pages\n", r->npages - n);
	}
}
