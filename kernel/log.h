/*
 * Log levels for the boot log (boot.cfg log=quiet|info|debug). The lines of
 * the serial contract (solo: exit, solo: app killed, solo: panic) and errors
 * are printed with kprintf directly and never filtered.
 */
#pragma once

#include "kernel/kprintf.h"

enum log_level {
	LOG_QUIET = 0, /* only the serial contract and errors */
	LOG_INFO = 1,  /* the boot log (default) */
	LOG_DEBUG = 2, /* plus page-table and heap dumps */
};

extern enum log_level log_level;

#define kinfo(...)                                                                                 \
	do {                                                                                       \
		if (log_level >= LOG_INFO)                                                         \
			kprintf(__VA_ARGS__);                                                      \
	} while (0)
#define kdebug(...)                                                                                \
	do {                                                                                       \
		if (log_level >= LOG_DEBUG)                                                        \
			kprintf(__VA_ARGS__);                                                      \
	} while (0)
