/*
 * nettorture - the other end of a Solo guest's Ethernet link, and a hostile
 * one. It connects to the unix socket of QEMU's stream netdev (tools/qemu.sh
 * --net stream:PATH; every frame on it is a 4-byte big-endian length and the
 * frame) and is then the whole network the guest sees: it answers the
 * guest's DHCP (10.0.9.2/24, gateway and server 10.0.9.1) and ARP, then sends
 * a seeded stream of malformed and hostile frames, and every --every frames
 * a well-formed exchange with the server app (tests/apps/netserve.c: TCP and
 * UDP echo on --port) whose answer must come back exactly.
 *
 * Why the valid requests share the attacked link instead of coming through a
 * second NIC on QEMU's user network: then "the server still serves" is
 * proven on the very interface, driver queue, ARP table and reassembly
 * buffers under attack, and the run needs no slirp, no host ports and
 * nothing else that could be slow or busy. The program keeps no TCP stack:
 * it tracks the one connection it is using (the guest's SYN-ACK gives the
 * sequence numbers that make its overlapping segments land in the window)
 * and reassembles the guest's fragmented UDP answers.
 *
 * Hostile categories (counted and printed at the end): runt, giant,
 * ip-length (total/header/UDP/TCP length lies, bad versions and sums),
 * ip-options, ipv4-frag (tiny, overlapping, never completed, oversize,
 * floods), tcp-bogus (flag combinations, option garbage, data-offset lies,
 * segments for no connection), syn-flood, tcp-inconn (overlapping and
 * out-of-window segments, bogus options, challenge SYNs, out-of-window RSTs
 * and FINs, bad sums inside a live connection), icmp, arp, ipv6 (ND, RA,
 * redirects, MLD, extension headers, fragments), dhcp (replies to the guest's
 * real transaction with garbage options) and broadcast (storms of broadcast
 * and multicast frames, VLAN tags, unknown ethertypes).
 *
 * A seed always sends the same hostile frames in the same order: the valid
 * exchanges, which retry as often as they need, draw from a stream of their
 * own, and what we send in reply to the guest takes no random numbers.
 *
 * -v prints each exchange with its time and what the guest sent while one
 * was retried; NETTORTURE_TRACE=1 in the environment logs every frame each
 * way with a millisecond stamp on stderr (for finding where time went).
 *
 * Exit status: 0 when every valid exchange got the right answer, the guest
 * answered "quit" by ending (the link closed) and nothing was wrong; 1 when
 * an exchange failed or answered wrongly; 2 on usage or link errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ addresses */

static const uint8_t host_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}; /* learned */
#define HOST_IP	  0x0a000901u					    /* 10.0.9.1 */
#define GUEST_IP  0x0a000902u /* 10.0.9.2, what our DHCP server leases */
#define SUBNET_BC 0x0a0009ffu

#define MAX_FRAME  65535 /* QEMU's stream netdev takes up to 68 KiB */
#define SLOT	   2048	 /* a received frame's slot (the guest sends at most 1514) */
#define RXQ	   4096
#define STEP_MS	   700 /* a retransmission interval */
#define CONNECT_MS 60000

/* ------------------------------------------------------------ options and state */

static const char *sock_path;
static long nframes = 3000;
static uint64_t seed = 1;
static int server_port = 7777;
static int every = 100;
static long answer_ms = 45000; /* --answer-ms: the time one valid exchange may take */
static int verbose;

static int link_fd = -1, link_closed;
static uint64_t rng;

enum cat {
	C_RUNT,
	C_GIANT,
	C_IPLEN,
	C_IPOPT,
	C_FRAG,
	C_TCPBOGUS,
	C_SYNFLOOD,
	C_TCPINCONN,
	C_ICMP,
	C_ARP,
	C_IPV6,
	C_DHCP,
	C_BCAST,
	NCAT
};
static const char *const cat_name[NCAT] = {
    "runt",	  "giant", "ip-length", "ip-options", "ipv4-frag", "tcp-bogus", "syn-flood",
    "tcp-inconn", "icmp",  "arp",	"ipv6",	      "dhcp",	   "broadcast"};
static long sent[NCAT];
static long hostile_total;
static enum cat cur_cat = C_RUNT;

/* Valid exchanges: tried, right, wrong answers. */
enum ex { X_UDP, X_UDPFRAG, X_TCP, X_TCPHOSTILE, NEX };
static const char *const ex_name[NEX] = {"udp", "udp-frag", "tcp", "tcp-overlap"};
static long ex_tried[NEX], ex_ok[NEX], ex_slowest_ms[NEX], wrong_answers, guest_frames, rx_dropped;

/* DHCP: the guest's transaction. */
static uint32_t dhcp_xid;
static int dhcp_seen, leased;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "nettorture: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("nettorture: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* xorshift64*: the whole run follows from --seed. */
static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* ------------------------------------------------------------ byte order and sums */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t sum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t sum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* ------------------------------------------------------------ the link */

static uint8_t rx_raw[1 << 20];
static size_t rx_raw_len;
static uint8_t rxq[RXQ][SLOT];
static uint16_t rxq_len[RXQ];
static unsigned rxq_head, rxq_count;

static void link_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long deadline = now_ms() + CONNECT_MS;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", sock_path);
	strcpy(sa.sun_path, sock_path);
	for (;;) {
		link_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (link_fd < 0)
			die("socket: %s", strerror(errno));
		if (connect(link_fd, (void *)&sa, sizeof(sa)) == 0)
			break;
		close(link_fd);
		if (now_ms() > deadline)
			die("no QEMU listening at %s after %d s", sock_path, CONNECT_MS / 1000);
		usleep(50 * 1000);
	}
	fcntl(link_fd, F_SETFL, O_NONBLOCK);
}

/* Moves what the socket has into the queue of received frames. */
static void link_read(void)
{
	for (;;) {
		ssize_t r = read(link_fd, rx_raw + rx_raw_len, sizeof(rx_raw) - rx_raw_len);

		if (r == 0) {
			link_closed = 1;
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				link_closed = 1;
			return;
		}
		rx_raw_len += (size_t)r;
		size_t off = 0;
		while (rx_raw_len - off >= 4) {
			uint32_t len = get32(rx_raw + off);

			if (len > sizeof(rx_raw) - 4)
				die("QEMU sent a frame length of %u", len);
			if (rx_raw_len - off - 4 < len)
				break;
			if (rxq_count == RXQ) { /* the oldest is dropped */
				rxq_head = (rxq_head + 1) % RXQ;
				rxq_count--;
				rx_dropped++;
			}
			unsigned slot = (rxq_head + rxq_count++) % RXQ;
			rxq_len[slot] = (uint16_t)(len < SLOT ? len : SLOT);
			memcpy(rxq[slot], rx_raw + off + 4, rxq_len[slot]);
			guest_frames++;
			off += 4 + len;
		}
		memmove(rx_raw, rx_raw + off, rx_raw_len - off);
		rx_raw_len -= off;
	}
}

/* Sends one frame of len bytes (0 < len <= MAX_FRAME), reading while the socket is full. */
static void send_raw(const uint8_t *f, size_t len)
{
	static uint8_t buf[4 + MAX_FRAME];
	size_t done = 0, total = 4 + len;
	long t0 = now_ms(), deadline = t0 + 60000;

	if (link_closed)
		return;
	if (getenv("NETTORTURE_TRACE"))
		fprintf(stderr, "%ld send %zu cat %s\n", now_ms(), len, cat_name[cur_cat]);
	put32(buf, (uint32_t)len);
	memcpy(buf + 4, f, len);
	while (done < total) {
		ssize_t w = write(link_fd, buf + done, total - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			link_closed = 1;
			return;
		}
		struct pollfd p = {.fd = link_fd, .events = POLLIN | POLLOUT};
		if (poll(&p, 1, 1000) > 0 && (p.revents & (POLLIN | POLLHUP)))
			link_read();
		if (link_closed)
			return;
		if (now_ms() > deadline)
			die("QEMU has taken no frame for 60 s");
	}
	if (verbose && now_ms() - t0 > 1000)
		note("  the guest took no frame for %ld ms", now_ms() - t0);
}

/* A hostile frame of the current category. */
static void send_hostile(const uint8_t *f, size_t len)
{
	send_raw(f, len);
	sent[cur_cat]++;
	hostile_total++;
}

/* ------------------------------------------------------------ frame builders */

/*
 * IPv4 identifications of the frames that are not hostile come from a
 * counter, not from the seeded stream: what the guest sends (and so how
 * often we answer) never changes which hostile frames a seed sends.
 */
static unsigned next_ip_id(void)
{
	static unsigned id;

	return ++id & 0xffff;
}

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

/* An IPv4 header with no options at f; tot is the total length it claims. */
static void ip4_hdr(uint8_t *f, size_t tot, unsigned proto, uint32_t src, uint32_t dst, unsigned id,
		    unsigned frag)
{
	memset(f, 0, 20);
	f[0] = 0x45;
	put16(f + 2, (uint32_t)tot);
	put16(f + 4, id);
	put16(f + 6, frag);
	f[8] = 64;
	f[9] = (uint8_t)proto;
	put32(f + 12, src);
	put32(f + 16, dst);
}

static void ip4_sum(uint8_t *ip)
{
	unsigned hl = (ip[0] & 15u) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, sum_fold(sum_add(0, ip, hl)));
}

/* The TCP/UDP checksum over the pseudo header and l4 (len bytes); off is where the sum goes. */
static void l4_sum4(uint8_t *l4, size_t len, unsigned proto, uint32_t src, uint32_t dst, size_t off)
{
	uint8_t ph[12];

	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = (uint8_t)proto;
	put16(ph + 10, (uint32_t)len);
	put16(l4 + off, 0);
	uint16_t s = sum_fold(sum_add(sum_add(0, ph, 12), l4, len));
	put16(l4 + off, proto == 17 && s == 0 ? 0xffff : s);
}

/* A whole IPv4/UDP frame to the guest; returns its length. */
static size_t udp4(uint8_t *f, uint32_t src, uint32_t dst, unsigned sport, unsigned dport,
		   const uint8_t *data, size_t n)
{
	size_t o = eth(f, guest_mac, host_mac, 0x0800);
	uint8_t *ip = f + o, *u = ip + 20;

	ip4_hdr(ip, 28 + n, 17, src, dst, next_ip_id(), 0);
	ip4_sum(ip);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint32_t)(8 + n));
	memcpy(u + 8, data, n);
	l4_sum4(u, 8 + n, 17, src, dst, 6);
	return o + 28 + n;
}

/* A whole IPv4/TCP frame; opt/optlen are the options (padded by the caller to 4). */
static size_t tcp4(uint8_t *f, uint32_t src, unsigned sport, unsigned dport, uint32_t seq,
		   uint32_t ack, unsigned flags, const uint8_t *opt, size_t optlen,
		   const uint8_t *data, size_t n)
{
	size_t o = eth(f, guest_mac, host_mac, 0x0800), hl = 20 + optlen;
	uint8_t *ip = f + o, *t = ip + 20;

	ip4_hdr(ip, 20 + hl + n, 6, src, GUEST_IP, next_ip_id(), 0x4000);
	ip4_sum(ip);
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = (uint8_t)flags;
	put16(t + 14, 65535);
	memcpy(t + 20, opt, optlen);
	memcpy(t + hl, data, n);
	l4_sum4(t, hl + n, 6, src, GUEST_IP, 16);
	return o + 20 + hl + n;
}

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32 };

/* ------------------------------------------------------------ what the guest sends */

/* The guest's UDP answers to the exchange in progress, reassembled. */
static unsigned udp_want_port; /* our source port of the exchange; 0: none */
static const uint8_t *udp_want;
static size_t udp_want_len;
static int udp_matched;

static struct {
	unsigned id;
	int active;
	uint8_t data[65536];
	uint8_t have[65536 / 8];
	long total; /* -1 until the last fragment came */
} reasm;

/* The one tracked TCP connection. */
static struct tcpc {
	unsigned sport;
	uint32_t iss, snd_una, snd_max, irs, rcv_nxt;
	int state; /* 0 none, 1 SYN sent, 2 established */
	int rst, fin_rcvd, fin_sent;
	uint8_t rx[8192];
	size_t rxlen;
	long rx_over; /* bytes beyond what was sent: a wrong answer */
} tc;

static void tcp_send_ack(void)
{
	uint8_t f[128];

	/* Our sequence number: what the guest acknowledged, or past our FIN. */
	send_raw(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port,
			 tc.fin_sent ? tc.snd_max : tc.snd_una, tc.rcv_nxt, ACK, NULL, 0, NULL, 0));
}

static int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void tcp_input(const uint8_t *t, size_t len)
{
	unsigned hl = (t[12] >> 4) * 4u, flags = t[13];
	uint32_t seq = get32(t + 4), ack = get32(t + 8);

	if (hl < 20 || hl > len || get16(t + 2) != tc.sport || !tc.state)
		return;
	const uint8_t *data = t + hl;
	size_t n = len - hl;

	if (flags & RST) {
		tc.rst = 1;
		return;
	}
	if ((flags & (SYN | ACK)) == (SYN | ACK)) {
		if (tc.state == 1) {
			tc.irs = seq;
			tc.rcv_nxt = seq + 1;
			tc.state = 2;
		}
		tc.snd_una = tc.iss + 1;
		tcp_send_ack();
		return;
	}
	if (tc.state != 2)
		return;
	if ((flags & ACK) && seq_lt(tc.snd_una, ack) && !seq_lt(tc.snd_max, ack))
		tc.snd_una = ack;
	if (n > 0) {
		uint32_t end = seq + (uint32_t)n;

		if (!seq_lt(tc.rcv_nxt, seq) && seq_lt(tc.rcv_nxt, end)) {
			size_t skip = tc.rcv_nxt - seq, take = n - skip;

			if (tc.rxlen + take > sizeof(tc.rx)) {
				tc.rx_over += (long)take;
				take = sizeof(tc.rx) - tc.rxlen;
			}
			memcpy(tc.rx + tc.rxlen, data + skip, take);
			tc.rxlen += take;
			tc.rcv_nxt = end;
		}
	}
	if ((flags & FIN) && seq + (uint32_t)n == tc.rcv_nxt && !tc.fin_rcvd) {
		tc.rcv_nxt++;
		tc.fin_rcvd = 1;
	}
	if (n > 0 || (flags & FIN))
		tcp_send_ack();
}

static void udp_deliver(unsigned sport, unsigned dport, const uint8_t *data, size_t n)
{
	if (sport != (unsigned)server_port || !udp_want_port || dport != udp_want_port)
		return;
	if (n == udp_want_len && !memcmp(data, udp_want, n))
		udp_matched = 1;
	else {
		wrong_answers++;
		note("WRONG udp answer: %zu bytes, wanted %zu", n, udp_want_len);
	}
}

/* An IPv4 datagram from the guest to us (ip: the header; len: its total length). */
static void ip4_input(const uint8_t *ip, size_t len)
{
	unsigned hl = (ip[0] & 15u) * 4, frag = get16(ip + 6), proto = ip[9];
	size_t tot = get16(ip + 2);

	if (hl < 20 || tot < hl || tot > len)
		return;
	const uint8_t *p = ip + hl;
	size_t n = tot - hl;

	if (frag & 0x3fff) { /* a fragment: reassemble the one datagram in flight */
		size_t off = (frag & 0x1fff) * 8u;

		if (proto != 17 || off + n > sizeof(reasm.data))
			return;
		if (!reasm.active || reasm.id != get16(ip + 4)) {
			memset(reasm.have, 0, sizeof(reasm.have));
			reasm.id = get16(ip + 4);
			reasm.active = 1;
			reasm.total = -1;
		}
		memcpy(reasm.data + off, p, n);
		for (size_t b = off / 8; b < (off + n + 7) / 8; b++)
			reasm.have[b] = 1;
		if (!(frag & 0x2000))
			reasm.total = (long)(off + n);
		if (reasm.total < 0)
			return;
		for (long b = 0; b < (reasm.total + 7) / 8; b++)
			if (!reasm.have[b])
				return;
		reasm.active = 0;
		p = reasm.data;
		n = (size_t)reasm.total;
	}
	if (proto == 17 && n >= 8 && get16(p + 4) <= n && get16(p + 4) >= 8)
		udp_deliver(get16(p), get16(p + 2), p + 8, get16(p + 4) - 8u);
	else if (proto == 6 && n >= 20 && get16(p) == (unsigned)server_port)
		tcp_input(p, n);
}

/* ---- our DHCP server: one lease, 10.0.9.2 for an hour */

static size_t dhcp_reply(uint8_t *f, unsigned type, uint32_t xid, const uint8_t *opts,
			 size_t optlen)
{
	uint8_t b[1024];
	size_t o = 240;

	memset(b, 0, sizeof(b));
	b[0] = 2;
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, xid);
	put32(b + 16, GUEST_IP);
	put32(b + 20, HOST_IP);
	memcpy(b + 28, guest_mac, 6);
	put32(b + 236, 0x63825363);
	if (type) {
		uint8_t std[] = {
		    53,	 1,   (uint8_t)type, 54, 4, 10, 0,  9, 1, 51, 4, 0, 0,	0x0e, 0x10, 1, 4,
		    255, 255, 255,	     0,	 3, 4,	10, 0, 9, 1,  6, 4, 10, 0,    9,    1, 255};
		memcpy(b + o, std, sizeof(std));
		o += sizeof(std);
	}
	if (optlen > sizeof(b) - o)
		optlen = sizeof(b) - o;
	memcpy(b + o, opts, optlen);
	o += optlen;
	if (o < 300)
		o = 300;
	size_t e = eth(f, bcast_mac, host_mac, 0x0800);
	uint8_t *ip = f + e, *u = ip + 20;

	ip4_hdr(ip, 28 + o, 17, HOST_IP, 0xffffffffu, next_ip_id(), 0);
	ip4_sum(ip);
	put16(u, 67);
	put16(u + 2, 68);
	put16(u + 4, (uint32_t)(8 + o));
	memcpy(u + 8, b, o);
	l4_sum4(u, 8 + o, 17, HOST_IP, 0xffffffffu, 6);
	return e + 28 + o;
}

static void dhcp_input(const uint8_t *b, size_t n)
{
	unsigned type = 0;
	uint8_t f[1600];

	if (n < 240 || b[0] != 1 || get32(b + 236) != 0x63825363)
		return;
	for (size_t o = 240; o + 1 < n && b[o] != 255;) {
		if (b[o] == 0) {
			o++;
			continue;
		}
		if (b[o] == 53 && b[o + 1] >= 1 && o + 2 < n)
			type = b[o + 2];
		o += 2u + b[o + 1];
	}
	dhcp_xid = get32(b + 4);
	dhcp_seen = 1;
	if (type == 1) /* DISCOVER -> OFFER */
		send_raw(f, dhcp_reply(f, 2, dhcp_xid, NULL, 0));
	else if (type == 3) { /* REQUEST -> ACK */
		send_raw(f, dhcp_reply(f, 5, dhcp_xid, NULL, 0));
		leased = 1;
	}
}

static void arp_input(const uint8_t *a, size_t n)
{
	uint8_t f[64];

	if (n < 28 || get16(a) != 1 || get16(a + 2) != 0x0800 || get16(a + 6) != 1 ||
	    get32(a + 24) != HOST_IP)
		return;
	size_t o = eth(f, a + 8, host_mac, 0x0806);
	uint8_t *r = f + o;
	put16(r, 1);
	put16(r + 2, 0x0800);
	r[4] = 6;
	r[5] = 4;
	put16(r + 6, 2);
	memcpy(r + 8, host_mac, 6);
	put32(r + 14, HOST_IP);
	memcpy(r + 18, a + 8, 6);
	memcpy(r + 24, a + 14, 4);
	memset(r + 28, 0, 60 - o - 28);
	send_raw(f, 60);
}

static int dump; /* -v and an exchange is retrying: show what the guest sends */

static void frame_input(const uint8_t *f, size_t n)
{
	if (n < 14)
		return;
	unsigned type = get16(f + 12);

	if (getenv("NETTORTURE_TRACE"))
		fprintf(stderr, "%ld recv %zu type %04x\n", now_ms(), n, type);
	if (dump) {
		printf("nettorture:   guest frame %zu bytes type %04x:", n, type);
		for (size_t i = 14; i < n && i < 14 + 48; i++)
			printf(" %02x", f[i]);
		printf("\n");
	}

	if (type == 0x0806)
		arp_input(f + 14, n - 14);
	if (type != 0x0800 || n < 34)
		return;
	const uint8_t *ip = f + 14;
	if ((ip[0] >> 4) != 4)
		return;
	if (ip[9] == 17 && n >= 14 + 20 + 8 && (ip[0] & 15) == 5 && get16(ip + 22) == 67) {
		memcpy(guest_mac, f + 6, 6);
		dhcp_input(ip + 28, n - 42);
		return;
	}
	if (get32(ip + 16) == HOST_IP && get32(ip + 12) == GUEST_IP)
		ip4_input(ip, n - 14);
}

/* Reads and handles the guest's frames for up to ms milliseconds (0: what is there now). */
static void pump(int ms)
{
	long deadline = now_ms() + ms;

	for (;;) {
		link_read();
		while (rxq_count) {
			unsigned slot = rxq_head;

			rxq_head = (rxq_head + 1) % RXQ;
			rxq_count--;
			frame_input(rxq[slot], rxq_len[slot]);
		}
		long left = deadline - now_ms();
		if (left <= 0 || link_closed)
			return;
		struct pollfd p = {.fd = link_fd, .events = POLLIN};
		poll(&p, 1, (int)(left < 20 ? left : 20));
	}
}

/* Pumps until *flag or timeout; returns *flag. */
static int wait_flag(const int *flag, int ms)
{
	long deadline = now_ms() + ms;

	while (!*flag && !link_closed && now_ms() < deadline)
		pump(10);
	return *flag;
}

/* ------------------------------------------------------------ valid exchanges */

/*
 * One UDP echo of len bytes; frag: sent as IPv4 fragments, out of order and
 * with one fragment twice (the same bytes), which the guest must put
 * together, echo (fragmented by the guest again) and we reassemble.
 */
static int udp_exchange(size_t len, int frag, long budget_ms)
{
	static uint8_t payload[4000], f[2048];
	long deadline = now_ms() + budget_ms;
	enum ex kind = frag ? X_UDPFRAG : X_UDP;

	ex_tried[kind]++;
	snprintf((char *)payload, 16, "udp %08x ", rnd());
	fill_random(payload + 13, len - 13);
	udp_want = payload;
	udp_want_len = len;
	udp_want_port = 20000 + below(40000);
	udp_matched = 0;
	while (!udp_matched && !link_closed && now_ms() < deadline) {
		if (!frag) {
			send_raw(f, udp4(f, HOST_IP, GUEST_IP, udp_want_port, (unsigned)server_port,
					 payload, len));
		} else {
			/* The UDP header and payload in 8-byte-aligned pieces of up to 1024. */
			static uint8_t dgram[4096 + 8];
			size_t dl = 8 + len, nf = (dl + 1023) / 1024;
			unsigned id = rnd() & 0xffff;
			uint8_t ph[12];

			put16(dgram, udp_want_port);
			put16(dgram + 2, (unsigned)server_port);
			put16(dgram + 4, (uint32_t)dl);
			memcpy(dgram + 8, payload, len);
			put32(ph, HOST_IP);
			put32(ph + 4, GUEST_IP);
			ph[8] = 0;
			ph[9] = 17;
			put16(ph + 10, (uint32_t)dl);
			put16(dgram + 6, 0);
			put16(dgram + 6, sum_fold(sum_add(sum_add(0, ph, 12), dgram, dl)));
			for (size_t k = 0; k <= nf; k++) {
				size_t i = (k == nf) ? below((uint32_t)nf)
						     : nf - 1 - k; /* reversed, one twice */
				size_t off = i * 1024, n = dl - off < 1024 ? dl - off : 1024;
				size_t o = eth(f, guest_mac, host_mac, 0x0800);

				ip4_hdr(f + o, 20 + n, 17, HOST_IP, GUEST_IP, id,
					(unsigned)(off / 8) | (i + 1 < nf ? 0x2000u : 0));
				ip4_sum(f + o);
				memcpy(f + o + 20, dgram + off, n);
				send_raw(f, o + 20 + n);
			}
		}
		wait_flag(&udp_matched, STEP_MS);
		if (verbose && frag &&
		    !udp_matched) { /* diagnosis: the same, not fragmented by us */
			static uint8_t big[4200];
			note("  udp-frag: no answer; the same datagram unfragmented");
			send_raw(big, udp4(big, HOST_IP, GUEST_IP, udp_want_port,
					   (unsigned)server_port, payload, len));
		}
		dump = verbose;
	}
	dump = 0;
	udp_want_port = 0;
	ex_ok[kind] += udp_matched;
	if (!udp_matched)
		note("FAIL udp%s exchange of %zu bytes: no answer in %ld ms", frag ? "-frag" : "",
		     len, budget_ms);
	return udp_matched;
}

static uint8_t tcp_stream[4096];
static size_t tcp_len;

static void tcp_data(uint32_t off, size_t n, unsigned flags, const uint8_t *opt, size_t optlen)
{
	uint8_t f[2048];

	if (off + n > tcp_len)
		n = tcp_len - off;
	send_raw(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, tc.iss + 1 + off, tc.rcv_nxt,
			 ACK | flags, opt, optlen, tcp_stream + off, n));
}

/* The in-connection attack: overlapping and lying segments, bogus options. */
static void tcp_hostile_burst(void)
{
	uint8_t f[2048], junk[1024];
	enum cat saved = cur_cat;
	uint32_t base = tc.iss + 1;
	static const uint8_t bogus_opts[][12] = {
	    {0, 0, 0, 0},		     /* end of options at once */
	    {1, 1, 1, 1},		     /* NOPs */
	    {2, 0, 1, 1},		     /* MSS with length 0 */
	    {2, 1, 1, 1},		     /* length 1 */
	    {3, 3, 200, 0},		     /* window scale 200 outside SYN */
	    {8, 10, 1, 2, 3, 4, 5, 6, 7, 8}, /* timestamps never negotiated */
	    {5, 10, 0, 0, 0, 0, 0, 0, 0, 9}, /* SACK blocks */
	    {99, 40, 1, 1},		     /* length past the header */
	    {2, 4, 0, 0},		     /* MSS 0 outside SYN */
	};

	cur_cat = C_TCPINCONN;
	for (int k = 0; k < 12; k++) {
		uint32_t a = below((uint32_t)tcp_len), n = 1 + below(1200);
		size_t oi = below(sizeof(bogus_opts) / sizeof(bogus_opts[0]));
		int withopt = (rnd() & 3) == 0;

		if (a + n > tcp_len)
			n = (uint32_t)tcp_len - a;
		/* Real stream bytes at any place and length: ahead, overlapping. */
		send_raw(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, base + a, tc.rcv_nxt,
				 ACK | PSH, withopt ? bogus_opts[oi] : NULL, withopt ? 12 : 0,
				 tcp_stream + a, n));
		sent[cur_cat]++;
		hostile_total++;
		switch (below(9)) {
		case 0: /* garbage far ahead of the window */
			fill_random(junk, sizeof(junk));
			send_hostile(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port,
					     base + 0x40000000u + rnd() % 0x10000000u, tc.rcv_nxt,
					     ACK, NULL, 0, junk, 1 + below(1000)));
			break;
		case 1: /* garbage behind the window (already acknowledged space) */
			fill_random(junk, sizeof(junk));
			send_hostile(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port,
					     base - 70000 - below(100000), tc.rcv_nxt, ACK, NULL, 0,
					     junk, 1 + below(1000)));
			break;
		case 2: /* an ACK of data the guest never sent */
			send_hostile(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, base + a,
					     tc.rcv_nxt + 100000 + below(1000000), ACK, NULL, 0,
					     NULL, 0));
			break;
		case 3: /* a RST outside the window: ignored */
			send_hostile(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port,
					     base + (uint32_t)tcp_len + 300000 + below(1000000), 0,
					     RST, NULL, 0, NULL, 0));
			break;
		case 4: /* a SYN inside the connection: a challenge ACK, nothing else */
			send_hostile(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, base + a,
					     0, SYN, NULL, 0, NULL, 0));
			break;
		case 5: { /* garbage in the window with a wrong checksum: dropped */
			size_t len;

			fill_random(junk, sizeof(junk));
			len = tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, base + a,
				   tc.rcv_nxt, ACK, NULL, 0, junk, n);
			f[14 + 20 + 16] ^= 0x5a;
			send_hostile(f, len);
			break;
		}
		case 6: { /* garbage behind a data offset past the segment: dropped */
			size_t len;

			fill_random(junk, sizeof(junk));
			len = tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, base + a,
				   tc.rcv_nxt, ACK, NULL, 0, junk, 8);
			f[14 + 20 + 12] = 0xf0;
			l4_sum4(f + 34, len - 34, 6, HOST_IP, GUEST_IP, 16);
			send_hostile(f, len);
			break;
		}
		case 7: /* a FIN past the end of the stream, in the window */
			send_hostile(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port,
					     base + (uint32_t)tcp_len + 100 + below(50000),
					     tc.rcv_nxt, ACK | FIN, NULL, 0, NULL, 0));
			break;
		default: /* urgent data pointing past the segment */
			send_raw(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, base + a,
					 tc.rcv_nxt, ACK | URG, NULL, 0, tcp_stream + a,
					 n > 1 ? 1 : n));
			put16(f + 14 + 20 + 18, 60000);
			sent[cur_cat]++;
			hostile_total++;
			break;
		}
		pump(0);
	}
	cur_cat = saved;
}

/* One TCP echo connection: handshake, L bytes, their echo, both FINs. */
static int tcp_exchange(int hostile, long budget_ms)
{
	uint8_t f[256], opt[4] = {2, 4, 0x05, 0xb4};
	long deadline = now_ms() + budget_ms, last;
	enum ex kind = hostile ? X_TCPHOSTILE : X_TCP;
	const char *why = NULL;

	ex_tried[kind]++;
	memset(&tc, 0, sizeof(tc));
	tcp_len = 1 + below(sizeof(tcp_stream) - 1);
	fill_random(tcp_stream, tcp_len);
	tc.sport = 20000 + below(40000);
	tc.iss = rnd();
	tc.snd_una = tc.iss;
	tc.snd_max = tc.iss + 1;
	tc.state = 1;
	while (tc.state != 2) {
		if (now_ms() > deadline || link_closed) {
			why = "no SYN-ACK";
			goto out;
		}
		if (tc.rst) { /* refused: a fresh port */
			tc.rst = 0;
			tc.sport = 20000 + below(40000);
		}
		send_raw(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port, tc.iss, 0, SYN, opt,
				 4, NULL, 0));
		for (long t = now_ms() + STEP_MS; tc.state != 2 && !tc.rst && now_ms() < t;)
			pump(10);
	}
	tc.snd_max = tc.iss + 1 + (uint32_t)tcp_len;
	if (hostile)
		tcp_hostile_burst();
	last = 0;
	while (tc.rxlen < tcp_len || tc.snd_una != tc.snd_max) {
		size_t before = tc.rxlen;
		uint32_t una = tc.snd_una;

		if (tc.rst || tc.rx_over || link_closed || now_ms() > deadline) {
			why = tc.rst ? "reset" : tc.rx_over ? "too many bytes" : "no echo";
			goto out;
		}
		if (now_ms() - last >= STEP_MS) { /* (re)send what is not acknowledged */
			for (uint32_t o = tc.snd_una - tc.iss - 1; o < tcp_len; o += 1000)
				tcp_data(o, 1000, PSH, NULL, 0);
			last = now_ms();
		}
		pump(10);
		if (tc.rxlen != before || tc.snd_una != una)
			last = now_ms() - STEP_MS / 2;
	}
	if (memcmp(tc.rx, tcp_stream, tcp_len)) {
		wrong_answers++;
		why = "WRONG echo";
		goto out;
	}
	tc.snd_max++; /* our FIN */
	tc.fin_sent = 1;
	last = 0;
	while (!tc.fin_rcvd || tc.snd_una != tc.snd_max) {
		if (tc.rst || link_closed || now_ms() > deadline) {
			why = tc.rst ? "reset at close" : "no FIN";
			goto out;
		}
		if (now_ms() - last >= STEP_MS) {
			send_raw(f, tcp4(f, HOST_IP, tc.sport, (unsigned)server_port,
					 tc.snd_max - 1, tc.rcv_nxt, ACK | FIN, NULL, 0, NULL, 0));
			last = now_ms();
		}
		pump(10);
	}
out:
	tc.state = 0;
	if (why) {
		note("FAIL tcp%s exchange of %zu bytes: %s (echoed %zu)", hostile ? "-overlap" : "",
		     tcp_len, why, tc.rxlen);
		return 0;
	}
	ex_ok[kind]++;
	return 1;
}

/* ------------------------------------------------------------ hostile frames */

static uint32_t any_src(void)
{
	switch (below(4)) {
	case 0:
		return HOST_IP;
	case 1:
		return 0x0a000900u | (3 + below(250)); /* on the link, no ARP answer */
	case 2:
		return 0xc6336400u | below(256); /* 198.51.100.x, through the gateway */
	default:
		return rnd(); /* anything, martians included */
	}
}

static void h_runt(void)
{
	uint8_t f[64];
	size_t n = 1 + below(59);
	static const unsigned types[] = {0x0800, 0x0806, 0x86dd, 0x8100, 0x88cc};

	fill_random(f, sizeof(f));
	if (n >= 14) {
		eth(f, rnd() & 1 ? guest_mac : bcast_mac, host_mac, types[below(5)]);
		if (n >= 15 && get16(f + 12) == 0x0800)
			f[14] = (uint8_t)(0x40 | below(16));
		if (n >= 15 && get16(f + 12) == 0x86dd)
			f[14] = 0x60;
	}
	send_hostile(f, n);
}

static void h_giant(void)
{
	static uint8_t f[MAX_FRAME];
	size_t n = 1515 + below(rnd() & 1 ? 600 : 9000);

	if ((rnd() & 15) == 0)
		n = 9000 + below(MAX_FRAME - 9000);
	fill_random(f, n);
	size_t o = eth(f, guest_mac, host_mac, rnd() & 1 ? 0x0800 : 0x86dd);
	if (get16(f + 12) == 0x0800) {
		ip4_hdr(f + o, n - o > 65535 ? 65535 : n - o, 17, any_src(), GUEST_IP, rnd(), 0);
		ip4_sum(f + o);
	} else {
		f[o] = 0x60;
		put16(f + o + 4, (uint32_t)(n - o - 40));
	}
	send_hostile(f, n);
}

/* IPv4 whose lengths lie: total length, header length, UDP/TCP lengths, version, sums. */
static void h_iplen(void)
{
	uint8_t f[1600];
	size_t plen = below(200), n;
	unsigned proto = (const unsigned[]){1, 6, 17}[below(3)];
	uint8_t *ip = f + 14, *l4 = ip + 20;

	fill_random(f, sizeof(f));
	eth(f, guest_mac, host_mac, 0x0800);
	ip4_hdr(ip, 20 + plen, proto, any_src(), GUEST_IP, rnd(), 0);
	n = 34 + plen;
	if (proto == 17 && plen >= 8) {
		put16(l4 + 2, (unsigned)server_port);
		put16(l4 + 4, (uint32_t)(8 + plen));
		l4_sum4(l4, plen, 17, get32(ip + 12), GUEST_IP, 6);
	}
	if (proto == 6 && plen >= 20) {
		put16(l4 + 2, (unsigned)server_port);
		l4[12] = (uint8_t)(below(16) << 4);
	}
	if (proto == 1 && plen >= 8)
		l4[0] = 8;
	switch (below(9)) {
	case 0:
		put16(ip + 2, 20 + plen + 1 + below(2000));
		break; /* longer than the frame */
	case 1:
		put16(ip + 2, below(20));
		break; /* shorter than the header */
	case 2:
		ip[0] = (uint8_t)(0x40 | below(5));
		break; /* IHL < 5 */
	case 3:
		ip[0] = (uint8_t)(0x40 | (6 + below(10)));
		break; /* IHL past the total */
	case 4:
		ip[0] = (uint8_t)(below(16) << 4 | 5);
		break; /* any version */
	case 5:
		put16(ip + 2, 0xffff);
		break;
	case 6:
		n = 14 + below(20);
		break; /* the header cut */
	case 7:	       /* a UDP length that lies (the checksum right for what is there) */
		if (proto == 17 && plen >= 8)
			put16(l4 + 4, below(2) ? below(8) : 8 + plen + 1 + below(1000));
		break;
	default:
		break; /* only the random payload */
	}
	if (below(4))
		ip4_sum(ip);
	send_hostile(f, n < 14 ? 14 : n);
}

static void h_ipopt(void)
{
	uint8_t f[256];
	unsigned ihl = 6 + below(10), olen = (ihl - 5) * 4;
	size_t plen = 8 + below(64);
	uint8_t *ip = f + 14, *opt = ip + 20;

	fill_random(f, sizeof(f));
	eth(f, guest_mac, host_mac, 0x0800);
	ip4_hdr(ip, ihl * 4 + plen, rnd() & 1 ? 17 : 1, HOST_IP, GUEST_IP, rnd(), 0);
	ip[0] = (uint8_t)(0x40 | ihl);
	switch (below(6)) {
	case 0:
		opt[0] = 7;
		opt[1] = 0;
		break; /* record route, length 0 */
	case 1:
		opt[0] = 7;
		opt[1] = 1;
		break;
	case 2:
		opt[0] = 68;
		opt[1] = (uint8_t)(olen + 4);
		break; /* timestamp past the end */
	case 3:
		opt[0] = 148;
		opt[1] = 4;
		opt[2] = opt[3] = 0;
		break; /* router alert */
	case 4:
		opt[0] = 131;
		opt[1] = (uint8_t)olen;
		opt[2] = 255;
		break; /* LSRR, wild pointer */
	default:
		break;
	}
	if (ip[9] == 1)
		ip[20 + olen] = 8; /* an echo request behind the options */
	ip4_sum(ip);
	send_hostile(f, 14 + ihl * 4 + plen);
}

static unsigned frag_id_pool[8];

static void h_frag(void)
{
	uint8_t f[1600];
	unsigned id = below(3) ? frag_id_pool[below(8)] : rnd() & 0xffff;
	unsigned proto = below(2) ? 17 : 1, off, mf;
	size_t n;

	switch (below(8)) {
	case 0:
		off = 0;
		n = 8;
		mf = 1;
		break; /* tiny first */
	case 1:
		off = below(8192);
		n = 8 * (1 + below(100));
		mf = 1;
		break; /* never completed */
	case 2:
		off = 8180 + below(12);
		n = 8 * (1 + below(150));
		mf = below(2);
		break; /* past 64K */
	case 3:
		off = below(64);
		n = 1 + below(700);
		mf = 0;
		break; /* last, any size */
	case 4:
		off = below(16);
		n = 8 * (1 + below(150));
		mf = 1;
		break; /* overlapping */
	case 5:
		off = below(200);
		n = 0;
		mf = 1;
		break; /* empty */
	case 6:
		off = 0;
		n = 1 + below(7);
		mf = 1;
		break; /* odd-sized, MF */
	default:
		off = below(8192);
		n = 1 + below(1400);
		mf = below(2);
		break;
	}
	fill_random(f, sizeof(f));
	eth(f, guest_mac, host_mac, 0x0800);
	ip4_hdr(f + 14, 20 + n, proto, below(2) ? HOST_IP : any_src(), GUEST_IP, id,
		off | (mf ? 0x2000u : 0));
	if (off == 0 && n >= 8 && proto == 1)
		f[34] = 8, f[35] = 0;
	if (off == 0 && n >= 8 && proto == 17)
		put16(f + 36, (unsigned)server_port), put16(f + 38, 8 + below(65000));
	ip4_sum(f + 14);
	send_hostile(f, 34 + n);
}

/* A burst of fragments of distinct datagrams, none completed: the reassembly limits. */
static void h_frag_flood(void)
{
	for (int k = 0, m = 20 + (int)below(100); k < m; k++) {
		uint8_t f[128];

		fill_random(f, sizeof(f));
		eth(f, guest_mac, host_mac, 0x0800);
		ip4_hdr(f + 14, 20 + 64, 17, any_src(), GUEST_IP, rnd(), 0x2000u | below(8000));
		ip4_sum(f + 14);
		send_hostile(f, 34 + 64);
	}
}

static size_t tcp_garbage_opts(uint8_t *o)
{
	size_t n = 4 * below(11);

	fill_random(o, n);
	switch (below(6)) {
	case 0:
		if (n)
			o[0] = 2, o[1] = 0;
		break; /* MSS, length 0 */
	case 1:
		if (n)
			o[0] = 3, o[1] = 3, o[2] = 255;
		break; /* window scale 255 */
	case 2:
		if (n)
			o[0] = 2, o[1] = 4, o[2] = o[3] = 0;
		break; /* MSS 0 */
	case 3:
		if (n)
			o[0] = 4, o[1] = 0xff;
		break; /* SACK-permitted, length past the end */
	case 4:
		if (n >= 4)
			o[n - 2] = 8, o[n - 1] = 10;
		break; /* timestamps cut */
	default:
		break;
	}
	return n;
}

static void h_tcpbogus(void)
{
	uint8_t f[1600], opt[40], data[512];
	size_t on = tcp_garbage_opts(opt), dn = below(3) ? 0 : below(sizeof(data)), n;
	unsigned dport = below(3) ? (unsigned)server_port : below(65536);
	unsigned flags = below(4) ? rnd() & 0x3f : SYN;
	uint32_t src = any_src();

	fill_random(data, dn);
	n = tcp4(f, src, 1 + below(65535), dport, rnd(), rnd(), flags, opt, on, data, dn);
	switch (below(4)) {
	case 0:
		f[34 + 12] = (uint8_t)(below(16) << 4);
		break; /* any data offset */
	case 1:
		f[34 + 16] ^= 0xff;
		break; /* wrong sum */
	default:
		break;
	}
	send_hostile(f, n);
}

static void h_synflood(void)
{
	uint8_t f[128], opt[4] = {2, 4, 0x05, 0xb4};

	for (int k = 0, m = 32 + (int)below(200); k < m; k++) {
		uint32_t src = below(4) ? 0xc6336400u | below(256) : 0x0a000900u | (3 + below(250));
		size_t n = tcp4(f, src, 1024 + below(60000), (unsigned)server_port, rnd(), 0, SYN,
				opt, 4, NULL, 0);

		send_hostile(f, n);
		if ((k & 15) == 0)
			pump(0);
	}
}

static void h_icmp(void)
{
	uint8_t f[1600];
	size_t plen = below(1400), n;
	uint32_t dst = below(4) ? GUEST_IP : below(2) ? SUBNET_BC : 0xffffffffu;

	fill_random(f, sizeof(f));
	eth(f, dst == GUEST_IP ? guest_mac : bcast_mac, host_mac, 0x0800);
	ip4_hdr(f + 14, 20 + plen, 1, any_src(), dst, rnd(), 0);
	ip4_sum(f + 14);
	n = 34 + plen;
	if (plen >= 8) {
		f[34] = (uint8_t)(const unsigned[]){0, 3, 4, 5, 8, 11, 12, 13, 17, 255}[below(10)];
		if (f[34] == 8 || f[34] == 3 || below(2)) { /* mostly a right sum */
			put16(f + 36, 0);
			put16(f + 36, sum_fold(sum_add(0, f + 34, plen)));
		}
	}
	send_hostile(f, n);
}

static void h_arp(void)
{
	uint8_t f[64];
	uint8_t *a = f + 14;
	size_t n = 42;

	fill_random(f, sizeof(f));
	eth(f, below(2) ? bcast_mac : guest_mac, host_mac, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1 + below(2));
	switch (below(9)) {
	case 0:
		put16(a, rnd());
		break; /* hardware type */
	case 1:
		a[4] = (uint8_t)rnd(), a[5] = (uint8_t)rnd();
		break; /* address lengths */
	case 2:
		put16(a + 6, rnd());
		break; /* opcode */
	case 3:
		n = 14 + below(28);
		break; /* cut short */
	case 4:	       /* the guest's own address claimed */
		put32(a + 14, GUEST_IP);
		put32(a + 24, GUEST_IP);
		break;
	case 5: /* requests from many addresses: the table fills */
		put32(a + 14, 0x0a000900u | (3 + below(250)));
		put32(a + 24, GUEST_IP);
		put16(a + 6, 1);
		break;
	case 6: /* our own address moved to a broadcast or a random MAC */
		put32(a + 14, HOST_IP);
		if (below(2))
			memset(a + 8, 0xff, 6);
		put32(a + 24, GUEST_IP);
		break;
	case 7:
		put32(a + 14, 0);
		put32(a + 24, GUEST_IP);
		break; /* a probe */
	default:
		put32(a + 24, GUEST_IP);
		break;
	}
	send_hostile(f, n < 60 && below(2) ? 60 : n);
	/* A moved gateway would send the guest's answers astray: set it right. */
	if (get32(a + 14) == HOST_IP) {
		memcpy(a + 8, host_mac, 6);
		put16(a + 6, 2);
		memcpy(f + 6, host_mac, 6);
		put16(a, 1);
		a[4] = 6;
		a[5] = 4;
		send_raw(f, 60);
	}
}

static const uint8_t guest_ll[16] = {0xfe, 0x80, 0, 0,	  0,	0,    0,    0,
				     0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56};
static const uint8_t host_ll[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1};
static const uint8_t all_nodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static void icmp6_sum(uint8_t *ip6, size_t plen, size_t at)
{
	uint8_t ph[40];

	memcpy(ph, ip6 + 8, 32);
	put32(ph + 32, (uint32_t)plen);
	put32(ph + 36, 58);
	put16(ip6 + 40 + at, 0);
	put16(ip6 + 40 + at, sum_fold(sum_add(sum_add(0, ph, 40), ip6 + 40, plen)));
}

static void h_ipv6(void)
{
	uint8_t f[1600];
	uint8_t *ip = f + 14, *p = ip + 40;
	size_t plen = 8 + below(300);
	int multicast = below(2);
	unsigned kind = below(11);

	fill_random(f, sizeof(f));
	eth(f, multicast ? (const uint8_t[]){0x33, 0x33, 0, 0, 0, 1} : guest_mac, host_mac, 0x86dd);
	memset(ip, 0, 8);
	ip[0] = 0x60;
	put16(ip + 4, (uint32_t)plen);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, host_ll, 16);
	memcpy(ip + 24, multicast ? all_nodes : guest_ll, 16);
	switch (kind) {
	case 0: /* router advertisement: options of any length, prefixes, MTU */
		p[0] = 134;
		p[1] = 0;
		for (size_t o = 16; o + 8 <= plen;) {
			unsigned t = (const unsigned[]){1, 3, 5, 25, 0, 31}[below(6)], l = below(4);

			p[o] = (uint8_t)t;
			p[o + 1] = (uint8_t)l; /* 0: the length that loops a careless parser */
			if (t == 3 && o + 32 <= plen) {
				p[o + 1] = below(4) ? 4 : (uint8_t)l;
				p[o + 2] = (uint8_t)below(129);
				p[o + 3] = 0xc0;
				put32(p + o + 4, rnd() & 1 ? 0xffffffffu : below(100));
				put32(p + o + 8, below(100));
				p[o + 16] = 0x20, p[o + 17] = 0x01, p[o + 18] = 0x0d,
				      p[o + 19] = 0xb8;
			}
			if (t == 5)
				put32(p + o + 4, below(3000));
			o += l ? l * 8 : 8;
		}
		break;
	case 1:
		p[0] = 135;
		p[1] = 0;
		break; /* neighbour solicitation, random target/options */
	case 2:	       /* neighbour advertisement for the guest's own address (a duplicate) */
		p[0] = 136;
		p[1] = 0;
		p[4] = 0x20;
		memcpy(p + 8, guest_ll, 16);
		break;
	case 3:
		p[0] = 137;
		p[1] = 0;
		break; /* redirect */
	case 4:
		p[0] = 130;
		p[1] = 0;
		break; /* MLD query */
	case 5:
		p[0] = 128;
		p[1] = 0;
		break; /* echo request */
	case 6:
		p[0] = (uint8_t)below(256);
		break;
	case 7: /* extension header chains: hop-by-hop, routing, fragments */
		ip[6] = (uint8_t)(const unsigned[]){0, 43, 44, 60, 59, 0}[below(6)];
		break;
	case 8:
		put16(ip + 4, rnd());
		break; /* payload length lies */
	case 10: {     /* a fragment header: tiny, overlapping, never completed, past 64 KiB */
		unsigned off = below(4) ? below(64) : 8000 + below(192), m = below(3) != 0;

		ip[6] = 44;
		p[0] = 58;
		p[1] = 0;
		put16(p + 2, off << 3 | m);
		put32(p + 4, frag_id_pool[below(8)]);
		if (off == 0) { /* the first: an echo request inside */
			p[8] = 128;
			p[9] = 0;
		}
		plen = 8 + (below(4) ? 8 * (1 + below(30)) : 1 + below(300));
		put16(ip + 4, (uint32_t)plen);
		if (multicast) { /* fragments go to the guest's own address */
			memcpy(ip + 24, guest_ll, 16);
			memcpy(f, guest_mac, 6);
		}
		break;
	}
	default:
		ip[7] = (uint8_t)below(255);
		p[0] = 134;
		break; /* RA with a bad hop limit */
	}
	if (ip[6] == 58 && kind != 8)
		icmp6_sum(ip, plen, 2);
	send_hostile(f, 54 + plen);
}

static void h_dhcp(void)
{
	uint8_t f[1600], o[300];
	size_t n = below(sizeof(o));
	uint32_t xid = below(4) ? dhcp_xid : rnd();

	fill_random(o, n);
	switch (below(7)) {
	case 0:
		if (n >= 2)
			o[0] = 52, o[1] = 1;
		break; /* option overload: sname and file */
	case 1:
		if (n >= 2)
			o[1] = 255;
		break; /* a length past the end */
	case 2:
		memset(o, 0, n);
		break; /* pads only, no end */
	case 3:
		if (n >= 3)
			o[0] = 53, o[1] = 1, o[2] = (uint8_t)below(9);
		break; /* any type */
	case 4:
		if (n >= 6)
			o[0] = 1, o[1] = 4, put32(o + 2, rnd());
		break; /* any mask */
	case 5:
		if (n >= 6)
			o[0] = 51, o[1] = 4, put32(o + 2, below(3));
		break; /* lease 0-2 s */
	default:
		break;
	}
	/* Replies without the standard options, so the garbage is what is parsed. */
	size_t len = dhcp_reply(f, 0, xid, o, n);
	if (below(2)) { /* sname and file full of garbage too */
		fill_random(f + 42 + 44, 192);
		l4_sum4(f + 34, len - 34, 17, HOST_IP, 0xffffffffu, 6);
	}
	send_hostile(f, len);
}

static void h_broadcast(void)
{
	for (int k = 0, m = 16 + (int)below(100); k < m; k++) {
		uint8_t f[1600];
		size_t n = 60 + below(1454);
		static const unsigned types[] = {0x0800, 0x0806, 0x86dd, 0x8100,
						 0x88cc, 0x9000, 0x0842};

		fill_random(f, n);
		eth(f, below(4) ? bcast_mac : (const uint8_t[]){0x01, 0x00, 0x5e, 0, 0, 1},
		    host_mac, types[below(7)]);
		f[11] = (uint8_t)rnd(); /* many senders */
		if (get16(f + 12) == 0x0800) {
			ip4_hdr(f + 14, n - 14, 17, any_src(), below(2) ? SUBNET_BC : 0xffffffffu,
				rnd(), 0);
			put16(f + 36, below(2) ? (unsigned)server_port : below(65536));
			put16(f + 38, (uint32_t)(n - 34));
			put16(f + 40, 0);
			ip4_sum(f + 14);
		}
		send_hostile(f, n);
		if ((k & 15) == 0)
			pump(0);
	}
}

static void (*const hostile_fn[NCAT])(void) = {
    [C_RUNT] = h_runt,	       [C_GIANT] = h_giant, [C_IPLEN] = h_iplen,
    [C_IPOPT] = h_ipopt,       [C_FRAG] = h_frag,   [C_TCPBOGUS] = h_tcpbogus,
    [C_SYNFLOOD] = h_synflood, [C_ICMP] = h_icmp,   [C_ARP] = h_arp,
    [C_IPV6] = h_ipv6,	       [C_DHCP] = h_dhcp,   [C_BCAST] = h_broadcast,
};

/* The weights: single frames often, bursts (floods, storms) now and then. */
static enum cat pick(void)
{
	static const struct {
		enum cat c;
		unsigned w;
	} w[] = {{C_RUNT, 10}, {C_GIANT, 4},	 {C_IPLEN, 14},	  {C_IPOPT, 8},
		 {C_FRAG, 14}, {C_TCPBOGUS, 14}, {C_SYNFLOOD, 1}, {C_ICMP, 8},
		 {C_ARP, 10},  {C_IPV6, 14},	 {C_DHCP, 8},	  {C_BCAST, 1}};
	unsigned total = 0, r;

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		total += w[i].w;
	r = below(total);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (r < w[i].w)
			return w[i].c;
		r -= w[i].w;
	}
	return C_RUNT;
}

/* ------------------------------------------------------------ the campaign */

static void usage(void)
{
	printf(
	    "usage: nettorture --socket PATH [--frames N] [--seed S] [--port P] [--every K]\n"
	    "                  [--answer-ms MS] [-v]\n"
	    "\n"
	    "Connects to QEMU's stream netdev at PATH (tools/qemu.sh --net stream:PATH), is the\n"
	    "guest's DHCP server and gateway (guest 10.0.9.2/24, us 10.0.9.1), waits for the\n"
	    "server app (tests/apps/netserve.c) to answer a UDP echo on port P [7777], then sends\n"
	    "N [3000] hostile frames from seed S [1], with a valid TCP or UDP exchange every K\n"
	    "[100] frames, each answered right within MS [45000] ms (retried meanwhile), then\n"
	    "'quit', and waits for the guest to end. Prints frames sent per\n"
	    "category. Exit 0: every answer right and the guest ended; 1: a failed or wrong\n"
	    "answer; 2: usage or link error.\n");
}

static int valid_round(long round)
{
	long t0 = now_ms();
	uint64_t hostile_rng = rng;
	int ok;

	/* The exchange draws from a stream of its own (it may retry any
	 * number of times); the hostile stream goes on as if it had not run. */
	rng = hostile_rng ^ 0xa5a5a5a5a5a5a5a5ULL;
	rnd();

	switch (round % 4) {
	case 0:
		ok = udp_exchange(13 + below(1400), 0, answer_ms);
		break;
	case 1:
		ok = tcp_exchange(0, answer_ms);
		break;
	case 2:
		ok = udp_exchange(1500 + below(2400), 1, answer_ms);
		break;
	default:
		ok = tcp_exchange(1, answer_ms);
		break;
	}
	rng = hostile_rng;
	rnd();
	if (now_ms() - t0 > ex_slowest_ms[round % 4])
		ex_slowest_ms[round % 4] = now_ms() - t0;
	if (verbose)
		note("%s exchange %s in %ld ms after %ld frames (last: %s)", ex_name[round % 4],
		     ok ? "right" : "FAILED", now_ms() - t0, hostile_total, cat_name[cur_cat]);
	return ok;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"socket", required_argument, 0, 's'},
					   {"frames", required_argument, 0, 'n'},
					   {"seed", required_argument, 0, 'S'},
					   {"port", required_argument, 0, 'p'},
					   {"every", required_argument, 0, 'k'},
					   {"verbose", no_argument, 0, 'v'},
					   {"answer-ms", required_argument, 0, 'a'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	int c, failures = 0;
	long round = 0, start, next_valid;

	while ((c = getopt_long(argc, argv, "s:n:S:p:k:a:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'n':
			nframes = strtol(optarg, NULL, 10);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			server_port = atoi(optarg);
			break;
		case 'k':
			every = atoi(optarg);
			break;
		case 'a':
			answer_ms = strtol(optarg, NULL, 10);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (!sock_path || nframes < 0 || every < 1 || server_port < 1 || server_port > 65535 ||
	    answer_ms < 100) {
		usage();
		return 2;
	}
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (int i = 0; i < 8; i++)
		frag_id_pool[i] = rnd() & 0xffff;
	link_connect();
	note("seed %llu, %ld hostile frames, a valid exchange every %d, link %s",
	     (unsigned long long)seed, nframes, every, sock_path);
	start = now_ms();
	/* The lease, then the server's first answer (the boot may take a while). */
	if (!wait_flag(&leased, 120000))
		die("the guest asked for no DHCP lease within 120 s (%s)",
		    dhcp_seen ? "it asked but never requested" : "no DHCP at all");
	note("leased 10.0.9.2 to %02x:%02x:%02x:%02x:%02x:%02x after %ld ms", guest_mac[0],
	     guest_mac[1], guest_mac[2], guest_mac[3], guest_mac[4], guest_mac[5],
	     now_ms() - start);
	/*
	 * Our address into the guest's ARP table before anything is sent to
	 * it: the probes below reach it while the app loads, and an answer
	 * (ICMP port unreachable) queued for ARP then would hold a page of
	 * the kernel heap at the moment the boot counts its free pages.
	 */
	{
		uint8_t f[64];
		size_t o = eth(f, bcast_mac, host_mac, 0x0806);

		memset(f + o, 0, sizeof(f) - o);
		put16(f + o, 1);
		put16(f + o + 2, 0x0800);
		f[o + 4] = 6;
		f[o + 5] = 4;
		put16(f + o + 6, 1);
		memcpy(f + o + 8, host_mac, 6);
		put32(f + o + 14, HOST_IP);
		put32(f + o + 24, GUEST_IP);
		send_raw(f, 60);
		pump(200);
	}
	if (!udp_exchange(32, 0, 120000))
		die("the server never answered on port %d", server_port);
	ex_tried[X_UDP]--, ex_ok[X_UDP]--; /* the readiness probe is not part of the count */
	start = now_ms();
	next_valid = every;
	while (hostile_total < nframes && !link_closed) {
		cur_cat = pick();
		if (cur_cat == C_FRAG && below(8) == 0)
			h_frag_flood();
		else
			hostile_fn[cur_cat]();
		pump(0);
		if (hostile_total >= next_valid) {
			failures += !valid_round(round++);
			next_valid = hostile_total + every;
		}
	}
	/* After the attack: every kind of exchange once more. */
	for (int i = 0; i < 4; i++)
		failures += !valid_round(round++);
	note("attack and exchanges took %ld ms", now_ms() - start);
	for (int i = 0; i < NCAT; i++)
		note("sent %-10s %ld", cat_name[i], sent[i]);
	note("sent total      %ld hostile frames", hostile_total);
	for (int i = 0; i < NEX; i++)
		note("exchanges %-11s %ld/%ld right, the slowest in %ld ms", ex_name[i], ex_ok[i],
		     ex_tried[i], ex_slowest_ms[i]);
	note("guest frames received %ld (%ld not looked at), wrong answers %ld", guest_frames,
	     rx_dropped, wrong_answers);
	/* "quit" until the guest is gone. */
	{
		uint8_t f[128];
		long deadline = now_ms() + 60000;

		while (!link_closed && now_ms() < deadline) {
			send_raw(f, udp4(f, HOST_IP, GUEST_IP, 40000, (unsigned)server_port,
					 (const uint8_t *)"quit", 4));
			pump(STEP_MS);
		}
	}
	if (!link_closed) {
		note("FAIL the guest did not end after 'quit'");
		failures++;
	}
	failures += wrong_answers > 0;
	note("%s", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
