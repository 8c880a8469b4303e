/*
 * kprintf - the kernel's formatted output to every console (serial, later the
 * framebuffer). Supports %d %i %u %x %X %p %s %c %%, the flags '0' '-' '#',
 * a field width (number or *), and the length modifiers l, ll, z (size_t).
 * Safe to call from any context once serial_init() ran; not re-entrant across
 * CPUs (Solo runs on one).
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
/* Writes raw bytes to every console (used for app output: no prefix, no formatting). */
void console_write(const char *buf, size_t len);
/* The screen console is up: what was logged before goes to it now. */
void console_screen_ready(void);
/* From now on kernel lines are shown as errors (red on screen): a panic report. */
void console_urgent(void);
