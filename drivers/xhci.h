/*
 * xhci - USB 3 host controllers (xHCI 1.x, PCI class 0c0330) and just
 * enough USB on them for a keyboard: the root hub's ports, USB 2 hubs
 * behind them, and HID keyboards in boot protocol (drivers/hidkbd.h),
 * whose keys become console input (drivers/kbd.h) beside the serial port
 * and the PS/2 keyboard.
 *
 * At probe the driver takes the controller from the firmware (the USB
 * legacy support handoff, which also stops the firmware's emulation of a
 * PS/2 keyboard), resets it and enumerates what is plugged in. Everything
 * after that is polled, like the serial port: no interrupt is enabled, and
 * xhci_read_byte, which the console calls whenever it looks for input,
 * reads the event ring. A device plugged in or out (a root port's or a
 * hub's status change) is enumerated or forgotten there, and the Caps Lock
 * LED and key repeat are served there too.
 *
 * Enumeration waits for the device (port reset, control transfers, each
 * bounded: a device that stops answering costs at most a second, once);
 * it runs at boot and, after a hot-plug, inside the console's poll with
 * interrupts off. Other devices (a USB stick, a mouse) are addressed,
 * logged and left alone; the USB stick Solo booted from needs nothing
 * after the boot, since the loader read everything before ExitBootServices.
 *
 * Context: boot time (probe) and the console's poll; one CPU, interrupts
 * off. DMA memory comes from pci_dma_alloc and is reused for the next
 * device when one goes away.
 */
#pragma once

#include "drivers/pci.h"

extern const struct pci_driver xhci_pci_driver;

/* The number of controllers started (0: the console has no USB input). */
unsigned xhci_controllers(void);

/* The USB keyboards' layout ("us", "de"): 0, or -EINVAL (then "us"). */
int xhci_set_layout(const char *name);

/* The next byte typed on any USB keyboard, or -1. Polls every controller
 * first (see above). Never blocks, except while enumerating a device that
 * was just plugged in; interrupts off. */
int xhci_read_byte(void);
