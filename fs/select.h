/*
 * select - poll, ppoll, select and pselect6 over any descriptors, on the
 * files' poll operations: every file is asked for its events and, when
 * none is ready and the timeout allows, the calling thread waits on all
 * their queues at once until one wakes, the timeout passes (0 ready) or a
 * signal arrives (EINTR: these calls are never restarted, as on Linux).
 * ppoll and pselect6 wait with the signal mask they are given.
 */
#pragma once

#include "kernel/syscall.h"

SYSCALL_DECLARE(poll);
SYSCALL_DECLARE(ppoll);
SYSCALL_DECLARE(select);
SYSCALL_DECLARE(pselect6);
