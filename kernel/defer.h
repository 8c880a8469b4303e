/*
 * defer - work taken out of interrupt context: an interrupt handler (or a
 * kernel timer's callback, which may run from the timer interrupt) raises
 * a struct deferred, and its function runs later in kernel context, where
 * the kernel is inside no syscall and no handler. That is where the
 * network stack (net/stack.c) runs: lwIP is never called from an
 * interrupt handler.
 *
 * Where pending work runs (defer_run), on the one CPU:
 *   - at the end of every syscall, before the thread switch: work raised
 *     during a syscall (a send on the loopback interface) runs before the
 *     caller returns to ring 3, and so always before the CPU halts;
 *   - on the way back to ring 3 from an interrupt (thread_interrupt_exit);
 *   - in the scheduler's idle loop, before it decides to halt and after
 *     every halt (an interrupt that woke the CPU from hlt).
 * A function may wake threads, raise signals, arm timers and raise
 * deferred work (itself too: a budget used up); it must not block.
 *
 * Sources: work that an interrupt can raise at any time and that may
 * make a waiting thread runnable (a NIC's frames) keeps the app from
 * being called deadlocked while it can still deliver. Its owner says so
 * through the live callback of defer_init; the scheduler asks
 * defer_sources_live() before it ends an app whose threads all wait with
 * no timer armed.
 *
 * Raising takes the list's lock (LOCK_DEFER), so any CPU may raise: a
 * holder of the kernel lock, an interrupt handler, or a shared syscall
 * (the network stack's send on the kernel lock's shared side raises its
 * work for a loopback packet). The work runs only under the kernel lock,
 * on the CPU that holds it: a shared syscall that raised some takes the
 * kernel lock on its way out (syscall_dispatch asks defer_pending).
 */
#pragma once

struct deferred;
typedef void (*defer_fn)(struct deferred *d);
/* Whether the source may still raise d and so wake a waiting thread. */
typedef int (*defer_live_fn)(struct deferred *d);

struct deferred {
	defer_fn fn;
	defer_live_fn live;	    /* NULL: never counts as a live source */
	struct deferred *next;	    /* the pending list */
	struct deferred *next_item; /* every item with a live callback */
	int pending;
};

/*
 * defer_init - d runs fn when raised; live (may be NULL) as above. An item
 * with a live callback is remembered for defer_sources_live, so d must
 * live for the kernel's life (static). Boot time, once per item.
 */
void defer_init(struct deferred *d, defer_fn fn, defer_live_fn live);

/*
 * defer_raise - d's function runs at the next defer_run (once, however
 * often it was raised before). O(1); callable from interrupt handlers,
 * timer callbacks, syscalls (shared ones too) and deferred functions, on
 * any CPU. Takes LOCK_DEFER.
 */
void defer_raise(struct deferred *d);

/* Whether some work is raised and has not run yet (without the lock: a
 * CPU sees its own raises). */
int defer_pending(void);

/*
 * defer_run - runs the pending work, in the order raised, until none is
 * left or DEFER_PASSES rounds ran (work that keeps raising itself then
 * stays pending, and the caller's next defer_run continues it: the app
 * is not starved). Kernel context under the kernel lock only, never
 * from an interrupt handler or inside a syscall handler; not re-entrant
 * (a nested call returns at once).
 */
#define DEFER_PASSES 4
void defer_run(void);

/* Whether any item's live callback says its source can still deliver. */
int defer_sources_live(void);
