/*
 * fcntl - the calls on a descriptor's state: fcntl, ioctl (the requests
 * every file takes, then the file kind's own) and flock.
 *
 * Locks: flock() locks belong to the open file description, as on Linux,
 * so two opens of one file conflict even in one process (LOCK_NB gives
 * EWOULDBLOCK, a blocking request waits for the unlock); the last close
 * of a description drops its lock. POSIX record locks (F_SETLK ...) are
 * per process: with one process they never conflict and every request is
 * granted at once (F_GETLK answers F_UNLCK), which is what sqlite needs;
 * the open-file-description ones (F_OFD_*) are treated the same (their
 * ranges are not tracked).
 */
#pragma once

#include "fs/file.h"
#include "kernel/syscall.h"

/* The last reference of f is going: drop its flock() lock (file_put). */
void flock_file_closed(struct file *f);

SYSCALL_DECLARE(fcntl);
SYSCALL_DECLARE(ioctl);
SYSCALL_DECLARE(flock);
