/*
 * epoll - the epoll file kind and its syscalls, on the one wait queue:
 * each interest (an epitem: a watched file and its events) keeps a wait
 * entry on the watched file's queues (the file's poll operation names
 * them), whose wake puts the interest on the instance's ready list and
 * wakes the instance's own queue, where epoll_wait waits. epoll_wait looks
 * only at the ready list: level-triggered interests stay on it while they
 * are ready, edge-triggered ones leave it when reported and come back on
 * the next wake, EPOLLONESHOT ones are disarmed until EPOLL_CTL_MOD.
 * An epoll file is itself pollable (readable while something is ready),
 * so instances nest, to a bounded depth and without loops (ELOOP).
 *
 * epoll_ctl refuses files without a poll operation (regular files and
 * directories) with EPERM, as Linux does and as Go relies on. An interest
 * lives until EPOLL_CTL_DEL, or until the watched file's last reference
 * goes (closing every descriptor of it), as on Linux.
 */
#pragma once

#include "fs/file.h"
#include "kernel/syscall.h"

/* The last reference of f is going: remove f from every epoll instance
 * that watches it (file_put calls this). */
void epoll_file_closed(struct file *f);

SYSCALL_DECLARE(epoll_create);
SYSCALL_DECLARE(epoll_create1);
SYSCALL_DECLARE(epoll_ctl);
SYSCALL_DECLARE(epoll_wait);
SYSCALL_DECLARE(epoll_pwait);
SYSCALL_DECLARE(epoll_pwait2);
