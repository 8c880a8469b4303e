/*
 * strace - the `strace=1` boot option: one log line per syscall the app
 * makes, with its arguments and result, e.g.
 *
 *   solo: strace: openat(AT_FDCWD, "/data.txt", 0x0, 0) = 3
 *   solo: strace: read(3, "line one\n", 4096) = 9
 *   solo: strace: open("/nope", 0x0, 0) = -2 ENOENT
 *   solo: strace: exit_group(0) = ?
 *
 * How each argument prints comes from a format string in the dispatch table
 * (kernel/syscall.c), one character per argument after the return type and
 * a ':':
 *   d  int, decimal               D  a dirfd: AT_FDCWD or decimal
 *   u  unsigned size, decimal     l  a signed 64-bit offset, decimal
 *   x  flags or a pointer, hex
 *   o  mode, octal                s  a path: the app's string, quoted
 *   w  bytes the app passes in; the next argument is their length
 *   r  bytes the kernel fills in; their length is the call's result
 * and the return type is 'd' (decimal) or 'x' (an address, hex). Strings
 * and buffers are read through the app's page tables; an unreadable one
 * prints as its address. Long ones are cut to STRACE_SHOW_BYTES with "...".
 */
#pragma once

#include <stdint.h>

#define STRACE_SHOW_BYTES 48

/* Nonzero once strace=1 was given; the dispatcher checks it per call. */
extern int strace_enabled;

/* The line for a call that returned ret. fmt may be NULL (hex args). */
void strace_print(const char *name, const char *fmt, const uint64_t args[6], long ret);

/* The line for a call that does not return (exit, exit_group): "= ?". */
void strace_print_noreturn(const char *name, const char *fmt, const uint64_t args[6]);
