/*
 * Host tests of fs/tmpfs.c over the fake physical memory of mm_arena.h:
 * a randomized run against a small in-memory model (every step compared:
 * listings, contents, sizes, link counts, pages counted), and focused
 * tests for holes, external data, the limits, unlinked open files,
 * rename, getdents positions, the vmobj side and unmount, and pages lent
 * in place from a stand-in rootfs.tar (with a real address space).
 *
 * vmobj_unmap_from belongs to mm/aspace.c. Until aspace.c has it, the
 * weak one here records the calls; once it does, the tests that look at
 * the calls check only what truncate itself must do.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file.h"
#include "fs/iobuf.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/spinlock.h"
#include "kernel_shim.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm/vmobj.h"
#include "mm_arena.h"

#define P PAGE_SIZE

static struct inode *root;

/* ---------------------------------------------------------------- vmobj_unmap_from */

static int unmap_calls;
static struct vmobj *unmap_obj;
static uint64_t unmap_first;

static void record_unmap(struct vmobj *obj, uint64_t first_index)
{
	unmap_calls++;
	unmap_obj = obj;
	unmap_first = first_index;
}

void vmobj_unmap_from(struct vmobj *obj, uint64_t first_index)
    __attribute__((weak, alias("record_unmap")));

/* Whether the calls are recorded (no vmobj_unmap_from in mm/aspace.c). */
static int unmap_recorded(void)
{
	return (void *)vmobj_unmap_from == (void *)record_unmap;
}

/* ---------------------------------------------------------------- helpers */

static void setup_limit(uint64_t max_bytes)
{
	mm_test_setup();
	shim_reset();
	cr_assert_eq(tmpfs_mount(max_bytes, 7, 0, &root), 0);
	vfs_set_root(root);
}

static void setup(void)
{
	setup_limit(64ull << 20);
}

static void teardown(void)
{
	if (root)
		tmpfs_unmount(root);
	root = NULL;
}

TestSuite(tmpfs, .init = setup, .fini = teardown);

static struct inode *mk(struct inode *dir, const char *name)
{
	struct inode *ino;
	cr_assert_eq(dir->ops->create(dir, name, strlen(name), 0644, &ino), 0, "create %s", name);
	return ino;
}

static struct inode *mkd(struct inode *dir, const char *name)
{
	struct inode *ino;
	cr_assert_eq(dir->ops->mkdir(dir, name, strlen(name), 0755, &ino), 0, "mkdir %s", name);
	return ino;
}

static struct inode *get(struct inode *dir, const char *name)
{
	struct inode *ino;
	if (dir->ops->lookup(dir, name, strlen(name), &ino))
		return NULL;
	return ino;
}

static struct file *open_ino(struct inode *ino, unsigned flags)
{
	struct file *f;
	cr_assert_eq(vfs_open(ino, flags, &f), 0);
	return f;
}

static long pwrite_f(struct file *f, const void *buf, size_t len, uint64_t off)
{
	struct iobuf b;
	iobuf_kernel(&b, (void *)buf, len);
	return file_write(f, &b, &off);
}

static long pread_f(struct file *f, void *buf, size_t len, uint64_t off)
{
	struct iobuf b;
	iobuf_kernel(&b, buf, len);
	return file_read(f, &b, &off);
}

/* pwrite to an inode through a file opened for it. */
static long pwrite_ino(struct inode *ino, const void *buf, size_t len, uint64_t off)
{
	struct file *f = open_ino(ino, O_RDWR);
	long n = pwrite_f(f, buf, len, off);
	file_put(f);
	return n;
}

static long pread_ino(struct inode *ino, void *buf, size_t len, uint64_t off)
{
	struct file *f = open_ino(ino, O_RDONLY);
	long n = pread_f(f, buf, len, off);
	file_put(f);
	return n;
}

static int set_size(struct inode *ino, uint64_t size)
{
	struct iattr a = {.valid = ATTR_SIZE, .size = size};
	return ino->ops->setattr(ino, &a);
}

static struct tmpfs_usage usage(void)
{
	struct tmpfs_usage u;
	tmpfs_usage(root, &u);
	return u;
}

#define MAX_LISTED 64

struct listing {
	int n;
	char names[MAX_LISTED][256];
	uint64_t ino[MAX_LISTED], off[MAX_LISTED];
	uint8_t type[MAX_LISTED];
};

/* Parses getdents64 records [buf, buf + len) into l (appending). */
static void parse(struct listing *l, const char *buf, long len)
{
	for (long at = 0; at < len;) {
		uint16_t reclen;
		cr_assert_lt(l->n, MAX_LISTED);
		memcpy(&l->ino[l->n], buf + at, 8);
		memcpy(&l->off[l->n], buf + at + 8, 8);
		memcpy(&reclen, buf + at + 16, 2);
		cr_assert_eq(reclen % 8, 0);
		l->type[l->n] = (uint8_t)buf[at + 18];
		snprintf(l->names[l->n], 256, "%s", buf + at + 19);
		l->n++;
		at += reclen;
	}
}

/* getdents64 of f into l, in calls of at most chunk bytes, to the end. */
static void list_file(struct file *f, struct listing *l, size_t chunk)
{
	char buf[4096];
	for (;;) {
		struct iobuf b;
		iobuf_kernel(&b, buf, chunk);
		long n = f->ops->getdents(f, &b);
		cr_assert_geq(n, 0, "getdents: %ld", n);
		if (n == 0)
			return;
		parse(l, buf, n);
	}
}

static void list(struct inode *dir, struct listing *l)
{
	struct file *f = open_ino(dir, O_RDONLY | O_DIRECTORY);
	l->n = 0;
	list_file(f, l, 4096);
	file_put(f);
}

/* ---------------------------------------------------------------- the model */

#define M_NODES	  64
#define M_NAMES	  5 /* names "a".."e" */
#define M_MAXSIZE (5 * P)

struct mnode {
	int used, dir;
	int parent;  /* directories */
	int nlink;   /* files */
	int held;    /* files: references the test holds (an open file) */
	size_t size; /* files */
	uint8_t *data;
	unsigned pages; /* files: pages written (counted) */
	struct inode *ino;
	int nent;
	struct {
		char name;
		int child;
	} ent[M_NAMES];
};

static struct mnode m[M_NODES];

static int m_new(int dir)
{
	for (int i = 1; i < M_NODES; i++) {
		if (!m[i].used) {
			m[i] = (struct mnode){.used = 1, .dir = dir, .nlink = 1};
			if (!dir)
				m[i].data = calloc(1, M_MAXSIZE);
			return i;
		}
	}
	return -1;
}

static void m_free(int i)
{
	free(m[i].data);
	m[i] = (struct mnode){0};
}

static int m_find(int d, char name)
{
	for (int k = 0; k < m[d].nent; k++)
		if (m[d].ent[k].name == name)
			return k;
	return -1;
}

static void m_remove_entry(int d, int k)
{
	memmove(&m[d].ent[k], &m[d].ent[k + 1], (size_t)(m[d].nent - k - 1) * sizeof(m[d].ent[0]));
	m[d].nent--;
}

static void m_add_entry(int d, char name, int child)
{
	m[d].ent[m[d].nent].name = name;
	m[d].ent[m[d].nent].child = child;
	m[d].nent++;
}

static int m_subdirs(int d)
{
	int n = 0;
	for (int k = 0; k < m[d].nent; k++)
		n += m[m[d].ent[k].child].dir;
	return n;
}

/* Whether directory x is d or below it. */
static int m_below(int x, int d)
{
	for (;;) {
		if (x == d)
			return 1;
		if (x == 0)
			return 0;
		x = m[x].parent;
	}
}

/* A name's entry went away: drop the link (files) or the directory. */
static void m_drop(int child)
{
	if (m[child].dir)
		m_free(child);
	else if (--m[child].nlink == 0 && !m[child].held)
		m_free(child);
}

static int m_pick(int want_dir)
{
	int c[M_NODES], n = 0;
	for (int i = 0; i < M_NODES; i++)
		if (m[i].used && m[i].dir == want_dir)
			c[n++] = i;
	return n ? c[mm_test_random_below((size_t)n)] : -1;
}

static unsigned popcount(unsigned x)
{
	return (unsigned)__builtin_popcount(x);
}

static const char *m_op; /* the last operation, for messages */

/* Compares the whole tmpfs with the model. */
static void m_check(int step)
{
	static struct listing l;
	static uint8_t buf[M_MAXSIZE + 16];
	uint64_t used = 0, nodes = 0;

	for (int i = 0; i < M_NODES; i++) {
		if (!m[i].used)
			continue;
		nodes++;
		struct inode *ino = m[i].ino;
		if (m[i].dir) {
			cr_assert(S_ISDIR(ino->mode));
			cr_assert_eq(ino->nlink, 2 + (uint32_t)m_subdirs(i),
				     "step %d (%s): dir nlink", step, m_op);
			cr_assert_eq(ino->size, 20 * (uint64_t)(m[i].nent + 2));
			list(ino, &l);
			cr_assert_eq(l.n, m[i].nent + 2, "step %d (%s): entries of %d", step, m_op,
				     i);
			cr_assert_str_eq(l.names[0], ".");
			cr_assert_str_eq(l.names[1], "..");
			cr_assert_eq(l.ino[1], m[m[i].parent].ino->ino);
			for (int k = 0; k < m[i].nent; k++) {
				int c = m[i].ent[k].child;
				char want[2] = {m[i].ent[k].name, 0};
				cr_assert_str_eq(l.names[k + 2], want, "step %d (%s): order", step,
						 m_op);
				cr_assert_eq(get(ino, want), m[c].ino);
				cr_assert_eq(l.ino[k + 2], m[c].ino->ino);
				cr_assert_eq(l.type[k + 2], m[c].dir ? DT_DIR : DT_REG);
				if (m[c].dir)
					cr_assert_eq(m[c].parent, i);
			}
		} else {
			cr_assert(S_ISREG(ino->mode));
			cr_assert_eq(ino->nlink, (uint32_t)m[i].nlink, "step %d (%s): nlink", step,
				     m_op);
			cr_assert_eq(ino->size, m[i].size, "step %d (%s): size of %d", step, m_op,
				     i);
			cr_assert_eq(ino->blocks, popcount(m[i].pages) * 8ull, "step %d (%s)", step,
				     m_op);
			used += popcount(m[i].pages);
			memset(buf, 0x5a, sizeof(buf));
			cr_assert_eq(pread_ino(ino, buf, sizeof(buf), 0), (long)m[i].size);
			cr_assert_eq(memcmp(buf, m[i].data, m[i].size), 0, "step %d (%s): data",
				     step, m_op);
		}
	}
	struct tmpfs_usage u = usage();
	cr_assert_eq(u.used_bytes, used * P, "step %d (%s): pages counted", step, m_op);
	cr_assert_eq(u.inodes, nodes, "step %d (%s): inodes", step, m_op);
}

static char m_name(void)
{
	return (char)('a' + mm_test_random_below(M_NAMES));
}

/* One random operation on both; returns its name for failure messages. */
static const char *m_step(void)
{
	int d = m_pick(1), k, e;
	char name = m_name(), s[2] = {name, 0};
	struct inode *dir = m[d].ino, *ino;

	switch (mm_test_random_below(14)) {
	case 0: { /* create */
		k = m_find(d, name);
		e = dir->ops->create(dir, s, 1, 0644, &ino);
		if (k >= 0) {
			cr_assert_eq(e, -EEXIST);
			return "create";
		}
		int c = m_new(0);
		if (c < 0) { /* the model is full: undo */
			cr_assert_eq(dir->ops->unlink(dir, s, 1), 0);
			return "create";
		}
		cr_assert_eq(e, 0);
		m[c].ino = ino;
		m_add_entry(d, name, c);
		return "create";
	}
	case 1: { /* mkdir */
		k = m_find(d, name);
		e = dir->ops->mkdir(dir, s, 1, 0755, &ino);
		if (k >= 0) {
			cr_assert_eq(e, -EEXIST);
			return "mkdir";
		}
		int c = m_new(1);
		if (c < 0) {
			cr_assert_eq(dir->ops->rmdir(dir, s, 1), 0);
			return "mkdir";
		}
		cr_assert_eq(e, 0);
		m[c].ino = ino;
		m[c].parent = d;
		m_add_entry(d, name, c);
		return "mkdir";
	}
	case 2:
	case 3: { /* pwrite */
		int f = m_pick(0);
		if (f < 0)
			return "write";
		size_t off = mm_test_random_below(M_MAXSIZE);
		size_t len =
		    mm_test_random_below((M_MAXSIZE - off < 6000 ? M_MAXSIZE - off : 6000) + 1);
		uint8_t data[6000];
		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)(mm_test_random() | 1);
		cr_assert_eq(pwrite_ino(m[f].ino, data, len, off), (long)len);
		memcpy(m[f].data + off, data, len);
		if (len) {
			if (off + len > m[f].size)
				m[f].size = off + len;
			for (size_t pg = off / P; pg <= (off + len - 1) / P; pg++)
				m[f].pages |= 1u << pg;
		}
		return "write";
	}
	case 4: { /* truncate */
		int f = m_pick(0);
		if (f < 0)
			return "truncate";
		size_t size = mm_test_random_below(M_MAXSIZE + 1);
		cr_assert_eq(set_size(m[f].ino, size), 0);
		if (size < m[f].size) {
			memset(m[f].data + size, 0, m[f].size - size);
			for (size_t pg = (size + P - 1) / P; pg < 32; pg++)
				m[f].pages &= ~(1u << pg);
		}
		m[f].size = size;
		return "truncate";
	}
	case 5:
	case 6: { /* unlink */
		k = m_find(d, name);
		e = dir->ops->unlink(dir, s, 1);
		if (k < 0) {
			cr_assert_eq(e, -ENOENT);
		} else if (m[m[d].ent[k].child].dir) {
			cr_assert_eq(e, -EISDIR);
		} else {
			cr_assert_eq(e, 0);
			int c = m[d].ent[k].child;
			m_remove_entry(d, k);
			m_drop(c);
		}
		return "unlink";
	}
	case 7:
	case 8: { /* rmdir */
		k = m_find(d, name);
		e = dir->ops->rmdir(dir, s, 1);
		if (k < 0) {
			cr_assert_eq(e, -ENOENT);
		} else if (!m[m[d].ent[k].child].dir) {
			cr_assert_eq(e, -ENOTDIR);
		} else if (m[m[d].ent[k].child].nent) {
			cr_assert_eq(e, -ENOTEMPTY);
		} else {
			cr_assert_eq(e, 0);
			int c = m[d].ent[k].child;
			m_remove_entry(d, k);
			m_drop(c);
		}
		return "rmdir";
	}
	case 9: { /* link */
		int f = m_pick(0);
		if (f < 0)
			return "link";
		k = m_find(d, name);
		e = dir->ops->link(dir, s, 1, m[f].ino);
		if (m[f].nlink == 0) {
			cr_assert_eq(e, -ENOENT, "an unlinked file gets no name");
		} else if (k >= 0) {
			cr_assert_eq(e, -EEXIST);
		} else {
			cr_assert_eq(e, 0);
			m[f].nlink++;
			m_add_entry(d, name, f);
		}
		return "link";
	}
	case 12: { /* hold a file (an open file, a mapping) */
		int f = m_pick(0);
		if (f < 0)
			return "hold";
		inode_get(m[f].ino);
		m[f].held++;
		return "hold";
	}
	case 13: { /* release one */
		for (int f = 0; f < M_NODES; f++) {
			if (m[f].used && m[f].held) {
				inode_put(m[f].ino);
				if (--m[f].held == 0 && m[f].nlink == 0)
					m_free(f);
				break;
			}
		}
		return "release";
	}
	default: { /* rename, renameat2 */
		int nd = m_pick(1);
		char nname = m_name(), ns[2] = {nname, 0};
		static const unsigned flag_choice[] = {0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE};
		unsigned flags = flag_choice[mm_test_random_below(4)];
		int ok = m_find(d, name), nk = m_find(nd, nname);
		int src = ok >= 0 ? m[d].ent[ok].child : -1,
		    dst = nk >= 0 ? m[nd].ent[nk].child : -1;
		/* What the vfs refuses before tmpfs is asked (EINVAL). */
		if (src >= 0 && m[src].dir && m_below(nd, src))
			return "rename";
		if ((flags & RENAME_EXCHANGE) && dst >= 0 && m[dst].dir && m_below(d, dst))
			return "rename";
		e = dir->ops->rename(dir, s, 1, m[nd].ino, ns, 1, flags);
		if (src < 0) {
			cr_assert_eq(e, -ENOENT);
		} else if (flags & RENAME_EXCHANGE) {
			if (dst < 0) {
				cr_assert_eq(e, -ENOENT);
				return "exchange";
			}
			cr_assert_eq(e, 0, "exchange: %d", e);
			m[d].ent[ok].child = dst;
			m[nd].ent[nk].child = src;
			if (m[src].dir)
				m[src].parent = nd;
			if (m[dst].dir)
				m[dst].parent = d;
		} else if (dst == src) {
			cr_assert_eq(e, 0);
		} else if (dst >= 0 && (flags & RENAME_NOREPLACE)) {
			cr_assert_eq(e, -EEXIST);
		} else if (dst >= 0 && m[src].dir && !m[dst].dir) {
			cr_assert_eq(e, -ENOTDIR);
		} else if (dst >= 0 && !m[src].dir && m[dst].dir) {
			cr_assert_eq(e, -EISDIR);
		} else if (dst >= 0 && m[dst].dir && m[dst].nent) {
			cr_assert_eq(e, -ENOTEMPTY);
		} else {
			cr_assert_eq(e, 0, "rename: %d", e);
			if (dst >= 0) {
				m_remove_entry(nd, nk);
				m_drop(dst);
			}
			m_remove_entry(d, m_find(d, name));
			m_add_entry(nd, nname, src);
			if (m[src].dir)
				m[src].parent = nd;
		}
		return "rename";
	}
	}
}

Test(tmpfs, random_operations_match_a_model)
{
	teardown();
	kmalloc_trim();
	size_t free_before = mm_test_palloc_stats().free_pages;

	for (uint64_t seed = 1; seed <= 6; seed++) {
		cr_assert_eq(tmpfs_mount(64ull << 20, 7, 0, &root), 0);
		vfs_set_root(root);
		mm_test_seed(seed * 0x9e3779b97f4a7c15ull);
		memset(m, 0, sizeof(m));
		m[0] = (struct mnode){.used = 1, .dir = 1, .parent = 0, .ino = root};
		for (int step = 0; step < 1500; step++) {
			m_op = m_step();
			m_check(step);
		}
		for (int i = 0; i < M_NODES; i++)
			free(m[i].data);
		tmpfs_unmount(root);
		root = NULL;
		kmalloc_trim();
		cr_assert_eq(mm_test_palloc_stats().free_pages, free_before,
			     "seed %llu: every page came back", (unsigned long long)seed);
	}
}

/* ---------------------------------------------------------------- regular files */

Test(tmpfs, holes_read_as_zeros_and_cost_no_pages)
{
	struct inode *f = mk(root, "f");
	uint8_t buf[3 * P];

	cr_assert_eq(pwrite_ino(f, "end", 3, 10 * P), 3);
	cr_assert_eq(f->size, 10 * P + 3);
	cr_assert_eq(f->blocks, 8, "one page");
	memset(buf, 1, sizeof(buf));
	cr_assert_eq(pread_ino(f, buf, sizeof(buf), 2 * P + 5), (long)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0);
	cr_assert_eq(pread_ino(f, buf, 10, 10 * P), 3);
	cr_assert_eq(memcmp(buf, "end", 3), 0);
	cr_assert_eq(pread_ino(f, buf, 10, 10 * P + 3), 0, "at the end: nothing");
	cr_assert_eq(pread_ino(f, buf, 10, INT64_MAX), 0);

	/* Extending leaves a hole; the old tail stays zero. */
	cr_assert_eq(set_size(f, 10 * P + 1), 0);
	cr_assert_eq(set_size(f, 20 * P), 0);
	cr_assert_eq(f->blocks, 8);
	cr_assert_eq(pread_ino(f, buf, 4, 10 * P), 4);
	cr_assert_eq(memcmp(buf, "e\0\0\0", 4), 0, "bytes cut by truncate come back as zeros");
}

Test(tmpfs, write_moves_the_offset_and_append_writes_at_the_end)
{
	struct inode *ino = mk(root, "f");
	struct file *f = open_ino(ino, O_WRONLY);
	struct iobuf b;
	char buf[16];

	iobuf_kernel(&b, "hello", 5);
	cr_assert_eq(file_write(f, &b, &f->pos), 5);
	cr_assert_eq(f->pos, 5);
	file_put(f);
	f = open_ino(ino, O_WRONLY | O_APPEND);
	cr_assert_eq(pwrite_f(f, "!!", 2, 0), 2, "O_APPEND ignores the offset");
	file_put(f);
	cr_assert_eq(pread_ino(ino, buf, sizeof(buf), 0), 7);
	cr_assert_eq(memcmp(buf, "hello!!", 7), 0);
	f = open_ino(ino, O_RDONLY);
	cr_assert_eq(pwrite_f(f, "x", 1, 0), -EBADF);
	cr_assert_eq(f->ops->seek(f, 0, SEEK_END), 7);
	cr_assert_eq(f->ops->seek(f, -8, SEEK_END), -EINVAL);
	cr_assert_eq(f->ops->read(f, &b, &(uint64_t){0}), 0, "an empty buffer reads nothing");
	file_put(f);
}

Test(tmpfs, bad_user_addresses_are_efault_and_short_copies_count)
{
	struct file *f = open_ino(mk(root, "f"), O_RDWR);
	struct inode *ino = f->inode;
	static char good[10] = "0123456789";
	struct linux_iovec iov[2] = {{(uint64_t)(uintptr_t)good, 10}, {16, 10}};
	struct iobuf b;
	uint64_t pos = 0;
	char buf[32];

	iobuf_user(&b, 16, 10); /* the shim's bad addresses lie below 4096 */
	cr_assert_eq(file_write(f, &b, &pos), -EFAULT);
	cr_assert_eq(ino->size, 0);
	iobuf_user_vec(&b, iov, 2, 20);
	cr_assert_eq(file_write(f, &b, &pos), 10, "the good segment is written");
	cr_assert_eq(pos, 10);
	cr_assert_eq(ino->size, 10);
	cr_assert_eq(set_size(ino, 30), 0);
	cr_assert_eq(pread_f(f, buf, 30, 0), 30);
	cr_assert_eq(memcmp(buf, good, 10), 0);
	for (int i = 10; i < 30; i++)
		cr_assert_eq(buf[i], 0, "nothing past the short copy shows");

	pos = 0;
	iobuf_user(&b, 16, 10);
	cr_assert_eq(file_read(f, &b, &pos), -EFAULT);
	iobuf_user_vec(&b, iov, 2, 20);
	cr_assert_eq(file_read(f, &b, &pos), 10);
	cr_assert_eq(pos, 10);
	file_put(f);

	f = open_ino(root, O_RDONLY);
	iobuf_user(&b, 16, 100);
	cr_assert_eq(f->ops->getdents(f, &b), -EFAULT);
	cr_assert_eq(f->pos, 0);
	file_put(f);
}

Test(tmpfs, directory_seek_moves_from_the_position)
{
	struct file *f = open_ino(root, O_RDONLY);

	f->pos = 5;
	cr_assert_eq(f->ops->seek(f, 2, SEEK_CUR), 7);
	cr_assert_eq(f->ops->seek(f, -6, SEEK_CUR), -EINVAL);
	cr_assert_eq(f->ops->seek(f, INT64_MAX, SEEK_CUR), -EINVAL);
	file_put(f);
}

Test(tmpfs, offsets_near_the_top_neither_overflow_nor_write)
{
	struct inode *ino = mk(root, "f");
	uint64_t max = 1ull << 40;

	cr_assert_eq(pwrite_ino(ino, "x", 1, INT64_MAX), -EFBIG);
	cr_assert_eq(pwrite_ino(ino, "x", 1, max), -EFBIG);
	cr_assert_eq(pwrite_ino(ino, "xyz", 3, max - 1), 1, "a short write up to the maximum");
	cr_assert_eq(ino->size, max);
	cr_assert_eq(set_size(ino, max + 1), -EFBIG);
	cr_assert_eq(set_size(ino, INT64_MAX), -EFBIG);
	cr_assert_eq(ino->size, max);
	char c = 0;
	cr_assert_eq(pread_ino(ino, &c, 1, max - 1), 1);
	cr_assert_eq(c, 'x');
	cr_assert_eq(set_size(ino, 0), 0);
	cr_assert_eq(ino->blocks, 0);
	cr_assert_eq(usage().used_bytes, 0);
}

Test(tmpfs, external_data_is_read_in_place_and_copied_only_into_written_pages)
{
	static uint8_t ext[3 * P + 100];
	uint8_t buf[sizeof(ext)];
	struct inode *ino;

	for (size_t i = 0; i < sizeof(ext); i++)
		ext[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(tmpfs_create_external(root, "ext", 3, 0444, ext, sizeof(ext), &ino), 0);
	cr_assert_eq(ino->size, sizeof(ext));
	cr_assert_eq(ino->mode, S_IFREG | 0444);
	cr_assert_eq(ino->nlink, 1);
	cr_assert_eq(tmpfs_create_external(root, "ext", 3, 0444, ext, 1, NULL), -EEXIST);

	struct file *f = open_ino(ino, O_RDWR);
	size_t free_before = palloc_free_pages();
	cr_assert_eq(pread_f(f, buf, sizeof(buf), 0), (long)sizeof(ext));
	cr_assert_eq(memcmp(buf, ext, sizeof(ext)), 0);
	cr_assert_eq(palloc_free_pages(), free_before, "reading allocates no page");
	cr_assert_eq(ino->blocks, 0);
	cr_assert_eq(usage().used_bytes, 0);

	cr_assert_eq(pwrite_f(f, "W", 1, P + 10), 1);
	cr_assert_lt(palloc_free_pages(), free_before);
	cr_assert_geq(palloc_free_pages() + 2, free_before, "one page (and maybe a tree node)");
	cr_assert_eq(ino->blocks, 8);
	cr_assert_eq(usage().used_bytes, P);
	cr_assert_eq(ext[P + 10], (uint8_t)((P + 10) * 7 + 1), "the external bytes never change");
	cr_assert_eq(pread_f(f, buf, sizeof(buf), 0), (long)sizeof(ext));
	cr_assert_eq(buf[P + 10], 'W');
	buf[P + 10] = ext[P + 10];
	cr_assert_eq(memcmp(buf, ext, sizeof(ext)), 0, "the rest of the page was copied");

	/* Truncate then extend: the external bytes past the cut are gone. */
	cr_assert_eq(set_size(ino, 3 * P + 10), 0);
	cr_assert_eq(set_size(ino, 3 * P + 100), 0);
	cr_assert_eq(pread_f(f, buf, 100, 3 * P), 100);
	cr_assert_eq(memcmp(buf, ext + 3 * P, 10), 0);
	for (int i = 10; i < 100; i++)
		cr_assert_eq(buf[i], 0);
	file_put(f);
}

Test(tmpfs, the_limit_gives_enospc_and_usage_goes_back)
{
	teardown();
	setup_limit(4 * P + 100); /* rounded down: 4 pages */
	struct inode *a = mk(root, "a"), *b = mk(root, "b");
	static uint8_t page[2 * P];
	memset(page, 'p', sizeof(page));

	cr_assert_eq(usage().max_bytes, 4 * P);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pwrite_ino(a, page, P, (uint64_t)i * P), (long)P);
	cr_assert_eq(pwrite_ino(b, page, 100, 0), 100);
	cr_assert_eq(pwrite_ino(b, page, 100, 200), 100, "the same page again costs nothing");
	cr_assert_eq(usage().used_bytes, 4 * P);
	cr_assert_eq(pwrite_ino(b, page, 1, P), -ENOSPC);
	cr_assert_eq(pwrite_ino(b, page, P, P - 100), 100, "a short write up to the limit");
	cr_assert_eq(b->size, P);

	struct kstatfs st;
	cr_assert_eq(root->sb->statfs(root->sb, &st), 0);
	cr_assert_eq(st.type, TMPFS_MAGIC);
	cr_assert_eq(st.bsize, 4096);
	cr_assert_eq(st.blocks, 4);
	cr_assert_eq(st.bfree, 0);
	cr_assert_eq(st.bavail, 0);
	cr_assert_eq(st.namelen, 255);
	cr_assert_eq(st.flags, 0);
	cr_assert_eq(st.files - st.ffree, 3);

	cr_assert_eq(set_size(a, P + 1), 0);
	cr_assert_eq(usage().used_bytes, 3 * P, "truncate returned a's last page");
	cr_assert_eq(root->ops->unlink(root, "b", 1), 0);
	cr_assert_eq(usage().used_bytes, 2 * P, "unlink returned b's page");
	cr_assert_eq(usage().inodes, 2);
	cr_assert_eq(pwrite_ino(a, page, 2 * P, 2 * P), (long)(2 * P));
	cr_assert_eq(usage().used_bytes, 4 * P);

	tmpfs_set_flags(root, SUPER_RDONLY);
	cr_assert_eq(root->sb->statfs(root->sb, &st), 0);
	cr_assert_eq(st.flags, ST_RDONLY);
}

Test(tmpfs, pages_are_refused_at_the_kernels_reserve)
{
	struct inode *f = mk(root, "f");
	size_t n = 0, cap = MM_TEST_RAM_BYTES / P;
	paddr_t *held = malloc(cap * sizeof(*held));

	pwrite_ino(f, "warm", 4, 0); /* the tree's node exists */
	struct file *fl = open_ino(f, O_RDWR);
	while (palloc_free_pages() > ASPACE_KERNEL_RESERVE_PAGES)
		cr_assert_neq(held[n++] = palloc(1), 0);
	cr_assert_eq(pwrite_f(fl, "x", 1, P), -ENOSPC);
	cr_assert_eq(palloc_free_pages(), ASPACE_KERNEL_RESERVE_PAGES, "the reserve is untouched");
	cr_assert_eq(pwrite_f(fl, "ok", 2, 1), 2, "a page it has is still written");
	cr_assert_eq(fl->ops->fallocate(fl, 0, P, P), -ENOSPC);
	struct inode *g;
	cr_assert_eq(root->ops->create(root, "g", 1, 0644, &g), -ENOMEM,
		     "records stay out of the reserve too");
	pfree(held[--n], 1);
	cr_assert_eq(pwrite_f(fl, "x", 1, P), 1);
	while (n)
		pfree(held[--n], 1);
	file_put(fl);
	free(held);
}

Test(tmpfs, an_unlinked_open_file_lives_until_its_last_reference)
{
	struct inode *ino = mk(root, "f");
	uint8_t data[2 * P], buf[2 * P];
	size_t free_empty = palloc_free_pages();

	memset(data, 'd', sizeof(data));
	struct file *f = open_ino(ino, O_RDWR);
	cr_assert_eq(pwrite_f(f, data, sizeof(data), 0), (long)sizeof(data));
	cr_assert_eq(root->ops->unlink(root, "f", 1), 0);
	cr_assert_eq(ino->nlink, 0);
	cr_assert_null(get(root, "f"));
	cr_assert_eq(pread_f(f, buf, sizeof(buf), 0), (long)sizeof(buf));
	cr_assert_eq(memcmp(buf, data, sizeof(data)), 0);
	cr_assert_eq(pwrite_f(f, "more", 4, 2 * P), 4, "and writable");
	cr_assert_eq(usage().inodes, 2);
	cr_assert_eq(root->ops->link(root, "again", 5, ino), -ENOENT, "no new name for it");

	struct vmobj *obj;
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(ino->refs, 2, "the mapping holds it");
	file_put(f);
	cr_assert_eq(usage().inodes, 2);
	vmobj_release(obj);
	cr_assert_eq(usage().inodes, 1, "evicted at the last reference");
	cr_assert_eq(usage().used_bytes, 0);
	kmalloc_trim();
	cr_assert_geq(palloc_free_pages(), free_empty, "its pages are back");
}

Test(tmpfs, fallocate_makes_counted_pages_and_only_mode_zero)
{
	struct file *f = open_ino(mk(root, "f"), O_RDWR);
	struct inode *ino = f->inode;

	cr_assert_eq(f->ops->fallocate(f, FALLOC_FL_KEEP_SIZE, 0, P), -EOPNOTSUPP);
	cr_assert_eq(f->ops->fallocate(f, 0, 0, 0), -EINVAL);
	cr_assert_eq(f->ops->fallocate(f, 0, (uint64_t)-1, 1), -EINVAL);
	cr_assert_eq(f->ops->fallocate(f, 0, 1ull << 40, 1), -EFBIG);
	cr_assert_eq(f->ops->fallocate(f, 0, 100, 2 * P), 0);
	cr_assert_eq(ino->size, 2 * P + 100);
	cr_assert_eq(ino->blocks, 3 * 8);
	cr_assert_eq(usage().used_bytes, 3 * P);
	cr_assert_eq(f->ops->fallocate(f, 0, 0, 10), 0);
	cr_assert_eq(ino->size, 2 * P + 100, "never shrinks");
	cr_assert_eq(f->ops->fallocate(f, 0, 0, (64ull << 20) + 1), -ENOSPC);
	cr_assert_eq(usage().used_bytes, 3 * P, "ENOSPC made nothing");
	char buf[8] = "xxxxxxx";
	cr_assert_eq(pread_f(f, buf, 8, P), 8);
	cr_assert_eq(memcmp(buf, "\0\0\0\0\0\0\0\0", 8), 0);
	cr_assert_eq(f->ops->fsync(f), 0);
	file_put(f);
}

Test(tmpfs, truncate_through_the_file_and_stat)
{
	struct file *f = open_ino(mk(root, "f"), O_RDWR);
	struct kstat st;

	cr_assert_eq(pwrite_f(f, "0123456789", 10, P - 5), 10);
	shim_now = 5 * NSEC_PER_SEC + 7;
	cr_assert_eq(f->ops->truncate(f, P - 2), 0);
	cr_assert_eq(f->ops->stat(f, &st), 0);
	cr_assert_eq(st.size, P - 2);
	cr_assert_eq(st.blocks, 8);
	cr_assert_eq(st.dev, 7);
	cr_assert_eq(st.mode, S_IFREG | 0644);
	cr_assert_eq(st.mtime.sec, 1700000005);
	cr_assert_eq(st.mtime.nsec, 7);
	cr_assert_eq(st.ctime.sec, 1700000005);
	cr_assert_eq(f->ops->truncate(f, 1ull << 41), -EFBIG);
	file_put(f);
}

/* ---------------------------------------------------------------- the vmobj */

Test(tmpfs, vmobj_pages_are_the_files_pages)
{
	struct file *f = open_ino(mk(root, "f"), O_RDWR);
	struct inode *ino = f->inode;
	struct vmobj *obj;
	paddr_t pa, pb;

	cr_assert_eq(pwrite_f(f, "abc", 3, 0), 3);
	cr_assert_eq(set_size(ino, 3 * P + 1), 0);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert_eq(memcmp(phys_to_virt(pa), "abc", 3), 0);
	cr_assert_eq(obj->ops->get_page(obj, 4, 0, &pb), -EIO, "past the end: SIGBUS");
	cr_assert_eq(obj->ops->get_page(obj, 3, 0, &pb), 0, "the partial last page");
	cr_assert_eq(usage().used_bytes, P, "a page made for reading does not count");
	cr_assert_eq(ino->blocks, 16);
	memcpy(phys_to_virt(pa), "XY", 2); /* a shared mapping writes */
	char buf[4];
	cr_assert_eq(pread_f(f, buf, 3, 0), 3);
	cr_assert_eq(memcmp(buf, "XYc", 3), 0, "read sees the mapping's bytes");
	cr_assert_eq(obj->ops->get_page(obj, 3, 1, &pb), 0);
	cr_assert_eq(usage().used_bytes, 2 * P, "counted once written");
	cr_assert_eq(obj->ops->get_page(obj, 3, 1, &pb), 0);
	cr_assert_eq(usage().used_bytes, 2 * P, "and only once");
	cr_assert_eq(pwrite_f(f, "z", 1, 3 * P), 1);
	cr_assert_eq(usage().used_bytes, 2 * P);

	unmap_calls = 0;
	cr_assert_eq(set_size(ino, P + 1), 0);
	if (unmap_recorded()) {
		cr_assert_eq(unmap_calls, 1);
		cr_assert_eq(unmap_obj, obj);
		cr_assert_eq(unmap_first, 2, "pages 2 and up leave the mappings");
	}
	cr_assert_eq(usage().used_bytes, P);
	cr_assert_eq(obj->ops->get_page(obj, 3, 0, &pb), -EIO);
	cr_assert_eq(obj->ops->get_page(obj, 1, 0, &pb), 0);
	cr_assert_eq(ino->refs, 2);
	vmobj_release(obj);
	cr_assert_eq(ino->refs, 1);
	file_put(f);
}

Test(tmpfs, vmobj_of_external_data_copies_on_get_page)
{
	static const char ext[] = "external bytes";
	struct inode *ino;
	struct vmobj *obj;
	paddr_t pa;

	cr_assert_eq(tmpfs_create_external(root, "e", 1, 0644, ext, sizeof(ext), &ino), 0);
	struct file *f = open_ino(ino, O_RDONLY);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert_eq(memcmp(phys_to_virt(pa), ext, sizeof(ext)), 0);
	cr_assert_eq(((char *)phys_to_virt(pa))[sizeof(ext)], 0, "zeros past the data");
	cr_assert_eq(usage().used_bytes, 0);
	vmobj_release(obj);
	file_put(f);
}

/* ---------------------------------------------------------------- pages lent in place */

/*
 * A stand-in for rootfs.tar: TAR_PAGES pages taken from palloc (so that a
 * pfree of one by tmpfs would show: the free count rises, or the test's
 * own pfree at the end panics as a double free), filled with a pattern,
 * and lent to the file system; one more page after them is taken but not
 * lent (bytes past the range). Members sit at page boundaries as mkimg
 * lays them out.
 */
#define TAR_PAGES 8

static paddr_t tar_pa;
static uint8_t *tar;

static uint8_t tar_byte(size_t i)
{
	return (uint8_t)(i * 13 + 5);
}

static void tar_setup(void)
{
	tar_pa = palloc(TAR_PAGES + 1);
	cr_assert_neq(tar_pa, 0);
	tar = phys_to_virt(tar_pa);
	for (size_t i = 0; i < (TAR_PAGES + 1) * P; i++)
		tar[i] = tar_byte(i);
	tmpfs_lend_range(root, tar, TAR_PAGES * P);
}

/* Whether the archive still holds its pattern: nothing wrote it. */
static void assert_tar_unchanged(void)
{
	for (size_t i = 0; i < (TAR_PAGES + 1) * P; i++)
		cr_assert_eq(tar[i], tar_byte(i), "tar byte %zu was written", i);
}

static int in_tar(paddr_t pa)
{
	return pa >= tar_pa && pa < tar_pa + TAR_PAGES * P;
}

Test(tmpfs, a_page_aligned_external_page_is_the_tars_own_and_never_freed)
{
	tar_setup();
	struct inode *ino;
	struct vmobj *obj;
	paddr_t pa, pb;

	/* Pages 0 and 1 lie whole in the archive; page 2 holds 100 bytes. */
	kmalloc_trim();
	size_t free_at_start = palloc_free_pages();
	cr_assert_eq(tmpfs_create_external(root, "lib", 3, 0644, tar + P, 2 * P + 100, &ino), 0);
	struct file *f = open_ino(ino, O_RDWR);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	kmalloc_trim();
	size_t free_before = palloc_free_pages();
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert_eq(pa, tar_pa + P, "the tar's own page");
	cr_assert_eq(obj->ops->get_page(obj, 1, 0, &pb), 0);
	cr_assert_eq(pb, tar_pa + 2 * P);
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert_eq(pa, tar_pa + P, "every reader gets the same page");
	cr_assert_eq(palloc_free_pages(), free_before, "lending allocates nothing");
	cr_assert_eq(ino->blocks, 0);
	cr_assert_eq(usage().used_bytes, 0);

	/* The partial last page: its tail is the next tar header. */
	cr_assert_eq(obj->ops->get_page(obj, 2, 0, &pa), 0);
	cr_assert(!in_tar(pa), "the partial page is copied");
	cr_assert_eq(memcmp(phys_to_virt(pa), tar + 3 * P, 100), 0);
	for (size_t i = 100; i < P; i++)
		cr_assert_eq(((uint8_t *)phys_to_virt(pa))[i], 0, "zeros past the end");
	cr_assert_eq(usage().used_bytes, 0, "a page made for reading does not count");

	/* A write gives the file its own copy; the archive keeps its bytes. */
	cr_assert_eq(pwrite_f(f, "W", 1, 10), 1);
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert(!in_tar(pa), "a written page is the file's own");
	cr_assert_eq(((uint8_t *)phys_to_virt(pa))[10], 'W');
	cr_assert_eq(memcmp(phys_to_virt(pa), tar + P, 10), 0, "the rest was copied");
	cr_assert_eq(memcmp((uint8_t *)phys_to_virt(pa) + 11, tar + P + 11, P - 11), 0);
	cr_assert_eq(usage().used_bytes, P);
	assert_tar_unchanged();

	/* A writer's get_page (a shared writable mapping) copies too. */
	cr_assert_eq(obj->ops->get_page(obj, 1, 1, &pb), 0);
	cr_assert(!in_tar(pb));
	cr_assert_eq(memcmp(phys_to_virt(pb), tar + 2 * P, P), 0);
	memset(phys_to_virt(pb), 'S', 8); /* the mapping writes */
	cr_assert_eq(usage().used_bytes, 2 * P);
	assert_tar_unchanged();

	/* Truncate, unlink, release and unmount free the file's pages only. */
	cr_assert_eq(set_size(ino, 0), 0);
	cr_assert_eq(usage().used_bytes, 0);
	cr_assert_eq(root->ops->unlink(root, "lib", 3), 0);
	vmobj_release(obj);
	file_put(f);
	kmalloc_trim();
	cr_assert_eq(palloc_free_pages(), free_at_start, "the file's own pages came back, no more");
	cr_assert_eq(tmpfs_create_external(root, "e2", 2, 0644, tar, TAR_PAGES * P, &ino), 0);
	f = open_ino(ino, O_RDONLY);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	for (uint64_t i = 0; i < TAR_PAGES; i++) {
		cr_assert_eq(obj->ops->get_page(obj, i, 0, &pa), 0);
		cr_assert_eq(pa, tar_pa + i * P, "page %lu", (unsigned long)i);
	}
	vmobj_release(obj);
	file_put(f);
	tmpfs_unmount(root);
	root = NULL;
	cr_assert_eq(palloc_check(), 0);
	assert_tar_unchanged();
	pfree(tar_pa, TAR_PAGES + 1); /* panics if tmpfs freed any of them */
}

Test(tmpfs, unaligned_or_unlent_external_pages_are_copied)
{
	static uint8_t outside[2 * P] __attribute__((aligned(4096)));
	struct inode *odd, *out, *tail;
	struct vmobj *obj;
	paddr_t pa;

	tar_setup();
	memset(outside, 'o', sizeof(outside));
	cr_assert_eq(tmpfs_create_external(root, "odd", 3, 0644, tar + P + 8, 2 * P, &odd), 0);
	cr_assert_eq(tmpfs_create_external(root, "out", 3, 0644, outside, sizeof(outside), &out),
		     0);
	/* Aligned, but its last page would run past the lent range. */
	cr_assert_eq(
	    tmpfs_create_external(root, "tail", 4, 0644, tar + (TAR_PAGES - 1) * P, 2 * P, &tail),
	    0);
	struct inode *files[] = {odd, out, tail};
	const uint64_t index[] = {0, 0, 1};
	const uint8_t *bytes[] = {tar + P + 8, outside, tar + TAR_PAGES * P};
	for (int k = 0; k < 3; k++) {
		struct file *f = open_ino(files[k], O_RDONLY);
		cr_assert_eq(f->ops->mmap(f, &obj), 0);
		size_t free_before = palloc_free_pages();
		cr_assert_eq(obj->ops->get_page(obj, index[k], 0, &pa), 0);
		cr_assert_lt(palloc_free_pages(), free_before, "file %d: a page was made", k);
		cr_assert(!in_tar(pa) && pa != tar_pa + TAR_PAGES * P, "file %d", k);
		cr_assert_eq(memcmp(phys_to_virt(pa), bytes[k], P), 0, "file %d", k);
		vmobj_release(obj);
		file_put(f);
	}
	/* tail's first page lies in the range: that one is lent. */
	struct file *f = open_ino(tail, O_RDONLY);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert_eq(pa, tar_pa + (TAR_PAGES - 1) * P);
	vmobj_release(obj);
	file_put(f);
	tmpfs_lend_range(root, NULL, 0);
	cr_assert_eq(tmpfs_create_external(root, "none", 4, 0644, tar, P, &out), 0);
	f = open_ino(out, O_RDONLY);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(obj->ops->get_page(obj, 0, 0, &pa), 0);
	cr_assert(!in_tar(pa), "no range lent: copied");
	vmobj_release(obj);
	file_put(f);
	assert_tar_unchanged();
}

/*
 * Through a real address space (mm/aspace.c): private and read-only
 * shared mappings map the tar's page itself; a private write copies it
 * for the app; write() and a writable shared mapping give the file its
 * own page and take the tar's out of every mapping, which then find the
 * file's; truncate into a lent page zeroes what mappings see past the end.
 */
Test(tmpfs, mappings_share_the_tars_page_until_the_file_is_written)
{
	static struct vm_ctx kctx;
	static struct aspace as;
	struct inode *ino;
	struct vmobj *obj;
	paddr_t pa;
	unsigned fl;

	tar_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	cr_assert_eq(aspace_init(&as, &kctx), 0);
	cr_assert_eq(tmpfs_create_external(root, "lib", 3, 0644, tar, 3 * P, &ino), 0);
	struct file *f = open_ino(ino, O_RDWR);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	long priv = aspace_map_object(&as, 0, 3 * P, VM_EXEC, obj, 0, 0);
	long shro = aspace_map_object(&as, 0, 3 * P, 0, obj, 0, 1);
	long cow = aspace_map_object(&as, 0, 3 * P, VM_WRITE, obj, 0, 0);
	cr_assert_gt(priv, 0);
	cr_assert_gt(shro, 0);
	cr_assert_gt(cow, 0);
	vmobj_release(obj); /* the mappings hold it now */
	size_t free_before = palloc_free_pages();
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(aspace_fault(&as, (vaddr_t)priv + i * P, ASPACE_ACCESS_EXEC), 0);
		cr_assert_eq(aspace_fault(&as, (vaddr_t)shro + i * P, ASPACE_ACCESS_READ), 0);
		cr_assert_eq(aspace_fault(&as, (vaddr_t)cow + i * P, ASPACE_ACCESS_READ), 0);
		cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)priv + i * P, &pa, &fl), 0);
		cr_assert_eq(pa, tar_pa + i * P);
		cr_assert(fl & VM_BORROWED);
		cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)shro + i * P, &pa, &fl), 0);
		cr_assert_eq(pa, tar_pa + i * P);
		cr_assert(!(fl & VM_WRITE));
	}
	cr_assert_geq(palloc_free_pages() + 8, free_before, "at most page tables were taken");

	/* The app writes its private mapping: a copy of its own. */
	cr_assert_eq(aspace_fault(&as, (vaddr_t)cow, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT),
		     0);
	paddr_t own;
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)cow, &own, &fl), 0);
	cr_assert(!in_tar(own));
	cr_assert(!(fl & VM_BORROWED) && (fl & VM_WRITE));
	memset(phys_to_virt(own), 'c', 4);
	assert_tar_unchanged();

	/* write() of page 0: every mapping of the tar's page 0 goes; the
	 * private copy stays; touching again finds the written page. */
	cr_assert_eq(pwrite_f(f, "WW", 2, 100), 2);
	assert_tar_unchanged();
	cr_assert_neq(vm_lookup(&as.ctx, (vaddr_t)priv, NULL, NULL), 0);
	cr_assert_neq(vm_lookup(&as.ctx, (vaddr_t)shro, NULL, NULL), 0);
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)cow, &pa, NULL), 0);
	cr_assert_eq(pa, own, "the app's copy stays");
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)priv + P, &pa, NULL), 0, "page 1 untouched");
	cr_assert_eq(pa, tar_pa + P);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)shro + 100, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)shro, &pa, NULL), 0);
	cr_assert(!in_tar(pa));
	cr_assert_eq(memcmp((uint8_t *)phys_to_virt(pa) + 100, "WW", 2), 0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)priv, ASPACE_ACCESS_EXEC), 0);
	paddr_t pb;
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)priv, &pb, NULL), 0);
	cr_assert_eq(pb, pa, "both find the file's page");

	/* A writable shared mapping of page 1 gives the file its page 1. */
	long shrw = aspace_map_object(&as, 0, P, VM_WRITE, obj, P, 1);
	cr_assert_gt(shrw, 0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)shrw, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)shrw, &pa, &fl), 0);
	cr_assert(!in_tar(pa) && (fl & VM_WRITE));
	memset(phys_to_virt(pa), 's', 3);
	cr_assert_neq(vm_lookup(&as.ctx, (vaddr_t)shro + P, NULL, NULL), 0, "the tar's page went");
	cr_assert_eq(aspace_fault(&as, (vaddr_t)shro + P, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)shro + P, &pb, NULL), 0);
	cr_assert_eq(pb, pa, "coherent with the writer");
	assert_tar_unchanged();

	/* Truncate into lent page 2: mappings see zeros past the new end. */
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)priv + 2 * P, &pa, NULL), 0);
	cr_assert_eq(pa, tar_pa + 2 * P);
	cr_assert_eq(set_size(ino, 2 * P + 10), 0);
	cr_assert_neq(vm_lookup(&as.ctx, (vaddr_t)priv + 2 * P, NULL, NULL), 0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)priv + 2 * P, ASPACE_ACCESS_EXEC), 0);
	cr_assert_eq(vm_lookup(&as.ctx, (vaddr_t)priv + 2 * P, &pa, NULL), 0);
	cr_assert(!in_tar(pa));
	cr_assert_eq(memcmp(phys_to_virt(pa), tar + 2 * P, 10), 0);
	for (size_t i = 10; i < P; i++)
		cr_assert_eq(((uint8_t *)phys_to_virt(pa))[i], 0, "byte %zu past the end", i);
	assert_tar_unchanged();

	aspace_destroy(&as);
	file_put(f);
	tmpfs_unmount(root);
	root = NULL;
	cr_assert_eq(palloc_check(), 0);
	assert_tar_unchanged();
	pfree(tar_pa, TAR_PAGES + 1); /* panics if anything freed one of them */
}

/* find_page (fault-around's look-up) gives what get_page would give a
 * reader now and makes nothing: the tar's page when lent, the file's own
 * page once written, -ENOENT for a page that would have to be made or lies
 * past the end. */
Test(tmpfs, vmobj_find_page_gives_lent_and_own_pages_and_makes_none)
{
	struct inode *ino, *odd;
	struct vmobj *obj, *oddobj;
	paddr_t pa, pb;

	tar_setup();
	cr_assert_eq(tmpfs_create_external(root, "lib", 3, 0644, tar, 3 * P + 100, &ino), 0);
	cr_assert_eq(tmpfs_create_external(root, "odd", 3, 0644, tar + 8, 2 * P, &odd), 0);
	struct file *f = open_ino(ino, O_RDWR);
	struct file *g = open_ino(odd, O_RDONLY);
	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(g->ops->mmap(g, &oddobj), 0);
	size_t free_before = palloc_free_pages();
	for (uint64_t i = 0; i < 3; i++) {
		cr_assert_eq(obj->ops->find_page(obj, i, &pa), 0, "page %lu", i);
		cr_assert_eq(pa, tar_pa + i * P);
	}
	cr_assert_eq(obj->ops->find_page(obj, 3, &pa), -ENOENT, "a partial page is a copy");
	cr_assert_eq(obj->ops->find_page(obj, 4, &pa), -ENOENT, "past the end");
	cr_assert_eq(oddobj->ops->find_page(oddobj, 0, &pa), -ENOENT, "unaligned: a copy");
	cr_assert_eq(palloc_free_pages(), free_before, "nothing made");

	cr_assert_eq(obj->ops->get_page(obj, 3, 0, &pa), 0);
	cr_assert_eq(obj->ops->find_page(obj, 3, &pb), 0, "made now");
	cr_assert_eq(pb, pa);
	cr_assert_eq(pwrite_f(f, "WW", 2, P + 7), 2);
	cr_assert_eq(obj->ops->find_page(obj, 1, &pa), 0);
	cr_assert(!in_tar(pa), "the written page is the file's own");
	cr_assert_eq(memcmp((uint8_t *)phys_to_virt(pa) + P + 7 - P, "WW", 2), 0);
	cr_assert_eq(oddobj->ops->get_page(oddobj, 0, 0, &pa), 0);
	cr_assert_eq(oddobj->ops->find_page(oddobj, 0, &pb), 0);
	cr_assert_eq(pb, pa);

	vmobj_release(obj);
	vmobj_release(oddobj);
	file_put(f);
	file_put(g);
	tmpfs_unmount(root);
	root = NULL;
	cr_assert_eq(palloc_check(), 0);
	assert_tar_unchanged();
	pfree(tar_pa, TAR_PAGES + 1);
}

Test(tmpfs, shrinking_calls_vmobj_unmap_from_first)
{
	struct inode *ino = mk(root, "f");
	cr_assert_eq(set_size(ino, 10 * P), 0);
	unmap_calls = 0;
	cr_assert_eq(set_size(ino, 12 * P), 0);
	cr_assert_eq(set_size(ino, 10 * P), 0);
	cr_assert_eq(set_size(ino, 3 * P), 0);
	if (!unmap_recorded())
		return; /* mm/aspace.c's vmobj_unmap_from is linked */
	cr_assert_eq(unmap_calls, 2, "only a shrink unmaps");
	cr_assert_eq(unmap_first, 3);
	cr_assert_eq(set_size(ino, 0), 0);
	cr_assert_eq(unmap_first, 0);
}

/* ---------------------------------------------------------------- directories */

Test(tmpfs, a_directory_has_two_links_plus_one_per_subdirectory)
{
	struct inode *a = mkd(root, "a");
	cr_assert_eq(root->nlink, 3);
	cr_assert_eq(a->nlink, 2);
	mkd(a, "b");
	mkd(a, "c");
	mk(a, "f");
	cr_assert_eq(a->nlink, 4);
	cr_assert_eq(a->size, 5 * 20);
	cr_assert_eq(a->parent, root);
	cr_assert_eq(root->parent, root);
	cr_assert_eq(root->ino, 1);
	cr_assert_eq(a->ops->rmdir(a, "c", 1), 0);
	cr_assert_eq(a->nlink, 3);
	cr_assert_eq(a->ops->rmdir(a, "f", 1), -ENOTDIR);
	cr_assert_eq(a->ops->unlink(a, "b", 1), -EISDIR);
	cr_assert_eq(root->ops->rmdir(root, "a", 1), -ENOTEMPTY);
	cr_assert_eq(a->ops->rmdir(a, "zz", 2), -ENOENT);
	cr_assert_eq(a->ops->unlink(a, "zz", 2), -ENOENT);
	cr_assert_eq(a->ops->mkdir(a, "f", 1, 0755, &(struct inode *){0}), -EEXIST);
}

Test(tmpfs, inode_numbers_are_unique_and_times_follow_changes)
{
	struct inode *a, *b;

	shim_now = 1 * NSEC_PER_SEC;
	a = mk(root, "a");
	b = mkd(root, "b");
	cr_assert_neq(a->ino, b->ino);
	cr_assert_neq(a->ino, root->ino);
	cr_assert_eq(a->mtime.sec, 1700000001);
	cr_assert_eq(root->mtime.sec, 1700000001, "a new entry changes the directory");

	shim_now = 2 * NSEC_PER_SEC;
	cr_assert_eq(pwrite_ino(a, "x", 1, 0), 1);
	cr_assert_eq(a->mtime.sec, 1700000002);
	cr_assert_eq(a->ctime.sec, 1700000002);
	cr_assert_eq(root->mtime.sec, 1700000001, "a write does not change the directory");

	shim_now = 3 * NSEC_PER_SEC;
	struct iattr attr = {.valid = ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME,
			     .mode = S_IFDIR | 04711,
			     .uid = 5,
			     .gid = 6,
			     .mtime = {42, 43}};
	cr_assert_eq(a->ops->setattr(a, &attr), 0);
	cr_assert_eq(a->mode, S_IFREG | 04711, "mode changes the permission bits only");
	cr_assert_eq(a->uid, 5);
	cr_assert_eq(a->gid, 6);
	cr_assert_eq(a->mtime.sec, 42);
	cr_assert_eq(a->mtime.nsec, 43);
	cr_assert_eq(a->ctime.sec, 1700000003, "ctime follows every change");
	cr_assert_eq(a->atime.sec, 1700000001);

	attr = (struct iattr){.valid = ATTR_SIZE, .size = 0};
	cr_assert_eq(b->ops->setattr(b, &attr), -EISDIR);
	struct inode *l;
	cr_assert_eq(root->ops->symlink(root, "l", 1, "a", &l), 0);
	cr_assert_eq(l->ops->setattr(l, &attr), -EINVAL);
	cr_assert_eq(l->mode, S_IFLNK | 0777);
	cr_assert_eq(l->size, 1);
	cr_assert_eq(root->ops->symlink(root, "e", 1, "", &l), -ENOENT);

	shim_now = 4 * NSEC_PER_SEC;
	cr_assert_eq(root->ops->unlink(root, "l", 1), 0);
	cr_assert_eq(root->mtime.sec, 1700000004);
	cr_assert_eq(root->ctime.sec, 1700000004);
}

Test(tmpfs, getdents_positions_survive_unlinks_and_creates)
{
	struct inode *d = mkd(root, "d");
	struct listing l = {0}, rest = {0};
	char name[32];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		mk(d, name);
	}
	struct file *f = open_ino(d, O_RDONLY | O_DIRECTORY);
	char buf[4096];
	struct iobuf b;
	iobuf_kernel(&b, buf, 24 * 10); /* ten records of 24 bytes */
	long n = f->ops->getdents(f, &b);
	cr_assert_gt(n, 0);
	parse(&l, buf, n);
	cr_assert_eq(l.n, 10);
	cr_assert_str_eq(l.names[0], ".");
	cr_assert_eq(l.type[0], DT_DIR);
	cr_assert_eq(l.ino[0], d->ino);
	cr_assert_eq(l.ino[1], root->ino);
	cr_assert_str_eq(l.names[9], "n07");
	cr_assert_eq(l.type[9], DT_REG);

	/* Remove what was listed and what comes next; add names. */
	cr_assert_eq(d->ops->unlink(d, "n03", 3), 0);
	cr_assert_eq(d->ops->unlink(d, "n08", 3), 0);
	cr_assert_eq(d->ops->unlink(d, "n09", 3), 0);
	mk(d, "new");
	list_file(f, &rest, 4096);
	cr_assert_eq(rest.n, 40 - 10 + 2 - 2 + 1);
	cr_assert_str_eq(rest.names[0], "n10", "nothing listed twice, nothing skipped");
	cr_assert_str_eq(rest.names[rest.n - 1], "new");

	/* Seeking back to a d_off lists from there again. */
	cr_assert_eq(f->ops->seek(f, (int64_t)l.off[5], SEEK_SET), (int64_t)l.off[5]);
	f->pos = l.off[5];
	rest.n = 0;
	list_file(f, &rest, 4096);
	cr_assert_str_eq(rest.names[0], "n04", "n03 is gone; the next one follows");
	cr_assert_eq(f->ops->seek(f, 0, SEEK_END), -EINVAL);
	cr_assert_eq(f->ops->seek(f, -1, SEEK_SET), -EINVAL);
	cr_assert_eq(f->ops->seek(f, 0, SEEK_SET), 0);

	/* Too small for one record; a read of a directory. */
	iobuf_kernel(&b, buf, 10);
	f->pos = 0;
	cr_assert_eq(f->ops->getdents(f, &b), -EINVAL);
	cr_assert_eq(file_read(f, &b, &f->pos), -EISDIR);
	file_put(f);
}

Test(tmpfs, many_entries_are_found_by_name_and_listed_in_order)
{
	char name[32];
	struct inode *d = mkd(root, "big");

	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "entry%d", i);
		mk(d, name);
	}
	for (int i = 0; i < 2000; i += 2) {
		snprintf(name, sizeof(name), "entry%d", i);
		cr_assert_eq(d->ops->unlink(d, name, strlen(name)), 0);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "entry%d", i);
		cr_assert_eq(get(d, name) != NULL, i % 2, "%s", name);
	}
	struct file *f = open_ino(d, O_RDONLY);
	char buf[4096];
	int seen = 0;
	for (;;) {
		struct iobuf b;
		struct listing l = {0};
		iobuf_kernel(&b, buf, 1500);
		long n = f->ops->getdents(f, &b);
		if (!n)
			break;
		parse(&l, buf, n);
		for (int k = 0; k < l.n; k++) {
			if (l.names[k][0] == '.')
				continue;
			snprintf(name, sizeof(name), "entry%d", 2 * seen + 1);
			cr_assert_str_eq(l.names[k], name);
			seen++;
		}
	}
	cr_assert_eq(seen, 1000);
	file_put(f);
}

Test(tmpfs, a_removed_directory_keeps_its_parent_until_released)
{
	struct inode *a = mkd(root, "a"), *b = mkd(a, "b"), *c = mkd(b, "c");
	uint64_t before = usage().inodes;

	inode_get(c); /* the working directory, say */
	cr_assert_eq(b->ops->rmdir(b, "c", 1), 0);
	cr_assert_eq(a->ops->rmdir(a, "b", 1), 0);
	cr_assert_eq(root->ops->rmdir(root, "a", 1), 0);
	cr_assert_eq(usage().inodes, before, "the chain lives while c is held");
	cr_assert_eq(c->nlink, 0);
	cr_assert_eq(c->parent, b);
	cr_assert_eq(b->parent, a);
	struct inode *x;
	cr_assert_eq(c->ops->create(c, "x", 1, 0644, &x), -ENOENT);
	cr_assert_eq(c->ops->mkdir(c, "x", 1, 0755, &x), -ENOENT);
	cr_assert_eq(c->ops->tmpfile(c, 0600, &x), -ENOENT);
	struct file *f = open_ino(c, O_RDONLY);
	char buf[256];
	struct iobuf io;
	iobuf_kernel(&io, buf, sizeof(buf));
	cr_assert_eq(f->ops->getdents(f, &io), -ENOENT);
	file_put(f);
	inode_put(c);
	cr_assert_eq(usage().inodes, before - 3, "all three evicted, without recursion");
	cr_assert_eq(root->nlink, 2);
}

Test(tmpfs, tmpfile_has_no_name_until_linked)
{
	struct inode *t;
	struct file *f;

	cr_assert_eq(root->ops->tmpfile(root, 0600, &t), 0);
	cr_assert_eq(t->nlink, 0);
	cr_assert_eq(t->mode, S_IFREG | 0600);
	cr_assert_eq(vfs_open(t, O_RDWR, &f), 0);
	cr_assert_eq(pwrite_f(f, "tmp", 3, 0), 3);
	cr_assert_eq(root->ops->link(root, "named", 5, t), 0);
	cr_assert_eq(t->nlink, 1);
	cr_assert_eq(get(root, "named"), t);
	file_put(f);
	cr_assert_eq(usage().inodes, 2, "named now: it stays");

	cr_assert_eq(root->ops->tmpfile(root, 0600, &t), 0);
	cr_assert_eq(vfs_open(t, O_RDWR, &f), 0);
	cr_assert_eq(pwrite_f(f, "tmp", 3, 0), 3);
	cr_assert_eq(usage().inodes, 3);
	file_put(f);
	cr_assert_eq(usage().inodes, 2, "never named: gone with its file");
	cr_assert_eq(usage().used_bytes, P);
}

Test(tmpfs, hard_links_count_names)
{
	struct inode *f = mk(root, "f"), *d = mkd(root, "d");

	cr_assert_eq(d->ops->link(d, "g", 1, f), 0);
	cr_assert_eq(root->ops->link(root, "h", 1, f), 0);
	cr_assert_eq(f->nlink, 3);
	cr_assert_eq(root->ops->link(root, "h", 1, f), -EEXIST);
	cr_assert_eq(get(d, "g"), f);
	cr_assert_eq(root->ops->unlink(root, "f", 1), 0);
	cr_assert_eq(root->ops->unlink(root, "h", 1), 0);
	cr_assert_eq(f->nlink, 1);
	cr_assert_eq(usage().inodes, 3);
	cr_assert_eq(d->ops->unlink(d, "g", 1), 0);
	cr_assert_eq(usage().inodes, 2);
}

Test(tmpfs, child_name_and_readlink)
{
	struct inode *d = mkd(root, "dir"), *l;
	char buf[16];

	cr_assert_eq(root->ops->child_name(root, d, buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "dir");
	cr_assert_eq(root->ops->child_name(root, d, buf, 3), -ERANGE);
	cr_assert_eq(d->ops->child_name(d, root, buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(root->ops->symlink(root, "l", 1, "/some/where", &l), 0);
	cr_assert_eq(l->ops->readlink(l, buf, sizeof(buf)), 11);
	cr_assert_eq(memcmp(buf, "/some/where", 11), 0);
	cr_assert_eq(l->ops->readlink(l, buf, 4), 4, "cut to the buffer");
	cr_assert_null(l->ops->lookup);
	cr_assert_null(l->fops);
}

/* ---------------------------------------------------------------- rename */

static int ren(struct inode *od, const char *o, struct inode *nd, const char *n, unsigned flags)
{
	return od->ops->rename(od, o, strlen(o), nd, n, strlen(n), flags);
}

Test(tmpfs, rename_replaces_and_refuses_as_linux_does)
{
	struct inode *a = mkd(root, "a"), *b = mkd(root, "b"), *f = mk(root, "f"),
		     *g = mk(root, "g");

	mk(b, "inside");
	cr_assert_eq(ren(root, "nope", root, "x", 0), -ENOENT);
	cr_assert_eq(ren(root, "f", root, "f", 0), 0, "onto itself: nothing");
	cr_assert_eq(root->ops->link(root, "f2", 2, f), 0);
	cr_assert_eq(ren(root, "f", root, "f2", 0), 0, "two names of one inode: nothing");
	cr_assert_eq(get(root, "f"), f);
	cr_assert_eq(f->nlink, 2);
	cr_assert_eq(ren(root, "f", root, "g", RENAME_NOREPLACE), -EEXIST);
	cr_assert_eq(ren(root, "a", root, "f", 0), -ENOTDIR);
	cr_assert_eq(ren(root, "f", root, "a", 0), -EISDIR);
	cr_assert_eq(ren(root, "a", root, "b", 0), -ENOTEMPTY);
	cr_assert_eq(ren(root, "f", root, "g", RENAME_NOREPLACE | RENAME_EXCHANGE), -EINVAL);
	cr_assert_eq(ren(root, "f", root, "g", RENAME_WHITEOUT), -EINVAL);
	cr_assert_eq(ren(root, "f", root, "new", RENAME_EXCHANGE), -ENOENT);

	uint64_t inodes = usage().inodes;
	cr_assert_eq(ren(root, "f", root, "g", 0), 0, "a file over a file");
	cr_assert_eq(get(root, "g"), f);
	cr_assert_null(get(root, "f"));
	cr_assert_eq(usage().inodes, inodes - 1, "the replaced file is gone");
	(void)g;

	cr_assert_eq(ren(root, "a", b, "sub", 0), 0, "a directory into another");
	cr_assert_eq(a->parent, b);
	cr_assert_eq(root->nlink, 3);
	cr_assert_eq(b->nlink, 3);
	struct inode *e = mkd(root, "empty");
	cr_assert_eq(ren(b, "sub", root, "empty", 0), 0, "a directory over an empty one");
	cr_assert_eq(get(root, "empty"), a);
	cr_assert_eq(a->parent, root);
	cr_assert_eq(b->nlink, 2);
	cr_assert_eq(root->nlink, 4, "a, b and the root's own two");
	(void)e;
}

Test(tmpfs, rename_exchange_swaps_and_fixes_parents)
{
	struct inode *d1 = mkd(root, "d1"), *d2 = mkd(root, "d2");
	struct inode *sub = mkd(d1, "x"), *file = mk(d2, "y");

	cr_assert_eq(ren(d1, "x", d2, "y", RENAME_EXCHANGE), 0);
	cr_assert_eq(get(d1, "x"), file);
	cr_assert_eq(get(d2, "y"), sub);
	cr_assert_eq(sub->parent, d2);
	cr_assert_eq(d1->nlink, 2);
	cr_assert_eq(d2->nlink, 3);
	cr_assert_eq(ren(d1, "x", d1, "x", RENAME_EXCHANGE), 0);

	struct inode *other;
	cr_assert_eq(tmpfs_mount(P, 8, 0, &other), 0);
	vfs_mount(sub, other);
	cr_assert_eq(ren(d2, "y", root, "moved", 0), -EBUSY, "a mount point stays");
	cr_assert_eq(d2->ops->rmdir(d2, "y", 1), -EBUSY);
	cr_assert_eq(ren(d1, "x", d2, "y", RENAME_EXCHANGE), -EBUSY);
	tmpfs_unmount(other);
}

Test(tmpfs, a_renamed_entry_lists_after_the_others)
{
	struct inode *d = mkd(root, "d");
	struct listing l;

	mk(d, "a");
	mk(d, "b");
	mk(d, "c");
	cr_assert_eq(ren(d, "a", d, "z", 0), 0);
	list(d, &l);
	cr_assert_eq(l.n, 5);
	cr_assert_str_eq(l.names[2], "b");
	cr_assert_str_eq(l.names[3], "c");
	cr_assert_str_eq(l.names[4], "z");
}

/* ---------------------------------------------------------------- unmount */

Test(tmpfs, unmount_returns_every_page_and_record)
{
	teardown();
	mm_test_setup();
	kmalloc_trim();
	struct palloc_stats before = mm_test_palloc_stats();
	size_t live_before = mm_test_kmalloc_stats().live_allocations;
	static uint8_t ext[3 * P];

	cr_assert_eq(tmpfs_mount(64ull << 20, 7, 0, &root), 0);
	struct inode *d = mkd(root, "d"), *f = mk(d, "f"), *t;
	uint8_t *data = calloc(1, 40 * P);
	cr_assert_eq(pwrite_ino(f, data, 40 * P, 0), (long)(40 * P));
	cr_assert_eq(pwrite_ino(f, "far", 3, (1ull << 40) - 3), 3, "the tree's deepest path");
	cr_assert_eq(tmpfs_create_external(d, "e", 1, 0644, ext, sizeof(ext), &t), 0);
	cr_assert_eq(pwrite_ino(t, "w", 1, P), 1);
	cr_assert_eq(root->ops->tmpfile(root, 0600, &t), 0); /* nameless */
	struct inode *l;
	cr_assert_eq(d->ops->symlink(d, "l", 1, "f", &l), 0);
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%d", i);
		mk(root, name);
	}
	tmpfs_unmount(root);
	root = NULL;
	kmalloc_trim();
	struct palloc_stats after = mm_test_palloc_stats();
	cr_assert_eq(after.free_pages, before.free_pages);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, live_before);
	free(data);
}

/* /proc/self/maps names a mapped file by a path that names it now. */
Test(tmpfs, vmobj_describe_gives_the_files_path_device_and_inode)
{
	struct inode *lib = mkd(root, "lib"), *ino = mk(lib, "libz.so.1"), *top = mk(root, "top");
	struct file *f = open_ino(ino, O_RDONLY), *g = open_ino(top, O_RDONLY);
	struct vmobj *obj, *tobj;
	uint64_t dev = 0, inum = 0;
	char path[64];

	cr_assert_eq(f->ops->mmap(f, &obj), 0);
	cr_assert_eq(g->ops->mmap(g, &tobj), 0);
	cr_assert_eq(obj->ops->describe(obj, &dev, &inum, path, sizeof(path)), 14);
	cr_assert_str_eq(path, "/lib/libz.so.1");
	cr_assert_eq(dev, 7);
	cr_assert_eq(inum, ino->ino);
	cr_assert_eq(tobj->ops->describe(tobj, &dev, &inum, path, sizeof(path)), 4);
	cr_assert_str_eq(path, "/top");
	cr_assert_eq(obj->ops->describe(obj, &dev, &inum, path, 10), -ERANGE);
	cr_assert_eq(lib->ops->unlink(lib, "libz.so.1", 9), 0);
	cr_assert_eq(obj->ops->describe(obj, &dev, &inum, path, sizeof(path)), -ENOENT);
	cr_assert_eq(inum, ino->ino, "an unlinked file still has its numbers");
	file_put(f);
	file_put(g);
	vmobj_release(obj);
	vmobj_release(tobj);
}

/* ---------------------------------------------------------------- shared writes */

/* What a shared syscall's write must leave alone when it asks for the lock. */
struct file_state {
	uint64_t size;
	struct k_timespec mtime;
	size_t free_pages;
	unsigned char data[4 * P];
};

static void file_state(struct inode *ino, struct file *f, struct file_state *st)
{
	st->size = ino->size;
	st->mtime = ino->mtime;
	st->free_pages = palloc_free_pages();
	memset(st->data, 0, sizeof(st->data));
	(void)pread_f(f, st->data, sizeof(st->data), 0);
}

/* A shared write through wf of b at off asks for the lock (shim_needs_lock)
 * and leaves the file as before (read through f). */
static void assert_left_to_the_lock(struct inode *ino, struct file *f, struct file *wf,
				    struct iobuf *b, uint64_t off, const struct file_state *before,
				    const char *what)
{
	struct file_state after;
	uint64_t at = off;

	shim_needs_lock = 0;
	shim_shared = 1;
	(void)file_write(wf, b, &at);
	shim_shared = 0;
	cr_assert_eq(shim_needs_lock, 1, "%s: asks for the lock", what);
	file_state(ino, f, &after);
	cr_assert_eq(after.size, before->size, "%s", what);
	cr_assert_eq(after.mtime.sec, before->mtime.sec, "%s", what);
	cr_assert_eq(after.free_pages, before->free_pages, "%s", what);
	cr_assert(!memcmp(after.data, before->data, sizeof(after.data)), "%s", what);
}

/* A write in a shared syscall (shim_shared) goes over bytes the file has,
 * in place; what would fill a hole or need a page the file lacks asks for
 * the lock (shim_needs_lock) and changes nothing. */
Test(tmpfs, shared_write_overwrites_in_place_and_leaves_the_rest_to_the_lock)
{
	static unsigned char a[3 * P], b[100], c[20];
	struct inode *ino = mk(root, "f");
	struct file *f = open_ino(ino, O_RDWR), *app = open_ino(ino, O_WRONLY | O_APPEND);
	struct file_state before;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	shim_now = 1000000000ull;
	cr_assert_eq(pwrite_f(f, a, sizeof(a), 0), (long)sizeof(a));
	int64_t written = ino->mtime.sec;
	cr_assert_eq(set_size(ino, 4 * P), 0); /* page 3: a hole */

	shim_now = 5000000000ull;
	shim_shared = 1;
	cr_assert_eq(pwrite_f(f, b, sizeof(b), P - 50), (long)sizeof(b), "across pages 0 and 1");
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(ino->mtime.sec, written + 4, "the write stamps the file");
	file_state(ino, f, &before);
	cr_assert_eq(before.size, 4 * P);
	for (size_t i = 0; i < 3 * P; i++)
		cr_assert_eq(before.data[i], i >= P - 50 && i < P + 50 ? 'b' : 'a', "byte %zu", i);

	shim_now = 9000000000ull;
	const struct {
		struct file *f;
		uint64_t off;
		size_t len;
		const char *what;
	} refused[] = {
	    {f, 3 * P - 10, sizeof(c), "into the hole"},
	    {f, 4 * P - 10, sizeof(c), "past the end"},
	    {f, 4 * P, sizeof(c), "at the end"},
	    {app, 0, sizeof(c), "O_APPEND"},
	    {f, 0, 0, "nothing"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct iobuf rb;
		iobuf_kernel(&rb, c, refused[i].len);
		assert_left_to_the_lock(ino, f, refused[i].f, &rb, refused[i].off, &before,
					refused[i].what);
	}
	/* The locked run does what the shared attempt left. */
	cr_assert_eq(pwrite_f(f, c, sizeof(c), 4 * P - 10), (long)sizeof(c));
	cr_assert_eq(ino->size, 4 * P + 10);
	file_put(f);
	file_put(app);
}

/* Shared writers of one file on several host threads ("CPUs"), each round
 * started together: each write of eight pages stays whole, so after
 * every round the pages hold one writer's bytes. */
#define SW_THREADS 4
#define SW_ROUNDS  2000
#define SW_BYTES   (8 * P)

static struct file *sw_file;
static pthread_barrier_t sw_start, sw_end;
static int sw_errors;

static void *shared_writer(void *arg)
{
	static _Thread_local unsigned char buf[SW_BYTES];
	unsigned me = (unsigned)(uintptr_t)arg;

	spin_host_cpu = me;
	shim_copy_yields = 1; /* between pages: writers without turns would cross */
	memset(buf, (int)me, sizeof(buf));
	for (int round = 0; round < SW_ROUNDS; round++) {
		struct iobuf b;
		uint64_t at = 0;
		pthread_barrier_wait(&sw_start);
		shim_shared = 1;
		iobuf_user(&b, U(buf), sizeof(buf));
		if (file_write(sw_file, &b, &at) != (long)sizeof(buf) || shim_needs_lock)
			__atomic_fetch_add(&sw_errors, 1, __ATOMIC_RELAXED);
		shim_shared = 0;
		pthread_barrier_wait(&sw_end);
	}
	return NULL;
}

Test(tmpfs, shared_writers_of_one_file_take_turns)
{
	static unsigned char got[SW_BYTES];
	struct inode *ino = mk(root, "w");
	pthread_t t[SW_THREADS];
	int mixed = 0;

	sw_file = open_ino(ino, O_RDWR);
	sw_errors = 0;
	memset(got, 0, sizeof(got));
	cr_assert_eq(pwrite_f(sw_file, got, sizeof(got), 0), (long)sizeof(got));
	pthread_barrier_init(&sw_start, NULL, SW_THREADS + 1);
	pthread_barrier_init(&sw_end, NULL, SW_THREADS + 1);
	for (uintptr_t i = 0; i < SW_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, shared_writer, (void *)(i + 1)), 0);
	for (int round = 0; round < SW_ROUNDS; round++) {
		pthread_barrier_wait(&sw_start);
		pthread_barrier_wait(&sw_end);
		cr_assert_eq(pread_f(sw_file, got, sizeof(got), 0), (long)sizeof(got));
		for (size_t i = 1; i < sizeof(got); i++)
			mixed += got[i] != got[0];
	}
	for (int i = 0; i < SW_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&sw_start);
	pthread_barrier_destroy(&sw_end);
	cr_assert_eq(sw_errors, 0);
	cr_assert_eq(mixed, 0, "bytes of two writers in one round's result");
	file_put(sw_file);
}

/* A shared write may append, and grow the file, inside pages it holds (the
 * tail of the last one): the size moves with it, O_APPEND writes at the
 * size. A page the file lacks, a hole before the write, or a copy that the
 * shared side gives up leaves the file as it was, with zeros past its end. */
Test(tmpfs, shared_write_appends_inside_held_pages_only)
{
	static unsigned char a[100], b[50], c[P], d[30], back[P];
	struct inode *ino = mk(root, "log");
	struct file *f = open_ino(ino, O_RDWR), *app = open_ino(ino, O_WRONLY | O_APPEND);
	struct file_state before;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	memset(d, 'd', sizeof(d));
	shim_now = 1000000000ull;
	cr_assert_eq(pwrite_f(f, a, sizeof(a), 0), (long)sizeof(a));
	int64_t written = ino->mtime.sec;

	shim_now = 3000000000ull;
	shim_shared = 1;
	uint64_t ignored = 0;
	struct iobuf io;
	iobuf_kernel(&io, b, sizeof(b));
	cr_assert_eq(file_write(app, &io, &ignored), (long)sizeof(b), "O_APPEND: at the size");
	cr_assert_eq(ignored, 150, "the write's end is its position");
	cr_assert_eq(pwrite_f(f, b, 20, 150), 20, "at the end");
	cr_assert_eq(pwrite_f(f, a, 40, 160), 40, "over the end and past it");
	shim_shared = 0;
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(ino->size, 200);
	cr_assert_eq(ino->mtime.sec, written + 2, "the writes stamp the file");
	file_state(ino, f, &before);
	for (size_t i = 0; i < 200; i++)
		cr_assert_eq(before.data[i], i < 100 || i >= 160 ? 'a' : 'b', "byte %zu", i);

	shim_now = 9000000000ull;
	static struct linux_iovec torn[2];
	torn[0] = (struct linux_iovec){(uint64_t)(uintptr_t)d, sizeof(d)};
	torn[1] = (struct linux_iovec){16, 10}; /* faults after d is in */
	const struct {
		struct file *f;
		uint64_t off;
		const void *buf;
		size_t len;
		int vec;
		const char *what;
	} refused[] = {
	    {f, 201, d, sizeof(d), 0, "past the end (a hole before it)"},
	    {f, P - 10, c, 20, 0, "into a page the file lacks"},
	    {app, 0, c, sizeof(c), 0, "O_APPEND into a page the file lacks"},
	    {f, 200, NULL, 0, 1, "a copy given up halfway"},
	    {app, 0, NULL, 0, 1, "O_APPEND, a copy given up halfway"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct iobuf rb;
		if (refused[i].vec)
			iobuf_user_vec(&rb, torn, 2, sizeof(d) + 10);
		else
			iobuf_kernel(&rb, (void *)refused[i].buf, refused[i].len);
		assert_left_to_the_lock(ino, f, refused[i].f, &rb, refused[i].off, &before,
					refused[i].what);
	}
	/* What a given-up copy wrote past the end is zero again: growing the
	 * file under the lock shows zeros there. */
	cr_assert_eq(set_size(ino, P), 0);
	cr_assert_eq(pread_f(f, back, P, 0), (long)P);
	for (size_t i = 200; i < P; i++)
		cr_assert_eq(back[i], 0, "byte %zu past the old end", i);
	file_put(f);
	file_put(app);
}

/* O_APPEND writers on host threads ("CPUs") beside a reader: each record
 * lands whole at the end, none is lost or overwritten, and the reader
 * never finds a byte under the size that no record wrote. */
#define SA_THREADS 4
#define SA_RECORDS 60 /* a thread's, a round: four threads' fill most of a page */
#define SA_RECORD  16
/* 30 rounds fail every run of a kernel whose shared writes skip the
 * inode's lock, or publish the size before the copy. More rounds only
 * cost: each copy yields, and beside the other test job a yield can be a
 * whole host time slice. */
#define SA_ROUNDS 30

static struct file *sa_file, *sa_rfile; /* O_APPEND; O_RDONLY */
static pthread_barrier_t sa_start, sa_end;
static int sa_errors, sa_writing, sa_torn_reads;

static void *shared_appender(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	unsigned char rec[SA_RECORD];

	spin_host_cpu = me;
	shim_copy_yields = 1; /* writers without turns would take one end */
	memset(rec, 'A' + (int)me, sizeof(rec));
	for (int round = 0; round < SA_ROUNDS; round++) {
		pthread_barrier_wait(&sa_start);
		for (int i = 0; i < SA_RECORDS; i++) {
			struct iobuf b;
			uint64_t at = 0;
			shim_needs_lock = 0;
			shim_shared = 1;
			iobuf_user(&b, U(rec), sizeof(rec));
			if (file_write(sa_file, &b, &at) != SA_RECORD || shim_needs_lock)
				__atomic_fetch_add(&sa_errors, 1, __ATOMIC_RELAXED);
			shim_shared = 0;
		}
		__atomic_fetch_sub(&sa_writing, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&sa_end);
	}
	return NULL;
}

/* Reads the file while a round's writers write (the main thread's locked
 * calls between rounds run alone, as a holder's do). */
static void *shared_tail_reader(void *arg)
{
	static _Thread_local unsigned char got[P];

	(void)arg;
	spin_host_cpu = SA_THREADS + 1;
	for (int round = 0; round < SA_ROUNDS; round++) {
		pthread_barrier_wait(&sa_start);
		int last;
		do {
			last = !__atomic_load_n(&sa_writing, __ATOMIC_ACQUIRE);
			struct iobuf b;
			uint64_t at = 0;
			shim_shared = 1;
			iobuf_user(&b, U(got), sizeof(got));
			long n = file_read(sa_rfile, &b, &at);
			shim_shared = 0;
			for (long i = 1; i < n; i++) {
				if (!got[i]) {
					__atomic_fetch_add(&sa_torn_reads, 1, __ATOMIC_RELAXED);
					break;
				}
			}
		} while (!last);
		pthread_barrier_wait(&sa_end);
	}
	return NULL;
}

Test(tmpfs, shared_appenders_of_one_file_lose_and_mix_nothing)
{
	static unsigned char got[P];
	struct inode *ino = mk(root, "app.log");
	pthread_t t[SA_THREADS], reader;
	struct file *f = open_ino(ino, O_RDWR);

	sa_file = open_ino(ino, O_WRONLY | O_APPEND);
	sa_rfile = open_ino(ino, O_RDONLY);
	sa_errors = sa_torn_reads = 0;
	pthread_barrier_init(&sa_start, NULL, SA_THREADS + 2);
	pthread_barrier_init(&sa_end, NULL, SA_THREADS + 2);
	for (uintptr_t i = 0; i < SA_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, shared_appender, (void *)i), 0);
	cr_assert_eq(pthread_create(&reader, NULL, shared_tail_reader, NULL), 0);
	for (int round = 0; round < SA_ROUNDS; round++) {
		unsigned count[SA_THREADS] = {0};
		/* Under the lock: one byte, so that page 0 is held. */
		cr_assert_eq(set_size(ino, 0), 0);
		cr_assert_eq(pwrite_f(f, "#", 1, 0), 1);
		sa_writing = SA_THREADS;
		pthread_barrier_wait(&sa_start);
		pthread_barrier_wait(&sa_end);
		cr_assert_eq(ino->size, 1 + SA_THREADS * SA_RECORDS * SA_RECORD, "round %d", round);
		cr_assert_eq(pread_f(f, got, sizeof(got), 0), (long)ino->size);
		for (size_t r = 0; r < SA_THREADS * SA_RECORDS; r++) {
			const unsigned char *rec = got + 1 + r * SA_RECORD;
			cr_assert(rec[0] >= 'A' && rec[0] < 'A' + SA_THREADS, "round %d", round);
			for (size_t i = 1; i < SA_RECORD; i++)
				cr_assert_eq(rec[i], rec[0], "round %d: record %zu mixed", round,
					     r);
			count[rec[0] - 'A']++;
		}
		for (int i = 0; i < SA_THREADS; i++)
			cr_assert_eq(count[i], SA_RECORDS, "round %d: writer %d", round, i);
	}
	for (int i = 0; i < SA_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(reader, NULL);
	pthread_barrier_destroy(&sa_start);
	pthread_barrier_destroy(&sa_end);
	cr_assert_eq(sa_errors, 0);
	cr_assert_eq(sa_torn_reads, 0, "a read found a byte no record wrote");
	file_put(sa_file);
	file_put(sa_rfile);
	file_put(f);
}
