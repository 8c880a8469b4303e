/*
 * e1000 - Intel's 8254x/8257x gigabit Ethernet family with legacy
 * descriptors, as a netdev (kernel/netdev.h): the 82540EM ("e1000",
 * 8086:100e, QEMU's NIC on the pc machine) and the 82574L ("e1000e",
 * 8086:10d3, QEMU's NIC on q35). Which real parts the code is meant for,
 * and what differs on them, is written at the top of e1000.c.
 *
 * One receive and one transmit ring of 64 legacy descriptors with 2 KiB
 * buffers (palloc, through the direct map; never freed). Interrupts: MSI-X
 * on the 82574L (one vector for the receive, transmit and other causes,
 * routed through IVAR), else MSI when the function has the capability,
 * else polled (QEMU's 82540EM has no MSI). No checksum offload.
 *
 * A descriptor the device writes back with a length that does not fit, or
 * a frame spread over several buffers (longer than NETDEV_MAX_FRAME), is
 * dropped and logged once; nothing the device does can panic the kernel.
 */
#pragma once

#include "drivers/pci.h"

/* For kernel/main.c's table of PCI drivers. */
extern const struct pci_driver e1000_pci_driver;
