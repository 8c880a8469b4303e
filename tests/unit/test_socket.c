/*
 * Host tests of net/socket.c and net/inet.c over lwIP's loopback netif:
 * the socket handlers are called as the app would call them (user
 * pointers are host pointers), and after each step the test drives the
 * stack by hand (pump: the loopback queue and lwIP's timers, as the
 * kernel's deferred work would). A call that would wait returns -EWAITING
 * with the shim's one fake thread queued; its "retry" is the test calling
 * the handler again after shim_unqueue (what a wake does).
 *
 * Each test runs in its own process (Criterion forks), so lwip_init starts
 * a fresh stack every time; each ends by closing every descriptor and
 * checking that no wait entry is left queued.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#undef FD_SETSIZE

#include "fs/epoll.h"
#include "fs/fcntl.h"
#include "fs/fdtable.h"
#include "fs/file.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/socket.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/abi/time.h"
#include "kernel/thread.h"
#include "kernel_shim.h"
#include "net/socket.h"

/* lwIP's entry points the test drives (its headers need lwIP's include
 * path, which the test files are not built with). */
void lwip_init(void);
void netif_poll_all(void);
void sys_check_timeouts(void);

static void setup(void)
{
	shim_setup();
	lwip_init();
}

TestSuite(socket, .init = setup);

/* What the kernel's deferred work does: loop back what was sent and run
 * lwIP's timers, until things settle. */
static void pump(void)
{
	for (int i = 0; i < 20; i++) {
		netif_poll_all();
		sys_check_timeouts();
	}
}

/* Moves the clock by ms, running lwIP's timers on the way. */
static void advance_ms(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		shim_now += 100 * NSEC_PER_MSEC;
		pump();
	}
}

/* The end of a wait: the fake thread leaves its queues, progress stays. */
static void woken(void)
{
	shim_unqueue();
}

/* A call completed: forget its wait progress. */
static long done(long r)
{
	shim_progress = 0;
	return r;
}

/* The end of every test: close everything, let lwIP finish the closes
 * (FINs and their ACKs over the loopback), then the shim's checks: no
 * queued wait entry, no memory left (TIME_WAIT pcbs are lwIP's static
 * pools, not the heap). */
static void finish(void)
{
	fd_table_release();
	advance_ms(1000);
	shim_close_all_and_check();
}

static uint16_t be16(uint16_t v)
{
	return __builtin_bswap16(v);
}

static struct linux_sockaddr_in in4(uint32_t host_addr, uint16_t port)
{
	struct linux_sockaddr_in a = {.sin_family = AF_INET, .sin_port = be16(port)};
	a.sin_addr.s_addr = __builtin_bswap32(host_addr);
	return a;
}

static int tcp_socket(int family, int flags)
{
	int fd = (int)CALL(socket, (uint64_t)family, (uint64_t)(SOCK_STREAM | flags), 0);
	cr_assert_geq(fd, 0, "socket: %d", fd);
	return fd;
}

static uint16_t local_port(int fd)
{
	struct linux_sockaddr_storage a;
	int32_t len = sizeof(a);

	cr_assert_eq(CALL(getsockname, (uint64_t)fd, U(&a), U(&len)), 0);
	return be16(((struct linux_sockaddr_in *)&a)->sin_port);
}

/* A TCP listener on 127.0.0.1 with a port of its own choosing. */
static int listener(int backlog, uint16_t *port)
{
	int fd = tcp_socket(AF_INET, 0);
	struct linux_sockaddr_in a = in4(INADDR_LOOPBACK, 0);

	cr_assert_eq(CALL(bind, (uint64_t)fd, U(&a), sizeof(a)), 0);
	cr_assert_eq(CALL(listen, (uint64_t)fd, (uint64_t)backlog), 0);
	*port = local_port(fd);
	cr_assert_neq(*port, 0);
	return fd;
}

/* A non-blocking connect to 127.0.0.1:port: EINPROGRESS. */
static int connect_nb(uint16_t port)
{
	int fd = tcp_socket(AF_INET, SOCK_NONBLOCK);
	struct linux_sockaddr_in a = in4(INADDR_LOOPBACK, port);

	cr_assert_eq(CALL(connect, (uint64_t)fd, U(&a), sizeof(a)), -EINPROGRESS);
	return fd;
}

/* A connected pair through a listener: *c the client, *s the server side. */
static int pair(int *c, int *s)
{
	uint16_t port;
	int l = listener(8, &port);

	*c = connect_nb(port);
	pump();
	*s = (int)done(CALL(accept4, (uint64_t)l, 0, 0, SOCK_NONBLOCK));
	cr_assert_geq(*s, 0, "accept4: %d", *s);
	return l;
}

static long send_str(int fd, const char *s)
{
	return done(CALL(sendto, (uint64_t)fd, U(s), strlen(s), MSG_NOSIGNAL, 0, 0));
}

static long recv_buf(int fd, char *buf, size_t n, int flags)
{
	return done(CALL(recvfrom, (uint64_t)fd, U(buf), n, (uint64_t)flags, 0, 0));
}

static unsigned poll_fd(int fd)
{
	return file_poll(fd_get(fd), NULL);
}

static int get_int_opt(int fd, int level, int name)
{
	int32_t v = -1, len = sizeof(v);

	cr_assert_eq(
	    CALL(getsockopt, (uint64_t)fd, (uint64_t)level, (uint64_t)name, U(&v), U(&len)), 0);
	cr_assert_eq(len, 4);
	return v;
}

/* ---------------------------------------------------------------- TCP */

Test(socket, connect_accept_and_data_both_ways)
{
	char buf[64] = {0};
	int c, s, l = pair(&c, &s);

	cr_assert(poll_fd(c) & POLLOUT, "connected: writable");
	cr_assert_eq(get_int_opt(c, SOL_SOCKET, SO_ERROR), 0);
	cr_assert_eq(send_str(c, "hello"), 5);
	pump();
	cr_assert(poll_fd(s) & POLLIN);
	int32_t n = -1;
	cr_assert_eq(fd_get(s)->ops->ioctl(fd_get(s), FIONREAD, U(&n)), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), -EAGAIN);

	cr_assert_eq(send_str(s, "world!"), 6);
	pump();
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(recv_buf(c, buf, 3, MSG_PEEK), 3);
	cr_assert_eq(recv_buf(c, buf, sizeof(buf), 0), 6);
	cr_assert_str_eq(buf, "world!");

	/* Both ends know each other. */
	struct linux_sockaddr_in a;
	int32_t len = sizeof(a);
	cr_assert_eq(CALL(getpeername, (uint64_t)s, U(&a), U(&len)), 0);
	cr_assert_eq(be16(a.sin_port), local_port(c));
	cr_assert_eq(a.sin_addr.s_addr, __builtin_bswap32(INADDR_LOOPBACK));
	cr_assert_eq(CALL(connect, (uint64_t)c, U(&a), sizeof(a)), -EISCONN);
	(void)l;
	finish();
}

Test(socket, blocking_connect_waits_then_completes)
{
	uint16_t port;
	int l = listener(4, &port);
	int c = tcp_socket(AF_INET, 0);
	struct linux_sockaddr_in a = in4(INADDR_LOOPBACK, port);

	cr_assert_eq(CALL(connect, (uint64_t)c, U(&a), sizeof(a)), -EWAITING);
	cr_assert_gt(shim_queued(), 0);
	pump();
	woken();
	cr_assert_eq(done(CALL(connect, (uint64_t)c, U(&a), sizeof(a))), 0);
	cr_assert_geq(done(CALL(accept, (uint64_t)l, 0, 0)), 0);
	finish();
}

Test(socket, blocking_accept_and_recv_wait_for_the_peer)
{
	uint16_t port;
	char buf[8];
	int l = listener(4, &port);

	cr_assert_eq(CALL(accept, (uint64_t)l, 0, 0), -EWAITING);
	int c = connect_nb(port);
	pump();
	cr_assert_gt(shim_wakes, 0, "the new connection woke the accept");
	woken();
	int s = (int)done(CALL(accept, (uint64_t)l, 0, 0));
	cr_assert_geq(s, 0);
	cr_assert_eq(CALL(recvfrom, (uint64_t)s, U(buf), sizeof(buf), 0, 0, 0), -EWAITING);
	shim_wakes = 0;
	cr_assert_eq(send_str(c, "x"), 1);
	pump();
	cr_assert_gt(shim_wakes, 0);
	woken();
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), 1);
	finish();
}

Test(socket, nonblocking_connect_refused_reports_so_error)
{
	int c = connect_nb(1); /* nobody listens on port 1 */

	pump();
	unsigned ev = poll_fd(c);
	cr_assert(ev & POLLERR, "events %#x", ev);
	cr_assert(ev & POLLOUT, "events %#x", ev);
	cr_assert_eq(get_int_opt(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	cr_assert_eq(get_int_opt(c, SOL_SOCKET, SO_ERROR), 0, "read and cleared");
	finish();
}

Test(socket, half_close_peer_reads_eof_and_can_still_send)
{
	char buf[16] = {0};
	int c, s;

	pair(&c, &s);
	cr_assert_eq(CALL(shutdown, (uint64_t)c, SHUT_WR), 0);
	pump();
	cr_assert(poll_fd(s) & POLLRDHUP);
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), 0, "end of stream");
	cr_assert_eq(send_str(s, "back"), 4);
	pump();
	cr_assert_eq(recv_buf(c, buf, sizeof(buf), 0), 4);
	cr_assert_str_eq(buf, "back");
	/* The side that shut down may not write any more. */
	cr_assert_eq(done(CALL(sendto, (uint64_t)c, U("z"), 1, 0, 0, 0)), -EPIPE);
	cr_assert_eq(shim_last_signal, SIGPIPE);
	finish();
}

Test(socket, close_with_unread_data_resets_the_peer)
{
	int c, s;

	pair(&c, &s);
	cr_assert_eq(send_str(c, "unread"), 6);
	pump();
	cr_assert_eq(fd_close(s), 0);
	pump();
	char buf[8];
	cr_assert(poll_fd(c) & (POLLERR | POLLHUP));
	cr_assert_eq(recv_buf(c, buf, sizeof(buf), 0), -ECONNRESET);
	/* After the reset: EPIPE, no SIGPIPE with MSG_NOSIGNAL, SIGPIPE without. */
	cr_assert_eq(send_str(c, "x"), -EPIPE);
	cr_assert_eq(shim_signals, 0);
	cr_assert_eq(done(CALL(sendto, (uint64_t)c, U("x"), 1, 0, 0, 0)), -EPIPE);
	cr_assert_eq(shim_last_signal, SIGPIPE);
	finish();
}

Test(socket, full_backlog_leaves_connections_waiting)
{
	uint16_t port;
	int l = listener(0, &port); /* Linux queues backlog + 1 = 1 */
	int c1 = connect_nb(port), c2 = connect_nb(port);

	pump();
	cr_assert(poll_fd(c1) & POLLOUT);
	cr_assert_not(poll_fd(c2) & POLLOUT, "the second SYN was dropped");
	int s1 = (int)done(CALL(accept4, (uint64_t)l, 0, 0, SOCK_NONBLOCK));
	cr_assert_geq(s1, 0);
	/* The listener blocks: the next accept waits (SOCK_NONBLOCK is the new socket's). */
	cr_assert_eq(CALL(accept4, (uint64_t)l, 0, 0, SOCK_NONBLOCK), -EWAITING);
	woken();
	/* The client's SYN retransmission finds room now. */
	advance_ms(4000);
	cr_assert(poll_fd(c2) & POLLOUT);
	cr_assert_geq(done(CALL(accept4, (uint64_t)l, 0, 0, SOCK_NONBLOCK)), 0);
	finish();
}

Test(socket, rcvtimeo_ends_a_blocking_recv_with_eagain)
{
	int c, s;
	char buf[4];
	struct k_timeval tv = {1, 500000};

	pair(&c, &s);
	cr_assert_eq(CALL(fcntl, (uint64_t)s, F_SETFL, 0), 0);
	cr_assert_eq(CALL(setsockopt, (uint64_t)s, SOL_SOCKET, SO_RCVTIMEO, U(&tv), sizeof(tv)), 0);
	struct k_timeval got;
	int32_t len = sizeof(got);
	cr_assert_eq(CALL(getsockopt, (uint64_t)s, SOL_SOCKET, SO_RCVTIMEO, U(&got), U(&len)), 0);
	cr_assert_eq(got.sec, 1);
	cr_assert_eq(got.usec, 500000);
	cr_assert_eq(CALL(recvfrom, (uint64_t)s, U(buf), sizeof(buf), 0, 0, 0), -EWAITING);
	cr_assert_eq(shim_deadline, shim_now + 1500 * NSEC_PER_MSEC);
	shim_retry_deadline = shim_deadline; /* a retry keeps its first deadline */
	shim_now = shim_deadline;
	woken();
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), -EAGAIN);
	finish();
}

Test(socket, signal_interrupts_a_blocking_recv)
{
	int c, s;
	char buf[4];

	pair(&c, &s);
	shim_signal_pending = 1;
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), -EAGAIN, "non-blocking file");
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), -EAGAIN);
	cr_assert_eq(CALL(fcntl, (uint64_t)s, F_SETFL, 0), 0);
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), -ERESTARTSYS);
	finish();
}

Test(socket, epoll_reports_rdhup_when_the_peer_closes)
{
	int c, s;
	struct linux_epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data = 7}, out[4];

	pair(&c, &s);
	int ep = (int)CALL(epoll_create1, 0);
	cr_assert_geq(ep, 0);
	cr_assert_eq(CALL(epoll_ctl, (uint64_t)ep, EPOLL_CTL_ADD, (uint64_t)s, U(&ev)), 0);
	cr_assert_eq(CALL(epoll_wait, (uint64_t)ep, U(out), 4, 0), 0);
	cr_assert_eq(fd_close(c), 0);
	pump();
	cr_assert_eq(CALL(epoll_wait, (uint64_t)ep, U(out), 4, 0), 1);
	cr_assert_eq(out[0].data, 7);
	cr_assert(out[0].events & EPOLLRDHUP, "events %#x", out[0].events);
	cr_assert(out[0].events & EPOLLIN);
	finish();
}

Test(socket, bind_to_a_port_in_use_is_eaddrinuse)
{
	uint16_t port;
	int l = listener(1, &port);
	int fd = tcp_socket(AF_INET, 0);
	struct linux_sockaddr_in a = in4(INADDR_LOOPBACK, port);

	cr_assert_eq(CALL(bind, (uint64_t)fd, U(&a), sizeof(a)), -EADDRINUSE);
	a = in4(0x0a000001, 0); /* 10.0.0.1 is not ours */
	cr_assert_eq(CALL(bind, (uint64_t)fd, U(&a), sizeof(a)), -EADDRNOTAVAIL);
	cr_assert_eq(CALL(bind, (uint64_t)fd, U(&a), 3), -EINVAL);
	(void)l;
	finish();
}

Test(socket, dual_stack_listener_sees_v4_mapped_peers)
{
	int l = tcp_socket(AF_INET6, 0);
	struct linux_sockaddr_in6 any6 = {.sin6_family = AF_INET6};
	struct linux_sockaddr_in6 peer;
	int32_t len = sizeof(peer);

	cr_assert_eq(get_int_opt(l, SOL_IPV6, IPV6_V6ONLY), 0);
	cr_assert_eq(CALL(bind, (uint64_t)l, U(&any6), sizeof(any6)), 0);
	cr_assert_eq(CALL(listen, (uint64_t)l, 16), 0);
	uint16_t port = local_port(l); /* sin6_port is at the same place */
	int c = connect_nb(port);
	pump();
	int s = (int)done(CALL(accept, (uint64_t)l, U(&peer), U(&len)));
	cr_assert_geq(s, 0);
	cr_assert_eq(len, sizeof(peer));
	cr_assert_eq(peer.sin6_family, AF_INET6);
	cr_assert_eq(peer.sin6_addr.s6_addr32[2], __builtin_bswap32(0xffff));
	cr_assert_eq(peer.sin6_addr.s6_addr32[3], __builtin_bswap32(INADDR_LOOPBACK));
	cr_assert_eq(be16(peer.sin6_port), local_port(c));
	cr_assert_eq(send_str(c, "v4"), 2);
	pump();
	char buf[4];
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), 2);
	finish();
}

Test(socket, v6_loopback_connect)
{
	int l = tcp_socket(AF_INET6, 0);
	struct linux_sockaddr_in6 a = {.sin6_family = AF_INET6};

	a.sin6_addr.s6_addr[15] = 1; /* ::1 */
	cr_assert_eq(CALL(bind, (uint64_t)l, U(&a), sizeof(a)), 0);
	cr_assert_eq(CALL(listen, (uint64_t)l, 4), 0);
	a.sin6_port = be16(local_port(l));
	int c = tcp_socket(AF_INET6, SOCK_NONBLOCK);
	cr_assert_eq(CALL(connect, (uint64_t)c, U(&a), sizeof(a)), -EINPROGRESS);
	pump();
	cr_assert_geq(done(CALL(accept, (uint64_t)l, 0, 0)), 0);
	cr_assert(poll_fd(c) & POLLOUT);
	finish();
}

Test(socket, large_send_is_reassembled_in_order)
{
	static char out[200000], in[200000];
	int c, s;
	size_t sent = 0, got = 0;

	pair(&c, &s);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + (i >> 9));
	for (int round = 0; round < 1000 && got < sizeof(out); round++) {
		if (sent < sizeof(out)) {
			long n = send_str(c, ""); /* zero bytes: 0 */
			cr_assert_eq(n, 0);
			n = done(
			    CALL(sendto, (uint64_t)c, U(out + sent), sizeof(out) - sent, 0, 0, 0));
			if (n > 0)
				sent += (size_t)n;
			else
				cr_assert_eq(n, -EAGAIN);
		}
		pump();
		long n = recv_buf(s, in + got, sizeof(in) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	cr_assert_eq(got, sizeof(out));
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);
	finish();
}

/*
 * Nagle's rule holds a small write while an earlier one is unacked (the
 * receiver delays its ACK, and the clock does not move here). Clearing
 * TCP_CORK or setting TCP_NODELAY sends it at once, as on Linux: nginx
 * corks around each response's header and body.
 */
static void assert_push_after(int level, int name, int value)
{
	char buf[16] = {0};
	int c, s, one = value;

	pair(&c, &s);
	cr_assert_eq(send_str(c, "a"), 1);
	pump();
	cr_assert_eq(send_str(c, "bcd"), 3);
	pump();
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), 1, "Nagle holds the second write");
	cr_assert_eq(CALL(setsockopt, (uint64_t)c, (uint64_t)level, (uint64_t)name, U(&one), 4), 0);
	pump();
	cr_assert_eq(recv_buf(s, buf, sizeof(buf), 0), 3);
	cr_assert_str_eq(buf, "bcd");
	finish();
}

Test(socket, uncorking_sends_what_nagle_held)
{
	assert_push_after(SOL_TCP, TCP_CORK, 0);
}

Test(socket, setting_nodelay_sends_what_nagle_held)
{
	assert_push_after(SOL_TCP, TCP_NODELAY, 1);
}

/* ---------------------------------------------------------------- UDP */

Test(socket, udp_datagrams_keep_their_bounds_and_truncate)
{
	int a = (int)CALL(socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int b = (int)CALL(socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct linux_sockaddr_in lo = in4(INADDR_LOOPBACK, 0), from;
	int32_t len = sizeof(from);
	char buf[16] = {0};

	cr_assert_geq(a, 0);
	cr_assert_eq(CALL(bind, (uint64_t)a, U(&lo), sizeof(lo)), 0);
	cr_assert_eq(CALL(bind, (uint64_t)b, U(&lo), sizeof(lo)), 0);
	struct linux_sockaddr_in to = in4(INADDR_LOOPBACK, local_port(b));
	cr_assert_eq(CALL(sendto, (uint64_t)a, U("0123456789"), 10, 0, U(&to), sizeof(to)), 10);
	cr_assert_eq(CALL(sendto, (uint64_t)a, U("abc"), 3, 0, U(&to), sizeof(to)), 3);
	cr_assert_eq(CALL(sendto, (uint64_t)a, U("xyz"), 3, 0, U(&to), sizeof(to)), 3);
	pump();
	int32_t n = -1;
	cr_assert_eq(fd_get(b)->ops->ioctl(fd_get(b), FIONREAD, U(&n)), 0);
	cr_assert_eq(n, 10);
	/* A short buffer takes the head of the datagram; the rest is gone. */
	cr_assert_eq(CALL(recvfrom, (uint64_t)b, U(buf), 4, 0, U(&from), U(&len)), 4);
	cr_assert_eq(memcmp(buf, "0123", 4), 0);
	cr_assert_eq(be16(from.sin_port), local_port(a));
	/* MSG_TRUNC: the real length. */
	cr_assert_eq(CALL(recvfrom, (uint64_t)b, U(buf), 2, MSG_TRUNC, 0, 0), 3);
	/* recvmsg reports MSG_TRUNC in msg_flags. */
	struct linux_iovec iov = {U(buf), 2};
	struct linux_msghdr m = {.msg_iov = U(&iov), .msg_iovlen = 1};
	cr_assert_eq(CALL(recvmsg, (uint64_t)b, U(&m), 0), 2);
	cr_assert(m.msg_flags & MSG_TRUNC);
	cr_assert_eq(CALL(recvfrom, (uint64_t)b, U(buf), sizeof(buf), 0, 0, 0), -EAGAIN);
	/* Unconnected, no address: EDESTADDRREQ; too large: EMSGSIZE. */
	cr_assert_eq(CALL(sendto, (uint64_t)a, U(buf), 1, 0, 0, 0), -EDESTADDRREQ);
	cr_assert_eq(CALL(sendto, (uint64_t)a, U(buf), 70000, 0, U(&to), sizeof(to)), -EMSGSIZE);
	finish();
}

Test(socket, udp_receive_queue_is_bounded)
{
	int a = (int)CALL(socket, AF_INET, SOCK_DGRAM, 0);
	int b = (int)CALL(socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct linux_sockaddr_in lo = in4(INADDR_LOOPBACK, 0);
	int32_t small = 4096;
	static char big[1400];
	int got = 0;

	cr_assert_eq(CALL(bind, (uint64_t)b, U(&lo), sizeof(lo)), 0);
	cr_assert_eq(CALL(setsockopt, (uint64_t)b, SOL_SOCKET, SO_RCVBUF, U(&small), 4), 0);
	cr_assert_eq(get_int_opt(b, SOL_SOCKET, SO_RCVBUF), 8192, "reported doubled");
	struct linux_sockaddr_in to = in4(INADDR_LOOPBACK, local_port(b));
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(CALL(sendto, (uint64_t)a, U(big), sizeof(big), 0, U(&to), sizeof(to)),
			     sizeof(big));
		pump();
	}
	while (CALL(recvfrom, (uint64_t)b, U(big), sizeof(big), 0, 0, 0) > 0)
		got++;
	cr_assert_eq(got, 5, "2 x 4096 bytes hold 5 datagrams of 1400");
	finish();
}

/* ---------------------------------------------------------------- the generic layer */

Test(socket, generic_options_and_errors)
{
	int fd = tcp_socket(AF_INET, SOCK_CLOEXEC);
	int32_t one = 1, len = 4, v;
	struct kstat st;

	cr_assert_eq(CALL(socket, 12345, SOCK_STREAM, 0), -EAFNOSUPPORT);
	cr_assert_eq(CALL(socket, AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
	cr_assert_eq(CALL(socket, AF_INET, SOCK_STREAM | 0x100, 0), -EINVAL);
	cr_assert(fd_cloexec(fd));
	cr_assert_eq(get_int_opt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	cr_assert_eq(get_int_opt(fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
	cr_assert_eq(get_int_opt(fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	cr_assert_eq(get_int_opt(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	cr_assert_eq(get_int_opt(fd, SOL_SOCKET, SO_RCVBUF), 131072);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_SOCKET, SO_REUSEADDR, U(&one), 4), 0);
	cr_assert_eq(get_int_opt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_TCP, TCP_NODELAY, U(&one), 4), 0);
	cr_assert_eq(get_int_opt(fd, SOL_TCP, TCP_NODELAY), 1);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_SOCKET, SO_KEEPALIVE, U(&one), 4), 0);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_TCP, TCP_KEEPIDLE, U(&one), 4), 0);
	cr_assert_eq(get_int_opt(fd, SOL_TCP, TCP_KEEPIDLE), 1);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_SOCKET, 9999, U(&one), 4), -ENOPROTOOPT);
	cr_assert_eq(CALL(getsockopt, (uint64_t)fd, SOL_TCP, 9999, U(&v), U(&len)), -ENOPROTOOPT);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_SOCKET, SO_REUSEADDR, U(&one), 2), -EINVAL);
	cr_assert_eq(CALL(setsockopt, (uint64_t)fd, SOL_SOCKET, SO_REUSEADDR, 16, 4), -EFAULT);
	cr_assert_eq(CALL(getsockname, (uint64_t)fd, 16, U(&len)), -EFAULT);
	cr_assert_eq(CALL(bind, (uint64_t)fd, U(&one), 200), -EINVAL);
	int ep = (int)CALL(epoll_create1, 0);
	cr_assert_eq(CALL(listen, (uint64_t)ep, 1), -ENOTSOCK);
	cr_assert_eq(CALL(listen, 999, 1), -EBADF);
	cr_assert_eq(CALL(getpeername, (uint64_t)fd, U(&v), U(&len)), -ENOTCONN);
	cr_assert_eq(file_stat(fd_get(fd), &st), 0);
	cr_assert_eq(st.mode & S_IFMT, S_IFSOCK);
	char b;
	cr_assert_eq(CALL(recvfrom, (uint64_t)fd, U(&b), 1, 0, 0, 0), -ENOTCONN);
	finish();
}
