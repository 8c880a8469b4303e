/*
 * Host tests of mm/aspace.c: the app's regions, demand faults, brk, map and
 * unmap over a user context whose page tables live in the fake physical
 * memory of mm_arena.h. Faults are delivered by calling aspace_fault() as
 * the kernel's page-fault path would; mapped addresses are checked with
 * vm_lookup(), never touched. Device memory is a window of the arena's
 * hole above RAM, which palloc does not manage. Object mappings map test
 * objects (struct tobj below) that own palloc'd pages as a tmpfs file does.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/arch/x86_64/mmu.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "mm/aspace.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/valloc.h"
#include "mm/vm.h"
#include "mm/vmobj.h"
#include "mm_arena.h"

#define P	  PAGE_SIZE
#define IMG_BASE  0x400000ull
#define IMG_PAGES 4 /* two RX pages, a gap, one RW page */
#define IMG_END	  (IMG_BASE + IMG_PAGES * P)
#define DEF	  ASPACE_DEFAULT_BASE
#define TOP	  ASPACE_STACK_TOP
#define DEV_BASE  0x90000000ull /* in the arena's hole: device memory */
#define DEV_PAGES 256ull
#define DEV_END	  (DEV_BASE + DEV_PAGES * P)
#define CLAIM_LO  (MM_TEST_RAM_BASE + (64ull << 20)) /* RAM that faults never reach */

static struct vm_ctx kctx;
static struct aspace as;
static size_t free_at_start; /* palloc free pages before aspace_init */
static size_t kmalloc_held_at_start, kmalloc_live_at_start;

static size_t free_pages(void)
{
	return palloc_free_pages();
}

static struct aspace_stats stats(void)
{
	struct aspace_stats st;
	aspace_get_stats(&as, &st);
	return st;
}

/* The last question the policy was asked, and its answers: DEVICE inside
 * the device window, RAM inside the test RAM, FORBIDDEN elsewhere. */
static paddr_t asked_phys;
static size_t asked_npages;

static enum aspace_phys_class test_policy(paddr_t phys, size_t npages)
{
	asked_phys = phys;
	asked_npages = npages;
	if (phys >= DEV_BASE && phys < DEV_END && npages <= (DEV_END - phys) / P)
		return ASPACE_PHYS_DEVICE;
	if (phys >= MM_TEST_RAM_BASE && phys < MM_TEST_RAM_END &&
	    npages <= (MM_TEST_RAM_END - phys) / P)
		return ASPACE_PHYS_RAM;
	return ASPACE_PHYS_FORBIDDEN;
}

static enum aspace_phys_class forbid_all(paddr_t phys, size_t npages)
{
	(void)phys;
	(void)npages;
	return ASPACE_PHYS_FORBIDDEN;
}

/* Fresh allocators, a kernel context as kmain makes it, and an empty
 * address space; the baselines for "everything came back". */
static void setup_empty(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	aspace_set_phys_policy(NULL);
	kmalloc_trim();
	free_at_start = free_pages();
	kmalloc_held_at_start = mm_test_kmalloc_stats().pages_held;
	kmalloc_live_at_start = mm_test_kmalloc_stats().live_allocations;
	cr_assert_eq(aspace_init(&as, &kctx), 0);
}

/* Maps page i of the image the way the loader does: a fresh zeroed page. */
static void map_image_page(size_t i, unsigned flags)
{
	paddr_t pa = palloc(1);
	cr_assert_neq(pa, 0);
	memset(phys_to_virt(pa), 0, P);
	cr_assert_eq(vm_map(&as.ctx, IMG_BASE + i * P, pa, VM_USER | flags), 0);
}

/* An app as the loader leaves it: the image (pages 0-1 RX, page 2 an
 * unmapped gap, page 3 RW), an empty heap at its end, a stack of
 * stack_pages with one page backed. */
static void setup_app(size_t stack_pages)
{
	setup_empty();
	cr_assert_eq(aspace_add_image(&as, IMG_BASE, IMG_PAGES), 0);
	map_image_page(0, VM_EXEC);
	map_image_page(1, VM_EXEC);
	map_image_page(3, VM_WRITE);
	cr_assert_eq(aspace_init_heap(&as, IMG_END), 0);
	cr_assert_eq(aspace_init_stack(&as, TOP, stack_pages, 1), 0);
}

static void setup(void)
{
	setup_app(ASPACE_STACK_DEFAULT / P);
}

static int mapped(vaddr_t va, paddr_t *pa, unsigned *flags)
{
	return vm_lookup(&as.ctx, va, pa, flags) == 0;
}

static const struct region *region_holding(vaddr_t va)
{
	for (const struct region *r = as.regions; r; r = r->next) {
		if (va >= r->base && va < r->base + r->npages * P)
			return r;
	}
	return NULL;
}

static size_t nregions(void)
{
	size_t n = 0;
	for (const struct region *r = as.regions; r; r = r->next)
		n++;
	return n;
}

/* ------------------------------------------------------------ a test object */

/*
 * A page-owning object as tmpfs makes one (mm/vmobj.h): size bytes, held
 * in pages made (palloc'd) on the first get_page of each, filled with
 * tobj_byte() below size and zeros past it. It counts holds, releases and
 * get_page calls; fail makes get_page return that error.
 */
#define TOBJ_MAX_PAGES 64
#define TOBJ_MAX       4

struct tobj {
	struct vmobj obj; /* first: get_page gets &obj */
	uint64_t size;
	uint8_t seed; /* tells objects' bytes apart */
	paddr_t pages[TOBJ_MAX_PAGES];
	size_t npages_made;
	int holds, releases, gets, write_gets, finds, fail;
};

static struct tobj tobjs[TOBJ_MAX];
static size_t ntobjs;

static uint8_t tobj_byte(const struct tobj *o, uint64_t off)
{
	return (uint8_t)(off * 13 + o->seed);
}

static uint64_t tobj_npages(const struct tobj *o)
{
	return (o->size + P - 1) / P;
}

static int tobj_get_page(struct vmobj *obj, uint64_t index, int write, paddr_t *pa)
{
	struct tobj *o = (struct tobj *)obj;

	cr_assert_gt(o->holds, o->releases, "get_page on an object no mapping holds");
	o->gets++;
	o->write_gets += !!write;
	if (o->fail)
		return o->fail;
	if (index >= tobj_npages(o))
		return -EIO;
	cr_assert_lt(index, TOBJ_MAX_PAGES);
	if (!o->pages[index]) {
		paddr_t page = palloc(1);
		if (!page)
			return -ENOMEM;
		uint8_t *b = phys_to_virt(page);
		for (uint64_t i = 0; i < P; i++)
			b[i] = index * P + i < o->size ? tobj_byte(o, index * P + i) : 0;
		o->pages[index] = page;
		o->npages_made++;
	}
	*pa = o->pages[index];
	return 0;
}

/* Fault-around's look-up: a page made already, below the end. */
static int tobj_find_page(struct vmobj *obj, uint64_t index, paddr_t *pa)
{
	struct tobj *o = (struct tobj *)obj;

	cr_assert_gt(o->holds, o->releases, "find_page on an object no mapping holds");
	o->finds++;
	if (index >= tobj_npages(o) || index >= TOBJ_MAX_PAGES || !o->pages[index])
		return -ENOENT;
	*pa = o->pages[index];
	return 0;
}

static void tobj_hold(struct vmobj *obj)
{
	((struct tobj *)obj)->holds++;
}

static void tobj_release(struct vmobj *obj)
{
	struct tobj *o = (struct tobj *)obj;

	o->releases++;
	cr_assert_leq(o->releases, o->holds, "released more often than held");
}

static const struct vmobj_ops tobj_ops = {
    .get_page = tobj_get_page,
    .find_page = tobj_find_page,
    .hold = tobj_hold,
    .release = tobj_release,
};

/* A new object of size bytes; destroy_and_check_all_returned frees it. */
static struct tobj *tobj_new(uint64_t size)
{
	cr_assert_lt(ntobjs, TOBJ_MAX);
	cr_assert_leq(size, TOBJ_MAX_PAGES * P);
	struct tobj *o = &tobjs[ntobjs++];
	*o = (struct tobj){.obj.ops = &tobj_ops, .size = size, .seed = (uint8_t)(1 + 50 * ntobjs)};
	return o;
}

/* The object's page at index (made now if it was not), as a pointer. */
static uint8_t *tobj_page(struct tobj *o, uint64_t index)
{
	paddr_t pa;

	o->holds++; /* get_page wants a holder */
	cr_assert_eq(tobj_get_page(&o->obj, index, 0, &pa), 0);
	o->holds--;
	return phys_to_virt(pa);
}

/* truncate(2) as tmpfs does it: mappings first lose the pages past the
 * new end, then the object frees them and zeroes the tail of the last. */
static void tobj_truncate(struct tobj *o, uint64_t size)
{
	uint64_t keep = (size + P - 1) / P;

	vmobj_unmap_from(&o->obj, keep);
	for (uint64_t i = keep; i < TOBJ_MAX_PAGES; i++) {
		if (o->pages[i]) {
			pfree(o->pages[i], 1);
			o->pages[i] = 0;
			o->npages_made--;
		}
	}
	if (size % P && o->pages[size / P])
		memset((uint8_t *)phys_to_virt(o->pages[size / P]) + size % P, 0, P - size % P);
	o->size = size;
}

/* Pages the test objects hold. */
static size_t tobj_pages_made(void)
{
	size_t n = 0;

	for (size_t i = 0; i < ntobjs; i++)
		n += tobjs[i].npages_made;
	return n;
}

/* Once no mapping is left: every hold was released; frees the pages. */
static void tobj_free_all(void)
{
	for (size_t i = 0; i < ntobjs; i++) {
		struct tobj *o = &tobjs[i];
		cr_assert_eq(o->holds, o->releases, "object %zu: %d holds, %d releases", i,
			     o->holds, o->releases);
		for (size_t k = 0; k < TOBJ_MAX_PAGES; k++) {
			if (o->pages[k])
				pfree(o->pages[k], 1); /* panics if aspace freed it */
		}
	}
	ntobjs = 0;
}

/* Destroys the address space and checks that every page and every
 * kmalloc block came back: the objects' pages only once they are freed,
 * after every hold on them was released. */
static void destroy_and_check_all_returned(void)
{
	aspace_destroy(&as);
	kmalloc_trim();
	cr_assert_eq(palloc_check(), 0);
	cr_assert_eq(free_pages() + tobj_pages_made(), free_at_start,
		     "%zu pages lost or objects' pages freed",
		     free_at_start - free_pages() - tobj_pages_made());
	tobj_free_all();
	cr_assert_eq(free_pages(), free_at_start, "%zu pages lost", free_at_start - free_pages());
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, kmalloc_live_at_start);
	cr_assert_eq(palloc_check(), 0);
}

/* ------------------------------------------------------------ demand faults */

Test(aspace, demand_fault_backs_exactly_one_zeroed_page_with_the_region_flags)
{
	setup();
	long base = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	cr_assert_eq(base, (long)DEF);
	cr_assert_eq(stats().backed[REGION_MAPPING], 0);
	cr_assert(!mapped(DEF, NULL, NULL));

	/* The fault takes the lowest free page: make it a dirty one. */
	paddr_t dirty = palloc(1);
	memset(phys_to_virt(dirty), 0xa5, P);
	pfree(dirty, 1);

	paddr_t pa;
	unsigned flags;
	cr_assert_eq(aspace_fault(&as, DEF + P + 123, ASPACE_ACCESS_WRITE), 0);
	cr_assert(mapped(DEF + P, &pa, &flags));
	cr_assert_eq(pa, dirty);
	cr_assert_eq(flags, VM_USER | VM_WRITE);
	const uint8_t *bytes = phys_to_virt(pa);
	for (size_t i = 0; i < P; i++)
		cr_assert_eq(bytes[i], 0, "byte %zu not zeroed", i);
	cr_assert(!mapped(DEF, NULL, NULL));
	cr_assert(!mapped(DEF + 2 * P, NULL, NULL));
	cr_assert_eq(stats().backed[REGION_MAPPING], 1);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 4);
}

/*
 * The kernel only calls aspace_fault for a not-present fault once per
 * page; should the same fault come twice, it returns 0 and backs nothing
 * new (the restart then succeeds or faults again as a protection fault).
 */
Test(aspace, a_second_fault_on_a_backed_page_changes_nothing)
{
	setup();
	cr_assert_eq(aspace_map(&as, 0, 0, 4 * P, VM_WRITE), (long)DEF);
	cr_assert_eq(aspace_fault(&as, DEF, ASPACE_ACCESS_READ), 0);
	paddr_t first, again;
	cr_assert(mapped(DEF, &first, NULL));
	size_t before = free_pages();

	cr_assert_eq(aspace_fault(&as, DEF + 8, ASPACE_ACCESS_WRITE), 0);
	cr_assert(mapped(DEF, &again, NULL));
	cr_assert_eq(again, first);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(stats().backed[REGION_MAPPING], 1);
	/* A protection fault on it is never fixed up. */
	cr_assert_eq(aspace_fault(&as, DEF, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT);
	cr_assert_eq(aspace_fault(&as, DEF, ASPACE_ACCESS_PRESENT), -EFAULT);
}

Test(aspace, faults_outside_regions_in_the_null_guard_and_above_the_user_half_are_efault)
{
	setup();
	cr_assert_eq(aspace_map(&as, 0, 0, 4 * P, VM_WRITE), (long)DEF);
	const vaddr_t bad[] = {
	    0,
	    0x1000,
	    VM_USER_BASE - 1,		    /* null guard */
	    VM_USER_BASE,		    /* below the image */
	    IMG_END,			    /* the empty heap */
	    DEF - 1,			    /* between regions */
	    DEF + 4 * P,		    /* just past the mapping */
	    TOP - ASPACE_STACK_DEFAULT - 1, /* the stack's guard page */
	    TOP,			    /* above the stack */
	    VM_USER_TOP - 1,
	    VM_USER_TOP,
	    VM_KERNEL_HALF,
	    0xffffffff80000000ull,
	};
	size_t before = free_pages();

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(aspace_fault(&as, bad[i], ASPACE_ACCESS_READ), -EFAULT, "%#lx",
			     bad[i]);
		cr_assert_eq(aspace_fault(&as, bad[i], ASPACE_ACCESS_WRITE), -EFAULT, "%#lx",
			     bad[i]);
	}
	cr_assert_eq(free_pages(), before);
}

Test(aspace, write_fault_on_a_read_only_mapping_is_efault)
{
	setup();
	long ro = aspace_map(&as, 0, 0, 2 * P, 0);
	unsigned flags;

	cr_assert_eq(aspace_fault(&as, ro + P, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert(!mapped(ro + P, NULL, NULL));
	cr_assert_eq(aspace_fault(&as, ro, ASPACE_ACCESS_READ), 0);
	cr_assert(mapped(ro, NULL, &flags));
	cr_assert_eq(flags, VM_USER);
	cr_assert_eq(aspace_fault(&as, ro, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT);
}

Test(aspace, exec_faults_need_an_executable_region)
{
	setup();
	long rw = aspace_map(&as, 0, 0, P, VM_WRITE);
	long rx = aspace_map(&as, 0, 0, P, VM_EXEC);
	unsigned flags;

	cr_assert_eq(aspace_fault(&as, rw, ASPACE_ACCESS_EXEC), -EFAULT);
	cr_assert_eq(aspace_fault(&as, rx, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(aspace_fault(&as, rx, ASPACE_ACCESS_EXEC), 0);
	cr_assert(mapped(rx, NULL, &flags));
	cr_assert_eq(flags, VM_USER | VM_EXEC);
}

Test(aspace, exec_fault_on_the_heap_or_stack_is_efault)
{
	setup();
	cr_assert_eq(aspace_brk(&as, IMG_END + 2 * P), IMG_END + 2 * P);
	cr_assert_eq(aspace_fault(&as, IMG_END, ASPACE_ACCESS_EXEC), -EFAULT);
	cr_assert_eq(aspace_fault(&as, TOP - 3 * P, ASPACE_ACCESS_EXEC), -EFAULT);
	cr_assert_eq(aspace_fault(&as, IMG_END, ASPACE_ACCESS_WRITE), 0);
	unsigned flags;
	cr_assert(mapped(IMG_END, NULL, &flags));
	cr_assert_eq(flags, VM_USER | VM_WRITE);
}

Test(aspace, faults_in_the_image_or_a_device_region_are_efault)
{
	setup();
	aspace_set_phys_policy(test_policy);
	long dev = aspace_map(&as, DEV_BASE, 0, 2 * P, VM_WRITE);

	cr_assert_gt(dev, 0);
	cr_assert_eq(aspace_fault(&as, IMG_BASE + 2 * P, ASPACE_ACCESS_READ), -EFAULT); /* gap */
	cr_assert(!mapped(IMG_BASE + 2 * P, NULL, NULL));
	cr_assert_eq(aspace_fault(&as, IMG_BASE, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(aspace_fault(&as, dev, ASPACE_ACCESS_READ), -EFAULT);
}

Test(aspace, ten_faults_in_a_64mib_mapping_back_exactly_ten_pages)
{
	setup();
	long base = aspace_map(&as, 0, 0, 64ull << 20, VM_WRITE);
	cr_assert_eq(base, (long)DEF);
	cr_assert_eq(stats().reserved[REGION_MAPPING], (64ull << 20) / P);
	size_t before = free_pages();
	cr_assert_eq(stats().system_free_pages, before);

	/* Ten pages in ten different 2 MiB blocks under one 1 GiB block: ten
	 * frames, ten page tables, one page directory, one PDPT (the default
	 * region starts a PML4 entry of its own). */
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(aspace_fault(&as, DEF + i * (6ull << 20) + 5 * P, ASPACE_ACCESS_WRITE),
			     0);
	cr_assert_eq(stats().backed[REGION_MAPPING], 10);
	cr_assert_eq(before - free_pages(), 10 + 10 + 1 + 1);
	cr_assert_eq(stats().system_free_pages, free_pages());

	/* Ten more within those 2 MiB blocks need no new table. */
	before = free_pages();
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(aspace_fault(&as, DEF + i * (6ull << 20) + 6 * P, ASPACE_ACCESS_READ),
			     0);
	cr_assert_eq(stats().backed[REGION_MAPPING], 20);
	cr_assert_eq(before - free_pages(), 10);
}

/* ------------------------------------------------------------ the stack */

Test(aspace, stack_faults_anywhere_in_the_reserve_work_and_the_guard_page_fails)
{
	setup_empty();
	const size_t reserve = 2048;
	const vaddr_t bottom = TOP - reserve * P;

	cr_assert_eq(aspace_init_stack(&as, TOP, reserve, 2), 0);
	cr_assert(mapped(TOP - P, NULL, NULL));
	cr_assert(mapped(TOP - 2 * P, NULL, NULL));
	cr_assert(!mapped(TOP - 3 * P, NULL, NULL));
	cr_assert_eq(stats().reserved[REGION_STACK], reserve);
	cr_assert_eq(stats().backed[REGION_STACK], 2);

	const vaddr_t ok[] = {bottom, bottom + 4095, bottom + reserve / 2 * P, TOP - 3 * P};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		unsigned flags;
		cr_assert_eq(aspace_fault(&as, ok[i], ASPACE_ACCESS_WRITE), 0, "%#lx", ok[i]);
		cr_assert(mapped(ok[i], NULL, &flags));
		cr_assert_eq(flags, VM_USER | VM_WRITE);
	}
	cr_assert_eq(stats().backed[REGION_STACK], 2 + 3); /* two faults hit one page */
	cr_assert_eq(aspace_fault(&as, bottom - 1, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(aspace_fault(&as, bottom - P, ASPACE_ACCESS_READ), -EFAULT);
	/* The guard page is reserved: nothing can be mapped there. */
	cr_assert_eq(aspace_map(&as, 0, bottom - P, P, VM_WRITE), -EEXIST);
	cr_assert_eq(aspace_map(&as, 0, bottom - 2 * P, P, VM_WRITE), (long)(bottom - 2 * P));
	destroy_and_check_all_returned();
}

Test(aspace, stack_init_checks_its_arguments)
{
	setup_empty();
	cr_assert_eq(aspace_init_stack(&as, TOP + 8, 16, 1), -EINVAL);
	cr_assert_eq(aspace_init_stack(&as, TOP, 0, 0), -EINVAL);
	cr_assert_eq(aspace_init_stack(&as, TOP, 4, 5), -EINVAL);
	cr_assert_eq(aspace_init_stack(&as, VM_USER_TOP, 4, 1), -EINVAL);
	cr_assert_eq(aspace_init_stack(&as, VM_USER_BASE + 4 * P, 4, 1), -EINVAL); /* no guard */
	cr_assert_eq(aspace_map(&as, 0, TOP - 2 * P, P, 0), (long)(TOP - 2 * P));
	cr_assert_eq(aspace_init_stack(&as, TOP, 4, 1), -EEXIST);
	cr_assert_eq(aspace_unmap(&as, TOP - 2 * P, P), 0);
	cr_assert_eq(aspace_init_stack(&as, TOP, 4, 4), 0);
	cr_assert_eq(stats().backed[REGION_STACK], 4);
	cr_assert_eq(aspace_init_stack(&as, TOP - 64 * P, 4, 1), -EEXIST);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ the heap */

Test(aspace, brk_grows_shrinks_and_answers_queries)
{
	setup();
	const vaddr_t h = IMG_END;

	cr_assert_eq(aspace_brk(&as, 0), h);
	cr_assert_eq(aspace_brk(&as, h + 3 * P + 5), h + 4 * P); /* rounded up */
	cr_assert_eq(aspace_brk(&as, 0), h + 4 * P);
	cr_assert_eq(stats().reserved[REGION_HEAP], 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(aspace_fault(&as, h + i * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, h + 4 * P, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(stats().backed[REGION_HEAP], 4);

	size_t before = free_pages();
	cr_assert_eq(aspace_brk(&as, h + P), h + P);
	cr_assert_eq(free_pages(), before + 3);
	cr_assert(mapped(h, NULL, NULL));
	for (size_t i = 1; i < 4; i++)
		cr_assert(!mapped(h + i * P, NULL, NULL));
	cr_assert_eq(stats().backed[REGION_HEAP], 1);
	cr_assert_eq(aspace_fault(&as, h + P, ASPACE_ACCESS_WRITE), -EFAULT);

	/* Growing again gives demand pages, not the old ones. */
	cr_assert_eq(aspace_brk(&as, h + 2 * P), h + 2 * P);
	cr_assert(!mapped(h + P, NULL, NULL));
	cr_assert_eq(aspace_brk(&as, h), h);
	cr_assert_eq(stats().reserved[REGION_HEAP], 0);
	cr_assert_eq(stats().backed[REGION_HEAP], 0);
	cr_assert(!mapped(h, NULL, NULL));
}

Test(aspace, brk_stays_put_below_the_heap_past_the_limit_or_into_a_region)
{
	setup();
	const vaddr_t h = IMG_END;

	cr_assert_eq(aspace_brk(&as, h + P), h + P);
	cr_assert_eq(aspace_brk(&as, h - P), h + P);
	cr_assert_eq(aspace_brk(&as, IMG_BASE), h + P);
	cr_assert_eq(aspace_brk(&as, ASPACE_HEAP_LIMIT + 1), h + P);
	cr_assert_eq(aspace_brk(&as, UINT64_MAX), h + P);
	/* Up to the limit itself is allowed (a huge reserve, nothing backed). */
	cr_assert_eq(aspace_brk(&as, ASPACE_HEAP_LIMIT), ASPACE_HEAP_LIMIT);
	cr_assert_eq(aspace_brk(&as, h + P), h + P);

	/* A fixed mapping above the heap stops it there. */
	const vaddr_t wall = h + 16 * P;
	cr_assert_eq(aspace_map(&as, 0, wall, P, 0), (long)wall);
	cr_assert_eq(aspace_brk(&as, wall + P), h + P);
	cr_assert_eq(aspace_brk(&as, wall + 1), h + P);
	cr_assert_eq(aspace_brk(&as, wall), wall);
	cr_assert_eq(stats().reserved[REGION_HEAP], 16);
}

Test(aspace, increase_and_decrease_heap_return_ranges_and_free_pages)
{
	setup();
	const vaddr_t h = IMG_END;

	cr_assert_eq(aspace_increase_heap(&as, 2 * P, VM_WRITE), (long)h);
	cr_assert_eq(aspace_increase_heap(&as, 3 * P, VM_WRITE), (long)(h + 2 * P));
	cr_assert_eq(aspace_brk(&as, 0), h + 5 * P);
	cr_assert_eq(aspace_increase_heap(&as, 0, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_increase_heap(&as, P + 1, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_increase_heap(&as, P, VM_WRITE | VM_EXEC), -EINVAL);
	cr_assert_eq(aspace_increase_heap(&as, P, 0), -EINVAL);
	cr_assert_eq(aspace_increase_heap(&as, ASPACE_HEAP_LIMIT, VM_WRITE), -ENOMEM);
	cr_assert_eq(aspace_brk(&as, 0), h + 5 * P);

	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(aspace_fault(&as, h + i * P, ASPACE_ACCESS_WRITE), 0);
	size_t before = free_pages();
	cr_assert_eq(aspace_decrease_heap(&as, 3 * P), 0);
	cr_assert_eq(free_pages(), before + 3);
	cr_assert_eq(aspace_brk(&as, 0), h + 2 * P);
	cr_assert(mapped(h + P, NULL, NULL));
	cr_assert(!mapped(h + 2 * P, NULL, NULL));
	cr_assert_eq(aspace_decrease_heap(&as, 3 * P), -EINVAL);
	cr_assert_eq(aspace_decrease_heap(&as, P / 2), -EINVAL);
	cr_assert_eq(aspace_decrease_heap(&as, 0), 0);
	cr_assert_eq(aspace_decrease_heap(&as, 2 * P), 0);
	cr_assert_eq(stats().backed[REGION_HEAP], 0);
	cr_assert_eq(aspace_brk(&as, 0), h);
}

Test(aspace, heap_init_refuses_a_second_heap_or_a_taken_base)
{
	setup_empty();
	cr_assert_eq(aspace_brk(&as, 0), 0); /* no heap yet */
	cr_assert_eq(aspace_increase_heap(&as, P, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_add_image(&as, IMG_BASE, IMG_PAGES), 0);
	cr_assert_eq(aspace_init_heap(&as, IMG_BASE + P), -EEXIST);
	cr_assert_eq(aspace_init_heap(&as, IMG_END + 8), -EINVAL);
	cr_assert_eq(aspace_init_heap(&as, 0x1000), -EINVAL);
	cr_assert_eq(aspace_init_heap(&as, IMG_END), 0);
	cr_assert_eq(aspace_init_heap(&as, IMG_END + P), -EEXIST);
	destroy_and_check_all_returned();
}

Test(aspace, heap_of_an_image_loaded_high_grows_past_the_heap_limit)
{
	setup_empty();
	const vaddr_t img = 0x555555554000ull, h = img + IMG_PAGES * P; /* the PIE base */

	cr_assert_eq(aspace_add_image(&as, img, IMG_PAGES), 0);
	cr_assert_eq(aspace_init_heap(&as, h), 0);
	cr_assert_eq(aspace_init_stack(&as, TOP, 16, 1), 0);
	cr_assert_eq(aspace_brk(&as, h + 4 * P), h + 4 * P);
	cr_assert_eq(aspace_fault(&as, h + 3 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_increase_heap(&as, 2 * P, VM_WRITE), (long)(h + 4 * P));
	/* It stops at the next reserved range: here a fixed mapping. */
	cr_assert_eq(aspace_map(&as, 0, h + 10 * P, P, 0), (long)(h + 10 * P));
	cr_assert_eq(aspace_brk(&as, h + 11 * P), h + 6 * P);
	cr_assert_eq(aspace_brk(&as, h + 10 * P), h + 10 * P);
	cr_assert_eq(aspace_brk(&as, VM_USER_TOP), h + 10 * P);
	/* Mappings without an address still start at the bottom of the default region. */
	cr_assert_eq(aspace_map(&as, 0, 0, P, 0), (long)DEF);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ the image */

Test(aspace, image_pages_mapped_by_the_loader_count_as_backed)
{
	setup();
	cr_assert_eq(stats().reserved[REGION_IMAGE], IMG_PAGES);
	cr_assert_eq(stats().backed[REGION_IMAGE], 3); /* page 2 is a gap */
	cr_assert_eq(aspace_add_image(&as, IMG_BASE + P, 1), -EEXIST);
	cr_assert_eq(aspace_map(&as, 0, IMG_BASE, P, 0), -EEXIST);
	cr_assert_eq(aspace_add_image(&as, IMG_BASE + 1, 1), -EINVAL);
}

/* ------------------------------------------------------------ map */

Test(aspace, map_at_a_fixed_address_takes_exactly_that_range)
{
	setup();
	const vaddr_t v = 0x200000000ull;

	cr_assert_eq(aspace_map(&as, 0, v, 4 * P, VM_WRITE), (long)v);
	cr_assert_eq(aspace_map(&as, 0, v, P, VM_WRITE), -EEXIST);
	cr_assert_eq(aspace_map(&as, 0, v + 3 * P, 2 * P, VM_WRITE), -EEXIST);
	cr_assert_eq(aspace_map(&as, 0, v - P, 2 * P, VM_WRITE), -EEXIST);
	cr_assert_eq(aspace_map(&as, 0, v - P, P, VM_WRITE), (long)(v - P));
	cr_assert_eq(aspace_map(&as, 0, v + 4 * P, P, VM_WRITE), (long)(v + 4 * P));
	const struct region *r = region_holding(v);
	cr_assert_not_null(r);
	cr_assert_eq(r->base, v);
	cr_assert_eq(r->npages, 4);
	cr_assert_eq(r->kind, REGION_MAPPING);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 6);
}

Test(aspace, map_in_the_null_guard_the_top_page_or_the_kernel_half_is_refused)
{
	setup();
	size_t n = nregions();

	cr_assert_eq(aspace_map(&as, 0, 0x1000, P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, VM_USER_BASE - P, 2 * P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, VM_USER_TOP - P, P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, VM_USER_TOP - 2 * P, 2 * P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, VM_USER_TOP, P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, VM_KERNEL_HALF, P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0xfffffffffffff000ull, P, 0), -EINVAL);
	cr_assert_eq(nregions(), n);
}

Test(aspace, map_checks_size_flags_and_alignment)
{
	setup();
	size_t n = nregions();

	cr_assert_eq(aspace_map(&as, 0, 0, 0, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0, P + 1, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, DEF + 8, P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0, P, VM_WRITE | VM_EXEC), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0, P, VM_UNCACHED | VM_WRITE_COMBINING), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0, P, VM_USER), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0, P, VM_GLOBAL), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0, 0, P, 1u << 20), -EINVAL);
	aspace_set_phys_policy(test_policy);
	cr_assert_eq(aspace_map(&as, DEV_BASE + 8, 0, P, 0), -EINVAL);
	cr_assert_eq(aspace_map(&as, 0xfffffffffffff000ull, 0, 2 * P, 0), -EINVAL); /* wraps */
	cr_assert_eq(aspace_map(&as, 1ull << 52, 0, P, 0), -EINVAL);
	cr_assert_eq(nregions(), n);
	/* Too large for the default region. */
	cr_assert_eq(aspace_map(&as, 0, 0, ASPACE_DEFAULT_END - DEF + P, 0), -ENOMEM);
	cr_assert_gt(aspace_map(&as, 0, 0, ASPACE_DEFAULT_END - DEF, 0), 0);
	cr_assert_eq(aspace_map(&as, 0, 0, P, 0), -ENOMEM);
}

Test(aspace, mappings_without_an_address_take_the_lowest_gap_of_the_default_region)
{
	setup();
	cr_assert_eq(aspace_map(&as, 0, 0, 4 * P, 0), (long)DEF);
	cr_assert_eq(aspace_map(&as, 0, 0, 2 * P, 0), (long)(DEF + 4 * P));
	cr_assert_eq(aspace_map(&as, 0, DEF + 8 * P, P, 0), (long)(DEF + 8 * P));
	cr_assert_eq(aspace_map(&as, 0, 0, 3 * P, 0), (long)(DEF + 9 * P));
	cr_assert_eq(aspace_map(&as, 0, 0, 2 * P, 0), (long)(DEF + 6 * P));
	cr_assert_eq(aspace_unmap(&as, DEF, 4 * P), 0);
	cr_assert_eq(aspace_map(&as, 0, 0, 5 * P, 0), (long)(DEF + 12 * P));
	cr_assert_eq(aspace_map(&as, 0, 0, 3 * P, 0), (long)DEF);
	cr_assert_eq(aspace_map(&as, 0, 0, P, 0), (long)(DEF + 3 * P));
	/* Heap-area addresses are never chosen. */
	cr_assert_eq(aspace_brk(&as, 0), IMG_END);
}

Test(aspace, mappings_without_an_address_skip_a_stack_guard_page)
{
	setup_empty();
	cr_assert_eq(aspace_init_stack(&as, DEF + 8 * P, 4, 1), 0); /* guard at DEF + 3 pages */
	cr_assert_eq(aspace_map(&as, 0, 0, 2 * P, 0), (long)DEF);
	cr_assert_eq(aspace_map(&as, 0, 0, P, 0), (long)(DEF + 2 * P));
	cr_assert_eq(aspace_map(&as, 0, 0, P, 0), (long)(DEF + 8 * P));
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ map with phys */

Test(aspace, map_of_device_memory_maps_every_page_uncached_and_never_zeroes_it)
{
	setup();
	aspace_set_phys_policy(test_policy);
	memset(phys_to_virt(DEV_BASE), 0x5a, 4 * P);
	size_t before = free_pages();

	long v = aspace_map(&as, DEV_BASE, 0, 4 * P, VM_WRITE);
	cr_assert_eq(v, (long)DEF);
	cr_assert_eq(asked_phys, DEV_BASE);
	cr_assert_eq(asked_npages, 4);
	for (size_t i = 0; i < 4; i++) {
		paddr_t pa;
		unsigned flags;
		cr_assert(mapped(v + i * P, &pa, &flags));
		cr_assert_eq(pa, DEV_BASE + i * P);
		cr_assert_eq(flags, VM_USER | VM_WRITE | VM_UNCACHED);
	}
	cr_assert_eq(*(uint8_t *)phys_to_virt(DEV_BASE + 3 * P + 7), 0x5a);
	cr_assert_eq(stats().backed[REGION_DEVICE], 4);
	cr_assert_eq(stats().reserved[REGION_DEVICE], 4);
	const struct region *r = region_holding(v);
	cr_assert_eq(r->kind, REGION_DEVICE);
	cr_assert_eq(r->phys, DEV_BASE);
	cr_assert_eq(r->owns_phys, 0);

	long wc = aspace_map(&as, DEV_BASE + 8 * P, 0, P, VM_WRITE | VM_WRITE_COMBINING);
	unsigned flags;
	cr_assert(mapped(wc, NULL, &flags));
	cr_assert_eq(flags, VM_USER | VM_WRITE | VM_WRITE_COMBINING);

	/* The same device pages may be mapped twice; unmapping never frees them
	 * (pfree of a page palloc does not manage would panic). */
	cr_assert_gt(aspace_map(&as, DEV_BASE, 0, P, 0), 0);
	cr_assert_eq(aspace_unmap(&as, v, 4 * P), 0);
	cr_assert(!mapped(v, NULL, NULL));
	cr_assert_eq(free_pages() + 3, before); /* the page tables stay */
	destroy_and_check_all_returned();
}

Test(aspace, map_of_ram_claims_zeroes_and_gives_back_the_pages)
{
	setup();
	aspace_set_phys_policy(test_policy);
	const paddr_t ram = CLAIM_LO;
	memset(phys_to_virt(ram), 0xee, 4 * P);
	size_t before = free_pages();

	long v = aspace_map(&as, ram, 0, 4 * P, VM_WRITE);
	cr_assert_eq(v, (long)DEF);
	for (size_t i = 0; i < 4; i++) {
		paddr_t pa;
		unsigned flags;
		cr_assert(mapped(v + i * P, &pa, &flags));
		cr_assert_eq(pa, ram + i * P);
		cr_assert_eq(flags, VM_USER | VM_WRITE);
		const uint8_t *bytes = phys_to_virt(pa);
		for (size_t b = 0; b < P; b++)
			cr_assert_eq(bytes[b], 0);
	}
	cr_assert_eq(region_holding(v)->owns_phys, 1);
	cr_assert_eq(before - free_pages(), 4 + 3); /* the pages and three tables */
	cr_assert_eq(palloc_claim(ram + 2 * P, 1), -EBUSY);
	cr_assert_eq(aspace_map(&as, ram + 3 * P, 0, 2 * P, 0), -EBUSY);
	cr_assert_eq(stats().reserved[REGION_DEVICE], 4);

	/* Unmapping gives them back, including from a split. */
	cr_assert_eq(aspace_unmap(&as, v + P, P), 0);
	cr_assert_eq(palloc_claim(ram + P, 1), 0);
	pfree(ram + P, 1);
	cr_assert_eq(aspace_unmap(&as, v, P), 0);
	cr_assert_eq(aspace_unmap(&as, v + 2 * P, 2 * P), 0);
	cr_assert_eq(palloc_claim(ram, 4), 0);
	pfree(ram, 4);
	cr_assert_eq(stats().reserved[REGION_DEVICE], 0);
	destroy_and_check_all_returned();
}

Test(aspace, map_of_allocated_ram_is_ebusy_and_changes_nothing)
{
	setup();
	aspace_set_phys_policy(test_policy);
	paddr_t used = palloc(1);
	size_t before = free_pages(), n = nregions();

	cr_assert_eq(aspace_map(&as, used - P, 0, 3 * P, VM_WRITE), -EBUSY);
	cr_assert_eq(nregions(), n);
	cr_assert_eq(free_pages(), before);
	/* The virtual range was given back: the next mapping gets it. */
	cr_assert_eq(aspace_map(&as, 0, 0, P, 0), (long)DEF);
	/* RAM the policy calls RAM but palloc does not manage (its metadata). */
	cr_assert_eq(aspace_map(&as, MM_TEST_RAM_END - P, 0, P, 0), -EPERM);
}

Test(aspace, map_of_forbidden_memory_or_without_a_policy_is_eperm)
{
	setup();
	size_t n = nregions();

	cr_assert_eq(aspace_map(&as, DEV_BASE, 0, P, VM_WRITE), -EPERM); /* no policy */
	aspace_set_phys_policy(forbid_all);
	cr_assert_eq(aspace_map(&as, DEV_BASE, 0, P, VM_WRITE), -EPERM);
	aspace_set_phys_policy(test_policy);
	cr_assert_eq(aspace_map(&as, DEV_END - P, 0, 2 * P, VM_WRITE), -EPERM); /* straddles */
	cr_assert_eq(asked_phys, DEV_END - P);
	cr_assert_eq(asked_npages, 2);
	cr_assert_eq(aspace_map(&as, 0x8000000ull + (64ull << 20), 0, P, 0), -EPERM);
	cr_assert_eq(nregions(), n);
	aspace_set_phys_policy(NULL);
	cr_assert_eq(aspace_map(&as, DEV_BASE, 0, P, VM_WRITE), -EPERM);
}

/* ------------------------------------------------------------ unmap */

Test(aspace, unmap_in_the_middle_splits_the_region)
{
	setup();
	long v = aspace_map(&as, 0, 0, 8 * P, VM_WRITE);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(aspace_fault(&as, v + i * P, ASPACE_ACCESS_WRITE), 0);
	size_t before = free_pages(), n = nregions();

	cr_assert_eq(aspace_unmap(&as, v + 3 * P, 2 * P), 0);
	cr_assert_eq(free_pages(), before + 2);
	cr_assert_eq(nregions(), n + 1);
	const struct region *lo = region_holding(v), *hi = region_holding(v + 5 * P);
	cr_assert_eq(lo->base, v);
	cr_assert_eq(lo->npages, 3);
	cr_assert_eq(lo->backed, 3);
	cr_assert_eq(hi->base, v + 5 * P);
	cr_assert_eq(hi->npages, 3);
	cr_assert_eq(hi->backed, 3);
	cr_assert_eq(lo->next, hi);
	cr_assert_null(region_holding(v + 3 * P));
	cr_assert(!mapped(v + 3 * P, NULL, NULL) && !mapped(v + 4 * P, NULL, NULL));
	cr_assert(mapped(v + 2 * P, NULL, NULL) && mapped(v + 5 * P, NULL, NULL));
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(stats().backed[REGION_MAPPING], 6);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 6);
	/* The hole is free again for the next mapping. */
	cr_assert_eq(aspace_map(&as, 0, 0, 2 * P, 0), (long)(v + 3 * P));
	/* The ends: the region shrinks from either side. */
	cr_assert_eq(aspace_unmap(&as, v, P), 0);
	cr_assert_eq(region_holding(v + P)->base, v + P);
	cr_assert_eq(region_holding(v + P)->backed, 2);
	cr_assert_eq(aspace_unmap(&as, v + 7 * P, P), 0);
	cr_assert_eq(region_holding(v + 5 * P)->npages, 2);
	cr_assert_eq(region_holding(v + 5 * P)->backed, 2);
	destroy_and_check_all_returned();
}

Test(aspace, unmap_in_the_middle_of_a_device_region_keeps_the_physical_offsets)
{
	setup();
	aspace_set_phys_policy(test_policy);
	long v = aspace_map(&as, DEV_BASE, 0, 8 * P, VM_WRITE);

	cr_assert_eq(aspace_unmap(&as, v + 2 * P, 3 * P), 0);
	const struct region *hi = region_holding(v + 5 * P);
	cr_assert_eq(hi->phys, DEV_BASE + 5 * P);
	cr_assert_eq(hi->backed, 3);
	cr_assert_eq(region_holding(v)->backed, 2);
	cr_assert_eq(aspace_unmap(&as, v + 5 * P, P), 0);
	hi = region_holding(v + 6 * P);
	cr_assert_eq(hi->phys, DEV_BASE + 6 * P);
	paddr_t pa;
	cr_assert(mapped(v + 7 * P, &pa, NULL));
	cr_assert_eq(pa, DEV_BASE + 7 * P);
	cr_assert_eq(stats().backed[REGION_DEVICE], 4);
	destroy_and_check_all_returned();
}

Test(aspace, unmap_of_a_heap_stack_image_or_straddling_range_is_einval)
{
	setup();
	cr_assert_eq(aspace_brk(&as, IMG_END + 4 * P), IMG_END + 4 * P);
	long a = aspace_map(&as, 0, 0, 2 * P, VM_WRITE);
	long b = aspace_map(&as, 0, 0, 2 * P, VM_WRITE);
	cr_assert_eq(b, a + 2 * P);
	struct aspace_stats st = stats();
	size_t n = nregions();

	cr_assert_eq(aspace_unmap(&as, IMG_END, P), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, TOP - P, P), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, IMG_BASE, P), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, a + P, 2 * P), -EINVAL); /* two regions */
	cr_assert_eq(aspace_unmap(&as, a, 5 * P), -EINVAL);	/* past the end */
	cr_assert_eq(aspace_unmap(&as, a + 8, P), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, a, P + 8), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, a, 0), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, b + 2 * P, P), -EINVAL); /* nothing there */
	cr_assert_eq(aspace_unmap(&as, VM_KERNEL_HALF, P), -EINVAL);
	cr_assert_eq(aspace_unmap(&as, VM_USER_TOP - P, UINT64_MAX - P), -EINVAL);
	cr_assert_eq(nregions(), n);
	struct aspace_stats now = stats();
	cr_assert_eq(memcmp(st.reserved, now.reserved, sizeof(st.reserved)), 0);
	cr_assert_eq(memcmp(st.backed, now.backed, sizeof(st.backed)), 0);
}

/* ------------------------------------------------------------ the kernel's reserve */

Test(aspace, faults_stop_at_the_kernel_reserve)
{
	setup();
	long v = aspace_map(&as, 0, 0, 64 * P, VM_WRITE);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), 0); /* makes the tables */

	/* Leave free only the reserve and the page tables a fault may need. */
	size_t keep = ASPACE_KERNEL_RESERVE_PAGES + 3;
	size_t ntaken = free_pages() - keep;
	paddr_t *taken = malloc(ntaken * sizeof(*taken));
	for (size_t i = 0; i < ntaken; i++) {
		taken[i] = palloc(1);
		cr_assert_neq(taken[i], 0);
	}
	cr_assert_eq(free_pages(), keep);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), -ENOMEM);
	cr_assert_eq(aspace_fault(&as, TOP - 5 * P, ASPACE_ACCESS_WRITE), -ENOMEM);
	cr_assert_eq(free_pages(), keep);
	cr_assert_geq(free_pages(), ASPACE_KERNEL_RESERVE_PAGES);
	cr_assert(!mapped(v + P, NULL, NULL));

	/* Nor can RAM be claimed or a stack backed from the reserve. */
	aspace_set_phys_policy(test_policy);
	cr_assert_eq(aspace_map(&as, CLAIM_LO, 0, P, VM_WRITE), -ENOMEM);
	cr_assert_eq(aspace_init_stack(&as, TOP, 4, 1), -EEXIST);
	cr_assert_eq(free_pages(), keep);

	/* One page more, and the fault goes through. */
	pfree(taken[--ntaken], 1);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(free_pages(), ASPACE_KERNEL_RESERVE_PAGES + 3);
	cr_assert_eq(stats().backed[REGION_MAPPING], 2);
	for (size_t i = 0; i < ntaken; i++)
		pfree(taken[i], 1);
	free(taken);
	destroy_and_check_all_returned();
}

Test(aspace, stack_init_without_memory_keeps_nothing)
{
	setup_empty();
	size_t keep = ASPACE_KERNEL_RESERVE_PAGES + 8;
	size_t ntaken = free_pages() - keep;
	paddr_t run = palloc(ntaken);
	cr_assert_neq(run, 0);
	size_t before = free_pages();
	struct valloc_stats vs0, vs1;
	valloc_get_stats(&as.ctx, &vs0);

	cr_assert_eq(aspace_init_stack(&as, TOP, 64, 16), -ENOMEM);
	cr_assert_null(as.stack);
	cr_assert_null(as.regions);
	valloc_get_stats(&as.ctx, &vs1);
	cr_assert_eq(vs1.npages_free, vs0.npages_free);
	cr_assert_leq(before - free_pages(), 1); /* at most a kmalloc slab */
	cr_assert_eq(aspace_init_stack(&as, TOP, 64, 1), 0);
	pfree(run, ntaken);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ destroy */

Test(aspace, destroy_returns_every_page_and_every_record)
{
	setup();
	aspace_set_phys_policy(test_policy);
	cr_assert_eq(aspace_brk(&as, IMG_END + 8 * P), IMG_END + 8 * P);
	for (size_t i = 0; i < 8; i += 2)
		cr_assert_eq(aspace_fault(&as, IMG_END + i * P, ASPACE_ACCESS_WRITE), 0);
	long big = aspace_map(&as, 0, 0, 64ull << 20, VM_WRITE);
	for (size_t i = 0; i < 50; i++)
		cr_assert_eq(aspace_fault(&as, big + i * 301 * P, ASPACE_ACCESS_READ), 0);
	cr_assert_gt(aspace_map(&as, DEV_BASE, 0, 16 * P, VM_WRITE), 0);
	cr_assert_gt(aspace_map(&as, CLAIM_LO, 0x300000000ull, 16 * P, VM_WRITE), 0);
	cr_assert_eq(aspace_unmap(&as, 0x300000000ull + 4 * P, 2 * P), 0);
	for (size_t i = 0; i < 100; i++)
		cr_assert_eq(aspace_fault(&as, TOP - 1 - i * 7 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_lt(free_pages(), free_at_start - 200);
	destroy_and_check_all_returned();
	cr_assert_eq(as.regions, NULL);
	cr_assert_eq(as.ctx.root, 0);
}

Test(aspace, destroy_of_an_empty_address_space_returns_its_two_pages)
{
	setup_empty();
	cr_assert_eq(free_at_start - free_pages(), 2); /* PML4 and pool node page */
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ diagnostics */

Test(aspace, dump_shows_backed_and_demand_pages_in_the_xous_style, .init = cr_redirect_stdout)
{
	setup_app(64);
	cr_assert_eq(aspace_brk(&as, IMG_END + 4 * P), IMG_END + 4 * P);
	cr_assert_eq(aspace_fault(&as, IMG_END + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, IMG_END + 2 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_map(&as, 0, 0, 40 * P, 0), (long)DEF);
	paddr_t pa;
	cr_assert(mapped(IMG_END + P, &pa, NULL));
	aspace_dump(&as);
	fflush(stdout);

	FILE *f = cr_get_redirected_stdout();
	static char out[1 << 16];
	size_t len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = 0;
	char line[160];
	const char *expect[] = {
	    "solo:   image 0x400000-0x404000: 3 backed, 1 unmapped\n",
	    "solo:   heap 0x404000-0x408000 RW: 2 backed, 2 on demand\n",
	    "solo:   mapping 0x100000000000-0x100000028000 R: 0 backed, 40 on demand\n",
	    "solo:     ... 24 more pages\n",
	    "solo:   stack 0x7ffffffbf000-0x7ffffffff000 RW: 1 backed, 63 on demand\n",
	    "solo:         2 0000000000402000 -> 0000000000000000 (unmapped)\n",
	    "solo:         0 0000000000404000 -> 0000000000000000 (flags: R | W)\n",
	    "solo:        63 00007fffffffe000 -> ",
	    "solo:     ... 48 more pages\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++)
		cr_assert_not_null(strstr(out, expect[i]), "missing \"%s\" in:\n%s", expect[i],
				   out);
	snprintf(line, sizeof(line),
		 "solo:         1 0000000000405000 -> %016lx (flags: VALID | R | W | USER)\n", pa);
	cr_assert_not_null(strstr(out, line), "missing \"%s\" in:\n%s", line, out);
}

Test(aspace, dump_shows_object_mappings_and_borrowed_pages, .init = cr_redirect_stdout)
{
	setup_app(64);
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, P, 0);
	long w = aspace_map_object(&as, 0, P, 0, &o->obj, 0, 1);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), 0);
	paddr_t pa;
	cr_assert(mapped(v + P, &pa, NULL));
	aspace_dump(&as);
	fflush(stdout);

	FILE *f = cr_get_redirected_stdout();
	static char out[1 << 16];
	size_t len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = 0;
	char expect[4][200];
	snprintf(expect[0], sizeof(expect[0]),
		 "solo:   mapping %#lx-%#lx RW private object %#lx offset 0x1000: 2 backed, 2 on "
		 "demand\n",
		 (unsigned long)v, (unsigned long)v + 4 * P, (unsigned long)&o->obj);
	snprintf(
	    expect[1], sizeof(expect[1]),
	    "solo:   mapping %#lx-%#lx R shared object %#lx offset 0x0: 0 backed, 1 on demand\n",
	    (unsigned long)w, (unsigned long)w + P, (unsigned long)&o->obj);
	snprintf(expect[2], sizeof(expect[2]),
		 "solo:         0 %016lx -> %016lx (flags: VALID | R | USER | BORROWED)\n",
		 (unsigned long)v, (unsigned long)o->pages[1]);
	snprintf(expect[3], sizeof(expect[3]),
		 "solo:         1 %016lx -> %016lx (flags: VALID | R | W | USER)\n",
		 (unsigned long)v + P, (unsigned long)pa);
	for (size_t i = 0; i < ARRAY_SIZE(expect); i++)
		cr_assert_not_null(strstr(out, expect[i]), "missing \"%s\" in:\n%s", expect[i],
				   out);
	destroy_and_check_all_returned();
}

Test(aspace, stats_count_reserved_and_backed_pages_per_kind)
{
	setup_app(32);
	aspace_set_phys_policy(test_policy);
	cr_assert_eq(aspace_brk(&as, IMG_END + 3 * P), IMG_END + 3 * P);
	cr_assert_eq(aspace_fault(&as, IMG_END, ASPACE_ACCESS_READ), 0);
	cr_assert_gt(aspace_map(&as, 0, 0, 5 * P, 0), 0);
	cr_assert_gt(aspace_map(&as, DEV_BASE, 0, 2 * P, 0), 0);
	struct aspace_stats st = stats();

	const size_t reserved[REGION_KINDS] = {IMG_PAGES, 3, 5, 2, 32};
	const size_t backed[REGION_KINDS] = {3, 1, 0, 2, 1};
	for (int k = 0; k < REGION_KINDS; k++) {
		cr_assert_eq(st.reserved[k], reserved[k], "kind %d", k);
		cr_assert_eq(st.backed[k], backed[k], "kind %d", k);
	}
	cr_assert_eq(st.system_free_pages, free_pages());
}

/* ------------------------------------------------------------ randomized */

/* Page tables (below the PML4) and leaf pages of the user half, walking
 * the tables through the direct map; device leaves counted apart. */
struct walk {
	size_t tables, leaves, device_leaves;
};

static void walk_level(paddr_t table, int level, struct walk *w)
{
	const uint64_t *t = phys_to_virt(table);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		if (!(t[i] & PTE_PRESENT))
			continue;
		cr_assert(level == 0 || !(t[i] & PTE_LARGE), "a large page in the app's half");
		paddr_t pa = t[i] & PTE_ADDR_MASK;
		if (level == 0) {
			w->leaves++;
			w->device_leaves += pa >= DEV_BASE && pa < DEV_END;
		} else {
			w->tables++;
			walk_level(pa, level - 1, w);
		}
	}
}

static struct walk walk_user_half(void)
{
	struct walk w = {0};
	const uint64_t *pml4 = phys_to_virt(as.ctx.root);

	for (unsigned i = 0; i < PT_ENTRIES / 2; i++) {
		if (pml4[i] & PTE_PRESENT) {
			w.tables++;
			walk_level(pml4[i] & PTE_ADDR_MASK, 2, &w);
		}
	}
	return w;
}

/* Whether [base, + npages) meets a region (a stack with its guard page). */
static int model_taken(vaddr_t base, size_t npages)
{
	vaddr_t end = base + npages * P;

	for (const struct region *r = as.regions; r; r = r->next) {
		vaddr_t lo = r->base - (r->kind == REGION_STACK ? P : 0);
		vaddr_t hi = r->base + r->npages * P;
		if (r->npages && lo < end && base < hi)
			return 1;
	}
	return 0;
}

/* Whether a claimed-RAM region holds any of [phys, + npages). */
static int model_claimed(paddr_t phys, size_t npages)
{
	for (const struct region *r = as.regions; r; r = r->next) {
		if (r->owns_phys && r->phys < phys + npages * P && phys < r->phys + r->npages * P)
			return 1;
	}
	return 0;
}

static vaddr_t model_default_gap(size_t npages)
{
	for (vaddr_t v = DEF;; v += P) {
		if (!model_taken(v, npages))
			return v;
	}
}

/* The page-table flags a page of r must have (aspace.h): the region's, and
 * for an object's page in a private mapping never VM_WRITE. */
static unsigned model_page_flags(const struct region *r, int borrowed)
{
	unsigned f = r->flags;

	if (borrowed && !r->shared)
		f &= ~VM_WRITE;
	f = (f & ASPACE_NOACCESS) ? f & (VM_UNCACHED | VM_WRITE_COMBINING) : VM_USER | f;
	return borrowed ? f | VM_BORROWED : f;
}

static struct tobj *tobj_of(const struct region *r)
{
	return (struct tobj *)r->obj;
}

static uint64_t obj_index(const struct region *r, vaddr_t va)
{
	return (r->obj_off + (va - r->base)) / P;
}

/* Whether pa is a page of any test object. */
static int an_objects_page(paddr_t pa)
{
	for (size_t i = 0; i < ntobjs; i++) {
		for (size_t k = 0; k < TOBJ_MAX_PAGES; k++) {
			if (tobjs[i].pages[k] == pa)
				return 1;
		}
	}
	return 0;
}

static void check_invariants(int op)
{
	vaddr_t prev_end = 0;
	size_t regions_pages = 0, owned_backed = 0, device_backed = 0, borrowed_backed = 0;
	size_t backed_not_image = 0, marked = 0;
	int records[TOBJ_MAX] = {0};

	for (const struct region *r = as.regions; r; r = r->next) {
		cr_assert_eq(r->base % P, 0, "op %d", op);
		cr_assert_geq(r->base, VM_USER_BASE, "op %d", op);
		cr_assert(r->kind < REGION_KINDS, "op %d", op);
		if (r->npages) {
			cr_assert_geq(r->base, prev_end, "op %d: regions overlap at %#lx", op,
				      r->base);
			prev_end = r->base + r->npages * P;
		}
		if (r->obj)
			records[tobj_of(r) - tobjs]++;
		size_t n = 0, borrowed = 0;
		for (size_t i = 0; i < r->npages; i++) {
			vaddr_t va = r->base + i * P;
			paddr_t pa;
			unsigned flags;
			if (!mapped(va, &pa, &flags))
				continue;
			n++;
			borrowed += !!(flags & VM_BORROWED);
			if (flags & VM_LAZYFREE) {
				/* MADV_FREE marks only the app's own anonymous pages. */
				cr_assert(!r->obj && !r->shared && r->kind != REGION_IMAGE &&
					      r->kind != REGION_DEVICE,
					  "op %d: %#lx marked", op, va);
				marked++;
			}
			if (r->kind == REGION_DEVICE)
				cr_assert_eq(pa, r->phys + i * P, "op %d", op);
			if (r->kind != REGION_IMAGE)
				cr_assert_eq(flags & ~VM_LAZYFREE,
					     model_page_flags(r, flags & VM_BORROWED),
					     "op %d: %#lx flags %#x", op, va, flags);
			cr_assert(r->obj || !(flags & VM_BORROWED), "op %d", op);
			if (!r->obj)
				continue;
			/* Only pages inside the object are mapped (truncation
			 * took the others, copies too); a borrowed one is the
			 * object's page there, an owned one no object's. */
			cr_assert_lt(obj_index(r, va), tobj_npages(tobj_of(r)), "op %d: %#lx", op,
				     va);
			if (flags & VM_BORROWED)
				cr_assert_eq(pa, tobj_of(r)->pages[obj_index(r, va)], "op %d: %#lx",
					     op, va);
			else
				cr_assert(!an_objects_page(pa), "op %d: %#lx", op, va);
		}
		if (r->kind != REGION_IMAGE) {
			cr_assert_eq(r->backed, n, "op %d: %s region %#lx backed %zu, mapped %zu",
				     op, r->kind == REGION_DEVICE ? "device" : "demand", r->base,
				     r->backed, n);
			backed_not_image += n;
		}
		if (r->kind == REGION_DEVICE)
			cr_assert_eq(n, r->npages, "op %d", op);
		if (r->kind == REGION_DEVICE && !r->owns_phys)
			device_backed += n;
		else
			owned_backed += n - borrowed;
		borrowed_backed += borrowed;
		regions_pages += r->npages;
	}

	/* The lazy-free counts follow every mark and every entry that goes. */
	cr_assert_eq(as.lazy_pages, marked, "op %d: lazy_pages %zu, marked %zu", op, as.lazy_pages,
		     marked);
	cr_assert_eq(aspace_lazyfree_pages(), marked, "op %d", op);

	/* The running count (VmRSS, VmHWM) follows every change. */
	cr_assert_eq(as.backed_now, backed_not_image, "op %d: backed_now %zu, regions %zu", op,
		     as.backed_now, backed_not_image);
	cr_assert_geq(as.backed_peak, as.backed_now, "op %d", op);

	/* No page is mapped outside the regions. */
	struct walk w = walk_user_half();
	cr_assert_eq(w.leaves, owned_backed + device_backed + borrowed_backed,
		     "op %d: stray mappings", op);
	cr_assert_eq(w.device_leaves, device_backed, "op %d", op);

	/* Each record over an object holds it once. */
	for (size_t i = 0; i < ntobjs; i++)
		cr_assert_eq(tobjs[i].holds - tobjs[i].releases, records[i], "op %d: object %zu",
			     op, i);

	/* The pool holds exactly the regions and the stack's guard page. */
	struct valloc_stats vs;
	valloc_get_stats(&as.ctx, &vs);
	cr_assert_eq(valloc_check(&as.ctx), 0, "op %d", op);
	cr_assert_eq(vs.npages_lost, 0);
	cr_assert_eq((vs.end - vs.base) / P - vs.npages_free, regions_pages + 1, "op %d", op);

	/* Every page palloc lacks is accounted for: PML4, tables, pool nodes,
	 * kmalloc's pages, the frames the app owns, the objects' pages. */
	size_t used = 1 + w.tables + vs.nnode_pages +
		      (mm_test_kmalloc_stats().pages_held - kmalloc_held_at_start) + owned_backed +
		      tobj_pages_made();
	cr_assert_eq(free_at_start - free_pages(), used, "op %d: %zu pages used, %zu accounted", op,
		     free_at_start - free_pages(), used);
	cr_assert_eq(palloc_check(), 0, "op %d", op);
}

static const unsigned map_flag_choices[] = {0, VM_WRITE, VM_EXEC, VM_WRITE | VM_UNCACHED,
					    VM_WRITE | VM_WRITE_COMBINING};

/* An object mapping: one of the two objects, shared or private, at an
 * offset that may reach past its end. */
static void random_map_object(int op, size_t npages, vaddr_t virt)
{
	static const unsigned choices[] = {0, VM_WRITE, VM_WRITE, VM_EXEC, ASPACE_NOACCESS};
	struct tobj *o = &tobjs[mm_test_random_below(2)];
	uint64_t off = mm_test_random_below(8) * P;
	int shared = mm_test_random_below(2);
	unsigned flags = choices[mm_test_random_below(ARRAY_SIZE(choices))];
	long expect = virt && model_taken(virt, npages)
			  ? -EEXIST
			  : (long)(virt ? virt : model_default_gap(npages));

	long got = aspace_map_object(&as, virt, npages * P, flags, &o->obj, off, shared);
	cr_assert_eq(got, expect, "op %d: map_object(%#lx, %zu pages) = %ld, expected %ld", op,
		     virt, npages, got, expect);
}

static void random_map(int op)
{
	size_t npages = 1 + mm_test_random_below(24);
	vaddr_t virt = mm_test_random_below(10) < 7 ? 0 : DEF + mm_test_random_below(400) * P;
	unsigned flags = map_flag_choices[mm_test_random_below(ARRAY_SIZE(map_flag_choices))];
	paddr_t phys = 0;
	size_t r = mm_test_random_below(10);

	if (r == 0)
		phys = DEV_BASE + mm_test_random_below(DEV_PAGES) * P; /* may run past the window */
	else if (r == 1)
		phys = CLAIM_LO + mm_test_random_below(512) * P;
	else if (r < 4) {
		random_map_object(op, npages, virt);
		return;
	}

	long expect;
	if (phys >= DEV_BASE && npages > (DEV_END - phys) / P)
		expect = -EPERM;
	else if (virt && model_taken(virt, npages))
		expect = -EEXIST;
	else if (phys >= CLAIM_LO && model_claimed(phys, npages))
		expect = -EBUSY;
	else
		expect = (long)(virt ? virt : model_default_gap(npages));

	long got = aspace_map(&as, phys, virt, npages * P, flags);
	cr_assert_eq(got, expect, "op %d: map(%#lx, %#lx, %zu pages) = %ld, expected %ld", op, phys,
		     virt, npages, got, expect);
}

static void random_unmap(int op)
{
	size_t n = nregions(), k = mm_test_random_below(n);
	const struct region *r = as.regions;

	while (k--)
		r = r->next;
	vaddr_t base;
	size_t npages;
	long expect = 0;
	if (r->npages && mm_test_random_below(10) < 8) {
		size_t first = mm_test_random_below(r->npages);
		base = r->base + first * P;
		npages = 1 + mm_test_random_below(r->npages - first);
		if (r->kind != REGION_MAPPING && r->kind != REGION_DEVICE)
			expect = -EINVAL;
	} else {
		/* Anywhere near the default region: valid only inside one region. */
		base = DEF + mm_test_random_below(400) * P;
		npages = 1 + mm_test_random_below(8);
		const struct region *h = region_holding(base);
		if (!h || (h->kind != REGION_MAPPING && h->kind != REGION_DEVICE) ||
		    base + npages * P > h->base + h->npages * P)
			expect = -EINVAL;
	}
	long got = aspace_unmap(&as, base, npages * P);
	cr_assert_eq(got, expect, "op %d: unmap(%#lx, %zu pages) = %ld", op, base, npages, got);
}

static void random_fault(int op)
{
	vaddr_t addr;
	size_t n = nregions(), k = mm_test_random_below(n);
	const struct region *r = as.regions;

	while (k--)
		r = r->next;
	if (mm_test_random_below(2)) {
		/* Half the time an object mapping, if there is one: the pages
		 * of such mappings go through more states. */
		size_t nobj = 0;
		for (const struct region *q = as.regions; q; q = q->next)
			nobj += !!q->obj;
		k = nobj ? mm_test_random_below(nobj) + 1 : 0;
		for (const struct region *q = as.regions; q && k; q = q->next) {
			if (q->obj && !--k)
				r = q;
		}
	}
	if (r->npages && mm_test_random_below(10) < 8)
		addr = r->base + mm_test_random_below(r->npages * P);
	else
		addr = DEF + mm_test_random_below(400 * P);
	const unsigned accesses[] = {ASPACE_ACCESS_READ, ASPACE_ACCESS_WRITE, ASPACE_ACCESS_EXEC};
	unsigned access = accesses[mm_test_random_below(3)];
	unsigned f = 0;
	int is_mapped = mapped(addr & ~(P - 1), NULL, &f);
	int present = is_mapped && mm_test_random_below(2);
	if (is_mapped && (f & VM_BORROWED) && mm_test_random_below(4)) {
		access = ASPACE_ACCESS_WRITE; /* a copy on write, where allowed */
		present = 1;
	}
	if (present)
		access |= ASPACE_ACCESS_PRESENT;

	const struct region *h = region_holding(addr);
	int expect = 0;
	if (h && (h->flags & ASPACE_NOACCESS))
		expect = -EACCES;
	else if (!h || h->kind == REGION_IMAGE || h->kind == REGION_DEVICE ||
		 ((access & ASPACE_ACCESS_WRITE) && !(h->flags & VM_WRITE)) ||
		 ((access & ASPACE_ACCESS_EXEC) && !(h->flags & VM_EXEC)))
		expect = -EFAULT;
	else if (present) /* only copy on write fixes a protection fault */
		expect =
		    (access & ASPACE_ACCESS_WRITE) && (f & VM_BORROWED) && !h->shared ? 0 : -EFAULT;
	else if (h->obj && !mapped(addr & ~(P - 1), NULL, NULL) &&
		 obj_index(h, addr) >= tobj_npages(tobj_of(h)))
		expect = -EIO;
	int got = aspace_fault(&as, addr, access);
	cr_assert_eq(got, expect, "op %d: fault(%#lx, %#x) = %d", op, addr, access, got);
	if (!got)
		cr_assert(mapped(addr & ~(P - 1), NULL, &f), "op %d", op);
	if (!got && present)
		cr_assert(!(f & VM_BORROWED) && (f & VM_WRITE), "op %d: not copied", op);
}

static void random_brk(int op)
{
	const struct region *h = as.heap;
	vaddr_t end = h->base + h->npages * P;
	vaddr_t want =
	    mm_test_random_below(8) == 0 ? 0 : IMG_END - 2 * P + mm_test_random_below(48 * P);
	vaddr_t expect = end;

	if (want >= h->base) {
		vaddr_t aligned = ALIGN_UP(want, P);
		if (aligned <= end || !model_taken(end, (aligned - end) / P))
			expect = aligned;
	}
	vaddr_t got = aspace_brk(&as, want);
	cr_assert_eq(got, expect, "op %d: brk(%#lx) = %#lx, expected %#lx", op, want, got, expect);
}

/* A fixed mapping within the heap's reach, so that brk runs into some. */
static void random_wall(int op)
{
	vaddr_t virt = IMG_END + (20 + mm_test_random_below(30)) * P;
	long expect = model_taken(virt, 1) ? -EEXIST : (long)virt;
	long got = aspace_map(&as, 0, virt, P, 0);

	cr_assert_eq(got, expect, "op %d: map at %#lx = %ld", op, virt, got);
}

/* mremap of part of a random mapping: whatever it answers, the invariants
 * must hold; a success leaves a MAPPING of the new size at the result. */
static void random_remap(int op)
{
	size_t n = nregions(), k = mm_test_random_below(n);
	const struct region *r = as.regions;

	while (k--)
		r = r->next;
	if (!r->npages)
		return;
	size_t first = mm_test_random_below(r->npages);
	vaddr_t old = r->base + first * P;
	size_t old_n = 1 + mm_test_random_below(r->npages - first);
	size_t new_n = 1 + mm_test_random_below(2 * old_n + 4);
	unsigned flags = (unsigned)mm_test_random_below(4); /* FIXED alone is refused */
	vaddr_t dest = DEF + mm_test_random_below(400) * P;
	int mapping = r->kind == REGION_MAPPING;

	long got = aspace_remap(&as, old, old_n * P, new_n * P, flags, dest);
	if (!mapping && flags != ASPACE_REMAP_FIXED && r->kind != REGION_DEVICE &&
	    !(flags & ASPACE_REMAP_MAYMOVE) && new_n >= old_n) {
		/* Linux answers a piece of one mapping so (aspace_remap). */
		cr_assert_eq(got, new_n == old_n ? (long)old : -ENOMEM, "op %d", op);
		return;
	}
	if (!mapping || flags == ASPACE_REMAP_FIXED) {
		cr_assert_eq(got, -EINVAL, "op %d", op);
		return;
	}
	if (got < 0) {
		cr_assert(got == -ENOMEM || got == -EINVAL, "op %d: remap = %ld", op, got);
		return;
	}
	const struct region *h = region_holding((vaddr_t)got);
	cr_assert(h && h->kind == REGION_MAPPING, "op %d", op);
	cr_assert_geq(h->base + h->npages * P, (vaddr_t)got + new_n * P, "op %d", op);
	if (flags & ASPACE_REMAP_FIXED)
		cr_assert_eq(got, (long)dest, "op %d", op);
}

/* Linux munmap anywhere near the default region: refused only over the
 * image, heap or stack; afterwards nothing is left in the range. */
static void random_munmap(int op)
{
	vaddr_t base = DEF - 8 * P + mm_test_random_below(420) * P;
	size_t npages = 1 + mm_test_random_below(40);
	vaddr_t end = base + npages * P;
	long expect = 0;

	for (const struct region *r = as.regions; r; r = r->next) {
		if (r->npages && r->base < end && base < r->base + r->npages * P &&
		    r->kind != REGION_MAPPING && r->kind != REGION_DEVICE)
			expect = -EINVAL;
	}
	long got = aspace_unmap_range(&as, base, npages * P);
	cr_assert_eq(got, expect, "op %d: munmap(%#lx, %zu pages) = %ld", op, base, npages, got);
	if (!got)
		cr_assert(!model_taken(base, npages), "op %d: something is left", op);
}

/* What mprotect or madvise over [base, end) must answer before changing
 * anything: the first hole (-ENOMEM) or refused kind (-EINVAL) met. */
static long model_covered(vaddr_t base, vaddr_t end, unsigned refused)
{
	for (vaddr_t at = base; at < end;) {
		const struct region *h = region_holding(at);
		if (!h)
			return -ENOMEM;
		if (refused & (1u << h->kind))
			return -EINVAL;
		at = h->base + h->npages * P;
	}
	return 0;
}

/* mprotect near the default region (the heap and stack are far away). */
static void random_protect(int op)
{
	static const unsigned choices[] = {0, VM_WRITE, VM_EXEC, ASPACE_NOACCESS,
					   VM_WRITE | VM_EXEC};
	vaddr_t base = DEF - 4 * P + mm_test_random_below(420) * P;
	size_t npages = 1 + mm_test_random_below(16);
	unsigned flags = choices[mm_test_random_below(ARRAY_SIZE(choices))];
	long expect = flags == (VM_WRITE | VM_EXEC)
			  ? -EACCES
			  : model_covered(base, base + npages * P, 1u << REGION_DEVICE);

	long got = aspace_protect(&as, base, npages * P, flags);
	cr_assert_eq(got, expect, "op %d: protect(%#lx, %zu pages, %#x) = %ld", op, base, npages,
		     flags, got);
	for (vaddr_t va = base; !got && va < base + npages * P; va += P)
		cr_assert_eq(region_holding(va)->flags & ~(VM_UNCACHED | VM_WRITE_COMBINING), flags,
			     "op %d", op);
}

static void random_dontneed(int op)
{
	vaddr_t base = DEF - 4 * P + mm_test_random_below(420) * P;
	size_t npages = 1 + mm_test_random_below(16);
	long expect =
	    model_covered(base, base + npages * P, (1u << REGION_DEVICE) | (1u << REGION_IMAGE));

	long got = aspace_dontneed(&as, base, npages * P);
	cr_assert_eq(got, expect, "op %d: dontneed(%#lx, %zu pages) = %ld", op, base, npages, got);
	for (vaddr_t va = base; !got && va < base + npages * P; va += P)
		cr_assert(!mapped(va, NULL, NULL), "op %d", op);
}

/* What MADV_FREE over [base, end) must answer, Linux's VMA walk: the
 * first region that refuses ends it with -EINVAL, a hole makes it -ENOMEM. */
static long model_free_lazily(vaddr_t base, vaddr_t end)
{
	long unmapped = 0;

	for (vaddr_t at = base; at < end;) {
		const struct region *h = NULL;
		for (const struct region *r = as.regions; r && !h; r = r->next) {
			if (r->npages && r->base + r->npages * P > at)
				h = r;
		}
		if (!h)
			return -ENOMEM;
		if (h->base > at) {
			unmapped = -ENOMEM;
			at = h->base;
			if (at >= end)
				break;
		}
		if (h->obj || h->shared || h->kind == REGION_IMAGE || h->kind == REGION_DEVICE)
			return -EINVAL;
		at = MIN(end, h->base + h->npages * P);
	}
	return unmapped;
}

/* MADV_FREE near the default region or over the heap. */
static void random_free_lazily(int op)
{
	vaddr_t base = mm_test_random_below(4) ? DEF - 4 * P + mm_test_random_below(420) * P
					       : IMG_END - P + mm_test_random_below(40) * P;
	size_t npages = 1 + mm_test_random_below(24);
	long expect = model_free_lazily(base, base + npages * P);

	long got = aspace_free_lazily(&as, base, npages * P);
	cr_assert_eq(got, expect, "op %d: free_lazily(%#lx, %zu pages) = %ld", op, base, npages,
		     got);
}

/* The app stores into a backed writable page of a random region (the CPU
 * would set the dirty bit: vm_copy_to_user does). */
static void random_store(int op)
{
	size_t n = nregions(), k = mm_test_random_below(n);
	const struct region *r = as.regions;

	while (k--)
		r = r->next;
	if (!r->npages || r->kind == REGION_IMAGE || r->kind == REGION_DEVICE)
		return;
	vaddr_t va = r->base + mm_test_random_below(r->npages) * P;
	unsigned f;
	if (!mapped(va, NULL, &f) || !(f & VM_WRITE) || !(f & VM_USER))
		return;
	uint8_t b = (uint8_t)op;
	cr_assert_eq(vm_copy_to_user(&as.ctx, va, &b, 1), 0, "op %d", op);
}

/* Memory runs short: some or all of the clean marked pages go. */
static void random_reclaim(int op)
{
	size_t before = free_pages();
	size_t got = palloc_reclaim(mm_test_random_below(2) ? SIZE_MAX : 1);

	cr_assert_eq(free_pages(), before + got, "op %d", op);
}

/* An object shrinks or grows (not always by whole pages). */
static void random_truncate(int op)
{
	struct tobj *o = &tobjs[mm_test_random_below(2)];
	uint64_t size = mm_test_random_below(24 * P + 1);

	(void)op;
	if (mm_test_random_below(2))
		size &= ~(uint64_t)(P - 1);
	tobj_truncate(o, size);
}

Test(aspace, random_operations_keep_regions_pages_and_counts_consistent)
{
	setup_app(64);
	aspace_set_phys_policy(test_policy);
	tobj_new(20 * P + 100);
	tobj_new(6 * P);
	mm_test_seed(0xa5ace5eed0001ull);
	check_invariants(-1);
	for (int op = 0; op < 4000; op++) {
		size_t r = mm_test_random_below(100);
		if (r < 20)
			random_map(op);
		else if (r < 40)
			random_unmap(op);
		else if (r < 76)
			random_fault(op);
		else if (r < 82)
			random_brk(op);
		else if (r < 85)
			random_remap(op);
		else if (r < 88)
			random_munmap(op);
		else if (r < 91)
			random_wall(op);
		else if (r < 95)
			random_protect(op);
		else if (r < 98)
			random_dontneed(op);
		else
			random_truncate(op);
		/* And lazy freeing beside all of it. */
		size_t l = mm_test_random_below(100);
		if (l < 15)
			random_free_lazily(op);
		else if (l < 22)
			random_store(op);
		else if (l < 25)
			random_reclaim(op);
		check_invariants(op);
	}
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ mprotect and madvise */

Test(aspace, protect_in_the_middle_splits_and_changes_backed_and_demand_pages)
{
	setup();
	long v = aspace_map(&as, 0, 0, 8 * P, VM_WRITE);
	for (size_t i = 0; i < 8; i += 2)
		cr_assert_eq(aspace_fault(&as, v + i * P, ASPACE_ACCESS_WRITE), 0);
	size_t n = nregions();

	cr_assert_eq(aspace_protect(&as, v + 2 * P, 3 * P, VM_EXEC), 0);
	cr_assert_eq(nregions(), n + 2);
	unsigned flags;
	cr_assert(mapped(v + 2 * P, NULL, &flags));
	cr_assert_eq(flags, VM_USER | VM_EXEC, "a backed page gets the new flags");
	cr_assert(mapped(v, NULL, &flags));
	cr_assert_eq(flags, VM_USER | VM_WRITE, "pages outside keep theirs");
	cr_assert_eq(region_holding(v + 2 * P)->npages, 3);
	cr_assert_eq(region_holding(v + 2 * P)->backed, 2);
	cr_assert_eq(region_holding(v)->backed, 1);
	cr_assert_eq(region_holding(v + 5 * P)->backed, 1);
	cr_assert_eq(stats().backed[REGION_MAPPING], 4);
	/* A demand page in the range comes with the new flags. */
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_EXEC), 0);
	/* And back to writable, across the three regions. */
	cr_assert_eq(aspace_protect(&as, v, 8 * P, VM_WRITE), 0);
	cr_assert(mapped(v + 2 * P, NULL, &flags));
	cr_assert_eq(flags, VM_USER | VM_WRITE);
	destroy_and_check_all_returned();
}

Test(aspace, protect_refuses_write_and_exec_holes_devices_and_heap_changes)
{
	setup();
	aspace_set_phys_policy(test_policy);
	long v = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	cr_assert_eq(aspace_protect(&as, v, P, VM_WRITE | VM_EXEC), -EACCES);
	cr_assert_eq(aspace_protect(&as, v, 5 * P, VM_WRITE), -ENOMEM, "a hole after it");
	cr_assert_eq(aspace_protect(&as, v + 1, P, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_protect(&as, v, 0, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_protect(&as, v, P, VM_UNCACHED), -EINVAL);
	long d = aspace_map(&as, DEV_BASE, 0, 2 * P, VM_WRITE);
	cr_assert_eq(aspace_protect(&as, d, P, 0), -EINVAL);
	cr_assert_eq(aspace_brk(&as, IMG_END + 4 * P), IMG_END + 4 * P);
	cr_assert_eq(aspace_protect(&as, IMG_END, P, VM_EXEC), -EINVAL);
	cr_assert_eq(aspace_protect(&as, IMG_END, P, VM_WRITE), 0, "the heap's own flags");
	destroy_and_check_all_returned();
}

Test(aspace, protect_of_image_pages_changes_each_mapped_page)
{
	setup();
	cr_assert_eq(aspace_protect(&as, IMG_BASE, IMG_PAGES * P, 0), 0);
	unsigned flags;
	cr_assert(mapped(IMG_BASE, NULL, &flags));
	cr_assert_eq(flags, VM_USER);
	cr_assert(mapped(IMG_BASE + 3 * P, NULL, &flags));
	cr_assert_eq(flags, VM_USER);
	cr_assert(!mapped(IMG_BASE + 2 * P, NULL, NULL), "the gap stays unmapped");
	destroy_and_check_all_returned();
}

Test(aspace, dontneed_frees_backed_pages_and_keeps_the_reservation)
{
	setup();
	long v = aspace_map(&as, 0, 0, 8 * P, VM_WRITE);
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(aspace_fault(&as, v + i * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_brk(&as, IMG_END + 2 * P), IMG_END + 2 * P);
	cr_assert_eq(aspace_fault(&as, IMG_END, ASPACE_ACCESS_WRITE), 0);
	size_t before = free_pages(), n = nregions();

	cr_assert_eq(aspace_dontneed(&as, v + 2 * P, 4 * P), 0);
	cr_assert_eq(free_pages(), before + 4);
	cr_assert_eq(nregions(), n);
	cr_assert(!mapped(v + 2 * P, NULL, NULL));
	cr_assert(mapped(v + 6 * P, NULL, NULL));
	cr_assert_eq(stats().backed[REGION_MAPPING], 4);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 8);
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_WRITE), 0, "still reserved");
	cr_assert_eq(aspace_dontneed(&as, IMG_END, 2 * P), 0);
	cr_assert_eq(stats().backed[REGION_HEAP], 0);
	cr_assert_eq(aspace_dontneed(&as, IMG_BASE, P), -EINVAL, "image pages are not anonymous");
	cr_assert_eq(aspace_dontneed(&as, v, 9 * P), -ENOMEM);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ PROT_NONE */

Test(aspace, a_noaccess_mapping_backs_nothing_and_every_access_is_efault)
{
	setup();
	long v = aspace_map(&as, 0, 0, 4 * P, ASPACE_NOACCESS);
	cr_assert_eq(v, (long)DEF);
	size_t before = free_pages();
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), -EACCES);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), -EACCES);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_EXEC), -EACCES);
	cr_assert_eq(free_pages(), before, "nothing backed");
	cr_assert_eq(stats().backed[REGION_MAPPING], 0);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 4);
	/* mprotect part of the reservation read/write: a guard on each side. */
	cr_assert_eq(aspace_protect(&as, v + P, 2 * P, VM_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), -EACCES);
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_READ), -EACCES);
	destroy_and_check_all_returned();
}

Test(aspace, protect_none_keeps_backed_pages_supervisor_only_with_their_data)
{
	setup();
	long v = aspace_map(&as, 0, 0, 2 * P, VM_WRITE);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), 0);
	paddr_t pa, pa2;
	unsigned flags;
	cr_assert(mapped(v, &pa, NULL));
	memset(phys_to_virt(pa), 0x5a, P);
	char byte = 0;

	cr_assert_eq(aspace_protect(&as, v, 2 * P, ASPACE_NOACCESS), 0);
	cr_assert(mapped(v, &pa2, &flags), "the frame stays");
	cr_assert_eq(pa2, pa);
	cr_assert_eq(flags, 0, "supervisor-only, read-only, NX");
	cr_assert_eq(vm_copy_from_user(&as.ctx, &byte, v, 1), -EFAULT);
	cr_assert_eq(vm_copy_to_user(&as.ctx, v, &byte, 1), -EFAULT);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ | ASPACE_ACCESS_PRESENT), -EACCES);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_READ), -EACCES);
	cr_assert(!mapped(v + P, NULL, NULL), "a demand page is not backed");
	cr_assert_eq(stats().backed[REGION_MAPPING], 1);

	cr_assert_eq(aspace_protect(&as, v, P, 0), 0);
	cr_assert(mapped(v, NULL, &flags));
	cr_assert_eq(flags, VM_USER);
	cr_assert_eq(vm_copy_from_user(&as.ctx, &byte, v + 7, 1), 0);
	cr_assert_eq(byte, 0x5a, "the data came back with the access");
	destroy_and_check_all_returned();
}

Test(aspace, noaccess_goes_alone_on_mappings_and_image_pages_only)
{
	setup();
	aspace_set_phys_policy(test_policy);
	cr_assert_eq(aspace_map(&as, 0, 0, P, ASPACE_NOACCESS | VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_map(&as, DEV_BASE, 0, P, ASPACE_NOACCESS), -EINVAL);
	long v = aspace_map(&as, 0, 0, P, VM_WRITE);
	cr_assert_eq(aspace_protect(&as, v, P, ASPACE_NOACCESS | VM_EXEC), -EINVAL);
	cr_assert_eq(aspace_brk(&as, IMG_END + P), IMG_END + P);
	cr_assert_eq(aspace_protect(&as, IMG_END, P, ASPACE_NOACCESS), -EINVAL, "the heap");
	cr_assert_eq(aspace_protect(&as, TOP - P, P, ASPACE_NOACCESS), -EINVAL, "the stack");
	cr_assert_eq(aspace_protect(&as, IMG_BASE, P, ASPACE_NOACCESS), 0);
	unsigned flags;
	cr_assert(mapped(IMG_BASE, NULL, &flags));
	cr_assert_eq(flags, 0);
	cr_assert_eq(aspace_fault(&as, IMG_BASE, ASPACE_ACCESS_READ | ASPACE_ACCESS_PRESENT),
		     -EACCES);
	cr_assert_eq(aspace_fault(&as, IMG_BASE + P, ASPACE_ACCESS_READ | ASPACE_ACCESS_PRESENT),
		     -EFAULT, "a page that kept its access");
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ object mappings */

#define OBJ_BYTES (2 * P + 100) /* two pages and a part */

/* The frame of va holds the object's bytes [off, + n) and zeroes after
 * them. */
static void assert_page_holds(const struct tobj *o, vaddr_t va, uint64_t off, size_t n)
{
	paddr_t pa;
	cr_assert(mapped(va, &pa, NULL), "%#lx not backed", va);
	const uint8_t *b = phys_to_virt(pa);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(b[i], tobj_byte(o, off + i), "%#lx: object byte %#lx", va, off + i);
	for (size_t i = n; i < P; i++)
		cr_assert_eq(b[i], 0, "%#lx: byte %zu past the end of the object", va, i);
}

/* Whether va maps the object's own page at index (borrowed), and with
 * exactly flags. */
static void assert_borrowed(const struct tobj *o, vaddr_t va, uint64_t index, unsigned flags)
{
	paddr_t pa;
	unsigned f;
	cr_assert(mapped(va, &pa, &f), "%#lx not backed", va);
	cr_assert_eq(pa, o->pages[index], "%#lx: not the object's page %lu", va, index);
	cr_assert_eq(f, flags | VM_BORROWED, "%#lx: flags %#x", va, f);
}

/* Whether va maps a page of the app's own (none of the object's), with
 * exactly flags. */
static void assert_owned(const struct tobj *o, vaddr_t va, unsigned flags)
{
	paddr_t pa;
	unsigned f;
	cr_assert(mapped(va, &pa, &f), "%#lx not backed", va);
	for (size_t i = 0; i < TOBJ_MAX_PAGES; i++)
		cr_assert_neq(pa, o->pages[i], "%#lx maps the object's page %zu", va, i);
	cr_assert_eq(f, flags, "%#lx: flags %#x", va, f);
}

/* Region records over o now. */
static int records_over(const struct tobj *o)
{
	int n = 0;
	for (const struct region *r = as.regions; r; r = r->next)
		n += r->obj == &o->obj;
	return n;
}

Test(aspace, object_pages_are_mapped_on_touch_the_tail_zeroed_and_past_the_end_eio)
{
	setup();
	struct tobj *o = tobj_new(OBJ_BYTES);
	long v = aspace_map_object(&as, 0, 4 * P, 0, &o->obj, 0, 0);
	cr_assert_eq(v, (long)DEF);
	cr_assert_eq(stats().backed[REGION_MAPPING], 0, "nothing is filled at map time");
	cr_assert_eq(o->gets, 0);
	cr_assert_eq(o->holds, 1);

	cr_assert_eq(aspace_fault(&as, v + P + 5, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v + P, P, P);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v + 2 * P, 2 * P, 100);
	assert_borrowed(o, v + 2 * P, 2, VM_USER);
	size_t before = free_pages();
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_READ), -EIO);
	cr_assert(!mapped(v + 3 * P, NULL, NULL));
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), -EFAULT, "read-only mapping");
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT,
		     "no copy on write in a read-only mapping");
	cr_assert_eq(stats().backed[REGION_MAPPING], 2);
	cr_assert_eq(o->write_gets, 0);

	long w = aspace_map_object(&as, 0, P, VM_WRITE, &o->obj, P, 0);
	cr_assert_eq(aspace_fault(&as, w, ASPACE_ACCESS_WRITE), 0);
	assert_page_holds(o, w, P, P);
	assert_owned(o, w, VM_USER | VM_WRITE);
	cr_assert_eq(o->holds, 2);
	destroy_and_check_all_returned();
}

Test(aspace, map_object_checks_the_offset_and_the_flags)
{
	setup();
	struct tobj *o = tobj_new(OBJ_BYTES);
	size_t before = free_pages();
	cr_assert_eq(aspace_map_object(&as, 0, P, 0, &o->obj, 100, 0), -EINVAL);
	cr_assert_eq(aspace_map_object(&as, 0, 2 * P, 0, &o->obj, UINT64_MAX & ~(P - 1), 0),
		     -EOVERFLOW);
	cr_assert_eq(aspace_map_object(&as, 0, 0, 0, &o->obj, 0, 0), -EINVAL);
	cr_assert_eq(aspace_map_object(&as, 0, P, VM_WRITE | VM_UNCACHED, &o->obj, 0, 1), -EINVAL);
	cr_assert_eq(aspace_map_object(&as, 0, P, VM_WRITE_COMBINING, &o->obj, 0, 0), -EINVAL);
	cr_assert_eq(aspace_map_object(&as, 0, P, VM_WRITE | VM_EXEC, &o->obj, 0, 0), -EINVAL);
	cr_assert_eq(aspace_map_object(&as, 0, P, 0, NULL, 0, 0), -EINVAL);
	cr_assert_eq(aspace_map_object(&as, IMG_BASE, P, 0, &o->obj, 0, 0), -EEXIST);
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(o->holds, 0, "a failed map holds nothing");
	/* An offset past the end maps; every page is past the end. */
	long v = aspace_map_object(&as, 0, P, 0, &o->obj, 8 * P, 0);
	cr_assert_gt(v, 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), -EIO);
	/* Up to the last page below 2^64 is fine. */
	cr_assert_eq(aspace_map_object(&as, 0, P, 0, &o->obj, UINT64_MAX & ~(P - 1), 1),
		     -EOVERFLOW);
	cr_assert_gt(aspace_map_object(&as, 0, P, 0, &o->obj, (UINT64_MAX & ~(P - 1)) - P, 1), 0);
	destroy_and_check_all_returned();
}

Test(aspace, splits_by_unmap_and_protect_keep_each_page_on_its_object_offset)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	cr_assert_eq(aspace_unmap(&as, v + P, P), 0, "a split: the tail keeps offset 2P");
	cr_assert_eq(o->holds - o->releases, 2);
	cr_assert_eq(records_over(o), 2);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v + 2 * P, 2 * P, P);
	cr_assert_eq(aspace_unmap(&as, v + 2 * P, P), 0, "the base moves up to 3P");
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v + 3 * P, 3 * P, P);
	cr_assert_eq(aspace_unmap(&as, v, P), 0, "a record goes: its hold with it");
	cr_assert_eq(o->holds - o->releases, 1);

	long w = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	cr_assert_eq(aspace_protect(&as, w + P, 2 * P, 0), 0);
	cr_assert_eq(records_over(o), 4);
	cr_assert_eq(o->holds - o->releases, 4);
	cr_assert_eq(aspace_fault(&as, w + 2 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, w + 2 * P, 2 * P, P);
	cr_assert_eq(aspace_fault(&as, w + 3 * P, ASPACE_ACCESS_WRITE), 0);
	assert_page_holds(o, w + 3 * P, 3 * P, P);
	destroy_and_check_all_returned();
}

Test(aspace, private_writes_stay_private_and_dontneed_brings_the_objects_bytes_back)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, P, VM_WRITE, &o->obj, 0, 0);
	long w = aspace_map_object(&as, 0, P, 0, &o->obj, 0, 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), 0);
	paddr_t pa;
	cr_assert(mapped(v, &pa, NULL));
	memset(phys_to_virt(pa), 0xee, 16); /* the app writes */
	cr_assert_eq(aspace_fault(&as, w, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, w, 0, P);
	cr_assert_eq(tobj_page(o, 0)[0], tobj_byte(o, 0), "the object is untouched");
	size_t before = free_pages();
	cr_assert_eq(aspace_dontneed(&as, v, P), 0);
	cr_assert_eq(free_pages(), before + 1, "the private copy was freed");
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v, 0, P);
	assert_borrowed(o, v, 0, VM_USER);
	/* Dontneed of a borrowed page only unmaps it. */
	before = free_pages();
	cr_assert_eq(aspace_dontneed(&as, w, P), 0);
	cr_assert(!mapped(w, NULL, NULL));
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(aspace_fault(&as, w, ASPACE_ACCESS_READ), 0);
	assert_borrowed(o, w, 0, VM_USER);
	destroy_and_check_all_returned();
}

Test(aspace, a_shared_mapping_maps_the_objects_very_page_and_both_see_each_others_writes)
{
	setup();
	struct tobj *o = tobj_new(OBJ_BYTES);
	long v = aspace_map_object(&as, 0, 3 * P, VM_WRITE, &o->obj, 0, 1);
	cr_assert_eq(aspace_fault(&as, v + 5, ASPACE_ACCESS_READ), 0);
	assert_borrowed(o, v, 0, VM_USER | VM_WRITE);
	cr_assert_eq(o->write_gets, 1, "a writable shared mapping asks with write");
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_WRITE), 0);
	assert_borrowed(o, v + 2 * P, 2, VM_USER | VM_WRITE);
	cr_assert_eq(stats().backed[REGION_MAPPING], 2);

	/* The app's stores (here the kernel's user copy, which goes by the
	 * page tables) land in the object, and the object's in the app. */
	char buf[8] = "written";
	cr_assert_eq(vm_copy_to_user(&as.ctx, v + 10, buf, sizeof(buf)), 0);
	cr_assert_eq(memcmp(tobj_page(o, 0) + 10, "written", 8), 0);
	memcpy(tobj_page(o, 2) + 50, "object", 7);
	cr_assert_eq(vm_copy_from_user(&as.ctx, buf, v + 2 * P + 50, 7), 0);
	cr_assert_str_eq(buf, "object");
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT,
		     "not mapped: no protection fault to fix");

	/* A read-only shared mapping asks without write and maps read-only. */
	long r = aspace_map_object(&as, 0, P, 0, &o->obj, 0, 1);
	int writes = o->write_gets;
	cr_assert_eq(aspace_fault(&as, r, ASPACE_ACCESS_READ), 0);
	assert_borrowed(o, r, 0, VM_USER);
	cr_assert_eq(o->write_gets, writes);
	cr_assert_eq(aspace_fault(&as, r, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT);
	cr_assert_eq(memcmp((char *)phys_to_virt(o->pages[0]) + 10, "written", 8), 0);
	destroy_and_check_all_returned();
}

Test(aspace, a_private_read_maps_the_objects_page_read_only_and_a_write_copies_it)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_READ), 0);
	assert_borrowed(o, v + P, 1, VM_USER);
	cr_assert_eq(o->write_gets, 0, "a private mapping never asks with write");

	/* The kernel's user copy refuses the read-only page; the kernel then
	 * asks for the copy on write and retries. */
	char buf[6] = "hello";
	cr_assert_eq(vm_copy_to_user(&as.ctx, v + P + 8, buf, 6), -EFAULT);
	size_t before = free_pages();
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0);
	cr_assert_eq(free_pages(), before - 1, "one page: the copy (no table)");
	assert_owned(o, v + P, VM_USER | VM_WRITE);
	assert_page_holds(o, v + P, P, P);
	cr_assert_eq(vm_copy_to_user(&as.ctx, v + P + 8, buf, 6), 0);
	cr_assert_eq(tobj_page(o, 1)[8], tobj_byte(o, P + 8), "the object is unchanged");
	cr_assert_eq(stats().backed[REGION_MAPPING], 1);
	/* Now it is the app's own: a second write fault is not a copy. */
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT),
		     -EFAULT);

	/* A write to a page not yet mapped copies at once. */
	int gets = o->gets;
	cr_assert_eq(aspace_fault(&as, v + 3 * P, ASPACE_ACCESS_WRITE), 0);
	assert_owned(o, v + 3 * P, VM_USER | VM_WRITE);
	assert_page_holds(o, v + 3 * P, 3 * P, P);
	cr_assert_eq(o->gets, gets + 1);

	/* An executable private mapping maps the page with exec. */
	long x = aspace_map_object(&as, 0, P, VM_EXEC, &o->obj, 2 * P, 0);
	cr_assert_eq(aspace_fault(&as, x, ASPACE_ACCESS_EXEC), 0);
	assert_borrowed(o, x, 2, VM_USER | VM_EXEC);
	cr_assert_eq(aspace_fault(&as, x, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT);
	destroy_and_check_all_returned();
}

Test(aspace, copy_on_write_after_mprotect_from_read_only_to_read_write)
{
	setup();
	struct tobj *o = tobj_new(2 * P);
	long v = aspace_map_object(&as, 0, 2 * P, 0, &o->obj, 0, 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT);
	cr_assert_eq(aspace_protect(&as, v, 2 * P, VM_WRITE), 0);
	assert_borrowed(o, v, 0, VM_USER);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0);
	assert_owned(o, v, VM_USER | VM_WRITE);
	assert_page_holds(o, v, 0, P);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), 0);
	assert_owned(o, v + P, VM_USER | VM_WRITE);
	destroy_and_check_all_returned();
}

Test(aspace, mprotect_of_a_private_mapping_never_makes_a_borrowed_page_writable)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_WRITE), 0);

	cr_assert_eq(aspace_protect(&as, v, 4 * P, VM_EXEC), 0);
	assert_borrowed(o, v, 0, VM_USER | VM_EXEC);
	assert_owned(o, v + 2 * P, VM_USER | VM_EXEC);
	cr_assert_eq(aspace_protect(&as, v, 4 * P, VM_WRITE), 0);
	assert_borrowed(o, v, 0, VM_USER);
	assert_borrowed(o, v + P, 1, VM_USER);
	assert_owned(o, v + 2 * P, VM_USER | VM_WRITE);
	cr_assert_eq(aspace_protect(&as, v, 4 * P, ASPACE_NOACCESS), 0);
	assert_borrowed(o, v, 0, 0);
	assert_owned(o, v + 2 * P, 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EACCES);
	cr_assert_eq(aspace_protect(&as, v + P, P, VM_WRITE), 0, "one page back: a split");
	assert_borrowed(o, v + P, 1, VM_USER);
	assert_borrowed(o, v, 0, 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0);
	assert_owned(o, v + P, VM_USER | VM_WRITE);
	cr_assert_eq(o->write_gets, 0);
	destroy_and_check_all_returned();
}

Test(aspace, mprotect_of_a_shared_mapping_changes_every_page_and_asks_again_to_write)
{
	setup();
	struct tobj *o = tobj_new(2 * P);
	long v = aspace_map_object(&as, 0, 2 * P, 0, &o->obj, 0, 1);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(o->write_gets, 0);
	cr_assert_eq(aspace_protect(&as, v, 2 * P, ASPACE_NOACCESS), 0);
	assert_borrowed(o, v, 0, 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ | ASPACE_ACCESS_PRESENT), -EACCES);
	cr_assert_eq(aspace_protect(&as, v, 2 * P, 0), 0);
	assert_borrowed(o, v, 0, VM_USER);
	/* Gaining write: the page asked for without write goes, and the next
	 * touch asks again with write. */
	cr_assert_eq(aspace_protect(&as, v, 2 * P, VM_WRITE), 0);
	cr_assert(!mapped(v, NULL, NULL));
	cr_assert_eq(stats().backed[REGION_MAPPING], 0);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), 0);
	assert_borrowed(o, v, 0, VM_USER | VM_WRITE);
	cr_assert_eq(o->write_gets, 1);
	cr_assert_eq(aspace_protect(&as, v, 2 * P, 0), 0);
	assert_borrowed(o, v, 0, VM_USER);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), -EFAULT,
		     "a shared mapping never copies");
	destroy_and_check_all_returned();
}

Test(aspace, unmap_and_destroy_return_every_page_the_app_owned_and_none_of_the_objects)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long priv = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	long shared = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 1);
	cr_assert_eq(shared, priv + 4 * P, "the same page table");
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(aspace_fault(&as, shared + i * P, ASPACE_ACCESS_WRITE), 0);
		cr_assert_eq(aspace_fault(&as, priv + i * P,
					  i < 2 ? ASPACE_ACCESS_READ : ASPACE_ACCESS_WRITE),
			     0);
	}
	cr_assert_eq(o->npages_made, 4);
	cr_assert_eq(stats().backed[REGION_MAPPING], 8, "borrowed pages count as backed");

	size_t before = free_pages();
	cr_assert_eq(aspace_unmap(&as, priv, 4 * P), 0);
	cr_assert_eq(free_pages(), before + 2, "the two copies, not the object's pages");
	cr_assert_eq(o->holds - o->releases, 1);
	for (size_t i = 0; i < 4; i++)
		assert_borrowed(o, shared + i * P, i, VM_USER | VM_WRITE);

	cr_assert_eq(aspace_fault(&as, priv - P, ASPACE_ACCESS_READ), -EFAULT);
	priv = aspace_map_object(&as, 0, 2 * P, VM_WRITE, &o->obj, 2 * P, 0);
	cr_assert_eq(aspace_fault(&as, priv, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, priv + P, ASPACE_ACCESS_READ), 0);
	aspace_destroy(&as);
	kmalloc_trim();
	cr_assert_eq(o->holds, o->releases, "every hold released");
	cr_assert_eq(free_pages() + o->npages_made, free_at_start, "the object keeps its pages");
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(tobj_page(o, i)[1], tobj_byte(o, i * P + 1), "page %zu intact", i);
	destroy_and_check_all_returned(); /* frees the object; pfree panics on a page freed twice */
}

Test(aspace, unmap_from_takes_the_objects_pages_and_their_copies_out_of_every_address_space)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long priv = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	long shared = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 1);
	long high = aspace_map_object(&as, 0, P, 0, &o->obj, 3 * P, 0); /* page 3 only */
	long low = aspace_map_object(&as, 0, P, 0, &o->obj, 0, 1);	/* page 0 only */
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(aspace_fault(&as, shared + i * P, ASPACE_ACCESS_READ), 0);
		cr_assert_eq(aspace_fault(&as, priv + i * P,
					  i % 2 ? ASPACE_ACCESS_WRITE : ASPACE_ACCESS_READ),
			     0);
	}
	cr_assert_eq(aspace_fault(&as, high, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, low, ASPACE_ACCESS_READ), 0);

	/* A second address space maps it too. */
	static struct aspace other;
	cr_assert_eq(aspace_init(&other, &kctx), 0);
	long o2 = aspace_map_object(&other, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	/* Its read maps the object's four pages (fault-around), so its
	 * writes are protection faults that copy. */
	cr_assert_eq(aspace_fault(&other, o2 + 2 * P, ASPACE_ACCESS_READ), 0);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(vm_lookup(&other.ctx, o2 + i * P, NULL, NULL), 0, "page %zu", i);
	cr_assert_eq(aspace_fault(&other, o2 + 3 * P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT),
		     0);
	cr_assert_eq(aspace_fault(&other, o2, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0);

	/* Truncate to a page and a part: pages 2 and 3 go everywhere, their
	 * copies (priv page 3, other's page 3) are freed. */
	size_t before = free_pages();
	tobj_truncate(o, P + 10);
	cr_assert_eq(free_pages(), before + 2 + 2, "two copies and the object's two pages");
	for (size_t i = 2; i < 4; i++) {
		cr_assert(!mapped(priv + i * P, NULL, NULL), "private page %zu", i);
		cr_assert(!mapped(shared + i * P, NULL, NULL), "shared page %zu", i);
		cr_assert_eq(vm_lookup(&other.ctx, o2 + i * P, NULL, NULL), -ENOENT);
	}
	cr_assert(!mapped(high, NULL, NULL));
	assert_borrowed(o, low, 0, VM_USER);
	assert_borrowed(o, priv, 0, VM_USER);
	assert_owned(o, priv + P, VM_USER | VM_WRITE);
	assert_borrowed(o, shared + P, 1, VM_USER | VM_WRITE);
	cr_assert_eq(vm_lookup(&other.ctx, o2, NULL, NULL), 0, "other's copy of page 0 stays");
	cr_assert_eq(stats().backed[REGION_MAPPING], 2 + 2 + 1);

	/* Past the new end is SIGBUS; grown again, the pages come back (zeroed
	 * past the old tail, as the object now holds them). */
	cr_assert_eq(aspace_fault(&as, priv + 2 * P, ASPACE_ACCESS_READ), -EIO);
	cr_assert_eq(aspace_fault(&as, shared + 3 * P, ASPACE_ACCESS_WRITE), -EIO);
	cr_assert_eq(aspace_fault(&other, o2 + 2 * P, ASPACE_ACCESS_WRITE), -EIO);
	cr_assert_eq(aspace_fault(&as, high, ASPACE_ACCESS_READ), -EIO);
	o->size = 3 * P;
	cr_assert_eq(aspace_fault(&as, shared + 2 * P, ASPACE_ACCESS_READ), 0);
	assert_borrowed(o, shared + 2 * P, 2, VM_USER | VM_WRITE);
	cr_assert_eq(aspace_fault(&other, o2 + 2 * P, ASPACE_ACCESS_READ), 0);
	paddr_t pa;
	cr_assert_eq(vm_lookup(&other.ctx, o2 + 2 * P, &pa, NULL), 0);
	cr_assert_eq(pa, o->pages[2]);

	/* A cut past every mapping changes nothing; a destroyed address space
	 * is no longer visited. */
	before = free_pages();
	vmobj_unmap_from(&o->obj, 5);
	vmobj_unmap_from(&o->obj, UINT64_MAX);
	cr_assert_eq(free_pages(), before);
	aspace_destroy(&other);
	tobj_truncate(o, 0);
	cr_assert(!mapped(low, NULL, NULL));
	cr_assert_eq(stats().backed[REGION_MAPPING], 0, "the private copy of page 1 went too");
	destroy_and_check_all_returned();
}

Test(aspace, object_errors_reach_the_fault_and_nothing_is_mapped)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	o->fail = -ENOSPC;
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), -ENOMEM, "-ENOSPC is out of memory");
	o->fail = -ENOMEM;
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), -ENOMEM);
	o->fail = -EIO;
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), -EIO);
	cr_assert(!mapped(v, NULL, NULL));
	cr_assert_eq(stats().backed[REGION_MAPPING], 0);
	o->fail = 0;
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	destroy_and_check_all_returned();
}

Test(aspace, a_borrowed_page_takes_no_frame_from_the_apps_share)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long anon = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	long v = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	cr_assert_eq(v, anon + 4 * P, "the same page table");
	cr_assert_eq(aspace_fault(&as, anon, ASPACE_ACCESS_WRITE), 0); /* makes the tables */
	tobj_page(o, 1);
	tobj_page(o, 2);

	size_t keep = ASPACE_KERNEL_RESERVE_PAGES + 3;
	size_t ntaken = free_pages() - keep;
	paddr_t run = palloc(ntaken);
	cr_assert_neq(run, 0);
	cr_assert_eq(free_pages(), keep);
	cr_assert_eq(aspace_fault(&as, anon + P, ASPACE_ACCESS_WRITE), -ENOMEM);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_WRITE), -ENOMEM,
		     "a copy needs one");
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_READ), 0, "mapping needs none");
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT),
		     -ENOMEM);
	assert_borrowed(o, v + P, 1, VM_USER);
	cr_assert_eq(free_pages(), keep);
	pfree(run, ntaken);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ mremap */

Test(aspace, remap_shrinks_in_place_and_frees_the_pages_given_up)
{
	setup();
	long v = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(aspace_fault(&as, v + i * P, ASPACE_ACCESS_WRITE), 0);
	size_t before = free_pages();
	cr_assert_eq(aspace_remap(&as, v, 4 * P, 2 * P, 0, 0), v);
	cr_assert_eq(free_pages(), before + 2);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 2);
	cr_assert_eq(stats().backed[REGION_MAPPING], 2);
	cr_assert_eq(aspace_remap(&as, v, 2 * P, 2 * P, 0, 0), v, "same size: nothing to do");
	destroy_and_check_all_returned();
}

Test(aspace, remap_grows_in_place_when_the_pages_after_are_free)
{
	setup();
	long v = aspace_map(&as, 0, 0, 2 * P, VM_WRITE);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), 0);
	paddr_t pa, pa2;
	cr_assert(mapped(v, &pa, NULL));
	cr_assert_eq(aspace_remap(&as, v, 2 * P, 6 * P, 0, 0), v);
	cr_assert(mapped(v, &pa2, NULL));
	cr_assert_eq(pa2, pa);
	cr_assert_eq(region_holding(v)->npages, 6);
	cr_assert_eq(aspace_fault(&as, v + 5 * P, ASPACE_ACCESS_WRITE), 0,
		     "the new pages are demand");
	destroy_and_check_all_returned();
}

Test(aspace, remap_that_cannot_grow_in_place_moves_the_frames_only_with_maymove)
{
	setup();
	long v = aspace_map(&as, 0, 0, 3 * P, VM_WRITE);
	long wall = aspace_map(&as, 0, 0, P, 0);
	cr_assert_eq(wall, v + 3 * P);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_WRITE), 0);
	paddr_t pa0, pa2, got;
	cr_assert(mapped(v, &pa0, NULL));
	cr_assert(mapped(v + 2 * P, &pa2, NULL));
	size_t n = nregions();

	cr_assert_eq(aspace_remap(&as, v, 3 * P, 5 * P, 0, 0), -ENOMEM);
	cr_assert_eq(nregions(), n, "nothing changed");
	size_t before = free_pages();
	long m = aspace_remap(&as, v, 3 * P, 5 * P, ASPACE_REMAP_MAYMOVE, 0);
	cr_assert_eq(m, wall + P, "the lowest gap that holds it");
	cr_assert_eq(free_pages(), before, "no page copied (same page table)");
	cr_assert(mapped(m, &got, NULL));
	cr_assert_eq(got, pa0);
	cr_assert(mapped(m + 2 * P, &got, NULL));
	cr_assert_eq(got, pa2);
	cr_assert(!mapped(m + P, NULL, NULL), "a demand page stays demand");
	cr_assert(!mapped(v, NULL, NULL));
	cr_assert_null(region_holding(v), "the old range is gone");
	cr_assert_eq(region_holding(m)->backed, 2);
	cr_assert_eq(region_holding(m)->npages, 5);
	destroy_and_check_all_returned();
}

Test(aspace, remap_fixed_replaces_what_was_there)
{
	setup();
	long v = aspace_map(&as, 0, 0, 2 * P, VM_WRITE);
	long other = aspace_map(&as, 0, DEF + 100 * P, 4 * P, 0);
	cr_assert_eq(aspace_fault(&as, other, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), 0);
	paddr_t pa, got;
	cr_assert(mapped(v + P, &pa, NULL));
	long m = aspace_remap(&as, v, 2 * P, 2 * P, ASPACE_REMAP_MAYMOVE | ASPACE_REMAP_FIXED,
			      (vaddr_t)other);
	cr_assert_eq(m, other);
	cr_assert(mapped(m + P, &got, NULL));
	cr_assert_eq(got, pa);
	cr_assert(!mapped(m, NULL, NULL), "the replaced mapping's page was freed");
	cr_assert_eq(region_holding(m)->flags, VM_WRITE);
	cr_assert_eq(region_holding(m)->npages, 2);
	const struct region *rest = region_holding(other + 2 * P);
	cr_assert(rest && rest->base == (vaddr_t)other + 2 * P && rest->npages == 2 &&
		      rest->flags == 0,
		  "only the destination range is replaced");
	destroy_and_check_all_returned();
}

Test(aspace, remap_from_the_middle_of_an_object_mapping_keeps_the_offsets)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 4 * P, 0, &o->obj, 0, 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_READ), 0);
	long m = aspace_remap(&as, v + P, P, 3 * P, ASPACE_REMAP_MAYMOVE, 0);
	cr_assert_eq(m, v + 4 * P);
	assert_page_holds(o, m, P, P);
	assert_borrowed(o, m, 1, VM_USER);
	cr_assert_eq(aspace_fault(&as, m + 2 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, m + 2 * P, 3 * P, P);
	cr_assert_eq(aspace_fault(&as, v + 2 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v + 2 * P, 2 * P, P);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, v, 0, P);
	cr_assert_null(region_holding(v + P), "the moved page left a hole");
	cr_assert_eq(records_over(o), 3);
	cr_assert_eq(o->holds - o->releases, 3);
	destroy_and_check_all_returned();
}

Test(aspace, remap_moves_borrowed_and_copied_pages_as_they_are)
{
	setup();
	struct tobj *o = tobj_new(4 * P);
	long v = aspace_map_object(&as, 0, 2 * P, VM_WRITE, &o->obj, 0, 0);
	long wall = aspace_map(&as, 0, 0, P, 0);
	cr_assert_eq(wall, v + 2 * P);
	cr_assert_eq(aspace_fault(&as, v, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, v + P, ASPACE_ACCESS_WRITE), 0);
	paddr_t copy;
	cr_assert(mapped(v + P, &copy, NULL));
	size_t before = free_pages();
	long m = aspace_remap(&as, v, 2 * P, 4 * P, ASPACE_REMAP_MAYMOVE, 0);
	cr_assert_eq(m, wall + P);
	cr_assert_eq(free_pages(), before, "nothing copied, nothing freed");
	assert_borrowed(o, m, 0, VM_USER);
	paddr_t pa;
	cr_assert(mapped(m + P, &pa, NULL));
	cr_assert_eq(pa, copy);
	assert_owned(o, m + P, VM_USER | VM_WRITE);
	cr_assert_eq(aspace_fault(&as, m, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0,
		     "still copy on write");
	assert_owned(o, m, VM_USER | VM_WRITE);
	cr_assert_eq(aspace_fault(&as, m + 3 * P, ASPACE_ACCESS_READ), 0);
	assert_page_holds(o, m + 3 * P, 3 * P, P);
	cr_assert_eq(records_over(o), 1);
	cr_assert_eq(o->holds - o->releases, 1, "the old record's hold went with it");
	/* Shrinking gives the copies back, not the object's pages. */
	before = free_pages();
	cr_assert_eq(aspace_remap(&as, m, 4 * P, P, 0, 0), m);
	cr_assert_eq(free_pages(), before + 1);
	/* Growing past 2^64 in the object is refused. */
	long top = aspace_map_object(&as, 0, P, 0, &o->obj, (UINT64_MAX & ~(P - 1)) - P, 0);
	cr_assert_gt(top, 0);
	cr_assert_eq(aspace_remap(&as, top, P, 2 * P, ASPACE_REMAP_MAYMOVE, 0), -EINVAL);
	destroy_and_check_all_returned();
}

Test(aspace, remap_checks_flags_alignment_sizes_and_the_region)
{
	setup();
	long v = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	const unsigned mf = ASPACE_REMAP_MAYMOVE | ASPACE_REMAP_FIXED;
	cr_assert_eq(aspace_remap(&as, v, P, 2 * P, 4, 0), -EINVAL, "unknown flag");
	cr_assert_eq(aspace_remap(&as, v, P, P, ASPACE_REMAP_FIXED, DEF + 64 * P), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v + 1, P, 2 * P, 0, 0), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v, 0, 2 * P, 0, 0), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v, P, 0, 0, 0), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v, P, P + 1, 0, 0), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v, 2 * P, 2 * P, mf, v + P), -EINVAL, "overlap");
	cr_assert_eq(aspace_remap(&as, v, P, P, mf, DEF + 3), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v, P, P, mf, VM_USER_TOP), -EINVAL);
	cr_assert_eq(aspace_remap(&as, v, 5 * P, 6 * P, ASPACE_REMAP_MAYMOVE, 0), -EFAULT,
		     "past the region");
	cr_assert_eq(aspace_remap(&as, DEF + 64 * P, P, 2 * P, ASPACE_REMAP_MAYMOVE, 0), -EFAULT);
	cr_assert_eq(aspace_remap(&as, VM_USER_TOP - P, 2 * P, P, 0, 0), -EINVAL);
	cr_assert_eq(aspace_brk(&as, IMG_END + 2 * P), IMG_END + 2 * P);
	cr_assert_eq(aspace_remap(&as, IMG_END, P, 2 * P, ASPACE_REMAP_MAYMOVE, 0), -EINVAL,
		     "the heap stays put");
	cr_assert_eq(aspace_remap(&as, v, P, ASPACE_DEFAULT_END, ASPACE_REMAP_MAYMOVE, 0), -ENOMEM,
		     "no room anywhere");
	cr_assert_eq(region_holding(v)->npages, 4);
	destroy_and_check_all_returned();
}

/* musl's pthread_getattr_np walks down the main stack with mremap(p, P,
 * 2 P, 0): ENOMEM while p is inside it, EFAULT below it, as on Linux. */
Test(aspace, remap_in_place_of_the_stack_is_enomem_inside_and_efault_below)
{
	setup_app(16);
	vaddr_t low = TOP - 16 * P;

	cr_assert_eq(aspace_remap(&as, TOP - 2 * P, P, 2 * P, 0, 0), -ENOMEM);
	cr_assert_eq(aspace_remap(&as, low, P, 2 * P, 0, 0), -ENOMEM);
	cr_assert_eq(aspace_remap(&as, low - P, P, 2 * P, 0, 0), -EFAULT);
	cr_assert_eq(aspace_remap(&as, low, P, P, 0, 0), (long)low, "same size: nothing to do");
	cr_assert_eq(aspace_remap(&as, low, 2 * P, P, 0, 0), -EINVAL, "the stack stays whole");
	cr_assert_eq(aspace_remap(&as, low, P, 2 * P, ASPACE_REMAP_MAYMOVE, 0), -EINVAL,
		     "the stack stays put");
	cr_assert_eq(region_holding(low)->npages, 16);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ munmap */

Test(aspace, unmap_range_takes_split_regions_and_holes_at_once)
{
	setup();
	size_t n = nregions();
	long g = aspace_map(&as, 0, 0, 4 * P, ASPACE_NOACCESS);
	cr_assert_eq(aspace_protect(&as, g + P, 2 * P, VM_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, g + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(nregions(), n + 3);
	cr_assert_eq(aspace_unmap(&as, g, 4 * P), -EINVAL, "Xous unmap: one region only");
	cr_assert_eq(aspace_unmap_range(&as, g, 4 * P), 0);
	cr_assert_eq(nregions(), n);
	cr_assert_eq(stats().reserved[REGION_MAPPING], 0);

	/* Two mappings with a hole between them, cut at both ends. */
	long a = aspace_map(&as, 0, DEF, 4 * P, VM_WRITE);
	long b = aspace_map(&as, 0, DEF + 6 * P, 4 * P, VM_WRITE);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(aspace_fault(&as, a + i * P, ASPACE_ACCESS_WRITE), 0);
		cr_assert_eq(aspace_fault(&as, b + i * P, ASPACE_ACCESS_WRITE), 0);
	}
	size_t before = free_pages();
	cr_assert_eq(aspace_unmap_range(&as, a + 2 * P, 6 * P), 0);
	cr_assert_geq(free_pages(), before + 4);
	cr_assert_eq(region_holding(a)->npages, 2);
	cr_assert_eq(region_holding(a)->backed, 2);
	cr_assert_eq(region_holding(b + 2 * P)->base, (vaddr_t)b + 2 * P);
	cr_assert_eq(region_holding(b + 2 * P)->backed, 2);
	cr_assert_eq(aspace_unmap_range(&as, DEF + 200 * P, P), 0, "nothing there is fine");

	/* The heap is refused, and nothing changes. */
	cr_assert_eq(aspace_brk(&as, IMG_END + P), IMG_END + P);
	long c = aspace_map(&as, 0, IMG_END + P, P, VM_WRITE);
	cr_assert_eq(aspace_unmap_range(&as, IMG_END, 2 * P), -EINVAL);
	cr_assert_eq(region_holding(c)->npages, 1);
	cr_assert_eq(aspace_unmap_range(&as, c, P + 1), -EINVAL);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ fault-around */

/* A read fault maps, besides its own page, the pages of its aligned
 * 16-page window that the object already has, and only those: nothing is
 * made, the window stops at the region's ends, the object's offset sets
 * which pages are whose. */
Test(aspace, a_read_fault_maps_the_objects_pages_present_in_its_16_page_window)
{
	setup();
	struct tobj *o = tobj_new(40 * P);
	for (size_t i = 0; i < 40; i++)
		if (i % 3)
			tobj_page(o, i);
	size_t made = o->npages_made;
	/* Object pages 2..37 at a 16-page-aligned address: mapping page k is
	 * object page k + 2. */
	vaddr_t at = DEF + 64 * P;
	long m = aspace_map_object(&as, at, 36 * P, 0, &o->obj, 2 * P, 0);
	cr_assert_eq(m, (long)at);

	int gets = o->gets;
	cr_assert_eq(aspace_fault(&as, m + 19 * P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(o->gets, gets + 1, "one get_page: the faulting page's");
	cr_assert_eq(o->npages_made, made + 1, "only the faulting page (object page 21) was made");
	for (size_t k = 0; k < 36; k++) {
		uint64_t index = k + 2;
		int in_window = k >= 16 && k < 32;
		if (in_window && o->pages[index])
			assert_borrowed(o, m + k * P, index, VM_USER);
		else
			cr_assert(!mapped(m + k * P, NULL, NULL), "mapping page %zu", k);
	}
	cr_assert_eq(stats().backed[REGION_MAPPING], 11, "page 21 and the 10 made in 18..33");

	/* The last window is cut at the region's end: pages 32..35. */
	cr_assert_eq(aspace_fault(&as, m + 35 * P, ASPACE_ACCESS_EXEC), -EFAULT, "no exec");
	cr_assert_eq(aspace_fault(&as, m + 34 * P, ASPACE_ACCESS_READ), 0);
	for (size_t k = 32; k < 36; k++)
		cr_assert_eq(mapped(m + k * P, NULL, NULL), !!o->pages[k + 2], "page %zu", k);
	destroy_and_check_all_returned();
}

/* A write that copies, and any fault in a shared writable mapping, maps
 * one page: a shared writable page must be asked for with write set. A
 * shared read-only, a private writable (on a read) and an executable
 * mapping get their neighbours, read-only; writes to them later copy. */
Test(aspace, fault_around_skips_private_writes_and_shared_writable_mappings)
{
	setup();
	struct tobj *o = tobj_new(16 * P);
	for (size_t i = 0; i < 16; i++)
		tobj_page(o, i);
	long priv = aspace_map_object(&as, DEF + 16 * P, 16 * P, VM_WRITE, &o->obj, 0, 0);
	long sw = aspace_map_object(&as, DEF + 48 * P, 16 * P, VM_WRITE, &o->obj, 0, 1);
	long sro = aspace_map_object(&as, DEF + 80 * P, 16 * P, 0, &o->obj, 0, 1);
	long text = aspace_map_object(&as, DEF + 112 * P, 16 * P, VM_EXEC, &o->obj, 0, 0);
	cr_assert(priv > 0 && sw > 0 && sro > 0 && text > 0);

	cr_assert_eq(aspace_fault(&as, priv + 3 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, sw + 3 * P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(stats().backed[REGION_MAPPING], 2, "one page each");
	assert_owned(o, priv + 3 * P, VM_USER | VM_WRITE);
	assert_borrowed(o, sw + 3 * P, 3, VM_USER | VM_WRITE);

	cr_assert_eq(aspace_fault(&as, sro + 9 * P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, text + 15 * P, ASPACE_ACCESS_EXEC), 0);
	for (size_t i = 0; i < 16; i++) {
		assert_borrowed(o, sro + i * P, i, VM_USER);
		assert_borrowed(o, text + i * P, i, VM_USER | VM_EXEC);
	}
	cr_assert_eq(aspace_fault(&as, priv + 5 * P, ASPACE_ACCESS_READ), 0);
	for (size_t i = 0; i < 16; i++) {
		if (i == 3)
			assert_owned(o, priv + i * P, VM_USER | VM_WRITE);
		else
			assert_borrowed(o, priv + i * P, i, VM_USER);
	}
	cr_assert_eq(aspace_fault(&as, priv + 7 * P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT),
		     0);
	assert_owned(o, priv + 7 * P, VM_USER | VM_WRITE);
	cr_assert_eq(tobj_page(o, 7)[5], tobj_byte(o, 7 * P + 5), "the object's page unchanged");
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ many regions */

/* Hundreds of regions, mapped, split, cut at the front and unmapped in a
 * random order: every lookup (here, a fault) finds exactly the region a
 * linear model holds, so the lookup tree agrees with the list. */
Test(aspace, lookups_among_hundreds_of_regions_match_a_linear_model)
{
	enum { SLOTS = 600 };
	static unsigned char model[SLOTS]; /* page i of the slots: 1 mapped */
	const vaddr_t base = DEF + 1024 * P;

	setup();
	memset(model, 0, sizeof(model));
	for (size_t i = 0; i < SLOTS; i += 3) {
		size_t n = 1 + mm_test_random_below(2);
		cr_assert_eq(aspace_map(&as, 0, base + i * P, n * P, VM_WRITE),
			     (long)(base + i * P));
		memset(model + i, 1, n);
	}
	for (int op = 0; op < 3000; op++) {
		size_t i = mm_test_random_below(SLOTS);
		vaddr_t va = base + i * P;
		if (op % 5 == 0 && model[i]) {
			/* One page out: a front cut, a split or the whole region. */
			cr_assert_eq(aspace_unmap_range(&as, va, P), 0, "op %d", op);
			model[i] = 0;
		} else if (op % 5 == 1 && !model[i]) {
			cr_assert_eq(aspace_map(&as, 0, va, P, VM_WRITE), (long)va, "op %d", op);
			model[i] = 1;
		} else {
			int got = aspace_fault(&as, va + 8, ASPACE_ACCESS_WRITE);
			cr_assert_eq(got, model[i] ? 0 : -EFAULT, "op %d: page %zu", op, i);
		}
	}
	destroy_and_check_all_returned();
}

/* The empty heap can lie inside a mapping placed over it at a fixed
 * address (nothing reserves an empty heap's base); when the mapping then
 * gives up its first pages its base moves past the heap's. Lookups and
 * unmapping still find it. (Whether the tree's shape puts the heap above
 * the mapping depends on the records' addresses, so this may or may not
 * take the both-sides path of tree_find and tree_link_of.) */
Test(aspace, a_mapping_over_the_empty_heap_is_found_after_its_front_is_cut)
{
	setup();
	long m = aspace_map(&as, 0, IMG_END, 8 * P, VM_WRITE);
	cr_assert_eq(m, (long)IMG_END);
	cr_assert_eq(aspace_fault(&as, IMG_END, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, IMG_END + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_unmap_range(&as, IMG_END, 2 * P), 0);
	cr_assert_eq(aspace_fault(&as, IMG_END, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(aspace_fault(&as, IMG_END + P, ASPACE_ACCESS_WRITE), -EFAULT);
	/* Demand faults in what is left: the region is found. */
	cr_assert_eq(aspace_fault(&as, IMG_END + 2 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, IMG_END + 5 * P, ASPACE_ACCESS_WRITE), 0);
	/* More regions around it, then the mapping goes piece by piece. */
	for (size_t i = 0; i < 40; i++)
		cr_assert_gt(aspace_map(&as, 0, 0, P, VM_WRITE), 0);
	cr_assert_eq(aspace_unmap_range(&as, IMG_END + 4 * P, P), 0); /* a split */
	cr_assert_eq(aspace_fault(&as, IMG_END + 3 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_fault(&as, IMG_END + 4 * P, ASPACE_ACCESS_WRITE), -EFAULT);
	cr_assert_eq(aspace_fault(&as, IMG_END + 7 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_unmap_range(&as, IMG_END + 2 * P, 6 * P), 0);
	cr_assert(!mapped(IMG_END + 7 * P, NULL, NULL));
	cr_assert_eq(aspace_fault(&as, IMG_END + 7 * P, ASPACE_ACCESS_WRITE), -EFAULT);
	destroy_and_check_all_returned();
}

/* ------------------------------------------------------------ faults beside each other */

/* aspace_fault_shared's sync for host threads: a mutex, and a count of
 * the sections, so a test sees that the shared parts were taken under it. */
static pthread_mutex_t shared_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned shared_sections;

static void shared_lock(void)
{
	pthread_mutex_lock(&shared_mutex);
	shared_sections++;
}

static void shared_unlock(void)
{
	pthread_mutex_unlock(&shared_mutex);
}

static const struct aspace_shared_sync shared_sync = {shared_lock, shared_unlock};

/* The palloc fault cache of the calling host thread, as of a CPU. */
static _Thread_local unsigned shared_cache;

static int shared_fault(vaddr_t addr, unsigned access)
{
	return aspace_fault_shared(&as, addr, access, &shared_sync, shared_cache);
}

/* Where its page table exists, a shared fault backs one zeroed page with
 * the region's flags and counts it as aspace_fault does; again, it changes
 * nothing. */
Test(aspace, shared_fault_backs_a_zeroed_page_as_aspace_fault_does)
{
	setup();
	cr_assert_eq(aspace_map(&as, 0, 0, 4 * P, VM_WRITE), (long)DEF);
	cr_assert_eq(aspace_fault(&as, DEF, ASPACE_ACCESS_WRITE), 0); /* makes the table */
	paddr_t dirty = palloc(1);
	memset(phys_to_virt(dirty), 0xa5, P);
	pfree(dirty, 1);
	size_t before = free_pages(), owned = as.commit_owned;

	paddr_t pa;
	unsigned flags;
	cr_assert_eq(shared_fault(DEF + 2 * P + 9, ASPACE_ACCESS_WRITE), 0);
	cr_assert(mapped(DEF + 2 * P, &pa, &flags));
	cr_assert_eq(pa, dirty);
	cr_assert_eq(flags, VM_USER | VM_WRITE);
	const uint8_t *bytes = phys_to_virt(pa);
	for (size_t i = 0; i < P; i++)
		cr_assert_eq(bytes[i], 0, "byte %zu not zeroed", i);
	cr_assert_eq(free_pages(), before - 1);
	cr_assert_eq(stats().backed[REGION_MAPPING], 2);
	cr_assert_eq(as.backed_now, as.backed_peak);
	cr_assert_eq(as.commit_owned, owned + 1, "the page is counted as the app's own");

	cr_assert_eq(shared_fault(DEF + 2 * P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(free_pages(), before - 1);
	cr_assert_eq(stats().backed[REGION_MAPPING], 2);
	/* The heap and the stack are demand-zero too. */
	cr_assert_eq(shared_fault(TOP - 2 * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert(mapped(TOP - 2 * P, NULL, NULL));
	destroy_and_check_all_returned();
}

/* Everything else is -EAGAIN and changes nothing: aspace_fault, run
 * alone, answers it (and makes tables, copies, reclaims, refuses). */
Test(aspace, shared_fault_leaves_everything_else_untouched)
{
	setup();
	long rw = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	long ro = aspace_map(&as, 0, 0, 4 * P, 0);
	long none = aspace_map(&as, 0, 0, 4 * P, ASPACE_NOACCESS);
	struct tobj *o = tobj_new(4 * P);
	long obj = aspace_map_object(&as, 0, 4 * P, VM_WRITE, &o->obj, 0, 0);
	long far = aspace_map(&as, 0, DEF + (1ull << 30), 4 * P, VM_WRITE); /* no table yet */
	cr_assert(rw > 0 && ro > 0 && none > 0 && obj > 0 && far > 0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)rw, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)ro, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)obj, ASPACE_ACCESS_READ), 0);
	size_t before = free_pages(), backed = as.backed_now;
	unsigned sections = shared_sections;

	const struct {
		vaddr_t addr;
		unsigned access;
	} cases[] = {
	    {(vaddr_t)rw + P, ASPACE_ACCESS_EXEC},
	    {(vaddr_t)rw + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT},
	    {(vaddr_t)ro + P, ASPACE_ACCESS_WRITE},
	    {(vaddr_t)none + P, ASPACE_ACCESS_READ},
	    {(vaddr_t)obj + P, ASPACE_ACCESS_READ},
	    {(vaddr_t)obj + 2 * P, ASPACE_ACCESS_WRITE},
	    {IMG_BASE + 2 * P, ASPACE_ACCESS_READ}, /* the image's gap */
	    {DEF - 16 * P, ASPACE_ACCESS_READ},	    /* no region */
	    {0, ASPACE_ACCESS_READ},
	    {VM_USER_TOP + P, ASPACE_ACCESS_READ},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(shared_fault(cases[i].addr, cases[i].access), -EAGAIN, "case %zu", i);
		cr_assert(!mapped(ALIGN_DOWN(cases[i].addr, P), NULL, NULL), "case %zu", i);
	}
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(as.backed_now, backed);
	cr_assert_eq(shared_sections, sections, "nothing was even tried under the lock");
	/* No page table there yet: the page it took goes back. */
	cr_assert_eq(shared_fault((vaddr_t)far, ASPACE_ACCESS_WRITE), -EAGAIN);
	cr_assert(!mapped((vaddr_t)far, NULL, NULL));
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(as.backed_now, backed);

	/* No page free without a reclaim: -EAGAIN, nothing taken. */
	size_t n = free_pages();
	paddr_t *all = malloc(n * sizeof(*all));
	for (size_t i = 0; i < n; i++)
		cr_assert_neq(all[i] = palloc(1), 0);
	cr_assert_eq(shared_fault((vaddr_t)rw + P, ASPACE_ACCESS_WRITE), -EAGAIN);
	for (size_t i = 0; i < n; i++)
		pfree(all[i], 1);
	free(all);
	cr_assert(!mapped((vaddr_t)rw + P, NULL, NULL));
	cr_assert_eq(shared_fault((vaddr_t)rw + P, ASPACE_ACCESS_WRITE), 0);
	destroy_and_check_all_returned();
}

/* Pages in other CPUs' fault caches are not lost to a fault that needs
 * them: with the pool empty and the free pages all in caches, a shared
 * fault on a CPU whose own cache is empty gives -EAGAIN, and the fault
 * under the lock (aspace_fault) gets its page, palloc taking the cached
 * pages back. */
Test(aspace, a_fault_gets_pages_that_other_cpus_fault_caches_hold)
{
	setup();
	long base = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	cr_assert_eq(base, (long)DEF);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)base, ASPACE_ACCESS_WRITE), 0); /* the table */

	/* Enough caches filled to hold more than the kernel's reserve... */
	enum { CACHES = 2 * ASPACE_KERNEL_RESERVE_PAGES / (PALLOC_CACHE_PAGES - 1) + 1 };
	_Static_assert(CACHES < PALLOC_CACHES, "a cache left empty");
	paddr_t first[CACHES];
	for (unsigned c = 1; c < CACHES; c++)
		cr_assert_neq(first[c] = palloc_cache_take(c), 0);
	/* ...then the pool itself emptied, past the caches. */
	size_t n = free_pages(), got = 0;
	paddr_t *pool = malloc(n * sizeof(*pool)), p;
	while ((p = palloc_cache_take(PALLOC_CACHES)) != 0)
		pool[got++] = p;
	cr_assert_geq(free_pages(), ASPACE_KERNEL_RESERVE_PAGES + 16, "the caches hold enough");

	cr_assert_eq(shared_fault((vaddr_t)base + P, ASPACE_ACCESS_WRITE), -EAGAIN);
	cr_assert(!mapped((vaddr_t)base + P, NULL, NULL));
	size_t before = free_pages();
	cr_assert_eq(aspace_fault(&as, (vaddr_t)base + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert(mapped((vaddr_t)base + P, NULL, NULL));
	cr_assert_eq(free_pages(), before - 1);
	cr_assert_eq(palloc_check(), 0);

	for (size_t i = 0; i < got; i++)
		pfree(pool[i], 1);
	free(pool);
	for (unsigned c = 1; c < CACHES; c++)
		pfree(first[c], 1);
	destroy_and_check_all_returned();
}

/* Host threads as CPUs: each faults every page of one range, all at once
 * and in the same order, so that they race for the same pages. Every page
 * ends up backed once, zeroed, and counted once; the pages of the faults
 * that lost a race went back to palloc. */
#define SHARED_THREADS 4
#define SHARED_PAGES   480 /* inside one page table: none is made */

static vaddr_t shared_base;
static int shared_errors;
static pthread_barrier_t shared_start;

static void *fault_all(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	shared_cache = seed;
	pthread_barrier_wait(&shared_start);
	for (size_t page = 0; page < SHARED_PAGES; page++) {
		unsigned access = (page + seed) % 2 ? ASPACE_ACCESS_WRITE : ASPACE_ACCESS_READ;
		if (shared_fault(shared_base + page * P + seed, access))
			__atomic_fetch_add(&shared_errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(aspace, shared_faults_on_several_threads_back_each_page_once)
{
	setup();
	long base = aspace_map(&as, 0, 0, SHARED_PAGES * P, VM_WRITE);
	cr_assert_eq(base, (long)DEF);
	shared_base = (vaddr_t)base;
	shared_errors = 0;
	cr_assert_eq(aspace_fault(&as, shared_base, ASPACE_ACCESS_WRITE), 0); /* the table */
	size_t before = free_pages(), backed = as.backed_now, owned = as.commit_owned;

	pthread_t t[SHARED_THREADS];
	pthread_barrier_init(&shared_start, NULL, SHARED_THREADS);
	for (uintptr_t i = 0; i < SHARED_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, fault_all, (void *)(i + 1)), 0);
	for (int i = 0; i < SHARED_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&shared_start);

	cr_assert_eq(shared_errors, 0);
	for (size_t i = 0; i < SHARED_PAGES; i++) {
		paddr_t pa;
		cr_assert(mapped(shared_base + i * P, &pa, NULL), "page %zu", i);
		const uint64_t *words = phys_to_virt(pa);
		for (size_t w = 0; w < P / 8; w++)
			cr_assert_eq(words[w], 0, "page %zu word %zu", i, w);
	}
	cr_assert_eq(free_pages(), before - (SHARED_PAGES - 1), "a lost race's page leaked");
	cr_assert_eq(as.backed_now, backed + SHARED_PAGES - 1);
	cr_assert_eq(stats().backed[REGION_MAPPING], SHARED_PAGES);
	cr_assert_eq(as.commit_owned, owned + SHARED_PAGES - 1);
	cr_assert_eq(aspace_unmap_range(&as, shared_base, SHARED_PAGES * P), 0);
	destroy_and_check_all_returned();
}
