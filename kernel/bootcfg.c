/* boot.cfg parser (format in bootcfg.h). Pure C: also runs in host tests. */
#include "kernel/bootcfg.h"

#include "kernel/klib.h"

static int pick(const char *value, const char *const *names, int count);

static void set_defaults(struct boot_config *cfg)
{
	cfg->name = "app";
	cfg->app_path = NULL;
	cfg->args = "";
	cfg->failalloc = NULL;
	cfg->env_count = 0;
	cfg->on_exit = BOOTCFG_ON_EXIT_POWEROFF;
	cfg->log = BOOTCFG_LOG_INFO;
	cfg->selftests = 0;
	cfg->stack_size = BOOTCFG_STACK_DEFAULT;
	cfg->poweroff = BOOTCFG_POWEROFF_UEFI;
	cfg->aslr = 1;
	cfg->strace = 0;
	cfg->lockstat = 0;
	cfg->root_read_only = 0;
	cfg->tmpfs_size = 0;
	cfg->overcommit = BOOTCFG_OVERCOMMIT_DEFAULT;
	cfg->net = BOOTCFG_NET_DHCP;
	cfg->ip = (struct bootcfg_addr){0};
	cfg->ip_prefix = 0;
	cfg->gateway = (struct bootcfg_addr){0};
	cfg->dns_count = 0;
	cfg->hostname = NULL;
	cfg->keymap = "us";
	cfg->net_wait = BOOTCFG_NET_WAIT_DEFAULT;
	cfg->cpus = 0;
}

/* What one key's line means for the keys after it: the net= line, for the
 * check that net=static has an ip=. */
struct parse_state {
	unsigned line_no;
	unsigned net_line; /* 0: no net= line */
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal digits at *p up to a value of max: the value, or -1. */
static long parse_decimal(const char **p, long max)
{
	long v = 0;
	int digits = 0;

	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		if (v > max)
			return -1;
		(*p)++;
		digits++;
	}
	return digits ? v : -1;
}

/* A dotted quad at *p, leaving *p after it. */
static int parse_ipv4_prefix(const char **p, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		if (i && *(*p)++ != '.')
			return -1;
		if ((*p)[0] < '0' || (*p)[0] > '9' ||
		    ((*p)[0] == '0' && (*p)[1] >= '0' && (*p)[1] <= '9'))
			return -1; /* no sign, no leading zeros (octal to some) */
		long v = parse_decimal(p, 255);
		if (v < 0)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int bootcfg_parse_ipv4(const char *s, uint8_t out[4])
{
	return parse_ipv4_prefix(&s, out) || *s ? -1 : 0;
}

int bootcfg_parse_ipv6(const char *s, uint8_t out[16])
{
	uint16_t head[8], tail[8];
	int nhead = 0, ntail = 0, gap = 0;
	const char *p = s;

	if (p[0] == ':') {
		if (p[1] != ':')
			return -1;
		p += 2;
		gap = 1;
	}
	while (*p) {
		unsigned v = 0;
		int digits = 0;
		for (; hex_digit(*p) >= 0; p++, digits++) {
			if (digits == 4)
				return -1;
			v = v * 16 + (unsigned)hex_digit(*p);
		}
		if (!digits || nhead + ntail == 8)
			return -1;
		if (gap)
			tail[ntail++] = (uint16_t)v;
		else
			head[nhead++] = (uint16_t)v;
		if (!*p)
			break;
		if (*p++ != ':')
			return -1;
		if (*p == ':') {
			if (gap)
				return -1;
			gap = 1;
			p++;
		} else if (!*p) {
			return -1; /* a single trailing ':' */
		}
	}
	if (gap ? nhead + ntail > 7 : nhead != 8)
		return -1;
	memset(out, 0, 16);
	for (int i = 0; i < nhead; i++) {
		out[2 * i] = (uint8_t)(head[i] >> 8);
		out[2 * i + 1] = (uint8_t)head[i];
	}
	for (int i = 0; i < ntail; i++) {
		int at = 8 - ntail + i;
		out[2 * at] = (uint8_t)(tail[i] >> 8);
		out[2 * at + 1] = (uint8_t)tail[i];
	}
	return 0;
}

static int valid_hostname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > BOOTCFG_HOSTNAME_MAX || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int apply_net(struct boot_config *cfg, struct parse_state *st, const char *key,
		     const char *value, const char **why)
{
	if (!strcmp(key, "net")) {
		static const char *const ways[] = {"dhcp", "static", "none"};
		int i = pick(value, ways, 3);
		if (i < 0) {
			*why = "net must be dhcp, static or none";
			return -1;
		}
		cfg->net = (enum bootcfg_net)i;
		st->net_line = st->line_no;
	} else if (!strcmp(key, "ip")) {
		const char *p = value;
		uint8_t a[4];
		long prefix = 24;
		if (parse_ipv4_prefix(&p, a) ||
		    (*p == '/' && (++p, prefix = parse_decimal(&p, 32)) < 1) || *p) {
			*why = "ip must be an IPv4 address with an optional /PREFIX (1..32)";
			return -1;
		}
		cfg->ip.family = 4;
		memcpy(cfg->ip.bytes, a, 4);
		cfg->ip_prefix = (unsigned)prefix;
	} else if (!strcmp(key, "gateway")) {
		if (bootcfg_parse_ipv4(value, cfg->gateway.bytes)) {
			*why = "gateway must be an IPv4 address";
			return -1;
		}
		cfg->gateway.family = 4;
	} else if (!strcmp(key, "dns")) {
		struct bootcfg_addr a = {0};
		if (!bootcfg_parse_ipv4(value, a.bytes))
			a.family = 4;
		else if (!bootcfg_parse_ipv6(value, a.bytes))
			a.family = 6;
		if (!a.family) {
			*why = "dns must be an IPv4 or IPv6 address";
			return -1;
		}
		if (cfg->dns_count == BOOTCFG_MAX_DNS) {
			*why = "more than 4 dns lines";
			return -1;
		}
		cfg->dns[cfg->dns_count++] = a;
	} else if (!strcmp(key, "hostname")) {
		if (!valid_hostname(value)) {
			*why = "hostname must be 1..63 letters, digits, '-' and '.'";
			return -1;
		}
		cfg->hostname = value;
	} else if (!strcmp(key, "keymap")) {
		size_t n = strlen(value);
		int ok = n >= 1 && n <= 15;
		for (size_t i = 0; i < n; i++)
			ok &= value[i] >= 'a' && value[i] <= 'z';
		if (!ok) {
			*why = "keymap must be a layout name: 1..15 lowercase letters (us, de)";
			return -1;
		}
		cfg->keymap = value;
	} else if (!strcmp(key, "net_wait")) {
		const char *p = value;
		long v = parse_decimal(&p, BOOTCFG_NET_WAIT_MAX);
		if (v < 0 || *p) {
			*why = "net_wait must be a number of seconds from 0 to 600";
			return -1;
		}
		cfg->net_wait = (unsigned)v;
	} else {
		*why = "unknown key";
		return -1;
	}
	return 0;
}

/* "123", "64K", "8M", "1G" -> bytes; -1 when malformed or absurdly large. */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	unsigned shift = 0;
	if (*p == 'K' || *p == 'k')
		shift = 10;
	else if (*p == 'M' || *p == 'm')
		shift = 20;
	else if (*p == 'G' || *p == 'g')
		shift = 30;
	if (shift)
		p++;
	if (*p || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* Index of value in names[], or -1. */
static int pick(const char *value, const char *const *names, int count)
{
	for (int i = 0; i < count; i++) {
		if (!strcmp(value, names[i]))
			return i;
	}
	return -1;
}

/* A key of two values, off and on: 0 or 1 in *out, or -1 with *why = msg. */
static int pick_flag(const char *value, const char *off, const char *on, const char *msg,
		     const char **why, int *out)
{
	const char *const names[] = {off, on};
	int i = pick(value, names, 2);

	if (i < 0) {
		*why = msg;
		return -1;
	}
	*out = i;
	return 0;
}

static int apply(struct boot_config *cfg, struct parse_state *st, const char *key,
		 const char *value, const char **why)
{
	if (!strcmp(key, "name")) {
		if (!*value) {
			*why = "name is empty";
			return -1;
		}
		cfg->name = value;
	} else if (!strcmp(key, "app_path")) {
		if (value[0] != '/' || strlen(value) > BOOTCFG_APP_PATH_MAX) {
			*why = "app_path must be an absolute path of at most 4095 bytes";
			return -1;
		}
		cfg->app_path = value;
	} else if (!strcmp(key, "args")) {
		cfg->args = value;
	} else if (!strcmp(key, "failalloc")) {
		cfg->failalloc = value; /* checked by failinj_parse (mm/failinj.h) */
	} else if (!strcmp(key, "env")) {
		const char *eq = value;
		while (*eq && *eq != '=')
			eq++;
		if (!*eq || eq == value) {
			*why = "env needs KEY=VALUE";
			return -1;
		}
		if (cfg->env_count == BOOTCFG_MAX_ENV) {
			*why = "too many env lines";
			return -1;
		}
		cfg->env[cfg->env_count++] = value;
	} else if (!strcmp(key, "on_exit")) {
		static const char *const actions[] = {"poweroff", "reboot", "halt"};
		int i = pick(value, actions, 3);
		if (i < 0) {
			*why = "on_exit must be poweroff, reboot or halt";
			return -1;
		}
		cfg->on_exit = (enum bootcfg_on_exit)i;
	} else if (!strcmp(key, "log")) {
		static const char *const levels[] = {"quiet", "info", "debug"};
		int i = pick(value, levels, 3);
		if (i < 0) {
			*why = "log must be quiet, info or debug";
			return -1;
		}
		cfg->log = (enum bootcfg_log)i;
	} else if (!strcmp(key, "selftest")) {
		static const char *const tests[] = {"mm", "net", "smp"};
		int i = pick(value, tests, 3);
		if (i < 0) {
			*why = "selftest must be mm, net or smp";
			return -1;
		}
		cfg->selftests |= 1u << i; /* BOOTCFG_SELFTEST_*, in this order */
	} else if (!strcmp(key, "poweroff")) {
		static const char *const ways[] = {"uefi", "acpi"};
		int i = pick(value, ways, 2);
		if (i < 0) {
			*why = "poweroff must be uefi or acpi";
			return -1;
		}
		cfg->poweroff = (enum bootcfg_poweroff)i;
	} else if (!strcmp(key, "stack")) {
		uint64_t size;
		if (parse_size(value, &size) || size < BOOTCFG_STACK_MIN ||
		    size > BOOTCFG_STACK_MAX) {
			*why = "stack must be a size from 64K to 1G (bytes, or with K, M or G)";
			return -1;
		}
		cfg->stack_size = size;
	} else if (!strcmp(key, "aslr")) {
		return pick_flag(value, "off", "on", "aslr must be on or off", why, &cfg->aslr);
	} else if (!strcmp(key, "overcommit")) {
		static const char *const modes[] = {"lazy", "strict"};
		int i = pick(value, modes, 2);
		if (i < 0) {
			*why = "overcommit must be strict or lazy";
			return -1;
		}
		cfg->overcommit = (enum bootcfg_overcommit)i;
	} else if (!strcmp(key, "root")) {
		return pick_flag(value, "rw", "ro", "root must be rw or ro", why,
				 &cfg->root_read_only);
	} else if (!strcmp(key, "tmpfs_size")) {
		uint64_t size;
		if (parse_size(value, &size) || size < BOOTCFG_TMPFS_MIN) {
			*why =
			    "tmpfs_size must be a size of at least 64K (bytes, or with K, M or G)";
			return -1;
		}
		cfg->tmpfs_size = size;
	} else if (!strcmp(key, "strace")) {
		return pick_flag(value, "0", "1", "strace must be 0 or 1", why, &cfg->strace);
	} else if (!strcmp(key, "lockstat")) {
		return pick_flag(value, "0", "1", "lockstat must be 0 or 1", why, &cfg->lockstat);
	} else if (!strcmp(key, "cpus")) {
		const char *p = value;
		long v = parse_decimal(&p, BOOTCFG_CPUS_MAX);
		if (v < 1 || *p) {
			*why = "cpus must be a number of CPUs from 1 to 256";
			return -1;
		}
		cfg->cpus = (unsigned)v;
	} else {
		return apply_net(cfg, st, key, value, why);
	}
	return 0;
}

unsigned bootcfg_parse(char *text, size_t len, struct boot_config *cfg, bootcfg_warn_fn warn)
{
	unsigned warnings = 0;
	struct parse_state st = {0};
	size_t pos = 0;

	set_defaults(cfg);
	while (pos < len && text[pos]) {
		char *line = &text[pos];
		size_t end = pos;

		st.line_no++;
		while (end < len && text[end] && text[end] != '\n')
			end++;
		/* A NUL inside the text ends the parse after this line. */
		pos = end < len && text[end] == '\n' ? end + 1 : len;
		text[end] = '\0'; /* text[len] exists and is NUL (contract) */
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;

		char *eq = line;
		while (*eq && *eq != '=')
			eq++;
		const char *why = "expected key=value";
		if (*eq == '=' && eq != line) {
			*eq = '\0';
			if (!apply(cfg, &st, line, eq + 1, &why))
				continue;
			*eq = '=';
		}
		warnings++;
		if (warn)
			warn(st.line_no, why, line);
	}
	/* ip= implies net=static unless the network is off; net=static
	 * without an address falls back to DHCP. */
	if (cfg->ip.family && cfg->net != BOOTCFG_NET_NONE)
		cfg->net = BOOTCFG_NET_STATIC;
	if (cfg->net != BOOTCFG_NET_STATIC)
		cfg->ip.family = 0;
	if (cfg->net == BOOTCFG_NET_STATIC && !cfg->ip.family) {
		cfg->net = BOOTCFG_NET_DHCP;
		warnings++;
		if (warn)
			warn(st.net_line, "net=static needs ip=ADDR/PREFIX; using dhcp",
			     "net=static");
	}
	return warnings;
}
