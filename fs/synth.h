/*
 * synth - a read-only file system of fixed nodes declared in a table: what
 * /dev, /proc and /sys are (fs/devfs.c, fs/procfs.c). Each node is a
 * directory, a device or regular file with its own file operations, a
 * regular file whose text is made when it is opened (procfs's: size 0,
 * as on Linux), or a symlink whose target is made when it is read. A
 * directory may also list entries made on the fly (/proc/self/fd).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/vfs.h"

struct synth_node {
	const char *name;			/* "" for the root, index 0 */
	int parent;				/* the index of the directory holding it */
	uint32_t mode;				/* S_IF* type and permission bits */
	uint64_t rdev;				/* device nodes */
	const struct file_ops *fops;		/* devices and files with operations of their own */
	long (*text)(char *buf, size_t size);	/* a generated text file */
	long (*target)(char *buf, size_t size); /* a symlink's target */
	/* A directory of made-up entries: the name of entry i (>= 0) into
	 * name, 1 when it exists, 0 past the last one; and readlink of the
	 * entry called name (they are symlinks). */
	int (*entry)(int i, char *name, size_t size);
	long (*entry_target)(const char *name, char *buf, size_t size);
};

/* Mounts a synth file system over nodes[0..n) (kept by reference): its
 * root in *root. magic is statfs's f_type, dev st_dev. 0 or -ENOMEM. */
int synth_mount(const struct synth_node *nodes, int n, uint64_t magic, uint64_t dev,
		struct inode **root);
/* Frees what synth_mount and the lookups made. */
void synth_unmount(struct inode *root);
