/*
 * AF_UNIX sockets (see unix.h).
 *
 * A socket is NEW, LISTEN or CONNECTED. Stream and seqpacket sockets are
 * connected in pairs (peer points both ways); socketpair pairs two new
 * ones, connect pairs the client with a new socket (an embryo) that waits
 * on the listener's pending list until accept takes it, so the client may
 * write at once, as on Linux. When one end goes, the other's peer is
 * cleared and both its directions are shut (read gives what is queued,
 * then 0; a write is EPIPE), with ECONNRESET pending when the closed end
 * left data unread. A datagram socket's peer is only its default
 * destination: many may name one socket, and the one that closes clears
 * every such peer pointer (the next send says ECONNREFUSED once).
 *
 * Waiting (all in net/socket.c): a reader waits on its own queue, which a
 * sender wakes; a stream or seqpacket writer on its own queue, which the
 * peer wakes whenever it takes something. Two waits have no socket of
 * their own to wait on: a datagram sender whose receiver is full (it may
 * be any socket) and a connect to a full backlog. Both wait on one queue
 * for the whole family, unix_room, woken when a receiver that refused a
 * sender drains or a listener that refused a client accepts or closes;
 * a woken waiter just tries again.
 *
 * Descriptors in flight (SCM_RIGHTS) are file references held by the
 * message. Dropping a message puts them, which may release another unix
 * socket and so drop its messages: those go through one list (the reaper)
 * instead of recursing, so any chain of sockets in sockets is freed in a
 * loop.
 */
#include "net/unix.h"

#include "fs/fdtable.h"
#include "fs/iobuf.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/stat.h"
#include "kernel/klib.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "mm/kmalloc.h"

#define UNIX_PID       1		      /* the app's one process (kernel/proc.h) */
#define NAME_HEAD      2		      /* offsetof(struct sockaddr_un, sun_path) */
#define STREAM_RECORD  (64u * 1024)	      /* the largest stream record, header included */
#define STREAM_SMALL   KMALLOC_SMALL_MAX      /* a short write: a small heap block, for the next */
#define WRITABLE_ROOM  (UNIX_QUEUE_BYTES / 4) /* POLLOUT: the peer has this much free */
#define OVERFLOW_UID   65534u		      /* SO_PEERCRED of an unconnected socket */
#define AUTOBIND_NAMES 0x100000u	      /* five hex digits */
#define SHUT_BOTH      (SOCK_SHUT_RD | SOCK_SHUT_WR)
#define EV_READABLE    (POLLIN | POLLRDNORM)
#define EV_WRITABLE    (POLLOUT | POLLWRNORM | POLLWRBAND)

enum unix_state { UNIX_NEW, UNIX_LISTEN, UNIX_CONNECTED };

/* A name as the app sees it: sun_family, then sun_path; len bytes of it
 * (0: none). A path one byte longer than sun_path keeps its NUL here. */
struct unix_name {
	unsigned len;
	char addr[sizeof(struct linux_sockaddr_un) + 1];
};

/* One message (datagram, seqpacket) or a run of stream bytes in a queue:
 * data[off, len) of data[cap] is unread. */
struct unix_msg {
	struct unix_msg *next;
	uint32_t off, len, cap;
	unsigned nfiles;
	struct file **files;   /* SCM_RIGHTS: one reference each, or NULL */
	struct unix_name from; /* the sender's name when it was sent */
	char data[];
};

#define MSG_HEAD (sizeof(struct unix_msg))

struct unix_sock {
	struct sock s; /* first */
	struct unix_sock *all_next, *all_prev;
	enum unix_state state;
	int bound; /* the name below is this socket's own (not an accepted copy) */
	struct unix_name name;
	struct inode *inode; /* a path name: the node bind made (a reference), or NULL */
	struct unix_sock *peer;
	struct unix_name gone_peer; /* the peer's name once it closed (getpeername) */
	int peer_refused;	    /* datagram: the peer closed; the next send says so */
	int embryo;		    /* on a listener's pending list */
	int room_wait;		    /* a send or connect found no room: wait on unix_room */
	int senders_blocked;	    /* a sender found this queue or backlog full */
	/* The receive queue; qlock: shared syscalls' turns at it (below). */
	struct unix_msg *head, *tail;
	struct spinlock qlock;
	size_t charged; /* bytes counted against UNIX_QUEUE_BYTES */
	size_t unread;	/* data bytes queued */
	/* A listener's connections not accepted yet. */
	struct unix_sock *pend_head, *pend_tail, *pend_next;
	unsigned npending;
	int backlog;
};

static const struct sock_ops unix_ops;
static struct unix_sock *all;
static struct waitq unix_room = WAITQ_INIT;
static unsigned autobind_next;
static struct unix_msg *reap_list;
static int reaping;

static struct unix_sock *U(struct sock *s)
{
	return (struct unix_sock *)s;
}

static void wake_room(void)
{
	thread_wake_queue(&unix_room, EV_WRITABLE);
}

/* ---------------------------------------------------------------- messages */

/* Frees m and puts its descriptors; a socket released by that has its
 * messages reaped by the outermost call, in a loop. */
static void msg_free(struct unix_msg *m)
{
	if (!m->nfiles) {
		kfree(m);
		return;
	}
	m->next = reap_list;
	reap_list = m;
	if (reaping)
		return;
	reaping = 1;
	while ((m = reap_list)) {
		reap_list = m->next;
		for (unsigned i = 0; i < m->nfiles; i++)
			file_put(m->files[i]);
		kfree(m->files);
		kfree(m);
	}
	reaping = 0;
}

static void files_put(struct file **files, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		file_put(files[i]);
	kfree(files);
}

static void queue_append(struct unix_sock *u, struct unix_msg *m)
{
	m->next = NULL;
	if (u->tail)
		u->tail->next = m;
	else
		u->head = m;
	u->tail = m;
	u->charged += MSG_HEAD + m->cap;
	u->unread += m->len - m->off;
}

/* Takes the head off the queue (its descriptors already taken or not). */
static void queue_pop(struct unix_sock *u)
{
	struct unix_msg *m = u->head;

	u->head = m->next;
	if (!u->head)
		u->tail = NULL;
	u->charged -= MSG_HEAD + m->cap;
	u->unread -= m->len - m->off;
	msg_free(m);
}

/* ---------------------------------------------------------------- names */

static void name_unnamed(struct unix_name *n)
{
	uint16_t family = AF_UNIX;

	*n = (struct unix_name){0};
	memcpy(n->addr, &family, sizeof(family));
}

/*
 * The app's address as a name, and for a path name the path (NUL-ended)
 * in path[UNIX_PATH_MAX + 1] (path[0] == 0 for an abstract name). A path
 * counts up to its first NUL, plus one, as Linux's unix_mkname_bsd.
 * Returns 0, or -EINVAL (not AF_UNIX, too short or too long).
 */
static int name_parse(const struct linux_sockaddr_storage *a, unsigned len, struct unix_name *n,
		      char *path)
{
	const struct linux_sockaddr_un *sun = (const struct linux_sockaddr_un *)a;

	if (len <= NAME_HEAD || len > sizeof(*sun) || sun->sun_family != AF_UNIX)
		return -EINVAL;
	name_unnamed(n);
	path[0] = 0;
	if (sun->sun_path[0]) {
		size_t plen = 0;
		while (plen < len - NAME_HEAD && sun->sun_path[plen])
			plen++;
		memcpy(path, sun->sun_path, plen);
		path[plen] = 0;
		memcpy(n->addr + NAME_HEAD, path, plen);
		n->len = NAME_HEAD + (unsigned)plen + 1;
	} else {
		memcpy(n->addr + NAME_HEAD, sun->sun_path, len - NAME_HEAD);
		n->len = len;
	}
	return 0;
}

static struct unix_sock *find_abstract(const struct unix_name *n)
{
	for (struct unix_sock *u = all; u; u = u->all_next) {
		if (u->bound && !u->inode && u->name.len == n->len &&
		    !memcmp(u->name.addr, n->addr, n->len))
			return u;
	}
	return NULL;
}

static struct unix_sock *find_inode(const struct inode *ino)
{
	for (struct unix_sock *u = all; u; u = u->all_next) {
		if (u->bound && u->inode == ino)
			return u;
	}
	return NULL;
}

/* The socket bound to the name at a: -EINVAL, -ENOENT and the path
 * lookup's errors, -ECONNREFUSED (a node that is no socket's, or no
 * socket has the abstract name). */
static int find_name(const struct linux_sockaddr_storage *a, unsigned len, struct unix_sock **out)
{
	char path[UNIX_PATH_MAX + 1];
	struct unix_name n;
	struct inode *ino;
	int err = name_parse(a, len, &n, path);

	if (err)
		return err;
	if (path[0]) {
		err = vfs_lookup(NULL, path, 0, &ino);
		if (err)
			return err;
		*out = S_ISSOCK(ino->mode) ? find_inode(ino) : NULL;
	} else {
		*out = find_abstract(&n);
	}
	return *out ? 0 : -ECONNREFUSED;
}

/* Makes path an S_IFSOCK node; 0 with *out held, -EADDRINUSE when the
 * name exists, or the errors of making a name (ENOENT, ENOTDIR, EROFS...). */
static int make_node(const char *path, struct inode **out)
{
	struct inode *dir, *ino;
	const char *name;
	size_t len;
	int trailing, special;
	int err = vfs_lookup_parent(NULL, path, &dir, &name, &len, &trailing, &special);

	if (err)
		return err;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (special || (dir->ops->lookup && !dir->ops->lookup(dir, name, len, &ino)))
		return -EADDRINUSE;
	if (trailing || !dir->nlink)
		return -ENOENT;
	if (dir->sb->flags & SUPER_RDONLY)
		return -EROFS;
	if (!dir->ops->mknod)
		return -EPERM;
	err = dir->ops->mknod(dir, name, len, S_IFSOCK | (0777 & ~proc_umask()), &ino);
	if (err)
		return err == -EEXIST ? -EADDRINUSE : err;
	inode_get(ino);
	*out = ino;
	return 0;
}

/* An abstract name of five hex digits nobody has: 0 or -ENOSPC. */
static int autobind(struct unix_sock *u)
{
	static const char hex[] = "0123456789abcdef";
	struct unix_name n;

	for (unsigned tries = 0; tries < AUTOBIND_NAMES; tries++) {
		unsigned v = autobind_next++ % AUTOBIND_NAMES;
		name_unnamed(&n);
		for (int i = 4; i >= 0; i--, v >>= 4)
			n.addr[NAME_HEAD + 1 + i] = hex[v & 0xf];
		n.len = NAME_HEAD + 1 + 5;
		if (!find_abstract(&n)) {
			u->name = n;
			u->bound = 1;
			return 0;
		}
	}
	return -ENOSPC;
}

/* connect and send bind an unnamed socket when SO_PASSCRED is on. */
static int autobind_for_creds(struct unix_sock *u)
{
	if (u->bound || !(u->s.opts & SOCK_OPT_PASSCRED))
		return 0;
	return autobind(u);
}

/* ---------------------------------------------------------------- control data */

/*
 * The descriptors of the app's SCM_RIGHTS messages, as references in a new
 * array (*files, *nfiles; NULL and 0 when there are none).
 * SCM_CREDENTIALS is checked and otherwise ignored (the app is pid 1 and
 * root). -EINVAL for a malformed header, another type at SOL_SOCKET or
 * more than UNIX_SCM_MAX_FD descriptors; -EBADF; -ENOMEM.
 */
static int control_parse(const struct sock_msg *m, struct file ***files, unsigned *nfiles)
{
	const char *c = m->control;
	size_t left = m->control ? m->controllen : 0;
	struct linux_cmsghdr h;
	unsigned n = 0, k = 0;

	*files = NULL;
	*nfiles = 0;
	for (size_t at = 0; left - at >= sizeof(h);) {
		memcpy(&h, c + at, sizeof(h));
		if (h.cmsg_len < sizeof(h) || h.cmsg_len > left - at)
			return -EINVAL;
		if (h.cmsg_level == SOL_SOCKET) {
			if (h.cmsg_type == SCM_RIGHTS)
				n += (unsigned)((h.cmsg_len - sizeof(h)) / sizeof(int32_t));
			else if (h.cmsg_type != SCM_CREDENTIALS ||
				 h.cmsg_len != LINUX_CMSG_LEN(sizeof(struct linux_ucred)))
				return -EINVAL;
			if (n > UNIX_SCM_MAX_FD)
				return -EINVAL;
		}
		size_t step = LINUX_CMSG_ALIGN(h.cmsg_len);
		if (step >= left - at)
			break;
		at += step;
	}
	if (!n)
		return 0;
	*files = kmalloc(n * sizeof(**files));
	if (!*files)
		return -ENOMEM;
	for (size_t at = 0; k < n && left - at >= sizeof(h);) {
		memcpy(&h, c + at, sizeof(h));
		if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_RIGHTS) {
			size_t count = (h.cmsg_len - sizeof(h)) / sizeof(int32_t);
			for (size_t i = 0; i < count; i++) {
				int32_t fd;
				memcpy(&fd, c + at + sizeof(h) + i * sizeof(fd), sizeof(fd));
				struct file *f = fd_get(fd);
				if (!f) {
					files_put(*files, k);
					*files = NULL;
					return -EBADF;
				}
				file_get(f);
				(*files)[k++] = f;
			}
		}
		at += LINUX_CMSG_ALIGN(h.cmsg_len);
	}
	*nfiles = k;
	return 0;
}

/* Appends one control message to m's control data at *used, cut (with
 * MSG_CTRUNC) where it does not fit, as Linux's put_cmsg. */
static void put_cmsg(struct sock_msg *m, size_t *used, int type, const void *data, size_t len)
{
	size_t room = m->control ? m->controllen - *used : 0;
	size_t cmlen = LINUX_CMSG_LEN(len);
	struct linux_cmsghdr h = {.cmsg_level = SOL_SOCKET, .cmsg_type = type};

	if (room < sizeof(h)) {
		m->flags |= MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		m->flags |= MSG_CTRUNC;
		cmlen = room;
	}
	h.cmsg_len = cmlen;
	memcpy((char *)m->control + *used, &h, sizeof(h));
	memcpy((char *)m->control + *used + sizeof(h), data, cmlen - sizeof(h));
	*used += MIN(LINUX_CMSG_SPACE(len), room);
}

/*
 * Installs the descriptors of a message as the receiver's, as many as
 * m's control data has room for (MSG_CTRUNC for the rest, which are
 * closed), and writes their SCM_RIGHTS message. peek: the message keeps
 * its references (new descriptors for the same files); otherwise they are
 * the message's to put (files is freed).
 */
static void put_rights(struct sock_msg *m, size_t *used, struct file **files, unsigned n, int peek,
		       int cloexec)
{
	size_t room = m->control ? m->controllen - *used : 0;
	size_t fit = room > sizeof(struct linux_cmsghdr)
			 ? (room - sizeof(struct linux_cmsghdr)) / sizeof(int32_t)
			 : 0;
	int32_t fds[UNIX_SCM_MAX_FD];
	unsigned k = 0;

	for (unsigned i = 0; i < n && k < fit; i++) {
		int fd = fd_install(0, files[i], cloexec);
		if (fd < 0)
			break;
		fds[k++] = fd;
	}
	if (!peek)
		files_put(files, n);
	if (k < n)
		m->flags |= MSG_CTRUNC;
	if (k)
		put_cmsg(m, used, SCM_RIGHTS, fds, k * sizeof(int32_t));
}

/* What a receive adds to the data: credentials (SO_PASSCRED), then the
 * descriptors the message carried, in room bytes of m's control data.
 * Sets m->controllen to what was written. */
static void put_control(struct unix_sock *u, struct sock_msg *m, size_t room, struct file **files,
			unsigned n, int flags)
{
	size_t used = 0;

	m->controllen = room;
	if (u->s.opts & SOCK_OPT_PASSCRED) {
		struct linux_ucred cred = {.pid = UNIX_PID, .uid = 0, .gid = 0};
		put_cmsg(m, &used, SCM_CREDENTIALS, &cred, sizeof(cred));
	}
	if (n)
		put_rights(m, &used, files, n, flags & MSG_PEEK, (flags & MSG_CMSG_CLOEXEC) != 0);
	m->controllen = used;
}

/* ---------------------------------------------------------------- sockets */

static struct unix_sock *unix_alloc(int type)
{
	struct unix_sock *u = zmalloc(sizeof(*u));

	if (!u)
		return NULL;
	sock_init(&u->s, &unix_ops, AF_UNIX, type, 0);
	spin_init(&u->qlock, "unix socket", LOCK_FILE);
	name_unnamed(&u->name);
	u->all_next = all;
	if (all)
		all->all_prev = u;
	all = u;
	return u;
}

static int unix_create(int type, int protocol, struct sock **out)
{
	struct unix_sock *u;

	if (protocol && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	if (type == SOCK_RAW)
		type = SOCK_DGRAM; /* as Linux */
	if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;
	u = unix_alloc(type);
	if (!u)
		return -ENOMEM;
	*out = &u->s;
	return 0;
}

const struct sock_family unix_family = {.family = AF_UNIX, .create = unix_create};

static void pair_up(struct unix_sock *a, struct unix_sock *b)
{
	a->peer = b;
	b->peer = a;
	a->state = b->state = UNIX_CONNECTED;
}

static int unix_pair(struct sock *a, struct sock *b)
{
	pair_up(U(a), U(b));
	return 0;
}

static int unix_bind(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len)
{
	struct unix_sock *u = U(s);
	char path[UNIX_PATH_MAX + 1];
	struct unix_name n;
	struct inode *ino = NULL;

	if (len == NAME_HEAD && a->ss_family == AF_UNIX)
		return u->bound ? -EINVAL : autobind(u);
	int err = name_parse(a, len, &n, path);
	if (err)
		return err;
	if (u->bound)
		return -EINVAL;
	if (path[0]) {
		err = make_node(path, &ino);
		if (err)
			return err;
	} else if (find_abstract(&n)) {
		return -EADDRINUSE;
	}
	u->name = n;
	u->inode = ino;
	u->bound = 1;
	return 0;
}

static int unix_listen(struct sock *s, int backlog)
{
	struct unix_sock *u = U(s);

	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (!u->bound || u->state == UNIX_CONNECTED)
		return -EINVAL;
	u->state = UNIX_LISTEN;
	u->backlog = backlog;
	if (u->senders_blocked) { /* a larger backlog may take them now */
		u->senders_blocked = 0;
		wake_room();
	}
	return 0;
}

static int unix_accept(struct sock *s, struct sock **child)
{
	struct unix_sock *u = U(s), *c;

	if (u->state != UNIX_LISTEN)
		return -EINVAL;
	c = u->pend_head;
	if (!c)
		return -EAGAIN;
	u->pend_head = c->pend_next;
	if (!u->pend_head)
		u->pend_tail = NULL;
	u->npending--;
	c->pend_next = NULL;
	c->embryo = 0;
	if (u->senders_blocked) {
		u->senders_blocked = 0;
		wake_room();
	}
	*child = &c->s;
	return 0;
}

static int dgram_connect(struct unix_sock *u, const struct linux_sockaddr_storage *a, unsigned len)
{
	struct unix_sock *t;

	if (len < sizeof(a->ss_family))
		return -EINVAL;
	if (a->ss_family == AF_UNSPEC) {
		u->peer = NULL;
		u->peer_refused = 0;
		u->state = UNIX_NEW;
		return 0;
	}
	int err = find_name(a, len, &t);
	if (err)
		return err;
	if (t->s.type != SOCK_DGRAM)
		return -EPROTOTYPE;
	if (t->peer && t->peer != u)
		return -EPERM;
	err = autobind_for_creds(u);
	if (err)
		return err;
	u->peer = t;
	u->peer_refused = 0;
	u->state = UNIX_CONNECTED;
	sock_wake(&u->s, EV_WRITABLE);
	return 0;
}

static int unix_connect(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len,
			int flags)
{
	struct unix_sock *u = U(s), *l, *c;

	(void)flags; /* AF_UNIX connects at once: a retry is a new attempt */
	if (s->type == SOCK_DGRAM)
		return dgram_connect(u, a, len);
	u->room_wait = 0;
	if (u->state == UNIX_CONNECTED)
		return -EISCONN;
	if (u->state == UNIX_LISTEN)
		return -EINVAL;
	int err = find_name(a, len, &l);
	if (err)
		return err;
	if (l->s.type != s->type)
		return -EPROTOTYPE;
	if (l->state != UNIX_LISTEN)
		return -ECONNREFUSED;
	if (l->npending > (unsigned)l->backlog) { /* Linux takes backlog + 1 */
		l->senders_blocked = 1;
		u->room_wait = 1;
		return -EAGAIN;
	}
	err = autobind_for_creds(u);
	if (err)
		return err;
	c = unix_alloc(s->type);
	if (!c)
		return -ENOMEM;
	c->name = l->name;
	c->embryo = 1;
	pair_up(u, c);
	if (l->pend_tail)
		l->pend_tail->pend_next = c;
	else
		l->pend_head = c;
	l->pend_tail = c;
	l->npending++;
	sock_wake(&l->s, EV_READABLE);
	sock_wake(s, EV_WRITABLE);
	return 0;
}

/* ---------------------------------------------------------------- sending */

/* The room a new stream record gets for left more bytes in a queue that
 * has charged bytes: 0 when there is no room for another. */
static size_t record_cap(uint64_t left, size_t charged)
{
	if (charged + MSG_HEAD >= UNIX_QUEUE_BYTES)
		return 0;
	size_t cap = (size_t)MIN(left, (uint64_t)(STREAM_RECORD - MSG_HEAD));
	if (cap < STREAM_SMALL - MSG_HEAD)
		cap = STREAM_SMALL - MSG_HEAD;
	return MIN(cap, UNIX_QUEUE_BYTES - charged - MSG_HEAD);
}

/* Stream bytes into the peer's queue: as many as fit now. The
 * descriptors go with the first new record (*files cleared then). */
static long stream_send(struct unix_sock *u, struct sock_msg *m, struct file ***files,
			unsigned nfiles)
{
	struct unix_sock *p = u->peer;
	uint64_t done = 0;

	if (m->addrlen)
		return u->state == UNIX_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if (u->state != UNIX_CONNECTED)
		return -ENOTCONN;
	if ((u->s.shut & SOCK_SHUT_WR) || !p || (p->s.shut & SOCK_SHUT_RD))
		return -EPIPE;
	while (iobuf_left(m->data)) {
		struct unix_msg *t = p->tail;
		uint64_t left = iobuf_left(m->data);
		size_t n;
		if (t && !t->nfiles && !*files && t->len < t->cap) {
			n = (size_t)MIN(left, (uint64_t)(t->cap - t->len));
			if (iobuf_get(m->data, t->data + t->len, n))
				break;
			t->len += (uint32_t)n;
			p->unread += n;
			done += n;
			continue;
		}
		size_t cap = record_cap(left, p->charged);
		if (!cap)
			break;
		n = (size_t)MIN(left, (uint64_t)cap);
		struct unix_msg *r = kmalloc(MSG_HEAD + cap);
		if (!r)
			break;
		*r = (struct unix_msg){.len = 0, .cap = (uint32_t)cap, .from = u->name};
		if (iobuf_get(m->data, r->data, n)) {
			kfree(r);
			if (!done)
				return -EFAULT;
			break;
		}
		r->len = (uint32_t)n;
		if (*files) {
			r->files = *files;
			r->nfiles = nfiles;
			*files = NULL;
		}
		queue_append(p, r);
		done += n;
	}
	if (!iobuf_left(m->data) && !done)
		return 0; /* an empty write */
	if (done)
		sock_wake(&p->s, EV_READABLE);
	return done ? (long)done : -EAGAIN;
}

/* The receiver of a datagram or seqpacket, or an error. */
static int msg_dest(struct unix_sock *u, struct sock_msg *m, struct unix_sock **out)
{
	struct unix_sock *d;

	if (u->s.type == SOCK_SEQPACKET) {
		if (u->state != UNIX_CONNECTED)
			return -ENOTCONN;
		d = u->peer;
		if ((u->s.shut & SOCK_SHUT_WR) || !d || (d->s.shut & SOCK_SHUT_RD))
			return -EPIPE;
		*out = d;
		return 0;
	}
	if (u->s.shut & SOCK_SHUT_WR)
		return -EPIPE;
	if (m->addrlen) {
		int err = find_name(&m->addr, m->addrlen, &d);
		if (err)
			return err;
		if (d->s.type != SOCK_DGRAM)
			return -EPROTOTYPE;
	} else if (!(d = u->peer)) {
		if (u->peer_refused) {
			u->peer_refused = 0;
			return -ECONNREFUSED;
		}
		return -ENOTCONN;
	}
	if (d->peer && d->peer != u)
		return -EPERM;
	if (d->s.shut & SOCK_SHUT_RD)
		return -EPIPE;
	*out = d;
	return autobind_for_creds(u);
}

/* One datagram or seqpacket, all or nothing (*files cleared when sent). */
static long msg_send(struct unix_sock *u, struct sock_msg *m, struct file ***files, unsigned nfiles)
{
	struct unix_sock *d;
	uint64_t n = iobuf_left(m->data);
	int err = msg_dest(u, m, &d);

	if (err)
		return err;
	if (n > UNIX_DGRAM_MAX)
		return -EMSGSIZE;
	if (d->charged + MSG_HEAD + n > UNIX_QUEUE_BYTES) {
		d->senders_blocked = 1;
		if (u->s.type == SOCK_DGRAM)
			u->room_wait = 1;
		return -EAGAIN;
	}
	struct unix_msg *r = kmalloc(MSG_HEAD + (size_t)n);
	if (!r)
		return -ENOBUFS;
	*r = (struct unix_msg){.len = (uint32_t)n, .cap = (uint32_t)n, .from = u->name};
	if (iobuf_get(m->data, r->data, (size_t)n)) {
		kfree(r);
		return -EFAULT;
	}
	if (*files) {
		r->files = *files;
		r->nfiles = nfiles;
		*files = NULL;
	}
	queue_append(d, r);
	u->room_wait = 0;
	sock_wake(&d->s, EV_READABLE);
	return (long)n;
}

static long stream_send_shared(struct unix_sock *u, struct sock_msg *m);

static long unix_sendmsg(struct sock *s, struct sock_msg *m, int flags)
{
	struct unix_sock *u = U(s);
	struct file **files;
	unsigned nfiles;
	long n;

	if (syscall_shared())
		return s->type == SOCK_STREAM && !m->control && !flags ? stream_send_shared(u, m)
								       : syscall_needs_lock();
	int err = control_parse(m, &files, &nfiles);
	if (err)
		return err;
	if (s->type == SOCK_STREAM)
		n = stream_send(u, m, &files, nfiles);
	else
		n = msg_send(u, m, &files, nfiles);
	if (files) /* not sent: nobody else holds them */
		files_put(files, nfiles);
	else if (nfiles)
		m->controllen = 0; /* the rest of this send must not carry them again */
	return n;
}

/* ---------------------------------------------------------------- receiving */

static void set_from(struct sock_msg *m, const struct unix_name *from)
{
	m->addrlen = from->len;
	if (from->len)
		memcpy(&m->addr, from->addr, MIN((size_t)from->len, sizeof(m->addr)));
}

/* Wakes whoever waits for room in u's queue. */
static void queue_drained(struct unix_sock *u)
{
	if (u->peer && u->s.type != SOCK_DGRAM)
		sock_wake(&u->peer->s, EV_WRITABLE);
	if (u->senders_blocked) {
		u->senders_blocked = 0;
		wake_room();
	}
}

/* The end of a read with nothing queued: an error once, 0 at the end,
 * else -EAGAIN. */
static long recv_empty(struct unix_sock *u)
{
	if (u->s.error)
		return sock_error_take(&u->s);
	return (u->s.shut & SOCK_SHUT_RD) ? 0 : -EAGAIN;
}

static long stream_recv(struct unix_sock *u, struct sock_msg *m, size_t room, int flags)
{
	int peek = flags & MSG_PEEK;
	struct unix_msg *r = u->head;
	struct file **files = NULL;
	unsigned nfiles = 0;
	uint64_t done = 0;

	if (u->state != UNIX_CONNECTED)
		return -EINVAL;
	if (!r)
		return recv_empty(u);
	set_from(m, &r->from);
	while (r && iobuf_left(m->data)) {
		size_t n = (size_t)MIN(iobuf_left(m->data), (uint64_t)(r->len - r->off));
		if (iobuf_put(m->data, r->data + r->off, n)) {
			if (!done)
				return -EFAULT;
			break;
		}
		done += n;
		int carried = r->nfiles != 0;
		if (carried) {
			files = r->files;
			nfiles = r->nfiles;
			if (!peek) {
				r->files = NULL;
				r->nfiles = 0;
			}
		}
		if (peek) {
			r = r->next;
		} else {
			r->off += (uint32_t)n;
			u->unread -= n;
			if (r->off == r->len)
				queue_pop(u);
			r = u->head;
		}
		if (carried)
			break; /* descriptors end a read, as on Linux */
	}
	put_control(u, m, room, files, nfiles, flags);
	if (!peek && done)
		queue_drained(u);
	return (long)done;
}

static long msg_recv(struct unix_sock *u, struct sock_msg *m, size_t room, int flags)
{
	int peek = flags & MSG_PEEK;
	struct unix_msg *r = u->head;

	if (u->s.type == SOCK_SEQPACKET && u->state != UNIX_CONNECTED)
		return -ENOTCONN;
	if (!r)
		return recv_empty(u);
	size_t len = r->len - r->off;
	size_t n = (size_t)MIN(iobuf_left(m->data), (uint64_t)len);
	if (iobuf_put(m->data, r->data + r->off, n))
		return -EFAULT;
	if (n < len)
		m->flags |= MSG_TRUNC;
	set_from(m, &r->from);
	struct file **files = r->files;
	unsigned nfiles = r->nfiles;
	if (!peek) {
		r->files = NULL;
		r->nfiles = 0;
	}
	put_control(u, m, room, files, nfiles, flags);
	if (!peek) {
		queue_pop(u);
		queue_drained(u);
	}
	return (long)((flags & MSG_TRUNC) ? len : n);
}

/* ---------------------------------------------------------------- the shared side */

/*
 * read and write of a connected stream socket run in shared syscalls too
 * (kernel/syscall.h), beside other CPUs' shared calls. Each receive queue
 * has a lock that only shared attempts take (qlock, LOCK_FILE): a send
 * holds its peer's, a receive its own, so two pairs never meet. What only
 * a holder of the kernel lock changes (the state, the peer, the shut
 * bits, the pending error) is read without it. What a shared attempt may
 * not do it leaves to the lock: descriptors in flight, an error to report
 * once, a send after a shutdown (SIGPIPE), a blocking send that does not
 * fit whole (it waits for the rest), a wait, and a record the heap cannot
 * give without a reclaim (or a table it cannot grow). A send copies into
 * the tail record past its length and into records of its own, and a
 * receive copies before it consumes: the queue changes only once the copy
 * is sure to stand.
 */
static void chain_free(struct unix_msg *r)
{
	while (r) {
		struct unix_msg *next = r->next;
		kfree(r);
		r = next;
	}
}

static long stream_send_shared(struct unix_sock *u, struct sock_msg *m)
{
	struct unix_sock *p = u->peer;
	uint64_t want = iobuf_left(m->data);

	if (u->state != UNIX_CONNECTED || m->addrlen || (u->s.shut & SOCK_SHUT_WR) || !p ||
	    (p->s.shut & SOCK_SHUT_RD))
		return syscall_needs_lock();
	if (!want)
		return 0;
	int blocking = !u->s.file || !(u->s.file->flags & O_NONBLOCK);
	unsigned long flags = file_shared_lock(&p->qlock);
	struct unix_msg *t = p->tail;
	size_t into_tail =
	    t && !t->nfiles && t->len < t->cap ? (size_t)MIN(want, (uint64_t)(t->cap - t->len)) : 0;
	uint64_t fits = into_tail;
	for (size_t charged = p->charged, cap;
	     fits < want && (cap = record_cap(want - fits, charged)); charged += MSG_HEAD + cap)
		fits += MIN(want - fits, (uint64_t)cap);
	if (!fits || (blocking && fits < want)) {
		file_shared_unlock(&p->qlock, flags);
		return syscall_needs_lock();
	}

	uint64_t done = 0;
	int fault = into_tail && iobuf_get(m->data, t->data + t->len, into_tail);
	struct unix_msg *chain = NULL, *last = NULL;
	if (!fault)
		done = into_tail;
	for (size_t charged = p->charged; !fault && done < fits;) {
		size_t cap = record_cap(want - done, charged);
		size_t n = (size_t)MIN(want - done, (uint64_t)cap);
		struct unix_msg *r = kmalloc(MSG_HEAD + cap);
		if (!r)
			break;
		*r = (struct unix_msg){.cap = (uint32_t)cap, .from = u->name};
		if (iobuf_get(m->data, r->data, n)) {
			kfree(r);
			fault = 1;
			break;
		}
		r->len = (uint32_t)n;
		if (last)
			last->next = r;
		else
			chain = r;
		last = r;
		charged += MSG_HEAD + cap;
		done += n;
	}
	if (syscall_shared_dropped() || !done || (blocking && done < want)) {
		file_shared_unlock(&p->qlock, flags);
		chain_free(chain);
		if (!syscall_shared_dropped() && !done && fault)
			return -EFAULT;
		return syscall_needs_lock();
	}
	if (into_tail) {
		t->len += (uint32_t)into_tail;
		p->unread += into_tail;
	}
	while (chain) {
		struct unix_msg *next = chain->next;
		queue_append(p, chain);
		chain = next;
	}
	file_shared_unlock(&p->qlock, flags);
	sock_wake(&p->s, EV_READABLE);
	return (long)done;
}

static long stream_recv_shared(struct unix_sock *u, struct sock_msg *m)
{
	if (u->state != UNIX_CONNECTED)
		return -EINVAL;
	unsigned long flags = file_shared_lock(&u->qlock);
	struct unix_msg *r = u->head;
	if (!r || r->nfiles) {
		file_shared_unlock(&u->qlock, flags);
		if (r || u->s.error)
			return syscall_needs_lock(); /* descriptors to take, an error once */
		return (u->s.shut & SOCK_SHUT_RD) ? 0 : -EAGAIN;
	}
	uint64_t done = 0; /* (no address: read and recv have none to fill) */
	int fault = 0;
	/* Up to a record that carries descriptors: those end a read. */
	for (; r && !r->nfiles && iobuf_left(m->data); r = r->next) {
		size_t n = (size_t)MIN(iobuf_left(m->data), (uint64_t)(r->len - r->off));
		if (iobuf_put(m->data, r->data + r->off, n)) {
			fault = 1;
			break;
		}
		done += n;
	}
	if (syscall_shared_dropped() || !done) {
		file_shared_unlock(&u->qlock, flags);
		return fault ? -EFAULT : 0; /* (a given-up attempt's result goes unseen) */
	}
	for (uint64_t left = done; left;) {
		r = u->head;
		size_t n = (size_t)MIN(left, (uint64_t)(r->len - r->off));
		r->off += (uint32_t)n;
		u->unread -= n;
		left -= n;
		if (r->off == r->len)
			queue_pop(u);
	}
	int room_waiters = u->senders_blocked;
	u->senders_blocked = 0;
	file_shared_unlock(&u->qlock, flags);
	if (u->peer)
		sock_wake(&u->peer->s, EV_WRITABLE);
	if (room_waiters)
		wake_room();
	return (long)done;
}

static long unix_recvmsg(struct sock *s, struct sock_msg *m, int flags)
{
	struct unix_sock *u = U(s);

	size_t room = m->control ? m->controllen : 0;

	if (syscall_shared())
		return s->type == SOCK_STREAM && !m->control && !flags ? stream_recv_shared(u, m)
								       : syscall_needs_lock();
	m->controllen = 0; /* none, unless put_control writes some */
	if (s->type == SOCK_STREAM)
		return stream_recv(u, m, room, flags);
	return msg_recv(u, m, room, flags);
}

/* ---------------------------------------------------------------- the rest */

static int unix_shutdown(struct sock *s, int how)
{
	struct unix_sock *u = U(s), *p = u->peer;
	unsigned mode = how == SHUT_RD ? SOCK_SHUT_RD : how == SHUT_WR ? SOCK_SHUT_WR : SHUT_BOTH;

	s->shut |= mode;
	if (p && s->type != SOCK_DGRAM) {
		p->s.shut |= ((mode & SOCK_SHUT_RD) ? SOCK_SHUT_WR : 0) |
			     ((mode & SOCK_SHUT_WR) ? SOCK_SHUT_RD : 0);
		sock_wake(&p->s, 0);
	}
	sock_wake(s, 0);
	return 0;
}

static void name_out(const struct unix_name *n, struct linux_sockaddr_storage *a, unsigned *len)
{
	if (!n->len) {
		*a = (struct linux_sockaddr_storage){.ss_family = AF_UNIX};
		*len = NAME_HEAD;
		return;
	}
	memcpy(a, n->addr, n->len);
	*len = n->len;
}

static int unix_getname(struct sock *s, struct linux_sockaddr_storage *a, unsigned *len, int peer)
{
	struct unix_sock *u = U(s);

	if (!peer) {
		name_out(&u->name, a, len);
		return 0;
	}
	if (s->type == SOCK_DGRAM ? !u->peer : u->state != UNIX_CONNECTED)
		return -ENOTCONN;
	name_out(u->peer ? &u->peer->name : &u->gone_peer, a, len);
	return 0;
}

static int unix_getsockopt(struct sock *s, int level, int name, void *val, unsigned *len)
{
	struct unix_sock *u = U(s);
	struct linux_ucred cred = {.pid = UNIX_PID, .uid = 0, .gid = 0};

	if (level != SOL_SOCKET || name != SO_PEERCRED)
		return -ENOPROTOOPT;
	if (u->state == UNIX_NEW || (s->type == SOCK_DGRAM && !u->peer))
		cred = (struct linux_ucred){.pid = 0, .uid = OVERFLOW_UID, .gid = OVERFLOW_UID};
	*len = MIN(*len, (unsigned)sizeof(cred));
	memcpy(val, &cred, *len);
	return 0;
}

static unsigned unix_poll(struct sock *s, struct poll_table *pt)
{
	struct unix_sock *u = U(s), *p = u->peer;
	unsigned ev = 0;

	poll_wait(pt, &s->wq);
	if (s->type == SOCK_DGRAM || u->room_wait)
		poll_wait(pt, &unix_room);
	if (s->error)
		ev |= POLLERR;
	if ((s->shut & SHUT_BOTH) == SHUT_BOTH)
		ev |= POLLHUP;
	if (s->shut & SOCK_SHUT_RD)
		ev |= EV_READABLE | POLLRDHUP;
	if (u->head)
		ev |= EV_READABLE;
	if (u->state == UNIX_LISTEN)
		return ev | (u->pend_head ? EV_READABLE : 0);
	if (u->room_wait)
		return ev;
	if (s->type != SOCK_DGRAM && u->state == UNIX_NEW)
		ev |= POLLHUP;
	if (!p || p->charged + WRITABLE_ROOM <= UNIX_QUEUE_BYTES)
		ev |= EV_WRITABLE;
	else if (s->type == SOCK_DGRAM)
		p->senders_blocked = 1; /* a waiter for POLLOUT: its drain wakes unix_room */
	return ev;
}

static long unix_inq(struct sock *s)
{
	struct unix_sock *u = U(s);

	if (u->state == UNIX_LISTEN)
		return -EINVAL;
	if (s->type == SOCK_DGRAM)
		return u->head ? (long)(u->head->len - u->head->off) : 0;
	return (long)u->unread;
}

static void unix_release(struct sock *s)
{
	struct unix_sock *u = U(s), *c, *p = u->peer;

	if (u->all_prev)
		u->all_prev->all_next = u->all_next;
	else
		all = u->all_next;
	if (u->all_next)
		u->all_next->all_prev = u->all_prev;
	if (u->inode)
		inode_put(u->inode);
	/* Connections nobody accepted: their clients see a reset. */
	while ((c = u->pend_head)) {
		u->pend_head = c->pend_next;
		unix_release(&c->s);
	}
	if (s->type != SOCK_DGRAM && p) {
		p->peer = NULL;
		p->gone_peer = u->name;
		p->s.shut = SHUT_BOTH;
		if (u->head || u->embryo)
			p->s.error = ECONNRESET;
		sock_wake(&p->s, 0);
	} else if (s->type == SOCK_DGRAM) {
		for (struct unix_sock *x = all; x; x = x->all_next) {
			if (x->peer != u)
				continue;
			x->peer = NULL;
			x->peer_refused = 1;
			sock_wake(&x->s, 0);
		}
	}
	if (u->senders_blocked)
		wake_room();
	struct unix_msg *q = u->head;
	kfree(u);
	while (q) {
		struct unix_msg *next = q->next;
		msg_free(q);
		q = next;
	}
}

void unix_release_in_flight(void)
{
	struct unix_sock *u;

	/* With every descriptor closed, a socket still here is held only by
	 * messages queued on sockets (on itself, or around a cycle). Its
	 * queue is taken off whole, then its messages freed: that puts the
	 * files they carry and may free u and any other socket, so the scan
	 * starts again each time. */
	for (;;) {
		for (u = all; u && !u->head; u = u->all_next)
			;
		if (!u)
			return;
		struct unix_msg *q = u->head;
		u->head = u->tail = NULL;
		u->charged = u->unread = 0;
		while (q) {
			struct unix_msg *next = q->next;
			msg_free(q);
			q = next;
		}
	}
}

static const struct sock_ops unix_ops = {
    .bind = unix_bind,
    .listen = unix_listen,
    .accept = unix_accept,
    .connect = unix_connect,
    .sendmsg = unix_sendmsg,
    .recvmsg = unix_recvmsg,
    .shared_io = 1, /* connected streams' read and write, see "the shared side" */
    .shutdown = unix_shutdown,
    .getname = unix_getname,
    .getsockopt = unix_getsockopt,
    .poll = unix_poll,
    .inq = unix_inq,
    .pair = unix_pair,
    .release = unix_release,
};
