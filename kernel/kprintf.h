/*
 * kprintf - the kernel's formatted output, to every console sink
 * (kernel/console.h: the serial port and the screen). Supports %d %i %u %x
 * %X %p %s %c %%, the flags '0' '-' '#', a field width (number or *), and
 * the length modifiers l, ll, z (size_t). Kernel lines are coloured by how
 * they start (errors red on the screen). Safe in any kernel context; not
 * re-entrant across CPUs (Solo runs on one). The formatter is host-tested.
 *
 * Lines from the kernel start with "solo: " by convention of the serial
 * contract; kprintf itself adds nothing.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated when size > 0); returns the length
 * the full output would have had, like snprintf. */
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* From now on kernel lines are shown as errors (red on screen): a panic report. */
void console_urgent(void);
