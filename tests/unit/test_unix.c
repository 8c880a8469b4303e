/*
 * Host tests of net/unix.c through the socket syscalls of net/socket.c
 * (called directly, user pointers are host pointers): socketpair of the
 * three types with their boundaries, EOF, EPIPE with SIGPIPE, POLLRDHUP
 * and POLLHUP, FIONREAD, SO_PEERCRED; names (a path is an S_IFSOCK node of
 * a tmpfs root; abstract names; autobind), bind/listen/accept/connect and
 * their errors (EADDRINUSE, ECONNREFUSED, ENOENT, a full backlog's
 * EAGAIN and wait); datagrams with their source; SCM_RIGHTS and
 * SCM_CREDENTIALS; sockets carried in sockets freed at close; read and
 * write of connected streams on the kernel lock's shared side (alone, what
 * they leave to the lock, and pairs on host threads). Each test
 * ends by closing everything, removing the tree and checking that the
 * heap is empty.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fs/fdtable.h"
#include "fs/file.h"
#include "fs/iobuf.h"
#include "fs/pipe.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/socket.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/klib.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel_shim.h"
#include "mm/kmalloc.h"
#include "mm_arena.h"
#include "net/socket.h"
#include "net/unix.h"

static struct inode *root;

static void setup(void)
{
	shim_setup();
	cr_assert_eq(tmpfs_mount(1 << 20, 1, 0, &root), 0);
	vfs_set_root(root);
}

TestSuite(af_unix, .init = setup);

/* Closes every descriptor, drops the tree, checks the heap is empty. */
static void done(void)
{
	shim_unqueue();
	fd_table_release();
	tmpfs_unmount(root);
	shim_close_all_and_check();
}

static int sock(int type)
{
	long fd = CALL(socket, AF_UNIX, type, 0);
	cr_assert_geq(fd, 0);
	return (int)fd;
}

static void pair(int type, int sv[2])
{
	int32_t v[2];
	cr_assert_eq(CALL(socketpair, AF_UNIX, type, 0, U(v)), 0);
	sv[0] = v[0];
	sv[1] = v[1];
}

static long snd(int fd, const char *s, size_t n, int flags)
{
	return CALL(sendto, fd, U(s), n, flags, 0, 0);
}

static long rcv(int fd, char *buf, size_t n, int flags)
{
	return CALL(recvfrom, fd, U(buf), n, flags, 0, 0);
}

static unsigned events(int fd)
{
	return file_poll(fd_get(fd), NULL);
}

static int32_t fionread(int fd)
{
	struct file *f = fd_get(fd);
	int32_t v = -1;
	cr_assert_eq(f->ops->ioctl(f, FIONREAD, U(&v)), 0);
	return v;
}

static unsigned path_addr(struct linux_sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return (unsigned)(offsetof(struct linux_sockaddr_un, sun_path) + strlen(path) + 1);
}

static unsigned abstract_addr(struct linux_sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	return (unsigned)(offsetof(struct linux_sockaddr_un, sun_path) + 1 + strlen(name));
}

static int unlink_path(const char *path)
{
	struct inode *dir;
	const char *name;
	size_t len;
	int trailing, special;
	int err = vfs_lookup_parent(NULL, path, &dir, &name, &len, &trailing, &special);
	return err ? err : dir->ops->unlink(dir, name, len);
}

/* ---------------------------------------------------------------- pairs */

Test(af_unix, stream_pair_moves_bytes_peeks_and_counts)
{
	int sv[2];
	char buf[64];

	pair(SOCK_STREAM, sv);
	cr_assert_eq(snd(sv[0], "ping", 4, 0), 4);
	cr_assert_eq(snd(sv[0], "hello", 5, 0), 5);
	cr_assert_eq(fionread(sv[1]), 9);
	cr_assert(events(sv[1]) & POLLIN);
	cr_assert_eq(rcv(sv[1], buf, 3, MSG_PEEK), 3);
	cr_assert_eq(memcmp(buf, "pin", 3), 0);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 9, "stream writes join");
	cr_assert_eq(memcmp(buf, "pinghello", 9), 0);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), -EWAITING, "a blocking read waits");
	shim_unqueue();
	cr_assert_eq(fionread(sv[1]), 0);
	done();
}

Test(af_unix, stream_shutdown_and_close_give_eof_epipe_and_hangups)
{
	int sv[2];
	char buf[16];

	pair(SOCK_STREAM, sv);
	cr_assert_eq(CALL(shutdown, sv[0], SHUT_WR), 0);
	cr_assert(events(sv[1]) & POLLRDHUP);
	cr_assert_not(events(sv[1]) & POLLHUP);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 0, "EOF after the peer's SHUT_WR");
	cr_assert_eq(snd(sv[1], "back", 4, 0), 4, "the other direction still works");
	cr_assert_eq(rcv(sv[0], buf, sizeof(buf), 0), 4);
	cr_assert_eq(snd(sv[0], "x", 1, MSG_NOSIGNAL), -EPIPE);
	cr_assert_eq(shim_signals, 0);
	cr_assert_eq(fd_close(sv[1]), 0);
	cr_assert_eq((events(sv[0]) & (POLLHUP | POLLRDHUP | POLLIN)),
		     POLLHUP | POLLRDHUP | POLLIN);
	cr_assert_eq(snd(sv[0], "x", 1, 0), -EPIPE);
	cr_assert_eq(shim_last_signal, SIGPIPE);
	cr_assert_eq(rcv(sv[0], buf, sizeof(buf), 0), 0);
	done();
}

Test(af_unix, closing_with_unread_data_resets_the_peer_once)
{
	int sv[2];
	char buf[16];

	pair(SOCK_STREAM, sv);
	cr_assert_eq(snd(sv[0], "unread", 6, 0), 6);
	cr_assert_eq(snd(sv[1], "kept", 4, 0), 4);
	fd_close(sv[1]);
	cr_assert(events(sv[0]) & POLLERR);
	cr_assert_eq(rcv(sv[0], buf, sizeof(buf), 0), 4, "queued data first");
	cr_assert_eq(rcv(sv[0], buf, sizeof(buf), 0), -ECONNRESET);
	cr_assert_eq(rcv(sv[0], buf, sizeof(buf), 0), 0);
	done();
}

Test(af_unix, dgram_pair_keeps_boundaries_and_truncates)
{
	int sv[2];
	char buf[64];

	pair(SOCK_DGRAM, sv);
	snd(sv[0], "a", 1, 0);
	snd(sv[0], "bb", 2, 0);
	snd(sv[0], "ccc", 3, 0);
	cr_assert_eq(fionread(sv[1]), 1, "FIONREAD is the next datagram");
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 1);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 2);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 3);
	snd(sv[0], "0123456789", 10, 0);
	cr_assert_eq(rcv(sv[1], buf, 4, 0), 4);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN, "the rest is gone");
	snd(sv[0], "0123456789", 10, 0);
	cr_assert_eq(rcv(sv[1], buf, 4, MSG_TRUNC), 10);
	cr_assert_eq(snd(sv[0], "", 0, 0), 0, "an empty datagram");
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	fd_close(sv[1]);
	cr_assert_eq(snd(sv[0], "x", 1, 0), -ECONNREFUSED, "once");
	cr_assert_eq(snd(sv[0], "x", 1, 0), -ENOTCONN);
	done();
}

Test(af_unix, seqpacket_keeps_boundaries_and_ends)
{
	int sv[2];
	char buf[64];

	pair(SOCK_SEQPACKET, sv);
	snd(sv[0], "one", 3, 0);
	snd(sv[0], "three", 5, 0);
	cr_assert_eq(fionread(sv[1]), 8);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 3);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 5);
	fd_close(sv[0]);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), 0);
	cr_assert(events(sv[1]) & POLLHUP);
	done();
}

Test(af_unix, a_full_queue_is_eagain_and_reading_makes_room)
{
	int sv[2];
	static char big[64 * 1024];
	long total = 0, n;

	pair(SOCK_STREAM, sv);
	while ((n = snd(sv[0], big, sizeof(big), MSG_DONTWAIT)) > 0)
		total += n;
	cr_assert_eq(n, -EAGAIN);
	cr_assert_gt(total, (long)(UNIX_QUEUE_BYTES * 9 / 10));
	cr_assert_leq(total, (long)UNIX_QUEUE_BYTES);
	cr_assert_not(events(sv[0]) & POLLOUT);
	cr_assert_eq(snd(sv[0], big, 1, 0), -EWAITING, "a blocking writer waits");
	cr_assert_eq(shim_queued(), 1);
	cr_assert_eq(rcv(sv[1], big, sizeof(big), 0), (long)sizeof(big));
	cr_assert_gt(shim_wakes, 0, "the read woke the writer");
	cr_assert(events(sv[0]) & POLLOUT);
	shim_unqueue();
	shim_progress = 0;

	int dv[2];
	pair(SOCK_DGRAM, dv);
	while ((n = snd(dv[0], big, sizeof(big), MSG_DONTWAIT)) > 0)
		;
	cr_assert_eq(n, -EAGAIN);
	cr_assert_eq(snd(dv[0], big, UNIX_DGRAM_MAX + 1, 0), -EMSGSIZE);
	done();
}

Test(af_unix, peercred_and_passcred)
{
	int sv[2], fd = sock(SOCK_STREAM), one = 1;
	struct linux_ucred cred;
	uint32_t len = sizeof(cred);
	char buf[8], cbuf[64];

	pair(SOCK_STREAM, sv);
	cr_assert_eq(CALL(getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, U(&cred), U(&len)), 0);
	cr_assert_eq(len, sizeof(cred));
	cr_assert_eq(cred.pid, 1);
	cr_assert_eq(cred.uid, 0);
	cr_assert_eq(cred.gid, 0);
	cr_assert_eq(CALL(getsockopt, fd, SOL_SOCKET, SO_PEERCRED, U(&cred), U(&len)), 0);
	cr_assert_eq(cred.pid, 0, "nobody on the other end");

	cr_assert_eq(CALL(setsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, U(&one), sizeof(one)), 0);
	snd(sv[0], "c", 1, 0);
	struct linux_iovec iov = {U(buf), sizeof(buf)};
	struct linux_msghdr mh = {.msg_iov = U(&iov),
				  .msg_iovlen = 1,
				  .msg_control = U(cbuf),
				  .msg_controllen = sizeof(cbuf)};
	cr_assert_eq(CALL(recvmsg, sv[1], U(&mh), 0), 1);
	struct linux_cmsghdr h;
	memcpy(&h, cbuf, sizeof(h));
	cr_assert_eq(mh.msg_controllen, LINUX_CMSG_SPACE(sizeof(cred)));
	cr_assert_eq(h.cmsg_type, SCM_CREDENTIALS);
	memcpy(&cred, cbuf + sizeof(h), sizeof(cred));
	cr_assert_eq(cred.pid, 1);
	done();
}

/* ---------------------------------------------------------------- names */

static void named_stream(struct linux_sockaddr_un *a, unsigned len, int is_path)
{
	struct linux_sockaddr_un got;
	int32_t gl;
	char buf[16];
	int l = sock(SOCK_STREAM | SOCK_NONBLOCK), l2 = sock(SOCK_STREAM);
	int c = sock(SOCK_STREAM);

	cr_assert_eq(CALL(bind, l, U(a), len), 0);
	if (is_path) {
		struct inode *ino;
		cr_assert_eq(vfs_lookup(NULL, a->sun_path, 0, &ino), 0);
		cr_assert(S_ISSOCK(ino->mode), "the path is a socket");
	}
	cr_assert_eq(CALL(bind, l2, U(a), len), -EADDRINUSE);
	cr_assert_eq(CALL(bind, l, U(a), len), -EINVAL, "bound already");
	cr_assert_eq(CALL(connect, c, U(a), len), -ECONNREFUSED, "before listen");
	cr_assert_eq(CALL(listen, l, 8), 0);
	cr_assert_eq(CALL(accept, l, 0, 0), -EAGAIN);
	cr_assert_not(events(l) & POLLIN);
	cr_assert_eq(CALL(connect, c, U(a), len), 0);
	cr_assert_eq(CALL(connect, c, U(a), len), -EISCONN);
	cr_assert(events(l) & POLLIN);
	cr_assert_eq(snd(c, "early", 5, 0), 5, "writes before accept wait in the new socket");
	gl = sizeof(got);
	long s = CALL(accept, l, U(&got), U(&gl));
	cr_assert_geq(s, 0);
	cr_assert_eq(gl, 2, "an unnamed client");
	gl = sizeof(got);
	cr_assert_eq(CALL(getsockname, l, U(&got), U(&gl)), 0);
	cr_assert_eq((unsigned)gl, len);
	cr_assert_eq(memcmp(&got, a, len), 0);
	gl = sizeof(got);
	cr_assert_eq(CALL(getpeername, c, U(&got), U(&gl)), 0);
	cr_assert_eq((unsigned)gl, len);
	cr_assert_eq(memcmp(&got, a, len), 0);
	gl = sizeof(got);
	cr_assert_eq(CALL(getsockname, (int)s, U(&got), U(&gl)), 0);
	cr_assert_eq((unsigned)gl, len, "an accepted socket has the listener's name");
	cr_assert_eq(rcv((int)s, buf, sizeof(buf), 0), 5);
	cr_assert_eq(snd((int)s, "back", 4, 0), 4);
	cr_assert_eq(rcv(c, buf, sizeof(buf), 0), 4);
	fd_close((int)s);
	fd_close(c);
	fd_close(l);
	fd_close(l2);
}

Test(af_unix, path_names_bind_listen_accept_connect)
{
	struct linux_sockaddr_un a;
	unsigned len = path_addr(&a, "/srv.sock");

	named_stream(&a, len, 1);
	int c = sock(SOCK_STREAM);
	cr_assert_eq(CALL(connect, c, U(&a), len), -ECONNREFUSED, "a stale name");
	cr_assert_eq(unlink_path("/srv.sock"), 0);
	cr_assert_eq(CALL(connect, c, U(&a), len), -ENOENT);
	path_addr(&a, "/nodir/x.sock");
	cr_assert_eq(CALL(bind, c, U(&a), len + 6), -ENOENT);
	done();
}

Test(af_unix, a_new_file_at_a_bound_path_is_another_name)
{
	struct linux_sockaddr_un a;
	unsigned len = path_addr(&a, "/s");
	int l = sock(SOCK_STREAM), c = sock(SOCK_STREAM), l2 = sock(SOCK_STREAM);

	cr_assert_eq(CALL(bind, l, U(&a), len), 0);
	cr_assert_eq(CALL(listen, l, 1), 0);
	cr_assert_eq(unlink_path("/s"), 0);
	cr_assert_eq(CALL(connect, c, U(&a), len), -ENOENT, "unlinked: unreachable");
	cr_assert_eq(CALL(bind, l2, U(&a), len), 0, "the path is free again");
	cr_assert_eq(CALL(connect, c, U(&a), len), -ECONNREFUSED, "the new one does not listen");
	done();
}

Test(af_unix, abstract_names)
{
	struct linux_sockaddr_un a;
	unsigned len = abstract_addr(&a, "solo-abstract");

	named_stream(&a, len, 0);
	int c = sock(SOCK_STREAM);
	cr_assert_eq(CALL(connect, c, U(&a), len), -ECONNREFUSED, "closed: the name is gone");
	done();
}

Test(af_unix, autobind_on_an_empty_address)
{
	struct linux_sockaddr_un a = {.sun_family = AF_UNIX}, got;
	int32_t gl = sizeof(got);
	int fd = sock(SOCK_DGRAM);

	cr_assert_eq(CALL(bind, fd, U(&a), 2), 0);
	cr_assert_eq(CALL(getsockname, fd, U(&got), U(&gl)), 0);
	cr_assert_eq(gl, 8);
	cr_assert_eq(got.sun_path[0], 0);
	done();
}

Test(af_unix, a_full_backlog_is_eagain_then_a_wait_that_accept_ends)
{
	struct linux_sockaddr_un a;
	unsigned len = abstract_addr(&a, "backlog");
	int l = sock(SOCK_STREAM), c1 = sock(SOCK_STREAM), c2 = sock(SOCK_STREAM | SOCK_NONBLOCK);
	int c3 = sock(SOCK_STREAM);

	cr_assert_eq(CALL(bind, l, U(&a), len), 0);
	cr_assert_eq(CALL(listen, l, 0), 0);
	cr_assert_eq(CALL(connect, c1, U(&a), len), 0, "backlog 0 takes one, as Linux");
	cr_assert_eq(CALL(connect, c2, U(&a), len), -EAGAIN);
	cr_assert_eq(CALL(connect, c3, U(&a), len), -EWAITING);
	cr_assert_eq(shim_wakes, 0);
	long s = CALL(accept, l, 0, 0);
	cr_assert_geq(s, 0);
	cr_assert_gt(shim_wakes, 0, "accept woke the waiting client");
	shim_unqueue();
	cr_assert_eq(CALL(connect, c3, U(&a), len), 0);
	fd_close(l); /* c3's connection was never accepted */
	char buf[4];
	cr_assert_eq(rcv(c3, buf, sizeof(buf), 0), -ECONNRESET);
	done();
}

Test(af_unix, connect_errors)
{
	struct linux_sockaddr_un a;
	unsigned len = abstract_addr(&a, "dg");
	int d = sock(SOCK_DGRAM), s = sock(SOCK_STREAM);

	cr_assert_eq(CALL(bind, d, U(&a), len), 0);
	cr_assert_eq(CALL(connect, s, U(&a), len), -EPROTOTYPE);
	cr_assert_eq(CALL(connect, s, U(&a), 2), -EINVAL);
	cr_assert_eq(CALL(listen, d, 1), -EOPNOTSUPP);
	cr_assert_eq(CALL(listen, s, 1), -EINVAL, "not bound");
	cr_assert_eq(snd(s, "x", 1, 0), -ENOTCONN);
	done();
}

Test(af_unix, datagrams_carry_their_source)
{
	struct linux_sockaddr_un s1, s2, from;
	unsigned l1 = path_addr(&s1, "/a"), l2 = path_addr(&s2, "/b");
	int a = sock(SOCK_DGRAM), b = sock(SOCK_DGRAM);
	int32_t fl = sizeof(from);
	char buf[16];

	cr_assert_eq(CALL(bind, a, U(&s1), l1), 0);
	cr_assert_eq(CALL(bind, b, U(&s2), l2), 0);
	cr_assert_eq(CALL(sendto, b, U("to-a"), 4, 0, U(&s1), l1), 4);
	cr_assert_eq(CALL(recvfrom, a, U(buf), sizeof(buf), 0, U(&from), U(&fl)), 4);
	cr_assert_eq((unsigned)fl, l2);
	cr_assert_str_eq(from.sun_path, "/b");
	cr_assert_eq(CALL(sendto, a, U("to-b"), 4, 0, U(&from), fl), 4);
	cr_assert_eq(rcv(b, buf, sizeof(buf), 0), 4);
	cr_assert_eq(snd(a, "x", 1, 0), -ENOTCONN);
	cr_assert_eq(CALL(connect, a, U(&s2), l2), 0);
	cr_assert_eq(snd(a, "y", 1, 0), 1);
	int c = sock(SOCK_DGRAM);
	cr_assert_eq(CALL(sendto, c, U("z"), 1, 0, U(&s1), l1), -EPERM,
		     "a is connected to b: only b may send to it");
	done();
}

/* ---------------------------------------------------------------- descriptors */

static long send_fd(int via, int fd, int cmsg_fds)
{
	char cbuf[LINUX_CMSG_SPACE(2 * sizeof(int32_t))] = {0};
	struct linux_cmsghdr h = {.cmsg_len = LINUX_CMSG_LEN(cmsg_fds * sizeof(int32_t)),
				  .cmsg_level = SOL_SOCKET,
				  .cmsg_type = SCM_RIGHTS};
	int32_t fds[2] = {fd, fd};
	struct linux_iovec iov = {U("f"), 1};
	struct linux_msghdr mh = {.msg_iov = U(&iov),
				  .msg_iovlen = 1,
				  .msg_control = U(cbuf),
				  .msg_controllen = LINUX_CMSG_SPACE(cmsg_fds * sizeof(int32_t))};

	memcpy(cbuf, &h, sizeof(h));
	memcpy(cbuf + sizeof(h), fds, cmsg_fds * sizeof(int32_t));
	return CALL(sendmsg, via, U(&mh), 0);
}

/* recvmsg with room for room bytes of control data: the descriptor
 * received (or -1), and msg_flags in *flags. */
static int recv_fd(int via, size_t room, int *flags)
{
	char buf[8], cbuf[64] = {0};
	struct linux_iovec iov = {U(buf), sizeof(buf)};
	struct linux_msghdr mh = {
	    .msg_iov = U(&iov), .msg_iovlen = 1, .msg_control = U(cbuf), .msg_controllen = room};
	struct linux_cmsghdr h;
	int32_t fd = -1;

	cr_assert_eq(CALL(recvmsg, via, U(&mh), 0), 1);
	*flags = mh.msg_flags;
	memcpy(&h, cbuf, sizeof(h));
	if (mh.msg_controllen >= LINUX_CMSG_LEN(sizeof(fd)) && h.cmsg_type == SCM_RIGHTS)
		memcpy(&fd, cbuf + sizeof(h), sizeof(fd));
	return fd;
}

Test(af_unix, scm_rights_passes_a_working_descriptor)
{
	int sv[2], flags;
	int32_t p[2];
	char buf[16];

	pair(SOCK_STREAM, sv);
	cr_assert_eq(CALL(pipe2, U(p), 0), 0);
	cr_assert_eq(send_fd(sv[0], p[0], 1), 1);
	fd_close(p[0]);
	int got = recv_fd(sv[1], LINUX_CMSG_SPACE(sizeof(int32_t)), &flags);
	cr_assert_geq(got, 0);
	cr_assert_eq(flags & MSG_CTRUNC, 0);
	struct iobuf b;
	uint64_t pos = 0;
	iobuf_user(&b, U("through"), 7);
	cr_assert_eq(file_write(fd_get(p[1]), &b, &pos), 7);
	iobuf_user(&b, U(buf), sizeof(buf));
	cr_assert_eq(file_read(fd_get(got), &b, &pos), 7);
	cr_assert_eq(memcmp(buf, "through", 7), 0);

	cr_assert_eq(send_fd(sv[0], p[1], 2), 1);
	cr_assert_eq(recv_fd(sv[1], 8, &flags), -1, "no room for even one");
	cr_assert(flags & MSG_CTRUNC);
	cr_assert_eq(send_fd(sv[0], 999, 1), -EBADF);
	done();
}

Test(af_unix, descriptors_in_flight_are_closed_with_the_queue)
{
	int a[2], b[2], c[2];

	pair(SOCK_STREAM, a);
	pair(SOCK_DGRAM, b);
	pair(SOCK_SEQPACKET, c);
	/* c[1] travels in b[1]'s queue, b[1] in a[1]'s: closing a[1] frees
	 * the chain (no cycle: that would stay, see unix.h). */
	cr_assert_eq(send_fd(b[0], c[1], 1), 1);
	cr_assert_eq(send_fd(a[0], b[1], 1), 1);
	fd_close(c[1]);
	fd_close(b[1]);
	done();
}

/* The fuzzer's threads found it: one thread waits in a read of a socket
 * while another closes its descriptor. The socket is freed, and its queue
 * must hold no entry then: the waiter is woken and taken off (its retry
 * finds EBADF). Before, the entry stayed on the freed queue and the
 * waiter's wake-up wrote into freed memory (a kfree double free later). */
Test(af_unix, closing_a_socket_a_thread_waits_on_takes_the_waiter_off)
{
	int sv[2];
	char buf[8];

	pair(SOCK_STREAM, sv);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), -EWAITING, "a blocking read waits");
	cr_assert_eq(shim_queued(), 1);
	cr_assert_eq(CALL(close, sv[1]), 0);
	cr_assert_eq(shim_queued(), 0, "no entry left on the freed queue");
	cr_assert_eq(shim_wakes, 1, "the waiter was woken");
	done();
}

/* The fuzzer found it (SCM_RIGHTS with random descriptors): sockets that
 * carry each other, or themselves, stay held by their own queues after
 * every descriptor is closed. At the app's exit unix_release_in_flight
 * frees them and all they carry, so every page comes back. */
Test(af_unix, cycles_in_flight_are_freed_at_the_apps_exit)
{
	int a[2], b[2], p[2];
	size_t before = mm_test_kmalloc_stats().live_allocations;

	pair(SOCK_STREAM, a);
	pair(SOCK_DGRAM, b);
	cr_assert_eq(CALL(pipe2, U(p), 0), 0);
	/* a[1] in its own queue; b[0] in a[1]'s, b[1] in b[0]'s (a cycle of
	 * two) with the pipe's read end beside it. */
	cr_assert_eq(send_fd(a[0], a[1], 1), 1);
	cr_assert_eq(send_fd(a[0], b[0], 1), 1);
	cr_assert_eq(send_fd(b[1], b[1], 1), 1);
	cr_assert_eq(send_fd(b[1], p[0], 1), 1);
	int fds[] = {a[0], a[1], b[0], b[1], p[0], p[1]};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		cr_assert_eq(fd_close(fds[i]), 0);
	cr_assert_gt(mm_test_kmalloc_stats().live_allocations, before,
		     "the cycles hold themselves");
	unix_release_in_flight();
	cr_assert_eq(mm_test_kmalloc_stats().live_allocations, before, "everything freed");
	done();
}

/* ---------------------------------------------------------------- the shared side */

#define BAD_ADDRESS 16 /* below 4096: -EFAULT in the shim */

/* read and write of a descriptor as the syscalls call its file (host
 * tests have no fs/read_write.c: a shared attempt's -EAGAIN is returned
 * here, where the syscall would ask for the lock). */
static long file_io(struct file *f, const void *buf, size_t n, int writing)
{
	struct iobuf b;
	uint64_t pos = 0;
	iobuf_user(&b, U(buf), n);
	return writing ? file_write(f, &b, &pos) : file_read(f, &b, &pos);
}

static long rd(int fd, void *buf, size_t n)
{
	return file_io(fd_get(fd), buf, n, 0);
}

static long wr(int fd, const void *buf, size_t n)
{
	return file_io(fd_get(fd), buf, n, 1);
}

static uint8_t stream_byte(unsigned stream, uint64_t at)
{
	return (uint8_t)(at * 31 + (at >> 9) + stream * 101 + 7);
}

static void stream_fill(uint8_t *p, size_t n, unsigned stream, uint64_t at)
{
	for (size_t i = 0; i < n; i++)
		p[i] = stream_byte(stream, at + i);
}

static void stream_check(const uint8_t *p, size_t n, unsigned stream, uint64_t at)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(p[i], stream_byte(stream, at + i), "stream %u: byte %lu", stream,
			     (unsigned long)(at + i));
}

/* The large-block table is a holder's to grow (mm/kmalloc.h): made large
 * enough here for every record the queues may hold, as the kernel's is
 * by the time the app runs. */
static void grow_large_table(void)
{
	static void *grow[1024];

	for (size_t i = 0; i < ARRAY_SIZE(grow); i++)
		cr_assert_not_null(grow[i] = kmalloc_a(1));
	for (size_t i = 0; i < ARRAY_SIZE(grow); i++)
		kfree(grow[i]);
}

static int shared_wakes;

static void count_wake(struct wait_entry *e, unsigned ev)
{
	(void)e;
	(void)ev;
	shared_wakes++;
}

/* In a shared syscall (shim_shared) read and write of a stream pair move
 * bytes both ways and wake the peer, as under the kernel lock, without
 * asking for it; a write past a small block's size takes several records. */
Test(af_unix, shared_stream_reads_and_writes_move_bytes_and_wake_the_peer)
{
	int sv[2];
	char buf[32];
	static uint8_t big[20000], back[20000];
	struct wait_entry e;

	grow_large_table();
	pair(SOCK_STREAM, sv);
	wait_entry_init(&e, count_wake, NULL);
	waitq_add(&sock_from_file(fd_get(sv[1]))->wq, &e);
	shim_shared = 1;
	cr_assert_eq(wr(sv[0], "hello", 5), 5);
	cr_assert_eq(wr(sv[0], " world", 6), 6);
	cr_assert_eq(shared_wakes, 2, "each write woke the reader");
	cr_assert_eq(fionread(sv[1]), 11);
	cr_assert_eq(rd(sv[1], buf, 3), 3);
	cr_assert_eq(rd(sv[1], buf + 3, sizeof(buf) - 3), 8);
	cr_assert_arr_eq(buf, "hello world", 11);
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(rd(sv[1], buf, 4), -EAGAIN, "empty: the syscall asks for the lock");
	cr_assert_eq(shim_needs_lock, 0);
	waitq_remove(&e);

	shim_needs_lock = 0;
	stream_fill(big, sizeof(big), 1, 0);
	cr_assert_eq(wr(sv[1], big, sizeof(big)), (long)sizeof(big));
	cr_assert_eq(fionread(sv[0]), (long)sizeof(big));
	cr_assert_eq(rd(sv[0], back, 7000), 7000);
	shim_shared = 0;
	cr_assert_eq(rcv(sv[0], (char *)back + 7000, sizeof(back), 0), (long)sizeof(back) - 7000,
		     "the locked side reads what the shared side wrote");
	stream_check(back, sizeof(back), 1, 0);
	cr_assert_eq(shim_needs_lock, 0);
	done();
}

/* send and recv (sendto and recvfrom without an address) go the same way
 * on the shared side; an address or a flag that would change what they
 * do there asks for the lock, and MSG_DONTWAIT's -EAGAIN is the answer. */
Test(af_unix, shared_send_and_recv_move_bytes_and_leave_the_rest_to_the_lock)
{
	int sv[2];
	char buf[16];
	struct linux_sockaddr_un a;
	uint32_t alen = sizeof(a);

	pair(SOCK_STREAM, sv);
	shim_shared = 1;
	cr_assert_eq(snd(sv[0], "abc", 3, 0), 3);
	cr_assert_eq(snd(sv[0], "de", 2, MSG_NOSIGNAL), 2);
	cr_assert_eq(rcv(sv[1], buf, 2, 0), 2);
	cr_assert_eq(rcv(sv[1], buf + 2, sizeof(buf), MSG_DONTWAIT), 3);
	cr_assert_arr_eq(buf, "abcde", 5);
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 0, "a non-blocking recv's answer");
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), 0), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "a blocking recv's wait is the locked run's");
	shim_needs_lock = 0;
	cr_assert_eq(snd(sv[0], "x", 1, MSG_DONTWAIT), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "MSG_DONTWAIT on a send");
	shim_needs_lock = 0;
	cr_assert_eq(snd(sv[0], "x", 1, MSG_OOB), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "MSG_OOB");
	shim_needs_lock = 0;
	cr_assert_eq(CALL(recvfrom, sv[1], U(buf), sizeof(buf), 0, U(&a), U(&alen)), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "an address to fill");
	shim_needs_lock = 0;
	cr_assert_eq(rcv(sv[1], buf, sizeof(buf), MSG_PEEK), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "MSG_PEEK");
	shim_shared = shim_needs_lock = 0;
	cr_assert_eq(fionread(sv[1]), 0, "the sends the lock was asked for sent nothing");
	done();
}

/* What a shared read or write may not do (wait for room, take descriptors
 * in flight, report an error once, raise SIGPIPE, stand by a copy it gave
 * up) asks for the kernel lock and leaves the queue as it was. */
Test(af_unix, shared_stream_calls_leave_to_the_lock_what_they_may_not_do)
{
	int sv[2], nv[2];
	static char big[64 * 1024];
	char buf[64];
	long n, total = 0;

	pair(SOCK_STREAM, sv);
	while ((n = snd(sv[0], big, sizeof(big), MSG_DONTWAIT)) > 0)
		total += n;
	shim_shared = 1;
	cr_assert_eq(wr(sv[0], "x", 1), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "a full queue: the wait is the locked run's");
	shim_shared = shim_needs_lock = 0;
	cr_assert_eq(rcv(sv[1], big, 5000, 0), 5000);
	shim_shared = 1;
	cr_assert_eq(wr(sv[0], big, sizeof(big)), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "a blocking write that does not fit whole");
	cr_assert_eq(fionread(sv[1]), total - 5000, "and none of it went in");

	shim_needs_lock = 0;
	struct linux_iovec iov[2] = {{U("abcdefgh"), 8}, {BAD_ADDRESS, 4}};
	struct iobuf b;
	uint64_t pos = 0;
	iobuf_user_vec(&b, iov, 2, 12);
	(void)file_write(fd_get(sv[0]), &b, &pos);
	cr_assert_eq(shim_needs_lock, 1, "a copy that failed part way");
	cr_assert_eq(fionread(sv[1]), total - 5000, "its good bytes are not in");
	shim_needs_lock = 0;
	cr_assert_eq(rd(sv[1], (void *)BAD_ADDRESS, 4), -EFAULT);
	cr_assert_eq(shim_needs_lock, 1, "a read to a bad buffer");
	cr_assert_eq(fionread(sv[1]), total - 5000, "consumes nothing");
	shim_shared = shim_needs_lock = 0;
	/* A read whose copy fails in the second record: the first, copied
	 * whole, is not consumed either. */
	int rv[2];
	pair(SOCK_STREAM, rv);
	cr_assert_eq(snd(rv[0], big, 3000, 0), 3000); /* one record, full */
	cr_assert_eq(snd(rv[0], big, 10, 0), 10);     /* and another */
	struct linux_iovec into[2] = {{U(big), 3000}, {BAD_ADDRESS, 4}};
	iobuf_user_vec(&b, into, 2, 3004);
	shim_shared = 1;
	(void)file_read(fd_get(rv[1]), &b, &pos);
	cr_assert_eq(shim_needs_lock, 1, "a read whose copy failed part way");
	cr_assert_eq(fionread(rv[1]), 3010, "consumes nothing either");
	shim_shared = shim_needs_lock = 0;
	while (rcv(sv[1], big, sizeof(big), MSG_DONTWAIT) > 0)
		;

	/* A non-blocking write takes the room there is, as Linux does. */
	int32_t v[2];
	cr_assert_eq(CALL(socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, U(v)), 0);
	nv[0] = v[0];
	nv[1] = v[1];
	total = 0;
	while ((n = snd(nv[0], big, sizeof(big), 0)) > 0)
		total += n;
	long freed = rcv(nv[1], big, sizeof(big), 0);
	cr_assert_gt(freed, 0);
	shim_shared = 1;
	n = wr(nv[0], big, sizeof(big) * 2);
	cr_assert(n > 0 && n <= freed, "a non-blocking write into %ld bytes of room: %ld", freed,
		  n);
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(fionread(nv[1]), total - freed + n);
	shim_shared = 0;
	while (rcv(nv[1], big, sizeof(big), 0) > 0)
		;
	/* A copy that fails in its second record: the first, which stood
	 * alone, is not in either. */
	static char more[70000];
	struct linux_iovec iov2[2] = {{U(more), sizeof(more)}, {BAD_ADDRESS, 4}};
	iobuf_user_vec(&b, iov2, 2, sizeof(more) + 4);
	shim_shared = 1;
	(void)file_write(fd_get(nv[0]), &b, &pos);
	cr_assert_eq(shim_needs_lock, 1);
	cr_assert_eq(fionread(nv[1]), 0, "none of its bytes are in");
	shim_shared = shim_needs_lock = 0;

	/* Descriptors at the head: the locked run takes them. */
	int32_t p[2];
	cr_assert_eq(CALL(pipe2, U(p), 0), 0);
	cr_assert_eq(send_fd(sv[0], p[0], 1), 1);
	shim_shared = 1;
	cr_assert_eq(rd(sv[1], buf, sizeof(buf)), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "descriptors in flight");
	cr_assert_eq(fionread(sv[1]), 1);
	shim_shared = shim_needs_lock = 0;
	int flags;
	cr_assert_geq(recv_fd(sv[1], LINUX_CMSG_SPACE(sizeof(int32_t)), &flags), 0);

	/* A pending error is reported once, by the locked run. */
	cr_assert_eq(snd(sv[1], "unread", 6, 0), 6);
	cr_assert_eq(snd(sv[0], "kept", 4, 0), 4);
	shim_shared = 1;
	cr_assert_eq(rd(sv[1], buf, 2), 2, "queued data first");
	cr_assert_eq(shim_needs_lock, 0);
	shim_shared = 0;
	fd_close(sv[0]);
	shim_shared = 1;
	cr_assert_eq(rd(sv[1], buf, sizeof(buf)), 2);
	cr_assert_eq(shim_needs_lock, 0);
	cr_assert_eq(rd(sv[1], buf, sizeof(buf)), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1, "ECONNRESET is the locked run's");
	shim_shared = shim_needs_lock = 0;
	cr_assert_eq(rd(sv[1], buf, sizeof(buf)), -ECONNRESET);

	/* A write after the peer is gone raises SIGPIPE: the locked run's. */
	shim_shared = 1;
	cr_assert_eq(wr(sv[1], "x", 1), -EAGAIN);
	cr_assert_eq(shim_needs_lock, 1);
	cr_assert_eq(shim_signals, 0);
	cr_assert_eq(rd(sv[1], buf, sizeof(buf)), 0, "the end, without the lock");
	shim_shared = shim_needs_lock = 0;
	cr_assert_eq(wr(sv[1], "x", 1), -EPIPE);
	cr_assert_eq(shim_signals, 1);
	done();
}

/*
 * Pairs on host threads ("CPUs"): for each of SH_PAIRS stream pairs one
 * thread writes a byte stream in random pieces and another reads it in
 * random pieces, all in shared syscalls, the copies yielding between
 * chunks so that calls without turns would cross. Each stream must arrive
 * whole and in order; the heap (records made and freed on every thread)
 * ends empty.
 */
#define SH_PAIRS 3
#define SH_BYTES (768u * 1024)

static struct file *sh_end[SH_PAIRS][2];

struct sh_job {
	unsigned pair, writer;
};

static void *sh_stream(void *arg)
{
	const struct sh_job *j = arg;
	static _Thread_local uint8_t buf[6000];
	unsigned seed = j->pair * 31 + j->writer + 1;
	uint64_t at = 0;

	spin_host_cpu = 1 + j->pair * 2 + j->writer;
	shim_copy_yields = 1;
	shim_shared = 1;
	while (at < SH_BYTES) {
		size_t n = 1 + (size_t)rand_r(&seed) % (rand_r(&seed) % 4 ? 300 : sizeof(buf));
		n = (size_t)MIN((uint64_t)n, SH_BYTES - at);
		if (j->writer)
			stream_fill(buf, n, j->pair, at);
		long got = file_io(sh_end[j->pair][j->writer], buf, n, j->writer);
		if (got == -EAGAIN) {
			shim_needs_lock = 0; /* the locked run would wait: here, try again */
			sched_yield();
			continue;
		}
		if (got <= 0 || (size_t)got > n)
			return (void *)1;
		if (!j->writer)
			for (long i = 0; i < got; i++)
				if (buf[i] != stream_byte(j->pair, at + (uint64_t)i))
					return (void *)2;
		at += (uint64_t)got;
	}
	return NULL;
}

Test(af_unix, shared_stream_pairs_on_threads_lose_and_mix_nothing)
{
	pthread_t t[SH_PAIRS][2];
	struct sh_job job[SH_PAIRS][2];

	grow_large_table();

	for (unsigned p = 0; p < SH_PAIRS; p++) {
		int32_t v[2];
		cr_assert_eq(CALL(socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, U(v)), 0);
		sh_end[p][1] = fd_get(v[0]); /* written */
		sh_end[p][0] = fd_get(v[1]); /* read */
		for (unsigned w = 0; w < 2; w++) {
			job[p][w] = (struct sh_job){p, w};
			cr_assert_eq(pthread_create(&t[p][w], NULL, sh_stream, &job[p][w]), 0);
		}
	}
	for (unsigned p = 0; p < SH_PAIRS; p++)
		for (unsigned w = 0; w < 2; w++) {
			void *ret;
			cr_assert_eq(pthread_join(t[p][w], &ret), 0);
			cr_assert_null(ret, "pair %u's %s failed (%p)", p, w ? "writer" : "reader",
				       ret);
		}
	for (unsigned p = 0; p < SH_PAIRS; p++)
		cr_assert_eq(sock_from_file(sh_end[p][0])->ops->inq(sock_from_file(sh_end[p][0])),
			     0);
	done();
}
