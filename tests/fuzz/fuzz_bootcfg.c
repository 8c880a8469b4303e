/*
 * Fuzzer for kernel/bootcfg.c: bootcfg_parse over the input as boot.cfg,
 * and bootcfg_parse_ipv4 / _ipv6 over it (up to its first NUL) against
 * the host's inet_pton. The parsed configuration must keep bootcfg.h's
 * promises: every string points into the text (or is a default), holds no
 * line end, every number is in its documented range, and the return value
 * counts the warnings the callback saw.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kernel/bootcfg.h"

static unsigned warnings_seen;

static void warn(unsigned line, const char *message, const char *detail)
{
	FUZZ_ASSERT(line >= 1 && message && message[0] && detail);
	warnings_seen++;
}

static const char *text_start, *text_end;
static const uint8_t *raw; /* the input as it was before the parse */

/* s points into the text, NUL-terminated there, with no line end. */
static void check_string(const char *s)
{
	FUZZ_ASSERT(s >= text_start && s <= text_end);
	size_t n = strnlen(s, (size_t)(text_end - s) + 1);
	FUZZ_ASSERT(s + n <= text_end);
	FUZZ_ASSERT(!memchr(s, '\n', n));
	/* One '\r' before the line end is dropped (a CRLF file); a value may
	 * end in '\r' only when its line ended in more than one. */
	FUZZ_ASSERT(!n || s[n - 1] != '\r' ||
		    (s + n < text_end && raw[s + n - text_start] == '\r'));
}

static void check_addresses(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint8_t ours[16], host[16];

	FUZZ_ASSERT(s);
	memcpy(s, data, size);
	s[size] = '\0';
	/* glibc's inet_pton takes exactly the dotted quads bootcfg does (no
	 * leading zeros, each part 0..255); for IPv6 it also takes an embedded
	 * IPv4 tail, which bootcfg.h rules out. */
	int v4 = bootcfg_parse_ipv4(s, ours);
	FUZZ_ASSERT(v4 == 0 || v4 == -1);
	int h4 = inet_pton(AF_INET, s, host) == 1;
	FUZZ_ASSERT((v4 == 0) == h4);
	if (h4)
		FUZZ_ASSERT(!memcmp(ours, host, 4));
	int v6 = bootcfg_parse_ipv6(s, ours);
	FUZZ_ASSERT(v6 == 0 || v6 == -1);
	int h6 = inet_pton(AF_INET6, s, host) == 1;
	if (v6 == 0)
		FUZZ_ASSERT(h6 && !memcmp(ours, host, 16));
	else if (h6)
		FUZZ_ASSERT(strchr(s, '.'));
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct boot_config cfg;

	FUZZ_ASSERT(text);
	check_addresses(data, size);
	memcpy(text, data, size);
	text[size] = '\0';
	raw = data;
	text_start = text;
	text_end = text + size;
	warnings_seen = 0;
	memset(&cfg, 0x77, sizeof(cfg));
	unsigned w = bootcfg_parse(text, size, &cfg, warn);
	FUZZ_ASSERT(w == warnings_seen);

	FUZZ_ASSERT(!strcmp(cfg.name, "app") || (check_string(cfg.name), cfg.name[0]));
	if (cfg.app_path) {
		check_string(cfg.app_path);
		FUZZ_ASSERT(cfg.app_path[0] == '/' && strlen(cfg.app_path) <= BOOTCFG_APP_PATH_MAX);
	}
	if (cfg.args[0])
		check_string(cfg.args);
	FUZZ_ASSERT(cfg.env_count <= BOOTCFG_MAX_ENV);
	for (size_t i = 0; i < cfg.env_count; i++) {
		check_string(cfg.env[i]);
		const char *eq = strchr(cfg.env[i], '=');
		FUZZ_ASSERT(eq && eq != cfg.env[i]);
	}
	FUZZ_ASSERT(cfg.on_exit <= BOOTCFG_ON_EXIT_HALT && cfg.log <= BOOTCFG_LOG_DEBUG);
	FUZZ_ASSERT(!(cfg.selftests & ~(BOOTCFG_SELFTEST_MM | BOOTCFG_SELFTEST_NET)));
	FUZZ_ASSERT(cfg.stack_size >= BOOTCFG_STACK_MIN && cfg.stack_size <= BOOTCFG_STACK_MAX);
	FUZZ_ASSERT(cfg.poweroff <= BOOTCFG_POWEROFF_ACPI);
	FUZZ_ASSERT((cfg.aslr == 0 || cfg.aslr == 1) && (cfg.strace == 0 || cfg.strace == 1));
	FUZZ_ASSERT(cfg.lockstat == 0 || cfg.lockstat == 1);
	FUZZ_ASSERT(cfg.root_read_only == 0 || cfg.root_read_only == 1);
	FUZZ_ASSERT(cfg.tmpfs_size == 0 || cfg.tmpfs_size >= BOOTCFG_TMPFS_MIN);
	FUZZ_ASSERT(cfg.net <= BOOTCFG_NET_NONE);
	if (cfg.net == BOOTCFG_NET_STATIC)
		FUZZ_ASSERT(cfg.ip.family == 4 && cfg.ip_prefix >= 1 && cfg.ip_prefix <= 32);
	else
		FUZZ_ASSERT(cfg.ip.family == 0);
	FUZZ_ASSERT(cfg.gateway.family == 0 || cfg.gateway.family == 4);
	FUZZ_ASSERT(cfg.dns_count <= BOOTCFG_MAX_DNS);
	for (size_t i = 0; i < cfg.dns_count; i++)
		FUZZ_ASSERT(cfg.dns[i].family == 4 || cfg.dns[i].family == 6);
	if (cfg.hostname) {
		check_string(cfg.hostname);
		size_t n = strlen(cfg.hostname);
		FUZZ_ASSERT(n >= 1 && n <= BOOTCFG_HOSTNAME_MAX);
	}
	FUZZ_ASSERT(cfg.net_wait <= BOOTCFG_NET_WAIT_MAX);
	free(text);
	return 0;
}
