/*
 * Host stand-ins for the kernel services the host-tested modules call
 * (fs/, kernel/wait.c, kernel/kprintf.c), with knobs for the tests:
 *
 *   app_copy_to/app_copy_from  user addresses are host pointers; an address
 *                              below 4096 is a bad one (-EFAULT);
 *                              app_copy_from yields the CPU first when the
 *                              thread's shim_copy_yields is set
 *   time_now, time_clock       a fake clock the test sets (shim_now)
 *   ktimer_*                   an armed list; shim_advance() moves the clock
 *                              and runs what expired
 *   thread_*                   one fake thread: thread_wait_on queues its
 *                              entry (a wake counts in shim_wakes), thread_wait
 *                              returns -EWAITING, the restart code when
 *                              shim_signal_pending is set, -ETIMEDOUT past the
 *                              deadline
 *   signal_raise               recorded in shim_last_signal / shim_signals
 *   syscall_shared             shim_shared; syscall_needs_lock sets
 *                              shim_needs_lock (as a failed copy does in
 *                              a shared syscall); thread_wake_queue
 *                              wakes under a mutex there, and
 *                              kmalloc takes its shared side's
 *   tty_open_console           a file with no operations
 *   console_write              printed to stdout and kept in shim_console
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/time.h"
#include "kernel/wait.h"

extern uint64_t shim_now;
extern int shim_wakes;		/* wake callbacks of the fake thread's entries */
extern int shim_signal_pending; /* thread_wait sees a pending signal */
extern int shim_last_signal;	/* the last signal_raise'd number */
extern int shim_signals;	/* how many signal_raise calls */
extern uint64_t shim_deadline;	/* the last thread_wait deadline */
extern uint64_t shim_progress;
extern uint64_t shim_retry_deadline;  /* nonzero: what thread_wait_deadline returns (a retry's) */
extern _Thread_local int shim_shared; /* syscall_shared() says so */
extern _Thread_local int shim_needs_lock;  /* syscall_needs_lock() was called */
extern _Thread_local int shim_copy_yields; /* app_copy_from yields first (races) */
extern char shim_console[65536];	   /* what console_write wrote */
/* mm/kmalloc.c's shared side as kernel/app.c's (shim_setup installs it): in
 * a shared syscall (shim_shared) the heap's lock and palloc's are
 * mutexes, and pages come from the palloc cache of the thread's
 * spin_host_cpu, or none while shim_heap_pages_refused is set. */
struct kmalloc_shared_side;
extern const struct kmalloc_shared_side shim_heap_side;
extern int shim_heap_pages_refused;
extern size_t shim_console_len;

/* An app address for a host pointer; a syscall handler called directly. */
#define U(p)		((uint64_t)(uintptr_t)(p))
#define CALL(name, ...) sys_##name(&(struct syscall_args){{__VA_ARGS__}})

/* The .init of the file-kind test suites: a fresh arena and shim. */
void shim_setup(void);
/* Closes every descriptor, then asserts that nothing the test made is
 * left: no wait entry of the fake thread, no armed timer, no kernel
 * memory. Called at the end of each test (Criterion does not fail a test
 * for an assertion in .fini). */
void shim_close_all_and_check(void);

/* Resets every knob above, dequeues the fake thread's entries and drops
 * the armed timers. */
void shim_reset(void);
/* How many wait entries of the fake thread are queued now. */
int shim_queued(void);
/* Dequeues them (what a wake of the real thread does). */
void shim_unqueue(void);
/* Moves the fake clock to now and runs the timers that expired. */
void shim_advance(uint64_t now);
