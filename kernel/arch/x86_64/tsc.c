/*
 * TSC calibration against PIT channel 2.
 *
 * Channel 2's gate is bit 0 of port 0x61 and its output reads back as bit 5,
 * so it can be timed by polling, with no interrupt. In mode 0 (interrupt on
 * terminal count) the output goes high when the count written reaches zero:
 * the TSC read before the write and after the output rises spans count PIT
 * ticks of 1/1193182 s. The error is about one PIT tick (0.84 us) per run.
 *
 * Time is kept as a multiplier: ns = tsc * ns_mult >> 32, with a 128-bit
 * product (no division, and no libgcc in the kernel): include/solo/vvar.h's
 * conversion, the one kernel/time.c and the vDSO use.
 */
#include "kernel/arch/x86_64/tsc.h"

#include <solo/vvar.h>

#include "kernel/arch/x86_64/portio.h"
#include "kernel/arch/x86_64/cpu.h"

#define PIT_HZ		  1193182u
#define PIT_CH2_DATA	  0x42
#define PIT_MODE	  0x43
#define PIT_CH2_MODE0_BIN 0xb0 /* channel 2, low then high byte, mode 0, binary */
#define PORT_61		  0x61
#define PORT_61_GATE2	  0x01
#define PORT_61_SPEAKER	  0x02
#define PORT_61_OUT2	  0x20
#define CALIBRATE_US	  1000 /* per run: the PIT's 0.84 us is 0.08 % of it */
#define CALIBRATE_RUNS	  5
#define CALIBRATE_COUNT	  (PIT_HZ * CALIBRATE_US / 1000000)
#define MAX_POLLS	  50000000ul /* a PIT that never answers: give up */
#define FALLBACK_HZ	  1000000000ull

static uint64_t hz, ns_mult;
static const char *source = "none";

/* Returns TSC ticks per CALIBRATE_COUNT PIT ticks, or 0 if OUT2 never rose. */
static uint64_t pit_measure(void)
{
	uint8_t saved = inb(PORT_61);

	/* Gate low while programming, speaker off. */
	outb(PORT_61, saved & ~(PORT_61_GATE2 | PORT_61_SPEAKER));
	outb(PIT_MODE, PIT_CH2_MODE0_BIN);
	outb(PIT_CH2_DATA, CALIBRATE_COUNT & 0xff);
	outb(PIT_CH2_DATA, CALIBRATE_COUNT >> 8);

	uint64_t start = rdtsc();
	outb(PORT_61, (saved & ~PORT_61_SPEAKER) | PORT_61_GATE2); /* count from here */
	uint64_t polls = 0;
	while (!(inb(PORT_61) & PORT_61_OUT2) && polls < MAX_POLLS)
		polls++;
	uint64_t end = rdtsc();

	outb(PORT_61, saved);
	return polls < MAX_POLLS ? end - start : 0;
}

/* CPUID 0x15 (TSC/crystal ratio) or 0x16 (base MHz); 0 when not given. */
static uint64_t cpuid_hz(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	if (max_leaf >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0];
	}
	if (max_leaf >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0] & 0xffff)
			return (uint64_t)(r[0] & 0xffff) * 1000000;
	}
	return 0;
}

/*
 * The second shortest of CALIBRATE_RUNS short measurements. One long one is
 * at the mercy of the host under a virtual machine: a vCPU descheduled while
 * it polls sees the PIT's output late and counts the pause as TSC ticks (2x
 * readings were seen under load). That only ever lengthens a run, and it is
 * what goes wrong, so the short end of the runs is the truth; the second
 * shortest rather than the shortest, in case a run was cut short by a pause
 * between starting the PIT and reading the TSC (a few instructions apart).
 */
void tsc_calibrate(void)
{
	uint64_t runs[CALIBRATE_RUNS];

	for (int i = 0; i < CALIBRATE_RUNS; i++) {
		uint64_t ticks = pit_measure();
		int j = i;
		if (!ticks)
			break;
		while (j > 0 && runs[j - 1] > ticks) {
			runs[j] = runs[j - 1];
			j--;
		}
		runs[j] = ticks;
		if (i == CALIBRATE_RUNS - 1) {
			hz = runs[1] * PIT_HZ / CALIBRATE_COUNT;
			source = "PIT";
		}
	}
	if (!hz && (hz = cpuid_hz())) {
		source = "CPUID";
	} else if (!hz) {
		hz = FALLBACK_HZ;
		source = "guess";
	}
	ns_mult = vvar_ns_mult(hz);
}

uint64_t tsc_hz(void)
{
	return hz;
}

const char *tsc_source(void)
{
	return source;
}

uint64_t tsc_ns(uint64_t tsc)
{
	return vvar_ticks_ns(tsc, ns_mult);
}
