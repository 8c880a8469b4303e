/* poll and select (see select.h). */
#include "fs/select.h"

#include "fs/fdtable.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/signal.h"
#include "kernel/thread.h"
#include "kernel/time.h"

#define POLL_BATCH 64 /* pollfds copied at a time: the kernel stack is small */
#define SET_WORDS  (FD_SETSIZE / 64)

/* A user timespec as ns (UINT64_MAX for NULL: no timeout). */
static int timespec_ns(uint64_t uts, uint64_t *ns)
{
	*ns = UINT64_MAX;
	return uts ? time_copy_timespec(uts, ns) : 0;
}

/* ppoll's and pselect6's mask: read and made the temporary one. */
static int use_mask(uint64_t umask, uint64_t size)
{
	uint64_t mask;
	int err = umask ? signal_copy_sigset(umask, size, &mask) : 0;

	if (!err && umask)
		signal_set_temporary_mask(mask);
	return err;
}

/* After every file was asked (and, with may_wait, the thread queued on
 * them): ready when something is, else wait until the deadline. */
static long finish(long ready, uint64_t deadline, int may_wait, const char *what)
{
	if (ready || !may_wait) {
		thread_wait_cancel();
		return ready;
	}
	long err = thread_wait(deadline, -EINTR, what, 0);
	return err == -ETIMEDOUT ? 0 : err;
}

static long do_poll(uint64_t ufds, uint64_t nfds, uint64_t timeout_ns)
{
	struct linux_pollfd batch[POLL_BATCH];
	uint64_t deadline = thread_wait_deadline(timeout_ns);
	int may_wait = timeout_ns != 0;
	struct poll_table *pt = may_wait ? thread_poll_table() : NULL;
	long ready = 0;

	if (nfds > FD_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < nfds; i += POLL_BATCH) {
		size_t n = (size_t)MIN(nfds - i, (uint64_t)POLL_BATCH);
		if (app_copy_from(batch, ufds + i * sizeof(batch[0]), n * sizeof(batch[0]))) {
			thread_wait_cancel();
			return -EFAULT;
		}
		for (size_t j = 0; j < n; j++) {
			struct linux_pollfd *p = &batch[j];
			struct file *f = p->fd < 0 ? NULL : fd_get(p->fd);
			unsigned want = (uint16_t)p->events | POLLERR | POLLHUP | POLLNVAL;
			if (p->fd < 0)
				p->revents = 0;
			else if (!f)
				p->revents = POLLNVAL;
			else
				p->revents = (int16_t)(file_poll(f, ready ? NULL : pt) & want);
			ready += p->revents != 0;
		}
		if (app_copy_to(ufds + i * sizeof(batch[0]), batch, n * sizeof(batch[0]))) {
			thread_wait_cancel();
			return -EFAULT;
		}
	}
	return finish(ready, deadline, may_wait, "poll");
}

SYSCALL_DEFINE3(poll, uint64_t, fds, uint64_t, nfds, int, timeout_ms)
{
	return do_poll(fds, nfds,
		       timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * NSEC_PER_MSEC);
}

SYSCALL_DEFINE5(ppoll, uint64_t, fds, uint64_t, nfds, uint64_t, timeout, uint64_t, sigmask,
		uint64_t, sigsetsize)
{
	uint64_t ns;
	int err = timespec_ns(timeout, &ns);

	if (!err)
		err = use_mask(sigmask, sigsetsize);
	return err ? err : do_poll(fds, nfds, ns);
}

/* select over the three fd_set bitmaps (any may be NULL). */
static long do_select(int nfds, uint64_t rset, uint64_t wset, uint64_t eset, uint64_t timeout_ns)
{
	uint64_t in[3][SET_WORDS] = {{0}}, out[3][SET_WORDS];
	uint64_t sets[3] = {rset, wset, eset};
	static const unsigned match[3] = {POLLIN | POLLRDNORM | POLLHUP | POLLERR,
					  POLLOUT | POLLWRNORM | POLLERR, POLLPRI};
	uint64_t deadline = thread_wait_deadline(timeout_ns);
	int may_wait = timeout_ns != 0;
	struct poll_table *pt = may_wait ? thread_poll_table() : NULL;
	long ready = 0;

	if (nfds < 0)
		return -EINVAL;
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	size_t bytes = ALIGN_UP((size_t)nfds, (size_t)64) / 8;
	for (int k = 0; k < 3; k++) {
		if (sets[k] && app_copy_from(in[k], sets[k], bytes))
			return -EFAULT;
	}
	memset(out, 0, sizeof(out));
	for (int fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1ull << (fd % 64);
		int word = fd / 64;
		if (!((in[0][word] | in[1][word] | in[2][word]) & bit))
			continue;
		struct file *f = fd_get(fd);
		if (!f) {
			thread_wait_cancel();
			return -EBADF;
		}
		unsigned ev = file_poll(f, ready ? NULL : pt);
		for (int k = 0; k < 3; k++) {
			if ((in[k][word] & bit) && (ev & match[k])) {
				out[k][word] |= bit;
				ready++;
			}
		}
	}
	long ret = finish(ready, deadline, may_wait, "select");
	if (ret < 0)
		return ret;
	for (int k = 0; k < 3; k++) {
		if (sets[k] && app_copy_to(sets[k], out[k], bytes))
			return -EFAULT;
	}
	return ret;
}

SYSCALL_DEFINE5(select, int, nfds, uint64_t, rset, uint64_t, wset, uint64_t, eset, uint64_t,
		utimeout)
{
	struct k_timeval tv;
	uint64_t ns = UINT64_MAX;

	if (utimeout) {
		if (app_copy_from(&tv, utimeout, sizeof(tv)))
			return -EFAULT;
		if (tv.sec < 0 || tv.usec < 0)
			return -EINVAL;
		ns = (uint64_t)tv.sec > UINT64_MAX / NSEC_PER_SEC - 1
			 ? UINT64_MAX - 1
			 : (uint64_t)tv.sec * NSEC_PER_SEC + (uint64_t)(tv.usec % 1000000) * 1000;
	}
	long ret = do_select(nfds, rset, wset, eset, ns);
	if (utimeout && ret >= 0) {
		/* Linux leaves the time that was left in the timeval. */
		uint64_t now = time_now(), deadline = thread_wait_deadline(ns);
		uint64_t left = deadline > now ? deadline - now : 0;
		tv = (struct k_timeval){(int64_t)(left / NSEC_PER_SEC),
					(int64_t)(left % NSEC_PER_SEC / NSEC_PER_USEC)};
		if (app_copy_to(utimeout, &tv, sizeof(tv)))
			return -EFAULT;
	}
	return ret;
}

SYSCALL_DEFINE6(pselect6, int, nfds, uint64_t, rset, uint64_t, wset, uint64_t, eset, uint64_t,
		utimeout, uint64_t, usig)
{
	uint64_t ns, sig[2]; /* { const sigset_t *ss; size_t ss_len; } */
	int err = timespec_ns(utimeout, &ns);

	if (err)
		return err;
	if (usig) {
		if (app_copy_from(sig, usig, sizeof(sig)))
			return -EFAULT;
		err = use_mask(sig[0], sig[1]);
		if (err)
			return err;
	}
	return do_select(nfds, rset, wset, eset, ns);
}
