/* boot.cfg parsing: what mkimg writes is what the kernel reads. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kernel/bootcfg.h"

static unsigned warned;
static char last_warning[256];

static void record_warning(unsigned line, const char *message, const char *detail)
{
	warned++;
	snprintf(last_warning, sizeof(last_warning), "%u:%s:%s", line, message, detail);
}

static unsigned parse(const char *text, struct boot_config *cfg)
{
	static char buf[8192];
	size_t len = strlen(text);

	cr_assert_lt(len, sizeof(buf));
	warned = 0;
	memcpy(buf, text, len + 1);
	return bootcfg_parse(buf, len, cfg, record_warning);
}

Test(bootcfg, empty_text_gives_defaults)
{
	struct boot_config cfg;

	cr_assert_eq(parse("", &cfg), 0);
	cr_assert_str_eq(cfg.name, "app");
	cr_assert_str_eq(cfg.args, "");
	cr_assert_eq(cfg.env_count, 0);
	cr_assert_eq(cfg.on_exit, BOOTCFG_ON_EXIT_POWEROFF);
}

Test(bootcfg, reads_what_mkimg_writes)
{
	struct boot_config cfg;
	const char *text = "# written by tools/mkimg.sh\n"
			   "name=demo\n"
			   "args=hello \"from Solo\" a=b\n"
			   "env=HOME=/\n"
			   "env=EMPTY=\n"
			   "on_exit=halt\n";

	cr_assert_eq(parse(text, &cfg), 0, "%s", last_warning);
	cr_assert_str_eq(cfg.name, "demo");
	cr_assert_str_eq(cfg.args, "hello \"from Solo\" a=b");
	cr_assert_eq(cfg.env_count, 2);
	cr_assert_str_eq(cfg.env[0], "HOME=/");
	cr_assert_str_eq(cfg.env[1], "EMPTY=");
	cr_assert_eq(cfg.on_exit, BOOTCFG_ON_EXIT_HALT);
}

Test(bootcfg, tolerates_crlf_and_a_missing_final_newline)
{
	struct boot_config cfg;

	cr_assert_eq(parse("name=x\r\non_exit=reboot", &cfg), 0);
	cr_assert_str_eq(cfg.name, "x");
	cr_assert_eq(cfg.on_exit, BOOTCFG_ON_EXIT_REBOOT);
}

Test(bootcfg, warns_about_unknown_keys_and_bad_values_but_keeps_going)
{
	struct boot_config cfg;

	cr_assert_eq(parse("colour=blue\non_exit=explode\nnonsense\nname=ok\n", &cfg), 3);
	cr_assert_str_eq(cfg.name, "ok");
	cr_assert_eq(cfg.on_exit, BOOTCFG_ON_EXIT_POWEROFF);
	cr_assert(strstr(last_warning, "3:"), "%s", last_warning);
}

Test(bootcfg, rejects_env_without_equals)
{
	struct boot_config cfg;

	cr_assert_eq(parse("env=NOVALUE\nenv==x\n", &cfg), 2);
	cr_assert_eq(cfg.env_count, 0);
}

Test(bootcfg, limits_env_count)
{
	struct boot_config cfg;
	char text[4096] = "";

	for (int i = 0; i < BOOTCFG_MAX_ENV + 3; i++)
		sprintf(text + strlen(text), "env=V%d=1\n", i);
	cr_assert_eq(parse(text, &cfg), 3);
	cr_assert_eq(cfg.env_count, BOOTCFG_MAX_ENV);
}

Test(bootcfg, stops_at_an_embedded_nul)
{
	char buf[] = "name=a\0name=b\n";
	struct boot_config cfg;

	bootcfg_parse(buf, sizeof(buf) - 1, &cfg, NULL);
	cr_assert_str_eq(cfg.name, "a");
}

Test(bootcfg, reads_log_level_and_selftests)
{
	struct boot_config cfg;

	cr_assert_eq(parse("log=debug\nselftest=mm\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.log, BOOTCFG_LOG_DEBUG);
	cr_assert(cfg.selftests & BOOTCFG_SELFTEST_MM);
	cr_assert_eq(parse("log=loud\nselftest=everything\n", &cfg), 2);
	cr_assert_eq(cfg.log, BOOTCFG_LOG_INFO);
	cr_assert_eq(cfg.selftests, 0);
}

Test(bootcfg, selftest_lines_add_up)
{
	struct boot_config cfg;

	cr_assert_eq(parse("selftest=net\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.selftests, BOOTCFG_SELFTEST_NET);
	cr_assert_eq(parse("selftest=mm\nselftest=net\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.selftests, BOOTCFG_SELFTEST_MM | BOOTCFG_SELFTEST_NET);
}

Test(bootcfg, reads_stack_sizes_with_suffixes)
{
	struct boot_config cfg;

	cr_assert_eq(parse("", &cfg), 0);
	cr_assert_eq(cfg.stack_size, 8ull << 20);
	cr_assert_eq(parse("stack=256K", &cfg), 0);
	cr_assert_eq(cfg.stack_size, 256ull << 10);
	cr_assert_eq(parse("stack=16m", &cfg), 0);
	cr_assert_eq(cfg.stack_size, 16ull << 20);
	cr_assert_eq(parse("stack=1G", &cfg), 0);
	cr_assert_eq(cfg.stack_size, 1ull << 30);
	cr_assert_eq(parse("stack=1048576", &cfg), 0);
	cr_assert_eq(cfg.stack_size, 1ull << 20);
}

Test(bootcfg, rejects_bad_stack_sizes)
{
	struct boot_config cfg;

	cr_assert_eq(parse("stack=4K\nstack=2G\nstack=lots\nstack=8MB\nstack=\n"
			   "stack=99999999999999999999\n",
			   &cfg),
		     6);
	cr_assert_eq(cfg.stack_size, 8ull << 20);
}

Test(bootcfg, aslr_is_on_by_default_and_can_be_turned_off)
{
	struct boot_config cfg;

	cr_assert_eq(parse("", &cfg), 0);
	cr_assert_eq(cfg.aslr, 1);
	cr_assert_eq(parse("aslr=off\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.aslr, 0);
	cr_assert_eq(parse("aslr=off\naslr=on\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.aslr, 1);
	cr_assert_eq(parse("aslr=no\n", &cfg), 1);
	cr_assert_eq(cfg.aslr, 1, "a bad value keeps the default");
	cr_assert_str_eq(last_warning, "1:aslr must be on or off:aslr=no");
}

Test(bootcfg, strace_and_lockstat_are_off_by_default_and_take_0_or_1)
{
	static const struct {
		const char *key;
		size_t at;
	} flags[] = {{"strace", offsetof(struct boot_config, strace)},
		     {"lockstat", offsetof(struct boot_config, lockstat)}};
	struct boot_config cfg;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const char *key = flags[i].key;
		char text[64], warning[96];
		const int *flag = (const int *)((const char *)&cfg + flags[i].at);
		cr_assert_eq(parse("", &cfg), 0);
		cr_assert_eq(*flag, 0, "%s", key);
		snprintf(text, sizeof(text), "%s=1\n", key);
		cr_assert_eq(parse(text, &cfg), 0, "%s", last_warning);
		cr_assert_eq(*flag, 1, "%s", key);
		snprintf(text, sizeof(text), "%s=yes\n", key);
		cr_assert_eq(parse(text, &cfg), 1, "%s", key);
		cr_assert_eq(*flag, 0, "%s: a bad value keeps the default", key);
		snprintf(warning, sizeof(warning), "1:%s must be 0 or 1:%s=yes", key, key);
		cr_assert_str_eq(last_warning, warning);
	}
}

/* ---------------------------------------------------------------- the network */

Test(bootcfg, network_defaults_to_dhcp_with_a_ten_second_wait)
{
	struct boot_config cfg;

	cr_assert_eq(parse("", &cfg), 0);
	cr_assert_eq(cfg.net, BOOTCFG_NET_DHCP);
	cr_assert_eq(cfg.net_wait, 10);
	cr_assert_eq(cfg.ip.family, 0);
	cr_assert_eq(cfg.dns_count, 0);
	cr_assert_null(cfg.hostname);
}

Test(bootcfg, ip_implies_static)
{
	struct boot_config cfg;

	cr_assert_eq(parse("ip=10.0.2.20/24\ngateway=10.0.2.2\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.net, BOOTCFG_NET_STATIC);
	cr_assert_eq(cfg.ip.family, 4);
	cr_assert_eq(memcmp(cfg.ip.bytes, "\x0a\x00\x02\x14", 4), 0);
	cr_assert_eq(cfg.ip_prefix, 24);
	cr_assert_eq(cfg.gateway.family, 4);
	cr_assert_eq(memcmp(cfg.gateway.bytes, "\x0a\x00\x02\x02", 4), 0);
}

Test(bootcfg, ip_without_a_prefix_is_a_slash_24)
{
	struct boot_config cfg;

	cr_assert_eq(parse("ip=192.168.1.9\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.ip_prefix, 24);
}

Test(bootcfg, net_none_wins_over_ip)
{
	struct boot_config cfg;

	cr_assert_eq(parse("ip=10.0.2.20/24\nnet=none\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.net, BOOTCFG_NET_NONE);
	cr_assert_eq(cfg.ip.family, 0);
}

Test(bootcfg, static_without_ip_falls_back_to_dhcp_with_a_warning)
{
	struct boot_config cfg;

	cr_assert_eq(parse("name=x\nnet=static\n", &cfg), 1);
	cr_assert_eq(cfg.net, BOOTCFG_NET_DHCP);
	cr_assert(strstr(last_warning, "2:net=static needs ip="), "%s", last_warning);
}

Test(bootcfg, bad_addresses_are_refused)
{
	static const char *const bad[] = {
	    "ip=10.0.2\n",	"ip=10.0.2.256/24\n", "ip=10.0.2.15/33\n",
	    "ip=10.0.2.15/0\n", "ip=10.0.2.15/\n",    "ip=010.0.2.15\n",
	    "ip=10.0.2.15 \n",	"gateway=fe80::1\n",  "dns=1:2:3:4:5:6:7:8:9\n",
	    "dns=1::2::3\n",	"dns=:1\n",	      "dns=1:\n",
	    "dns=12345::\n",	"dns=fe80::1%eth0\n", "dns=\n",
	    "net=wifi\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct boot_config cfg;
		cr_assert_eq(parse(bad[i], &cfg), 1, "accepted %s", bad[i]);
		cr_assert_eq(cfg.net, BOOTCFG_NET_DHCP, "%s", bad[i]);
	}
}

Test(bootcfg, dns_takes_up_to_four_of_either_family)
{
	struct boot_config cfg;

	cr_assert_eq(
	    parse("dns=10.0.2.3\ndns=2001:db8::53\ndns=::1\ndns=1.1.1.1\ndns=8.8.8.8\n", &cfg), 1);
	cr_assert(strstr(last_warning, "5:more than 4 dns lines"), "%s", last_warning);
	cr_assert_eq(cfg.dns_count, 4);
	cr_assert_eq(cfg.dns[0].family, 4);
	cr_assert_eq(cfg.dns[1].family, 6);
	cr_assert_eq(cfg.dns[1].bytes[0], 0x20);
	cr_assert_eq(cfg.dns[1].bytes[1], 0x01);
	cr_assert_eq(cfg.dns[1].bytes[15], 0x53);
	cr_assert_eq(cfg.dns[2].family, 6);
	cr_assert_eq(cfg.dns[2].bytes[15], 1);
}

Test(bootcfg, ipv6_text_forms)
{
	uint8_t a[16];
	static const uint8_t full[16] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8};

	cr_assert_eq(bootcfg_parse_ipv6("::", a), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(a[i], 0);
	cr_assert_eq(bootcfg_parse_ipv6("1:2:3:4:5:6:7:8", a), 0);
	cr_assert_eq(memcmp(a, full, 16), 0);
	cr_assert_eq(bootcfg_parse_ipv6("1:2:3:4::5:6:7:8", a), -1, "'::' must stand for a group");
	cr_assert_eq(bootcfg_parse_ipv6("1:2:3::", a), 0);
	cr_assert_eq(a[5], 3);
	cr_assert_eq(a[15], 0);
	cr_assert_eq(bootcfg_parse_ipv6("FE80::ABCD", a), 0);
	cr_assert_eq(a[0], 0xfe);
	cr_assert_eq(a[14], 0xab);
}

Test(bootcfg, hostname_and_net_wait)
{
	struct boot_config cfg;

	cr_assert_eq(parse("hostname=web-1.example\nnet_wait=0\n", &cfg), 0, "%s", last_warning);
	cr_assert_str_eq(cfg.hostname, "web-1.example");
	cr_assert_eq(cfg.net_wait, 0);
	cr_assert_eq(parse("hostname=-x\n", &cfg), 1);
	cr_assert_eq(parse("hostname=a b\n", &cfg), 1);
	cr_assert_eq(parse("hostname=\n", &cfg), 1);
	cr_assert_eq(parse("net_wait=601\n", &cfg), 1);
	cr_assert_eq(parse("net_wait=5s\n", &cfg), 1);
	cr_assert_eq(cfg.net_wait, 10);
}

Test(bootcfg, app_path_is_absolute_and_bounded)
{
	struct boot_config cfg;
	static char text[BOOTCFG_APP_PATH_MAX + 64];

	cr_assert_eq(parse("name=x\n", &cfg), 0);
	cr_assert_null(cfg.app_path, "absent unless given");
	cr_assert_eq(parse("app_path=/usr/bin/python3\r\n", &cfg), 0, "%s", last_warning);
	cr_assert_str_eq(cfg.app_path, "/usr/bin/python3");
	cr_assert_eq(parse("app_path=usr/bin/python3\n", &cfg), 1);
	cr_assert_null(cfg.app_path, "a relative path is refused");
	cr_assert_eq(parse("app_path=\n", &cfg), 1);
	cr_assert_null(cfg.app_path);
	/* The longest path, then one byte more. */
	int n = snprintf(text, sizeof(text), "app_path=/");
	memset(text + n, 'a', BOOTCFG_APP_PATH_MAX - 1);
	strcpy(text + n + BOOTCFG_APP_PATH_MAX - 1, "\n");
	cr_assert_eq(parse(text, &cfg), 0, "%s", last_warning);
	cr_assert_eq(strlen(cfg.app_path), BOOTCFG_APP_PATH_MAX);
	n = snprintf(text, sizeof(text), "app_path=/");
	memset(text + n, 'a', BOOTCFG_APP_PATH_MAX);
	strcpy(text + n + BOOTCFG_APP_PATH_MAX, "\n");
	cr_assert_eq(parse(text, &cfg), 1);
	cr_assert_null(cfg.app_path);
}

Test(bootcfg, failalloc_is_kept_verbatim_for_failinj)
{
	struct boot_config cfg;

	cr_assert_eq(parse("name=x\n", &cfg), 0);
	cr_assert_null(cfg.failalloc);
	cr_assert_eq(parse("failalloc=random:3:250\n", &cfg), 0);
	cr_assert_str_eq(cfg.failalloc, "random:3:250");
}

Test(bootcfg, cpus_caps_the_cpu_count)
{
	struct boot_config cfg;

	cr_assert_eq(parse("", &cfg), 0);
	cr_assert_eq(cfg.cpus, 0, "default: every CPU");
	cr_assert_eq(parse("cpus=1\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.cpus, 1);
	cr_assert_eq(parse("cpus=256\n", &cfg), 0, "%s", last_warning);
	cr_assert_eq(cfg.cpus, 256);
	const char *bad[] = {"cpus=0\n",
			     "cpus=257\n",
			     "cpus=\n",
			     "cpus=2x\n",
			     "cpus=-1\n",
			     "cpus= 2\n",
			     "cpus=99999999999999999999\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i], &cfg), 1, "%s", bad[i]);
		cr_assert_eq(cfg.cpus, 0, "%s: the default stays", bad[i]);
		cr_assert(strstr(last_warning, "cpus must be"), "%s: %s", bad[i], last_warning);
	}
}
