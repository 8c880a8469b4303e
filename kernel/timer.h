/*
 * timer - the clock and timer calls: reading the clocks (kernel/time.h),
 * sleeping, and the timers that send signals: alarm and ITIMER_REAL
 * (SIGALRM to the process), and POSIX timers (timer_create) with
 * SIGEV_SIGNAL (to the process), SIGEV_THREAD_ID (to one thread) or
 * SIGEV_NONE. Sleeps wait on the thread wait API: other threads run
 * meanwhile, the CPU halts when none can, and a signal ends a sleep early
 * with EINTR and the time left. ITIMER_VIRTUAL and ITIMER_PROF (CPU-time
 * itimers) are not there (EINVAL).
 */
#pragma once

#include "kernel/syscall.h"

/* Disarms every timer (at the app's exit). */
void timer_release_all(void);

SYSCALL_DECLARE(clock_gettime);
SYSCALL_DECLARE(clock_getres);
SYSCALL_DECLARE(gettimeofday);
SYSCALL_DECLARE(time);
SYSCALL_DECLARE(nanosleep);
SYSCALL_DECLARE(clock_nanosleep);
SYSCALL_DECLARE(alarm);
SYSCALL_DECLARE(setitimer);
SYSCALL_DECLARE(getitimer);
SYSCALL_DECLARE(timer_create);
SYSCALL_DECLARE(timer_settime);
SYSCALL_DECLARE(timer_gettime);
SYSCALL_DECLARE(timer_getoverrun);
SYSCALL_DECLARE(timer_delete);
