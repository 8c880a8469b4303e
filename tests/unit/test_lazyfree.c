/*
 * Host tests of lazy freeing (madvise MADV_FREE): the marks in mm/vm.c,
 * aspace_free_lazily and the reclaimer in mm/aspace.c, and palloc's
 * reclaim hook, over the fake physical memory of mm_arena.h.
 *
 * The app's stores are played with vm_copy_to_user, which sets the
 * entry's dirty bit as the CPU does for a store (the host never runs the
 * app); its loads with vm_copy_from_user, after a demand fault when the
 * page is not mapped, as the CPU would take one. Memory pressure is made
 * by taking every free page out of palloc (take_all_free), so that the
 * next fault, table or kmalloc must reclaim.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/mmu.h"
#include "kernel/klib.h"
#include "mm/aspace.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm/vmobj.h"
#include "mm_arena.h"

#define P	  PAGE_SIZE
#define IMG_BASE  0x400000ull
#define IMG_END	  (IMG_BASE + 2 * P)
#define DEF	  ASPACE_DEFAULT_BASE
#define TOP	  ASPACE_STACK_TOP
#define DEV_BASE  0x90000000ull /* in the arena's hole: device memory */
#define STACK_PGS 64

static struct vm_ctx kctx;
static struct aspace as;
static size_t free_at_start, kmalloc_live_at_start;

static enum aspace_phys_class device_policy(paddr_t phys, size_t npages)
{
	(void)npages;
	return phys >= DEV_BASE && phys < DEV_BASE + (1ull << 20) ? ASPACE_PHYS_DEVICE
								  : ASPACE_PHYS_FORBIDDEN;
}

/* Fresh allocators and an app as the loader leaves it: a two-page image,
 * an empty heap after it, a stack with its top page backed. */
static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	aspace_set_phys_policy(device_policy);
	kmalloc_trim();
	free_at_start = palloc_free_pages();
	kmalloc_live_at_start = mm_test_kmalloc_stats().live_allocations;
	cr_assert_eq(aspace_init(&as, &kctx), 0);
	cr_assert_eq(aspace_add_image(&as, IMG_BASE, 2), 0);
	for (size_t i = 0; i < 2; i++) {
		paddr_t pa = palloc(1);
		cr_assert_neq(pa, 0);
		memset(phys_to_virt(pa), 0, P);
		cr_assert_eq(vm_map(&as.ctx, IMG_BASE + i * P, pa, VM_USER | VM_WRITE), 0);
	}
	cr_assert_eq(aspace_init_heap(&as, IMG_END), 0);
	cr_assert_eq(aspace_init_stack(&as, TOP, STACK_PGS, 1), 0);
}

/* Destroys the address space: every page and kmalloc block is back, no
 * mark is counted any more, palloc is consistent. */
static void destroy_and_check_all_returned(void)
{
	aspace_destroy(&as);
	kmalloc_trim();
	cr_assert_eq(aspace_lazyfree_pages(), 0, "marks still counted after destroy");
	cr_assert_eq(palloc_check(), 0);
	cr_assert_eq(palloc_free_pages(), free_at_start, "%zu pages lost",
		     free_at_start - palloc_free_pages());
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, kmalloc_live_at_start);
}

static int mapped(vaddr_t va, paddr_t *pa, unsigned *flags)
{
	return vm_lookup(&as.ctx, va, pa, flags) == 0;
}

static int marked(vaddr_t va)
{
	unsigned f;
	return mapped(va, NULL, &f) && (f & VM_LAZYFREE);
}

static const struct region *region_holding(vaddr_t va)
{
	for (const struct region *r = as.regions; r; r = r->next) {
		if (va >= r->base && va < r->base + r->npages * P)
			return r;
	}
	return NULL;
}

/* The app stores byte at va (and at the page's last byte): a demand fault
 * first if the page is not mapped, then the store, which sets the dirty
 * bit. */
static void app_write(vaddr_t va, uint8_t byte)
{
	vaddr_t page = va & ~(P - 1);

	if (!mapped(page, NULL, NULL))
		cr_assert_eq(aspace_fault(&as, va, ASPACE_ACCESS_WRITE), 0, "fault at %#lx", va);
	cr_assert_eq(vm_copy_to_user(&as.ctx, va, &byte, 1), 0);
	cr_assert_eq(vm_copy_to_user(&as.ctx, page + P - 1, &byte, 1), 0);
}

/* The app loads the byte at va (a demand fault first if not mapped). */
static uint8_t app_read(vaddr_t va)
{
	uint8_t b;

	if (!mapped(va & ~(P - 1), NULL, NULL))
		cr_assert_eq(aspace_fault(&as, va, ASPACE_ACCESS_READ), 0, "fault at %#lx", va);
	cr_assert_eq(vm_copy_from_user(&as.ctx, &b, va, 1), 0);
	return b;
}

/* Pages taken out of palloc to make memory short. */
static paddr_t *taken;
static size_t ntaken;

/* Takes every free page (one by one: each palloc succeeds, so none of
 * them reclaims). */
static void take_all_free(void)
{
	size_t n = palloc_free_pages();

	taken = realloc(taken, (ntaken + n) * sizeof(*taken));
	cr_assert(taken);
	for (size_t i = 0; i < n; i++) {
		taken[ntaken] = palloc(1);
		cr_assert_neq(taken[ntaken], 0);
		ntaken++;
	}
	cr_assert_eq(palloc_free_pages(), 0);
}

static void give_back_taken(void)
{
	for (size_t i = 0; i < ntaken; i++)
		pfree(taken[i], 1);
	ntaken = 0;
	free(taken);
	taken = NULL;
}

/* A MAPPING of npages at the fixed address va with every page written
 * (byte i + seed at page i), then all of it freed lazily. */
static void map_written_and_free(vaddr_t va, size_t npages, uint8_t seed)
{
	cr_assert_eq(aspace_map(&as, 0, va, npages * P, VM_WRITE), (long)va);
	for (size_t i = 0; i < npages; i++)
		app_write(va + i * P, (uint8_t)(i + seed));
	cr_assert_eq(aspace_free_lazily(&as, va, npages * P), 0);
}

/* ------------------------------------------------------------ marking */

Test(lazyfree, free_marks_the_backed_pages_and_frees_nothing)
{
	setup();
	vaddr_t v = DEF;
	cr_assert_eq(aspace_map(&as, 0, v, 8 * P, VM_WRITE), (long)v);
	for (size_t i = 0; i < 8; i++) {
		if (i != 3 && i != 6)
			app_write(v + i * P, (uint8_t)(0x40 + i));
	}
	size_t free_before = palloc_free_pages();
	size_t backed_before = as.backed_now;

	cr_assert_eq(aspace_free_lazily(&as, v, 8 * P), 0);
	cr_assert_eq(palloc_free_pages(), free_before, "MADV_FREE frees nothing by itself");
	cr_assert_eq(as.backed_now, backed_before, "the pages stay backed (RSS) until reclaimed");
	cr_assert_eq(as.lazy_pages, 6);
	cr_assert_eq(aspace_lazyfree_pages(), 6);
	for (size_t i = 0; i < 8; i++) {
		int backed = i != 3 && i != 6;
		cr_assert_eq(marked(v + i * P), backed, "page %zu", i);
		cr_assert_eq(mapped(v + i * P, NULL, NULL), backed, "page %zu", i);
		if (backed)
			cr_assert_eq(app_read(v + i * P), 0x40 + i, "old bytes stay until reclaim");
	}
	/* Again over the same range: already marked, not counted twice. */
	cr_assert_eq(aspace_free_lazily(&as, v, 8 * P), 0);
	cr_assert_eq(as.lazy_pages, 6);
	destroy_and_check_all_returned();
}

Test(lazyfree, heap_stack_and_anonymous_mappings_are_marked_the_image_devices_objects_refused)
{
	setup();
	cr_assert_eq(aspace_brk(&as, IMG_END + 4 * P), IMG_END + 4 * P);
	app_write(IMG_END + P, 1);
	app_write(TOP - 2 * P, 2);
	cr_assert_eq(aspace_free_lazily(&as, IMG_END, 4 * P), 0);
	cr_assert_eq(aspace_free_lazily(&as, TOP - STACK_PGS * P, STACK_PGS * P), 0);
	cr_assert(marked(IMG_END + P));
	cr_assert(marked(TOP - 2 * P));
	cr_assert(marked(TOP - P), "the stack's initial page");
	cr_assert_eq(as.lazy_pages, 3);

	cr_assert_eq(aspace_free_lazily(&as, IMG_BASE, P), -EINVAL, "the image is file memory");
	cr_assert(!marked(IMG_BASE));
	long d = aspace_map(&as, DEV_BASE, 0, 2 * P, VM_WRITE);
	cr_assert_gt(d, 0);
	cr_assert_eq(aspace_free_lazily(&as, (vaddr_t)d, 2 * P), -EINVAL);
	cr_assert(!marked((vaddr_t)d));
	cr_assert_eq(aspace_free_lazily(&as, DEF + 1, P), -EINVAL, "unaligned");
	cr_assert_eq(aspace_free_lazily(&as, DEF, 0), -EINVAL);
	cr_assert_eq(as.lazy_pages, 3);
	destroy_and_check_all_returned();
}

/* A page-owning object as tmpfs makes one: one page, made on demand. */
static paddr_t obj_page;
static int obj_holds;
static int obj_get_page(struct vmobj *obj, uint64_t index, int write, paddr_t *pa)
{
	(void)obj;
	(void)write;
	if (index)
		return -EIO;
	if (!obj_page) {
		obj_page = palloc(1);
		if (!obj_page)
			return -ENOMEM;
		memset(phys_to_virt(obj_page), 0x77, P);
	}
	*pa = obj_page;
	return 0;
}
static void obj_hold(struct vmobj *obj)
{
	(void)obj;
	obj_holds++;
}
static void obj_release(struct vmobj *obj)
{
	(void)obj;
	obj_holds--;
}
static const struct vmobj_ops obj_ops = {
    .get_page = obj_get_page, .hold = obj_hold, .release = obj_release};

Test(lazyfree, holes_and_refused_regions_are_handled_as_linux_madvise_walks_vmas)
{
	setup();
	struct vmobj obj = {.ops = &obj_ops};
	/* [a: 2 pages][hole: 1][b: 2 pages][hole: 1][file: 1 page][c: 2 pages] */
	vaddr_t a = DEF, b = DEF + 3 * P, f = DEF + 6 * P, c = DEF + 7 * P;
	cr_assert_eq(aspace_map(&as, 0, a, 2 * P, VM_WRITE), (long)a);
	cr_assert_eq(aspace_map(&as, 0, b, 2 * P, VM_WRITE), (long)b);
	cr_assert_eq(aspace_map_object(&as, f, P, VM_WRITE, &obj, 0, 0), (long)f);
	cr_assert_eq(aspace_map(&as, 0, c, 2 * P, VM_WRITE), (long)c);
	for (vaddr_t va = a; va < c + 2 * P; va += P) {
		if (region_holding(va))
			app_write(va, 9);
	}
	cr_assert_eq(as.lazy_pages, 0);

	/* A hole inside: the mapped parts are done, then -ENOMEM. */
	cr_assert_eq(aspace_free_lazily(&as, a, 5 * P), -ENOMEM);
	cr_assert(marked(a) && marked(a + P) && marked(b) && marked(b + P));
	cr_assert_eq(as.lazy_pages, 4);
	/* A file mapping stops the walk with -EINVAL; what came before is
	 * done, what comes after is not. The object's page stays unmarked. */
	cr_assert_eq(aspace_free_lazily(&as, a, 9 * P), -EINVAL);
	cr_assert(!marked(f), "an object's (private copy) page is never marked");
	cr_assert(!marked(c) && !marked(c + P));
	/* Past the last region: -ENOMEM after the mapped part. */
	cr_assert_eq(aspace_free_lazily(&as, c, 0x10000 * P), -ENOMEM);
	cr_assert(marked(c) && marked(c + P));
	/* Wholly in a hole: -ENOMEM, nothing changes. */
	cr_assert_eq(aspace_free_lazily(&as, a + 2 * P, P), -ENOMEM);
	cr_assert_eq(as.lazy_pages, 6);

	aspace_destroy(&as);
	cr_assert_eq(obj_holds, 0);
	pfree(obj_page, 1);
	obj_page = 0;
	kmalloc_trim();
	cr_assert_eq(aspace_lazyfree_pages(), 0);
	cr_assert_eq(palloc_free_pages(), free_at_start);
	cr_assert_eq(palloc_check(), 0);
}

Test(lazyfree, shared_anonymous_memory_is_refused_through_splits_and_moves)
{
	setup();
	long v = aspace_map_shared_anon(&as, DEF, 4 * P, VM_WRITE);
	cr_assert_eq(v, (long)DEF);
	for (size_t i = 0; i < 4; i++)
		app_write(DEF + i * P, 1);
	cr_assert_eq(aspace_free_lazily(&as, DEF, 4 * P), -EINVAL);
	cr_assert_eq(aspace_protect(&as, DEF + P, P, 0), 0); /* three regions now */
	cr_assert_eq(aspace_free_lazily(&as, DEF + 2 * P, 2 * P), -EINVAL);
	long m = aspace_remap(&as, DEF + 3 * P, P, 2 * P, ASPACE_REMAP_MAYMOVE, 0);
	cr_assert_gt(m, 0);
	cr_assert_eq(aspace_free_lazily(&as, (vaddr_t)m, P), -EINVAL);
	cr_assert_eq(as.lazy_pages, 0);
	/* Private anonymous memory beside it is marked. */
	cr_assert_eq(aspace_map(&as, 0, DEF + 0x100000, P, VM_WRITE), (long)(DEF + 0x100000));
	app_write(DEF + 0x100000, 2);
	cr_assert_eq(aspace_free_lazily(&as, DEF + 0x100000, P), 0);
	cr_assert_eq(as.lazy_pages, 1);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ reclaim */

Test(lazyfree, reclaim_frees_the_clean_pages_and_keeps_the_written_ones)
{
	setup();
	vaddr_t v = DEF;
	map_written_and_free(v, 16, 0x10);
	/* Written after MADV_FREE: by the app (pages 1, 5) and by the kernel
	 * for a syscall (page 9: a read() into the buffer). */
	app_write(v + 1 * P + 100, 0xa1);
	app_write(v + 5 * P, 0xa5);
	uint8_t from_kernel = 0xa9;
	cr_assert_eq(vm_copy_to_user(&as.ctx, v + 9 * P + 7, &from_kernel, 1), 0);
	paddr_t written_frame;
	cr_assert(mapped(v + 5 * P, &written_frame, NULL));
	size_t free_before = palloc_free_pages();

	size_t freed = palloc_reclaim(1000);
	cr_assert_eq(freed, 13, "exactly the 13 clean pages");
	cr_assert_eq(palloc_free_pages(), free_before + 13);
	cr_assert_eq(as.lazy_pages, 0, "the dirty ones lost their mark");
	cr_assert_eq(aspace_lazyfree_pages(), 0);
	cr_assert_eq(region_holding(v)->backed, 3);
	for (size_t i = 0; i < 16; i++) {
		int kept = i == 1 || i == 5 || i == 9;
		cr_assert_eq(mapped(v + i * P, NULL, NULL), kept, "page %zu", i);
		cr_assert(!marked(v + i * P));
	}
	paddr_t frame;
	cr_assert(mapped(v + 5 * P, &frame, NULL) && frame == written_frame, "same frame kept");
	cr_assert_eq(app_read(v + 1 * P + 100), 0xa1);
	cr_assert_eq(app_read(v + 1 * P), 0x11, "the rest of a kept page is the old bytes");
	cr_assert_eq(app_read(v + 5 * P), 0xa5);
	cr_assert_eq(app_read(v + 9 * P + 7), 0xa9);
	cr_assert_eq(app_read(v + 9 * P), 0x19);
	/* A reclaimed page reads zero: a fresh demand page. */
	for (size_t i = 0; i < 16; i++) {
		if (i != 1 && i != 5 && i != 9) {
			cr_assert_eq(app_read(v + i * P), 0, "page %zu", i);
			cr_assert_eq(app_read(v + i * P + P - 1), 0, "page %zu", i);
		}
	}
	cr_assert_eq(palloc_reclaim(1000), 0, "nothing left to reclaim");
	destroy_and_check_all_returned();
}

Test(lazyfree, reclaim_takes_a_batch_in_address_order_and_goes_on_from_where_it_stopped)
{
	setup();
	size_t n = 3 * ASPACE_RECLAIM_BATCH;
	map_written_and_free(DEF, n, 0);

	cr_assert_eq(palloc_reclaim(1), ASPACE_RECLAIM_BATCH, "at least a batch");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(mapped(DEF + i * P, NULL, NULL), i >= ASPACE_RECLAIM_BATCH, "page %zu",
			     i);
	cr_assert_eq(palloc_reclaim(ASPACE_RECLAIM_BATCH + 10), ASPACE_RECLAIM_BATCH + 10);
	cr_assert(!mapped(DEF + (2 * ASPACE_RECLAIM_BATCH + 9) * P, NULL, NULL));
	cr_assert(marked(DEF + (2 * ASPACE_RECLAIM_BATCH + 10) * P), "the next one stays");
	/* Pages below the cursor marked again are found after the wrap. */
	app_write(DEF, 1);
	cr_assert_eq(aspace_free_lazily(&as, DEF, P), 0);
	size_t left = n - 2 * ASPACE_RECLAIM_BATCH - 10;
	cr_assert_eq(palloc_reclaim(SIZE_MAX), left + 1);
	cr_assert_eq(as.lazy_pages, 0);
	cr_assert_eq(as.backed_now, 1, "only the stack's page");
	destroy_and_check_all_returned();
}

Test(lazyfree, a_demand_fault_under_pressure_reclaims_and_succeeds)
{
	setup();
	size_t n = 2 * ASPACE_RECLAIM_BATCH;
	map_written_and_free(DEF, n, 0x33);
	cr_assert_eq(aspace_map(&as, 0, DEF + 0x100000000ull, 4 * P, VM_WRITE),
		     (long)(DEF + 0x100000000ull));
	take_all_free();

	/* The fault's commit check sees no free page and reclaims from the
	 * very address space that faults. */
	cr_assert_eq(aspace_fault(&as, DEF + 0x100000000ull, ASPACE_ACCESS_WRITE), 0);
	cr_assert(mapped(DEF + 0x100000000ull, NULL, NULL));
	cr_assert_eq(app_read(DEF + 0x100000000ull + 5), 0, "a zeroed page");
	size_t gone = n - as.lazy_pages;
	cr_assert_geq(gone, ASPACE_RECLAIM_BATCH);
	cr_assert_lt(gone, n, "only what was needed (a batch), not everything");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(mapped(DEF + i * P, NULL, NULL), i >= gone, "page %zu", i);
	/* Without a mark left to take, memory is really out. */
	cr_assert_eq(palloc_reclaim(SIZE_MAX), n - gone);
	take_all_free();
	cr_assert_eq(aspace_fault(&as, DEF + 0x100000000ull + P, ASPACE_ACCESS_WRITE), -ENOMEM);
	give_back_taken();
	destroy_and_check_all_returned();
}

Test(lazyfree, a_table_allocation_inside_a_walk_of_the_same_context_may_reclaim)
{
	setup();
	map_written_and_free(DEF, 8, 1);
	app_write(DEF + 2 * P, 0xee); /* written again: must survive */
	take_all_free();

	/* vm_map needs three new tables here (a new PDPT, PD and PT): the
	 * first palloc fails, reclaims entries of this very context in the
	 * middle of the walk, and the walk goes on. */
	vaddr_t far = 0x500000000000ull;
	paddr_t frame = taken[--ntaken];
	cr_assert_eq(vm_map(&as.ctx, far, frame, VM_USER | VM_WRITE), 0);
	cr_assert(mapped(far, NULL, NULL));
	cr_assert_eq(as.lazy_pages, 0);
	cr_assert_eq(app_read(DEF + 2 * P), 0xee);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(mapped(DEF + i * P, NULL, NULL), i == 2, "page %zu", i);
	cr_assert_eq(vm_unmap(&as.ctx, far, NULL), 0);
	pfree(frame, 1);
	give_back_taken();
	destroy_and_check_all_returned();
}

Test(lazyfree, kmalloc_under_pressure_reclaims)
{
	setup();
	map_written_and_free(DEF, ASPACE_RECLAIM_BATCH, 1);
	take_all_free();
	void *big = kmalloc(64 << 10);
	cr_assert_not_null(big, "a large kmalloc gets pages from the reclaim");
	cr_assert_lt(as.lazy_pages, ASPACE_RECLAIM_BATCH);
	kfree(big);
	give_back_taken();
	destroy_and_check_all_returned();
}

/*
 * A syscall's buffer: page 0 not backed yet, page 1 freed lazily and never
 * written since, page 2 not backed. The kernel's copy fails at page 0,
 * backs pages 0 and 2 (under pressure: backing reclaims, in address order,
 * where page 1 comes first) and copies again: page 1 must still be there.
 */
Test(lazyfree, a_user_copy_that_must_back_pages_keeps_the_buffers_other_pages)
{
	setup();
	vaddr_t buf = DEF;
	map_written_and_free(buf, 3 + 4 * ASPACE_RECLAIM_BATCH, 0x40);
	cr_assert_eq(aspace_dontneed(&as, buf, P), 0);
	cr_assert_eq(aspace_dontneed(&as, buf + 2 * P, P), 0);
	take_all_free();

	uint8_t data[3 * 4096];
	memset(data, 0x5a, sizeof(data));
	cr_assert_eq(vm_copy_to_user(&as.ctx, buf, data, sizeof(data)), -EFAULT);
	cr_assert_eq(aspace_fault(&as, buf, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, buf + 2 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_lt(as.lazy_pages, 4 * ASPACE_RECLAIM_BATCH, "backing did reclaim");
	cr_assert_eq(vm_copy_to_user(&as.ctx, buf, data, sizeof(data)), 0);
	uint8_t back[3 * 4096];
	cr_assert_eq(vm_copy_from_user(&as.ctx, back, buf, sizeof(back)), 0);
	cr_assert(!memcmp(back, data, sizeof(data)));

	/* The same for a copy from the app (write(2) from the buffer). */
	vaddr_t src = buf + 4 * ASPACE_RECLAIM_BATCH * P; /* the last 3 pages: still marked */
	cr_assert(marked(src + P));
	cr_assert_eq(aspace_dontneed(&as, src, P), 0);
	cr_assert_eq(aspace_dontneed(&as, src + 2 * P, P), 0);
	give_back_taken();
	take_all_free();
	as.reclaim_cursor = 0; /* page 1 of this buffer first in line again */
	cr_assert_eq(vm_copy_from_user(&as.ctx, back, src, sizeof(back)), -EFAULT);
	cr_assert_eq(aspace_fault(&as, src, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, src + 2 * P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(vm_copy_from_user(&as.ctx, back, src, sizeof(back)), 0);
	cr_assert_eq(back[P], (uint8_t)(4 * ASPACE_RECLAIM_BATCH + 1 + 0x40), "the old bytes");
	cr_assert_lt(as.lazy_pages, 2 * ASPACE_RECLAIM_BATCH, "backing did reclaim again");
	give_back_taken();
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ the paths that drop pages */

Test(lazyfree, munmap_dontneed_brk_and_remap_keep_the_counts)
{
	setup();
	map_written_and_free(DEF, 10, 0);
	cr_assert_eq(as.lazy_pages, 10);
	cr_assert_eq(aspace_unmap_range(&as, DEF + 8 * P, 2 * P), 0);
	cr_assert_eq(as.lazy_pages, 8, "munmap takes marked pages out of the count");
	cr_assert_eq(aspace_unmap(&as, DEF + 3 * P, P), 0);
	cr_assert_eq(as.lazy_pages, 7, "a split too");
	cr_assert_eq(aspace_dontneed(&as, DEF, 2 * P), 0);
	cr_assert_eq(as.lazy_pages, 5, "MADV_DONTNEED frees marked pages at once");
	cr_assert(!mapped(DEF, NULL, NULL));

	cr_assert_eq(aspace_brk(&as, IMG_END + 4 * P), IMG_END + 4 * P);
	for (size_t i = 0; i < 4; i++)
		app_write(IMG_END + i * P, 5);
	cr_assert_eq(aspace_free_lazily(&as, IMG_END, 4 * P), 0);
	cr_assert_eq(as.lazy_pages, 9);
	cr_assert_eq(aspace_brk(&as, IMG_END + P), IMG_END + P);
	cr_assert_eq(as.lazy_pages, 6, "brk shrink");
	cr_assert_eq(aspace_lazyfree_pages(), 6);

	/* mremap: [DEF+4P, DEF+8P) moves; a clean mark moves with its entry,
	 * a page written after MADV_FREE arrives unmarked (kept). */
	app_write(DEF + 5 * P, 0x55);
	vaddr_t wall = DEF + 8 * P;
	cr_assert_eq(aspace_map(&as, 0, wall, P, 0), (long)wall);
	long moved = aspace_remap(&as, DEF + 4 * P, 4 * P, 6 * P, ASPACE_REMAP_MAYMOVE, 0);
	cr_assert_gt(moved, 0);
	vaddr_t m = (vaddr_t)moved;
	cr_assert_neq(m, DEF + 4 * P);
	cr_assert(marked(m) && !marked(m + P) && marked(m + 2 * P) && marked(m + 3 * P));
	cr_assert_eq(as.lazy_pages, 5);
	cr_assert_eq(aspace_lazyfree_pages(), 5);
	cr_assert_eq(palloc_reclaim(SIZE_MAX), 5);
	cr_assert(mapped(m + P, NULL, NULL) && app_read(m + P) == 0x55);
	cr_assert(!mapped(m, NULL, NULL));
	cr_assert_eq(app_read(m + 2 * P), 0);
	cr_assert_eq(as.lazy_pages, 0);
	destroy_and_check_all_returned();
}

Test(lazyfree, mprotect_keeps_the_mark_and_the_dirty_bit)
{
	setup();
	map_written_and_free(DEF, 4, 0x20);
	app_write(DEF + P, 0x99); /* dirty again */
	cr_assert_eq(aspace_protect(&as, DEF, 4 * P, 0), 0);
	cr_assert(marked(DEF) && marked(DEF + P));
	cr_assert_eq(aspace_protect(&as, DEF, 2 * P, ASPACE_NOACCESS), 0);
	cr_assert(marked(DEF) && marked(DEF + P), "PROT_NONE pages keep their mark");
	cr_assert_eq(palloc_reclaim(SIZE_MAX), 3, "the written page was not made clean");
	cr_assert_eq(aspace_protect(&as, DEF, 4 * P, VM_WRITE), 0);
	cr_assert_eq(app_read(DEF + P), 0x99);
	cr_assert_eq(app_read(DEF), 0);
	destroy_and_check_all_returned();
}

Test(lazyfree, exit_with_marked_pages_returns_every_page)
{
	setup();
	map_written_and_free(DEF, 40, 3);
	app_write(DEF + 7 * P, 1);
	cr_assert_eq(aspace_lazyfree_pages(), 40);
	destroy_and_check_all_returned();
}

Test(lazyfree, two_address_spaces_count_apart_and_one_exiting_leaves_the_other)
{
	setup();
	struct aspace other;
	cr_assert_eq(aspace_init(&other, &kctx), 0);
	cr_assert_eq(aspace_map(&other, 0, DEF, 3 * P, VM_WRITE), (long)DEF);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(aspace_fault(&other, DEF + i * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_free_lazily(&other, DEF, 3 * P), 0);
	map_written_and_free(DEF, 5, 0);
	cr_assert_eq(aspace_lazyfree_pages(), 8);
	aspace_destroy(&other);
	cr_assert_eq(aspace_lazyfree_pages(), 5);
	cr_assert_eq(palloc_reclaim(SIZE_MAX), 5);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ against a model */

/*
 * Random app behaviour over a mapping that crosses a page-table boundary
 * and the heap, checked after every step against a model of each page:
 * its bytes, whether it is backed, marked, and written since marked. The
 * only freedom the kernel has is the one Linux has: a marked page never
 * written since may read zero (reclaimed) instead of its old bytes; the
 * model accepts that exactly when it happened to such a page.
 */
#define MODEL_PAGES 96
#define MODEL_BASE  (DEF + (2ull << 20) - 40 * P) /* crosses a 2 MiB table boundary */
#define HEAP_PAGES  16

struct page_model {
	uint8_t byte; /* what the page holds (0 when not backed) */
	int backed, marked, dirty;
};
static struct page_model model[MODEL_PAGES + HEAP_PAGES];

static vaddr_t model_va(size_t i)
{
	return i < MODEL_PAGES ? MODEL_BASE + i * P : IMG_END + (i - MODEL_PAGES) * P;
}

static void model_check(int op)
{
	size_t nmarked = 0, nbacked = 0;

	for (size_t i = 0; i < ARRAY_SIZE(model); i++) {
		struct page_model *m = &model[i];
		vaddr_t va = model_va(i);
		int is_mapped = mapped(va, NULL, NULL);
		if (m->backed && !is_mapped) {
			/* Gone: only a reclaim of a clean marked page may do that. */
			cr_assert(m->marked && !m->dirty, "op %d: page %zu lost while %s", op, i,
				  m->marked ? "written" : "not marked");
			*m = (struct page_model){0};
		}
		if (m->marked && m->dirty && !marked(va)) {
			/* A reclaim looked at it and kept it. */
			m->marked = m->dirty = 0;
		}
		cr_assert_eq(is_mapped, m->backed, "op %d: page %zu", op, i);
		cr_assert_eq(marked(va), m->marked, "op %d: page %zu", op, i);
		if (m->backed) {
			uint8_t b[2];
			cr_assert_eq(vm_copy_from_user(&as.ctx, &b[0], va, 1), 0);
			cr_assert_eq(vm_copy_from_user(&as.ctx, &b[1], va + P - 1, 1), 0);
			cr_assert(b[0] == m->byte && b[1] == m->byte,
				  "op %d: page %zu holds %#x/%#x, expected %#x", op, i, b[0], b[1],
				  m->byte);
		}
		nmarked += m->marked;
		nbacked += m->backed;
	}
	cr_assert_eq(as.lazy_pages, nmarked, "op %d", op);
	cr_assert_eq(aspace_lazyfree_pages(), nmarked, "op %d", op);
	size_t backed = 0;
	for (const struct region *r = as.regions; r; r = r->next) {
		if (r->kind == REGION_MAPPING || r->kind == REGION_HEAP)
			backed += r->backed;
	}
	cr_assert_eq(backed, nbacked, "op %d", op);
}

Test(lazyfree, random_app_behaviour_matches_the_model)
{
	setup();
	cr_assert_eq(aspace_map(&as, 0, MODEL_BASE, MODEL_PAGES * P, VM_WRITE), (long)MODEL_BASE);
	cr_assert_eq(aspace_brk(&as, IMG_END + HEAP_PAGES * P), IMG_END + HEAP_PAGES * P);
	memset(model, 0, sizeof(model));
	mm_test_seed(0x1a2bf4eeull);
	size_t n = ARRAY_SIZE(model);

	for (int op = 0; op < 3000; op++) {
		size_t r = mm_test_random_below(100), i = mm_test_random_below(n);
		size_t len = 1 + mm_test_random_below(24);
		if (i + len > n)
			len = n - i;
		if (i < MODEL_PAGES && i + len > MODEL_PAGES)
			len = MODEL_PAGES - i; /* one region per call */
		vaddr_t va = model_va(i);

		if (r < 40) {
			uint8_t b = (uint8_t)(1 + mm_test_random_below(255));
			app_write(va, b);
			model[i] = (struct page_model){
			    .byte = b, .backed = 1, .marked = model[i].marked, .dirty = 1};
		} else if (r < 60) {
			uint8_t b = app_read(va);
			if (!model[i].backed)
				model[i] = (struct page_model){.backed = 1};
			cr_assert_eq(b, model[i].byte, "op %d: page %zu", op, i);
		} else if (r < 85) {
			cr_assert_eq(aspace_free_lazily(&as, va, len * P), 0, "op %d", op);
			for (size_t k = i; k < i + len; k++) {
				if (model[k].backed)
					model[k].marked = 1, model[k].dirty = 0;
			}
		} else if (r < 90) {
			cr_assert_eq(aspace_dontneed(&as, va, len * P), 0, "op %d", op);
			for (size_t k = i; k < i + len; k++)
				model[k] = (struct page_model){0};
		} else if (r < 97) {
			size_t want =
			    mm_test_random_below(2) ? SIZE_MAX : 1 + mm_test_random_below(8);
			size_t clean = 0;
			for (size_t k = 0; k < n; k++)
				clean += model[k].marked && !model[k].dirty;
			size_t free_before = palloc_free_pages();
			size_t got = palloc_reclaim(want);
			cr_assert_eq(palloc_free_pages(), free_before + got, "op %d", op);
			if (want == SIZE_MAX)
				cr_assert_eq(got, clean,
					     "op %d: a full reclaim frees every clean page", op);
			else
				cr_assert_leq(got, clean, "op %d", op);
		} else {
			/* Memory runs out and a fault in a far mapping must go on. */
			vaddr_t far = DEF + 0x200000000ull;
			if (!region_holding(far))
				cr_assert_eq(aspace_map(&as, 0, far, P, VM_WRITE), (long)far);
			take_all_free();
			size_t clean = 0;
			for (size_t k = 0; k < n; k++)
				clean += model[k].marked && !model[k].dirty;
			int err = aspace_fault(&as, far, ASPACE_ACCESS_WRITE);
			give_back_taken();
			cr_assert(err == 0 ||
				      (err == -ENOMEM && clean < ASPACE_KERNEL_RESERVE_PAGES),
				  "op %d: %d with %zu clean pages", op, err, clean);
			cr_assert_eq(aspace_dontneed(&as, far, P), 0);
		}
		model_check(op);
	}
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ vm and palloc underneath */

static struct vm_ctx uctx;

static void vm_setup(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	cr_assert_eq(vm_ctx_init_user(&uctx, &kctx), 0);
}

Test(vm_lazyfree, marks_skip_borrowed_entries_and_settle_reads_the_dirty_bit)
{
	vm_setup();
	paddr_t a = palloc(1), b = palloc(1), c = palloc(1);
	vaddr_t v = 0x7000000000ull;
	cr_assert_eq(vm_map(&uctx, v, a, VM_USER | VM_WRITE), 0);
	cr_assert_eq(vm_map(&uctx, v + P, b, VM_USER | VM_WRITE | VM_BORROWED), 0);
	cr_assert_eq(vm_map(&uctx, v + 3 * P, c, VM_USER | VM_WRITE), 0);

	cr_assert_eq(vm_lazyfree_mark(&uctx, v, v + 4 * P), 2, "a and c; b is borrowed");
	cr_assert_eq(vm_lazyfree_mark(&uctx, v, v + 4 * P), 0, "marked already");
	unsigned f;
	cr_assert_eq(vm_lookup(&uctx, v, NULL, &f), 0);
	cr_assert_eq(f, VM_USER | VM_WRITE | VM_LAZYFREE);
	cr_assert_eq(vm_lookup(&uctx, v + P, NULL, &f), 0);
	cr_assert_eq(f, VM_USER | VM_WRITE | VM_BORROWED);
	cr_assert_eq(vm_lazyfree_next(&uctx, v, v + 4 * P), v);
	cr_assert_eq(vm_lazyfree_next(&uctx, v + P, v + 4 * P), v + 3 * P);
	cr_assert_eq(vm_lazyfree_next(&uctx, v + P, v + 3 * P), v + 3 * P, "none: end");
	cr_assert_eq(vm_lazyfree_next(&uctx, 0x10000, v), v, "empty tables are skipped");

	uint8_t x = 1;
	cr_assert_eq(vm_copy_to_user(&uctx, v + 3 * P + 9, &x, 1), 0);
	cr_assert_eq(vm_lazyfree_settle(&uctx, v + 3 * P, VM_SETTLE_TAKE, NULL), 0,
		     "written: kept");
	cr_assert_eq(vm_lookup(&uctx, v + 3 * P, NULL, &f), 0);
	cr_assert_eq(f, VM_USER | VM_WRITE, "and unmarked");
	cr_assert_eq(vm_lazyfree_settle(&uctx, v + 3 * P, VM_SETTLE_TAKE, NULL), -ENOENT);
	cr_assert_eq(vm_lazyfree_settle(&uctx, v, 0, NULL), 1, "clean: may go");
	cr_assert_eq(vm_lookup(&uctx, v, NULL, &f), 0, "but without TAKE it stays");
	paddr_t got = 0;
	cr_assert_eq(vm_lazyfree_settle(&uctx, v, VM_SETTLE_TAKE, &got), 1);
	cr_assert_eq(got, a);
	cr_assert_eq(vm_lookup(&uctx, v, NULL, NULL), -ENOENT);
	cr_assert_eq(vm_lazyfree_settle(&uctx, v + 2 * P, VM_SETTLE_TAKE, NULL), -ENOENT);

	/* vm_protect keeps the mark; a remark makes the page clean again. */
	cr_assert_eq(vm_lazyfree_mark(&uctx, v + 3 * P, v + 4 * P), 1);
	cr_assert_eq(vm_copy_to_user(&uctx, v + 3 * P, &x, 1), 0);
	cr_assert_eq(vm_protect(&uctx, v + 3 * P, VM_USER), 0);
	cr_assert_eq(vm_lookup(&uctx, v + 3 * P, NULL, &f), 0);
	cr_assert_eq(f, VM_USER | VM_LAZYFREE);
	cr_assert_eq(vm_lazyfree_settle(&uctx, v + 3 * P, 0, NULL), 0, "still dirty");
	cr_assert_eq(vm_lazyfree_mark(&uctx, v + 3 * P, v + 4 * P), 1);
	cr_assert_eq(vm_lazyfree_settle(&uctx, v + 3 * P, 0, NULL), 1, "clean again");
	cr_assert_eq(vm_unmap_entry(&uctx, v + 3 * P, NULL, &f), 0);
	cr_assert(f & VM_LAZYFREE);

	cr_assert_eq(vm_unmap(&uctx, v + P, NULL), 0);
	/* The table of v emptied by settle, not freed: destroy frees it. */
	vm_ctx_destroy_user(&uctx, 0);
	pfree(a, 1);
	pfree(b, 1);
	pfree(c, 1);
	cr_assert_eq(palloc_check(), 0);
}

static size_t reclaim_calls, reclaim_asked;
static paddr_t reclaim_stash;

/* A reclaimer that holds one page back and gives it when asked; it tries
 * to allocate inside, which must not run it again. */
static size_t test_reclaimer(size_t npages)
{
	reclaim_calls++;
	reclaim_asked = npages;
	cr_assert_eq(palloc(1), 0, "nothing free inside the reclaimer");
	cr_assert_eq(palloc_reclaim(1), 0, "not re-entered");
	if (!reclaim_stash)
		return 0;
	pfree(reclaim_stash, 1);
	reclaim_stash = 0;
	return 1;
}

Test(palloc_reclaim, a_failed_allocation_runs_the_reclaimer_once_and_tries_again)
{
	mm_test_setup();
	reclaim_stash = palloc(1);
	palloc_set_reclaim(test_reclaimer);
	size_t n = palloc_free_pages();
	for (size_t i = 0; i < n; i++)
		cr_assert_neq(palloc(1), 0);
	cr_assert_eq(reclaim_calls, 0, "not while pages are free");

	cr_assert_neq(palloc(1), 0, "the reclaimer's page");
	cr_assert_eq(reclaim_calls, 1);
	cr_assert_eq(reclaim_asked, 1);
	cr_assert_eq(palloc(2), 0, "nothing left: one more call, no retry");
	cr_assert_eq(reclaim_calls, 2);
	cr_assert_eq(reclaim_asked, 2);
	cr_assert_eq(palloc_reclaim(5), 0);
	cr_assert_eq(reclaim_calls, 3);
	cr_assert_eq(palloc_low(1) != 0, 1, "the low pool never reclaims");
	cr_assert_eq(reclaim_calls, 3);

	mm_test_setup();
	cr_assert_eq(palloc_reclaim(1), 0, "palloc_init forgets the reclaimer");
	cr_assert_eq(reclaim_calls, 3);
}
