/*
 * make bench: the static program's first line and its resident pages, the
 * same figures bench/first_line.py gives for Python: CLOCK_MONOTONIC read
 * just before the first line is written (and, as a check of the Makefile's
 * conversion from ns to TSC, the TSC itself), then VmRSS from
 * /proc/self/status just before the exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int main(void)
{
	struct timespec ts;
	char line[256];
	long rss = -1;

	/* Once before, so that the pair below is back to back (musl looks the
	 * vDSO up on its first call). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = tsc();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("bench: static_first_line_ns %lld\n",
	       (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec);
	fflush(stdout);
	printf("bench: static_first_line_tsc %llu tsc\n", (unsigned long long)t);
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			sscanf(line + 6, "%ld", &rss);
	if (f)
		fclose(f);
	printf("bench: static_rss_kb %ld\n", rss);
	return 0;
}
