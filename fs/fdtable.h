/*
 * fdtable - the app's file descriptors: FD_MAX slots for the one process,
 * shared by its threads (CLONE_FILES), each pointing at a struct file (one
 * reference per slot) with its own close-on-exec bit.
 */
#pragma once

#include "fs/file.h"
#include "kernel/syscall.h"

#define FD_MAX 1024 /* RLIMIT_NOFILE */

/* Opens 0, 1 and 2 on the console. Once, before the app starts. */
int fd_table_init(void);
/* Closes every descriptor (at the app's exit). */
void fd_table_release(void);

/* The file of descriptor fd, or NULL (not open, or out of range). No
 * reference is taken: it stays valid until the syscall ends. */
struct file *fd_get(int fd);
/* Installs f in the lowest free slot >= min, taking a reference of its
 * own. Returns the descriptor, -EMFILE (none free) or -EINVAL (min out of
 * range). */
int fd_install(int min, struct file *f, int cloexec);
/* Installs f (taking a reference) at exactly fd, closing what was there. */
int fd_install_at(int fd, struct file *f, int cloexec);
/* Closes fd: 0 or -EBADF. */
int fd_close(int fd);
int fd_cloexec(int fd);
void fd_set_cloexec(int fd, int on);

SYSCALL_DECLARE(close);
SYSCALL_DECLARE(dup);
SYSCALL_DECLARE(dup2);
SYSCALL_DECLARE(dup3);
SYSCALL_DECLARE(close_range);
