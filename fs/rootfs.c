/* The app's file tree (see rootfs.h). */
#include "fs/rootfs.h"

#include "fs/devfs.h"
#include "fs/procfs.h"
#include "fs/tarfs.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/stat.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "mm/palloc.h"

#define ROOT_DEV 1
#define TMP_DEV	 7
#define SHM_DEV	 8

static struct {
	struct inode *root, *tmp, *dev, *shm, *proc, *sys;
	int read_only;
} tree;

/* The directory name in dir (made with mode when missing and dir is
 * writable), or NULL when there is none. */
static struct inode *directory(struct inode *dir, const char *name, uint32_t mode)
{
	struct inode *ino;
	size_t len = strlen(name);

	if (dir->ops->lookup(dir, name, len, &ino) && dir->ops->mkdir(dir, name, len, mode, &ino))
		return NULL;
	return S_ISDIR(ino->mode) ? ino : NULL;
}

/* Mounts the file system whose root is root on the directory name of the
 * root; when that is impossible (a file has the name) the file system is
 * not reachable and the boot log says so. */
static void mount_on(struct inode *parent, const char *name, struct inode *root)
{
	struct inode *dir = directory(parent, name, 0755);

	if (!dir) {
		kprintf("solo: root: %s is not a directory: nothing is mounted there\n", name);
		return;
	}
	vfs_mount(dir, root);
}

/* Adds f unless the archive had a file by its name (or its directory is
 * not one). */
static void provide(const struct rootfs_file *f)
{
	struct inode *dir = directory(tree.root, f->dir, 0755), *ino;
	int err;

	if (!dir) {
		kprintf("solo: root: /%s is not a directory: no /%s/%s\n", f->dir, f->dir, f->name);
		return;
	}
	if (!dir->ops->lookup(dir, f->name, strlen(f->name), &ino))
		return; /* the app brought its own */
	err = tmpfs_create_external(dir, f->name, strlen(f->name), 0644, f->data, f->size, NULL);
	if (err)
		kprintf("solo: root: cannot make /%s/%s (error %d)\n", f->dir, f->name, err);
}

int rootfs_mount(const void *tar, size_t size, const struct rootfs_config *cfg)
{
	uint64_t limit = cfg->tmpfs_size;
	char error[128];
	long members = 0;
	int err;

	if (!limit) {
		struct palloc_stats st;
		palloc_get_stats(&st);
		limit = st.free_pages / 2 * PAGE_SIZE;
	}
	tree.read_only = cfg->read_only;
	err = tmpfs_mount(limit, ROOT_DEV, 0, &tree.root);
	if (err)
		return err;
	if (tar) {
		/* The module stays reserved and unchanged until power-off
		 * (kernel/main.c keeps it from palloc), in the direct map. */
		tmpfs_lend_range(tree.root, tar, size);
		members = tarfs_unpack(tar, size, tree.root, error, sizeof(error));
		if (members == -EINVAL)
			kprintf("solo: rootfs.tar: %s; starting with an empty file system\n",
				error);
		else if (members < 0)
			kprintf("solo: rootfs.tar: no room to unpack it all (error %ld)\n",
				members);
	}
	vfs_set_root(tree.root);
	vfs_set_cwd(tree.root);
	for (size_t i = 0; i < cfg->nfiles; i++)
		provide(&cfg->files[i]);

	/* The mount points first: a read-only root cannot make them later. */
	struct inode *tmp = directory(tree.root, "tmp", 01777);
	if (!devfs_mount(&tree.dev)) {
		mount_on(tree.root, "dev", tree.dev);
		struct inode *shm = directory(tree.dev, "shm", 01777);
		if (shm && !tmpfs_mount(limit, SHM_DEV, 0, &tree.shm))
			vfs_mount(shm, tree.shm);
	}
	if (!procfs_mount(&tree.proc))
		mount_on(tree.root, "proc", tree.proc);
	if (!sysfs_mount(&tree.sys))
		mount_on(tree.root, "sys", tree.sys);
	if (cfg->read_only) {
		tmpfs_set_flags(tree.root, SUPER_RDONLY);
		if (tmp && !tmpfs_mount(limit, TMP_DEV, 0, &tree.tmp))
			vfs_mount(tmp, tree.tmp);
	}
	kinfo("solo: root: %ld entries from rootfs.tar, %s in RAM (files up to %lu MiB); "
	      "nothing written is kept after power-off\n",
	      members > 0 ? members : 0,
	      cfg->read_only ? "read-only (root=ro) with a writable /tmp" : "writable",
	      limit >> 20);
	return 0;
}

void rootfs_unmount(void)
{
	if (!tree.root)
		return;
	vfs_set_cwd(NULL);
	if (tree.sys)
		procfs_unmount(tree.sys);
	if (tree.proc)
		procfs_unmount(tree.proc);
	if (tree.shm)
		tmpfs_unmount(tree.shm);
	if (tree.dev)
		devfs_unmount(tree.dev);
	if (tree.tmp)
		tmpfs_unmount(tree.tmp);
	tmpfs_unmount(tree.root);
	tree = (__typeof__(tree)){0};
}

long rootfs_mounts_text(char *buf, size_t size)
{
	/* Not "rootfs": tools such as busybox df skip Linux's initial rootfs. */
	return ksnprintf(buf, size,
			 "tmpfs / tmpfs %s,relatime 0 0\n"
			 "%s"
			 "devtmpfs /dev devtmpfs rw,relatime 0 0\n"
			 "tmpfs /dev/shm tmpfs rw,relatime 0 0\n"
			 "proc /proc proc rw,relatime 0 0\n"
			 "sysfs /sys sysfs ro,relatime 0 0\n",
			 tree.read_only ? "ro" : "rw",
			 tree.tmp ? "tmpfs /tmp tmpfs rw,relatime 0 0\n" : "");
}
