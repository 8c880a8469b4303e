/*
 * The memory calls (see mman.h).
 *
 * A file mapping maps the file's page-owning object (mm/vmobj.h): the pages
 * of a tmpfs file itself for MAP_SHARED, so the mapping and read()/write()
 * see the same bytes; the same pages read-only for MAP_PRIVATE, copied on
 * the first write. mmap is O(1): pages are mapped on first touch.
 */
#include "kernel/mman.h"

#include <solo/uapi/syscall.h>

#include "fs/fdtable.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/mman.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "mm/aspace.h"
#include "mm/vmobj.h"

_Static_assert(MREMAP_MAYMOVE == ASPACE_REMAP_MAYMOVE && MREMAP_FIXED == ASPACE_REMAP_FIXED,
	       "aspace_remap takes Linux's MREMAP_* bits");

SYSCALL_DEFINE1(brk, uint64_t, addr)
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

/* Maps anonymous memory (obj NULL) or obj at virt (0: anywhere). */
static long map_at(struct aspace *as, vaddr_t virt, size_t size, unsigned flags, struct vmobj *obj,
		   uint64_t offset, int shared)
{
	if (!obj && shared)
		return aspace_map_shared_anon(as, virt, size, flags);
	if (!obj)
		return aspace_map(as, 0, virt, size, flags);
	return aspace_map_object(as, virt, size, flags, obj, offset, shared);
}

/*
 * mmap: anonymous memory is demand-zero pages in the default region, the
 * same as map_memory without phys; a file is its object's pages (see the
 * top). MAP_SHARED and MAP_SHARED_VALIDATE share the file's pages; a
 * shared anonymous mapping is private memory (one process: nothing else
 * could see it) that MADV_FREE refuses, as Linux does. Writing a shared file mapping needs an fd
 * open for writing, any file mapping one open for reading (EACCES, as on Linux). PROT_NONE reserves
 * without access. MAP_FIXED over an existing mapping replaces it, as on Linux; any other address is
 * a hint, taken when the range there is free. With overcommit=strict (mm/commit.h) private
 * writable memory is charged here, and mmap, brk, mprotect to writable and mremap growth answer
 * ENOMEM past what RAM can back, as Linux's vm.overcommit_memory=2 does (MAP_NORESERVE changes
 * nothing there either); a MAP_FIXED that fails so has already unmapped what was in its range,
 * as on Linux.
 */
SYSCALL_DEFINE6(mmap, uint64_t, addr, uint64_t, len, uint64_t, prot, uint64_t, flags, int, fd,
		uint64_t, offset)
{
	uint64_t size = ALIGN_UP(len, PAGE_SIZE), type = flags & MAP_TYPE;
	long vm = prot_flags(prot);
	struct vmobj *obj = NULL;
	struct aspace *as = app_aspace();
	int shared = type != MAP_PRIVATE;

	if (!len || size < len || vm < 0)
		return -EINVAL;
	if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return -EACCES; /* W^X, see sys_mprotect */
	if (!(flags & MAP_ANONYMOUS)) {
		struct file *f = fd_get(fd);
		if (!f || (f->flags & O_PATH))
			return -EBADF;
		if (offset & (PAGE_SIZE - 1))
			return -EINVAL;
		if (!f->ops->mmap)
			return -ENODEV;
		if (!file_readable(f) || (shared && (prot & PROT_WRITE) && !file_writable(f)))
			return -EACCES;
		int err = f->ops->mmap(f, &obj); /* NULL: anonymous memory (/dev/zero) */
		if (err)
			return err;
	}
	long ret;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1)) {
			ret = -EINVAL;
			goto out;
		}
		if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE))
			aspace_unmap_range(as, addr, size); /* fine if nothing was there */
		ret = map_at(as, addr, size, (unsigned)vm, obj, offset, shared);
		goto out;
	}
	/* A hint is followed when that range is free, as Linux does (Go
	 * places its heap arenas by hints); otherwise the lowest free range. */
	ret = -EEXIST;
	if (addr >= VM_USER_BASE && addr < VM_USER_TOP && size <= VM_USER_TOP - addr)
		ret = map_at(as, ALIGN_DOWN(addr, PAGE_SIZE), size, (unsigned)vm, obj, offset,
			     shared);
	if (ret < 0)
		ret = map_at(as, 0, size, (unsigned)vm, obj, offset, shared);
out:
	if (obj)
		vmobj_release(obj); /* the mapping holds its own */
	return ret;
}

/* munmap: any mix of mappings and holes (an mprotect'ed range is several
 * regions); the image, heap and stack are refused with -EINVAL. */
SYSCALL_DEFINE2(munmap, uint64_t, addr, uint64_t, len)
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
SYSCALL_DEFINE3(mprotect, uint64_t, addr, uint64_t, len, uint64_t, prot)
{
	uint64_t size = ALIGN_UP(len, PAGE_SIZE);
	long vm = prot_flags(prot);

	if ((addr & (PAGE_SIZE - 1)) || size < len || vm < 0)
		return -EINVAL;
	if (!len)
		return 0;
	return aspace_protect(app_aspace(), addr, size, (unsigned)vm);
}

/* MADV_DONTNEED frees the pages (the next touch reads zeroes, or the
 * file's bytes again in a file mapping, as on Linux). MADV_FREE is lazy,
 * as on Linux: the pages stay until memory runs short, a write keeps one,
 * and only a page reclaimed unwritten reads zeroes afterwards (musl's
 * malloc gives freed groups back this way, and reuses them soon). Other
 * advice is accepted and has no effect. */
SYSCALL_DEFINE3(madvise, uint64_t, addr, uint64_t, len, int, advice)
{
	uint64_t size = ALIGN_UP(len, PAGE_SIZE);

	if ((addr & (PAGE_SIZE - 1)) || size < len)
		return -EINVAL;
	if (!len)
		return 0;
	if (advice == MADV_DONTNEED)
		return aspace_dontneed(app_aspace(), addr, size);
	if (advice == MADV_FREE)
		return aspace_free_lazily(app_aspace(), addr, size);
	return 0;
}

/*
 * mremap of an mmap'd range (musl's realloc does this for large blocks):
 * shrinks in place, grows in place when the pages after it are free, and
 * otherwise moves with MREMAP_MAYMOVE by moving the page-table entries, so
 * the data is never copied. MREMAP_DONTUNMAP is not supported (-EINVAL).
 */
SYSCALL_DEFINE5(mremap, uint64_t, old, uint64_t, old_len, uint64_t, new_len, uint64_t, flags,
		uint64_t, new_addr)
{
	uint64_t old_size = ALIGN_UP(old_len, PAGE_SIZE), new_size = ALIGN_UP(new_len, PAGE_SIZE);

	if ((old & (PAGE_SIZE - 1)) || old_size < old_len || new_size < new_len ||
	    (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	return aspace_remap(app_aspace(), old, old_size, new_size, (unsigned)flags, new_addr);
}

/* msync: memory is never written back anywhere. mlock and friends: never
 * paged out. */
SYSCALL_DEFINE3(msync, uint64_t, addr, uint64_t, len, int, flags)
{
	(void)len;
	if ((addr & (PAGE_SIZE - 1)) || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
	    (flags & (MS_ASYNC | MS_SYNC)) == (MS_ASYNC | MS_SYNC))
		return -EINVAL;
	return 0;
}

SYSCALL_DEFINE2(mlock, uint64_t, addr, uint64_t, len)
{
	(void)addr;
	(void)len;
	return 0;
}

SYSCALL_DEFINE2(munlock, uint64_t, addr, uint64_t, len)
{
	(void)addr;
	(void)len;
	return 0;
}

SYSCALL_DEFINE1(mlockall, int, flags)
{
	(void)flags;
	return 0;
}

SYSCALL_DEFINE0(munlockall)
{
	return 0;
}

/* ---------------------------------------------------------------- native calls */

/* SOLO_MAP_* (the app's ABI) -> VM_* (the kernel's); -1 for unknown bits. */
static long map_flags(uint64_t flags)
{
	if (flags & ~(uint64_t)(SOLO_MAP_WRITE | SOLO_MAP_EXEC | SOLO_MAP_UNCACHED |
				SOLO_MAP_WRITE_COMBINING))
		return -1;
	return ((flags & SOLO_MAP_WRITE) ? VM_WRITE : 0) | ((flags & SOLO_MAP_EXEC) ? VM_EXEC : 0) |
	       ((flags & SOLO_MAP_UNCACHED) ? VM_UNCACHED : 0) |
	       ((flags & SOLO_MAP_WRITE_COMBINING) ? VM_WRITE_COMBINING : 0);
}

SYSCALL_DEFINE4(map_memory, uint64_t, phys, uint64_t, virt, uint64_t, size, uint64_t, flags)
{
	long vm = map_flags(flags);

	if (vm < 0)
		return -EINVAL;
	return aspace_map(app_aspace(), phys, virt, size, (unsigned)vm);
}

SYSCALL_DEFINE2(unmap_memory, uint64_t, base, uint64_t, size)
{
	return aspace_unmap(app_aspace(), base, size);
}

SYSCALL_DEFINE2(increase_heap, uint64_t, size, uint64_t, flags)
{
	long vm = map_flags(flags);

	if (vm < 0)
		return -EINVAL;
	return aspace_increase_heap(app_aspace(), size, (unsigned)vm);
}

SYSCALL_DEFINE1(decrease_heap, uint64_t, size)
{
	return aspace_decrease_heap(app_aspace(), size);
}

SYSCALL_DEFINE1(mem_stats, uint64_t, out)
{
	struct aspace_stats st;
	struct solo_mem_stats user;

	_Static_assert(REGION_KINDS == SOLO_REGION_KINDS, "mem_stats regions match the ABI");
	_Static_assert(REGION_IMAGE == SOLO_REGION_IMAGE && REGION_HEAP == SOLO_REGION_HEAP &&
			   REGION_MAPPING == SOLO_REGION_MAPPING &&
			   REGION_DEVICE == SOLO_REGION_DEVICE && REGION_STACK == SOLO_REGION_STACK,
		       "region numbering matches the ABI");
	aspace_get_stats(app_aspace(), &st);
	for (int k = 0; k < REGION_KINDS; k++) {
		user.reserved_pages[k] = st.reserved[k];
		user.backed_pages[k] = st.backed[k];
	}
	user.system_free_pages = st.system_free_pages;
	return app_copy_to(out, &user, sizeof(user));
}
