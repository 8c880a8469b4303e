/*
 * fd - the app's file descriptors and the file syscalls over them.
 *
 * One table of FD_MAX slots for the one app. A slot points at an open file
 * (refcounted: dup'd descriptors share the offset and status flags, as on
 * Linux) plus its own close-on-exec bit. Files are pipes, the console (fds 0, 1,
 * 2 at start: reads come from the serial port through a small line
 * discipline, writes go to console_write), or regular files and
 * directories of the root file system (kernel/tarfs.h), which is
 * read-only: anything that would write to it is -EROFS.
 *
 * The handlers below are the dispatcher's table entries (kernel/syscall.c);
 * each takes the six raw argument registers.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FD_MAX 256 /* RLIMIT_NOFILE */

/* Mounts the rootfs.tar image (which must stay in memory) as "/". A bad
 * archive is reported on the console and replaced by an empty root, so the
 * app still starts. tar may be NULL (no --file given). Call once, before
 * fd_table_init. */
void fd_mount_rootfs(const void *tar, size_t size);
/* Opens 0, 1 and 2 on the console and sets the cwd to "/". Returns 0. */
int fd_table_init(void);
/* Closes every descriptor (returns the kmalloc'd files). */
void fd_table_release(void);

/*
 * fd_mmap_source - what a file mapping of descriptor fd is filled from: the
 * file's bytes in the rootfs archive (*data, *size), which stay in memory
 * and unchanged for the whole run. *writable says whether fd is open for
 * writing (never, on the read-only rootfs). Returns 0, -EBADF (not open,
 * or O_PATH), -ENODEV (the console, a pipe or a directory: not mappable)
 * or -EACCES (not open for reading).
 */
int fd_mmap_source(uint64_t fd, const void **data, uint64_t *size, int *writable);

#define FD_SYSCALL(name)                                                                           \
	long sys_##name(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,           \
			uint64_t a5)

FD_SYSCALL(read);
FD_SYSCALL(write);
FD_SYSCALL(readv);
FD_SYSCALL(writev);
FD_SYSCALL(pread64);
FD_SYSCALL(open);
FD_SYSCALL(openat);
FD_SYSCALL(close);
FD_SYSCALL(lseek);
FD_SYSCALL(fstat);
FD_SYSCALL(stat);
FD_SYSCALL(lstat);
FD_SYSCALL(newfstatat);
FD_SYSCALL(statx);
FD_SYSCALL(access);
FD_SYSCALL(faccessat);
FD_SYSCALL(faccessat2);
FD_SYSCALL(getdents64);
FD_SYSCALL(getcwd);
FD_SYSCALL(chdir);
FD_SYSCALL(fchdir);
FD_SYSCALL(fcntl);
FD_SYSCALL(dup);
FD_SYSCALL(dup2);
FD_SYSCALL(dup3);
FD_SYSCALL(ioctl);
FD_SYSCALL(readlink);
FD_SYSCALL(readlinkat);
FD_SYSCALL(pipe);
FD_SYSCALL(pipe2);
FD_SYSCALL(rofs_path);	 /* mkdir, unlink, rename, ...: -EROFS (or the lookup's error) */
FD_SYSCALL(rofs_pathat); /* the *at flavours: dirfd, path */
FD_SYSCALL(fsync);	 /* fsync, fdatasync */
FD_SYSCALL(ftruncate);
FD_SYSCALL(fchange);	   /* fchmod, fchown */
FD_SYSCALL(change_path);   /* chmod-like calls on an existing path: -EROFS */
FD_SYSCALL(change_pathat); /* their *at flavours (utimensat with a NULL path: the fd) */
FD_SYSCALL(fd_advice);	   /* flock, fadvise64, readahead */
FD_SYSCALL(pwrite64);
FD_SYSCALL(statfs);
FD_SYSCALL(fstatfs);
FD_SYSCALL(sendfile);
FD_SYSCALL(poll);
FD_SYSCALL(ppoll);
FD_SYSCALL(select);
FD_SYSCALL(pselect6);
