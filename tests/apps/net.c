/*
 * net: the socket calls of a static Linux program, one subcommand per area,
 * for tests/boot/test_net.c. That test runs the peers on the host (servers
 * the guest connects to, clients that connect through QEMU's hostfwd) and
 * runs this same binary natively on the host as the oracle.
 *
 * Usage: net CMD ARGS... [+ CMD ARGS...]...   (commands run in order)
 *
 *   serve-tcp PORT N          listen on 0.0.0.0:PORT (backlog 128), accept N
 *                             connections one after the other, echo each to EOF
 *   serve-concurrent PORT N   the same with N connections at once, on epoll
 *                             (non-blocking accept4, EPOLLIN|EPOLLRDHUP|EPOLLET)
 *   udp-echo PORT N           echo datagrams until N distinct ones came (the
 *                             peer numbers them); recvfrom/sendto for the first
 *                             half, recvmmsg/sendmmsg for the rest
 *   client-tcp HOST PORT CLOSED   against an echo server at HOST:PORT: connect
 *                             (blocking, non-blocking), send/recv patterns,
 *                             MSG_PEEK/DONTWAIT/WAITALL, FIONREAD, names,
 *                             SO_RCVTIMEO, half-close, EPIPE, iovecs, 200
 *                             connections; HOST:CLOSED refuses connections
 *   udp-client HOST PORT      against a UDP echo server: sendto/recvfrom,
 *                             empty datagrams, MSG_TRUNC, FIONREAD,
 *                             sendmmsg/recvmmsg, connected UDP, SO_RCVTIMEO
 *   send-exit HOST TCP UDP BYTES  32 datagrams to HOST:UDP, BYTES on a TCP
 *                             connection to HOST:TCP, then exit at once with
 *                             nothing closed: all of it must reach the host.
 *                             Ends the app, so it comes last
 *   echo-client HOST PORT [LOCAL]  one short echo exchange; LOCAL: the address
 *                             getsockname must show
 *   bulk HOST PORT MIB        send MIB MiB and receive MIB MiB at once, print
 *                             the FNV-1a 64 of each direction
 *   loopback                  TCP and UDP over 127.0.0.1 and ::1 inside the app
 *   unix                      AF_UNIX stream, datagram and seqpacket sockets
 *   sockopts                  socket options Linux defines exactly
 *   ifaces [ADDR/LEN [MAC]]   getifaddrs and the SIOCGIF* ioctls; with ADDR, a
 *                             non-loopback interface must have exactly it
 *   v6 PORT N [ll]            a dual-stack [::]:PORT listener: v4-mapped and ::1
 *                             connections from the app, then N from outside;
 *                             ll: a fe80::/64 address on a non-loopback interface
 *   dns [--resolve NAME=ADDR]... [--nameserver ADDR] [--hostname NAME]
 *                             getaddrinfo through /etc/hosts, /etc/resolv.conf
 *
 * Output is "net: ok NAME" / "net: FAIL NAME ..." (tests/apps/check.h) and
 * lines of values that are the same on every correct kernel: no ports the
 * kernel chose, no descriptor numbers, no times, no buffer sizes. A server
 * prints "net: ready CMD PORT" once it listens: the host peer waits for that
 * line. Lines starting "net: info" are for people (throughput) and are never
 * compared. Every wait is bounded: each command runs under alarm(), and a
 * timeout prints "net: FAIL timeout in PHASE" and exits 99. Otherwise the
 * app prints "net: N failures" and exits with N (at most 98).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PREFIX "net"
#include "check.h"

#define MIB (1024 * 1024)

/* ---------------------------------------------------------------- common */

static const char *phase = "start";

static void on_alarm(int sig)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "net: FAIL timeout in %s\n", phase);

	(void)!write(1, buf, (size_t)n);
	_exit(99);
}

/* Names the current phase and bounds it: after seconds the app fails. */
static void limit(const char *what, unsigned seconds)
{
	phase = what;
	alarm(seconds);
}

static const char *err_name(int e)
{
#define E(x)                                                                                       \
	case x:                                                                                    \
		return #x
	switch (e) {
		E(EPERM);
		E(ENOENT);
		E(EINTR);
		E(EBADF);
		E(EAGAIN);
		E(EFAULT);
		E(EINVAL);
		E(ENFILE);
		E(EMFILE);
		E(ENOTTY);
		E(EPIPE);
		E(ENOSYS);
		E(ENOTSOCK);
		E(EDESTADDRREQ);
		E(EMSGSIZE);
		E(EPROTOTYPE);
		E(ENOPROTOOPT);
		E(EPROTONOSUPPORT);
		E(ESOCKTNOSUPPORT);
		E(EOPNOTSUPP);
		E(EAFNOSUPPORT);
		E(EADDRINUSE);
		E(EADDRNOTAVAIL);
		E(ENETDOWN);
		E(ENETUNREACH);
		E(ECONNABORTED);
		E(ECONNRESET);
		E(ENOBUFS);
		E(EISCONN);
		E(ENOTCONN);
		E(ETIMEDOUT);
		E(ECONNREFUSED);
		E(EHOSTUNREACH);
		E(EALREADY);
		E(EINPROGRESS);
		E(ENODEV);
		E(ENXIO);
	default:
		return "E?";
	}
#undef E
}

/* "0" for a call that returned 0, else "-1 ENAME" (or the value). */
static const char *result(long ret)
{
	static char buf[4][48];
	static int next;
	char *b = buf[next++ % 4];

	if (ret == -1)
		snprintf(b, sizeof(buf[0]), "-1 %s", err_name(errno));
	else
		snprintf(b, sizeof(buf[0]), "%ld", ret);
	return b;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Parses HOST (IPv4 or IPv6 text) and PORT into *ss; returns its length, 0 if bad. */
static socklen_t make_addr(const char *host, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	return 0;
}

/* True when a and b hold the same family, address and port. */
static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return 0;
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return -1;
}

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

/* getsockopt of an int option; -1 with errno on error, else the value (>= 0 expected). */
static long get_int(int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) != 0)
		return -1;
	if (len != sizeof(v)) {
		errno = EINVAL;
		return -1;
	}
	return v;
}

/* A TCP socket of family listening on the port (0: any) with backlog 128; -1 on error. */
static int tcp_listen(int family, const char *host, int port, int flags)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host ? host : family == AF_INET ? "0.0.0.0" : "::", port, &ss);
	int fd = socket(family, SOCK_STREAM | flags, 0);

	if (fd < 0)
		return -1;
	if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0 || bind(fd, (void *)&ss, len) != 0 ||
	    listen(fd, 128) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A connected TCP socket to host:port (blocking); -1 on error. */
static int tcp_connect(const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (void *)&ss, len) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Writes all n bytes (blocking fd); 0, or -1 with errno. */
static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes (blocking fd); returns n, fewer at EOF, or -1. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Echoes everything read back to the sender until EOF; returns the bytes, or -1. */
static long echo_until_eof(int fd)
{
	char buf[16384];
	long total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		if (write_all(fd, buf, (size_t)n) != 0)
			return -1;
		total += n;
	}
}

/* poll on one fd; returns revents, 0 on timeout. */
static int wait_for(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* Waits (up to 5 s) until FIONREAD on fd reports at least n bytes; returns the last count. */
static int wait_readable_bytes(int fd, int n)
{
	int avail = -1;

	for (int i = 0; i < 500; i++) {
		if (ioctl(fd, FIONREAD, &avail) != 0)
			return -1;
		if (avail >= n)
			return avail;
		wait_for(fd, POLLIN, 10);
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	return avail;
}

/* ---------------------------------------------------------------- serve-tcp */

static void cmd_serve_tcp(int port, int n)
{
	long bytes = 0;
	int served = 0, v4 = 0, lfd;

	limit("serve-tcp", 240);
	lfd = tcp_listen(AF_INET, NULL, port, 0);
	CHECK("serve-tcp listen", lfd >= 0);
	if (lfd < 0)
		return;
	printf("net: ready serve-tcp %d\n", port);
	while (served < n) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int c = accept(lfd, (void *)&peer, &len);
		long b;

		if (c < 0)
			break;
		v4 += peer.ss_family == AF_INET && len == sizeof(struct sockaddr_in);
		b = echo_until_eof(c);
		close(c);
		if (b < 0)
			break;
		bytes += b;
		served++;
	}
	CHECK("serve-tcp accept and echo", served == n);
	CHECK("serve-tcp peers are AF_INET", v4 == served);
	close(lfd);
	printf("serve-tcp: %d connections, %ld bytes echoed\n", served, bytes);
}

/* ---------------------------------------------------------------- serve-concurrent */

#define MAX_FD 1024

struct conn {
	char *pend; /* echo bytes the socket did not take yet */
	size_t plen;
	int rdhup, eof;
	int eof_first; /* read 0 before any event said EPOLLRDHUP */
};

/* Writes what conn c has pending; returns -1 on a real error. */
static int flush_pending(int fd, struct conn *c)
{
	while (c->plen > 0) {
		ssize_t w = write(fd, c->pend, c->plen);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		memmove(c->pend, c->pend + w, c->plen - (size_t)w);
		c->plen -= (size_t)w;
	}
	return 0;
}

static void cmd_serve_concurrent(int port, int n)
{
	static struct conn conns[MAX_FD];
	struct epoll_event ev, evs[64];
	int lfd, ep, accepted = 0, closed = 0, open_now = 0, max_open = 0, rdhup = 0;
	int nonblock_ok = 1, cloexec_ok = 1, errors = 0, eagain_seen = 0, eof_first = 0;
	long bytes = 0;

	limit("serve-concurrent", 240);
	lfd = tcp_listen(AF_INET, NULL, port, SOCK_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK("serve-concurrent listen", lfd >= 0 && ep >= 0);
	if (lfd < 0 || ep < 0)
		return;
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	CHECK("serve-concurrent epoll_ctl add listener",
	      epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == 0);
	printf("net: ready serve-concurrent %d\n", port);
	while (closed < n && errors == 0) {
		int k = epoll_wait(ep, evs, 64, 30000);

		if (k <= 0) {
			errors++;
			break;
		}
		for (int i = 0; i < k; i++) {
			int fd = evs[i].data.fd;
			struct conn *c;

			if (fd == lfd) {
				for (;;) {
					int a =
					    accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

					if (a < 0) {
						eagain_seen += errno == EAGAIN;
						errors += errno != EAGAIN;
						break;
					}
					if (a >= MAX_FD || accepted >= n) {
						close(a);
						errors++;
						continue;
					}
					nonblock_ok &= (fcntl(a, F_GETFL) & O_NONBLOCK) != 0;
					cloexec_ok &= (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0;
					memset(&conns[a], 0, sizeof(conns[a]));
					ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
					ev.data.fd = a;
					errors += epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) != 0;
					accepted++;
					if (++open_now > max_open)
						max_open = open_now;
				}
				continue;
			}
			c = &conns[fd];
			if (evs[i].events & EPOLLRDHUP)
				c->rdhup = 1;
			/* Edge-triggered: read until EAGAIN or EOF. */
			while ((evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
			       !c->eof) {
				char buf[8192];
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r < 0) {
					errors += errno != EAGAIN;
					break;
				}
				if (r == 0) {
					c->eof = 1;
					c->eof_first = !c->rdhup;
					break;
				}
				bytes += r;
				c->pend = realloc(c->pend, c->plen + (size_t)r);
				memcpy(c->pend + c->plen, buf, (size_t)r);
				c->plen += (size_t)r;
				if (flush_pending(fd, c) != 0)
					errors++;
			}
			if ((evs[i].events & EPOLLOUT) && flush_pending(fd, c) != 0)
				errors++;
			/*
			 * The FIN can land between epoll_wait and the read that
			 * returns 0; its wake-up then queues a fresh edge, so a
			 * connection read to EOF stays registered until an event
			 * carries EPOLLRDHUP. Without one it times out and fails.
			 */
			if (c->eof && c->plen == 0 && c->rdhup) {
				close(fd); /* closing removes it from the epoll set */
				free(c->pend);
				c->pend = NULL;
				rdhup++;
				eof_first += c->eof_first;
				open_now--;
				closed++;
			} else {
				ev.events =
				    EPOLLIN | EPOLLRDHUP | EPOLLET | (c->plen ? EPOLLOUT : 0);
				ev.data.fd = fd;
				errors += epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0;
			}
		}
	}
	CHECK("serve-concurrent all connections", accepted == n && closed == n && errors == 0);
	CHECK("serve-concurrent accept4 ends with EAGAIN", eagain_seen > 0);
	CHECK("serve-concurrent accept4 SOCK_NONBLOCK", nonblock_ok);
	CHECK("serve-concurrent accept4 SOCK_CLOEXEC", cloexec_ok);
	CHECK("serve-concurrent EPOLLRDHUP on every half-close", rdhup == n);
	close(ep);
	close(lfd);
	printf("serve-concurrent: %d connections, %d open at once, %d with EPOLLRDHUP, %ld bytes "
	       "echoed\n",
	       closed, max_open, rdhup, bytes);
	printf("serve-concurrent: %d read to EOF before their EPOLLRDHUP event\n", eof_first);
}

/* ---------------------------------------------------------------- udp-echo */

static void cmd_udp_echo(int port, int n)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr("0.0.0.0", port, &ss);
	char *seen = calloc((size_t)n, 1);
	int fd, distinct = 0, batches = 0, errors = 0;
	long bytes = 0;

	limit("udp-echo", 120);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("udp-echo bind", fd >= 0 && bind(fd, (void *)&ss, sl) == 0);
	if (fd < 0)
		return;
	printf("net: ready udp-echo %d\n", port);
	while (distinct < n && errors == 0) {
		static char bufs[8][2048];
		struct sockaddr_storage from[8];
		struct iovec iov[8];
		struct mmsghdr m[8];
		int k, seq;

		if (distinct < n / 2) {
			socklen_t fl = sizeof(from[0]);
			ssize_t r =
			    recvfrom(fd, bufs[0], sizeof(bufs[0]), 0, (void *)&from[0], &fl);

			if (r < 0 || sendto(fd, bufs[0], (size_t)r, 0, (void *)&from[0], fl) != r) {
				errors++;
				break;
			}
			m[0].msg_len = (unsigned)r;
			k = 1;
		} else {
			for (int i = 0; i < 8; i++) {
				iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
				m[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							       .msg_namelen = sizeof(from[i]),
							       .msg_iov = &iov[i],
							       .msg_iovlen = 1};
			}
			k = recvmmsg(fd, m, 8, MSG_WAITFORONE, NULL);
			if (k <= 0) {
				errors++;
				break;
			}
			for (int i = 0; i < k; i++)
				iov[i].iov_len = m[i].msg_len;
			errors += sendmmsg(fd, m, (unsigned)k, 0) != k;
			batches++;
		}
		for (int i = 0; i < k; i++) {
			bufs[i][m[i].msg_len < 2047 ? m[i].msg_len : 2047] = '\0';
			if (sscanf(bufs[i], "udp %d ", &seq) == 1 && seq >= 0 && seq < n &&
			    !seen[seq]) {
				seen[seq] = 1;
				distinct++;
				bytes += m[i].msg_len;
			}
		}
	}
	CHECK("udp-echo recvfrom/sendto and recvmmsg/sendmmsg", distinct == n && errors == 0);
	CHECK("udp-echo used recvmmsg", batches > 0);
	close(fd);
	free(seen);
	printf("udp-echo: %d distinct datagrams, %ld bytes\n", distinct, bytes);
}

/* ---------------------------------------------------------------- client-tcp */

static int sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

/* One echo round trip of msg on a connected blocking socket. */
static int echo_once(int fd, const char *msg)
{
	size_t n = strlen(msg);
	char buf[256];

	return write_all(fd, msg, n) == 0 && read_full(fd, buf, n) == (ssize_t)n &&
	       !memcmp(buf, msg, n);
}

static void client_names(int fd, const struct sockaddr_storage *dst)
{
	struct sockaddr_storage peer, self;
	socklen_t pl = sizeof(peer), sl = sizeof(self);

	CHECK("tcp getpeername is the server",
	      getpeername(fd, (void *)&peer, &pl) == 0 && same_addr(&peer, dst) &&
		  pl == (dst->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						   : sizeof(struct sockaddr_in6)));
	CHECK("tcp getsockname has a port", getsockname(fd, (void *)&self, &sl) == 0 &&
						self.ss_family == dst->ss_family &&
						port_of(&self) > 0);
	if (self.ss_family == AF_INET)
		CHECK("tcp getsockname has an address",
		      ((struct sockaddr_in *)&self)->sin_addr.s_addr != htonl(INADDR_ANY));
}

static void client_peek_and_friends(int fd)
{
	char buf[64];
	int avail;

	errno = 0;
	CHECK("tcp recv MSG_DONTWAIT with nothing is EAGAIN",
	      errno_of(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN));

	CHECK("tcp send", send(fd, "peek-data", 9, 0) == 9);
	avail = wait_readable_bytes(fd, 9);
	CHECK("tcp FIONREAD counts the echo", avail == 9);
	CHECK("tcp recv MSG_PEEK", recv(fd, buf, 4, MSG_PEEK) == 4 && !memcmp(buf, "peek", 4));
	CHECK("tcp recv after MSG_PEEK sees the same bytes",
	      recv(fd, buf, 9, 0) == 9 && !memcmp(buf, "peek-data", 9));
	CHECK("tcp FIONREAD 0 when drained", ioctl(fd, FIONREAD, &avail) == 0 && avail == 0);

	/* Three writes, one MSG_WAITALL read. */
	CHECK("tcp three sends", send(fd, "aaa", 3, 0) == 3 && send(fd, "bbbb", 4, 0) == 4 &&
				     send(fd, "cc", 2, 0) == 2);
	CHECK("tcp recv MSG_WAITALL",
	      recv(fd, buf, 9, MSG_WAITALL) == 9 && !memcmp(buf, "aaabbbbcc", 9));

	/* sendmsg/recvmsg with iovecs. */
	{
		struct iovec out[3] = {{"abc", 3}, {"defg", 4}, {"hi", 2}};
		char a[4], b[5];
		struct iovec in[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
		struct msghdr mo = {.msg_iov = out, .msg_iovlen = 3};
		struct msghdr mi = {.msg_iov = in, .msg_iovlen = 2};

		CHECK("tcp sendmsg three iovecs", sendmsg(fd, &mo, 0) == 9);
		CHECK("tcp recvmsg two iovecs", recvmsg(fd, &mi, MSG_WAITALL) == 9 &&
						    !memcmp(a, "abcd", 4) &&
						    !memcmp(b, "efghi", 5) && mi.msg_flags == 0);
	}
	/* writev/readv. */
	{
		struct iovec out[2] = {{"vector-", 7}, {"io", 2}};
		char a[3], b[3], c[3];
		struct iovec in[3] = {{a, 3}, {b, 3}, {c, 3}};

		CHECK("tcp writev", writev(fd, out, 2) == 9);
		CHECK("tcp readv after the echo is complete",
		      wait_readable_bytes(fd, 9) == 9 && readv(fd, in, 3) == 9 &&
			  !memcmp(a, "vec", 3) && !memcmp(b, "tor", 3) && !memcmp(c, "-io", 3));
	}
	/* SO_RCVTIMEO: a read with nothing to come ends with EAGAIN after the timeout. */
	{
		struct timeval tv = {0, 300000};
		uint64_t t0;
		long r, took;

		CHECK("tcp SO_RCVTIMEO set",
		      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
		t0 = now_ms();
		r = read(fd, buf, sizeof(buf));
		took = (long)(now_ms() - t0);
		CHECK("tcp SO_RCVTIMEO read is EAGAIN", errno_of(r, EAGAIN));
		CHECK("tcp SO_RCVTIMEO waits about the timeout", took >= 250 && took < 5000);
		tv.tv_usec = 0;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
}

static void client_half_close(int fd)
{
	char buf[64];
	ssize_t n;
	struct sigaction sa = {.sa_handler = on_sigpipe}, old;

	CHECK("tcp half-close send", send(fd, "half-close\n", 11, 0) == 11);
	CHECK("tcp shutdown SHUT_WR", shutdown(fd, SHUT_WR) == 0);
	n = read_full(fd, buf, sizeof(buf));
	CHECK("tcp reads the echo, then EOF, after SHUT_WR",
	      n == 11 && !memcmp(buf, "half-close\n", 11));
	CHECK("tcp read at EOF stays 0", read(fd, buf, sizeof(buf)) == 0);
	CHECK("tcp send after SHUT_WR is EPIPE (MSG_NOSIGNAL)",
	      errno_of(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE));
	sigaction(SIGPIPE, &sa, &old);
	sigpipes = 0;
	CHECK("tcp write after SHUT_WR is EPIPE", errno_of(write(fd, "x", 1), EPIPE));
	CHECK("tcp write after SHUT_WR raises SIGPIPE once", sigpipes == 1);
	sigaction(SIGPIPE, &old, NULL);
}

static void client_nonblocking_connect(const struct sockaddr_storage *dst, socklen_t len)
{
	int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(fd, (const void *)dst, len);
	int inprogress = r == -1 && errno == EINPROGRESS, ev;
	char buf[8];

	CHECK("tcp non-blocking connect is EINPROGRESS or done", r == 0 || inprogress);
	ev = wait_for(fd, POLLOUT, 10000);
	CHECK("tcp non-blocking connect becomes writable", (ev & POLLOUT) && !(ev & POLLERR));
	CHECK("tcp non-blocking connect SO_ERROR 0", get_int(fd, SOL_SOCKET, SO_ERROR) == 0);
	CHECK("tcp non-blocking send", send(fd, "nb", 2, 0) == 2);
	CHECK("tcp non-blocking recv after POLLIN",
	      (wait_for(fd, POLLIN, 10000) & POLLIN) && wait_readable_bytes(fd, 2) == 2 &&
		  recv(fd, buf, sizeof(buf), 0) == 2 && !memcmp(buf, "nb", 2));
	close(fd);
}

static void client_refused(const char *host, int closed_port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, closed_port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), r, ev;

	CHECK("tcp connect to a closed port is ECONNREFUSED",
	      errno_of(connect(fd, (void *)&ss, len), ECONNREFUSED));
	close(fd);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = connect(fd, (void *)&ss, len);
	if (r == -1 && errno == EINPROGRESS) {
		ev = wait_for(fd, POLLOUT, 10000);
		CHECK("tcp non-blocking refused connect polls POLLERR", (ev & POLLERR) != 0);
		CHECK("tcp non-blocking refused connect SO_ERROR ECONNREFUSED",
		      get_int(fd, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
	} else {
		CHECK("tcp non-blocking refused connect polls POLLERR",
		      r == -1 && errno == ECONNREFUSED);
		CHECK("tcp non-blocking refused connect SO_ERROR ECONNREFUSED",
		      r == -1 && errno == ECONNREFUSED);
	}
	CHECK("tcp SO_ERROR is cleared once read", get_int(fd, SOL_SOCKET, SO_ERROR) == 0);
	close(fd);
}

/*
 * send-exit: UDP datagrams and then bytes on a TCP connection to the host,
 * and the app exits at once, closing nothing itself: all of it must still
 * reach the host (the kernel sends what was queued before it powers off).
 * Always the last command: it ends the app.
 */
#define SEND_EXIT_DGRAMS 32
#define SEND_EXIT_DGRAM	 1000

static void cmd_send_exit(const char *host, int tcp_port, int udp_port, long bytes)
{
	static char block[65536];
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, udp_port, &ss);
	int u = socket(ss.ss_family, SOCK_DGRAM, 0), fd, sent = 0;

	limit("send-exit", 120);
	memset(block, 'x', sizeof(block));
	for (int i = 0; u >= 0 && i < SEND_EXIT_DGRAMS; i++)
		sent += sendto(u, block, SEND_EXIT_DGRAM, 0, (void *)&ss, len) == SEND_EXIT_DGRAM;
	CHECK("send-exit udp datagrams queued", sent == SEND_EXIT_DGRAMS);
	fd = tcp_connect(host, tcp_port);
	CHECK("send-exit tcp connect", fd >= 0);
	for (long left = bytes; fd >= 0 && left > 0;) {
		size_t n = left < (long)sizeof(block) ? (size_t)left : sizeof(block);

		if (write_all(fd, block, n) != 0) {
			CHECK("send-exit tcp write", 0);
			break;
		}
		left -= (long)n;
	}
	printf("net: send-exit queued %d datagrams and %ld bytes\n", sent, bytes);
	printf("net: %d failures\n", failures);
	_exit(failures > 98 ? 98 : failures);
}

static void cmd_client_tcp(const char *host, int port, int closed_port)
{
	struct sockaddr_storage dst;
	socklen_t len = make_addr(host, port, &dst);
	int fd, ok = 0;

	limit("client-tcp", 120);
	CHECK("client-tcp address", len > 0);
	fd = tcp_connect(host, port);
	CHECK("tcp blocking connect", fd >= 0);
	if (fd < 0)
		return;
	CHECK("tcp echo", echo_once(fd, "hello tcp\n"));
	client_names(fd, &dst);
	client_peek_and_friends(fd);
	client_half_close(fd);
	close(fd);

	client_nonblocking_connect(&dst, len);
	client_refused(host, closed_port);

	limit("client-tcp 200 connections", 180);
	for (int i = 0; i < 200; i++) {
		char msg[32];
		int c = tcp_connect(host, port);

		snprintf(msg, sizeof(msg), "connection %d\n", i);
		if (c < 0)
			break;
		if (echo_once(c, msg) && shutdown(c, SHUT_WR) == 0 && read(c, msg, 1) == 0)
			ok++;
		close(c);
	}
	CHECK("tcp 200 sequential connections", ok == 200);
	printf("client-tcp: done\n");
}

/* ---------------------------------------------------------------- echo-client */

static void cmd_echo_client(const char *host, int port, const char *local)
{
	struct sockaddr_storage self, want;
	socklen_t sl = sizeof(self);
	char buf[8];
	int fd;

	limit("echo-client", 60);
	fd = tcp_connect(host, port);
	CHECK("echo-client connect", fd >= 0);
	if (fd < 0)
		return;
	CHECK("echo-client echo", echo_once(fd, "hello from net\n"));
	CHECK("echo-client EOF after SHUT_WR", shutdown(fd, SHUT_WR) == 0 && read(fd, buf, 1) == 0);
	if (local) {
		make_addr(local, 0, &want);
		CHECK("echo-client local address",
		      getsockname(fd, (void *)&self, &sl) == 0 && self.ss_family == AF_INET &&
			  ((struct sockaddr_in *)&self)->sin_addr.s_addr ==
			      ((struct sockaddr_in *)&want)->sin_addr.s_addr);
	}
	close(fd);
	printf("echo-client: done\n");
}

/* ---------------------------------------------------------------- udp-client */

static void cmd_udp_client(const char *host, int port)
{
	struct sockaddr_storage dst, from;
	socklen_t dl = make_addr(host, port, &dst), fl;
	char buf[512];
	int fd, got = 0;
	ssize_t r = -1;

	limit("udp-client", 120);
	fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	CHECK("udp socket", fd >= 0);
	if (fd < 0)
		return;
	/* The first datagram may wait for ARP: retry, then drain late duplicates. */
	for (int i = 0; i < 10 && !got; i++) {
		sendto(fd, "udp hello", 9, 0, (void *)&dst, dl);
		if (wait_for(fd, POLLIN, 1000) & POLLIN) {
			fl = sizeof(from);
			r = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &fl);
			got = r == 9 && !memcmp(buf, "udp hello", 9);
		}
	}
	CHECK("udp sendto/recvfrom echo", got);
	CHECK("udp recvfrom names the server", got && same_addr(&from, &dst) && fl == dl);
	wait_for(fd, POLLIN, 300);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;

	/* An empty datagram is a datagram. */
	CHECK("udp send empty datagram", sendto(fd, "", 0, 0, (void *)&dst, dl) == 0);
	CHECK("udp recv empty datagram",
	      (wait_for(fd, POLLIN, 5000) & POLLIN) && recv(fd, buf, sizeof(buf), 0) == 0);

	/* MSG_TRUNC: the rest of a datagram is gone; with the flag, its real size. */
	{
		char big[200];
		struct iovec iov = {buf, 16};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

		memset(big, 'T', sizeof(big));
		sendto(fd, big, sizeof(big), 0, (void *)&dst, dl);
		wait_for(fd, POLLIN, 5000);
		CHECK("udp recvmsg short buffer sets MSG_TRUNC",
		      recvmsg(fd, &mh, 0) == 16 && (mh.msg_flags & MSG_TRUNC));
		sendto(fd, big, sizeof(big), 0, (void *)&dst, dl);
		wait_for(fd, POLLIN, 5000);
		CHECK("udp recv MSG_TRUNC returns the real length",
		      recv(fd, buf, 16, MSG_TRUNC) == 200);
		CHECK("udp the truncated rest is discarded",
		      errno_of(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN));
	}
	/* FIONREAD is the size of the next datagram. */
	{
		int avail = -1;

		memset(buf, 'F', 100);
		sendto(fd, buf, 100, 0, (void *)&dst, dl);
		wait_for(fd, POLLIN, 5000);
		CHECK("udp FIONREAD is the next datagram's size",
		      ioctl(fd, FIONREAD, &avail) == 0 && avail == 100);
		recv(fd, buf, sizeof(buf), 0);
	}
	/* sendmmsg / recvmmsg. */
	{
		static char out[4][64], in[4][64];
		struct iovec oiov[4], iiov[4];
		struct mmsghdr om[4], im[4];
		int sizes[4] = {10, 20, 30, 40}, n = 0, ok = 1;

		for (int i = 0; i < 4; i++) {
			memset(out[i], 'a' + i, sizeof(out[i]));
			oiov[i] = (struct iovec){out[i], (size_t)sizes[i]};
			om[i].msg_hdr = (struct msghdr){.msg_name = &dst,
							.msg_namelen = dl,
							.msg_iov = &oiov[i],
							.msg_iovlen = 1};
		}
		CHECK("udp sendmmsg sends 4", sendmmsg(fd, om, 4, 0) == 4);
		for (int tries = 0; n < 4 && tries < 50; tries++) {
			int k;

			for (int i = 0; i < 4; i++) {
				iiov[i] = (struct iovec){in[i], sizeof(in[i])};
				im[i].msg_hdr =
				    (struct msghdr){.msg_iov = &iiov[i], .msg_iovlen = 1};
			}
			if (!(wait_for(fd, POLLIN, 200) & POLLIN))
				continue;
			k = recvmmsg(fd, im, (unsigned)(4 - n), MSG_DONTWAIT, NULL);
			for (int i = 0; i < k; i++, n++)
				ok &= (int)im[i].msg_len == sizes[n] && in[i][0] == 'a' + n;
		}
		CHECK("udp recvmmsg gets the 4 back in order", n == 4 && ok);
	}
	/* Connected UDP. */
	{
		int c = socket(dst.ss_family, SOCK_DGRAM, 0);
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);

		CHECK("udp connect", connect(c, (void *)&dst, dl) == 0);
		CHECK("udp connected getpeername",
		      getpeername(c, (void *)&peer, &pl) == 0 && same_addr(&peer, &dst));
		CHECK("udp connected send", send(c, "connected", 9, 0) == 9);
		CHECK("udp connected recv", (wait_for(c, POLLIN, 5000) & POLLIN) &&
						recv(c, buf, sizeof(buf), 0) == 9 &&
						!memcmp(buf, "connected", 9));
		CHECK("udp connected write/read", write(c, "w", 1) == 1 &&
						      (wait_for(c, POLLIN, 5000) & POLLIN) &&
						      read(c, buf, sizeof(buf)) == 1);
		close(c);
	}
	/* SO_RCVTIMEO on a datagram socket. */
	{
		struct timeval tv = {0, 300000};
		uint64_t t0;
		long took;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		t0 = now_ms();
		r = recv(fd, buf, sizeof(buf), 0);
		took = (long)(now_ms() - t0);
		CHECK("udp SO_RCVTIMEO recv is EAGAIN", errno_of(r, EAGAIN));
		CHECK("udp SO_RCVTIMEO waits about the timeout", took >= 250 && took < 5000);
	}
	close(fd);
	printf("udp-client: done\n");
}

/* ---------------------------------------------------------------- bulk */

#define BLOCK 65536

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Block number b of the app's stream: the same bytes on every run. */
static void bulk_block(unsigned char *buf, uint64_t b)
{
	for (int i = 0; i < BLOCK / 8; i++) {
		uint64_t w = splitmix64(0x6e6574ull << 40 | (b * (BLOCK / 8) + (uint64_t)i));

		memcpy(buf + 8 * i, &w, 8);
	}
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void cmd_bulk(const char *host, int port, int mib)
{
	static unsigned char out[BLOCK], in[BLOCK];
	uint64_t total = (uint64_t)mib * MIB, sent = 0, got = 0, t0;
	uint64_t hout = 0xcbf29ce484222325ull, hin = 0xcbf29ce484222325ull;
	size_t opos = BLOCK;
	int fd, eof = 0, errors = 0, shut = 0;

	limit("bulk", 200);
	fd = tcp_connect(host, port);
	CHECK("bulk connect", fd >= 0);
	if (fd < 0)
		return;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	t0 = now_ms();
	while ((!eof || sent < total) && errors == 0) {
		struct pollfd p = {.fd = fd, .events = (short)(eof ? 0 : POLLIN)};

		if (sent < total)
			p.events |= POLLOUT;
		if (poll(&p, 1, 30000) != 1) {
			errors++;
			break;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, in, sizeof(in));

			if (r > 0) {
				hin = fnv1a(hin, in, (size_t)r);
				got += (uint64_t)r;
			} else if (r == 0) {
				eof = 1;
			} else if (errno != EAGAIN) {
				errors++;
			}
		}
		if ((p.revents & POLLOUT) && sent < total) {
			ssize_t w;

			if (opos == BLOCK) {
				bulk_block(out, sent / BLOCK);
				hout = fnv1a(hout, out, BLOCK);
				opos = sent % BLOCK;
			}
			w = write(fd, out + opos, BLOCK - opos);
			if (w > 0) {
				opos += (size_t)w;
				sent += (uint64_t)w;
			} else if (errno != EAGAIN) {
				errors++;
			}
		}
		if (sent == total && !shut) {
			shut = 1;
			errors += shutdown(fd, SHUT_WR) != 0;
		}
	}
	CHECK("bulk transfer", errors == 0 && eof && sent == total && got == total);
	printf("net: info bulk: %d MiB each way in %llu ms\n", mib,
	       (unsigned long long)(now_ms() - t0));
	printf("bulk: sent %llu MiB fnv1a %016llx, received %llu MiB %llu bytes fnv1a %016llx\n",
	       (unsigned long long)(sent / MIB), (unsigned long long)hout,
	       (unsigned long long)(got / MIB), (unsigned long long)(got % MIB),
	       (unsigned long long)hin);
	close(fd);
}

/* ---------------------------------------------------------------- loopback */

/* Moves n bytes each way between two non-blocking sockets; returns the FNV of what b got. */
static uint64_t shuttle(int a, int b, size_t n, int *ok)
{
	static unsigned char out[BLOCK], in[BLOCK];
	size_t sa = 0, ra = 0, sb = 0, rb = 0;
	uint64_t h = 0xcbf29ce484222325ull;

	for (int i = 0; i < BLOCK; i++)
		out[i] = (unsigned char)(i * 7 + 3);
	for (int rounds = 0; (sa < n || sb < n || ra < n || rb < n) && rounds < 100000; rounds++) {
		struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
		ssize_t r;

		if (sa < n)
			p[0].events |= POLLOUT;
		if (sb < n)
			p[1].events |= POLLOUT;
		if (poll(p, 2, 5000) <= 0)
			break;
		if (sa < n && (p[0].revents & POLLOUT) &&
		    (r = write(a, out + sa % BLOCK,
			       (n - sa) < BLOCK - sa % BLOCK ? n - sa : BLOCK - sa % BLOCK)) > 0)
			sa += (size_t)r;
		if (sb < n && (p[1].revents & POLLOUT) &&
		    (r = write(b, out + sb % BLOCK,
			       (n - sb) < BLOCK - sb % BLOCK ? n - sb : BLOCK - sb % BLOCK)) > 0)
			sb += (size_t)r;
		if ((p[1].revents & POLLIN) && (r = read(b, in, sizeof(in))) > 0) {
			h = fnv1a(h, in, (size_t)r);
			rb += (size_t)r;
		}
		if ((p[0].revents & POLLIN) && (r = read(a, in, sizeof(in))) > 0)
			ra += (size_t)r;
	}
	*ok = sa == n && sb == n && ra == n && rb == n;
	return h;
}

static void loopback_tcp(int family, const char *host)
{
	struct sockaddr_storage la, ca, peer;
	socklen_t ll = sizeof(la), cl = sizeof(ca), pl = sizeof(peer);
	int l = tcp_listen(family, host, 0, 0), c, a, r, ok = 0, l2;
	const char *f = family == AF_INET ? "loopback4" : "loopback6";
	char name[96], buf[8];
	uint64_t h;

	snprintf(name, sizeof(name), "%s listen on port 0", f);
	CHECK(name, l >= 0 && getsockname(l, (void *)&la, &ll) == 0 && port_of(&la) > 0);
	if (l < 0)
		return;
	c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = connect(c, (void *)&la, ll);
	snprintf(name, sizeof(name), "%s non-blocking connect", f);
	CHECK(name, r == 0 || errno == EINPROGRESS);
	snprintf(name, sizeof(name), "%s connect completes", f);
	CHECK(name,
	      (wait_for(c, POLLOUT, 5000) & POLLOUT) && get_int(c, SOL_SOCKET, SO_ERROR) == 0);
	a = accept4(l, (void *)&peer, &pl, SOCK_NONBLOCK);
	getsockname(c, (void *)&ca, &cl);
	snprintf(name, sizeof(name), "%s accept names the client", f);
	CHECK(name, a >= 0 && same_addr(&peer, &ca));
	h = shuttle(a, c, 300000, &ok);
	snprintf(name, sizeof(name), "%s 300000 bytes each way", f);
	CHECK(name, ok);
	printf("loopback: %s fnv1a %016llx\n", f, (unsigned long long)h);
	snprintf(name, sizeof(name), "%s EOF after shutdown", f);
	CHECK(name, shutdown(c, SHUT_WR) == 0 && (wait_for(a, POLLIN, 5000) & POLLIN) &&
			read(a, buf, sizeof(buf)) == 0);
	close(a);
	close(c);

	/* The same address again without SO_REUSEADDR on either: EADDRINUSE. */
	l2 = socket(family, SOCK_STREAM, 0);
	printf("loopback: %s bind to a listening port: %s\n", f, result(bind(l2, (void *)&la, ll)));
	close(l2);

	/* Three connections wait in the backlog before any accept. */
	{
		int cs[3], n = 0;

		for (int i = 0; i < 3; i++)
			cs[i] = tcp_connect(host, port_of(&la));
		for (int i = 0; i < 3; i++) {
			if (wait_for(l, POLLIN, 5000) & POLLIN) {
				a = accept(l, NULL, NULL);
				n += a >= 0;
				close(a);
			}
		}
		snprintf(name, sizeof(name), "%s three connections in the backlog", f);
		CHECK(name, n == 3 && cs[0] >= 0 && cs[1] >= 0 && cs[2] >= 0);
		for (int i = 0; i < 3; i++)
			close(cs[i]);
	}
	/* A connection never accepted is reset when the listener closes. */
	c = tcp_connect(host, port_of(&la));
	close(l);
	wait_for(c, POLLIN, 5000);
	r = (int)read(c, buf, sizeof(buf));
	printf("loopback: %s read after the listener closed: %s\n", f, result(r));
	close(c);

	/* A bound port nobody listens on refuses. */
	l = socket(family, SOCK_STREAM, 0);
	make_addr(host, 0, &la);
	bind(l, (void *)&la,
	     family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	ll = sizeof(la);
	getsockname(l, (void *)&la, &ll);
	c = socket(family, SOCK_STREAM, 0);
	printf("loopback: %s connect to a port without listener: %s\n", f,
	       result(connect(c, (void *)&la, ll)));
	close(c);
	close(l);
}

static void loopback_udp(void)
{
	struct sockaddr_storage a1, a2, from;
	socklen_t l1 = make_addr("127.0.0.1", 0, &a1), l2 = sizeof(a2), fl = sizeof(from);
	int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[64];
	ssize_t r;

	bind(u1, (void *)&a1, l1);
	l1 = sizeof(a1);
	getsockname(u1, (void *)&a1, &l1);
	CHECK("loopback udp sendto", sendto(u2, "dgram", 5, 0, (void *)&a1, l1) == 5);
	getsockname(u2, (void *)&a2, &l2);
	CHECK("loopback udp sender got a port by sendto", port_of(&a2) > 0);
	wait_for(u1, POLLIN, 5000);
	r = recvfrom(u1, buf, sizeof(buf), 0, (void *)&from, &fl);
	CHECK("loopback udp recvfrom", r == 5 && !memcmp(buf, "dgram", 5));
	CHECK("loopback udp source is the sender",
	      from.ss_family == AF_INET && port_of(&from) == port_of(&a2) &&
		  ((struct sockaddr_in *)&from)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	printf("loopback: udp send without address on an unconnected socket: %s\n",
	       result(send(u2, "x", 1, 0)));
	close(u1);
	close(u2);
}

static void cmd_loopback(void)
{
	limit("loopback", 60);
	loopback_tcp(AF_INET, "127.0.0.1");
	loopback_tcp(AF_INET6, "::1");
	loopback_udp();
}

/* ---------------------------------------------------------------- unix */

static socklen_t unix_addr(struct sockaddr_un *sun, const char *path, int abstract)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + (abstract ? 1 : 0), path, n);
	/* A path counts its NUL; an abstract name its leading NUL and no other. */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void unix_pairs(void)
{
	int sv[2] = {-1, -1}, avail = -1;
	char buf[64];
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	/* Without a pair, sv could name stdin and stdout: stop here. */
	CHECK("unix stream socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	if (sv[0] < 0)
		return;
	CHECK("unix stream write/read",
	      write(sv[0], "ping", 4) == 4 && read(sv[1], buf, sizeof(buf)) == 4);
	write(sv[0], "hello", 5);
	ioctl(sv[1], FIONREAD, &avail);
	printf("unix: stream FIONREAD %d\n", avail);
	printf("unix: stream recv MSG_PEEK %s\n", result(recv(sv[1], buf, 3, MSG_PEEK)));
	printf("unix: stream recv %s\n", result(recv(sv[1], buf, sizeof(buf), 0)));
	printf("unix: stream recv MSG_DONTWAIT empty %s\n",
	       result(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)));
	CHECK("unix stream SO_PEERCRED",
	      getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cred.pid == getpid() &&
		  cred.uid == getuid() && cred.gid == getgid());
	printf("unix: stream shutdown SHUT_WR %s\n", result(shutdown(sv[0], SHUT_WR)));
	printf("unix: stream read after peer SHUT_WR %s\n", result(read(sv[1], buf, sizeof(buf))));
	printf("unix: stream other direction still works %s\n", result(write(sv[1], "back", 4)));
	printf("unix: stream read %s\n", result(read(sv[0], buf, sizeof(buf))));
	close(sv[1]);
	printf("unix: stream send to closed peer %s\n", result(send(sv[0], "x", 1, MSG_NOSIGNAL)));
	close(sv[0]);

	CHECK("unix dgram socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	if (sv[0] < 0)
		return;
	write(sv[0], "a", 1);
	write(sv[0], "bb", 2);
	write(sv[0], "ccc", 3);
	printf("unix: dgram boundaries %s", result(read(sv[1], buf, sizeof(buf))));
	printf(" %s", result(read(sv[1], buf, sizeof(buf))));
	printf(" %s\n", result(read(sv[1], buf, sizeof(buf))));
	write(sv[0], "0123456789", 10);
	printf("unix: dgram short read %s", result(read(sv[1], buf, 4)));
	printf(", then %s\n", result(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)));
	write(sv[0], "0123456789", 10);
	printf("unix: dgram recv MSG_TRUNC %s\n", result(recv(sv[1], buf, 4, MSG_TRUNC)));
	close(sv[0]);
	close(sv[1]);

	CHECK("unix seqpacket socketpair", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	if (sv[0] < 0)
		return;
	write(sv[0], "one", 3);
	write(sv[0], "three", 5);
	printf("unix: seqpacket boundaries %s", result(read(sv[1], buf, sizeof(buf))));
	printf(" %s\n", result(read(sv[1], buf, sizeof(buf))));
	close(sv[0]);
	printf("unix: seqpacket read after peer close %s\n", result(read(sv[1], buf, sizeof(buf))));
	close(sv[1]);
}

static void unix_stream_named(const char *path, int abstract)
{
	const char *kind = abstract ? "abstract" : "path";
	struct sockaddr_un sun, got;
	socklen_t len = unix_addr(&sun, path, abstract), gl;
	int l, c, a, l2;
	char buf[64];
	struct stat st;

	if (!abstract)
		unlink(path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("unix: %s bind %s\n", kind, result(bind(l, (void *)&sun, len)));
	if (!abstract)
		printf("unix: path is a socket %d\n", stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("unix: %s bind again %s\n", kind, result(bind(l2, (void *)&sun, len)));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("unix: %s connect before listen %s\n", kind, result(connect(c, (void *)&sun, len)));
	close(c);
	printf("unix: %s listen %s\n", kind, result(listen(l, 8)));
	fcntl(l, F_SETFL, O_NONBLOCK);
	printf("unix: %s accept with none waiting %s\n", kind, result(accept(l, NULL, NULL)));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("unix: %s connect %s\n", kind, result(connect(c, (void *)&sun, len)));
	printf("unix: %s listener readable %d\n", kind, (wait_for(l, POLLIN, 5000) & POLLIN) != 0);
	gl = sizeof(got);
	a = accept(l, (void *)&got, &gl);
	printf("unix: %s accept ok %d, peer address length %d\n", kind, a >= 0,
	       (int)gl - (int)offsetof(struct sockaddr_un, sun_path));
	gl = sizeof(got);
	CHECK(
	    abstract ? "unix abstract getsockname" : "unix path getsockname",
	    getsockname(l, (void *)&got, &gl) == 0 && gl == len &&
		!memcmp(got.sun_path, sun.sun_path, len - offsetof(struct sockaddr_un, sun_path)));
	gl = sizeof(got);
	CHECK(
	    abstract ? "unix abstract getpeername" : "unix path getpeername",
	    getpeername(c, (void *)&got, &gl) == 0 && gl == len &&
		!memcmp(got.sun_path, sun.sun_path, len - offsetof(struct sockaddr_un, sun_path)));
	CHECK(abstract ? "unix abstract exchange" : "unix path exchange",
	      a >= 0 && write(c, "over", 4) == 4 && read(a, buf, sizeof(buf)) == 4 &&
		  write(a, "back", 4) == 4 && read(c, buf, sizeof(buf)) == 4);
	close(a);
	close(c);
	close(l);
	close(l2);
	if (!abstract) {
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		printf("unix: connect to a stale path %s\n", result(connect(c, (void *)&sun, len)));
		close(c);
		unlink(path);
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		printf("unix: connect to a missing path %s\n",
		       result(connect(c, (void *)&sun, len)));
		close(c);
	}
}

static void unix_dgram_named(const char *p1, const char *p2)
{
	struct sockaddr_un s1, s2, from;
	socklen_t l1 = unix_addr(&s1, p1, 0), l2 = unix_addr(&s2, p2, 0), fl = sizeof(from);
	int a = socket(AF_UNIX, SOCK_DGRAM, 0), b = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[32];

	unlink(p1);
	unlink(p2);
	bind(a, (void *)&s1, l1);
	bind(b, (void *)&s2, l2);
	printf("unix: dgram sendto %s\n", result(sendto(b, "to-a", 4, 0, (void *)&s1, l1)));
	printf("unix: dgram recvfrom %s",
	       result(recvfrom(a, buf, sizeof(buf), 0, (void *)&from, &fl)));
	printf(", from the sender %d\n", fl == l2 && !strcmp(from.sun_path, p2));
	printf("unix: dgram reply %s", result(sendto(a, "to-b", 4, 0, (void *)&from, fl)));
	printf(" %s\n", result(recv(b, buf, sizeof(buf), 0)));
	close(a);
	close(b);
	unlink(p1);
	unlink(p2);
}

static void unix_rights(void)
{
	int sv[2], pfd[2], got = -1;
	char buf[16], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {"f", 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(pfd) != 0) {
		CHECK("unix SCM_RIGHTS socketpair", 0);
		return;
	}
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pfd[0], sizeof(int));
	printf("unix: SCM_RIGHTS sendmsg %s\n", result(sendmsg(sv[0], &mh, 0)));
	close(pfd[0]);
	iov = (struct iovec){buf, sizeof(buf)};
	mh = (struct msghdr){
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	printf("unix: SCM_RIGHTS recvmsg %s\n", result(recvmsg(sv[1], &mh, 0)));
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(cm), sizeof(int));
	write(pfd[1], "through", 7);
	CHECK("unix SCM_RIGHTS passes a working descriptor",
	      got >= 0 && read(got, buf, sizeof(buf)) == 7 && !memcmp(buf, "through", 7));
	close(got);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void cmd_unix(void)
{
	char p1[64], p2[64], p3[64];
	int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};

	limit("unix", 60);
	snprintf(p1, sizeof(p1), "/tmp/solo-net-%d.sock", (int)getpid());
	snprintf(p2, sizeof(p2), "/tmp/solo-net-%d.a", (int)getpid());
	snprintf(p3, sizeof(p3), "/tmp/solo-net-%d.b", (int)getpid());
	for (int i = 0; i < 3; i++) {
		int fd = socket(AF_UNIX, types[i], 0);

		printf("unix: SO_TYPE %ld SO_DOMAIN %ld\n", get_int(fd, SOL_SOCKET, SO_TYPE),
		       get_int(fd, SOL_SOCKET, SO_DOMAIN));
		close(fd);
	}
	unix_pairs();
	unix_stream_named(p1, 0);
	snprintf(p1, sizeof(p1), "solo-net-abstract-%d", (int)getpid());
	unix_stream_named(p1, 1);
	unix_dgram_named(p2, p3);
	unix_rights();
}

/* ---------------------------------------------------------------- sockopts */

static void show_int(const char *what, int fd, int level, int name)
{
	long v = get_int(fd, level, name);

	if (v == -1)
		printf("sockopts: %s %s\n", what, result(-1));
	else
		printf("sockopts: %s %ld\n", what, v);
}

/* Prints the default, sets value, prints what comes back. */
static void round_trip(const char *what, int fd, int level, int name, int value)
{
	long before = get_int(fd, level, name);
	int set = set_int(fd, level, name, value);

	printf("sockopts: %s default %s, set %d: %s, now %s\n", what, result(before), value,
	       result(set), result(get_int(fd, level, name)));
}

static void cmd_sockopts(void)
{
	int tcp = socket(AF_INET, SOCK_STREAM, 0), udp = socket(AF_INET, SOCK_DGRAM, 0);
	int tcp6 = socket(AF_INET6, SOCK_STREAM, 0), pfd[2], fd;
	struct linger lg = {0, 0};
	struct timeval tv = {0, 0};
	socklen_t len;
	struct stat st;

	limit("sockopts", 30);
	show_int("tcp SO_TYPE", tcp, SOL_SOCKET, SO_TYPE);
	show_int("tcp SO_DOMAIN", tcp, SOL_SOCKET, SO_DOMAIN);
	show_int("tcp SO_PROTOCOL", tcp, SOL_SOCKET, SO_PROTOCOL);
	show_int("udp SO_TYPE", udp, SOL_SOCKET, SO_TYPE);
	show_int("udp SO_PROTOCOL", udp, SOL_SOCKET, SO_PROTOCOL);
	show_int("tcp6 SO_DOMAIN", tcp6, SOL_SOCKET, SO_DOMAIN);
	show_int("tcp SO_ERROR", tcp, SOL_SOCKET, SO_ERROR);
	show_int("tcp SO_ACCEPTCONN", tcp, SOL_SOCKET, SO_ACCEPTCONN);
	round_trip("tcp SO_REUSEADDR", tcp, SOL_SOCKET, SO_REUSEADDR, 1);
	round_trip("tcp SO_KEEPALIVE", tcp, SOL_SOCKET, SO_KEEPALIVE, 1);
	round_trip("udp SO_BROADCAST", udp, SOL_SOCKET, SO_BROADCAST, 1);
	round_trip("tcp TCP_NODELAY", tcp, IPPROTO_TCP, TCP_NODELAY, 1);
	round_trip("tcp TCP_KEEPIDLE", tcp, IPPROTO_TCP, TCP_KEEPIDLE, 30);
	round_trip("tcp TCP_KEEPINTVL", tcp, IPPROTO_TCP, TCP_KEEPINTVL, 10);
	round_trip("tcp TCP_KEEPCNT", tcp, IPPROTO_TCP, TCP_KEEPCNT, 5);
	printf("sockopts: tcp TCP_KEEPIDLE 0 %s\n",
	       result(set_int(tcp, IPPROTO_TCP, TCP_KEEPIDLE, 0)));
	round_trip("tcp6 IPV6_V6ONLY", tcp6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	round_trip("tcp IP_TTL", tcp, IPPROTO_IP, IP_TTL, 32);
	round_trip("udp IP_TTL", udp, IPPROTO_IP, IP_TTL, 1);

	len = sizeof(lg);
	printf("sockopts: tcp SO_LINGER default %s {%d, %d}\n",
	       result(getsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, &len)), lg.l_onoff, lg.l_linger);
	lg = (struct linger){1, 5};
	printf("sockopts: tcp SO_LINGER set {1, 5} %s",
	       result(setsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))));
	lg = (struct linger){0, 0};
	len = sizeof(lg);
	getsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, &len);
	printf(", now {%d, %d}\n", lg.l_onoff != 0, lg.l_linger);
	printf("sockopts: tcp SO_LINGER short optlen %s\n",
	       result(setsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(int) - 1)));

	len = sizeof(tv);
	printf("sockopts: tcp SO_RCVTIMEO default %s {%ld, %ld}\n",
	       result(getsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &tv, &len)), (long)tv.tv_sec,
	       (long)tv.tv_usec);
	tv = (struct timeval){1, 500000};
	setsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tv = (struct timeval){0, 0};
	len = sizeof(tv);
	getsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &tv, &len);
	printf("sockopts: tcp SO_RCVTIMEO set {1, 500000}, now {%ld, %ld}\n", (long)tv.tv_sec,
	       (long)tv.tv_usec);
	tv = (struct timeval){2, 0};
	setsockopt(tcp, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	tv = (struct timeval){0, 0};
	len = sizeof(tv);
	getsockopt(tcp, SOL_SOCKET, SO_SNDTIMEO, &tv, &len);
	printf("sockopts: tcp SO_SNDTIMEO set {2, 0}, now {%ld, %ld}\n", (long)tv.tv_sec,
	       (long)tv.tv_usec);

	printf("sockopts: unknown SOL_SOCKET option %s\n", result(get_int(tcp, SOL_SOCKET, 9999)));
	pipe(pfd);
	printf("sockopts: setsockopt on a pipe %s\n",
	       result(set_int(pfd[0], SOL_SOCKET, SO_REUSEADDR, 1)));
	printf("sockopts: getsockopt on a pipe %s\n", result(get_int(pfd[0], SOL_SOCKET, SO_TYPE)));
	close(pfd[0]);
	close(pfd[1]);

	{
		struct sockaddr_storage ss;
		socklen_t sl = make_addr("127.0.0.1", 0, &ss);

		bind(tcp, (void *)&ss, sl);
		listen(tcp, 4);
		show_int("tcp SO_ACCEPTCONN after listen", tcp, SOL_SOCKET, SO_ACCEPTCONN);
	}
	printf("sockopts: socket(12345) %s\n", result(socket(12345, SOCK_STREAM, 0)));
	printf("sockopts: socket(AF_INET, 99) %s\n", result(socket(AF_INET, 99, 0)));
	printf("sockopts: socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) %s\n",
	       result(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	printf("sockopts: SOCK_NONBLOCK|SOCK_CLOEXEC: O_NONBLOCK %d FD_CLOEXEC %d\n",
	       (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	printf("sockopts: fstat is a socket %d\n", fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
	printf("sockopts: getpeername unconnected %s\n",
	       result(getpeername(fd, (void *)&(struct sockaddr_storage){0},
				  &(socklen_t){sizeof(struct sockaddr_storage)})));
	printf("sockopts: recv unconnected %s\n", result(recv(fd, (char[4]){0}, 4, MSG_DONTWAIT)));
	printf("sockopts: shutdown unconnected %s\n", result(shutdown(fd, SHUT_RDWR)));
	close(fd);
	close(tcp);
	close(udp);
	close(tcp6);
}

/* ---------------------------------------------------------------- ifaces */

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)m[i];
	return 0;
}

static int ifreq_call(int fd, unsigned long req, const char *name, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	return ioctl(fd, req, ifr);
}

static void cmd_ifaces(const char *cidr, const char *mac_text)
{
	struct ifaddrs *list = NULL, *ia;
	struct in_addr want = {0}, want_mask = {0};
	unsigned char want_mac[6], eth_mac[6] = {0};
	char eth[IFNAMSIZ] = "";
	struct in_addr eth_addr = {0}, eth_mask = {0};
	int lo_ok = 0, lo_flags = 0, eth_flags = 0, have_mac = 0, fd, prefix = 0;
	struct ifreq ifr;

	limit("ifaces", 30);
	if (cidr) {
		char a[64];

		CHECK("ifaces argument ADDR/LEN", sscanf(cidr, "%63[^/]/%d", a, &prefix) == 2 &&
						      inet_pton(AF_INET, a, &want) == 1 &&
						      prefix > 0 && prefix <= 32);
		want_mask.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
	}
	if (mac_text)
		CHECK("ifaces argument MAC", parse_mac(mac_text, want_mac) == 0);

	CHECK("ifaces getifaddrs", getifaddrs(&list) == 0);
	for (ia = list; ia; ia = ia->ifa_next) {
		if (!ia->ifa_addr)
			continue;
		if (ia->ifa_addr->sa_family == AF_INET) {
			struct in_addr a = ((struct sockaddr_in *)ia->ifa_addr)->sin_addr;
			struct in_addr m = ia->ifa_netmask
					       ? ((struct sockaddr_in *)ia->ifa_netmask)->sin_addr
					       : (struct in_addr){0};

			if (!strcmp(ia->ifa_name, "lo") && a.s_addr == htonl(INADDR_LOOPBACK) &&
			    m.s_addr == htonl(0xff000000u)) {
				lo_ok = 1;
				lo_flags = (int)ia->ifa_flags;
			} else if (!(ia->ifa_flags & IFF_LOOPBACK) && !eth[0] &&
				   (!cidr ||
				    (a.s_addr == want.s_addr && m.s_addr == want_mask.s_addr))) {
				snprintf(eth, sizeof(eth), "%s", ia->ifa_name);
				eth_addr = a;
				eth_mask = m;
				eth_flags = (int)ia->ifa_flags;
			}
		}
	}
	for (ia = list; ia && eth[0]; ia = ia->ifa_next) {
		if (ia->ifa_addr && ia->ifa_addr->sa_family == AF_PACKET &&
		    !strcmp(ia->ifa_name, eth)) {
			struct sockaddr_ll *sll = (struct sockaddr_ll *)ia->ifa_addr;

			if (sll->sll_halen == 6) {
				memcpy(eth_mac, sll->sll_addr, 6);
				have_mac = 1;
			}
		}
	}
	CHECK("ifaces lo has 127.0.0.1/8", lo_ok);
	CHECK("ifaces lo is up and loopback",
	      (lo_flags & (IFF_UP | IFF_LOOPBACK)) == (IFF_UP | IFF_LOOPBACK));
	CHECK(cidr ? "ifaces an interface has the expected address"
		   : "ifaces a non-loopback interface has an IPv4 address",
	      eth[0] != 0);
	CHECK("ifaces that interface is up, running, broadcast",
	      (eth_flags & (IFF_UP | IFF_RUNNING | IFF_BROADCAST)) ==
		  (IFF_UP | IFF_RUNNING | IFF_BROADCAST));
	CHECK("ifaces that interface has a MAC (AF_PACKET)",
	      have_mac && memcmp(eth_mac, "\0\0\0\0\0\0", 6) != 0);
	if (mac_text)
		CHECK("ifaces the MAC is the expected one",
		      have_mac && !memcmp(eth_mac, want_mac, 6));
	freeifaddrs(list);
	if (!eth[0])
		snprintf(eth, sizeof(eth), "eth0");

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	{
		struct ifreq reqs[32];
		struct ifconf ic = {.ifc_len = sizeof(reqs), .ifc_req = reqs};
		int has_lo = 0, has_eth = 0;

		if (ioctl(fd, SIOCGIFCONF, &ic) == 0) {
			for (int i = 0; i < ic.ifc_len / (int)sizeof(struct ifreq); i++) {
				struct in_addr a =
				    ((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr;

				has_lo |= !strcmp(reqs[i].ifr_name, "lo") &&
					  a.s_addr == htonl(INADDR_LOOPBACK);
				has_eth |=
				    !strcmp(reqs[i].ifr_name, eth) && a.s_addr == eth_addr.s_addr;
			}
		}
		CHECK("ifaces SIOCGIFCONF lists lo and the interface", has_lo && has_eth);
	}
	CHECK("ifaces SIOCGIFADDR",
	      ifreq_call(fd, SIOCGIFADDR, eth, &ifr) == 0 &&
		  ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr == eth_addr.s_addr);
	CHECK("ifaces SIOCGIFNETMASK",
	      ifreq_call(fd, SIOCGIFNETMASK, eth, &ifr) == 0 &&
		  ((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr == eth_mask.s_addr);
	CHECK("ifaces SIOCGIFHWADDR is the ethernet MAC",
	      ifreq_call(fd, SIOCGIFHWADDR, eth, &ifr) == 0 &&
		  ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER &&
		  !memcmp(ifr.ifr_hwaddr.sa_data, eth_mac, 6));
	CHECK("ifaces SIOCGIFHWADDR lo is ARPHRD_LOOPBACK",
	      ifreq_call(fd, SIOCGIFHWADDR, "lo", &ifr) == 0 &&
		  ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK);
	CHECK("ifaces SIOCGIFINDEX lo is 1",
	      ifreq_call(fd, SIOCGIFINDEX, "lo", &ifr) == 0 && ifr.ifr_ifindex == 1);
	CHECK("ifaces SIOCGIFINDEX matches if_nametoindex",
	      ifreq_call(fd, SIOCGIFINDEX, eth, &ifr) == 0 && ifr.ifr_ifindex > 0 &&
		  (unsigned)ifr.ifr_ifindex == if_nametoindex(eth));
	{
		int index = ifr.ifr_ifindex;

		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_ifindex = index;
		CHECK("ifaces SIOCGIFNAME",
		      ioctl(fd, SIOCGIFNAME, &ifr) == 0 && !strcmp(ifr.ifr_name, eth));
	}
	CHECK("ifaces SIOCGIFFLAGS up and running",
	      ifreq_call(fd, SIOCGIFFLAGS, eth, &ifr) == 0 &&
		  (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING) &&
		  !(ifr.ifr_flags & IFF_LOOPBACK));
	CHECK("ifaces SIOCGIFFLAGS lo",
	      ifreq_call(fd, SIOCGIFFLAGS, "lo", &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK));
	CHECK("ifaces SIOCGIFMTU", ifreq_call(fd, SIOCGIFMTU, eth, &ifr) == 0 &&
				       (cidr ? ifr.ifr_mtu == 1500 : ifr.ifr_mtu >= 576));
	CHECK("ifaces SIOCGIFMTU lo",
	      ifreq_call(fd, SIOCGIFMTU, "lo", &ifr) == 0 && ifr.ifr_mtu >= 1500);
	CHECK("ifaces unknown interface is ENODEV",
	      errno_of(ifreq_call(fd, SIOCGIFFLAGS, "nosuch0", &ifr), ENODEV));
	{
		struct if_nameindex *ni = if_nameindex();
		int has_lo = 0, has_eth = 0;

		for (struct if_nameindex *p = ni; p && p->if_index; p++) {
			has_lo |= !strcmp(p->if_name, "lo");
			has_eth |= !strcmp(p->if_name, eth);
		}
		CHECK("ifaces if_nameindex", has_lo && has_eth);
		if (ni)
			if_freenameindex(ni);
	}
	close(fd);
	printf("ifaces: done\n");
}

/* ---------------------------------------------------------------- v6 */

static void cmd_v6(int port, int n, int want_ll)
{
	struct sockaddr_storage peer, self;
	socklen_t pl, sl;
	int l, c, a, mapped = 0, served = 0;
	static const unsigned char v4mapped_lo[16] = {0, 0, 0,	  0,	0,   0, 0, 0,
						      0, 0, 0xff, 0xff, 127, 0, 0, 1};

	limit("v6", 120);
	l = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK("v6 socket", l >= 0);
	if (l < 0)
		return;
	CHECK("v6 IPV6_V6ONLY is off by default", get_int(l, IPPROTO_IPV6, IPV6_V6ONLY) == 0);
	close(l);
	l = tcp_listen(AF_INET6, "::", port, 0);
	CHECK("v6 listen on [::]", l >= 0);
	if (l < 0)
		return;

	/* From 127.0.0.1: the v6 listener sees ::ffff:127.0.0.1. */
	c = tcp_connect("127.0.0.1", port);
	pl = sizeof(peer);
	a = accept(l, (void *)&peer, &pl);
	CHECK("v6 accepts a v4 connection as v4-mapped",
	      c >= 0 && a >= 0 && peer.ss_family == AF_INET6 &&
		  !memcmp(&((struct sockaddr_in6 *)&peer)->sin6_addr, v4mapped_lo, 16));
	sl = sizeof(self);
	CHECK("v6 the v4-mapped peer port is the client's",
	      getsockname(c, (void *)&self, &sl) == 0 && port_of(&self) == port_of(&peer));
	CHECK("v6 v4-mapped exchange",
	      c >= 0 && a >= 0 && write(c, "46", 2) == 2 && read_full(a, &self, 2) == 2);
	close(a);
	close(c);

	/* From ::1. */
	c = tcp_connect("::1", port);
	pl = sizeof(peer);
	a = accept(l, (void *)&peer, &pl);
	CHECK("v6 accepts from ::1",
	      c >= 0 && a >= 0 && peer.ss_family == AF_INET6 &&
		  IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&peer)->sin6_addr));
	close(a);
	close(c);

	printf("net: ready v6 %d\n", port);
	for (int i = 0; i < n; i++) {
		pl = sizeof(peer);
		a = accept(l, (void *)&peer, &pl);
		if (a < 0)
			break;
		mapped += peer.ss_family == AF_INET6 &&
			  IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&peer)->sin6_addr);
		if (echo_until_eof(a) >= 0)
			served++;
		close(a);
	}
	CHECK("v6 outside connections arrive v4-mapped", served == n && mapped == n);
	close(l);

	if (want_ll) {
		struct ifaddrs *list = NULL;
		int ll = 0, scoped = 0;

		getifaddrs(&list);
		for (struct ifaddrs *ia = list; ia; ia = ia->ifa_next) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ia->ifa_addr;

			if (!s6 || s6->sin6_family != AF_INET6 || (ia->ifa_flags & IFF_LOOPBACK))
				continue;
			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) &&
			    !memcmp(&s6->sin6_addr, "\xfe\x80\0\0\0\0\0\0", 8)) {
				ll = 1;
				scoped |= s6->sin6_scope_id == if_nametoindex(ia->ifa_name);
			}
		}
		freeifaddrs(list);
		CHECK("v6 a non-loopback interface has a fe80::/64 address", ll);
		CHECK("v6 the link-local address is scoped to its interface", scoped);
	}
	printf("v6: %d connections\n", served);
}

/* ---------------------------------------------------------------- dns */

static void cmd_dns(int argc, char **argv)
{
	limit("dns", 60);
	for (int i = 0; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--resolve")) {
			char name[256], *eq;
			struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
			struct addrinfo *res = NULL;
			struct in_addr want;
			int r, found = 0;

			snprintf(name, sizeof(name), "%s", argv[i + 1]);
			eq = strchr(name, '=');
			if (!eq || inet_pton(AF_INET, eq + 1, &want) != 1) {
				CHECK("dns --resolve NAME=ADDR", 0);
				continue;
			}
			*eq = '\0';
			r = getaddrinfo(name, "80", &hints, &res);
			for (struct addrinfo *p = res; r == 0 && p; p = p->ai_next)
				found |= ((struct sockaddr_in *)p->ai_addr)->sin_addr.s_addr ==
					 want.s_addr;
			printf("dns: %s -> %s: %s\n", name, eq + 1,
			       r       ? gai_strerror(r)
			       : found ? "found"
				       : "other addresses");
			CHECK("dns getaddrinfo resolves the name", r == 0 && found);
			if (res)
				freeaddrinfo(res);
		} else if (!strcmp(argv[i], "--nameserver")) {
			FILE *f = fopen("/etc/resolv.conf", "r");
			char line[256], ns[128];
			int found = 0;

			CHECK("dns /etc/resolv.conf exists", f != NULL);
			while (f && fgets(line, sizeof(line), f))
				found |= sscanf(line, " nameserver %127s", ns) == 1 &&
					 !strcmp(ns, argv[i + 1]);
			if (f)
				fclose(f);
			CHECK("dns /etc/resolv.conf names the nameserver", found);
		} else if (!strcmp(argv[i], "--hostname")) {
			char host[256] = "";
			struct utsname u;

			CHECK("dns gethostname",
			      gethostname(host, sizeof(host)) == 0 && !strcmp(host, argv[i + 1]));
			CHECK("dns uname nodename",
			      uname(&u) == 0 && !strcmp(u.nodename, argv[i + 1]));
		} else {
			CHECK("dns options", 0);
		}
	}
	/* Needs no file: numeric hosts and the passive address. */
	{
		struct addrinfo hints = {.ai_family = AF_INET,
					 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
		struct addrinfo *res = NULL;
		char host[64], serv[16];

		CHECK("dns numeric getaddrinfo",
		      getaddrinfo("10.0.2.2", "8080", &hints, &res) == 0 &&
			  ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port) == 8080);
		CHECK("dns numeric getnameinfo",
		      res &&
			  getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), serv,
				      sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0 &&
			  !strcmp(host, "10.0.2.2") && !strcmp(serv, "8080"));
		if (res)
			freeaddrinfo(res);
	}
	printf("dns: done\n");
}

/* ---------------------------------------------------------------- main */

static int usage(void)
{
	fprintf(stdout, "net: FAIL usage: net CMD ARGS [+ CMD ARGS]... (see tests/apps/net.c)\n");
	return 98;
}

/* Runs one command of argc words; returns -1 for a usage error. */
static int run(int argc, char **argv)
{
	const char *c = argv[0];

#define ARGS(n)                                                                                    \
	if (argc < (n) + 1)                                                                        \
	return -1
	if (!strcmp(c, "serve-tcp")) {
		ARGS(2);
		cmd_serve_tcp(atoi(argv[1]), atoi(argv[2]));
	} else if (!strcmp(c, "serve-concurrent")) {
		ARGS(2);
		cmd_serve_concurrent(atoi(argv[1]), atoi(argv[2]));
	} else if (!strcmp(c, "udp-echo")) {
		ARGS(2);
		cmd_udp_echo(atoi(argv[1]), atoi(argv[2]));
	} else if (!strcmp(c, "client-tcp")) {
		ARGS(3);
		cmd_client_tcp(argv[1], atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(c, "udp-client")) {
		ARGS(2);
		cmd_udp_client(argv[1], atoi(argv[2]));
	} else if (!strcmp(c, "send-exit")) {
		ARGS(4);
		cmd_send_exit(argv[1], atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
	} else if (!strcmp(c, "echo-client")) {
		ARGS(2);
		cmd_echo_client(argv[1], atoi(argv[2]), argc > 3 ? argv[3] : NULL);
	} else if (!strcmp(c, "bulk")) {
		ARGS(3);
		cmd_bulk(argv[1], atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(c, "loopback")) {
		cmd_loopback();
	} else if (!strcmp(c, "unix")) {
		cmd_unix();
	} else if (!strcmp(c, "sockopts")) {
		cmd_sockopts();
	} else if (!strcmp(c, "ifaces")) {
		cmd_ifaces(argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL);
	} else if (!strcmp(c, "v6")) {
		ARGS(2);
		cmd_v6(atoi(argv[1]), atoi(argv[2]), argc > 3 && !strcmp(argv[3], "ll"));
	} else if (!strcmp(c, "dns")) {
		cmd_dns(argc - 1, argv + 1);
	} else {
		return -1;
	}
#undef ARGS
	alarm(0);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_alarm};

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGALRM, &sa, NULL);
	if (argc < 2)
		return usage();
	for (int i = 1; i < argc;) {
		int j = i;

		while (j < argc && strcmp(argv[j], "+"))
			j++;
		if (j == i || run(j - i, argv + i) != 0)
			return usage();
		i = j + 1;
	}
	printf("net: %d failures\n", failures);
	return failures > 98 ? 98 : failures;
}
