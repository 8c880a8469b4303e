/*
 * Pipes (see pipe.h). The pipe is shared by its two end files; it counts
 * how many of each end are open and is freed when neither is.
 */
#include "fs/pipe.h"

#include "fs/fdtable.h"
#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "mm/kmalloc.h"

#define PIPEFS_DEV 0xc

struct pipe {
	int readers, writers; /* open end files */
	size_t head, len;     /* ring: bytes [head, head + len) mod PIPE_BUFFER */
	struct waitq wq;
	struct spinlock shared; /* shared syscalls' turns (file_shared_lock) */
	uint64_t ino;
	char *buf;
};

static uint64_t next_ino = 1;

static int is_reader(const struct file *f)
{
	return (f->flags & O_ACCMODE) == O_RDONLY;
}

/*
 * On the kernel lock's shared side (kernel/syscall.h) reads and writes
 * move bytes under the pipe's own lock (LOCK_FILE) and wake its queue with
 * thread_wake_queue; what they may not do there (raise SIGPIPE) asks for
 * the lock, and so does a wait (-EAGAIN, fs/read_write.c). The ring's
 * head and length change only once the copy is sure to stand: a copy
 * that the shared side gives up leaves the pipe as it was, for the
 * call's run under the kernel lock.
 */
static int copy_stands(void)
{
	return !syscall_shared() || !syscall_shared_dropped();
}

static long pipe_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct pipe *p = f->priv;
	uint64_t done = 0;

	(void)pos;
	if (!iobuf_left(b))
		return 0;
	unsigned long flags = file_shared_lock(&p->shared);
	size_t head = p->head, len = p->len;
	if (!len) {
		file_shared_unlock(&p->shared, flags);
		return p->writers ? -EAGAIN : 0;
	}
	while (iobuf_left(b) && len) {
		size_t n = (size_t)MIN(iobuf_left(b), (uint64_t)MIN(len, PIPE_BUFFER - head));
		if (iobuf_put(b, p->buf + head, n))
			break;
		head = (head + n) % PIPE_BUFFER;
		len -= n;
		done += n;
	}
	int stands = copy_stands();
	if (stands) {
		p->head = len ? head : 0; /* empty: keep small writes contiguous */
		p->len = len;
	}
	file_shared_unlock(&p->shared, flags);
	if (!done || !stands)
		return -EFAULT; /* (a given-up attempt's result goes unseen) */
	thread_wake_queue(&p->wq, POLLOUT | POLLWRNORM);
	return (long)done;
}

static long pipe_write(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct pipe *p = f->priv;
	uint64_t want = iobuf_left(b), done = 0;

	(void)pos;
	if (!want)
		return 0; /* as Linux: before the reader check, no SIGPIPE */
	if (!p->readers) {
		if (syscall_shared())
			return syscall_needs_lock();
		signal_raise(thread_current(), SIGPIPE, NULL);
		return -EPIPE;
	}
	unsigned long flags = file_shared_lock(&p->shared);
	size_t len = p->len;
	/* POSIX: a write of at most PIPE_BUF bytes is never interleaved
	 * with others, so it waits for room for all of it. */
	if (PIPE_BUFFER - len < (want <= PIPE_BUF ? want : 1)) {
		file_shared_unlock(&p->shared, flags);
		return -EAGAIN;
	}
	/* A blocking write goes on until all of it is in, which only its
	 * run under the kernel lock can wait for: there, all or nothing. */
	if (syscall_shared() && !(f->flags & O_NONBLOCK) && want > PIPE_BUFFER - len) {
		file_shared_unlock(&p->shared, flags);
		return syscall_needs_lock();
	}
	while (iobuf_left(b) && len < PIPE_BUFFER) {
		size_t tail = (p->head + len) % PIPE_BUFFER;
		size_t n = (size_t)MIN(iobuf_left(b),
				       (uint64_t)MIN(PIPE_BUFFER - len, PIPE_BUFFER - tail));
		if (iobuf_get(b, p->buf + tail, n))
			break;
		len += n;
		done += n;
	}
	int stands = copy_stands();
	if (stands)
		p->len = len;
	file_shared_unlock(&p->shared, flags);
	if (!done || !stands)
		return -EFAULT;
	thread_wake_queue(&p->wq, POLLIN | POLLRDNORM);
	return (long)done;
}

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->priv;
	unsigned ev = 0;

	poll_wait(pt, &p->wq);
	if (is_reader(f)) {
		if (p->len)
			ev |= POLLIN | POLLRDNORM;
		if (!p->writers)
			ev |= POLLHUP;
	} else {
		if (PIPE_BUFFER - p->len >= PIPE_BUF)
			ev |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			ev |= POLLERR;
	}
	return ev;
}

static long pipe_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct pipe *p = f->priv;

	if (cmd != FIONREAD)
		return -ENOTTY;
	int32_t n = (int32_t)p->len;
	return app_copy_to(arg, &n, sizeof(n));
}

static int pipe_stat(struct file *f, struct kstat *st)
{
	struct pipe *p = f->priv;

	*st = (struct kstat){.dev = PIPEFS_DEV,
			     .ino = p->ino,
			     .nlink = 1,
			     .mode = S_IFIFO | 0600,
			     .blksize = PIPE_BUF};
	return 0;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;

	if (is_reader(f))
		p->readers--;
	else
		p->writers--;
	if (!p->readers && !p->writers) {
		/* A poll of the last end, from a thread of the app other
		 * than the one closing it, still has its entry here. */
		waitq_release(&p->wq);
		kfree(p->buf);
		kfree(p);
		return;
	}
	waitq_wake(&p->wq, is_reader(f) ? POLLERR : POLLHUP);
}

static const struct file_ops pipe_ops = {
    .kind = "pipe",
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .stat = pipe_stat,
    .release = pipe_release,
    .shared_read = 1,  /* under the pipe's lock */
    .shared_write = 1, /* the same; SIGPIPE asks for the kernel lock */
};

long pipe_buffer_size(const struct file *f)
{
	return f->ops == &pipe_ops ? PIPE_BUFFER : -EINVAL;
}

int pipe_create(unsigned flags, struct file **rd, struct file **wr)
{
	struct pipe *p = kmalloc(sizeof(*p));
	char *buf = kmalloc(PIPE_BUFFER);

	*rd = *wr = NULL;
	if (p && buf) {
		*p = (struct pipe){.readers = 1, .writers = 1, .ino = next_ino++, .buf = buf};
		waitq_init(&p->wq);
		spin_init(&p->shared, "pipe", LOCK_FILE);
		*rd = file_new(&pipe_ops, O_RDONLY | (flags & O_NONBLOCK), p);
		*wr = file_new(&pipe_ops, O_WRONLY | (flags & O_NONBLOCK), p);
	}
	if (*rd && *wr)
		return 0;
	kfree(*rd);
	kfree(*wr);
	kfree(buf);
	kfree(p);
	*rd = *wr = NULL;
	return -ENOMEM;
}

/* pipe and pipe2: a new pipe on the two lowest free descriptors, whose
 * numbers go to the app's int[2] at fds. */
static long make_pipe(uint64_t fds, unsigned flags)
{
	struct file *rd, *wr;
	int32_t pair[2];
	int cloexec = (flags & O_CLOEXEC) != 0;

	if (flags & ~(unsigned)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	int err = pipe_create(flags, &rd, &wr);
	if (err)
		return err;
	pair[0] = fd_install(0, rd, cloexec);
	pair[1] = pair[0] < 0 ? pair[0] : fd_install(0, wr, cloexec);
	file_put(rd);
	file_put(wr);
	if (pair[1] < 0) {
		if (pair[0] >= 0)
			fd_close(pair[0]);
		return pair[1];
	}
	if (app_copy_to(fds, pair, sizeof(pair))) {
		fd_close(pair[0]);
		fd_close(pair[1]);
		return -EFAULT;
	}
	return 0;
}

SYSCALL_DEFINE2(pipe2, uint64_t, fds, unsigned, flags)
{
	return make_pipe(fds, flags);
}

SYSCALL_DEFINE1(pipe, uint64_t, fds)
{
	return make_pipe(fds, 0);
}
