/*
 * The descriptor table (see fdtable.h): one array for the one process,
 * shared by its threads.
 */
#include "fs/fdtable.h"

#include "fs/tty.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"

struct fd_slot {
	struct file *file;
	int cloexec;
};

static struct fd_slot fds[FD_MAX];
static uint64_t nofile_cur = FD_MAX, nofile_max = FD_MAX;

void fd_get_limits(uint64_t *cur, uint64_t *max)
{
	*cur = nofile_cur;
	*max = nofile_max;
}

int fd_set_limits(uint64_t cur, uint64_t max)
{
	if (cur > max)
		return -EINVAL;
	if (max > FD_MAX)
		return -EPERM;
	nofile_cur = cur;
	nofile_max = max;
	return 0;
}

int fd_limit(void)
{
	return (int)nofile_cur;
}

int fd_table_init(void)
{
	struct file *console;
	int err = tty_open_console(O_RDWR, &console);

	if (err)
		return err;
	for (int i = 0; i < 3; i++)
		fd_install_at(i, console, 0);
	file_put(console);
	return 0;
}

void fd_table_release(void)
{
	for (int i = 0; i < FD_MAX; i++)
		fd_close(i);
}

struct file *fd_get(int fd)
{
	return fd >= 0 && fd < FD_MAX ? fds[fd].file : NULL;
}

int fd_install(int min, struct file *f, int cloexec)
{
	if (min < 0 || min >= fd_limit())
		return -EINVAL;
	for (int fd = min; fd < fd_limit(); fd++) {
		if (!fds[fd].file) {
			file_get(f);
			fds[fd] = (struct fd_slot){f, cloexec};
			return fd;
		}
	}
	return -EMFILE;
}

int fd_install_at(int fd, struct file *f, int cloexec)
{
	struct file *old;

	if (fd < 0 || fd >= fd_limit())
		return -EBADF;
	file_get(f); /* first: the slot may hold f itself */
	old = fds[fd].file;
	fds[fd] = (struct fd_slot){f, cloexec};
	if (old)
		file_put(old);
	return fd;
}

int fd_close(int fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	fds[fd].file = NULL;
	file_put(f);
	return 0;
}

int fd_cloexec(int fd)
{
	return fd_get(fd) ? fds[fd].cloexec : 0;
}

void fd_set_cloexec(int fd, int on)
{
	if (fd_get(fd))
		fds[fd].cloexec = on;
}

SYSCALL_DEFINE1(close, int, fd)
{
	return fd_close(fd);
}

SYSCALL_DEFINE1(dup, int, fd)
{
	struct file *f = fd_get(fd);

	return f ? fd_install(0, f, 0) : -EBADF;
}

SYSCALL_DEFINE2(dup2, int, oldfd, int, newfd)
{
	if (!fd_get(oldfd))
		return -EBADF;
	if (oldfd == newfd)
		return newfd;
	return fd_install_at(newfd, fd_get(oldfd), 0);
}

SYSCALL_DEFINE3(dup3, int, oldfd, int, newfd, unsigned, flags)
{
	if (flags & ~(unsigned)O_CLOEXEC)
		return -EINVAL;
	if (!fd_get(oldfd))
		return -EBADF;
	if (oldfd == newfd)
		return -EINVAL;
	return fd_install_at(newfd, fd_get(oldfd), (flags & O_CLOEXEC) != 0);
}

#define CLOSE_RANGE_UNSHARE 2u
#define CLOSE_RANGE_CLOEXEC 4u

SYSCALL_DEFINE3(close_range, unsigned, first, unsigned, last, unsigned, flags)
{
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last)
		return -EINVAL;
	for (unsigned fd = first; fd <= last && fd < FD_MAX; fd++) {
		if (flags & CLOSE_RANGE_CLOEXEC)
			fd_set_cloexec((int)fd, 1);
		else
			fd_close((int)fd);
	}
	return 0;
}
