/*
 * stack - lwIP's one context in the kernel, and its interfaces.
 *
 * lwIP (NO_SYS, raw API) is not re-entrant and has no locks. It is called
 * from exactly two places, both kernel context with interrupts off and
 * never from an interrupt handler:
 *   - syscall handlers (the socket layer, net/socket.c and net/inet.c);
 *   - the stack's deferred work (kernel/defer.h), which polls every NIC
 *     for received frames (budgeted), delivers what the loopback queues
 *     hold, runs lwIP's timeouts (sys_check_timeouts) and re-arms the
 *     stack's timer for the next one.
 * What raises that work: a NIC's interrupt (netdev_notify), the stack's
 * timer (a background ktimer armed for lwIP's next timeout: its callback
 * only raises the work), a packet queued on a loopback path (lwIP's
 * netif_loop_output, through the port's hook: a TCP send to 127.0.0.1 is
 * delivered at the end of the syscall that made it), and net_kick().
 *
 * Interfaces: "lo" (127.0.0.1/8 and ::1; ifindex 1) always; "eth0",
 * "eth1", ... one per registered netdev when the network is on (ifindex
 * 2, 3, ... in netdev order). They live for the kernel's life: a struct
 * netif pointer from netif_list or net_if_info stays valid.
 *
 * Frames: a received frame is copied into PBUF_POOL pbufs (a full pool
 * drops the frame and counts it in rx_dropped; never a panic); a sent one
 * is handed to the driver as the pbuf chain's pieces (struct netdev_seg),
 * which the driver copies. Checksums are computed in software both ways:
 * Solo does not use NETDEV_F_TX_CSUM yet (lwIP's software sum over a
 * 1500-byte frame costs little next to the copies); a received frame the
 * device marked NETDEV_RX_CSUM_OK skips lwIP's TCP/UDP check (a virtio
 * peer's partial checksums are only valid that way).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/abi/errno.h"
#include "kernel/klib.h"

struct netdev;
struct netif;

/*
 * net_stack_init - lwIP up with the loopback interface, its deferred work
 * and timer, the netdev notify hook. Once, at boot, before anything else
 * here. Returns 0 (lwIP's init cannot fail: its pools are static).
 */
int net_stack_init(void);

/*
 * net_stack_attach - an lwIP interface over nd, named "eth<nd->index>",
 * administratively up, its link as the driver reports; prints the
 * interface's boot-log line (see net/netcfg.h). Returns the interface, or
 * NULL when lwIP refused it (logged). Boot time, after net_stack_init;
 * addresses are the caller's (net/netcfg.c).
 */
struct netif *net_stack_attach(struct netdev *nd);

/*
 * net_kick - run the stack's work soon: at the end of the current syscall
 * (or at the caller's next defer_run outside one). For the socket layer
 * after an lwIP call that may have started a timer lwIP runs through
 * sys_check_timeouts (tcp_connect, tcp_listen, a first tcp_write): the
 * work re-arms the stack's timer for it. Not needed for delivery: a send
 * on a loopback path raises the work itself, and frames go out at once.
 * Never blocks; callable from interrupt handlers too.
 */
void net_kick(void);

/*
 * net_app_exit - at the app's exit, after its descriptors are closed (the
 * socket layer has closed its sockets): first lets the stack run until
 * what the app sent is out (acknowledged connections, empty transmit
 * rings; two seconds at most, so it may block that long), then frees what
 * lwIP still holds for
 * the app, so every page the app caused to be taken comes back: aborts
 * every TCP pcb still alive (closing, TIME_WAIT, listening, bound),
 * removes every UDP pcb but DHCP's, drains the loopback queues and drops
 * the frames waiting for ARP or neighbour discovery. Callbacks are cleared
 * before the abort, so no socket-layer state (already freed) is touched.
 */
void net_app_exit(void);

/* ---------------------------------------------------------------- interfaces */

#define NET_IFNAME_MAX 16 /* IFNAMSIZ, with the NUL */

/* net_ifinfo.flags: the values of Linux's IFF_* (linux/if.h). */
#define NET_IFF_UP	  0x1u
#define NET_IFF_BROADCAST 0x2u
#define NET_IFF_LOOPBACK  0x8u
#define NET_IFF_RUNNING	  0x40u
#define NET_IFF_MULTICAST 0x1000u
#define NET_IFF_LOWER_UP  0x10000u

/* One interface as the socket layer's ioctls and netlink describe it. */
struct net_ifinfo {
	char name[NET_IFNAME_MAX]; /* "lo", "eth0" */
	unsigned ifindex;	   /* lwIP's netif_get_index: lo 1, eth0 2, ... */
	struct netif *netif;	   /* lwIP's; its addresses; lives for the kernel's life */
	const struct netdev *nd;   /* NULL for lo */
	const char *model;	   /* "loopback", or the driver's ("virtio-net") */
	uint8_t mac[6];		   /* zeros for lo */
	unsigned mtu;		   /* bytes of IP packet: 1500; lo 65536 as Linux */
	unsigned flags;		   /* NET_IFF_* now (RUNNING, LOWER_UP: the link) */
	uint64_t rx_packets, rx_bytes, rx_dropped; /* dropped: no pbuf, or lwIP refused */
	uint64_t tx_packets, tx_bytes, tx_dropped; /* dropped: the device refused */
};

/* How many interfaces there are (lo and the attached NICs). */
unsigned net_if_count(void);
/*
 * net_if_info - the i-th interface (0: lo, then eth0, ...) into *out.
 * Returns 0, or -ENODEV for i >= net_if_count(). No side effects.
 */
int net_if_info(unsigned i, struct net_ifinfo *out);
/* The same by name ("eth0") or by ifindex; -ENODEV when there is none.
 * Inline over the two above, so the host tests' stand-ins for those serve
 * them too. */
static inline int net_if_by_name(const char *name, struct net_ifinfo *out)
{
	for (unsigned i = 0; i < net_if_count(); i++) {
		if (!net_if_info(i, out) && !strcmp(out->name, name))
			return 0;
	}
	return -ENODEV;
}

static inline int net_if_by_index(unsigned ifindex, struct net_ifinfo *out)
{
	for (unsigned i = 0; i < net_if_count(); i++) {
		if (!net_if_info(i, out) && out->ifindex == ifindex)
			return 0;
	}
	return -ENODEV;
}
/* The Linux name of an lwIP interface of the stack's ("eth0"; "lo" for
 * the loopback and anything else). Static storage. */
const char *net_if_name(const struct netif *netif);
