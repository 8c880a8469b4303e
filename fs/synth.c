/*
 * The table-driven file systems (see synth.h). One inode per table node,
 * made at mount; the entries of a dynamic directory get their inodes when
 * looked up (at most SYNTH_DYNAMIC of them live, reused by name: enough
 * for /proc/self/fd, whose names are descriptor numbers).
 */
#include "fs/synth.h"

#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/kmalloc.h"

#define SYNTH_DYNAMIC 64
#define TEXT_MAX      4096	 /* a generated text's first buffer */
#define TEXT_LIMIT    (1u << 20) /* and its largest */
#define DIRENT_HEADER 19	 /* d_ino, d_off, d_reclen, d_type */

struct synth_inode {
	struct inode vfs;
	struct synth_fs *fs;
	int index; /* the table node, or -1 for a dynamic entry */
	int dir;   /* a dynamic entry: the index of its directory */
	char name[16];
};

struct synth_fs {
	struct super sb;
	const struct synth_node *nodes;
	int n;
	uint64_t magic;
	struct synth_inode *inodes; /* one per node */
	struct synth_inode *dynamic[SYNTH_DYNAMIC];
};

static const struct inode_ops synth_iops;
static const struct file_ops synth_dir_ops, synth_text_ops;

static struct synth_inode *si(struct inode *ino)
{
	return (struct synth_inode *)ino;
}

static int synth_statfs(struct super *sb, struct kstatfs *out)
{
	struct synth_fs *fs = (struct synth_fs *)sb;

	*out = (struct kstatfs){
	    .type = fs->magic, .bsize = 4096, .namelen = NAME_MAX, .flags = ST_RDONLY};
	return 0;
}

static void init_inode(struct synth_fs *fs, struct synth_inode *s, int index, uint32_t mode)
{
	const struct synth_node *node = index >= 0 ? &fs->nodes[index] : NULL;

	s->vfs =
	    (struct inode){.ops = &synth_iops, .sb = &fs->sb, .mode = mode, .nlink = 1, .refs = 0};
	s->vfs.ino = index >= 0 ? (uint64_t)index + 1 : 0;
	s->fs = fs;
	s->index = index;
	if (S_ISDIR(mode)) {
		s->vfs.nlink = 2;
		s->vfs.fops = &synth_dir_ops;
	} else if (node && node->fops) {
		s->vfs.fops = node->fops;
	} else if (node && node->text) {
		s->vfs.fops = &synth_text_ops;
	}
	if (node)
		s->vfs.rdev = node->rdev;
}

int synth_mount(const struct synth_node *nodes, int n, uint64_t magic, uint64_t dev,
		struct inode **root)
{
	struct synth_fs *fs = kmalloc(sizeof(*fs));
	struct synth_inode *inodes = kmalloc((size_t)n * sizeof(*inodes));

	if (!fs || !inodes) {
		kfree(fs);
		kfree(inodes);
		return -ENOMEM;
	}
	*fs = (struct synth_fs){.sb = {.dev = dev, .flags = 0, .statfs = synth_statfs},
				.nodes = nodes,
				.n = n,
				.magic = magic,
				.inodes = inodes};
	for (int i = 0; i < n; i++)
		init_inode(fs, &inodes[i], i, nodes[i].mode);
	for (int i = 0; i < n; i++)
		if (S_ISDIR(nodes[i].mode))
			inodes[i].vfs.parent = &inodes[nodes[i].parent].vfs;
	inodes[0].vfs.parent = &inodes[0].vfs;
	*root = &inodes[0].vfs;
	return 0;
}

void synth_unmount(struct inode *root)
{
	struct synth_fs *fs = si(root)->fs;

	for (int i = 0; i < SYNTH_DYNAMIC; i++)
		kfree(fs->dynamic[i]);
	kfree(fs->inodes);
	kfree(fs);
}

static int name_is(const char *a, const char *name, size_t len)
{
	return strlen(a) == len && !memcmp(a, name, len);
}

/* The inode of dynamic entry name of directory dir (made on first use). */
static int dynamic_entry(struct synth_fs *fs, int dir, const char *name, size_t len,
			 struct inode **out)
{
	char want[16], have[16];
	int free_slot = -1;

	if (len >= sizeof(want))
		return -ENOENT;
	memcpy(want, name, len);
	want[len] = '\0';
	for (int i = 0;; i++) {
		int more = fs->nodes[dir].entry(i, have, sizeof(have));
		if (!more)
			return -ENOENT;
		if (!strcmp(have, want))
			break;
	}
	for (int i = 0; i < SYNTH_DYNAMIC; i++) {
		struct synth_inode *s = fs->dynamic[i];
		if (s && s->dir == dir && !strcmp(s->name, want)) {
			*out = &s->vfs;
			return 0;
		}
		if (free_slot < 0 && (!s || !s->vfs.refs))
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOMEM;
	struct synth_inode *s = fs->dynamic[free_slot];
	if (!s && !(s = fs->dynamic[free_slot] = kmalloc(sizeof(*s))))
		return -ENOMEM;
	init_inode(fs, s, -1, S_IFLNK | 0500);
	s->vfs.ino = 0x10000 + (uint64_t)free_slot;
	s->dir = dir;
	memcpy(s->name, want, len + 1);
	*out = &s->vfs;
	return 0;
}

static int synth_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct synth_inode *d = si(dir);
	struct synth_fs *fs = d->fs;

	if (d->index < 0)
		return -ENOTDIR;
	for (int i = 1; i < fs->n; i++) {
		if (fs->nodes[i].parent == d->index && name_is(fs->nodes[i].name, name, len)) {
			*out = &fs->inodes[i].vfs;
			return 0;
		}
	}
	if (fs->nodes[d->index].entry)
		return dynamic_entry(fs, d->index, name, len, out);
	return -ENOENT;
}

static long synth_child_name(struct inode *dir, const struct inode *child, char *buf, size_t size)
{
	const struct synth_inode *c = (const struct synth_inode *)child;
	const char *name = c->index >= 0 ? c->fs->nodes[c->index].name : c->name;
	size_t len = strlen(name);

	(void)dir;
	if (len + 1 > size)
		return -ERANGE;
	memcpy(buf, name, len + 1);
	return (long)len;
}

static long synth_readlink(struct inode *ino, char *buf, size_t size)
{
	struct synth_inode *s = si(ino);
	const struct synth_node *node = s->index >= 0 ? &s->fs->nodes[s->index] : NULL;

	if (node && node->target)
		return node->target(buf, size);
	if (!node && s->fs->nodes[s->dir].entry_target)
		return s->fs->nodes[s->dir].entry_target(s->name, buf, size);
	return -EINVAL;
}

static const struct inode_ops synth_iops = {
    .lookup = synth_lookup,
    .child_name = synth_child_name,
    .readlink = synth_readlink,
};

/* getdents64: ".", "..", the table's children, then the made-up entries;
 * the position counts entries. */
static long synth_getdents(struct file *f, struct iobuf *b)
{
	struct synth_inode *d = si(f->inode);
	struct synth_fs *fs = d->fs;
	uint64_t used = 0;
	char rec[DIRENT_HEADER + 64];

	for (;;) {
		const char *name = NULL;
		char made[16];
		uint64_t ino = 0;
		uint32_t mode = S_IFDIR;
		uint64_t k = f->pos, seen = 2;

		if (k == 0) {
			name = ".", ino = d->vfs.ino;
		} else if (k == 1) {
			name = "..", ino = d->vfs.parent->ino;
		} else {
			for (int i = 1; i < fs->n && !name; i++) {
				if (fs->nodes[i].parent != d->index)
					continue;
				if (seen++ == k)
					name = fs->nodes[i].name, ino = (uint64_t)i + 1,
					mode = fs->nodes[i].mode;
			}
			if (!name && fs->nodes[d->index].entry &&
			    fs->nodes[d->index].entry((int)(k - seen), made, sizeof(made))) {
				name = made, ino = 0x10000 + (k - seen), mode = S_IFLNK;
			}
		}
		if (!name)
			break;
		size_t nlen = strlen(name);
		size_t reclen = ALIGN_UP(DIRENT_HEADER + nlen + 1, (size_t)8);
		if (reclen > iobuf_left(b)) {
			if (!used)
				return -EINVAL;
			break;
		}
		uint64_t off = f->pos + 1;
		uint16_t rl = (uint16_t)reclen;
		memset(rec, 0, reclen);
		memcpy(rec, &ino, 8);
		memcpy(rec + 8, &off, 8);
		memcpy(rec + 16, &rl, 2);
		rec[18] = (char)(S_ISDIR(mode)	 ? DT_DIR
				 : S_ISLNK(mode) ? DT_LNK
				 : S_ISCHR(mode) ? DT_CHR
						 : DT_REG);
		memcpy(rec + DIRENT_HEADER, name, nlen);
		if (iobuf_put(b, rec, reclen))
			return used ? (long)used : -EFAULT;
		used += reclen;
		f->pos++;
	}
	return (long)used;
}

static int64_t synth_dir_seek(struct file *f, int64_t off, int whence)
{
	if (whence != SEEK_SET && whence != SEEK_CUR)
		return -EINVAL;
	int64_t pos = (whence == SEEK_CUR ? (int64_t)f->pos : 0) + off;
	return pos < 0 ? -EINVAL : pos;
}

static const struct file_ops synth_dir_ops = {
    .kind = "directory",
    .getdents = synth_getdents,
    .seek = synth_dir_seek,
};

/* A generated text: made at open, as a Linux seq_file read from the
 * start. f->priv holds it, NUL-terminated; its length is the kstat-less
 * size the reads go by. */
struct text {
	size_t len;
	char s[];
};

static int text_open(struct file *f)
{
	struct synth_inode *s = si(f->inode);
	size_t size = TEXT_MAX;
	struct text *t;
	long n;

	if (f->flags & (O_ACCMODE)) /* read-only files */
		return -EACCES;
	/* A text that did not fit (a length of size or more, or -ENOSPC) is
	 * made again in a buffer that fits it: /proc/self/maps of a Python
	 * run is tens of KiB. */
	for (;;) {
		t = kmalloc(sizeof(*t) + size);
		if (!t)
			return -ENOMEM;
		n = s->fs->nodes[s->index].text(t->s, size);
		if ((n < (long)size && n != -ENOSPC) || size >= TEXT_LIMIT)
			break;
		kfree(t);
		size = n == -ENOSPC ? 2 * size : ALIGN_UP((size_t)n + 1, (size_t)TEXT_MAX);
		size = MIN(size, (size_t)TEXT_LIMIT);
	}
	t->len = n < 0 ? 0 : (size_t)MIN((size_t)n, size - 1);
	f->priv = t;
	return 0;
}

static long text_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct text *t = f->priv;
	uint64_t n = *pos < t->len ? MIN(iobuf_left(b), t->len - *pos) : 0;

	if (n && iobuf_put(b, t->s + *pos, (size_t)n))
		return -EFAULT;
	*pos += n;
	return (long)n;
}

static int64_t text_seek(struct file *f, int64_t off, int whence)
{
	return file_seek_size(f, off, whence, ((struct text *)f->priv)->len);
}

static void text_release(struct file *f)
{
	kfree(f->priv);
}

static const struct file_ops synth_text_ops = {
    .kind = "generated file",
    .open = text_open,
    .read = text_read,
    .seek = text_seek,
    .release = text_release,
};
