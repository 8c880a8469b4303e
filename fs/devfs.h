/*
 * devfs - /dev: the device nodes programs open by name. null, zero, full,
 * random and urandom behave as on Linux; tty, console, ttyS0 and
 * stdin/stdout/stderr are the console (fs/tty.h); fd is a symlink to
 * /proc/self/fd; shm is a directory for a tmpfs (glibc's shm_open).
 */
#pragma once

#include "fs/vfs.h"

#define DEVFS_MAGIC 0x1373

int devfs_mount(struct inode **root);
void devfs_unmount(struct inode *root);
