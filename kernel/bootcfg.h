/*
 * boot.cfg - the app's name, arguments, environment and the kernel's boot
 * options, written by tools/mkimg.sh onto the ESP.
 *
 * Format: one "key=value" per line; the value is the rest of the line
 * verbatim (a trailing \r is dropped); lines starting with '#' and blank
 * lines are ignored. Keys:
 *   name=NAME            argv[0] (default "app")
 *   app_path=/PATH       the app's absolute path in the root file system
 *                        (mkimg writes it when it puts the app there): its
 *                        AT_EXECFN, /proc/self/exe, and the script path a
 *                        "#!" interpreter gets; at most 4095 bytes
 *   args=WORDS           the arguments, split like a POSIX shell splits words
 *   env=KEY=VALUE        one environment variable; repeatable, order kept
 *   on_exit=poweroff|reboot|halt   what happens after the app ends
 *   log=quiet|info|debug           how much the kernel logs (default info)
 *   selftest=mm|net|smp  run a kernel self-test before the app: the memory
 *                        allocators, an ARP exchange on every network
 *                        device (QEMU user networking), or the cross-CPU
 *                        calls, TLB shootdown and spinlocks; repeatable
 *   poweroff=uefi|acpi   power off through the firmware's ResetSystem, then
 *                        ACPI S5 (uefi, the default), or through ACPI alone
 *   stack=SIZE           the app's stack reserve: bytes, or with K, M or G
 *                        (default 8M, from 64K to 1G); backed on demand
 *   aslr=on|off          randomize where a PIE, an ELF interpreter (ld.so)
 *                        and the stack land (on, the default); off gives
 *                        the same addresses every boot, for debugging
 *   strace=0|1           log every syscall the app makes, with its
 *                        arguments and result (kernel/strace.h); 0 default
 *   lockstat=0|1         at the app's exit, log what took the kernel lock,
 *                        how often and for how long (kernel/lockstat.h);
 *                        0 default
 *   root=rw|ro           the root file system in RAM: writable (rw, the
 *                        default) or read-only (ro; /tmp stays writable)
 *   overcommit=strict|lazy  commit accounting (mm/commit.h): strict charges
 *                        private writable memory when it is mapped and
 *                        fails the call with ENOMEM past what RAM can
 *                        back; lazy lets every mapping succeed and kills
 *                        the app at a touch that finds no page (default:
 *                        BOOTCFG_OVERCOMMIT_DEFAULT)
 *   tmpfs_size=SIZE      the most RAM files may take (bytes, or with K,
 *                        M or G; at least 64K); default half of free memory
 *   net=dhcp|static|none how the network interfaces get an IPv4 address
 *                        (dhcp, the default; ip= implies static); none
 *                        leaves only the loopback interface
 *   ip=ADDR[/PREFIX]     the static IPv4 address of eth0 (prefix 1..32,
 *                        default 24)
 *   gateway=ADDR         the IPv4 default gateway with a static address
 *   dns=ADDR             a DNS server, IPv4 or IPv6; repeatable, up to 4;
 *                        given ones replace those DHCP hands out
 *   hostname=NAME        the machine's name (uname, /etc/hosts, DHCP):
 *                        1..63 letters, digits, '-' and '.'
 *   net_wait=SECONDS     how long the boot waits for an address before the
 *                        app starts (0..600, default 10; 0: no wait)
 *   keymap=NAME          the keyboard layout (drivers/kbd.h: us, de; the
 *                        kernel reports a name it has no layout for);
 *                        1..15 lowercase letters, default us
 *   cpus=N               start at most N CPUs, the boot CPU included
 *                        (1..BOOTCFG_CPUS_MAX; default: every CPU the
 *                        ACPI MADT lists; 1 starts no other CPU)
 *   failalloc=N|random:SEED:PER_MILLE   fail the app's Nth kernel allocation,
 *                        or each at random (mm/failinj.h); only the
 *                        sanitized kernel (build/kernel-san.elf) obeys it
 * An unknown key or a bad value is reported through the warn callback and
 * otherwise ignored: a typo must not keep the machine from booting.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BOOTCFG_MAX_ENV 64

enum bootcfg_on_exit {
	BOOTCFG_ON_EXIT_POWEROFF = 0,
	BOOTCFG_ON_EXIT_REBOOT,
	BOOTCFG_ON_EXIT_HALT,
};

enum bootcfg_log {
	BOOTCFG_LOG_QUIET = 0,
	BOOTCFG_LOG_INFO,
	BOOTCFG_LOG_DEBUG,
};

#define BOOTCFG_SELFTEST_MM  (1u << 0)
#define BOOTCFG_SELFTEST_NET (1u << 1)
#define BOOTCFG_SELFTEST_SMP (1u << 2)

enum bootcfg_poweroff {
	BOOTCFG_POWEROFF_UEFI = 0,
	BOOTCFG_POWEROFF_ACPI,
};

enum bootcfg_overcommit {
	BOOTCFG_OVERCOMMIT_LAZY = 0,
	BOOTCFG_OVERCOMMIT_STRICT,
};
#define BOOTCFG_OVERCOMMIT_DEFAULT BOOTCFG_OVERCOMMIT_STRICT

enum bootcfg_net {
	BOOTCFG_NET_DHCP = 0,
	BOOTCFG_NET_STATIC,
	BOOTCFG_NET_NONE,
};

#define BOOTCFG_MAX_DNS		 4
#define BOOTCFG_NET_WAIT_DEFAULT 10u   /* seconds */
#define BOOTCFG_NET_WAIT_MAX	 600u  /* seconds */
#define BOOTCFG_CPUS_MAX	 256u  /* cpus='s largest value */
#define BOOTCFG_HOSTNAME_MAX	 63u   /* bytes */
#define BOOTCFG_APP_PATH_MAX	 4095u /* bytes, without the NUL (Linux's PATH_MAX - 1) */

/* An IP address from boot.cfg, in network byte order. */
struct bootcfg_addr {
	unsigned family; /* 0: none, 4 or 6 */
	uint8_t bytes[16];
};

struct boot_config {
	const char *name;     /* points into the parsed text */
	const char *app_path; /* NULL: none given (the app is only the ESP's app.elf) */
	const char *args;     /* "" when absent */
	const char *env[BOOTCFG_MAX_ENV];
	size_t env_count;
	enum bootcfg_on_exit on_exit;
	enum bootcfg_log log;
	unsigned selftests;  /* BOOTCFG_SELFTEST_* */
	uint64_t stack_size; /* bytes */
	enum bootcfg_poweroff poweroff;
	int aslr;	     /* 1 (default) or 0 */
	int strace;	     /* 0 (default) or 1 */
	int lockstat;	     /* 0 (default) or 1 */
	int root_read_only;  /* 0 (default) or 1 */
	uint64_t tmpfs_size; /* bytes; 0 (default): half of free memory */
	enum bootcfg_overcommit overcommit;
	enum bootcfg_net net;
	struct bootcfg_addr ip; /* family 4 with net=static, else 0 */
	unsigned ip_prefix;	/* 1..32 */
	struct bootcfg_addr gateway;
	struct bootcfg_addr dns[BOOTCFG_MAX_DNS];
	size_t dns_count;
	const char *hostname; /* NULL: none given */
	unsigned net_wait;    /* seconds */
	const char *keymap;   /* "us" unless given */
	unsigned cpus;	      /* 1..BOOTCFG_CPUS_MAX; 0 (default): every CPU */

	/* failalloc='s value, checked by failinj_parse; NULL: none given */
	const char *failalloc;
};

/* bootcfg_parse_ipv4 / _ipv6 - s as an address into out (network byte
 * order): 0, or -1 when s is not exactly one (dotted quad; RFC 4291 text
 * with at most one "::", no embedded IPv4, no zone). Pure. */
int bootcfg_parse_ipv4(const char *s, uint8_t out[4]);
int bootcfg_parse_ipv6(const char *s, uint8_t out[16]);

#define BOOTCFG_STACK_DEFAULT (8ull << 20)
#define BOOTCFG_STACK_MIN     (64ull << 10)
#define BOOTCFG_STACK_MAX     (1ull << 30)
#define BOOTCFG_TMPFS_MIN     (64ull << 10)

typedef void (*bootcfg_warn_fn)(unsigned line, const char *message, const char *detail);

/*
 * bootcfg_parse - parse text (len bytes, followed by a NUL at text[len]; the
 * text is modified in place: line ends become NULs) into *cfg, whose strings
 * then point into text. A NUL byte inside the text ends the parse. Always fills *cfg with defaults
 * first. Returns the number of warnings issued (0 = clean).
 */
unsigned bootcfg_parse(char *text, size_t len, struct boot_config *cfg, bootcfg_warn_fn warn);
