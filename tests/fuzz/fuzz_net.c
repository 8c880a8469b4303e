/*
 * Fuzzer for the network input path: Ethernet frames into lwIP (the
 * interface's input, ethernet_input, as net/stack.c hands received frames
 * to it) with the socket layer (net/socket.c, net/inet.c) listening: TCP
 * on port 80 and UDP on port 53, IPv4 and IPv6. After the frames, the app
 * side runs as an app would: it accepts what connected, reads what came,
 * answers and closes; the UDP sockets receive and answer.
 *
 * The input is a sequence of records: a flags byte, a 16-bit
 * little-endian length, the frame. Flags: bit 0, the NIC verified the
 * TCP/UDP checksum (NETDEV_RX_CSUM_OK: lwIP skips it, as net/stack.c has
 * it for such frames); bit 1, a TCP segment's acknowledgment number is
 * replaced by the end of the last segment lwIP sent, so that the fuzzer
 * can complete handshakes and acknowledge data without guessing lwIP's
 * initial sequence numbers. The stack lives across inputs, as in the kernel; after each
 * input the connections left are aborted (an RST from the peer, for the
 * socket layer) so the state stays bounded. Checked: lwIP's own asserts
 * (a panic here), ASan and UBSan over lwIP and the socket layer, that no
 * call of the app side waits or fails with an errno the socket calls do
 * not document, that every frame sent fits the MTU, and that closing the
 * accepted sockets leaves no descriptor behind.
 */
/* lwIP's headers first: its arch/cc.h defines BYTE_ORDER, which the C
 * library's <stdlib.h> (in fuzz.h) would define otherwise. */
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <stdint.h>
#include <string.h>

#include "fs/fdtable.h"
#include "fuzz.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/socket.h"
#include "kernel_shim.h"
#include "mm_arena.h"
#include "mm/vm.h"
#include "net/socket.h"
#include "net/stack.h"

/* lwIP's loopback delivery (net/lwip/port.c). */
void netif_poll_all(void);

#define MTU 1500

static struct netif eth;
static int listeners[4], udps[2];
/* What the app side saw, for FUZZ_NET_VERBOSE=1 (a seed's effect). */
static unsigned long frames_sent, accepted, bytes_read, datagrams;

/* mm/ refers to the kernel's address space; nothing here maps through it. */
struct vm_ctx kernel_ctx;

/* Stand-ins for net/stack.c (which owns the interfaces in the kernel):
 * lwIP's loopback interface and the fuzzed one. */
unsigned net_if_count(void)
{
	return 2;
}

int net_if_info(unsigned i, struct net_ifinfo *out)
{
	if (i >= 2)
		return -ENODEV;
	*out = (struct net_ifinfo){0};
	out->ifindex = i + 1;
	out->netif = netif_get_by_index((u8_t)(i + 1));
	FUZZ_ASSERT(out->netif);
	strcpy(out->name, i ? "eth0" : "lo");
	out->mtu = out->netif->mtu;
	return 0;
}

static uint16_t be16(uint16_t v)
{
	return __builtin_bswap16(v);
}

static uint8_t last_sent_end[4]; /* seq + len (+1 for SYN, FIN) of lwIP's last TCP segment */

/* Where the TCP header of an IPv4 or IPv6 frame f of len bytes starts, or 0. */
static size_t tcp_offset(const uint8_t *f, size_t len)
{
	if (len >= 14 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6) {
		size_t off = 14 + (size_t)(f[14] & 15) * 4;
		return len >= off + 20 ? off : 0;
	}
	if (len >= 14 + 40 + 20 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 6)
		return 14 + 40;
	return 0;
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	uint8_t f[MTU + SIZEOF_ETH_HDR];

	(void)netif;
	FUZZ_ASSERT(p->tot_len >= SIZEOF_ETH_HDR && p->tot_len <= sizeof(f));
	FUZZ_ASSERT(pbuf_copy_partial(p, f, p->tot_len, 0) == p->tot_len);
	size_t t = tcp_offset(f, p->tot_len);
	if (t) {
		uint32_t seq = (uint32_t)f[t + 4] << 24 | (uint32_t)f[t + 5] << 16 |
			       (uint32_t)f[t + 6] << 8 | f[t + 7];
		size_t ip_end = f[12] == 0x08 ? 14 + ((size_t)f[16] << 8 | f[17])
					      : 14 + 40 + ((size_t)f[18] << 8 | f[19]);
		size_t hlen = (size_t)(f[t + 12] >> 4) * 4;
		if (ip_end > p->tot_len)
			ip_end = p->tot_len;
		seq += ip_end > t + hlen ? (uint32_t)(ip_end - t - hlen) : 0;
		seq += (f[t + 13] & 0x03) ? 1 : 0; /* SYN or FIN */
		last_sent_end[0] = (uint8_t)(seq >> 24);
		last_sent_end[1] = (uint8_t)(seq >> 16);
		last_sent_end[2] = (uint8_t)(seq >> 8);
		last_sent_end[3] = (uint8_t)seq;
	}
	frames_sent++;
	return ERR_OK;
}

static err_t eth_init(struct netif *netif)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	netif->name[0] = 'e';
	netif->name[1] = 't';
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = linkoutput;
	netif->mtu = MTU;
	netif->mtu6 = MTU;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, mac, ETH_HWADDR_LEN);
	netif->flags =
	    NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
	return ERR_OK;
}

/* A socket of type on port 80 (TCP, listening) or 53 (UDP), any address. */
static int open_socket(int family, int type, uint16_t port)
{
	long fd = CALL(socket, (uint64_t)family, (uint64_t)(type | SOCK_NONBLOCK), 0);
	FUZZ_ASSERT(fd >= 0);
	if (family == AF_INET) {
		struct linux_sockaddr_in a = {.sin_family = AF_INET, .sin_port = be16(port)};
		FUZZ_ASSERT(CALL(bind, (uint64_t)fd, U(&a), sizeof(a)) == 0);
	} else {
		int one = 1;
		struct linux_sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = be16(port)};
		FUZZ_ASSERT(CALL(setsockopt, (uint64_t)fd, IPPROTO_IPV6, IPV6_V6ONLY, U(&one),
				 sizeof(one)) == 0);
		FUZZ_ASSERT(CALL(bind, (uint64_t)fd, U(&a), sizeof(a)) == 0);
	}
	if (type == SOCK_STREAM)
		FUZZ_ASSERT(CALL(listen, (uint64_t)fd, 4) == 0);
	return (int)fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ip4_addr_t ip, mask, gw;

	(void)argc;
	(void)argv;
	shim_setup();
	lwip_init();
	IP4_ADDR(&ip, 10, 0, 2, 15);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 2, 2);
	FUZZ_ASSERT(netif_add(&eth, &ip, &mask, &gw, NULL, eth_init, ethernet_input));
	netif_set_default(&eth);
	netif_set_up(&eth);
	netif_set_link_up(&eth);
	netif_create_ip6_linklocal_address(&eth, 1);
	netif_ip6_addr_set_state(&eth, 0, IP6_ADDR_PREFERRED);

	listeners[0] = open_socket(AF_INET, SOCK_STREAM, 80);
	listeners[1] = open_socket(AF_INET6, SOCK_STREAM, 80);
	listeners[2] = open_socket(AF_INET, SOCK_STREAM, 7);
	listeners[3] = open_socket(AF_INET6, SOCK_STREAM, 7);
	udps[0] = open_socket(AF_INET, SOCK_DGRAM, 53);
	udps[1] = open_socket(AF_INET6, SOCK_DGRAM, 53);
	return 0;
}

/* The kernel's deferred work: loopback queues and lwIP's timers. */
static void pump(uint64_t ms)
{
	shim_now += ms * 1000000ull;
	netif_poll_all();
	sys_check_timeouts();
}

static void input_frame(const uint8_t *data, size_t len, unsigned flags)
{
	uint8_t frame[MTU + SIZEOF_ETH_HDR];
	int csum_ok = flags & 1;

	if (len < SIZEOF_ETH_HDR || len > MTU + SIZEOF_ETH_HDR)
		return; /* what net/stack.c's receive drops */
	memcpy(frame, data, len);
	size_t t = tcp_offset(frame, len);
	if ((flags & 2) && t)
		memcpy(frame + t + 8, last_sent_end, 4);
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!p)
		return;
	FUZZ_ASSERT(pbuf_take(p, frame, (u16_t)len) == ERR_OK);
	if (csum_ok)
		NETIF_SET_CHECKSUM_CTRL(&eth,
					NETIF_CHECKSUM_ENABLE_ALL &
					    ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP));
	if (eth.input(p, &eth) != ERR_OK)
		pbuf_free(p);
	NETIF_SET_CHECKSUM_CTRL(&eth, NETIF_CHECKSUM_ENABLE_ALL);
}

/* A call that must not wait: the sockets are non-blocking. */
static long no_wait(long r)
{
	FUZZ_ASSERT(r != -EWAITING);
	return r;
}

/* The app: accept, read, answer, close; receive and answer datagrams. */
static void app_side(void)
{
	static const char reply[] = "HTTP/1.0 200 OK\r\n\r\nsolo\n";
	char buf[2048];

	for (int i = 0; i < 4; i++) {
		long s;
		while ((s = no_wait(CALL(accept4, (uint64_t)listeners[i], 0, 0, SOCK_NONBLOCK))) >=
		       0) {
			long n = no_wait(CALL(recvfrom, (uint64_t)s, U(buf), sizeof(buf), 0, 0, 0));
			FUZZ_ASSERT(n <= (long)sizeof(buf));
			FUZZ_ASSERT(n >= 0 || n == -EAGAIN || n == -ECONNRESET);
			accepted++;
			bytes_read += n > 0 ? (unsigned long)n : 0;
			n = no_wait(CALL(sendto, (uint64_t)s, U(reply), sizeof(reply) - 1,
					 MSG_NOSIGNAL, 0, 0));
			FUZZ_ASSERT(n < 0 || n <= (long)sizeof(reply) - 1);
			FUZZ_ASSERT(CALL(close, (uint64_t)s) == 0);
		}
		FUZZ_ASSERT(s == -EAGAIN || s == -ECONNABORTED);
	}
	for (int i = 0; i < 2; i++) {
		struct linux_sockaddr_storage from;
		int32_t fromlen;
		long n;
		for (int k = 0; k < 16; k++) {
			fromlen = sizeof(from);
			n = no_wait(CALL(recvfrom, (uint64_t)udps[i], U(buf), sizeof(buf), 0,
					 U(&from), U(&fromlen)));
			if (n < 0)
				break;
			FUZZ_ASSERT(n <= (long)sizeof(buf));
			FUZZ_ASSERT(fromlen > 0 && fromlen <= (int32_t)sizeof(from));
			datagrams++;
			no_wait(CALL(sendto, (uint64_t)udps[i], U(buf), (uint64_t)n, 0, U(&from),
				     (uint64_t)fromlen));
		}
		FUZZ_ASSERT(n == -EAGAIN || n >= 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (size - off >= 3) {
		unsigned flags = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		input_frame(data + off, len, flags);
		off += len;
		pump(10);
	}
	app_side();
	pump(10);
	app_side();

	/* What is left of the connections goes, as if the peers reset them:
	 * the next input starts from the listeners alone. */
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	app_side();
	pump(10);
	/* Every accepted socket was closed: the next descriptor is the one
	 * after the six sockets of the app. */
	long fd = CALL(socket, AF_INET, SOCK_DGRAM, 0);
	FUZZ_ASSERT(fd == udps[1] + 1);
	FUZZ_ASSERT(CALL(close, (uint64_t)fd) == 0);
	if (getenv("FUZZ_NET_VERBOSE"))
		fprintf(stderr,
			"fuzz_net: %lu frames sent, %lu accepted, %lu bytes read, %lu datagrams\n",
			frames_sent, accepted, bytes_read, datagrams);
	return 0;
}
