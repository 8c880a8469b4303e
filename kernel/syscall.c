/*
 * Syscall dispatch: Linux x86-64 numbers and conventions (see
 * include/solo/uapi/syscall.h). Every pointer from the app goes through the
 * vm copy helpers, which fail with -EFAULT instead of faulting, so no argument
 * value can crash the kernel. Numbers without a handler return -ENOSYS and
 * are logged once each.
 */
#include "kernel/arch/x86_64/syscall.h"

#include <solo/uapi/syscall.h>

#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"

#define SIGSEGV	     11
#define IOV_MAX	     1024
#define COPY_CHUNK   512
#define LOGGED_WORDS 16 /* numbers below 1024 are logged once each */

typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			   uint64_t a5);

static uint64_t logged_unsupported[LOGGED_WORDS];
static int logged_large_number;

/* Writes app memory [buf, buf + len) to the console. Returns bytes written
 * or -EFAULT when nothing could be read. */
static long console_write_user(uint64_t buf, uint64_t len)
{
	char chunk[COPY_CHUNK];
	uint64_t done = 0;

	while (done < len) {
		size_t n = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
		if (app_copy_from(chunk, buf + done, n))
			return done ? (long)done : -EFAULT;
		console_write(chunk, n);
		done += n;
	}
	return (long)done;
}

static int is_console_fd(uint64_t fd)
{
	return fd == 1 || fd == 2;
}

static long sys_write(uint64_t fd, uint64_t buf, uint64_t len, uint64_t a3, uint64_t a4,
		      uint64_t a5)
{
	if (!is_console_fd(fd))
		return -EBADF;
	if ((int64_t)len < 0)
		return -EINVAL;
	return console_write_user(buf, len);
}

static long sys_writev(uint64_t fd, uint64_t iov_addr, uint64_t count, uint64_t a3, uint64_t a4,
		       uint64_t a5)
{
	struct {
		uint64_t base;
		uint64_t len;
	} iov;
	long total = 0;

	if (!is_console_fd(fd))
		return -EBADF;
	if (count > IOV_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		if (app_copy_from(&iov, iov_addr + i * sizeof(iov), sizeof(iov)))
			return total ? total : -EFAULT;
		if ((int64_t)iov.len < 0 || iov.len > (uint64_t)INT64_MAX - (uint64_t)total)
			return total ? total : -EINVAL;
		long n = console_write_user(iov.base, iov.len);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((uint64_t)n < iov.len)
			break;
	}
	return total;
}

static long sys_exit(uint64_t status, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5)
{
	app_exit((int)(status & 0xff));
}

static long sys_arch_prctl(uint64_t code, uint64_t addr, uint64_t a2, uint64_t a3, uint64_t a4,
			   uint64_t a5)
{
	uint64_t fs;

	switch (code) {
	case ARCH_SET_FS:
		/* A kernel-half or non-canonical FS base would fault in wrmsr
		 * or let the app address kernel memory through %fs. */
		if (addr >= VM_USER_TOP)
			return -EPERM;
		arch_set_user_fs(addr);
		return 0;
	case ARCH_GET_FS:
		fs = arch_get_user_fs();
		return app_copy_to(addr, &fs, sizeof(fs));
	default:
		return -EINVAL;
	}
}

static long sys_set_tid_address(uint64_t tidptr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	return 1; /* the app's one thread is tid 1 */
}

static long sys_getpid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return 1;
}

static long sys_ioctl(uint64_t fd, uint64_t request, uint64_t arg, uint64_t a3, uint64_t a4,
		      uint64_t a5)
{
	return fd <= 2 ? -ENOTTY : -EBADF;
}

static long sys_brk(uint64_t addr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return (long)aspace_brk(app_aspace(), addr);
}

#define PROT_READ	    1
#define PROT_WRITE	    2
#define PROT_EXEC	    4
#define MAP_SHARED	    0x01
#define MAP_PRIVATE	    0x02
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_NORESERVE	    0x4000
#define MAP_FIXED_NOREPLACE 0x100000

/*
 * mmap for anonymous private memory: demand-zero pages in the default
 * region, the same as map_memory without phys. File mappings come with the
 * file system. MAP_FIXED over an existing mapping replaces it, as on Linux.
 */
static long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd,
		     uint64_t offset)
{
	unsigned vm = ((prot & PROT_WRITE) ? VM_WRITE : 0) | ((prot & PROT_EXEC) ? VM_EXEC : 0);
	uint64_t size = ALIGN_UP(len, PAGE_SIZE);

	if (!len || size < len || (flags & MAP_SHARED) || !(flags & MAP_PRIVATE))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return -ENODEV;
	if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE))
			aspace_unmap(app_aspace(), addr, size); /* fine if nothing was there */
		return aspace_map(app_aspace(), 0, addr, size, vm);
	}
	return aspace_map(app_aspace(), 0, 0, size, vm); /* a hint address is only a hint */
}

static long sys_munmap(uint64_t addr, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4,
		       uint64_t a5)
{
	if ((addr & (PAGE_SIZE - 1)) || !len)
		return -EINVAL;
	return aspace_unmap(app_aspace(), addr, ALIGN_UP(len, PAGE_SIZE));
}

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

static long sys_map_memory(uint64_t phys, uint64_t virt, uint64_t size, uint64_t flags, uint64_t a4,
			   uint64_t a5)
{
	long vm = map_flags(flags);

	if (vm < 0)
		return -EINVAL;
	return aspace_map(app_aspace(), phys, virt, size, (unsigned)vm);
}

static long sys_unmap_memory(uint64_t base, uint64_t size, uint64_t a2, uint64_t a3, uint64_t a4,
			     uint64_t a5)
{
	return aspace_unmap(app_aspace(), base, size);
}

static long sys_increase_heap(uint64_t size, uint64_t flags, uint64_t a2, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	long vm = map_flags(flags);

	if (vm < 0)
		return -EINVAL;
	return aspace_increase_heap(app_aspace(), size, (unsigned)vm);
}

static long sys_decrease_heap(uint64_t size, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	return aspace_decrease_heap(app_aspace(), size);
}

static long sys_mem_stats(uint64_t out, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
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

/* Native calls live at SOLO_SYS_BASE; they get their own small table. */
static const struct {
	syscall_fn fn;
	const char *name;
} solo_syscalls[] = {
    [SOLO_SYS_map_memory - SOLO_SYS_BASE] = {sys_map_memory, "map_memory"},
    [SOLO_SYS_unmap_memory - SOLO_SYS_BASE] = {sys_unmap_memory, "unmap_memory"},
    [SOLO_SYS_increase_heap - SOLO_SYS_BASE] = {sys_increase_heap, "increase_heap"},
    [SOLO_SYS_decrease_heap - SOLO_SYS_BASE] = {sys_decrease_heap, "decrease_heap"},
    [SOLO_SYS_mem_stats - SOLO_SYS_BASE] = {sys_mem_stats, "mem_stats"},
};

static const struct {
	syscall_fn fn;
	const char *name;
} syscalls[] = {
    [SYS_write] = {sys_write, "write"},
    [SYS_mmap] = {sys_mmap, "mmap"},
    [SYS_munmap] = {sys_munmap, "munmap"},
    [SYS_brk] = {sys_brk, "brk"},
    [SYS_ioctl] = {sys_ioctl, "ioctl"},
    [SYS_writev] = {sys_writev, "writev"},
    [SYS_getpid] = {sys_getpid, "getpid"},
    [SYS_exit] = {sys_exit, "exit"},
    [SYS_arch_prctl] = {sys_arch_prctl, "arch_prctl"},
    [SYS_set_tid_address] = {sys_set_tid_address, "set_tid_address"},
    [SYS_exit_group] = {sys_exit, "exit_group"},
};

static void log_unsupported(uint64_t nr)
{
	if (nr < LOGGED_WORDS * 64) {
		uint64_t bit = 1ull << (nr % 64);
		if (logged_unsupported[nr / 64] & bit)
			return;
		logged_unsupported[nr / 64] |= bit;
	} else if (logged_large_number++) {
		return;
	}
	kprintf("solo: unsupported syscall %lu\n", nr);
}

void syscall_dispatch(struct syscall_frame *f)
{
	uint64_t nr = f->rax;

	syscall_fn fn = NULL;

	if (nr < ARRAY_SIZE(syscalls))
		fn = syscalls[nr].fn;
	else if (nr - SOLO_SYS_BASE < ARRAY_SIZE(solo_syscalls))
		fn = solo_syscalls[nr - SOLO_SYS_BASE].fn;
	if (fn) {
		f->rax = (uint64_t)fn(f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
	} else {
		log_unsupported(nr);
		f->rax = (uint64_t)-ENOSYS;
	}
	/* sysret to a non-canonical rip would fault in ring 0 on Intel CPUs. */
	if (f->rip >= VM_USER_TOP)
		app_kill(SIGSEGV, "return to a non-canonical address", f->rip, f->rip);
}
