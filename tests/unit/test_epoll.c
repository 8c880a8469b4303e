/*
 * Host tests of fs/epoll.c, over a small file kind of the tests' own (a
 * "tfile": a byte buffer with read/write/poll and one or two wait queues;
 * the tests change its state directly, as the other end of a pipe would,
 * and wake its queues) and the real eventfd and timerfd. The syscalls are
 * called through their handlers; user pointers are host pointers (the
 * shim: an address below 4096 is a bad one). epoll_wait's waits go to the
 * shim's one fake thread: -EWAITING with its entry queued, and a "retry"
 * is the test calling the handler again. Each test ends by closing every
 * descriptor and checking that the heap is empty and no entry is queued.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

/* glibc's (through Criterion); kernel/abi/poll.h defines Linux's, the same 1024. */
#undef FD_SETSIZE

#include "fs/epoll.h"
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
#include "kernel_shim.h"
#include "mm/kmalloc.h"
#include "mm_arena.h"

#define TFILE_SIZE 16

TestSuite(epoll, .init = shim_setup);

/* ---------------------------------------------------------------- the test file kind */

struct tfile {
	char buf[TFILE_SIZE];
	size_t len;
	unsigned extra; /* events reported besides IN/OUT (POLLHUP, POLLERR) */
	int two_queues; /* poll names wq2 as well */
	struct waitq wq, wq2;
};

static long tfile_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct tfile *t = f->priv;
	size_t n = t->len < iobuf_left(b) ? t->len : iobuf_left(b);

	(void)pos;
	if (!t->len)
		return -EAGAIN;
	if (iobuf_put(b, t->buf, n))
		return -EFAULT;
	memmove(t->buf, t->buf + n, t->len - n);
	t->len -= n;
	waitq_wake(&t->wq, POLLOUT);
	return (long)n;
}

static long tfile_write(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct tfile *t = f->priv;
	size_t room = TFILE_SIZE - t->len;
	size_t n = room < iobuf_left(b) ? room : iobuf_left(b);

	(void)pos;
	if (!room)
		return -EAGAIN;
	if (iobuf_get(b, t->buf + t->len, n))
		return -EFAULT;
	t->len += n;
	waitq_wake(&t->wq, POLLIN);
	return (long)n;
}

static unsigned tfile_poll(struct file *f, struct poll_table *pt)
{
	struct tfile *t = f->priv;

	poll_wait(pt, &t->wq);
	if (t->two_queues)
		poll_wait(pt, &t->wq2);
	return (t->len ? POLLIN : 0) | (t->len < TFILE_SIZE ? POLLOUT : 0) | t->extra;
}

static void tfile_release(struct file *f)
{
	struct tfile *t = f->priv;

	cr_assert(waitq_empty(&t->wq) && waitq_empty(&t->wq2), "tfile freed with waiters");
	kfree(t);
}

static const struct file_ops tfile_ops = {
    .kind = "tfile",
    .read = tfile_read,
    .write = tfile_write,
    .poll = tfile_poll,
    .release = tfile_release,
};

/* A kind without poll, as regular files are. */
static const struct file_ops plain_ops = {.kind = "plain"};

/* A new tfile at the lowest free descriptor; *out its state. */
static int tfile_open(struct tfile **out)
{
	struct tfile *t = zmalloc(sizeof(*t));
	struct file *f = file_new(&tfile_ops, O_RDWR, t);
	int fd = fd_install(0, f, 0);

	file_put(f);
	cr_assert_geq(fd, 0);
	if (out)
		*out = t;
	return fd;
}

/* The other end writes n bytes (readable) and wakes the queue. */
static void tfile_fill(struct tfile *t, size_t n)
{
	t->len += n;
	waitq_wake(&t->wq, POLLIN);
}

/* The other end takes everything (not readable, writable). */
static void tfile_drain(struct tfile *t)
{
	t->len = 0;
	waitq_wake(&t->wq, POLLOUT);
}

/* ---------------------------------------------------------------- syscall helpers */

static int ep_new(void)
{
	int fd = (int)CALL(epoll_create1, 0);

	cr_assert_geq(fd, 0);
	return fd;
}

static long ctl(int epfd, int op, int fd, uint32_t events, uint64_t data)
{
	struct linux_epoll_event ev = {.events = events, .data = data};

	return CALL(epoll_ctl, epfd, op, fd, U(&ev));
}

static long ep_wait(int epfd, struct linux_epoll_event *ev, int max, int timeout_ms)
{
	memset(ev, 0xee, (size_t)max * sizeof(*ev));
	return CALL(epoll_wait, epfd, U(ev), max, timeout_ms);
}

/* One epoll_wait with timeout 0 for at most one event: its data, or -1 when
 * nothing was reported; *events gets the events. */
static int64_t ep_one(int epfd, uint32_t *events)
{
	struct linux_epoll_event ev;
	long n = ep_wait(epfd, &ev, 1, 0);

	cr_assert_geq(n, 0);
	if (!n)
		return -1;
	if (events)
		*events = ev.events;
	return (int64_t)ev.data;
}

/* ---------------------------------------------------------------- reporting modes */

Test(epoll, a_level_triggered_interest_is_reported_while_ready)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	uint32_t ev = 0;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 7), 0);
	cr_assert_eq(ep_one(ep, NULL), -1);
	tfile_fill(t, 1);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ep_one(ep, &ev), 7);
		cr_assert_eq(ev, EPOLLIN);
	}
	tfile_drain(t);
	cr_assert_eq(ep_one(ep, NULL), -1);
	tfile_fill(t, 1);
	cr_assert_eq(ep_one(ep, NULL), 7);
	shim_close_all_and_check();
}

Test(epoll, a_level_triggered_interest_ready_at_add_is_reported)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	uint32_t ev = 0;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT, 3), 0);
	cr_assert_eq(ep_one(ep, &ev), 3);
	cr_assert_eq(ev, EPOLLOUT);
	shim_close_all_and_check();
}

Test(epoll, an_edge_triggered_interest_is_reported_once_per_wake)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 9), 0);
	tfile_fill(t, 1);
	cr_assert_eq(ep_one(ep, NULL), 9);
	cr_assert_eq(ep_one(ep, NULL), -1, "still readable, but no new edge");
	tfile_fill(t, 1); /* more data: a new wake */
	cr_assert_eq(ep_one(ep, NULL), 9);
	cr_assert_eq(ep_one(ep, NULL), -1);
	shim_close_all_and_check();
}

Test(epoll, an_edge_triggered_interest_ready_at_add_is_reported_once)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	tfile_fill(t, 1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 4), 0);
	cr_assert_eq(ep_one(ep, NULL), 4);
	cr_assert_eq(ep_one(ep, NULL), -1);
	shim_close_all_and_check();
}

Test(epoll, a_oneshot_interest_is_disarmed_until_mod)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLONESHOT, 5), 0);
	tfile_fill(t, 1);
	cr_assert_eq(ep_one(ep, NULL), 5);
	cr_assert_eq(ep_one(ep, NULL), -1);
	tfile_fill(t, 1);
	cr_assert_eq(ep_one(ep, NULL), -1, "a disarmed interest came back on a wake");
	cr_assert_eq(ctl(ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, 6), 0);
	cr_assert_eq(ep_one(ep, NULL), 6, "MOD of a ready file re-arms and reports it");
	cr_assert_eq(ep_one(ep, NULL), -1);
	shim_close_all_and_check();
}

Test(epoll, mod_changes_the_events_and_the_data)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	uint32_t ev = 0;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(ep_one(ep, NULL), -1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_MOD, fd, EPOLLOUT, 2), 0);
	cr_assert_eq(ep_one(ep, &ev), 2);
	cr_assert_eq(ev, EPOLLOUT);
	t->len = TFILE_SIZE; /* full: readable, not writable */
	cr_assert_eq(ep_one(ep, NULL), -1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLOUT, 3), 0);
	cr_assert_eq(ep_one(ep, &ev), 3);
	cr_assert_eq(ev, EPOLLIN);
	shim_close_all_and_check();
}

Test(epoll, errors_and_hangups_are_reported_whatever_was_asked)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	uint32_t ev = 0;

	t->len = TFILE_SIZE;
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1), 0);
	cr_assert_eq(ep_one(ep, NULL), -1);
	t->extra = POLLHUP | POLLERR;
	waitq_wake(&t->wq, POLLHUP | POLLERR);
	cr_assert_eq(ep_one(ep, &ev), 1);
	cr_assert_eq(ev, EPOLLHUP | EPOLLERR);
	cr_assert_eq(ctl(ep, EPOLL_CTL_MOD, fd, 0, 2), 0);
	cr_assert_eq(ep_one(ep, &ev), 2, "even with no events asked");
	shim_close_all_and_check();
}

Test(epoll, a_wake_for_other_events_does_not_wake_the_waiter)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	t->len = TFILE_SIZE;
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1), 0);
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), -EWAITING);
	waitq_wake(&t->wq, POLLIN);
	cr_assert_eq(shim_wakes, 0);
	waitq_wake(&t->wq, 0); /* 0: anything may have changed */
	cr_assert_eq(shim_wakes, 1);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- the interest set */

Test(epoll, del_removes_the_interest)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	tfile_fill(t, 1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(CALL(epoll_ctl, ep, EPOLL_CTL_DEL, fd, 0), 0, "DEL takes no event");
	cr_assert_eq(ep_one(ep, NULL), -1);
	cr_assert(waitq_empty(&t->wq));
	cr_assert_null(fd_get(fd)->epitems);
	cr_assert_eq(ctl(ep, EPOLL_CTL_DEL, fd, 0, 0), -ENOENT);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 2), 0);
	cr_assert_eq(ep_one(ep, NULL), 2);
	shim_close_all_and_check();
}

Test(epoll, closing_the_last_descriptor_removes_the_interest)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	int dup = (int)CALL(dup, fd);

	tfile_fill(t, 1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(fd_close(fd), 0);
	cr_assert_eq(ep_one(ep, NULL), 1, "the file lives on in the dup: so does its interest");
	cr_assert_eq(ctl(ep, EPOLL_CTL_DEL, dup, 0, 0), -ENOENT, "keyed by the old number");
	cr_assert_eq(fd_close(dup), 0); /* the tfile is freed (and checks its queues) */
	cr_assert_eq(ep_one(ep, NULL), -1);
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, 2, "the epoll file and its state");
	shim_close_all_and_check();
}

Test(epoll, the_same_file_under_two_descriptors_is_two_interests)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	int dup = (int)CALL(dup, fd);
	struct linux_epoll_event ev[4];

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 10), 0);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, dup, EPOLLIN, 20), 0);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, dup, EPOLLIN, 20), -EEXIST);
	tfile_fill(t, 1);
	cr_assert_eq(ep_wait(ep, ev, 4, 0), 2);
	cr_assert_eq(ev[0].data + ev[1].data, 30);
	cr_assert_eq(ctl(ep, EPOLL_CTL_DEL, fd, 0, 0), 0);
	cr_assert_eq(ep_wait(ep, ev, 4, 0), 1);
	cr_assert_eq(ev[0].data, 20);
	shim_close_all_and_check();
}

Test(epoll, a_file_with_two_queues_is_heard_on_both)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	t->two_queues = 1;
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 1), 0);
	t->len = 1;
	waitq_wake(&t->wq2, POLLIN);
	cr_assert_eq(ep_one(ep, NULL), 1);
	waitq_wake(&t->wq, POLLIN);
	cr_assert_eq(ep_one(ep, NULL), 1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_DEL, fd, 0, 0), 0);
	cr_assert(waitq_empty(&t->wq) && waitq_empty(&t->wq2));
	shim_close_all_and_check();
}

Test(epoll, closing_the_epoll_file_leaves_the_watched_files_alone)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_not(waitq_empty(&t->wq));
	cr_assert_eq(fd_close(ep), 0);
	cr_assert(waitq_empty(&t->wq));
	cr_assert_null(fd_get(fd)->epitems);
	tfile_fill(t, 1); /* no interest may be woken any more */
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- epoll_ctl errors */

Test(epoll, a_file_without_poll_is_eperm)
{
	struct file *f = file_new(&plain_ops, O_RDONLY, NULL);
	int ep = ep_new(), fd = fd_install(0, f, 0);

	file_put(f);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 0), -EPERM);
	cr_assert_eq(ctl(ep, EPOLL_CTL_DEL, fd, 0, 0), -EPERM);
	shim_close_all_and_check();
}

Test(epoll, ctl_refuses_bad_descriptors_ops_and_events)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t), other = ep_new();

	cr_assert_eq(ctl(99, EPOLL_CTL_ADD, fd, EPOLLIN, 0), -EBADF);
	cr_assert_eq(ctl(-1, EPOLL_CTL_ADD, fd, EPOLLIN, 0), -EBADF);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, 99, EPOLLIN, 0), -EBADF);
	cr_assert_eq(ctl(fd, EPOLL_CTL_ADD, ep, EPOLLIN, 0), -EINVAL, "epfd is not an epoll");
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0), -EINVAL, "fd == epfd");
	cr_assert_eq(ctl(ep, 0, fd, EPOLLIN, 0), -EINVAL);
	cr_assert_eq(ctl(ep, 4, fd, EPOLLIN, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_ctl, ep, EPOLL_CTL_ADD, fd, 16), -EFAULT);
	cr_assert_eq(CALL(epoll_ctl, ep, EPOLL_CTL_MOD, fd, 0), -EFAULT);
	cr_assert_eq(ctl(ep, EPOLL_CTL_MOD, fd, EPOLLIN, 0), -ENOENT);
	cr_assert_eq(ctl(ep, EPOLL_CTL_DEL, fd, 0, 0), -ENOENT);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 0), 0);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 0), -EEXIST);
	/* EPOLLEXCLUSIVE: at ADD only, not on an epoll, not with ONESHOT */
	cr_assert_eq(ctl(ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLEXCLUSIVE, 0), -EINVAL);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, other, EPOLLIN | EPOLLEXCLUSIVE, 0), -EINVAL);
	cr_assert_eq(ctl(other, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE, 0),
		     -EINVAL);
	cr_assert_eq(ctl(other, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, 0), 0);
	cr_assert_eq(ctl(other, EPOLL_CTL_MOD, fd, EPOLLIN, 0), -EINVAL,
		     "an exclusive interest cannot be modified");
	shim_close_all_and_check();
}

Test(epoll, an_epoll_file_cannot_watch_itself_through_a_dup)
{
	int ep = ep_new();
	int dup = (int)CALL(dup, ep);

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, dup, EPOLLIN, 0), -EINVAL);
	shim_close_all_and_check();
}

Test(epoll, create_checks_its_arguments)
{
	int fd;

	cr_assert_eq(CALL(epoll_create, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_create, -1), -EINVAL);
	cr_assert_eq(CALL(epoll_create1, 1), -EINVAL);
	cr_assert_eq(CALL(epoll_create1, O_NONBLOCK), -EINVAL);
	fd = (int)CALL(epoll_create, 1);
	cr_assert_geq(fd, 0);
	cr_assert_not(fd_cloexec(fd));
	fd = (int)CALL(epoll_create1, EPOLL_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert(fd_cloexec(fd));
	cr_assert_eq(fd_get(fd)->refs, 1);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- nesting */

Test(epoll, a_nested_instance_reports_readable_when_its_interests_are)
{
	struct tfile *t;
	int inner = ep_new(), outer = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(inner, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2), 0);
	cr_assert_eq(file_poll(fd_get(inner), NULL), 0);
	cr_assert_eq(ep_wait(outer, &ev, 1, -1), -EWAITING);
	tfile_fill(t, 1);
	cr_assert_eq(shim_wakes, 1, "the wake did not climb to the outer waiter");
	shim_unqueue();
	cr_assert_eq(ep_wait(outer, &ev, 1, -1), 1);
	cr_assert_eq(ev.data, 2);
	cr_assert_eq(ev.events, EPOLLIN);
	cr_assert_eq(file_poll(fd_get(inner), NULL), POLLIN | POLLRDNORM);
	tfile_drain(t);
	cr_assert_eq(ep_one(outer, NULL), -1, "the inner instance has nothing to report");
	shim_close_all_and_check();
}

Test(epoll, a_stale_ready_interest_does_not_make_the_instance_readable)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	tfile_fill(t, 1); /* on the ready list */
	t->len = 0;	  /* gone without a wake */
	cr_assert_eq(file_poll(fd_get(ep), NULL), 0);
	cr_assert_eq(file_poll(fd_get(ep), thread_poll_table()), 0);
	cr_assert_eq(shim_queued(), 1, "poll names the instance's queue");
	tfile_fill(t, 1);
	cr_assert_eq(shim_wakes, 1);
	shim_close_all_and_check();
}

Test(epoll, a_cycle_of_instances_is_eloop)
{
	int a = ep_new(), b = ep_new(), c = ep_new();

	cr_assert_eq(ctl(a, EPOLL_CTL_ADD, b, EPOLLIN, 0), 0);
	cr_assert_eq(ctl(b, EPOLL_CTL_ADD, a, EPOLLIN, 0), -ELOOP);
	cr_assert_eq(ctl(b, EPOLL_CTL_ADD, c, EPOLLIN, 0), 0);
	cr_assert_eq(ctl(c, EPOLL_CTL_ADD, a, EPOLLIN, 0), -ELOOP);
	cr_assert_eq(ctl(a, EPOLL_CTL_ADD, c, EPOLLIN, 0), 0, "a diamond is no cycle");
	shim_close_all_and_check();
}

Test(epoll, chains_of_five_instances_nest_and_six_are_eloop)
{
	struct tfile *t;
	struct linux_epoll_event ev;
	int e[8], fd;

	for (int i = 0; i < 8; i++)
		e[i] = ep_new();
	/* e[i + 1] watches e[i], built bottom-up: the chain grows upwards */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ctl(e[i + 1], EPOLL_CTL_ADD, e[i], EPOLLIN, 0), 0, "level %d", i + 2);
	cr_assert_eq(ctl(e[5], EPOLL_CTL_ADD, e[4], EPOLLIN, 0), -ELOOP);
	/* growing it downwards: e[0] watching one more is a sixth level too */
	cr_assert_eq(ctl(e[0], EPOLL_CTL_ADD, e[6], EPOLLIN, 0), -ELOOP);
	/* joining in the middle: e[4] > e[3] > e[2] above, e[5] > e[6] > e[7] below */
	cr_assert_eq(ctl(e[5], EPOLL_CTL_ADD, e[6], EPOLLIN, 0), 0);
	cr_assert_eq(ctl(e[6], EPOLL_CTL_ADD, e[7], EPOLLIN, 0), 0);
	cr_assert_eq(ctl(e[2], EPOLL_CTL_ADD, e[5], EPOLLIN, 0), -ELOOP);
	cr_assert_eq(ctl(e[3], EPOLL_CTL_ADD, e[5], EPOLLIN, 0), 0, "five levels");

	/* a wake climbs the whole chain to a waiter at the top */
	fd = tfile_open(&t);
	cr_assert_eq(ctl(e[0], EPOLL_CTL_ADD, fd, EPOLLIN, 0), 0);
	cr_assert_eq(ep_wait(e[4], &ev, 1, -1), -EWAITING);
	tfile_fill(t, 1);
	cr_assert_eq(shim_wakes, 1);
	shim_unqueue();
	cr_assert_eq(ep_wait(e[4], &ev, 1, 0), 1);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- epoll_wait */

Test(epoll, maxevents_truncates_and_every_ready_interest_gets_its_turn)
{
	enum { N = 5 };
	struct tfile *t[N];
	int ep = ep_new(), seen[N] = {0};
	struct linux_epoll_event ev[2];

	for (int i = 0; i < N; i++) {
		int fd = tfile_open(&t[i]);
		tfile_fill(t[i], 1);
		cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, (uint64_t)i), 0);
	}
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(ep_wait(ep, ev, 2, 0), 2);
		for (int j = 0; j < 2; j++)
			seen[ev[j].data]++;
	}
	for (int i = 0; i < N; i++)
		cr_assert_geq(seen[i], 1, "interest %d starved", i);
	shim_close_all_and_check();
}

Test(epoll, more_ready_interests_than_a_batch_are_all_copied)
{
	enum { N = 40 };
	int ep = ep_new(), seen[N] = {0};
	struct linux_epoll_event ev[N + 1];

	for (int i = 0; i < N; i++) {
		struct tfile *t;
		int fd = tfile_open(&t);
		cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT | EPOLLET, (uint64_t)i), 0);
	}
	cr_assert_eq(ep_wait(ep, ev, N + 1, 0), N);
	for (int i = 0; i < N; i++)
		seen[ev[i].data]++;
	for (int i = 0; i < N; i++)
		cr_assert_eq(seen[i], 1);
	cr_assert_eq(*(unsigned char *)&ev[N], 0xee, "wrote past the events reported");
	cr_assert_eq(ep_wait(ep, ev, N, 0), 0);
	shim_close_all_and_check();
}

Test(epoll, wait_queues_the_thread_and_reports_after_the_wake)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 42), 0);
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), -EWAITING);
	cr_assert_gt(shim_queued(), 0);
	cr_assert_eq(shim_deadline, 0, "an infinite wait has no deadline");
	cr_assert_eq(shim_wakes, 0);
	tfile_fill(t, 1);
	cr_assert_eq(shim_wakes, 1);
	shim_unqueue(); /* what the wake of the real thread does */
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), 1);
	cr_assert_eq(ev.data, 42);
	cr_assert_eq(ev.events, EPOLLIN);
	cr_assert_eq(shim_queued(), 0);
	shim_close_all_and_check();
}

Test(epoll, timeout_zero_returns_at_once)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(ep_wait(ep, &ev, 1, 0), 0);
	cr_assert_eq(shim_queued(), 0);
	shim_close_all_and_check();
}

/*
 * The deadline must be the same in every attempt (thread_wait_deadline).
 * The shim computes it from its clock at each call instead of keeping the
 * first attempt's, so a deadline can only be seen passing at the end of
 * time, where it saturates: both attempts then agree on UINT64_MAX.
 */
Test(epoll, a_passed_deadline_returns_zero)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	shim_advance(1000);
	cr_assert_eq(ep_wait(ep, &ev, 1, 100), -EWAITING);
	cr_assert_eq(shim_deadline, 1000 + 100 * NSEC_PER_MSEC, "the deadline is now + timeout");
	shim_unqueue();
	shim_advance(UINT64_MAX - 50 * NSEC_PER_MSEC);
	cr_assert_eq(ep_wait(ep, &ev, 1, 100), -EWAITING);
	cr_assert_eq(shim_deadline, UINT64_MAX);
	shim_unqueue();
	shim_advance(UINT64_MAX);
	cr_assert_eq(ep_wait(ep, &ev, 1, 100), 0);
	cr_assert_eq(shim_queued(), 0);
	shim_close_all_and_check();
}

Test(epoll, events_win_over_a_passed_deadline)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	shim_advance(UINT64_MAX - 1); /* see a_passed_deadline_returns_zero */
	cr_assert_eq(ep_wait(ep, &ev, 1, 5), -EWAITING);
	shim_unqueue();
	tfile_fill(t, 1);
	shim_advance(UINT64_MAX);
	cr_assert_eq(ep_wait(ep, &ev, 1, 5), 1);
	shim_close_all_and_check();
}

Test(epoll, a_pending_signal_ends_the_wait_with_eintr)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	shim_signal_pending = 1;
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), -EINTR);
	cr_assert_eq(shim_queued(), 0);
	tfile_fill(t, 1);
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), 1, "ready events are reported before signals");
	shim_close_all_and_check();
}

Test(epoll, wait_refuses_bad_arguments)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;
	long too_many = INT32_MAX / sizeof(struct linux_epoll_event) + 1;

	tfile_fill(t, 1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(CALL(epoll_wait, ep, U(&ev), 0, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_wait, ep, U(&ev), -1, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_wait, ep, U(&ev), too_many, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_wait, 99, U(&ev), 1, 0), -EBADF);
	cr_assert_eq(CALL(epoll_wait, fd, U(&ev), 1, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_wait, ep, 16, 1, 0), -EFAULT);
	cr_assert_eq(CALL(epoll_wait, ep, 0xffff800000000000ull, 1, 0), -EFAULT);
	cr_assert_eq(CALL(epoll_wait, ep, 0x00007ffffffffff8ull, 1, 0), -EFAULT,
		     "the array crosses the top of the app's half");
	cr_assert_eq(ep_one(ep, NULL), 1, "a failed copy lost the event");
	shim_close_all_and_check();
}

Test(epoll, a_failed_copy_keeps_edge_and_oneshot_interests)
{
	struct tfile *t;
	int ep = ep_new(), a = tfile_open(&t), b = tfile_open(NULL);

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, a, EPOLLOUT | EPOLLET, 1), 0);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, b, EPOLLOUT | EPOLLONESHOT, 2), 0);
	cr_assert_eq(CALL(epoll_wait, ep, 16, 2, 0), -EFAULT);
	cr_assert_eq(ep_one(ep, NULL), 1);
	cr_assert_eq(ep_one(ep, NULL), 2);
	cr_assert_eq(ep_one(ep, NULL), -1);
	shim_close_all_and_check();
}

Test(epoll, pwait_checks_the_mask_only_when_there_is_one)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;
	uint64_t mask = 0;

	tfile_fill(t, 1);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, 0, U(&mask), 4), -EINVAL);
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, 0, 16, 8), -EFAULT);
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, 0, U(&mask), 8), 1);
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, 0, 0, 0x1234), 1,
		     "Go passes no mask and any sigsetsize");
	tfile_drain(t);
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, -1, U(&mask), 8), -EWAITING);
	shim_unqueue();
	shim_signal_pending = 1;
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, -1, U(&mask), 8), -EINTR);
	shim_close_all_and_check();
}

Test(epoll, pwait2_takes_a_timespec_timeout)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;
	struct k_timespec zero = {0, 0}, second = {1, 5}, bad = {0, 1000000000}, neg = {-1, 0};

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1), 0);
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, U(&zero), 0, 0), 0);
	cr_assert_eq(shim_queued(), 0);
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, U(&bad), 0, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, U(&neg), 0, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, 16, 0, 0), -EFAULT);
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, U(&second), 0, 0), -EWAITING);
	cr_assert_eq(shim_deadline, NSEC_PER_SEC + 5);
	shim_unqueue();
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, 0, 0, 0), -EWAITING);
	cr_assert_eq(shim_deadline, 0, "a NULL timeout waits forever");
	shim_close_all_and_check();
}

Test(epoll, closing_the_epoll_file_while_a_thread_waits_dequeues_it)
{
	int ep = ep_new();
	struct linux_epoll_event ev;

	cr_assert_eq(ep_wait(ep, &ev, 1, -1), -EWAITING);
	cr_assert_eq(shim_queued(), 1);
	cr_assert_eq(fd_close(ep), 0);
	cr_assert_eq(shim_queued(), 0);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- with eventfd and timerfd */

Test(epoll, an_edge_triggered_eventfd_reports_each_write_as_go_uses_it)
{
	int ep = ep_new();
	int efd = (int)CALL(eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1, v;
	struct iobuf b;
	uint64_t pos = 0;
	struct linux_epoll_event ev;

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLRDHUP | EPOLLET, 77), 0);
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), -EWAITING);
	iobuf_user(&b, U(&one), 8);
	cr_assert_eq(file_write(fd_get(efd), &b, &pos), 8);
	cr_assert_eq(shim_wakes, 1);
	shim_unqueue();
	cr_assert_eq(ep_wait(ep, &ev, 1, -1), 1);
	cr_assert_eq(ev.data, 77);
	cr_assert_eq(ev.events, EPOLLIN);
	cr_assert_eq(ep_one(ep, NULL), -1);
	iobuf_user(&b, U(&one), 8);
	file_write(fd_get(efd), &b, &pos);
	cr_assert_eq(ep_one(ep, NULL), 77);
	iobuf_user(&b, U(&v), 8);
	cr_assert_eq(file_read(fd_get(efd), &b, &pos), 8);
	cr_assert_eq(v, 2);
	shim_close_all_and_check();
}

Test(epoll, a_timerfd_expiry_wakes_the_waiter)
{
	int ep = ep_new();
	int tfd = (int)CALL(timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct k_itimerspec its = {.value = {0, 2000000}};
	struct linux_epoll_event ev;

	cr_assert_eq(CALL(timerfd_settime, tfd, 0, U(&its), 0), 0);
	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, tfd, EPOLLIN, 5), 0);
	cr_assert_eq(ep_wait(ep, &ev, 1, 1000), -EWAITING);
	shim_advance(2000000);
	cr_assert_eq(shim_wakes, 1);
	shim_unqueue();
	cr_assert_eq(ep_wait(ep, &ev, 1, 1000), 1);
	cr_assert_eq(ev.data, 5);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- the shared side */

/* In a shared syscall (shim_shared) epoll_wait answers only "nothing
 * ready, no wait", as the locked call would; a report and a wait ask for
 * the lock (shim_needs_lock) and change nothing: the locked run then
 * reports, or queues the thread. Its argument checks hold there too. */
Test(epoll, a_shared_wait_answers_only_nothing_ready_without_waiting)
{
	struct tfile *t;
	int ep = ep_new(), fd = tfile_open(&t);
	struct linux_epoll_event ev;
	struct k_timespec zero = {0, 0};

	cr_assert_eq(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 5), 0);
	shim_shared = 1;
	cr_assert_eq(ep_wait(ep, &ev, 1, 0), 0);
	cr_assert_eq(CALL(epoll_pwait, ep, U(&ev), 1, 0, 0, 0), 0);
	cr_assert_eq(CALL(epoll_pwait2, ep, U(&ev), 1, U(&zero), 0, 0), 0);
	cr_assert_eq(CALL(epoll_wait, ep, U(&ev), 0, 0), -EINVAL);
	cr_assert_eq(CALL(epoll_wait, fd, U(&ev), 1, 0), -EINVAL);
	cr_assert_eq(shim_needs_lock, 0);

	(void)ep_wait(ep, &ev, 1, 10);
	cr_assert_eq(shim_needs_lock, 1, "a wait is the lock's");
	cr_assert_eq(shim_queued(), 0, "and queued nothing");

	shim_needs_lock = 0;
	tfile_fill(t, 1);
	(void)ep_wait(ep, &ev, 1, 0);
	cr_assert_eq(shim_needs_lock, 1, "a report is the lock's");
	shim_shared = 0;
	shim_needs_lock = 0;
	cr_assert_eq(ep_one(ep, NULL), 5, "the edge is still there for the locked run");
	cr_assert_eq(ep_one(ep, NULL), -1);
	shim_close_all_and_check();
}
