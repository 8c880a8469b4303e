/*
 * strace=1: formats one line per syscall (see strace.h for the format
 * letters). The line is built in a static buffer, so this is not re-entrant;
 * syscalls never nest.
 */
#include "kernel/strace.h"

#include <stddef.h>

#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/app.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"

#define LINE_MAX_BYTES 640

int strace_enabled;

static char line[LINE_MAX_BYTES];
static size_t used;

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	va_list ap;

	if (used >= sizeof(line) - 1)
		return;
	va_start(ap, fmt);
	int n = kvsnprintf(line + used, sizeof(line) - used, fmt, ap);
	va_end(ap);
	used += (size_t)n < sizeof(line) - used ? (size_t)n : sizeof(line) - 1 - used;
}

static void add_octal(uint64_t v)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = (char)('0' + (v & 7));
		v >>= 3;
	} while (v);
	add("0");
	while (n)
		add("%c", digits[--n]);
}

/* The app's bytes at addr, quoted with C escapes; stops at a NUL when
 * as_string. An unreadable first byte prints the address instead. */
static void add_user_bytes(uint64_t addr, uint64_t len, int as_string)
{
	unsigned char c;
	uint64_t i;

	if (!addr) {
		add("NULL");
		return;
	}
	if (len && app_copy_from(&c, addr, 1)) {
		add("%#lx", addr);
		return;
	}
	add("\"");
	for (i = 0; i < len && i < STRACE_SHOW_BYTES; i++) {
		if (app_copy_from(&c, addr + i, 1) || (as_string && !c))
			break;
		if (c == '\n')
			add("\\n");
		else if (c == '\r')
			add("\\r");
		else if (c == '\t')
			add("\\t");
		else if (c == '"' || c == '\\')
			add("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			add("\\x%02x", c);
		else
			add("%c", c);
	}
	add("\"");
	if (i == STRACE_SHOW_BYTES && i < len &&
	    !(as_string && (app_copy_from(&c, addr + i, 1) || !c)))
		add("...");
}

static const char *const errno_names[] = {
    [EPERM] = "EPERM",
    [ENOENT] = "ENOENT",
    [ESRCH] = "ESRCH",
    [EINTR] = "EINTR",
    [EIO] = "EIO",
    [ENXIO] = "ENXIO",
    [E2BIG] = "E2BIG",
    [ENOEXEC] = "ENOEXEC",
    [EBADF] = "EBADF",
    [ECHILD] = "ECHILD",
    [EAGAIN] = "EAGAIN",
    [ENOMEM] = "ENOMEM",
    [EACCES] = "EACCES",
    [EFAULT] = "EFAULT",
    [EBUSY] = "EBUSY",
    [EEXIST] = "EEXIST",
    [EXDEV] = "EXDEV",
    [ENODEV] = "ENODEV",
    [ENOTDIR] = "ENOTDIR",
    [EISDIR] = "EISDIR",
    [EINVAL] = "EINVAL",
    [ENFILE] = "ENFILE",
    [EMFILE] = "EMFILE",
    [ENOTTY] = "ENOTTY",
    [ETXTBSY] = "ETXTBSY",
    [EFBIG] = "EFBIG",
    [ENOSPC] = "ENOSPC",
    [ESPIPE] = "ESPIPE",
    [EROFS] = "EROFS",
    [EMLINK] = "EMLINK",
    [EPIPE] = "EPIPE",
    [EDOM] = "EDOM",
    [ERANGE] = "ERANGE",
    [EDEADLK] = "EDEADLK",
    [ENAMETOOLONG] = "ENAMETOOLONG",
    [ENOLCK] = "ENOLCK",
    [ENOSYS] = "ENOSYS",
    [ENOTEMPTY] = "ENOTEMPTY",
    [ELOOP] = "ELOOP",
    [ENODATA] = "ENODATA",
    [EOVERFLOW] = "EOVERFLOW",
    [EOPNOTSUPP] = "EOPNOTSUPP",
    [ETIMEDOUT] = "ETIMEDOUT",
    [ENOTSOCK] = "ENOTSOCK",
    [EDESTADDRREQ] = "EDESTADDRREQ",
    [EMSGSIZE] = "EMSGSIZE",
    [EPROTOTYPE] = "EPROTOTYPE",
    [ENOPROTOOPT] = "ENOPROTOOPT",
    [EPROTONOSUPPORT] = "EPROTONOSUPPORT",
    [ESOCKTNOSUPPORT] = "ESOCKTNOSUPPORT",
    [EPFNOSUPPORT] = "EPFNOSUPPORT",
    [EAFNOSUPPORT] = "EAFNOSUPPORT",
    [EADDRINUSE] = "EADDRINUSE",
    [EADDRNOTAVAIL] = "EADDRNOTAVAIL",
    [ENETDOWN] = "ENETDOWN",
    [ENETUNREACH] = "ENETUNREACH",
    [ENETRESET] = "ENETRESET",
    [ECONNABORTED] = "ECONNABORTED",
    [ECONNRESET] = "ECONNRESET",
    [ENOBUFS] = "ENOBUFS",
    [EISCONN] = "EISCONN",
    [ENOTCONN] = "ENOTCONN",
    [ESHUTDOWN] = "ESHUTDOWN",
    [ECONNREFUSED] = "ECONNREFUSED",
    [EHOSTDOWN] = "EHOSTDOWN",
    [EHOSTUNREACH] = "EHOSTUNREACH",
    [EALREADY] = "EALREADY",
    [EINPROGRESS] = "EINPROGRESS",
    [ERESTARTSYS] = "ERESTARTSYS",
    [ERESTARTNOINTR] = "ERESTARTNOINTR",
    [ERESTARTNOHAND] = "ERESTARTNOHAND",
};

static void add_result(char type, long ret)
{
	if (ret < 0 && ret >= -4095) {
		uint64_t e = (uint64_t)-ret;
		add(" = %ld", ret);
		if (e < ARRAY_SIZE(errno_names) && errno_names[e])
			add(" %s", errno_names[e]);
	} else if (type == 'x') {
		add(" = %#lx", (uint64_t)ret);
	} else {
		add(" = %ld", ret);
	}
}

/* Starts the line: "name(args)"; ret < 0 means the result is unknown or an
 * error, so 'r' buffers print as their address. */
static void add_call(const char *name, const char *fmt, const uint64_t args[6], long ret)
{
	const char *arg_fmt = fmt && fmt[0] && fmt[1] == ':' ? fmt + 2 : NULL;
	int count = arg_fmt ? (int)strlen(arg_fmt) : 3;

	used = 0;
	add("%s(", name);
	for (int i = 0; i < count && i < 6; i++) {
		char kind = arg_fmt ? arg_fmt[i] : 'x';
		uint64_t a = args[i];
		if (i)
			add(", ");
		switch (kind) {
		case 'd':
			add("%d", (int)a);
			break;
		case 'D':
			if ((int)a == AT_FDCWD)
				add("AT_FDCWD");
			else
				add("%d", (int)a);
			break;
		case 'l':
			add("%ld", (long)a);
			break;
		case 'u':
			add("%lu", a);
			break;
		case 'o':
			add_octal(a);
			break;
		case 's':
			add_user_bytes(a, UINT64_MAX, 1);
			break;
		case 'w':
			add_user_bytes(a, i < 5 ? args[i + 1] : 0, 0);
			break;
		case 'r':
			if (ret > 0)
				add_user_bytes(a, (uint64_t)ret, 0);
			else if (a)
				add("%#lx", a);
			else
				add("NULL");
			break;
		default: /* 'x' */
			if (a)
				add("%#lx", a);
			else
				add("0x0");
			break;
		}
	}
	add(")");
}

void strace_print(const char *name, const char *fmt, const uint64_t args[6], long ret)
{
	add_call(name, fmt, args, ret);
	add_result(fmt ? fmt[0] : 'd', ret);
	kprintf("solo: strace: %s\n", line);
}

void strace_print_noreturn(const char *name, const char *fmt, const uint64_t args[6])
{
	add_call(name, fmt, args, -1);
	kprintf("solo: strace: %s = ?\n", line);
}
