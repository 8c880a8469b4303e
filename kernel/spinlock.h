/*
 * spinlock - mutual exclusion between CPUs, with interrupts off while a
 * lock is held (so an interrupt handler on the same CPU can never spin on
 * a lock its CPU holds), and one written order.
 *
 * Every lock has a name (for reports) and a class from enum lock_class.
 * The enum's order IS the lock order, outermost first, and the list in
 * docs/architecture.md "Lock order" is this enum: a CPU may take a lock only
 * when its class is strictly inside (greater than) the class of every lock
 * it already holds. So two locks of one class never nest, and no lock is
 * taken twice.
 *
 * The checking build (SPIN_CHECK: the sanitized kernel, make kernel-san,
 * and the host tests) keeps each CPU's stack of held locks and panics on a
 * violation, naming both locks:
 *   "spin_lock: order: taking X while holding Y"
 *   "spin_lock: recursion: taking X while holding X"
 *   "spin_lock: more than SPIN_HELD_MAX locks held, taking X"
 * In the other builds the check is compiled out. In every build, releasing
 * a lock this CPU does not hold panics ("spin_unlock: X not held by this
 * CPU"): the owner is kept anyway for spin_is_held_by_me.
 *
 * A lock is held only for a short, bounded stretch: never across a wait
 * (thread_wait), never across a call that may wait for another CPU while
 * that CPU may want the lock (smp_call with wait=1 from under a lock is a
 * deadlock that only its timeout ends).
 *
 * Kernel: usable from arch_cpu_init on (the owner and the held stack are
 * per CPU, through this_cpu()). Host (HOST_TEST): "a CPU" is a host thread,
 * and the interrupt flag is a per-thread variable (spin_host_irqs_on).
 * The arch part (pause, saving and restoring the interrupt flag, which CPU
 * this is) is spin_arch_* at the end of spinlock.c.
 */
#pragma once

#include <stdint.h>

#if defined(SOLO_SANITIZE) || defined(HOST_TEST)
#define SPIN_CHECK 1
#endif

/* The lock order, outermost first (docs/architecture.md "Lock order").
 * "planned" classes have no lock yet: they hold the places the scheduler
 * and the file and memory work will use, so that the order is decided once.
 * A new class goes where it nests, not at the end. */
enum lock_class {
	LOCK_CLASS_NONE = 0, /* never a valid class: spin_init refuses it */
	LOCK_KERNEL,	     /* the kernel lock: one CPU in the kernel proper at a
			      * time (taken with spin_lock_polling) */
	LOCK_NET,	     /* planned: lwIP's context in shared sections (lwIP,
			      * the NICs' transmit paths, the TCP receive queues) */
	LOCK_THREADS,	     /* the shared side's threads, futex waiters and timers */
	LOCK_FS_TREE,	     /* planned: a file system's tree */
	LOCK_INODE,	     /* one inode (tmpfs: its shared writers take turns) */
	LOCK_FILE,	     /* one pipe or eventfd: its shared readers and writers */
	LOCK_ASPACE,	     /* planned: one address space (its regions, tables) */
	LOCK_SHARED_FAULT,   /* what demand faults beside each other share: palloc,
			      * the counts (kernel/app.c, outside the kernel lock) */
	LOCK_WAITQ,	     /* planned: one wait queue */
	LOCK_TIMERS,	     /* planned: the kernel timer list */
	LOCK_SELFTEST,	     /* kernel/selftest.c's shared counter (selftest=smp) */
	LOCK_PALLOC,	     /* planned: the page allocator */
	LOCK_KMALLOC,	     /* the kernel heap in shared sections (mm/kmalloc.h):
			      * never held while it gets or frees pages */
	LOCK_DEFER,	     /* the deferred work's pending list (kernel/defer.c) */
	LOCK_SMP_CALL,	     /* one CPU's queue of cross-CPU calls (smp.c): nothing
			      * is taken under it but the console's, so any holder
			      * may queue a call */
	LOCK_CONSOLE,	     /* the console's sinks (kernel/console.c): innermost,
			      * since kprintf comes from under any lock */
	LOCK_CLASS_COUNT
};

/* The most locks one CPU holds at once (checking build). */
#define SPIN_HELD_MAX 8

struct spinlock {
	uint32_t locked; /* 0 free, 1 held (atomic) */
	uint32_t owner;	 /* the holder's CPU index + 1, 0 when free */
	const char *name;
	enum lock_class class;
};

/* A CPU's held locks, innermost last (the checking build's record). In
 * struct cpu in the kernel; per host thread in the host tests. */
struct spin_held {
	const struct spinlock *lock[SPIN_HELD_MAX];
	unsigned n;
};

#define SPINLOCK_INIT(name_, class_)                                                               \
	{                                                                                          \
		.locked = 0, .owner = 0, .name = (name_), .class = (class_)                        \
	}

/* Sets up a free lock; name must outlive it (a string literal). Panics on
 * LOCK_CLASS_NONE or a class out of range (a kernel bug). */
void spin_init(struct spinlock *l, const char *name, enum lock_class class);

/*
 * spin_lock_irqsave - turns interrupts off, then spins until l is this
 * CPU's. Returns the interrupt state before, for spin_unlock_irqrestore.
 * Checking build: panics on an order violation or recursion before it
 * spins. Blocks (spins) only as long as the holder's bounded stretch.
 */
unsigned long spin_lock_irqsave(struct spinlock *l);

/*
 * spin_lock_polling - spin_lock_irqsave for a lock that may be held long
 * (the kernel lock, LOCK_KERNEL): while it spins, it calls poll() between
 * attempts, interrupts off, so that a CPU waiting for the lock still
 * answers what the holder may wait for (the kernel passes smp_call_run:
 * a holder that shoots down a TLB or waits in smp_call would otherwise
 * deadlock against the waiters). poll may be NULL. Same checks and result
 * as spin_lock_irqsave; poll must not take a lock of a class at or
 * outside l's (smp_call_run takes only LOCK_SMP_CALL).
 */
unsigned long spin_lock_polling(struct spinlock *l, void (*poll)(void));

/* Releases l (held by this CPU: panics otherwise) and puts the interrupt
 * state back as flags says. Locks may be released in any order. */
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);

/*
 * spin_trylock - spin_lock_irqsave without the spin: returns 1 with l held
 * and interrupts off (*flags as spin_lock_irqsave's result), or 0 with
 * nothing changed when l is held (by any CPU, this one included). A trylock
 * cannot deadlock, so it is not checked against the order; once held, the
 * lock counts as held for the checks of the locks taken after it.
 */
int spin_trylock(struct spinlock *l, unsigned long *flags);

/*
 * spin_hand_over - this CPU stops holding l without releasing it: l stays
 * taken, owned by no CPU, until the CPU the caller hands it to takes it
 * with spin_take_handed, and no other CPU can take it meanwhile (their
 * spin_trylock fails). For a lock whose waiters could starve (the kernel
 * lock: a halted waiter wakes too late to win it). The caller must know
 * that CPU waits for l and will take it, and must tell it (smp.c: a CPU
 * halted in its wait, named and woken). Interrupts stay off; the caller
 * puts them back as spin_lock_irqsave's result says once it has told the
 * CPU. Panics when this CPU does not hold l.
 */
void spin_hand_over(struct spinlock *l);
/*
 * spin_take_handed - takes l, handed over to this CPU with spin_hand_over:
 * interrupts off, *flags as spin_lock_irqsave's result. Like a successful
 * spin_trylock, not checked against the order. Panics when l is not taken
 * or still has an owner (nothing was handed over).
 */
void spin_take_handed(struct spinlock *l, unsigned long *flags);

/* Whether this CPU holds l: for assertions (KASSERT(spin_is_held_by_me(l))). */
int spin_is_held_by_me(const struct spinlock *l);

#ifdef HOST_TEST
/* The host thread's simulated interrupt flag: 1 (on) at thread start. */
extern _Thread_local int spin_host_irqs_on;
/* The host thread's CPU number (0 at thread start); a test that runs
 * several threads gives each its own. */
extern _Thread_local unsigned spin_host_cpu;
/* When set, a violation calls it with the message instead of panic(); the
 * hook must not return (a test longjmps out of it). */
extern void (*spin_violation_hook)(const char *msg);
/* Forgets the calling host thread's held locks (after such a longjmp). */
void spin_host_reset(void);
#endif
