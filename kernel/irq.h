/*
 * irq - interrupt handlers by vector, each with its device pointer, so two
 * devices can share a vector and one driver can serve several devices. The
 * arch trap code calls irq_dispatch for every vector >= 32.
 *
 * Vectors for devices (MSI and MSI-X messages) come from irq_alloc_vector,
 * out of IRQ_DEVICE_FIRST..IRQ_DEVICE_LAST: above the exceptions and the
 * 8259s' old range, below the local APIC's own (the timer at 0xf0, the
 * spurious vector at 0xff, kernel/arch/x86_64/apic_timer.h). An interrupt
 * on an allocated vector is acknowledged at the interrupt controller (the
 * hook set with irq_set_eoi) after its handlers ran, so device handlers
 * only deal with their device. The CPU-local sources outside the range
 * acknowledge themselves, as before.
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

#define IRQ_DEVICE_FIRST 0x40
#define IRQ_DEVICE_LAST	 0xef

/* irq_alloc_vector - a vector no one uses yet, for a device's message
 * interrupt. Boot time. Returns it, or -ENOSPC when the range is used up.
 * Vectors are never given back (devices are not removed). */
int irq_alloc_vector(void);
/* Whether vector came from irq_alloc_vector (and so gets an EOI). */
int irq_vector_allocated(unsigned vector);
/* Sets the end-of-interrupt write for allocated vectors: the local APIC's,
 * set by its init. Until then (or without an APIC) there is none, and no
 * device should be sending message interrupts. */
void irq_set_eoi(void (*eoi)(void));
