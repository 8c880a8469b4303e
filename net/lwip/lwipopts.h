/*
 * lwipopts.h - how Solo builds lwIP 2.1.3 (Debian's source, fetched at
 * build time: see the Makefile's lwIP section). Every option that differs
 * from lwIP's src/include/lwip/opt.h is here, with why.
 *
 * The model: NO_SYS, the raw API only, one context. lwIP runs in kernel
 * context on the one CPU, never from an interrupt handler: from syscalls
 * (the socket layer, net/), and from the stack's deferred work (received
 * frames, timeouts) which runs on the way back to ring 3 or in the idle
 * loop (net/stack.c). So it needs no locks (SYS_LIGHTWEIGHT_PROT 0).
 *
 * Memory: the fixed-size pools (PCBs, segments, the receive pbufs) are
 * static arrays in the kernel's .bss, sized for a server with hundreds of
 * connections; a full pool is ERR_MEM to the caller (ENOMEM/ENOBUFS/EAGAIN
 * for the app), never a panic. Variable-size allocations (the payload of
 * tcp_write copies, UDP sends) come from kmalloc (MEM_LIBC_MALLOC), so
 * they go back to the page allocator when the app's sockets close.
 */
#pragma once

/* ---- the model */
#define NO_SYS			1
#define LWIP_SOCKET		0
#define LWIP_NETCONN		0
#define SYS_LIGHTWEIGHT_PROT	0
#define LWIP_TIMERS		1
#define LWIP_NETIF_API		0
#define LWIP_TCPIP_CORE_LOCKING 0

/* ---- memory */
#define MEM_LIBC_MALLOC		1
#define MEM_ALIGNMENT		8
#define MEMP_MEM_MALLOC		0
#define MEMP_NUM_PBUF		1024 /* PBUF_REF/ROM: sendfile and zero-copy sends */
#define MEMP_NUM_RAW_PCB	16
#define MEMP_NUM_UDP_PCB	128
#define MEMP_NUM_TCP_PCB	1024
#define MEMP_NUM_TCP_PCB_LISTEN 128
#define MEMP_NUM_TCP_SEG	4096
#define MEMP_NUM_REASSDATA	8
#define IP_REASS_MAX_PBUFS	64
#define MEMP_NUM_FRAG_PBUF	64
#define MEMP_NUM_ARP_QUEUE	64
#define MEMP_NUM_ND6_QUEUE	64
#define MEMP_NUM_SYS_TIMEOUT	(LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define PBUF_POOL_SIZE		2048 /* receive buffers: 2048 x ~1.6 KiB */
#define PBUF_POOL_BUFSIZE                                                                          \
	LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)
#define MEMP_OVERFLOW_CHECK 0
#define MEMP_SANITY_CHECK   0

/* ---- link and IP */
#define LWIP_ARP		      1
#define ARP_TABLE_SIZE		      64
#define ARP_QUEUEING		      1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_ETHERNET		      1
#define LWIP_IPV4		      1
#define LWIP_IPV6		      1
#define IP_FORWARD		      0
#define IP_REASSEMBLY		      1
#define IP_FRAG			      1
#define IP_DEFAULT_TTL		      64
#define LWIP_IPV6_AUTOCONFIG	      1 /* SLAAC */
#define LWIP_IPV6_DHCP6		      0
#define LWIP_IPV6_MLD		      1 /* ND needs the solicited-node groups */
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_IPV6_NUM_ADDRESSES	      3
#define LWIP_ND6_NUM_NEIGHBORS	      32
#define LWIP_ND6_NUM_DESTINATIONS     64
#define LWIP_ICMP		      1
#define LWIP_ICMP6		      1
#define LWIP_RAW		      1
#define LWIP_IGMP		      0
#define LWIP_AUTOIP		      0
#define LWIP_HAVE_LOOPIF	      1 /* lo: 127.0.0.1 and ::1 */
#define LWIP_NETIF_LOOPBACK	      1 /* sends to a netif's own address loop back */
#define LWIP_LOOPBACK_MAX_PBUFS	      0
/*
 * Loopback delivery in NO_SYS: lwIP queues a packet for a loopback path
 * (127.0.0.1, ::1, or an interface's own address) and someone must call
 * netif_poll. The "multithreading" variant is the one that says when: on
 * the first packet queued it calls tcpip_try_callback(netif_poll, netif),
 * which here is the port's hook (port.c): the stack raises its deferred
 * work, which polls the queues at the end of the same syscall. lwIP then
 * leaves netif_poll_all out; port.c provides it (every interface's queue).
 */
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 1
#define tcpip_try_callback(fn, netif)	   lwip_port_loopback_queued(netif)
int lwip_port_loopback_queued(void *netif);
void netif_poll_all(void);
#define LWIP_NETIF_STATUS_CALLBACK   1
#define LWIP_NETIF_LINK_CALLBACK     1
#define LWIP_NETIF_HOSTNAME	     1
#define LWIP_SINGLE_NETIF	     0
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1 /* a NIC with checksum offload skips the software sum */

/* ---- DHCP and DNS: lwIP's DHCP client; DNS is the app's (resolv.conf) */
#define LWIP_DHCP		  1
#define DHCP_DOES_ARP_CHECK	  0 /* the ARP probe adds ~1 s to every boot */
#define LWIP_DHCP_GET_NTP_SRV	  0
#define LWIP_DNS		  1 /* only to keep the DNS servers DHCP hands out */
#define DNS_MAX_SERVERS		  4
#define LWIP_DHCP_MAX_DNS_SERVERS DNS_MAX_SERVERS

/* ---- UDP */
#define LWIP_UDP     1
#define LWIP_UDPLITE 0

/* ---- TCP: large windows with scaling, for bulk transfers */
#define LWIP_TCP		   1
#define TCP_MSS			   1460
#define LWIP_WND_SCALE		   1
#define TCP_RCV_SCALE		   3
#define TCP_WND			   (256 * 1024)
#define TCP_SND_BUF		   (256 * 1024)
#define TCP_SND_QUEUELEN	   ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_SNDLOWAT		   (32 * 1024) /* lwIP keeps it below 64 KiB - 4 MSS */
#define TCP_SNDQUEUELOWAT	   (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE		   TCP_MSS
#define TCP_QUEUE_OOSEQ		   1
#define TCP_OOSEQ_MAX_PBUFS	   64
#define LWIP_TCP_SACK_OUT	   0
#define TCP_LISTEN_BACKLOG	   1
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff
#define LWIP_TCP_KEEPALIVE	   1 /* TCP_KEEPIDLE/INTVL/CNT per pcb */
#define LWIP_TCP_TIMESTAMPS	   0
#define TCP_TTL			   64
#define LWIP_CALLBACK_API	   1
#define LWIP_TCP_PCB_NUM_EXT_ARGS  0
#define SO_REUSE		   1 /* SO_REUSEADDR: bind over TIME_WAIT */
#define SO_REUSE_RXTOALL	   0
/* A SYN to a full listener replaces its oldest half-open connection: SYN floods (net/inet.c). */
struct tcp_pcb;
struct tcp_hdr;
int inet_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr);
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) inet_tcp_inpacket(pcb, hdr)

/* ---- the socket layer's needs */
#define LWIP_SO_RCVBUF		  0 /* net/ keeps its own receive queues */
#define LWIP_NETIF_TX_SINGLE_PBUF 0

/* ---- statistics and debugging off */
#define LWIP_STATS    0
#define LWIP_DEBUG    0
#define LWIP_PERF     0
#define LWIP_NOASSERT 0
