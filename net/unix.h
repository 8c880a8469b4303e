/*
 * unix - AF_UNIX sockets within the app: SOCK_STREAM, SOCK_DGRAM and
 * SOCK_SEQPACKET, made by socket or socketpair, named by a path (an
 * S_IFSOCK node in the file system, made by bind and removed by unlink),
 * by an abstract name (sun_path[0] == 0) or by autobind ("\0" and five hex
 * digits, for an empty address), with listen/accept/connect, shutdown,
 * SO_PEERCRED, SCM_RIGHTS and SCM_CREDENTIALS, as Linux defines them.
 *
 * Data: every socket has one receive queue of messages, bounded at
 * UNIX_QUEUE_BYTES (256 KiB, each message counted with its record); a
 * sender puts into the queue of the receiver, so a full queue is -EAGAIN
 * for the sender and a read wakes the writer. Stream bytes from separate
 * writes are joined in the queue (a write with SCM_RIGHTS starts a record
 * of its own, and a read stops after it, as on Linux); datagrams and
 * seqpackets keep their boundaries and the sender's name.
 *
 * Names: a path name is the inode bind made, held while the socket is
 * bound (connect looks the path up and compares inodes, so a new file at
 * the same path is another name, and an unlinked name cannot be reached);
 * abstract names are compared as bytes. All unix sockets are on one list
 * (the name table, and the dgram sockets that must forget a peer that
 * closes).
 *
 * Not done: the garbage collector of Linux for descriptors in flight that
 * form a cycle (a socket sent over itself and then closed stays allocated
 * until the app exits: unix_release_in_flight); a blocking stream sendmsg with SCM_RIGHTS that
 * waits halfway attaches its descriptors again to the rest.
 *
 * Single CPU, never preempted, no locks (docs/architecture.md).
 */
#pragma once

#include "net/socket.h"

#define UNIX_QUEUE_BYTES (256u * 1024) /* a receive queue's bound, records included */
#define UNIX_DGRAM_MAX	 212960u       /* the largest datagram: Linux's default sndbuf - 32 */
#define UNIX_SCM_MAX_FD	 253	       /* descriptors in one message (SCM_MAX_FD) */

/* The descriptor net/socket.c's family table names. */
extern const struct sock_family unix_family;

/*
 * unix_release_in_flight - at the app's exit, after every descriptor was
 * closed: frees the sockets that only descriptors in flight still hold
 * (cycles of sockets sent over sockets), with everything they carry.
 */
void unix_release_in_flight(void);
