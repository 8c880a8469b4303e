/* Moving bytes through descriptors (see read_write.h). */
#include "fs/read_write.h"

#include "fs/fdtable.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/stat.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "mm/kmalloc.h"

#define SENDFILE_CHUNK 4096
#define RWF_SUPPORTED  0x1fu /* RWF_HIPRI ... RWF_APPEND: accepted as hints */

/*
 * Waits until f may have what the call needs (events), by queuing the
 * thread on f's queues: -EWAITING, or restart when a signal is pending.
 * When f turns out ready already, returns 1: the caller tries again now.
 */
static long wait_file(struct file *f, unsigned events, long restart, const char *what)
{
	uint64_t timeout = f->ops->wait_timeout ? f->ops->wait_timeout(f, events == POLLOUT) : 0;
	uint64_t deadline = timeout ? thread_wait_deadline(timeout) : 0;
	unsigned ready = file_poll(f, thread_poll_table());

	if (ready & (events | POLLERR | POLLHUP | POLLNVAL)) {
		thread_wait_cancel();
		return 1;
	}
	long r = thread_wait(deadline, timeout ? -EINTR : restart, what, 0);
	return r == -ETIMEDOUT ? -EAGAIN : r;
}

long rw_blocking(struct file *f, struct iobuf *b, uint64_t *pos, int writing)
{
	uint64_t total = iobuf_left(b);
	uint64_t done = writing ? thread_wait_progress() : 0; /* earlier attempts' bytes */
	long n;

	iobuf_skip(b, done);
	for (;;) {
		n = writing ? file_write(f, b, pos) : file_read(f, b, pos);
		if (n > 0)
			done += (uint64_t)n;
		/* A read returns what it got; so does a write that failed,
		 * finished or must not wait. */
		if (!writing && n != -EAGAIN)
			return n;
		if (writing && ((n < 0 && n != -EAGAIN) || done == total))
			return done ? (long)done : n;
		if (f->flags & O_NONBLOCK)
			return done ? (long)done : -EAGAIN;
		long w = wait_file(f, writing ? POLLOUT : POLLIN, -ERESTARTSYS,
				   writing ? "write" : "read");
		if (w == 1)
			continue;
		if (w == -EWAITING && writing)
			thread_set_wait_progress(done);
		if (w != -EWAITING && done)
			return (long)done; /* interrupted after some bytes: those */
		return w;
	}
}

/*
 * A read or write in a shared syscall (kernel/syscall.h), at *pos: only of
 * a file whose kind allows it there (file_ops.shared_read, shared_write),
 * never a wait (a kind's -EAGAIN asks for the lock, unless the descriptor
 * is non-blocking: then it is the answer). The offset moves only once the
 * call is sure to stand, and one shared call through a description owns
 * its offset at a time (f->shared_pos_busy; a holder has it to itself
 * anyway), so that calls beside each other through one descriptor take
 * turns as Linux's f_pos lock makes them.
 */
static long rw_shared(struct file *f, struct iobuf *b, uint64_t *pos, int writing)
{
	/* (A kind without offsets, a pipe, has none to own.) */
	int own_pos = pos == &f->pos && f->ops->seek;

	if (!(writing ? f->ops->shared_write : f->ops->shared_read) ||
	    (own_pos && __atomic_exchange_n(&f->shared_pos_busy, 1, __ATOMIC_ACQUIRE)))
		return syscall_needs_lock();
	uint64_t at = *pos;
	long n = writing ? file_write(f, b, &at) : file_read(f, b, &at);
	/* The wait is the locked run's; a non-blocking descriptor's answer is
	 * -EAGAIN itself (Go reads a socket or pipe until it says so). */
	if (n == -EAGAIN && !(f->flags & O_NONBLOCK))
		n = syscall_needs_lock();
	if (own_pos) {
		if (n >= 0 && !syscall_shared_dropped())
			f->pos = at;
		__atomic_store_n(&f->shared_pos_busy, 0, __ATOMIC_RELEASE);
	}
	return n;
}

/* The move at *pos on whichever side of the kernel lock the call runs. */
static long rw_here(struct file *f, struct iobuf *b, uint64_t *pos, int writing)
{
	if (syscall_shared())
		return rw_shared(f, b, pos, writing);
	return rw_blocking(f, b, pos, writing);
}

/* read/write at the file's own position. */
static long at_position(int fd, uint64_t buf, uint64_t count, int writing)
{
	struct file *f = fd_get(fd);
	struct iobuf b;

	if (!f)
		return -EBADF;
	if ((int64_t)count < 0)
		return -EINVAL;
	iobuf_user(&b, buf, count);
	return rw_here(f, &b, &f->pos, writing);
}

SYSCALL_DEFINE3(read, int, fd, uint64_t, buf, uint64_t, count)
{
	return at_position(fd, buf, count, 0);
}

SYSCALL_DEFINE3(write, int, fd, uint64_t, buf, uint64_t, count)
{
	return at_position(fd, buf, count, 1);
}

/* pread/pwrite: the file must have offsets (ESPIPE for pipes, the
 * console, sockets); pos < 0 is EINVAL. */
static long positioned(int fd, struct iobuf *b, int64_t pos, int writing)
{
	struct file *f = fd_get(fd);
	uint64_t at = (uint64_t)pos;

	if (!f)
		return -EBADF;
	if (!f->ops->seek)
		return -ESPIPE;
	if (pos < 0)
		return -EINVAL;
	/* (With O_APPEND the write goes to the end anyway, as on Linux.) */
	return rw_here(f, b, &at, writing);
}

SYSCALL_DEFINE4(pread64, int, fd, uint64_t, buf, uint64_t, count, int64_t, pos)
{
	struct iobuf b;

	if ((int64_t)count < 0)
		return -EINVAL;
	iobuf_user(&b, buf, count);
	return positioned(fd, &b, pos, 0);
}

SYSCALL_DEFINE4(pwrite64, int, fd, uint64_t, buf, uint64_t, count, int64_t, pos)
{
	struct iobuf b;

	if ((int64_t)count < 0)
		return -EINVAL;
	iobuf_user(&b, buf, count);
	return positioned(fd, &b, pos, 1);
}

/* The iovecs a readv or writev copies to the kernel stack; more are
 * allocated (n <= IOV_MAX: 16 KiB do not belong on the stack), which a
 * shared syscall may not do, so it asks for the kernel lock. */
#define IOV_ON_STACK 8

/*
 * The iovec array of readv/writev into kernel memory, stack (IOV_ON_STACK
 * entries) when it fits, with its total: -EINVAL when n is too large or
 * the total passes SSIZE_MAX, -EFAULT, -ENOMEM. The caller frees *iov
 * when it is not stack.
 */
static long read_iovec(uint64_t uiov, uint64_t n, struct linux_iovec *stack,
		       struct linux_iovec **iov, uint64_t *total)
{
	*iov = stack;
	*total = 0;
	if (n > IOV_MAX)
		return -EINVAL;
	if (!n)
		return 0;
	if (n > IOV_ON_STACK) {
		if (syscall_shared())
			return syscall_needs_lock();
		*iov = kmalloc(n * sizeof(**iov));
		if (!*iov)
			return -ENOMEM;
	}
	if (app_copy_from(*iov, uiov, n * sizeof(**iov)))
		return -EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		if ((int64_t)(*iov)[i].len < 0 || (*iov)[i].len > (uint64_t)INT64_MAX - *total)
			return -EINVAL;
		*total += (*iov)[i].len;
	}
	return 0;
}

/* readv, writev and their positioned forms; pos < 0: the file offset. */
static long vector_io(int fd, uint64_t uiov, uint64_t n, int64_t pos, int positioned_io,
		      int writing)
{
	struct file *f = fd_get(fd);
	struct linux_iovec stack[IOV_ON_STACK], *iov;
	struct iobuf b;
	uint64_t total;
	long ret;

	if (!f)
		return -EBADF;
	ret = read_iovec(uiov, n, stack, &iov, &total);
	if (!ret) {
		iobuf_user_vec(&b, iov, (unsigned)n, total);
		ret = positioned_io ? positioned(fd, &b, pos, writing)
				    : rw_here(f, &b, &f->pos, writing);
	}
	if (iov != stack)
		kfree(iov);
	return ret;
}

SYSCALL_DEFINE3(readv, int, fd, uint64_t, iov, uint64_t, n)
{
	return vector_io(fd, iov, n, 0, 0, 0);
}

SYSCALL_DEFINE3(writev, int, fd, uint64_t, iov, uint64_t, n)
{
	return vector_io(fd, iov, n, 0, 0, 1);
}

SYSCALL_DEFINE4(preadv, int, fd, uint64_t, iov, uint64_t, n, int64_t, pos)
{
	return vector_io(fd, iov, n, pos, 1, 0);
}

SYSCALL_DEFINE4(pwritev, int, fd, uint64_t, iov, uint64_t, n, int64_t, pos)
{
	return vector_io(fd, iov, n, pos, 1, 1);
}

/* The *v2 forms: pos -1 means the file offset; the RWF_* flags are hints. */
SYSCALL_DEFINE5(preadv2, int, fd, uint64_t, iov, uint64_t, n, int64_t, pos, unsigned, flags)
{
	if (flags & ~RWF_SUPPORTED)
		return -EOPNOTSUPP;
	return vector_io(fd, iov, n, pos, pos != -1, 0);
}

SYSCALL_DEFINE5(pwritev2, int, fd, uint64_t, iov, uint64_t, n, int64_t, pos, unsigned, flags)
{
	if (flags & ~RWF_SUPPORTED)
		return -EOPNOTSUPP;
	return vector_io(fd, iov, n, pos, pos != -1, 1);
}

SYSCALL_DEFINE3(lseek, int, fd, int64_t, off, int, whence)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (!f->ops->seek)
		return -ESPIPE;
	int64_t pos = f->ops->seek(f, off, whence);
	if (pos >= 0)
		f->pos = (uint64_t)pos;
	return pos;
}

/*
 * sendfile(out, in, offset, count): from any readable file with offsets to
 * any writable file, through a kernel buffer, one chunk per step. With
 * offset, reads start there and *offset moves, not the file's position.
 * Like Linux, it may move less than count (at most what one blocking
 * write of a chunk takes) and the caller loops.
 */
SYSCALL_DEFINE4(sendfile, int, out_fd, int, in_fd, uint64_t, uoff, uint64_t, count)
{
	struct file *out = fd_get(out_fd), *in = fd_get(in_fd);
	uint64_t pos, moved = 0;
	int64_t off;
	char *buf;

	if (!out || !in)
		return -EBADF;
	if (!file_readable(in) || !file_writable(out))
		return -EBADF;
	if (!in->ops->seek || (in->inode && S_ISDIR(in->inode->mode)))
		return -EINVAL;
	if ((int64_t)count < 0)
		return -EINVAL;
	if (uoff) {
		if (app_copy_from(&off, uoff, sizeof(off)))
			return -EFAULT;
		if (off < 0)
			return -EINVAL;
		pos = (uint64_t)off;
	} else {
		pos = in->pos;
	}
	buf = kmalloc(SENDFILE_CHUNK);
	if (!buf)
		return -ENOMEM;
	long ret = 0;
	while (moved < count) {
		struct iobuf b;
		uint64_t want = MIN(count - moved, (uint64_t)SENDFILE_CHUNK), at = pos;
		iobuf_kernel(&b, buf, want);
		long got = file_read(in, &b, &at);
		if (got <= 0) {
			ret = got;
			break;
		}
		/* Only the first chunk may wait: a later one that would block
		 * ends the call with what moved so far. */
		iobuf_kernel(&b, buf, (uint64_t)got);
		long put =
		    moved ? file_write(out, &b, &out->pos) : rw_blocking(out, &b, &out->pos, 1);
		if (put <= 0) {
			ret = put;
			break;
		}
		pos += (uint64_t)put;
		moved += (uint64_t)put;
		if (put < got)
			break;
	}
	kfree(buf);
	if (!moved)
		return ret;
	if (uoff) {
		off = (int64_t)pos;
		if (app_copy_to(uoff, &off, sizeof(off)))
			return -EFAULT;
	} else {
		in->pos = pos;
	}
	return (long)moved;
}

SYSCALL_DEFINE3(getdents64, int, fd, uint64_t, buf, uint64_t, size)
{
	struct file *f = fd_get(fd);
	struct iobuf b;

	if (!f)
		return -EBADF;
	if (!f->ops->getdents)
		return -ENOTDIR;
	iobuf_user(&b, buf, size > INT32_MAX ? INT32_MAX : size);
	return f->ops->getdents(f, &b);
}

static long do_fsync(int fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	return f->ops->fsync ? f->ops->fsync(f) : -EINVAL;
}

/* Memory is the only storage: every sync succeeds at once. */
SYSCALL_DEFINE1(fsync, int, fd)
{
	return do_fsync(fd);
}

SYSCALL_DEFINE1(fdatasync, int, fd)
{
	return do_fsync(fd);
}

SYSCALL_DEFINE0(sync)
{
	return 0;
}

SYSCALL_DEFINE1(syncfs, int, fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

/* Advice on a file with offsets is taken and ignored (everything is in
 * memory); pipes are ESPIPE, as on Linux. */
SYSCALL_DEFINE4(fadvise64, int, fd, int64_t, off, int64_t, len, int, advice)
{
	struct file *f = fd_get(fd);

	(void)off;
	if (!f)
		return -EBADF;
	if (len < 0 || advice < 0 || advice > 5)
		return -EINVAL;
	return f->ops->seek ? 0 : -ESPIPE;
}

SYSCALL_DEFINE3(readahead, int, fd, int64_t, off, uint64_t, count)
{
	struct file *f = fd_get(fd);

	(void)count;
	if (!f || !file_readable(f))
		return -EBADF;
	if (!f->ops->seek || off < 0)
		return -EINVAL;
	return 0;
}
