/*
 * pipe - a byte ring between a read end and a write end, 64 KiB as on
 * Linux. Reads take what is there (end of file once no write end is
 * open); writes of at most PIPE_BUF (4 KiB) bytes go in whole or not at
 * all, larger ones piecewise. With no read end open, a write is EPIPE and
 * SIGPIPE for the writing thread. Both ends share one wait queue, woken
 * whenever bytes or room appear or an end closes. Operations never block
 * (fs/read_write.c waits); reads and writes that need not wait also run
 * on the kernel lock's shared side, beside other CPUs'; host-tested.
 */
#pragma once

#include "fs/file.h"
#include "kernel/syscall.h"

#define PIPE_BUFFER 65536
#define PIPE_BUF    4096 /* writes up to this size are atomic */

/* A new pipe: its read end *rd and write end *wr, each with one reference,
 * flags O_NONBLOCK or 0. Returns 0 or -ENOMEM. */
int pipe_create(unsigned flags, struct file **rd, struct file **wr);
/* F_GETPIPE_SZ: the buffer size of the pipe f is an end of, or -EINVAL
 * when f is no pipe. */
long pipe_buffer_size(const struct file *f);

SYSCALL_DECLARE(pipe);
SYSCALL_DECLARE(pipe2);
