/*
 * The network's configuration (see netcfg.h). The formatting and the
 * files' text at the top are plain C (host-tested); the rest applies the
 * configuration to lwIP and waits for it at boot.
 *
 * The address lines are logged by netcfg_changed, which the stack calls
 * after every run of its work: it compares each interface's addresses
 * with what was logged last, so a lease, a SLAAC address or a change
 * after the boot is reported once, whatever part of lwIP made it.
 */
#include "net/netcfg.h"

#include "kernel/klib.h"
#include "kernel/kprintf.h"

size_t netcfg_format_mac(char *buf, size_t size, const uint8_t mac[6])
{
	return (size_t)ksnprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
				 mac[3], mac[4], mac[5]);
}

static size_t format_ipv6(char *buf, size_t size, const uint8_t b[16])
{
	unsigned g[8];
	int best = -1, best_len = 0;
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (size)
		buf[0] = '\0';
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			n += (size_t)ksnprintf(buf + MIN(n, size), size - MIN(n, size), "::");
			i += best_len - 1;
			continue;
		}
		int colon = i && i != best + best_len;
		n += (size_t)ksnprintf(buf + MIN(n, size), size - MIN(n, size), "%s%x",
				       colon ? ":" : "", g[i]);
	}
	return n;
}

size_t netcfg_format_addr(char *buf, size_t size, const struct bootcfg_addr *a)
{
	const uint8_t *b = a->bytes;

	if (a->family == 4)
		return (size_t)ksnprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	if (a->family == 6)
		return format_ipv6(buf, size, b);
	return (size_t)ksnprintf(buf, size, "-");
}

int netcfg_prefix_len(const uint8_t mask[4])
{
	uint32_t m =
	    (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 | (uint32_t)mask[2] << 8 | mask[3];
	int n = 0;

	while (n < 32 && (m & (1u << (31 - n))))
		n++;
	/* Ones, then zeros only. */
	if (n < 32 && (m & (0xffffffffu >> n)))
		return -1;
	return n;
}

void netcfg_prefix_mask(unsigned prefix, uint8_t mask[4])
{
	uint32_t m = prefix >= 32 ? 0xffffffffu : prefix ? ~(0xffffffffu >> prefix) : 0;

	mask[0] = (uint8_t)(m >> 24);
	mask[1] = (uint8_t)(m >> 16);
	mask[2] = (uint8_t)(m >> 8);
	mask[3] = (uint8_t)m;
}

/* Appends formatted text at *n (which counts what was wanted). */
#define APPEND(buf, size, n, ...)                                                                  \
	(*(n) +=                                                                                   \
	 (size_t)ksnprintf((buf) + MIN(*(n), (size)), (size)-MIN(*(n), (size)), __VA_ARGS__))

size_t netcfg_resolv_conf(char *buf, size_t size, const struct bootcfg_addr *servers,
			  size_t nservers, const char *source)
{
	char addr[48];
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	if (!nservers) {
		APPEND(buf, size, &n,
		       "# made by Solo: no DNS server is known (no DHCP lease, "
		       "no dns= in boot.cfg)\n");
		return n;
	}
	APPEND(buf, size, &n, "# made by Solo from %s\n", source);
	for (size_t i = 0; i < nservers; i++) {
		netcfg_format_addr(addr, sizeof(addr), &servers[i]);
		APPEND(buf, size, &n, "nameserver %s\n", addr);
	}
	return n;
}

size_t netcfg_hosts(char *buf, size_t size, const char *hostname, const struct bootcfg_addr *addr)
{
	char text[48] = "127.0.1.1";
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	if (addr && addr->family)
		netcfg_format_addr(text, sizeof(text), addr);
	APPEND(buf, size, &n, "# made by Solo\n127.0.0.1\tlocalhost\n");
	APPEND(buf, size, &n, "::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (hostname && *hostname)
		APPEND(buf, size, &n, "%s\t%s\n", text, hostname);
	return n;
}

size_t netcfg_nsswitch(char *buf, size_t size)
{
	return (size_t)ksnprintf(buf, size, "# made by Solo\nhosts: files dns\n");
}

#ifndef HOST_TEST
#include "kernel/defer.h"
#include "kernel/log.h"
#include "kernel/netdev.h"
#include "kernel/proc.h"
#include "kernel/time.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "net/stack.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

/* What was configured and logged, per attached interface. */
static struct cfg_if {
	struct netif *netif;
	const char *name;
	int dhcp;
	uint64_t dhcp_start; /* ns */
	uint32_t logged_v4;  /* the address last logged (network order), 0: none */
	uint8_t logged6[LWIP_IPV6_NUM_ADDRESSES][16];
} cifs[NETDEV_MAX];
static unsigned ncifs;
static const struct boot_config *config;

static char resolv_text[512], hosts_text[256], nsswitch_text[64];
static struct rootfs_file root_files[3];

static struct bootcfg_addr from_ip4(const ip4_addr_t *a)
{
	struct bootcfg_addr out = {.family = 4};

	memcpy(out.bytes, &a->addr, 4);
	return out;
}

static struct bootcfg_addr from_ip6(const ip6_addr_t *a)
{
	struct bootcfg_addr out = {.family = 6};

	memcpy(out.bytes, a->addr, 16);
	return out;
}

static void log_ipv4(struct cfg_if *c)
{
	const struct netif *n = c->netif;
	struct bootcfg_addr ip = from_ip4(netif_ip4_addr(n)), gw = from_ip4(netif_ip4_gw(n));
	char addr[48], gateway[64] = "", how[48];
	const uint8_t *mask = (const uint8_t *)&netif_ip4_netmask(n)->addr;

	netcfg_format_addr(addr, sizeof(addr), &ip);
	if (!ip4_addr_isany(netif_ip4_gw(n))) {
		memcpy(gateway, " gateway ", 10);
		netcfg_format_addr(gateway + 9, sizeof(gateway) - 9, &gw);
	}
	if (c->dhcp)
		ksnprintf(how, sizeof(how), "dhcp, %lu ms",
			  (unsigned long)((time_now() - c->dhcp_start) / NS_PER_MS));
	else
		ksnprintf(how, sizeof(how), "static");
	kinfo("solo: net: %s %s/%d%s (%s)\n", c->name, addr, netcfg_prefix_len(mask), gateway, how);
}

/* Logs an IPv6 address the first time it is seen: the link-local one when
 * it is made, any other once it is valid (after duplicate detection). */
static void log_ipv6(struct cfg_if *c)
{
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		u8_t state = netif_ip6_addr_state(c->netif, i);
		const ip6_addr_t *a = netif_ip6_addr(c->netif, i);
		int linklocal = ip6_addr_islinklocal(a);
		char text[48];

		if (ip6_addr_isinvalid(state) || (!linklocal && !ip6_addr_isvalid(state)))
			continue;
		struct bootcfg_addr b = from_ip6(a);
		if (!memcmp(c->logged6[i], b.bytes, 16))
			continue;
		memcpy(c->logged6[i], b.bytes, 16);
		netcfg_format_addr(text, sizeof(text), &b);
		kinfo("solo: net: %s %s/64%s\n", c->name, text, linklocal ? "" : " (slaac)");
	}
}

void netcfg_changed(void)
{
	for (unsigned i = 0; i < ncifs; i++) {
		struct cfg_if *c = &cifs[i];
		uint32_t v4 = netif_ip4_addr(c->netif)->addr;
		if (v4 != c->logged_v4) {
			c->logged_v4 = v4;
			if (v4)
				log_ipv4(c);
		}
		log_ipv6(c);
	}
}

/* Whether every interface that runs DHCP has its lease. */
static int all_bound(void)
{
	for (unsigned i = 0; i < ncifs; i++) {
		if (cifs[i].dhcp && !dhcp_supplied_address(cifs[i].netif))
			return 0;
	}
	return 1;
}

static void wake(struct ktimer *t)
{
	(void)t;
}

/* Runs the stack, halting between its events, until every lease is in or
 * the deadline passed. The CPU wakes for NIC interrupts, the stack's
 * timer, and the deadline's timer. */
static void wait_for_leases(unsigned seconds)
{
	uint64_t deadline = time_add(time_now(), seconds * NS_PER_S);
	struct ktimer end;

	ktimer_init(&end, wake);
	ktimer_arm(&end, deadline);
	while (!all_bound() && time_now() < deadline) {
		defer_run();
		if (all_bound())
			break;
		if (!defer_pending())
			time_idle();
	}
	ktimer_cancel(&end);
	if (!all_bound())
		kinfo("solo: net: no address after %u s (dhcp)\n", seconds);
}

/* The DNS servers resolv.conf names, and where they came from. */
static size_t dns_servers(struct bootcfg_addr *out, const char **source)
{
	size_t n = 0;

	if (config && config->dns_count) {
		*source = "boot.cfg dns=";
		for (size_t i = 0; i < config->dns_count; i++)
			out[n++] = config->dns[i];
		return n;
	}
	*source = "DHCP";
	for (u8_t i = 0; i < DNS_MAX_SERVERS; i++) {
		const ip_addr_t *a = dns_getserver(i);
		if (ip_addr_isany(a))
			continue;
		out[n++] = IP_IS_V6(a) ? from_ip6(ip_2_ip6(a)) : from_ip4(ip_2_ip4(a));
	}
	return n;
}

static void log_dns(void)
{
	struct bootcfg_addr
	    servers[DNS_MAX_SERVERS > BOOTCFG_MAX_DNS ? DNS_MAX_SERVERS : BOOTCFG_MAX_DNS];
	const char *source;
	size_t n = dns_servers(servers, &source);
	char text[48];

	for (size_t i = 0; i < n; i++) {
		netcfg_format_addr(text, sizeof(text), &servers[i]);
		kinfo("solo: net: dns %s\n", text);
	}
}

static void configure(struct cfg_if *c, const struct boot_config *cfg, int first)
{
	struct netif *n = c->netif;

	if (cfg->hostname)
		netif_set_hostname(n, proc_hostname());
	netif_create_ip6_linklocal_address(n, 1);
	netif_set_ip6_autoconfig_enabled(n, 1);
	log_ipv6(c);
	if (first)
		netif_set_default(n);
	if (cfg->net == BOOTCFG_NET_STATIC) {
		if (!first)
			return;
		ip4_addr_t ip, mask, gw;
		uint8_t m[4];
		netcfg_prefix_mask(cfg->ip_prefix, m);
		memcpy(&ip.addr, cfg->ip.bytes, 4);
		memcpy(&mask.addr, m, 4);
		memcpy(&gw.addr, cfg->gateway.bytes, 4); /* 0.0.0.0 when not given */
		netif_set_addr(n, &ip, &mask, &gw);
		return;
	}
	c->dhcp = 1;
	c->dhcp_start = time_now();
	err_t err = dhcp_start(n);
	if (err != ERR_OK) {
		kprintf("solo: net: %s: DHCP could not start (lwIP error %d)\n", c->name, err);
		c->dhcp = 0;
	}
}

void net_init(const struct boot_config *cfg)
{
	config = cfg;
	net_stack_init();
	if (cfg->hostname)
		proc_set_hostname(cfg->hostname);
	if (cfg->net == BOOTCFG_NET_NONE) {
		kinfo("solo: net: off (net=none)\n");
		return;
	}
	if (!netdev_count()) {
		kinfo("solo: net: no network device; loopback only\n");
		return;
	}
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_get(i);
		struct netif *n = net_stack_attach(nd);
		if (!n)
			continue;
		struct cfg_if *c = &cifs[ncifs++];
		*c = (struct cfg_if){.netif = n, .name = net_if_name(n)};
		configure(c, cfg, ncifs == 1);
	}
	netcfg_changed(); /* a static address */
	if (cfg->net == BOOTCFG_NET_DHCP && cfg->net_wait)
		wait_for_leases(cfg->net_wait);
	log_dns();
}

const struct rootfs_file *net_root_files(size_t *count)
{
	struct bootcfg_addr
	    servers[DNS_MAX_SERVERS > BOOTCFG_MAX_DNS ? DNS_MAX_SERVERS : BOOTCFG_MAX_DNS];
	struct bootcfg_addr self = {0};
	const char *source;
	size_t n = dns_servers(servers, &source);

	if (ncifs && netif_ip4_addr(cifs[0].netif)->addr)
		self = from_ip4(netif_ip4_addr(cifs[0].netif));
	size_t len = netcfg_resolv_conf(resolv_text, sizeof(resolv_text), servers, n, source);
	root_files[0] = (struct rootfs_file){"etc", "resolv.conf", resolv_text,
					     MIN(len, sizeof(resolv_text) - 1)};
	len = netcfg_hosts(hosts_text, sizeof(hosts_text), proc_hostname(), &self);
	root_files[1] =
	    (struct rootfs_file){"etc", "hosts", hosts_text, MIN(len, sizeof(hosts_text) - 1)};
	len = netcfg_nsswitch(nsswitch_text, sizeof(nsswitch_text));
	root_files[2] = (struct rootfs_file){"etc", "nsswitch.conf", nsswitch_text,
					     MIN(len, sizeof(nsswitch_text) - 1)};
	*count = 3;
	return root_files;
}
#endif
