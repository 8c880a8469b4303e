/*
 * vm - page tables of one address space (a "context"): map, unmap, lookup,
 * protect, and copies into and out of a context that do not depend on which
 * context is active.
 *
 * Address map (x86-64, 48-bit):
 *
 *   0x0000000000000000  +-----------------------------+
 *                       | null guard (64 KiB)         |  never mapped
 *   0x0000000000010000  | app: ELF segments, heap,    |  VM_USER
 *                       | mappings, stack at the top  |
 *   0x00007fffffffffff  +-----------------------------+
 *                         non-canonical hole
 *   0xffff800000000000  +-----------------------------+  SOLO_DIRECT_MAP_BASE
 *                       | direct map of physical RAM  |  NX, global
 *   0xffffc00000000000  +-----------------------------+  VM_KERNEL_RANGES_BASE
 *                       | kernel virtual ranges       |  (valloc; MMIO, stacks)
 *   0xffffffff80000000  +-----------------------------+  kernel image (-2 GiB)
 *                       | text RX, rodata R, data RW  |
 *                       +-----------------------------+
 *
 * Every user context shares the kernel half (PML4 entries 256..511) with
 * the kernel context it is made from by pointing at the same lower-level
 * tables, so the kernel must create every kernel-half PML4 entry before the
 * first user context exists (vm_kernel_reserve_top_level() at boot); vm_map
 * panics otherwise.
 *
 * Locking: none; Solo runs the kernel on one CPU with interrupts off.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/phys.h"

#define VM_WRITE	   (1u << 0)
#define VM_EXEC		   (1u << 1)
#define VM_USER		   (1u << 2)
#define VM_GLOBAL	   (1u << 3)
#define VM_UNCACHED	   (1u << 4) /* strong uncacheable: device registers */
#define VM_WRITE_COMBINING (1u << 5) /* framebuffers */
#define VM_LARGE	   (1u << 6) /* lookup: the mapping is a 2 MiB page */
/*
 * VM_BORROWED: the frame is not the context's own (a page of a file's
 * object, mm/vmobj.h, mapped where it lies). A software bit of the entry
 * (the CPU ignores it): vm_map and vm_replace set it, vm_lookup and
 * vm_unmap_entry report it, vm_protect keeps it, and vm_ctx_destroy_user
 * never frees such a frame. Whoever unmaps an entry decides from it
 * whether to pfree the frame.
 */
#define VM_BORROWED (1u << 7)
/*
 * VM_LAZYFREE: the frame's contents may be dropped (madvise MADV_FREE,
 * mm/aspace.h): a software bit of the entry, set by vm_lazyfree_mark (or
 * vm_map with the flag, for an entry that moves), reported by vm_lookup
 * and vm_unmap_entry, kept by vm_protect. The mark stays on an entry the
 * app writes afterwards: the CPU's dirty bit (set by such a write, and by
 * the user copies below) is what vm_lazyfree_settle looks at. Bit 8 is
 * left out: region flags use it (ASPACE_NOACCESS).
 */
#define VM_LAZYFREE (1u << 9)

#define VM_USER_BASE	      0x0000000000010000ull /* == ELF_APP_VADDR_MIN: null guard below */
#define VM_USER_TOP	      0x0000800000000000ull
#define VM_KERNEL_HALF	      0xffff800000000000ull
#define VM_KERNEL_RANGES_BASE 0xffffc00000000000ull
#define VM_KERNEL_RANGES_SIZE (1ull << 39) /* one PML4 entry: 512 GiB */
#define VM_LARGE_PAGE_SIZE    (2ull << 20)

/*
 * The free virtual ranges of one context, handed out by valloc() (see
 * mm/valloc.h for the API and the costs). The fields are valloc.c's:
 * nothing else reads or writes them.
 */
struct valloc_node;
struct valloc_pool {
	vaddr_t base, end;	   /* [base, end): the addresses the pool manages */
	struct valloc_node *root;  /* free ranges, an AVL tree by address */
	struct valloc_node *spare; /* unused nodes, linked through ->left */
	paddr_t node_pages;	   /* pages holding nodes, linked through their first word */
	size_t npages_free;	   /* pages in the free ranges */
	size_t nranges_free;	   /* free ranges (tree nodes) */
	size_t nnode_pages;	   /* pages held for nodes */
	size_t npages_lost;	   /* pages vfree() could not return (no page for a node) */
};

/*
 * A context: one address space. A kernel context owns kernel-half tables
 * (its ranges pool covers [VM_KERNEL_RANGES_BASE, + VM_KERNEL_RANGES_SIZE));
 * a user context shares the kernel-half tables of the context it was made
 * from and owns the lower half (its pool covers [VM_USER_BASE,
 * VM_USER_TOP - PAGE_SIZE): the top page stays a guard above the stack).
 */
struct vm_ctx {
	paddr_t root;		   /* physical address of the PML4 */
	struct valloc_pool ranges; /* free virtual ranges: valloc(n, ctx) */
};

/*
 * The kernel's context. Defined in kernel/main.c (host tests and the
 * bench define their own); map_mmio() and kstack_alloc() use it.
 */
extern struct vm_ctx kernel_ctx;

/* Fresh kernel context: an empty PML4 and a ranges pool covering
 * [VM_KERNEL_RANGES_BASE, + VM_KERNEL_RANGES_SIZE). Takes 2 pages from
 * palloc. Returns 0 or -ENOMEM (nothing is kept). */
int vm_ctx_init_kernel(struct vm_ctx *ctx);
/* Pre-creates the kernel-half PML4 entry covering va (so later user
 * contexts share it). Returns 0 or -ENOMEM. */
int vm_kernel_reserve_top_level(struct vm_ctx *kernel, vaddr_t va);
/* Marks the kernel half complete: from now on vm_map panics if it would
 * need a new kernel-half PML4 entry. */
void vm_kernel_freeze_top_level(void);
/* Fresh user context sharing kernel's upper half, with a ranges pool
 * covering [VM_USER_BASE, VM_USER_TOP - PAGE_SIZE). Takes 2 pages from
 * palloc. Returns 0 or -ENOMEM (nothing is kept). */
int vm_ctx_init_user(struct vm_ctx *ctx, const struct vm_ctx *kernel);
/* Frees every lower-half page table of a user context, the pages of its
 * ranges pool and, when free_frames is set, every physical page mapped
 * there (pfree(pa, 1), or pfree(pa, 512) for a 2 MiB page) except the
 * VM_BORROWED ones. The context must not be active. */
void vm_ctx_destroy_user(struct vm_ctx *ctx, int free_frames);

/* Maps the 4 KiB page at va to pa. Returns 0, -ENOMEM (no page for a table;
 * tables made on the way are freed again), or -EEXIST when va is already
 * mapped, by a 4 KiB or a 2 MiB page (nothing changes). va and pa must be
 * page aligned and va canonical (panic otherwise: a caller bug). */
int vm_map(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags);

/*
 * vm_map_if_empty - vm_map for demand faults that run on several CPUs at
 * once in one context (aspace_fault_shared), while nothing else changes
 * its tables: creates no table, and installs the entry by compare-exchange
 * only while it is empty, so of two CPUs backing one page, one wins.
 * Returns 0, -ENOENT (va's page table is missing, or a 2 MiB page is in
 * the way: the caller takes the way that may change tables), or -EEXIST
 * (the entry is not empty: another CPU mapped va first; pa stays the
 * caller's). Same rules for va and pa as vm_map. Never blocks.
 */
int vm_map_if_empty(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags);
/* Same for one 2 MiB page; va and pa 2 MiB aligned. -EEXIST also when any
 * 4 KiB page of the 2 MiB is mapped. */
int vm_map_large(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags);
/* Maps [va, va + size) to [pa, pa + size) with 2 MiB pages where both are
 * aligned and 4 KiB pages elsewhere. size is a page multiple. On failure the
 * part already mapped stays mapped; returns the first error. */
int vm_map_range(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, uint64_t size, unsigned flags);
/*
 * Removes the 4 KiB mapping of the page holding va; *pa_out (may be NULL)
 * gets the frame, which is not freed. Invalidates the TLB entry when ctx is
 * active or va is in the shared kernel half. Tables left empty are freed:
 * all of them below the PML4 for a user address; for a kernel address all
 * but the PDPTs, which user contexts share. Returns 0, or -ENOENT when
 * nothing is mapped there or the page is part of a 2 MiB mapping.
 */
int vm_unmap(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out);
/* vm_unmap that also reports the VM_* flags the entry had (VM_BORROWED:
 * the frame is not the caller's to free). flags_out may be NULL. */
int vm_unmap_entry(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out, unsigned *flags_out);

/*
 * Shootdown batches: between vm_batch_begin and vm_batch_end, the other
 * CPUs' TLB entries of the pages unmapped or weakened here are shot down
 * together (one IPI round per VM_BATCH_FRAMES frames, and one at the end)
 * instead of one round per page; this CPU's own are invalidated at once as always. A
 * frame or table whose mapping went inside the batch must be freed with
 * vm_free_frame, which holds it until that shootdown (outside a batch it
 * is pfree(pa, 1)): so no frame is reused while another CPU may still
 * reach it. vm frees the tables it empties that way itself. Batches nest
 * (the outermost end flushes). Nothing inside may allocate (the
 * reclaimer's settle panics there: it frees its frame at once). Never
 * blocks but to wait for the other CPUs' answers.
 */
#define VM_BATCH_FRAMES 32 /* a run this long is still invalidated entry by entry */
void vm_batch_begin(void);
void vm_batch_end(void);
void vm_free_frame(paddr_t pa);
/* Same for the 2 MiB mapping at va (2 MiB aligned: panic otherwise);
 * *pa_out gets the 2 MiB frame. -ENOENT when va is not mapped by a 2 MiB
 * page (nothing there, or 4 KiB pages). */
int vm_unmap_large(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out);
/* Looks up va: physical address of that byte and VM_* flags. No side
 * effects. Returns 0 or -ENOENT. Either out pointer may be NULL. */
int vm_lookup(const struct vm_ctx *ctx, vaddr_t va, paddr_t *pa, unsigned *flags);
/* Changes the flags of the 4 KiB mapping of the page holding va (the frame
 * stays; the accessed bit is cleared, the dirty bit kept) and invalidates
 * its TLB entry as vm_unmap() does. The entry keeps its VM_BORROWED and
 * VM_LAZYFREE bits whatever flags say (they belong to the frame, which does
 * not change; flags may come from vm_lookup with them); the dirty bit stays
 * because a lazy-free mark means nothing without it. Returns 0, or -ENOENT
 * when nothing is mapped there or the page is part of a 2 MiB mapping (use
 * vm_protect_large). */
int vm_protect(struct vm_ctx *ctx, vaddr_t va, unsigned flags);
/* Same for the 2 MiB mapping at va (2 MiB aligned: panic otherwise).
 * Returns 0, or -ENOENT when va is not mapped by a 2 MiB page. */
int vm_protect_large(struct vm_ctx *ctx, vaddr_t va, unsigned flags);
/*
 * Points the 4 KiB mapping of the page holding va at another frame pa
 * (page aligned: panic otherwise) with flags (VM_BORROWED as flags say),
 * in one step: no table is freed or made, so this cannot fail for want of
 * memory. *old_pa (may be NULL) gets the frame it had, which is not freed.
 * Invalidates the TLB entry as vm_unmap() does. Copy on write uses it.
 * Returns 0, or -ENOENT when nothing is mapped there or the page is part
 * of a 2 MiB mapping.
 */
int vm_replace(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags, paddr_t *old_pa);

/*
 * Lazy freeing (MADV_FREE) in the 4 KiB leaf entries. None of these
 * allocates or frees anything, tables included, so they are safe in the
 * middle of any other page-table operation on ctx (a reclaim that runs
 * from inside vm_map's table allocation). Each invalidates the TLB entry
 * as vm_unmap() does when it changes one.
 *
 * vm_lazyfree_mark - marks every 4 KiB entry in [va, end) (page aligned,
 * user addresses) VM_LAZYFREE and clears its dirty and accessed bits, so
 * that a later write (or user copy) shows; VM_BORROWED entries (not the
 * context's frames) are left alone, and so are 2 MiB pages. Missing
 * tables are skipped whole. Returns how many entries were not marked
 * before (those marked already are only made clean again).
 *
 * vm_lazyfree_settle - decides a marked entry at va: written since it was
 * marked (dirty), it loses the mark and stays: returns 0. Clean, it is
 * still free to drop: with VM_SETTLE_TAKE the entry is cleared (tables
 * stay, even an empty one: the caller may be inside a walk that holds
 * them; vm_unmap of a neighbour or vm_ctx_destroy_user frees them later)
 * and *pa_out (may be NULL) gets the frame, which is not freed; without,
 * it stays marked. Returns 1 then. -ENOENT when nothing is mapped there,
 * the page is part of a 2 MiB mapping, or the entry is not marked.
 *
 * vm_lazyfree_next - the lowest address in [va, end) (page aligned, user
 * addresses) whose 4 KiB entry is marked VM_LAZYFREE, or end when there is
 * none; missing tables are skipped whole, so a sparse range costs its
 * tables, not its pages. No side effects.
 *
 * SMP (planned): reading and clearing the dirty bit must then be one
 * atomic exchange of the entry, and the invalidation a shootdown on every
 * CPU that runs ctx, before the frame is given away.
 */
#define VM_SETTLE_TAKE 1u
size_t vm_lazyfree_mark(struct vm_ctx *ctx, vaddr_t va, vaddr_t end);
int vm_lazyfree_settle(struct vm_ctx *ctx, vaddr_t va, unsigned how, paddr_t *pa_out);
vaddr_t vm_lazyfree_next(const struct vm_ctx *ctx, vaddr_t va, vaddr_t end);

/*
 * Copies between kernel memory and the user range of ctx through the direct
 * map, checking that every page is mapped with VM_USER (and VM_WRITE for
 * copy_to). Returns 0 or -EFAULT (nothing is guaranteed about partial
 * copies). Works whichever context is active. A copy to user memory sets
 * the accessed and dirty bits of the entries it writes, as the CPU would
 * for the app's own stores: a lazy-free page the kernel wrote into is then
 * kept (vm_lazyfree_settle). vm_copy_to_mapped does the same. A copy that
 * fails (either way) marks every mapped page of its range so, before it
 * returns: the caller that backs the missing pages and copies again finds
 * the others still there, even if backing had to reclaim.
 */
int vm_copy_to_user(const struct vm_ctx *ctx, vaddr_t dst, const void *src, size_t len);
int vm_copy_from_user(const struct vm_ctx *ctx, void *dst, vaddr_t src, size_t len);
/* Copies a NUL-terminated string of at most max bytes (including the NUL).
 * Returns its length, -EFAULT, or -ENAMETOOLONG when no NUL within max. */
long vm_copy_string_from_user(const struct vm_ctx *ctx, char *dst, vaddr_t src, size_t max);

/* Copies len bytes to va in ctx whatever the page permissions are (the
 * loader filling read-only segments). Returns 0 or -EFAULT when a page
 * is not mapped. */
int vm_copy_to_mapped(const struct vm_ctx *ctx, vaddr_t va, const void *src, size_t len);

/* Prints the mappings of [start, end) in the Xous page-table-view style. */
void vm_dump(const struct vm_ctx *ctx, vaddr_t start, vaddr_t end);
