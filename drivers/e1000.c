/*
 * Intel gigabit Ethernet with legacy descriptors (see e1000.h).
 *
 * What it is meant to cover, and what it was tried on. Tried only on
 * QEMU's models: e1000 (82540EM) and e1000e (82574L). The register set,
 * the legacy descriptor formats and the reset/receive/transmit sequence
 * used here are common to the whole 8254x (82540/82541/82545/82546/82547)
 * and 8257x (82571/82572/82573/82574/82583) families and carry over to
 * the "PCH LAN" parts of Intel chipsets (82577/82578/82579, I217, I218,
 * I219, the e1000e family in Linux). Those would need, at least:
 *  - their device IDs added to the table below (82571EB 105e/105f/1060,
 *    82572EI 107d-107f/10b9, 82573 108b/108c/109a, 82583V 150c, I217
 *    153a/153b, I218 155a/1559/15a0-15a3, I219 156f/1570/15b7-15be/15d6-
 *    15d8/15e3/0d4c-0d55/...; the I219's list grows with every chipset);
 *  - PHY access through the PCH (the PHY sits behind the chipset, reached
 *    over MDIO with a semaphore shared with the Management Engine: EXTCNF_
 *    CTRL.SWFLAG / the ME's FWSM), and the PHY workarounds per stepping;
 *  - ULP (Ultra Low Power) mode on I219: the PHY may be asleep after boot
 *    and must be taken out of ULP before link comes up;
 *  - the ME owning the MAC at times (manageability, AMT): resets must be
 *    coordinated with it (MANC, FWSM), and the MAC address may come from
 *    the NVM in the SPI flash (through the flash BAR), not from EERD;
 *  - the 82571/82572 dual-port and the 82573 need their own NVM access
 *    (EEPROM vs. flash, EERD's layout differs between the 8254x and the
 *    8257x: done bit 4 and address at bit 8, vs. done bit 1 and address at
 *    bit 2, handled here), and the PCIe parts want GCR bit 22 set.
 * None of that is done: on real hardware expect the 8257x parts to have a
 * chance, and the PCH parts to need the list above first.
 *
 * Receive: all descriptors but one are the device's; it fills them from
 * RDH, we take them in order at rx_next while DD is set, hand the frame
 * up, clear the status and give the slot back by moving RDT. Transmit:
 * slots from tx_clean (oldest not yet known done) to tx_tail (next free);
 * a slot is done when the device has written DD back (RS asked for it).
 */
#include "drivers/e1000.h"

#include <stdint.h>

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/irq.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "kernel/netdev.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/phys.h"

/* Registers (byte offsets in BAR0). */
#define REG_CTRL     0x0000
#define REG_STATUS   0x0008
#define REG_EERD     0x0014
#define REG_CTRL_EXT 0x0018
#define REG_ICR	     0x00c0
#define REG_IMS	     0x00d0
#define REG_IMC	     0x00d8
#define REG_IVAR     0x00e4 /* 82574L */
#define REG_RCTL     0x0100
#define REG_TCTL     0x0400
#define REG_TIPG     0x0410
#define REG_RDBAL    0x2800
#define REG_RDBAH    0x2804
#define REG_RDLEN    0x2808
#define REG_RDH	     0x2810
#define REG_RDT	     0x2818
#define REG_TDBAL    0x3800
#define REG_TDBAH    0x3804
#define REG_TDLEN    0x3808
#define REG_TDH	     0x3810
#define REG_TDT	     0x3818
#define REG_MTA	     0x5200
#define REG_RAL0     0x5400
#define REG_RAH0     0x5404
#define REG_GCR	     0x5b00 /* 82574L */

#define CTRL_LRST    (1u << 3)
#define CTRL_ASDE    (1u << 5)
#define CTRL_SLU     (1u << 6)
#define CTRL_ILOS    (1u << 7)
#define CTRL_RST     (1u << 26)
#define CTRL_VME     (1u << 30)
#define CTRL_PHY_RST (1u << 31)
#define STATUS_LU    (1u << 1)
#define RAH_AV	     (1u << 31)
#define GCR_BIT22    (1u << 22)

#define RCTL_EN	       (1u << 1)
#define RCTL_BAM       (1u << 15)
#define RCTL_SECRC     (1u << 26)
#define RCTL_BSIZE2048 0u
#define TCTL_EN	       (1u << 1)
#define TCTL_PSP       (1u << 3)
#define TCTL_CT	       (0x0fu << 4)
#define TCTL_COLD      (0x40u << 12)
#define TIPG_COPPER    0x0060200au /* IPGT 10, IPGR1 8, IPGR2 6 */

/* Interrupt causes (ICR/IMS). */
#define INT_TXDW   (1u << 0)
#define INT_LSC	   (1u << 2)
#define INT_RXDMT0 (1u << 4)
#define INT_RXO	   (1u << 6)
#define INT_RXT0   (1u << 7)
#define INT_RXQ0   (1u << 20) /* 82574L MSI-X causes */
#define INT_TXQ0   (1u << 22)
#define INT_OTHER  (1u << 24)
#define INT_NORMAL (INT_TXDW | INT_LSC | INT_RXDMT0 | INT_RXO | INT_RXT0)
#define INT_MSIX   (INT_RXQ0 | INT_TXQ0 | INT_OTHER)

/* IVAR (82574L): 3-bit vector + valid bit per cause: RxQ0 at 0, TxQ0 at 8,
 * other at 16. Every cause to MSI-X entry 0. */
#define IVAR_VALID    8u
#define IVAR_ALL_TO_0 (IVAR_VALID | IVAR_VALID << 8 | IVAR_VALID << 16)

/* Legacy descriptors. */
struct rx_desc {
	uint64_t addr;
	uint16_t length, checksum;
	uint8_t status, errors;
	uint16_t special;
};
struct tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso, cmd, status, css;
	uint16_t special;
};
_Static_assert(sizeof(struct rx_desc) == 16 && sizeof(struct tx_desc) == 16, "descriptors");

#define RXD_DD	    (1u << 0)
#define RXD_EOP	    (1u << 1)
#define RXD_ERRMASK 0xd7u /* CE SE SEQ CXE RXE: the frame is bad (not the checksum bits) */
#define TXD_EOP	    (1u << 0)
#define TXD_IFCS    (1u << 1)
#define TXD_RS	    (1u << 3)
#define TXD_DD	    (1u << 0)

#define NDESC	 64 /* per ring: 1 KiB of descriptors, a multiple of 128 bytes */
#define BUF_SIZE 2048

enum e1000_kind { KIND_82540EM, KIND_82574L };

struct e1000 {
	struct netdev nd;
	struct pci_device *pci;
	enum e1000_kind kind;
	volatile uint8_t *regs;
	struct rx_desc *rx;
	struct tx_desc *tx;
	paddr_t rx_pa, tx_pa, rxbuf_pa, txbuf_pa;
	uint8_t *rxbuf, *txbuf;
	unsigned rx_next;	    /* next descriptor to look at */
	unsigned tx_clean, tx_tail; /* oldest in flight, next free */
	int rx_discarding;	    /* inside a multi-buffer frame */
	int warned;
	uint32_t ims; /* the causes we enable */
	uint64_t interrupts;
};

static uint32_t rd(struct e1000 *e, unsigned reg)
{
	return *(volatile uint32_t *)(e->regs + reg);
}

static void wr(struct e1000 *e, unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(e->regs + reg) = v;
}

static void warn_once(struct e1000 *e, const char *what, unsigned long a)
{
	if (e->warned)
		return;
	e->warned = 1;
	kprintf("solo: eth%u: %s: %s (%lu); dropped (reported once)\n", e->nd.index, e->nd.model,
		what, a);
}

static void delay_us(uint64_t us)
{
	uint64_t start = rdtsc(), ticks = tsc_hz() / 1000000 * us;

	while (rdtsc() - start < ticks)
		__builtin_ia32_pause();
}

/* One 16-bit EEPROM word through EERD; -1 when the read does not finish. */
static int eeprom_read(struct e1000 *e, unsigned word)
{
	unsigned done = e->kind == KIND_82574L ? 1u << 1 : 1u << 4;
	unsigned shift = e->kind == KIND_82574L ? 2 : 8;

	wr(e, REG_EERD, (word << shift) | 1u);
	for (int i = 0; i < 10000; i++) {
		uint32_t v = rd(e, REG_EERD);
		if (v & done)
			return (int)(v >> 16);
		delay_us(1);
	}
	return -1;
}

static int read_mac(struct e1000 *e)
{
	uint32_t ral = rd(e, REG_RAL0), rah = rd(e, REG_RAH0);

	if ((rah & RAH_AV) && (ral || (rah & 0xffff))) {
		for (int i = 0; i < 4; i++)
			e->nd.mac[i] = (uint8_t)(ral >> (8 * i));
		e->nd.mac[4] = (uint8_t)rah;
		e->nd.mac[5] = (uint8_t)(rah >> 8);
		return 0;
	}
	/* The reset did not load the receive address: read the EEPROM. */
	for (unsigned w = 0; w < 3; w++) {
		int v = eeprom_read(e, w);
		if (v < 0)
			return -EIO;
		e->nd.mac[2 * w] = (uint8_t)v;
		e->nd.mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	wr(e, REG_RAL0,
	   (uint32_t)e->nd.mac[0] | (uint32_t)e->nd.mac[1] << 8 | (uint32_t)e->nd.mac[2] << 16 |
	       (uint32_t)e->nd.mac[3] << 24);
	wr(e, REG_RAH0, (uint32_t)e->nd.mac[4] | (uint32_t)e->nd.mac[5] << 8 | RAH_AV);
	return 0;
}

static void refresh_link(struct e1000 *e)
{
	e->nd.link_up = !!(rd(e, REG_STATUS) & STATUS_LU);
}

/* ---------------------------------------------------------------- netdev operations */

static void tx_reclaim(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & TXD_DD)) {
		e->tx[e->tx_clean].status = 0;
		e->tx_clean = (e->tx_clean + 1) % NDESC;
	}
}

static int e1000_send(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
		      const struct netdev_csum *csum)
{
	struct e1000 *e = nd->priv;
	size_t len = 0;

	(void)csum; /* no NETDEV_F_TX_CSUM: the stack has summed it */
	for (unsigned i = 0; i < nsegs; i++)
		len += segs[i].len;
	if (len == 0 || len > NETDEV_MAX_FRAME)
		return -EIO;
	tx_reclaim(e);
	unsigned next = (e->tx_tail + 1) % NDESC;
	if (next == e->tx_clean)
		return -EAGAIN;

	unsigned slot = e->tx_tail;
	uint8_t *buf = e->txbuf + (size_t)slot * BUF_SIZE;
	size_t at = 0;
	for (unsigned i = 0; i < nsegs; i++) {
		memcpy(buf + at, segs[i].data, segs[i].len);
		at += segs[i].len;
	}
	e->tx[slot] = (struct tx_desc){.addr = e->txbuf_pa + (uint64_t)slot * BUF_SIZE,
				       .length = (uint16_t)len,
				       .cmd = TXD_EOP | TXD_IFCS | TXD_RS};
	e->tx_tail = next;
	/* The descriptor reaches memory before the tail moves (x86 keeps
	 * stores in order; this stops the compiler). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr(e, REG_TDT, next);
	return 0;
}

static int e1000_poll(struct netdev *nd, int budget)
{
	struct e1000 *e = nd->priv;
	int handed = 0;
	unsigned last = NDESC;

	wr(e, REG_ICR, rd(e, REG_ICR)); /* the causes are seen to */
	refresh_link(e);
	tx_reclaim(e);
	while (handed < budget) {
		struct rx_desc *d = &e->rx[e->rx_next];
		uint8_t status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);

		if (!(status & RXD_DD))
			break;
		unsigned len = d->length;
		if (!(status & RXD_EOP)) {
			/* More than a buffer: longer than any frame we take. */
			warn_once(e, "frame longer than a buffer", len);
			e->rx_discarding = 1;
		} else if (e->rx_discarding) {
			e->rx_discarding = 0; /* the last piece of a dropped frame */
		} else if (d->errors & RXD_ERRMASK) {
			/* A bad frame on the wire: not worth a log line. */
		} else if (len < 14 || len > NETDEV_MAX_FRAME) {
			warn_once(e, "bad receive length", len);
		} else if (nd->rx) {
			nd->rx(nd, e->rxbuf + (size_t)e->rx_next * BUF_SIZE, len, 0);
		}
		handed++;
		d->status = 0;
		d->length = 0;
		last = e->rx_next;
		e->rx_next = (e->rx_next + 1) % NDESC;
	}
	if (last != NDESC) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		wr(e, REG_RDT, last); /* slots up to last are the device's again */
	}
	if (handed < budget && e->ims)
		wr(e, REG_IMS, e->ims); /* drained: interrupts back on */
	return handed;
}

static unsigned e1000_tx_pending(struct netdev *nd)
{
	struct e1000 *e = nd->priv;

	tx_reclaim(e);
	return (e->tx_tail + NDESC - e->tx_clean) % NDESC;
}

static const struct netdev_ops e1000_ops = {
    .send = e1000_send, .poll = e1000_poll, .tx_pending = e1000_tx_pending};

/* Masks the device's interrupts until the stack has polled. */
static void e1000_interrupt(void *dev)
{
	struct e1000 *e = dev;

	e->interrupts++;
	wr(e, REG_IMC, 0xffffffffu);
	netdev_notify(&e->nd);
}

/* ---------------------------------------------------------------- probe */

static int reset(struct e1000 *e)
{
	wr(e, REG_IMC, 0xffffffffu);
	wr(e, REG_RCTL, 0);
	wr(e, REG_TCTL, TCTL_PSP);
	delay_us(10000); /* let pending DMA finish */
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_RST);
	delay_us(1000);
	for (int i = 0; i < 1000 && (rd(e, REG_CTRL) & CTRL_RST); i++)
		delay_us(100);
	if (rd(e, REG_CTRL) & CTRL_RST)
		return -EIO;
	wr(e, REG_IMC, 0xffffffffu);
	(void)rd(e, REG_ICR);
	return 0;
}

static const char *setup_interrupts(struct e1000 *e)
{
	int v = irq_alloc_vector();

	e->ims = 0;
	if (v < 0)
		return "polled";
	unsigned vector = (unsigned)v;
	if (e->kind == KIND_82574L && pci_msix_count(e->pci) &&
	    !pci_msix_enable(e->pci, 1, &vector)) {
		wr(e, REG_IVAR, IVAR_ALL_TO_0);
		e->ims = INT_NORMAL | INT_MSIX;
		irq_register(vector, e1000_interrupt, e);
		return "msi-x";
	}
	if (!pci_msi_enable(e->pci, vector)) {
		e->ims = INT_NORMAL;
		irq_register(vector, e1000_interrupt, e);
		return "msi";
	}
	return "polled"; /* the vector stays unused */
}

static int e1000_init(struct e1000 *e)
{
	int err = reset(e);

	if (err)
		return err;
	if (e->kind == KIND_82574L)
		wr(e, REG_GCR, rd(e, REG_GCR) | GCR_BIT22);
	uint32_t ctrl = rd(e, REG_CTRL);
	ctrl &= ~(CTRL_LRST | CTRL_ILOS | CTRL_VME | CTRL_PHY_RST);
	wr(e, REG_CTRL, ctrl | CTRL_SLU | CTRL_ASDE);
	if ((err = read_mac(e)))
		return err;
	for (unsigned i = 0; i < 128; i++)
		wr(e, REG_MTA + 4 * i, 0);

	e->rx = pci_dma_alloc(NDESC * sizeof(struct rx_desc), &e->rx_pa);
	e->tx = pci_dma_alloc(NDESC * sizeof(struct tx_desc), &e->tx_pa);
	e->rxbuf = pci_dma_alloc(NDESC * BUF_SIZE, &e->rxbuf_pa);
	e->txbuf = pci_dma_alloc(NDESC * BUF_SIZE, &e->txbuf_pa);
	if (!e->rx || !e->tx || !e->rxbuf || !e->txbuf)
		return -ENOMEM; /* what was taken stays: boot-time, tiny */
	for (unsigned i = 0; i < NDESC; i++)
		e->rx[i].addr = e->rxbuf_pa + (uint64_t)i * BUF_SIZE;

	wr(e, REG_RDBAL, (uint32_t)e->rx_pa);
	wr(e, REG_RDBAH, (uint32_t)(e->rx_pa >> 32));
	wr(e, REG_RDLEN, NDESC * sizeof(struct rx_desc));
	wr(e, REG_RDH, 0);
	wr(e, REG_RDT, NDESC - 1);
	wr(e, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC | RCTL_BSIZE2048);

	wr(e, REG_TDBAL, (uint32_t)e->tx_pa);
	wr(e, REG_TDBAH, (uint32_t)(e->tx_pa >> 32));
	wr(e, REG_TDLEN, NDESC * sizeof(struct tx_desc));
	wr(e, REG_TDH, 0);
	wr(e, REG_TDT, 0);
	wr(e, REG_TIPG, TIPG_COPPER);
	wr(e, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);

	e->nd.irq_mode = setup_interrupts(e);
	if (e->ims)
		wr(e, REG_IMS, e->ims);
	refresh_link(e);
	return 0;
}

static int e1000_probe(struct pci_device *dev, const struct pci_id *id)
{
	struct e1000 *e;
	int err;

	if (!dev->bars[0].size || (dev->bars[0].flags & PCI_BAR_IO))
		return -ENODEV;
	e = zmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->pci = dev;
	e->kind = id->device == 0x10d3 ? KIND_82574L : KIND_82540EM;
	e->regs = pci_map_bar(dev, 0, 0, MIN(dev->bars[0].size, 128u << 10));
	if (!e->regs) {
		kfree(e);
		return -ENOMEM;
	}
	e->nd.model = e->kind == KIND_82574L ? "e1000e 82574L" : "e1000 82540EM";
	e->nd.mtu = 1500;
	e->nd.ops = &e1000_ops;
	e->nd.priv = e;
	err = e1000_init(e);
	if (!err)
		err = netdev_register(&e->nd);
	if (err) {
		reset(e); /* no DMA into memory we may reuse */
		return err;
	}
	kdebug("solo: eth%u: %s %02x:%02x:%02x:%02x:%02x:%02x, link %s, %s\n", e->nd.index,
	       e->nd.model, e->nd.mac[0], e->nd.mac[1], e->nd.mac[2], e->nd.mac[3], e->nd.mac[4],
	       e->nd.mac[5], e->nd.link_up ? "up" : "down", e->nd.irq_mode);
	return 0;
}

static const struct pci_id e1000_ids[] = {
    {0x8086, 0x100e, "e1000", 0},  /* 82540EM */
    {0x8086, 0x10d3, "e1000e", 0}, /* 82574L */
    {0, 0, NULL, 0},
};

const struct pci_driver e1000_pci_driver = {
    .name = "e1000", .ids = e1000_ids, .probe = e1000_probe};
