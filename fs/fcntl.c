/* fcntl, ioctl and flock (see fcntl.h). */
#include "fs/fcntl.h"

#include "fs/fdtable.h"
#include "fs/pipe.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/thread.h"
#include "mm/kmalloc.h"

#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

/* ---------------------------------------------------------------- flock */

/* One flock() lock: what it locks (the inode, or the file itself when it
 * has none), the description holding it, and LOCK_SH or LOCK_EX. */
struct flock_entry {
	const void *key;
	struct file *owner;
	int type;
	struct flock_entry *next;
};

static struct flock_entry *flocks;
static struct waitq flock_waiters = WAITQ_INIT;

static const void *flock_key(const struct file *f)
{
	return f->inode ? (const void *)f->inode : (const void *)f;
}

static struct flock_entry **find_owned(const struct file *f)
{
	struct flock_entry **pp = &flocks;

	while (*pp && (*pp)->owner != f)
		pp = &(*pp)->next;
	return pp;
}

/* Drops f's lock; waiters try again. */
static void unlock(struct file *f)
{
	struct flock_entry **pp = find_owned(f), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	kfree(e);
	waitq_wake(&flock_waiters, 0);
}

void flock_file_closed(struct file *f)
{
	if (flocks)
		unlock(f);
}

/* Whether another description holds a lock on f's key that type conflicts
 * with. */
static int conflicts(const struct file *f, int type)
{
	for (struct flock_entry *e = flocks; e; e = e->next) {
		if (e->owner != f && e->key == flock_key(f) &&
		    (type == LOCK_EX || e->type == LOCK_EX))
			return 1;
	}
	return 0;
}

SYSCALL_DEFINE2(flock, int, fd, int, op)
{
	struct file *f = fd_get(fd);
	int type = op & ~LOCK_NB;

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (type == LOCK_UN) {
		unlock(f);
		return 0;
	}
	if (type != LOCK_SH && type != LOCK_EX)
		return -EINVAL;
	struct flock_entry *mine = *find_owned(f);
	if (mine && mine->type == type)
		return 0;
	if (conflicts(f, type)) {
		/* A conversion gives the old lock up first, as Linux does. */
		if (mine)
			unlock(f);
		if (op & LOCK_NB)
			return -EAGAIN;
		int err = thread_wait_on(&flock_waiters);
		return err ? err : thread_wait(0, -ERESTARTSYS, "flock", 0);
	}
	if (mine) {
		mine->type = type;
		return 0;
	}
	mine = kmalloc(sizeof(*mine));
	if (!mine)
		return -ENOLCK;
	*mine = (struct flock_entry){flock_key(f), f, type, flocks};
	flocks = mine;
	return 0;
}

/* ---------------------------------------------------------------- record locks */

/*
 * The app is the only process, so its record locks never conflict with
 * anyone's: every request is granted at once and F_GETLK answers F_UNLCK.
 * What Linux checks is checked: the struct, the lock type, and that a read
 * (write) lock is on a descriptor open for reading (writing).
 */
static long record_lock(struct file *f, int cmd, uint64_t ulock)
{
	struct linux_flock lock;

	if (app_copy_from(&lock, ulock, sizeof(lock)))
		return -EFAULT;
	if (lock.l_type != F_RDLCK && lock.l_type != F_WRLCK && lock.l_type != F_UNLCK)
		return -EINVAL;
	if (lock.l_whence != SEEK_SET && lock.l_whence != SEEK_CUR && lock.l_whence != SEEK_END)
		return -EINVAL;
	if (cmd >= F_OFD_GETLK && lock.l_pid != 0)
		return -EINVAL;
	/* The range must start at or after byte 0, as Linux checks. */
	int64_t base = lock.l_whence == SEEK_CUR   ? (int64_t)f->pos
		       : lock.l_whence == SEEK_END ? (int64_t)(f->inode ? f->inode->size : 0)
						   : 0;
	if ((lock.l_start < 0 && base < -lock.l_start) ||
	    (lock.l_start > 0 && base > INT64_MAX - lock.l_start))
		return -EINVAL;
	int64_t start = base + lock.l_start;
	if (lock.l_len < 0 && (lock.l_len == INT64_MIN || start < -lock.l_len))
		return -EINVAL;
	if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
		lock.l_type = F_UNLCK;
		return app_copy_to(ulock, &lock, sizeof(lock));
	}
	if ((lock.l_type == F_RDLCK && !file_readable(f)) ||
	    (lock.l_type == F_WRLCK && !file_writable(f)))
		return -EBADF;
	return 0;
}

SYSCALL_DEFINE3(fcntl, int, fd, int, cmd, uint64_t, arg)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= (uint64_t)fd_limit())
			return -EINVAL;
		return fd_install((int)arg, f, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return fd_cloexec(fd) ? FD_CLOEXEC : 0;
	case F_SETFD:
		fd_set_cloexec(fd, (arg & FD_CLOEXEC) != 0);
		return 0;
	case F_GETFL:
		return f->flags;
	case F_SETFL:
		if (f->flags & O_PATH)
			return -EBADF;
		f->flags = (f->flags & ~(unsigned)SETFL_FLAGS) | ((unsigned)arg & SETFL_FLAGS);
		return 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return record_lock(f, cmd, arg);
	case F_GETOWN:
	case F_GETSIG:
		return 0;
	case F_SETOWN:
	case F_SETSIG:
		return 0; /* no SIGIO is ever sent */
	case F_GETPIPE_SZ:
		return pipe_buffer_size(f);
	default:
		return -EINVAL;
	}
}

/* ---------------------------------------------------------------- ioctl */

SYSCALL_DEFINE3(ioctl, int, fd, unsigned, cmd, uint64_t, arg)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	switch (cmd) { /* the requests every kind of file takes */
	case FIOCLEX:
	case FIONCLEX:
		fd_set_cloexec(fd, cmd == FIOCLEX);
		return 0;
	case FIONBIO: {
		int32_t on;
		if (app_copy_from(&on, arg, sizeof(on)))
			return -EFAULT;
		f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~(unsigned)O_NONBLOCK;
		return 0;
	}
	case FIOASYNC:
		return 0; /* accepted: no SIGIO is ever sent */
	case FIONREAD:
		/* Regular files answer what is left past the offset; other
		 * kinds their own count. */
		if (f->inode && S_ISREG(f->inode->mode)) {
			uint64_t size = f->inode->size;
			int32_t n =
			    (int32_t)(size > f->pos ? MIN(size - f->pos, (uint64_t)INT32_MAX) : 0);
			return app_copy_to(arg, &n, sizeof(n));
		}
		break;
	}
	return f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
}
