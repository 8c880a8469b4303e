/*
 * eventfd - a 64-bit counter as a file (see eventfd.h), with Linux's
 * semantics: write adds, read takes the whole count (or 1 with
 * EFD_SEMAPHORE) and resets it, and the counter never passes
 * EVENTFD_MAX = 2^64 - 2, so that a write that would pass it waits for a
 * read. No operation blocks: read with a zero count and write past the
 * limit return -EAGAIN, and the generic read/write path waits on the
 * queue that poll names.
 *
 * Invariants: count <= EVENTFD_MAX; every change of count wakes the queue
 * with the events that now hold (POLLIN after a write, POLLOUT after a
 * read), so a waiting thread and every epoll interest hear of it.
 *
 * Reads and writes also run on the kernel lock's shared side (kernel/
 * syscall.h): the count changes under the counter's own lock (LOCK_FILE)
 * and the queue is woken through thread_wake_queue; a wait asks for the
 * kernel lock (-EAGAIN, fs/read_write.c).
 */
#include "fs/eventfd.h"

#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/spinlock.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "mm/kmalloc.h"

#define EVENTFD_MAX (UINT64_MAX - 1) /* Linux's ULLONG_MAX - 1 */

struct eventfd {
	uint64_t count;
	int semaphore; /* EFD_SEMAPHORE: a read takes 1 */
	struct waitq wq;
	struct spinlock shared; /* shared syscalls' turns (file_shared_lock) */
};

static long eventfd_read(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	struct eventfd *efd = f->priv;
	uint64_t value;
	int err;

	(void)pos;
	if (iobuf_left(buf) < sizeof(value))
		return -EINVAL;
	unsigned long flags = file_shared_lock(&efd->shared);
	if (!efd->count) {
		file_shared_unlock(&efd->shared, flags);
		return -EAGAIN;
	}
	value = efd->semaphore ? 1 : efd->count;
	/* Copy before taking: a bad buffer, or a copy the shared side gives
	 * up, must not lose the count. */
	err = iobuf_put(buf, &value, sizeof(value));
	if (!err)
		efd->count -= value;
	file_shared_unlock(&efd->shared, flags);
	if (err)
		return err;
	thread_wake_queue(&efd->wq, POLLOUT);
	return sizeof(value);
}

static long eventfd_write(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	struct eventfd *efd = f->priv;
	uint64_t value;
	int err;

	(void)pos;
	if (iobuf_left(buf) < sizeof(value))
		return -EINVAL;
	err = iobuf_get(buf, &value, sizeof(value));
	if (err)
		return err;
	if (value == UINT64_MAX)
		return -EINVAL;
	unsigned long flags = file_shared_lock(&efd->shared);
	if (value > EVENTFD_MAX - efd->count) {
		file_shared_unlock(&efd->shared, flags);
		return -EAGAIN;
	}
	efd->count += value;
	file_shared_unlock(&efd->shared, flags);
	thread_wake_queue(&efd->wq, POLLIN);
	return sizeof(value);
}

static unsigned eventfd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd *efd = f->priv;
	unsigned events = 0;

	poll_wait(pt, &efd->wq);
	if (efd->count > 0)
		events |= POLLIN;
	if (efd->count < EVENTFD_MAX)
		events |= POLLOUT;
	/* Linux's POLLERR at count == ULLONG_MAX needs an overflow that only
	 * its in-kernel eventfd_signal can cause; nothing here can. */
	return events;
}

static void eventfd_release(struct file *f)
{
	struct eventfd *efd = f->priv;

	/* A thread of the app may still wait in a read of a descriptor that
	 * another thread closed: wake it (its retry finds EBADF) and make
	 * sure no entry points into the freed queue. */
	waitq_release(&efd->wq);
	kfree(efd);
}

static const struct file_ops eventfd_ops = {
    .kind = "eventfd",
    .read = eventfd_read,
    .write = eventfd_write,
    .poll = eventfd_poll,
    .release = eventfd_release,
    .shared_read = 1,  /* under the counter's lock */
    .shared_write = 1, /* the same */
};

/* eventfd and eventfd2: a new counter at count, installed in the lowest
 * free descriptor. */
static long eventfd_create(unsigned count, int flags)
{
	struct eventfd *efd;
	struct file *f;
	int fd;

	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	efd = kmalloc(sizeof(*efd));
	if (!efd)
		return -ENOMEM;
	*efd = (struct eventfd){.count = count, .semaphore = (flags & EFD_SEMAPHORE) != 0};
	waitq_init(&efd->wq);
	spin_init(&efd->shared, "eventfd", LOCK_FILE);
	f = file_new(&eventfd_ops, O_RDWR | (flags & EFD_NONBLOCK), efd);
	if (!f) {
		kfree(efd);
		return -ENOMEM;
	}
	fd = fd_install(0, f, (flags & EFD_CLOEXEC) != 0);
	file_put(f); /* the descriptor holds it now, or nothing does */
	return fd;
}

SYSCALL_DEFINE2(eventfd2, unsigned, count, int, flags)
{
	return eventfd_create(count, flags);
}

SYSCALL_DEFINE1(eventfd, unsigned, count)
{
	return eventfd_create(count, 0);
}
