/*
 * socket - the generic socket: one more file kind (fs/file.h), and the
 * table of operations each address family fills (FreeBSD's protosw, Linux's
 * proto_ops). net/socket.c owns the file side (read/write/poll/ioctl/stat
 * through the file operations), every socket syscall, the copies to and
 * from the app, the waits, and the SOL_SOCKET options every family shares.
 * A family (net/inet.c for AF_INET and AF_INET6 over lwIP, net/unix.c for
 * AF_UNIX, net/netlink.c for AF_NETLINK) owns its protocol state.
 *
 * The contract of every family operation is the file operations' one: it
 * never blocks. Whatever would have to wait returns -EAGAIN (or
 * -EINPROGRESS for connect), and socket.c waits, when the socket is
 * blocking, on the socket's one wait queue s->wq, then calls the operation
 * again (kernel/thread.h: a retry). So a family must waitq_wake(&s->wq,
 * events) whenever readiness may have changed: data or a connection
 * arrived, room to send appeared, the peer closed or reset, a connect
 * finished; lwIP's callbacks run in the stack's deferred work (never in
 * an interrupt handler) and only queue data and wake.
 *
 * Every operation gets kernel memory only: addresses, option values and
 * control data are copied in and out by socket.c; only the data itself
 * moves through a struct iobuf (fs/iobuf.h), which checks user addresses.
 * Operations return 0 (or a count) or -errno; an operation a family leaves
 * NULL gives the default written beside it.
 *
 * Single CPU, never preempted, no locks (docs/architecture.md).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/file.h"
#include "kernel/abi/socket.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/wait.h"

struct iobuf;
struct poll_table;
struct sock;

/* A message for sendmsg/recvmsg, in kernel memory but for the data. */
struct sock_msg {
	struct iobuf *data; /* send: read from it; recv: written into it */
	/* send: the destination (addrlen 0: none, use the connected peer);
	 * recv: the family writes the source here and sets addrlen (0:
	 * none, as for a connected stream). */
	struct linux_sockaddr_storage addr;
	unsigned addrlen;
	/* send: the app's control data (controllen bytes of cmsghdrs);
	 * recv: room for controllen bytes, the family sets controllen to
	 * what it wrote (cmsghdrs) and sets MSG_CTRUNC in flags when some
	 * did not fit. NULL with controllen 0 when there is none. */
	void *control;
	size_t controllen;
	/* recv: out, what Linux puts in msg_flags: MSG_TRUNC, MSG_CTRUNC,
	 * MSG_EOR, MSG_CMSG_CLOEXEC echoed as asked. */
	int flags;
};

/* How far a connect got, for the connect operation (flags). */
#define SOCK_CONNECT_RETRY 1 /* the same blocking call again: report its outcome */

struct sock_ops {
	/* 0, -EINVAL (already bound, bad length), -EAFNOSUPPORT (wrong
	 * family), -EADDRINUSE, -EADDRNOTAVAIL, -EACCES. NULL: -EOPNOTSUPP. */
	int (*bind)(struct sock *s, const struct linux_sockaddr_storage *addr, unsigned len);
	/* backlog already clamped to [0, SOMAXCONN]. 0, -EINVAL (not bound
	 * where it must be, or connected), -EOPNOTSUPP (datagram socket).
	 * NULL: -EOPNOTSUPP. */
	int (*listen)(struct sock *s, int backlog);
	/* A pending connection as a new socket in *child (the family's
	 * options copied from s; socket.c copies the SOL_SOCKET ones and
	 * makes the file), or -EAGAIN when none is pending, -EINVAL when s
	 * does not listen, -ECONNABORTED... NULL: -EOPNOTSUPP. */
	int (*accept)(struct sock *s, struct sock **child);
	/* Without SOCK_CONNECT_RETRY: start connecting to addr: 0 when
	 * connected at once (datagram sockets, AF_UNIX), -EINPROGRESS when
	 * started (socket.c waits for POLLOUT when blocking, else returns
	 * EINPROGRESS), -EALREADY (already connecting), -EISCONN,
	 * -ECONNREFUSED, -EAGAIN (a full AF_UNIX backlog: socket.c waits
	 * and calls again without the flag)... An AF_UNSPEC address on a
	 * datagram socket dissolves the association. With
	 * SOCK_CONNECT_RETRY (addr as before): 0 connected, -EINPROGRESS
	 * still connecting, or the error that ended it (taken: SO_ERROR is
	 * then 0). NULL: -EOPNOTSUPP. */
	int (*connect)(struct sock *s, const struct linux_sockaddr_storage *addr, unsigned len,
		       int flags);
	/* Bytes taken from m->data (stream: as many as fit now, >= 1;
	 * datagram: all or nothing), -EAGAIN when nothing fits now, -EPIPE
	 * after shutdown or reset (socket.c raises SIGPIPE unless
	 * MSG_NOSIGNAL), -ENOTCONN, -EDESTADDRREQ, -EMSGSIZE, -ENOBUFS...
	 * flags: MSG_* as the app gave them (MSG_DONTWAIT already honored
	 * by socket.c, MSG_MORE a hint). NULL: -EOPNOTSUPP. */
	long (*sendmsg)(struct sock *s, struct sock_msg *m, int flags);
	/* Bytes put into m->data; 0 at end of stream (peer's FIN, or
	 * SHUT_RD); -EAGAIN when nothing is there; -ENOTCONN; a pending
	 * error (-ECONNRESET) once. flags: MSG_PEEK leaves the data;
	 * MSG_TRUNC returns a datagram's real length (and sets MSG_TRUNC
	 * in m->flags whenever it was cut); MSG_WAITALL is socket.c's
	 * (it calls again for the rest). NULL: -EOPNOTSUPP. */
	long (*recvmsg)(struct sock *s, struct sock_msg *m, int flags);
	/* Whether read and write (recvmsg and sendmsg with flags 0, no
	 * address, no control) may run in a shared syscall
	 * (kernel/syscall.h): the family then checks syscall_shared() and
	 * keeps that side's contract (docs/architecture.md, "Shared
	 * syscalls"). 0: socket.c asks for the kernel lock. */
	int shared_io;
	/* how: SHUT_RD, SHUT_WR or SHUT_RDWR (checked). 0 or -ENOTCONN.
	 * NULL: -EOPNOTSUPP. */
	int (*shutdown)(struct sock *s, int how);
	/* The local (peer 0) or remote (peer 1) address into *addr, its
	 * length in *len. -ENOTCONN for the peer of an unconnected socket.
	 * NULL: -EOPNOTSUPP. */
	int (*getname)(struct sock *s, struct linux_sockaddr_storage *addr, unsigned *len,
		       int peer);
	/* Options at any level, val a kernel copy of len bytes. Also called
	 * after socket.c stored a SOL_SOCKET option (SO_KEEPALIVE,
	 * SO_RCVBUF, SO_LINGER, ...), so the family can apply it; it
	 * returns -ENOPROTOOPT for those it ignores, which socket.c then
	 * does not report. -EINVAL for a bad length or value. NULL: every
	 * option but socket.c's is -ENOPROTOOPT. */
	int (*setsockopt)(struct sock *s, int level, int name, const void *val, unsigned len);
	/* Writes at most *len bytes of the option into val and sets *len.
	 * Only for the options socket.c does not answer itself.
	 * -ENOPROTOOPT for unknown ones. NULL: -ENOPROTOOPT. */
	int (*getsockopt)(struct sock *s, int level, int name, void *val, unsigned *len);
	/* The POLL* events that hold now (POLLIN, POLLOUT, POLLHUP when both
	 * directions are shut or the connection is gone, POLLRDHUP when the
	 * peer closed its write side, POLLERR while s->error is set); names
	 * &s->wq to pt (poll_wait) itself. Required. */
	unsigned (*poll)(struct sock *s, struct poll_table *pt);
	/* ioctls other than FIONBIO, FIONREAD and the interface range
	 * (SIOC_IF_FIRST..SIOC_IF_LAST), which socket.c answers; arg a user
	 * address. NULL: -ENOTTY. */
	long (*ioctl)(struct sock *s, unsigned cmd, uint64_t arg);
	/* FIONREAD: the bytes a recv would return now (stream) or the next
	 * datagram's length. NULL: 0. */
	long (*inq)(struct sock *s);
	/* socketpair: connects two new sockets of the family to each other.
	 * NULL: -EOPNOTSUPP. */
	int (*pair)(struct sock *a, struct sock *b);
	/* The last file reference went away (close): end the protocol state
	 * (graceful close, or an abort as the options say), free what the
	 * family allocated, including s. Required. */
	void (*release)(struct sock *s);
};

/* SOL_SOCKET options socket.c stores (sock.opts bits). */
#define SOCK_OPT_REUSEADDR (1u << 0)
#define SOCK_OPT_REUSEPORT (1u << 1)
#define SOCK_OPT_KEEPALIVE (1u << 2)
#define SOCK_OPT_BROADCAST (1u << 3)
#define SOCK_OPT_OOBINLINE (1u << 4)
#define SOCK_OPT_PASSCRED  (1u << 5)
#define SOCK_OPT_DONTROUTE (1u << 6)
#define SOCK_OPT_TIMESTAMP (1u << 7)

/* sock.shut bits: what shutdown (or the family) closed on this side. */
#define SOCK_SHUT_RD (1u << 0)
#define SOCK_SHUT_WR (1u << 1)

/*
 * The generic part of every socket. A family allocates its own structure
 * with a struct sock in it (container_of-style, or first), fills it with
 * sock_init, and frees it in release. socket.c reads and writes the
 * fields below the line; the family may read all of them and sets error,
 * shut and listening as its protocol moves.
 */
struct sock {
	const struct sock_ops *ops;
	struct file *file; /* the file that is this socket (no reference), or NULL */
	int family, type, protocol;
	struct waitq wq; /* woken on every change of readiness */
	int error;	 /* pending error (positive errno) for SO_ERROR and POLLERR */
	unsigned shut;	 /* SOCK_SHUT_* */
	int listening;	 /* SO_ACCEPTCONN */
	/* ---- SOL_SOCKET state, kept by socket.c */
	unsigned opts;		    /* SOCK_OPT_* */
	uint64_t rcvtimeo_ns;	    /* 0: none */
	uint64_t sndtimeo_ns;	    /* 0: none */
	int rcvbuf, sndbuf;	    /* as set (getsockopt reports them doubled) */
	int rcvlowat;		    /* SO_RCVLOWAT */
	struct linux_linger linger; /* SO_LINGER */
	int priority, mark;	    /* SO_PRIORITY, SO_MARK: stored */
};

/* Initializes the generic part (defaults: no timeouts, Linux's default
 * buffer sizes, nothing set). */
void sock_init(struct sock *s, const struct sock_ops *ops, int family, int type, int protocol);

/* An address family. create makes a socket for socket(family, type,
 * protocol) (type without its flags): 0 with *out, -EPROTONOSUPPORT,
 * -ESOCKTNOSUPPORT / -EPROTOTYPE, -ENOMEM, -ENOBUFS. */
struct sock_family {
	int family; /* AF_* */
	int (*create)(int type, int protocol, struct sock **out);
};

/*
 * The families socket() knows are the entries of the table in
 * net/socket.c, one line per built-in family module (AF_INET and AF_INET6
 * from net/inet.c; AF_UNIX and AF_NETLINK add theirs); nothing needs to
 * run at boot. Families not there are EAFNOSUPPORT.
 * sock_register_family adds or replaces one at run time (tests, or a
 * module with an init of its own).
 */
void sock_register_family(const struct sock_family *fam);

/*
 * The interface ioctls (SIOCGIFCONF, SIOCGIFFLAGS, ... in
 * SIOC_IF_FIRST..SIOC_IF_LAST) on any socket go to fn (the interface
 * code, net/netlink.c), with arg the app's address of its struct ifreq or
 * ifconf; fn copies in and out itself. Without one they are -ENOTTY.
 */
void sock_register_interface_ioctl(long (*fn)(unsigned cmd, uint64_t arg));

/* The socket a file is, or NULL when f is no socket (ENOTSOCK). */
struct sock *sock_from_file(struct file *f);
/* A new file for s (one reference; s->file set), flags O_NONBLOCK or 0;
 * NULL without memory (s is then not released). */
struct file *sock_file_new(struct sock *s, unsigned flags);

/*
 * sock_error_take - SO_ERROR's read: the pending error as -errno (0 when
 * none), cleared. Families use it to report an asynchronous error once
 * (a reset seen by the next recv).
 */
int sock_error_take(struct sock *s);

/* Wakes everything waiting on s with events (a family's shorthand), from
 * either side of the kernel lock (kernel/thread.h's thread_wake_queue). */
static inline void sock_wake(struct sock *s, unsigned events)
{
	thread_wake_queue(&s->wq, events);
}

SYSCALL_DECLARE(socket);
SYSCALL_DECLARE(socketpair);
SYSCALL_DECLARE(bind);
SYSCALL_DECLARE(listen);
SYSCALL_DECLARE(accept);
SYSCALL_DECLARE(accept4);
SYSCALL_DECLARE(connect);
SYSCALL_DECLARE(shutdown);
SYSCALL_DECLARE(getsockname);
SYSCALL_DECLARE(getpeername);
SYSCALL_DECLARE(setsockopt);
SYSCALL_DECLARE(getsockopt);
SYSCALL_DECLARE(sendto);
SYSCALL_DECLARE(recvfrom);
SYSCALL_DECLARE(sendmsg);
SYSCALL_DECLARE(recvmsg);
SYSCALL_DECLARE(sendmmsg);
SYSCALL_DECLARE(recvmmsg);
