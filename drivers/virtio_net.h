/*
 * virtio_net - the virtio network device over PCI (1af4:1000 transitional,
 * 1af4:1041 modern), as a netdev (kernel/netdev.h).
 *
 * Both transports: virtio 1.x through the vendor capabilities (common,
 * notify, ISR and device configuration structures in memory BARs, with
 * VIRTIO_F_VERSION_1), and the legacy I/O-port interface in BAR0 of a
 * transitional device that offers no modern capabilities (QEMU's
 * disable-modern=on). One receive and one transmit split virtqueue;
 * MSI-X (a configuration vector and one for both queues, or one shared)
 * when the device has it, otherwise polled. Features taken when offered:
 * MAC, STATUS (link state), CSUM (-> NETDEV_F_TX_CSUM), GUEST_CSUM
 * (-> NETDEV_F_RX_CSUM); no merged receive buffers, no segmentation
 * offload, no control queue.
 *
 * Memory: per device one run of pages per ring (palloc) and one per
 * queue's buffers (64 buffers of 2 KiB), reached through the direct map;
 * never freed (devices are not removed). A device that misbehaves (a
 * descriptor id or length out of range, a used index that runs ahead) has
 * the entry dropped and is logged once; a used index that jumps past the
 * ring marks the device broken: send returns -EIO and poll does nothing.
 */
#pragma once

#include "drivers/pci.h"

/* For kernel/main.c's table of PCI drivers. */
extern const struct pci_driver virtio_net_pci_driver;
