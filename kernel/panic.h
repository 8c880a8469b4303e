/*
 * panic - stop the machine on a broken kernel invariant.
 * Prints "solo: panic: <message>", a register dump and a stack trace on every
 * console, then halts (or powers off per boot.cfg). Never returns.
 * Use only for kernel bugs; expected failures are returned as -E... codes.
 * Host tests link a shim where panic() prints and calls abort().
 */
#pragma once

_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Checks an invariant that must hold in every build. */
#define KASSERT(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			panic("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond);           \
	} while (0)

/* Like panic(), for callers that have already printed a register report
 * (the exception handler): prints only the final line and stops. */
_Noreturn void panic_after_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
