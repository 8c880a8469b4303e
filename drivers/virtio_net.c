/*
 * virtio-net over PCI (see virtio_net.h), after the virtio 1.x
 * specification (OASIS virtio v1.2: 2.7 split virtqueues, 4.1 the PCI
 * transport and its legacy interface, 5.1 the network device).
 *
 * A split virtqueue of size n is three areas the driver allocates: the
 * descriptor table (16 * n bytes), the available ring the driver writes
 * (flags, idx, ring[n], used_event) and the used ring the device writes
 * (flags, idx, ring[n] of {id, len}, avail_event). They are laid out as
 * the legacy interface demands (the used ring at the next 4 KiB boundary,
 * the whole run given to the device as one page frame number), which also
 * satisfies the modern interface's alignments, so both transports share
 * one layout.
 *
 * Descriptor i of a queue always points at buffer i (2 KiB each): the
 * receive queue has all its buffers posted at all times (each used one is
 * handed up and posted again), the transmit queue takes a free buffer per
 * frame and gets it back when the device returns it. Every frame is one
 * descriptor: the virtio-net header, then the Ethernet frame.
 *
 * Indices are free-running 16-bit counters, the ring slot is idx % n. The
 * device is trusted with nothing: a used index that moved more than n
 * since we last looked, an id that is not one of ours or not in flight,
 * or a length that does not fit, is a broken device; it is logged once
 * and the entry (or the device) is dropped.
 */
#include "drivers/virtio_net.h"

#include <stdint.h>

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/portio.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/irq.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "kernel/netdev.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/phys.h"

/* Device status bits (spec 2.1). */
#define STATUS_ACKNOWLEDGE 1u
#define STATUS_DRIVER	   2u
#define STATUS_DRIVER_OK   4u
#define STATUS_FEATURES_OK 8u
#define STATUS_FAILED	   128u

/* Feature bits. */
#define F_CSUM	     0
#define F_GUEST_CSUM 1
#define F_MAC	     5
#define F_STATUS     16
#define F_ANY_LAYOUT 27 /* legacy only: the header need not have its own descriptor */
#define F_VERSION_1  32

#define NET_S_LINK_UP 1u

/* Modern PCI capabilities (spec 4.1.4): cfg_type, bar, offset, length. */
#define CAP_CFG_TYPE	3
#define CAP_BAR		4
#define CAP_OFFSET	8
#define CAP_LENGTH	12
#define CAP_NOTIFY_MULT 16
#define CFG_COMMON	1
#define CFG_NOTIFY	2
#define CFG_ISR		3
#define CFG_DEVICE	4

/* struct virtio_pci_common_cfg (spec 4.1.4.3), byte offsets. */
#define COMMON_DFSELECT 0x00
#define COMMON_DF	0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF	0x0c
#define COMMON_MSIX	0x10
#define COMMON_NUMQ	0x12
#define COMMON_STATUS	0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE	0x18
#define COMMON_Q_MSIX	0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF	0x1e
#define COMMON_Q_DESC	0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30
#define COMMON_SIZE	0x38

/* The legacy interface in I/O BAR0 (spec 4.1.4.8). The device-specific
 * configuration follows at 20, or at 24 once MSI-X is on (the two vector
 * registers sit in between). */
#define LEGACY_HOST_FEATURES  0
#define LEGACY_GUEST_FEATURES 4
#define LEGACY_Q_PFN	      8
#define LEGACY_Q_SIZE	      12
#define LEGACY_Q_SELECT	      14
#define LEGACY_Q_NOTIFY	      16
#define LEGACY_STATUS	      18
#define LEGACY_MSIX_CONFIG    20
#define LEGACY_MSIX_QUEUE     22
#define LEGACY_DEVCFG	      20
#define LEGACY_DEVCFG_MSIX    24

#define NO_VECTOR 0xffffu

/* Split virtqueue (spec 2.7). */
#define DESC_F_WRITE	     2u
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY     1u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_used_elem {
	uint32_t id, len;
};

/* The net header (spec 5.1.6): 12 bytes with VERSION_1 (num_buffers
 * always there), 10 for the legacy interface without MRG_RXBUF. */
struct virtio_net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr");
#define HDR_F_NEEDS_CSUM 1u
#define HDR_F_DATA_VALID 2u

#define RX_QUEUE   0
#define TX_QUEUE   1
#define QUEUE_MAX  256 /* entries we ask for (modern); legacy takes the device's */
#define NBUFS	   64  /* buffers per queue */
#define BUF_SIZE   2048
#define RING_ALIGN 4096

struct vq {
	unsigned index, size; /* queue number, entries */
	struct vring_desc *desc;
	volatile uint16_t *avail;    /* flags, idx, ring[size], used_event */
	volatile uint16_t *used_hdr; /* flags, idx */
	volatile struct vring_used_elem *used;
	paddr_t ring_pa;
	size_t ring_size; /* bytes */
	paddr_t desc_pa, avail_pa, used_pa;
	uint8_t *bufs; /* NBUFS * BUF_SIZE, direct map */
	paddr_t bufs_pa;
	uint16_t avail_idx, used_idx; /* next to publish, next to consume */
	uint8_t in_flight[NBUFS];     /* which buffers the device holds */
	uint16_t free_ids[NBUFS];     /* tx: buffers we hold */
	unsigned nfree, nbufs;	      /* held by us, in all */
	volatile uint16_t *notify;    /* modern: the queue's notify address */
};

struct vnet {
	struct netdev nd;
	struct pci_device *pci;
	int legacy;
	uint16_t io;			   /* legacy: BAR0's port base */
	volatile uint8_t *common, *devcfg; /* modern */
	volatile uint8_t *notify_base;
	uint32_t notify_mult, notify_len;
	unsigned legacy_devcfg; /* legacy: offset of the device configuration */
	uint64_t features;	/* negotiated */
	unsigned hdr_len;
	int broken;
	int warned;
	struct vq rx, tx;
	uint64_t interrupts;
};

/* ---------------------------------------------------------------- helpers */

static void warn_once(struct vnet *v, const char *what, unsigned long a, unsigned long b)
{
	if (v->warned)
		return;
	v->warned = 1;
	kprintf("solo: eth%u: virtio-net: %s (%lu, %lu); dropped (reported once)\n", v->nd.index,
		what, a, b);
}

static void mark_broken(struct vnet *v, const char *why, unsigned long a, unsigned long b)
{
	warn_once(v, why, a, b);
	if (!v->broken)
		kprintf("solo: eth%u: virtio-net: device stopped: it is not trusted any more\n",
			v->nd.index);
	v->broken = 1;
	v->nd.link_up = 0;
}

/* Spins up to ms milliseconds of TSC time for cond. */
#define WAIT_MS(cond, ms)                                                                          \
	({                                                                                         \
		uint64_t start_ = rdtsc(), limit_ = tsc_hz() / 1000 * (ms);                        \
		int ok_;                                                                           \
		while (!(ok_ = !!(cond)) && rdtsc() - start_ < limit_)                             \
			__builtin_ia32_pause();                                                    \
		ok_;                                                                               \
	})

/* ---------------------------------------------------------------- transport */

static uint8_t common_read8(struct vnet *v, unsigned off)
{
	return v->common[off];
}

static uint16_t common_read16(struct vnet *v, unsigned off)
{
	return *(volatile uint16_t *)(v->common + off);
}

static uint32_t common_read32(struct vnet *v, unsigned off)
{
	return *(volatile uint32_t *)(v->common + off);
}

static void common_write8(struct vnet *v, unsigned off, uint8_t x)
{
	v->common[off] = x;
}

static void common_write16(struct vnet *v, unsigned off, uint16_t x)
{
	*(volatile uint16_t *)(v->common + off) = x;
}

static void common_write32(struct vnet *v, unsigned off, uint32_t x)
{
	*(volatile uint32_t *)(v->common + off) = x;
}

static void common_write64(struct vnet *v, unsigned off, uint64_t x)
{
	/* Two 32-bit writes, low first: the spec allows the driver that. */
	common_write32(v, off, (uint32_t)x);
	common_write32(v, off + 4, (uint32_t)(x >> 32));
}

static uint8_t get_status(struct vnet *v)
{
	return v->legacy ? inb(v->io + LEGACY_STATUS) : common_read8(v, COMMON_STATUS);
}

static void set_status(struct vnet *v, uint8_t s)
{
	if (v->legacy)
		outb(v->io + LEGACY_STATUS, s);
	else
		common_write8(v, COMMON_STATUS, s);
}

static uint64_t device_features(struct vnet *v)
{
	if (v->legacy)
		return inl(v->io + LEGACY_HOST_FEATURES);
	common_write32(v, COMMON_DFSELECT, 0);
	uint64_t low = common_read32(v, COMMON_DF);
	common_write32(v, COMMON_DFSELECT, 1);
	return low | (uint64_t)common_read32(v, COMMON_DF) << 32;
}

static void driver_features(struct vnet *v, uint64_t f)
{
	if (v->legacy) {
		outl(v->io + LEGACY_GUEST_FEATURES, (uint32_t)f);
		return;
	}
	common_write32(v, COMMON_GFSELECT, 0);
	common_write32(v, COMMON_GF, (uint32_t)f);
	common_write32(v, COMMON_GFSELECT, 1);
	common_write32(v, COMMON_GF, (uint32_t)(f >> 32));
}

static uint8_t devcfg_read8(struct vnet *v, unsigned off)
{
	return v->legacy ? inb(v->io + v->legacy_devcfg + off) : v->devcfg[off];
}

static uint16_t devcfg_read16(struct vnet *v, unsigned off)
{
	return v->legacy ? inw(v->io + v->legacy_devcfg + off)
			 : *(volatile uint16_t *)(v->devcfg + off);
}

static void notify(struct vnet *v, struct vq *q)
{
	/* The device reads the ring after the idx store; then, unless it asked
	 * not to be notified, it is told. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->used_hdr[0] & USED_F_NO_NOTIFY)
		return;
	if (v->legacy)
		outw(v->io + LEGACY_Q_NOTIFY, (uint16_t)q->index);
	else
		*q->notify = (uint16_t)q->index;
}

/* The modern capabilities: map the first common, notify, ISR and device
 * structure. Returns 0 when common, notify and device are all there. */
static int find_modern(struct vnet *v)
{
	struct pci_device *d = v->pci;

	for (unsigned cap = pci_find_capability(d, PCI_CAP_ID_VENDOR, 0); cap;
	     cap = pci_find_capability(d, PCI_CAP_ID_VENDOR, cap)) {
		uint8_t type = pci_read8(d, cap + CAP_CFG_TYPE);
		uint8_t bar = pci_read8(d, cap + CAP_BAR);
		uint32_t offset = pci_read32(d, cap + CAP_OFFSET);
		uint32_t length = pci_read32(d, cap + CAP_LENGTH);
		volatile uint8_t *p;

		if (bar >= PCI_MAX_BARS || !length)
			continue;
		if (type == CFG_COMMON && !v->common && length >= COMMON_SIZE) {
			v->common = pci_map_bar(d, bar, offset, COMMON_SIZE);
		} else if (type == CFG_NOTIFY && !v->notify_base) {
			p = pci_map_bar(d, bar, offset, length);
			if (p) {
				v->notify_mult = pci_read32(d, cap + CAP_NOTIFY_MULT);
				v->notify_base = p;
				v->notify_len = length;
			}
		} else if (type == CFG_DEVICE && !v->devcfg && length >= 8) {
			v->devcfg = pci_map_bar(d, bar, offset, 8);
		}
	}
	return v->common && v->notify_base && v->devcfg ? 0 : -ENODEV;
}

/* ---------------------------------------------------------------- queues */

static int queue_alloc(struct vnet *v, struct vq *q, unsigned index, unsigned size)
{
	size_t avail_bytes = 2 * (3 + size);
	size_t used_off = ALIGN_UP(16 * size + avail_bytes, RING_ALIGN);
	size_t total = used_off + 4 + 8 * size + 2;
	uint8_t *ring;

	(void)v;
	q->index = index;
	q->size = size;
	q->ring_size = total;
	ring = pci_dma_alloc(total, &q->ring_pa);
	if (!ring)
		return -ENOMEM;
	q->desc = (struct vring_desc *)ring;
	q->avail = (volatile uint16_t *)(ring + 16 * size);
	q->used_hdr = (volatile uint16_t *)(ring + used_off);
	q->used = (volatile struct vring_used_elem *)(ring + used_off + 4);
	q->desc_pa = q->ring_pa;
	q->avail_pa = q->ring_pa + 16 * size;
	q->used_pa = q->ring_pa + used_off;
	q->bufs = pci_dma_alloc(NBUFS * BUF_SIZE, &q->bufs_pa);
	if (!q->bufs) {
		pfree(q->ring_pa, ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < NBUFS && i < size; i++) {
		q->desc[i] =
		    (struct vring_desc){.addr = q->bufs_pa + i * BUF_SIZE, .len = BUF_SIZE};
		q->free_ids[q->nfree++] = (uint16_t)i;
	}
	q->nbufs = q->nfree;
	return 0;
}

/* Hands buffer id to the device (not yet visible: publish). */
static void queue_put(struct vq *q, uint16_t id)
{
	q->avail[2 + q->avail_idx % q->size] = id;
	q->avail_idx++;
	q->in_flight[id] = 1;
}

static void queue_publish(struct vq *q)
{
	__atomic_store_n(&q->avail[1], q->avail_idx, __ATOMIC_RELEASE);
}

/*
 * The next used entry, or -1 when there is none. A used index more than
 * size ahead breaks the device (-2); an id out of range or not in flight
 * is skipped (logged once).
 */
static int queue_get(struct vnet *v, struct vq *q, uint32_t *len)
{
	for (;;) {
		uint16_t used = __atomic_load_n(&q->used_hdr[1], __ATOMIC_ACQUIRE);
		uint16_t pending = (uint16_t)(used - q->used_idx);

		if (!pending)
			return -1;
		if (pending > q->size) {
			mark_broken(v, "used index ran ahead", used, q->used_idx);
			return -2;
		}
		struct vring_used_elem e = q->used[q->used_idx % q->size];
		q->used_idx++;
		if (e.id >= NBUFS || e.id >= q->size || !q->in_flight[e.id]) {
			warn_once(v, "used id not in flight", e.id, q->index);
			continue;
		}
		q->in_flight[e.id] = 0;
		*len = e.len;
		return (int)e.id;
	}
}

static int queue_setup(struct vnet *v, struct vq *q, unsigned index, uint16_t vector)
{
	unsigned size;
	int err;

	if (v->legacy) {
		outw(v->io + LEGACY_Q_SELECT, (uint16_t)index);
		size = inw(v->io + LEGACY_Q_SIZE);
		/* Legacy queues have the device's size, a power of two. */
		if (!size || size > 32768 || (size & (size - 1)))
			return -ENODEV;
		if ((err = queue_alloc(v, q, index, size)))
			return err;
		outl(v->io + LEGACY_Q_PFN, (uint32_t)(q->ring_pa >> 12));
		if (vector != NO_VECTOR) {
			outw(v->io + LEGACY_MSIX_QUEUE, vector);
			if (inw(v->io + LEGACY_MSIX_QUEUE) != vector)
				return -EIO;
		}
		return 0;
	}
	common_write16(v, COMMON_Q_SELECT, (uint16_t)index);
	size = common_read16(v, COMMON_Q_SIZE);
	if (!size)
		return -ENODEV;
	if (size > QUEUE_MAX)
		size = QUEUE_MAX;
	if ((err = queue_alloc(v, q, index, size)))
		return err;
	common_write16(v, COMMON_Q_SIZE, (uint16_t)size);
	if (vector != NO_VECTOR) {
		common_write16(v, COMMON_Q_MSIX, vector);
		if (common_read16(v, COMMON_Q_MSIX) != vector)
			return -EIO;
	}
	common_write64(v, COMMON_Q_DESC, q->desc_pa);
	common_write64(v, COMMON_Q_DRIVER, q->avail_pa);
	common_write64(v, COMMON_Q_DEVICE, q->used_pa);
	uint64_t noff = (uint64_t)common_read16(v, COMMON_Q_NOFF) * v->notify_mult;
	if (noff + 2 > v->notify_len)
		return -EIO;
	q->notify = (volatile uint16_t *)(v->notify_base + noff);
	common_write16(v, COMMON_Q_ENABLE, 1);
	return 0;
}

/* ---------------------------------------------------------------- netdev operations */

static void refresh_link(struct vnet *v)
{
	if (v->broken)
		v->nd.link_up = 0;
	else if (v->features & (1ull << F_STATUS))
		v->nd.link_up = !!(devcfg_read16(v, 6) & NET_S_LINK_UP);
	else
		v->nd.link_up = 1;
}

static int vnet_send(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
		     const struct netdev_csum *csum)
{
	struct vnet *v = nd->priv;
	struct vq *q = &v->tx;
	size_t len = 0;
	uint32_t used_len;
	int id;

	if (v->broken)
		return -EIO;
	for (unsigned i = 0; i < nsegs; i++)
		len += segs[i].len;
	if (len > NETDEV_MAX_FRAME || len == 0)
		return -EIO; /* a caller bug, but never a device write past a buffer */
	/* Reclaim what the device has finished with first. */
	while ((id = queue_get(v, q, &used_len)) >= 0)
		q->free_ids[q->nfree++] = (uint16_t)id;
	if (v->broken)
		return -EIO;
	if (!q->nfree)
		return -EAGAIN;

	uint16_t slot = q->free_ids[--q->nfree];
	uint8_t *buf = q->bufs + (size_t)slot * BUF_SIZE;
	struct virtio_net_hdr hdr = {0};
	if (csum && (v->nd.features & NETDEV_F_TX_CSUM) &&
	    (size_t)csum->start + csum->offset + 2 <= len) {
		hdr.flags = HDR_F_NEEDS_CSUM;
		hdr.csum_start = csum->start;
		hdr.csum_offset = csum->offset;
	}
	memcpy(buf, &hdr, v->hdr_len);
	size_t at = v->hdr_len;
	for (unsigned i = 0; i < nsegs; i++) {
		memcpy(buf + at, segs[i].data, segs[i].len);
		at += segs[i].len;
	}
	q->desc[slot].len = (uint32_t)at;
	q->desc[slot].flags = 0;
	queue_put(q, slot);
	queue_publish(q);
	notify(v, q);
	return 0;
}

static int vnet_poll(struct netdev *nd, int budget)
{
	struct vnet *v = nd->priv;
	struct vq *q = &v->rx;
	int handed = 0, reposted = 0;
	uint32_t len;
	int id;

	refresh_link(v);
	if (v->broken)
		return 0;
	while ((id = queue_get(v, &v->tx, &len)) >= 0)
		v->tx.free_ids[v->tx.nfree++] = (uint16_t)id;
	for (;;) {
		while (handed < budget && (id = queue_get(v, q, &len)) >= 0) {
			uint8_t *buf = q->bufs + (size_t)id * BUF_SIZE;
			if (len < v->hdr_len + 14 || len > BUF_SIZE ||
			    len - v->hdr_len > NETDEV_MAX_FRAME) {
				warn_once(v, "bad receive length", len, id);
			} else if (nd->rx) {
				struct virtio_net_hdr hdr;
				unsigned flags = 0;
				memcpy(&hdr, buf, sizeof(hdr));
				/* NEEDS_CSUM: a partial checksum from a local peer,
				 * whose data is as good as verified. */
				if ((v->features & (1ull << F_GUEST_CSUM)) &&
				    (hdr.flags & (HDR_F_DATA_VALID | HDR_F_NEEDS_CSUM)))
					flags |= NETDEV_RX_CSUM_OK;
				nd->rx(nd, buf + v->hdr_len, len - v->hdr_len, flags);
			}
			handed++;
			q->desc[id].len = BUF_SIZE;
			q->desc[id].flags = DESC_F_WRITE;
			queue_put(q, (uint16_t)id);
			reposted++;
		}
		if (v->broken)
			return handed;
		if (handed == budget)
			break;
		/* Drained: interrupts back on, then look once more for a frame
		 * that came in before the device saw the flag. */
		q->avail[0] = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&q->used_hdr[1], __ATOMIC_ACQUIRE) == q->used_idx)
			break;
	}
	if (reposted) {
		queue_publish(q);
		notify(v, q);
	}
	return handed;
}

static unsigned vnet_tx_pending(struct netdev *nd)
{
	struct vnet *v = nd->priv;
	uint32_t len;
	int id;

	while ((id = queue_get(v, &v->tx, &len)) >= 0)
		v->tx.free_ids[v->tx.nfree++] = (uint16_t)id;
	return v->broken ? 0 : v->tx.nbufs - v->tx.nfree;
}

static const struct netdev_ops vnet_ops = {
    .send = vnet_send, .poll = vnet_poll, .tx_pending = vnet_tx_pending};

/* Queue interrupts: the stack polls; the receive ring stays quiet till then. */
static void vnet_queue_interrupt(void *dev)
{
	struct vnet *v = dev;

	v->interrupts++;
	v->rx.avail[0] = AVAIL_F_NO_INTERRUPT;
	netdev_notify(&v->nd);
}

/* Configuration changes (the link): the poll refreshes link_up. */
static void vnet_config_interrupt(void *dev)
{
	struct vnet *v = dev;

	v->interrupts++;
	netdev_notify(&v->nd);
}

/* ---------------------------------------------------------------- probe */

/* MSI-X with a configuration vector and a queue vector (or one for both);
 * returns the two, or NO_VECTOR for polling. */
static void setup_interrupts(struct vnet *v, uint16_t *config_vec, uint16_t *queue_vec)
{
	unsigned entries = pci_msix_count(v->pci);
	unsigned vectors[2];
	int a, b = -1;

	*config_vec = *queue_vec = NO_VECTOR;
	if (!entries || (a = irq_alloc_vector()) < 0)
		return;
	if (entries >= 2)
		b = irq_alloc_vector();
	vectors[0] = (unsigned)a;
	vectors[1] = b >= 0 ? (unsigned)b : (unsigned)a;
	if (pci_msix_enable(v->pci, b >= 0 ? 2 : 1, vectors))
		return;
	irq_register(vectors[0], vnet_config_interrupt, v);
	irq_register(vectors[1], vnet_queue_interrupt, v);
	*config_vec = 0;
	*queue_vec = b >= 0 ? 1 : 0;
}

static int vnet_init(struct vnet *v)
{
	uint16_t config_vec, queue_vec;
	uint64_t offered, wanted;
	int err;

	set_status(v, 0);
	if (!WAIT_MS(get_status(v) == 0, 100))
		return -EIO;
	set_status(v, STATUS_ACKNOWLEDGE);
	set_status(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	offered = device_features(v);
	wanted = (1ull << F_MAC) | (1ull << F_STATUS) | (1ull << F_CSUM) | (1ull << F_GUEST_CSUM);
	wanted |= v->legacy ? 1ull << F_ANY_LAYOUT : 1ull << F_VERSION_1;
	if (!v->legacy && !(offered & (1ull << F_VERSION_1)))
		return -ENODEV;
	v->features = offered & wanted;
	driver_features(v, v->features);
	if (!v->legacy) {
		set_status(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
		if (!(get_status(v) & STATUS_FEATURES_OK))
			return -ENODEV;
	}
	v->hdr_len = v->legacy ? 10 : 12;

	setup_interrupts(v, &config_vec, &queue_vec);
	if (v->legacy) {
		v->legacy_devcfg = config_vec != NO_VECTOR ? LEGACY_DEVCFG_MSIX : LEGACY_DEVCFG;
		if (config_vec != NO_VECTOR) {
			outw(v->io + LEGACY_MSIX_CONFIG, config_vec);
			if (inw(v->io + LEGACY_MSIX_CONFIG) != config_vec)
				return -EIO;
		}
	} else if (config_vec != NO_VECTOR) {
		common_write16(v, COMMON_MSIX, config_vec);
		if (common_read16(v, COMMON_MSIX) != config_vec)
			return -EIO;
	}
	if ((err = queue_setup(v, &v->rx, RX_QUEUE, queue_vec)) ||
	    (err = queue_setup(v, &v->tx, TX_QUEUE, queue_vec)))
		return err;
	/* Every receive buffer to the device, before it may use the queue. */
	for (unsigned i = 0; i < NBUFS && i < v->rx.size; i++) {
		v->rx.desc[i].flags = DESC_F_WRITE;
		queue_put(&v->rx, (uint16_t)i);
	}
	v->rx.nfree = 0;
	queue_publish(&v->rx);

	if (v->features & (1ull << F_MAC)) {
		for (unsigned i = 0; i < NETDEV_ETH_ALEN; i++)
			v->nd.mac[i] = devcfg_read8(v, i);
	} else {
		/* A locally administered address of our own. */
		uint64_t t = rdtsc();
		uint8_t mac[NETDEV_ETH_ALEN] = {
		    0x02,      0x00, (uint8_t)(t >> 24), (uint8_t)(t >> 16), (uint8_t)(t >> 8),
		    (uint8_t)t};
		memcpy(v->nd.mac, mac, sizeof(mac));
	}
	v->nd.irq_mode = queue_vec != NO_VECTOR ? "msi-x" : "polled";
	if (v->features & (1ull << F_CSUM))
		v->nd.features |= NETDEV_F_TX_CSUM;
	if (v->features & (1ull << F_GUEST_CSUM))
		v->nd.features |= NETDEV_F_RX_CSUM;
	set_status(v, get_status(v) | STATUS_DRIVER_OK);
	notify(v, &v->rx);
	refresh_link(v);
	return 0;
}

static int vnet_probe(struct pci_device *dev, const struct pci_id *id)
{
	struct vnet *v = zmalloc(sizeof(*v));
	int err;

	(void)id;
	if (!v)
		return -ENOMEM;
	v->pci = dev;
	if (find_modern(v)) {
		/* A transitional device with modern=off: the I/O interface. */
		if (dev->device != 0x1000 || !(dev->bars[0].flags & PCI_BAR_IO) ||
		    dev->bars[0].size < LEGACY_DEVCFG_MSIX + 8) {
			kfree(v);
			return -ENODEV;
		}
		v->legacy = 1;
		v->io = (uint16_t)dev->bars[0].base;
	}
	v->nd.model = v->legacy ? "virtio-net legacy" : "virtio-net";
	v->nd.mtu = 1500;
	v->nd.ops = &vnet_ops;
	v->nd.priv = v;
	err = vnet_init(v);
	if (err) {
		/* The rings, if any, stay: the device may still point at them. */
		set_status(v, STATUS_FAILED);
		return err;
	}
	err = netdev_register(&v->nd);
	if (err) {
		set_status(v, 0);
		return err;
	}
	kdebug("solo: eth%u: %s %02x:%02x:%02x:%02x:%02x:%02x, link %s, %s%s%s\n", v->nd.index,
	       v->nd.model, v->nd.mac[0], v->nd.mac[1], v->nd.mac[2], v->nd.mac[3], v->nd.mac[4],
	       v->nd.mac[5], v->nd.link_up ? "up" : "down", v->nd.irq_mode,
	       (v->nd.features & NETDEV_F_TX_CSUM) ? ", tx-csum" : "",
	       (v->nd.features & NETDEV_F_RX_CSUM) ? ", rx-csum" : "");
	return 0;
}

static const struct pci_id vnet_ids[] = {
    {0x1af4, 0x1000, "virtio-net", 0}, /* transitional */
    {0x1af4, 0x1041, "virtio-net", 0}, /* modern only */
    {0, 0, NULL, 0},
};

const struct pci_driver virtio_net_pci_driver = {
    .name = "virtio-net", .ids = vnet_ids, .probe = vnet_probe};
