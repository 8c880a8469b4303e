/*
 * vfs - inodes, path lookup and mount points: the one tree the app's paths
 * name. The root is a tmpfs (fs/tmpfs.h) filled from the image's
 * rootfs.tar (fs/tarfs.h); /dev, /proc and /sys are mounted on it
 * (fs/devfs.h, fs/procfs.h).
 *
 * An inode is a file, a directory, a symlink or a device node of one file
 * system (its super). A file system implements struct inode_ops; the
 * directory operations get one path component (no '/', never "." or "..",
 * 1..NAME_MAX bytes, not NUL-terminated: name and len). Lookups follow
 * mounts: a directory with a file system mounted on it (mounted) is seen
 * as that file system's root, and ".." of a mounted root is ".." of the
 * directory it covers.
 *
 * Lifetime: an inode lives while it has a name (nlink > 0, the directory
 * tree holds it without a reference) or references (refs: open files,
 * mappings, the working directory). When both are gone its file system's
 * evict frees it. A lookup returns an inode without a reference: the
 * kernel is not preempted, so nothing can remove it before the syscall
 * that looked it up ends or takes a reference.
 *
 * Permissions: the app runs as root, as on Linux there is no check but
 * the ones root meets: a write to a read-only file system (EROFS), and
 * executing needs an x bit. The vfs checks SUPER_RDONLY itself before any
 * operation that would change the tree, so file systems need not.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/file.h"

struct inode;
struct super;

#define SUPER_RDONLY 1u

struct kstatfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen, flags;
};

struct super {
	uint64_t dev; /* st_dev of its inodes */
	unsigned flags;
	int (*statfs)(struct super *sb, struct kstatfs *out);
};

/* inode_setattr's request: the fields with their ATTR_* bit set. */
#define ATTR_MODE  (1u << 0) /* permission bits only (07777) */
#define ATTR_UID   (1u << 1)
#define ATTR_GID   (1u << 2)
#define ATTR_SIZE  (1u << 3) /* regular files: truncate or extend */
#define ATTR_ATIME (1u << 4)
#define ATTR_MTIME (1u << 5)
#define ATTR_CTIME (1u << 6)

struct iattr {
	unsigned valid;
	uint32_t mode, uid, gid;
	uint64_t size;
	struct k_timespec atime, mtime, ctime;
};

struct inode_ops {
	/* Directories. Each returns 0 or -errno; -ENOENT when name is not
	 * there, -EEXIST when it is and must not be, -ENOSPC / -ENOMEM when
	 * the file system is full. */
	int (*lookup)(struct inode *dir, const char *name, size_t len, struct inode **out);
	/* A new regular file (mode: permission bits), linked as name. */
	int (*create)(struct inode *dir, const char *name, size_t len, uint32_t mode,
		      struct inode **out);
	int (*mkdir)(struct inode *dir, const char *name, size_t len, uint32_t mode,
		     struct inode **out);
	int (*symlink)(struct inode *dir, const char *name, size_t len, const char *target,
		       struct inode **out);
	/* A new node of a special type, linked as name: mode is S_IFSOCK
	 * (what bind makes of an AF_UNIX path, net/unix.c) with permission
	 * bits. -EPERM for a type the file system does not make. NULL: the
	 * file system makes none (-EPERM). */
	int (*mknod)(struct inode *dir, const char *name, size_t len, uint32_t mode,
		     struct inode **out);
	/* A new name for target (never a directory: the vfs checks), in the
	 * same file system. */
	int (*link)(struct inode *dir, const char *name, size_t len, struct inode *target);
	/* Removes a name that is not a directory (-EISDIR otherwise). */
	int (*unlink)(struct inode *dir, const char *name, size_t len);
	/* Removes an empty directory: -ENOTDIR, -ENOTEMPTY. */
	int (*rmdir)(struct inode *dir, const char *name, size_t len);
	/*
	 * Renames within one file system, as Linux's rename(2) and renameat2's
	 * RENAME_NOREPLACE (-EEXIST) and RENAME_EXCHANGE (both must exist)
	 * define: a file over a file, a directory over an empty directory
	 * (-ENOTEMPTY otherwise), never a directory over a file (-ENOTDIR) or
	 * a file over a directory (-EISDIR); renaming a name onto itself (the
	 * same inode) does nothing. The vfs has checked that a directory is
	 * not moved below itself (-EINVAL).
	 */
	int (*rename)(struct inode *odir, const char *oname, size_t olen, struct inode *ndir,
		      const char *nname, size_t nlen, unsigned flags);
	/* O_TMPFILE: a regular file with no name (nlink 0) in dir's file
	 * system; it lives while referenced. */
	int (*tmpfile)(struct inode *dir, uint32_t mode, struct inode **out);
	/* getcwd: the name of child (a directory) in dir, NUL-terminated,
	 * into buf: its length, or -ERANGE, -ENOENT. */
	long (*child_name)(struct inode *dir, const struct inode *child, char *buf, size_t size);
	/* Symlinks: the target into buf (not NUL-terminated): its length
	 * (cut to size). */
	long (*readlink)(struct inode *ino, char *buf, size_t size);
	/* chmod, chown, utimensat, truncate: the ATTR_* fields of attr.
	 * ATTR_SIZE: -EISDIR for a directory, -EINVAL for other non-files,
	 * -EFBIG / -ENOSPC. The file system updates ctime itself. */
	int (*setattr)(struct inode *ino, const struct iattr *attr);
	/* No name and no reference left: free the inode. */
	void (*evict)(struct inode *ino);
};

struct inode {
	const struct inode_ops *ops;
	const struct file_ops *fops; /* what open() of it gives */
	struct super *sb;
	uint64_t ino;
	uint32_t mode; /* S_IF* type and permission bits */
	uint32_t uid, gid;
	uint32_t nlink;
	uint64_t size;
	uint64_t rdev;	 /* device nodes: major << 8 | minor */
	uint64_t blocks; /* 512-byte blocks of storage */
	struct k_timespec atime, mtime, ctime;
	int refs;
	struct inode *parent;  /* directories: the one holding it (a root: itself) */
	struct inode *mounted; /* a file system mounted on this directory: its root */
	struct inode *covered; /* a mounted root: the directory it is mounted on */
};

void inode_get(struct inode *ino);
/* Drops a reference; an inode left with no name and no reference is
 * evicted. */
void inode_put(struct inode *ino);
/* The kstat of an inode. */
void inode_stat(const struct inode *ino, struct kstat *st);

/* The root of the tree (set once, at boot) and the working directory. */
void vfs_set_root(struct inode *root);
struct inode *vfs_cwd(void);
/* Makes dir (held from now on) the working directory; NULL only drops
 * the old one (when the tree is taken apart). */
void vfs_set_cwd(struct inode *dir);
/* Mounts the file system whose root is root on the directory dir. */
void vfs_mount(struct inode *dir, struct inode *root);

/* Lookup flags. */
#define LOOKUP_NOFOLLOW	 1u /* do not follow a symlink in the last component */
#define LOOKUP_DIRECTORY 2u /* the result must be a directory */

/*
 * vfs_lookup - resolves path from start (a directory; NULL: the working
 * directory; an absolute path starts at the root). ".", ".." and repeated
 * slashes work as on Linux; symlinks are followed (at most 40 in one
 * lookup); a trailing slash requires a directory. Returns 0 and *out, or
 * -ENOENT (missing, or an empty path), -ENOTDIR, -ELOOP, -ENAMETOOLONG.
 */
int vfs_lookup(struct inode *start, const char *path, unsigned flags, struct inode **out);

/*
 * vfs_lookup_parent - for the calls that make or remove a name: resolves
 * all of path but its last component to a directory (*dir) and returns the
 * last component (*name, *len: a pointer into path). *trailing is set when
 * the path ends with '/'; *special when the last component is "." or ".."
 * or the path is "/" (there is no name to make or remove: each call picks
 * Linux's error for that, see fs/namei.c). Errors as vfs_lookup.
 */
int vfs_lookup_parent(struct inode *start, const char *path, struct inode **dir, const char **name,
		      size_t *len, int *trailing, int *special);

/* The absolute path of directory dir into buf; its length, or -ERANGE,
 * -ENOENT (dir was removed). */
long vfs_path(struct inode *dir, char *buf, size_t size);

/* Whether ino is dir or below it (rename must not move a directory into
 * its own subtree). */
int vfs_is_ancestor(const struct inode *dir, const struct inode *ino);

/* open: a new file of ino with flags (O_ACCMODE, O_APPEND, ...), through
 * its file system's file ops and their open. 0 and *out, or -errno. */
int vfs_open(struct inode *ino, unsigned flags, struct file **out);
