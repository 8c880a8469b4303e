/*
 * namei - the path calls: turning the app's path arguments into inodes
 * (copying the path, the *at directory argument, AT_EMPTY_PATH) and the
 * calls that look up, make, change and remove names: open and creat,
 * stat and access, readlink, mkdir, rmdir, unlink, link, symlink, rename,
 * chmod, chown, utimes, truncate, statfs, chdir and getcwd.
 *
 * The app runs as root: modes and owners are kept and reported, and
 * nothing is refused for them but executing a file without an x bit.
 */
#pragma once

#include <stdint.h>

#include "fs/vfs.h"
#include "kernel/syscall.h"

/* Copies the user path at upath into this_cpu()->path: 0, -EFAULT or
 * -ENAMETOOLONG. An empty path is -ENOENT unless allow_empty. */
int namei_copy_path(uint64_t upath, int allow_empty);
/* The inode a *at call names by dirfd and the copied path: NULL for the
 * working directory or an absolute path; a directory's inode; with
 * AT_EMPTY_PATH semantics (empty path) the fd's own inode. -EBADF, -ENOTDIR. */
int namei_start(int dirfd, const char *path, struct inode **start);

SYSCALL_DECLARE(open);
SYSCALL_DECLARE(openat);
SYSCALL_DECLARE(creat);
SYSCALL_DECLARE(stat);
SYSCALL_DECLARE(lstat);
SYSCALL_DECLARE(fstat);
SYSCALL_DECLARE(newfstatat);
SYSCALL_DECLARE(statx);
SYSCALL_DECLARE(access);
SYSCALL_DECLARE(faccessat);
SYSCALL_DECLARE(faccessat2);
SYSCALL_DECLARE(readlink);
SYSCALL_DECLARE(readlinkat);
SYSCALL_DECLARE(mkdir);
SYSCALL_DECLARE(mkdirat);
SYSCALL_DECLARE(mknod);
SYSCALL_DECLARE(mknodat);
SYSCALL_DECLARE(rmdir);
SYSCALL_DECLARE(unlink);
SYSCALL_DECLARE(unlinkat);
SYSCALL_DECLARE(link);
SYSCALL_DECLARE(linkat);
SYSCALL_DECLARE(symlink);
SYSCALL_DECLARE(symlinkat);
SYSCALL_DECLARE(rename);
SYSCALL_DECLARE(renameat);
SYSCALL_DECLARE(renameat2);
SYSCALL_DECLARE(chmod);
SYSCALL_DECLARE(fchmod);
SYSCALL_DECLARE(fchmodat);
SYSCALL_DECLARE(chown);
SYSCALL_DECLARE(lchown);
SYSCALL_DECLARE(fchown);
SYSCALL_DECLARE(fchownat);
SYSCALL_DECLARE(utime);
SYSCALL_DECLARE(utimes);
SYSCALL_DECLARE(futimesat);
SYSCALL_DECLARE(utimensat);
SYSCALL_DECLARE(truncate);
SYSCALL_DECLARE(ftruncate);
SYSCALL_DECLARE(fallocate);
SYSCALL_DECLARE(statfs);
SYSCALL_DECLARE(fstatfs);
SYSCALL_DECLARE(chdir);
SYSCALL_DECLARE(fchdir);
SYSCALL_DECLARE(getcwd);
