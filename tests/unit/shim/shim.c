/*
 * Host shim for the kernel's panic, implemented on libc: panic() prints
 * "solo: panic: <message>" to stderr and abort()s, so Criterion tests
 * expect it with .signal = SIGABRT. kprintf is the kernel's own
 * (kernel/kprintf.c), writing through kernel_shim.c's console_write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
