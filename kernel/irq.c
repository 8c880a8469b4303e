/*
 * Interrupt handlers by vector (see irq.h): a static pool of slots, because
 * the first handlers (the local APIC's) register before the kernel heap
 * exists. Each vector's handlers form a list in registration order.
 */
#include "kernel/irq.h"

#include <stddef.h>

#include "kernel/abi/errno.h"

#define IRQ_SLOTS 32

struct irq_slot {
	irq_fn fn;
	void *dev;
	struct irq_slot *next;
};

static struct irq_slot slots[IRQ_SLOTS];
static unsigned used;
static struct irq_slot *handlers[256];
static unsigned next_device_vector = IRQ_DEVICE_FIRST;
static void (*eoi_hook)(void);

int irq_register(unsigned vector, irq_fn fn, void *dev)
{
	struct irq_slot **pp;

	if (vector < 32 || vector > 255)
		return -EINVAL;
	if (used == IRQ_SLOTS)
		return -ENOMEM;
	slots[used] = (struct irq_slot){fn, dev, NULL};
	for (pp = &handlers[vector]; *pp; pp = &(*pp)->next)
		;
	*pp = &slots[used++];
	return 0;
}

int irq_dispatch(unsigned vector)
{
	int n = 0;

	if (vector > 255)
		return 0;
	for (struct irq_slot *s = handlers[vector]; s; s = s->next, n++)
		s->fn(s->dev);
	/* Even with no handler: an unacknowledged vector would block every
	 * interrupt of its priority class and below. */
	if (eoi_hook && irq_vector_allocated(vector))
		eoi_hook();
	return n;
}

int irq_alloc_vector(void)
{
	if (next_device_vector > IRQ_DEVICE_LAST)
		return -ENOSPC;
	return (int)next_device_vector++;
}

int irq_vector_allocated(unsigned vector)
{
	return vector >= IRQ_DEVICE_FIRST && vector < next_device_vector;
}

void irq_set_eoi(void (*eoi)(void))
{
	eoi_hook = eoi;
}
