/*
 * futex - FUTEX_WAIT, FUTEX_WAKE, their _BITSET forms, FUTEX_REQUEUE and
 * FUTEX_CMP_REQUEUE, private or not (one process: the same), on the
 * thread wait API. A waiter sleeps until a wake on its word (and a common
 * bit of the bitsets), its deadline or a signal; a wake makes its call
 * return 0 whatever the word holds then. Waiters are woken oldest first.
 */
#pragma once

#include <stdint.h>

#include "kernel/syscall.h"

/* Wakes up to n waiters on uaddr whose bitset meets bitset; returns how
 * many. Kernel use: a thread's exit wakes its clear_child_tid word. */
long futex_wake(uint64_t uaddr, uint32_t bitset, long n);

struct thread;
/* When t waits in a futex wait that a wake ended (its retry would return
 * 0), frees its waiter record and returns 1; else changes nothing and
 * returns 0. Under the kernel lock or thread_shared_lock. */
int futex_end_woken_wait(struct thread *t);
/* When t waits in a futex wait whose deadline passed, not woken, with no
 * signal pending (its retry would return -ETIMEDOUT), frees its waiter
 * record and returns 1; else changes nothing and returns 0. Under the
 * kernel lock or thread_shared_lock. */
int futex_end_timed_out_wait(struct thread *t);

SYSCALL_DECLARE(futex);
