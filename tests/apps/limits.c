/*
 * limits - every limit an app can run into, run into on purpose: each must
 * give the errno Linux gives, never a panic, and after each the resource is
 * given back and usable again (the boot test then checks that every page
 * came back). Boot with tmpfs_size=2M (the tmpfs check fills it).
 *
 *   descriptors  EMFILE at RLIMIT_NOFILE (1024), lowered to 64 and raised
 *                again; dup2/F_DUPFD past it; the hard limit capped
 *   threads      pthread_create EAGAIN at the kernel's 64 threads
 *   tmpfs        ENOSPC at tmpfs_size, the space back after unlink
 *   address      ENOMEM when the address space is used up by reservations
 *   sockets      UDP: ENOBUFS when lwIP's pcbs run out; TCP: EMFILE;
 *                listeners: ENOBUFS when the listen pcbs run out
 *   epoll        instances to EMFILE, a thousand watches, nesting to ELOOP
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#define CHECK_PREFIX "limits"
#include "check.h"

#define NOFILE 1024

static int fds[NOFILE];

/* Makes descriptors with make() until it fails; returns how many, with
 * the failing errno in *err. */
static int fill(int (*make)(void), int *err)
{
	int n = 0;

	for (;;) {
		int fd = make();
		if (fd < 0) {
			*err = errno;
			return n;
		}
		fds[n++] = fd;
		if (n == NOFILE) {
			*err = 0;
			return n;
		}
	}
}

static void close_all(int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static int make_eventfd(void)
{
	return eventfd(0, 0);
}

static void descriptors(void)
{
	struct rlimit rl, low = {64, NOFILE}, high = {NOFILE, NOFILE}, past = {NOFILE, NOFILE + 1};
	int err, n;

	CHECK("getrlimit_nofile_is_1024",
	      getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == NOFILE && rl.rlim_max == NOFILE);
	n = fill(make_eventfd, &err);
	CHECK("descriptors_end_with_emfile_at_the_limit", n == NOFILE - 3 && err == EMFILE);
	close_all(n);

	CHECK("nofile_lowered_to_64", setrlimit(RLIMIT_NOFILE, &low) == 0);
	n = fill(make_eventfd, &err);
	CHECK("lowered_limit_gives_emfile_at_64", n == 64 - 3 && err == EMFILE);
	CHECK("dup2_past_the_lowered_limit_is_ebadf", errno_of(dup2(0, 64), EBADF));
	CHECK("f_dupfd_past_the_lowered_limit_is_einval", errno_of(fcntl(0, F_DUPFD, 64), EINVAL));
	close_all(n);
	CHECK("hard_limit_cannot_pass_1024", errno_of(setrlimit(RLIMIT_NOFILE, &past), EPERM));
	CHECK("soft_above_hard_is_einval",
	      errno_of(setrlimit(RLIMIT_NOFILE, &(struct rlimit){NOFILE, 64}), EINVAL));
	CHECK("nofile_raised_again", setrlimit(RLIMIT_NOFILE, &high) == 0);
	n = fill(make_eventfd, &err);
	CHECK("raised_limit_gives_all_1021_again", n == NOFILE - 3 && err == EMFILE);
	CHECK("dup2_to_1023_works_again", dup2(0, NOFILE - 1) == NOFILE - 1);
	close(NOFILE - 1);
	close_all(n);
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *wait_at_gate(void *arg)
{
	pthread_mutex_lock(&gate);
	pthread_mutex_unlock(&gate);
	return arg;
}

static void threads(void)
{
	static pthread_t t[128];
	pthread_attr_t attr;
	int n = 0, err = 0, joined = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_mutex_lock(&gate);
	while (n < 128) {
		err = pthread_create(&t[n], &attr, wait_at_gate, (void *)(intptr_t)n);
		if (err)
			break;
		n++;
	}
	printf("limits: %d threads besides main, then error %d\n", n, err);
	CHECK("threads_end_with_eagain_at_64", n == 63 && err == EAGAIN);
	pthread_mutex_unlock(&gate);
	for (int i = 0; i < n; i++) {
		void *ret;
		joined += pthread_join(t[i], &ret) == 0 && ret == (void *)(intptr_t)i;
	}
	CHECK("every_thread_joins", joined == n);
	n = 0;
	while (n < 63 && pthread_create(&t[n], &attr, wait_at_gate, NULL) == 0)
		n++;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	CHECK("63_threads_again_after_the_joins", n == 63);
	pthread_attr_destroy(&attr);
}

static long fill_file(const char *path, int *err)
{
	static char block[16384];
	long total = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	memset(block, 0x5a, sizeof(block));
	*err = 0;
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	for (;;) {
		ssize_t n = write(fd, block, sizeof(block));
		if (n < 0) {
			*err = errno;
			break;
		}
		total += n;
	}
	close(fd);
	return total;
}

static void tmpfs_space(void)
{
	int err, err2;
	long first = fill_file("/tmp/fill", &err);
	printf("limits: tmpfs took %ld bytes, then errno %d\n", first, err);
	CHECK("tmpfs_fills_to_enospc", err == ENOSPC && first > 1024 * 1024 && first <= 2 << 20);
	CHECK("a_new_file_in_a_full_tmpfs_cannot_grow", fill_file("/tmp/more", &err2) == 0);
	unlink("/tmp/more");
	CHECK("unlink_the_fill", unlink("/tmp/fill") == 0);
	long second = fill_file("/tmp/fill", &err);
	CHECK("the_space_comes_back_after_unlink", err == ENOSPC && second == first);
	unlink("/tmp/fill");
}

static void address_space(void)
{
	static void *maps[1024];
	const size_t tib = 1ull << 40;
	int n = 0, err = 0;

	CHECK("mmap_past_the_user_half_is_enomem",
	      mmap(NULL, 1ull << 47, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
		  errno == ENOMEM);
	CHECK("mmap_of_a_length_that_overflows_is_enomem",
	      mmap(NULL, SIZE_MAX - 4095, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		      MAP_FAILED &&
		  errno == ENOMEM);
	/* Reservations of 1 TiB each (PROT_NONE costs no memory) until the
	 * user half has no hole that large. */
	while (n < 1024) {
		void *p =
		    mmap(NULL, tib, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			err = errno;
			break;
		}
		maps[n++] = p;
	}
	printf("limits: %d TiB reserved, then errno %d\n", n, err);
	CHECK("address_space_ends_with_enomem", n > 64 && n < 128 && err == ENOMEM);
	CHECK("a_small_mapping_still_fits_in_the_gaps",
	      mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED);
	for (int i = 0; i < n; i++)
		munmap(maps[i], tib);
	char *p = mmap(NULL, tib, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ok = p != MAP_FAILED && mprotect(p, 1 << 20, PROT_READ | PROT_WRITE) == 0;
	if (ok) {
		memset(p, 1, 1 << 20);
		ok = p[12345] == 1;
		munmap(p, tib);
	}
	CHECK("after_munmap_a_tib_reserves_and_a_mib_of_it_works", ok);
}

static int make_udp(void)
{
	return socket(AF_INET, SOCK_DGRAM, 0);
}

static int make_tcp(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

static void sockets(void)
{
	int err, n, listening = 0, lerr = 0;

	n = fill(make_udp, &err);
	printf("limits: %d UDP sockets, then errno %d\n", n, err);
	CHECK("udp_sockets_end_with_enobufs", n >= 100 && n <= 128 && err == ENOBUFS);
	close_all(n);
	int udp = make_udp();
	CHECK("a_udp_socket_again_after_the_close", udp >= 0);
	close(udp);

	n = fill(make_tcp, &err);
	printf("limits: %d TCP sockets, then errno %d\n", n, err);
	CHECK("tcp_sockets_end_with_emfile", n == NOFILE - 3 && err == EMFILE);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_port = htons((uint16_t)(20000 + i)),
					  .sin_addr.s_addr = htonl(0x7f000001)};
		if (bind(fds[i], (struct sockaddr *)&sin, sizeof(sin)) || listen(fds[i], 4)) {
			lerr = errno;
			break;
		}
		listening++;
	}
	printf("limits: %d listeners, then errno %d\n", listening, lerr);
	CHECK("listeners_end_with_enobufs",
	      listening >= 100 && listening <= 128 && lerr == ENOBUFS);
	close_all(n);

	/* Usable again: a listener, a connection, a byte across. */
	int l = make_tcp(), c = make_tcp(), a = -1;
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons(20000), .sin_addr.s_addr = htonl(0x7f000001)};
	char byte = 0;
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int ok = bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(l, 4) == 0 &&
		 connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		 (a = accept(l, NULL, NULL)) >= 0 && write(c, "x", 1) == 1 &&
		 read(a, &byte, 1) == 1 && byte == 'x';
	CHECK("tcp_works_again_after_the_limits", ok);
	close(a);
	close(c);
	close(l);
}

static int make_epoll(void)
{
	return epoll_create1(0);
}

static void epolls(void)
{
	int err, n = fill(make_epoll, &err), ep[8];

	CHECK("epoll_instances_end_with_emfile", n == NOFILE - 3 && err == EMFILE);
	close_all(n);

	int e = epoll_create1(0), watched = 0;
	n = 0;
	while (n < 1000) {
		int fd = eventfd(1, 0);
		if (fd < 0)
			break;
		fds[n++] = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)n};
		watched += epoll_ctl(e, EPOLL_CTL_ADD, fd, &ev) == 0;
	}
	struct epoll_event out[64];
	int ready = epoll_wait(e, out, 64, 0);
	CHECK("a_thousand_watches_on_one_instance", watched == 1000 && ready == 64);
	close_all(n);
	CHECK("closed_watches_are_gone", epoll_wait(e, out, 64, 0) == 0);
	close(e);

	/* A chain of instances: Linux allows 5 levels (EP_MAX_NESTS 4 below
	 * the top), the sixth and any loop are ELOOP. */
	for (int i = 0; i < 8; i++)
		ep[i] = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	int linked = 0;
	for (int i = 0; i + 1 < 8; i++) {
		if (epoll_ctl(ep[i], EPOLL_CTL_ADD, ep[i + 1], &ev))
			break;
		linked++;
	}
	err = errno;
	printf("limits: %d nested epoll links, then errno %d\n", linked, err);
	CHECK("epoll_nesting_ends_with_eloop", linked == 4 && err == ELOOP);
	CHECK("an_epoll_loop_is_eloop",
	      errno_of(epoll_ctl(ep[1], EPOLL_CTL_ADD, ep[0], &ev), ELOOP));
	for (int i = 0; i < 8; i++)
		close(ep[i]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	descriptors();
	threads();
	tmpfs_space();
	address_space();
	sockets();
	epolls();
	printf("limits: %d failures\n", failures);
	return failures;
}
