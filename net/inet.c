/*
 * AF_INET and AF_INET6 over lwIP's raw API (see inet.h).
 *
 * A TCP socket moves through NEW -> (LISTEN | CONNECTING -> CONNECTED) ->
 * CLOSED. The pcb belongs to the socket until lwIP's err callback says it
 * is gone (a reset, a timeout, an abort): then is->tcp is NULL and never
 * touched again. On close the socket lets go of the pcb: tcp_close (lwIP
 * still sends what is queued and the FIN), or tcp_abort (an RST) when
 * data was left unread or SO_LINGER is on with a zero time, as Linux does;
 * the callbacks are cleared first, so lwIP never calls back into a freed
 * socket.
 *
 * A listener's connections are sockets from the moment lwIP hands them
 * over (the accept callback), queued on the listener until accept takes
 * them; each stays counted in lwIP's backlog (tcp_backlog_delayed) until
 * then, so a full backlog makes lwIP drop new SYNs, as Linux does.
 */
#include "net/inet.h"

#include "fs/iobuf.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/socket.h"
#include "kernel/klib.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h" /* tcp_active_pcbs, tcp_ticks: the SYN hook */
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "mm/kmalloc.h"

#define UDP_MAX_PAYLOAD 65507u /* 65535 - IPv4 header - UDP header */
#define UDP_MAX_QUEUED	256    /* datagrams waiting per socket, at most */
#define BOUNCE_SIZE	16384u /* user data is copied through this to tcp_write */
/* What TCP_KEEP* report before they are set: lwIP's defaults (tcp_priv.h). */
#define KEEPIDLE_DEFAULT_MS  7200000u
#define KEEPINTVL_DEFAULT_MS 75000u
#define KEEPCNT_DEFAULT	     9u

enum inet_state { INET_NEW, INET_LISTEN, INET_CONNECTING, INET_CONNECTED, INET_CLOSED };

struct dgram {
	struct dgram *next;
	ip_addr_t from;
	u16_t port;
	u16_t len;
	char data[];
};

struct inet_sock {
	struct sock s;
	enum inet_state state;
	int v6only;
	union {
		struct tcp_pcb *tcp;
		struct udp_pcb *udp;
	};
	/* TCP: received bytes not yet read, from rx_off in the first pbuf */
	struct pbuf *rx;
	u16_t rx_off;
	uint32_t rx_len;
	int rx_fin; /* the peer sent its FIN */
	/* TCP listener: connections accepted by lwIP, not yet by the app */
	struct inet_sock *accq_head, *accq_tail;
	struct inet_sock *next_pending;
	/* UDP: received datagrams */
	struct dgram *dq_head, *dq_tail;
	unsigned dq_count;
	size_t dq_bytes;
	/* options the pcb cannot keep across its replacement, or that a
	 * listener passes to its connections */
	int nodelay;
	u32_t keep_idle_ms, keep_intvl_ms, keep_cnt;
	int ttl, tos;
};

static char bounce[BOUNCE_SIZE];

static const struct sock_ops tcp_ops, udp_ops;

static struct inet_sock *isk(struct sock *s)
{
	return (struct inet_sock *)s;
}

static int is_v6(const struct inet_sock *is)
{
	return is->s.family == AF_INET6;
}

static int lwip_errno(err_t err)
{
	switch (err) {
	case ERR_OK:
		return 0;
	case ERR_MEM:
	case ERR_BUF:
		return -ENOBUFS;
	case ERR_TIMEOUT:
		return -ETIMEDOUT;
	case ERR_RTE:
		return -ENETUNREACH;
	case ERR_INPROGRESS:
		return -EINPROGRESS;
	case ERR_VAL:
		return -EINVAL;
	case ERR_WOULDBLOCK:
		return -EAGAIN;
	case ERR_USE:
		return -EADDRINUSE;
	case ERR_ALREADY:
		return -EALREADY;
	case ERR_ISCONN:
		return -EISCONN;
	case ERR_CONN:
		return -ENOTCONN;
	case ERR_IF:
		return -ENETDOWN;
	case ERR_ABRT:
		return -ECONNABORTED;
	case ERR_RST:
		return -ECONNRESET;
	case ERR_CLSD:
		return -ENOTCONN;
	case ERR_ARG:
	default:
		return -EINVAL;
	}
}

/* ---------------------------------------------------------------- addresses */

static int is_v4_mapped(const struct linux_in6_addr *a)
{
	return !a->s6_addr32[0] && !a->s6_addr32[1] && a->s6_addr32[2] == lwip_htonl(0xffff);
}

/*
 * The app's address as lwIP's: -EINVAL (short), -EAFNOSUPPORT (another
 * family), -ENETUNREACH (a mapped IPv4 address on an IPV6_V6ONLY socket).
 * The unspecified address is "any" of the socket's kind: both for a
 * dual-stack AF_INET6 socket.
 */
static int addr_from_app(const struct inet_sock *is, const struct linux_sockaddr_storage *a,
			 unsigned len, ip_addr_t *ip, u16_t *port)
{
	if (a->ss_family == AF_INET && (!is_v6(is) || is->s.type == SOCK_DGRAM)) {
		const struct linux_sockaddr_in *in = (const void *)a;
		if (len < sizeof(*in))
			return -EINVAL;
		if (is_v6(is) && is->v6only)
			return -ENETUNREACH;
		ip_addr_set_ip4_u32_val(*ip, in->sin_addr.s_addr);
		*port = lwip_ntohs(in->sin_port);
		return 0;
	}
	if (a->ss_family == AF_INET6 && is_v6(is)) {
		const struct linux_sockaddr_in6 *in6 = (const void *)a;
		if (len < SIN6_LEN_RFC2133)
			return -EINVAL;
		*port = lwip_ntohs(in6->sin6_port);
		if (is_v4_mapped(&in6->sin6_addr)) {
			if (is->v6only)
				return -ENETUNREACH;
			ip_addr_set_ip4_u32_val(*ip, in6->sin6_addr.s6_addr32[3]);
			return 0;
		}
		const uint32_t *w = in6->sin6_addr.s6_addr32;
		if (!w[0] && !w[1] && !w[2] && !w[3]) {
			ip_addr_set(ip, is->v6only ? IP6_ADDR_ANY : IP_ANY_TYPE);
			return 0;
		}
		IP_ADDR6(ip, w[0], w[1], w[2], w[3]);
		if (len >= sizeof(*in6) && in6->sin6_scope_id)
			ip6_addr_set_zone(ip_2_ip6(ip), (u8_t)in6->sin6_scope_id);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* lwIP's address as the app's, in the socket's family. */
static void addr_to_app(const struct inet_sock *is, const ip_addr_t *ip, u16_t port,
			struct linux_sockaddr_storage *a, unsigned *len)
{
	memset(a, 0, sizeof(*a));
	if (!is_v6(is)) {
		struct linux_sockaddr_in *in = (void *)a;
		in->sin_family = AF_INET;
		in->sin_port = lwip_htons(port);
		in->sin_addr.s_addr = IP_IS_V4(ip) ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
		*len = sizeof(*in);
		return;
	}
	struct linux_sockaddr_in6 *in6 = (void *)a;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = lwip_htons(port);
	if (IP_IS_ANY_TYPE_VAL(*ip)) {
		/* all zero: :: */
	} else if (IP_IS_V4(ip)) {
		if (!ip4_addr_isany_val(*ip_2_ip4(ip))) {
			in6->sin6_addr.s6_addr32[2] = lwip_htonl(0xffff);
			in6->sin6_addr.s6_addr32[3] = ip4_addr_get_u32(ip_2_ip4(ip));
		}
	} else {
		const ip6_addr_t *ip6 = ip_2_ip6(ip);
		for (int i = 0; i < 4; i++)
			in6->sin6_addr.s6_addr32[i] = ip6->addr[i];
		if (ip6_addr_has_zone(ip6))
			in6->sin6_scope_id = ip6_addr_zone(ip6);
	}
	*len = sizeof(*in6);
}

/* Whether ip is one of ours (bind's EADDRNOTAVAIL otherwise): any, all
 * of 127.0.0.0/8, or an address of an interface. */
static int addr_is_local(const ip_addr_t *ip)
{
	struct netif *n;

	if (ip_addr_isany(ip))
		return 1;
	if (IP_IS_V4(ip)) {
		if (ip4_addr_isloopback(ip_2_ip4(ip)))
			return 1;
		NETIF_FOREACH(n)
		{
			if (ip4_addr_cmp(netif_ip4_addr(n), ip_2_ip4(ip)))
				return 1;
		}
		return 0;
	}
	NETIF_FOREACH(n)
	{
		if (netif_get_ip6_addr_match(n, ip_2_ip6(ip)) >= 0)
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- creation */

static void tcp_attach(struct inet_sock *is, struct tcp_pcb *pcb);
static void udp_recv_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			u16_t port);

static struct inet_sock *inet_alloc(int family, int type, int protocol)
{
	struct inet_sock *is = zmalloc(sizeof(*is));

	if (!is)
		return NULL;
	sock_init(&is->s, type == SOCK_STREAM ? &tcp_ops : &udp_ops, family, type, protocol);
	is->ttl = -1;
	is->tos = -1;
	return is;
}

/* The pcb type of a new pcb: v4 for AF_INET, "any" (dual stack) or v6. */
static u8_t pcb_type(const struct inet_sock *is)
{
	if (!is_v6(is))
		return IPADDR_TYPE_V4;
	return is->v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY;
}

/* The options the socket holds, onto its (new) TCP pcb. */
static void tcp_apply_options(struct inet_sock *is, struct tcp_pcb *pcb)
{
	if (is->s.opts & SOCK_OPT_REUSEADDR)
		ip_set_option(pcb, SOF_REUSEADDR);
	if (is->s.opts & SOCK_OPT_KEEPALIVE)
		ip_set_option(pcb, SOF_KEEPALIVE);
	else
		ip_reset_option(pcb, SOF_KEEPALIVE);
	if (is->keep_idle_ms)
		pcb->keep_idle = is->keep_idle_ms;
	if (is->keep_intvl_ms)
		pcb->keep_intvl = is->keep_intvl_ms;
	if (is->keep_cnt)
		pcb->keep_cnt = is->keep_cnt;
	if (is->nodelay)
		tcp_nagle_disable(pcb);
	else
		tcp_nagle_enable(pcb);
	if (is->ttl >= 0)
		pcb->ttl = (u8_t)is->ttl;
	if (is->tos >= 0)
		pcb->tos = (u8_t)is->tos;
}

static int inet_create(int family, int type, int protocol, struct sock **out)
{
	struct inet_sock *is;

	if (type == SOCK_STREAM) {
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		protocol = IPPROTO_TCP;
	} else if (type == SOCK_DGRAM) {
		if (protocol && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		protocol = IPPROTO_UDP;
	} else {
		return -ESOCKTNOSUPPORT;
	}
	is = inet_alloc(family, type, protocol);
	if (!is)
		return -ENOMEM;
	if (type == SOCK_STREAM) {
		struct tcp_pcb *pcb = tcp_new_ip_type(pcb_type(is));
		if (!pcb) {
			kfree(is);
			return -ENOBUFS;
		}
		tcp_attach(is, pcb);
	} else {
		is->udp = udp_new_ip_type(pcb_type(is));
		if (!is->udp) {
			kfree(is);
			return -ENOBUFS;
		}
		udp_recv(is->udp, udp_recv_cb, is);
	}
	*out = &is->s;
	return 0;
}

static int inet4_create(int type, int protocol, struct sock **out)
{
	return inet_create(AF_INET, type, protocol, out);
}

static int inet6_create(int type, int protocol, struct sock **out)
{
	return inet_create(AF_INET6, type, protocol, out);
}

const struct sock_family inet_family = {.family = AF_INET, .create = inet4_create};
const struct sock_family inet6_family = {.family = AF_INET6, .create = inet6_create};

/* ---------------------------------------------------------------- TCP: lwIP's callbacks */

static err_t tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct inet_sock *is = arg;

	(void)err;
	if (!p) {
		is->rx_fin = 1;
		sock_wake(&is->s, POLLIN | POLLRDNORM | POLLRDHUP);
		return ERR_OK;
	}
	if (is->s.shut & SOCK_SHUT_RD) { /* nobody will read it: take and drop */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	/* Keep lwIP's receive pool for receiving: a segment that waits for
	 * the app waits in memory of its own (when there is some). */
	if (pbuf_match_allocsrc(p, PBUF_POOL)) {
		struct pbuf *q = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
		if (q) {
			pbuf_free(p);
			p = q;
		}
	}
	is->rx_len += p->tot_len;
	if (is->rx)
		pbuf_cat(is->rx, p);
	else
		is->rx = p;
	sock_wake(&is->s, POLLIN | POLLRDNORM);
	return ERR_OK;
}

static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct inet_sock *is = arg;

	(void)pcb;
	(void)len;
	sock_wake(&is->s, POLLOUT | POLLWRNORM);
	return ERR_OK;
}

/* The pcb is gone (lwIP freed it): never touch it again. */
static void tcp_err_cb(void *arg, err_t err)
{
	struct inet_sock *is = arg;

	is->tcp = NULL;
	if (is->state == INET_CONNECTING)
		is->s.error = err == ERR_RST ? ECONNREFUSED : ETIMEDOUT;
	else if (err == ERR_ABRT)
		is->s.error = ETIMEDOUT; /* lwIP's timers gave up (retransmits, keepalive) */
	else
		is->s.error = -lwip_errno(err);
	is->state = INET_CLOSED;
	sock_wake(&is->s, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
}

static err_t tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct inet_sock *is = arg;

	(void)pcb;
	(void)err; /* always ERR_OK in lwIP 2.1 */
	is->state = INET_CONNECTED;
	sock_wake(&is->s, POLLOUT | POLLWRNORM);
	return ERR_OK;
}

static void tcp_attach(struct inet_sock *is, struct tcp_pcb *pcb)
{
	is->tcp = pcb;
	tcp_arg(pcb, is);
	tcp_recv(pcb, tcp_recv_cb);
	tcp_sent(pcb, tcp_sent_cb);
	tcp_err(pcb, tcp_err_cb);
}

/* Lets go of the pcb: lwIP calls nothing of ours any more. */
static void tcp_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	if (pcb->state == LISTEN) {
		tcp_accept(pcb, NULL);
		return;
	}
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
}

static err_t tcp_accept_cb(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct inet_sock *ls = arg, *c;

	if (err != ERR_OK || !newpcb || !ls)
		return ERR_VAL;
	c = inet_alloc(ls->s.family, SOCK_STREAM, IPPROTO_TCP);
	if (!c)
		return ERR_MEM; /* lwIP aborts the connection */
	c->state = INET_CONNECTED;
	c->v6only = ls->v6only;
	c->nodelay = ls->nodelay;
	c->keep_idle_ms = ls->keep_idle_ms;
	c->keep_intvl_ms = ls->keep_intvl_ms;
	c->keep_cnt = ls->keep_cnt;
	c->ttl = ls->ttl;
	c->tos = ls->tos;
	c->s.opts = ls->s.opts;
	tcp_attach(c, newpcb);
	tcp_apply_options(c, newpcb);
	tcp_backlog_delayed(newpcb); /* counted in the backlog until accept() */
	if (ls->accq_tail)
		ls->accq_tail->next_pending = c;
	else
		ls->accq_head = c;
	ls->accq_tail = c;
	sock_wake(&ls->s, POLLIN | POLLRDNORM);
	return ERR_OK;
}

/* ---------------------------------------------------------------- TCP: the operations */

static int tcp_renew_pcb(struct inet_sock *is)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(pcb_type(is));

	if (!pcb)
		return -ENOBUFS;
	tcp_attach(is, pcb);
	tcp_apply_options(is, pcb);
	is->state = INET_NEW;
	is->rx_fin = 0;
	is->s.shut = 0;
	return 0;
}

static int tcp_bind_op(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len)
{
	struct inet_sock *is = isk(s);
	ip_addr_t ip;
	u16_t port;
	int err = addr_from_app(is, a, len, &ip, &port);

	if (err)
		return err == -ENETUNREACH ? -EINVAL : err;
	if (!is->tcp || is->state != INET_NEW || is->tcp->local_port)
		return -EINVAL;
	if (!addr_is_local(&ip))
		return -EADDRNOTAVAIL;
	tcp_apply_options(is, is->tcp);
	return lwip_errno(tcp_bind(is->tcp, &ip, port));
}

/*
 * lwIP counts a listener's half-open connections (SYN_RCVD) in its backlog
 * beside the established ones waiting for accept(), and keeps a half-open
 * one 20 s (TCP_SYN_RCVD_TIMEOUT): backlog + 1 spoofed SYNs closed a
 * listener to everyone for 20 s (tools/nettorture's syn-flood found it).
 * Linux keeps the SYN queue apart and answers a flood with SYN cookies; we
 * do what FreeBSD's syncache does with a full bucket: a SYN to a full
 * listener takes the place of its oldest half-open connection, dropped
 * without an RST, provided that one has left its SYN-ACK unanswered for
 * SYN_STALE_MS (a real client answers within a round trip; so two SYNs
 * that arrive together still find the backlog as full as before). A
 * connection that finished its handshake is never dropped for it: a full
 * queue of those still refuses SYNs, as on Linux. lwIP calls this
 * (LWIP_HOOK_TCP_INPACKET_PCB, lwipopts.h) for every segment that found a
 * pcb, before it is handled; it never refuses one.
 */
#define SYN_STALE_MS 1000

int inet_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr)
{
	struct tcp_pcb_listen *lpcb = (struct tcp_pcb_listen *)(void *)pcb;
	struct tcp_pcb *p, *oldest = NULL;

	if (pcb->state != LISTEN || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    lpcb->accepts_pending < lpcb->backlog)
		return ERR_OK;
	for (p = tcp_active_pcbs; p; p = p->next)
		if (p->state == SYN_RCVD && p->listener == lpcb &&
		    (u32_t)(tcp_ticks - p->tmr) >= SYN_STALE_MS / TCP_SLOW_INTERVAL &&
		    (!oldest || (u32_t)(tcp_ticks - p->tmr) >= (u32_t)(tcp_ticks - oldest->tmr)))
			oldest = p;
	if (oldest)
		tcp_abandon(oldest, 0); /* gives its backlog place back */
	return ERR_OK;
}

static int tcp_listen_op(struct sock *s, int backlog)
{
	struct inet_sock *is = isk(s);
	u8_t lb = (u8_t)MIN(backlog + 1, 255); /* Linux queues backlog + 1 */
	err_t err;

	if (is->state == INET_LISTEN) {
		((struct tcp_pcb_listen *)(void *)is->tcp)->backlog = lb;
		return 0;
	}
	if (is->state != INET_NEW || !is->tcp)
		return -EINVAL;
	if (!is->tcp->local_port) {
		err = tcp_bind(is->tcp,
			       !is_v6(is)   ? IP4_ADDR_ANY
			       : is->v6only ? IP6_ADDR_ANY
					    : IP_ANY_TYPE,
			       0);
		if (err)
			return lwip_errno(err);
	}
	struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(is->tcp, lb, &err);
	if (!lpcb)
		return err == ERR_USE ? -EADDRINUSE : -ENOBUFS;
	is->tcp = lpcb; /* the old pcb is freed */
	tcp_arg(lpcb, is);
	tcp_accept(lpcb, tcp_accept_cb);
	is->state = INET_LISTEN;
	return 0;
}

static int tcp_accept_op(struct sock *s, struct sock **child)
{
	struct inet_sock *is = isk(s), *c = is->accq_head;

	if (is->state != INET_LISTEN)
		return -EINVAL;
	if (!c)
		return -EAGAIN;
	is->accq_head = c->next_pending;
	if (!is->accq_head)
		is->accq_tail = NULL;
	c->next_pending = NULL;
	if (c->tcp)
		tcp_backlog_accepted(c->tcp);
	*child = &c->s;
	return 0;
}

static int tcp_connect_op(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len,
			  int flags)
{
	struct inet_sock *is = isk(s);
	ip_addr_t ip;
	u16_t port;

	if (flags & SOCK_CONNECT_RETRY) {
		if (is->state == INET_CONNECTING)
			return -EINPROGRESS;
		if (is->state == INET_CONNECTED)
			return 0;
		int err = sock_error_take(s);
		return err ? err : -ECONNABORTED;
	}
	switch (is->state) {
	case INET_CONNECTING:
		return -EALREADY;
	case INET_CONNECTED:
		return -EISCONN;
	case INET_LISTEN:
		return -EINVAL;
	case INET_CLOSED: {
		/* A connect that failed may be tried again, as on Linux. */
		if (is->tcp)
			return -EISCONN;
		int err = tcp_renew_pcb(is);
		if (err)
			return err;
		break;
	}
	case INET_NEW:
		break;
	}
	int err = addr_from_app(is, a, len, &ip, &port);
	if (err)
		return err;
	if (!port)
		return -ECONNREFUSED;
	if (ip_addr_isany(&ip)) /* Linux connects "any" to the loopback */
		ip_addr_set_loopback(IP_IS_V6(&ip), &ip);
	tcp_apply_options(is, is->tcp);
	s->error = 0;
	err_t e = tcp_connect(is->tcp, &ip, port, tcp_connected_cb);
	if (e != ERR_OK)
		return e == ERR_VAL ? -ENETUNREACH : lwip_errno(e);
	is->state = INET_CONNECTING;
	return -EINPROGRESS;
}

static long tcp_sendmsg_op(struct sock *s, struct sock_msg *m, int flags)
{
	struct inet_sock *is = isk(s);
	struct tcp_pcb *pcb = is->tcp;
	long done = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (is->state == INET_CONNECTING)
		return -EAGAIN;
	if (s->error)
		return sock_error_take(s);
	if (is->state == INET_NEW || is->state == INET_LISTEN)
		return -ENOTCONN;
	if (!pcb || (s->shut & SOCK_SHUT_WR))
		return -EPIPE;
	if (!iobuf_left(m->data))
		return 0;
	while (iobuf_left(m->data)) {
		u32_t room = tcp_sndbuf(pcb);
		if (!room || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 1)
			break;
		u16_t n =
		    (u16_t)MIN(MIN((uint64_t)room, iobuf_left(m->data)), (uint64_t)BOUNCE_SIZE);
		struct iobuf saved = *m->data;
		if (iobuf_get(m->data, bounce, n)) {
			if (!done)
				return -EFAULT;
			break;
		}
		u8_t wf = TCP_WRITE_FLAG_COPY;
		if ((flags & MSG_MORE) || iobuf_left(m->data))
			wf |= TCP_WRITE_FLAG_MORE;
		if (tcp_write(pcb, bounce, n, wf) != ERR_OK) {
			*m->data = saved; /* not taken: not moved past */
			break;
		}
		done += n;
	}
	if (done) {
		tcp_output(pcb);
		return done;
	}
	return -EAGAIN;
}

/* Reopens the window by n bytes the app has taken. */
static void tcp_consumed(struct inet_sock *is, uint32_t n)
{
	while (n && is->tcp) {
		u16_t k = (u16_t)MIN(n, 0xffffu);
		tcp_recved(is->tcp, k);
		n -= k;
	}
}

/* Drops the first n bytes of the receive queue. */
static void rx_drop(struct inet_sock *is, uint32_t n)
{
	uint32_t left = n;

	while (left && is->rx) {
		uint32_t in_first = is->rx->len - is->rx_off;
		if (left < in_first) {
			is->rx_off = (u16_t)(is->rx_off + left);
			break;
		}
		left -= in_first;
		struct pbuf *next = is->rx->next;
		if (next)
			pbuf_ref(next);
		pbuf_free(is->rx); /* frees only the first: next holds its own reference */
		is->rx = next;
		is->rx_off = 0;
	}
	is->rx_len -= n;
	tcp_consumed(is, n);
}

static long tcp_recvmsg_op(struct sock *s, struct sock_msg *m, int flags)
{
	struct inet_sock *is = isk(s);
	uint64_t want = iobuf_left(m->data);
	uint32_t done = 0;

	if (flags & MSG_OOB)
		return -EINVAL;
	if (is->state == INET_NEW || is->state == INET_LISTEN)
		return -ENOTCONN;
	if (!is->rx_len || (s->shut & SOCK_SHUT_RD)) {
		if (is->state == INET_CONNECTING)
			return -EAGAIN;
		if (s->error)
			return sock_error_take(s);
		if (is->rx_fin || (s->shut & SOCK_SHUT_RD) || !is->tcp)
			return 0;
		return want ? -EAGAIN : 0;
	}
	want = MIN(want, (uint64_t)is->rx_len);
	if (!(flags & MSG_TRUNC)) {
		u16_t off = is->rx_off;
		for (struct pbuf *q = is->rx; q && done < want; q = q->next, off = 0) {
			uint32_t n = (uint32_t)MIN((uint64_t)(q->len - off), want - done);
			if (iobuf_put(m->data, (char *)q->payload + off, n)) {
				if (!done)
					return -EFAULT;
				break;
			}
			done += n;
		}
	} else {
		done = (uint32_t)want; /* Linux: the bytes are dropped, not copied */
	}
	if (!(flags & MSG_PEEK))
		rx_drop(is, done);
	return done;
}

static int tcp_shutdown_op(struct sock *s, int how)
{
	struct inet_sock *is = isk(s);

	if (is->state == INET_LISTEN && how != SHUT_WR) {
		s->shut |= SOCK_SHUT_RD;
		sock_wake(s, POLLIN | POLLHUP);
		return 0;
	}
	if (is->state != INET_CONNECTED && is->state != INET_CONNECTING &&
	    !(is->state == INET_CLOSED && !is->tcp && is->rx_fin))
		return -ENOTCONN;
	if (how != SHUT_WR) {
		s->shut |= SOCK_SHUT_RD;
		if (is->rx_len)
			rx_drop(is, is->rx_len);
	}
	if (how != SHUT_RD && !(s->shut & SOCK_SHUT_WR)) {
		s->shut |= SOCK_SHUT_WR;
		if (is->tcp && is->state == INET_CONNECTED) {
			tcp_shutdown(is->tcp, 0, 1);
			tcp_output(is->tcp);
		}
	}
	sock_wake(s, POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	return 0;
}

static int inet_getname(struct sock *s, struct linux_sockaddr_storage *a, unsigned *len, int peer)
{
	struct inet_sock *is = isk(s);
	const ip_addr_t *ip = NULL;
	u16_t port = 0;
	ip_addr_t any;

	ip_addr_set(&any, is_v6(is) ? IP6_ADDR_ANY : IP4_ADDR_ANY);
	if (s->type == SOCK_STREAM) {
		if (peer && is->state != INET_CONNECTED)
			return -ENOTCONN;
		if (is->tcp) {
			ip = peer ? &is->tcp->remote_ip : &is->tcp->local_ip;
			port = peer ? is->tcp->remote_port : is->tcp->local_port;
		} else if (peer) {
			return -ENOTCONN;
		}
	} else if (is->udp) {
		if (peer && !(is->udp->flags & UDP_FLAGS_CONNECTED))
			return -ENOTCONN;
		ip = peer ? &is->udp->remote_ip : &is->udp->local_ip;
		port = peer ? is->udp->remote_port : is->udp->local_port;
	}
	addr_to_app(is, ip ? ip : &any, port, a, len);
	return 0;
}

static int int_value(const void *val, unsigned len, int *v)
{
	if (len < sizeof(int32_t))
		return -EINVAL;
	memcpy(v, val, sizeof(*v));
	return 0;
}

/* Options of the IP levels both kinds share; -ENOPROTOOPT when not one. */
static int ip_setsockopt(struct inet_sock *is, int level, int name, int v)
{
	if (level == SOL_IPV6 && name == IPV6_V6ONLY) {
		if (!is_v6(is))
			return -ENOPROTOOPT;
		if (is->state != INET_NEW ||
		    (is->s.type == SOCK_STREAM ? is->tcp && is->tcp->local_port
					       : is->udp && is->udp->local_port))
			return -EINVAL;
		is->v6only = v != 0;
		if (is->s.type == SOCK_STREAM)
			IP_SET_TYPE_VAL(is->tcp->local_ip, pcb_type(is));
		else
			IP_SET_TYPE_VAL(is->udp->local_ip, pcb_type(is));
		return 0;
	}
	if ((level == SOL_IP && name == IP_TTL) ||
	    (level == SOL_IPV6 && name == IPV6_UNICAST_HOPS)) {
		if (v < -1 || v > 255)
			return -EINVAL;
		is->ttl = v < 0 ? 64 : v;
	} else if ((level == SOL_IP && name == IP_TOS) ||
		   (level == SOL_IPV6 && name == IPV6_TCLASS)) {
		is->tos = v & 0xff;
	} else if (level == SOL_IP || level == SOL_IPV6) {
		switch (name) { /* accepted; no effect (no ancillary data, PMTU or errqueue) */
		case IP_RECVERR:
		case IP_MTU_DISCOVER:
		case IP_PKTINFO:
		case IP_FREEBIND:
		case IP_BIND_ADDRESS_NO_PORT:
		case IP_RECVTOS:
		case IP_RECVTTL:
			if (level == SOL_IP)
				return 0;
			return -ENOPROTOOPT;
		case IPV6_RECVERR:
		case IPV6_MTU_DISCOVER:
		case IPV6_RECVPKTINFO:
		case IPV6_RECVHOPLIMIT:
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	} else {
		return -ENOPROTOOPT;
	}
	if (is->s.type == SOCK_STREAM && is->tcp)
		tcp_apply_options(is, is->tcp);
	else if (is->s.type == SOCK_DGRAM && is->udp) {
		if (is->ttl >= 0)
			is->udp->ttl = (u8_t)is->ttl;
		if (is->tos >= 0)
			is->udp->tos = (u8_t)is->tos;
	}
	return 0;
}

static int ip_getsockopt(struct inet_sock *is, int level, int name, int *v)
{
	if (level == SOL_IPV6 && name == IPV6_V6ONLY && is_v6(is))
		*v = is->v6only;
	else if ((level == SOL_IP && name == IP_TTL) ||
		 (level == SOL_IPV6 && name == IPV6_UNICAST_HOPS))
		*v = is->ttl >= 0 ? is->ttl : 64;
	else if ((level == SOL_IP && name == IP_TOS) || (level == SOL_IPV6 && name == IPV6_TCLASS))
		*v = is->tos >= 0 ? is->tos : 0;
	else
		return -ENOPROTOOPT;
	return 0;
}

/*
 * Sends at once what Nagle's rule holds back (Linux's TCP_NAGLE_PUSH), for
 * the options after which Linux pushes the pending frames: TCP_NODELAY set
 * and TCP_CORK cleared.
 */
static void tcp_push(struct tcp_pcb *pcb)
{
	int nagle = !tcp_nagle_disabled(pcb);

	tcp_nagle_disable(pcb);
	tcp_output(pcb);
	if (nagle)
		tcp_nagle_enable(pcb);
}

static int tcp_setsockopt_op(struct sock *s, int level, int name, const void *val, unsigned len)
{
	struct inet_sock *is = isk(s);
	int v, err, push = 0;

	if (level == SOL_SOCKET) {
		if (name != SO_KEEPALIVE && name != SO_REUSEADDR)
			return -ENOPROTOOPT;
		if (is->tcp && is->state != INET_LISTEN)
			tcp_apply_options(is, is->tcp);
		else if (is->tcp && (s->opts & SOCK_OPT_KEEPALIVE))
			ip_set_option(is->tcp, SOF_KEEPALIVE);
		return 0;
	}
	if ((err = int_value(val, len, &v)))
		return err;
	if (level != SOL_TCP)
		return ip_setsockopt(is, level, name, v);
	switch (name) {
	case TCP_NODELAY:
		is->nodelay = v != 0;
		push = is->nodelay;
		break;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		if (name == TCP_KEEPIDLE)
			is->keep_idle_ms = (u32_t)v * 1000;
		else
			is->keep_intvl_ms = (u32_t)v * 1000;
		break;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		is->keep_cnt = (u32_t)v;
		break;
	case TCP_CORK:
		/*
		 * Not kept: what is written under the cork goes out as without
		 * it, but for what Nagle holds. Uncorking sends that at once,
		 * as on Linux; nginx (tcp_nopush) corks around each response's
		 * header and body, and with Nagle on waited for the peer's ACK
		 * of the header before the body left.
		 */
		push = !v;
		break;
	case TCP_QUICKACK:
	case TCP_DEFER_ACCEPT:
	case TCP_USER_TIMEOUT:
	case TCP_FASTOPEN:
	case TCP_NOTSENT_LOWAT:
	case TCP_LINGER2:
	case TCP_SYNCNT:
	case TCP_WINDOW_CLAMP:
	case TCP_MAXSEG:
		return 0; /* accepted: lwIP has no such knob */
	default:
		return -ENOPROTOOPT;
	}
	if (is->tcp && is->state != INET_LISTEN) {
		tcp_apply_options(is, is->tcp);
		if (push && is->state == INET_CONNECTED)
			tcp_push(is->tcp);
	}
	return 0;
}

static int put_int(void *val, unsigned *len, int v)
{
	*len = MIN(*len, (unsigned)sizeof(int32_t));
	memcpy(val, &v, *len);
	return 0;
}

static u8_t tcp_info_state(const struct inet_sock *is)
{
	if (!is->tcp)
		return TCP_CLOSE;
	switch (is->tcp->state) {
	case LISTEN:
		return TCP_LISTEN;
	case SYN_SENT:
		return TCP_SYN_SENT;
	case SYN_RCVD:
		return TCP_SYN_RECV;
	case ESTABLISHED:
		return TCP_ESTABLISHED;
	case FIN_WAIT_1:
		return TCP_FIN_WAIT1;
	case FIN_WAIT_2:
		return TCP_FIN_WAIT2;
	case CLOSE_WAIT:
		return TCP_CLOSE_WAIT;
	case CLOSING:
		return TCP_CLOSING;
	case LAST_ACK:
		return TCP_LAST_ACK;
	case TIME_WAIT:
		return TCP_TIME_WAIT;
	default:
		return TCP_CLOSE;
	}
}

static int tcp_getsockopt_op(struct sock *s, int level, int name, void *val, unsigned *len)
{
	struct inet_sock *is = isk(s);
	int v;

	if (level == SOL_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return put_int(val, len, is->nodelay);
		case TCP_KEEPIDLE:
			return put_int(
			    val, len,
			    (int)((is->keep_idle_ms ? is->keep_idle_ms : KEEPIDLE_DEFAULT_MS) /
				  1000));
		case TCP_KEEPINTVL:
			return put_int(
			    val, len,
			    (int)((is->keep_intvl_ms ? is->keep_intvl_ms : KEEPINTVL_DEFAULT_MS) /
				  1000));
		case TCP_KEEPCNT:
			return put_int(val, len,
				       (int)(is->keep_cnt ? is->keep_cnt : KEEPCNT_DEFAULT));
		case TCP_MAXSEG:
			return put_int(val, len, is->tcp && is->tcp->mss ? is->tcp->mss : TCP_MSS);
		case TCP_INFO: {
			struct linux_tcp_info ti = {0};
			ti.tcpi_state = tcp_info_state(is);
			if (is->tcp && is->state != INET_LISTEN) {
				ti.tcpi_snd_mss = ti.tcpi_advmss = is->tcp->mss;
				ti.tcpi_rcv_mss = TCP_MSS;
				ti.tcpi_snd_cwnd = is->tcp->cwnd;
				ti.tcpi_rtt = (uint32_t)is->tcp->sa * 1000u / 8u;
			}
			*len = MIN(*len, (unsigned)sizeof(ti));
			memcpy(val, &ti, *len);
			return 0;
		}
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == SOL_IP || level == SOL_IPV6) {
		int err = ip_getsockopt(is, level, name, &v);
		return err ? err : put_int(val, len, v);
	}
	return -ENOPROTOOPT;
}

static unsigned tcp_poll_op(struct sock *s, struct poll_table *pt)
{
	struct inet_sock *is = isk(s);
	unsigned ev = 0;

	poll_wait(pt, &s->wq);
	if (s->error)
		ev |= POLLERR;
	switch (is->state) {
	case INET_LISTEN:
		if (is->accq_head)
			ev |= POLLIN | POLLRDNORM;
		if (s->shut & SOCK_SHUT_RD)
			ev |= POLLHUP;
		return ev;
	case INET_NEW:
		return ev | POLLOUT | POLLWRNORM | POLLHUP; /* Linux: a closed socket */
	case INET_CONNECTING:
		return ev;
	case INET_CONNECTED:
	case INET_CLOSED:
		break;
	}
	int rd_shut = is->rx_fin || (s->shut & SOCK_SHUT_RD) || !is->tcp;
	int wr_shut = (s->shut & SOCK_SHUT_WR) || !is->tcp;
	if (is->rx_len || rd_shut)
		ev |= POLLIN | POLLRDNORM;
	if (rd_shut)
		ev |= POLLRDHUP;
	if ((rd_shut && wr_shut) || !is->tcp)
		ev |= POLLHUP;
	if (wr_shut || (tcp_sndbuf(is->tcp) > 0 && tcp_sndqueuelen(is->tcp) < TCP_SND_QUEUELEN - 1))
		ev |= POLLOUT | POLLWRNORM;
	return ev;
}

static long tcp_inq_op(struct sock *s)
{
	return isk(s)->state == INET_LISTEN ? -EINVAL : (long)isk(s)->rx_len;
}

static void tcp_free_rx(struct inet_sock *is)
{
	if (is->rx)
		pbuf_free(is->rx);
	is->rx = NULL;
	is->rx_len = 0;
}

static void tcp_release_op(struct sock *s)
{
	struct inet_sock *is = isk(s);
	struct tcp_pcb *pcb = is->tcp;

	/* Connections nobody accepted are reset. */
	while (is->accq_head) {
		struct inet_sock *c = is->accq_head;
		is->accq_head = c->next_pending;
		if (c->tcp) {
			tcp_backlog_accepted(c->tcp);
			tcp_detach(c->tcp);
			tcp_abort(c->tcp);
			c->tcp = NULL;
		}
		tcp_free_rx(c);
		kfree(c);
	}
	if (pcb) {
		int unread = is->rx_len != 0;
		tcp_detach(pcb);
		is->tcp = NULL;
		if (pcb->state == LISTEN) {
			tcp_close(pcb);
		} else if (unread || (s->linger.l_onoff && !s->linger.l_linger) ||
			   tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb); /* RST, as Linux for unread data */
		}
	}
	tcp_free_rx(is);
	kfree(is);
}

static const struct sock_ops tcp_ops = {
    .bind = tcp_bind_op,
    .listen = tcp_listen_op,
    .accept = tcp_accept_op,
    .connect = tcp_connect_op,
    .sendmsg = tcp_sendmsg_op,
    .recvmsg = tcp_recvmsg_op,
    .shutdown = tcp_shutdown_op,
    .getname = inet_getname,
    .setsockopt = tcp_setsockopt_op,
    .getsockopt = tcp_getsockopt_op,
    .poll = tcp_poll_op,
    .inq = tcp_inq_op,
    .release = tcp_release_op,
};

/* ---------------------------------------------------------------- UDP */

static void udp_recv_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			u16_t port)
{
	struct inet_sock *is = arg;
	struct dgram *d = NULL;

	(void)pcb;
	/* A full receive buffer drops, as Linux's does (2 x SO_RCVBUF). */
	if (is->dq_count < UDP_MAX_QUEUED && is->dq_bytes + p->tot_len <= 2 * (size_t)is->s.rcvbuf)
		d = kmalloc(sizeof(*d) + p->tot_len);
	if (d) {
		d->next = NULL;
		ip_addr_copy(d->from, *addr);
		d->port = port;
		d->len = p->tot_len;
		pbuf_copy_partial(p, d->data, p->tot_len, 0);
		if (is->dq_tail)
			is->dq_tail->next = d;
		else
			is->dq_head = d;
		is->dq_tail = d;
		is->dq_count++;
		is->dq_bytes += d->len;
		sock_wake(&is->s, POLLIN | POLLRDNORM);
	}
	pbuf_free(p);
}

static int udp_bind_op(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len)
{
	struct inet_sock *is = isk(s);
	ip_addr_t ip;
	u16_t port;
	int err = addr_from_app(is, a, len, &ip, &port);

	if (err)
		return err == -ENETUNREACH ? -EINVAL : err;
	if (is->udp->local_port)
		return -EINVAL;
	if (!addr_is_local(&ip))
		return -EADDRNOTAVAIL;
	if (s->opts & SOCK_OPT_REUSEADDR)
		ip_set_option(is->udp, SOF_REUSEADDR);
	return lwip_errno(udp_bind(is->udp, &ip, port));
}

static int udp_connect_op(struct sock *s, const struct linux_sockaddr_storage *a, unsigned len,
			  int flags)
{
	struct inet_sock *is = isk(s);
	ip_addr_t ip;
	u16_t port;

	if (flags & SOCK_CONNECT_RETRY)
		return 0;
	if (len >= sizeof(a->ss_family) && a->ss_family == AF_UNSPEC) {
		udp_disconnect(is->udp);
		return 0;
	}
	int err = addr_from_app(is, a, len, &ip, &port);
	if (err)
		return err;
	return lwip_errno(udp_connect(is->udp, &ip, port));
}

static long udp_sendmsg_op(struct sock *s, struct sock_msg *m, int flags)
{
	struct inet_sock *is = isk(s);
	uint64_t len = iobuf_left(m->data);
	ip_addr_t ip;
	u16_t port = 0;
	err_t e;

	(void)flags;
	if (s->error)
		return sock_error_take(s);
	if (s->shut & SOCK_SHUT_WR)
		return -EPIPE;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (m->addrlen) {
		int err = addr_from_app(is, &m->addr, m->addrlen, &ip, &port);
		if (err)
			return err;
		if (!port)
			return -EINVAL;
	} else if (!(is->udp->flags & UDP_FLAGS_CONNECTED)) {
		return -EDESTADDRREQ;
	}
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOBUFS;
	if (len && iobuf_get(m->data, p->payload, (size_t)len)) {
		pbuf_free(p);
		return -EFAULT;
	}
	if (s->opts & SOCK_OPT_BROADCAST)
		ip_set_option(is->udp, SOF_BROADCAST);
	e = m->addrlen ? udp_sendto(is->udp, p, &ip, port) : udp_send(is->udp, p);
	pbuf_free(p);
	if (e == ERR_VAL && m->addrlen)
		return -ENETUNREACH; /* e.g. IPv6 to an IPv4-only pcb */
	return e == ERR_OK ? (long)len : lwip_errno(e);
}

static void udp_drop_first(struct inet_sock *is)
{
	struct dgram *d = is->dq_head;

	is->dq_head = d->next;
	if (!is->dq_head)
		is->dq_tail = NULL;
	is->dq_count--;
	is->dq_bytes -= d->len;
	kfree(d);
}

static long udp_recvmsg_op(struct sock *s, struct sock_msg *m, int flags)
{
	struct inet_sock *is = isk(s);
	struct dgram *d = is->dq_head;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (!d) {
		if (s->error)
			return sock_error_take(s);
		if (s->shut & SOCK_SHUT_RD)
			return 0;
		return -EAGAIN;
	}
	uint64_t n = MIN(iobuf_left(m->data), (uint64_t)d->len);
	if (iobuf_put(m->data, d->data, (size_t)n))
		return -EFAULT;
	if (n < d->len)
		m->flags |= MSG_TRUNC;
	addr_to_app(is, &d->from, d->port, &m->addr, &m->addrlen);
	long ret = (flags & MSG_TRUNC) ? d->len : (long)n;
	if (!(flags & MSG_PEEK))
		udp_drop_first(is);
	return ret;
}

static int udp_shutdown_op(struct sock *s, int how)
{
	struct inet_sock *is = isk(s);

	if (!(is->udp->flags & UDP_FLAGS_CONNECTED))
		return -ENOTCONN;
	if (how != SHUT_WR)
		s->shut |= SOCK_SHUT_RD;
	if (how != SHUT_RD)
		s->shut |= SOCK_SHUT_WR;
	sock_wake(s, POLLIN | POLLOUT | POLLHUP);
	return 0;
}

static int udp_setsockopt_op(struct sock *s, int level, int name, const void *val, unsigned len)
{
	int v, err;

	if (level == SOL_SOCKET)
		return -ENOPROTOOPT;
	if (level == SOL_UDP)
		return -ENOPROTOOPT;
	if ((err = int_value(val, len, &v)))
		return err;
	return ip_setsockopt(isk(s), level, name, v);
}

static int udp_getsockopt_op(struct sock *s, int level, int name, void *val, unsigned *len)
{
	int v;
	int err = ip_getsockopt(isk(s), level, name, &v);

	return err ? err : put_int(val, len, v);
}

static unsigned udp_poll_op(struct sock *s, struct poll_table *pt)
{
	struct inet_sock *is = isk(s);
	unsigned ev = POLLOUT | POLLWRNORM;

	poll_wait(pt, &s->wq);
	if (is->dq_head || (s->shut & SOCK_SHUT_RD))
		ev |= POLLIN | POLLRDNORM;
	if (s->error)
		ev |= POLLERR;
	if ((s->shut & (SOCK_SHUT_RD | SOCK_SHUT_WR)) == (SOCK_SHUT_RD | SOCK_SHUT_WR))
		ev |= POLLHUP;
	return ev;
}

static long udp_inq_op(struct sock *s)
{
	return isk(s)->dq_head ? isk(s)->dq_head->len : 0;
}

static void udp_release_op(struct sock *s)
{
	struct inet_sock *is = isk(s);

	udp_recv(is->udp, NULL, NULL);
	udp_remove(is->udp);
	while (is->dq_head)
		udp_drop_first(is);
	kfree(is);
}

static const struct sock_ops udp_ops = {
    .bind = udp_bind_op,
    .connect = udp_connect_op,
    .sendmsg = udp_sendmsg_op,
    .recvmsg = udp_recvmsg_op,
    .shutdown = udp_shutdown_op,
    .getname = inet_getname,
    .setsockopt = udp_setsockopt_op,
    .getsockopt = udp_getsockopt_op,
    .poll = udp_poll_op,
    .inq = udp_inq_op,
    .release = udp_release_op,
};
