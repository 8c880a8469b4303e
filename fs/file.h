/*
 * file - an open file: one struct file per open file description (what
 * open, pipe, epoll_create... make; dup'd descriptors share it, with its
 * offset and status flags, as on Linux), told apart by a table of
 * operations, never by an enum tested everywhere. A kind of file is one
 * module that fills a struct file_ops (fs/pipe.c, fs/tty.c, fs/epoll.c,
 * fs/tmpfs.c, ...); the syscalls (fs/read_write.c, fs/open.c, ...) only
 * call the operations.
 *
 * The contract of every operation (FreeBSD's fileops, Unikraft's
 * uk/file.h): an operation never blocks. When it cannot go on now it
 * returns -EAGAIN, and the caller, if the file is not O_NONBLOCK, waits on
 * the wait queues the file's poll operation names (kernel/wait.h) and
 * calls it again. Operations run in kernel context on behalf of the
 * calling thread; they may raise signals (SIGPIPE) and wake queues.
 *
 * An operation a kind leaves NULL has the default Linux gives files
 * without it: read/write -EINVAL, poll "always ready for reading and
 * writing" (and epoll_ctl refuses it with EPERM, as Linux does for
 * regular files), ioctl -ENOTTY, seek -ESPIPE, getdents -ENOTDIR, mmap
 * -ENODEV, truncate and fallocate -EINVAL, fsync -EINVAL, stat an
 * anonymous inode (mode 0600, no type bits, the file's own number).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/abi/time.h"

struct file;
struct inode;
struct spinlock;
struct iobuf;
struct poll_table;
struct vmobj;
struct epitem;

/* What stat reports (the kernel's form; the syscalls convert). */
struct kstat {
	uint64_t dev, ino, nlink, rdev;
	uint32_t mode, uid, gid, blksize;
	uint64_t size, blocks; /* blocks of 512 bytes */
	struct k_timespec atime, mtime, ctime;
};

struct file_ops {
	const char *kind; /* "pipe", "epoll": for reports */
	/* After open made f for an inode (f->inode set): per-open setup.
	 * 0 or -errno (the open fails, release is not called). */
	int (*open)(struct file *f);
	/* Read into / write from buf at *pos (the caller's copy of the file
	 * offset, or pread's offset; kinds without offsets ignore it) and
	 * move *pos. Return the bytes moved, 0 at end of file, -EAGAIN when
	 * it would block (never with some bytes moved: return those), or
	 * -errno. */
	long (*read)(struct file *f, struct iobuf *buf, uint64_t *pos);
	long (*write)(struct file *f, struct iobuf *buf, uint64_t *pos);
	/* The POLL* events that hold now; names its wait queues to pt
	 * (poll_wait) when pt is not NULL. */
	unsigned (*poll)(struct file *f, struct poll_table *pt);
	long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
	int (*stat)(struct file *f, struct kstat *st);
	/* lseek: the new offset (>= 0), or -errno. Kinds with a size use
	 * file_seek_size. */
	int64_t (*seek)(struct file *f, int64_t off, int whence);
	/* getdents64 records into buf from the directory position f->pos
	 * (moved past what was returned): the bytes written, 0 at the end,
	 * -EINVAL when not even one record fits. */
	long (*getdents)(struct file *f, struct iobuf *buf);
	/* mmap: the page-owning object behind the file (held for the
	 * mapping: the caller releases it with vmobj_release). */
	int (*mmap)(struct file *f, struct vmobj **obj);
	int (*truncate)(struct file *f, uint64_t size);
	int (*fallocate)(struct file *f, int mode, uint64_t off, uint64_t len);
	int (*fsync)(struct file *f);
	/* How long a blocking read (writing 0) or write (1) may wait, in
	 * ns; 0: as long as it takes. Sockets' SO_RCVTIMEO/SO_SNDTIMEO: the
	 * wait then ends with -EAGAIN (or the bytes moved), and a signal
	 * with -EINTR rather than a restart, as Linux does. NULL: 0. */
	uint64_t (*wait_timeout)(struct file *f, int writing);
	/* The last reference went away. */
	void (*release)(struct file *f);
	/* read (shared_read) or write (shared_write) may be called in a
	 * shared syscall (kernel/syscall.h), beside other CPUs': it sees
	 * syscall_shared() and does there only what is safe beside them,
	 * under a lock of its own (a tmpfs inode's, a pipe's), waking
	 * queues only through thread_wake_queue, and asks for the kernel
	 * lock for the rest. A shared write moves all its bytes or none,
	 * unless the file is O_NONBLOCK (the rest of a blocking write would
	 * wait). A read that changes nothing but *pos, which the caller
	 * owns, and the buffer (tmpfs's) needs no lock at all. */
	int shared_read;
	int shared_write;
};

struct file {
	const struct file_ops *ops;
	int refs;
	unsigned flags;		/* O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, O_DIRECTORY, ... */
	uint64_t pos;		/* the file offset; a directory's entry cookie */
	int shared_pos_busy;	/* a shared read or write owns pos (fs/read_write.c) */
	struct inode *inode;	/* what it was opened from (held), or NULL */
	void *priv;		/* the kind's own state */
	struct epitem *epitems; /* epoll interests watching it (fs/epoll.c) */
	uint64_t id;		/* a number for stat of anonymous files */
};

/* A new file with one reference; NULL without memory. */
struct file *file_new(const struct file_ops *ops, unsigned flags, void *priv);
/* References: the last file_put removes the file from every epoll set,
 * calls ops->release and drops the inode. */
void file_get(struct file *f);
void file_put(struct file *f);

/* Whether f was opened for reading / writing (O_PATH files are neither). */
int file_readable(const struct file *f);
int file_writable(const struct file *f);

/*
 * The operations with their defaults (see the top), and the checks every
 * kind shares (access mode: -EBADF). They do not block either: the
 * syscalls wait around them (fs/read_write.c).
 */
long file_read(struct file *f, struct iobuf *buf, uint64_t *pos);
long file_write(struct file *f, struct iobuf *buf, uint64_t *pos);
unsigned file_poll(struct file *f, struct poll_table *pt);
int file_stat(struct file *f, struct kstat *st);
/* Whether epoll may watch f (it has a poll operation). */
int file_pollable(const struct file *f);

/* A kind's own lock around its state in a shared syscall (shared_read,
 * shared_write): taken only there, since a holder of the kernel lock runs
 * alone anyway. Returns what file_shared_unlock takes back. */
unsigned long file_shared_lock(struct spinlock *l);
void file_shared_unlock(struct spinlock *l, unsigned long flags);

/* seek over a kind with a size: SEEK_SET/CUR/END (and SEEK_DATA/HOLE as
 * "all data"), -EINVAL for a negative result or a bad whence. */
int64_t file_seek_size(struct file *f, int64_t off, int whence, uint64_t size);
