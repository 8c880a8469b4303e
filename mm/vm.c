/*
 * Four-level x86-64 page tables, walked through the direct map.
 *
 * Table pages come from palloc(1) and are zeroed on allocation. Intermediate
 * entries are always present|write|user: permissions are decided by the leaf
 * alone, which keeps one rule for every level. An intermediate table whose
 * last entry goes away is freed at once (vm_unmap, vm_unmap_large), and a
 * vm_map that fails half-way frees the tables it made, so no empty table
 * outlives the call that emptied it; the PML4 itself lives as long as its
 * context, and so do the kernel-half PDPTs (user contexts point at them).
 * The one exception is vm_lazyfree_settle, which may run from inside a
 * walk (a reclaim called by palloc for a table): it clears a leaf and
 * leaves its table, even an empty one, to the next unmap next to it or
 * to vm_ctx_destroy_user.
 *
 * Frames: vm never allocates or frees a leaf's frame, except that
 * vm_ctx_destroy_user(ctx, 1) frees the frames still mapped. A leaf marked
 * VM_BORROWED (PTE_BORROWED, a bit the CPU ignores) maps a frame someone
 * else owns (a file's page): that one is never freed here, and vm_protect
 * keeps the mark; only vm_map, vm_replace and unmapping change it. The
 * other software bit, VM_LAZYFREE (PTE_LAZYFREE), is kept the same way,
 * together with the CPU's dirty bit that gives it its meaning.
 *
 * TLB: a mapping is invalidated (invlpg) when it is removed or changed if
 * the context is active or the address is in the shared kernel half; other
 * contexts are not cached (no PCID yet: a CR3 load flushes their entries).
 * Removing a leaf and the tables above it goes: clear the entries, invlpg
 * (which also drops every paging-structure cache entry), then pfree the
 * tables, so the CPU never walks through a table that was given away.
 */
#include "mm/vm.h"

#include "kernel/arch/x86_64/mmu.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "mm/failinj.h"
#include "mm/palloc.h"
#include "mm/valloc.h"

#define PML4_KERNEL_FIRST 256

static int kernel_half_frozen;
static paddr_t kernel_root; /* the context whose upper half every user context shares */

static uint64_t *table_at(paddr_t pa)
{
	return phys_to_virt(pa);
}

static paddr_t new_table(void)
{
	/* A point of its own (besides palloc's): the tables are the
	 * allocations most often assumed to succeed. */
	paddr_t pa = failinj_point() ? 0 : palloc(1);

	if (pa)
		mmu_zero_page(table_at(pa));
	return pa;
}

static uint64_t leaf_bits(unsigned flags)
{
	uint64_t bits = PTE_PRESENT;

	if (flags & VM_WRITE)
		bits |= PTE_WRITE;
	if (flags & VM_USER)
		bits |= PTE_USER;
	if (!(flags & VM_EXEC))
		bits |= PTE_NX;
	if (flags & VM_GLOBAL)
		bits |= PTE_GLOBAL;
	if (flags & VM_BORROWED)
		bits |= PTE_BORROWED;
	if (flags & VM_LAZYFREE)
		bits |= PTE_LAZYFREE;
	if (flags & VM_UNCACHED)
		bits |= PTE_CACHE_UC;
	else if (flags & VM_WRITE_COMBINING)
		bits |= PTE_CACHE_WC;
	return bits;
}

static unsigned flags_of(uint64_t pte, int large)
{
	unsigned flags = 0;

	if (pte & PTE_WRITE)
		flags |= VM_WRITE;
	if (pte & PTE_USER)
		flags |= VM_USER;
	if (!(pte & PTE_NX))
		flags |= VM_EXEC;
	if (pte & PTE_GLOBAL)
		flags |= VM_GLOBAL;
	if (pte & PTE_BORROWED)
		flags |= VM_BORROWED;
	if (pte & PTE_LAZYFREE)
		flags |= VM_LAZYFREE;
	if ((pte & PTE_CACHE_UC) == PTE_CACHE_UC)
		flags |= VM_UNCACHED;
	else if (pte & PTE_PWT)
		flags |= VM_WRITE_COMBINING;
	if (large)
		flags |= VM_LARGE;
	return flags;
}

static int is_canonical(vaddr_t va)
{
	return va < VM_USER_TOP || va >= VM_KERNEL_HALF;
}

/*
 * Returns the entry for va at stop_level (0 = PT entry, 1 = PD entry),
 * creating intermediate tables when create is set. NULL when a table is
 * missing (and !create), when allocation fails (*err = -ENOMEM), or when a
 * large page sits in the way above stop_level (*err = -EEXIST).
 */
static uint64_t *walk(const struct vm_ctx *ctx, vaddr_t va, int stop_level, int create, int *err)
{
	uint64_t *table = table_at(ctx->root);
	uint64_t *made[PT_LEVELS]; /* entries this walk filled, to undo on failure */
	int nmade = 0;

	for (int level = 3; level > stop_level; level--) {
		uint64_t *entry = &table[pt_index(va, level)];

		if (!(*entry & PTE_PRESENT)) {
			if (!create)
				return NULL;
			if (level == 3 && va >= VM_KERNEL_HALF && kernel_half_frozen)
				panic("vm_map: new kernel PML4 entry for %#lx after user contexts "
				      "exist",
				      va);
			paddr_t pa = new_table();
			if (!pa) {
				/* The tables made so far are empty: never reachable by
				 * the CPU with a leaf, so no invalidation is needed. */
				while (nmade--) {
					pfree(*made[nmade] & PTE_ADDR_MASK, 1);
					*made[nmade] = 0;
				}
				*err = -ENOMEM;
				return NULL;
			}
			*entry = pa | PTE_PRESENT | PTE_WRITE | PTE_USER;
			made[nmade++] = entry;
		} else if (*entry & PTE_LARGE) {
			*err = -EEXIST;
			return NULL;
		}
		table = table_at(*entry & PTE_ADDR_MASK);
	}
	return &table[pt_index(va, stop_level)];
}

int vm_ctx_init_kernel(struct vm_ctx *ctx)
{
	ctx->root = new_table();
	if (!ctx->root)
		return -ENOMEM;
	if (valloc_pool_init(&ctx->ranges, VM_KERNEL_RANGES_BASE,
			     VM_KERNEL_RANGES_BASE + VM_KERNEL_RANGES_SIZE)) {
		pfree(ctx->root, 1);
		ctx->root = 0;
		return -ENOMEM;
	}
	kernel_root = ctx->root;
	kernel_half_frozen = 0;
	return 0;
}

int vm_kernel_reserve_top_level(struct vm_ctx *kernel, vaddr_t va)
{
	uint64_t *entry = &table_at(kernel->root)[pt_index(va, 3)];

	if (*entry & PTE_PRESENT)
		return 0;
	paddr_t pa = new_table();
	if (!pa)
		return -ENOMEM;
	*entry = pa | PTE_PRESENT | PTE_WRITE | PTE_USER;
	return 0;
}

void vm_kernel_freeze_top_level(void)
{
	kernel_half_frozen = 1;
}

int vm_ctx_init_user(struct vm_ctx *ctx, const struct vm_ctx *kernel)
{
	ctx->root = new_table();
	if (!ctx->root)
		return -ENOMEM;
	if (valloc_pool_init(&ctx->ranges, VM_USER_BASE, VM_USER_TOP - PAGE_SIZE)) {
		pfree(ctx->root, 1);
		ctx->root = 0;
		return -ENOMEM;
	}
	memcpy(&table_at(ctx->root)[PML4_KERNEL_FIRST], &table_at(kernel->root)[PML4_KERNEL_FIRST],
	       (PT_ENTRIES - PML4_KERNEL_FIRST) * sizeof(uint64_t));
	vm_kernel_freeze_top_level();
	return 0;
}

static void destroy_level(paddr_t table_pa, int level, int free_frames)
{
	uint64_t *table = table_at(table_pa);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = table[i];

		if (!(e & PTE_PRESENT))
			continue;
		if (level == 0 || (e & PTE_LARGE)) {
			if (free_frames && !(e & PTE_BORROWED))
				pfree(e & (level ? PTE_LARGE_ADDR_MASK : PTE_ADDR_MASK),
				      level ? PT_ENTRIES : 1);
		} else {
			destroy_level(e & PTE_ADDR_MASK, level - 1, free_frames);
		}
	}
	pfree(table_pa, 1);
}

void vm_ctx_destroy_user(struct vm_ctx *ctx, int free_frames)
{
	uint64_t *pml4 = table_at(ctx->root);

	if (mmu_active_root() == ctx->root && ctx->root)
		panic("vm_ctx_destroy_user: context %#lx is active", ctx->root);
	for (unsigned i = 0; i < PML4_KERNEL_FIRST; i++) {
		if (pml4[i] & PTE_PRESENT)
			destroy_level(pml4[i] & PTE_ADDR_MASK, 2, free_frames);
	}
	pfree(ctx->root, 1);
	ctx->root = 0;
	valloc_pool_destroy(&ctx->ranges);
}

static void check_mappable(const char *who, vaddr_t va, paddr_t pa, uint64_t align)
{
	if ((va | pa) & (align - 1))
		panic("%s: misaligned va %#lx or pa %#lx", who, va, pa);
	if (!is_canonical(va))
		panic("%s: non-canonical va %#lx", who, va);
}

int vm_map(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags)
{
	int err = 0;

	check_mappable("vm_map", va, pa, PAGE_SIZE);
	uint64_t *pte = walk(ctx, va, 0, 1, &err);
	if (!pte)
		return err;
	if (*pte & PTE_PRESENT)
		return -EEXIST;
	*pte = pa | leaf_bits(flags);
	return 0;
}

int vm_map_if_empty(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags)
{
	int err = 0;

	check_mappable("vm_map_if_empty", va, pa, PAGE_SIZE);
	/* The tables on the way are only read: the callers' writers, which
	 * alone make or free tables, do not run meanwhile. */
	uint64_t *pte = walk(ctx, va, 0, 0, &err);
	if (!pte)
		return -ENOENT;
	uint64_t empty = 0;
	if (!__atomic_compare_exchange_n(pte, &empty, pa | leaf_bits(flags), 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return -EEXIST;
	return 0;
}

int vm_map_large(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags)
{
	int err = 0;

	check_mappable("vm_map_large", va, pa, VM_LARGE_PAGE_SIZE);
	uint64_t *pde = walk(ctx, va, 1, 1, &err);
	if (!pde)
		return err;
	if (*pde & PTE_PRESENT)
		return -EEXIST;
	uint64_t bits = leaf_bits(flags);
	/* In a large-page entry the PAT selector moves from bit 7 to bit 12;
	 * PWT/PCD stay where they are, and we only use those. */
	*pde = pa | bits | PTE_LARGE;
	return 0;
}

int vm_map_range(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, uint64_t size, unsigned flags)
{
	uint64_t done = 0;

	while (done < size) {
		uint64_t left = size - done;
		int err;

		if (!((va + done) & (VM_LARGE_PAGE_SIZE - 1)) &&
		    !((pa + done) & (VM_LARGE_PAGE_SIZE - 1)) && left >= VM_LARGE_PAGE_SIZE) {
			err = vm_map_large(ctx, va + done, pa + done, flags);
			done += VM_LARGE_PAGE_SIZE;
		} else {
			err = vm_map(ctx, va + done, pa + done, flags);
			done += PAGE_SIZE;
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * Whether table has no present entry, entry being the one just cleared: its
 * neighbours are looked at first, so unmapping a range in either direction
 * finds a present entry at once and pays the full 512-entry scan only for
 * the last entry of each table.
 */
static int table_empty(const uint64_t *table, const uint64_t *entry)
{
	unsigned at = (unsigned)(entry - table);

	if ((at + 1 < PT_ENTRIES && (table[at + 1] & PTE_PRESENT)) ||
	    (at > 0 && (table[at - 1] & PTE_PRESENT)))
		return 0;
	/* Eight entries per test: this scan is most of the cost of an unmap
	 * that empties its tables, so keep it to a few instructions per line. */
	for (unsigned i = 0; i < PT_ENTRIES; i += 8) {
		uint64_t any = table[i] | table[i + 1] | table[i + 2] | table[i + 3] |
			       table[i + 4] | table[i + 5] | table[i + 6] | table[i + 7];
		if (any & PTE_PRESENT)
			return 0;
	}
	return 1;
}

static int needs_invalidation(const struct vm_ctx *ctx, vaddr_t va)
{
	return mmu_active_root() == ctx->root || va >= VM_KERNEL_HALF;
}

/*
 * A shootdown batch (vm_batch_begin): the pages invalidated since the
 * last flush, as the range [lo, hi] they lie in, and the frames and tables
 * freed since, which wait for the flush. One batch at a time: vm's callers
 * are serialized (the kernel lock), and an inner begin only nests.
 */
static struct {
	unsigned depth;
	vaddr_t lo, hi;
	size_t npages;
	paddr_t frames[VM_BATCH_FRAMES];
	size_t nframes;
} batch;

/* Other CPUs that ran app code may cache any mapping (the app's through
 * the app view's root, which they do not reload): they drop the batch's
 * pages, and then its frames are freed. */
static void batch_flush(void)
{
	/* A long span becomes a flush of every entry on the other side. */
	if (batch.npages)
		mmu_shootdown_pages(batch.lo, (size_t)((batch.hi - batch.lo) / PAGE_SIZE) + 1);
	for (size_t i = 0; i < batch.nframes; i++)
		pfree(batch.frames[i], 1);
	batch.npages = 0;
	batch.nframes = 0;
}

void vm_batch_begin(void)
{
	batch.depth++;
}

void vm_batch_end(void)
{
	if (!batch.depth)
		panic("vm_batch_end: no batch");
	if (--batch.depth == 0)
		batch_flush();
}

void vm_free_frame(paddr_t pa)
{
	if (!batch.depth) {
		pfree(pa, 1);
		return;
	}
	if (batch.nframes == VM_BATCH_FRAMES)
		batch_flush();
	batch.frames[batch.nframes++] = pa;
}

/* Other CPUs drop va too, before the caller frees or reuses a frame or
 * table: now, or inside a batch at its flush. */
static void shoot_down(vaddr_t va)
{
	if (!batch.depth) {
		mmu_shootdown_pages(va, 1);
		return;
	}
	if (!batch.npages || va < batch.lo)
		batch.lo = va;
	if (!batch.npages || va > batch.hi)
		batch.hi = va;
	batch.npages++;
}

static void invalidate(const struct vm_ctx *ctx, vaddr_t va)
{
	if (needs_invalidation(ctx, va))
		mmu_invalidate_page(va);
	shoot_down(va);
}

/*
 * Removes the leaf for va at leaf_level (0: a 4 KiB PTE, 1: a 2 MiB PDE),
 * then every table that became empty, bottom up: up to the PDPT for a user
 * address, never a kernel-half PDPT (user contexts share those).
 */
static int unmap_leaf(struct vm_ctx *ctx, vaddr_t va, int leaf_level, paddr_t *pa_out,
		      unsigned *flags_out)
{
	uint64_t *path[PT_LEVELS];
	uint64_t *table = table_at(ctx->root);
	paddr_t dead[PT_LEVELS];
	int ndead = 0;

	if (!is_canonical(va))
		return -ENOENT;
	for (int level = 3; level >= leaf_level; level--) {
		uint64_t *entry = &table[pt_index(va, level)];

		path[level] = entry;
		if (!(*entry & PTE_PRESENT))
			return -ENOENT;
		int large = level > 0 && (*entry & PTE_LARGE);
		if (level == leaf_level) {
			if (level > 0 && !large)
				return -ENOENT; /* a table of 4 KiB pages, not a 2 MiB page */
			break;
		}
		if (large)
			return -ENOENT; /* a 2 MiB page: not split here */
		table = table_at(*entry & PTE_ADDR_MASK);
	}
	if (pa_out)
		*pa_out = *path[leaf_level] & (leaf_level ? PTE_LARGE_ADDR_MASK : PTE_ADDR_MASK);
	if (flags_out)
		*flags_out = flags_of(*path[leaf_level], leaf_level > 0);
	*path[leaf_level] = 0;

	int top = va < VM_KERNEL_HALF ? 3 : 2; /* highest level whose entry may go */
	for (int level = leaf_level; level < top; level++) {
		uint64_t *tbl = (uint64_t *)((uintptr_t)path[level] & ~(uintptr_t)(PAGE_SIZE - 1));

		if (!table_empty(tbl, path[level]))
			break;
		dead[ndead++] = *path[level + 1] & PTE_ADDR_MASK;
		*path[level + 1] = 0;
	}
	invalidate(ctx, va);
	while (ndead--)
		vm_free_frame(dead[ndead]);
	return 0;
}

int vm_unmap(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out)
{
	return unmap_leaf(ctx, va, 0, pa_out, NULL);
}

int vm_unmap_entry(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out, unsigned *flags_out)
{
	return unmap_leaf(ctx, va, 0, pa_out, flags_out);
}

int vm_unmap_large(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out)
{
	if (va & (VM_LARGE_PAGE_SIZE - 1))
		panic("vm_unmap_large: misaligned va %#lx", va);
	return unmap_leaf(ctx, va, 1, pa_out, NULL);
}

int vm_lookup(const struct vm_ctx *ctx, vaddr_t va, paddr_t *pa, unsigned *flags)
{
	const uint64_t *table = table_at(ctx->root);

	if (!is_canonical(va))
		return -ENOENT;
	for (int level = 3; level >= 0; level--) {
		uint64_t e = table[pt_index(va, level)];

		if (!(e & PTE_PRESENT))
			return -ENOENT;
		if (level == 0 || (e & PTE_LARGE)) {
			uint64_t span = 1ull << (12 + 9 * level);
			if (pa)
				*pa = (e & PTE_ADDR_MASK & ~(span - 1)) | (va & (span - 1));
			if (flags)
				*flags = flags_of(e, level > 0);
			return 0;
		}
		table = table_at(e & PTE_ADDR_MASK);
	}
	return -ENOENT;
}

int vm_protect(struct vm_ctx *ctx, vaddr_t va, unsigned flags)
{
	int err = 0;
	uint64_t *pte = is_canonical(va) ? walk(ctx, va, 0, 0, &err) : NULL;

	if (!pte || !(*pte & PTE_PRESENT))
		return -ENOENT;
	*pte = (*pte & (PTE_ADDR_MASK | PTE_BORROWED | PTE_LAZYFREE | PTE_DIRTY)) |
	       leaf_bits(flags & ~(VM_BORROWED | VM_LAZYFREE));
	invalidate(ctx, va);
	return 0;
}

int vm_protect_large(struct vm_ctx *ctx, vaddr_t va, unsigned flags)
{
	int err = 0;

	if (va & (VM_LARGE_PAGE_SIZE - 1))
		panic("vm_protect_large: misaligned va %#lx", va);
	uint64_t *pde = is_canonical(va) ? walk(ctx, va, 1, 0, &err) : NULL;
	if (!pde || (*pde & (PTE_PRESENT | PTE_LARGE)) != (PTE_PRESENT | PTE_LARGE))
		return -ENOENT;
	*pde = (*pde & (PTE_LARGE_ADDR_MASK | PTE_BORROWED)) | leaf_bits(flags & ~VM_BORROWED) |
	       PTE_LARGE;
	invalidate(ctx, va);
	return 0;
}

int vm_replace(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags, paddr_t *old_pa)
{
	int err = 0;

	if (pa & (PAGE_SIZE - 1))
		panic("vm_replace: misaligned pa %#lx", pa);
	uint64_t *pte = is_canonical(va) ? walk(ctx, va, 0, 0, &err) : NULL;
	if (!pte || !(*pte & PTE_PRESENT))
		return -ENOENT;
	if (old_pa)
		*old_pa = *pte & PTE_ADDR_MASK;
	*pte = pa | leaf_bits(flags);
	invalidate(ctx, va);
	return 0;
}

/* ------------------------------------------------------------ lazy freeing */

/* The present 4 KiB entry of va, or NULL (nothing there, or a 2 MiB page). */
static uint64_t *present_pte(const struct vm_ctx *ctx, vaddr_t va)
{
	int err = 0;
	uint64_t *pte = is_canonical(va) ? walk(ctx, va, 0, 0, &err) : NULL;

	return pte && (*pte & PTE_PRESENT) ? pte : NULL;
}

/*
 * The page table that holds va's 4 KiB entry, or NULL when there is none
 * (a table missing on the way, or a 2 MiB page): then *next is the first
 * address past the span that has no table.
 */
static uint64_t *leaf_table(const struct vm_ctx *ctx, vaddr_t va, vaddr_t *next)
{
	uint64_t *table = table_at(ctx->root);

	for (int level = 3; level > 0; level--) {
		uint64_t e = table[pt_index(va, level)];
		if (!(e & PTE_PRESENT) || (e & PTE_LARGE)) {
			uint64_t span = 1ull << (12 + 9 * level);
			*next = (va & ~(span - 1)) + span;
			return NULL;
		}
		table = table_at(e & PTE_ADDR_MASK);
	}
	return table;
}

/* musl's allocator calls this for nearly every free of a slot of a few
 * pages (make bench-apps' malloc: ~890,000 calls), so the loop over one
 * table is kept to a load, a test and a store per entry: whether this
 * context is the one the CPU runs on is asked once (inside a syscall it is
 * not: the kernel's view is, and going back to the app flushes the TLB). */
size_t vm_lazyfree_mark(struct vm_ctx *ctx, vaddr_t va, vaddr_t end)
{
	size_t fresh = 0;
	int live = needs_invalidation(ctx, va);

	vm_batch_begin(); /* one shootdown for the range, not one per page */
	while (va < end) {
		vaddr_t next;
		uint64_t *table = leaf_table(ctx, va, &next);
		if (!table) {
			va = next;
			continue;
		}
		unsigned first = pt_index(va, 0);
		size_t n = MIN((size_t)(PT_ENTRIES - first), (size_t)((end - va) >> PAGE_SHIFT));
		for (size_t i = 0; i < n; i++) {
			uint64_t e = table[first + i];
			if ((e & (PTE_PRESENT | PTE_BORROWED)) != PTE_PRESENT)
				continue;
			fresh += !(e & PTE_LAZYFREE);
			/* Atomic: another CPU's page walk may set the accessed
			 * and dirty bits at any moment; none of its writes may
			 * be lost between our read and our write. */
			__atomic_fetch_or(&table[first + i], PTE_LAZYFREE, __ATOMIC_SEQ_CST);
			__atomic_fetch_and(&table[first + i], ~(PTE_DIRTY | PTE_ACCESSED),
					   __ATOMIC_SEQ_CST);
			/* A cached entry that is dirty already would let a write
			 * through without setting the bit again. */
			if (live)
				mmu_invalidate_page(va + i * PAGE_SIZE);
			shoot_down(va + i * PAGE_SIZE);
		}
		va += n * PAGE_SIZE;
	}
	vm_batch_end();
	return fresh;
}

int vm_lazyfree_settle(struct vm_ctx *ctx, vaddr_t va, unsigned how, paddr_t *pa_out)
{
	uint64_t *pte = present_pte(ctx, va);

	/* Its caller frees the frame at once, which a batch must not see. */
	if (batch.depth)
		panic("vm_lazyfree_settle: inside a shootdown batch");

	if (!pte || !(*pte & PTE_LAZYFREE))
		return -ENOENT;
	for (;;) {
		uint64_t e = __atomic_load_n(pte, __ATOMIC_SEQ_CST);
		if (e & PTE_DIRTY) {
			/* Written since marked: keep it. Only a software bit
			 * changes (atomically: the CPU may set accessed). */
			__atomic_fetch_and(pte, ~PTE_LAZYFREE, __ATOMIC_SEQ_CST);
			return 0;
		}
		if (!(how & VM_SETTLE_TAKE))
			return 1;
		/* Clean: taken only if it is still clean when it goes, so a
		 * write on another CPU between the look and the take (its
		 * page walk sets dirty) keeps the page. A CPU that still
		 * caches the clean entry must walk again to write (and
		 * faults); the shootdown ends its reads before the frame is
		 * freed. */
		if (__atomic_compare_exchange_n(pte, &e, 0, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			if (pa_out)
				*pa_out = e & PTE_ADDR_MASK;
			invalidate(ctx, va);
			return 1;
		}
	}
}

vaddr_t vm_lazyfree_next(const struct vm_ctx *ctx, vaddr_t va, vaddr_t end)
{
	while (va < end) {
		const uint64_t *table = leaf_table(ctx, va, &va);
		if (!table)
			continue;
		for (unsigned i = pt_index(va, 0); i < PT_ENTRIES && va < end;
		     i++, va += PAGE_SIZE) {
			if ((table[i] & (PTE_PRESENT | PTE_LAZYFREE)) ==
			    (PTE_PRESENT | PTE_LAZYFREE))
				return va;
		}
	}
	return end;
}

/* ------------------------------------------------------------ user copies */

#define ACCESS_WRITE 1
#define ACCESS_ANY   2 /* ignore permissions: the loader */

/*
 * Resolves one user byte for a copy: the page must be user-accessible. A
 * write marks the entry accessed and dirty, as the CPU does for the app's
 * stores (the direct map's own entry would not tell anyone).
 */
static void *user_byte(const struct vm_ctx *ctx, vaddr_t va, int access)
{
	uint64_t *table = table_at(ctx->root);

	if (va >= VM_USER_TOP)
		return NULL;
	for (int level = 3; level >= 0; level--) {
		uint64_t *entry = &table[pt_index(va, level)];
		uint64_t e = *entry;

		if (!(e & PTE_PRESENT))
			return NULL;
		if (level == 0 || (e & PTE_LARGE)) {
			uint64_t span = 1ull << (12 + 9 * level);
			if (!(access & ACCESS_ANY) &&
			    (!(e & PTE_USER) || ((access & ACCESS_WRITE) && !(e & PTE_WRITE))))
				return NULL;
			if (access & (ACCESS_WRITE | ACCESS_ANY))
				*entry = e | PTE_ACCESSED | PTE_DIRTY;
			return phys_to_virt((e & PTE_ADDR_MASK & ~(span - 1)) | (va & (span - 1)));
		}
		table = table_at(e & PTE_ADDR_MASK);
	}
	return NULL;
}

/*
 * After a copy that failed part way: marks every mapped page of the range
 * accessed and dirty, as if it had been copied. The kernel then backs the
 * missing pages and copies again (app_copy_to/app_copy_from), and backing
 * may reclaim lazily freed pages: the ones of this very buffer must still
 * be there for the second copy. O(pages of the range).
 */
static void keep_range(const struct vm_ctx *ctx, vaddr_t uva, size_t len)
{
	for (vaddr_t va = uva & ~(vaddr_t)(PAGE_SIZE - 1); va < uva + len; va += PAGE_SIZE)
		user_byte(ctx, va, ACCESS_ANY);
}

static int copy_user(const struct vm_ctx *ctx, vaddr_t uva, void *kbuf, size_t len, int access)
{
	int to_user = access & (ACCESS_WRITE | ACCESS_ANY);
	vaddr_t start = uva;
	size_t total = len;

	if (uva >= VM_USER_TOP || len > VM_USER_TOP - uva)
		return -EFAULT;
	while (len) {
		size_t chunk = PAGE_SIZE - (uva & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		void *k = user_byte(ctx, uva, access);
		if (!k) {
			keep_range(ctx, start, total);
			return -EFAULT;
		}
		if (to_user)
			memcpy(k, kbuf, chunk);
		else
			memcpy(kbuf, k, chunk);
		uva += chunk;
		kbuf = (char *)kbuf + chunk;
		len -= chunk;
	}
	return 0;
}

int vm_copy_to_user(const struct vm_ctx *ctx, vaddr_t dst, const void *src, size_t len)
{
	return copy_user(ctx, dst, (void *)src, len, ACCESS_WRITE);
}

int vm_copy_to_mapped(const struct vm_ctx *ctx, vaddr_t va, const void *src, size_t len)
{
	return copy_user(ctx, va, (void *)src, len, ACCESS_ANY);
}

int vm_copy_from_user(const struct vm_ctx *ctx, void *dst, vaddr_t src, size_t len)
{
	return copy_user(ctx, src, dst, len, 0);
}

long vm_copy_string_from_user(const struct vm_ctx *ctx, char *dst, vaddr_t src, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		const char *k = user_byte(ctx, src + i, 0);
		if (!k)
			return -EFAULT;
		dst[i] = *k;
		if (!*k)
			return (long)i;
	}
	return -ENAMETOOLONG;
}

static void dump_flags(unsigned flags, uint64_t pte)
{
	kprintf("(flags: VALID | R%s%s%s%s%s%s%s%s%s%s)\n", flags & VM_WRITE ? " | W" : "",
		flags & VM_EXEC ? " | X" : "", flags & VM_USER ? " | USER" : "",
		flags & VM_GLOBAL ? " | G" : "", flags & VM_UNCACHED ? " | UC" : "",
		flags & VM_WRITE_COMBINING ? " | WC" : "", pte & PTE_ACCESSED ? " | A" : "",
		pte & PTE_DIRTY ? " | D" : "", flags & VM_LARGE ? " | 2M" : "",
		flags & VM_BORROWED ? " | BORROWED" : "");
}

static void dump_level(paddr_t table_pa, int level, vaddr_t base, vaddr_t start, vaddr_t end,
		       unsigned long *count)
{
	const uint64_t *table = table_at(table_pa);
	uint64_t span = 1ull << (12 + 9 * level);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		vaddr_t va = base + i * span;
		if (level == 3 && i >= 256)
			va |= 0xffff000000000000ull; /* sign extension */
		if (va + (span - 1) < start || va >= end || !(table[i] & PTE_PRESENT))
			continue;
		if (level == 0 || (table[i] & PTE_LARGE)) {
			kprintf(
			    "solo:   %5lu %016lx -> %016lx ", (*count)++, va,
			    (uint64_t)(table[i] & (level ? PTE_LARGE_ADDR_MASK : PTE_ADDR_MASK)));
			dump_flags(flags_of(table[i], level > 0), table[i]);
		} else {
			dump_level(table[i] & PTE_ADDR_MASK, level - 1, va, start, end, count);
		}
	}
}

void vm_dump(const struct vm_ctx *ctx, vaddr_t start, vaddr_t end)
{
	unsigned long count = 0;

	kprintf("solo: page tables of context %#lx, [%#lx, %#lx):\n", ctx->root, start, end);
	dump_level(ctx->root, 3, 0, start, end, &count);
}
