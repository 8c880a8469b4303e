/*
 * In-guest benchmark (make bench): the cost of entering the kernel, of a
 * clock read through the vDSO against the syscall, and of the app's memory
 * operations, measured with the TSC inside the guest.
 * Under QEMU's -icount shift=0 (make bench ICOUNT=1) the guest TSC counts
 * guest instructions, so the figures repeat run to run and compare with the
 * instruction counts quoted for Linux 6.1 in the same QEMU setup.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include "solo.h"

#define PAGE 4096ul

/* Linux 6.1 (Debian, no PTI), same QEMU, -icount shift=0: guest instructions. */
#define LINUX_GETPID	      311.0
#define LINUX_DEMAND_FAULT    6936.0
#define LINUX_MAP_TOUCH_UNMAP 23186.0

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline long raw_getpid(void)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(SYS_getpid) : "rcx", "r11", "memory");
	return ret;
}

static inline long raw_clock_gettime(clockid_t id, struct timespec *ts)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(SYS_clock_gettime), "D"(id), "S"(ts)
			 : "rcx", "r11", "memory");
	return ret;
}

static void report(const char *name, double per_op, double linux_figure)
{
	printf("bench: %s %.0f tsc/op\n", name, per_op);
	printf("bench: %s_vs_linux %.3f x\n", name, per_op / linux_figure);
}

int main(void)
{
	/* First thing: the TSC at the app's entry, for the boot instruction count
	 * (the Makefile subtracts the stub-entry TSC from the kernel's log). */
	uint64_t boot_tsc = tsc();
	const int calls = 20000, faults = 4096, maps = 2000;

	printf("bench: boot_to_app_tsc %llu tsc\n", (unsigned long long)boot_tsc);

	/* Null syscall round trip. */
	for (int i = 0; i < 100; i++)
		raw_getpid();
	uint64_t t0 = tsc();
	for (int i = 0; i < calls; i++)
		raw_getpid();
	report("null_syscall", (double)(tsc() - t0) / calls, LINUX_GETPID);

	/* clock_gettime(CLOCK_MONOTONIC): musl's, which takes the vDSO (issue
	 * 12), against the syscall itself. */
	struct timespec ts;
	if (!getauxval(AT_SYSINFO_EHDR))
		printf("bench: no vDSO (AT_SYSINFO_EHDR missing): libc takes the syscall\n");
	for (int i = 0; i < 100; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = tsc();
	for (int i = 0; i < calls; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	double vdso = (double)(tsc() - t0) / calls;
	for (int i = 0; i < 100; i++)
		raw_clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = tsc();
	for (int i = 0; i < calls; i++)
		raw_clock_gettime(CLOCK_MONOTONIC, &ts);
	double sys = (double)(tsc() - t0) / calls;
	printf("bench: vdso_clock_gettime %.0f tsc/op\n", vdso);
	printf("bench: syscall_clock_gettime %.0f tsc/op\n", sys);
	printf("bench: vdso_vs_syscall %.3f x\n", vdso / sys);

	/* Demand-zero page fault: first touch of each page of a fresh mapping. */
	struct solo_range r = solo_map_memory(0, 0, faults * PAGE, SOLO_MAP_WRITE);
	if (r.error) {
		printf("bench: map failed %ld\n", r.error);
		return 1;
	}
	t0 = tsc();
	for (int i = 0; i < faults; i++)
		((volatile char *)r.base)[i * PAGE] = 1;
	report("demand_zero_fault", (double)(tsc() - t0) / faults, LINUX_DEMAND_FAULT);
	solo_unmap_memory(r);

	/* map + touch + unmap of one page. */
	t0 = tsc();
	for (int i = 0; i < maps; i++) {
		struct solo_range one = solo_map_memory(0, 0, PAGE, SOLO_MAP_WRITE);
		((volatile char *)one.base)[0] = 1;
		solo_unmap_memory(one);
	}
	report("map_touch_unmap", (double)(tsc() - t0) / maps, LINUX_MAP_TOUCH_UNMAP);
	return 0;
}
