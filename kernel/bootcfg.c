/* boot.cfg parser (format in bootcfg.h). Pure C: also runs in host tests. */
#include "kernel/bootcfg.h"

#include "kernel/klib.h"

static void set_defaults(struct boot_config *cfg)
{
	cfg->name = "app";
	cfg->args = "";
	cfg->env_count = 0;
	cfg->on_exit = BOOTCFG_ON_EXIT_POWEROFF;
	cfg->log = BOOTCFG_LOG_INFO;
	cfg->selftests = 0;
	cfg->stack_size = BOOTCFG_STACK_DEFAULT;
	cfg->poweroff = BOOTCFG_POWEROFF_UEFI;
	cfg->aslr = 1;
	cfg->strace = 0;
	cfg->root_read_only = 0;
	cfg->tmpfs_size = 0;
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

static int apply(struct boot_config *cfg, const char *key, const char *value, const char **why)
{
	if (!strcmp(key, "name")) {
		if (!*value) {
			*why = "name is empty";
			return -1;
		}
		cfg->name = value;
	} else if (!strcmp(key, "args")) {
		cfg->args = value;
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
		static const char *const tests[] = {"mm", "net"};
		int i = pick(value, tests, 2);
		if (i < 0) {
			*why = "selftest must be mm or net";
			return -1;
		}
		cfg->selftests |= i == 0 ? BOOTCFG_SELFTEST_MM : BOOTCFG_SELFTEST_NET;
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
		static const char *const states[] = {"off", "on"};
		int i = pick(value, states, 2);
		if (i < 0) {
			*why = "aslr must be on or off";
			return -1;
		}
		cfg->aslr = i;
	} else if (!strcmp(key, "root")) {
		static const char *const modes[] = {"rw", "ro"};
		int i = pick(value, modes, 2);
		if (i < 0) {
			*why = "root must be rw or ro";
			return -1;
		}
		cfg->root_read_only = i;
	} else if (!strcmp(key, "tmpfs_size")) {
		uint64_t size;
		if (parse_size(value, &size) || size < BOOTCFG_TMPFS_MIN) {
			*why =
			    "tmpfs_size must be a size of at least 64K (bytes, or with K, M or G)";
			return -1;
		}
		cfg->tmpfs_size = size;
	} else if (!strcmp(key, "strace")) {
		static const char *const states[] = {"0", "1"};
		int i = pick(value, states, 2);
		if (i < 0) {
			*why = "strace must be 0 or 1";
			return -1;
		}
		cfg->strace = i;
	} else {
		*why = "unknown key";
		return -1;
	}
	return 0;
}

unsigned bootcfg_parse(char *text, size_t len, struct boot_config *cfg, bootcfg_warn_fn warn)
{
	unsigned warnings = 0, line_no = 0;
	size_t pos = 0;

	set_defaults(cfg);
	while (pos < len && text[pos]) {
		char *line = &text[pos];
		size_t end = pos;

		line_no++;
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
			if (!apply(cfg, line, eq + 1, &why))
				continue;
			*eq = '=';
		}
		warnings++;
		if (warn)
			warn(line_no, why, line);
	}
	return warnings;
}
