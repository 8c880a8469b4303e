/*
 * Spinlocks with a checked order (see spinlock.h). The logic is portable C
 * over four arch hooks at the bottom (pause, save-and-disable and restore
 * the interrupt flag, this CPU's number and held-lock record), which the
 * host tests replace with per-thread variables.
 *
 * The lock word is test-and-test-and-set: spin reading until it looks free,
 * then one atomic exchange, so waiting CPUs do not bounce the line with
 * writes. Acquire on the exchange, release on the store that frees it.
 */
#include "kernel/spinlock.h"

#include <stdarg.h>

#include "kernel/kprintf.h"
#include "kernel/panic.h"

static void spin_arch_pause(void);
static unsigned long spin_arch_irq_save(void);
static void spin_arch_irq_restore(unsigned long flags);
static unsigned spin_arch_cpu(void);
#ifdef SPIN_CHECK
static struct spin_held *spin_arch_held(void);
#endif

#ifdef HOST_TEST
_Thread_local int spin_host_irqs_on = 1;
_Thread_local unsigned spin_host_cpu;
void (*spin_violation_hook)(const char *msg);
#endif

void spin_init(struct spinlock *l, const char *name, enum lock_class class)
{
	if (class <= LOCK_CLASS_NONE || class >= LOCK_CLASS_COUNT)
		panic("spin_init: %s: class %d out of range", name, (int)class);
	*l = (struct spinlock)SPINLOCK_INIT(name, class);
}

#ifdef SPIN_CHECK
__attribute__((format(printf, 1, 2))) static void violation(const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
#ifdef HOST_TEST
	if (spin_violation_hook)
		spin_violation_hook(msg);
#endif
	panic("%s", msg);
}

/* Before taking l: l must not be held here, and its class must be inside
 * every held lock's. */
static void check_order(const struct spinlock *l)
{
	const struct spin_held *h = spin_arch_held();

	for (unsigned i = 0; i < h->n; i++) {
		const struct spinlock *held = h->lock[i];
		if (held == l)
			violation("spin_lock: recursion: taking %s while holding %s", l->name,
				  held->name);
		if (l->class <= held->class)
			violation("spin_lock: order: taking %s while holding %s", l->name,
				  held->name);
	}
}

static void note_held(const struct spinlock *l)
{
	struct spin_held *h = spin_arch_held();

	if (h->n == SPIN_HELD_MAX)
		violation("spin_lock: more than %d locks held, taking %s", SPIN_HELD_MAX, l->name);
	h->lock[h->n++] = l;
}

static void note_released(const struct spinlock *l)
{
	struct spin_held *h = spin_arch_held();

	for (unsigned i = h->n; i-- > 0;) {
		if (h->lock[i] != l)
			continue;
		for (unsigned j = i; j + 1 < h->n; j++)
			h->lock[j] = h->lock[j + 1];
		h->n--;
		return;
	}
	violation("spin_unlock: %s is not on this CPU's held stack", l->name);
}
#endif

static int try_take(struct spinlock *l)
{
	if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
		return 0;
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

unsigned long spin_lock_irqsave(struct spinlock *l)
{
	return spin_lock_polling(l, NULL);
}

unsigned long spin_lock_polling(struct spinlock *l, void (*poll)(void))
{
	unsigned long flags = spin_arch_irq_save();

#ifdef SPIN_CHECK
	check_order(l);
#endif
	while (!try_take(l)) {
		if (poll)
			poll();
		spin_arch_pause();
	}
	__atomic_store_n(&l->owner, spin_arch_cpu() + 1, __ATOMIC_RELAXED);
#ifdef SPIN_CHECK
	note_held(l);
#endif
	return flags;
}

int spin_trylock(struct spinlock *l, unsigned long *flags)
{
	unsigned long f = spin_arch_irq_save();

	if (!try_take(l)) {
		spin_arch_irq_restore(f);
		return 0;
	}
	__atomic_store_n(&l->owner, spin_arch_cpu() + 1, __ATOMIC_RELAXED);
#ifdef SPIN_CHECK
	note_held(l);
#endif
	*flags = f;
	return 1;
}

/* This CPU stops owning l (who names the caller in the panic); the lock
 * word is the caller's to clear or keep. */
static void disown(struct spinlock *l, const char *who)
{
	if (!spin_is_held_by_me(l))
		panic("%s: %s not held by this CPU", who, l->name);
#ifdef SPIN_CHECK
	note_released(l);
#endif
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
}

void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
	disown(l, "spin_unlock");
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	spin_arch_irq_restore(flags);
}

void spin_hand_over(struct spinlock *l)
{
	/* What was done under l reaches the next owner through the handing
	 * over itself (the caller's release store of whom it is for). */
	disown(l, "spin_hand_over");
}

void spin_take_handed(struct spinlock *l, unsigned long *flags)
{
	unsigned long f = spin_arch_irq_save();

	if (!__atomic_load_n(&l->locked, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&l->owner, __ATOMIC_RELAXED))
		panic("spin_take_handed: %s was not handed over", l->name);
	__atomic_store_n(&l->owner, spin_arch_cpu() + 1, __ATOMIC_RELAXED);
#ifdef SPIN_CHECK
	note_held(l);
#endif
	*flags = f;
}

int spin_is_held_by_me(const struct spinlock *l)
{
	/* Only this CPU writes its own number there, so a match is stable. */
	return __atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == spin_arch_cpu() + 1;
}

/* ---------------------------------------------------------------- arch part */
#ifdef HOST_TEST
#include <sched.h>

static _Thread_local struct spin_held host_held;

/* A host "CPU" is a thread the host may have put aside, holder included:
 * a waiter gives its core back instead of spinning out its time slice. */
static void spin_arch_pause(void)
{
	sched_yield();
}

static unsigned long spin_arch_irq_save(void)
{
	unsigned long was = (unsigned long)spin_host_irqs_on;

	spin_host_irqs_on = 0;
	return was;
}

static void spin_arch_irq_restore(unsigned long flags)
{
	spin_host_irqs_on = (int)flags;
}

static unsigned spin_arch_cpu(void)
{
	return spin_host_cpu;
}

static struct spin_held *spin_arch_held(void)
{
	return &host_held;
}

void spin_host_reset(void)
{
	host_held.n = 0;
}
#else
#include "kernel/percpu.h"

#define RFLAGS_IF (1ul << 9)

static void spin_arch_pause(void)
{
	__builtin_ia32_pause();
}

static unsigned long spin_arch_irq_save(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags & RFLAGS_IF;
}

static void spin_arch_irq_restore(unsigned long flags)
{
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti" ::: "memory");
}

static unsigned spin_arch_cpu(void)
{
	return this_cpu()->index;
}

#ifdef SPIN_CHECK
static struct spin_held *spin_arch_held(void)
{
	return &this_cpu()->spin_held;
}
#endif
#endif
