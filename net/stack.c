/*
 * The stack's single context (see stack.h): lwIP's interfaces over the
 * netdevs, the deferred work that feeds lwIP, and its timer.
 *
 * Invariants:
 *   - lwIP runs only in kernel context outside interrupt handlers; the
 *     notify hook and the timer callback only raise `work`.
 *   - ifs[0..nifs) are the attached NICs in netdev order; ifs[i].nd->stack
 *     points back at ifs[i].
 *   - A driver's poll and send are never nested: received frames wait in
 *     rx_queue until the poll returned, then go to lwIP (whose replies
 *     call send).
 *   - The timer is armed (background) for lwIP's next timeout whenever
 *     the timeouts matter: a NIC is attached (ARP, DHCP, ND) or a TCP pcb
 *     exists (retransmissions, delayed ACKs on loopback). With neither,
 *     an app that does not use the network takes no timer interrupts.
 */
#include "net/stack.h"

#include "kernel/abi/errno.h"
#include "kernel/defer.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "kernel/netdev.h"
#include "kernel/time.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"
#include "net/netcfg.h"

#define POLL_BUDGET	 64	  /* frames per NIC per run of the work */
#define POLLED_NIC_NS	 5000000u /* a NIC without interrupts: polled every 5 ms */
#define TX_SEGS		 16	  /* pbufs per frame before the bounce buffer */
#define DHCP_CLIENT_PORT 68
#define LO_MTU		 65536u
#define EXIT_LINGER_NS	 2000000000ull /* at the app's exit: see linger() */
#define EXIT_CHECK_NS	 1000000u

struct net_if {
	struct netif netif;
	struct netdev *nd;
	char name[NET_IFNAME_MAX];
	int tx_blocked; /* the device's ring was full: retry TCP output */
	uint64_t rx_packets, rx_bytes, rx_dropped;
	uint64_t tx_packets, tx_bytes, tx_dropped;
};

static struct net_if ifs[NETDEV_MAX];
static unsigned nifs;
static int polled; /* some NIC has no interrupt */
static struct deferred work;
static struct ktimer timer;
static uint8_t bounce[NETDEV_MAX_FRAME];
/* The frames of one poll, for lwIP once the poll returned. */
static struct rx_frame {
	struct pbuf *p;
	unsigned flags;
} rx_queue[POLL_BUDGET];
static unsigned rx_count;

/* ---------------------------------------------------------------- frames */

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	struct net_if *nif = netif->state;
	struct netdev_seg segs[TX_SEGS];
	unsigned n = 0;

	if (p->tot_len > NETDEV_MAX_FRAME) {
		nif->tx_dropped++;
		return ERR_IF;
	}
	for (struct pbuf *q = p; q && n <= TX_SEGS; q = q->next) {
		if (!q->len)
			continue;
		if (n < TX_SEGS)
			segs[n] = (struct netdev_seg){q->payload, q->len};
		n++;
	}
	if (n > TX_SEGS) {
		/* A long chain (small tcp_write pieces): one copy first. */
		pbuf_copy_partial(p, bounce, p->tot_len, 0);
		segs[0] = (struct netdev_seg){bounce, p->tot_len};
		n = 1;
	}
	int err = nif->nd->ops->send(nif->nd, segs, n, NULL);
	if (err) {
		nif->tx_dropped++;
		if (err == -EAGAIN) {
			/* TCP keeps the segment and retries when the work runs
			 * next (the ring drains meanwhile); other protocols'
			 * packets are lost as on a busy wire. */
			nif->tx_blocked = 1;
			defer_raise(&work);
		}
		return ERR_MEM;
	}
	nif->tx_packets++;
	nif->tx_bytes += p->tot_len;
	return ERR_OK;
}

/*
 * nd->rx: one received frame, the driver's until we return. It is copied
 * into pool pbufs and only queued: lwIP sees it after the driver's poll
 * returned, so what lwIP sends in reply never re-enters the driver.
 */
static void receive(struct netdev *nd, const void *frame, size_t len, unsigned flags)
{
	struct net_if *nif = nd->stack;

	if (len < SIZEOF_ETH_HDR || len > NETDEV_MAX_FRAME || rx_count == POLL_BUDGET) {
		nif->rx_dropped++;
		return;
	}
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!p) {
		nif->rx_dropped++; /* the pool is full: as a NIC out of buffers */
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	nif->rx_packets++;
	nif->rx_bytes += len;
	rx_queue[rx_count++] = (struct rx_frame){p, flags};
}

/* Hands the frames one poll queued to lwIP. */
static void input_queued(struct net_if *nif)
{
	struct netif *netif = &nif->netif;

	for (unsigned i = 0; i < rx_count; i++) {
		struct rx_frame *f = &rx_queue[i];
		/* The device verified the TCP/UDP sum (or the peer is local
		 * and left it partial): lwIP must not check it, for this
		 * frame only. */
		if (f->flags & NETDEV_RX_CSUM_OK)
			NETIF_SET_CHECKSUM_CTRL(
			    netif, NETIF_CHECKSUM_ENABLE_ALL &
				       ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP));
		if (netif->input(f->p, netif) != ERR_OK) {
			pbuf_free(f->p);
			nif->rx_dropped++;
		}
		if (f->flags & NETDEV_RX_CSUM_OK)
			NETIF_SET_CHECKSUM_CTRL(netif, NETIF_CHECKSUM_ENABLE_ALL);
	}
	rx_count = 0;
}

/* ---------------------------------------------------------------- the work */

static int tcp_pcbs_exist(void)
{
	return tcp_active_pcbs || tcp_tw_pcbs;
}

static void timer_fired(struct ktimer *t)
{
	(void)t;
	defer_raise(&work); /* interrupt context: nothing of lwIP here */
}

static void arm_timer(void)
{
	u32_t ms;

	if (!nifs && !tcp_pcbs_exist()) {
		ktimer_cancel(&timer);
		return;
	}
	ms = sys_timeouts_sleeptime();
	uint64_t delta = ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? UINT64_MAX : ms * 1000000ull;
	if (polled && delta > POLLED_NIC_NS)
		delta = POLLED_NIC_NS;
	if (delta == UINT64_MAX)
		ktimer_cancel(&timer);
	else
		ktimer_arm(&timer, time_add(time_now(), delta));
}

/* A NIC's link as the driver sees it, told to lwIP (DHCP and ND restart on
 * link up). */
static void update_link(struct net_if *nif)
{
	int up = !!nif->nd->link_up;

	if (up == !!netif_is_link_up(&nif->netif))
		return;
	if (up)
		netif_set_link_up(&nif->netif);
	else
		netif_set_link_down(&nif->netif);
	kinfo("solo: net: %s link %s\n", nif->name, up ? "up" : "down");
}

/* The transmit ring had no room: send what TCP kept back. */
static void retry_output(void)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (pcb->unsent)
			tcp_output(pcb);
	}
}

static void run_stack(struct deferred *d)
{
	int again = 0, retry = 0;

	for (unsigned i = 0; i < nifs; i++) {
		struct net_if *nif = &ifs[i];
		if (nif->nd->ops->poll(nif->nd, POLL_BUDGET) >= POLL_BUDGET)
			again = 1;
		input_queued(nif);
		update_link(nif);
		if (nif->tx_blocked) {
			nif->tx_blocked = 0;
			retry = 1;
		}
	}
	if (retry)
		retry_output();
	netif_poll_all(); /* the loopback queues */
	sys_check_timeouts();
	netcfg_changed();
	if (again)
		defer_raise(d); /* budget used up: more frames wait */
	arm_timer();
}

static void notify(struct netdev *nd)
{
	(void)nd;
	defer_raise(&work); /* interrupt context */
}

static void loopback_queued(void)
{
	defer_raise(&work);
}

/* Whether a packet from a peer could still wake a thread, or a TCP pcb's
 * timers still have something to do. Without a NIC only the latter. */
static int tcp_busy(const struct tcp_pcb *pcb)
{
	return pcb->unsent || pcb->unacked || pcb->refused_data || (pcb->flags & TF_ACK_DELAY) ||
	       pcb->state == SYN_SENT || pcb->state == SYN_RCVD || pcb->state == FIN_WAIT_1 ||
	       pcb->state == CLOSING || pcb->state == LAST_ACK;
}

static int stack_live(struct deferred *d)
{
	(void)d;
	if (defer_pending())
		return 1;
	if (nifs) {
		if (tcp_active_pcbs || tcp_listen_pcbs.listen_pcbs)
			return 1;
		for (struct udp_pcb *u = udp_pcbs; u; u = u->next) {
			if (u->local_port != DHCP_CLIENT_PORT)
				return 1;
		}
		return 0;
	}
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (tcp_busy(pcb))
			return 1;
	}
	return 0;
}

void net_kick(void)
{
	defer_raise(&work);
}

/* ---------------------------------------------------------------- setup */

int net_stack_init(void)
{
	lwip_init(); /* adds the loopback interface, up */
	defer_init(&work, run_stack, stack_live);
	ktimer_init_background(&timer, timer_fired);
	lwip_port_loopback_hook = loopback_queued;
	netdev_set_notify(notify);
	return 0;
}

static err_t eth_init(struct netif *netif)
{
	struct net_if *nif = netif->state;
	struct netdev *nd = nif->nd;

	netif->name[0] = 'e'; /* lwIP's own name; Linux's is nif->name */
	netif->name[1] = 't';
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = linkoutput;
	netif->mtu = (u16_t)MIN(nd->mtu, NETDEV_MAX_FRAME - SIZEOF_ETH_HDR);
	netif->mtu6 = netif->mtu;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, nd->mac, ETH_HWADDR_LEN);
	netif->flags =
	    NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
	return ERR_OK;
}

struct netif *net_stack_attach(struct netdev *nd)
{
	struct net_if *nif;
	char mac[18];

	if (nifs == NETDEV_MAX)
		return NULL;
	nif = &ifs[nifs];
	*nif = (struct net_if){.nd = nd};
	ksnprintf(nif->name, sizeof(nif->name), "eth%u", nd->index);
	if (!netif_add_noaddr(&nif->netif, nif, eth_init, ethernet_input)) {
		kprintf("solo: net: %s %s: lwIP refused the interface\n", nif->name, nd->model);
		return NULL;
	}
	nifs++;
	nd->stack = nif;
	nd->rx = receive;
	if (!strcmp(nd->irq_mode ? nd->irq_mode : "polled", "polled"))
		polled = 1;
	netcfg_format_mac(mac, sizeof(mac), nd->mac);
	kinfo("solo: net: %s %s %s mtu %u link %s (%s)\n", nif->name, nd->model, mac,
	      nif->netif.mtu, nd->link_up ? "up" : "down", nd->irq_mode ? nd->irq_mode : "polled");
	netif_set_up(&nif->netif);
	if (nd->link_up)
		netif_set_link_up(&nif->netif);
	/* Frames may have arrived before rx was set: poll once soon. */
	defer_raise(&work);
	return &nif->netif;
}

/* ---------------------------------------------------------------- the app's end */

/* A closed connection whose data or FIN the peer has not acknowledged. */
static int tcp_still_sending(void)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		if (pcb->unsent || pcb->unacked || pcb->state == FIN_WAIT_1 ||
		    pcb->state == CLOSING || pcb->state == LAST_ACK)
			return 1;
	return 0;
}

static unsigned frames_in_flight(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nifs; i++)
		if (ifs[i].nd->ops->tx_pending)
			n += ifs[i].nd->ops->tx_pending(ifs[i].nd);
	return n;
}

static void linger_tick(struct ktimer *t)
{
	(void)t;
}

/*
 * What the app sent before it exited goes out before the machine powers
 * off, as it would from a Linux host that stays up: the stack keeps
 * running (its work, timers and retransmissions) until every closed
 * connection's data and FIN are acknowledged and the NICs have sent every
 * queued frame, for EXIT_LINGER_NS at most (a peer that vanished must not
 * hold the exit). With nothing pending this returns at once.
 */
static void linger(void)
{
	uint64_t deadline = time_add(time_now(), EXIT_LINGER_NS);
	struct ktimer tick;

	if (!tcp_still_sending() && !frames_in_flight())
		return;
	ktimer_init(&tick, linger_tick);
	for (;;) {
		defer_raise(&work);
		defer_run();
		if (!tcp_still_sending() && !frames_in_flight())
			break;
		uint64_t now = time_now();
		if (now >= deadline) {
			kdebug("solo: net: the app's last data was not all acknowledged after "
			       "%llu ms; resetting\n",
			       (unsigned long long)(EXIT_LINGER_NS / 1000000u));
			break;
		}
		/* A device may not interrupt for finished transmissions: look
		 * again after EXIT_CHECK_NS whatever happens. */
		ktimer_arm(&tick, MIN(time_add(now, EXIT_CHECK_NS), deadline));
		time_idle();
	}
	ktimer_cancel(&tick);
}

void net_app_exit(void)
{
	/* Callbacks first: their args are socket-layer objects, gone now. */
	for (int l = 0; l < NUM_TCP_PCB_LISTS; l++) {
		for (struct tcp_pcb *pcb = *tcp_pcb_lists[l]; pcb; pcb = pcb->next) {
			tcp_arg(pcb, NULL);
			if (pcb->state == LISTEN)
				continue; /* no callbacks but accept, cleared with arg */
			tcp_recv(pcb, NULL);
			tcp_sent(pcb, NULL);
			tcp_err(pcb, NULL);
			tcp_poll(pcb, NULL, 0);
		}
	}
	linger();
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	/* tcp_close frees a listening or bound pcb at once (never ERR_MEM in
	 * those states); the check only keeps a broken lwIP from looping. */
	while (tcp_listen_pcbs.pcbs && tcp_close(tcp_listen_pcbs.pcbs) == ERR_OK)
		;
	while (tcp_bound_pcbs && tcp_close(tcp_bound_pcbs) == ERR_OK)
		;
	for (struct udp_pcb *u = udp_pcbs, *next; u; u = next) {
		next = u->next;
		if (u->local_port != DHCP_CLIENT_PORT)
			udp_remove(u);
	}
	netif_poll_all();
	for (unsigned i = 0; i < nifs; i++) {
		etharp_cleanup_netif(&ifs[i].netif);
		nd6_cleanup_netif(&ifs[i].netif);
	}
	arm_timer();
}

/* ---------------------------------------------------------------- interfaces */

static struct netif *loopback(void)
{
	struct netif *n;

	NETIF_FOREACH(n)
	{
		if (n->name[0] == 'l' && n->name[1] == 'o')
			return n;
	}
	return NULL;
}

unsigned net_if_count(void)
{
	return 1 + nifs;
}

static unsigned link_flags(const struct netif *n)
{
	unsigned f = 0;

	if (netif_is_up(n))
		f |= NET_IFF_UP;
	if (netif_is_up(n) && netif_is_link_up(n))
		f |= NET_IFF_RUNNING | NET_IFF_LOWER_UP;
	return f;
}

int net_if_info(unsigned i, struct net_ifinfo *out)
{
	if (i > nifs)
		return -ENODEV;
	*out = (struct net_ifinfo){0};
	if (i == 0) {
		struct netif *lo = loopback();
		memcpy(out->name, "lo", 3);
		out->netif = lo;
		out->ifindex = lo ? netif_get_index(lo) : 1;
		out->model = "loopback";
		out->mtu = LO_MTU;
		out->flags = (lo ? link_flags(lo) : 0) | NET_IFF_LOOPBACK;
		return 0;
	}
	struct net_if *nif = &ifs[i - 1];
	memcpy(out->name, nif->name, sizeof(out->name));
	out->netif = &nif->netif;
	out->ifindex = netif_get_index(&nif->netif);
	out->nd = nif->nd;
	out->model = nif->nd->model;
	memcpy(out->mac, nif->nd->mac, sizeof(out->mac));
	out->mtu = nif->netif.mtu;
	out->flags = link_flags(&nif->netif) | NET_IFF_BROADCAST | NET_IFF_MULTICAST;
	out->rx_packets = nif->rx_packets;
	out->rx_bytes = nif->rx_bytes;
	out->rx_dropped = nif->rx_dropped;
	out->tx_packets = nif->tx_packets;
	out->tx_bytes = nif->tx_bytes;
	out->tx_dropped = nif->tx_dropped;
	return 0;
}

const char *net_if_name(const struct netif *netif)
{
	for (unsigned i = 0; i < nifs; i++) {
		if (&ifs[i].netif == netif)
			return ifs[i].name;
	}
	return "lo";
}
