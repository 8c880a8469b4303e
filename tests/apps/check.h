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
#include <stdio.h>

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
