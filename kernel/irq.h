/*
 * irq - interrupt handlers by vector, each with its device pointer, so two
 * devices can share a vector and one driver can serve several devices. The
 * arch trap code calls irq_dispatch for every vector >= 32.
 */
#pragma once

typedef void (*irq_fn)(void *dev);

/* Calls fn(dev) for interrupts on vector (32..255) from now on, after the
 * handlers registered before. Boot time. Returns 0, -EINVAL (vector out
 * of range: an exception) or -ENOMEM (no slot left). */
int irq_register(unsigned vector, irq_fn fn, void *dev);
/* Runs the handlers of vector (trap context, interrupts off). Returns how
 * many ran: 0 is a stray interrupt. */
int irq_dispatch(unsigned vector);
