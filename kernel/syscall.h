/*
 * syscall - the Linux x86-64 syscall ABI on the kernel side: how a handler
 * is defined, and the one dispatch table (kernel/syscall.c) that maps
 * numbers to handlers, names them for strace=1 and docs/syscalls.md.
 *
 * Every handler has one shape, long sys_NAME(const struct syscall_args *),
 * and is written with SYSCALL_DEFINEn, which names and types each argument
 * (Linux's SYSCALL_DEFINE): the arguments arrive as six 64-bit registers,
 * and each is converted to its declared type, so an int argument is the
 * register's low 32 bits as on Linux. User addresses are uint64_t: they
 * are never dereferenced, only passed to the copy helpers (kernel/app.h,
 * fs/iobuf.h), which check them. A handler returns the result or a
 * negative errno; -EWAITING when it waits (kernel/thread.h) and one of the
 * ERESTART* codes when a signal interrupted it (kernel/abi/errno.h).
 *
 * Handlers live beside the subsystem they serve and are declared in its
 * header with SYSCALL_DECLARE; kernel code calls the subsystem's own
 * functions, never a handler.
 */
#pragma once

#include <stdint.h>

/* The argument registers in order: rdi, rsi, rdx, r10, r8, r9. The syscall
 * frame holds them in this order, so the dispatcher passes a pointer into
 * it. */
struct syscall_args {
	uint64_t a[6];
};

typedef long (*syscall_fn)(const struct syscall_args *args);

#define SYSCALL_DECLARE(name) long sys_##name(const struct syscall_args *args)

#define SYSCALL_DEFINE0(name)                                                                      \
	static long do_sys_##name(void);                                                           \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		(void)args;                                                                        \
		return do_sys_##name();                                                            \
	}                                                                                          \
	static long do_sys_##name(void)

#define SYSCALL_DEFINE1(name, t0, a0)                                                              \
	static long do_sys_##name(t0 a0);                                                          \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		return do_sys_##name((t0)args->a[0]);                                              \
	}                                                                                          \
	static long do_sys_##name(t0 a0)

#define SYSCALL_DEFINE2(name, t0, a0, t1, a1)                                                      \
	static long do_sys_##name(t0 a0, t1 a1);                                                   \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		return do_sys_##name((t0)args->a[0], (t1)args->a[1]);                              \
	}                                                                                          \
	static long do_sys_##name(t0 a0, t1 a1)

#define SYSCALL_DEFINE3(name, t0, a0, t1, a1, t2, a2)                                              \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2);                                            \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		return do_sys_##name((t0)args->a[0], (t1)args->a[1], (t2)args->a[2]);              \
	}                                                                                          \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2)

#define SYSCALL_DEFINE4(name, t0, a0, t1, a1, t2, a2, t3, a3)                                      \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2, t3 a3);                                     \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		return do_sys_##name((t0)args->a[0], (t1)args->a[1], (t2)args->a[2],               \
				     (t3)args->a[3]);                                              \
	}                                                                                          \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2, t3 a3)

#define SYSCALL_DEFINE5(name, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4)                              \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4);                              \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		return do_sys_##name((t0)args->a[0], (t1)args->a[1], (t2)args->a[2],               \
				     (t3)args->a[3], (t4)args->a[4]);                              \
	}                                                                                          \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4)

#define SYSCALL_DEFINE6(name, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                      \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5);                       \
	long sys_##name(const struct syscall_args *args)                                           \
	{                                                                                          \
		return do_sys_##name((t0)args->a[0], (t1)args->a[1], (t2)args->a[2],               \
				     (t3)args->a[3], (t4)args->a[4], (t5)args->a[5]);              \
	}                                                                                          \
	static long do_sys_##name(t0 a0, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5)

/*
 * Shared syscalls: the calls listed in kernel/syscall.c's shared table run
 * first without the kernel lock, beside other CPUs' shared syscalls and
 * demand faults and never beside a holder (kernel/arch/x86_64/smp.h's
 * shared side; the rules are in docs/architecture.md, "Its shared side").
 * What a holder alone changes (the fd table, the inodes) is read-only
 * there, so a read needs no lock of its own; what shared calls change has
 * a lock only they take (a tmpfs file's bytes, and its size and times
 * when a write grows it inside pages it holds: LOCK_INODE; a pipe's
 * ring, an eventfd's count and an AF_UNIX socket's queue: LOCK_FILE; the
 * threads, the futex waiters and what a wake changes: thread_shared_lock,
 * thread_wake_queue; the kernel heap: kmalloc's shared side, LOCK_KMALLOC).
 *
 * A handler on such a path asks syscall_shared() first. Whatever it may
 * not do there (wait, wake a thread but through the lock above, allocate
 * but through kmalloc, whose NULL there asks for the lock, change shared
 * state without its lock, take a fault the shared side cannot serve) it
 * leaves undone and returns
 * syscall_needs_lock(): the call's result is dropped and the call runs
 * again from the start under the kernel lock. So a shared attempt may
 * change nothing the app could see before it is sure to finish, except
 * bytes of a buffer the call is allowed to fill. Never blocks.
 */
int syscall_shared(void);
long syscall_needs_lock(void); /* returns -EAGAIN, which the caller returns */
/* Whether the shared attempt in progress was already given up (by the
 * copy helpers, on a fault they leave to the lock): what it would still
 * change, it must not. */
int syscall_shared_dropped(void);

/*
 * syscall_rerun - runs the syscall nr again with args for the current
 * thread, which was woken from a wait in it (kernel/thread.c calls this
 * when it switches to such a thread). Returns the handler's result, which
 * may be -EWAITING again. Prints the strace line when the call completes.
 */
long syscall_rerun(uint64_t nr, const struct syscall_args *args);
