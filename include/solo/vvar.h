/*
 * The vDSO's data page ("vvar") and the one TSC-to-time conversion that the
 * kernel (kernel/time.c) and the vDSO (vdso/vdso.c) both use. Built into two
 * separate images, so it lives here with the other cross-image ABI.
 *
 * Both sides read the same TSC and turn it into time with the same integer
 * arithmetic from the same published numbers, so a clock read through the
 * vDSO and one through the syscall agree to the nanosecond, and
 * CLOCK_MONOTONIC never goes backwards from one path to the other. No
 * floating point (the kernel has none): a 64x64->128 multiply and a shift.
 *
 * The page is written only by the kernel (vdso_update), through its own
 * mapping; the app sees it read-only. seq is a sequence counter: odd while
 * the kernel writes; a reader retries when it saw an odd value or the value
 * changed under it. On one CPU the kernel never writes while the app runs,
 * so readers never retry today; with SMP a settimeofday on one CPU could.
 */
#pragma once

#include <stdint.h>

#define VVAR_VERSION 1

struct vvar {
	uint32_t seq;		   /* odd while the kernel writes */
	uint32_t version;	   /* VVAR_VERSION once published, 0 before */
	uint64_t tsc_base;	   /* the TSC at monotonic zero (kernel entry) */
	uint64_t ns_mult;	   /* ns = ticks * ns_mult >> 32 (vvar_ns_mult) */
	uint64_t realtime_base_ns; /* CLOCK_REALTIME at monotonic zero, ns since 1970 */
};

/* The multiplier for a clock of hz ticks per second; 0 for hz 0. Rounded
 * down, so time runs slow by at most hz / (1e9 * 2^32): 0.6 ppb at 2.5 GHz
 * (7 ms a year), far inside a TSC calibration's own error. */
static inline uint64_t vvar_ns_mult(uint64_t hz)
{
	return hz ? (1000000000ull << 32) / hz : 0;
}

/* ticks as nanoseconds at multiplier mult. */
static inline uint64_t vvar_ticks_ns(uint64_t ticks, uint64_t mult)
{
	return (uint64_t)(((unsigned __int128)ticks * mult) >> 32);
}

/* CLOCK_MONOTONIC in ns for a TSC reading (0 before monotonic zero). */
static inline uint64_t vvar_monotonic_ns(uint64_t tsc, uint64_t tsc_base, uint64_t mult)
{
	return tsc > tsc_base ? vvar_ticks_ns(tsc - tsc_base, mult) : 0;
}
