/*
 * The Linux memory syscalls (see mman.h): argument checks and the Linux
 * flag words here, the policy in mm/aspace.c.
 *
 * Private file mappings are filled on demand: the region remembers where
 * the file's bytes are in the rootfs archive, and each first touch copies
 * one page from there (the tail past the end of the file zeroed). The
 * archive stays in memory for the whole run (kmain keeps the module), so
 * the pointer stays good after the fd is closed, as a mapping must. The
 * trade-off against filling everything at mmap time: a big file that is
 * mapped but only partly read costs only the pages read, and mmap itself
 * is O(1); the cost is one copy per fault instead of one zeroing, the same
 * work an eager fill does for the pages that are used. (Mapping the
 * archive's own frames read-only would save the copy, but ustar data is
 * only 512-byte aligned, so in general it cannot be.)
 */
#include "kernel/mman.h"

#include "kernel/app.h"
#include "kernel/errno.h"
#include "kernel/fd.h"
#include "kernel/klib.h"
#include "mm/aspace.h"

#define PROT_READ	    1
#define PROT_WRITE	    2
#define PROT_EXEC	    4
#define MAP_SHARED	    0x01
#define MAP_PRIVATE	    0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE	    0x0f
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_NORESERVE	    0x4000
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE	    1
#define MREMAP_FIXED	    2
#define MADV_DONTNEED	    4
#define MADV_FREE	    8

_Static_assert(MREMAP_MAYMOVE == ASPACE_REMAP_MAYMOVE && MREMAP_FIXED == ASPACE_REMAP_FIXED,
	       "aspace_remap takes Linux's MREMAP_* bits");

long sys_brk(uint64_t addr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return (long)aspace_brk(app_aspace(), addr);
}

/* PROT_* -> region flags, or -1 for unknown bits. PROT_NONE is no access
 * at all; any other combination is readable (x86 pages always are). */
static long prot_flags(uint64_t prot)
{
	if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -1;
	if (!prot)
		return ASPACE_NOACCESS;
	return ((prot & PROT_WRITE) ? VM_WRITE : 0) | ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

/*
 * mmap: anonymous memory is demand-zero pages in the default region, the
 * same as map_memory without phys; a file on the rootfs is a private
 * mapping filled by copy on first touch (see the top of the file). With
 * one process and a read-only file system nothing can observe a shared
 * mapping's sharing, so MAP_SHARED behaves as MAP_PRIVATE, except that
 * asking to write a file through it needs an fd open for writing (EACCES,
 * as on Linux). PROT_NONE reserves without access. MAP_FIXED over an
 * existing mapping replaces it, as on Linux; any other address is a hint
 * and is not followed.
 */
long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd,
	      uint64_t offset)
{
	uint64_t size = ALIGN_UP(len, PAGE_SIZE), type = flags & MAP_TYPE;
	long vm = prot_flags(prot);
	const void *data = NULL;
	uint64_t file_size = 0;
	struct aspace *as = app_aspace();

	if (!len || size < len || vm < 0)
		return -EINVAL;
	if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return -EACCES; /* W^X, see sys_mprotect */
	if (!(flags & MAP_ANONYMOUS)) {
		int writable;
		int err = fd_mmap_source(fd, &data, &file_size, &writable);
		if (err)
			return err;
		if (offset & (PAGE_SIZE - 1))
			return -EINVAL;
		if (type != MAP_PRIVATE && (prot & PROT_WRITE) && !writable)
			return -EACCES;
	}
	vaddr_t at = 0; /* a hint address is only a hint */
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE))
			aspace_unmap_range(as, addr, size); /* fine if nothing was there */
		at = addr;
	}
	if (data)
		return aspace_map_file(as, at, size, (unsigned)vm, data, file_size, offset);
	return aspace_map(as, 0, at, size, (unsigned)vm);
}

/* munmap: any mix of mappings and holes (an mprotect'ed range is several
 * regions); the image, heap and stack are refused with -EINVAL. */
long sys_munmap(uint64_t addr, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	if ((addr & (PAGE_SIZE - 1)) || !len || ALIGN_UP(len, PAGE_SIZE) < len)
		return -EINVAL;
	return aspace_unmap_range(app_aspace(), addr, ALIGN_UP(len, PAGE_SIZE));
}

/*
 * mprotect keeps W^X: PROT_WRITE | PROT_EXEC together is -EACCES (what a
 * Linux with an execmem-denying policy, e.g. SELinux or PaX MPROTECT,
 * answers), while write-then-exec flips work, which is how careful JITs
 * run. Solo already refuses W+X mappings everywhere else, and one app in
 * ring 3 with no other isolation is where a writable code page hurts most.
 * PROT_NONE takes every access away (guard pages); backed pages keep their
 * contents for a later mprotect that gives access back.
 */
long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t size = ALIGN_UP(len, PAGE_SIZE);
	long vm = prot_flags(prot);

	if ((addr & (PAGE_SIZE - 1)) || size < len || vm < 0)
		return -EINVAL;
	if (!len)
		return 0;
	return aspace_protect(app_aspace(), addr, size, (unsigned)vm);
}

/* MADV_DONTNEED and MADV_FREE free the pages (the next touch reads zeroes,
 * or the file's bytes again in a file mapping, as on Linux); other advice
 * is accepted and has no effect. */
long sys_madvise(uint64_t addr, uint64_t len, uint64_t advice, uint64_t a3, uint64_t a4,
		 uint64_t a5)
{
	uint64_t size = ALIGN_UP(len, PAGE_SIZE);

	if ((addr & (PAGE_SIZE - 1)) || size < len)
		return -EINVAL;
	if (!len)
		return 0;
	if (advice == MADV_DONTNEED || advice == MADV_FREE)
		return aspace_dontneed(app_aspace(), addr, size);
	return 0;
}

/*
 * mremap of an mmap'd range (musl's realloc does this for large blocks):
 * shrinks in place, grows in place when the pages after it are free, and
 * otherwise moves with MREMAP_MAYMOVE by moving the page-table entries, so
 * the data is never copied. MREMAP_DONTUNMAP is not supported (-EINVAL).
 */
long sys_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t new_addr,
		uint64_t a5)
{
	uint64_t old_size = ALIGN_UP(old_len, PAGE_SIZE), new_size = ALIGN_UP(new_len, PAGE_SIZE);

	if ((old & (PAGE_SIZE - 1)) || old_size < old_len || new_size < new_len ||
	    (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	return aspace_remap(app_aspace(), old, old_size, new_size, (unsigned)flags, new_addr);
}
