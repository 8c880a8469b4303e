/*
 * The TSC as the kernel's clock: its rate, measured once at boot against the
 * PIT (8254), and conversions to time. The TSC is assumed invariant (constant
 * rate, as on every x86-64 CPU Solo targets and under QEMU).
 */
#pragma once

#include <stdint.h>

/*
 * tsc_calibrate - measure the TSC rate. Once, at boot, interrupts off; takes
 * about 5 ms of PIT time. Falls back to CPUID leaf 0x15/0x16 when the PIT
 * does not answer, and to a 1 GHz guess when neither is there.
 */
void tsc_calibrate(void);

/* The TSC rate in Hz (0 before tsc_calibrate). */
uint64_t tsc_hz(void);

/* What tsc_hz came from: "PIT", "CPUID" or "guess". */
const char *tsc_source(void);

/* A count of TSC ticks as nanoseconds (0 before tsc_calibrate); as exact as
 * the measured rate. Any context: no division, no lock. */
uint64_t tsc_ns(uint64_t tsc);
