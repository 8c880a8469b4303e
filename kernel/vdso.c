/*
 * The vDSO (see vdso.h): the image and the data page are pages of the
 * kernel image (kernel.ld's .vdso.image and .vdso.data), found through the
 * kernel's page tables and given to each app with aspace_map_kernel, which
 * never frees them.
 *
 * The data page is written here only, with vvar.h's sequence protocol: the
 * counter goes odd, the values change, the counter goes even. One CPU today
 * and the kernel never runs while the app does, so no reader sees a write
 * half done; the counter is there for SMP.
 */
#include "kernel/vdso.h"

#include <solo/vvar.h>

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/panic.h"
#include "kernel/time.h"
#include "mm/aspace.h"
#include "mm/vm.h"

#define VDSO_MAP_TRIES 8 /* random places tried before giving up */

extern const char __vdso_image_start[], __vdso_image_end[];

static struct vvar vvar_data __attribute__((section(".vdso.data"), aligned(PAGE_SIZE)));
_Static_assert(sizeof(struct vvar) <= PAGE_SIZE, "the vvar data fits its page");

static int aslr = 1;

void vdso_set_aslr(int on)
{
	aslr = on;
}

void vdso_update(void)
{
	volatile struct vvar *v = &vvar_data;
	uint64_t tsc_base, mult, realtime;

	time_get_params(&tsc_base, &mult, &realtime);
	v->seq++;
	__asm__ volatile("" ::: "memory");
	v->tsc_base = tsc_base;
	v->ns_mult = mult;
	v->realtime_base_ns = realtime;
	v->version = VVAR_VERSION;
	__asm__ volatile("" ::: "memory");
	v->seq++;
}

/* The physical address of npages of the kernel image from va; they are
 * contiguous (the stub loads the kernel in one block). */
static paddr_t kernel_phys(const void *va, size_t npages)
{
	paddr_t first = 0;

	for (size_t i = 0; i < npages; i++) {
		paddr_t pa;
		unsigned flags;

		if (vm_lookup(&kernel_ctx, (vaddr_t)va + i * PAGE_SIZE, &pa, &flags))
			panic("vdso: kernel page %#lx not mapped", (vaddr_t)va + i * PAGE_SIZE);
		if (i == 0)
			first = pa;
		else if (pa != first + i * PAGE_SIZE)
			panic("vdso: kernel pages at %p not contiguous", va);
	}
	return first;
}

/* Maps the data page at at and the code after it; 0 or aspace_map_kernel's
 * error, with nothing left mapped on error. */
static long map_at(struct aspace *as, vaddr_t at, paddr_t data, paddr_t code, size_t code_pages)
{
	long r = aspace_map_kernel(as, data, at, 1, 0);

	if (r < 0)
		return r;
	r = aspace_map_kernel(as, code, at + PAGE_SIZE, code_pages, VM_EXEC);
	if (r < 0) {
		aspace_unmap(as, at, PAGE_SIZE);
		return r;
	}
	return 0;
}

int vdso_map(struct aspace *as, uint64_t *base)
{
	size_t code_pages = (size_t)(__vdso_image_end - __vdso_image_start) / PAGE_SIZE;
	size_t npages = code_pages + 1;
	paddr_t code = kernel_phys(__vdso_image_start, code_pages);
	paddr_t data = kernel_phys(&vvar_data, 1);
	vaddr_t top = ASPACE_DEFAULT_END - npages * PAGE_SIZE;
	long r = -ENOMEM;

	*base = 0;
	for (int i = 0; i < (aslr ? VDSO_MAP_TRIES : 1); i++) {
		uint64_t rnd = 0;

		if (aslr)
			arch_random_bytes(&rnd, sizeof(rnd));
		vaddr_t at = top - rnd % VDSO_ASLR_PAGES * PAGE_SIZE;
		r = map_at(as, at, data, code, code_pages);
		if (r == 0) {
			*base = at + PAGE_SIZE;
			return 0;
		}
		if (r != -EEXIST)
			break;
	}
	return -ENOMEM;
}
