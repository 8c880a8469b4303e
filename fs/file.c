/* Open files and the defaults of their operations (see file.h). */
#include "fs/file.h"

#include "fs/epoll.h"
#include "fs/fcntl.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/stat.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/syscall.h"
#include "mm/kmalloc.h"

/* Anonymous files (pipes, epoll, eventfd) are told apart in stat by a
 * number of their own, as Linux's anon inodes and pipefs are. */
static uint64_t next_id = 1;

struct file *file_new(const struct file_ops *ops, unsigned flags, void *priv)
{
	struct file *f = kmalloc(sizeof(*f));

	if (f)
		*f = (struct file){
		    .ops = ops, .refs = 1, .flags = flags, .priv = priv, .id = next_id++};
	return f;
}

void file_get(struct file *f)
{
	f->refs++;
}

void file_put(struct file *f)
{
	if (f->refs <= 0)
		panic("file_put: %s file %p has no reference left", f->ops->kind, (void *)f);
	if (--f->refs)
		return;
	epoll_file_closed(f);
	flock_file_closed(f);
	if (f->ops->release)
		f->ops->release(f);
	if (f->inode)
		inode_put(f->inode);
	kfree(f);
}

int file_readable(const struct file *f)
{
	return !(f->flags & O_PATH) && (f->flags & O_ACCMODE) != O_WRONLY;
}

int file_writable(const struct file *f)
{
	return !(f->flags & O_PATH) && (f->flags & O_ACCMODE) != O_RDONLY;
}

long file_read(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	if (!file_readable(f))
		return -EBADF;
	return f->ops->read ? f->ops->read(f, buf, pos) : -EINVAL;
}

long file_write(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	if (!file_writable(f))
		return -EBADF;
	return f->ops->write ? f->ops->write(f, buf, pos) : -EINVAL;
}

unsigned file_poll(struct file *f, struct poll_table *pt)
{
	if (f->flags & O_PATH)
		return POLLNVAL;
	if (!f->ops->poll)
		return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	return f->ops->poll(f, pt);
}

int file_pollable(const struct file *f)
{
	return f->ops->poll != NULL && !(f->flags & O_PATH);
}

int file_stat(struct file *f, struct kstat *st)
{
	if (f->ops->stat)
		return f->ops->stat(f, st);
	if (f->inode) {
		inode_stat(f->inode, st);
		return 0;
	}
	*st = (struct kstat){.dev = 0xd, .ino = f->id, .nlink = 1, .mode = 0600, .blksize = 4096};
	return 0;
}

int64_t file_seek_size(struct file *f, int64_t off, int whence, uint64_t size)
{
	int64_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = (int64_t)size;
		break;
	case SEEK_DATA: /* every byte is data: holes are not reported */
		if (off < 0 || (uint64_t)off >= size)
			return -ENXIO;
		return off;
	case SEEK_HOLE:
		if (off < 0 || (uint64_t)off >= size)
			return -ENXIO;
		return (int64_t)size;
	default:
		return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	return base + off;
}

unsigned long file_shared_lock(struct spinlock *l)
{
	return syscall_shared() ? spin_lock_irqsave(l) : 0;
}

void file_shared_unlock(struct spinlock *l, unsigned long flags)
{
	if (syscall_shared())
		spin_unlock_irqrestore(l, flags);
}
