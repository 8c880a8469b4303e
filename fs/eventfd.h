/*
 * eventfd - a 64-bit counter as a file (eventfd2): write adds, read takes
 * the whole count (or 1 with EFD_SEMAPHORE) and waits while it is 0; a
 * write that would pass 2^64 - 2 waits for a read. Pollable.
 */
#pragma once

#include "kernel/syscall.h"

SYSCALL_DECLARE(eventfd);
SYSCALL_DECLARE(eventfd2);
