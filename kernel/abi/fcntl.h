/*
 * Linux's open flags, *at() flags, fcntl commands and file locks
 * (asm-generic/fcntl.h, linux/fcntl.h), as x86-64 apps pass them.
 */
#pragma once

#include <stdint.h>

#define O_ACCMODE   03
#define O_RDONLY    00
#define O_WRONLY    01
#define O_RDWR	    02
#define O_CREAT	    0100
#define O_EXCL	    0200
#define O_NOCTTY    0400
#define O_TRUNC	    01000
#define O_APPEND    02000
#define O_NONBLOCK  04000
#define O_DSYNC	    010000
#define O_ASYNC	    020000
#define O_DIRECT    040000
#define O_LARGEFILE 0100000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW  0400000
#define O_NOATIME   01000000
#define O_CLOEXEC   02000000
#define O_SYNC	    04010000
#define O_PATH	    010000000
#define O_TMPFILE   (020000000 | O_DIRECTORY)

#define AT_FDCWD	    (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR	    0x200
#define AT_EACCESS	    0x200
#define AT_SYMLINK_FOLLOW   0x400
#define AT_NO_AUTOMOUNT	    0x800
#define AT_EMPTY_PATH	    0x1000
#define AT_STATX_SYNC_TYPE  0x6000

#define F_DUPFD		0
#define F_GETFD		1
#define F_SETFD		2
#define F_GETFL		3
#define F_SETFL		4
#define F_GETLK		5
#define F_SETLK		6
#define F_SETLKW	7
#define F_SETOWN	8
#define F_GETOWN	9
#define F_SETSIG	10
#define F_GETSIG	11
#define F_OFD_GETLK	36
#define F_OFD_SETLK	37
#define F_OFD_SETLKW	38
#define F_DUPFD_CLOEXEC 1030
#define F_GETPIPE_SZ	1032
#define F_ADD_SEALS	1033
#define F_GET_SEALS	1034
#define FD_CLOEXEC	1

#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2

#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8

#define SEEK_SET  0
#define SEEK_CUR  1
#define SEEK_END  2
#define SEEK_DATA 3
#define SEEK_HOLE 4

#define R_OK 4
#define W_OK 2
#define X_OK 1

#define RENAME_NOREPLACE 1u
#define RENAME_EXCHANGE	 2u
#define RENAME_WHITEOUT	 4u

#define FALLOC_FL_KEEP_SIZE 1

#define UTIME_NOW  ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

#define IOV_MAX	 1024
#define PATH_MAX 4096
#define NAME_MAX 255

struct linux_flock {
	int16_t l_type, l_whence;
	int64_t l_start, l_len;
	int32_t l_pid, pad;
};
_Static_assert(sizeof(struct linux_flock) == 32, "struct flock is 32 bytes");

struct linux_iovec {
	uint64_t base, len;
};
_Static_assert(sizeof(struct linux_iovec) == 16, "struct iovec is 16 bytes");
