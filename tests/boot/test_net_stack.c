/*
 * Boot tests of the network stack's configuration (net/netcfg.h, whose
 * header lists the boot-log lines matched here): DHCP from QEMU's user
 * network (which proves ARP and UDP through the driver both ways), a
 * static address, net=none, the /etc files and uname's nodename the app
 * sees, and that a NIC does not keep a deadlocked app alive. Every boot
 * must give every page back. User networking cannot answer an ICMP echo
 * from the host, so the lines are the evidence.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 60 /* TCG: each boot stays well below */
#define NET_USER     "--net user"

static char *boot_net(const char *name, const char *mkimg_args, const char *qemu_opts, int *status)
{
	char *image = harness_mkimg(name, mkimg_args);
	char *log = harness_boot(image, qemu_opts, BOOT_TIMEOUT, status);

	free(image);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	return log;
}

Test(net_stack, dhcp_on_user_networking_configures_eth0_before_the_app)
{
	int status;
	char *log =
	    boot_net("netstack-dhcp", "--app build/tests/apps/netcfg.elf", NET_USER, &status);

	cr_assert(harness_has_line(
		      log, "solo: net: eth0 virtio-net 52:54:00:12:34:56 mtu 1500 link up (msi-x)"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: net: eth0 fe80::5054:ff:fe12:3456/64"), "log:\n%s",
		  log);
	const char *lease = harness_last_line_starting(log, "solo: net: eth0 10.0.2.15/24 ");
	cr_assert_not_null(lease, "no DHCP lease line; log:\n%s", log);
	cr_assert(!strncmp(lease, "solo: net: eth0 10.0.2.15/24 gateway 10.0.2.2 (dhcp, ", 52),
		  "%s", lease);
	cr_assert(harness_has_line(log, "solo: net: dns 10.0.2.3"), "log:\n%s", log);
	/* Configured before the app, which then sees it. */
	cr_assert_lt(strstr(log, "solo: net: dns 10.0.2.3"), strstr(log, "solo: starting the app"));
	cr_assert(harness_has_line(log, "netcfg: resolv.conf: nameserver 10.0.2.3"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "netcfg: hosts: 127.0.0.1\tlocalhost"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "netcfg: hosts: 10.0.2.15\tsolo"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "netcfg: nsswitch.conf: hosts: files dns"), "log:\n%s",
		  log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(net_stack, static_address_hostname_and_dns_from_boot_cfg)
{
	int status;
	char *log = boot_net("netstack-static",
			     "--app build/tests/apps/netcfg.elf --config ip=10.0.2.20/24 "
			     "--config gateway=10.0.2.2 --config hostname=web1 "
			     "--config dns=10.0.2.3 --config dns=2001:db8::53",
			     NET_USER, &status);

	cr_assert(harness_has_line(log, "solo: net: eth0 10.0.2.20/24 gateway 10.0.2.2 (static)"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "(dhcp"), "log:\n%s", log);
	cr_assert(!strstr(log, "no address after"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: net: dns 10.0.2.3"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: net: dns 2001:db8::53"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "netcfg: resolv.conf: nameserver 2001:db8::53"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "netcfg: hosts: 10.0.2.20\tweb1"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "netcfg: nodename web1"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(net_stack, net_none_leaves_only_loopback)
{
	int status;
	char *log = boot_net("netstack-none", "--app build/tests/apps/netcfg.elf --config net=none",
			     NET_USER, &status);

	cr_assert(harness_has_line(log, "solo: net: off (net=none)"), "log:\n%s", log);
	cr_assert(!strstr(log, "solo: net: eth0"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "netcfg: hosts: ::1\tlocalhost ip6-localhost ip6-loopback"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "netcfg: resolv.conf: nameserver"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(net_stack, without_a_nic_the_log_says_loopback_only)
{
	int status;
	char *log =
	    boot_net("netstack-nonic", "--app build/tests/apps/netcfg.elf", "--net none", &status);

	cr_assert(harness_has_line(log, "solo: net: no network device; loopback only"), "log:\n%s",
		  log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(net_stack, dhcp_that_gets_no_answer_gives_up_after_net_wait)
{
	int status;
	/* A NIC on a QEMU hub with nothing else on it: no DHCP server
	 * answers (the device is also polled: no MSI-X on this backend). */
	char *log =
	    boot_net("netstack-nodhcp", "--app build/tests/apps/netcfg.elf --config net_wait=2",
		     "--qemu-arg -nic --qemu-arg hubport,hubid=0,model=virtio-net-pci", &status);

	cr_assert(harness_has_line(log, "solo: net: no address after 2 s (dhcp)"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "netcfg: nodename solo"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(net_stack, a_nic_does_not_keep_a_deadlocked_app_alive)
{
	int status;
	char *log =
	    boot_net("netstack-deadlock", "--app build/tests/apps/netcfg.elf --args deadlock",
		     NET_USER, &status);

	cr_assert(strstr(log, "solo: app deadlocked: read with no other thread or timer"),
		  "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 137);
	free(log);
}
