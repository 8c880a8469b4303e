/*
 * Boot tests for the PCI bus and the NIC drivers, without a TCP/IP stack:
 * each boots the demo app with selftest=net on QEMU's user network and one
 * NIC model, and reads the PCI line, the driver's line and the self-test's
 * ARP exchange with the gateway (10.0.2.2) from the serial log. Under TCG
 * a boot takes a few seconds; the self-test waits at most 10 s per device.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NET_TIMEOUT 60

/* QEMU's user network: the guest's default MAC and the gateway's. */
#define GUEST_MAC   "52:54:00:12:34:56"
#define GATEWAY_MAC "52:55:0a:00:02:02"

struct nic_case {
	const char *name;     /* the test's files */
	const char *machine;  /* q35 or pc */
	const char *nic;      /* qemu.sh --nic */
	const char *pci_line; /* the PCI bus's line for the NIC */
	const char *model;    /* netdev.model */
	const char *irq_mode; /* netdev.irq_mode */
};

static void boots_and_answers_arp(const struct nic_case *c)
{
	char opts[128], want[256];
	int status;

	char *image = harness_mkimg(c->name, "--app build/user/demo.elf --config selftest=net");
	snprintf(opts, sizeof(opts), "--machine %s --net user --nic %s", c->machine, c->nic);
	char *log = harness_boot(image, opts, NET_TIMEOUT, &status);

	cr_assert(harness_has_line(log, c->pci_line), "missing '%s'; log:\n%s", c->pci_line, log);
	snprintf(want, sizeof(want), "solo: net: eth0 %s " GUEST_MAC " mtu 1500 link up (%s)",
		 c->model, c->irq_mode);
	cr_assert(strstr(log, want), "missing '%s'; log:\n%s", want, log);
	snprintf(want, sizeof(want),
		 "solo: selftest net: %s " GUEST_MAC " arp reply from 10.0.2.2 " GATEWAY_MAC,
		 c->model);
	cr_assert(harness_has_line(log, want), "missing '%s'; log:\n%s", want, log);

	/* "solo: selftest net: eth0 MODE, N interrupts, ...": an interrupt-
	 * driven device's message reached the CPU. */
	snprintf(want, sizeof(want), "solo: selftest net: eth0 %s, ", c->irq_mode);
	const char *line = harness_last_line_starting(log, want);
	cr_assert(line, "missing '%s...'; log:\n%s", want, log);
	unsigned long interrupts = 0;
	cr_assert(sscanf(line + strlen(want), "%lu interrupts", &interrupts) == 1, "%s", line);
	if (strcmp(c->irq_mode, "polled"))
		cr_assert(interrupts > 0, "no interrupt arrived: %s", line);

	cr_assert(harness_has_line(log, "solo: selftest net: ok"), "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "the app ran after the self-test:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(image);
	free(log);
}

Test(net_drivers, virtio_modern_on_q35)
{
	boots_and_answers_arp(&(struct nic_case){
	    "netdrv-virtio-q35", "q35", "virtio",
	    "solo: pci 00:02.0 1af4:1000 class 0200 -> virtio-net", "virtio-net", "msi-x"});
}

Test(net_drivers, virtio_legacy_on_q35)
{
	boots_and_answers_arp(&(struct nic_case){
	    "netdrv-virtio-legacy-q35", "q35", "virtio-legacy",
	    "solo: pci 00:02.0 1af4:1000 class 0200 -> virtio-net", "virtio-net legacy", "msi-x"});
}

Test(net_drivers, e1000e_on_q35)
{
	boots_and_answers_arp(&(struct nic_case){"netdrv-e1000e-q35", "q35", "e1000e",
						 "solo: pci 00:02.0 8086:10d3 class 0200 -> e1000e",
						 "e1000e 82574L", "msi-x"});
}

Test(net_drivers, e1000_on_q35)
{
	boots_and_answers_arp(&(struct nic_case){"netdrv-e1000-q35", "q35", "e1000",
						 "solo: pci 00:02.0 8086:100e class 0200 -> e1000",
						 "e1000 82540EM", "polled"});
}

Test(net_drivers, e1000_on_pc)
{
	boots_and_answers_arp(&(struct nic_case){"netdrv-e1000-pc", "pc", "e1000",
						 "solo: pci 00:03.0 8086:100e class 0200 -> e1000",
						 "e1000 82540EM", "polled"});
}

Test(net_drivers, virtio_on_pc)
{
	boots_and_answers_arp(&(struct nic_case){
	    "netdrv-virtio-pc", "pc", "virtio",
	    "solo: pci 00:03.0 1af4:1000 class 0200 -> virtio-net", "virtio-net", "msi-x"});
}

Test(net_drivers, no_nic_boots_clean_without_a_netdev)
{
	int status;
	char *image =
	    harness_mkimg("netdrv-none", "--app build/user/demo.elf --config selftest=net");
	char *log = harness_boot(image, "--net none", NET_TIMEOUT, &status);

	/* The bus is walked (q35's host bridge), no NIC is claimed. */
	cr_assert(harness_has_line(log, "solo: pci 00:00.0 8086:29c0 class 0600 -> none"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "solo: net: eth0"), "log:\n%s", log);
	cr_assert(!strstr(log, "-> virtio-net") && !strstr(log, "-> e1000"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: selftest net: no network device to test"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(image);
	free(log);
}
