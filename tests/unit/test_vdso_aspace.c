/*
 * Host tests of aspace_map_kernel (mm/aspace.c), what vdso_map gives the
 * app: pages the kernel keeps, which the app can read (and execute) but
 * neither write, reprotect, move nor get freed by unmapping them or by
 * exiting. "Kernel pages" here are pages this test takes from palloc and
 * frees itself at the end: were aspace to free them too, palloc would
 * panic on the double free.
 */
#include <criterion/criterion.h>

#include "kernel/abi/errno.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm_arena.h"

#define P    PAGE_SIZE
#define VDSO (ASPACE_DEFAULT_END - 3 * P) /* data page, then two code pages */

static struct vm_ctx kctx;
static struct aspace as;
static paddr_t data, code; /* the "kernel's" pages: 1 and 2 */

static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	aspace_set_phys_policy(NULL); /* no policy: aspace_map of phys is -EPERM */
	cr_assert_eq(aspace_init(&as, &kctx), 0);
	data = palloc(1);
	code = palloc(2);
	cr_assert(data && code);
	cr_assert_eq(aspace_map_kernel(&as, data, VDSO, 1, 0), (long)VDSO);
	cr_assert_eq(aspace_map_kernel(&as, code, VDSO + P, 2, VM_EXEC), (long)(VDSO + P));
}

static unsigned flags_at(vaddr_t va, paddr_t *pa)
{
	unsigned flags;

	cr_assert_eq(vm_lookup(&as.ctx, va, pa, &flags), 0, "%#lx not mapped", va);
	return flags;
}

TestSuite(vdso_aspace, .init = setup);

Test(vdso_aspace, pages_are_the_kernels_readable_never_writable)
{
	paddr_t pa;

	unsigned f = flags_at(VDSO, &pa);
	cr_assert_eq(pa, data);
	cr_assert((f & VM_USER) && !(f & VM_WRITE) && !(f & VM_EXEC), "data page flags %#x", f);
	for (int i = 0; i < 2; i++) {
		f = flags_at(VDSO + P + i * P, &pa);
		cr_assert_eq(pa, code + i * P);
		cr_assert((f & VM_USER) && !(f & VM_WRITE) && (f & VM_EXEC), "code flags %#x", f);
		cr_assert(!(f & (VM_UNCACHED | VM_WRITE_COMBINING)), "kernel memory is write-back");
	}
	/* The policy forbids everything here: this path does not ask it. */
	cr_assert_eq(aspace_map(&as, data, 0, P, 0), -EPERM);
}

Test(vdso_aspace, bad_requests_are_refused)
{
	paddr_t other = palloc(1);

	cr_assert_eq(aspace_map_kernel(&as, other, VDSO - P, 1, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_map_kernel(&as, other, VDSO - P, 1, VM_WRITE | VM_EXEC), -EINVAL);
	cr_assert_eq(aspace_map_kernel(&as, other, 0, 1, 0), -EINVAL);
	cr_assert_eq(aspace_map_kernel(&as, other, VDSO - P, 0, 0), -EINVAL);
	cr_assert_eq(aspace_map_kernel(&as, other + 1, VDSO - P, 1, 0), -EINVAL);
	cr_assert_eq(aspace_map_kernel(&as, other, VDSO + 1, 1, 0), -EINVAL);
	cr_assert_eq(aspace_map_kernel(&as, other, VDSO + P, 1, 0), -EEXIST);
	cr_assert_eq(aspace_map_kernel(&as, other, 0xffff800000000000ull, 1, 0), -EINVAL);
	pfree(other, 1);
}

Test(vdso_aspace, the_app_cannot_write_reprotect_or_move_them)
{
	cr_assert_lt(aspace_fault(&as, VDSO, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0);
	cr_assert_lt(aspace_fault(&as, VDSO + P, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT), 0);
	cr_assert_lt(aspace_fault(&as, VDSO, ASPACE_ACCESS_EXEC | ASPACE_ACCESS_PRESENT), 0);
	cr_assert_eq(aspace_protect(&as, VDSO + P, P, VM_WRITE), -EINVAL);
	cr_assert_eq(aspace_protect(&as, VDSO, P, 0), -EINVAL);
	cr_assert_lt(aspace_remap(&as, VDSO + P, 2 * P, 4 * P, ASPACE_REMAP_MAYMOVE, 0), 0);
	cr_assert_lt(aspace_dontneed(&as, VDSO, P), 0);
	paddr_t pa;
	cr_assert(!(flags_at(VDSO + P, &pa) & VM_WRITE));
	cr_assert_eq(pa, code);
}

/* munmap and exit only unmap: the pages stay allocated, the kernel's. */
Test(vdso_aspace, unmap_and_exit_never_free_them)
{
	size_t before = palloc_free_pages();

	cr_assert_eq(aspace_unmap_range(&as, VDSO, 2 * P), 0); /* data + the first code page */
	cr_assert_neq(vm_lookup(&as.ctx, VDSO, NULL, NULL), 0);
	cr_assert_eq(palloc_free_pages(), before, "unmapping freed kernel pages");
	aspace_destroy(&as);
	/* Destroy frees the page tables, never the pages they pointed at. */
	cr_assert_geq(palloc_free_pages(), before);
	pfree(data, 1); /* would panic as a double free had aspace freed them */
	pfree(code, 2);
}
