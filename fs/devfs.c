/* /dev (see devfs.h): a synth file system (fs/synth.h). */
#include "fs/devfs.h"

#include "fs/iobuf.h"
#include "fs/synth.h"
#include "fs/tty.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/stat.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"

#define DEVFS_DEV 4
#define CHUNK	  512

static long null_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	(void)f;
	(void)b;
	(void)pos;
	return 0;
}

/* null, zero and the random devices take anything written. */
static long sink_write(struct file *f, struct iobuf *b, uint64_t *pos)
{
	uint64_t n = iobuf_left(b);

	(void)f;
	(void)pos;
	iobuf_skip(b, n);
	return (long)n;
}

static long full_write(struct file *f, struct iobuf *b, uint64_t *pos)
{
	(void)f;
	(void)b;
	(void)pos;
	return -ENOSPC;
}

/* Fills b with zeros, or with random bytes (RDRAND), in chunks. */
static long fill(struct iobuf *b, int random)
{
	unsigned char chunk[CHUNK];
	uint64_t done = 0;

	if (!random)
		memset(chunk, 0, sizeof(chunk));
	while (iobuf_left(b)) {
		unsigned n = (unsigned)MIN(iobuf_left(b), (uint64_t)sizeof(chunk));
		if (random)
			arch_random_bytes(chunk, n);
		if (iobuf_put(b, chunk, n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long zero_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	(void)f;
	(void)pos;
	return fill(b, 0);
}

static long random_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	(void)f;
	(void)pos;
	return fill(b, 1);
}

/* Linux's memory devices accept any seek and stay at 0. */
static int64_t stay_seek(struct file *f, int64_t off, int whence)
{
	(void)f;
	(void)off;
	(void)whence;
	return 0;
}

/* mmap of /dev/zero is anonymous memory (obj NULL, see kernel/mman.c). */
static int zero_mmap(struct file *f, struct vmobj **obj)
{
	(void)f;
	*obj = NULL;
	return 0;
}

static const struct file_ops null_ops = {
    .kind = "null", .read = null_read, .write = sink_write, .seek = stay_seek};
static const struct file_ops zero_ops = {
    .kind = "zero", .read = zero_read, .write = sink_write, .seek = stay_seek, .mmap = zero_mmap};
static const struct file_ops full_ops = {
    .kind = "full", .read = zero_read, .write = full_write, .seek = stay_seek};
static const struct file_ops random_ops = {
    .kind = "random", .read = random_read, .write = sink_write, .seek = stay_seek};

static long fd_target(char *buf, size_t size)
{
	return ksnprintf(buf, size, "/proc/self/fd");
}

#define CHR(major, minor) ((uint64_t)(major) << 8 | (minor))
#define DEV(name, mode, rdev, ops)                                                                 \
	{                                                                                          \
		name, 0, S_IFCHR | (mode), rdev, ops, NULL, NULL, NULL, NULL                       \
	}

static const struct synth_node nodes[] = {
    {"", 0, S_IFDIR | 0755, 0, NULL, NULL, NULL, NULL, NULL},
    DEV("null", 0666, CHR(1, 3), &null_ops),
    DEV("zero", 0666, CHR(1, 5), &zero_ops),
    DEV("full", 0666, CHR(1, 7), &full_ops),
    DEV("random", 0666, CHR(1, 8), &random_ops),
    DEV("urandom", 0666, CHR(1, 9), &random_ops),
    DEV("tty", 0666, CHR(5, 0), &tty_file_ops),
    DEV("console", 0620, CHR(5, 1), &tty_file_ops),
    DEV("ttyS0", 0620, CHR(4, 64), &tty_file_ops),
    DEV("stdin", 0620, CHR(4, 64), &tty_file_ops),
    DEV("stdout", 0620, CHR(4, 64), &tty_file_ops),
    DEV("stderr", 0620, CHR(4, 64), &tty_file_ops),
    {"fd", 0, S_IFLNK | 0777, 0, NULL, NULL, fd_target, NULL, NULL},
    {"shm", 0, S_IFDIR | 01777, 0, NULL, NULL, NULL, NULL, NULL},
};

int devfs_mount(struct inode **root)
{
	return synth_mount(nodes, (int)ARRAY_SIZE(nodes), DEVFS_MAGIC, DEVFS_DEV, root);
}

void devfs_unmount(struct inode *root)
{
	synth_unmount(root);
}
