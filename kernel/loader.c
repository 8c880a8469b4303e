/*
 * App loader (see loader.h). Segments that share a page (a text end and a
 * data start in one 4 KiB page) get the union of their permissions on that
 * page, as on Linux; everything else gets exactly its p_flags.
 */
#include "kernel/loader.h"

#include "kernel/abi/process.h"
#include "kernel/abi/signal.h"

#include "kernel/arch/x86_64/arch.h"
#include "kernel/elf.h"
#include "kernel/arch/x86_64/mmu.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"

static int aslr = 1;

void loader_set_aslr(int on)
{
	aslr = on;
}

/* A random number below limit (0 with ASLR off). */
static uint64_t random_below(uint64_t limit)
{
	uint64_t r;

	if (!aslr || !limit)
		return 0;
	arch_random_bytes(&r, sizeof(r));
	return r % limit;
}

static unsigned segment_flags(uint32_t p_flags)
{
	unsigned flags = VM_USER;

	if (p_flags & ELF_PF_W)
		flags |= VM_WRITE;
	if (p_flags & ELF_PF_X)
		flags |= VM_EXEC;
	return flags;
}

/* Backs [start, end) with zeroed pages, or widens the permissions of pages
 * already there (shared with the previous segment). */
static int back_range(struct vm_ctx *ctx, vaddr_t start, vaddr_t end, unsigned flags)
{
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		unsigned old;

		if (!vm_lookup(ctx, va, NULL, &old)) {
			vm_protect(ctx, va, (old | flags) & (VM_USER | VM_WRITE | VM_EXEC));
			continue;
		}
		paddr_t pa = palloc(1);
		if (!pa)
			return -ENOMEM;
		mmu_zero_page(phys_to_virt(pa));
		int err = vm_map(ctx, va, pa, flags);
		if (err) {
			pfree(pa, 1);
			return err;
		}
	}
	return 0;
}

int loader_load(const void *elf, size_t size, struct aspace *as, struct app_image *img,
		const char **why)
{
	struct vm_ctx *ctx = &as->ctx;
	struct elf_image info;
	int err;

	memset(img, 0, sizeof(*img));
	if (elf_check(elf, size, ELF_TARGET_APP, &info, why))
		return -ENOEXEC;
	if (info.type == ELF_ET_DYN) {
		uint64_t pages = 2 * LOADER_PIE_SPAN / PAGE_SIZE;
		uint64_t base = LOADER_PIE_BASE;
		if (aslr)
			base = LOADER_PIE_BASE - LOADER_PIE_SPAN + random_below(pages) * PAGE_SIZE;
		img->load_base = base - info.vaddr_min;
	}
	err = aspace_add_image(as, img->load_base + info.vaddr_min,
			       (info.vaddr_max - info.vaddr_min) / PAGE_SIZE);
	if (err) {
		*why = "no room for the app's segments";
		return err;
	}
	for (unsigned i = 0; i < info.phnum; i++) {
		const struct elf64_phdr *ph = &info.phdrs[i];
		if (ph->p_type != ELF_PT_LOAD || ph->p_memsz == 0)
			continue;
		vaddr_t start = img->load_base + ph->p_vaddr;
		vaddr_t first = start & ~(vaddr_t)(PAGE_SIZE - 1);
		vaddr_t last = (start + ph->p_memsz + PAGE_SIZE - 1) & ~(vaddr_t)(PAGE_SIZE - 1);

		err = back_range(ctx, first, last, segment_flags(ph->p_flags));
		if (!err)
			err = vm_copy_to_mapped(ctx, start, (const char *)elf + ph->p_offset,
						ph->p_filesz);
		if (err) {
			*why = "out of memory while loading the app";
			return err;
		}
	}
	/* Pages between segments (alignment gaps) are part of the image range
	 * but unbacked: map nothing there, so touching them faults and kills. */
	img->entry = img->load_base + info.entry;
	img->phdr = info.phdr_vaddr ? img->load_base + info.phdr_vaddr : 0;
	img->phnum = info.phnum;
	img->image_end = img->load_base + info.vaddr_max;
	err = aspace_init_heap(as, img->image_end);
	if (err)
		*why = "no room for the heap";
	return err;
}

/* The stack image is assembled in a kernel buffer that mirrors the top of the
 * user stack, then copied out in one go. */
struct stack_builder {
	char *buf;
	size_t size;
	size_t used; /* bytes taken from the top */
	vaddr_t user_top;
};

static vaddr_t push_bytes(struct stack_builder *sb, const void *data, size_t len)
{
	if (len > sb->size - sb->used)
		return 0;
	sb->used += len;
	memcpy(sb->buf + sb->size - sb->used, data, len);
	return sb->user_top - sb->used;
}

static vaddr_t push_string(struct stack_builder *sb, const char *s)
{
	return push_bytes(sb, s, strlen(s) + 1);
}

int loader_build_stack(struct aspace *as, struct app_image *img, uint64_t stack_size, int argc,
		       const char *const *argv, int envc, const char *const *envp)
{
	vaddr_t top = ASPACE_STACK_TOP - random_below(LOADER_STACK_PAGES + 1) * PAGE_SIZE;
	struct stack_builder sb = {.size = LOADER_MAX_ARGS_SIZE, .user_top = top};
	int err;

	sb.buf = kmalloc(sb.size);
	if (!sb.buf)
		return -ENOMEM;
	/* A random gap of 16-byte units (less than a page) above the strings. */
	sb.used = random_below(PAGE_SIZE / 16) * 16;
	memset(sb.buf + sb.size - sb.used, 0, sb.used);

	err = -E2BIG;
	size_t nptrs = 1 + (size_t)argc + 1 + (size_t)envc + 1;
	vaddr_t *ptrs = kmalloc(nptrs * sizeof(vaddr_t));
	if (!ptrs)
		goto free_buf;

	unsigned char random[16];
	arch_random_bytes(random, sizeof(random));
	vaddr_t execfn = push_string(&sb, argc ? argv[0] : "app");
	vaddr_t platform = push_string(&sb, "x86_64");
	vaddr_t random_at = push_bytes(&sb, random, sizeof(random));
	size_t n = 0;
	ptrs[n++] = (vaddr_t)argc;
	for (int i = 0; i < argc; i++)
		if (!(ptrs[n++] = push_string(&sb, argv[i])))
			goto free_ptrs;
	ptrs[n++] = 0;
	for (int i = 0; i < envc; i++)
		if (!(ptrs[n++] = push_string(&sb, envp[i])))
			goto free_ptrs;
	ptrs[n++] = 0;
	if (!execfn || !platform || !random_at)
		goto free_ptrs;

	uint64_t auxv[][2] = {
	    {AT_PHDR, img->phdr},
	    {AT_PHENT, sizeof(struct elf64_phdr)},
	    {AT_PHNUM, img->phnum},
	    {AT_PAGESZ, PAGE_SIZE},
	    {AT_BASE, 0},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, img->entry},
	    {AT_UID, 0},
	    {AT_EUID, 0},
	    {AT_GID, 0},
	    {AT_EGID, 0},
	    {AT_SECURE, 0},
	    {AT_CLKTCK, 100},
	    {AT_HWCAP, arch_hwcap()},
	    {AT_HWCAP2, 0},
	    {AT_MINSIGSTKSZ, MINSIGSTKSZ},
	    {AT_PLATFORM, platform},
	    {AT_RANDOM, random_at},
	    {AT_EXECFN, execfn},
	    {AT_SYSINFO_EHDR, img->vdso_base},
	    {AT_NULL, 0},
	};
	size_t nauxv = ARRAY_SIZE(auxv);
	if (!img->vdso_base) { /* no vDSO: the entry is left out, as Linux does */
		nauxv--;
		auxv[nauxv - 1][0] = AT_NULL;
	}

	/* rsp must be 16-byte aligned at argc: align the string area, then pad
	 * so that pointers + auxv end on the alignment. */
	size_t words = nptrs + 2 * nauxv;
	sb.used = ALIGN_UP(sb.used, 16);
	if (words & 1)
		sb.used += 8;
	if (sb.used > sb.size)
		goto free_ptrs;
	if (!push_bytes(&sb, auxv, nauxv * sizeof(auxv[0])) ||
	    !push_bytes(&sb, ptrs, nptrs * sizeof(vaddr_t)))
		goto free_ptrs;
	/* The start-up data plus at least one free page must fit the reserve. */
	size_t initial_pages = ALIGN_UP(sb.used, PAGE_SIZE) / PAGE_SIZE + 1;
	if (initial_pages * PAGE_SIZE > stack_size)
		goto free_ptrs;
	err = aspace_init_stack(as, top, stack_size / PAGE_SIZE, initial_pages);
	if (err)
		goto free_ptrs;

	img->stack_pointer = sb.user_top - sb.used;
	err = vm_copy_to_user(&as->ctx, img->stack_pointer, sb.buf + sb.size - sb.used, sb.used);
free_ptrs:
	kfree(ptrs);
free_buf:
	kfree(sb.buf);
	return err;
}
