/* The network configuration's pure parts (net/netcfg.c): address
 * formatting, netmasks, and the text of the /etc files an app's resolver
 * reads. */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel/bootcfg.h"
#include "net/netcfg.h"

static struct bootcfg_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct bootcfg_addr x = {.family = 4, .bytes = {a, b, c, d}};
	return x;
}

static struct bootcfg_addr v6(const char *text)
{
	struct bootcfg_addr x = {.family = 6};
	cr_assert_eq(bootcfg_parse_ipv6(text, x.bytes), 0, "%s", text);
	return x;
}

static const char *fmt(const struct bootcfg_addr *a)
{
	static char buf[64];
	size_t n = netcfg_format_addr(buf, sizeof(buf), a);
	cr_assert_eq(n, strlen(buf));
	return buf;
}

Test(netcfg, formats_a_mac)
{
	char buf[18];
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	cr_assert_eq(netcfg_format_mac(buf, sizeof(buf), mac), 17);
	cr_assert_str_eq(buf, "52:54:00:12:34:56");
}

Test(netcfg, formats_ipv4)
{
	struct bootcfg_addr a = v4(10, 0, 2, 15);
	cr_assert_str_eq(fmt(&a), "10.0.2.15");
	a = v4(255, 255, 255, 0);
	cr_assert_str_eq(fmt(&a), "255.255.255.0");
}

Test(netcfg, formats_ipv6_as_rfc_5952)
{
	static const char *const cases[][2] = {
	    {"FE80:0:0:0:5054:FF:FE12:3456", "fe80::5054:ff:fe12:3456"},
	    {"::1", "::1"},
	    {"::", "::"},
	    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* the first of equal runs */
	    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one zero group stays */
	    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},	      /* the longest run */
	    {"fec0::", "fec0::"},
	    {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bootcfg_addr a = v6(cases[i][0]);
		cr_assert_str_eq(fmt(&a), cases[i][1], "%s", cases[i][0]);
	}
}

Test(netcfg, formatting_cuts_to_the_buffer_and_says_what_it_wanted)
{
	char buf[8];
	struct bootcfg_addr a = v6("fe80::5054:ff:fe12:3456");

	cr_assert_eq(netcfg_format_addr(buf, sizeof(buf), &a), strlen("fe80::5054:ff:fe12:3456"));
	cr_assert_eq(strlen(buf), 7);
	cr_assert_eq(strncmp(buf, "fe80::5", 7), 0);
}

Test(netcfg, no_address_prints_a_dash)
{
	struct bootcfg_addr none = {0};
	cr_assert_str_eq(fmt(&none), "-");
}

Test(netcfg, netmask_and_prefix_length_round_trip)
{
	for (unsigned p = 0; p <= 32; p++) {
		uint8_t m[4];
		netcfg_prefix_mask(p, m);
		cr_assert_eq(netcfg_prefix_len(m), (int)p, "/%u", p);
	}
	const uint8_t m24[4] = {255, 255, 255, 0}, holes[4] = {255, 0, 255, 0};
	cr_assert_eq(netcfg_prefix_len(m24), 24);
	cr_assert_eq(netcfg_prefix_len(holes), -1);
}

Test(netcfg, resolv_conf_names_each_server)
{
	char buf[256];
	struct bootcfg_addr s[2] = {v4(10, 0, 2, 3), v6("2001:4860:4860::8888")};
	size_t n = netcfg_resolv_conf(buf, sizeof(buf), s, 2, "DHCP");

	cr_assert_eq(n, strlen(buf));
	cr_assert_str_eq(buf, "# made by Solo from DHCP\n"
			      "nameserver 10.0.2.3\n"
			      "nameserver 2001:4860:4860::8888\n");
}

Test(netcfg, resolv_conf_without_servers_is_a_comment)
{
	char buf[256];

	netcfg_resolv_conf(buf, sizeof(buf), NULL, 0, "DHCP");
	cr_assert(!strstr(buf, "nameserver"), "%s", buf);
	cr_assert_eq(buf[0], '#');
}

Test(netcfg, resolv_conf_cut_short_stays_terminated)
{
	char buf[16];
	struct bootcfg_addr s[1] = {v4(10, 0, 2, 3)};
	size_t n = netcfg_resolv_conf(buf, sizeof(buf), s, 1, "boot.cfg dns=");

	cr_assert_gt(n, sizeof(buf));
	cr_assert_eq(strlen(buf), sizeof(buf) - 1);
}

Test(netcfg, hosts_maps_localhost_and_the_host_name)
{
	char buf[256];
	struct bootcfg_addr self = v4(10, 0, 2, 15);

	netcfg_hosts(buf, sizeof(buf), "web1", &self);
	cr_assert(strstr(buf, "127.0.0.1\tlocalhost\n"), "%s", buf);
	cr_assert(strstr(buf, "::1\tlocalhost"), "%s", buf);
	cr_assert(strstr(buf, "10.0.2.15\tweb1\n"), "%s", buf);
}

Test(netcfg, hosts_without_an_address_uses_127_0_1_1)
{
	char buf[256];

	netcfg_hosts(buf, sizeof(buf), "solo", NULL);
	cr_assert(strstr(buf, "127.0.1.1\tsolo\n"), "%s", buf);
	netcfg_hosts(buf, sizeof(buf), NULL, NULL);
	cr_assert(!strstr(buf, "127.0.1.1"), "%s", buf);
}

Test(netcfg, nsswitch_asks_files_then_dns)
{
	char buf[64];

	netcfg_nsswitch(buf, sizeof(buf));
	cr_assert(strstr(buf, "hosts: files dns\n"), "%s", buf);
}
