/*
 * netdev - the network-device registry: the one small interface between
 * the NIC drivers (drivers/virtio_net.c, drivers/e1000.c) and the TCP/IP
 * stack (net/). Like the console and irq registries, it lets the stack
 * drive any NIC without naming a driver, and lets a driver be written
 * without knowing lwIP.
 *
 * Frames are Ethernet frames without the FCS. A driver copies what it is
 * given to send into its own DMA memory before send returns, and hands
 * received frames to the stack by calling nd->rx from its poll operation;
 * the frame is the driver's and only valid during that call (the stack
 * copies it). So no buffer changes owner across the interface.
 *
 * Contexts: a driver's interrupt handler (kernel/irq.h) only acknowledges
 * the device and calls netdev_notify(nd); everything else (poll, send,
 * rx) runs in kernel context outside interrupt handlers, from the stack's
 * single context. Nothing here blocks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define NETDEV_MAX	 8
#define NETDEV_ETH_ALEN	 6
#define NETDEV_MAX_FRAME 1514u /* MTU 1500 + the 14-byte Ethernet header */

/* netdev.features: what the device can do for the stack. */
#define NETDEV_F_TX_CSUM (1u << 0) /* completes a TCP/UDP checksum (struct netdev_csum) */
#define NETDEV_F_RX_CSUM (1u << 1) /* marks received frames whose checksums it verified */

/* rx flags */
#define NETDEV_RX_CSUM_OK (1u << 0) /* the device verified the TCP/UDP checksum */

/* One piece of a frame to send. */
struct netdev_seg {
	const void *data;
	size_t len;
};

/* Checksum offload for one frame (only with NETDEV_F_TX_CSUM): the device
 * sums the frame from byte start to the end and stores the 16-bit result
 * at start + offset; the stack has put the pseudo-header sum there. */
struct netdev_csum {
	uint16_t start, offset;
};

struct netdev;

struct netdev_ops {
	/* Queues one frame of nsegs pieces (total at most NETDEV_MAX_FRAME
	 * bytes), copied before the call returns; csum is NULL or the
	 * offload request. 0, -EAGAIN when the transmit ring is full (the
	 * stack drops or retries; the device later calls netdev_notify), or
	 * -EIO (the device is gone or broken). */
	int (*send)(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
		    const struct netdev_csum *csum);
	/* Hands up to budget received frames to nd->rx, reclaims finished
	 * transmit slots, refreshes nd->link_up, and re-enables the
	 * device's interrupt when it has drained its queue. Returns the
	 * frames handed up (budget means: call again). */
	int (*poll)(struct netdev *nd, int budget);
	/* Frames queued by send that the device has not finished with yet
	 * (reclaiming finished slots first); 0 for a broken device. The
	 * stack waits for 0 before the machine powers off, so what the app
	 * sent last is on the wire. */
	unsigned (*tx_pending)(struct netdev *nd);
};

struct netdev {
	/* Filled by the driver before netdev_register. */
	const char *model; /* "virtio-net", "e1000e 82574L", "e1000 82540EM" */
	uint8_t mac[NETDEV_ETH_ALEN];
	unsigned mtu;	      /* payload bytes: 1500 */
	unsigned features;    /* NETDEV_F_* */
	int link_up;	      /* kept current by poll */
	const char *irq_mode; /* "msi-x", "msi", "intx" or "polled": for the boot log */
	const struct netdev_ops *ops;
	void *priv; /* the driver's */

	/* Filled by the stack (net/). rx gets one frame of len bytes;
	 * flags are NETDEV_RX_*. */
	void (*rx)(struct netdev *nd, const void *frame, size_t len, unsigned flags);
	void *stack;	/* the stack's per-device state */
	unsigned index; /* 0, 1, ...: the registration order */
};

/* Adds nd (which stays the driver's). Boot time. 0, or -ENOSPC after
 * NETDEV_MAX devices. */
int netdev_register(struct netdev *nd);
unsigned netdev_count(void);
/* The index-th registered device, or NULL. */
struct netdev *netdev_get(unsigned index);

/*
 * netdev_notify - the device has work for its poll operation (frames
 * arrived, transmit slots freed, the link changed). Callable from
 * interrupt handlers: it only calls the hook the stack set with
 * netdev_set_notify (which defers the work out of interrupt context), and
 * does nothing while no stack is attached.
 */
void netdev_notify(struct netdev *nd);
void netdev_set_notify(void (*hook)(struct netdev *nd));
