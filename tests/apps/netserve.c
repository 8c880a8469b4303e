/*
 * netserve: the server tools/nettorture attacks (tests/boot/test_net_torture.c).
 * A TCP and a UDP echo service on one port, on one epoll loop, as a small
 * appliance would run them, with every socket non-blocking.
 *
 * Usage: netserve PORT
 *
 * TCP: each connection gets its bytes back and is closed after the peer's
 * FIN once everything is echoed; a connection that errs (reset) is closed.
 * UDP: each datagram is sent back to its sender; the datagram "quit" ends
 * the app (the torture program sends it last, so "the app exits cleanly on
 * request" is part of the test). It prints "netserve: ready PORT" once it
 * listens, and at the end:
 *   netserve: N tcp connections (E reset), B bytes echoed; D datagrams
 * then exits 0, or 1 when a call failed in a way a healthy kernel never
 * makes it fail (printed as "netserve: FAIL ...").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD	 1024
#define PENDING	 65536 /* echo bytes a connection may owe before it stops reading */
#define MAX_EVTS 64

struct conn {
	char buf[PENDING];
	size_t len; /* bytes read but not yet written back */
	int eof;
};

static struct conn *conns[MAX_FD];
static long accepted, resets, bytes, datagrams;
static int ep, failed;

static void fail(const char *what)
{
	printf("netserve: FAIL %s: %s\n", what, strerror(errno));
	failed = 1;
}

static void drop(int fd)
{
	close(fd); /* also leaves the epoll set */
	free(conns[fd]);
	conns[fd] = NULL;
}

static void watch(int fd, unsigned events, int op)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (epoll_ctl(ep, op, fd, &ev) != 0)
		fail("epoll_ctl");
}

/* Reads and echoes what fd has; closes it at EOF with nothing owed, or on an error. */
static void serve(int fd)
{
	struct conn *c = conns[fd];

	for (;;) {
		while (c->len > 0) {
			ssize_t w = write(fd, c->buf, c->len);

			if (w < 0) {
				if (errno == EAGAIN)
					break;
				resets++;
				drop(fd);
				return;
			}
			memmove(c->buf, c->buf + w, c->len - (size_t)w);
			c->len -= (size_t)w;
			bytes += w;
		}
		if (c->eof || c->len == sizeof(c->buf))
			break;
		ssize_t r = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);

		if (r == 0) {
			c->eof = 1;
			continue;
		}
		if (r < 0) {
			if (errno == EAGAIN)
				break;
			resets++;
			drop(fd);
			return;
		}
		c->len += (size_t)r;
	}
	if (c->eof && c->len == 0) {
		drop(fd);
		return;
	}
	/* Level-triggered: wait for room when owing bytes, else for more input. */
	watch(fd, c->len ? EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/* ECONNABORTED: a peer reset it before the accept; EMFILE/ENOMEM: full. */
			if (errno != EAGAIN && errno != ECONNABORTED && errno != EMFILE &&
			    errno != ENFILE && errno != ENOMEM && errno != ENOBUFS)
				fail("accept4");
			return;
		}
		if (fd >= MAX_FD || !(conns[fd] = calloc(1, sizeof(struct conn)))) {
			close(fd);
			continue;
		}
		accepted++;
		watch(fd, EPOLLIN, EPOLL_CTL_ADD);
		serve(fd);
	}
}

/* Echoes every datagram waiting; returns 1 once "quit" came. */
static int echo_datagrams(int ufd)
{
	for (;;) {
		static char buf[65536];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(ufd, buf, sizeof(buf), 0, (void *)&from, &fl);

		if (r < 0) {
			if (errno != EAGAIN)
				fail("recvfrom");
			return 0;
		}
		datagrams++;
		if (r == 4 && !memcmp(buf, "quit", 4))
			return 1;
		/* EAGAIN/ENOBUFS/ENOMEM: a full transmit path drops it, as Linux may. */
		if (sendto(ufd, buf, (size_t)r, 0, (void *)&from, fl) < 0 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != ENOMEM && errno != EHOSTUNREACH)
			fail("sendto");
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct epoll_event evs[MAX_EVTS];
	int one = 1, lfd, ufd, quit = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: netserve PORT\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	if (lfd < 0 || ufd < 0 || ep < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (void *)&sa, sizeof(sa)) != 0 || listen(lfd, 128) != 0 ||
	    bind(ufd, (void *)&sa, sizeof(sa)) != 0) {
		fail("setup");
		return 1;
	}
	watch(lfd, EPOLLIN, EPOLL_CTL_ADD);
	watch(ufd, EPOLLIN, EPOLL_CTL_ADD);
	printf("netserve: ready %s\n", argv[1]);
	fflush(stdout);
	while (!quit) {
		int n = epoll_wait(ep, evs, MAX_EVTS, -1);

		if (n < 0) {
			if (errno != EINTR)
				fail("epoll_wait");
			if (failed)
				break;
			continue;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd)
				accept_all(lfd);
			else if (fd == ufd)
				quit |= echo_datagrams(ufd);
			else if (fd < MAX_FD && conns[fd])
				serve(fd);
		}
	}
	for (int fd = 0; fd < MAX_FD; fd++)
		if (conns[fd])
			drop(fd);
	close(lfd);
	close(ufd);
	close(ep);
	printf("netserve: %ld tcp connections (%ld reset), %ld bytes echoed; %ld datagrams\n",
	       accepted, resets, bytes, datagrams);
	return failed;
}
