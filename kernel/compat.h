/*
 * compat - calls that C libraries and runtimes make on the way to main and
 * in ordinary work, answered the way a Linux kernel built without the
 * feature, or with one CPU, answers them:
 *   rseq: -ENOSYS, as Linux without CONFIG_RSEQ; glibc then leaves
 *         __rseq_size 0 and carries on (sched_getcpu uses getcpu).
 *   membarrier: one CPU runs the app, and every switch between its threads
 *         is a full barrier, so each command is complete when it returns;
 *         MEMBARRIER_CMD_QUERY lists those accepted. Never blocks.
 */
#pragma once

#include "kernel/syscall.h"

SYSCALL_DECLARE(rseq);
SYSCALL_DECLARE(membarrier);
