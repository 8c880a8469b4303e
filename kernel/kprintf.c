/*
 * Formatted kernel output. One small formatter (kvsnprintf-style, writing
 * through a sink) serves both the consoles and string buffers, so there is a
 * single place that knows the format language.
 */
#include "kernel/kprintf.h"

#include <stdint.h>

#include "kernel/console.h"
#include "kernel/klib.h"

struct sink {
	void (*put)(struct sink *s, const char *p, size_t n);
	char *buf;
	size_t size;
	size_t len; /* characters produced so far */
};

static void put_console(struct sink *s, const char *p, size_t n)
{
	console_write(p, n);
	s->len += n;
}

static void put_buffer(struct sink *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++, s->len++) {
		if (s->size && s->len < s->size - 1)
			s->buf[s->len] = p[i];
	}
}

static void pad(struct sink *s, char c, int count)
{
	for (; count > 0; count--)
		s->put(s, &c, 1);
}

static void format_number(struct sink *s, uint64_t v, int negative, unsigned base, int upper,
			  int width, int zero_pad, int left, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	size_t plen = strlen(prefix);

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int total = n + (int)plen + negative;
	if (!left && !zero_pad)
		pad(s, ' ', width - total);
	if (negative)
		s->put(s, "-", 1);
	s->put(s, prefix, plen);
	if (!left && zero_pad)
		pad(s, '0', width - total);
	while (n)
		s->put(s, &tmp[--n], 1);
	if (left)
		pad(s, ' ', width - total);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			const char *q = p;
			while (*q && *q != '%')
				q++;
			s->put(s, p, (size_t)(q - p));
			p = q - 1;
			continue;
		}
		int zero_pad = 0, left = 0, alt = 0, width = 0, lng = 0;
		for (p++;; p++) {
			if (*p == '0')
				zero_pad = 1;
			else if (*p == '-')
				left = 1;
			else if (*p == '#')
				alt = 1;
			else
				break;
		}
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0) { /* as printf: a '-' flag and the width */
				left = 1;
				width = width < -INT32_MAX ? 0 : -width;
			}
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			lng++;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			format_number(s, mag, v < 0, 10, 0, width, zero_pad, left, "");
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			unsigned base = *p == 'u' ? 10 : 16;
			format_number(s, v, 0, base, *p == 'X', width, zero_pad, left,
				      alt && base == 16 ? "0x" : "");
			break;
		}
		case 'p':
			format_number(s, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0, width,
				      zero_pad, left, "0x");
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = (int)strlen(str);
			if (!left)
				pad(s, ' ', width - len);
			s->put(s, str, (size_t)len);
			if (left)
				pad(s, ' ', width - len);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!left)
				pad(s, ' ', width - 1);
			s->put(s, &c, 1);
			if (left)
				pad(s, ' ', width - 1);
			break;
		}
		case '%':
			s->put(s, "%", 1);
			break;
		case '\0':
			return;
		default:
			s->put(s, "%", 1);
			s->put(s, p, 1);
			break;
		}
	}
}

/* True when the last kernel output ended a line. */
static int kernel_line_start = 1;
static int urgent;

/* The screen colour of a kernel line, from how it starts. */
static enum console_colour line_colour(const char *fmt)
{
	if (urgent || !strncmp(fmt, "solo: panic", 11) || !strncmp(fmt, "solo: app killed", 16))
		return CONSOLE_ERROR;
	return CONSOLE_INFO;
}

void kvprintf(const char *fmt, va_list ap)
{
	struct sink s = {.put = put_console};
	size_t n = strlen(fmt);
	/* The colour and the line together: another CPU's output (the app's,
	 * or its own lines) comes before or after, not in between. */
	int taken = console_lock();

	if (kernel_line_start)
		console_set_colour(line_colour(fmt));
	format(&s, fmt, ap);
	kernel_line_start = n && fmt[n - 1] == '\n';
	if (kernel_line_start)
		console_set_colour(CONSOLE_NORMAL); /* for the app's output that may follow */
	console_unlock(taken);
}

void console_urgent(void)
{
	urgent = 1;
	/* The report must come out, whatever another CPU holds. */
	console_stop_locking();
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = {.put = put_buffer, .buf = buf, .size = size};
	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
