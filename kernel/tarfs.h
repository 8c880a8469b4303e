/*
 * tarfs - a read-only file system over a ustar archive held in memory (the
 * rootfs.tar boot module). tarfs_mount() checks every header (checksum,
 * octal fields, bounds) and builds a tree of nodes; file data is never
 * copied: a node points into the archive, which must stay in memory and
 * unchanged while the file system is in use.
 *
 * Nodes are numbered 0..count-1; node 0 is the root directory "/".
 * Directories named only by the paths of their members are created
 * (implied, mode 0755, owner 0:0, mtime 0). A later member with the same
 * path replaces an earlier one, as tar extraction does. Supported member
 * types: regular files ('0', NUL), hard links ('1', to a regular file
 * earlier in the archive), symlinks ('2') and directories ('5'); pax
 * headers ('x', 'g') and device nodes/fifos are skipped.
 *
 * Pure C over klib: the same file runs in the kernel and in host tests.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TARFS_NAME_MAX	  255 /* one path component */
#define TARFS_SYMLOOP_MAX 40  /* symlinks followed in one lookup (Linux's limit) */

enum tarfs_type {
	TARFS_FILE = 1,
	TARFS_DIR,
	TARFS_SYMLINK,
};

struct tarfs_node {
	const char *name;	   /* last component, NUL-terminated; "" for the root */
	const char *target;	   /* TARFS_SYMLINK: the link text, else NULL */
	const unsigned char *data; /* TARFS_FILE: contents inside the archive */
	uint64_t size;		   /* bytes of data; symlink: strlen(target) */
	uint32_t mode;		   /* permission bits (07777) */
	uint32_t uid, gid;
	int64_t mtime; /* seconds since the epoch */
	enum tarfs_type type;
	int parent;		       /* the root is its own parent */
	int first_child, next_sibling; /* -1 terminated; in archive order */
};

struct tarfs {
	struct tarfs_node *nodes;
	int count;
	char *strings;	 /* names and link targets, one allocation */
	char error[128]; /* why tarfs_mount failed */
};

/*
 * tarfs_mount - index the ustar archive [image, image + size). Returns 0, or
 * -EINVAL with fs->error saying what is wrong and at which byte offset (a
 * bad checksum, a field that is not octal, a member running past the end,
 * a ".." component, a path that is both a file and a directory) or -ENOMEM.
 * An empty archive (size 0, or only zero blocks) gives just the root.
 * On failure nothing stays allocated. Free with tarfs_unmount.
 */
int tarfs_mount(struct tarfs *fs, const void *image, size_t size);
void tarfs_unmount(struct tarfs *fs);

#define TARFS_NOFOLLOW 1u /* do not follow a symlink in the last component */

/*
 * tarfs_lookup - resolve path from directory node cwd (ignored for an
 * absolute path). ".", ".." (the root's ".." is the root) and repeated
 * slashes work as on Linux; symlinks are followed (at most
 * TARFS_SYMLOOP_MAX per lookup), the last component's only without
 * TARFS_NOFOLLOW; a trailing slash requires a directory. Returns the node
 * (>= 0), or -ENOENT (missing, or empty path), -ENOTDIR (a non-directory
 * used as one), -ELOOP or -ENAMETOOLONG (a component over TARFS_NAME_MAX).
 */
int tarfs_lookup(const struct tarfs *fs, int cwd, const char *path, unsigned flags);

/* The absolute path of node into buf ("/" for the root). Returns its length
 * without the NUL, or -ERANGE when buf (size bytes) is too small. */
long tarfs_path(const struct tarfs *fs, int node, char *buf, size_t size);

static inline const struct tarfs_node *tarfs_node(const struct tarfs *fs, int node)
{
	return &fs->nodes[node];
}
