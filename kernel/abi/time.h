/*
 * Linux's clocks, time structures and timer flags (linux/time.h,
 * linux/timerfd.h) for x86-64.
 */
#pragma once

#include <stdint.h>

#define CLOCK_REALTIME		 0
#define CLOCK_MONOTONIC		 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID	 3
#define CLOCK_MONOTONIC_RAW	 4
#define CLOCK_REALTIME_COARSE	 5
#define CLOCK_MONOTONIC_COARSE	 6
#define CLOCK_BOOTTIME		 7
#define CLOCK_REALTIME_ALARM	 8
#define CLOCK_BOOTTIME_ALARM	 9

#define TIMER_ABSTIME 1

#define ITIMER_REAL    0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF    2

#define TFD_TIMER_ABSTIME	1
#define TFD_TIMER_CANCEL_ON_SET 2
#define TFD_CLOEXEC		02000000 /* O_CLOEXEC */
#define TFD_NONBLOCK		04000	 /* O_NONBLOCK */

#define NSEC_PER_SEC  1000000000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_USEC 1000ull

struct k_timespec {
	int64_t sec, nsec;
};
_Static_assert(sizeof(struct k_timespec) == 16, "struct timespec is 16 bytes");

struct k_timeval {
	int64_t sec, usec;
};
_Static_assert(sizeof(struct k_timeval) == 16, "struct timeval is 16 bytes");

struct k_itimerspec {
	struct k_timespec interval, value;
};
_Static_assert(sizeof(struct k_itimerspec) == 32, "struct itimerspec is 32 bytes");

struct k_itimerval {
	struct k_timeval interval, value;
};
_Static_assert(sizeof(struct k_itimerval) == 32, "struct itimerval is 32 bytes");
