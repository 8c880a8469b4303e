/* Test app: "sleep MS" sleeps MS milliseconds with one nanosleep, prints
 * "sleep: asked MS ms, slept N us" (CLOCK_MONOTONIC) and exits 0; 1 when
 * the sleep failed or ended early. For the boot test that shows a sleep
 * halts the CPU instead of spinning (tests/boot/test_clocks.c). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long ms = argc > 1 ? atoll(argv[1]) : 0;
	struct timespec req = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	long long t0 = now_ns();
	int r = nanosleep(&req, NULL);
	long long slept = now_ns() - t0;

	printf("sleep: asked %lld ms, slept %lld us\n", ms, slept / 1000);
	return r || slept < ms * 1000000 ? 1 : 0;
}
