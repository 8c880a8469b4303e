/*
 * read_write - the calls that move bytes through descriptors: read, write
 * and their vector and positioned forms, lseek, sendfile, getdents64, the
 * fsync family and the advice calls.
 *
 * This is where blocking happens for every file kind: an operation that
 * returns -EAGAIN on a descriptor without O_NONBLOCK makes the calling
 * thread wait on the queues the file's poll operation names (kernel/
 * thread.h), and the call runs again when one of them wakes. A read
 * returns as soon as it got something; a write to a pipe-like file goes on
 * until everything is written (it returns what it wrote so far when a
 * signal interrupts it, or the interrupted call's code when it wrote
 * nothing: EINTR, or a restart after a handler with SA_RESTART).
 */
#pragma once

#include "fs/file.h"
#include "fs/iobuf.h"
#include "kernel/syscall.h"

/* Reads (writing 0) or writes (1) f through b at *pos, waiting as the top
 * says. For the calls here and for fs/ kinds that read or write other
 * files (sendfile). */
long rw_blocking(struct file *f, struct iobuf *b, uint64_t *pos, int writing);

SYSCALL_DECLARE(read);
SYSCALL_DECLARE(write);
SYSCALL_DECLARE(readv);
SYSCALL_DECLARE(writev);
SYSCALL_DECLARE(pread64);
SYSCALL_DECLARE(pwrite64);
SYSCALL_DECLARE(preadv);
SYSCALL_DECLARE(pwritev);
SYSCALL_DECLARE(preadv2);
SYSCALL_DECLARE(pwritev2);
SYSCALL_DECLARE(lseek);
SYSCALL_DECLARE(sendfile);
SYSCALL_DECLARE(getdents64);
SYSCALL_DECLARE(fsync);
SYSCALL_DECLARE(fdatasync);
SYSCALL_DECLARE(sync);
SYSCALL_DECLARE(syncfs);
SYSCALL_DECLARE(fadvise64);
SYSCALL_DECLARE(readahead);
