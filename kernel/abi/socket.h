/*
 * Sockets as Linux x86-64 defines them for apps: address families, socket
 * types and flags, the option levels and options (linux/socket.h,
 * asm-generic/socket.h, linux/in.h, linux/in6.h, linux/tcp.h), the
 * message structures of sendmsg/recvmsg (linux/socket.h), the interface
 * ioctls (linux/sockios.h, linux/if.h), and netlink with rtnetlink
 * (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h).
 * Constants and structures only; every one is defined once, here.
 *
 * Addresses inside the structures are in network byte order, as the app
 * writes them; the kernel converts where it uses them (net/).
 */
#pragma once

#include <stdint.h>

/* ---------------------------------------------------------------- families */

#define AF_UNSPEC  0
#define AF_UNIX	   1
#define AF_LOCAL   AF_UNIX
#define AF_INET	   2
#define AF_INET6   10
#define AF_NETLINK 16
#define AF_PACKET  17
#define AF_MAX	   46

/* ---------------------------------------------------------------- types */

#define SOCK_STREAM    1
#define SOCK_DGRAM     2
#define SOCK_RAW       3
#define SOCK_RDM       4
#define SOCK_SEQPACKET 5
#define SOCK_TYPE_MASK 0xf
/* Or'd into socket()'s type, and accept4's / socketpair's flags. */
#define SOCK_NONBLOCK 04000    /* O_NONBLOCK */
#define SOCK_CLOEXEC  02000000 /* O_CLOEXEC */

/* ---------------------------------------------------------------- levels */

#define SOL_IP	    0
#define SOL_SOCKET  1
#define SOL_TCP	    6
#define SOL_UDP	    17
#define SOL_IPV6    41
#define SOL_ICMPV6  58
#define SOL_RAW	    255
#define SOL_NETLINK 270

/* ---------------------------------------------------------------- SOL_SOCKET */

#define SO_DEBUG		 1
#define SO_REUSEADDR		 2
#define SO_TYPE			 3
#define SO_ERROR		 4
#define SO_DONTROUTE		 5
#define SO_BROADCAST		 6
#define SO_SNDBUF		 7
#define SO_RCVBUF		 8
#define SO_KEEPALIVE		 9
#define SO_OOBINLINE		 10
#define SO_NO_CHECK		 11
#define SO_PRIORITY		 12
#define SO_LINGER		 13
#define SO_BSDCOMPAT		 14
#define SO_REUSEPORT		 15
#define SO_PASSCRED		 16
#define SO_PEERCRED		 17
#define SO_RCVLOWAT		 18
#define SO_SNDLOWAT		 19
#define SO_RCVTIMEO		 20 /* SO_RCVTIMEO_OLD: struct timeval */
#define SO_SNDTIMEO		 21 /* SO_SNDTIMEO_OLD */
#define SO_BINDTODEVICE		 25
#define SO_ATTACH_FILTER	 26
#define SO_DETACH_FILTER	 27
#define SO_PEERNAME		 28
#define SO_TIMESTAMP		 29
#define SO_ACCEPTCONN		 30
#define SO_PEERSEC		 31
#define SO_SNDBUFFORCE		 32
#define SO_RCVBUFFORCE		 33
#define SO_PASSSEC		 34
#define SO_TIMESTAMPNS		 35
#define SO_MARK			 36
#define SO_TIMESTAMPING		 37
#define SO_PROTOCOL		 38
#define SO_DOMAIN		 39
#define SO_RXQ_OVFL		 40
#define SO_PEEK_OFF		 42
#define SO_NOFCS		 43
#define SO_BUSY_POLL		 46
#define SO_INCOMING_CPU		 49
#define SO_ATTACH_BPF		 50
#define SO_ATTACH_REUSEPORT_CBPF 51
#define SO_ATTACH_REUSEPORT_EBPF 52
#define SO_INCOMING_NAPI_ID	 56
#define SO_COOKIE		 57
#define SO_PEERGROUPS		 59
#define SO_ZEROCOPY		 60
#define SO_TXTIME		 61
#define SO_BINDTOIFINDEX	 62

/* Ancillary data at SOL_SOCKET (cmsg_type). */
#define SCM_RIGHTS	1
#define SCM_CREDENTIALS 2
#define SCM_TIMESTAMP	SO_TIMESTAMP

/* ---------------------------------------------------------------- protocols */

#define IPPROTO_IP	0
#define IPPROTO_ICMP	1
#define IPPROTO_IGMP	2
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define IPPROTO_IPV6	41
#define IPPROTO_ICMPV6	58
#define IPPROTO_UDPLITE 136
#define IPPROTO_RAW	255

/* ---------------------------------------------------------------- SOL_IP */

#define IP_TOS			1
#define IP_TTL			2
#define IP_HDRINCL		3
#define IP_OPTIONS		4
#define IP_RECVOPTS		6
#define IP_PKTINFO		8
#define IP_MTU_DISCOVER		10
#define IP_RECVERR		11
#define IP_RECVTTL		12
#define IP_RECVTOS		13
#define IP_MTU			14
#define IP_FREEBIND		15
#define IP_BIND_ADDRESS_NO_PORT 24
#define IP_MULTICAST_IF		32
#define IP_MULTICAST_TTL	33
#define IP_MULTICAST_LOOP	34
#define IP_ADD_MEMBERSHIP	35
#define IP_DROP_MEMBERSHIP	36
#define IP_PMTUDISC_DONT	0
#define IP_PMTUDISC_DO		2

/* ---------------------------------------------------------------- SOL_IPV6 */

#define IPV6_ADDRFORM	    1
#define IPV6_2292PKTINFO    2
#define IPV6_CHECKSUM	    7
#define IPV6_UNICAST_HOPS   16
#define IPV6_MULTICAST_IF   17
#define IPV6_MULTICAST_HOPS 18
#define IPV6_MULTICAST_LOOP 19
#define IPV6_JOIN_GROUP	    20 /* IPV6_ADD_MEMBERSHIP */
#define IPV6_LEAVE_GROUP    21 /* IPV6_DROP_MEMBERSHIP */
#define IPV6_MTU_DISCOVER   23
#define IPV6_MTU	    24
#define IPV6_RECVERR	    25
#define IPV6_V6ONLY	    26
#define IPV6_RECVPKTINFO    49
#define IPV6_PKTINFO	    50
#define IPV6_RECVHOPLIMIT   51
#define IPV6_HOPLIMIT	    52
#define IPV6_TCLASS	    67

/* ---------------------------------------------------------------- SOL_TCP */

#define TCP_NODELAY	     1
#define TCP_MAXSEG	     2
#define TCP_CORK	     3
#define TCP_KEEPIDLE	     4
#define TCP_KEEPINTVL	     5
#define TCP_KEEPCNT	     6
#define TCP_SYNCNT	     7
#define TCP_LINGER2	     8
#define TCP_DEFER_ACCEPT     9
#define TCP_WINDOW_CLAMP     10
#define TCP_INFO	     11
#define TCP_QUICKACK	     12
#define TCP_CONGESTION	     13
#define TCP_USER_TIMEOUT     18
#define TCP_FASTOPEN	     23
#define TCP_NOTSENT_LOWAT    25
#define TCP_FASTOPEN_CONNECT 30

/* TCP states as TCP_INFO's tcpi_state and /proc/net/tcp report them. */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_TIME_WAIT	6
#define TCP_CLOSE	7
#define TCP_CLOSE_WAIT	8
#define TCP_LAST_ACK	9
#define TCP_LISTEN	10
#define TCP_CLOSING	11

/* ---------------------------------------------------------------- message flags */

#define MSG_OOB		 0x1
#define MSG_PEEK	 0x2
#define MSG_DONTROUTE	 0x4
#define MSG_CTRUNC	 0x8
#define MSG_PROBE	 0x10
#define MSG_TRUNC	 0x20
#define MSG_DONTWAIT	 0x40
#define MSG_EOR		 0x80
#define MSG_WAITALL	 0x100
#define MSG_FIN		 0x200
#define MSG_SYN		 0x400
#define MSG_CONFIRM	 0x800
#define MSG_RST		 0x1000
#define MSG_ERRQUEUE	 0x2000
#define MSG_NOSIGNAL	 0x4000
#define MSG_MORE	 0x8000
#define MSG_WAITFORONE	 0x10000
#define MSG_BATCH	 0x40000
#define MSG_ZEROCOPY	 0x4000000
#define MSG_FASTOPEN	 0x20000000
#define MSG_CMSG_CLOEXEC 0x40000000

/* shutdown's how */
#define SHUT_RD	  0
#define SHUT_WR	  1
#define SHUT_RDWR 2

#define SOMAXCONN 4096 /* listen's backlog is capped here, as since Linux 5.4 */

/* ---------------------------------------------------------------- addresses */

typedef uint16_t linux_sa_family_t;
typedef uint32_t linux_socklen_t;

struct linux_sockaddr {
	linux_sa_family_t sa_family;
	char sa_data[14];
};
_Static_assert(sizeof(struct linux_sockaddr) == 16, "struct sockaddr is 16 bytes");

/* Big enough and aligned for every address; what the kernel copies in. */
struct linux_sockaddr_storage {
	linux_sa_family_t ss_family;
	char ss_data[118];
	uint64_t ss_align;
};
_Static_assert(sizeof(struct linux_sockaddr_storage) == 128, "sockaddr_storage is 128 bytes");

#define INADDR_ANY	 0x00000000u /* host order */
#define INADDR_BROADCAST 0xffffffffu
#define INADDR_LOOPBACK	 0x7f000001u

struct linux_in_addr {
	uint32_t s_addr; /* network order */
};

struct linux_sockaddr_in {
	linux_sa_family_t sin_family; /* AF_INET */
	uint16_t sin_port;	      /* network order */
	struct linux_in_addr sin_addr;
	uint8_t sin_zero[8];
};
_Static_assert(sizeof(struct linux_sockaddr_in) == 16, "struct sockaddr_in is 16 bytes");

struct linux_in6_addr {
	union {
		uint8_t s6_addr[16];
		uint16_t s6_addr16[8];
		uint32_t s6_addr32[4];
	};
};
_Static_assert(sizeof(struct linux_in6_addr) == 16, "struct in6_addr is 16 bytes");

struct linux_sockaddr_in6 {
	linux_sa_family_t sin6_family; /* AF_INET6 */
	uint16_t sin6_port;	       /* network order */
	uint32_t sin6_flowinfo;
	struct linux_in6_addr sin6_addr;
	uint32_t sin6_scope_id;
};
_Static_assert(sizeof(struct linux_sockaddr_in6) == 28, "struct sockaddr_in6 is 28 bytes");
/* The shortest AF_INET6 address bind/connect take (RFC 2133's, no scope id). */
#define SIN6_LEN_RFC2133 24

#define UNIX_PATH_MAX 108
struct linux_sockaddr_un {
	linux_sa_family_t sun_family; /* AF_UNIX */
	char sun_path[UNIX_PATH_MAX]; /* a path; "\0name" is the abstract namespace */
};
_Static_assert(sizeof(struct linux_sockaddr_un) == 110, "struct sockaddr_un is 110 bytes");

struct linux_sockaddr_nl {
	linux_sa_family_t nl_family; /* AF_NETLINK */
	uint16_t nl_pad;
	uint32_t nl_pid;    /* port id: 0 is the kernel */
	uint32_t nl_groups; /* multicast groups mask */
};
_Static_assert(sizeof(struct linux_sockaddr_nl) == 12, "struct sockaddr_nl is 12 bytes");

/* ---------------------------------------------------------------- messages */

struct linux_msghdr {
	uint64_t msg_name; /* user address of the address, or 0 */
	uint32_t msg_namelen;
	uint32_t pad0;
	uint64_t msg_iov; /* user address of struct linux_iovec[msg_iovlen] */
	uint64_t msg_iovlen;
	uint64_t msg_control; /* user address of the control data */
	uint64_t msg_controllen;
	int32_t msg_flags; /* recvmsg: MSG_TRUNC, MSG_CTRUNC, MSG_EOR, ... */
	uint32_t pad1;
};
_Static_assert(sizeof(struct linux_msghdr) == 56, "x86-64 struct msghdr is 56 bytes");
_Static_assert(__builtin_offsetof(struct linux_msghdr, msg_flags) == 48, "msg_flags at 48");

struct linux_mmsghdr {
	struct linux_msghdr msg_hdr;
	uint32_t msg_len; /* bytes sent or received for this message */
	uint32_t pad;
};
_Static_assert(sizeof(struct linux_mmsghdr) == 64, "x86-64 struct mmsghdr is 64 bytes");

#define UIO_MAXIOV 1024 /* IOV_MAX: the most segments a message may have */

/* Control messages: each a header and its data, aligned to 8 bytes. */
struct linux_cmsghdr {
	uint64_t cmsg_len; /* header + data, unaligned */
	int32_t cmsg_level;
	int32_t cmsg_type;
	/* unsigned char cmsg_data[]; */
};
_Static_assert(sizeof(struct linux_cmsghdr) == 16, "x86-64 struct cmsghdr is 16 bytes");

#define LINUX_CMSG_ALIGN(len) (((len) + sizeof(uint64_t) - 1) & ~(sizeof(uint64_t) - 1))
#define LINUX_CMSG_SPACE(len) (sizeof(struct linux_cmsghdr) + LINUX_CMSG_ALIGN(len))
#define LINUX_CMSG_LEN(len)   (sizeof(struct linux_cmsghdr) + (len))

struct linux_linger {
	int32_t l_onoff;
	int32_t l_linger; /* seconds */
};
_Static_assert(sizeof(struct linux_linger) == 8, "struct linger is 8 bytes");

/* SO_PEERCRED, SCM_CREDENTIALS */
struct linux_ucred {
	int32_t pid;
	uint32_t uid, gid;
};
_Static_assert(sizeof(struct linux_ucred) == 12, "struct ucred is 12 bytes");

/* IP_PKTINFO */
struct linux_in_pktinfo {
	int32_t ipi_ifindex;
	struct linux_in_addr ipi_spec_dst, ipi_addr;
};

/* IPV6_PKTINFO */
struct linux_in6_pktinfo {
	struct linux_in6_addr ipi6_addr;
	int32_t ipi6_ifindex;
};

/* IP_ADD_MEMBERSHIP (struct ip_mreq) and IPV6_JOIN_GROUP (struct ipv6_mreq) */
struct linux_ip_mreq {
	struct linux_in_addr imr_multiaddr, imr_interface;
};
struct linux_ipv6_mreq {
	struct linux_in6_addr ipv6mr_multiaddr;
	int32_t ipv6mr_interface;
};

/* TCP_INFO: the first part of struct tcp_info, which old apps ask for. */
struct linux_tcp_info {
	uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff,
	    tcpi_options;
	uint8_t tcpi_wscale; /* snd_wscale : 4, rcv_wscale : 4 */
	uint8_t tcpi_flags;
	uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
	uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
	uint32_t tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
	uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh,
	    tcpi_snd_cwnd, tcpi_advmss, tcpi_reordering;
	uint32_t tcpi_rcv_rtt, tcpi_rcv_space;
	uint32_t tcpi_total_retrans;
};
_Static_assert(sizeof(struct linux_tcp_info) == 104, "struct tcp_info (to total_retrans)");

/* ---------------------------------------------------------------- interfaces */

#define IFNAMSIZ 16

/* ifreq.ifr_flags (linux/if.h) */
#define IFF_UP		0x1
#define IFF_BROADCAST	0x2
#define IFF_DEBUG	0x4
#define IFF_LOOPBACK	0x8
#define IFF_POINTOPOINT 0x10
#define IFF_NOTRAILERS	0x20
#define IFF_RUNNING	0x40
#define IFF_NOARP	0x80
#define IFF_PROMISC	0x100
#define IFF_ALLMULTI	0x200
#define IFF_MULTICAST	0x1000
#define IFF_LOWER_UP	0x10000

struct linux_ifmap {
	uint64_t mem_start, mem_end;
	uint16_t base_addr;
	uint8_t irq, dma, port;
};
_Static_assert(sizeof(struct linux_ifmap) == 24, "struct ifmap is 24 bytes");

struct linux_ifreq {
	char ifr_name[IFNAMSIZ];
	union {
		struct linux_sockaddr ifr_addr, ifr_dstaddr, ifr_broadaddr, ifr_netmask, ifr_hwaddr;
		int16_t ifr_flags;
		int32_t ifr_ifindex; /* also ifr_metric */
		int32_t ifr_mtu;
		struct linux_ifmap ifr_map;
		char ifr_slave[IFNAMSIZ], ifr_newname[IFNAMSIZ];
		uint64_t ifr_data; /* a user address */
	};
};
_Static_assert(sizeof(struct linux_ifreq) == 40, "x86-64 struct ifreq is 40 bytes");

struct linux_ifconf {
	int32_t ifc_len; /* bytes of the buffer; out: bytes used */
	uint32_t pad;
	uint64_t ifc_buf; /* user address of struct linux_ifreq[], or 0: only the length */
};
_Static_assert(sizeof(struct linux_ifconf) == 16, "x86-64 struct ifconf is 16 bytes");

/* Socket ioctls (linux/sockios.h); FIONREAD and FIONBIO are in termios.h. */
#define SIOCINQ	       FIONREAD
#define SIOCOUTQ       0x5411 /* TIOCOUTQ */
#define SIOCATMARK     0x8905
#define SIOCGSTAMP     0x8906
#define SIOCGIFNAME    0x8910
#define SIOCGIFCONF    0x8912
#define SIOCGIFFLAGS   0x8913
#define SIOCSIFFLAGS   0x8914
#define SIOCGIFADDR    0x8915
#define SIOCSIFADDR    0x8916
#define SIOCGIFDSTADDR 0x8917
#define SIOCSIFDSTADDR 0x8918
#define SIOCGIFBRDADDR 0x8919
#define SIOCSIFBRDADDR 0x891a
#define SIOCGIFNETMASK 0x891b
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFMETRIC  0x891d
#define SIOCSIFMETRIC  0x891e
#define SIOCGIFMTU     0x8921
#define SIOCSIFMTU     0x8922
#define SIOCSIFNAME    0x8923
#define SIOCSIFHWADDR  0x8924
#define SIOCGIFHWADDR  0x8927
#define SIOCADDMULTI   0x8931
#define SIOCDELMULTI   0x8932
#define SIOCGIFINDEX   0x8933
#define SIOCGIFTXQLEN  0x8942
#define SIOCSIFTXQLEN  0x8943
#define SIOCETHTOOL    0x8946
#define SIOCGIFMAP     0x8970
#define SIOCSIFMAP     0x8971
/* The interface ioctls: the range net/socket.c hands to the interface code. */
#define SIOC_IF_FIRST 0x8910
#define SIOC_IF_LAST  0x89ff

/* ARP hardware types (ifr_hwaddr.sa_family, ifinfomsg.ifi_type) */
#define ARPHRD_ETHER	1
#define ARPHRD_LOOPBACK 772
#define ARPHRD_NONE	0xfffe

/* ---------------------------------------------------------------- netlink */

#define NETLINK_ROUTE	       0
#define NETLINK_USERSOCK       2
#define NETLINK_SOCK_DIAG      4
#define NETLINK_NFLOG	       5
#define NETLINK_XFRM	       6
#define NETLINK_SELINUX	       7
#define NETLINK_AUDIT	       9
#define NETLINK_NETFILTER      12
#define NETLINK_KOBJECT_UEVENT 15
#define NETLINK_GENERIC	       16

/* SOL_NETLINK options */
#define NETLINK_ADD_MEMBERSHIP	1
#define NETLINK_DROP_MEMBERSHIP 2
#define NETLINK_PKTINFO		3
#define NETLINK_BROADCAST_ERROR 4
#define NETLINK_NO_ENOBUFS	5
#define NETLINK_LISTEN_ALL_NSID 8
#define NETLINK_CAP_ACK		10
#define NETLINK_EXT_ACK		11
#define NETLINK_GET_STRICT_CHK	12

struct linux_nlmsghdr {
	uint32_t nlmsg_len; /* header included */
	uint16_t nlmsg_type;
	uint16_t nlmsg_flags;
	uint32_t nlmsg_seq;
	uint32_t nlmsg_pid;
};
_Static_assert(sizeof(struct linux_nlmsghdr) == 16, "struct nlmsghdr is 16 bytes");

#define NLM_F_REQUEST	    0x01
#define NLM_F_MULTI	    0x02
#define NLM_F_ACK	    0x04
#define NLM_F_ECHO	    0x08
#define NLM_F_DUMP_INTR	    0x10
#define NLM_F_DUMP_FILTERED 0x20
/* GET requests */
#define NLM_F_ROOT   0x100
#define NLM_F_MATCH  0x200
#define NLM_F_ATOMIC 0x400
#define NLM_F_DUMP   (NLM_F_ROOT | NLM_F_MATCH)
/* NEW requests */
#define NLM_F_REPLACE 0x100
#define NLM_F_EXCL    0x200
#define NLM_F_CREATE  0x400
#define NLM_F_APPEND  0x800
/* acknowledgements */
#define NLM_F_CAPPED   0x100
#define NLM_F_ACK_TLVS 0x200

#define NLMSG_ALIGNTO	  4u
#define NLMSG_ALIGN(len)  (((len) + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1))
#define NLMSG_HDRLEN	  ((uint32_t)NLMSG_ALIGN(sizeof(struct linux_nlmsghdr)))
#define NLMSG_LENGTH(len) ((len) + NLMSG_HDRLEN)
#define NLMSG_SPACE(len)  NLMSG_ALIGN(NLMSG_LENGTH(len))

#define NLMSG_NOOP     0x1
#define NLMSG_ERROR    0x2
#define NLMSG_DONE     0x3
#define NLMSG_OVERRUN  0x4
#define NLMSG_MIN_TYPE 0x10

struct linux_nlmsgerr {
	int32_t error; /* negative errno, or 0 for an acknowledgement */
	struct linux_nlmsghdr msg;
};
_Static_assert(sizeof(struct linux_nlmsgerr) == 20, "struct nlmsgerr is 20 bytes");

struct linux_nlattr {
	uint16_t nla_len;
	uint16_t nla_type;
};

/* ---------------------------------------------------------------- rtnetlink */

#define RTM_NEWLINK    16
#define RTM_DELLINK    17
#define RTM_GETLINK    18
#define RTM_SETLINK    19
#define RTM_NEWADDR    20
#define RTM_DELADDR    21
#define RTM_GETADDR    22
#define RTM_NEWROUTE   24
#define RTM_DELROUTE   25
#define RTM_GETROUTE   26
#define RTM_NEWNEIGH   28
#define RTM_DELNEIGH   29
#define RTM_GETNEIGH   30
#define RTM_NEWRULE    32
#define RTM_DELRULE    33
#define RTM_GETRULE    34
#define RTM_GETNETCONF 82

/* Multicast groups (sockaddr_nl.nl_groups bits, the RTMGRP_* of old) */
#define RTMGRP_LINK	   0x1
#define RTMGRP_NOTIFY	   0x2
#define RTMGRP_NEIGH	   0x4
#define RTMGRP_TC	   0x8
#define RTMGRP_IPV4_IFADDR 0x10
#define RTMGRP_IPV4_MROUTE 0x20
#define RTMGRP_IPV4_ROUTE  0x40
#define RTMGRP_IPV4_RULE   0x80
#define RTMGRP_IPV6_IFADDR 0x100
#define RTMGRP_IPV6_MROUTE 0x200
#define RTMGRP_IPV6_ROUTE  0x400
#define RTMGRP_IPV6_IFINFO 0x800

struct linux_rtattr {
	uint16_t rta_len; /* header included */
	uint16_t rta_type;
};
_Static_assert(sizeof(struct linux_rtattr) == 4, "struct rtattr is 4 bytes");

#define RTA_ALIGNTO	4u
#define RTA_ALIGN(len)	(((len) + RTA_ALIGNTO - 1) & ~(RTA_ALIGNTO - 1))
#define RTA_LENGTH(len) (RTA_ALIGN(sizeof(struct linux_rtattr)) + (len))
#define RTA_SPACE(len)	RTA_ALIGN(RTA_LENGTH(len))

/* RTM_*LINK body */
struct linux_ifinfomsg {
	uint8_t ifi_family;
	uint8_t pad;
	uint16_t ifi_type; /* ARPHRD_* */
	int32_t ifi_index;
	uint32_t ifi_flags; /* IFF_* */
	uint32_t ifi_change;
};
_Static_assert(sizeof(struct linux_ifinfomsg) == 16, "struct ifinfomsg is 16 bytes");

#define IFLA_UNSPEC	   0
#define IFLA_ADDRESS	   1
#define IFLA_BROADCAST	   2
#define IFLA_IFNAME	   3
#define IFLA_MTU	   4
#define IFLA_LINK	   5
#define IFLA_QDISC	   6
#define IFLA_STATS	   7
#define IFLA_TXQLEN	   13
#define IFLA_MAP	   14
#define IFLA_OPERSTATE	   16
#define IFLA_LINKMODE	   17
#define IFLA_STATS64	   23
#define IFLA_GROUP	   27
#define IFLA_PROMISCUITY   30
#define IFLA_NUM_TX_QUEUES 31
#define IFLA_NUM_RX_QUEUES 32
#define IFLA_CARRIER	   33
#define IFLA_MIN_MTU	   50
#define IFLA_MAX_MTU	   51

/* IFLA_STATS and IFLA_STATS64 (linux/if_link.h, up to rx_nohandler) */
#define LINUX_LINK_STATS_FIELDS(T)                                                                 \
	T rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped,            \
	    tx_dropped, multicast, collisions;                                                     \
	T rx_length_errors, rx_over_errors, rx_crc_errors, rx_frame_errors, rx_fifo_errors,        \
	    rx_missed_errors;                                                                      \
	T tx_aborted_errors, tx_carrier_errors, tx_fifo_errors, tx_heartbeat_errors,               \
	    tx_window_errors;                                                                      \
	T rx_compressed, tx_compressed, rx_nohandler
struct linux_rtnl_link_stats {
	LINUX_LINK_STATS_FIELDS(uint32_t);
};
struct linux_rtnl_link_stats64 {
	LINUX_LINK_STATS_FIELDS(uint64_t);
};
_Static_assert(sizeof(struct linux_rtnl_link_stats) == 96, "struct rtnl_link_stats is 96 bytes");
_Static_assert(sizeof(struct linux_rtnl_link_stats64) == 192, "rtnl_link_stats64 is 192 bytes");

/* IFLA_OPERSTATE values (RFC 2863) */
#define IF_OPER_UNKNOWN 0
#define IF_OPER_DOWN	2
#define IF_OPER_UP	6

/* RTM_*ADDR body */
struct linux_ifaddrmsg {
	uint8_t ifa_family;
	uint8_t ifa_prefixlen;
	uint8_t ifa_flags; /* IFA_F_* */
	uint8_t ifa_scope; /* RT_SCOPE_* */
	uint32_t ifa_index;
};
_Static_assert(sizeof(struct linux_ifaddrmsg) == 8, "struct ifaddrmsg is 8 bytes");

#define IFA_UNSPEC    0
#define IFA_ADDRESS   1
#define IFA_LOCAL     2
#define IFA_LABEL     3
#define IFA_BROADCAST 4
#define IFA_ANYCAST   5
#define IFA_CACHEINFO 6
#define IFA_MULTICAST 7
#define IFA_FLAGS     8

#define IFA_F_SECONDARY	  0x01
#define IFA_F_NODAD	  0x02
#define IFA_F_OPTIMISTIC  0x04
#define IFA_F_DADFAILED	  0x08
#define IFA_F_HOMEADDRESS 0x10
#define IFA_F_DEPRECATED  0x20
#define IFA_F_TENTATIVE	  0x40
#define IFA_F_PERMANENT	  0x80

struct linux_ifa_cacheinfo {
	uint32_t ifa_prefered, ifa_valid, cstamp, tstamp;
};

/* RTM_*ROUTE body */
struct linux_rtmsg {
	uint8_t rtm_family;
	uint8_t rtm_dst_len;
	uint8_t rtm_src_len;
	uint8_t rtm_tos;
	uint8_t rtm_table;    /* RT_TABLE_* */
	uint8_t rtm_protocol; /* RTPROT_* */
	uint8_t rtm_scope;    /* RT_SCOPE_* */
	uint8_t rtm_type;     /* RTN_* */
	uint32_t rtm_flags;
};
_Static_assert(sizeof(struct linux_rtmsg) == 12, "struct rtmsg is 12 bytes");

#define RTA_UNSPEC    0
#define RTA_DST	      1
#define RTA_SRC	      2
#define RTA_IIF	      3
#define RTA_OIF	      4
#define RTA_GATEWAY   5
#define RTA_PRIORITY  6
#define RTA_PREFSRC   7
#define RTA_METRICS   8
#define RTA_MULTIPATH 9
#define RTA_FLOW      11
#define RTA_CACHEINFO 12
#define RTA_TABLE     15
#define RTA_PREF      20

#define RTN_UNSPEC	0
#define RTN_UNICAST	1
#define RTN_LOCAL	2
#define RTN_BROADCAST	3
#define RTN_ANYCAST	4
#define RTN_MULTICAST	5
#define RTN_BLACKHOLE	6
#define RTN_UNREACHABLE 7

#define RTPROT_UNSPEC	0
#define RTPROT_REDIRECT 1
#define RTPROT_KERNEL	2
#define RTPROT_BOOT	3
#define RTPROT_STATIC	4
#define RTPROT_RA	9
#define RTPROT_DHCP	16

#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_SITE	  200
#define RT_SCOPE_LINK	  253
#define RT_SCOPE_HOST	  254
#define RT_SCOPE_NOWHERE  255

#define RT_TABLE_UNSPEC	 0
#define RT_TABLE_DEFAULT 253
#define RT_TABLE_MAIN	 254
#define RT_TABLE_LOCAL	 255

/* RTM_*NEIGH body */
struct linux_ndmsg {
	uint8_t ndm_family;
	uint8_t ndm_pad1;
	uint16_t ndm_pad2;
	int32_t ndm_ifindex;
	uint16_t ndm_state;
	uint8_t ndm_flags;
	uint8_t ndm_type;
};
_Static_assert(sizeof(struct linux_ndmsg) == 12, "struct ndmsg is 12 bytes");

#define NDA_UNSPEC    0
#define NDA_DST	      1
#define NDA_LLADDR    2
#define NUD_REACHABLE 0x02
#define NUD_STALE     0x04
#define NUD_PERMANENT 0x80
