/*
 * errno values, Linux's numbers: the kernel returns them negated (-ENOENT)
 * and the app sees them as they are. The ERESTART* codes at the end never
 * reach the app: they say how a call that a signal interrupted ends (see
 * kernel/signal.h), as in Linux's include/linux/errno.h.
 */
#pragma once

#define EPERM	     1
#define ENOENT	     2
#define ESRCH	     3
#define EINTR	     4
#define EIO	     5
#define ENXIO	     6
#define E2BIG	     7
#define ENOEXEC	     8
#define EBADF	     9
#define ECHILD	     10
#define EAGAIN	     11
#define ENOMEM	     12
#define EACCES	     13
#define EFAULT	     14
#define EBUSY	     16
#define EEXIST	     17
#define EXDEV	     18
#define ENODEV	     19
#define ENOTDIR	     20
#define EISDIR	     21
#define EINVAL	     22
#define ENFILE	     23
#define EMFILE	     24
#define ENOTTY	     25
#define ETXTBSY	     26
#define EFBIG	     27
#define ENOSPC	     28
#define ESPIPE	     29
#define EROFS	     30
#define EMLINK	     31
#define EPIPE	     32
#define EDOM	     33
#define ERANGE	     34
#define EDEADLK	     35
#define ENAMETOOLONG 36
#define ENOLCK	     37
#define ENOSYS	     38
#define ENOTEMPTY    39
#define ELOOP	     40
#define ENODATA	     61
#define EOVERFLOW    75
#define EOPNOTSUPP   95
#define ETIMEDOUT    110

/* Sockets (EOPNOTSUPP and ETIMEDOUT above serve them too). */
#define ENOTSOCK	88
#define EDESTADDRREQ	89
#define EMSGSIZE	90
#define EPROTOTYPE	91
#define ENOPROTOOPT	92
#define EPROTONOSUPPORT 93
#define ESOCKTNOSUPPORT 94
#define EPFNOSUPPORT	96
#define EAFNOSUPPORT	97
#define EADDRINUSE	98
#define EADDRNOTAVAIL	99
#define ENETDOWN	100
#define ENETUNREACH	101
#define ENETRESET	102
#define ECONNABORTED	103
#define ECONNRESET	104
#define ENOBUFS		105
#define EISCONN		106
#define ENOTCONN	107
#define ESHUTDOWN	108
#define ECONNREFUSED	111
#define EHOSTDOWN	112
#define EHOSTUNREACH	113
#define EALREADY	114
#define EINPROGRESS	115

/*
 * Kernel-internal results of a call that a signal interrupted, resolved on
 * the way back to ring 3 (signal_syscall_exit): ERESTARTSYS restarts the
 * call after a handler with SA_RESTART and is EINTR after one without;
 * ERESTARTNOHAND restarts only when no handler runs; ERESTARTNOINTR always
 * restarts. A restart re-executes the syscall instruction.
 */
#define ERESTARTSYS    512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514

/* Kernel-internal: the handler queued the calling thread on wait queues and
 * must be run again when it is woken (kernel/thread.h, thread_wait). */
#define EWAITING 530
