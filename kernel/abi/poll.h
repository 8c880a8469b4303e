/*
 * poll, select and epoll as Linux x86-64 defines them (asm-generic/poll.h,
 * linux/eventpoll.h), and the eventfd flags.
 */
#pragma once

#include <stdint.h>

#define POLLIN	   0x001u
#define POLLPRI	   0x002u
#define POLLOUT	   0x004u
#define POLLERR	   0x008u
#define POLLHUP	   0x010u
#define POLLNVAL   0x020u
#define POLLRDNORM 0x040u
#define POLLRDBAND 0x080u
#define POLLWRNORM 0x100u
#define POLLWRBAND 0x200u
#define POLLRDHUP  0x2000u

#ifndef FD_SETSIZE /* <sys/select.h> has the same value; host tests see both */
#define FD_SETSIZE 1024
#endif

struct linux_pollfd {
	int32_t fd;
	int16_t events, revents;
};
_Static_assert(sizeof(struct linux_pollfd) == 8, "struct pollfd is 8 bytes");

/* The epoll event bits are the POLL* bits, plus these flags. */
#define EPOLLIN	       POLLIN
#define EPOLLPRI       POLLPRI
#define EPOLLOUT       POLLOUT
#define EPOLLERR       POLLERR
#define EPOLLHUP       POLLHUP
#define EPOLLRDNORM    POLLRDNORM
#define EPOLLRDBAND    POLLRDBAND
#define EPOLLWRNORM    POLLWRNORM
#define EPOLLWRBAND    POLLWRBAND
#define EPOLLRDHUP     POLLRDHUP
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP    (1u << 29)
#define EPOLLONESHOT   (1u << 30)
#define EPOLLET	       (1u << 31)

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

#define EPOLL_CLOEXEC 02000000 /* O_CLOEXEC */

/* x86-64 packs struct epoll_event: 12 bytes, data unaligned. */
struct linux_epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct linux_epoll_event) == 12, "x86-64 struct epoll_event is packed");

#define EFD_SEMAPHORE 1
#define EFD_CLOEXEC   02000000 /* O_CLOEXEC */
#define EFD_NONBLOCK  04000    /* O_NONBLOCK */
