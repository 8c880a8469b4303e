/*
 * check.h - the checks of the test apps that run many small cases in one
 * boot (files, mmap, process): each case prints "PREFIX: ok NAME" or
 * "PREFIX: FAIL NAME (condition) errno=E line L"; the app ends with the
 * number of failures as its exit status, which the boot tests read.
 *
 * Define CHECK_PREFIX (a string literal) before including this header.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CHECK_PREFIX
#error "define CHECK_PREFIX before including check.h"
#endif

static int failures;

#define CHECK(name, cond)                                                                          \
	do {                                                                                       \
		if (cond)                                                                          \
			printf(CHECK_PREFIX ": ok %s\n", name);                                    \
		else {                                                                             \
			printf(CHECK_PREFIX ": FAIL %s (%s) errno=%d line %d\n", name, #cond,      \
			       errno, __LINE__);                                                   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* True when a libc call failed (-1) with errno want. */
static inline int errno_of(long ret, int want)
{
	return ret == -1 && errno == want;
}

/* A field of a /proc file in kB ("MemFree:" of /proc/meminfo, "VmRSS:" of
 * /proc/self/status), or -1. */
static inline long proc_kb(const char *file, const char *field)
{
	static char buf[4096];
	int fd = open(file, O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *at = strstr(buf, field);
	return at ? strtol(at + strlen(field), NULL, 10) : -1;
}
