/*
 * epoll - the epoll file kind and its syscalls (see epoll.h).
 *
 * An instance (struct eventpoll, the private state of an epoll file) owns
 * its interests (struct epitem), a ready list and one wait queue. An
 * interest is keyed by (descriptor number, file), as on Linux, holds no
 * reference to the file, and sits on three lists: the instance's list of
 * all its interests, the watched file's f->epitems (so that the file's
 * last file_put removes it: epoll_file_closed) and, while it may be ready,
 * the instance's ready list. It keeps one wait entry (struct ep_hook) on
 * every queue the file's poll operation named when it was added.
 *
 * A wake of such a queue (ep_item_wake) appends the interest to the ready
 * list, unless it is there already or its events cannot be what woke the
 * queue, and wakes the instance's queue. That queue holds the threads
 * waiting in epoll_wait and the hooks of the interests of the instances
 * that watch this one (nesting), so a wake climbs the nesting chain, one
 * level per instance: the depth limit below bounds that recursion, and the
 * loop check keeps chains from closing into cycles.
 *
 * epoll_wait reads only the ready list: it polls each interest on it
 * (without a poll table) and reports what holds. An interest that holds
 * nothing leaves the list. A reported level-triggered interest moves to
 * the back of the list (so that maxevents truncation is fair and it is
 * polled again next time); an edge-triggered one leaves the list until its
 * queue wakes again; an EPOLLONESHOT one leaves it and is disarmed (its
 * events keep only the flag bits, so that wakes pass it by) until
 * EPOLL_CTL_MOD. An epoll file's own poll walks its ready list the same
 * way, so a parent instance is told "readable" only when a child really
 * has something to report.
 *
 * Nesting: a chain of instances, each watching the next, holds at most
 * EPOLL_MAX_DEPTH = 5 instances: the top one and four nested below it
 * (Linux's EP_MAX_NESTS is 4; epoll_ctl(2) calls "a nesting depth of epoll
 * instances greater than 5" ELOOP). The check of an ADD looks both up
 * (the instances above the one added to) and down (those below the one
 * added), so no chain grows past the limit whichever end it is built from.
 *
 * One CPU, no preemption, no locks (kernel/wait.h). A wake callback
 * only appends to ready lists and wakes queues: it never polls, allocates
 * or frees, since it may run in a timer callback (a timerfd expiring)
 * with interrupts off.
 */
#include "fs/epoll.h"

#include "fs/fdtable.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/signal.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/wait.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

/* The longest chain of instances each watching the next (see the top). */
#define EPOLL_MAX_DEPTH 5

/* Linux's INT_MAX / sizeof(struct epoll_event): maxevents above is EINVAL. */
#define EP_MAX_EVENTS ((int)(INT32_MAX / sizeof(struct linux_epoll_event)))

/* Events copied to the app per app_copy_to (320 bytes of stack with
 * their interests). */
#define EP_BATCH 16

/* The bits of an interest's events that are flags, not events: what a
 * disarmed EPOLLONESHOT interest keeps. */
#define EP_FLAG_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)

/* What EPOLLEXCLUSIVE may come with (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define EP_EXCLUSIVE_OK_BITS                                                                       \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

struct eventpoll;

/* An interest's wait entry on one queue of the watched file. */
struct ep_hook {
	struct wait_entry entry; /* owner: the epitem */
	struct ep_hook *next;
};

struct epitem {
	struct eventpoll *ep;
	struct file *file; /* watched; no reference (see the top) */
	int fd;
	uint32_t events; /* asked for, with EPOLLERR | EPOLLHUP and the flags */
	uint64_t data;
	struct epitem *file_prev, *file_next; /* file->epitems */
	struct epitem *ep_prev, *ep_next;     /* ep->items */
	struct epitem *rd_prev, *rd_next;     /* ep's ready list, while ready */
	int ready;			      /* on the ready list */
	struct ep_hook *hooks;
};

struct eventpoll {
	struct file *file; /* the epoll file itself: its epitems are the parents */
	struct waitq wq;   /* epoll_wait's threads, the parents' hooks */
	struct epitem *items;
	struct epitem *rd_head, *rd_tail;
	/* The loop check's memo: depths found in walk number mark. */
	uint64_t mark_down, mark_up;
	int depth_down, depth_up;
};

static const struct file_ops epoll_ops;

/* ---------------------------------------------------------------- the lists */

static void file_link(struct epitem *it)
{
	struct file *f = it->file;

	it->file_prev = NULL;
	it->file_next = f->epitems;
	if (f->epitems)
		f->epitems->file_prev = it;
	f->epitems = it;
}

static void file_unlink(struct epitem *it)
{
	if (it->file_prev)
		it->file_prev->file_next = it->file_next;
	else
		it->file->epitems = it->file_next;
	if (it->file_next)
		it->file_next->file_prev = it->file_prev;
}

static void ep_link(struct epitem *it)
{
	struct eventpoll *ep = it->ep;

	it->ep_prev = NULL;
	it->ep_next = ep->items;
	if (ep->items)
		ep->items->ep_prev = it;
	ep->items = it;
}

static void ep_unlink(struct epitem *it)
{
	if (it->ep_prev)
		it->ep_prev->ep_next = it->ep_next;
	else
		it->ep->items = it->ep_next;
	if (it->ep_next)
		it->ep_next->ep_prev = it->ep_prev;
}

static void ready_append(struct epitem *it)
{
	struct eventpoll *ep = it->ep;

	it->ready = 1;
	it->rd_next = NULL;
	it->rd_prev = ep->rd_tail;
	if (ep->rd_tail)
		ep->rd_tail->rd_next = it;
	else
		ep->rd_head = it;
	ep->rd_tail = it;
}

static void ready_remove(struct epitem *it)
{
	struct eventpoll *ep = it->ep;

	if (!it->ready)
		return;
	if (it->rd_prev)
		it->rd_prev->rd_next = it->rd_next;
	else
		ep->rd_head = it->rd_next;
	if (it->rd_next)
		it->rd_next->rd_prev = it->rd_prev;
	else
		ep->rd_tail = it->rd_prev;
	it->rd_prev = it->rd_next = NULL;
	it->ready = 0;
}

/* The interest of ep in (fd, f), or NULL. Looks through f's interests,
 * which are few (usually one), not through ep's, which may be thousands. */
static struct epitem *ep_lookup(struct eventpoll *ep, struct file *f, int fd)
{
	for (struct epitem *it = f->epitems; it; it = it->file_next)
		if (it->ep == ep && it->fd == fd)
			return it;
	return NULL;
}

/* Takes it off every queue and list, and frees it. */
static void ep_item_free(struct epitem *it)
{
	struct ep_hook *h;

	while ((h = it->hooks)) {
		it->hooks = h->next;
		waitq_remove(&h->entry);
		kfree(h);
	}
	ready_remove(it);
	ep_unlink(it);
	file_unlink(it);
	kfree(it);
}

/* ---------------------------------------------------------------- readiness */

/* The events of it that hold now (none while it is disarmed). */
static unsigned ep_item_poll(struct epitem *it)
{
	return file_poll(it->file, NULL) & it->events;
}

/* A queue of the file it watches woke: it may be ready (see the top). */
static void ep_item_wake(struct wait_entry *e, unsigned events)
{
	struct epitem *it = e->owner;

	if (!(it->events & ~EP_FLAG_BITS))
		return; /* a disarmed EPOLLONESHOT interest */
	if (events && !(events & it->events))
		return; /* a hint, and not about what it waits for */
	if (!it->ready)
		ready_append(it);
	waitq_wake(&it->ep->wq, POLLIN);
}

/*
 * Whether an interest on ep's ready list holds events now; the ones that
 * do not leave the list, as epoll_wait would drop them. Looks only at what
 * was on the list when it started (a poll that wakes queues cannot make it
 * go on). Recurses through nested instances, EPOLL_MAX_DEPTH at most.
 */
static int ep_has_ready(struct eventpoll *ep)
{
	struct epitem *it = ep->rd_head, *last = ep->rd_tail, *next;

	while (it) {
		int end = it == last;
		if (ep_item_poll(it))
			return 1;
		next = it->rd_next;
		ready_remove(it);
		if (end)
			break;
		it = next;
	}
	return 0;
}

/* The interests in batch[0..n) were copied out: each leaves the ready list
 * or goes to its back, as its mode says. */
static void ep_reported(struct epitem **items, int n)
{
	for (int i = 0; i < n; i++) {
		struct epitem *it = items[i];
		ready_remove(it);
		if (it->events & EPOLLONESHOT)
			it->events &= EP_FLAG_BITS;
		else if (!(it->events & EPOLLET))
			ready_append(it); /* level-triggered: polled again next time */
	}
}

/*
 * ep_send_events - copies up to maxevents events of ep's ready list to the
 * app's array uevents, EP_BATCH at a time; an interest changes its place
 * (ep_reported) only once its event reached the app. Walks what was on the
 * list when it started, so that level-triggered interests sent to the back
 * are not seen twice. Returns how many were copied, or -EFAULT when the
 * first batch could not be (later failures return what was copied, as
 * Linux does).
 */
static long ep_send_events(struct eventpoll *ep, uint64_t uevents, int maxevents)
{
	struct linux_epoll_event batch[EP_BATCH];
	struct epitem *items[EP_BATCH];
	struct epitem *it = ep->rd_head, *last = ep->rd_tail, *next;
	long done = 0;
	int n = 0;

	while (it && done + n < maxevents) {
		int end = it == last;
		unsigned revents = ep_item_poll(it);
		next = it->rd_next;
		if (!revents) {
			ready_remove(it);
		} else {
			batch[n] = (struct linux_epoll_event){.events = revents, .data = it->data};
			items[n++] = it;
		}
		if (n == EP_BATCH || (n && (end || !next || done + n == maxevents))) {
			if (app_copy_to(uevents + (uint64_t)done * sizeof(batch[0]), batch,
					n * sizeof(batch[0])))
				return done ? done : -EFAULT;
			ep_reported(items, n);
			done += n;
			n = 0;
		}
		if (end)
			break;
		it = next;
	}
	return done;
}

/* ---------------------------------------------------------------- the loop check */

static uint64_t ep_walk; /* the number of the current loop-check walk */

/*
 * The longest chain of instances from ep down through the epoll files it
 * watches, ep counted; -1 when that is more than max or target is in it
 * (adding target's file would close a cycle). Each instance is walked
 * once per check (the memo), so a wide graph costs its size, not its
 * paths; the recursion is at most max deep.
 */
static int ep_depth_down(struct eventpoll *ep, const struct eventpoll *target, int max)
{
	int depth = 1;

	if (ep == target || max < 1)
		return -1;
	if (ep->mark_down == ep_walk)
		return ep->depth_down <= max ? ep->depth_down : -1;
	for (struct epitem *it = ep->items; it; it = it->ep_next) {
		if (it->file->ops != &epoll_ops)
			continue;
		int d = ep_depth_down(it->file->priv, target, max - 1);
		if (d < 0)
			return -1;
		depth = MAX(depth, d + 1);
	}
	ep->mark_down = ep_walk;
	ep->depth_down = depth;
	return depth;
}

/* The longest chain of instances from ep up through those that watch its
 * file, ep counted; -1 when more than max. */
static int ep_depth_up(struct eventpoll *ep, int max)
{
	int depth = 1;

	if (max < 1)
		return -1;
	if (ep->mark_up == ep_walk)
		return ep->depth_up <= max ? ep->depth_up : -1;
	for (struct epitem *it = ep->file->epitems; it; it = it->file_next) {
		int d = ep_depth_up(it->ep, max - 1);
		if (d < 0)
			return -1;
		depth = MAX(depth, d + 1);
	}
	ep->mark_up = ep_walk;
	ep->depth_up = depth;
	return depth;
}

/* Whether ep watching the instance child would close a cycle or make a
 * chain longer than EPOLL_MAX_DEPTH. */
static int ep_would_loop(struct eventpoll *ep, struct eventpoll *child)
{
	int up;

	ep_walk++;
	up = ep_depth_up(ep, EPOLL_MAX_DEPTH - 1);
	return up < 0 || ep_depth_down(child, ep, EPOLL_MAX_DEPTH - up) < 0;
}

/* ---------------------------------------------------------------- epoll_ctl */

/* The poll table of EPOLL_CTL_ADD: each queue the file names gets a hook. */
struct ep_queue {
	struct poll_table pt; /* first: the callback's pt is this struct */
	struct epitem *item;
	int err;
};

static void ep_queue_hook(struct poll_table *pt, struct waitq *wq)
{
	struct ep_queue *q = (struct ep_queue *)pt;
	struct ep_hook *h;

	if (q->err)
		return;
	h = kmalloc(sizeof(*h));
	if (!h) {
		q->err = -ENOMEM;
		return;
	}
	wait_entry_init(&h->entry, ep_item_wake, q->item);
	h->next = q->item->hooks;
	q->item->hooks = h;
	waitq_add(wq, &h->entry);
}

static long ep_insert(struct eventpoll *ep, struct file *f, int fd,
		      const struct linux_epoll_event *ev)
{
	struct ep_queue q = {.pt = {ep_queue_hook}};
	struct epitem *it = kmalloc(sizeof(*it));
	unsigned revents;

	if (!it)
		return -ENOMEM;
	*it = (struct epitem){.ep = ep,
			      .file = f,
			      .fd = fd,
			      .events = ev->events | EPOLLERR | EPOLLHUP,
			      .data = ev->data};
	file_link(it);
	ep_link(it);
	q.item = it;
	revents = file_poll(f, &q.pt) & it->events;
	if (q.err) {
		ep_item_free(it);
		return q.err;
	}
	if (revents) {
		ready_append(it);
		waitq_wake(&ep->wq, POLLIN);
	}
	return 0;
}

static void ep_modify(struct epitem *it, const struct linux_epoll_event *ev)
{
	it->events = ev->events | EPOLLERR | EPOLLHUP;
	it->data = ev->data;
	if (ep_item_poll(it) && !it->ready) {
		ready_append(it);
		waitq_wake(&it->ep->wq, POLLIN);
	}
}

/* Linux's checks, in Linux's order. */
SYSCALL_DEFINE4(epoll_ctl, int, epfd, int, op, int, fd, uint64_t, uevent)
{
	struct linux_epoll_event ev = {0};
	struct file *ef, *tf;
	struct eventpoll *ep;
	struct epitem *it;

	if (op != EPOLL_CTL_DEL && app_copy_from(&ev, uevent, sizeof(ev)))
		return -EFAULT;
	ef = fd_get(epfd);
	tf = fd_get(fd);
	if (!ef || !tf)
		return -EBADF;
	if (!file_pollable(tf))
		return -EPERM;
	if (ef == tf || ef->ops != &epoll_ops)
		return -EINVAL;
	ep = ef->priv;
	if (op != EPOLL_CTL_DEL && (ev.events & EPOLLEXCLUSIVE)) {
		/* Exclusive hooks are made at ADD only, never on an epoll. */
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == EPOLL_CTL_ADD &&
		    (tf->ops == &epoll_ops || (ev.events & ~EP_EXCLUSIVE_OK_BITS)))
			return -EINVAL;
	}
	if (op == EPOLL_CTL_ADD && tf->ops == &epoll_ops && ep_would_loop(ep, tf->priv))
		return -ELOOP;
	it = ep_lookup(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		return it ? -EEXIST : ep_insert(ep, tf, fd, &ev);
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		ep_item_free(it);
		return 0;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		ep_modify(it, &ev);
		return 0;
	default:
		return -EINVAL;
	}
}

void epoll_file_closed(struct file *f)
{
	while (f->epitems)
		ep_item_free(f->epitems);
}

/* ---------------------------------------------------------------- the file */

static unsigned ep_poll(struct file *f, struct poll_table *pt)
{
	struct eventpoll *ep = f->priv;

	poll_wait(pt, &ep->wq);
	return ep_has_ready(ep) ? POLLIN | POLLRDNORM : 0;
}

static void ep_release(struct file *f)
{
	struct eventpoll *ep = f->priv;

	while (ep->items)
		ep_item_free(ep->items);
	/* The parents' hooks went with epoll_file_closed; a thread of the app
	 * may still wait in epoll_wait on a descriptor another thread closed:
	 * wake it (its retry finds EBADF), and leave no entry on the queue. */
	waitq_release(&ep->wq);
	kfree(ep);
}

static const struct file_ops epoll_ops = {
    .kind = "epoll",
    .poll = ep_poll,
    .release = ep_release,
};

static long ep_create(int flags)
{
	struct eventpoll *ep;
	struct file *f;
	int fd;

	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	ep = zmalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	waitq_init(&ep->wq);
	f = file_new(&epoll_ops, O_RDWR, ep);
	if (!f) {
		kfree(ep);
		return -ENOMEM;
	}
	ep->file = f;
	fd = fd_install(0, f, (flags & EPOLL_CLOEXEC) != 0);
	file_put(f); /* the descriptor holds it now, or nothing does */
	return fd;
}

SYSCALL_DEFINE1(epoll_create, int, size)
{
	return size <= 0 ? -EINVAL : ep_create(0);
}

SYSCALL_DEFINE1(epoll_create1, int, flags)
{
	return ep_create(flags);
}

/* ---------------------------------------------------------------- epoll_wait */

/*
 * ep_wait - the four epoll_wait calls: reports what the ready list holds
 * or, with none and a timeout (ns: 0 returns at once, UINT64_MAX never
 * times out), waits on the instance's queue under sigmask (when not NULL)
 * and is run again when woken. The deadline is set in the first attempt
 * (thread_wait_deadline) and kept by the retries. A signal ends the wait
 * with EINTR, never restarted, as on Linux; the deadline returns 0. A
 * call that finds nothing ready and must not wait (Go's netpoll(0))
 * runs beside other CPUs.
 */
static long ep_wait(int epfd, uint64_t uevents, int maxevents, uint64_t timeout_ns,
		    const uint64_t *sigmask)
{
	struct eventpoll *ep;
	struct file *f;
	long n;

	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	/* Linux's access_ok: the array must lie in the app's half. */
	if (uevents >= VM_USER_TOP ||
	    (uint64_t)maxevents * sizeof(struct linux_epoll_event) > VM_USER_TOP - uevents)
		return -EFAULT;
	f = fd_get(epfd);
	if (!f)
		return -EBADF;
	if (f->ops != &epoll_ops)
		return -EINVAL;
	ep = f->priv;
	/* On the kernel lock's shared side (kernel/syscall.h) only "nothing
	 * ready, no wait" is answered, which changes nothing: there the ready
	 * list changes only under LOCK_THREADS, by a wake, so one seen empty
	 * was empty when the call looked. A report (which polls the files)
	 * and a wait are the kernel lock's. */
	if (syscall_shared()) {
		if (timeout_ns || __atomic_load_n(&ep->rd_head, __ATOMIC_RELAXED))
			return syscall_needs_lock();
		return 0;
	}
	n = ep_send_events(ep, uevents, maxevents);
	if (n || !timeout_ns)
		return n;
	if (sigmask)
		signal_set_temporary_mask(*sigmask);
	n = thread_wait_on(&ep->wq);
	if (n)
		return n;
	n = thread_wait(thread_wait_deadline(timeout_ns), -EINTR, "epoll_wait", 0);
	return n == -ETIMEDOUT ? 0 : n;
}

/* epoll_wait's milliseconds: negative is forever. */
static uint64_t ep_timeout_ms(int ms)
{
	return ms < 0 ? UINT64_MAX : (uint64_t)ms * NSEC_PER_MSEC;
}

SYSCALL_DEFINE4(epoll_wait, int, epfd, uint64_t, uevents, int, maxevents, int, timeout)
{
	return ep_wait(epfd, uevents, maxevents, ep_timeout_ms(timeout), NULL);
}

SYSCALL_DEFINE6(epoll_pwait, int, epfd, uint64_t, uevents, int, maxevents, int, timeout, uint64_t,
		usigmask, uint64_t, sigsetsize)
{
	uint64_t mask;
	long err;

	/* As on Linux, sigsetsize counts only with a mask: Go passes none and
	 * leaves sigsetsize as it is. */
	if (!usigmask)
		return ep_wait(epfd, uevents, maxevents, ep_timeout_ms(timeout), NULL);
	err = signal_copy_sigset(usigmask, sigsetsize, &mask);
	if (err)
		return err;
	return ep_wait(epfd, uevents, maxevents, ep_timeout_ms(timeout), &mask);
}

SYSCALL_DEFINE6(epoll_pwait2, int, epfd, uint64_t, uevents, int, maxevents, uint64_t, utimeout,
		uint64_t, usigmask, uint64_t, sigsetsize)
{
	uint64_t timeout_ns = UINT64_MAX, mask;
	long err;

	if (utimeout) {
		err = time_copy_timespec(utimeout, &timeout_ns);
		if (err)
			return err;
	}
	if (!usigmask)
		return ep_wait(epfd, uevents, maxevents, timeout_ns, NULL);
	err = signal_copy_sigset(usigmask, sigsetsize, &mask);
	if (err)
		return err;
	return ep_wait(epfd, uevents, maxevents, timeout_ns, &mask);
}
