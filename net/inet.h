/*
 * inet - AF_INET and AF_INET6 sockets over lwIP's raw API: TCP
 * (SOCK_STREAM) and UDP (SOCK_DGRAM). An AF_INET6 socket is dual-stack
 * unless IPV6_V6ONLY: its pcb is of lwIP's "any" type, so it listens on
 * and connects to IPv4 too, and IPv4 addresses appear to the app mapped
 * (::ffff:a.b.c.d), as Go's [::] listeners expect.
 *
 * Contexts: the socket calls (net/socket.c) call lwIP directly; lwIP calls
 * back (received segments, acknowledgements, new connections, errors,
 * datagrams) from the stack's deferred work, and the callbacks only queue
 * and wake the socket's queue. Received TCP data stays in a queue of pbufs
 * until the app reads it, and only then is the window reopened
 * (tcp_recved), so a peer can never make it larger than the advertised
 * window; datagrams are copied out of lwIP's pool into a queue bounded by
 * the receive buffer (SO_RCVBUF), and dropped when it is full.
 */
#pragma once

#include "net/socket.h"

/* The descriptors net/socket.c's family table names. */
extern const struct sock_family inet_family, inet6_family;
