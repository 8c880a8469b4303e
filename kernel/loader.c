/*
 * App loader (see loader.h). Segments that share a page (a text end and a
 * data start in one 4 KiB page) get the union of their permissions on that
 * page, as on Linux; everything else gets exactly its p_flags.
 */
#include "kernel/loader.h"

#include "kernel/abi/process.h"
#include "kernel/abi/signal.h"

#include "fs/file.h"
#include "fs/iobuf.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/mmu.h"
#include "kernel/elf.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
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

/* Records [bias + vaddr_min, bias + vaddr_max) as an IMAGE region and
 * copies every PT_LOAD of the checked file there. */
static int map_segments(struct aspace *as, const void *elf, const struct elf_image *info,
			uint64_t bias)
{
	int err = aspace_add_image(as, bias + info->vaddr_min,
				   (info->vaddr_max - info->vaddr_min) / PAGE_SIZE);

	if (err)
		return err;
	for (unsigned i = 0; i < info->phnum; i++) {
		const struct elf64_phdr *ph = &info->phdrs[i];
		if (ph->p_type != ELF_PT_LOAD || ph->p_memsz == 0)
			continue;
		vaddr_t start = bias + ph->p_vaddr;
		vaddr_t first = start & ~(vaddr_t)(PAGE_SIZE - 1);
		vaddr_t last = (start + ph->p_memsz + PAGE_SIZE - 1) & ~(vaddr_t)(PAGE_SIZE - 1);

		err = back_range(&as->ctx, first, last, segment_flags(ph->p_flags));
		if (!err)
			err = vm_copy_to_mapped(&as->ctx, start, (const char *)elf + ph->p_offset,
						ph->p_filesz);
		if (err)
			return err;
	}
	/* Pages between segments (alignment gaps) are part of the image range
	 * but unbacked: map nothing there, so touching them faults and kills. */
	return 0;
}

int loader_read_file(const char *path, void **buf, size_t *size, const char **why)
{
	struct inode *ino;
	struct file *f;
	uint64_t pos = 0;
	size_t done = 0;
	int err = vfs_lookup(NULL, path, 0, &ino);

	if (err) {
		*why = err == -ENOENT	 ? "no such file in the root file system"
		       : err == -ENOTDIR ? "a component of the path is not a directory"
		       : err == -ELOOP	 ? "too many levels of symbolic links"
					 : "bad path";
		return err;
	}
	if (!S_ISREG(ino->mode)) {
		*why = "not a regular file";
		return -EACCES;
	}
	if (!(ino->mode & 0111)) {
		*why = "not executable (no x permission bit)";
		return -EACCES;
	}
	if (ino->size == 0 || ino->size > LOADER_MAX_FILE) {
		*why = ino->size ? "larger than 1 GiB" : "empty file";
		return ino->size ? -EFBIG : -ENOEXEC;
	}
	*size = ino->size;
	*buf = kmalloc(*size);
	if (!*buf) {
		*why = "out of memory to read it";
		return -ENOMEM;
	}
	err = vfs_open(ino, O_RDONLY, &f);
	while (!err && done < *size) {
		struct iobuf b;
		iobuf_kernel(&b, (char *)*buf + done, *size - done);
		long n = file_read(f, &b, &pos);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (!err)
		file_put(f);
	if (err || done != *size) {
		kfree(*buf);
		*buf = NULL;
		*why = "read error";
		return err ? err : -EIO;
	}
	return 0;
}

/* Why the interpreter could not be loaded, naming it. */
static char interp_reason[ELF_INTERP_MAX + 128];

static int interp_fail(const char **why, const char *path, const char *reason, int err)
{
	ksnprintf(interp_reason, sizeof(interp_reason), "interpreter %s: %s", path, reason);
	*why = interp_reason;
	return err;
}

/* Loads the interpreter at path (the program's PT_INTERP) as Linux does:
 * an ET_DYN one at its own base (see LOADER_INTERP_BASE), an ET_EXEC one
 * where it says. Its bytes are copied, then the file buffer is freed. */
static int load_interp(struct aspace *as, const char *path, struct app_image *img, const char **why)
{
	struct elf_image info;
	const char *reason;
	size_t size;
	void *buf;
	int err = loader_read_file(path, &buf, &size, &reason);

	if (err)
		return interp_fail(why, path, reason, err);
	if (elf_check(buf, size, ELF_TARGET_APP, &info, &reason)) {
		err = interp_fail(why, path, reason, -ENOEXEC);
		goto free_buf;
	}
	if (info.interp) {
		err = interp_fail(why, path, "is itself dynamically linked (has PT_INTERP)",
				  -ENOEXEC);
		goto free_buf;
	}
	uint64_t bias = 0;
	if (info.type == ELF_ET_DYN) {
		uint64_t pages = (LOADER_INTERP_SPAN - ELF_MAX_SPAN) / PAGE_SIZE;
		uint64_t base = LOADER_INTERP_BASE;
		if (aslr)
			base = LOADER_INTERP_BASE - LOADER_INTERP_SPAN +
			       random_below(pages) * PAGE_SIZE;
		bias = base - info.vaddr_min;
	}
	err = map_segments(as, buf, &info, bias);
	if (err) {
		err = interp_fail(why, path,
				  err == -ENOMEM ? "out of memory while loading it"
						 : "its segments overlap the program",
				  err);
		goto free_buf;
	}
	img->interp_base = bias;
	img->entry = bias + info.entry;
free_buf:
	kfree(buf);
	return err;
}

int loader_load(const void *elf, size_t size, struct aspace *as, struct app_image *img,
		const char **why)
{
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
	err = map_segments(as, elf, &info, img->load_base);
	if (err) {
		*why = err == -ENOMEM ? "out of memory while loading the app"
				      : "no room for the app's segments";
		return err;
	}
	img->prog_entry = img->load_base + info.entry;
	img->entry = img->prog_entry;
	img->phdr = info.phdr_vaddr ? img->load_base + info.phdr_vaddr : 0;
	img->phnum = info.phnum;
	img->image_end = img->load_base + info.vaddr_max;
	/* The heap follows the program, never the interpreter (Linux's brk). */
	err = aspace_init_heap(as, img->image_end);
	if (err) {
		*why = "no room for the heap";
		return err;
	}
	if (info.interp)
		err = load_interp(as, info.interp, img, why);
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
	vaddr_t execfn = push_string(&sb, img->execfn ? img->execfn : argc ? argv[0] : "app");
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
	    {AT_BASE, img->interp_base},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, img->prog_entry},
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
	_Static_assert(ARRAY_SIZE(auxv) <= LOADER_AUXV_MAX, "img->auxv holds the whole auxv");
	memcpy(img->auxv, auxv, nauxv * sizeof(auxv[0]));
	img->auxv_len = nauxv * sizeof(auxv[0]);

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
