/*
 * aspace - the app's address space: its regions, and the policy that turns a
 * page fault into a backed page (demand paging) or into a kill.
 *
 *   0x000000000000 +---------------------------+
 *                  | null guard (64 KiB)       |  never mapped
 *   0x000000010000 | ELF image (IMAGE)         |  backed at load, p_flags (W^X)
 *   image end      | heap (HEAP)               |  demand-zero; brk / increase_heap
 *                  |   ... up to HEAP_LIMIT    |
 *   0x100000000000 | default region (MAPPING)  |  demand-zero; map_memory / mmap
 *                  |   ... (DEVICE: fixed phys)|  backed at map time
 *   0x700000000000 +---------------------------+
 *                  | (unused)                  |
 *   top - reserve  | stack reserve (STACK)     |  demand-zero, grows on fault
 *   0x7ffffffff000 | stack top; a guard page   |
 *   0x800000000000 +---------------------------+  end of the user half
 *
 * Every region is also reserved in the context's range pool (valloc), so
 * nothing else can land inside one. Regions never overlap. A region's pages
 * are either all backed at creation (IMAGE, DEVICE, fixed-phys RAM) or
 * backed one by one on first touch (HEAP, MAPPING, STACK): zeroed, with the
 * region's permissions, or for a MAPPING over an object, as below.
 *
 * Object mappings (mmap of a file: aspace_map_object). A MAPPING may be
 * over a page-owning object (mm/vmobj.h, a tmpfs file); its page at va is
 * the object's page at index (obj_off + va - base) / PAGE_SIZE, asked for
 * on first touch. Such a page is mapped where it lies, marked VM_BORROWED
 * (vm.h): it stays the object's, and nothing here ever frees it.
 *   - shared (MAP_SHARED): the object's page is mapped with the region's
 *     permissions, so the app's stores and read()/write() meet in it;
 *   - private (MAP_PRIVATE): a read or exec maps the object's page read-
 *     only; the first write (a write fault, or the kernel about to write
 *     for a syscall) copies it into a page of the app's own, mapped
 *     writable in its place (copy on write). The object never sees those
 *     writes. mprotect never makes a borrowed page writable.
 * Every region record over an object holds the object once, and releases
 * it when the record is freed, after its pages are unmapped. When the
 * object shrinks, vmobj_unmap_from takes its pages past the new end out of
 * every live address space (and frees the private copies of them).
 *
 * No access (PROT_NONE): a MAPPING region with ASPACE_NOACCESS backs no
 * page on a fault (-EACCES), and the pages it had backed before stay
 * mapped with their contents but without VM_USER: supervisor-only, so any
 * access from ring 3 is a protection fault and the kernel's user copies
 * (which require VM_USER) fail with -EFAULT. mprotect back to R/RW gives
 * the same frames back to the app. (A not-present PTE that keeps its frame
 * would need vm.c to know a second kind of entry; the U/S bit does it.)
 *
 * Physical pages for demand faults and mappings come from palloc(), but never
 * the last ASPACE_KERNEL_RESERVE_PAGES free pages: the kernel keeps those so
 * that it can always finish, print the exit line and power off.
 *
 * Commit accounting (mm/commit.h, boot.cfg overcommit=). Each region
 * records the pages it has charged (HEAP, STACK, MAPPING that are writable
 * and not a shared file mapping), and the address space its share of the
 * totals, so that whatever changes a region (map, unmap, brk, the native
 * heap calls, mprotect, mremap, splits) moves the charge with it and
 * aspace_destroy returns the rest. In strict mode:
 *   - a call that would charge more (mapping, growing or making writable
 *     private memory, or a split that adds to the table budget) first
 *     checks free >= ASPACE_KERNEL_RESERVE_PAGES + held + its pages and
 *     tables, and fails with -ENOMEM, changing nothing, when that is not
 *     so;
 *   - a page for anything else the app causes (an uncharged fault, a
 *     tmpfs page through aspace_pages_available, claimed RAM) must leave
 *     ASPACE_KERNEL_RESERVE_PAGES + held free;
 *   - a demand fault (or copy on write) in charged memory only needs one
 *     page above the reserve: the invariant of commit.h (free >= reserve +
 *     held) promises it that page and its tables.
 * What the invariant does not fence: the kernel heap (kmalloc) and the
 * kernel's own records (region records, descriptors, thread stacks) take
 * pages from palloc without looking at the charge; they come out of the
 * kernel's reserve first, and an app that makes very many of them can
 * still eat into held memory. Lazy mode keeps every count and checks none:
 * a touch that finds no page kills the app, as before.
 *
 * Lazy freeing (madvise MADV_FREE: aspace_free_lazily). The app's own pages
 * in private anonymous memory (HEAP, STACK, a MAPPING without an object)
 * are marked VM_LAZYFREE and made clean; nothing is freed and nothing is
 * unmapped, so reusing them costs no fault. Until such a page is
 * reclaimed a read sees its old bytes, and a write (the CPU sets the dirty
 * bit; so do the kernel's user copies) keeps it. When memory runs short
 * (palloc finds no page, or app_may_take sees too few free) the reclaimer
 * (registered with palloc by aspace_init) walks the marked entries of the
 * live address spaces: a clean one is unmapped and freed, so the next
 * touch demand-faults a zeroed page; a dirty one loses its mark and stays.
 * It frees at least what was asked for and a batch of at least
 * ASPACE_RECLAIM_BATCH pages when it can, and goes on next time where it
 * stopped. MADV_DONTNEED (aspace_dontneed) still frees at once.
 * The reclaimer may run inside any allocation, so it never allocates,
 * never frees a page table, never changes a region record (only backed
 * counts), and does nothing (returns 0) when entered again from itself,
 * and in an address space in the middle of aspace_remap's move (whose
 * frames are mapped at two places at once then).
 *
 * Not re-entrant; the kernel runs one CPU with interrupts off in syscalls.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/commit.h"
#include "mm/phys.h"
#include "mm/vm.h"

#define ASPACE_HEAP_LIMIT	    0x0000100000000000ull /* the heap ends below this (*) */
#define ASPACE_DEFAULT_BASE	    0x0000100000000000ull /* default region [BASE, END) */
#define ASPACE_DEFAULT_END	    0x0000700000000000ull
#define ASPACE_STACK_TOP	    0x00007ffffffff000ull
#define ASPACE_STACK_DEFAULT	    (8ull << 20) /* reserve, boot.cfg stack= */
#define ASPACE_KERNEL_RESERVE_PAGES 256		 /* 1 MiB never given to the app */
#define ASPACE_RECLAIM_BATCH	    256		 /* pages a reclaim frees at least, when it can */

enum region_kind {
	REGION_IMAGE = 0,
	REGION_HEAP,
	REGION_MAPPING, /* map_memory / mmap without phys: demand-zero */
	REGION_DEVICE,	/* map_memory with phys: device memory or claimed RAM */
	REGION_STACK,
	REGION_KINDS,
};

/* Access that faulted (from the CPU's page-fault error code). */
#define ASPACE_ACCESS_READ    0u
#define ASPACE_ACCESS_WRITE   (1u << 0)
#define ASPACE_ACCESS_EXEC    (1u << 1)
#define ASPACE_ACCESS_PRESENT (1u << 2) /* the page was mapped: a protection fault */

/* A region flag beside VM_WRITE/VM_EXEC: no access at all (PROT_NONE); never
 * combined with them. Not a VM_* bit: pages get VM_USER cleared instead. */
#define ASPACE_NOACCESS (1u << 8)

/* aspace_remap flags (Linux's MREMAP_* values). */
#define ASPACE_REMAP_MAYMOVE 1u
#define ASPACE_REMAP_FIXED   2u

struct vmobj;

struct region {
	vaddr_t base; /* page aligned */
	size_t npages;
	unsigned flags; /* VM_WRITE, VM_EXEC, VM_UNCACHED, VM_WRITE_COMBINING (VM_USER
			 * implied), or ASPACE_NOACCESS (MAPPING only) */
	enum region_kind kind;
	paddr_t phys;  /* DEVICE: first physical page (contiguous), else 0 */
	int owns_phys; /* DEVICE over claimed RAM: pfree the pages on unmap */
	size_t backed; /* pages currently mapped, the object's borrowed ones
			* included; IMAGE: not kept (the loader maps them
			* after aspace_add_image and leaves alignment gaps
			* unmapped): counted when asked */
	/* MAPPING over an object (aspace_map_object), else obj is NULL
	 * (demand-zero). The page at va is the object's page at index
	 * (obj_off + (va - base)) / PAGE_SIZE; obj_off is a page multiple and
	 * obj_off + npages pages stays below 2^64. The record holds obj once. */
	struct vmobj *obj;
	uint64_t obj_off;
	int shared;	     /* MAP_SHARED: the object's pages, writable too;
			      * without obj, shared anonymous memory */
	size_t commit;	     /* pages charged (mm/commit.h): npages or 0 */
	struct region *next; /* sorted by base */
	/* The lookup tree: a treap by base (left: smaller bases, right: equal
	 * or larger), its priorities a hash of the record's address. */
	struct region *left, *right;
};

struct aspace {
	struct vm_ctx ctx;	  /* page tables and range pool */
	struct region *regions;	  /* sorted by base, non-overlapping */
	struct region *tree;	  /* the same regions, for lookups in O(log regions) */
	struct region *hint;	  /* the region the last lookup found, or NULL (a cache) */
	struct region *heap;	  /* the HEAP region (may have npages == 0) */
	struct region *stack;	  /* the STACK region */
	struct aspace *next_live; /* every live address space (vmobj_unmap_from) */
	/* The pages the regions other than IMAGE have backed now (the sum of
	 * their backed counts, kept as they change), and the most they had
	 * at once: with the image pages, which do not change after load,
	 * Linux's VmRSS and VmHWM. */
	size_t backed_now, backed_peak;
	/* Entries marked VM_LAZYFREE now (those written since too, until a
	 * reclaim looks at them; they count in backed as well), where the
	 * next reclaim goes on, and whether a reclaim must leave this address
	 * space alone now (> 0: in the middle of a move). */
	size_t lazy_pages;
	vaddr_t reclaim_cursor;
	unsigned no_reclaim;
	/* This address space's share of the commit totals (mm/commit.h),
	 * given back whole by aspace_destroy. */
	size_t commit_pages, commit_owned, commit_tables;
};

struct aspace_stats {
	size_t reserved[REGION_KINDS]; /* pages in regions of each kind */
	size_t backed[REGION_KINDS];   /* of those, pages backed by RAM or device */
	size_t system_free_pages;      /* palloc's free pages (main pool) */
};

/*
 * Where a physical range requested by map_memory may come from. The kernel
 * installs the policy (it knows the memory map and what it uses itself).
 */
enum aspace_phys_class {
	ASPACE_PHYS_FORBIDDEN = 0, /* kernel memory, firmware memory, or RAM in use */
	ASPACE_PHYS_DEVICE,	   /* device memory the kernel does not use */
	ASPACE_PHYS_RAM,	   /* RAM managed by palloc: claim it (free pages only) */
};
typedef enum aspace_phys_class (*aspace_phys_policy_fn)(paddr_t phys, size_t npages);
void aspace_set_phys_policy(aspace_phys_policy_fn policy);

/* Creates an empty address space whose kernel half is kernel_half's (the
 * app-view template), and adds it to the live ones vmobj_unmap_from and
 * the reclaimer visit; registers the reclaimer with palloc (again: palloc_init
 * forgets it). Returns 0 or -ENOMEM. */
int aspace_init(struct aspace *as, const struct vm_ctx *kernel_half);
/* Returns every page the app held (backed pages, lazily freed ones, private
 * copies, claimed RAM, page tables, pool nodes, region records) to palloc/kmalloc; device
 * pages and objects' pages are unmapped, not freed; every object hold is
 * released (after the page tables are gone). The address space leaves the
 * live list. It must not be active. */
void aspace_destroy(struct aspace *as);

/*
 * aspace_add_image - record [base, base + npages) as the IMAGE region. The
 * loader maps and fills those pages itself (vm_map on as->ctx, before or
 * after this call); this only reserves the range. The pages mapped in it
 * count as backed (aspace_get_stats looks them up); pages left unmapped
 * (gaps between segments) fault as -EFAULT, and aspace_destroy frees what
 * is mapped there. Returns 0, -EEXIST (overlap), -EINVAL (base not page
 * aligned, npages 0, or outside the user range) or -ENOMEM.
 */
int aspace_add_image(struct aspace *as, vaddr_t base, size_t npages);
/* Starts an empty heap at base (page aligned, the end of the image).
 * Returns 0, -EEXIST (a heap exists, or base is inside a region), -EINVAL
 * (base not page aligned, in the null guard or past the user range) or
 * -ENOMEM. (*) A heap that starts at or above ASPACE_HEAP_LIMIT (an image
 * loaded high, e.g. a PIE at LOADER_PIE_BASE) is not limited by it: it
 * grows until it meets the next reserved range. */
int aspace_init_heap(struct aspace *as, vaddr_t base);
/* Reserves the stack [top - reserve_pages, top) as demand-zero, keeping one
 * unmapped guard page below it reserved too, and backs the top
 * initial_pages pages now. Returns 0, -EEXIST (a stack exists, or the range
 * is taken), -EINVAL (top not page aligned or above the user pool,
 * reserve_pages 0 or too large, initial_pages > reserve_pages) or -ENOMEM
 * (nothing is kept). */
int aspace_init_stack(struct aspace *as, vaddr_t top, size_t reserve_pages, size_t initial_pages);

/*
 * aspace_fault - handle a page fault at addr with access ASPACE_ACCESS_*.
 * Returns 0 when a page was backed and the instruction can be restarted
 * (also when the page was backed already, without a protection fault: a
 * fault seen twice; nothing changes, and a restart that is not allowed
 * faults again with ASPACE_ACCESS_PRESENT);
 * 0 also for ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT on a page of a
 * private object mapping with VM_WRITE that still maps the object's page:
 * copy on write (the page is copied into one of the app's, mapped writable
 * in its place). The kernel calls it so too before it writes a syscall's
 * result into a present read-only page;
 * -EFAULT when the access is not allowed (no region, any other protection
 * fault, a write to a read-only region, an execute of a non-executable one);
 * -EACCES for any access to an ASPACE_NOACCESS region (PROT_NONE: the
 * kernel names it in the kill message);
 * -EIO for a page of an object mapping that starts at or past the end of
 * the object (Linux sends SIGBUS);
 * -ENOMEM when no page could be had, from palloc or from the object (its
 * -ENOSPC too): the app is then killed.
 */
int aspace_fault(struct aspace *as, vaddr_t addr, unsigned access);

/*
 * aspace_fault_shared - the common demand fault, made to run on several
 * CPUs at once in one address space: a read or write (not an execute) of
 * a page not backed yet in a region without an object, cache flags or
 * PROT_NONE, whose page table exists, while palloc has a page free without
 * a reclaim. Returns 0 when the page is mapped (by this call, or by
 * another CPU first), or -EAGAIN for anything else, which changes nothing:
 * aspace_fault, run alone, handles it then (errors included).
 *
 * The caller's contract: no other aspace call (and nothing else that
 * changes as, its page tables, palloc or the commit totals) runs while any
 * of these does (the kernel's shared side of its lock); these run beside
 * each other, and sync->lock()/unlock() (a lock of the caller's, taken
 * once a fault, briefly, no wait inside) serialize what they share: palloc,
 * the counts. The page comes from palloc's fault cache number cache (the
 * calling CPU's: mm/palloc.h), so CPUs meet in palloc only when a cache
 * runs empty. The new page is zeroed outside that lock, and the entry is
 * installed by compare-exchange (vm_map_if_empty). Never blocks, never
 * reclaims.
 */
struct aspace_shared_sync {
	void (*lock)(void);
	void (*unlock)(void);
};
int aspace_fault_shared(struct aspace *as, vaddr_t addr, unsigned access,
			const struct aspace_shared_sync *sync, unsigned cache);

/* Linux brk: moves the end of the heap to new_end (rounded up to a page;
 * 0 queries). Returns the new end, or the unchanged end when it cannot move
 * (below the heap's start, beyond its limit (ASPACE_HEAP_LIMIT, see
 * aspace_init_heap) or into another region). Pages given up are freed. */
vaddr_t aspace_brk(struct aspace *as, vaddr_t new_end);
/* Xous IncreaseHeap: grows the heap by size bytes (page multiple, > 0);
 * flags must be VM_WRITE (the heap is RW, never executable). Returns the
 * start of the added range, or -EINVAL / -ENOMEM (as a negative long). */
long aspace_increase_heap(struct aspace *as, size_t size, unsigned flags);
/* Xous DecreaseHeap: shrinks the heap by size bytes (page multiple, at most
 * the heap size), freeing the pages. Returns 0 or -EINVAL. */
long aspace_decrease_heap(struct aspace *as, size_t size);

/*
 * aspace_map - Xous MapMemory. size is a page multiple > 0. phys 0: demand-
 * zero pages in a MAPPING region; otherwise a DEVICE region over [phys,
 * phys + size), allowed only when the policy says DEVICE (mapped uncached
 * unless flags ask for write-combining) or RAM (claimed from palloc and
 * zeroed; all pages must be free). virt 0: the lowest free range of the
 * default region; otherwise exactly [virt, virt + size), which must be free
 * and inside the user range outside the null guard. flags: VM_WRITE,
 * VM_EXEC (not both: W^X), VM_UNCACHED, VM_WRITE_COMBINING; or, without
 * phys, ASPACE_NOACCESS alone (a PROT_NONE reservation). Returns the
 * address, or -EINVAL (bad size/flags/alignment), -EEXIST (virt taken),
 * -ENOMEM (no room or no memory), -EPERM (phys not allowed), -EBUSY (RAM
 * in use) as a negative long.
 */
long aspace_map(struct aspace *as, paddr_t phys, vaddr_t virt, size_t size, unsigned flags);
/* aspace_map_shared_anon - mmap(MAP_SHARED | MAP_ANONYMOUS): aspace_map
 * without phys, the region marked shared. With one process it behaves as
 * private memory, except that MADV_FREE refuses it (-EINVAL), as Linux
 * refuses shared memory; the mark follows splits and moves. Returns as
 * aspace_map. */
long aspace_map_shared_anon(struct aspace *as, vaddr_t virt, size_t size, unsigned flags);
/*
 * aspace_map_kernel - give the app a read-only view of npages of the
 * kernel's own memory at phys (the vDSO's code and data pages), at exactly
 * virt: a DEVICE region that is never the app's to free (owns_phys 0), so
 * munmap and aspace_destroy only unmap it; mprotect and mremap refuse it
 * (-EINVAL, as for any DEVICE region). Mapped write-back, the kernel's own
 * memory type. flags: 0 (read) or VM_EXEC; never VM_WRITE. No phys policy:
 * only the kernel calls this, with pages it set aside for the purpose.
 * Returns virt, or -EINVAL (flags, alignment, virt 0), -EEXIST (virt taken)
 * or -ENOMEM as a negative long.
 */
long aspace_map_kernel(struct aspace *as, paddr_t phys, vaddr_t virt, size_t npages,
		       unsigned flags);
/*
 * aspace_map_object - mmap of a page-owning object (mm/vmobj.h): an
 * aspace_map(as, 0, virt, size, flags) region whose page at virt + i pages
 * is the object's page at index offset / PAGE_SIZE + i, asked for
 * (obj->ops->get_page) on first touch. shared (MAP_SHARED): that very page
 * is mapped with the region's permissions (get_page is told write when the
 * region has VM_WRITE), so the app and the object see each other's writes.
 * Private (shared 0): the object's page is mapped read-only until the
 * first write copies it into a page of the app's (see aspace_fault); the
 * object never sees the app's writes. flags: as aspace_map without a
 * cache mode (VM_WRITE, VM_EXEC, or ASPACE_NOACCESS alone). A page that
 * starts at or past the object's end faults with -EIO.
 * Holds: the region record holds obj once (vmobj_hold, here on success);
 * every record made from it (splits by unmap and mprotect, mremap) holds
 * it once more, and every record freed (unmap, mremap, aspace_destroy)
 * releases it once (vmobj_release) after unmapping its pages. The caller's
 * own hold is its own: it may release it as soon as this returns.
 * Returns the address, aspace_map's errors, -EINVAL (offset not a page
 * multiple, a cache mode, obj NULL) or -EOVERFLOW (offset + size past
 * 2^64); on error nothing is held.
 */
long aspace_map_object(struct aspace *as, vaddr_t virt, size_t size, unsigned flags,
		       struct vmobj *obj, uint64_t offset, int shared);
/* Xous UnmapMemory: removes [base, base + size), which must lie inside one
 * MAPPING or DEVICE region (the region is split when needed). Returns 0,
 * -EINVAL, or -ENOMEM when a split needed a region record and kmalloc had
 * none (nothing changes). */
long aspace_unmap(struct aspace *as, vaddr_t base, size_t size);
/*
 * aspace_unmap_range - Linux munmap: removes every MAPPING and DEVICE page
 * of [base, base + size) (page aligned, size > 0); the range may span
 * several regions and holes (nothing there is fine). Returns 0, -EINVAL
 * (alignment, or an IMAGE, HEAP or STACK region in the range: nothing
 * changes) or -ENOMEM (the range is inside one region and splitting it
 * needed a record: nothing changes).
 */
long aspace_unmap_range(struct aspace *as, vaddr_t base, size_t size);
/*
 * aspace_remap - Linux mremap of [old, old + old_size), which must lie in
 * one MAPPING region; sizes are page multiples > 0. Shrinking frees the
 * pages past new_size in place. Growing stays in place when the range
 * ends its region and the pages after it are free; otherwise, with
 * ASPACE_REMAP_MAYMOVE, the range moves to the lowest free gap of the
 * default region (or to new_addr with ASPACE_REMAP_FIXED, which must come
 * with MAYMOVE and must not overlap the old range; whatever mappings were
 * there are unmapped first (aspace_unmap_range), as Linux does). A move
 * takes the backed frames along in the page tables: nothing is copied,
 * demand pages stay demand, an object mapping keeps its offsets and its
 * object's pages stay borrowed (read-only in a private one). Returns the
 * new address, or -EINVAL (flags, alignment, size 0, overlap, a region
 * that is not a MAPPING, an object mapping whose offset would pass 2^64),
 * -EFAULT (the range is not inside one region) or -ENOMEM (no room in
 * place without MAYMOVE, no room anywhere, no memory for tables or
 * records; nothing changes).
 */
long aspace_remap(struct aspace *as, vaddr_t old, size_t old_size, size_t new_size, unsigned flags,
		  vaddr_t new_addr);

/*
 * aspace_protect - mprotect: sets the permissions of [base, base + size)
 * (page aligned, size > 0) to flags (VM_WRITE, VM_EXEC; read is allowed
 * unless flags is ASPACE_NOACCESS alone: PROT_NONE, MAPPING and IMAGE pages
 * only). The range may span regions but must be covered by them.
 * MAPPING regions are split at the ends of the range (demand pages then
 * come with the new flags); in a private object mapping the object's
 * (borrowed) pages never get VM_WRITE, so that a write still copies them;
 * a shared object mapping that gains VM_WRITE unmaps the object's pages it
 * had (asked for without write), and the next touch asks again with
 * write; IMAGE pages are changed page by page; HEAP and
 * STACK keep their permissions (asking for others is -EINVAL). W^X holds:
 * VM_WRITE | VM_EXEC is -EACCES, as on a Linux that denies execmem (a JIT
 * writes, then flips to exec). Returns 0, -EINVAL (alignment, flags, a
 * DEVICE region), -EACCES or -ENOMEM (a hole in the range, or no record for
 * a split: then at most one split happened, which changes no permission).
 */
long aspace_protect(struct aspace *as, vaddr_t base, size_t size, unsigned flags);
/*
 * aspace_dontneed - madvise(MADV_DONTNEED): frees the backed pages of
 * [base, base + size) in demand regions (MAPPING, HEAP, STACK); the range
 * stays reserved, and the next touch gets a zeroed page, or in an object
 * mapping the object's page again (the object's pages are only unmapped;
 * private copies are freed, so the object's bytes come back, as on Linux).
 * Returns 0, -EINVAL (alignment, or IMAGE/DEVICE in the range) or -ENOMEM
 * (a hole).
 */
long aspace_dontneed(struct aspace *as, vaddr_t base, size_t size);
/*
 * aspace_free_lazily - madvise(MADV_FREE) of [base, base + size) (page
 * aligned, size > 0), as Linux does it: the app's backed pages there are
 * marked lazy-free (see the top) and stay mapped; pages not backed are
 * skipped. Regions are visited in address order, as Linux visits VMAs: a
 * part of the range in no region is skipped and makes the result -ENOMEM
 * at the end (at once when no region is left above it); a region that is
 * not private anonymous memory (IMAGE, DEVICE, an object mapping, shared
 * anonymous memory: Linux refuses file and shared mappings) ends the walk
 * with -EINVAL, after the
 * regions below it were done. Returns 0, -EINVAL or -ENOMEM. Never frees
 * or allocates anything; O(regions + page tables of the range).
 */
long aspace_free_lazily(struct aspace *as, vaddr_t base, size_t size);
/*
 * aspace_lazyfree_pages - the entries marked lazy-free in every live
 * address space: what a reclaim could free (/proc/meminfo's LazyFree and
 * MemAvailable). Pages written since they were marked count until a
 * reclaim finds them dirty, as in Linux's count. O(1).
 */
size_t aspace_lazyfree_pages(void);
/*
 * aspace_pages_available - whether npages pages may still come from palloc
 * for what the app causes (a tmpfs file's pages and records) and leave the
 * kernel its ASPACE_KERNEL_RESERVE_PAGES and, in strict mode, what the
 * commit charge holds (commit_held), as the app's own faults do; lazily
 * freed pages are reclaimed first when that makes the difference. O(1)
 * unless it reclaims.
 */
int aspace_pages_available(uint64_t npages);
/* aspace_commit_limit - CommitLimit now (commit_limit over palloc's free
 * pages and the kernel's reserve), in pages. O(1). */
size_t aspace_commit_limit(void);

void aspace_get_stats(const struct aspace *as, struct aspace_stats *out);
/* aspace_region_backed - the pages of r (one of as's regions) mapped now:
 * the record's count, or for IMAGE a walk of its page tables (O(npages)).
 * Changes nothing; does not block. */
size_t aspace_region_backed(const struct aspace *as, const struct region *r);
/* Prints the regions (Xous page-table view: backed and demand pages). */
void aspace_dump(const struct aspace *as);
