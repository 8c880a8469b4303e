/*
 * AF_NETLINK (NETLINK_ROUTE) and the interface ioctls (see netlink.h).
 *
 * A request datagram may hold several messages; each is checked against
 * what is left of the datagram before anything of it is read (a length
 * below the header or past the end ends the walk, as Linux's
 * netlink_rcv_skb), and attributes are walked the same way. Replies are
 * built message by message in a fixed buffer (the largest, RTM_NEWLINK
 * with both statistics blocks, is about 500 bytes) and packed into reply
 * datagrams; the whole reply is queued at once or not at all.
 */
#include "net/netlink.h"

#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/poll.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/panic.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "mm/kmalloc.h"
#include "net/stack.h"

#define NL_PID_FIRST  1u	  /* the first socket's port id: the app's pid, as Linux */
#define NL_ROVER      0xfffff000u /* then -4096, -4097, ... */
#define NL_MSG_MAX    1024u	  /* one reply message */
#define TXQLEN	      1000u
#define LINK_ADDR_LEN 6u

struct nl_dgram {
	struct nl_dgram *next;
	uint32_t len;
	char data[];
};

struct nl_sock {
	struct sock s; /* first */
	struct nl_sock *next;
	uint32_t portid; /* 0 until bound */
	uint32_t groups;
	uint32_t dst_portid, dst_groups;
	int cap_ack; /* NETLINK_CAP_ACK: errors do not echo the request */
	struct nl_dgram *head, *tail;
	size_t queued;
};

/* A reply being built: its datagrams, and the message being written. */
struct nl_reply {
	struct nl_dgram *head, *tail;
	size_t total;
	int nomem;
	uint32_t seq, portid;
	uint32_t len; /* of the message in buf */
	char buf[NL_MSG_MAX] __attribute__((aligned(8)));
};

static const struct sock_ops netlink_ops;
static struct nl_sock *nl_all;
static uint32_t nl_rover = NL_ROVER;

static struct nl_sock *NL(struct sock *s)
{
	return (struct nl_sock *)s;
}

/* ---------------------------------------------------------------- building replies */

static void msg_start(struct nl_reply *r, uint16_t type, uint16_t flags)
{
	struct linux_nlmsghdr h = {
	    .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = r->seq, .nlmsg_pid = r->portid};

	memcpy(r->buf, &h, sizeof(h));
	r->len = NLMSG_HDRLEN;
}

/* Appends len bytes, padded to 4; the sizes are fixed here, so running
 * out of the buffer is a bug of this file. */
static void msg_put(struct nl_reply *r, const void *data, size_t len)
{
	if (len > NL_MSG_MAX - r->len)
		panic("netlink: reply message over %u bytes", NL_MSG_MAX);
	memcpy(r->buf + r->len, data, len);
	memset(r->buf + r->len + len, 0, NLMSG_ALIGN(len) - len);
	r->len += NLMSG_ALIGN((uint32_t)len);
}

static void attr_put(struct nl_reply *r, uint16_t type, const void *data, size_t len)
{
	struct linux_rtattr a = {.rta_len = (uint16_t)RTA_LENGTH(len), .rta_type = type};

	msg_put(r, &a, sizeof(a));
	r->len -= NLMSG_ALIGN((uint32_t)sizeof(a)) - (uint32_t)sizeof(a);
	msg_put(r, data, len);
}

static void attr_u32(struct nl_reply *r, uint16_t type, uint32_t v)
{
	attr_put(r, type, &v, sizeof(v));
}

static void attr_u8(struct nl_reply *r, uint16_t type, uint8_t v)
{
	attr_put(r, type, &v, sizeof(v));
}

/* Ends the message in buf and packs it into the reply's datagrams. */
static void msg_end(struct nl_reply *r)
{
	struct nl_dgram *d = r->tail;
	uint32_t len = r->len;

	memcpy(r->buf, &len, sizeof(len)); /* nlmsg_len */
	if (r->nomem)
		return;
	if (!d || d->len + len > NETLINK_DGRAM_MAX) {
		d = kmalloc(sizeof(*d) + NETLINK_DGRAM_MAX);
		if (!d) {
			r->nomem = 1;
			return;
		}
		d->next = NULL;
		d->len = 0;
		if (r->tail)
			r->tail->next = d;
		else
			r->head = d;
		r->tail = d;
	}
	memcpy(d->data + d->len, r->buf, len);
	d->len += len;
	r->total += len;
}

static void reply_free(struct nl_reply *r)
{
	while (r->head) {
		struct nl_dgram *d = r->head;
		r->head = d->next;
		kfree(d);
	}
	r->tail = NULL;
}

/* NLMSG_ERROR for the request h with body (len bytes): error 0 is an
 * acknowledgement (the request's header only, NLM_F_CAPPED), an error
 * echoes the request as far as it fits (or not at all with
 * NETLINK_CAP_ACK). */
static void put_error(struct nl_reply *r, const struct linux_nlmsghdr *h, const char *body,
		      size_t len, int err, int cap)
{
	struct linux_nlmsgerr e = {.error = err, .msg = *h};
	size_t room = NL_MSG_MAX - NLMSG_HDRLEN - sizeof(e) - NLMSG_ALIGNTO;
	int capped = !err || cap || len > room;

	msg_start(r, NLMSG_ERROR, capped ? NLM_F_CAPPED : 0);
	msg_put(r, &e, sizeof(e));
	if (!capped)
		msg_put(r, body, len);
	msg_end(r);
}

static void put_done(struct nl_reply *r)
{
	int32_t zero = 0;

	msg_start(r, NLMSG_DONE, NLM_F_MULTI);
	msg_put(r, &zero, sizeof(zero));
	msg_end(r);
}

/* ---------------------------------------------------------------- interfaces */

static int is_loopback(const struct net_ifinfo *ifi)
{
	return (ifi->flags & NET_IFF_LOOPBACK) != 0;
}

/* The interface's IPv4 address and netmask (network order): 0, or
 * -EADDRNOTAVAIL when it has none. */
static int if_ip4(const struct net_ifinfo *ifi, uint32_t *addr, uint32_t *mask)
{
	if (!ifi->netif)
		return -EADDRNOTAVAIL;
	*addr = ip4_addr_get_u32(netif_ip4_addr(ifi->netif));
	*mask = ip4_addr_get_u32(netif_ip4_netmask(ifi->netif));
	return *addr ? 0 : -EADDRNOTAVAIL;
}

static uint32_t if_broadcast(const struct net_ifinfo *ifi, uint32_t addr, uint32_t mask)
{
	return is_loopback(ifi) ? 0 : (addr | ~mask);
}

static uint8_t prefix_len(uint32_t mask_net)
{
	uint32_t m = lwip_ntohl(mask_net);
	uint8_t n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

static void link_stats(const struct net_ifinfo *ifi, struct linux_rtnl_link_stats64 *st)
{
	*st = (struct linux_rtnl_link_stats64){
	    .rx_packets = ifi->rx_packets,
	    .tx_packets = ifi->tx_packets,
	    .rx_bytes = ifi->rx_bytes,
	    .tx_bytes = ifi->tx_bytes,
	    .rx_dropped = ifi->rx_dropped,
	    .tx_dropped = ifi->tx_dropped,
	};
}

static void put_link(struct nl_reply *r, const struct net_ifinfo *ifi, uint16_t flags)
{
	static const uint8_t bcast[LINK_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t none[LINK_ADDR_LEN];
	int lo = is_loopback(ifi);
	struct linux_ifinfomsg ifm = {
	    .ifi_family = AF_UNSPEC,
	    .ifi_type = lo ? ARPHRD_LOOPBACK : ARPHRD_ETHER,
	    .ifi_index = (int32_t)ifi->ifindex,
	    .ifi_flags = ifi->flags,
	};
	struct linux_rtnl_link_stats64 st64;
	struct linux_rtnl_link_stats st32;
	uint8_t oper = lo				? IF_OPER_UNKNOWN
		       : (ifi->flags & NET_IFF_RUNNING) ? IF_OPER_UP
							: IF_OPER_DOWN;

	link_stats(ifi, &st64);
	st32 = (struct linux_rtnl_link_stats){
	    .rx_packets = (uint32_t)st64.rx_packets,
	    .tx_packets = (uint32_t)st64.tx_packets,
	    .rx_bytes = (uint32_t)st64.rx_bytes,
	    .tx_bytes = (uint32_t)st64.tx_bytes,
	    .rx_dropped = (uint32_t)st64.rx_dropped,
	    .tx_dropped = (uint32_t)st64.tx_dropped,
	};
	msg_start(r, RTM_NEWLINK, flags);
	msg_put(r, &ifm, sizeof(ifm));
	attr_put(r, IFLA_IFNAME, ifi->name, strlen(ifi->name) + 1);
	attr_u32(r, IFLA_TXQLEN, TXQLEN);
	attr_u8(r, IFLA_OPERSTATE, oper);
	attr_u8(r, IFLA_LINKMODE, 0);
	attr_u32(r, IFLA_MTU, ifi->mtu);
	attr_u32(r, IFLA_GROUP, 0);
	attr_u32(r, IFLA_PROMISCUITY, 0);
	attr_u32(r, IFLA_NUM_TX_QUEUES, 1);
	attr_u32(r, IFLA_NUM_RX_QUEUES, 1);
	attr_u8(r, IFLA_CARRIER, (ifi->flags & NET_IFF_RUNNING) != 0);
	attr_put(r, IFLA_ADDRESS, lo ? none : ifi->mac, LINK_ADDR_LEN);
	attr_put(r, IFLA_BROADCAST, lo ? none : bcast, LINK_ADDR_LEN);
	attr_put(r, IFLA_STATS64, &st64, sizeof(st64));
	attr_put(r, IFLA_STATS, &st32, sizeof(st32));
	msg_end(r);
}

static void put_cacheinfo(struct nl_reply *r)
{
	struct linux_ifa_cacheinfo ci = {.ifa_prefered = 0xffffffffu, .ifa_valid = 0xffffffffu};

	attr_put(r, IFA_CACHEINFO, &ci, sizeof(ci));
}

static void put_addr4(struct nl_reply *r, const struct net_ifinfo *ifi)
{
	uint32_t addr, mask;

	if (if_ip4(ifi, &addr, &mask))
		return;
	struct linux_ifaddrmsg ifa = {
	    .ifa_family = AF_INET,
	    .ifa_prefixlen = prefix_len(mask),
	    .ifa_flags = IFA_F_PERMANENT,
	    .ifa_scope = is_loopback(ifi) ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE,
	    .ifa_index = ifi->ifindex,
	};
	msg_start(r, RTM_NEWADDR, NLM_F_MULTI);
	msg_put(r, &ifa, sizeof(ifa));
	attr_put(r, IFA_ADDRESS, &addr, sizeof(addr));
	attr_put(r, IFA_LOCAL, &addr, sizeof(addr));
	if (!is_loopback(ifi)) {
		uint32_t b = if_broadcast(ifi, addr, mask);
		attr_put(r, IFA_BROADCAST, &b, sizeof(b));
	}
	attr_put(r, IFA_LABEL, ifi->name, strlen(ifi->name) + 1);
	attr_u32(r, IFA_FLAGS, IFA_F_PERMANENT);
	put_cacheinfo(r);
	msg_end(r);
}

static void put_addr6(struct nl_reply *r, const struct net_ifinfo *ifi)
{
	if (!ifi->netif)
		return;
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		u8_t state = netif_ip6_addr_state(ifi->netif, i);
		const ip6_addr_t *a = netif_ip6_addr(ifi->netif, i);
		uint8_t bytes[16];

		/* Linux lists an address while duplicate detection still
		 * runs (tentative, about a second after the link comes up),
		 * so programs that look once at start see it. */
		if (!ip6_addr_isvalid(state) && !ip6_addr_istentative(state))
			continue;
		memcpy(bytes, a->addr, sizeof(bytes));
		uint32_t flags = IFA_F_PERMANENT;
		if (ip6_addr_isdeprecated(state))
			flags |= IFA_F_DEPRECATED;
		if (ip6_addr_istentative(state))
			flags |= IFA_F_TENTATIVE;
		struct linux_ifaddrmsg ifa = {
		    .ifa_family = AF_INET6,
		    .ifa_prefixlen = ip6_addr_isloopback(a) ? 128 : 64,
		    .ifa_flags = (uint8_t)flags,
		    .ifa_scope = ip6_addr_isloopback(a)	   ? RT_SCOPE_HOST
				 : ip6_addr_islinklocal(a) ? RT_SCOPE_LINK
							   : RT_SCOPE_UNIVERSE,
		    .ifa_index = ifi->ifindex,
		};
		msg_start(r, RTM_NEWADDR, NLM_F_MULTI);
		msg_put(r, &ifa, sizeof(ifa));
		attr_put(r, IFA_ADDRESS, bytes, sizeof(bytes));
		attr_u32(r, IFA_FLAGS, flags);
		put_cacheinfo(r);
		msg_end(r);
	}
}

/* ---------------------------------------------------------------- requests */

/* The interface an RTM_GETLINK without NLM_F_DUMP names: by ifi_index,
 * else by IFLA_IFNAME. -EINVAL when it names none, -ENODEV. */
static int link_target(const char *body, size_t len, struct net_ifinfo *ifi)
{
	struct linux_ifinfomsg ifm;
	struct linux_rtattr a;
	char name[NET_IFNAME_MAX];

	if (len < sizeof(ifm))
		return -EINVAL;
	memcpy(&ifm, body, sizeof(ifm));
	if (ifm.ifi_index > 0)
		return net_if_by_index((unsigned)ifm.ifi_index, ifi);
	for (size_t at = NLMSG_ALIGN(sizeof(ifm)); at < len && len - at >= sizeof(a);) {
		memcpy(&a, body + at, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > len - at)
			break;
		if (a.rta_type == IFLA_IFNAME) {
			size_t n = MIN((size_t)a.rta_len - sizeof(a), sizeof(name) - 1);
			memcpy(name, body + at + sizeof(a), n);
			name[n] = 0;
			return net_if_by_name(name, ifi);
		}
		at += RTA_ALIGN(a.rta_len);
	}
	return -EINVAL;
}

/*
 * One request message: its replies into r. Returns 1 for a dump (never
 * acknowledged), 0 for a request answered (acknowledged when it asks), or
 * -errno (reported with NLMSG_ERROR).
 */
static int handle(struct nl_reply *r, const struct linux_nlmsghdr *h, const char *body, size_t len)
{
	struct net_ifinfo ifi;
	int dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	uint8_t family = len ? (uint8_t)body[0] : AF_UNSPEC; /* rtgenmsg, or the first byte */

	switch (h->nlmsg_type) {
	case RTM_GETLINK:
		if (!dump) {
			int err = link_target(body, len, &ifi);
			if (!err)
				put_link(r, &ifi, 0);
			return err;
		}
		for (unsigned i = 0; !net_if_info(i, &ifi); i++)
			put_link(r, &ifi, NLM_F_MULTI);
		put_done(r);
		return 1;
	case RTM_GETADDR:
		if (!dump)
			return -EOPNOTSUPP;
		if (family == AF_INET || family != AF_INET6) {
			for (unsigned i = 0; !net_if_info(i, &ifi); i++)
				put_addr4(r, &ifi);
		}
		if (family == AF_INET6 || family != AF_INET) {
			for (unsigned i = 0; !net_if_info(i, &ifi); i++)
				put_addr6(r, &ifi);
		}
		put_done(r);
		return 1;
	default:
		return -EOPNOTSUPP;
	}
}

/* Walks the messages of one request datagram (see the top). */
static void process(struct nl_sock *n, const char *buf, size_t len, struct nl_reply *r)
{
	struct linux_nlmsghdr h;

	for (size_t at = 0; len - at >= sizeof(h);) {
		memcpy(&h, buf + at, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - at)
			break;
		const char *body = buf + at + NLMSG_HDRLEN;
		size_t blen = h.nlmsg_len - NLMSG_HDRLEN;
		int err = 0;
		r->seq = h.nlmsg_seq;
		if ((h.nlmsg_flags & NLM_F_REQUEST) && h.nlmsg_type >= NLMSG_MIN_TYPE)
			err = handle(r, &h, body, blen);
		if (err < 0 || (!err && (h.nlmsg_flags & NLM_F_ACK)))
			put_error(r, &h, body, blen, err < 0 ? err : 0, n->cap_ack);
		size_t step = NLMSG_ALIGN((size_t)h.nlmsg_len);
		if (step >= len - at)
			break;
		at += step;
	}
}

/* ---------------------------------------------------------------- the socket */

static int nl_create(int type, int protocol, struct sock **out)
{
	struct nl_sock *n;

	if (type != SOCK_RAW && type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE)
		return -EPROTONOSUPPORT;
	n = zmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	sock_init(&n->s, &netlink_ops, AF_NETLINK, type, protocol);
	n->next = nl_all;
	nl_all = n;
	*out = &n->s;
	return 0;
}

const struct sock_family netlink_family = {.family = AF_NETLINK, .create = nl_create};

static int portid_used(uint32_t portid)
{
	for (struct nl_sock *n = nl_all; n; n = n->next) {
		if (n->portid == portid)
			return 1;
	}
	return 0;
}

/* A port id for an unbound socket: the pid first, then Linux's rover. */
static void autobind(struct nl_sock *n)
{
	uint32_t id = NL_PID_FIRST;

	while (portid_used(id))
		id = nl_rover--;
	n->portid = id;
}

static int nl_addr(const struct linux_sockaddr_storage *a, unsigned len,
		   struct linux_sockaddr_nl *nl)
{
	if (len < sizeof(*nl) || a->ss_family != AF_NETLINK)
		return -EINVAL;
	memcpy(nl, a, sizeof(*nl));
	return 0;
}

static int nl_bind(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len)
{
	struct nl_sock *n = NL(s);
	struct linux_sockaddr_nl nl;
	int err = nl_addr(a, len, &nl);

	if (err)
		return err;
	if (n->portid) {
		if (nl.nl_pid && nl.nl_pid != n->portid)
			return -EINVAL;
	} else if (nl.nl_pid) {
		if (portid_used(nl.nl_pid))
			return -EADDRINUSE;
		n->portid = nl.nl_pid;
	} else {
		autobind(n);
	}
	n->groups = nl.nl_groups;
	return 0;
}

static int nl_connect(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len,
		      int flags)
{
	struct nl_sock *n = NL(s);
	struct linux_sockaddr_nl nl;

	(void)flags;
	if (len >= sizeof(a->ss_family) && a->ss_family == AF_UNSPEC) {
		n->dst_portid = n->dst_groups = 0;
		return 0;
	}
	int err = nl_addr(a, len, &nl);
	if (err)
		return err;
	if (!n->portid)
		autobind(n);
	n->dst_portid = nl.nl_pid;
	n->dst_groups = nl.nl_groups;
	return 0;
}

static void queue_reply(struct nl_sock *n, struct nl_reply *r)
{
	if (!r->head)
		return;
	if (r->nomem || n->queued + r->total > NETLINK_QUEUE_BYTES) {
		reply_free(r);
		n->s.error = ENOBUFS;
		sock_wake(&n->s, POLLERR);
		return;
	}
	if (n->tail)
		n->tail->next = r->head;
	else
		n->head = r->head;
	n->tail = r->tail;
	n->queued += r->total;
	r->head = r->tail = NULL;
	sock_wake(&n->s, POLLIN | POLLRDNORM);
}

static long nl_sendmsg(struct sock *s, struct sock_msg *m, int flags)
{
	static struct nl_reply r; /* one CPU, never preempted: one at a time */
	struct nl_sock *n = NL(s);
	struct linux_sockaddr_nl nl = {.nl_pid = n->dst_portid};
	uint64_t len = iobuf_left(m->data);

	(void)flags;
	if (m->addrlen) {
		int err = nl_addr(&m->addr, m->addrlen, &nl);
		if (err)
			return err;
	}
	if (nl.nl_pid)
		return -ECONNREFUSED; /* only the kernel answers */
	if (len > NETLINK_REQUEST_MAX)
		return -EMSGSIZE;
	if (!n->portid)
		autobind(n);
	char *buf = kmalloc(len ? (size_t)len : 1);
	if (!buf)
		return -ENOBUFS;
	if (iobuf_get(m->data, buf, (size_t)len)) {
		kfree(buf);
		return -EFAULT;
	}
	r.head = r.tail = NULL;
	r.total = 0;
	r.nomem = 0;
	r.portid = n->portid;
	process(n, buf, (size_t)len, &r);
	kfree(buf);
	queue_reply(n, &r);
	return (long)len;
}

static long nl_recvmsg(struct sock *s, struct sock_msg *m, int flags)
{
	struct nl_sock *n = NL(s);
	struct nl_dgram *d = n->head;
	struct linux_sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	m->controllen = 0;
	if (s->error)
		return sock_error_take(s);
	if (!d)
		return (s->shut & SOCK_SHUT_RD) ? 0 : -EAGAIN;
	size_t len = MIN((uint64_t)d->len, iobuf_left(m->data));
	if (iobuf_put(m->data, d->data, len))
		return -EFAULT;
	if (len < d->len)
		m->flags |= MSG_TRUNC;
	memcpy(&m->addr, &kernel, sizeof(kernel));
	m->addrlen = sizeof(kernel);
	size_t full = d->len;
	if (!(flags & MSG_PEEK)) {
		n->head = d->next;
		if (!n->head)
			n->tail = NULL;
		n->queued -= d->len;
		kfree(d);
	}
	return (long)((flags & MSG_TRUNC) ? full : len);
}

static int nl_shutdown(struct sock *s, int how)
{
	s->shut |= how == SHUT_RD   ? SOCK_SHUT_RD
		   : how == SHUT_WR ? SOCK_SHUT_WR
				    : SOCK_SHUT_RD | SOCK_SHUT_WR;
	sock_wake(s, 0);
	return 0;
}

static int nl_getname(struct sock *s, struct linux_sockaddr_storage *a, unsigned *len, int peer)
{
	struct nl_sock *n = NL(s);
	struct linux_sockaddr_nl nl = {
	    .nl_family = AF_NETLINK,
	    .nl_pid = peer ? n->dst_portid : n->portid,
	    .nl_groups = peer ? n->dst_groups : n->groups,
	};

	*a = (struct linux_sockaddr_storage){0};
	memcpy(a, &nl, sizeof(nl));
	*len = sizeof(nl);
	return 0;
}

static int nl_setsockopt(struct sock *s, int level, int name, const void *val, unsigned len)
{
	int32_t v;

	if (level != SOL_NETLINK)
		return -ENOPROTOOPT;
	if (len < sizeof(v))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case NETLINK_CAP_ACK:
		NL(s)->cap_ack = v != 0;
		return 0;
	case NETLINK_ADD_MEMBERSHIP:
	case NETLINK_DROP_MEMBERSHIP:
	case NETLINK_PKTINFO:
	case NETLINK_BROADCAST_ERROR:
	case NETLINK_NO_ENOBUFS:
	case NETLINK_LISTEN_ALL_NSID:
	case NETLINK_EXT_ACK:
	case NETLINK_GET_STRICT_CHK:
		return 0; /* accepted: nothing is multicast, no extended acks */
	default:
		return -ENOPROTOOPT;
	}
}

static int nl_getsockopt(struct sock *s, int level, int name, void *val, unsigned *len)
{
	int32_t v = 0;

	if (level != SOL_NETLINK)
		return -ENOPROTOOPT;
	if (name == NETLINK_CAP_ACK)
		v = NL(s)->cap_ack;
	else if (name != NETLINK_PKTINFO && name != NETLINK_BROADCAST_ERROR &&
		 name != NETLINK_NO_ENOBUFS && name != NETLINK_LISTEN_ALL_NSID &&
		 name != NETLINK_EXT_ACK && name != NETLINK_GET_STRICT_CHK)
		return -ENOPROTOOPT;
	if (*len < sizeof(v))
		return -EINVAL;
	*len = sizeof(v);
	memcpy(val, &v, sizeof(v));
	return 0;
}

static unsigned nl_poll(struct sock *s, struct poll_table *pt)
{
	unsigned ev = POLLOUT | POLLWRNORM;

	poll_wait(pt, &s->wq);
	if (NL(s)->head || (s->shut & SOCK_SHUT_RD))
		ev |= POLLIN | POLLRDNORM;
	if (s->error)
		ev |= POLLERR;
	return ev;
}

static long nl_inq(struct sock *s)
{
	return NL(s)->head ? (long)NL(s)->head->len : 0;
}

static void nl_release(struct sock *s)
{
	struct nl_sock *n = NL(s);

	for (struct nl_sock **p = &nl_all; *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			break;
		}
	}
	while (n->head) {
		struct nl_dgram *d = n->head;
		n->head = d->next;
		kfree(d);
	}
	kfree(n);
}

static const struct sock_ops netlink_ops = {
    .bind = nl_bind,
    .connect = nl_connect,
    .sendmsg = nl_sendmsg,
    .recvmsg = nl_recvmsg,
    .shutdown = nl_shutdown,
    .getname = nl_getname,
    .setsockopt = nl_setsockopt,
    .getsockopt = nl_getsockopt,
    .poll = nl_poll,
    .inq = nl_inq,
    .release = nl_release,
};

/* ---------------------------------------------------------------- the interface ioctls */

static void sockaddr_in_put(struct linux_sockaddr *sa, uint32_t addr)
{
	struct linux_sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = {addr}};

	memcpy(sa, &sin, sizeof(sin));
}

static long ifconf(uint64_t arg)
{
	struct linux_ifconf ic;
	struct net_ifinfo ifi;
	int32_t used = 0;

	if (app_copy_from(&ic, arg, sizeof(ic)))
		return -EFAULT;
	for (unsigned i = 0; !net_if_info(i, &ifi); i++) {
		uint32_t addr, mask;
		if (if_ip4(&ifi, &addr, &mask))
			continue;
		if (ic.ifc_buf) {
			struct linux_ifreq req = {0};
			if (ic.ifc_len < 0 || (size_t)(ic.ifc_len - used) < sizeof(req))
				break;
			memcpy(req.ifr_name, ifi.name, sizeof(req.ifr_name));
			sockaddr_in_put(&req.ifr_addr, addr);
			if (app_copy_to(ic.ifc_buf + (uint64_t)used, &req, sizeof(req)))
				return -EFAULT;
		}
		used += (int32_t)sizeof(struct linux_ifreq);
	}
	ic.ifc_len = used;
	return app_copy_to(arg, &ic, sizeof(ic));
}

static int is_set_request(unsigned cmd)
{
	switch (cmd) {
	case SIOCSIFFLAGS:
	case SIOCSIFADDR:
	case SIOCSIFDSTADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFNETMASK:
	case SIOCSIFMETRIC:
	case SIOCSIFMTU:
	case SIOCSIFNAME:
	case SIOCSIFHWADDR:
	case SIOCADDMULTI:
	case SIOCDELMULTI:
	case SIOCSIFTXQLEN:
	case SIOCSIFMAP:
		return 1;
	default:
		return 0;
	}
}

/* The answer to one SIOCGIF* about ifi into req: 0, -EADDRNOTAVAIL, -ENOTTY. */
static int ifreq_answer(unsigned cmd, const struct net_ifinfo *ifi, struct linux_ifreq *req)
{
	uint32_t addr = 0, mask = 0;
	int err;

	memset(&req->ifr_map, 0, sizeof(req->ifr_map)); /* the union's largest member */
	switch (cmd) {
	case SIOCGIFFLAGS:
		req->ifr_flags = (int16_t)(ifi->flags & 0xffff);
		return 0;
	case SIOCGIFADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFBRDADDR:
		err = if_ip4(ifi, &addr, &mask);
		if (err)
			return err;
		if (cmd == SIOCGIFNETMASK)
			addr = mask;
		else if (cmd == SIOCGIFBRDADDR)
			addr = if_broadcast(ifi, addr, mask);
		sockaddr_in_put(&req->ifr_addr, addr);
		return 0;
	case SIOCGIFHWADDR:
		req->ifr_hwaddr.sa_family = is_loopback(ifi) ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
		memcpy(req->ifr_hwaddr.sa_data, ifi->mac, LINK_ADDR_LEN);
		return 0;
	case SIOCGIFINDEX:
		req->ifr_ifindex = (int32_t)ifi->ifindex;
		return 0;
	case SIOCGIFMTU:
		req->ifr_mtu = (int32_t)ifi->mtu;
		return 0;
	case SIOCGIFTXQLEN:
		req->ifr_ifindex = TXQLEN; /* ifr_qlen */
		return 0;
	case SIOCGIFMETRIC:
	case SIOCGIFMAP:
		return 0;
	default:
		return -ENOTTY;
	}
}

long netlink_interface_ioctl(unsigned cmd, uint64_t arg)
{
	struct linux_ifreq req;
	struct net_ifinfo ifi;

	if (cmd == SIOCGIFCONF)
		return ifconf(arg);
	if (is_set_request(cmd))
		return -EPERM;
	if (cmd != SIOCGIFNAME && ifreq_answer(cmd, &(struct net_ifinfo){0}, &req) == -ENOTTY)
		return -ENOTTY;
	if (app_copy_from(&req, arg, sizeof(req)))
		return -EFAULT;
	if (cmd == SIOCGIFNAME) {
		if (req.ifr_ifindex <= 0 || net_if_by_index((unsigned)req.ifr_ifindex, &ifi))
			return -ENODEV;
		memcpy(req.ifr_name, ifi.name, sizeof(req.ifr_name));
		return app_copy_to(arg, &req, sizeof(req));
	}
	req.ifr_name[IFNAMSIZ - 1] = 0;
	if (net_if_by_name(req.ifr_name, &ifi))
		return -ENODEV;
	int err = ifreq_answer(cmd, &ifi, &req);
	if (err)
		return err;
	return app_copy_to(arg, &req, sizeof(req));
}
