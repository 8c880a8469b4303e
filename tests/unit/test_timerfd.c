/*
 * Host tests of fs/timerfd.c over the shim's fake clock: shim_advance()
 * moves the monotonic time and runs the kernel timers that expired, as the
 * timer interrupt would; CLOCK_REALTIME reads 1700000000 s plus the
 * monotonic time. The syscalls are called through their handlers with
 * host pointers as user pointers (an address below 4096 is a bad one);
 * reads and polls go through the generic file operations. Each test ends
 * by closing every descriptor and checking that the heap is empty and no
 * timer is left armed.
 */
#include <criterion/criterion.h>
#include <stdint.h>

/* glibc's (through Criterion); kernel/abi/poll.h defines Linux's, the same 1024. */
#undef FD_SETSIZE

#include "fs/eventfd.h"
#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/iobuf.h"
#include "fs/timerfd.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/time.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel_shim.h"
#include "mm_arena.h"

#define S		 NSEC_PER_SEC
#define MS		 NSEC_PER_MSEC
#define REALTIME_AT_BOOT (1700000000ull * S) /* the shim's wall clock at monotonic 0 */

TestSuite(timerfd, .init = shim_setup);

static struct k_timespec ts(uint64_t ns)
{
	return (struct k_timespec){(int64_t)(ns / S), (int64_t)(ns % S)};
}

static struct k_itimerspec its(uint64_t value_ns, uint64_t interval_ns)
{
	return (struct k_itimerspec){.interval = ts(interval_ns), .value = ts(value_ns)};
}

static uint64_t ns(struct k_timespec t)
{
	return (uint64_t)t.sec * S + (uint64_t)t.nsec;
}

static int tfd_new(int clock)
{
	int fd = (int)CALL(timerfd_create, clock, 0);

	cr_assert_geq(fd, 0);
	return fd;
}

static long settime(int fd, int flags, uint64_t value_ns, uint64_t interval_ns)
{
	struct k_itimerspec n = its(value_ns, interval_ns);

	return CALL(timerfd_settime, fd, flags, U(&n), 0);
}

static struct k_itimerspec gettime(int fd)
{
	struct k_itimerspec cur = its(12345, 12345);

	cr_assert_eq(CALL(timerfd_gettime, fd, U(&cur)), 0);
	return cur;
}

/* The expiration count a read returns, or the read's error (negative). */
static int64_t tfd_read(int fd)
{
	uint64_t v = 0;
	struct iobuf b;
	uint64_t pos = 0;
	long r;

	iobuf_user(&b, U(&v), sizeof(v));
	r = file_read(fd_get(fd), &b, &pos);
	if (r < 0)
		return r;
	cr_assert_eq(r, 8);
	return (int64_t)v;
}

Test(timerfd, create_accepts_the_timer_clocks_and_refuses_others)
{
	static const int good[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
				   CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM};
	static const int bad[] = {CLOCK_PROCESS_CPUTIME_ID,
				  CLOCK_THREAD_CPUTIME_ID,
				  CLOCK_MONOTONIC_RAW,
				  CLOCK_REALTIME_COARSE,
				  -1,
				  10,
				  1000};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_geq(CALL(timerfd_create, good[i], 0), 0, "clock %d", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(CALL(timerfd_create, bad[i], 0), -EINVAL, "clock %d", bad[i]);
	cr_assert_eq(CALL(timerfd_create, CLOCK_MONOTONIC, TFD_TIMER_ABSTIME), -EINVAL);
	cr_assert_eq(CALL(timerfd_create, CLOCK_MONOTONIC, O_APPEND), -EINVAL);
	shim_close_all_and_check();
}

Test(timerfd, create_flags_give_nonblock_and_cloexec)
{
	int fd = (int)CALL(timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	cr_assert(fd_get(fd)->flags & O_NONBLOCK);
	cr_assert(fd_cloexec(fd));
	cr_assert_eq(fd_get(fd)->refs, 1);
	shim_close_all_and_check();
}

Test(timerfd, a_new_timer_is_disarmed_and_has_nothing_to_read)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	struct k_itimerspec cur = gettime(fd);

	cr_assert_eq(ns(cur.value), 0);
	cr_assert_eq(ns(cur.interval), 0);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	cr_assert_eq(file_poll(fd_get(fd), NULL), 0);
	cr_assert_not(time_timers_armed());
	shim_close_all_and_check();
}

Test(timerfd, a_one_shot_timer_expires_once)
{
	int fd = tfd_new(CLOCK_MONOTONIC);

	shim_advance(10 * S);
	cr_assert_eq(settime(fd, 0, 1 * S, 0), 0);
	cr_assert_eq(ns(gettime(fd).value), 1 * S);
	shim_advance(11 * S - 1);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	cr_assert_eq(ns(gettime(fd).value), 1);
	shim_advance(11 * S);
	cr_assert_eq(file_poll(fd_get(fd), NULL), POLLIN);
	cr_assert_eq(tfd_read(fd), 1);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	shim_advance(100 * S);
	cr_assert_eq(tfd_read(fd), -EAGAIN, "a one-shot timer fired twice");
	cr_assert_eq(ns(gettime(fd).value), 0);
	cr_assert_not(time_timers_armed());
	shim_close_all_and_check();
}

Test(timerfd, a_late_periodic_timer_counts_every_period_that_passed)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	struct k_itimerspec cur;

	cr_assert_eq(settime(fd, 0, 1 * S, 100 * MS), 0);
	shim_advance(1350 * MS); /* the first expiration and three periods after it */
	cr_assert_eq(tfd_read(fd), 4);
	cur = gettime(fd);
	cr_assert_eq(ns(cur.value), 50 * MS, "not re-armed on the period grid");
	cr_assert_eq(ns(cur.interval), 100 * MS);
	shim_advance(1400 * MS);
	cr_assert_eq(tfd_read(fd), 1);
	shim_advance(1500 * MS);
	shim_advance(1600 * MS);
	cr_assert_eq(tfd_read(fd), 2, "the counts of two expirations add up");
	shim_close_all_and_check();
}

Test(timerfd, an_absolute_time_on_the_realtime_clock_converts_to_its_deadline)
{
	int fd = tfd_new(CLOCK_REALTIME);

	shim_advance(1 * S);
	cr_assert_eq(settime(fd, TFD_TIMER_ABSTIME, REALTIME_AT_BOOT + 5 * S, 0), 0);
	cr_assert_eq(ns(gettime(fd).value), 4 * S);
	shim_advance(5 * S - 1);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	shim_advance(5 * S);
	cr_assert_eq(tfd_read(fd), 1);
	shim_close_all_and_check();
}

Test(timerfd, the_alarm_clocks_are_their_base_clocks)
{
	int fd = tfd_new(CLOCK_REALTIME_ALARM);

	cr_assert_eq(settime(fd, TFD_TIMER_ABSTIME, REALTIME_AT_BOOT + 2 * S, 0), 0);
	cr_assert_eq(ns(gettime(fd).value), 2 * S);
	fd = tfd_new(CLOCK_BOOTTIME_ALARM);
	cr_assert_eq(settime(fd, TFD_TIMER_ABSTIME, 3 * S, 0), 0);
	cr_assert_eq(ns(gettime(fd).value), 3 * S);
	shim_close_all_and_check();
}

Test(timerfd, an_absolute_time_that_passed_expires_at_once_with_its_periods)
{
	int fd = tfd_new(CLOCK_MONOTONIC);

	shim_advance(3500 * MS);
	cr_assert_eq(settime(fd, TFD_TIMER_ABSTIME, 1 * S, 1 * S), 0);
	cr_assert_eq(file_poll(fd_get(fd), NULL), POLLIN);
	cr_assert_eq(tfd_read(fd), 3); /* at 1 s, 2 s and 3 s */
	cr_assert_eq(ns(gettime(fd).value), 500 * MS);
	shim_advance(4 * S);
	cr_assert_eq(tfd_read(fd), 1);

	cr_assert_eq(settime(fd, TFD_TIMER_ABSTIME, 1 * S, 0), 0);
	cr_assert_eq(tfd_read(fd), 1, "a one-shot time in the past expires once");
	cr_assert_eq(ns(gettime(fd).value), 0);
	shim_close_all_and_check();
}

Test(timerfd, settime_reports_the_old_setting_as_gettime_would)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	struct k_itimerspec n = its(0, 0), old = its(1, 1);

	cr_assert_eq(settime(fd, 0, 10 * S, 2 * S), 0);
	shim_advance(3 * S);
	cr_assert_eq(CALL(timerfd_settime, fd, 0, U(&n), U(&old)), 0);
	cr_assert_eq(ns(old.value), 7 * S);
	cr_assert_eq(ns(old.interval), 2 * S);
	cr_assert_eq(ns(gettime(fd).value), 0);
	cr_assert_eq(ns(gettime(fd).interval), 0);
	shim_close_all_and_check();
}

Test(timerfd, a_zero_value_disarms_and_keeps_the_interval)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	struct k_itimerspec cur;

	cr_assert_eq(settime(fd, 0, 1 * S, 1 * S), 0);
	cr_assert_eq(settime(fd, 0, 0, 3 * S), 0);
	cr_assert_not(time_timers_armed());
	shim_advance(100 * S);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	cur = gettime(fd);
	cr_assert_eq(ns(cur.value), 0);
	cr_assert_eq(ns(cur.interval), 3 * S, "Linux reports the interval of a disarmed timer");
	shim_close_all_and_check();
}

Test(timerfd, settime_restarts_the_count)
{
	int fd = tfd_new(CLOCK_MONOTONIC);

	settime(fd, 0, 1 * S, 0);
	shim_advance(1 * S);
	cr_assert_eq(file_poll(fd_get(fd), NULL), POLLIN);
	settime(fd, 0, 1 * S, 0);
	cr_assert_eq(file_poll(fd_get(fd), NULL), 0);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	shim_close_all_and_check();
}

Test(timerfd, reads_need_eight_bytes_and_a_good_buffer)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	uint64_t v = 0;
	struct iobuf b;
	uint64_t pos = 0;

	settime(fd, 0, 1, 0);
	shim_advance(1);
	iobuf_user(&b, U(&v), 7);
	cr_assert_eq(file_read(fd_get(fd), &b, &pos), -EINVAL);
	iobuf_user(&b, 16, 8);
	cr_assert_eq(file_read(fd_get(fd), &b, &pos), -EFAULT);
	cr_assert_eq(tfd_read(fd), 1, "a failed read lost the count");
	iobuf_user(&b, U(&v), 8);
	cr_assert_eq(file_write(fd_get(fd), &b, &pos), -EINVAL);
	shim_close_all_and_check();
}

Test(timerfd, an_expiration_wakes_the_queue_poll_names)
{
	int fd = tfd_new(CLOCK_MONOTONIC);

	cr_assert_eq(file_poll(fd_get(fd), thread_poll_table()), 0);
	cr_assert_eq(shim_queued(), 1);
	settime(fd, 0, 5 * MS, 5 * MS);
	cr_assert_eq(shim_wakes, 0);
	shim_advance(5 * MS);
	cr_assert_eq(shim_wakes, 1);
	shim_advance(10 * MS);
	cr_assert_eq(shim_wakes, 2);
	shim_close_all_and_check();
}

Test(timerfd, settime_refuses_bad_flags_values_and_descriptors)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	int efd = (int)CALL(eventfd2, 0, 0);
	struct k_itimerspec n = its(1 * S, 0), old;

	cr_assert_eq(CALL(timerfd_settime, fd, 4, U(&n), 0), -EINVAL);
	cr_assert_eq(CALL(timerfd_settime, fd, TFD_TIMER_CANCEL_ON_SET, U(&n), 0), 0);
	n.value.nsec = (int64_t)S;
	cr_assert_eq(CALL(timerfd_settime, fd, 0, U(&n), 0), -EINVAL);
	n.value.nsec = -1;
	cr_assert_eq(CALL(timerfd_settime, fd, 0, U(&n), 0), -EINVAL);
	n = its(1 * S, 0);
	n.interval.sec = -1;
	cr_assert_eq(CALL(timerfd_settime, fd, 0, U(&n), 0), -EINVAL);
	n = its(1 * S, 0);
	cr_assert_eq(CALL(timerfd_settime, 99, 0, U(&n), 0), -EBADF);
	cr_assert_eq(CALL(timerfd_settime, -1, 0, U(&n), 0), -EBADF);
	cr_assert_eq(CALL(timerfd_settime, efd, 0, U(&n), 0), -EINVAL);
	cr_assert_eq(CALL(timerfd_settime, fd, 0, 16, 0), -EFAULT);
	cr_assert_eq(CALL(timerfd_gettime, 99, U(&old)), -EBADF);
	cr_assert_eq(CALL(timerfd_gettime, efd, U(&old)), -EINVAL);
	cr_assert_eq(CALL(timerfd_gettime, fd, 16), -EFAULT);
	shim_close_all_and_check();
}

Test(timerfd, a_bad_old_pointer_is_efault_and_changes_nothing)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	struct k_itimerspec n = its(0, 0);

	settime(fd, 0, 2 * S, 0);
	cr_assert_eq(CALL(timerfd_settime, fd, 0, U(&n), 16), -EFAULT);
	cr_assert_eq(ns(gettime(fd).value), 2 * S);
	shim_close_all_and_check();
}

Test(timerfd, huge_values_saturate_instead_of_wrapping)
{
	int fd = tfd_new(CLOCK_MONOTONIC);
	struct k_itimerspec n = {.value = {INT64_MAX, 999999999}, .interval = {INT64_MAX, 0}};

	shim_advance(1 * S);
	cr_assert_eq(CALL(timerfd_settime, fd, 0, U(&n), 0), 0);
	cr_assert_eq(ns(gettime(fd).value), UINT64_MAX - 1 * S);
	shim_advance(1000 * S);
	cr_assert_eq(tfd_read(fd), -EAGAIN);
	shim_close_all_and_check();
}

Test(timerfd, closing_cancels_the_timer)
{
	int fd = tfd_new(CLOCK_MONOTONIC);

	settime(fd, 0, 1 * S, 1 * S);
	cr_assert(time_timers_armed());
	cr_assert_eq(fd_close(fd), 0);
	cr_assert_not(time_timers_armed());
	shim_advance(10 * S); /* nothing may run on the freed timer */
	shim_close_all_and_check();
}
