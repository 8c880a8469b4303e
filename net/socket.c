/*
 * Sockets as files, and the socket syscalls (see socket.h).
 *
 * Everything that waits waits here, never in a family: a call tries the
 * family's operation; when that says -EAGAIN (-EINPROGRESS for connect)
 * and the socket blocks (no O_NONBLOCK on the file, no MSG_DONTWAIT), the
 * calling thread joins s->wq through the family's poll and returns
 * thread_wait, with SO_RCVTIMEO / SO_SNDTIMEO as the deadline. When it is
 * woken, the handler runs again from the start (kernel/thread.h); what a
 * call had done before it waited (bytes of a blocking send, of a
 * MSG_WAITALL receive, messages of recvmmsg) is its wait progress.
 *
 * Restart codes are Linux's: -ERESTARTSYS without a timeout, -EINTR with
 * one (sock_intr_errno); a timeout is EAGAIN (EINPROGRESS for connect).
 */
#include "net/socket.h"

#include "fs/fdtable.h"
#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/signal.h"
#include "kernel/thread.h"
#include "mm/kmalloc.h"
#include "net/inet.h"
#include "net/netlink.h"
#include "net/unix.h"

#define SOCKFS_DEV     0x8
#define SOCKOPT_MAX    256   /* the most option bytes copied in */
#define CONTROL_MAX    20480 /* Linux's optmem_max: larger control data is ENOBUFS */
#define RCVBUF_DEFAULT 65536 /* reported doubled: Linux's 131072 */
#define SNDBUF_DEFAULT 8192  /* reported doubled: Linux's 16384 */
#define BUF_MIN	       1152  /* half of Linux's SOCK_MIN_RCVBUF */
#define BUF_MAX	       (16 * 1024 * 1024)
#define WAIT_SPINS     2 /* retries when poll says ready but the op says -EAGAIN */

/* The families: one line each for the modules that are built in. */
static const struct sock_family *families[AF_MAX] = {
    [AF_INET] = &inet_family,
    [AF_INET6] = &inet6_family,
    [AF_UNIX] = &unix_family,
    [AF_NETLINK] = &netlink_family,
};
static long (*interface_ioctl)(unsigned cmd, uint64_t arg) = netlink_interface_ioctl;

void sock_register_family(const struct sock_family *fam)
{
	if (fam->family > 0 && fam->family < AF_MAX)
		families[fam->family] = fam;
}

void sock_register_interface_ioctl(long (*fn)(unsigned cmd, uint64_t arg))
{
	interface_ioctl = fn;
}

void sock_init(struct sock *s, const struct sock_ops *ops, int family, int type, int protocol)
{
	*s = (struct sock){.ops = ops,
			   .family = family,
			   .type = type,
			   .protocol = protocol,
			   .rcvbuf = RCVBUF_DEFAULT,
			   .sndbuf = SNDBUF_DEFAULT,
			   .rcvlowat = 1};
	waitq_init(&s->wq);
}

int sock_error_take(struct sock *s)
{
	int err = s->error;

	s->error = 0;
	return -err;
}

/* ---------------------------------------------------------------- waiting */

static int sock_nonblocking(const struct sock *s, int flags)
{
	return (flags & MSG_DONTWAIT) || (s->file && (s->file->flags & O_NONBLOCK));
}

/*
 * Waits for events on s for at most timeout_ns (0: no limit) from the
 * first attempt of this syscall: -EWAITING, the restart code when a signal
 * is pending, -EAGAIN at the deadline, or 1 when s turned out ready
 * already (the caller tries again now; at most WAIT_SPINS times per
 * attempt, in case a family's poll and operations disagree).
 */
static long sock_wait(struct sock *s, unsigned events, uint64_t timeout_ns, const char *what,
		      int *spins)
{
	uint64_t deadline = timeout_ns ? thread_wait_deadline(timeout_ns) : 0;
	unsigned ready = s->ops->poll(s, thread_poll_table());

	if ((ready & (events | POLLERR | POLLHUP)) && (*spins)++ < WAIT_SPINS) {
		thread_wait_cancel();
		return 1;
	}
	long r = thread_wait(deadline, timeout_ns ? -EINTR : -ERESTARTSYS, what, 0);
	return r == -ETIMEDOUT ? -EAGAIN : r;
}

/*
 * Sends all of m (a stream) or the one datagram, waiting when blocking.
 * With keep_progress the bytes sent before a wait are this syscall's wait
 * progress (skipped in the retry); without, a wait after some bytes ends
 * the call with those. -EPIPE raises SIGPIPE unless MSG_NOSIGNAL.
 */
static long sock_send(struct sock *s, struct sock_msg *m, int flags, int keep_progress)
{
	uint64_t total = iobuf_left(m->data);
	uint64_t done = keep_progress ? thread_wait_progress() : 0;
	int spins = 0;

	iobuf_skip(m->data, done);
	for (;;) {
		long n = s->ops->sendmsg ? s->ops->sendmsg(s, m, flags) : -EOPNOTSUPP;
		if (n > 0) {
			done += (uint64_t)n;
			if (done >= total || s->type != SOCK_STREAM)
				return (long)done;
			continue;
		}
		if (n == 0)
			return (long)done;
		if (n == -EPIPE && !done && !(flags & MSG_NOSIGNAL))
			signal_raise(thread_current(), SIGPIPE, NULL);
		if (n != -EAGAIN || sock_nonblocking(s, flags) || (done && !keep_progress))
			return done ? (long)done : n;
		long w = sock_wait(s, POLLOUT, s->sndtimeo_ns, "send", &spins);
		if (w == 1)
			continue;
		if (w == -EWAITING) {
			thread_set_wait_progress(done);
			return w;
		}
		return done ? (long)done : w;
	}
}

/*
 * Receives into m, waiting when blocking; with MSG_WAITALL on a stream
 * until the buffer is full, the stream ends or an error or signal comes
 * (the bytes so far being the wait progress with keep_progress).
 * timeout_ns: the wait's limit (SO_RCVTIMEO, or recvmmsg's).
 */
static long sock_recv(struct sock *s, struct sock_msg *m, int flags, uint64_t timeout_ns,
		      int keep_progress)
{
	uint64_t total = iobuf_left(m->data);
	uint64_t done = keep_progress ? thread_wait_progress() : 0;
	int waitall = (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && s->type == SOCK_STREAM;
	int spins = 0;

	if (!s->ops->recvmsg)
		return -EOPNOTSUPP;
	iobuf_skip(m->data, done);
	for (;;) {
		long n = s->ops->recvmsg(s, m, flags & ~MSG_WAITALL);
		if (n > 0) {
			done += (uint64_t)n;
			if (!waitall || done >= total)
				return (long)done;
			continue;
		}
		if (n == 0 && total)
			return (long)done; /* end of stream */
		if (n == 0)
			return 0;
		if (n != -EAGAIN || sock_nonblocking(s, flags))
			return done ? (long)done : n;
		long w = sock_wait(s, POLLIN, timeout_ns, "recv", &spins);
		if (w == 1)
			continue;
		if (w == -EWAITING && keep_progress) {
			thread_set_wait_progress(done);
			return w;
		}
		if (w == -EWAITING && done)
			return (long)done;
		return done ? (long)done : w;
	}
}

/* ---------------------------------------------------------------- the file kind */

static long sock_file_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct sock *s = f->priv;
	struct sock_msg m = {.data = b};

	(void)pos;
	if (syscall_shared() && !s->ops->shared_io)
		return syscall_needs_lock();
	return s->ops->recvmsg ? s->ops->recvmsg(s, &m, 0) : -EINVAL;
}

static long sock_file_write(struct file *f, struct iobuf *b, uint64_t *pos)
{
	struct sock *s = f->priv;
	struct sock_msg m = {.data = b};

	(void)pos;
	if (!s->ops->sendmsg)
		return -EINVAL;
	if (syscall_shared() && !s->ops->shared_io)
		return syscall_needs_lock();
	long n = s->ops->sendmsg(s, &m, 0);
	if (n == -EPIPE) {
		if (syscall_shared()) /* (a family's shared send changed nothing then) */
			return syscall_needs_lock();
		signal_raise(thread_current(), SIGPIPE, NULL);
	}
	return n;
}

static unsigned sock_file_poll(struct file *f, struct poll_table *pt)
{
	struct sock *s = f->priv;

	return s->ops->poll(s, pt);
}

static long sock_file_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct sock *s = f->priv;

	if (cmd == FIONREAD) {
		long n = s->ops->inq ? s->ops->inq(s) : 0;
		if (n < 0)
			return n;
		int32_t v = (int32_t)MIN(n, (long)INT32_MAX);
		return app_copy_to(arg, &v, sizeof(v));
	}
	if (s->ops->ioctl) {
		long r = s->ops->ioctl(s, cmd, arg);
		if (r != -ENOTTY)
			return r;
	}
	if (cmd >= SIOC_IF_FIRST && cmd <= SIOC_IF_LAST && interface_ioctl)
		return interface_ioctl(cmd, arg);
	return -ENOTTY;
}

static int sock_file_stat(struct file *f, struct kstat *st)
{
	*st = (struct kstat){
	    .dev = SOCKFS_DEV, .ino = f->id, .nlink = 1, .mode = S_IFSOCK | 0777, .blksize = 4096};
	return 0;
}

static void sock_file_release(struct file *f)
{
	struct sock *s = f->priv;

	s->file = NULL;
	/* A thread of the app may still wait (accept, recv, connect, poll)
	 * on a descriptor another thread closed: wake it (its retry finds
	 * EBADF) before the family frees s and its queue. */
	waitq_release(&s->wq);
	s->ops->release(s);
}

static uint64_t sock_file_wait_timeout(struct file *f, int writing)
{
	struct sock *s = f->priv;

	return writing ? s->sndtimeo_ns : s->rcvtimeo_ns;
}

static const struct file_ops sock_file_ops = {
    .kind = "socket",
    .wait_timeout = sock_file_wait_timeout,
    .read = sock_file_read,
    .write = sock_file_write,
    .shared_read = 1,  /* when the family's shared_io says so */
    .shared_write = 1, /* the same; SIGPIPE asks for the kernel lock */
    .poll = sock_file_poll,
    .ioctl = sock_file_ioctl,
    .stat = sock_file_stat,
    .release = sock_file_release,
};

struct sock *sock_from_file(struct file *f)
{
	return f && f->ops == &sock_file_ops ? f->priv : NULL;
}

struct file *sock_file_new(struct sock *s, unsigned flags)
{
	struct file *f = file_new(&sock_file_ops, O_RDWR | (flags & O_NONBLOCK), s);

	if (f)
		s->file = f;
	return f;
}

/* ---------------------------------------------------------------- copies */

/* The socket of descriptor fd: -EBADF, -ENOTSOCK. */
static long sock_fd(int fd, struct sock **s)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	*s = sock_from_file(f);
	return *s ? 0 : -ENOTSOCK;
}

/* An address from the app: -EINVAL for a length over 128 bytes, -EFAULT. */
static int addr_in(struct linux_sockaddr_storage *a, uint64_t uaddr, uint32_t len)
{
	*a = (struct linux_sockaddr_storage){0};
	if (len > sizeof(*a))
		return -EINVAL;
	return app_copy_from(a, uaddr, len) ? -EFAULT : 0;
}

/* The app's room for an address (the int at ulen): -EFAULT, -EINVAL. */
static int addr_room(uint64_t ulen, uint32_t *room)
{
	int32_t n;

	if (app_copy_from(&n, ulen, sizeof(n)))
		return -EFAULT;
	if (n < 0)
		return -EINVAL;
	*room = (uint32_t)n;
	return 0;
}

/* An address to the app: as much as fits in room bytes, the full length
 * to the int at ulen (Linux's move_addr_to_user). */
static int addr_out(const struct linux_sockaddr_storage *a, uint32_t len, uint64_t uaddr,
		    uint32_t room, uint64_t ulen)
{
	int32_t n = (int32_t)len;

	if (len > sizeof(*a))
		len = sizeof(*a);
	if (app_copy_to(uaddr, a, MIN(len, room)))
		return -EFAULT;
	return app_copy_to(ulen, &n, sizeof(n)) ? -EFAULT : 0;
}

/* ---------------------------------------------------------------- socket, socketpair */

static int split_type(int *type, unsigned *fflags, int *cloexec)
{
	if (*type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	*fflags = (*type & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
	*cloexec = (*type & SOCK_CLOEXEC) != 0;
	*type &= SOCK_TYPE_MASK;
	return 0;
}

static int sock_create(int family, int type, int protocol, struct sock **s)
{
	if (family < 0 || family >= AF_MAX || !families[family])
		return -EAFNOSUPPORT;
	if (type < SOCK_STREAM || type > SOCK_SEQPACKET)
		return -EINVAL;
	return families[family]->create(type, protocol, s);
}

/* A file for s on the lowest free descriptor: the descriptor, or -errno
 * (s is released then). */
static int sock_install(struct sock *s, unsigned fflags, int cloexec)
{
	struct file *f = sock_file_new(s, fflags);

	if (!f) {
		s->ops->release(s);
		return -ENOMEM;
	}
	int fd = fd_install(0, f, cloexec);
	file_put(f); /* the descriptor's reference, or the release */
	return fd;
}

SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)
{
	unsigned fflags;
	int cloexec;
	struct sock *s;

	int err = split_type(&type, &fflags, &cloexec);
	if (!err)
		err = sock_create(family, type, protocol, &s);
	return err ? err : sock_install(s, fflags, cloexec);
}

SYSCALL_DEFINE4(socketpair, int, family, int, type, int, protocol, uint64_t, usv)
{
	unsigned fflags;
	int cloexec;
	struct sock *a, *b;
	int32_t sv[2];

	int err = split_type(&type, &fflags, &cloexec);
	if (err)
		return err;
	err = sock_create(family, type, protocol, &a);
	if (err)
		return err;
	if (!a->ops->pair) {
		a->ops->release(a);
		return -EOPNOTSUPP;
	}
	err = sock_create(family, type, protocol, &b);
	if (err) {
		a->ops->release(a);
		return err;
	}
	err = a->ops->pair(a, b);
	if (err) {
		a->ops->release(a);
		b->ops->release(b);
		return err;
	}
	sv[0] = sock_install(a, fflags, cloexec);
	if (sv[0] < 0) {
		b->ops->release(b);
		return sv[0];
	}
	sv[1] = sock_install(b, fflags, cloexec);
	if (sv[1] < 0) {
		fd_close(sv[0]);
		return sv[1];
	}
	if (app_copy_to(usv, sv, sizeof(sv))) {
		fd_close(sv[0]);
		fd_close(sv[1]);
		return -EFAULT;
	}
	return 0;
}

/* ---------------------------------------------------------------- bind, listen, accept, connect */

/* The socket behind fd and a kernel copy of the app's address (bind and
 * connect): 0, -EBADF, -ENOTSOCK, -EINVAL (negative or too long), -EFAULT. */
static long sock_fd_addr(int fd, uint64_t uaddr, int32_t len, struct sock **s,
			 struct linux_sockaddr_storage *a)
{
	long err = sock_fd(fd, s);

	if (err)
		return err;
	if (len < 0)
		return -EINVAL;
	return addr_in(a, uaddr, (uint32_t)len);
}

SYSCALL_DEFINE3(bind, int, fd, uint64_t, uaddr, int32_t, len)
{
	struct linux_sockaddr_storage a;
	struct sock *s;
	long err = sock_fd_addr(fd, uaddr, len, &s, &a);

	if (err)
		return err;
	return s->ops->bind ? s->ops->bind(s, &a, (unsigned)len) : -EOPNOTSUPP;
}

SYSCALL_DEFINE2(listen, int, fd, int, backlog)
{
	struct sock *s;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	if (!s->ops->listen)
		return -EOPNOTSUPP;
	if ((unsigned)backlog > SOMAXCONN)
		backlog = SOMAXCONN; /* negative too, as Linux */
	err = s->ops->listen(s, backlog);
	if (!err)
		s->listening = 1;
	return err;
}

/* What an accepted socket takes from its listener at the socket level. */
static void sock_inherit(struct sock *child, const struct sock *s)
{
	child->opts = s->opts;
	child->rcvtimeo_ns = s->rcvtimeo_ns;
	child->sndtimeo_ns = s->sndtimeo_ns;
	child->rcvbuf = s->rcvbuf;
	child->sndbuf = s->sndbuf;
	child->rcvlowat = s->rcvlowat;
	child->linger = s->linger;
	child->priority = s->priority;
	child->mark = s->mark;
}

static long do_accept(int fd, uint64_t uaddr, uint64_t ulen, int flags)
{
	struct linux_sockaddr_storage a;
	struct sock *s, *child;
	uint32_t room = 0, len = 0;
	int spins = 0;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (!s->ops->accept)
		return -EOPNOTSUPP;
	/* The app's room first: a bad length must not cost a connection. */
	if (uaddr && (err = addr_room(ulen, &room)))
		return err;
	for (;;) {
		err = s->ops->accept(s, &child);
		if (err != -EAGAIN)
			break;
		if (sock_nonblocking(s, 0))
			return -EAGAIN;
		long w = sock_wait(s, POLLIN, s->rcvtimeo_ns, "accept", &spins);
		if (w != 1)
			return w;
	}
	if (err)
		return err;
	sock_inherit(child, s);
	if (uaddr && child->ops->getname && child->ops->getname(child, &a, &len, 1))
		len = 0; /* reset before we asked: Linux reports what it can */
	int nfd = sock_install(child, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0,
			       (flags & SOCK_CLOEXEC) != 0);
	if (nfd < 0)
		return nfd;
	if (uaddr && addr_out(&a, len, uaddr, room, ulen)) {
		fd_close(nfd);
		return -EFAULT;
	}
	return nfd;
}

SYSCALL_DEFINE3(accept, int, fd, uint64_t, uaddr, uint64_t, ulen)
{
	return do_accept(fd, uaddr, ulen, 0);
}

SYSCALL_DEFINE4(accept4, int, fd, uint64_t, uaddr, uint64_t, ulen, int, flags)
{
	return do_accept(fd, uaddr, ulen, flags);
}

/*
 * connect: the first attempt starts the connection; when the family says
 * -EINPROGRESS and the socket blocks, the call waits for POLLOUT and its
 * retries ask the family how it ended (SOCK_CONNECT_RETRY, wait progress
 * 1). A timeout (SO_SNDTIMEO) is EINPROGRESS, as on Linux; after a signal
 * the connection goes on and a new connect says EALREADY.
 */
SYSCALL_DEFINE3(connect, int, fd, uint64_t, uaddr, int32_t, len)
{
	struct linux_sockaddr_storage a;
	struct sock *s;
	int spins = 0;
	long err = sock_fd_addr(fd, uaddr, len, &s, &a);

	if (err)
		return err;
	if (!s->ops->connect)
		return -EOPNOTSUPP;
	int retry = thread_wait_progress() == 1;
	for (;;) {
		err = s->ops->connect(s, &a, (unsigned)len, retry ? SOCK_CONNECT_RETRY : 0);
		if (err != -EINPROGRESS && err != -EAGAIN)
			return err;
		if (sock_nonblocking(s, 0))
			return err;
		long w = sock_wait(s, POLLOUT, s->sndtimeo_ns, "connect", &spins);
		if (w == -EAGAIN)
			return -EINPROGRESS;
		if (w == -EWAITING && err == -EINPROGRESS)
			thread_set_wait_progress(1);
		if (w != 1)
			return w;
		retry = err == -EINPROGRESS;
	}
}

SYSCALL_DEFINE2(shutdown, int, fd, int, how)
{
	struct sock *s;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	return s->ops->shutdown ? s->ops->shutdown(s, how) : -EOPNOTSUPP;
}

static long get_name(int fd, uint64_t uaddr, uint64_t ulen, int peer)
{
	struct linux_sockaddr_storage a = {0};
	struct sock *s;
	uint32_t room, len = 0;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	err = addr_room(ulen, &room);
	if (err)
		return err;
	if (!s->ops->getname)
		return -EOPNOTSUPP;
	err = s->ops->getname(s, &a, &len, peer);
	return err ? err : addr_out(&a, len, uaddr, room, ulen);
}

SYSCALL_DEFINE3(getsockname, int, fd, uint64_t, uaddr, uint64_t, ulen)
{
	return get_name(fd, uaddr, ulen, 0);
}

SYSCALL_DEFINE3(getpeername, int, fd, uint64_t, uaddr, uint64_t, ulen)
{
	return get_name(fd, uaddr, ulen, 1);
}

/* ---------------------------------------------------------------- options */

static unsigned flag_option(int name)
{
	switch (name) {
	case SO_REUSEADDR:
		return SOCK_OPT_REUSEADDR;
	case SO_REUSEPORT:
		return SOCK_OPT_REUSEPORT;
	case SO_KEEPALIVE:
		return SOCK_OPT_KEEPALIVE;
	case SO_BROADCAST:
		return SOCK_OPT_BROADCAST;
	case SO_OOBINLINE:
		return SOCK_OPT_OOBINLINE;
	case SO_PASSCRED:
		return SOCK_OPT_PASSCRED;
	case SO_DONTROUTE:
		return SOCK_OPT_DONTROUTE;
	case SO_TIMESTAMP:
		return SOCK_OPT_TIMESTAMP;
	default:
		return 0;
	}
}

static int timeval_to_ns(const void *val, unsigned len, uint64_t *ns)
{
	struct k_timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.usec < 0 || tv.usec >= 1000000)
		return -EDOM;
	if (tv.sec < 0) {
		*ns = 1; /* Linux: a negative time is "do not wait" */
		return 0;
	}
	if ((uint64_t)tv.sec >= UINT64_MAX / NSEC_PER_SEC - 1)
		*ns = 0; /* forever */
	else
		*ns = (uint64_t)tv.sec * NSEC_PER_SEC + (uint64_t)tv.usec * NSEC_PER_USEC;
	return 0;
}

/*
 * The SOL_SOCKET options socket.c keeps: 0 when stored, -ENOPROTOOPT when
 * name is not one of them, -EINVAL / -EDOM for a bad value.
 */
static int set_socket_option(struct sock *s, int name, const void *val, unsigned len)
{
	int32_t v = 0;
	unsigned bit = flag_option(name);

	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO)
		return timeval_to_ns(val, len,
				     name == SO_RCVTIMEO ? &s->rcvtimeo_ns : &s->sndtimeo_ns);
	if (name == SO_LINGER) {
		if (len < sizeof(s->linger))
			return -EINVAL;
		memcpy(&s->linger, val, sizeof(s->linger));
		if (s->linger.l_linger < 0)
			s->linger.l_linger = 0;
		return 0;
	}
	if (len < sizeof(v))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	if (bit) {
		s->opts = v ? s->opts | bit : s->opts & ~bit;
		return 0;
	}
	switch (name) {
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		s->rcvbuf = v < BUF_MIN ? BUF_MIN : MIN(v, BUF_MAX);
		return 0;
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		s->sndbuf = v < BUF_MIN ? BUF_MIN : MIN(v, BUF_MAX);
		return 0;
	case SO_RCVLOWAT:
		s->rcvlowat = v < 1 ? 1 : v;
		return 0;
	case SO_PRIORITY:
		s->priority = v;
		return 0;
	case SO_MARK:
		s->mark = v;
		return 0;
	case SO_DEBUG:
	case SO_NO_CHECK:
	case SO_BSDCOMPAT:
	case SO_BUSY_POLL:
	case SO_INCOMING_CPU:
		return 0; /* accepted, no effect */
	default:
		return -ENOPROTOOPT;
	}
}

SYSCALL_DEFINE5(setsockopt, int, fd, int, level, int, name, uint64_t, uval, int32_t, len)
{
	char val[SOCKOPT_MAX];
	struct sock *s;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	if (len < 0)
		return -EINVAL;
	unsigned n = MIN((unsigned)len, (unsigned)sizeof(val));
	if (app_copy_from(val, uval, n))
		return -EFAULT;
	int stored = -ENOPROTOOPT;
	if (level == SOL_SOCKET) {
		stored = set_socket_option(s, name, val, n);
		if (stored && stored != -ENOPROTOOPT)
			return stored;
	}
	if (!s->ops->setsockopt)
		return stored;
	err = s->ops->setsockopt(s, level, name, val, n);
	return err == -ENOPROTOOPT && !stored ? 0 : err;
}

/* The SOL_SOCKET options socket.c answers: the bytes of the value in val
 * (room enough for a linger or timeval), or -ENOPROTOOPT. */
static int get_socket_option(struct sock *s, int name, void *val)
{
	int32_t v;
	unsigned bit = flag_option(name);

	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
		uint64_t ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
		struct k_timeval tv = {(int64_t)(ns / NSEC_PER_SEC),
				       (int64_t)(ns % NSEC_PER_SEC / NSEC_PER_USEC)};
		memcpy(val, &tv, sizeof(tv));
		return sizeof(tv);
	}
	if (name == SO_LINGER) {
		memcpy(val, &s->linger, sizeof(s->linger));
		return sizeof(s->linger);
	}
	if (bit) {
		v = (s->opts & bit) != 0;
	} else {
		switch (name) {
		case SO_TYPE:
			v = s->type;
			break;
		case SO_DOMAIN:
			v = s->family;
			break;
		case SO_PROTOCOL:
			v = s->protocol;
			break;
		case SO_ERROR:
			v = -sock_error_take(s);
			break;
		case SO_ACCEPTCONN:
			v = s->listening;
			break;
		case SO_RCVBUF:
			v = 2 * s->rcvbuf;
			break;
		case SO_SNDBUF:
			v = 2 * s->sndbuf;
			break;
		case SO_RCVLOWAT:
			v = s->rcvlowat;
			break;
		case SO_SNDLOWAT:
			v = 1;
			break;
		case SO_PRIORITY:
			v = s->priority;
			break;
		case SO_MARK:
			v = s->mark;
			break;
		default:
			return -ENOPROTOOPT;
		}
	}
	memcpy(val, &v, sizeof(v));
	return sizeof(v);
}

SYSCALL_DEFINE5(getsockopt, int, fd, int, level, int, name, uint64_t, uval, uint64_t, ulen)
{
	char val[SOCKOPT_MAX];
	struct sock *s;
	uint32_t room;
	unsigned len;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	err = addr_room(ulen, &room);
	if (err)
		return err;
	memset(val, 0, sizeof(val));
	err = -ENOPROTOOPT;
	if (level == SOL_SOCKET)
		err = get_socket_option(s, name, val);
	if (err >= 0) {
		len = (unsigned)err;
	} else {
		if (err != -ENOPROTOOPT || !s->ops->getsockopt)
			return err;
		len = MIN(room, (uint32_t)sizeof(val));
		err = s->ops->getsockopt(s, level, name, val, &len);
		if (err)
			return err;
	}
	len = MIN(len, room);
	int32_t out = (int32_t)len;
	if (app_copy_to(uval, val, len) || app_copy_to(ulen, &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

/* ---------------------------------------------------------------- sending and receiving */

/*
 * send and recv (sendto and recvfrom without an address) on the kernel
 * lock's shared side (kernel/syscall.h), for a family whose read and write
 * run there (sock_ops.shared_io): the same as those, with the flag that
 * changes nothing there (a send's MSG_NOSIGNAL: one that would raise
 * SIGPIPE asks for the lock anyway; a receive's MSG_DONTWAIT, whose
 * -EAGAIN is then the answer, as a non-blocking socket's is). Anything
 * else asks for the lock.
 */
static long transfer_shared(struct sock *s, uint64_t buf, uint64_t len, int flags, uint64_t uaddr,
			    int sending)
{
	struct iobuf b;
	struct sock_msg m = {.data = &b};

	if (!s->ops->shared_io || uaddr || (flags & ~(sending ? MSG_NOSIGNAL : MSG_DONTWAIT)))
		return syscall_needs_lock();
	iobuf_user(&b, buf, len);
	long n = sending ? s->ops->sendmsg(s, &m, 0) : s->ops->recvmsg(s, &m, 0);
	return n == -EAGAIN && !sock_nonblocking(s, flags) ? syscall_needs_lock() : n;
}

SYSCALL_DEFINE6(sendto, int, fd, uint64_t, buf, uint64_t, len, int, flags, uint64_t, uaddr, int32_t,
		alen)
{
	struct sock_msg m = {0};
	struct iobuf b;
	struct sock *s;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	if ((int64_t)len < 0)
		return -EINVAL;
	if (syscall_shared())
		return transfer_shared(s, buf, len, flags, uaddr, 1);
	if (uaddr) {
		if (alen < 0)
			return -EINVAL;
		err = addr_in(&m.addr, uaddr, (uint32_t)alen);
		if (err)
			return err;
		m.addrlen = (unsigned)alen;
	}
	iobuf_user(&b, buf, len);
	m.data = &b;
	return sock_send(s, &m, flags, 1);
}

SYSCALL_DEFINE6(recvfrom, int, fd, uint64_t, buf, uint64_t, len, int, flags, uint64_t, uaddr,
		uint64_t, ulen)
{
	struct sock_msg m = {0};
	struct iobuf b;
	struct sock *s;
	uint32_t room = 0;
	long err = sock_fd(fd, &s);

	if (err)
		return err;
	if ((int64_t)len < 0)
		return -EINVAL;
	if (syscall_shared())
		return transfer_shared(s, buf, len, flags, uaddr, 0);
	if (uaddr && (err = addr_room(ulen, &room)))
		return err;
	iobuf_user(&b, buf, len);
	m.data = &b;
	long n = sock_recv(s, &m, flags, s->rcvtimeo_ns, 1);
	if (n >= 0 && uaddr && addr_out(&m.addr, m.addrlen, uaddr, room, ulen))
		return -EFAULT;
	return n;
}

/* A message of sendmsg/recvmsg in kernel memory: the header, its iovec
 * array, the address (send) and the control data (both ways). */
struct kmsg {
	struct linux_msghdr hdr;
	struct linux_iovec *iov;
	struct iobuf data;
	struct sock_msg m;
};

static void kmsg_free(struct kmsg *k)
{
	kfree(k->iov);
	kfree(k->m.control);
	k->iov = NULL;
	k->m.control = NULL;
}

/*
 * Reads the app's msghdr at umsg and what it points at (the address and
 * the control data only when sending). -EFAULT, -EINVAL (bad lengths),
 * -EMSGSIZE (too many segments), -ENOBUFS (control data over 20 KiB),
 * -ENOMEM. kmsg_free undoes it, also after a failure.
 */
static long kmsg_read(struct kmsg *k, uint64_t umsg, int sending)
{
	uint64_t total = 0;

	*k = (struct kmsg){0};
	if (app_copy_from(&k->hdr, umsg, sizeof(k->hdr)))
		return -EFAULT;
	if (k->hdr.msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	if (k->hdr.msg_iovlen) {
		size_t n = k->hdr.msg_iovlen * sizeof(*k->iov);
		k->iov = kmalloc(n);
		if (!k->iov)
			return -ENOMEM;
		if (app_copy_from(k->iov, k->hdr.msg_iov, n))
			return -EFAULT;
		for (uint64_t i = 0; i < k->hdr.msg_iovlen; i++) {
			if ((int64_t)k->iov[i].len < 0 ||
			    k->iov[i].len > (uint64_t)INT64_MAX - total)
				return -EINVAL;
			total += k->iov[i].len;
		}
	}
	iobuf_user_vec(&k->data, k->iov, (unsigned)k->hdr.msg_iovlen, total);
	k->m.data = &k->data;
	if (sending && k->hdr.msg_name) {
		if ((int32_t)k->hdr.msg_namelen < 0)
			return -EINVAL;
		long err = addr_in(&k->m.addr, k->hdr.msg_name, k->hdr.msg_namelen);
		if (err)
			return err;
		k->m.addrlen = k->hdr.msg_namelen;
	}
	if (k->hdr.msg_controllen) {
		size_t n = (size_t)MIN(k->hdr.msg_controllen, (uint64_t)CONTROL_MAX);
		if (sending && k->hdr.msg_controllen > CONTROL_MAX)
			return -ENOBUFS;
		k->m.control = zmalloc(n);
		if (!k->m.control)
			return -ENOMEM;
		k->m.controllen = n;
		if (sending && app_copy_from(k->m.control, k->hdr.msg_control, n))
			return -EFAULT;
	}
	return 0;
}

/* What recvmsg tells the app besides the data: the source address, the
 * control data and msg_flags, into the msghdr at umsg. */
static long kmsg_write_back(struct kmsg *k, uint64_t umsg)
{
	struct linux_msghdr *h = &k->hdr;
	uint32_t len = MIN(k->m.addrlen, (unsigned)sizeof(k->m.addr));

	if (h->msg_name) {
		if (app_copy_to(h->msg_name, &k->m.addr, MIN(len, h->msg_namelen)))
			return -EFAULT;
		h->msg_namelen = k->m.addrlen;
	} else {
		h->msg_namelen = 0;
	}
	if (k->m.control && k->m.controllen &&
	    app_copy_to(h->msg_control, k->m.control, k->m.controllen))
		return -EFAULT;
	h->msg_controllen = k->m.control ? k->m.controllen : 0;
	h->msg_flags = k->m.flags;
	if (app_copy_to(umsg + __builtin_offsetof(struct linux_msghdr, msg_namelen),
			&h->msg_namelen, sizeof(h->msg_namelen)) ||
	    app_copy_to(umsg + __builtin_offsetof(struct linux_msghdr, msg_controllen),
			&h->msg_controllen, sizeof(h->msg_controllen)) ||
	    app_copy_to(umsg + __builtin_offsetof(struct linux_msghdr, msg_flags), &h->msg_flags,
			sizeof(h->msg_flags)))
		return -EFAULT;
	return 0;
}

static long send_one(struct sock *s, uint64_t umsg, int flags, int keep_progress)
{
	struct kmsg k;
	long n = kmsg_read(&k, umsg, 1);

	if (!n)
		n = sock_send(s, &k.m, flags, keep_progress);
	kmsg_free(&k);
	return n;
}

static long recv_one(struct sock *s, uint64_t umsg, int flags, uint64_t timeout_ns,
		     int keep_progress)
{
	struct kmsg k;
	long n = kmsg_read(&k, umsg, 0);

	if (!n)
		n = sock_recv(s, &k.m, flags, timeout_ns, keep_progress);
	if (n >= 0) {
		long err = kmsg_write_back(&k, umsg);
		if (err)
			n = err;
	}
	kmsg_free(&k);
	return n;
}

SYSCALL_DEFINE3(sendmsg, int, fd, uint64_t, umsg, int, flags)
{
	struct sock *s;
	long err = sock_fd(fd, &s);

	return err ? err : send_one(s, umsg, flags, 1);
}

SYSCALL_DEFINE3(recvmsg, int, fd, uint64_t, umsg, int, flags)
{
	struct sock *s;
	long err = sock_fd(fd, &s);

	return err ? err : recv_one(s, umsg, flags, s->rcvtimeo_ns, 1);
}

/* The n-th message's msg_len. */
static int mmsg_set_len(uint64_t uvec, unsigned i, long n)
{
	uint32_t len = (uint32_t)n;

	return app_copy_to(uvec + i * sizeof(struct linux_mmsghdr) +
			       __builtin_offsetof(struct linux_mmsghdr, msg_len),
			   &len, sizeof(len));
}

/*
 * sendmmsg: the messages in order; the first may wait (when blocking),
 * the later ones are sent only as far as they can be now (Linux blocks
 * for each; this sends what fits and returns how many went). Returns the
 * count sent, or the first message's error.
 */
SYSCALL_DEFINE4(sendmmsg, int, fd, uint64_t, uvec, unsigned, vlen, int, flags)
{
	struct sock *s;
	long err = sock_fd(fd, &s);
	unsigned i;

	if (err)
		return err;
	vlen = MIN(vlen, (unsigned)UIO_MAXIOV);
	for (i = 0; i < vlen; i++) {
		uint64_t umsg = uvec + i * sizeof(struct linux_mmsghdr);
		long n = send_one(s, umsg, i ? flags | MSG_DONTWAIT : flags, i == 0);
		if (n < 0)
			return i ? (long)i : n;
		if (mmsg_set_len(uvec, i, n))
			return i ? (long)i : -EFAULT;
	}
	return i;
}

/*
 * recvmmsg: up to vlen messages; each may wait (unless MSG_DONTWAIT, or
 * MSG_WAITFORONE after the first), until the timeout (a timespec, 0 for
 * none) from the first attempt. The messages received before a wait are
 * the wait progress. Returns the count, or the first message's error.
 */
SYSCALL_DEFINE5(recvmmsg, int, fd, uint64_t, uvec, unsigned, vlen, int, flags, uint64_t, utimeout)
{
	struct sock *s;
	uint64_t timeout_ns = 0;
	long err = sock_fd(fd, &s);
	unsigned i;

	if (err)
		return err;
	if (utimeout) {
		struct k_timespec ts;
		if (app_copy_from(&ts, utimeout, sizeof(ts)))
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
			return -EINVAL;
		timeout_ns = (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
		if (!timeout_ns)
			flags |= MSG_DONTWAIT;
	}
	if (!timeout_ns)
		timeout_ns = s->rcvtimeo_ns;
	vlen = MIN(vlen, (unsigned)UIO_MAXIOV);
	flags &= ~MSG_WAITALL;
	for (i = (unsigned)thread_wait_progress(); i < vlen; i++) {
		uint64_t umsg = uvec + i * sizeof(struct linux_mmsghdr);
		int f = i && (flags & MSG_WAITFORONE) ? flags | MSG_DONTWAIT : flags;
		long n = recv_one(s, umsg, f, timeout_ns, 0);
		if (n == -EWAITING) {
			thread_set_wait_progress(i);
			return n;
		}
		if (n < 0)
			return i ? (long)i : n;
		if (mmsg_set_len(uvec, i, n))
			return i ? (long)i : -EFAULT;
	}
	return i;
}
