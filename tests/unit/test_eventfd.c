/*
 * Host tests of fs/eventfd.c: the counter and semaphore semantics, the
 * limits, the poll bits and the wakes, through the syscall handlers and
 * the generic file operations (file_read, file_write, file_poll), as the
 * kernel's read/write path calls them, also on the kernel lock's shared
 * side (writers and a reader on host threads). User pointers are host pointers
 * (the shim); an address below 4096 is a bad one. Each test ends by
 * closing every descriptor and checking that the heap is empty again.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

/* glibc's (through Criterion); kernel/abi/poll.h defines Linux's, the same 1024. */
#undef FD_SETSIZE

#include "fs/eventfd.h"
#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel_shim.h"
#include "mm_arena.h"

#define MAXCOUNT 0xfffffffffffffffeull

TestSuite(eventfd, .init = shim_setup);

static long efd_read_n(int fd, uint64_t *value, size_t n)
{
	struct iobuf b;
	uint64_t pos = 0;

	iobuf_user(&b, U(value), n);
	return file_read(fd_get(fd), &b, &pos);
}

static long efd_write_n(int fd, uint64_t value, size_t n)
{
	struct iobuf b;
	uint64_t pos = 0;

	iobuf_user(&b, U(&value), n);
	return file_write(fd_get(fd), &b, &pos);
}

static long efd_read(int fd, uint64_t *value)
{
	return efd_read_n(fd, value, sizeof(*value));
}

static long efd_write(int fd, uint64_t value)
{
	return efd_write_n(fd, value, sizeof(value));
}

static unsigned efd_poll(int fd)
{
	return file_poll(fd_get(fd), NULL);
}

Test(eventfd, a_new_counter_holds_the_initial_value)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd2, 3, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, 3);
	cr_assert_eq(efd_read(fd, &v), -EAGAIN);
	shim_close_all_and_check();
}

Test(eventfd, read_takes_the_whole_count_and_resets_it)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(efd_read(fd, &v), -EAGAIN);
	cr_assert_eq(efd_write(fd, 2), 8);
	cr_assert_eq(efd_write(fd, 5), 8);
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, 7);
	cr_assert_eq(efd_read(fd, &v), -EAGAIN);
	shim_close_all_and_check();
}

Test(eventfd, semaphore_mode_reads_one_at_a_time)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd2, 2, EFD_SEMAPHORE);

	cr_assert_eq(efd_write(fd, 1), 8);
	for (int i = 0; i < 3; i++) {
		v = 0;
		cr_assert_eq(efd_read(fd, &v), 8);
		cr_assert_eq(v, 1);
	}
	cr_assert_eq(efd_read(fd, &v), -EAGAIN);
	shim_close_all_and_check();
}

Test(eventfd, a_write_past_the_maximum_returns_eagain_until_a_read)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd2, 0, EFD_NONBLOCK);

	cr_assert_eq(efd_write(fd, MAXCOUNT - 1), 8);
	cr_assert_eq(efd_write(fd, 1), 8); /* exactly the maximum */
	cr_assert_eq(efd_write(fd, 1), -EAGAIN);
	cr_assert_eq(efd_write(fd, 0), 8); /* adding nothing always fits */
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, MAXCOUNT);
	cr_assert_eq(efd_write(fd, MAXCOUNT), 8);
	cr_assert_eq(efd_write(fd, 1), -EAGAIN);
	shim_close_all_and_check();
}

Test(eventfd, short_buffers_and_the_all_ones_value_are_einval)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd2, 1, 0);

	cr_assert_eq(efd_read_n(fd, &v, 7), -EINVAL);
	cr_assert_eq(efd_write_n(fd, 1, 7), -EINVAL);
	cr_assert_eq(efd_write(fd, UINT64_MAX), -EINVAL);
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, 1, "the failed calls changed the count");
	shim_close_all_and_check();
}

Test(eventfd, a_longer_buffer_moves_eight_bytes)
{
	uint64_t v[2] = {0, 42};
	int fd = (int)CALL(eventfd2, 9, 0);

	cr_assert_eq(efd_read_n(fd, v, sizeof(v)), 8);
	cr_assert_eq(v[0], 9);
	cr_assert_eq(v[1], 42);
	shim_close_all_and_check();
}

Test(eventfd, unknown_flags_are_einval)
{
	cr_assert_eq(CALL(eventfd2, 0, O_APPEND), -EINVAL);
	cr_assert_eq(CALL(eventfd2, 0, 0x80000000u), -EINVAL);
	shim_close_all_and_check();
}

Test(eventfd, flags_give_nonblock_and_cloexec)
{
	int a = (int)CALL(eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
	int b = (int)CALL(eventfd2, 0, 0);

	cr_assert(fd_get(a)->flags & O_NONBLOCK);
	cr_assert_eq(fd_get(a)->flags & O_ACCMODE, O_RDWR);
	cr_assert(fd_cloexec(a));
	cr_assert_not(fd_get(b)->flags & O_NONBLOCK);
	cr_assert_not(fd_cloexec(b));
	cr_assert_eq(fd_get(a)->refs, 1, "the descriptor holds the only reference");
	shim_close_all_and_check();
}

Test(eventfd, a_bad_buffer_is_efault_and_keeps_the_count)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd2, 4, 0);
	struct iobuf b;
	uint64_t pos = 0;

	cr_assert_eq(efd_read_n(fd, (uint64_t *)16, 8), -EFAULT);
	iobuf_user(&b, 16, 8);
	cr_assert_eq(file_write(fd_get(fd), &b, &pos), -EFAULT);
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, 4);
	shim_close_all_and_check();
}

Test(eventfd, poll_reports_in_while_counting_and_out_below_the_maximum)
{
	uint64_t v;
	int fd = (int)CALL(eventfd2, 0, 0);

	cr_assert_eq(efd_poll(fd), POLLOUT);
	efd_write(fd, 1);
	cr_assert_eq(efd_poll(fd), POLLIN | POLLOUT);
	efd_write(fd, MAXCOUNT - 1);
	cr_assert_eq(efd_poll(fd), POLLIN);
	efd_read(fd, &v);
	cr_assert_eq(efd_poll(fd), POLLOUT);
	shim_close_all_and_check();
}

Test(eventfd, writes_and_reads_wake_the_queue_poll_names)
{
	uint64_t v;
	int fd = (int)CALL(eventfd2, 0, 0);

	cr_assert_eq(file_poll(fd_get(fd), thread_poll_table()), POLLOUT);
	cr_assert_eq(shim_queued(), 1);
	cr_assert_eq(shim_wakes, 0);
	efd_write(fd, 3);
	cr_assert_eq(shim_wakes, 1);
	efd_read(fd, &v);
	cr_assert_eq(shim_wakes, 2);
	cr_assert_eq(efd_read(fd, &v), -EAGAIN);
	cr_assert_eq(shim_wakes, 2, "a read that took nothing woke the queue");
	shim_close_all_and_check();
}

Test(eventfd, closing_while_a_thread_waits_wakes_and_dequeues_it)
{
	int fd = (int)CALL(eventfd2, 0, 0);

	file_poll(fd_get(fd), thread_poll_table());
	cr_assert_eq(shim_queued(), 1);
	cr_assert_eq(fd_close(fd), 0);
	cr_assert_eq(shim_queued(), 0);
	cr_assert_eq(shim_wakes, 1);
	shim_close_all_and_check();
}

Test(eventfd, stat_reports_an_anonymous_file)
{
	struct kstat st;
	int a = (int)CALL(eventfd2, 0, 0), b = (int)CALL(eventfd2, 0, 0);

	cr_assert_eq(file_stat(fd_get(a), &st), 0);
	cr_assert_eq(st.mode, 0600);
	cr_assert_eq(st.ino, fd_get(a)->id);
	cr_assert_neq(fd_get(a)->id, fd_get(b)->id);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- the shared side */

/* In a shared syscall (shim_shared) reads and writes count and wake as
 * under the kernel lock; a bad buffer gives the attempt up (shim_needs_lock)
 * with the count kept, and so does a write past the maximum (its wait). */
Test(eventfd, shared_reads_and_writes_count_wake_and_keep_the_count_on_a_bad_buffer)
{
	uint64_t v = 0;
	int fd = (int)CALL(eventfd2, 0, 0);

	cr_assert_eq(file_poll(fd_get(fd), thread_poll_table()), POLLOUT);
	shim_shared = 1;
	cr_assert_eq(efd_write(fd, 5), 8);
	cr_assert_eq(shim_wakes, 1);
	cr_assert_eq(efd_read_n(fd, (uint64_t *)16, 8), -EFAULT);
	cr_assert_eq(shim_needs_lock, 1, "a bad buffer asks for the lock");
	shim_needs_lock = 0;
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, 5, "the count survived the failed copy");
	cr_assert_eq(shim_wakes, 2);
	cr_assert_eq(efd_read(fd, &v), -EAGAIN);
	cr_assert_eq(efd_write(fd, MAXCOUNT), 8);
	cr_assert_eq(efd_write(fd, 1), -EAGAIN);
	shim_shared = 0;
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(efd_read(fd, &v), 8);
	cr_assert_eq(v, MAXCOUNT);
	shim_close_all_and_check();
}

/* Shared writers on host threads ("CPUs") and a shared reader: every
 * count written is read exactly once. */
#define EFD_THREADS 3
#define EFD_WRITES  20000

static int efd_shared_fd;

static void *shared_adder(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;

	spin_host_cpu = me + 1;
	shim_shared = 1;
	for (int i = 0; i < EFD_WRITES; i++)
		if (efd_write(efd_shared_fd, me + 1) != 8 || shim_needs_lock)
			return (void *)1;
	return NULL;
}

Test(eventfd, shared_writers_and_a_reader_on_threads_count_everything_once)
{
	pthread_t t[EFD_THREADS];
	uint64_t want = 0, got = 0, v;

	efd_shared_fd = (int)CALL(eventfd2, 0, 0);
	for (unsigned i = 0; i < EFD_THREADS; i++) {
		want += (uint64_t)(i + 1) * EFD_WRITES;
		cr_assert_eq(pthread_create(&t[i], NULL, shared_adder, (void *)(uintptr_t)i), 0);
	}
	shim_shared = 1;
	while (got < want) {
		long n = efd_read(efd_shared_fd, &v);
		if (n == -EAGAIN) {
			sched_yield();
			continue;
		}
		cr_assert_eq(n, 8);
		got += v;
	}
	shim_shared = 0;
	for (unsigned i = 0; i < EFD_THREADS; i++) {
		void *ret;
		cr_assert_eq(pthread_join(t[i], &ret), 0);
		cr_assert_null(ret, "writer %u failed", i);
	}
	cr_assert_eq(got, want);
	cr_assert_eq(efd_read(efd_shared_fd, &v), -EAGAIN, "nothing counted twice");
	shim_close_all_and_check();
}
