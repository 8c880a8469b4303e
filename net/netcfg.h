/*
 * netcfg - the network's configuration from boot.cfg (kernel/bootcfg.h:
 * net=, ip=, gateway=, dns=, hostname=, net_wait=), applied at boot, and
 * the files an app's resolver reads (/etc/resolv.conf, /etc/hosts,
 * /etc/nsswitch.conf).
 *
 * Boot-log lines (stable: tests match them), in this order:
 *   solo: net: off (net=none)
 *   solo: net: no network device; loopback only
 *   solo: net: eth0 virtio-net 52:54:00:12:34:56 mtu 1500 link up (msi-x)
 *       (one per NIC, when it is attached: name, model, MAC, MTU, link
 *       up|down, irq mode msi-x|msi|intx|polled)
 *   solo: net: eth0 fe80::5054:ff:fe12:3456/64
 *       (the IPv6 link-local address, when it is made; a SLAAC address
 *       gets the same line with " (slaac)" once it is valid)
 *   solo: net: eth0 10.0.2.15/24 gateway 10.0.2.2 (dhcp, 120 ms)
 *   solo: net: eth0 10.0.2.20/24 gateway 10.0.2.2 (static)
 *       (" gateway X" only when there is one; ms from DHCP's start to
 *       its lease; logged whenever the IPv4 address changes, also later)
 *   solo: net: no address after 10 s (dhcp)
 *       (the wait for DHCP ended without a lease; the app starts anyway
 *       and DHCP keeps trying)
 *   solo: net: dns 10.0.2.3
 *       (one line per DNS server the app's resolv.conf names, after the
 *       wait)
 *   solo: net: eth0 link up|down (a change after the NIC was attached)
 *
 * The pure functions (formatting, the files' text) are host-tested; the
 * rest runs in the kernel.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/rootfs.h"
#include "kernel/bootcfg.h"

/*
 * net_init - the network as boot.cfg says, after the NIC drivers probed
 * and before the app is loaded: the stack and its loopback interface
 * always; with net=none or no NIC nothing else. Otherwise every netdev
 * becomes an interface (eth0, eth1, ...) with an IPv6 link-local address
 * and SLAAC; eth0 gets ip=/gateway= (net=static; the others only IPv6),
 * or every interface runs DHCP (net=dhcp). hostname= becomes uname's
 * nodename and DHCP's host name. Then it waits, running the stack and
 * halting between its events, until every DHCP interface has a lease or
 * net_wait seconds passed. Never fails: what does not work is logged and
 * the app starts anyway.
 */
void net_init(const struct boot_config *cfg);

/*
 * net_root_files - the files the kernel provides in the app's root when
 * rootfs.tar lacks them (fs/rootfs.h), as the configuration is now (call
 * after net_init): /etc/resolv.conf (the dns= servers, else DHCP's),
 * /etc/hosts (localhost, and the host name on eth0's IPv4 address or
 * 127.0.1.1), /etc/nsswitch.conf (hosts: files dns). *count gets the
 * number. The texts are static: valid until the next call.
 */
const struct rootfs_file *net_root_files(size_t *count);

/* Called by the stack after each run of its work: logs address changes. */
void netcfg_changed(void);

/* ---------------------------------------------------------------- pure */

/* Each formats into buf (NUL-terminated, cut to size) and returns the
 * length it wanted, as snprintf. MAC: "52:54:00:12:34:56". IPv4: dotted
 * quad. IPv6: RFC 5952 (lowercase, no leading zeros, the longest run of
 * two or more zero groups as "::"). An address of family 0 prints "-". */
size_t netcfg_format_mac(char *buf, size_t size, const uint8_t mac[6]);
size_t netcfg_format_addr(char *buf, size_t size, const struct bootcfg_addr *a);

/* The prefix length of an IPv4 netmask (network order), or -1 when its
 * ones are not contiguous; and the mask of a prefix length (0..32). */
int netcfg_prefix_len(const uint8_t mask[4]);
void netcfg_prefix_mask(unsigned prefix, uint8_t mask[4]);

/*
 * The files' text into buf (cut to size, NUL-terminated); each returns the
 * length it wanted. resolv.conf: a comment naming source ("DHCP",
 * "boot.cfg dns="), then "nameserver X" per server (IPv6 too); with none,
 * a comment saying so. hosts: localhost for 127.0.0.1 and ::1, then
 * hostname on addr (family 4), or on 127.0.1.1 when addr is NULL or has
 * family 0. nsswitch.conf: "hosts: files dns".
 */
size_t netcfg_resolv_conf(char *buf, size_t size, const struct bootcfg_addr *servers,
			  size_t nservers, const char *source);
size_t netcfg_hosts(char *buf, size_t size, const char *hostname, const struct bootcfg_addr *addr);
size_t netcfg_nsswitch(char *buf, size_t size);
