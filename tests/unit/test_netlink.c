/*
 * Host tests of net/netlink.c through the socket syscalls: port ids,
 * RTM_GETLINK and RTM_GETADDR dumps parsed back as getifaddrs would
 * (musl's rtgenmsg request; glibc's MSG_PEEK|MSG_TRUNC sizing), one
 * RTM_GETLINK by index, errors and acknowledgements, malformed requests,
 * and the SIOCGIF* ioctls. The interfaces are stand-ins for net/stack.c's
 * (defined here): "lo" 127.0.0.1/8 and ::1, "eth0" 10.0.2.15/24 with a
 * MAC and a link-local IPv6 address, on lwIP netifs filled by hand.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fs/fdtable.h"
#include "fs/file.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/socket.h"
#include "fs/iobuf.h"
#include "kernel_shim.h"
#undef BYTE_ORDER /* the C library's; lwIP's arch/cc.h defines its own */
#include "lwip/netif.h"
#include "net/netlink.h"
#include "net/socket.h"
#include "net/stack.h"

/* ---------------------------------------------------------------- stand-ins for net/stack.c */

static struct netif lo_netif, eth_netif;
static const uint8_t eth_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

unsigned net_if_count(void)
{
	return 2;
}

int net_if_info(unsigned i, struct net_ifinfo *out)
{
	if (i >= 2)
		return -ENODEV;
	*out = (struct net_ifinfo){0};
	if (i == 0) {
		strcpy(out->name, "lo");
		out->ifindex = 1;
		out->netif = &lo_netif;
		out->mtu = 65536;
		out->flags = NET_IFF_UP | NET_IFF_RUNNING | NET_IFF_LOWER_UP | NET_IFF_LOOPBACK;
		return 0;
	}
	strcpy(out->name, "eth0");
	out->ifindex = 2;
	out->netif = &eth_netif;
	memcpy(out->mac, eth_mac, 6);
	out->mtu = 1500;
	out->flags =
	    NET_IFF_UP | NET_IFF_RUNNING | NET_IFF_LOWER_UP | NET_IFF_BROADCAST | NET_IFF_MULTICAST;
	out->rx_packets = 7;
	out->tx_bytes = 1234;
	return 0;
}

const char *net_if_name(const struct netif *netif)
{
	return netif == &eth_netif ? "eth0" : "lo";
}

static void netifs_fill(void)
{
	memset(&lo_netif, 0, sizeof(lo_netif));
	memset(&eth_netif, 0, sizeof(eth_netif));
	IP_ADDR4(&lo_netif.ip_addr, 127, 0, 0, 1);
	IP_ADDR4(&lo_netif.netmask, 255, 0, 0, 0);
	IP_ADDR6_HOST(&lo_netif.ip6_addr[0], 0, 0, 0, 1);
	lo_netif.ip6_addr_state[0] = IP6_ADDR_PREFERRED;
	IP_ADDR4(&eth_netif.ip_addr, 10, 0, 2, 15);
	IP_ADDR4(&eth_netif.netmask, 255, 255, 255, 0);
	IP_ADDR6_HOST(&eth_netif.ip6_addr[0], 0xfe800000u, 0, 0x505400ffu, 0xfe123456u);
	eth_netif.ip6_addr_state[0] = IP6_ADDR_PREFERRED;
	IP_ADDR6_HOST(&eth_netif.ip6_addr[1], 0x20010db8u, 0, 0, 1);
	eth_netif.ip6_addr_state[1] = IP6_ADDR_TENTATIVE; /* listed with IFA_F_TENTATIVE */
}

static void setup(void)
{
	shim_setup();
	netifs_fill();
}

TestSuite(netlink, .init = setup);

/* ---------------------------------------------------------------- helpers */

static int nl_socket(void)
{
	long fd = CALL(socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	cr_assert_geq(fd, 0);
	return (int)fd;
}

static uint32_t portid_of(int fd)
{
	struct linux_sockaddr_nl nl;
	int32_t len = sizeof(nl);
	cr_assert_eq(CALL(getsockname, fd, U(&nl), U(&len)), 0);
	cr_assert_eq(len, (int32_t)sizeof(nl));
	return nl.nl_pid;
}

/* A request as musl sends it: header and a one-byte rtgenmsg (17 bytes). */
static void request(int fd, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family)
{
	char req[NLMSG_HDRLEN + 1];
	struct linux_nlmsghdr h = {
	    .nlmsg_len = sizeof(req), .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq};
	struct linux_sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	memcpy(req, &h, sizeof(h));
	req[NLMSG_HDRLEN] = (char)family;
	cr_assert_eq(CALL(sendto, fd, U(req), sizeof(req), 0, U(&kernel), sizeof(kernel)),
		     (long)sizeof(req));
}

/* What one dump reply held, parsed as getifaddrs would. */
struct seen {
	int links, done, errors, error;
	int lo_link, eth_link, eth_mtu, eth_mac, lo_stats;
	int lo4, eth4, eth4_brd, lo6, eth6_ll, other6, tentative6;
};

static void parse_attrs(struct seen *s, uint16_t type, const char *p, size_t len, int index,
			int family)
{
	struct linux_rtattr a;

	for (size_t at = 0; len - at >= sizeof(a);) {
		memcpy(&a, p + at, sizeof(a));
		cr_assert_geq(a.rta_len, sizeof(a));
		cr_assert_leq(a.rta_len, len - at);
		const char *d = p + at + sizeof(a);
		size_t n = a.rta_len - sizeof(a);
		if (type == RTM_NEWLINK) {
			if (a.rta_type == IFLA_IFNAME && index == 1)
				s->lo_link = !strcmp(d, "lo");
			if (a.rta_type == IFLA_IFNAME && index == 2)
				s->eth_link = !strcmp(d, "eth0");
			if (a.rta_type == IFLA_MTU && index == 2)
				s->eth_mtu = *(const uint32_t *)d;
			if (a.rta_type == IFLA_ADDRESS && index == 2)
				s->eth_mac = n == 6 && !memcmp(d, eth_mac, 6);
			if (a.rta_type == IFLA_STATS64 && index == 1)
				s->lo_stats = n == sizeof(struct linux_rtnl_link_stats64);
		} else if (family == AF_INET) {
			uint32_t v;
			memcpy(&v, d, 4);
			if (a.rta_type == IFA_LOCAL && index == 1)
				s->lo4 = v == lwip_htonl(0x7f000001);
			if (a.rta_type == IFA_LOCAL && index == 2)
				s->eth4 = v == lwip_htonl(0x0a00020f);
			if (a.rta_type == IFA_BROADCAST && index == 2)
				s->eth4_brd = v == lwip_htonl(0x0a0002ff);
		} else if (a.rta_type == IFA_ADDRESS) {
			if (index == 1 && d[15] == 1)
				s->lo6++;
			else if (index == 2 && (uint8_t)d[0] == 0xfe)
				s->eth6_ll++;
			else
				s->other6++;
		}
		at += RTA_ALIGN(a.rta_len);
	}
}

/* Reads datagrams until NLMSG_DONE or an error message, as glibc does:
 * peek with MSG_TRUNC for the size first. */
static void read_reply(int fd, uint32_t seq, struct seen *s)
{
	static char buf[NETLINK_DGRAM_MAX];
	uint32_t portid = portid_of(fd);

	memset(s, 0, sizeof(*s));
	for (int rounds = 0; rounds < 16 && !s->done && !s->errors; rounds++) {
		char small[4];
		long want = CALL(recvfrom, fd, U(small), sizeof(small), MSG_PEEK | MSG_TRUNC, 0, 0);
		cr_assert_gt(want, 0);
		cr_assert_leq(want, (long)sizeof(buf));
		long n = CALL(recvfrom, fd, U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0);
		cr_assert_eq(n, want);
		struct linux_nlmsghdr h;
		for (long at = 0; n - at >= (long)sizeof(h);) {
			memcpy(&h, buf + at, sizeof(h));
			cr_assert_geq(h.nlmsg_len, sizeof(h));
			cr_assert_leq(h.nlmsg_len, (uint32_t)(n - at));
			cr_assert_eq(h.nlmsg_seq, seq);
			cr_assert_eq(h.nlmsg_pid, portid);
			const char *body = buf + at + NLMSG_HDRLEN;
			size_t blen = h.nlmsg_len - NLMSG_HDRLEN;
			if (h.nlmsg_type == NLMSG_DONE) {
				s->done = 1;
			} else if (h.nlmsg_type == NLMSG_ERROR) {
				struct linux_nlmsgerr e;
				memcpy(&e, body, sizeof(e));
				s->errors++;
				s->error = e.error;
			} else if (h.nlmsg_type == RTM_NEWLINK) {
				struct linux_ifinfomsg ifm;
				memcpy(&ifm, body, sizeof(ifm));
				cr_assert(h.nlmsg_flags & NLM_F_MULTI);
				s->links++;
				cr_assert_eq(ifm.ifi_type,
					     ifm.ifi_index == 1 ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
				parse_attrs(s, h.nlmsg_type, body + NLMSG_ALIGN(sizeof(ifm)),
					    blen - NLMSG_ALIGN(sizeof(ifm)), ifm.ifi_index, 0);
			} else if (h.nlmsg_type == RTM_NEWADDR) {
				struct linux_ifaddrmsg ifa;
				memcpy(&ifa, body, sizeof(ifa));
				if (ifa.ifa_family == AF_INET)
					cr_assert_eq(ifa.ifa_prefixlen,
						     ifa.ifa_index == 1 ? 8 : 24);
				if (ifa.ifa_family == AF_INET6 && ifa.ifa_index == 2) {
					/* The global address is still tentative. */
					int tentative = !!(ifa.ifa_flags & IFA_F_TENTATIVE);
					s->tentative6 += tentative;
					cr_assert_eq(ifa.ifa_scope,
						     tentative ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
				}
				parse_attrs(s, h.nlmsg_type, body + NLMSG_ALIGN(sizeof(ifa)),
					    blen - NLMSG_ALIGN(sizeof(ifa)), (int)ifa.ifa_index,
					    ifa.ifa_family);
			}
			at += NLMSG_ALIGN(h.nlmsg_len);
		}
	}
}

/* ---------------------------------------------------------------- netlink */

Test(netlink, bind_assigns_the_pid_then_others)
{
	int a = nl_socket(), b = nl_socket(), c = nl_socket();
	struct linux_sockaddr_nl nl = {.nl_family = AF_NETLINK};

	cr_assert_eq(portid_of(a), 0, "unbound");
	cr_assert_eq(CALL(bind, a, U(&nl), sizeof(nl)), 0);
	cr_assert_eq(portid_of(a), 1);
	cr_assert_eq(CALL(bind, b, U(&nl), sizeof(nl)), 0);
	cr_assert_neq(portid_of(b), 0);
	cr_assert_neq(portid_of(b), 1);
	nl.nl_pid = 1;
	cr_assert_eq(CALL(bind, c, U(&nl), sizeof(nl)), -EADDRINUSE);
	cr_assert_eq(CALL(bind, c, U(&nl), 4), -EINVAL);
	cr_assert_eq(CALL(socket, AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), -EPROTONOSUPPORT);
	cr_assert_eq(CALL(socket, AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), -ESOCKTNOSUPPORT);
	shim_close_all_and_check();
}

Test(netlink, getlink_dump_lists_lo_and_eth0)
{
	int fd = nl_socket();
	struct seen s;

	request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, AF_PACKET);
	cr_assert(file_poll(fd_get(fd), NULL) & POLLIN);
	read_reply(fd, 7, &s);
	cr_assert(s.done);
	cr_assert_eq(s.errors, 0);
	cr_assert_eq(s.links, 2);
	cr_assert(s.lo_link);
	cr_assert(s.eth_link);
	cr_assert_eq(s.eth_mtu, 1500);
	cr_assert(s.eth_mac);
	cr_assert(s.lo_stats);
	char buf[16];
	cr_assert_eq(CALL(recvfrom, fd, U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), -EAGAIN);
	shim_close_all_and_check();
}

Test(netlink, getaddr_dump_lists_both_families_or_one)
{
	int fd = nl_socket();
	struct seen s;

	request(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 8, AF_UNSPEC);
	read_reply(fd, 8, &s);
	cr_assert(s.done);
	cr_assert(s.lo4);
	cr_assert(s.eth4);
	cr_assert(s.eth4_brd);
	cr_assert_eq(s.lo6, 1);
	cr_assert_eq(s.eth6_ll, 1);
	/* As on Linux, an address in duplicate detection is listed, flagged. */
	cr_assert_eq(s.other6, 1);
	cr_assert_eq(s.tentative6, 1);
	request(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 9, AF_INET);
	read_reply(fd, 9, &s);
	cr_assert(s.eth4);
	cr_assert_eq(s.lo6 + s.eth6_ll, 0);
	request(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 10, AF_INET6);
	read_reply(fd, 10, &s);
	cr_assert_not(s.eth4);
	cr_assert_eq(s.lo6, 1);
	shim_close_all_and_check();
}

Test(netlink, getlink_of_one_and_errors_and_acks)
{
	int fd = nl_socket();
	char req[NLMSG_HDRLEN + sizeof(struct linux_ifinfomsg)] = {0};
	struct linux_nlmsghdr h = {.nlmsg_len = sizeof(req),
				   .nlmsg_type = RTM_GETLINK,
				   .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
				   .nlmsg_seq = 3};
	struct linux_ifinfomsg ifm = {.ifi_index = 2};
	char buf[NETLINK_DGRAM_MAX];

	memcpy(req, &h, sizeof(h));
	memcpy(req + NLMSG_HDRLEN, &ifm, sizeof(ifm));
	cr_assert_eq(CALL(sendto, fd, U(req), sizeof(req), 0, 0, 0), (long)sizeof(req));
	long n = CALL(recvfrom, fd, U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0);
	struct linux_nlmsghdr r;
	memcpy(&r, buf, sizeof(r));
	cr_assert_eq(r.nlmsg_type, RTM_NEWLINK);
	memcpy(&r, buf + NLMSG_ALIGN(r.nlmsg_len), sizeof(r));
	cr_assert_eq(r.nlmsg_type, NLMSG_ERROR, "the acknowledgement follows");
	struct linux_nlmsgerr e;
	memcpy(&e, buf + n - sizeof(e), sizeof(e));
	cr_assert_eq(e.error, 0);

	ifm.ifi_index = 99;
	memcpy(req + NLMSG_HDRLEN, &ifm, sizeof(ifm));
	CALL(sendto, fd, U(req), sizeof(req), 0, 0, 0);
	struct seen s;
	read_reply(fd, 3, &s);
	cr_assert_eq(s.error, -ENODEV);

	request(fd, RTM_NEWROUTE, NLM_F_REQUEST, 4, AF_INET);
	read_reply(fd, 4, &s);
	cr_assert_eq(s.error, -EOPNOTSUPP);
	shim_close_all_and_check();
}

Test(netlink, malformed_requests_get_nothing_and_truncation_is_reported)
{
	int fd = nl_socket();
	char req[64] = {0};
	struct linux_nlmsghdr h = {
	    .nlmsg_len = 0, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP};
	char buf[32];

	memcpy(req, &h, sizeof(h));
	cr_assert_eq(CALL(sendto, fd, U(req), sizeof(req), 0, 0, 0), (long)sizeof(req));
	h.nlmsg_len = 1000; /* past the end */
	memcpy(req, &h, sizeof(h));
	CALL(sendto, fd, U(req), sizeof(req), 0, 0, 0);
	CALL(sendto, fd, U(req), 7, 0, 0, 0); /* shorter than a header */
	cr_assert_eq(CALL(sendto, fd, 16, 20, 0, 0, 0), -EFAULT);
	cr_assert_eq(CALL(recvfrom, fd, U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), -EAGAIN);
	struct linux_sockaddr_nl other = {.nl_family = AF_NETLINK, .nl_pid = 5};
	cr_assert_eq(CALL(sendto, fd, U(req), 16, 0, U(&other), sizeof(other)), -ECONNREFUSED);

	request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, AF_UNSPEC);
	struct linux_iovec iov = {U(buf), sizeof(buf)};
	struct linux_msghdr mh = {.msg_iov = U(&iov), .msg_iovlen = 1};
	long n = CALL(recvmsg, fd, U(&mh), MSG_TRUNC);
	cr_assert_gt(n, (long)sizeof(buf));
	cr_assert(mh.msg_flags & MSG_TRUNC);
	shim_close_all_and_check();
}

Test(netlink, a_full_queue_drops_replies_with_enobufs)
{
	int fd = nl_socket();
	char buf[8];
	int i;

	for (i = 0; i < 10000; i++) {
		request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, AF_UNSPEC);
		if (file_poll(fd_get(fd), NULL) & POLLERR)
			break;
	}
	cr_assert_lt(i, 10000);
	cr_assert_eq(CALL(recvfrom, fd, U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), -ENOBUFS);
	cr_assert_gt(CALL(recvfrom, fd, U(buf), sizeof(buf), MSG_DONTWAIT, 0, 0), 0);
	shim_close_all_and_check();
}

/* ---------------------------------------------------------------- the interface ioctls */

static long ioc(int fd, unsigned cmd, void *arg)
{
	struct file *f = fd_get(fd);
	return f->ops->ioctl(f, cmd, U(arg));
}

static long ifreq(int fd, unsigned cmd, const char *name, struct linux_ifreq *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->ifr_name, name);
	return ioc(fd, cmd, r);
}

static uint32_t in_addr_of(const struct linux_sockaddr *sa)
{
	struct linux_sockaddr_in sin;
	memcpy(&sin, sa, sizeof(sin));
	cr_assert_eq(sin.sin_family, AF_INET);
	return lwip_ntohl(sin.sin_addr.s_addr);
}

Test(netlink, interface_ioctls)
{
	int fd = nl_socket(); /* any socket takes them */
	struct linux_ifreq r, reqs[4];
	struct linux_ifconf ic = {.ifc_len = 0, .ifc_buf = 0};

	cr_assert_eq(ioc(fd, SIOCGIFCONF, &ic), 0);
	cr_assert_eq(ic.ifc_len, 2 * (int)sizeof(struct linux_ifreq), "the size query");
	ic = (struct linux_ifconf){.ifc_len = sizeof(reqs), .ifc_buf = U(reqs)};
	cr_assert_eq(ioc(fd, SIOCGIFCONF, &ic), 0);
	cr_assert_eq(ic.ifc_len, 2 * (int)sizeof(struct linux_ifreq));
	cr_assert_str_eq(reqs[0].ifr_name, "lo");
	cr_assert_eq(in_addr_of(&reqs[1].ifr_addr), 0x0a00020f);
	ic = (struct linux_ifconf){.ifc_len = sizeof(reqs[0]) + 3, .ifc_buf = U(reqs)};
	cr_assert_eq(ioc(fd, SIOCGIFCONF, &ic), 0);
	cr_assert_eq(ic.ifc_len, (int)sizeof(struct linux_ifreq), "as many as fit");

	cr_assert_eq(ifreq(fd, SIOCGIFINDEX, "lo", &r), 0);
	cr_assert_eq(r.ifr_ifindex, 1);
	memset(&r, 0, sizeof(r));
	r.ifr_ifindex = 2;
	cr_assert_eq(ioc(fd, SIOCGIFNAME, &r), 0);
	cr_assert_str_eq(r.ifr_name, "eth0");
	r.ifr_ifindex = 9;
	cr_assert_eq(ioc(fd, SIOCGIFNAME, &r), -ENODEV);

	cr_assert_eq(ifreq(fd, SIOCGIFFLAGS, "lo", &r), 0);
	cr_assert(r.ifr_flags & IFF_LOOPBACK);
	cr_assert_eq(ifreq(fd, SIOCGIFFLAGS, "eth0", &r), 0);
	cr_assert_eq(r.ifr_flags & (IFF_UP | IFF_RUNNING | IFF_BROADCAST | IFF_LOOPBACK),
		     IFF_UP | IFF_RUNNING | IFF_BROADCAST);
	cr_assert_eq(ifreq(fd, SIOCGIFADDR, "eth0", &r), 0);
	cr_assert_eq(in_addr_of(&r.ifr_addr), 0x0a00020f);
	cr_assert_eq(ifreq(fd, SIOCGIFNETMASK, "eth0", &r), 0);
	cr_assert_eq(in_addr_of(&r.ifr_netmask), 0xffffff00);
	cr_assert_eq(ifreq(fd, SIOCGIFBRDADDR, "eth0", &r), 0);
	cr_assert_eq(in_addr_of(&r.ifr_broadaddr), 0x0a0002ff);
	cr_assert_eq(ifreq(fd, SIOCGIFADDR, "lo", &r), 0);
	cr_assert_eq(in_addr_of(&r.ifr_addr), 0x7f000001);
	cr_assert_eq(ifreq(fd, SIOCGIFHWADDR, "eth0", &r), 0);
	cr_assert_eq(r.ifr_hwaddr.sa_family, ARPHRD_ETHER);
	cr_assert_eq(memcmp(r.ifr_hwaddr.sa_data, eth_mac, 6), 0);
	cr_assert_eq(ifreq(fd, SIOCGIFHWADDR, "lo", &r), 0);
	cr_assert_eq(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
	cr_assert_eq(ifreq(fd, SIOCGIFMTU, "eth0", &r), 0);
	cr_assert_eq(r.ifr_mtu, 1500);
	cr_assert_eq(ifreq(fd, SIOCGIFMTU, "lo", &r), 0);
	cr_assert_eq(r.ifr_mtu, 65536);
	cr_assert_eq(ifreq(fd, SIOCGIFTXQLEN, "eth0", &r), 0);
	cr_assert_eq(r.ifr_ifindex, 1000);

	cr_assert_eq(ifreq(fd, SIOCGIFFLAGS, "nosuch0", &r), -ENODEV);
	cr_assert_eq(ifreq(fd, SIOCSIFFLAGS, "eth0", &r), -EPERM);
	cr_assert_eq(ifreq(fd, SIOCSIFMTU, "eth0", &r), -EPERM);
	cr_assert_eq(ifreq(fd, 0x89f0, "eth0", &r), -ENOTTY);
	cr_assert_eq(ioc(fd, SIOCGIFFLAGS, (void *)16), -EFAULT);
	cr_assert_eq(ioc(fd, SIOCGIFCONF, (void *)16), -EFAULT);

	memset(&eth_netif.ip_addr, 0, sizeof(eth_netif.ip_addr)); /* before DHCP */
	cr_assert_eq(ifreq(fd, SIOCGIFADDR, "eth0", &r), -EADDRNOTAVAIL);
	ic = (struct linux_ifconf){.ifc_len = 0, .ifc_buf = 0};
	cr_assert_eq(ioc(fd, SIOCGIFCONF, &ic), 0);
	cr_assert_eq(ic.ifc_len, (int)sizeof(struct linux_ifreq), "only interfaces with IPv4");
	shim_close_all_and_check();
}
