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

/* A file the kernel provides in the root when rootfs.tar has none by that
 * name (the network's /etc/resolv.conf, /etc/hosts): dir (one component,
 * made 0755 when missing) / name, mode 0644, whose contents are the size
 * bytes at data, read where they lie (copied only when written): data must
 * stay valid and unchanged until rootfs_unmount. */
struct rootfs_file {
	const char *dir, *name;
	const void *data;
	size_t size;
};

struct rootfs_config {
	int read_only;
	uint64_t tmpfs_size; /* bytes; 0: half of the free memory now */
	const struct rootfs_file *files;
	size_t nfiles;
};

/* Builds the tree over the archive tar (NULL: none), which must lie in the
 * direct map and stay there unchanged, never freed, for as long as the tree
 * (its members' whole pages are mapped where they lie: tmpfs_lend_range),
 * and adds cfg->files the archive lacks (also under root=ro). A
 * bad archive is reported and the root starts empty; a provided file that
 * cannot be made is reported and left out. Returns 0, or -ENOMEM when not
 * even the empty tree could be made. */
int rootfs_mount(const void *tar, size_t size, const struct rootfs_config *cfg);
/* Frees the whole tree (no file may be open, mapped or the cwd any more). */
void rootfs_unmount(void);
/* /proc/mounts. */
long rootfs_mounts_text(char *buf, size_t size);
