/*
 * tarfs - reads the image's rootfs.tar (ustar, from tools/mkimg.sh) into a
 * file system tree: every member becomes a directory, a regular file, a
 * symlink or a hard link under root. File data is never copied: regular
 * files are made with tmpfs_create_external over the archive's bytes, so
 * the archive must stay in memory and unchanged for as long as the tree.
 *
 * The whole archive is checked before anything is made (checksums, octal
 * fields, bounds, ".." components, a path that is both a file and a
 * directory), so a bad archive changes nothing. Directories named only by
 * the paths of their members are made (mode 0755, owner 0:0, mtime 0). A
 * later member with the same path replaces an earlier one, as tar
 * extraction does. Member types: regular files ('0', NUL), hard links
 * ('1', to a regular file earlier in the archive), symlinks ('2') and
 * directories ('5'); pax headers ('x', 'g') and device nodes and fifos
 * are skipped. Each member keeps its mode, owner and mtime.
 *
 * Pure C over the vfs: the same file runs in the kernel and in host tests.
 */
#pragma once

#include <stddef.h>

#include "fs/vfs.h"

#define TARFS_NAME_MAX 255 /* one path component */

/*
 * tarfs_unpack - fills root (an empty tmpfs directory) from the archive
 * [image, image + size) (size 0 or only zero blocks: nothing). Returns the
 * number of members made, or -EINVAL with error (errsize bytes) saying
 * what is wrong and at which byte offset, or -ENOMEM / -ENOSPC (then part
 * of the tree may exist).
 */
long tarfs_unpack(const void *image, size_t size, struct inode *root, char *error, size_t errsize);
