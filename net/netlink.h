/*
 * netlink - AF_NETLINK sockets (NETLINK_ROUTE only, SOCK_RAW or
 * SOCK_DGRAM) and the interface ioctls (SIOCGIF*), the two ways an app
 * reads the interface list: the read-only rtnetlink dumps musl's and
 * glibc's getifaddrs and if_nameindex and Go's net.Interfaces ask for
 * (RTM_GETLINK, RTM_GETADDR for AF_INET and AF_INET6), RTM_GETLINK of one
 * interface, and the ioctls of net-tools and old programs.
 *
 * A request is answered while sendmsg runs: its replies are queued on the
 * socket as datagrams of at most NETLINK_DGRAM_MAX bytes (what a
 * page-sized receive buffer takes, as Linux's dumps are sized), a dump
 * ended by NLMSG_DONE; recvmsg reads one datagram (MSG_PEEK, MSG_TRUNC as
 * for any datagram socket). Every other request is NLMSG_ERROR
 * -EOPNOTSUPP; NLM_F_ACK asks for an acknowledgement after a request
 * that is not a dump. A reply that would pass NETLINK_QUEUE_BYTES queued
 * is dropped and the socket's error is ENOBUFS, as on Linux. No
 * notifications are ever sent (multicast groups are accepted and stay
 * silent). Interfaces come from net/stack.h.
 *
 * Single CPU, never preempted, no locks (docs/architecture.md).
 */
#pragma once

#include <stdint.h>

#include "net/socket.h"

#define NETLINK_DGRAM_MAX   4096u	  /* one reply datagram, at most */
#define NETLINK_QUEUE_BYTES (256u * 1024) /* replies queued on one socket, at most */
#define NETLINK_REQUEST_MAX 65536u	  /* a larger sendmsg is EMSGSIZE */

/* The descriptor net/socket.c's family table names. */
extern const struct sock_family netlink_family;

/*
 * netlink_interface_ioctl - the interface ioctls on any socket (socket.c
 * hands over SIOC_IF_FIRST..SIOC_IF_LAST); arg is the app's struct ifreq
 * (struct ifconf for SIOCGIFCONF). SIOCGIFCONF (a NULL ifc_buf asks for
 * the length only; only interfaces with an IPv4 address, as Linux),
 * SIOCGIFNAME, SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR,
 * SIOCGIFNETMASK, SIOCGIFBRDADDR (-EADDRNOTAVAIL without an IPv4
 * address), SIOCGIFHWADDR, SIOCGIFMTU, SIOCGIFTXQLEN, SIOCGIFMETRIC,
 * SIOCGIFMAP. The set variants are -EPERM; an unknown name -ENODEV; a bad
 * pointer -EFAULT; any other command -ENOTTY.
 */
long netlink_interface_ioctl(unsigned cmd, uint64_t arg);
