/*
 * fdtable - the app's file descriptors: FD_MAX slots for the one process,
 * shared by its threads (CLONE_FILES), each pointing at a struct file (one
 * reference per slot) with its own close-on-exec bit.
 */
#pragma once

#include <stdint.h>

#include "fs/file.h"
#include "kernel/syscall.h"

#define FD_MAX 1024 /* the most RLIMIT_NOFILE can be (Linux's nr_open) */

/* Opens 0, 1 and 2 on the console. Once, before the app starts. */
int fd_table_init(void);
/* Closes every descriptor (at the app's exit). */
void fd_table_release(void);

/*
 * RLIMIT_NOFILE: new descriptors are below the soft limit (cur), which the
 * app may lower and raise up to the hard one (max); max may go up to
 * FD_MAX again (the app is root). Descriptors already above a lowered
 * limit stay open. fd_set_limits returns 0, -EINVAL (cur > max) or -EPERM
 * (max > FD_MAX).
 */
void fd_get_limits(uint64_t *cur, uint64_t *max);
int fd_set_limits(uint64_t cur, uint64_t max);
/* The soft limit: descriptors are < this. */
int fd_limit(void);

/* The file of descriptor fd, or NULL (not open, or out of range). No
 * reference is taken: it stays valid until the syscall ends. */
struct file *fd_get(int fd);
/* Installs f in the lowest free slot >= min, taking a reference of its
 * own. Returns the descriptor, -EMFILE (none free below the soft limit)
 * or -EINVAL (min negative or not below the soft limit). */
int fd_install(int min, struct file *f, int cloexec);
/* Installs f (taking a reference) at exactly fd, closing what was there.
 * Returns fd, or -EBADF when fd is not below the soft limit. */
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
