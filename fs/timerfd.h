/*
 * timerfd - a timer as a file: a kernel timer (kernel/time.h) on
 * CLOCK_MONOTONIC, CLOCK_BOOTTIME or CLOCK_REALTIME, one-shot or periodic,
 * relative or absolute; read returns the expirations since the last read
 * as a uint64 and waits while there are none. Pollable.
 */
#pragma once

#include "kernel/syscall.h"

SYSCALL_DECLARE(timerfd_create);
SYSCALL_DECLARE(timerfd_settime);
SYSCALL_DECLARE(timerfd_gettime);
