/*
 * tmpfs - the file system in RAM that is the app's root (and could be
 * mounted anywhere): directories, regular files, symlinks and the names
 * of AF_UNIX sockets (S_IFSOCK nodes, which hold no data), created and
 * changed by the app; everything is lost at power-off.
 *
 * File data lives in pages (palloc), one page per 4 KiB of file, made on
 * first write; a hole reads as zeros. A file can also start out as bytes
 * that lie elsewhere and are never copied until written: the members of
 * rootfs.tar (tmpfs_create_external). Reading such a file reads those
 * bytes; writing a page of it first copies that page (page-granular copy
 * on write), so an app that rewrites one block of a 100 MiB data file
 * costs one page, not 100 MiB. Where those bytes may be mapped as they lie
 * (tmpfs_lend_range), a mapping that only reads a whole, page-aligned
 * page of them gets that very page, shared by every mapping, instead of a
 * copy; the first write copies it then.
 *
 * Each regular file is a page-owning object (mm/vmobj.h): mmap maps its
 * pages, so MAP_SHARED mappings and read/write stay coherent.
 *
 * Size limit: max_bytes caps the pages that hold data the app wrote
 * (pages still equal to external bytes are not counted: they can be
 * dropped); past it writes fail with -ENOSPC, as they do when palloc has
 * nothing left above the kernel's reserve. statfs reports the limit and
 * what is used.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/vfs.h"

/*
 * tmpfs_mount - a new, empty tmpfs: its root directory (mode 0755, owner
 * 0:0, times now) in *root. max_bytes: the data limit (rounded down to
 * pages). dev: st_dev of its inodes. flags: SUPER_RDONLY for a read-only
 * file system (tmpfs_set_flags can change it after it was filled).
 * Returns 0 or -ENOMEM.
 */
int tmpfs_mount(uint64_t max_bytes, uint64_t dev, unsigned flags, struct inode **root);
/* Changes the super's flags (SUPER_RDONLY) of the tmpfs whose root is root. */
void tmpfs_set_flags(struct inode *root, unsigned flags);
/*
 * tmpfs_create_external - a regular file named name in dir whose contents
 * are the size bytes at data, read where they lie (data must stay valid
 * and unchanged while the file system exists: the rootfs.tar module).
 * mode: permission bits. Returns 0 and *out (may be NULL), -EEXIST, -ENOMEM.
 */
int tmpfs_create_external(struct inode *dir, const char *name, size_t len, uint32_t mode,
			  const void *data, uint64_t size, struct inode **out);
/*
 * tmpfs_lend_range - tells the file system whose root is root that the
 * external bytes in [base, base + size) may be mapped where they lie:
 * memory of the direct map (phys_to_virt) that nothing else owns, never
 * changes and outlives the file system (the rootfs.tar module). A page of
 * an external file that lies wholly inside the range, on a page boundary,
 * is then handed to read-only and private mappings by its physical
 * address instead of being copied; tmpfs never writes nor frees it (a
 * write copies it first). Bytes outside the range (or base NULL) are
 * copied as before. Call it before anything of the file system is mapped;
 * a later call replaces the range. Never fails.
 */
void tmpfs_lend_range(struct inode *root, const void *base, uint64_t size);
/* Frees the whole file system whose root is root: every inode, page and
 * record (at the app's exit, when nothing is open or mapped any more). */
void tmpfs_unmount(struct inode *root);

struct tmpfs_usage {
	uint64_t max_bytes, used_bytes; /* the limit, and data pages counted against it */
	uint64_t inodes;
};
void tmpfs_usage(struct inode *root, struct tmpfs_usage *out);
