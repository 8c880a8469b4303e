/*
 * The path calls (see namei.h): Linux's checks and errors around the vfs
 * and the file systems' inode operations.
 *
 * Paths are copied into this_cpu()->path (and path2 for the second path of
 * link, rename and symlink) and resolved at once; the inodes found are used
 * before the syscall ends, so no reference is taken (see fs/vfs.h) unless
 * one is kept (an open file, the working directory).
 */
#include "fs/namei.h"

#include "fs/fdtable.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/percpu.h"
#include "kernel/proc.h"
#include "kernel/time.h"
#include "mm/vm.h"

#define PIPEFS_MAGIC 0x50495045
#define OPEN_FLAGS                                                                                 \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_LARGEFILE | O_DSYNC |        \
	 O_SYNC | O_NOATIME | O_DIRECT | O_ASYNC | O_NOFOLLOW)

/* ---------------------------------------------------------------- paths */

/*
 * Copies the user string at src into buf (PATH_MAX). A string may start on
 * a demand page the app has not touched: app_copy_from backs it. Each step
 * copies up to the end of the page the string is in, so it never reads a
 * page the string does not reach.
 */
static int copy_string(char *buf, uint64_t src)
{
	size_t done = 0;

	while (done < PATH_MAX) {
		uint64_t at = src + done;
		size_t n = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (n > PATH_MAX - done)
			n = PATH_MAX - done;
		if (at < src || app_copy_from(buf + done, at, n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++) {
			if (!buf[done + i])
				return 0;
		}
		done += n;
	}
	return -ENAMETOOLONG;
}

static int copy_into(char *buf, uint64_t upath, int allow_empty)
{
	int err = copy_string(buf, upath);

	if (!err && !buf[0] && !allow_empty)
		return -ENOENT;
	return err;
}

int namei_copy_path(uint64_t upath, int allow_empty)
{
	return copy_into(this_cpu()->path, upath, allow_empty);
}

int namei_start(int dirfd, const char *path, struct inode **start)
{
	struct file *f;

	*start = NULL;
	if (path[0] == '/' || dirfd == AT_FDCWD)
		return 0;
	f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	if (!f->inode || (path[0] && !S_ISDIR(f->inode->mode)))
		return -ENOTDIR;
	*start = f->inode;
	return 0;
}

/* Resolves the copied path from dirfd. With AT_EMPTY_PATH in at_flags, an
 * empty path names dirfd itself (or the working directory). */
static int lookup_copied(int dirfd, const char *path, unsigned at_flags, unsigned flags,
			 struct inode **out)
{
	struct inode *start;
	int err = namei_start(dirfd, path, &start);

	if (err)
		return err;
	if (!path[0]) {
		if (!(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd == AT_FDCWD) {
			*out = vfs_cwd();
			return 0;
		}
		struct file *f = fd_get(dirfd);
		if (!f->inode)
			return -ENOTDIR; /* a pipe or the like: no inode to name */
		*out = f->inode;
		return 0;
	}
	return vfs_lookup(start, path, flags, out);
}

static int lookup_at(int dirfd, uint64_t upath, unsigned at_flags, unsigned flags,
		     struct inode **out)
{
	int err = namei_copy_path(upath, !!(at_flags & AT_EMPTY_PATH));

	return err ? err : lookup_copied(dirfd, this_cpu()->path, at_flags, flags, out);
}

/* The parent directory and last name of the copied path buf from dirfd,
 * for the calls that make or remove a name. */
struct parent {
	struct inode *dir;
	const char *name;
	size_t len;
	int trailing, special;
};

static int lookup_parent(int dirfd, const char *buf, struct parent *p)
{
	struct inode *start;
	int err = namei_start(dirfd, buf, &start);

	if (err)
		return err;
	err = vfs_lookup_parent(start, buf, &p->dir, &p->name, &p->len, &p->trailing, &p->special);
	if (err)
		return err;
	if (!S_ISDIR(p->dir->mode))
		return -ENOTDIR;
	return 0;
}

/* The inode name names in dir (mounts followed), or NULL. */
static struct inode *child(struct inode *dir, const char *name, size_t len)
{
	struct inode *ino;

	if (!dir->ops->lookup || dir->ops->lookup(dir, name, len, &ino))
		return NULL;
	while (ino->mounted)
		ino = ino->mounted;
	return ino;
}

/* lookup_parent of the user path upath, copied into this CPU's path buffer. */
static int user_parent(int dirfd, uint64_t upath, struct parent *p)
{
	int err = namei_copy_path(upath, 0);

	return err ? err : lookup_parent(dirfd, this_cpu()->path, p);
}

/* user_parent for the calls that make a name: it must not exist yet. */
static int new_name(int dirfd, uint64_t upath, struct parent *p)
{
	int err = user_parent(dirfd, upath, p);

	if (err)
		return err;
	if (p->special || child(p->dir, p->name, p->len))
		return -EEXIST;
	return 0;
}

static int read_only(const struct inode *ino)
{
	return (ino->sb->flags & SUPER_RDONLY) != 0;
}

/* A name may be made in dir: not on a read-only file system, not in a
 * directory that was removed. */
static int can_change(const struct inode *dir)
{
	if (read_only(dir))
		return -EROFS;
	if (!dir->nlink)
		return -ENOENT;
	return 0;
}

/* Whether ino is a mount point or a mounted root: it cannot be removed
 * or renamed. */
static int busy(const struct inode *ino)
{
	return ino->mounted || ino->covered;
}

/* ---------------------------------------------------------------- open */

/* mode & ~umask, permission bits only. */
static uint32_t creation_mode(uint32_t mode)
{
	return mode & 07777 & ~proc_umask();
}

/* The regular file name in p (missing: the caller checked) made with mode. */
static int create_in(struct parent *p, uint32_t mode, struct inode **out)
{
	int err = can_change(p->dir);

	if (err)
		return err;
	if (!p->dir->ops->create)
		return -EACCES;
	return p->dir->ops->create(p->dir, p->name, p->len, creation_mode(mode), out);
}

/* O_CREAT: the inode the path names, made when missing. */
static int open_creating(int dirfd, unsigned flags, uint32_t mode, struct inode **out)
{
	char *path = this_cpu()->path;
	struct parent p;
	int err = lookup_parent(dirfd, path, &p);

	if (err)
		return err;
	if (p.special) /* ".", ".." or "/": a directory that exists */
		return (flags & O_EXCL) ? -EEXIST : -EISDIR;
	struct inode *ino = child(p.dir, p.name, p.len);
	if (ino) {
		if (flags & O_EXCL)
			return -EEXIST;
		if (!S_ISLNK(ino->mode) || (flags & O_NOFOLLOW)) {
			*out = ino;
			return 0;
		}
		/* A symlink: follow it; a dangling one makes its target, as
		 * on Linux. */
		err = vfs_lookup(p.dir, p.name, 0, out);
		if (err != -ENOENT || !ino->ops->readlink)
			return err;
		char *target = this_cpu()->path2;
		long n = ino->ops->readlink(ino, target, PATH_MAX - 1);
		if (n < 0)
			return (int)n;
		target[n] = '\0';
		struct inode *start = p.dir;
		err = vfs_lookup_parent(target[0] == '/' ? NULL : start, target, &p.dir, &p.name,
					&p.len, &p.trailing, &p.special);
		if (err)
			return err;
		if (p.special || p.trailing)
			return -EISDIR;
		return create_in(&p, mode, out);
	}
	if (p.trailing)
		return -EISDIR;
	return create_in(&p, mode, out);
}

static long do_open(int dirfd, uint64_t upath, unsigned flags, uint32_t mode)
{
	struct inode *ino;
	struct file *f;
	unsigned acc = flags & O_ACCMODE;
	int err = namei_copy_path(upath, 0);

	if (err)
		return err;
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		if (acc == O_RDONLY || (flags & O_CREAT))
			return -EINVAL;
		err = lookup_copied(dirfd, this_cpu()->path, 0, LOOKUP_DIRECTORY, &ino);
		if (!err && !S_ISDIR(ino->mode))
			err = -ENOTDIR;
		if (!err)
			err = can_change(ino);
		if (err)
			return err;
		if (!ino->ops->tmpfile)
			return -EOPNOTSUPP;
		err = ino->ops->tmpfile(ino, creation_mode(mode), &ino);
		if (err)
			return err;
		flags &= ~(unsigned)O_DIRECTORY;
	} else if ((flags & O_CREAT) && !(flags & O_PATH)) {
		err = open_creating(dirfd, flags, mode, &ino);
		if (err)
			return err;
	} else {
		unsigned lf = ((flags & O_NOFOLLOW) ? LOOKUP_NOFOLLOW : 0) |
			      ((flags & O_DIRECTORY) ? LOOKUP_DIRECTORY : 0);
		err = lookup_copied(dirfd, this_cpu()->path, 0, lf, &ino);
		if (err)
			return err;
	}
	if (S_ISLNK(ino->mode) && !(flags & O_PATH))
		return -ELOOP; /* O_NOFOLLOW on a symlink */
	if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
		return -ENOTDIR;
	if (!(flags & O_PATH)) {
		int writes = acc != O_RDONLY || (flags & O_TRUNC);
		if (S_ISDIR(ino->mode) && (acc != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
			return -EISDIR;
		if (writes && S_ISREG(ino->mode) && read_only(ino))
			return -EROFS;
		if ((flags & O_TRUNC) && S_ISREG(ino->mode) && ino->size) {
			struct iattr a = {.valid = ATTR_SIZE, .size = 0};
			err = ino->ops->setattr ? ino->ops->setattr(ino, &a) : -EINVAL;
			if (err)
				return err;
		}
	}
	err = vfs_open(ino, flags & OPEN_FLAGS & ~(unsigned)O_NOFOLLOW, &f);
	if (err)
		return err;
	long fd = fd_install(0, f, (flags & O_CLOEXEC) != 0);
	file_put(f);
	return fd;
}

SYSCALL_DEFINE3(open, uint64_t, path, unsigned, flags, uint32_t, mode)
{
	return do_open(AT_FDCWD, path, flags, mode);
}

SYSCALL_DEFINE4(openat, int, dirfd, uint64_t, path, unsigned, flags, uint32_t, mode)
{
	return do_open(dirfd, path, flags, mode);
}

SYSCALL_DEFINE2(creat, uint64_t, path, uint32_t, mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---------------------------------------------------------------- stat */

static void to_linux_stat(const struct kstat *k, struct linux_stat *st)
{
	*st = (struct linux_stat){
	    .st_dev = k->dev,
	    .st_ino = k->ino,
	    .st_nlink = k->nlink,
	    .st_mode = k->mode,
	    .st_uid = k->uid,
	    .st_gid = k->gid,
	    .st_rdev = k->rdev,
	    .st_size = (int64_t)k->size,
	    .st_blksize = k->blksize ? k->blksize : 4096,
	    .st_blocks = (int64_t)k->blocks,
	    .st_atime = (uint64_t)k->atime.sec,
	    .st_atime_nsec = (uint64_t)k->atime.nsec,
	    .st_mtime = (uint64_t)k->mtime.sec,
	    .st_mtime_nsec = (uint64_t)k->mtime.nsec,
	    .st_ctime = (uint64_t)k->ctime.sec,
	    .st_ctime_nsec = (uint64_t)k->ctime.nsec,
	};
}

/* The kstat of dirfd/path with AT_* flags. */
static int stat_at(int dirfd, uint64_t upath, unsigned flags, struct kstat *st)
{
	struct inode *ino;
	int err;

	if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	err = namei_copy_path(upath, !!(flags & AT_EMPTY_PATH));
	if (err)
		return err;
	if (!this_cpu()->path[0] && dirfd != AT_FDCWD) {
		struct file *f = fd_get(dirfd);
		return f ? file_stat(f, st) : -EBADF; /* any descriptor, pipes too */
	}
	err = lookup_copied(dirfd, this_cpu()->path, flags,
			    (flags & AT_SYMLINK_NOFOLLOW) ? LOOKUP_NOFOLLOW : 0, &ino);
	if (err)
		return err;
	inode_stat(ino, st);
	return 0;
}

static long stat_to_user(int dirfd, uint64_t upath, unsigned flags, uint64_t out)
{
	struct kstat k;
	struct linux_stat st;
	int err = stat_at(dirfd, upath, flags, &k);

	if (err)
		return err;
	to_linux_stat(&k, &st);
	return app_copy_to(out, &st, sizeof(st));
}

SYSCALL_DEFINE2(stat, uint64_t, path, uint64_t, out)
{
	return stat_to_user(AT_FDCWD, path, 0, out);
}

SYSCALL_DEFINE2(lstat, uint64_t, path, uint64_t, out)
{
	return stat_to_user(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, out);
}

SYSCALL_DEFINE2(fstat, int, fd, uint64_t, out)
{
	struct file *f = fd_get(fd);
	struct kstat k;
	struct linux_stat st;

	if (!f)
		return -EBADF;
	int err = file_stat(f, &k);
	if (err)
		return err;
	to_linux_stat(&k, &st);
	return app_copy_to(out, &st, sizeof(st));
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, uint64_t, path, uint64_t, out, unsigned, flags)
{
	return stat_to_user(dirfd, path, flags, out);
}

SYSCALL_DEFINE5(statx, int, dirfd, uint64_t, path, unsigned, flags, unsigned, mask, uint64_t, out)
{
	struct kstat k;
	int err;

	(void)mask;
	err = stat_at(dirfd, path, flags & ~(unsigned)AT_STATX_SYNC_TYPE, &k);
	if (err)
		return err;
	struct linux_statx sx = {
	    .stx_mask = STATX_BASIC_STATS,
	    .stx_blksize = k.blksize ? k.blksize : 4096,
	    .stx_nlink = (uint32_t)k.nlink,
	    .stx_uid = k.uid,
	    .stx_gid = k.gid,
	    .stx_mode = (uint16_t)k.mode,
	    .stx_ino = k.ino,
	    .stx_size = k.size,
	    .stx_blocks = k.blocks,
	    .stx_atime = {k.atime.sec, (uint32_t)k.atime.nsec, 0},
	    .stx_ctime = {k.ctime.sec, (uint32_t)k.ctime.nsec, 0},
	    .stx_mtime = {k.mtime.sec, (uint32_t)k.mtime.nsec, 0},
	    .stx_rdev_major = (uint32_t)(k.rdev >> 8),
	    .stx_rdev_minor = (uint32_t)(k.rdev & 0xff),
	    .stx_dev_major = (uint32_t)(k.dev >> 8),
	    .stx_dev_minor = (uint32_t)(k.dev & 0xff),
	};
	return app_copy_to(out, &sx, sizeof(sx));
}

/* The app runs as root: R_OK always, X_OK needs an x bit (or a directory),
 * W_OK is EROFS on a read-only file system (but for device nodes). */
static long do_access(int dirfd, uint64_t upath, int mode, unsigned flags)
{
	struct inode *ino;
	int err;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))
		return -EINVAL;
	err = lookup_at(dirfd, upath, flags, (flags & AT_SYMLINK_NOFOLLOW) ? LOOKUP_NOFOLLOW : 0,
			&ino);
	if (err)
		return err;
	if ((mode & W_OK) && read_only(ino) &&
	    (S_ISREG(ino->mode) || S_ISDIR(ino->mode) || S_ISLNK(ino->mode)))
		return -EROFS;
	if ((mode & X_OK) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
		return -EACCES;
	return 0;
}

SYSCALL_DEFINE2(access, uint64_t, path, int, mode)
{
	return do_access(AT_FDCWD, path, mode, 0);
}

SYSCALL_DEFINE3(faccessat, int, dirfd, uint64_t, path, int, mode)
{
	return do_access(dirfd, path, mode, 0);
}

SYSCALL_DEFINE4(faccessat2, int, dirfd, uint64_t, path, int, mode, unsigned, flags)
{
	return do_access(dirfd, path, mode, flags);
}

static long do_readlink(int dirfd, uint64_t upath, uint64_t buf, int size)
{
	struct inode *ino;
	char *target = this_cpu()->path2;

	if (size <= 0)
		return -EINVAL;
	int err = lookup_at(dirfd, upath, AT_EMPTY_PATH, LOOKUP_NOFOLLOW, &ino);
	if (err)
		return err;
	if (!S_ISLNK(ino->mode) || !ino->ops->readlink)
		return -EINVAL;
	long n = ino->ops->readlink(ino, target, PATH_MAX);
	if (n < 0)
		return n;
	n = MIN(n, (long)size);
	return app_copy_to(buf, target, (size_t)n) ? -EFAULT : n;
}

SYSCALL_DEFINE3(readlink, uint64_t, path, uint64_t, buf, int, size)
{
	return do_readlink(AT_FDCWD, path, buf, size);
}

SYSCALL_DEFINE4(readlinkat, int, dirfd, uint64_t, path, uint64_t, buf, int, size)
{
	return do_readlink(dirfd, path, buf, size);
}

/* ---------------------------------------------------------------- making names */

static long do_mkdir(int dirfd, uint64_t upath, uint32_t mode)
{
	struct parent p;
	int err = new_name(dirfd, upath, &p);

	if (err)
		return err;
	err = can_change(p.dir);
	if (err)
		return err;
	if (!p.dir->ops->mkdir)
		return -EPERM;
	struct inode *ino;
	return p.dir->ops->mkdir(p.dir, p.name, p.len, creation_mode(mode), &ino);
}

SYSCALL_DEFINE2(mkdir, uint64_t, path, uint32_t, mode)
{
	return do_mkdir(AT_FDCWD, path, mode);
}

SYSCALL_DEFINE3(mkdirat, int, dirfd, uint64_t, path, uint32_t, mode)
{
	return do_mkdir(dirfd, path, mode);
}

/* mknod: regular files only (mode S_IFREG or no type); device nodes and
 * FIFOs are not there (EPERM). */
static long do_mknod(int dirfd, uint64_t upath, uint32_t mode)
{
	struct parent p;
	struct inode *ino;
	uint32_t type = mode & S_IFMT;
	int err;

	if (type && type != S_IFREG)
		return type == S_IFDIR ? -EINVAL : -EPERM;
	err = new_name(dirfd, upath, &p);
	if (err)
		return err;
	return create_in(&p, mode, &ino);
}

SYSCALL_DEFINE3(mknod, uint64_t, path, uint32_t, mode, uint64_t, dev)
{
	(void)dev;
	return do_mknod(AT_FDCWD, path, mode);
}

SYSCALL_DEFINE4(mknodat, int, dirfd, uint64_t, path, uint32_t, mode, uint64_t, dev)
{
	(void)dev;
	return do_mknod(dirfd, path, mode);
}

static long do_symlink(uint64_t utarget, int dirfd, uint64_t upath)
{
	char *target = this_cpu()->path2;
	struct parent p;
	int err = copy_into(target, utarget, 0);

	if (!err)
		err = new_name(dirfd, upath, &p);
	if (err)
		return err;
	if (p.trailing)
		return -ENOENT;
	err = can_change(p.dir);
	if (err)
		return err;
	if (!p.dir->ops->symlink)
		return -EPERM;
	struct inode *ino;
	return p.dir->ops->symlink(p.dir, p.name, p.len, target, &ino);
}

SYSCALL_DEFINE2(symlink, uint64_t, target, uint64_t, path)
{
	return do_symlink(target, AT_FDCWD, path);
}

SYSCALL_DEFINE3(symlinkat, uint64_t, target, int, dirfd, uint64_t, path)
{
	return do_symlink(target, dirfd, path);
}

static long do_link(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, unsigned flags)
{
	struct inode *old;
	struct parent p;
	int err;

	if (flags & ~(unsigned)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = lookup_at(olddirfd, oldpath, flags & AT_EMPTY_PATH,
			(flags & AT_SYMLINK_FOLLOW) ? 0 : LOOKUP_NOFOLLOW, &old);
	if (err)
		return err;
	/* The old name's inode stays valid while the second path is copied
	 * into path2 and resolved: nothing else runs meanwhile. */
	err = copy_into(this_cpu()->path2, newpath, 0);
	if (!err)
		err = lookup_parent(newdirfd, this_cpu()->path2, &p);
	if (err)
		return err;
	if (S_ISDIR(old->mode))
		return -EPERM;
	if (p.special || child(p.dir, p.name, p.len))
		return -EEXIST;
	if (p.trailing)
		return -ENOENT;
	if (p.dir->sb != old->sb)
		return -EXDEV;
	err = can_change(p.dir);
	if (err)
		return err;
	if (!p.dir->ops->link)
		return -EPERM;
	return p.dir->ops->link(p.dir, p.name, p.len, old);
}

SYSCALL_DEFINE2(link, uint64_t, oldpath, uint64_t, newpath)
{
	return do_link(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

SYSCALL_DEFINE5(linkat, int, olddirfd, uint64_t, oldpath, int, newdirfd, uint64_t, newpath,
		unsigned, flags)
{
	return do_link(olddirfd, oldpath, newdirfd, newpath, flags);
}

/* ---------------------------------------------------------------- removing names */

static long do_rmdir(int dirfd, uint64_t upath)
{
	struct parent p;
	int err = user_parent(dirfd, upath, &p);

	if (err)
		return err;
	if (p.special) {
		/* Linux: rmdir(".") is EINVAL, rmdir("..") ENOTEMPTY, "/" EBUSY. */
		const char *last = p.name;
		if (p.len == 1 && last[0] == '.')
			return -EINVAL;
		if (p.len == 2 && last[0] == '.' && last[1] == '.')
			return -ENOTEMPTY;
		return -EBUSY;
	}
	struct inode *ino = child(p.dir, p.name, p.len);
	if (!ino)
		return -ENOENT;
	if (!S_ISDIR(ino->mode))
		return -ENOTDIR;
	if (busy(ino))
		return -EBUSY;
	err = can_change(p.dir);
	if (err)
		return err;
	return p.dir->ops->rmdir ? p.dir->ops->rmdir(p.dir, p.name, p.len) : -EPERM;
}

static long do_unlink(int dirfd, uint64_t upath)
{
	struct parent p;
	int err = user_parent(dirfd, upath, &p);

	if (err)
		return err;
	if (p.special)
		return -EISDIR;
	struct inode *ino = child(p.dir, p.name, p.len);
	if (!ino)
		return -ENOENT;
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (p.trailing)
		return -ENOTDIR;
	if (busy(ino))
		return -EBUSY;
	err = can_change(p.dir);
	if (err)
		return err;
	return p.dir->ops->unlink ? p.dir->ops->unlink(p.dir, p.name, p.len) : -EPERM;
}

SYSCALL_DEFINE1(rmdir, uint64_t, path)
{
	return do_rmdir(AT_FDCWD, path);
}

SYSCALL_DEFINE1(unlink, uint64_t, path)
{
	return do_unlink(AT_FDCWD, path);
}

SYSCALL_DEFINE3(unlinkat, int, dirfd, uint64_t, path, unsigned, flags)
{
	if (flags & ~(unsigned)AT_REMOVEDIR)
		return -EINVAL;
	return (flags & AT_REMOVEDIR) ? do_rmdir(dirfd, path) : do_unlink(dirfd, path);
}

static long do_rename(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
		      unsigned flags)
{
	struct parent o, n;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	err = namei_copy_path(oldpath, 0);
	if (!err)
		err = copy_into(this_cpu()->path2, newpath, 0);
	if (!err)
		err = lookup_parent(olddirfd, this_cpu()->path, &o);
	if (!err)
		err = lookup_parent(newdirfd, this_cpu()->path2, &n);
	if (err)
		return err;
	if (o.special || n.special)
		return -EBUSY;
	struct inode *from = child(o.dir, o.name, o.len);
	struct inode *to = child(n.dir, n.name, n.len);
	if (!from)
		return -ENOENT;
	if ((flags & RENAME_EXCHANGE) && !to)
		return -ENOENT;
	if ((flags & RENAME_NOREPLACE) && to)
		return -EEXIST;
	if ((o.trailing && !S_ISDIR(from->mode)) || (n.trailing && to && !S_ISDIR(to->mode)) ||
	    (n.trailing && !to && !S_ISDIR(from->mode)))
		return -ENOTDIR;
	if (o.dir->sb != n.dir->sb)
		return -EXDEV;
	if (busy(from) || (to && busy(to)))
		return -EBUSY;
	/* A directory cannot move below itself (nor, exchanged, the other). */
	if ((S_ISDIR(from->mode) && vfs_is_ancestor(from, n.dir)) ||
	    ((flags & RENAME_EXCHANGE) && S_ISDIR(to->mode) && vfs_is_ancestor(to, o.dir)))
		return -EINVAL;
	err = can_change(o.dir);
	if (!err)
		err = can_change(n.dir);
	if (err)
		return err;
	if (!o.dir->ops->rename)
		return -EPERM;
	return o.dir->ops->rename(o.dir, o.name, o.len, n.dir, n.name, n.len, flags);
}

SYSCALL_DEFINE2(rename, uint64_t, oldpath, uint64_t, newpath)
{
	return do_rename(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

SYSCALL_DEFINE4(renameat, int, olddirfd, uint64_t, oldpath, int, newdirfd, uint64_t, newpath)
{
	return do_rename(olddirfd, oldpath, newdirfd, newpath, 0);
}

SYSCALL_DEFINE5(renameat2, int, olddirfd, uint64_t, oldpath, int, newdirfd, uint64_t, newpath,
		unsigned, flags)
{
	return do_rename(olddirfd, oldpath, newdirfd, newpath, flags);
}

/* ---------------------------------------------------------------- attributes */

/* Changes ino's attributes (a read-only file system refuses). */
static long set_attr(struct inode *ino, struct iattr *a)
{
	if (read_only(ino))
		return -EROFS;
	return ino->ops->setattr ? ino->ops->setattr(ino, a) : -EPERM;
}

/* The inode behind fd for fchmod, fchown, futimens: files without one
 * (pipes, the console's anonymous state) accept and forget. */
static long set_attr_fd(int fd, struct iattr *a)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	return f->inode ? set_attr(f->inode, a) : 0;
}

static long chmod_at(int dirfd, uint64_t upath, uint32_t mode, unsigned flags)
{
	struct inode *ino;
	struct iattr a = {.valid = ATTR_MODE, .mode = mode & 07777};
	int err = lookup_at(dirfd, upath, flags & AT_EMPTY_PATH,
			    (flags & AT_SYMLINK_NOFOLLOW) ? LOOKUP_NOFOLLOW : 0, &ino);

	if (err)
		return err;
	if (S_ISLNK(ino->mode))
		return -EOPNOTSUPP; /* symlinks have no mode of their own on Linux */
	return set_attr(ino, &a);
}

SYSCALL_DEFINE2(chmod, uint64_t, path, uint32_t, mode)
{
	return chmod_at(AT_FDCWD, path, mode, 0);
}

SYSCALL_DEFINE3(fchmodat, int, dirfd, uint64_t, path, uint32_t, mode)
{
	return chmod_at(dirfd, path, mode, 0);
}

SYSCALL_DEFINE2(fchmod, int, fd, uint32_t, mode)
{
	struct iattr a = {.valid = ATTR_MODE, .mode = mode & 07777};

	return set_attr_fd(fd, &a);
}

/*
 * chown: a new owner or group for a regular file also takes its set-user-ID
 * bit away, and its set-group-ID bit when the group may execute it, as
 * Linux does for root too (since 2.2.13). No change at all still checks
 * that the file system could be written.
 */
static long change_owner(struct inode *ino, struct iattr *a)
{
	if (!a->valid)
		return read_only(ino) ? -EROFS : 0;
	if (S_ISREG(ino->mode) && (ino->mode & (S_ISUID | S_ISGID))) {
		a->valid |= ATTR_MODE;
		a->mode = ino->mode & 07777 & ~(uint32_t)S_ISUID;
		if (ino->mode & 0010)
			a->mode &= ~(uint32_t)S_ISGID;
	}
	return set_attr(ino, a);
}

/* -1 (as uid_t) leaves an id as it is. */
static struct iattr owner_attr(uint32_t uid, uint32_t gid)
{
	struct iattr a = {.uid = uid, .gid = gid};

	a.valid = (uid != UINT32_MAX ? ATTR_UID : 0) | (gid != UINT32_MAX ? ATTR_GID : 0);
	return a;
}

static long chown_at(int dirfd, uint64_t upath, uint32_t uid, uint32_t gid, unsigned flags)
{
	struct inode *ino;
	struct iattr a = owner_attr(uid, gid);
	int err;

	if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = lookup_at(dirfd, upath, flags & AT_EMPTY_PATH,
			(flags & AT_SYMLINK_NOFOLLOW) ? LOOKUP_NOFOLLOW : 0, &ino);
	if (err)
		return err;
	return change_owner(ino, &a);
}

SYSCALL_DEFINE3(chown, uint64_t, path, uint32_t, uid, uint32_t, gid)
{
	return chown_at(AT_FDCWD, path, uid, gid, 0);
}

SYSCALL_DEFINE3(lchown, uint64_t, path, uint32_t, uid, uint32_t, gid)
{
	return chown_at(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE5(fchownat, int, dirfd, uint64_t, path, uint32_t, uid, uint32_t, gid, unsigned, flags)
{
	return chown_at(dirfd, path, uid, gid, flags);
}

SYSCALL_DEFINE3(fchown, int, fd, uint32_t, uid, uint32_t, gid)
{
	struct iattr a = owner_attr(uid, gid);
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	return f->inode ? change_owner(f->inode, &a) : 0;
}

/* Sets the access and modification times from ts (NULL: now), where
 * UTIME_NOW and UTIME_OMIT work as in utimensat. */
static long set_times(struct inode *ino, const struct k_timespec *ts)
{
	struct iattr a = {.valid = ATTR_ATIME | ATTR_MTIME};
	struct k_timespec now_ts;
	uint64_t now;

	time_clock(CLOCK_REALTIME, &now);
	now_ts = (struct k_timespec){(int64_t)(now / NSEC_PER_SEC), (int64_t)(now % NSEC_PER_SEC)};
	a.atime = a.mtime = now_ts;
	if (ts) {
		for (int i = 0; i < 2; i++) {
			struct k_timespec *dst = i ? &a.mtime : &a.atime;
			if (ts[i].nsec == UTIME_OMIT)
				a.valid &= ~(unsigned)(i ? ATTR_MTIME : ATTR_ATIME);
			else if (ts[i].nsec != UTIME_NOW)
				*dst = ts[i];
		}
		if (!a.valid)
			return 0; /* both omitted: nothing changes, not even ctime */
	}
	return set_attr(ino, &a);
}

/* Reads a user array of two timespecs (NULL: now) and checks them. */
static int read_times(uint64_t uts, struct k_timespec ts[2], int *given)
{
	*given = uts != 0;
	if (!uts)
		return 0;
	if (app_copy_from(ts, uts, 2 * sizeof(ts[0])))
		return -EFAULT;
	for (int i = 0; i < 2; i++) {
		if (ts[i].nsec == UTIME_NOW || ts[i].nsec == UTIME_OMIT)
			continue;
		if (ts[i].nsec < 0 || ts[i].nsec >= (int64_t)NSEC_PER_SEC)
			return -EINVAL;
	}
	return 0;
}

SYSCALL_DEFINE4(utimensat, int, dirfd, uint64_t, path, uint64_t, times, unsigned, flags)
{
	struct k_timespec ts[2];
	struct inode *ino;
	int given, err;

	if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = read_times(times, ts, &given);
	if (err)
		return err;
	if (!path) { /* utimensat(fd, NULL, ...) changes fd itself (futimens) */
		struct file *f = fd_get(dirfd);
		if (!f || (f->flags & O_PATH))
			return -EBADF;
		return f->inode ? set_times(f->inode, given ? ts : NULL) : 0;
	}
	err = lookup_at(dirfd, path, flags & AT_EMPTY_PATH,
			(flags & AT_SYMLINK_NOFOLLOW) ? LOOKUP_NOFOLLOW : 0, &ino);
	return err ? err : set_times(ino, given ? ts : NULL);
}

/* utime, utimes, futimesat: whole seconds (utimbuf) or microseconds. */
static long utimes_at(int dirfd, uint64_t path, uint64_t times, int timeval)
{
	struct k_timespec ts[2];
	struct inode *ino;
	int err = lookup_at(dirfd, path, 0, 0, &ino);

	if (err)
		return err;
	if (!times)
		return set_times(ino, NULL);
	if (timeval) {
		struct k_timeval tv[2];
		if (app_copy_from(tv, times, sizeof(tv)))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].usec < 0 || tv[i].usec >= 1000000)
				return -EINVAL;
			ts[i] = (struct k_timespec){tv[i].sec, tv[i].usec * 1000};
		}
	} else {
		int64_t secs[2]; /* struct utimbuf: actime, modtime */
		if (app_copy_from(secs, times, sizeof(secs)))
			return -EFAULT;
		ts[0] = (struct k_timespec){secs[0], 0};
		ts[1] = (struct k_timespec){secs[1], 0};
	}
	return set_times(ino, ts);
}

SYSCALL_DEFINE2(utime, uint64_t, path, uint64_t, times)
{
	return utimes_at(AT_FDCWD, path, times, 0);
}

SYSCALL_DEFINE2(utimes, uint64_t, path, uint64_t, times)
{
	return utimes_at(AT_FDCWD, path, times, 1);
}

SYSCALL_DEFINE3(futimesat, int, dirfd, uint64_t, path, uint64_t, times)
{
	return utimes_at(dirfd, path, times, 1);
}

/* ---------------------------------------------------------------- sizes */

SYSCALL_DEFINE2(truncate, uint64_t, path, int64_t, length)
{
	struct inode *ino;
	struct iattr a = {.valid = ATTR_SIZE, .size = (uint64_t)length};
	int err;

	if (length < 0)
		return -EINVAL;
	err = lookup_at(AT_FDCWD, path, 0, 0, &ino);
	if (err)
		return err;
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (!S_ISREG(ino->mode))
		return -EINVAL;
	return set_attr(ino, &a);
}

SYSCALL_DEFINE2(ftruncate, int, fd, int64_t, length)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (length < 0 || !file_writable(f) || !f->ops->truncate)
		return -EINVAL;
	if (f->inode && read_only(f->inode))
		return -EROFS;
	return f->ops->truncate(f, (uint64_t)length);
}

SYSCALL_DEFINE4(fallocate, int, fd, int, mode, int64_t, offset, int64_t, len)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (offset < 0 || len <= 0 || offset > INT64_MAX - len)
		return -EINVAL;
	if (!file_writable(f))
		return -EBADF;
	if (!f->inode)
		return -ESPIPE;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	if (!f->ops->fallocate)
		return -EOPNOTSUPP;
	return f->ops->fallocate(f, mode, (uint64_t)offset, (uint64_t)len);
}

/* ---------------------------------------------------------------- file systems */

static long statfs_to_user(struct inode *ino, uint64_t out)
{
	struct kstatfs k = {.type = PIPEFS_MAGIC, .bsize = 4096, .namelen = NAME_MAX};

	if (ino && ino->sb->statfs) {
		int err = ino->sb->statfs(ino->sb, &k);
		if (err)
			return err;
	}
	struct linux_statfs st = {
	    .f_type = (int64_t)k.type,
	    .f_bsize = (int64_t)k.bsize,
	    .f_blocks = k.blocks,
	    .f_bfree = k.bfree,
	    .f_bavail = k.bavail,
	    .f_files = k.files,
	    .f_ffree = k.ffree,
	    .f_fsid = {(int32_t)(ino ? ino->sb->dev : 0), 0},
	    .f_namelen = (int64_t)k.namelen,
	    .f_frsize = (int64_t)k.bsize,
	    .f_flags = (int64_t)k.flags,
	};
	return app_copy_to(out, &st, sizeof(st));
}

SYSCALL_DEFINE2(statfs, uint64_t, path, uint64_t, out)
{
	struct inode *ino;
	int err = lookup_at(AT_FDCWD, path, 0, 0, &ino);

	return err ? err : statfs_to_user(ino, out);
}

SYSCALL_DEFINE2(fstatfs, int, fd, uint64_t, out)
{
	struct file *f = fd_get(fd);

	return f ? statfs_to_user(f->inode, out) : -EBADF;
}

/* ---------------------------------------------------------------- the working directory */

SYSCALL_DEFINE1(chdir, uint64_t, path)
{
	struct inode *ino;
	int err = lookup_at(AT_FDCWD, path, 0, LOOKUP_DIRECTORY, &ino);

	if (err)
		return err;
	if (!S_ISDIR(ino->mode))
		return -ENOTDIR;
	vfs_set_cwd(ino);
	return 0;
}

SYSCALL_DEFINE1(fchdir, int, fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (!f->inode || !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	vfs_set_cwd(f->inode);
	return 0;
}

SYSCALL_DEFINE2(getcwd, uint64_t, buf, uint64_t, size)
{
	char *path = this_cpu()->path;
	long len = vfs_path(vfs_cwd(), path, PATH_MAX);

	if (len < 0)
		return len;
	if ((uint64_t)len + 1 > size)
		return -ERANGE;
	return app_copy_to(buf, path, (size_t)len + 1) ? -EFAULT : len + 1;
}
