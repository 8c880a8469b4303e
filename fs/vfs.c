/*
 * vfs - inode references, the root and the working directory, mounts and
 * the Linux path walk (see vfs.h).
 *
 * Invariants: the root is set once and never changes; the working
 * directory, once set, holds a reference (an inode_get) that vfs_set_cwd
 * drops when it moves. Mounts are links, not references: a mounted root
 * lives as long as its file system, and mounts are never undone while the
 * app runs.
 *
 * The path walk is iterative. The part of the path still to resolve lies
 * right-aligned in one PATH_MAX buffer on the stack; following a symlink
 * puts its target just before that rest (the component it replaces is
 * spent), so nested links cost no recursion and no second buffer. A link
 * target that does not fit beside the rest is ENAMETOOLONG, as Linux
 * gives for a path that grows past PATH_MAX.
 */
#include "fs/vfs.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/klib.h"
#include "kernel/panic.h"
#include "mm/kmalloc.h"

#define VFS_SYMLOOP_MAX 40 /* Linux's MAXSYMLINKS: links followed in one lookup */

static struct inode *root;
static struct inode *cwd; /* held; NULL until set: the root */

void inode_get(struct inode *ino)
{
	ino->refs++;
}

void inode_put(struct inode *ino)
{
	if (ino->refs <= 0)
		panic("inode_put: inode %llu has no reference left", (unsigned long long)ino->ino);
	if (--ino->refs == 0 && ino->nlink == 0 && ino->ops->evict)
		ino->ops->evict(ino);
}

void inode_stat(const struct inode *ino, struct kstat *st)
{
	*st = (struct kstat){
	    .dev = ino->sb->dev,
	    .ino = ino->ino,
	    .nlink = ino->nlink,
	    .rdev = ino->rdev,
	    .mode = ino->mode,
	    .uid = ino->uid,
	    .gid = ino->gid,
	    .blksize = 4096,
	    .size = ino->size,
	    .blocks = ino->blocks,
	    .atime = ino->atime,
	    .mtime = ino->mtime,
	    .ctime = ino->ctime,
	};
}

void vfs_set_root(struct inode *r)
{
	root = r;
}

struct inode *vfs_cwd(void)
{
	return cwd ? cwd : root;
}

void vfs_set_cwd(struct inode *dir)
{
	struct inode *old = cwd;

	if (dir)
		inode_get(dir); /* before the put: dir may be old */
	cwd = dir;
	if (old)
		inode_put(old);
}

/* A directory as lookups see it: the root of what is mounted on it (the
 * top one when mounts are stacked). */
static struct inode *follow_mounts(struct inode *ino)
{
	while (ino->mounted)
		ino = ino->mounted;
	return ino;
}

void vfs_mount(struct inode *dir, struct inode *mroot)
{
	dir = follow_mounts(dir); /* a second mount on dir stacks on the first */
	dir->mounted = mroot;
	mroot->covered = dir;
}

/* ".." of directory cur: a mounted root steps down to the directory it
 * covers first; the global root (and the root of a file system that is
 * mounted nowhere) is its own parent. */
static struct inode *dotdot(struct inode *cur)
{
	for (;;) {
		if (cur == root)
			return follow_mounts(cur);
		if (!cur->covered)
			break;
		cur = cur->covered;
	}
	return follow_mounts(cur->parent ? cur->parent : cur);
}

/* strlen bounded by PATH_MAX: PATH_MAX when no NUL comes before it. */
static size_t path_len(const char *path)
{
	size_t n = 0;

	while (n < PATH_MAX && path[n])
		n++;
	return n;
}

/*
 * walk - resolves the len bytes at path (no NUL needed) from start (NULL:
 * the working directory; an absolute path starts at the root) into *out.
 * flags: LOOKUP_*. Returns 0, -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG or
 * a file system's lookup error.
 */
static int walk(struct inode *start, const char *path, size_t len, unsigned flags,
		struct inode **out)
{
	char buf[PATH_MAX];
	size_t at;
	int links = 0, must_dir = 0;
	struct inode *cur;

	if (len == 0)
		return -ENOENT;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	at = PATH_MAX - len;
	memcpy(buf + at, path, len);
	cur = path[0] == '/' ? follow_mounts(root) : (start ? start : vfs_cwd());

	for (;;) {
		while (at < PATH_MAX && buf[at] == '/')
			at++;
		if (at == PATH_MAX)
			break;
		size_t end = at;
		while (end < PATH_MAX && buf[end] != '/')
			end++;
		size_t next = end;
		while (next < PATH_MAX && buf[next] == '/')
			next++;
		const char *name = buf + at;
		size_t n = end - at;
		int last = next == PATH_MAX, trailing = last && end < PATH_MAX;
		struct inode *ino;

		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		if (!S_ISDIR(cur->mode))
			return -ENOTDIR;
		if (n == 1 && name[0] == '.') {
			ino = cur;
		} else if (n == 2 && name[0] == '.' && name[1] == '.') {
			ino = dotdot(cur);
		} else {
			if (cur->nlink == 0 || !cur->ops->lookup)
				return -ENOENT; /* a removed directory has no names */
			int err = cur->ops->lookup(cur, name, n, &ino);
			if (err)
				return err;
			ino = follow_mounts(ino);
		}
		must_dir = trailing;
		if (S_ISLNK(ino->mode) && (!last || trailing || !(flags & LOOKUP_NOFOLLOW))) {
			if (!ino->ops->readlink)
				return -ENOENT;
			if (++links > VFS_SYMLOOP_MAX)
				return -ELOOP;
			/* The target goes just before the rest [end, PATH_MAX):
			 * read it to the front, then move it up against the rest. */
			long t = ino->ops->readlink(ino, buf, end);
			if (t < 0)
				return (int)t;
			if (t == 0)
				return -ENOENT; /* Linux: an empty target names nothing */
			if ((size_t)t >= end)
				return -ENAMETOOLONG; /* maybe cut: does not fit */
			memmove(buf + end - t, buf, (size_t)t);
			at = end - (size_t)t;
			if (buf[at] == '/')
				cur = follow_mounts(root);
			/* else: relative to the link's directory, cur */
			continue;
		}
		cur = ino;
		at = end;
	}
	if ((must_dir || (flags & LOOKUP_DIRECTORY)) && !S_ISDIR(cur->mode))
		return -ENOTDIR;
	*out = cur;
	return 0;
}

int vfs_lookup(struct inode *start, const char *path, unsigned flags, struct inode **out)
{
	return walk(start, path, path_len(path), flags, out);
}

int vfs_lookup_parent(struct inode *start, const char *path, struct inode **dir, const char **name,
		      size_t *len, int *trailing, int *special)
{
	size_t plen = path_len(path), e, s, n;
	struct inode *d;

	if (plen == 0)
		return -ENOENT;
	if (plen >= PATH_MAX)
		return -ENAMETOOLONG;
	e = plen;
	while (e > 0 && path[e - 1] == '/')
		e--;
	*trailing = e < plen;
	if (e == 0) { /* "/", "//": the root, which has no name */
		*dir = follow_mounts(root);
		*name = path;
		*len = 0;
		*special = 1;
		return 0;
	}
	s = e;
	while (s > 0 && path[s - 1] != '/')
		s--;
	n = e - s;
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	*special = (n == 1 && path[s] == '.') || (n == 2 && path[s] == '.' && path[s + 1] == '.');
	if (s == 0) {
		d = start ? start : vfs_cwd();
	} else {
		int err = walk(start, path, s, LOOKUP_DIRECTORY, &d);
		if (err)
			return err;
	}
	if (!S_ISDIR(d->mode))
		return -ENOTDIR;
	if (!*special && d->nlink == 0)
		return -ENOENT; /* no name can be made or found in a removed directory */
	*dir = d;
	*name = path + s;
	*len = n;
	return 0;
}

/*
 * The path is built from its end: each level's name is asked into the
 * free front of buf, then moved up against what is built so far.
 */
long vfs_path(struct inode *dir, char *buf, size_t size)
{
	struct inode *cur = dir;
	size_t at, len;

	if (dir->nlink == 0)
		return -ENOENT;
	if (size == 0)
		return -ERANGE;
	at = size - 1; /* buf[at..size-1) is built; buf[size-1] for the NUL */
	for (;;) {
		if (cur == root)
			break;
		if (cur->covered) { /* a mounted root: named by what it covers */
			cur = cur->covered;
			continue;
		}
		struct inode *parent = cur->parent;
		if (!parent || parent == cur)
			break; /* a file system mounted nowhere: its root is "/" */
		if (!parent->ops->child_name)
			return -ENOENT;
		long n = parent->ops->child_name(parent, cur, buf, at);
		if (n < 0)
			return n;
		if ((size_t)n + 1 > at)
			return -ERANGE; /* no room for the '/' before it */
		memmove(buf + at - n, buf, (size_t)n);
		at -= (size_t)n;
		buf[--at] = '/';
		cur = parent;
	}
	if (at == size - 1) {
		if (size < 2)
			return -ERANGE;
		buf[0] = '/';
		buf[1] = '\0';
		return 1;
	}
	len = size - 1 - at;
	memmove(buf, buf + at, len);
	buf[len] = '\0';
	return (long)len;
}

int vfs_is_ancestor(const struct inode *dir, const struct inode *ino)
{
	const struct inode *x = ino;

	for (;;) {
		if (x == dir)
			return 1;
		const struct inode *up = x->covered ? x->covered : x->parent;
		if (!up || up == x)
			return 0;
		x = up;
	}
}

/* What open of an inode without file ops gives (an O_PATH file of a
 * symlink): every operation has its default. */
static const struct file_ops inode_only_fops = {.kind = "inode"};

int vfs_open(struct inode *ino, unsigned flags, struct file **out)
{
	const struct file_ops *fops = ino->fops ? ino->fops : &inode_only_fops;
	struct file *f;

	/* The reference first: if anything fails, its put evicts an inode
	 * nothing else holds (an O_TMPFILE file). */
	inode_get(ino);
	f = file_new(fops, flags, NULL);
	if (!f) {
		inode_put(ino);
		return -ENOMEM;
	}
	f->inode = ino;
	if (fops->open) {
		int err = fops->open(f);
		if (err) {
			/* Not file_put: release must not run for a failed open. */
			kfree(f);
			inode_put(ino);
			return err;
		}
	}
	*out = f;
	return 0;
}
