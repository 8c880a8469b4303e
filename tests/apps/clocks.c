/* Test app: the time and randomness syscalls (issue 5). Prints one
 * "clocks: ok NAME" or "clocks: FAIL NAME ..." line per check, then
 * "clocks: N failures", and exits with the number of failures. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *name, const char *detail)
{
	if (ok) {
		printf("clocks: ok %s\n", name);
	} else {
		printf("clocks: FAIL %s %s\n", name, detail);
		failures++;
	}
}

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts))
		return -1;
	return ns_of(&ts);
}

static volatile long alarms, timer_signals;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_timer(int sig)
{
	(void)sig;
	timer_signals++;
}

/*
 * Periods of 1 ns on a timerfd, a POSIX timer and ITIMER_REAL (1 us, its
 * finest) at once: the app must still run (a busy 200 ms ends, with most
 * of its loop iterations done), and the expiries the kernel did not run one
 * by one are still counted (the timerfd's ticks, the overruns).
 */
static void check_tiny_periods_leave_the_app_running(void)
{
	char detail[200];
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct sigaction st = {.sa_handler = on_timer, .sa_flags = SA_RESTART};
	struct itimerspec ns1 = {{0, 1}, {0, 1}}, off = {{0, 0}, {0, 0}};
	struct itimerval us1 = {{0, 1}, {0, 1}}, ioff = {{0, 0}, {0, 0}};
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	timer_t posix;
	uint64_t ticks = 0;

	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &st, NULL);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int made = tfd >= 0 && !timer_create(CLOCK_MONOTONIC, &sev, &posix);
	int armed = made && !timerfd_settime(tfd, 0, &ns1, NULL) &&
		    !timer_settime(posix, 0, &ns1, NULL) && !setitimer(ITIMER_REAL, &us1, NULL);
	int64_t start = now_ns(CLOCK_MONOTONIC), end = start + 200000000;
	long loops = 0;
	while (armed && now_ns(CLOCK_MONOTONIC) < end)
		loops++;
	int overrun = made ? timer_getoverrun(posix) : -1;
	int got = tfd >= 0 && read(tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks);
	setitimer(ITIMER_REAL, &ioff, NULL);
	if (made) {
		timer_settime(posix, 0, &off, NULL);
		timer_delete(posix);
	}
	if (tfd >= 0)
		close(tfd);
	int64_t took = now_ns(CLOCK_MONOTONIC) - start;
	snprintf(detail, sizeof(detail),
		 "armed=%d loops=%ld took=%lld ns ticks=%llu overrun=%d alarms=%ld signals=%ld",
		 armed, loops, (long long)took, (unsigned long long)ticks, overrun, alarms,
		 timer_signals);
	printf("clocks: tiny periods: %s\n", detail);
	/* Each tick is a nanosecond: the ticks cover most of the 200 ms. */
	check(armed && got && loops > 1000 && ticks > 100000000 && overrun > 0 && alarms > 0 &&
		  timer_signals > 0,
	      "tiny_periods_leave_the_app_running", detail);
}

int main(void)
{
	char detail[160];

	/* Monotonic never goes backwards. */
	int64_t prev = now_ns(CLOCK_MONOTONIC), back = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t t = now_ns(CLOCK_MONOTONIC);
		if (t < prev)
			back++;
		prev = t;
	}
	snprintf(detail, sizeof(detail), "backwards=%lld", (long long)back);
	check(prev > 0 && !back, "monotonic_never_goes_backwards", detail);

	/* nanosleep(20 ms) takes 20 ms to 2 s. */
	struct timespec req = {0, 20 * 1000 * 1000};
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	int r = nanosleep(&req, NULL);
	int64_t slept = now_ns(CLOCK_MONOTONIC) - t0;
	snprintf(detail, sizeof(detail), "r=%d slept=%lld ns", r, (long long)slept);
	check(!r && slept >= 20000000 && slept <= 2000000000LL, "nanosleep_20ms", detail);

	/* clock_nanosleep, relative and absolute. */
	t0 = now_ns(CLOCK_MONOTONIC);
	req.tv_nsec = 5 * 1000 * 1000;
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
	slept = now_ns(CLOCK_MONOTONIC) - t0;
	snprintf(detail, sizeof(detail), "r=%d slept=%lld ns", r, (long long)slept);
	check(!r && slept >= 5000000, "clock_nanosleep_relative", detail);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 5 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	int64_t after = now_ns(CLOCK_MONOTONIC);
	snprintf(detail, sizeof(detail), "r=%d", r);
	check(!r && after >= ns_of(&until), "clock_nanosleep_abstime", detail);

	/* Realtime is between 2024-01-01 and 2100-01-01. */
	struct timespec real;
	r = clock_gettime(CLOCK_REALTIME, &real);
	snprintf(detail, sizeof(detail), "r=%d sec=%lld", r, (long long)real.tv_sec);
	check(!r && real.tv_sec > 1704067200 && real.tv_sec < 4102444800LL, "realtime_is_plausible",
	      detail);
	printf("clocks: realtime %lld\n", (long long)real.tv_sec);

	time_t t_ptr = 0, t = time(&t_ptr);
	snprintf(detail, sizeof(detail), "time=%lld ptr=%lld real=%lld", (long long)t,
		 (long long)t_ptr, (long long)real.tv_sec);
	check(t == t_ptr && t >= real.tv_sec - 2 && t <= real.tv_sec + 2 &&
		  time(NULL) >= real.tv_sec - 2,
	      "time_matches_realtime", detail);

	struct timeval tv;
	r = gettimeofday(&tv, NULL);
	clock_gettime(CLOCK_REALTIME, &real);
	snprintf(detail, sizeof(detail), "r=%d tv=%lld.%06ld real=%lld", r, (long long)tv.tv_sec,
		 (long)tv.tv_usec, (long long)real.tv_sec);
	check(!r && tv.tv_usec >= 0 && tv.tv_usec < 1000000 && tv.tv_sec <= real.tv_sec &&
		  tv.tv_sec >= real.tv_sec - 1,
	      "gettimeofday_matches_realtime", detail);

	/* Every supported clock has a positive resolution. */
	static const clockid_t ids[] = {
	    CLOCK_REALTIME,	     CLOCK_MONOTONIC,	  CLOCK_PROCESS_CPUTIME_ID,
	    CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
	    CLOCK_BOOTTIME};
	int res_ok = 1;
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct timespec res = {-1, -1};
		if (clock_getres(ids[i], &res) || res.tv_sec < 0 || res.tv_nsec < 0 ||
		    (res.tv_sec == 0 && res.tv_nsec == 0)) {
			snprintf(detail, sizeof(detail), "clock %d", (int)ids[i]);
			res_ok = 0;
			break;
		}
		struct timespec ts;
		if (clock_gettime(ids[i], &ts)) {
			snprintf(detail, sizeof(detail), "gettime clock %d", (int)ids[i]);
			res_ok = 0;
			break;
		}
	}
	check(res_ok, "clock_getres_is_positive", detail);

	/* CPU time increases while the app runs. */
	int64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (volatile int i = 0; i < 1000000; i++)
		;
	int64_t c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	snprintf(detail, sizeof(detail), "%lld -> %lld", (long long)c0, (long long)c1);
	check(c0 >= 0 && c1 > c0, "process_cputime_increases", detail);

	/* getrandom fills the buffer; two calls differ. */
	unsigned char a[64], b[64], zero[64] = {0};
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ssize_t na = getrandom(a, sizeof(a), 0), nb = getrandom(b, sizeof(b), GRND_NONBLOCK);
	snprintf(detail, sizeof(detail), "na=%zd nb=%zd", na, nb);
	check(na == 64 && nb == 64 && memcmp(a, zero, 64) && memcmp(a, b, 64),
	      "getrandom_fills_and_differs", detail);
	long rr = syscall(SYS_getrandom, a, 16, 0x80);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EINVAL, "getrandom_bad_flags_einval", detail);

	/* Bad pointers and bad values, through raw syscalls. */
	void *bad = (void *)0x10;
	errno = 0;
	rr = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EFAULT, "clock_gettime_bad_pointer_efault", detail);
	errno = 0;
	rr = syscall(SYS_nanosleep, bad, NULL);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EFAULT, "nanosleep_bad_pointer_efault", detail);
	errno = 0;
	rr = syscall(SYS_getrandom, bad, 16, 0);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EFAULT, "getrandom_bad_pointer_efault", detail);
	errno = 0;
	rr = syscall(SYS_time, bad);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EFAULT, "time_bad_pointer_efault", detail);
	errno = 0;
	rr = syscall(SYS_gettimeofday, bad, NULL);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EFAULT, "gettimeofday_bad_pointer_efault", detail);
	struct timespec bad_nsec = {0, 1000000000};
	errno = 0;
	rr = syscall(SYS_nanosleep, &bad_nsec, NULL);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EINVAL, "nanosleep_bad_nsec_einval", detail);
	struct timespec ts;
	errno = 0;
	rr = syscall(SYS_clock_gettime, 12345, &ts);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EINVAL, "unknown_clock_einval", detail);
	errno = 0;
	rr = syscall(SYS_clock_getres, 12345, &ts);
	snprintf(detail, sizeof(detail), "r=%ld errno=%d", rr, errno);
	check(rr == -1 && errno == EINVAL, "unknown_clock_getres_einval", detail);

	check_tiny_periods_leave_the_app_running();

	printf("clocks: %d failures\n", failures);
	return failures;
}
