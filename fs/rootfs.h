/*
 * rootfs - the tree the app sees, put together at its start: a tmpfs
 * (fs/tmpfs.h) filled from the image's rootfs.tar (fs/tarfs.h), writable
 * unless root=ro, with /tmp (a tmpfs of its own when the root is
 * read-only), devfs on /dev, a tmpfs on /dev/shm, procfs on /proc and
 * sysfs on /sys. Everything written lives in RAM and is gone at power-off;
 * tmpfs_size caps what files may take. Taken apart at the app's exit,
 * when every page must come back.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct rootfs_config {
	int read_only;
	uint64_t tmpfs_size; /* bytes; 0: half of the free memory now */
};

/* Builds the tree over the archive tar (NULL: none), which must stay in
 * memory. A bad archive is reported and the root starts empty. Returns 0,
 * or -ENOMEM when not even the empty tree could be made. */
int rootfs_mount(const void *tar, size_t size, const struct rootfs_config *cfg);
/* Frees the whole tree (no file may be open, mapped or the cwd any more). */
void rootfs_unmount(void);
/* /proc/mounts. */
long rootfs_mounts_text(char *buf, size_t size);
