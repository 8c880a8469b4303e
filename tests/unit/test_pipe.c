/*
 * Host tests of fs/pipe.c through the file operations (file_read,
 * file_write, file_poll, the ioctl and stat operations) and the pipe2 and
 * pipe handlers: end of file and -EAGAIN, the 64 KiB ring and its
 * wraparound, PIPE_BUF atomicity, EPIPE with SIGPIPE, the wakes of the
 * shared queue, FIONREAD, fstat, F_GETPIPE_SZ, a randomized run against
 * a byte-queue model, and calls on the kernel lock's shared side (what
 * they leave to the lock; writers and a reader on host threads). User pointers are host pointers
 * (the shim: an address below 4096 is a bad one). Each test ends by closing everything and checking
 * that the heap is empty.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/iobuf.h"
#include "fs/pipe.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "kernel_shim.h"
#include "mm/kmalloc.h"
#include "mm_arena.h"

#define BAD_ADDRESS 16 /* below 4096: -EFAULT in the shim */

TestSuite(pipe, .init = shim_setup);

static long wr(struct file *f, const void *p, size_t n)
{
	struct iobuf b;
	uint64_t pos = 0;

	iobuf_user(&b, U(p), n);
	return file_write(f, &b, &pos);
}

static long rd(struct file *f, void *p, size_t n)
{
	struct iobuf b;
	uint64_t pos = 0;

	iobuf_user(&b, U(p), n);
	return file_read(f, &b, &pos);
}

static void make(unsigned flags, struct file **r, struct file **w)
{
	cr_assert_eq(pipe_create(flags, r, w), 0);
	cr_assert_not_null(*r);
	cr_assert_not_null(*w);
}

static int32_t fionread(struct file *f)
{
	int32_t n = -1;

	cr_assert_eq(f->ops->ioctl(f, FIONREAD, U(&n)), 0);
	return n;
}

/* A pattern byte for stream position i: no period a ring size divides, so
 * a byte from the wrong place in the ring shows. */
static char pat(uint64_t i)
{
	return (char)((i * 0x9e3779b97f4a7c15ull) >> 56);
}

static void fill(char *p, size_t n, uint64_t at)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(at + i);
}

static void check(const char *p, size_t n, uint64_t at)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(at + i))
			cr_assert_fail("byte %lu of the stream is wrong", (unsigned long)(at + i));
}

/* ---------------------------------------------------------------- a waiter of our own */

static struct wait_entry waiter;
static int waiter_wakes;
static unsigned waiter_events;

static void count_wake(struct wait_entry *e, unsigned events)
{
	(void)e;
	waiter_wakes++;
	waiter_events = events;
}

static void queue_waiter(struct poll_table *pt, struct waitq *wq)
{
	(void)pt;
	waitq_add(wq, &waiter);
}

static struct poll_table waiter_table = {queue_waiter};

/* Puts our entry on the pipe's queue through f's poll. */
static void watch(struct file *f)
{
	wait_entry_init(&waiter, count_wake, NULL);
	waiter_wakes = 0;
	waiter_events = 0;
	file_poll(f, &waiter_table);
	cr_assert_not_null(waiter.wq, "poll did not name the pipe's queue");
}

/* ---------------------------------------------------------------- reading and writing */

Test(pipe, bytes_written_are_read_back_in_order)
{
	struct file *r, *w;
	char out[100];

	make(0, &r, &w);
	cr_assert_eq(wr(w, "hello ", 6), 6);
	cr_assert_eq(wr(w, "world", 5), 5);
	cr_assert_eq(rd(r, out, 3), 3);
	cr_assert_arr_eq(out, "hel", 3);
	cr_assert_eq(rd(r, out, sizeof(out)), 8, "a read takes what is there");
	cr_assert_arr_eq(out, "lo world", 8);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, an_empty_pipe_with_a_writer_is_eagain)
{
	struct file *r, *w;
	char c;

	make(0, &r, &w);
	cr_assert_eq(rd(r, &c, 1), -EAGAIN);
	cr_assert_eq(wr(w, "x", 1), 1);
	cr_assert_eq(rd(r, &c, 1), 1);
	cr_assert_eq(rd(r, &c, 1), -EAGAIN);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, closing_the_write_end_gives_the_rest_then_end_of_file)
{
	struct file *r, *w;
	char out[8];

	make(0, &r, &w);
	cr_assert_eq(wr(w, "abc", 3), 3);
	file_put(w);
	cr_assert_eq(rd(r, out, sizeof(out)), 3);
	cr_assert_arr_eq(out, "abc", 3);
	cr_assert_eq(rd(r, out, sizeof(out)), 0);
	cr_assert_eq(rd(r, out, sizeof(out)), 0, "end of file stays");
	file_put(r);
	shim_close_all_and_check();
}

Test(pipe, zero_length_reads_and_writes_move_nothing)
{
	struct file *r, *w;
	char c = 0;

	make(0, &r, &w);
	cr_assert_eq(rd(r, &c, 0), 0);
	cr_assert_eq(wr(w, "x", 0), 0);
	cr_assert_eq(fionread(r), 0);
	cr_assert_eq(rd(r, &c, 1), -EAGAIN);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, the_ends_are_one_way)
{
	struct file *r, *w;
	char c;

	make(0, &r, &w);
	cr_assert_eq(wr(r, "x", 1), -EBADF);
	cr_assert_eq(rd(w, &c, 1), -EBADF);
	cr_assert_eq(r->flags & O_ACCMODE, O_RDONLY);
	cr_assert_eq(w->flags & O_ACCMODE, O_WRONLY);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, bad_user_addresses_are_efault_and_move_nothing)
{
	struct file *r, *w;
	char out[4];

	make(0, &r, &w);
	cr_assert_eq(wr(w, (void *)BAD_ADDRESS, 4), -EFAULT);
	cr_assert_eq(fionread(r), 0);
	cr_assert_eq(wr(w, "abcd", 4), 4);
	cr_assert_eq(rd(r, (void *)BAD_ADDRESS, 4), -EFAULT);
	cr_assert_eq(fionread(r), 4, "a failed read consumes nothing");
	cr_assert_eq(rd(r, out, 4), 4);
	cr_assert_arr_eq(out, "abcd", 4);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, a_vector_write_stops_at_a_bad_segment_after_good_chunks)
{
	struct file *r, *w;
	static char big[PIPE_BUFFER];
	char out[8];

	make(0, &r, &w);
	/* The ring wraps inside this write: the first chunk goes in, the
	 * second meets the bad segment; the first chunk's bytes count. */
	fill(big, sizeof(big), 0);
	cr_assert_eq(wr(w, big, PIPE_BUFFER - 4), PIPE_BUFFER - 4);
	cr_assert_eq(rd(r, big, PIPE_BUFFER - 8), PIPE_BUFFER - 8);
	struct linux_iovec iov[2] = {{U("abcdefgh"), 8}, {BAD_ADDRESS, 4}};
	struct iobuf b;
	uint64_t pos = 0;
	iobuf_user_vec(&b, iov, 2, 12);
	long n = file_write(w, &b, &pos);
	cr_assert(n >= 4 && n <= 8, "wrote %ld: the chunk up to the ring's end counts", n);
	cr_assert_eq(fionread(r), 4 + n);
	cr_assert_eq(rd(r, out, 4), 4);
	cr_assert_eq(rd(r, out, sizeof(out)), n);
	cr_assert_arr_eq(out, "abcdefgh", (size_t)n);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- capacity */

Test(pipe, holds_64_kib_and_no_more)
{
	struct file *r, *w;
	char *buf = malloc(PIPE_BUFFER + 10);

	make(0, &r, &w);
	fill(buf, PIPE_BUFFER + 10, 0);
	cr_assert_eq(wr(w, buf, PIPE_BUFFER + 10), PIPE_BUFFER, "a large write goes in partly");
	cr_assert_eq(fionread(r), PIPE_BUFFER);
	cr_assert_eq(wr(w, buf, 1), -EAGAIN);
	cr_assert_eq(wr(w, buf, PIPE_BUF + 1), -EAGAIN, "a large write needs one byte of room");
	memset(buf, 0, PIPE_BUFFER + 10);
	cr_assert_eq(rd(r, buf, PIPE_BUFFER + 10), PIPE_BUFFER);
	check(buf, PIPE_BUFFER, 0);
	free(buf);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, the_ring_wraps_around)
{
	struct file *r, *w;
	char *buf = malloc(PIPE_BUFFER);
	uint64_t written = 0, read = 0;

	make(0, &r, &w);
	/* Leave 1000 bytes unread near the end of the ring, then write across
	 * its end and read everything back. */
	fill(buf, 60000, written);
	cr_assert_eq(wr(w, buf, 60000), 60000);
	written += 60000;
	cr_assert_eq(rd(r, buf, 59000), 59000);
	check(buf, 59000, read);
	read += 59000;
	fill(buf, PIPE_BUFFER - 1000, written);
	cr_assert_eq(wr(w, buf, PIPE_BUFFER), PIPE_BUFFER - 1000, "the room left");
	written += PIPE_BUFFER - 1000;
	cr_assert_eq(fionread(r), PIPE_BUFFER);
	cr_assert_eq(rd(r, buf, PIPE_BUFFER), PIPE_BUFFER, "one read across the wrap");
	check(buf, PIPE_BUFFER, read);
	read += PIPE_BUFFER;
	cr_assert_eq(read, written);
	free(buf);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, a_write_of_pipe_buf_bytes_goes_in_whole_or_not_at_all)
{
	struct file *r, *w;
	char *buf = malloc(PIPE_BUFFER);

	make(0, &r, &w);
	fill(buf, PIPE_BUFFER, 0);
	cr_assert_eq(wr(w, buf, PIPE_BUFFER - PIPE_BUF + 1), PIPE_BUFFER - PIPE_BUF + 1);
	/* PIPE_BUF - 1 bytes of room. */
	cr_assert_eq(wr(w, buf, PIPE_BUF), -EAGAIN);
	cr_assert_eq(fionread(r), PIPE_BUFFER - PIPE_BUF + 1, "nothing of it went in");
	cr_assert_eq(wr(w, buf, PIPE_BUF - 1), PIPE_BUF - 1, "what fits exactly goes in");
	cr_assert_eq(rd(r, buf, 1), 1);
	cr_assert_eq(wr(w, buf, 2), -EAGAIN);
	cr_assert_eq(wr(w, buf, 1), 1);
	free(buf);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, a_write_larger_than_pipe_buf_goes_in_partly)
{
	struct file *r, *w;
	char *buf = malloc(PIPE_BUFFER);

	make(0, &r, &w);
	fill(buf, PIPE_BUFFER, 0);
	cr_assert_eq(wr(w, buf, PIPE_BUFFER - 100), PIPE_BUFFER - 100);
	cr_assert_eq(wr(w, buf, PIPE_BUF + 1), 100);
	cr_assert_eq(fionread(r), PIPE_BUFFER);
	free(buf);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- no reader */

Test(pipe, writing_with_no_reader_is_epipe_and_sigpipe)
{
	struct file *r, *w;

	make(0, &r, &w);
	file_put(r);
	cr_assert_eq(shim_signals, 0);
	cr_assert_eq(wr(w, "x", 1), -EPIPE);
	cr_assert_eq(shim_signals, 1);
	cr_assert_eq(shim_last_signal, SIGPIPE);
	cr_assert_eq(wr(w, "xyz", 3), -EPIPE);
	cr_assert_eq(shim_signals, 2, "every write raises it");
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, an_empty_write_with_no_reader_is_zero_without_a_signal)
{
	struct file *r, *w;

	make(0, &r, &w);
	file_put(r);
	/* Linux's pipe_write: "Null write succeeds" before it looks for
	 * readers. */
	cr_assert_eq(wr(w, "x", 0), 0);
	cr_assert_eq(shim_signals, 0);
	file_put(w);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- poll */

Test(pipe, poll_of_the_read_end_shows_data_and_hangup)
{
	struct file *r, *w;

	make(0, &r, &w);
	cr_assert_eq(file_poll(r, NULL), 0);
	wr(w, "x", 1);
	cr_assert_eq(file_poll(r, NULL), POLLIN | POLLRDNORM);
	file_put(w);
	cr_assert_eq(file_poll(r, NULL), POLLIN | POLLRDNORM | POLLHUP);
	char c;
	rd(r, &c, 1);
	cr_assert_eq(file_poll(r, NULL), POLLHUP);
	file_put(r);
	shim_close_all_and_check();
}

Test(pipe, poll_of_the_write_end_shows_room_and_error)
{
	struct file *r, *w;
	char *buf = malloc(PIPE_BUFFER);

	make(0, &r, &w);
	memset(buf, 'x', PIPE_BUFFER);
	cr_assert_eq(file_poll(w, NULL), POLLOUT | POLLWRNORM);
	wr(w, buf, PIPE_BUFFER - PIPE_BUF);
	cr_assert_eq(file_poll(w, NULL), POLLOUT | POLLWRNORM, "PIPE_BUF of room is writable");
	wr(w, buf, 1);
	cr_assert_eq(file_poll(w, NULL), 0, "less than PIPE_BUF of room is not");
	file_put(r);
	cr_assert_eq(file_poll(w, NULL) & POLLERR, POLLERR);
	free(buf);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, poll_names_the_queue_to_the_table)
{
	struct file *r, *w;

	make(0, &r, &w);
	file_poll(r, thread_poll_table());
	file_poll(w, thread_poll_table());
	cr_assert_eq(shim_queued(), 2);
	wr(w, "x", 1);
	cr_assert_eq(shim_wakes, 2, "both ends share one queue");
	shim_unqueue();
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- wakes */

Test(pipe, a_write_wakes_the_queue_with_pollin)
{
	struct file *r, *w;

	make(0, &r, &w);
	watch(r);
	cr_assert_eq(wr(w, "ab", 2), 2);
	cr_assert_eq(waiter_wakes, 1);
	cr_assert_eq(waiter_events & (POLLIN | POLLRDNORM), POLLIN | POLLRDNORM);
	waitq_remove(&waiter);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, a_read_wakes_the_queue_with_pollout)
{
	struct file *r, *w;
	char c;

	make(0, &r, &w);
	wr(w, "ab", 2);
	watch(w);
	cr_assert_eq(rd(r, &c, 1), 1);
	cr_assert_eq(waiter_wakes, 1);
	cr_assert_eq(waiter_events & (POLLOUT | POLLWRNORM), POLLOUT | POLLWRNORM);
	waitq_remove(&waiter);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, closing_the_write_end_wakes_the_reader_with_hangup)
{
	struct file *r, *w;

	make(0, &r, &w);
	watch(r);
	file_put(w);
	cr_assert_eq(waiter_wakes, 1);
	cr_assert_eq(waiter_events & POLLHUP, POLLHUP);
	waitq_remove(&waiter);
	file_put(r);
	shim_close_all_and_check();
}

Test(pipe, closing_the_read_end_wakes_the_writer_with_an_error)
{
	struct file *r, *w;

	make(0, &r, &w);
	watch(w);
	file_put(r);
	cr_assert_eq(waiter_wakes, 1);
	cr_assert_eq(waiter_events & POLLERR, POLLERR);
	waitq_remove(&waiter);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, a_closed_end_wakes_only_once_it_is_the_last_reference)
{
	struct file *r, *w;

	make(0, &r, &w);
	file_get(w); /* a dup */
	watch(r);
	file_put(w);
	cr_assert_eq(waiter_wakes, 0);
	cr_assert_eq(file_poll(r, NULL) & POLLHUP, 0, "a writer is still open");
	file_put(w);
	cr_assert_eq(waiter_wakes, 1);
	cr_assert_eq(file_poll(r, NULL) & POLLHUP, POLLHUP);
	waitq_remove(&waiter);
	file_put(r);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- ioctl, stat, size */

Test(pipe, fionread_counts_the_unread_bytes_on_either_end)
{
	struct file *r, *w;
	char out[3];

	make(0, &r, &w);
	cr_assert_eq(fionread(r), 0);
	wr(w, "hello", 5);
	cr_assert_eq(fionread(r), 5);
	cr_assert_eq(fionread(w), 5);
	rd(r, out, 3);
	cr_assert_eq(fionread(r), 2);
	int32_t n;
	cr_assert_eq(r->ops->ioctl(r, FIONREAD, BAD_ADDRESS), -EFAULT);
	cr_assert_eq(r->ops->ioctl(r, TCGETS, U(&n)), -ENOTTY);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, fstat_shows_a_fifo_shared_by_both_ends)
{
	struct file *r, *w, *r2, *w2;
	struct kstat sr, sw, s2;

	make(0, &r, &w);
	make(0, &r2, &w2);
	cr_assert_eq(file_stat(r, &sr), 0);
	cr_assert_eq(file_stat(w, &sw), 0);
	cr_assert_eq(file_stat(r2, &s2), 0);
	cr_assert_eq(sr.mode & S_IFMT, S_IFIFO);
	cr_assert_eq(sw.mode & S_IFMT, S_IFIFO);
	cr_assert_eq(sr.ino, sw.ino, "both ends are one inode");
	cr_assert_eq(sr.dev, sw.dev);
	cr_assert_neq(sr.ino, s2.ino, "another pipe is another inode");
	cr_assert_eq(sr.size, 0);
	file_put(r);
	file_put(w);
	file_put(r2);
	file_put(w2);
	shim_close_all_and_check();
}

static const struct file_ops other_ops = {.kind = "not a pipe"};

Test(pipe, f_getpipe_sz_is_the_buffer_size_for_pipes_only)
{
	struct file *r, *w;
	struct file *other = file_new(&other_ops, O_RDWR, NULL);

	make(0, &r, &w);
	cr_assert_eq(pipe_buffer_size(r), PIPE_BUFFER);
	cr_assert_eq(pipe_buffer_size(w), PIPE_BUFFER);
	cr_assert_eq(pipe_buffer_size(other), -EINVAL);
	file_put(other);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, create_passes_o_nonblock_to_both_ends)
{
	struct file *r, *w;

	make(O_NONBLOCK, &r, &w);
	cr_assert_eq(r->flags, O_RDONLY | O_NONBLOCK);
	cr_assert_eq(w->flags, O_WRONLY | O_NONBLOCK);
	file_put(r);
	file_put(w);
	make(O_CLOEXEC, &r, &w);
	cr_assert_eq(r->flags, O_RDONLY, "only O_NONBLOCK is a file flag");
	cr_assert_eq(w->flags, O_WRONLY);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

Test(pipe, releasing_the_ends_in_either_order_frees_everything)
{
	struct file *r, *w;

	make(0, &r, &w);
	wr(w, "data", 4);
	file_put(w);
	file_put(r);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
	make(0, &r, &w);
	wr(w, "data", 4);
	file_put(r);
	cr_assert_neq(mm_test_kmalloc_stats().live_allocations, 0, "the write end holds it");
	file_put(w);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- pipe2 and pipe */

Test(pipe, pipe2_installs_the_two_lowest_descriptors)
{
	int32_t fds[2] = {-1, -1};

	cr_assert_eq(CALL(pipe2, U(fds), 0), 0);
	cr_assert_eq(fds[0], 0);
	cr_assert_eq(fds[1], 1);
	struct file *r = fd_get(fds[0]), *w = fd_get(fds[1]);
	cr_assert_not_null(r);
	cr_assert_not_null(w);
	cr_assert_eq(pipe_buffer_size(r), PIPE_BUFFER);
	cr_assert_eq(r->flags, O_RDONLY);
	cr_assert_eq(w->flags, O_WRONLY);
	cr_assert_eq(r->refs, 1, "the table holds the only reference");
	cr_assert(!fd_cloexec(0) && !fd_cloexec(1));
	char out[3];
	cr_assert_eq(wr(w, "abc", 3), 3);
	cr_assert_eq(rd(r, out, 3), 3);
	cr_assert_arr_eq(out, "abc", 3);
	shim_close_all_and_check();
}

Test(pipe, pipe2_flags_set_cloexec_and_nonblock)
{
	int32_t fds[2];

	cr_assert_eq(CALL(pipe2, U(fds), O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert(fd_cloexec(fds[0]) && fd_cloexec(fds[1]));
	cr_assert_eq(fd_get(fds[0])->flags, O_RDONLY | O_NONBLOCK);
	cr_assert_eq(fd_get(fds[1])->flags, O_WRONLY | O_NONBLOCK);
	cr_assert_eq(CALL(pipe2, U(fds), O_CLOEXEC), 0);
	cr_assert_eq(fds[0], 2);
	cr_assert(fd_cloexec(2) && fd_cloexec(3));
	cr_assert_eq(fd_get(2)->flags, O_RDONLY);
	cr_assert_eq(CALL(pipe, U(fds)), 0);
	cr_assert_eq(fds[0], 4);
	cr_assert(!fd_cloexec(4) && !fd_cloexec(5));
	shim_close_all_and_check();
}

Test(pipe, pipe2_refuses_other_flags)
{
	int32_t fds[2] = {-1, -1};
	const unsigned bad[] = {O_WRONLY, O_RDWR, O_APPEND, O_NONBLOCK | O_TRUNC, 0x80000000u};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(CALL(pipe2, U(fds), bad[i]), -EINVAL, "flags %#x", bad[i]);
		cr_assert_eq(fds[0], -1);
		cr_assert_null(fd_get(0));
	}
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
	shim_close_all_and_check();
}

Test(pipe, pipe2_to_a_bad_address_is_efault_and_closes_the_descriptors)
{
	cr_assert_eq(CALL(pipe2, BAD_ADDRESS, 0), -EFAULT);
	cr_assert_null(fd_get(0));
	cr_assert_null(fd_get(1));
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
	cr_assert_eq(CALL(pipe, BAD_ADDRESS), -EFAULT);
	cr_assert_null(fd_get(0));
	cr_assert_null(fd_get(1));
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 0);
	shim_close_all_and_check();
}

Test(pipe, pipe2_with_a_full_table_is_emfile_and_leaks_nothing)
{
	struct file *r, *w;
	int32_t fds[2] = {-1, -1};

	make(0, &r, &w);
	/* One slot free: the read end gets it, the write end does not. */
	for (int fd = 0; fd < FD_MAX - 1; fd++)
		cr_assert_eq(fd_install(0, r, 0), fd);
	cr_assert_eq(CALL(pipe2, U(fds), 0), -EMFILE);
	cr_assert_null(fd_get(FD_MAX - 1), "the read end is closed again");
	cr_assert_eq(fds[0], -1);
	fd_close(0);
	fd_close(1);
	cr_assert_eq(CALL(pipe2, U(fds), 0), 0);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- randomized */

Test(pipe, random_reads_and_writes_match_a_byte_queue)
{
	struct file *r, *w;
	char *buf = malloc(2 * PIPE_BUFFER);
	uint64_t written = 0, read = 0; /* stream positions: the model */

	make(O_NONBLOCK, &r, &w);
	mm_test_seed(0x9199e5);
	for (int step = 0; step < 4000; step++) {
		uint64_t len = written - read, room = PIPE_BUFFER - len;
		size_t op = mm_test_random_below(4), want;
		if (op < 3) {
			/* Small writes (around PIPE_BUF and tiny) and large ones. */
			if (op == 0)
				want = mm_test_random_below(PIPE_BUF + 2);
			else if (op == 1)
				want = mm_test_random_below(64);
			else
				want = mm_test_random_below(2 * PIPE_BUFFER);
			long expect;
			if (!want)
				expect = 0;
			else if (want <= PIPE_BUF)
				expect = room >= want ? (long)want : -EAGAIN;
			else
				expect = room ? (long)(want < room ? want : room) : -EAGAIN;
			fill(buf, want, written);
			cr_assert_eq(wr(w, buf, want), expect, "step %d: write %zu with %lu room",
				     step, want, (unsigned long)room);
			if (expect > 0)
				written += (uint64_t)expect;
		} else {
			want = mm_test_random_below(2) ? mm_test_random_below(PIPE_BUFFER + 100)
						       : mm_test_random_below(5000);
			long expect = !want ? 0 : !len ? -EAGAIN : (long)(want < len ? want : len);
			cr_assert_eq(rd(r, buf, want), expect, "step %d: read %zu of %lu", step,
				     want, (unsigned long)len);
			if (expect > 0) {
				check(buf, (size_t)expect, read);
				read += (uint64_t)expect;
			}
		}
		len = written - read;
		cr_assert_eq(fionread(r), (int32_t)len, "step %d", step);
		cr_assert_eq(file_poll(r, NULL), len ? POLLIN | POLLRDNORM : 0u);
		cr_assert_eq(file_poll(w, NULL),
			     PIPE_BUFFER - len >= PIPE_BUF ? POLLOUT | POLLWRNORM : 0u);
	}
	cr_assert_gt(read, 20 * PIPE_BUFFER, "the run should go round the ring many times");
	free(buf);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* RLIMIT_NOFILE lowered: new descriptors stay below it (EMFILE past it,
 * dup2 and F_DUPFD beyond it refused), those above it stay open; raised
 * again, the table is whole again; the hard limit cannot pass FD_MAX. */
Test(pipe, a_lowered_nofile_limit_bounds_new_descriptors_until_raised)
{
	struct file *r, *w;
	uint64_t cur, max;

	make(0, &r, &w);
	cr_assert_eq(fd_install(100, r, 0), 100);
	cr_assert_eq(fd_set_limits(8, FD_MAX), 0);
	fd_get_limits(&cur, &max);
	cr_assert(cur == 8 && max == FD_MAX);
	for (int fd = 0; fd < 8; fd++)
		cr_assert_eq(fd_install(0, w, 0), fd);
	cr_assert_eq(fd_install(0, w, 0), -EMFILE);
	cr_assert_eq(fd_install(8, w, 0), -EINVAL, "F_DUPFD at the limit");
	cr_assert_eq(fd_install_at(8, w, 0), -EBADF, "dup2 at the limit");
	cr_assert_not_null(fd_get(100), "a descriptor above a lowered limit stays open");
	cr_assert_eq(fd_set_limits(9, 8), -EINVAL);
	cr_assert_eq(fd_set_limits(FD_MAX, FD_MAX + 1), -EPERM);
	cr_assert_eq(fd_set_limits(FD_MAX, FD_MAX), 0);
	cr_assert_eq(fd_install(0, w, 0), 8);
	cr_assert_eq(fd_install_at(FD_MAX - 1, w, 0), FD_MAX - 1);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* The fuzzer's threads found it: a poll of a pipe's ends, one thread's,
 * while another closes both. The last close frees the pipe, and its queue
 * must hold no entry then (a wake that leaves the entry queued is what a
 * thread not yet asleep does). */
Test(pipe, freeing_the_pipe_takes_every_waiter_off_its_queue)
{
	struct file *r, *w;

	make(0, &r, &w);
	file_poll(r, thread_poll_table());
	file_poll(w, thread_poll_table());
	cr_assert_eq(shim_queued(), 2);
	file_put(w);
	file_put(r);
	cr_assert_eq(shim_queued(), 0, "no entry left on the freed queue");
	cr_assert_geq(shim_wakes, 1);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- the shared side */

/* In a shared syscall (shim_shared) reads and writes move bytes and wake
 * the queue as under the kernel lock, without asking for it. */
Test(pipe, shared_reads_and_writes_move_bytes_and_wake_the_queue)
{
	struct file *r, *w;
	char out[8];

	make(0, &r, &w);
	watch(r);
	shim_shared = 1;
	cr_assert_eq(wr(w, "abcdef", 6), 6);
	cr_assert_eq(waiter_wakes, 1);
	cr_assert_eq(waiter_events & POLLIN, POLLIN);
	cr_assert_eq(rd(r, out, 4), 4);
	cr_assert_eq(waiter_wakes, 2);
	cr_assert_eq(waiter_events & POLLOUT, POLLOUT);
	waitq_remove(&waiter);
	cr_assert_eq(rd(r, out + 4, 4), 2, "with nobody queued the wake is skipped");
	cr_assert_eq(waiter_wakes, 2);
	cr_assert_eq(rd(r, out, 4), -EAGAIN, "empty: the wait is the locked run's");
	shim_shared = 0;
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_arr_eq(out + 4, "ef", 2);
	file_put(r);
	file_put(w);
	shim_close_all_and_check();
}

/* What a shared attempt may not do (raise SIGPIPE, wait for the rest of a
 * blocking write, stand by a copy it gave up) asks for the kernel lock
 * and leaves the pipe as it was. */
Test(pipe, shared_calls_leave_what_they_may_not_do_to_the_lock)
{
	struct file *r, *w, *nr, *nw;
	static char big[PIPE_BUFFER];
	char out[8];

	make(0, &r, &w);
	fill(big, sizeof(big), 0);
	cr_assert_eq(wr(w, big, PIPE_BUFFER - 100), PIPE_BUFFER - 100);

	shim_shared = 1;
	cr_assert_eq(wr(w, big, 200), -EAGAIN, "no room for a PIPE_BUF write: a wait");
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(wr(w, big, 5000), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "a blocking write too big for the room");
	cr_assert_eq(fionread(r), PIPE_BUFFER - 100);

	shim_needs_lock = 0;
	struct linux_iovec iov[2] = {{U("abcdefgh"), 8}, {BAD_ADDRESS, 4}};
	struct iobuf b;
	uint64_t pos = 0;
	iobuf_user_vec(&b, iov, 2, 12);
	(void)file_write(w, &b, &pos);
	cr_assert_eq(shim_needs_lock, 1, "a copy that failed part way");
	cr_assert_eq(fionread(r), PIPE_BUFFER - 100, "its good bytes are not in");

	shim_needs_lock = 0;
	cr_assert_eq(rd(r, (void *)BAD_ADDRESS, 4), -EFAULT);
	cr_assert_eq(shim_needs_lock, 1, "a read to a bad buffer");
	cr_assert_eq(fionread(r), PIPE_BUFFER - 100, "consumes nothing");
	shim_shared = 0;
	cr_assert_eq(rd(r, big, PIPE_BUFFER - 100), PIPE_BUFFER - 100);
	check(big, PIPE_BUFFER - 100, 0);
	file_put(r);

	shim_needs_lock = 0;
	shim_shared = 1;
	cr_assert_eq(wr(w, "x", 1), -EAGAIN);
	shim_shared = 0;
	cr_assert_eq(shim_needs_lock, 1, "no reader: SIGPIPE is the locked run's");
	cr_assert_eq(shim_signals, 0);
	cr_assert_eq(wr(w, "x", 1), -EPIPE);
	cr_assert_eq(shim_signals, 1);
	file_put(w);

	/* Non-blocking, a write takes what room there is, as Linux does. */
	make(O_NONBLOCK, &nr, &nw);
	cr_assert_eq(wr(nw, big, PIPE_BUFFER - 100), PIPE_BUFFER - 100);
	shim_needs_lock = 0;
	shim_shared = 1;
	cr_assert_eq(wr(nw, big, 5000), 100);
	cr_assert_eq(rd(nr, out, 8), 8);
	shim_shared = 0;
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(fionread(nr), PIPE_BUFFER - 8);
	file_put(nr);
	file_put(nw);
	shim_close_all_and_check();
}

/*
 * Shared readers and writers of one pipe on host threads ("CPUs"), the
 * copies yielding between chunks so that calls without turns would
 * cross: SH_WRITERS writers put records of up to PIPE_BUF bytes (writer,
 * sequence number, length, a pattern), retrying while the pipe is full;
 * one reader takes the stream in random pieces. Every record must come
 * whole, each writer's in order, none lost.
 */
#define SH_WRITERS 3
#define SH_RECORDS 3000

struct sh_record {
	uint32_t writer, seq, len;
};

static struct file *sh_r, *sh_w;

static void *shared_record_writer(void *arg)
{
	static _Thread_local char rec[PIPE_BUF];
	unsigned me = (unsigned)(uintptr_t)arg;
	unsigned seed = me * 7919u + 1;

	spin_host_cpu = me + 1;
	shim_copy_yields = 1;
	shim_shared = 1;
	for (uint32_t seq = 0; seq < SH_RECORDS; seq++) {
		uint32_t len = sizeof(struct sh_record) + (uint32_t)(rand_r(&seed) % 600);
		if (seq % 64 == 0)
			len = PIPE_BUF;
		struct sh_record h = {me, seq, len};
		memcpy(rec, &h, sizeof(h));
		fill(rec + sizeof(h), len - sizeof(h), (uint64_t)me << 32 | seq);
		long n;
		while ((n = wr(sh_w, rec, len)) == -EAGAIN)
			sched_yield();
		if (n != (long)len || shim_needs_lock)
			return (void *)1;
	}
	return NULL;
}

Test(pipe, shared_writers_and_a_reader_on_threads_lose_and_mix_nothing)
{
	static char stream[PIPE_BUF * 2];
	pthread_t t[SH_WRITERS];
	uint32_t next_seq[SH_WRITERS] = {0};
	size_t have = 0;
	unsigned seed = 42;
	long records = 0;

	make(0, &sh_r, &sh_w);
	for (unsigned i = 0; i < SH_WRITERS; i++)
		cr_assert_eq(
		    pthread_create(&t[i], NULL, shared_record_writer, (void *)(uintptr_t)i), 0);
	shim_shared = 1;
	while (records < (long)SH_WRITERS * SH_RECORDS) {
		size_t want = 1 + (size_t)(rand_r(&seed) % 3000);
		if (want > sizeof(stream) - have)
			want = sizeof(stream) - have;
		long n = rd(sh_r, stream + have, want);
		if (n == -EAGAIN) {
			sched_yield();
			continue;
		}
		cr_assert(n > 0, "read: %ld", n);
		have += (size_t)n;
		struct sh_record h;
		while (have >= sizeof(h) && (memcpy(&h, stream, sizeof(h)), have >= h.len)) {
			cr_assert(h.writer < SH_WRITERS && h.len <= PIPE_BUF,
				  "a torn record header");
			cr_assert_eq(h.seq, next_seq[h.writer], "writer %u: record %u after %u",
				     h.writer, h.seq, next_seq[h.writer]);
			check(stream + sizeof(h), h.len - sizeof(h),
			      (uint64_t)h.writer << 32 | h.seq);
			next_seq[h.writer]++;
			records++;
			memmove(stream, stream + h.len, have - h.len);
			have -= h.len;
		}
	}
	shim_shared = 0;
	for (unsigned i = 0; i < SH_WRITERS; i++) {
		void *ret;
		cr_assert_eq(pthread_join(t[i], &ret), 0);
		cr_assert_null(ret, "writer %u failed", i);
	}
	cr_assert_eq(have, 0);
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(fionread(sh_r), 0);
	file_put(sh_r);
	file_put(sh_w);
	shim_close_all_and_check();
}
