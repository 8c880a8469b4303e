/*
 * tmpfs - the RAM file system (see tmpfs.h): its inodes, directories,
 * regular files with page storage, symlinks, and the file and vmobj
 * operations over them.
 *
 * Records. Every inode is a struct tmpfs_inode (the vfs inode first), on
 * its file system's list of all inodes (so unmount frees everything, even
 * unnamed files). A directory holds its names as entries in insertion
 * order, each with a cookie from a per-directory counter that only grows:
 * getdents keeps "the cookie of the next entry" in f->pos, so a listing
 * in progress neither repeats nor skips an entry when others are created
 * or removed (positions 0 and 1 are "." and ".."). A directory of more
 * than a few entries also keeps a hash table over them for lookups.
 *
 * Lifetime (vfs.h): the tree holds an inode while it has names (nlink);
 * references (refs) hold it after. Whoever takes the last of both evicts
 * it: tmpfs itself when a name goes and nothing holds the inode, the vfs's
 * inode_put otherwise. A removed directory that is still referenced (the
 * working directory of the app) keeps a reference on its parent, so that
 * ".." of it stays valid; evicting it drops that reference, and a chain
 * of such directories is released by a loop, not by recursion.
 *
 * Pages. A regular file's data lives in whole pages from palloc, found
 * through a radix tree of 64-slot nodes indexed by page number (height
 * grows with the file; a small file costs one 512-byte node). A slot holds
 * a physical address with PAGE_COUNTED in its low bit when the page holds
 * data that was written (write, fallocate, a writable shared mapping):
 * only those count against the size limit. Absent pages read as the
 * file's external bytes (tmpfs_create_external) where it has them, and as
 * zeros past them (holes); a page is made when it is written, and then
 * starts as a copy of what it read as. Every page, counted or not, stays
 * out of the kernel's reserve (ASPACE_KERNEL_RESERVE_PAGES).
 *
 * Pages lent in place. When the external bytes lie in memory the file
 * system was told it may map (tmpfs_lend_range: the rootfs.tar module,
 * whose members' data mkimg puts on page boundaries), a mapping that only
 * reads a page of them is given that page where it lies, so every mapping
 * of a library shares the archive's own frames and none is copied. Such a
 * page never enters the tree: nothing here writes or frees it, and
 * truncate, unlink and unmount find no slot to free. The page has to lie
 * wholly inside the file's bytes and on a page boundary; the last, partial
 * page (its tail is the archive's next header) is copied as before. When a
 * lent page is then written (write, fallocate, a writable shared mapping)
 * or cut by truncate, the file makes its own page as it always did and
 * first takes the archive's page out of every address space
 * (vmobj_unmap_page), so that every mapping faults again and finds the
 * file's page: shared mappings stay coherent with write(), and private
 * ones see the file as Linux's do until they write (their copies stay).
 *
 * Invariant: bytes of a page at or past the file's size are zero, and the
 * external bytes never extend past the size, so growing a file (truncate
 * up, a write past the end) shows zeros.
 *
 * Limits: a file is at most TMPFS_MAX_FILE_SIZE (1 TiB: EFBIG past it),
 * which a tree of height 5 indexes with room to spare. The number of
 * inodes is capped (ENOSPC) at the larger of the data limit in pages and
 * TMPFS_MIN_INODES.
 */
#include "fs/tmpfs.h"

#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/time.h"
#include "kernel/klib.h"
#include "kernel/spinlock.h"
#include "kernel/syscall.h"
#include "kernel/time.h"
#include "mm/aspace.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/vmobj.h"

#define TMPFS_MAX_FILE_SIZE (1ull << 40)
#define TMPFS_MIN_INODES    65536
#define RADIX_SHIFT	    6
#define RADIX_SLOTS	    (1u << RADIX_SHIFT)
#define RADIX_MASK	    (RADIX_SLOTS - 1)
#define PAGE_COUNTED	    1ull /* slot bit: the page holds written data */
#define SLOT_FLAGS	    (PAGE_SIZE - 1)
#define BOGO_DIRENT_SIZE    20 /* Linux tmpfs: a directory's size per entry */
#define HASH_MIN_ENTRIES    16 /* below this, lookups scan the list */
#define DIRENT_NAME_OFF	    19 /* linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name */

_Static_assert((TMPFS_MAX_FILE_SIZE >> PAGE_SHIFT) <= (1ull << (RADIX_SHIFT * 5)),
	       "a tree of height 5 indexes every page of the largest file");

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct tmpfs_inode;

struct tmpfs {
	struct super sb; /* first: the inodes' sb */
	uint64_t max_pages, used_pages;
	uint64_t max_inodes, inodes;
	uint64_t next_ino;
	struct tmpfs_inode *all;       /* every inode, named or not */
	uintptr_t lend_base, lend_end; /* tmpfs_lend_range: external bytes mapped in place */
};

struct tmpfs_dirent {
	struct tmpfs_dirent *prev, *next; /* in cookie order */
	struct tmpfs_dirent *hnext;	  /* the hash bucket's chain */
	struct tmpfs_inode *node;
	uint64_t cookie;
	uint32_t hash;
	uint16_t len;
	char name[];
};

union radix_slot {
	struct radix_node *child; /* interior levels */
	uint64_t page;		  /* the leaf level: paddr | PAGE_COUNTED, 0: absent */
};

struct radix_node {
	union radix_slot s[RADIX_SLOTS];
};

struct tmpfs_inode {
	struct inode vfs; /* first */
	struct vmobj obj; /* regular files: what mmap maps */
	struct tmpfs *fs;
	struct tmpfs_inode *all_prev, *all_next;
	int holds_parent; /* a removed directory holding a reference on its parent */
	int linkable;	  /* an O_TMPFILE file that link may still name */
	union {
		struct {
			struct tmpfs_dirent *first, *last;
			struct tmpfs_dirent **buckets; /* NULL: scan the list */
			uint32_t nbuckets;	       /* a power of two */
			uint64_t count, next_cookie;
		} dir;
		struct {
			struct radix_node *root;
			unsigned height; /* root covers pages [0, 64^height) */
			uint64_t npages; /* pages held */
			const uint8_t *ext;
			uint64_t ext_size;
			int lent; /* a page of ext was handed out in place */
			/* Shared writers of this file take turns (reg_write_shared). */
			struct spinlock shared_write;
		} reg;
		struct {
			char *target;
			size_t len;
		} lnk;
	};
};

static const struct inode_ops dir_iops, reg_iops, lnk_iops;
static const struct file_ops dir_fops, reg_fops, sock_fops;
static const struct vmobj_ops reg_vmobj_ops;

static struct tmpfs_inode *TI(const struct inode *ino)
{
	return container_of(ino, struct tmpfs_inode, vfs);
}

static struct k_timespec now(void)
{
	uint64_t ns = 0;

	time_clock(CLOCK_REALTIME, &ns);
	return time_ns_timespec(ns);
}

/* Marks a change of ino's contents (mtime and ctime). */
static void touch(struct tmpfs_inode *ti)
{
	ti->vfs.mtime = ti->vfs.ctime = now();
}

/* A zeroed record for the file system's bookkeeping, or NULL when memory
 * is short (the reserve counts here too: records are the app's doing). */
static void *meta_alloc(size_t size)
{
	return aspace_pages_available(1) ? zmalloc(size) : NULL;
}

static uint64_t pages_for(uint64_t size)
{
	return (size >> PAGE_SHIFT) + ((size & (PAGE_SIZE - 1)) != 0);
}

/* ---------------------------------------------------------------- pages */

/* The slot of page index of a regular file, or NULL when no node on the
 * way exists (the page is absent). */
static uint64_t *page_slot(struct tmpfs_inode *ti, uint64_t index)
{
	struct radix_node *n = ti->reg.root;

	if (!n || index >> (RADIX_SHIFT * ti->reg.height))
		return NULL;
	for (unsigned level = ti->reg.height; level > 1; level--) {
		n = n->s[(index >> (RADIX_SHIFT * (level - 1))) & RADIX_MASK].child;
		if (!n)
			return NULL;
	}
	return &n->s[index & RADIX_MASK].page;
}

/* The slot of page index, making the nodes on the way: 0 or -ENOMEM
 * (nodes made before the failure stay; they are freed with the file). */
static int page_slot_make(struct tmpfs_inode *ti, uint64_t index, uint64_t **out)
{
	struct radix_node *n;

	if (!ti->reg.root) {
		if (!(ti->reg.root = meta_alloc(sizeof(struct radix_node))))
			return -ENOMEM;
		ti->reg.height = 1;
	}
	while (index >> (RADIX_SHIFT * ti->reg.height)) {
		if (!(n = meta_alloc(sizeof(*n))))
			return -ENOMEM;
		n->s[0].child = ti->reg.root;
		ti->reg.root = n;
		ti->reg.height++;
	}
	n = ti->reg.root;
	for (unsigned level = ti->reg.height; level > 1; level--) {
		union radix_slot *s = &n->s[(index >> (RADIX_SHIFT * (level - 1))) & RADIX_MASK];
		if (!s->child && !(s->child = meta_alloc(sizeof(struct radix_node))))
			return -ENOMEM;
		n = s->child;
	}
	*out = &n->s[index & RADIX_MASK].page;
	return 0;
}

static void set_npages(struct tmpfs_inode *ti, uint64_t npages)
{
	ti->reg.npages = npages;
	ti->vfs.blocks = npages * (PAGE_SIZE / 512);
}

/* Frees the pages at index first and after below n (a node of the given
 * level whose first page is base) and the nodes left empty. Returns
 * whether n is empty now. Recursion depth: the tree's height (<= 5). */
static int radix_free_from(struct tmpfs_inode *ti, struct radix_node *n, unsigned level,
			   uint64_t base, uint64_t first)
{
	uint64_t span = 1ull << (RADIX_SHIFT * (level - 1));
	int empty = 1;

	for (unsigned i = 0; i < RADIX_SLOTS; i++) {
		uint64_t start = base + i * span;
		union radix_slot *s = &n->s[i];
		if (level == 1) {
			if (s->page && start >= first) {
				pfree(s->page & ~SLOT_FLAGS, 1);
				if (s->page & PAGE_COUNTED)
					ti->fs->used_pages--;
				set_npages(ti, ti->reg.npages - 1);
				s->page = 0;
			}
			empty &= !s->page;
			continue;
		}
		if (s->child && start + span > first &&
		    radix_free_from(ti, s->child, level - 1, start, first)) {
			kfree(s->child);
			s->child = NULL;
		}
		empty &= !s->child;
	}
	return empty;
}

/* Frees every page of a regular file at index first and after. */
static void pages_free_from(struct tmpfs_inode *ti, uint64_t first)
{
	if (ti->reg.root && radix_free_from(ti, ti->reg.root, ti->reg.height, 0, first)) {
		kfree(ti->reg.root);
		ti->reg.root = NULL;
		ti->reg.height = 0;
	}
}

/* Whether page index of a regular file, absent from its tree, may be lent
 * in place: its external bytes fill the whole page, start on a page
 * boundary and lie in the file system's lendable range. */
static int ext_lendable(const struct tmpfs_inode *ti, uint64_t index)
{
	const struct tmpfs *fs = ti->fs;
	uint64_t off = index << PAGE_SHIFT;

	if (off >= ti->reg.ext_size || ti->reg.ext_size - off < PAGE_SIZE)
		return 0; /* (index < 2^28: no file reaches TMPFS_MAX_FILE_SIZE) */
	uintptr_t at = (uintptr_t)(ti->reg.ext + off);
	return !(at & (PAGE_SIZE - 1)) && at >= fs->lend_base && at < fs->lend_end &&
	       fs->lend_end - at >= PAGE_SIZE;
}

/*
 * page_get - the page at index of a regular file, made when absent (as a
 * copy of the external bytes it reads as, or zeros), or for a reader
 * (!count) the external page itself when ext_lendable. count: the page
 * will hold written data, so it counts against the limit from now on.
 * Returns 0 and *pa, or -ENOSPC (the limit, or palloc at the kernel's
 * reserve), -ENOMEM (no memory for the tree).
 */
static int page_get(struct tmpfs_inode *ti, uint64_t index, int count, paddr_t *pa)
{
	struct tmpfs *fs = ti->fs;
	uint64_t *slot = page_slot(ti, index);

	if (slot && *slot) {
		if (count && !(*slot & PAGE_COUNTED)) {
			if (fs->used_pages >= fs->max_pages)
				return -ENOSPC;
			*slot |= PAGE_COUNTED;
			fs->used_pages++;
		}
		*pa = *slot & ~SLOT_FLAGS;
		return 0;
	}
	int lendable = ext_lendable(ti, index);
	if (!count && lendable) {
		ti->reg.lent = 1;
		*pa = virt_to_phys_direct(ti->reg.ext + (index << PAGE_SHIFT));
		return 0;
	}
	if (count && fs->used_pages >= fs->max_pages)
		return -ENOSPC;
	if (!aspace_pages_available(1))
		return -ENOSPC;
	int err = page_slot_make(ti, index, &slot);
	if (err)
		return err;
	paddr_t p = palloc(1);
	if (!p)
		return -ENOSPC;
	uint8_t *v = phys_to_virt(p);
	uint64_t off = index << PAGE_SHIFT;
	size_t have = 0;
	if (off < ti->reg.ext_size) {
		have = (size_t)MIN((uint64_t)PAGE_SIZE, ti->reg.ext_size - off);
		memcpy(v, ti->reg.ext + off, have);
	}
	memset(v + have, 0, PAGE_SIZE - have);
	*slot = p | (count ? PAGE_COUNTED : 0);
	if (count)
		fs->used_pages++;
	set_npages(ti, ti->reg.npages + 1);
	if (lendable && ti->reg.lent)
		vmobj_unmap_page(&ti->obj, index); /* mappings of the lent page find this one */
	*pa = p;
	return 0;
}

/* Truncates or extends a regular file to size: 0, -EFBIG. Pages at or
 * past the new end leave every address space first (vmobj_unmap_from),
 * then are freed; the tail of the last page is zeroed. */
static int set_size(struct tmpfs_inode *ti, uint64_t size)
{
	if (size > TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	if (size < ti->vfs.size) {
		uint64_t first = pages_for(size);
		vmobj_unmap_from(&ti->obj, first);
		pages_free_from(ti, first);
		if (size & (PAGE_SIZE - 1)) {
			uint64_t *slot = page_slot(ti, size >> PAGE_SHIFT);
			size_t in = (size_t)(size & (PAGE_SIZE - 1));
			if (slot && *slot)
				memset((uint8_t *)phys_to_virt(*slot & ~SLOT_FLAGS) + in, 0,
				       PAGE_SIZE - in);
			else if (ti->reg.lent && ext_lendable(ti, size >> PAGE_SHIFT))
				/* A lent page keeps its bytes past the new end:
				 * the next touch gets a copy, zeroed there. */
				vmobj_unmap_page(&ti->obj, size >> PAGE_SHIFT);
		}
		if (ti->reg.ext_size > size)
			ti->reg.ext_size = size;
	}
	ti->vfs.size = size;
	return 0;
}

/* ---------------------------------------------------------------- inodes */

static int is_dir(const struct tmpfs_inode *ti)
{
	return S_ISDIR(ti->vfs.mode);
}

/* A new inode of fs with mode (type and permission bits), owner 0:0,
 * times now, no name and no reference: 0 and *out, -ENOSPC, -ENOMEM. */
static int tnode_new(struct tmpfs *fs, uint32_t mode, struct tmpfs_inode **out)
{
	struct tmpfs_inode *ti;

	if (fs->inodes >= fs->max_inodes)
		return -ENOSPC;
	if (!(ti = meta_alloc(sizeof(*ti))))
		return -ENOMEM;
	ti->fs = fs;
	ti->vfs.sb = &fs->sb;
	ti->vfs.ino = fs->next_ino++;
	ti->vfs.mode = mode;
	ti->vfs.atime = ti->vfs.mtime = ti->vfs.ctime = now();
	switch (mode & S_IFMT) {
	case S_IFDIR:
		ti->vfs.ops = &dir_iops;
		ti->vfs.fops = &dir_fops;
		ti->vfs.size = 2 * BOGO_DIRENT_SIZE;
		ti->dir.next_cookie = 2; /* 0 and 1 are "." and ".." */
		break;
	case S_IFREG:
		ti->vfs.ops = &reg_iops;
		ti->vfs.fops = &reg_fops;
		ti->obj.ops = &reg_vmobj_ops;
		spin_init(&ti->reg.shared_write, "tmpfs shared write", LOCK_INODE);
		break;
	case S_IFSOCK:
		ti->vfs.ops = &reg_iops; /* attributes only: no data */
		ti->vfs.fops = &sock_fops;
		break;
	default:
		ti->vfs.ops = &lnk_iops;
		break;
	}
	ti->all_next = fs->all;
	if (fs->all)
		fs->all->all_prev = ti;
	fs->all = ti;
	fs->inodes++;
	*out = ti;
	return 0;
}

/* Frees an inode's storage and record. A directory's entries are freed
 * too (only unmount frees a directory that has any). */
static void tnode_free(struct tmpfs_inode *ti)
{
	struct tmpfs *fs = ti->fs;

	switch (ti->vfs.mode & S_IFMT) {
	case S_IFDIR:
		for (struct tmpfs_dirent *de = ti->dir.first, *next; de; de = next) {
			next = de->next;
			kfree(de);
		}
		kfree(ti->dir.buckets);
		break;
	case S_IFREG:
		pages_free_from(ti, 0);
		break;
	default:
		kfree(ti->lnk.target);
		break;
	}
	if (ti->all_prev)
		ti->all_prev->all_next = ti->all_next;
	else
		fs->all = ti->all_next;
	if (ti->all_next)
		ti->all_next->all_prev = ti->all_prev;
	fs->inodes--;
	kfree(ti);
}

/* Evicts ti, which has no name and no reference, and then each removed
 * ancestor that only it held (a loop: the chain can be long). */
static void evict_chain(struct tmpfs_inode *ti)
{
	while (ti) {
		struct tmpfs_inode *up = NULL;
		if (is_dir(ti) && ti->holds_parent) {
			up = TI(ti->vfs.parent);
			if (--up->vfs.refs > 0 || up->vfs.nlink > 0)
				up = NULL;
		}
		tnode_free(ti);
		ti = up;
	}
}

static void tmpfs_evict(struct inode *ino)
{
	evict_chain(TI(ino));
}

/* ---------------------------------------------------------------- directory entries */

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h;
}

static struct tmpfs_dirent *dir_find(const struct tmpfs_inode *dir, const char *name, size_t len)
{
	uint32_t h = name_hash(name, len);
	struct tmpfs_dirent *de;

	if (dir->dir.buckets)
		de = dir->dir.buckets[h & (dir->dir.nbuckets - 1)];
	else
		de = dir->dir.first;
	for (; de; de = dir->dir.buckets ? de->hnext : de->next) {
		if (de->hash == h && de->len == len && !memcmp(de->name, name, len))
			return de;
	}
	return NULL;
}

/* The entry of child in dir (getcwd), or NULL. */
static struct tmpfs_dirent *dir_find_node(const struct tmpfs_inode *dir,
					  const struct tmpfs_inode *child)
{
	for (struct tmpfs_dirent *de = dir->dir.first; de; de = de->next) {
		if (de->node == child)
			return de;
	}
	return NULL;
}

static struct tmpfs_dirent *dirent_new(const char *name, size_t len)
{
	struct tmpfs_dirent *de = meta_alloc(sizeof(*de) + len);

	if (de) {
		memcpy(de->name, name, len);
		de->len = (uint16_t)len;
		de->hash = name_hash(name, len);
	}
	return de;
}

/* Rebuilds the hash table with n buckets; on no memory keeps the old one
 * (lookups stay correct, only slower). */
static void dir_rehash(struct tmpfs_inode *dir, uint32_t n)
{
	struct tmpfs_dirent **b = meta_alloc(n * sizeof(*b));

	if (!b)
		return;
	for (struct tmpfs_dirent *de = dir->dir.first; de; de = de->next) {
		de->hnext = b[de->hash & (n - 1)];
		b[de->hash & (n - 1)] = de;
	}
	kfree(dir->dir.buckets);
	dir->dir.buckets = b;
	dir->dir.nbuckets = n;
}

/* Links the new entry de (naming child) at the end of dir, with the next
 * cookie. Never fails. */
static void dir_link(struct tmpfs_inode *dir, struct tmpfs_dirent *de, struct tmpfs_inode *child)
{
	de->node = child;
	de->cookie = dir->dir.next_cookie++;
	de->next = NULL;
	de->prev = dir->dir.last;
	if (dir->dir.last)
		dir->dir.last->next = de;
	else
		dir->dir.first = de;
	dir->dir.last = de;
	dir->dir.count++;
	dir->vfs.size += BOGO_DIRENT_SIZE;
	if (dir->dir.buckets) {
		struct tmpfs_dirent **b = &dir->dir.buckets[de->hash & (dir->dir.nbuckets - 1)];
		de->hnext = *b;
		*b = de;
		if (dir->dir.count > 2ull * dir->dir.nbuckets && dir->dir.nbuckets < (1u << 30))
			dir_rehash(dir, dir->dir.nbuckets * 2);
	} else if (dir->dir.count >= HASH_MIN_ENTRIES) {
		dir_rehash(dir, 2 * HASH_MIN_ENTRIES);
	}
}

/* Takes de out of dir (the caller frees it). */
static void dir_unlink(struct tmpfs_inode *dir, struct tmpfs_dirent *de)
{
	if (de->prev)
		de->prev->next = de->next;
	else
		dir->dir.first = de->next;
	if (de->next)
		de->next->prev = de->prev;
	else
		dir->dir.last = de->prev;
	if (dir->dir.buckets) {
		struct tmpfs_dirent **pp = &dir->dir.buckets[de->hash & (dir->dir.nbuckets - 1)];
		while (*pp != de)
			pp = &(*pp)->hnext;
		*pp = de->hnext;
	}
	dir->dir.count--;
	dir->vfs.size -= BOGO_DIRENT_SIZE;
}

/* child lost its name in dir (its entry is gone already): drops the link
 * and evicts child when nothing holds it any more. */
static void drop_name(struct tmpfs_inode *dir, struct tmpfs_inode *child)
{
	if (is_dir(child)) {
		child->vfs.nlink = 0;
		dir->vfs.nlink--;
		if (child->vfs.refs == 0) {
			evict_chain(child);
			return;
		}
		child->holds_parent = 1; /* ".." of it must stay valid */
		dir->vfs.refs++;
	} else {
		child->vfs.nlink--;
		if (child->vfs.nlink == 0 && child->vfs.refs == 0) {
			evict_chain(child);
			return;
		}
	}
	child->vfs.ctime = now();
}

/* ---------------------------------------------------------------- directory operations */

/*
 * make_node - a new inode of mode named name in dir: its entry and links.
 * Everything that can fail happens before dir changes. target: a
 * symlink's. Returns 0 and *out, or -ENOENT (dir was removed), -EEXIST,
 * -EMLINK, -ENOSPC, -ENOMEM.
 */
static int make_node(struct inode *dirp, const char *name, size_t len, uint32_t mode,
		     const char *target, struct tmpfs_inode **out)
{
	struct tmpfs_inode *dir = TI(dirp), *ti;
	struct tmpfs_dirent *de;
	char *copy = NULL;
	size_t tlen = 0;
	int err;

	if (dir->vfs.nlink == 0)
		return -ENOENT;
	if (dir_find(dir, name, len))
		return -EEXIST;
	if (S_ISDIR(mode) && dir->vfs.nlink == UINT32_MAX)
		return -EMLINK;
	if (target) {
		tlen = strlen(target);
		if (tlen == 0)
			return -ENOENT;
		if (tlen >= PATH_MAX)
			return -ENAMETOOLONG;
		if (!(copy = meta_alloc(tlen + 1)))
			return -ENOMEM;
		memcpy(copy, target, tlen + 1);
	}
	if (!(de = dirent_new(name, len))) {
		err = -ENOMEM;
		goto free_copy;
	}
	err = tnode_new(dir->fs, mode, &ti);
	if (err)
		goto free_de;
	if (S_ISDIR(mode)) {
		ti->vfs.nlink = 2;
		ti->vfs.parent = &dir->vfs;
		dir->vfs.nlink++;
	} else {
		ti->vfs.nlink = 1;
	}
	if (copy) {
		ti->lnk.target = copy;
		ti->lnk.len = tlen;
		ti->vfs.size = tlen;
	}
	dir_link(dir, de, ti);
	touch(dir);
	*out = ti;
	return 0;

free_de:
	kfree(de);
free_copy:
	kfree(copy);
	return err;
}

static int tmpfs_lookup(struct inode *dirp, const char *name, size_t len, struct inode **out)
{
	struct tmpfs_dirent *de = dir_find(TI(dirp), name, len);

	if (!de)
		return -ENOENT;
	*out = &de->node->vfs;
	return 0;
}

static int tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode,
			struct inode **out)
{
	struct tmpfs_inode *ti;
	int err = make_node(dir, name, len, S_IFREG | (mode & 07777), NULL, &ti);

	if (!err)
		*out = &ti->vfs;
	return err;
}

static int tmpfs_mkdir(struct inode *dir, const char *name, size_t len, uint32_t mode,
		       struct inode **out)
{
	struct tmpfs_inode *ti;
	int err = make_node(dir, name, len, S_IFDIR | (mode & 07777), NULL, &ti);

	if (!err)
		*out = &ti->vfs;
	return err;
}

/* A socket's name (the only special node made here). */
static int tmpfs_mknod(struct inode *dir, const char *name, size_t len, uint32_t mode,
		       struct inode **out)
{
	struct tmpfs_inode *ti;

	if ((mode & S_IFMT) != S_IFSOCK)
		return -EPERM;
	int err = make_node(dir, name, len, S_IFSOCK | (mode & 07777), NULL, &ti);
	if (!err)
		*out = &ti->vfs;
	return err;
}

static int tmpfs_symlink(struct inode *dir, const char *name, size_t len, const char *target,
			 struct inode **out)
{
	struct tmpfs_inode *ti;
	int err = make_node(dir, name, len, S_IFLNK | 0777, target, &ti);

	if (!err)
		*out = &ti->vfs;
	return err;
}

static int tmpfs_link(struct inode *dirp, const char *name, size_t len, struct inode *target)
{
	struct tmpfs_inode *dir = TI(dirp), *t = TI(target);
	struct tmpfs_dirent *de;

	if (dir->vfs.nlink == 0)
		return -ENOENT;
	if (t->vfs.nlink == 0 && !t->linkable)
		return -ENOENT; /* Linux: an unlinked file gets no new name */
	if (t->vfs.nlink == UINT32_MAX)
		return -EMLINK;
	if (dir_find(dir, name, len))
		return -EEXIST;
	if (!(de = dirent_new(name, len)))
		return -ENOMEM;
	dir_link(dir, de, t);
	t->vfs.nlink++;
	t->linkable = 0;
	t->vfs.ctime = now();
	touch(dir);
	return 0;
}

/* Removes the name: a directory (rmdir) or anything else (unlink). */
static int remove_name(struct inode *dirp, const char *name, size_t len, int want_dir)
{
	struct tmpfs_inode *dir = TI(dirp);
	struct tmpfs_dirent *de = dir_find(dir, name, len);
	struct tmpfs_inode *child;

	if (!de)
		return -ENOENT;
	child = de->node;
	if (want_dir) {
		if (!is_dir(child))
			return -ENOTDIR;
		if (child->dir.count)
			return -ENOTEMPTY;
		if (child->vfs.mounted)
			return -EBUSY;
	} else if (is_dir(child)) {
		return -EISDIR;
	}
	dir_unlink(dir, de);
	kfree(de);
	touch(dir);
	drop_name(dir, child);
	return 0;
}

static int tmpfs_unlink(struct inode *dirp, const char *name, size_t len)
{
	return remove_name(dirp, name, len, 0);
}

static int tmpfs_rmdir(struct inode *dirp, const char *name, size_t len)
{
	return remove_name(dirp, name, len, 1);
}

/* RENAME_EXCHANGE: the two entries swap inodes; names and cookies stay. */
static int rename_exchange(struct tmpfs_inode *odir, struct tmpfs_dirent *ode,
			   struct tmpfs_inode *ndir, struct tmpfs_dirent *nde)
{
	struct tmpfs_inode *a = ode->node, *b = nde->node;

	if (a->vfs.mounted || b->vfs.mounted)
		return -EBUSY;
	if (ode == nde)
		return 0;
	if (odir != ndir) {
		if (is_dir(a) && !is_dir(b)) {
			if (ndir->vfs.nlink == UINT32_MAX)
				return -EMLINK;
			odir->vfs.nlink--;
			ndir->vfs.nlink++;
		} else if (is_dir(b) && !is_dir(a)) {
			if (odir->vfs.nlink == UINT32_MAX)
				return -EMLINK;
			ndir->vfs.nlink--;
			odir->vfs.nlink++;
		}
		if (is_dir(a))
			a->vfs.parent = &ndir->vfs;
		if (is_dir(b))
			b->vfs.parent = &odir->vfs;
	}
	ode->node = b;
	nde->node = a;
	a->vfs.ctime = b->vfs.ctime = now();
	touch(odir);
	touch(ndir);
	return 0;
}

static int tmpfs_rename(struct inode *odirp, const char *oname, size_t olen, struct inode *ndirp,
			const char *nname, size_t nlen, unsigned flags)
{
	struct tmpfs_inode *odir = TI(odirp), *ndir = TI(ndirp), *src, *dst = NULL;
	struct tmpfs_dirent *ode, *nde, *de;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (odir->vfs.nlink == 0 || ndir->vfs.nlink == 0)
		return -ENOENT;
	if (!(ode = dir_find(odir, oname, olen)))
		return -ENOENT;
	src = ode->node;
	nde = dir_find(ndir, nname, nlen);
	if (flags & RENAME_EXCHANGE) {
		if (!nde)
			return -ENOENT;
		return rename_exchange(odir, ode, ndir, nde);
	}
	if (nde) {
		dst = nde->node;
		if (dst == src)
			return 0; /* two names of one inode: nothing to do (POSIX) */
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (is_dir(src) && !is_dir(dst))
			return -ENOTDIR;
		if (!is_dir(src) && is_dir(dst))
			return -EISDIR;
		if (is_dir(dst) && dst->dir.count)
			return -ENOTEMPTY;
		if (dst->vfs.mounted)
			return -EBUSY;
	}
	if (src->vfs.mounted)
		return -EBUSY;
	if (is_dir(src) && odir != ndir && !dst && ndir->vfs.nlink == UINT32_MAX)
		return -EMLINK;
	if (!(de = dirent_new(nname, nlen)))
		return -ENOMEM;

	/* Nothing fails from here on. The new name gets a new cookie, as
	 * Linux's tmpfs gives a renamed entry a new offset. */
	if (nde) {
		dir_unlink(ndir, nde);
		kfree(nde);
		drop_name(ndir, dst);
	}
	dir_unlink(odir, ode);
	kfree(ode);
	dir_link(ndir, de, src);
	if (is_dir(src) && odir != ndir) {
		odir->vfs.nlink--;
		ndir->vfs.nlink++;
		src->vfs.parent = &ndir->vfs;
	}
	src->vfs.ctime = now();
	touch(odir);
	touch(ndir);
	return 0;
}

static int tmpfs_tmpfile(struct inode *dirp, uint32_t mode, struct inode **out)
{
	struct tmpfs_inode *dir = TI(dirp), *ti;
	int err;

	if (dir->vfs.nlink == 0)
		return -ENOENT;
	err = tnode_new(dir->fs, S_IFREG | (mode & 07777), &ti);
	if (err)
		return err;
	ti->linkable = 1; /* nlink 0: its opener's reference keeps it */
	*out = &ti->vfs;
	return 0;
}

static long tmpfs_child_name(struct inode *dirp, const struct inode *child, char *buf, size_t size)
{
	struct tmpfs_dirent *de = dir_find_node(TI(dirp), TI(child));

	if (!de)
		return -ENOENT;
	if ((size_t)de->len + 1 > size)
		return -ERANGE;
	memcpy(buf, de->name, de->len);
	buf[de->len] = '\0';
	return de->len;
}

static long tmpfs_readlink(struct inode *ino, char *buf, size_t size)
{
	struct tmpfs_inode *ti = TI(ino);
	size_t n = MIN(size, ti->lnk.len);

	memcpy(buf, ti->lnk.target, n);
	return (long)n;
}

static int tmpfs_setattr(struct inode *ino, const struct iattr *a)
{
	struct tmpfs_inode *ti = TI(ino);
	struct k_timespec t = now();

	if (a->valid & ATTR_SIZE) { /* first: the one change that can fail */
		if (is_dir(ti))
			return -EISDIR;
		if (!S_ISREG(ino->mode))
			return -EINVAL;
		uint64_t old = ino->size;
		int err = set_size(ti, a->size);
		if (err)
			return err;
		if (a->size != old)
			ino->mtime = t;
	}
	if (a->valid & ATTR_MODE)
		ino->mode = (ino->mode & S_IFMT) | (a->mode & 07777);
	if (a->valid & ATTR_UID)
		ino->uid = a->uid;
	if (a->valid & ATTR_GID)
		ino->gid = a->gid;
	if (a->valid & ATTR_ATIME)
		ino->atime = a->atime;
	if (a->valid & ATTR_MTIME)
		ino->mtime = a->mtime;
	ino->ctime = (a->valid & ATTR_CTIME) ? a->ctime : t;
	return 0;
}

static const struct inode_ops dir_iops = {
    .lookup = tmpfs_lookup,
    .create = tmpfs_create,
    .mkdir = tmpfs_mkdir,
    .symlink = tmpfs_symlink,
    .mknod = tmpfs_mknod,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .tmpfile = tmpfs_tmpfile,
    .child_name = tmpfs_child_name,
    .setattr = tmpfs_setattr,
    .evict = tmpfs_evict,
};

static const struct inode_ops reg_iops = {
    .setattr = tmpfs_setattr,
    .evict = tmpfs_evict,
};

static const struct inode_ops lnk_iops = {
    .readlink = tmpfs_readlink,
    .setattr = tmpfs_setattr,
    .evict = tmpfs_evict,
};

/* ---------------------------------------------------------------- regular files */

static const uint8_t zeros[512];

/* Copies n zero bytes to b: 0 or -EFAULT. */
static int put_zeros(struct iobuf *b, size_t n)
{
	while (n) {
		size_t step = MIN(n, sizeof(zeros));
		if (iobuf_put(b, zeros, step))
			return -EFAULT;
		n -= step;
	}
	return 0;
}

static long reg_read(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	struct tmpfs_inode *ti = TI(f->inode);
	/* Once: a shared writer may grow it meanwhile (reg_write_shared). */
	uint64_t size = __atomic_load_n(&ti->vfs.size, __ATOMIC_ACQUIRE);
	uint64_t start_left = iobuf_left(buf), p = *pos;

	if (p >= size || !start_left)
		return 0;
	uint64_t end = p + MIN(start_left, size - p);
	while (p < end) {
		uint64_t index = p >> PAGE_SHIFT;
		size_t in = (size_t)(p & (PAGE_SIZE - 1));
		size_t n = (size_t)MIN((uint64_t)(PAGE_SIZE - in), end - p);
		uint64_t *slot = page_slot(ti, index);
		int err;
		if (slot && *slot) {
			err = iobuf_put(buf, (uint8_t *)phys_to_virt(*slot & ~SLOT_FLAGS) + in, n);
		} else {
			size_t have = 0;
			err = 0;
			if (p < ti->reg.ext_size) {
				have = (size_t)MIN((uint64_t)n, ti->reg.ext_size - p);
				err = iobuf_put(buf, ti->reg.ext + p, have);
			}
			if (!err)
				err = put_zeros(buf, n - have);
		}
		if (err)
			break;
		p += n;
	}
	uint64_t done = start_left - iobuf_left(buf);
	if (!done && p < end)
		return -EFAULT;
	*pos += done;
	return (long)done;
}

/* Whether every page of [p, p + len) is held and counted, so that a write
 * there allocates and counts nothing (len > 0, p + len within the limit). */
static int pages_held(struct tmpfs_inode *ti, uint64_t p, uint64_t len)
{
	for (uint64_t index = p >> PAGE_SHIFT; index <= (p + len - 1) >> PAGE_SHIFT; index++) {
		uint64_t *slot = page_slot(ti, index);
		if (!slot || !*slot || !(*slot & PAGE_COUNTED))
			return 0;
	}
	return 1;
}

/* Zeroes [from, to) of held pages: what a write that does not stand left
 * past the size (the bytes there stay zero). */
static void zero_held(struct tmpfs_inode *ti, uint64_t from, uint64_t to)
{
	while (from < to) {
		size_t in = (size_t)(from & (PAGE_SIZE - 1));
		size_t n = (size_t)MIN((uint64_t)(PAGE_SIZE - in), to - from);
		memset((uint8_t *)phys_to_virt(*page_slot(ti, from >> PAGE_SHIFT) & ~SLOT_FLAGS) +
			   in,
		       0, n);
		from += n;
	}
}

/*
 * A write in a shared syscall (kernel/syscall.h): only into pages the file
 * holds and counts already, so that nothing is allocated or counted; it
 * may start at the end (appending, O_APPEND too) and grow the file within
 * those pages (the tail of its last one). Shared writers of one file take
 * turns under its shared_write lock (a holder's write runs alone anyway),
 * so writes stay whole to each other and an O_APPEND write's end is the
 * size as that lock found it. The size is published (release) only once
 * the bytes under it are in, so a shared reader (which loads it once)
 * never sees bytes past it that are not written; readers do not wait for
 * writers and may see one under way, as on Linux. Anything else (a hole
 * to fill, a page the file lacks or does not count) is the locked run's.
 * A copy that the shared side cannot finish leaves the bytes it wrote
 * over the old contents (the run under the lock writes them again, from
 * the same buffer) and zeroes those it wrote past the size.
 */
static long reg_write_shared(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	struct tmpfs_inode *ti = TI(f->inode);
	uint64_t left = iobuf_left(buf), done = 0;
	int err = 0;

	if (!left)
		return syscall_needs_lock();
	unsigned long flags = spin_lock_irqsave(&ti->reg.shared_write);
	uint64_t size = ti->vfs.size;
	uint64_t p = (f->flags & O_APPEND) ? size : *pos;
	if (p > size || left > TMPFS_MAX_FILE_SIZE - p || !pages_held(ti, p, left)) {
		spin_unlock_irqrestore(&ti->reg.shared_write, flags);
		return syscall_needs_lock();
	}
	uint64_t reached = p; /* the end of what the copies may have touched */
	while (left && !err) {
		size_t in = (size_t)(p & (PAGE_SIZE - 1));
		size_t n = (size_t)MIN((uint64_t)(PAGE_SIZE - in), left);
		uint8_t *v = (uint8_t *)phys_to_virt(*page_slot(ti, p >> PAGE_SHIFT) & ~SLOT_FLAGS);
		uint64_t before = iobuf_left(buf);
		reached = p + n;
		err = iobuf_get(buf, v + in, n);
		size_t copied = (size_t)(before - iobuf_left(buf));
		done += copied;
		p += copied;
		left -= copied;
	}
	int stands = done && !syscall_shared_dropped();
	uint64_t end = stands ? MAX(size, p) : size;
	if (reached > end)
		zero_held(ti, end, reached);
	if (stands) {
		if (end > size)
			__atomic_store_n(&ti->vfs.size, end, __ATOMIC_RELEASE);
		touch(ti);
	}
	spin_unlock_irqrestore(&ti->reg.shared_write, flags);
	if (!done)
		return err;
	*pos = p;
	return (long)done;
}

static long reg_write(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	struct tmpfs_inode *ti = TI(f->inode);
	uint64_t left = iobuf_left(buf), p, end, done = 0;
	int err = 0;

	if (syscall_shared())
		return reg_write_shared(f, buf, pos);

	if (f->flags & O_APPEND)
		*pos = ti->vfs.size;
	p = *pos;
	if (!left)
		return 0;
	if (p >= TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	end = p + MIN(left, TMPFS_MAX_FILE_SIZE - p);
	while (p < end) {
		uint64_t index = p >> PAGE_SHIFT;
		size_t in = (size_t)(p & (PAGE_SIZE - 1));
		size_t n = (size_t)MIN((uint64_t)(PAGE_SIZE - in), end - p);
		paddr_t pa;
		err = page_get(ti, index, 1, &pa);
		if (err)
			break;
		uint8_t *v = (uint8_t *)phys_to_virt(pa) + in;
		uint64_t before = iobuf_left(buf);
		err = iobuf_get(buf, v, n);
		size_t copied = (size_t)(before - iobuf_left(buf));
		done += copied;
		p += copied;
		if (err) {
			/* Keep the zero invariant past the size: clear what a
			 * short copy may have left beyond the new end (which is
			 * at least p, so from >= in). */
			uint64_t new_size = MAX(ti->vfs.size, p);
			uint64_t page_start = index << PAGE_SHIFT;
			if (new_size < page_start + in + n) {
				size_t from = (size_t)(new_size - page_start);
				memset((uint8_t *)phys_to_virt(pa) + from, 0, in + n - from);
			}
			break;
		}
	}
	if (!done)
		return err ? err : 0;
	if (p > ti->vfs.size)
		ti->vfs.size = p;
	touch(ti);
	*pos = p;
	return (long)done;
}

static int64_t reg_seek(struct file *f, int64_t off, int whence)
{
	return file_seek_size(f, off, whence, f->inode->size);
}

static int tmpfs_stat(struct file *f, struct kstat *st)
{
	inode_stat(f->inode, st);
	return 0;
}

static int reg_mmap(struct file *f, struct vmobj **obj)
{
	struct tmpfs_inode *ti = TI(f->inode);

	vmobj_hold(&ti->obj);
	*obj = &ti->obj;
	return 0;
}

static int reg_truncate(struct file *f, uint64_t size)
{
	struct tmpfs_inode *ti = TI(f->inode);
	int err = set_size(ti, size);

	if (!err)
		touch(ti); /* ftruncate changes mtime and ctime even at the same size */
	return err;
}

/* Mode 0 only: makes (and counts) every page of [off, off + len) and
 * extends the size. The space is checked first, so ENOSPC allocates
 * nothing. */
static int reg_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
	struct tmpfs_inode *ti = TI(f->inode);
	struct tmpfs *fs = ti->fs;
	uint64_t first, last, need = 0, absent = 0;

	if (mode)
		return -EOPNOTSUPP;
	if ((int64_t)off < 0 || (int64_t)len <= 0)
		return -EINVAL;
	if (off > TMPFS_MAX_FILE_SIZE || len > TMPFS_MAX_FILE_SIZE - off)
		return -EFBIG;
	first = off >> PAGE_SHIFT;
	last = pages_for(off + len);
	if (last - first > fs->max_pages)
		return -ENOSPC; /* all of them would count */
	for (uint64_t i = first; i < last; i++) {
		uint64_t *slot = page_slot(ti, i);
		absent += !slot || !*slot;
		need += !slot || !(*slot & PAGE_COUNTED);
	}
	if (need > fs->max_pages - fs->used_pages || !aspace_pages_available(absent))
		return -ENOSPC;
	for (uint64_t i = first; i < last; i++) {
		paddr_t pa;
		int err = page_get(ti, i, 1, &pa);
		if (err)
			return err;
	}
	if (off + len > ti->vfs.size)
		ti->vfs.size = off + len;
	ti->vfs.ctime = now();
	return 0;
}

static int tmpfs_fsync(struct file *f)
{
	(void)f;
	return 0; /* nothing lies anywhere but in RAM */
}

static const struct file_ops reg_fops = {
    .kind = "tmpfs file",
    .read = reg_read,
    .write = reg_write,
    .seek = reg_seek,
    .stat = tmpfs_stat,
    .mmap = reg_mmap,
    .truncate = reg_truncate,
    .fallocate = reg_fallocate,
    .fsync = tmpfs_fsync,
    .shared_read = 1,  /* reg_read only reads the pages and the size */
    .shared_write = 1, /* reg_write_shared */
};

/* A socket's name: open is ENXIO as on Linux (the socket is reached with
 * connect, net/unix.c); an O_PATH file of it works. */
static int sock_open(struct file *f)
{
	return (f->flags & O_PATH) ? 0 : -ENXIO;
}

static const struct file_ops sock_fops = {
    .kind = "tmpfs socket",
    .open = sock_open,
    .stat = tmpfs_stat,
};

static int obj_get_page(struct vmobj *obj, uint64_t index, int write, paddr_t *pa)
{
	struct tmpfs_inode *ti = container_of(obj, struct tmpfs_inode, obj);

	if (index >= pages_for(ti->vfs.size))
		return -EIO;
	return page_get(ti, index, write, pa);
}

/* The page a reader would get now, if it is there without making one:
 * the file's own, or a whole lendable external one (lent from now on). */
static int obj_find_page(struct vmobj *obj, uint64_t index, paddr_t *pa)
{
	struct tmpfs_inode *ti = container_of(obj, struct tmpfs_inode, obj);

	if (index >= pages_for(ti->vfs.size))
		return -ENOENT;
	uint64_t *slot = page_slot(ti, index);
	if (slot && *slot) {
		*pa = *slot & ~SLOT_FLAGS;
		return 0;
	}
	if (!ext_lendable(ti, index))
		return -ENOENT;
	ti->reg.lent = 1;
	*pa = virt_to_phys_direct(ti->reg.ext + (index << PAGE_SHIFT));
	return 0;
}

static void obj_hold(struct vmobj *obj)
{
	inode_get(&container_of(obj, struct tmpfs_inode, obj)->vfs);
}

static void obj_release(struct vmobj *obj)
{
	inode_put(&container_of(obj, struct tmpfs_inode, obj)->vfs);
}

/*
 * A regular file has no parent of its own (hard links), so its name is
 * looked for among the entries of every directory: the first one found,
 * as Linux names a mapping by the entry it was opened through. Only
 * /proc/self/maps asks, and rarely, so the walk is not worth an index.
 */
static long obj_describe(struct vmobj *obj, uint64_t *dev, uint64_t *ino, char *buf, size_t size)
{
	struct tmpfs_inode *ti = container_of(obj, struct tmpfs_inode, obj);

	*dev = ti->vfs.sb->dev;
	*ino = ti->vfs.ino;
	for (struct tmpfs_inode *d = ti->fs->all; d; d = d->all_next) {
		if (!S_ISDIR(d->vfs.mode) || !d->vfs.nlink)
			continue;
		for (struct tmpfs_dirent *e = d->dir.first; e; e = e->next) {
			if (e->node != ti)
				continue;
			long n = vfs_path(&d->vfs, buf, size);
			if (n < 0)
				return n;
			size_t at = n == 1 ? 0 : (size_t)n; /* the root's "/" is the separator */
			if (at + 1 + e->len + 1 > size)
				return -ERANGE;
			buf[at] = '/';
			memcpy(buf + at + 1, e->name, e->len);
			buf[at + 1 + e->len] = '\0';
			return (long)(at + 1 + e->len);
		}
	}
	return -ENOENT;
}

static const struct vmobj_ops reg_vmobj_ops = {
    .get_page = obj_get_page,
    .find_page = obj_find_page,
    .hold = obj_hold,
    .release = obj_release,
    .describe = obj_describe,
};

/* ---------------------------------------------------------------- directory files */

static long dir_read(struct file *f, struct iobuf *buf, uint64_t *pos)
{
	(void)f;
	(void)buf;
	(void)pos;
	return -EISDIR;
}

/* getdents64: "." at position 0, ".." at 1, then each entry at its cookie;
 * a record's d_off is the position after it. */
static long dir_getdents(struct file *f, struct iobuf *buf)
{
	struct tmpfs_inode *dir = TI(f->inode);
	struct tmpfs_dirent *de = NULL;
	uint8_t rec[ALIGN_UP(DIRENT_NAME_OFF + NAME_MAX + 1, 8)];
	long done = 0;

	if (dir->vfs.nlink == 0)
		return -ENOENT; /* Linux: a removed directory lists nothing */
	for (;;) {
		const struct inode *who;
		const char *name;
		size_t len;
		uint64_t next;
		if (f->pos == 0) {
			who = &dir->vfs, name = ".", len = 1, next = 1;
		} else if (f->pos == 1) {
			who = dir->vfs.parent, name = "..", len = 2, next = 2;
		} else {
			if (!de) { /* the first entry at or after the position */
				for (de = dir->dir.first; de && de->cookie < f->pos; de = de->next)
					;
			} else {
				de = de->next;
			}
			if (!de)
				break;
			who = &de->node->vfs, name = de->name, len = de->len, next = de->cookie + 1;
		}
		size_t reclen = ALIGN_UP(DIRENT_NAME_OFF + len + 1, (size_t)8);
		if (reclen > iobuf_left(buf)) {
			if (!done)
				return -EINVAL;
			break;
		}
		uint16_t rl = (uint16_t)reclen;
		memset(rec, 0, reclen);
		memcpy(rec, &who->ino, 8);
		memcpy(rec + 8, &next, 8);
		memcpy(rec + 16, &rl, 2);
		rec[18] = (uint8_t)((who->mode & S_IFMT) >> 12); /* Linux's IFTODT: DT_* */
		memcpy(rec + DIRENT_NAME_OFF, name, len);
		if (iobuf_put(buf, rec, reclen))
			return done ? done : -EFAULT;
		done += (long)reclen;
		f->pos = next;
	}
	return done;
}

/* SEEK_SET to 0 (rewinddir) or to a d_off getdents gave (a cookie);
 * SEEK_CUR moves from there. */
static int64_t dir_seek(struct file *f, int64_t off, int whence)
{
	switch (whence) {
	case SEEK_SET:
		break;
	case SEEK_CUR:
		if (off > 0 && (int64_t)f->pos > INT64_MAX - off)
			return -EINVAL;
		off += (int64_t)f->pos;
		break;
	default:
		return -EINVAL;
	}
	return off < 0 ? -EINVAL : off;
}

static const struct file_ops dir_fops = {
    .kind = "tmpfs directory",
    .read = dir_read,
    .getdents = dir_getdents,
    .seek = dir_seek,
    .stat = tmpfs_stat,
    .fsync = tmpfs_fsync,
};

_Static_assert(DT_DIR == (S_IFDIR >> 12) && DT_REG == (S_IFREG >> 12) && DT_LNK == (S_IFLNK >> 12),
	       "d_type is the file type's bits");

/* ---------------------------------------------------------------- the file system */

static struct tmpfs *fs_of(struct inode *ino)
{
	return container_of(ino->sb, struct tmpfs, sb);
}

static int tmpfs_statfs(struct super *sb, struct kstatfs *out)
{
	struct tmpfs *fs = container_of(sb, struct tmpfs, sb);

	*out = (struct kstatfs){
	    .type = TMPFS_MAGIC,
	    .bsize = PAGE_SIZE,
	    .blocks = fs->max_pages,
	    .bfree = fs->max_pages - fs->used_pages,
	    .bavail = fs->max_pages - fs->used_pages,
	    .files = fs->max_inodes,
	    .ffree = fs->max_inodes - fs->inodes,
	    .namelen = NAME_MAX,
	    .flags = (sb->flags & SUPER_RDONLY) ? ST_RDONLY : 0,
	};
	return 0;
}

int tmpfs_mount(uint64_t max_bytes, uint64_t dev, unsigned flags, struct inode **root)
{
	struct tmpfs *fs = meta_alloc(sizeof(*fs));
	struct tmpfs_inode *ti;

	if (!fs)
		return -ENOMEM;
	fs->sb = (struct super){.dev = dev, .flags = flags, .statfs = tmpfs_statfs};
	fs->max_pages = max_bytes >> PAGE_SHIFT;
	fs->max_inodes = MAX(fs->max_pages, (uint64_t)TMPFS_MIN_INODES);
	fs->next_ino = 1; /* the root is inode 1, as on Linux */
	if (tnode_new(fs, S_IFDIR | 0755, &ti)) {
		kfree(fs);
		return -ENOMEM;
	}
	ti->vfs.nlink = 2;
	ti->vfs.parent = &ti->vfs;
	*root = &ti->vfs;
	return 0;
}

void tmpfs_set_flags(struct inode *root, unsigned flags)
{
	fs_of(root)->sb.flags = flags;
}

void tmpfs_lend_range(struct inode *root, const void *base, uint64_t size)
{
	struct tmpfs *fs = fs_of(root);
	uintptr_t b = (uintptr_t)base;

	fs->lend_base = b;
	fs->lend_end = size > UINTPTR_MAX - b ? UINTPTR_MAX : b + (uintptr_t)size;
}

int tmpfs_create_external(struct inode *dir, const char *name, size_t len, uint32_t mode,
			  const void *data, uint64_t size, struct inode **out)
{
	struct tmpfs_inode *ti;
	int err;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (size > TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	err = make_node(dir, name, len, S_IFREG | (mode & 07777), NULL, &ti);
	if (err)
		return err;
	ti->reg.ext = data;
	ti->reg.ext_size = size;
	ti->vfs.size = size;
	if (out)
		*out = &ti->vfs;
	return 0;
}

void tmpfs_unmount(struct inode *root)
{
	struct tmpfs *fs = fs_of(root);

	while (fs->all)
		tnode_free(fs->all);
	kfree(fs);
}

void tmpfs_usage(struct inode *root, struct tmpfs_usage *out)
{
	struct tmpfs *fs = fs_of(root);

	*out = (struct tmpfs_usage){
	    .max_bytes = fs->max_pages << PAGE_SHIFT,
	    .used_bytes = fs->used_pages << PAGE_SHIFT,
	    .inodes = fs->inodes,
	};
}
