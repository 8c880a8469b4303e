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
		if (vm_copy_from_user(app_context(), chunk, buf + done, n))
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
		if (vm_copy_from_user(app_context(), &iov, iov_addr + i * sizeof(iov), sizeof(iov)))
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
		return vm_copy_to_user(app_context(), addr, &fs, sizeof(fs));
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

static const struct {
	syscall_fn fn;
	const char *name;
} syscalls[] = {
    [SYS_write] = {sys_write, "write"},
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

	if (nr < ARRAY_SIZE(syscalls) && syscalls[nr].fn) {
		f->rax = (uint64_t)syscalls[nr].fn(f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
	} else {
		log_unsupported(nr);
		f->rax = (uint64_t)-ENOSYS;
	}
	/* sysret to a non-canonical rip would fault in ring 0 on Intel CPUs. */
	if (f->rip >= VM_USER_TOP)
		app_kill(SIGSEGV, "return to a non-canonical address", f->rip, f->rip);
}
