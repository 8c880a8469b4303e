/*
 * valloc - virtual address ranges per context, and what is built on them:
 * pvalloc (ranges backed by fresh pages), map_mmio (device memory in the
 * kernel context) and guarded kernel stacks.
 *
 * Every context (struct vm_ctx, mm/vm.h) carries one address-range pool
 * (Ghost's g_address_range_pool): the kernel context's covers the kernel
 * virtual ranges, [VM_KERNEL_RANGES_BASE, + VM_KERNEL_RANGES_SIZE); a user
 * context's covers [VM_USER_BASE, VM_USER_TOP - PAGE_SIZE). A pool only
 * knows which pages of its span are free: valloc() takes the lowest free
 * run that is large enough, vfree() gives pages back and merges them with
 * free neighbours, so two ranges handed out never overlap and a pool whose
 * pages are all free again is one range. Like pfree(), vfree() may return
 * any part of what valloc() handed out; the pool does not remember sizes.
 *
 * Costs: the free ranges are the nodes of an AVL tree ordered by address,
 * each node knowing the largest free run below it. valloc, vfree and
 * valloc_reserve are O(log r) for r free ranges, with no search over the
 * span (on the host ~15 ns for a valloc+vfree pair, ~60 ns per call
 * among a thousand fragments: make bench). Memory: 48 bytes per
 * free range, in pages of 84 nodes taken from palloc() (never kmalloc, so
 * the heap may sit on top of valloc); one page at pool init, more only
 * when the number of free ranges exceeds what is held. Node pages are
 * given back when the context is destroyed, not before: a pool holds
 * pages for the most free ranges it ever had.
 *
 * Context: one CPU, not interrupt-safe (no locking). Caller bugs panic
 * naming the function and the range: vfree() of pages already free or
 * outside the pool, pvfree()/unmap_mmio()/kstack_free() of pages not
 * mapped. Exhaustion never panics.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/phys.h"
#include "mm/vm.h"

#ifdef HOST_TEST
/* glibc declares obsolete valloc() and pvalloc() of its own: on the host,
 * Solo's are renamed so that both live in one program (the tests and the
 * bench also call glibc's allocator). */
#include <malloc.h>
#include <stdlib.h>
#define valloc(npages, ctx)	    solo_valloc(npages, ctx)
#define pvalloc(npages, ctx, flags) solo_pvalloc(npages, ctx, flags)
#endif

/*
 * valloc_pool_init - make pool cover [base, end) (page aligned, base <
 * end), all free. For vm.c's context init. Takes one page from palloc().
 * Returns 0 or -ENOMEM.
 */
int valloc_pool_init(struct valloc_pool *pool, vaddr_t base, vaddr_t end);

/*
 * valloc_pool_destroy - give the pool's node pages back to palloc(),
 * whatever is still allocated from it; the pool is empty afterwards
 * (valloc() returns 0). For vm.c's context destruction.
 */
void valloc_pool_destroy(struct valloc_pool *pool);

/*
 * valloc - reserve npages of virtual address space in ctx: the lowest
 * free run of npages pages in its pool.
 * Only reserves: nothing is mapped, no physical page is taken.
 * Returns the page-aligned base address, or 0 when npages is 0 or no free
 * run is large enough. Give it back with vfree(base, npages, ctx).
 */
vaddr_t valloc(size_t npages, struct vm_ctx *ctx);

/*
 * valloc_reserve - take the npages pages at base out of ctx's pool, for
 * callers that need a fixed address (the app loader's segments and stack,
 * map_memory with an address). Give them back with vfree() like valloc'd
 * pages.
 * Returns 0; -EEXIST when any of the pages is not free (nothing changes);
 * -EINVAL when base is not page aligned, npages is 0, or the range is not
 * inside the pool's span; -ENOMEM when splitting a free range needed a
 * node and palloc() had no page.
 */
int valloc_reserve(struct vm_ctx *ctx, vaddr_t base, size_t npages);

/*
 * vfree - return the npages pages at base to ctx's pool; any part of what
 * valloc() or valloc_reserve() handed out. Does not unmap anything.
 * npages == 0 does nothing. Panics "vfree: [a, ...) ..." when the range is
 * not page aligned, reaches outside the pool, or any page of it is free
 * already (a double or foreign free). Cannot fail otherwise: in the one case where it needs
 * a new node and palloc() has no page, the range stays reserved (counted
 * in valloc_stats.npages_lost) instead.
 */
void vfree(vaddr_t base, size_t npages, struct vm_ctx *ctx);

/*
 * pvalloc - valloc() npages in ctx and back each page with a fresh
 * physical page, zeroed, mapped with flags: any of VM_WRITE, VM_EXEC,
 * VM_USER, VM_GLOBAL and at most one of VM_UNCACHED, VM_WRITE_COMBINING
 * (for a non-write-back mode the zeroes are flushed out of the caches
 * first, since the direct map still maps the page write-back). The
 * physical pages need not be contiguous. Cost: per page one palloc(1),
 * a 4 KiB memset and one vm_map().
 * Returns the base address, or 0 when npages is 0 or virtual space,
 * physical pages or page tables ran out (everything taken is given back).
 * Panics on an unknown flag, on both cache modes, and on VM_USER in the
 * kernel context (caller bugs). Free with pvfree(base, npages, ctx).
 */
vaddr_t pvalloc(size_t npages, struct vm_ctx *ctx, unsigned flags);

/*
 * pvfree - unmap the npages pages at base in ctx, pfree() the physical
 * page behind each, and vfree() the range: undoes pvalloc(), or any part
 * of one (npages == 0 does nothing). Empty page tables are freed with the
 * last mapping in them.
 * Panics "pvfree: page ... not mapped" when a page of the range is not
 * mapped by a 4 KiB page, and like vfree().
 */
void pvfree(vaddr_t base, size_t npages, struct vm_ctx *ctx);

/*
 * map_mmio - map size bytes of device memory at physical address phys into
 * the kernel context, writable, not executable, not global (kernel
 * mappings must not survive a switch to the app's view). phys need not be
 * page aligned: the pages covering [phys, phys + size) are mapped and the
 * returned pointer keeps phys's offset in its page. cache is VM_UNCACHED
 * (device registers), VM_WRITE_COMBINING (framebuffers; write-through on
 * a CPU without PAT, see kernel/arch/x86_64/mmu.h) or 0 (write-back:
 * firmware tables outside the direct map). Never pfree()s anything.
 * Returns the kernel virtual address of phys, or NULL when size is 0, the
 * range wraps, or virtual space or page tables ran out. Panics on another
 * cache value. Undo with unmap_mmio(va, size). phys should not be RAM:
 * RAM is in the direct map, write-back, and a second mapping of it with
 * another cache mode is an alias the CPU does not keep coherent.
 */
void *map_mmio(paddr_t phys, size_t size, unsigned cache);

/*
 * unmap_mmio - undo map_mmio(): va and size as map_mmio() returned and was
 * given. Panics "unmap_mmio: page ... not mapped" on a page of the range
 * that is not mapped.
 */
void unmap_mmio(void *va, size_t size);

/*
 * A guarded kernel stack in the kernel context:
 *
 *   top     ----  one past the highest byte: the initial stack pointer
 *           npages mapped pages, writable, NX, not global
 *   bottom  ----
 *           guard page, reserved but never mapped: an overflow faults
 *   guard   ----
 */
struct kstack {
	vaddr_t guard, bottom, top;
};

/*
 * kstack_alloc - valloc() npages + 1 pages in the kernel context, leave the
 * lowest unmapped and back the rest with zeroed pages. Fills *out.
 * Returns 0, -EINVAL when npages is 0, or -ENOMEM (nothing is kept).
 * Free with kstack_free().
 */
int kstack_alloc(size_t npages, struct kstack *out);

/*
 * kstack_free - unmap and pfree() the stack's pages and vfree() its range,
 * guard page included; *ks is zeroed. The stack must not be in use.
 * Panics when the guard page is mapped or a stack page is not.
 */
void kstack_free(struct kstack *ks);

struct valloc_stats {
	vaddr_t base, end;   /* the pool's span */
	size_t npages_free;  /* free pages */
	size_t nranges_free; /* free ranges */
	size_t largest_free; /* npages of the largest free range: valloc()'s limit now */
	size_t nnode_pages;  /* pages the pool holds for its nodes */
	size_t npages_lost;  /* pages vfree() had to leave reserved */
};

/* valloc_get_stats - fill *out for ctx's pool. O(1). */
void valloc_get_stats(const struct vm_ctx *ctx, struct valloc_stats *out);

/*
 * valloc_check - verify ctx's pool: ranges sorted, inside the span, not
 * overlapping, not touching (fully merged), the tree balanced, its
 * subtree maxima and the counts right. kprintf()s each problem and
 * returns their number; 0 means consistent. O(r): for tests and debug.
 */
int valloc_check(const struct vm_ctx *ctx);

/* valloc_dump - kprintf ctx's free ranges, lowest first. O(r). */
void valloc_dump(const struct vm_ctx *ctx);
