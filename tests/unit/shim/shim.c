/*
 * Host shim for the kernel's console and panic: what mm/, kernel/elf.c and
 * the other host-tested files call, implemented on libc.
 *   panic()         prints "solo: panic: <message>" to stderr and abort()s,
 *                   so Criterion tests expect it with .signal = SIGABRT;
 *   kprintf()       vprintf to stdout;  ksnprintf() = vsnprintf;
 *   console_write() fwrite to stdout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/kprintf.h"
#include "kernel/panic.h"

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("solo: panic: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void kvprintf(const char *fmt, va_list ap)
{
	vprintf(fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void console_write(const char *buf, size_t len)
{
	fwrite(buf, 1, len, stdout);
}
