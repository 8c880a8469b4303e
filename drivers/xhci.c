/*
 * xHCI host controllers and the USB above them (see xhci.h). Register and
 * structure names follow the xHCI specification (rev 1.2): section 5 for
 * the registers, 6 for the contexts and TRBs, 4.3 for device
 * initialisation; USB 2.0 chapters 9 and 11 for the standard and hub
 * requests, HID 1.11 for the class requests.
 *
 * Every ring is one page: a command ring and one transfer ring per
 * endpoint end in a Link TRB that toggles the cycle bit; the event ring is
 * one segment. Each device owns a fixed block of DMA memory (its contexts,
 * rings and buffers), allocated on first use and reused after an unplug.
 */
#include "drivers/xhci.h"

#include <stddef.h>
#include <stdint.h>

#include "drivers/hidkbd.h"
#include "drivers/kbd.h"
#include "drivers/usbdesc.h"
#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"

/* Capability registers. */
#define CAP_CAPLENGTH  0x00
#define CAP_HCSPARAMS1 0x04
#define CAP_HCSPARAMS2 0x08
#define CAP_HCCPARAMS1 0x10
#define CAP_DBOFF      0x14
#define CAP_RTSOFF     0x18

#define HCCPARAMS1_AC64 (1u << 0)
#define HCCPARAMS1_CSZ	(1u << 2)
#define HCCPARAMS1_PPC	(1u << 3)

/* Operational registers. */
#define OP_USBCMD   0x00
#define OP_USBSTS   0x04
#define OP_PAGESIZE 0x08
#define OP_CRCR	    0x18
#define OP_DCBAAP   0x30
#define OP_CONFIG   0x38
#define OP_PORTSC   0x400 /* + 0x10 * (port - 1) */

#define USBCMD_RUN	 (1u << 0)
#define USBCMD_RESET	 (1u << 1)
#define USBSTS_HALTED	 (1u << 0)
#define USBSTS_NOT_READY (1u << 11)

#define PORTSC_CCS	(1u << 0) /* connected */
#define PORTSC_PED	(1u << 1) /* enabled; writing 1 disables */
#define PORTSC_PR	(1u << 4) /* reset */
#define PORTSC_PP	(1u << 9) /* powered */
#define PORTSC_SPEED(v) (((v) >> 10) & 0xf)
#define PORTSC_CSC	(1u << 17)
#define PORTSC_PRC	(1u << 21)
#define PORTSC_WPR	(1u << 31)
#define PORTSC_CHANGES	(0x7fu << 17) /* CSC..CEC, write 1 to clear */
/* The bits a write must give back as read to leave them as they are
 * (link state, power, indicator, wake enables); the rest are read-only,
 * write-1-to-clear or write-1-to-act. */
#define PORTSC_PRESERVE ((0xfu << 5) | (1u << 9) | (3u << 14) | (7u << 25))

/* Interrupter 0's registers in the runtime space. */
#define RT_IR0	  0x20
#define IR_IMAN	  0x00
#define IR_ERSTSZ 0x08
#define IR_ERSTBA 0x10
#define IR_ERDP	  0x18
#define ERDP_BUSY (1u << 3)
#define IMAN_IP	  (1u << 0)

/* Extended capabilities. */
#define XCAP_LEGACY	   1
#define XCAP_PROTOCOL	   2
#define LEGACY_BIOS_OWNED  (1u << 16)
#define LEGACY_OS_OWNED	   (1u << 24)
#define LEGACY_SMI_ENABLES 0x0000e011u /* SMI on event, HSE, OS own, PCI cmd, BAR */
#define LEGACY_SMI_STATUS  0xe0000000u

/* TRBs. */
#define TRB_CYCLE	  (1u << 0)
#define TRB_TOGGLE	  (1u << 1) /* Link: toggle the cycle */
#define TRB_ISP		  (1u << 2)
#define TRB_CHAIN	  (1u << 4)
#define TRB_IOC		  (1u << 5)
#define TRB_IDT		  (1u << 6)
#define TRB_TYPE(t)	  ((uint32_t)(t) << 10)
#define TRB_TYPE_OF(c)	  (((c) >> 10) & 0x3f)
#define TRB_SLOT(s)	  ((uint32_t)(s) << 24)
#define TRB_EP(e)	  ((uint32_t)(e) << 16)
#define TRB_DIR_IN	  (1u << 16)
#define TRB_SETUP_IN	  (3u << 16) /* transfer type: IN data stage */
#define TRB_SETUP_OUT	  (2u << 16)
#define TRB_COMPLETION(s) ((s) >> 24)

enum {
	TRB_NORMAL = 1,
	TRB_SETUP = 2,
	TRB_DATA = 3,
	TRB_STATUS = 4,
	TRB_LINK = 6,
	TRB_ENABLE_SLOT = 9,
	TRB_DISABLE_SLOT = 10,
	TRB_ADDRESS_DEVICE = 11,
	TRB_CONFIGURE_EP = 12,
	TRB_EVALUATE_CONTEXT = 13,
	TRB_RESET_EP = 14,
	TRB_STOP_EP = 15,
	TRB_SET_DEQUEUE = 16,
	TRB_EV_TRANSFER = 32,
	TRB_EV_COMMAND = 33,
	TRB_EV_PORT = 34,
};

enum {
	CC_SUCCESS = 1,
	CC_SHORT_PACKET = 13,
};

/* Speeds, as PORTSC and the slot context give them (the default PSIs). */
enum { SPEED_FULL = 1, SPEED_LOW = 2, SPEED_HIGH = 3, SPEED_SUPER = 4 };

/* Endpoint context types. */
#define EP_CONTROL	4
#define EP_INTERRUPT_IN 7

/* USB requests. */
#define REQ_GET_STATUS	   0x00
#define REQ_CLEAR_FEATURE  0x01
#define REQ_SET_FEATURE	   0x03
#define REQ_GET_DESCRIPTOR 0x06
#define REQ_SET_CONFIG	   0x09
#define HID_SET_REPORT	   0x09
#define HID_SET_IDLE	   0x0a
#define HID_SET_PROTOCOL   0x0b
#define DESC_DEVICE	   0x01
#define DESC_CONFIG	   0x02
#define DESC_HUB	   0x29

#define HUB_PORT_CONNECTION    (1u << 0)
#define HUB_PORT_ENABLE	       (1u << 1)
#define HUB_PORT_LOW_SPEED     (1u << 9)
#define HUB_PORT_HIGH_SPEED    (1u << 10)
#define HUB_C_PORT_RESET       (1u << 4)
#define FEAT_PORT_RESET	       4
#define FEAT_PORT_POWER	       8
#define FEAT_C_PORT_CONNECTION 16 /* C_PORT_* features are 16 + the change bit */

#define RING_TRBS	(PAGE_SIZE / sizeof(struct trb)) /* the last is the Link */
#define INTR_TRBS	16 /* an interrupt ring: one report buffer per TRB */
#define EVENT_TRBS	128
#define MAX_CONTROLLERS 4
#define MAX_DEVICES	32
#define MAX_PORTS	255
#define MAX_HUB_PORTS	15 /* a route string nibble */
#define MAX_DEPTH	5
#define REPORTS_QUEUED	4 /* interrupt transfers kept in flight per device */
#define REPORT_BYTES	64
#define CONTROL_BYTES	512
#define COMMAND_NS	1000000000ull
#define TRANSFER_NS	1000000000ull
#define PORT_RESET_NS	500000000ull

struct trb {
	uint64_t param;
	uint32_t status;
	uint32_t control;
};

struct ring {
	volatile struct trb *trbs;
	uint64_t pa;
	unsigned size; /* TRBs, the Link included */
	unsigned enqueue;
	uint32_t cycle;
};

struct usb_device {
	int in_use;
	unsigned slot;
	unsigned speed;
	unsigned root_port; /* 1-based */
	uint32_t route;
	unsigned depth; /* hubs above it */
	struct usb_device *parent;
	unsigned parent_port;
	unsigned tt_slot, tt_port; /* the high-speed hub a low/full-speed device sits behind */
	char name[24];		   /* "3" or "3.2", for the log */
	struct usb_function fn;
	unsigned dci; /* the interrupt endpoint's context index; 0: none */
	unsigned hub_ports;
	struct usb_device *children[MAX_HUB_PORTS + 1];
	uint32_t hub_changed; /* ports (bit n) whose status changed, to look at */
	struct hidkbd hid;
	unsigned leds_shown;
	/* DMA, kept from one device to the next (device_alloc clears only
	 * what is above): the two contexts, a page per ring, a page of
	 * buffers. */
	uint8_t *out_ctx, *in_ctx;
	uint64_t out_pa, in_pa;
	struct ring ep0, intr;
	uint8_t *control, *reports; /* CONTROL_BYTES, then INTR_TRBS * REPORT_BYTES */
	uint64_t control_pa, reports_pa;
};

struct wait {
	int active, done;
	int command;	    /* a command (by TRB), else an EP0 transfer */
	uint64_t trb;	    /* the command TRB's address */
	unsigned slot, dci; /* the transfer's endpoint */
	uint32_t status, control;
};

struct xhci {
	struct pci_device *pci;
	char addr[16];
	volatile uint8_t *cap, *op, *rt, *db;
	unsigned max_slots, max_ports, ctx_size;
	int ac64, dead;
	volatile uint64_t *dcbaa;
	struct ring cmd;
	volatile struct trb *events;
	uint64_t events_pa;
	unsigned event_dequeue;
	uint32_t event_cycle;
	uint8_t port_major[MAX_PORTS + 1]; /* 2 or 3, from the protocol capabilities */
	uint32_t port_changed[(MAX_PORTS + 32) / 32];
	struct usb_device *port_dev[MAX_PORTS + 1];
	struct usb_device *slot_dev[256];
	struct usb_device devices[MAX_DEVICES];
	struct wait wait;
};

static struct xhci *controllers[MAX_CONTROLLERS];
static unsigned ncontrollers;
static struct kbd kbd; /* every USB keyboard types into the same queue */

/* ---------------------------------------------------------------- registers */

static uint32_t rd32(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint32_t *)(base + off);
}

static void wr32(volatile uint8_t *base, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

/* 64-bit registers as two halves, low first: what a controller without
 * 64-bit access needs, and what one with it accepts. */
static void wr64(volatile uint8_t *base, unsigned off, uint64_t v)
{
	wr32(base, off, (uint32_t)v);
	wr32(base, off + 4, (uint32_t)(v >> 32));
}

static uint32_t portsc(struct xhci *x, unsigned port)
{
	return rd32(x->op, OP_PORTSC + 0x10 * (port - 1));
}

static void portsc_write(struct xhci *x, unsigned port, uint32_t v)
{
	wr32(x->op, OP_PORTSC + 0x10 * (port - 1), v);
}

/* Nanoseconds from the TSC, microsecond-grained: the driver's clock for
 * timeouts and key repeat (drivers do not reach kernel/time.h). */
static uint64_t now_ns(void)
{
	uint64_t ticks_per_us = tsc_hz() / 1000000;

	return rdtsc() / (ticks_per_us ? ticks_per_us : 1) * 1000;
}

static void delay_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		__builtin_ia32_pause();
}

/* Polls until (reg & mask) == want or timeout: 0 or -ETIMEDOUT. */
static int wait_reg(volatile uint8_t *base, unsigned off, uint32_t mask, uint32_t want,
		    uint64_t timeout_ns)
{
	uint64_t end = now_ns() + timeout_ns;

	while ((rd32(base, off) & mask) != want) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		__builtin_ia32_pause();
	}
	return 0;
}

static void doorbell(struct xhci *x, unsigned slot, unsigned target)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr32(x->db, 4 * slot, target);
}

/* ---------------------------------------------------------------- memory and rings */

/* A zeroed DMA page the controller can reach (below 4 GiB without AC64). */
static void *dma_page(struct xhci *x, uint64_t *pa)
{
	void *p = pci_dma_alloc(PAGE_SIZE, pa);

	if (p && !x->ac64 && *pa + PAGE_SIZE > (1ull << 32)) {
		pfree(*pa, 1);
		return NULL;
	}
	return p;
}

static int ring_init(struct xhci *x, struct ring *r, unsigned size)
{
	if (!r->trbs) {
		r->trbs = dma_page(x, &r->pa);
		if (!r->trbs)
			return -ENOMEM;
	}
	memset((void *)r->trbs, 0, PAGE_SIZE);
	r->size = size;
	r->enqueue = 0;
	r->cycle = 1;
	return 0;
}

/* Writes one TRB, owned by the controller once its cycle bit is written;
 * returns its physical address. At the end of the page the Link TRB is
 * handed over and the cycle toggles. */
static uint64_t ring_push(struct ring *r, uint64_t param, uint32_t status, uint32_t control)
{
	volatile struct trb *t = &r->trbs[r->enqueue];
	uint64_t pa = r->pa + r->enqueue * sizeof(struct trb);

	t->param = param;
	t->status = status;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	t->control = (control & ~TRB_CYCLE) | r->cycle;
	if (++r->enqueue == r->size - 1) {
		volatile struct trb *link = &r->trbs[r->size - 1];
		link->param = r->pa;
		link->status = 0;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		/* Inside a TD (a chained TRB before it) the Link is chained too. */
		link->control = TRB_TYPE(TRB_LINK) | TRB_TOGGLE | (control & TRB_CHAIN) | r->cycle;
		r->enqueue = 0;
		r->cycle ^= 1;
	}
	return pa;
}

static uint64_t ring_dequeue_pointer(const struct ring *r)
{
	return (r->pa + r->enqueue * sizeof(struct trb)) | r->cycle;
}

/* ---------------------------------------------------------------- events */

static void keyboard_report(struct usb_device *d, unsigned index, size_t len);
static void hub_report(struct usb_device *d, unsigned index, size_t len);
static void queue_report(struct xhci *x, struct usb_device *d);

static void transfer_event(struct xhci *x, volatile struct trb *ev)
{
	unsigned slot = ev->control >> 24, dci = (ev->control >> 16) & 0x1f;
	unsigned code = TRB_COMPLETION(ev->status);
	struct usb_device *d = x->slot_dev[slot];

	if (!d || !d->dci || dci != d->dci || ev->param < d->intr.pa ||
	    ev->param >= d->intr.pa + INTR_TRBS * sizeof(struct trb))
		return; /* stale: a device already gone */
	unsigned index = (unsigned)((ev->param - d->intr.pa) / sizeof(struct trb));
	if (code != CC_SUCCESS && code != CC_SHORT_PACKET) {
		/* The endpoint halted (the device is going, or broke): it stays
		 * silent until it is plugged in again. */
		kprintf("solo: usb %s: port %s: interrupt transfer failed (code %u); ignored\n",
			x->addr, d->name, code);
		d->dci = 0;
		return;
	}
	size_t residue = ev->status & 0xffffff;
	size_t len = residue < d->fn.max_packet ? d->fn.max_packet - residue : 0;
	if (len > REPORT_BYTES)
		len = REPORT_BYTES;
	if (d->fn.kind == USB_FN_KEYBOARD)
		keyboard_report(d, index, len);
	else
		hub_report(d, index, len);
	queue_report(x, d);
}

static void handle_event(struct xhci *x, volatile struct trb *ev)
{
	unsigned type = TRB_TYPE_OF(ev->control);
	struct wait *w = &x->wait;

	if (type == TRB_EV_PORT) {
		unsigned port = (unsigned)(ev->param >> 24) & 0xff;
		if (port >= 1 && port <= x->max_ports)
			x->port_changed[port / 32] |= 1u << (port % 32);
		return;
	}
	if (w->active && !w->done &&
	    ((type == TRB_EV_COMMAND && w->command && ev->param == w->trb) ||
	     (type == TRB_EV_TRANSFER && !w->command && (ev->control >> 24) == w->slot &&
	      ((ev->control >> 16) & 0x1f) == w->dci))) {
		w->done = 1;
		w->status = ev->status;
		w->control = ev->control;
		return;
	}
	if (type == TRB_EV_TRANSFER)
		transfer_event(x, ev);
}

/* Handles every event the controller has written; returns how many. */
static unsigned drain_events(struct xhci *x)
{
	unsigned n = 0;

	for (;;) {
		volatile struct trb *ev = &x->events[x->event_dequeue];
		if ((ev->control & TRB_CYCLE) != x->event_cycle)
			break;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		handle_event(x, ev);
		if (++x->event_dequeue == EVENT_TRBS) {
			x->event_dequeue = 0;
			x->event_cycle ^= 1;
		}
		n++;
	}
	if (n) {
		volatile uint8_t *ir = x->rt + RT_IR0;
		wr64(ir, IR_ERDP,
		     (x->events_pa + x->event_dequeue * sizeof(struct trb)) | ERDP_BUSY);
	}
	return n;
}

/* Polls the event ring until the awaited event came: 0, or -ETIMEDOUT. */
static int wait_event(struct xhci *x, uint64_t timeout_ns)
{
	uint64_t end = now_ns() + timeout_ns;

	while (!x->wait.done) {
		if (!drain_events(x)) {
			if (now_ns() > end)
				return -ETIMEDOUT;
			__builtin_ia32_pause();
		}
	}
	return 0;
}

/* Runs a command: 0 with the completion's control word in *control, -EIO
 * when it failed, -ETIMEDOUT when the controller never answered (it is
 * then given up: a command ring that hangs cannot be trusted). */
static int command(struct xhci *x, uint64_t param, uint32_t control, uint32_t *result)
{
	if (x->dead)
		return -EIO;
	x->wait = (struct wait){.active = 1, .command = 1};
	x->wait.trb = ring_push(&x->cmd, param, 0, control);
	doorbell(x, 0, 0);
	int err = wait_event(x, COMMAND_NS);
	x->wait.active = 0;
	if (err) {
		kprintf("solo: usb %s: the controller stopped answering commands; USB is off\n",
			x->addr);
		x->dead = 1;
		return err;
	}
	if (result)
		*result = x->wait.control;
	return TRB_COMPLETION(x->wait.status) == CC_SUCCESS ? 0 : -EIO;
}

/* ---------------------------------------------------------------- contexts */

static volatile uint32_t *input_control(struct usb_device *d)
{
	return (volatile uint32_t *)d->in_ctx;
}

/* Context index i of the input context: 0 slot, 1 EP0, dci otherwise. */
static volatile uint32_t *input_ctx(struct xhci *x, struct usb_device *d, unsigned i)
{
	return (volatile uint32_t *)(d->in_ctx + (i + 1) * x->ctx_size);
}

static void clear_input(struct usb_device *d)
{
	memset(d->in_ctx, 0, PAGE_SIZE);
}

/* The slot context as the device's place in the tree says. */
static void fill_slot(struct xhci *x, struct usb_device *d, unsigned entries)
{
	volatile uint32_t *slot = input_ctx(x, d, 0);

	slot[0] = d->route | d->speed << 20 | entries << 27 |
		  (d->fn.kind == USB_FN_HUB && d->hub_ports ? 1u << 26 : 0);
	slot[1] = d->root_port << 16 | (d->fn.kind == USB_FN_HUB ? d->hub_ports << 24 : 0);
	slot[2] = d->tt_slot | d->tt_port << 8;
}

static unsigned ep0_packet_size(unsigned speed)
{
	switch (speed) {
	case SPEED_LOW:
		return 8;
	case SPEED_SUPER:
		return 512;
	default:
		return 64;
	}
}

static void fill_ep0(struct xhci *x, struct usb_device *d, unsigned max_packet)
{
	volatile uint32_t *ep = input_ctx(x, d, 1);
	uint64_t deq = ring_dequeue_pointer(&d->ep0);

	ep[1] = 3u << 1 | EP_CONTROL << 3 | max_packet << 16; /* CErr 3 */
	ep[2] = (uint32_t)deq;
	ep[3] = (uint32_t)(deq >> 32);
	ep[4] = 8; /* average TRB length */
}

/* The xHCI interval (2^n x 125 us) for an interrupt endpoint's bInterval. */
static unsigned interrupt_interval(unsigned speed, unsigned binterval)
{
	if (speed == SPEED_HIGH || speed == SPEED_SUPER) {
		if (binterval < 1)
			binterval = 1;
		return binterval > 16 ? 15 : binterval - 1;
	}
	unsigned frames = binterval ? binterval : 1, n = 3; /* 1 ms = 2^3 x 125 us */
	while (n < 10 && (2u << n) <= frames * 8)
		n++;
	return n;
}

/* ---------------------------------------------------------------- control transfers */

/*
 * One control transfer on EP0: the setup packet, len bytes of data in
 * d->control (IN when type has bit 7), the status stage. Returns the bytes
 * moved, or a negative errno. A stall is undone (Reset Endpoint, the
 * dequeue pointer moved past the transfer) so the next request works.
 */
static int control(struct xhci *x, struct usb_device *d, uint8_t type, uint8_t request,
		   uint16_t value, uint16_t index, uint16_t len)
{
	int in = type & 0x80;
	uint64_t setup = (uint64_t)type | (uint64_t)request << 8 | (uint64_t)value << 16 |
			 (uint64_t)index << 32 | (uint64_t)len << 48;

	if (x->dead)
		return -EIO;
	if (len > CONTROL_BYTES)
		return -EINVAL;
	ring_push(&d->ep0, setup, 8,
		  TRB_TYPE(TRB_SETUP) | TRB_IDT | (len ? (in ? TRB_SETUP_IN : TRB_SETUP_OUT) : 0));
	if (len)
		ring_push(&d->ep0, d->control_pa, len, TRB_TYPE(TRB_DATA) | (in ? TRB_DIR_IN : 0));
	ring_push(&d->ep0, 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC | (len && in ? 0 : TRB_DIR_IN));
	x->wait = (struct wait){.active = 1, .slot = d->slot, .dci = 1};
	doorbell(x, d->slot, 1);
	int err = wait_event(x, TRANSFER_NS);
	x->wait.active = 0;
	unsigned code = TRB_COMPLETION(x->wait.status);
	if (!err && code == CC_SUCCESS)
		return len; /* an IN stage shorter than asked ends the TD early only with ISP */
	/* Halted (a stall): reset the endpoint; hung: stop it. Then skip what
	 * is left of the transfer. */
	command(x, 0, TRB_TYPE(err ? TRB_STOP_EP : TRB_RESET_EP) | TRB_SLOT(d->slot) | TRB_EP(1),
		NULL);
	command(x, ring_dequeue_pointer(&d->ep0),
		TRB_TYPE(TRB_SET_DEQUEUE) | TRB_SLOT(d->slot) | TRB_EP(1), NULL);
	return err ? err : -EIO;
}

static int get_descriptor(struct xhci *x, struct usb_device *d, uint8_t type, uint8_t kind,
			  uint16_t len)
{
	memset(d->control, 0, CONTROL_BYTES);
	return control(x, d, type, REQ_GET_DESCRIPTOR, (uint16_t)(kind << 8), 0, len);
}

/* ---------------------------------------------------------------- devices */

static struct usb_device *device_alloc(struct xhci *x)
{
	for (unsigned i = 0; i < MAX_DEVICES; i++) {
		struct usb_device *d = &x->devices[i];
		if (d->in_use)
			continue;
		/* The DMA pages come on first use and stay for the next device;
		 * one that could not be had is asked for again next time. */
		if (!d->out_ctx)
			d->out_ctx = dma_page(x, &d->out_pa);
		if (!d->in_ctx)
			d->in_ctx = dma_page(x, &d->in_pa);
		if (!d->control)
			d->control = dma_page(x, &d->control_pa);
		if (!d->out_ctx || !d->in_ctx || !d->control || ring_init(x, &d->ep0, RING_TRBS) ||
		    ring_init(x, &d->intr, INTR_TRBS))
			return NULL;
		d->reports = d->control + CONTROL_BYTES;
		d->reports_pa = d->control_pa + CONTROL_BYTES;
		memset(d, 0, offsetof(struct usb_device, out_ctx));
		memset(d->out_ctx, 0, PAGE_SIZE);
		d->in_use = 1;
		return d;
	}
	return NULL;
}

static const char *speed_name(unsigned speed)
{
	switch (speed) {
	case SPEED_LOW:
		return "low speed";
	case SPEED_FULL:
		return "full speed";
	case SPEED_HIGH:
		return "high speed";
	case SPEED_SUPER:
		return "SuperSpeed";
	}
	return "unknown speed";
}

/* Gives d's slot back to the controller (Disable Slot), if it has one. */
static void release_slot(struct xhci *x, struct usb_device *d)
{
	if (!d->slot)
		return;
	command(x, 0, TRB_TYPE(TRB_DISABLE_SLOT) | TRB_SLOT(d->slot), NULL);
	x->dcbaa[d->slot] = 0;
	x->slot_dev[d->slot] = NULL;
	d->slot = 0;
}

/* Forgets d and everything behind it; the slot goes back to the controller. */
static void detach(struct xhci *x, struct usb_device *d)
{
	for (unsigned p = 1; p <= MAX_HUB_PORTS; p++) {
		if (d->children[p])
			detach(x, d->children[p]);
	}
	if (d->fn.kind == USB_FN_KEYBOARD)
		hidkbd_release_all(&d->hid);
	release_slot(x, d);
	if (d->parent)
		d->parent->children[d->parent_port] = NULL;
	else if (x->port_dev[d->root_port] == d)
		x->port_dev[d->root_port] = NULL;
	kinfo("solo: usb %s: port %s: unplugged\n", x->addr, d->name);
	d->in_use = 0;
	d->dci = 0;
}

static void queue_report(struct xhci *x, struct usb_device *d)
{
	unsigned index = d->intr.enqueue;

	ring_push(&d->intr, d->reports_pa + index * REPORT_BYTES, d->fn.max_packet,
		  TRB_TYPE(TRB_NORMAL) | TRB_IOC | TRB_ISP);
	doorbell(x, d->slot, d->dci);
}

/* Adds the function's interrupt IN endpoint (and, for a hub, the hub
 * fields of the slot) with Configure Endpoint, then queues transfers. */
static int start_interrupt_endpoint(struct xhci *x, struct usb_device *d)
{
	unsigned dci = 2 * (d->fn.endpoint & 0xf) + 1;
	unsigned mps = d->fn.max_packet;

	if (mps > REPORT_BYTES)
		mps = REPORT_BYTES; /* a boot report or a hub bitmap is far less */
	d->fn.max_packet = (uint16_t)mps;
	clear_input(d);
	input_control(d)[1] = 1u << 0 | 1u << dci;
	fill_slot(x, d, dci);
	volatile uint32_t *ep = input_ctx(x, d, dci);
	uint64_t deq = ring_dequeue_pointer(&d->intr);
	ep[0] = interrupt_interval(d->speed, d->fn.interval) << 16;
	ep[1] = 3u << 1 | EP_INTERRUPT_IN << 3 | mps << 16;
	ep[2] = (uint32_t)deq;
	ep[3] = (uint32_t)(deq >> 32);
	ep[4] = mps | mps << 16; /* average TRB length, max ESIT payload */
	int err = command(x, d->in_pa, TRB_TYPE(TRB_CONFIGURE_EP) | TRB_SLOT(d->slot), NULL);
	if (err)
		return err;
	d->dci = dci;
	for (unsigned i = 0; i < REPORTS_QUEUED; i++)
		queue_report(x, d);
	return 0;
}

static int start_keyboard(struct xhci *x, struct usb_device *d)
{
	unsigned iface = d->fn.interface;

	/* Boot protocol, and reports only when keys change (repeat is ours).
	 * Some keyboards stall SET_IDLE; that is allowed. */
	int err = control(x, d, 0x21, HID_SET_PROTOCOL, 0, (uint16_t)iface, 0);
	if (err)
		return err;
	control(x, d, 0x21, HID_SET_IDLE, 0, (uint16_t)iface, 0);
	hidkbd_init(&d->hid, &kbd);
	d->leds_shown = ~0u; /* set them at the next poll */
	return start_interrupt_endpoint(x, d);
}

static void service_hub_port(struct xhci *x, struct usb_device *hub, unsigned port);

static int start_hub(struct xhci *x, struct usb_device *d)
{
	if (d->speed == SPEED_SUPER)
		return -EOPNOTSUPP; /* a USB 3 hub's own protocol: not built */
	int n = get_descriptor(x, d, 0xa0, DESC_HUB, 8);
	if (n < 0)
		return n;
	unsigned ports = d->control[2];
	unsigned power_ms = 2u * d->control[5];
	if (ports > MAX_HUB_PORTS)
		ports = MAX_HUB_PORTS;
	d->hub_ports = ports;
	if (d->depth >= MAX_DEPTH)
		return -EOPNOTSUPP;
	int err = start_interrupt_endpoint(x, d);
	if (err)
		return err;
	kinfo("solo: usb %s: port %s: hub, %u ports\n", x->addr, d->name, ports);
	for (unsigned p = 1; p <= ports; p++)
		control(x, d, 0x23, REQ_SET_FEATURE, FEAT_PORT_POWER, (uint16_t)p, 0);
	delay_ns((uint64_t)(power_ms < 20 ? 20 : power_ms) * 1000000);
	for (unsigned p = 1; p <= ports; p++)
		service_hub_port(x, d, p);
	return 0;
}

/*
 * Device initialisation (xHCI 4.3) for a device whose port was just
 * reset: a slot, its address, the descriptors, the configuration, and the
 * function's start. Returns the device (also for one Solo does not
 * drive), or NULL when it failed (logged).
 */
static struct usb_device *enumerate(struct xhci *x, struct usb_device *parent, unsigned port,
				    unsigned speed)
{
	struct usb_device *d = device_alloc(x);
	uint32_t result;
	const char *why = "no memory";

	if (!d)
		goto fail_early;
	d->speed = speed;
	d->parent = parent;
	d->parent_port = port;
	if (parent) {
		d->root_port = parent->root_port;
		d->depth = parent->depth + 1;
		d->route = parent->route | port << (4 * parent->depth);
		if (parent->speed == SPEED_HIGH && (speed == SPEED_LOW || speed == SPEED_FULL)) {
			d->tt_slot = parent->slot;
			d->tt_port = port;
		} else {
			d->tt_slot = parent->tt_slot;
			d->tt_port = parent->tt_port;
		}
		ksnprintf(d->name, sizeof(d->name), "%s.%u", parent->name, port);
		parent->children[port] = d;
	} else {
		d->root_port = port;
		ksnprintf(d->name, sizeof(d->name), "%u", port);
		x->port_dev[port] = d;
	}
	why = "no slot";
	if (command(x, 0, TRB_TYPE(TRB_ENABLE_SLOT), &result))
		goto fail;
	d->slot = result >> 24;
	if (!d->slot || d->slot > x->max_slots)
		goto fail_slotless;
	x->dcbaa[d->slot] = d->out_pa;
	x->slot_dev[d->slot] = d;

	why = "Address Device failed";
	unsigned mps = ep0_packet_size(speed);
	clear_input(d);
	input_control(d)[1] = 1u << 0 | 1u << 1;
	fill_slot(x, d, 1);
	fill_ep0(x, d, mps);
	if (command(x, d->in_pa, TRB_TYPE(TRB_ADDRESS_DEVICE) | TRB_SLOT(d->slot), NULL))
		goto fail;

	why = "no device descriptor";
	if (get_descriptor(x, d, 0x80, DESC_DEVICE, 8) < 0)
		goto fail;
	unsigned real_mps = speed == SPEED_SUPER ? 1u << (d->control[7] & 0xf) : d->control[7];
	if (real_mps != mps && real_mps >= 8) {
		clear_input(d);
		input_control(d)[1] = 1u << 1;
		fill_ep0(x, d, real_mps);
		why = "Evaluate Context failed";
		if (command(x, d->in_pa, TRB_TYPE(TRB_EVALUATE_CONTEXT) | TRB_SLOT(d->slot), NULL))
			goto fail;
	}
	why = "no device descriptor";
	if (get_descriptor(x, d, 0x80, DESC_DEVICE, 18) < 0)
		goto fail;
	uint8_t device_class = d->control[4];
	uint16_t vendor = (uint16_t)(d->control[8] | d->control[9] << 8);
	uint16_t product = (uint16_t)(d->control[10] | d->control[11] << 8);

	why = "no configuration descriptor";
	if (get_descriptor(x, d, 0x80, DESC_CONFIG, 9) < 0)
		goto fail;
	unsigned total = (unsigned)(d->control[2] | d->control[3] << 8);
	if (total > CONTROL_BYTES)
		total = CONTROL_BYTES;
	if (total < 9 || get_descriptor(x, d, 0x80, DESC_CONFIG, (uint16_t)total) < 0)
		goto fail;
	why = "a configuration descriptor that makes no sense";
	if (usbdesc_parse_config(d->control, total, device_class, &d->fn))
		goto fail;

	if (d->fn.kind == USB_FN_NONE) {
		kinfo("solo: usb %s: port %s: %04x:%04x class %02x, %s: not used\n", x->addr,
		      d->name, vendor, product, d->fn.first_class, speed_name(speed));
		return d;
	}
	why = "SET_CONFIGURATION failed";
	if (control(x, d, 0x00, REQ_SET_CONFIG, d->fn.config_value, 0, 0) < 0)
		goto fail;
	if (d->fn.kind == USB_FN_KEYBOARD) {
		why = "the keyboard did not start";
		if (start_keyboard(x, d))
			goto fail;
		kinfo("solo: usb %s: port %s: keyboard %04x:%04x, %s\n", x->addr, d->name, vendor,
		      product, speed_name(speed));
	} else {
		why = "the hub did not start";
		if (start_hub(x, d))
			goto fail;
	}
	return d;

fail_slotless:
	d->slot = 0;
fail:
	kprintf("solo: usb %s: port %s: %s; device ignored\n", x->addr, d->name, why);
	/* Keep the port taken, so it is not retried at every poll; an unplug
	 * frees it. The slot goes back now. */
	release_slot(x, d);
	d->fn.kind = USB_FN_NONE;
	d->dci = 0;
	return d;
fail_early:
	kprintf("solo: usb %s: a device on port %u: %s; ignored\n", x->addr, port, why);
	return NULL;
}

/* ---------------------------------------------------------------- hubs */

static int hub_port_status(struct xhci *x, struct usb_device *hub, unsigned port, uint16_t *status,
			   uint16_t *change)
{
	memset(hub->control, 0, 4);
	int n = control(x, hub, 0xa3, REQ_GET_STATUS, 0, (uint16_t)port, 4);
	if (n < 0)
		return n;
	*status = (uint16_t)(hub->control[0] | hub->control[1] << 8);
	*change = (uint16_t)(hub->control[2] | hub->control[3] << 8);
	return 0;
}

/* Looks at one port of a hub: what changed is acknowledged, a device that
 * left is forgotten, a new one reset and enumerated. */
static void service_hub_port(struct xhci *x, struct usb_device *hub, unsigned port)
{
	uint16_t status, change;

	if (hub_port_status(x, hub, port, &status, &change))
		return;
	for (unsigned bit = 0; bit < 5; bit++) {
		if (change & (1u << bit))
			control(x, hub, 0x23, REQ_CLEAR_FEATURE,
				(uint16_t)(FEAT_C_PORT_CONNECTION + bit), (uint16_t)port, 0);
	}
	struct usb_device *child = hub->children[port];
	if (child && (!(status & HUB_PORT_CONNECTION) || (change & HUB_PORT_CONNECTION)))
		detach(x, child);
	if (!(status & HUB_PORT_CONNECTION) || hub->children[port])
		return;
	if (control(x, hub, 0x23, REQ_SET_FEATURE, FEAT_PORT_RESET, (uint16_t)port, 0) < 0)
		return;
	uint64_t end = now_ns() + PORT_RESET_NS;
	do {
		delay_ns(10000000);
		if (hub_port_status(x, hub, port, &status, &change))
			return;
	} while (!(change & HUB_C_PORT_RESET) && now_ns() < end);
	control(x, hub, 0x23, REQ_CLEAR_FEATURE, FEAT_C_PORT_CONNECTION + 4, (uint16_t)port, 0);
	if (!(status & HUB_PORT_ENABLE)) {
		kprintf("solo: usb %s: port %s.%u: not enabled after reset; ignored\n", x->addr,
			hub->name, port);
		return;
	}
	delay_ns(10000000); /* reset recovery (USB 2.0 7.1.7.3) */
	unsigned speed = (status & HUB_PORT_LOW_SPEED)	  ? SPEED_LOW
			 : (status & HUB_PORT_HIGH_SPEED) ? SPEED_HIGH
							  : SPEED_FULL;
	enumerate(x, hub, port, speed);
}

/* A hub's status change bitmap: bit n, port n changed (bit 0: the hub). */
static void hub_report(struct usb_device *d, unsigned index, size_t len)
{
	const uint8_t *bits = d->reports + index * REPORT_BYTES;

	for (unsigned p = 1; p <= d->hub_ports && p / 8 < len; p++) {
		if (bits[p / 8] & (1u << (p % 8)))
			d->hub_changed |= 1u << p;
	}
}

static void keyboard_report(struct usb_device *d, unsigned index, size_t len)
{
	hidkbd_report(&d->hid, d->reports + index * REPORT_BYTES, len, now_ns());
}

/* ---------------------------------------------------------------- root ports */

static void service_root_port(struct xhci *x, unsigned port)
{
	uint32_t sc = portsc(x, port);

	portsc_write(x, port, (sc & PORTSC_PRESERVE) | (sc & PORTSC_CHANGES));
	struct usb_device *d = x->port_dev[port];
	if (d && (!(sc & PORTSC_CCS) || (sc & PORTSC_CSC)))
		detach(x, d);
	if (!(sc & PORTSC_CCS) || x->port_dev[port])
		return;
	/* USB 2 ports need a reset to be enabled; USB 3 ports enable
	 * themselves when the link trains, else a warm reset. */
	if (!(sc & PORTSC_PED)) {
		uint32_t reset = x->port_major[port] == 3 ? PORTSC_WPR : PORTSC_PR;
		portsc_write(x, port, (sc & PORTSC_PRESERVE) | reset);
		uint64_t end = now_ns() + PORT_RESET_NS;
		while (!(portsc(x, port) & PORTSC_PRC) && now_ns() < end)
			__builtin_ia32_pause();
		sc = portsc(x, port);
		portsc_write(x, port, (sc & PORTSC_PRESERVE) | (sc & PORTSC_CHANGES));
		delay_ns(10000000); /* reset recovery */
		sc = portsc(x, port);
	}
	if (!(sc & PORTSC_CCS))
		return;
	if (!(sc & PORTSC_PED)) {
		kprintf("solo: usb %s: port %u: not enabled after reset; ignored\n", x->addr, port);
		return;
	}
	enumerate(x, NULL, port, PORTSC_SPEED(sc));
}

/* ---------------------------------------------------------------- polling */

static void set_leds(struct xhci *x, struct usb_device *d)
{
	unsigned leds = kbd_leds(&kbd);

	if (leds == d->leds_shown)
		return;
	/* Shown or not, it is not tried again until the LEDs change. */
	d->leds_shown = leds;
	d->control[0] = (uint8_t)leds; /* KBD_LED_* are the report's bits */
	int n = control(x, d, 0x21, HID_SET_REPORT, 0x0200, (uint16_t)d->fn.interface, 1);
	kdebug("solo: usb %s: port %s: LEDs%s%s%s: %s\n", x->addr, d->name,
	       (leds & KBD_LED_NUM) ? " num" : "", (leds & KBD_LED_CAPS) ? " caps" : "",
	       (leds & KBD_LED_SCROLL) ? " scroll" : "", n < 0 ? "refused" : "set");
}

static void poll_controller(struct xhci *x)
{
	if (x->dead)
		return;
	drain_events(x);
	for (unsigned port = 1; port <= x->max_ports; port++) {
		if (x->port_changed[port / 32] & (1u << (port % 32))) {
			x->port_changed[port / 32] &= ~(1u << (port % 32));
			service_root_port(x, port);
		}
	}
	uint64_t now = now_ns();
	for (unsigned i = 0; i < MAX_DEVICES; i++) {
		struct usb_device *d = &x->devices[i];
		if (!d->in_use || !d->dci)
			continue;
		if (d->fn.kind == USB_FN_HUB) {
			for (unsigned p = 1; p <= d->hub_ports && d->in_use; p++) {
				if (d->hub_changed & (1u << p)) {
					d->hub_changed &= ~(1u << p);
					service_hub_port(x, d, p);
				}
			}
		} else if (d->fn.kind == USB_FN_KEYBOARD) {
			hidkbd_tick(&d->hid, now);
			set_leds(x, d);
		}
	}
}

int xhci_read_byte(void)
{
	if (!ncontrollers)
		return -1;
	for (unsigned i = 0; i < ncontrollers; i++)
		poll_controller(controllers[i]);
	return kbd_read_byte(&kbd);
}

unsigned xhci_controllers(void)
{
	return ncontrollers;
}

int xhci_set_layout(const char *name)
{
	return kbd_set_layout(&kbd, name);
}

/* ---------------------------------------------------------------- bring-up */

/* Takes the controller from the firmware's SMM driver (xHCI 7.1), and
 * notes which ports are USB 3 (7.2). */
static void read_extended_caps(struct xhci *x, uint32_t hcc1)
{
	unsigned off = (hcc1 >> 16) * 4;

	for (unsigned n = 0; off && n < 64; n++) {
		uint32_t cap = rd32(x->cap, off);
		unsigned id = cap & 0xff;
		if (id == XCAP_LEGACY) {
			wr32(x->cap, off, cap | LEGACY_OS_OWNED);
			if (wait_reg(x->cap, off, LEGACY_BIOS_OWNED, 0, COMMAND_NS)) {
				kprintf(
				    "solo: usb %s: the firmware kept the controller; taking it\n",
				    x->addr);
				wr32(x->cap, off,
				     (rd32(x->cap, off) & ~LEGACY_BIOS_OWNED) | LEGACY_OS_OWNED);
			}
			uint32_t ctl = rd32(x->cap, off + 4);
			wr32(x->cap, off + 4, (ctl & ~LEGACY_SMI_ENABLES) | LEGACY_SMI_STATUS);
		} else if (id == XCAP_PROTOCOL) {
			unsigned major = cap >> 24;
			uint32_t ports = rd32(x->cap, off + 8);
			unsigned first = ports & 0xff, count = (ports >> 8) & 0xff;
			for (unsigned p = first; p && p < first + count && p <= MAX_PORTS; p++)
				x->port_major[p] = (uint8_t)major;
		}
		unsigned next = (cap >> 8) & 0xff;
		off = next ? off + next * 4 : 0;
	}
}

static int start(struct xhci *x)
{
	uint32_t hcs1 = rd32(x->cap, CAP_HCSPARAMS1), hcs2 = rd32(x->cap, CAP_HCSPARAMS2);
	uint32_t hcc1 = rd32(x->cap, CAP_HCCPARAMS1);
	uint64_t pa;

	x->max_slots = hcs1 & 0xff;
	x->max_ports = hcs1 >> 24;
	x->ctx_size = (hcc1 & HCCPARAMS1_CSZ) ? 64 : 32;
	x->ac64 = !!(hcc1 & HCCPARAMS1_AC64);
	if (!x->max_slots || !x->max_ports)
		return -ENODEV;
	read_extended_caps(x, hcc1);

	wr32(x->op, OP_USBCMD, rd32(x->op, OP_USBCMD) & ~USBCMD_RUN);
	if (wait_reg(x->op, OP_USBSTS, USBSTS_HALTED, USBSTS_HALTED, COMMAND_NS))
		return -ETIMEDOUT;
	wr32(x->op, OP_USBCMD, USBCMD_RESET);
	if (wait_reg(x->op, OP_USBCMD, USBCMD_RESET, 0, COMMAND_NS) ||
	    wait_reg(x->op, OP_USBSTS, USBSTS_NOT_READY, 0, COMMAND_NS))
		return -ETIMEDOUT;
	if (!(rd32(x->op, OP_PAGESIZE) & 1))
		return -EOPNOTSUPP; /* no 4 KiB pages */
	wr32(x->op, OP_CONFIG, x->max_slots);

	/* The device context base array, with the scratchpad array after it. */
	uint8_t *page = dma_page(x, &pa);
	if (!page)
		return -ENOMEM;
	x->dcbaa = (volatile uint64_t *)page;
	unsigned scratch = ((hcs2 >> 21) & 0x1f) << 5 | hcs2 >> 27;
	if (scratch > (PAGE_SIZE - 2048) / 8)
		return -EOPNOTSUPP;
	if (scratch) {
		volatile uint64_t *array = (volatile uint64_t *)(page + 2048);
		for (unsigned i = 0; i < scratch; i++) {
			uint64_t spa;
			if (!dma_page(x, &spa))
				return -ENOMEM;
			array[i] = spa;
		}
		x->dcbaa[0] = pa + 2048;
	}
	wr64(x->op, OP_DCBAAP, pa);

	if (ring_init(x, &x->cmd, RING_TRBS))
		return -ENOMEM;
	wr64(x->op, OP_CRCR, x->cmd.pa | 1);

	/* One event ring segment and its table in one page. */
	page = dma_page(x, &pa);
	if (!page)
		return -ENOMEM;
	x->events = (volatile struct trb *)page;
	x->events_pa = pa;
	x->event_cycle = 1;
	volatile uint64_t *erst = (volatile uint64_t *)(page + EVENT_TRBS * sizeof(struct trb));
	erst[0] = pa;
	erst[1] = EVENT_TRBS;
	volatile uint8_t *ir = x->rt + RT_IR0;
	wr32(ir, IR_IMAN, IMAN_IP); /* interrupts stay off: polled */
	wr32(ir, IR_ERSTSZ, 1);
	wr64(ir, IR_ERDP, pa);
	wr64(ir, IR_ERSTBA, pa + EVENT_TRBS * sizeof(struct trb));

	wr32(x->op, OP_USBCMD, USBCMD_RUN);
	if (wait_reg(x->op, OP_USBSTS, USBSTS_HALTED, 0, COMMAND_NS))
		return -ETIMEDOUT;
	if (hcc1 & HCCPARAMS1_PPC) {
		for (unsigned p = 1; p <= x->max_ports; p++) {
			uint32_t sc = portsc(x, p);
			if (!(sc & PORTSC_PP))
				portsc_write(x, p, (sc & PORTSC_PRESERVE) | PORTSC_PP);
		}
		delay_ns(20000000);
	}
	/* Look at every port once: what was plugged in before the reset. */
	for (unsigned p = 1; p <= x->max_ports; p++)
		x->port_changed[p / 32] |= 1u << (p % 32);
	return 0;
}

/*
 * Intel's 7, 8 and 9 series chipsets route their USB ports to the EHCI
 * controllers until the OS switches them to the xHCI (what Windows 8 and
 * Linux do): without it a keyboard on such a PC is invisible here. The
 * routing and SuperSpeed enable registers take what their mask registers
 * allow (Intel's PCH datasheets; Linux's usb_enable_intel_xhci_ports).
 */
#define INTEL_XUSB2PR	 0xd0
#define INTEL_USB2PRM	 0xd4
#define INTEL_USB3_PSSEN 0xd8
#define INTEL_USB3PRM	 0xdc

static void route_intel_ports(struct pci_device *dev)
{
	static const uint16_t switchable[] = {0x1e31, 0x8c31, 0x9c31, 0x8cb1, 0x9cb1};

	if (dev->vendor != 0x8086)
		return;
	for (unsigned i = 0; i < sizeof(switchable) / sizeof(switchable[0]); i++) {
		if (dev->device == switchable[i]) {
			pci_write32(dev, INTEL_USB3_PSSEN, pci_read32(dev, INTEL_USB3PRM));
			pci_write32(dev, INTEL_XUSB2PR, pci_read32(dev, INTEL_USB2PRM));
			return;
		}
	}
}

static int xhci_probe(struct pci_device *dev, const struct pci_id *id)
{
	(void)id;
	if (ncontrollers == MAX_CONTROLLERS)
		return -ENOSPC;
	if (!dev->bars[0].size || (dev->bars[0].flags & PCI_BAR_IO))
		return -ENODEV;
	struct xhci *x = zmalloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->pci = dev;
	pci_address(dev, x->addr, sizeof(x->addr));
	size_t size = dev->bars[0].size < (256u << 10) ? dev->bars[0].size : 256u << 10;
	x->cap = pci_map_bar(dev, 0, 0, size);
	if (!x->cap) {
		kfree(x);
		return -ENOMEM;
	}
	unsigned caplength = rd32(x->cap, CAP_CAPLENGTH) & 0xff;
	uint32_t rtsoff = rd32(x->cap, CAP_RTSOFF) & ~0x1fu, dboff = rd32(x->cap, CAP_DBOFF) & ~3u;
	if (caplength < 0x20 || caplength + OP_PORTSC > size || rtsoff + 0x40 > size ||
	    dboff + 4 * 256 > size) {
		kfree(x);
		return -ENODEV; /* registers outside the BAR */
	}
	x->op = x->cap + caplength;
	x->rt = x->cap + rtsoff;
	x->db = x->cap + dboff;
	if (x->op + OP_PORTSC + 0x10 * (rd32(x->cap, CAP_HCSPARAMS1) >> 24) > x->cap + size) {
		kfree(x);
		return -ENODEV;
	}
	if (!ncontrollers)
		kbd_init(&kbd);
	route_intel_ports(dev);
	int err = start(x);
	if (err) {
		/* Stop it, so nothing more is written to memory we may reuse. */
		wr32(x->op, OP_USBCMD, 0);
		return err;
	}
	/* Dword reads only: some controllers (QEMU's) answer nothing else here. */
	uint32_t version = rd32(x->cap, CAP_CAPLENGTH) >> 16;
	kinfo("solo: usb %s: xHCI %x.%02x, %u ports, %u slots, polled\n", x->addr, version >> 8,
	      version & 0xff, x->max_ports, x->max_slots);
	controllers[ncontrollers++] = x;
	poll_controller(x);
	return 0;
}

static const struct pci_id xhci_ids[] = {
    {PCI_ANY_ID, PCI_ANY_ID, "xhci", 0x0c0330},
    {0, 0, NULL, 0},
};

const struct pci_driver xhci_pci_driver = {.name = "xhci", .ids = xhci_ids, .probe = xhci_probe};
