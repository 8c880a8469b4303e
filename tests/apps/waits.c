/*
 * waits: calls that wait, as a program sees them on Linux. Each check runs
 * with more than one thread where that is the point (a blocked reader must
 * not stop the others) and prints "waits: ok NAME" or "waits: FAIL ...";
 * the app exits with the number of failures. tests/boot/test_waits.c boots
 * it and lists the checks it expects.
 *
 * Modes (argv[1]):
 *   (none)    every check below
 *   console   a thread blocks reading the console (no input ever comes)
 *             while the main thread computes, then the app exits 0
 *   enospc    fills the RAM file system up to tmpfs_size (boot.cfg):
 *             writes end with ENOSPC, and space comes back with unlink
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PREFIX "waits"
#include "check.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Busy work the scheduler cannot see: a thread that computes. */
static volatile uint64_t sink;

static uint64_t compute(uint64_t ns)
{
	uint64_t end = now_ns() + ns, rounds = 0;

	while (now_ns() < end) {
		for (int i = 0; i < 1000; i++)
			sink += (uint64_t)i * rounds;
		rounds++;
	}
	return rounds;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- a blocked pipe reader */

struct reader {
	int fd;
	char buf[64];
	long got;
	uint64_t when; /* when read returned */
};

static void *read_once(void *arg)
{
	struct reader *r = arg;

	r->got = read(r->fd, r->buf, sizeof(r->buf));
	r->when = now_ns();
	return NULL;
}

static void pipe_reader_waits_while_another_thread_computes(void)
{
	int p[2];
	pthread_t t;
	struct reader r = {0};

	pipe(p);
	r.fd = p[0];
	pthread_create(&t, NULL, read_once, &r);
	uint64_t rounds = compute(100000000); /* 100 ms while the reader waits */
	uint64_t wrote = now_ns();
	write(p[1], "late", 4);
	pthread_join(t, NULL);
	CHECK("pipe_reader_waits_while_another_thread_computes",
	      rounds > 10 && r.got == 4 && !memcmp(r.buf, "late", 4) && r.when >= wrote);
	close(p[0]);
	close(p[1]);
}

/* A write larger than the pipe waits until a reader makes room. */
static void *drain(void *arg)
{
	int fd = *(int *)arg;
	static char buf[8192];
	long total = 0, n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return (void *)total;
}

static void big_write_waits_for_the_reader(void)
{
	int p[2];
	pthread_t t;
	void *total;
	size_t size = 1 << 20;
	char *big = malloc(size);

	memset(big, 'x', size);
	pipe(p);
	pthread_create(&t, NULL, drain, &p[0]);
	long n = write(p[1], big, size);
	close(p[1]);
	pthread_join(t, &total);
	CHECK("a_1_mib_write_waits_for_the_reader", n == (long)size && (long)total == (long)size);
	close(p[0]);
	free(big);
}

/* ---------------------------------------------------------------- signals and waits */

static volatile int alarms;
static int restart_pipe = -1;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	if (restart_pipe >= 0)
		write(restart_pipe, "r", 1); /* data for the restarted read */
}

static void handle_alarm(int flags)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void arm_ms(long ms)
{
	struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};

	setitimer(ITIMER_REAL, &it, NULL);
}

static void alarm_interrupts_a_read_with_eintr(void)
{
	int p[2];
	char c;

	pipe(p);
	handle_alarm(0);
	alarms = 0;
	arm_ms(50);
	long n = read(p[0], &c, 1);
	int err = errno;
	CHECK("alarm_interrupts_a_blocked_read_with_eintr", n == -1 && err == EINTR && alarms == 1);
	close(p[0]);
	close(p[1]);
}

static void sa_restart_restarts_the_read(void)
{
	int p[2];
	char c = 0;

	pipe(p);
	handle_alarm(SA_RESTART);
	alarms = 0;
	restart_pipe = p[1];
	arm_ms(50);
	long n = read(p[0], &c, 1);
	restart_pipe = -1;
	CHECK("sa_restart_restarts_the_read", n == 1 && c == 'r' && alarms == 1);
	close(p[0]);
	close(p[1]);
}

static void alarm_ends_nanosleep_with_the_time_left(void)
{
	struct timespec want = {5, 0}, left = {0, 0};

	handle_alarm(0);
	alarms = 0;
	arm_ms(50);
	int r = nanosleep(&want, &left);
	CHECK("alarm_ends_nanosleep_with_the_time_left",
	      r == -1 && errno == EINTR && alarms == 1 && left.tv_sec >= 4 && left.tv_sec <= 5);
}

static void alarm_wakes_pause_and_sigsuspend(void)
{
	sigset_t none, alrm, old;

	handle_alarm(0);
	alarms = 0;
	alarm(1);
	int r = pause();
	CHECK("alarm_wakes_pause", r == -1 && errno == EINTR && alarms == 1);

	/* sigsuspend with SIGALRM blocked around it: it only arrives inside. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, &old);
	arm_ms(30);
	sigemptyset(&none);
	r = sigsuspend(&none);
	sigset_t after;
	sigprocmask(SIG_SETMASK, NULL, &after);
	CHECK("sigsuspend_waits_with_its_mask_and_restores_the_old",
	      r == -1 && errno == EINTR && alarms == 2 && sigismember(&after, SIGALRM));
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void sigtimedwait_takes_a_blocked_signal(void)
{
	sigset_t set, old;
	siginfo_t info;
	struct timespec ten_ms = {0, 10000000};

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	int timed_out = sigtimedwait(&set, &info, &ten_ms) == -1 && errno == EAGAIN;
	kill(getpid(), SIGUSR1);
	int sig = sigtimedwait(&set, &info, NULL);
	CHECK("sigtimedwait_times_out_then_takes_a_pending_signal",
	      timed_out && sig == SIGUSR1 && info.si_signo == SIGUSR1 && info.si_code == SI_USER);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void setitimer_repeats(void)
{
	struct itimerval every = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}}, left;

	handle_alarm(SA_RESTART);
	alarms = 0;
	setitimer(ITIMER_REAL, &every, NULL);
	uint64_t end = now_ns() + 300000000;
	while (alarms < 5 && now_ns() < end)
		sleep_ms(5); /* each alarm may end a sleep early: that is fine */
	getitimer(ITIMER_REAL, &left);
	setitimer(ITIMER_REAL, &off, NULL);
	CHECK("setitimer_repeats_and_getitimer_reports_it",
	      alarms >= 5 && left.it_interval.tv_usec == 20000);
}

/* A POSIX timer aimed at one thread (SIGEV_THREAD_ID) reaches that one. */
static volatile pid_t usr2_tid;

static void on_usr2(int sig)
{
	(void)sig;
	usr2_tid = (pid_t)syscall(SYS_gettid);
}

static void *sleeper(void *arg)
{
	*(pid_t *)arg = (pid_t)syscall(SYS_gettid);
	for (int i = 0; i < 100 && !usr2_tid; i++)
		sleep_ms(5);
	return NULL;
}

static void timer_create_signals_one_thread(void)
{
	struct sigaction sa = {.sa_handler = on_usr2};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR2};
	struct itimerspec its = {{0, 0}, {0, 30000000}};
	timer_t timer;
	pthread_t t;
	volatile pid_t target = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	pthread_create(&t, NULL, sleeper, (void *)&target);
	while (!target)
		sched_yield();
	sev.sigev_notify_thread_id = target;
	int made = timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0;
	timer_settime(timer, 0, &its, NULL);
	pthread_join(t, NULL);
	timer_delete(timer);
	CHECK("timer_create_sigev_thread_id_signals_that_thread", made && usr2_tid == target);
}

/* ---------------------------------------------------------------- registers */

/*
 * A thread spins with a known value in every general register (and three
 * xmm registers) while another sends it signals and sleeps: the spinner is
 * preempted in ring 3, switched back in from the sleeper's syscall with a
 * signal pending, runs a handler, and must find every register as it was.
 * (This is how Go's runtime preempts goroutines.)
 */
static volatile int spinner_tid, spin_stop;
static volatile long spin_signals, spin_bad;

static void on_urg(int sig)
{
	(void)sig;
	spin_signals++;
}

static void *spin_with_known_registers(void *arg)
{
	(void)arg;
	spinner_tid = (int)syscall(SYS_gettid);
	while (!spin_stop) {
		long ok;
		__asm__ volatile(
		    "movq $0x1111, %%rbx\n movq $0x2222, %%rcx\n movq $0x3333, %%rdx\n"
		    "movq $0x4444, %%rsi\n movq $0x5555, %%rdi\n movq $0x8888, %%r8\n"
		    "movq $0x9999, %%r9\n movq $0xaaaa, %%r10\n movq $0xbbbb, %%r11\n"
		    "movq $0xcccc, %%r12\n movq $0xdddd, %%r13\n movq $0xeeee, %%r14\n"
		    "movq $0xffff, %%r15\n movq %%rbx, %%xmm0\n movq %%rcx, %%xmm1\n"
		    "movq %%r15, %%xmm15\n movl $200000, %%eax\n"
		    "1: decl %%eax\n jnz 1b\n"
		    "cmpq $0x1111, %%rbx\n jne 2f\n cmpq $0x2222, %%rcx\n jne 2f\n"
		    "cmpq $0x3333, %%rdx\n jne 2f\n cmpq $0x4444, %%rsi\n jne 2f\n"
		    "cmpq $0x5555, %%rdi\n jne 2f\n cmpq $0x8888, %%r8\n jne 2f\n"
		    "cmpq $0x9999, %%r9\n jne 2f\n cmpq $0xaaaa, %%r10\n jne 2f\n"
		    "cmpq $0xbbbb, %%r11\n jne 2f\n cmpq $0xcccc, %%r12\n jne 2f\n"
		    "cmpq $0xdddd, %%r13\n jne 2f\n cmpq $0xeeee, %%r14\n jne 2f\n"
		    "cmpq $0xffff, %%r15\n jne 2f\n movq %%xmm0, %%rbx\n cmpq $0x1111, %%rbx\n"
		    "jne 2f\n movq %%xmm1, %%rbx\n cmpq $0x2222, %%rbx\n jne 2f\n"
		    "movq %%xmm15, %%rbx\n cmpq $0xffff, %%rbx\n jne 2f\n"
		    "movl $1, %%eax\n jmp 3f\n"
		    "2: xorl %%eax, %%eax\n"
		    "3: movq %%rax, %0\n"
		    : "=m"(ok)
		    :
		    : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
		      "r13", "r14", "r15", "xmm0", "xmm1", "xmm15", "memory", "cc");
		if (!ok)
			spin_bad++;
	}
	return NULL;
}

static void signals_keep_a_spinning_threads_registers(void)
{
	struct sigaction sa = {.sa_handler = on_urg, .sa_flags = SA_RESTART};
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGURG, &sa, NULL);
	pthread_create(&t, NULL, spin_with_known_registers, NULL);
	while (!spinner_tid)
		sched_yield();
	for (int i = 0; i < 300; i++) {
		struct timespec ts = {0, 200000};
		syscall(SYS_tgkill, getpid(), spinner_tid, SIGURG);
		nanosleep(&ts, NULL);
	}
	spin_stop = 1;
	pthread_join(t, NULL);
	CHECK("signals_keep_a_spinning_threads_registers", spin_signals > 0 && spin_bad == 0);
}

/* ---------------------------------------------------------------- poll, select, epoll */

static void *write_later(void *arg)
{
	int fd = *(int *)arg;

	compute(30000000);
	write(fd, "!", 1);
	return NULL;
}

static void poll_and_select_wait_for_another_thread(void)
{
	int p[2];
	pthread_t t;
	char c;

	pipe(p);
	struct pollfd pfd = {p[0], POLLIN, 0};
	pthread_create(&t, NULL, write_later, &p[1]);
	int n = poll(&pfd, 1, 5000);
	pthread_join(t, NULL);
	CHECK("poll_waits_for_a_pipe_another_thread_writes",
	      n == 1 && (pfd.revents & POLLIN) && read(p[0], &c, 1) == 1);

	fd_set rset;
	FD_ZERO(&rset);
	FD_SET(p[0], &rset);
	struct timeval tv = {0, 20000};
	uint64_t start = now_ns();
	n = select(p[0] + 1, &rset, NULL, NULL, &tv);
	CHECK("select_times_out_after_its_timeout",
	      n == 0 && !FD_ISSET(p[0], &rset) && now_ns() - start >= 20000000);
	close(p[0]);
	close(p[1]);
}

static int epoll_count(int ep, int timeout)
{
	struct epoll_event ev[8];

	return epoll_wait(ep, ev, 8, timeout);
}

static void epoll_on_pipes(void)
{
	int p[2], ep = epoll_create1(EPOLL_CLOEXEC);
	char buf[8];

	pipe(p);
	struct epoll_event lt = {.events = EPOLLIN, .data.u32 = 1};
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &lt);
	write(p[1], "ab", 2);
	int first = epoll_count(ep, 0), second = epoll_count(ep, 0);
	read(p[0], buf, 2);
	int drained = epoll_count(ep, 0);
	CHECK("epoll_level_triggered_pipe_stays_ready_until_drained",
	      first == 1 && second == 1 && drained == 0);

	struct epoll_event et = {.events = EPOLLIN | EPOLLET, .data.u32 = 2};
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &et);
	write(p[1], "cd", 2);
	first = epoll_count(ep, 0);
	second = epoll_count(ep, 0);
	write(p[1], "e", 1);
	int again = epoll_count(ep, 0);
	read(p[0], buf, 3);
	CHECK("epoll_edge_triggered_pipe_is_reported_once_per_write",
	      first == 1 && second == 0 && again == 1);

	struct epoll_event once = {.events = EPOLLIN | EPOLLONESHOT};
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &once);
	write(p[1], "f", 1);
	first = epoll_count(ep, 0);
	second = epoll_count(ep, 0);
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &once);
	again = epoll_count(ep, 0);
	CHECK("epoll_oneshot_is_disarmed_until_mod", first == 1 && second == 0 && again == 1);

	close(p[1]);
	struct epoll_event ev;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &lt);
	int hup = epoll_wait(ep, &ev, 1, 0);
	CHECK("epoll_reports_hup_when_the_writer_closes", hup == 1 && (ev.events & EPOLLHUP));

	int file = open("/proc/uptime", O_RDONLY);
	CHECK("epoll_ctl_of_a_regular_file_is_eperm",
	      errno_of(epoll_ctl(ep, EPOLL_CTL_ADD, file, &lt), EPERM));
	close(file);
	close(p[0]);
	CHECK("closing_the_last_descriptor_removes_it", epoll_count(ep, 0) == 0);
	close(ep);
}

static void *post_event(void *arg)
{
	int fd = *(int *)arg;
	uint64_t one = 1;

	compute(30000000);
	write(fd, &one, sizeof(one));
	return NULL;
}

static void epoll_on_eventfd(void)
{
	int ep = epoll_create1(0), efd = eventfd(0, EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, got;
	pthread_t t;
	uint64_t v = 0;

	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	pthread_create(&t, NULL, post_event, &efd);
	uint64_t start = now_ns();
	int n = epoll_wait(ep, &got, 1, 5000);
	pthread_join(t, NULL);
	CHECK("epoll_wait_waits_for_an_eventfd_another_thread_writes",
	      n == 1 && got.data.u64 == 77 && now_ns() - start >= 20000000);
	CHECK("eventfd_read_takes_the_count",
	      read(efd, &v, 8) == 8 && v == 1 && errno_of(read(efd, &v, 8), EAGAIN));

	int sem = eventfd(3, EFD_SEMAPHORE);
	uint64_t a = 0, b = 0;
	read(sem, &a, 8);
	read(sem, &b, 8);
	CHECK("eventfd_semaphore_reads_one_at_a_time", a == 1 && b == 1);
	close(sem);

	struct epoll_event et = {.events = EPOLLIN | EPOLLET, .data.u64 = 78};
	epoll_ctl(ep, EPOLL_CTL_MOD, efd, &et);
	uint64_t one = 1;
	write(efd, &one, 8);
	int first = epoll_wait(ep, &got, 1, 0), second = epoll_wait(ep, &got, 1, 0);
	CHECK("epoll_edge_triggered_eventfd", first == 1 && second == 0);
	close(efd);
	close(ep);
}

static void timerfd_read_waits_for_expirations(void)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = {{0, 10000000}, {0, 10000000}};
	uint64_t count = 0;

	timerfd_settime(tfd, 0, &its, NULL);
	long n = read(tfd, &count, sizeof(count)); /* waits for the first */
	compute(35000000);
	uint64_t more = 0;
	long m = read(tfd, &more, sizeof(more)); /* three or so have passed */
	CHECK("timerfd_read_waits_then_counts_expirations",
	      n == 8 && count >= 1 && m == 8 && more >= 2);
	close(tfd);
}

/* ---------------------------------------------------------------- modes */

static void *console_reader(void *arg)
{
	char buf[16];

	(void)arg;
	read(0, buf, sizeof(buf)); /* no input ever comes */
	printf("waits: the console reader got input?\n");
	return NULL;
}

static int console_mode(void)
{
	pthread_t t;

	pthread_create(&t, NULL, console_reader, NULL);
	sleep_ms(20); /* the reader is waiting by now */
	uint64_t rounds = compute(200000000);
	printf("waits: computed %s while the console reader waited\n",
	       rounds > 10 ? "on" : "hardly");
	fflush(stdout);
	_exit(0); /* exit_group: the reader goes too */
}

static int enospc_mode(void)
{
	static char block[65536];
	struct statfs before, full;
	long total = 0, n = 0;
	int fd = open("/tmp/filler", O_CREAT | O_WRONLY | O_TRUNC, 0644);

	memset(block, 'z', sizeof(block));
	statfs("/tmp", &before);
	while ((n = write(fd, block, sizeof(block))) > 0)
		total += n;
	int err = errno;
	statfs("/tmp", &full);
	CHECK("writes_end_with_enospc_at_tmpfs_size", n == -1 && err == ENOSPC && total > 0);
	CHECK("statfs_shows_the_file_system_full", full.f_bfree == 0 && before.f_bfree > 0);
	CHECK("creating_more_is_enospc_too",
	      errno_of(write(open("/tmp/more", O_CREAT | O_WRONLY, 0644), block, 8192), ENOSPC));
	close(fd);
	unlink("/tmp/filler");
	fd = open("/tmp/again", O_CREAT | O_WRONLY, 0644);
	CHECK("unlink_gives_the_space_back",
	      write(fd, block, sizeof(block)) == (long)sizeof(block));
	close(fd);
	printf("waits: filled %ld KiB\n", total / 1024);
	printf("waits: %d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && !strcmp(argv[1], "console"))
		return console_mode();
	if (argc > 1 && !strcmp(argv[1], "enospc"))
		return enospc_mode();
	pipe_reader_waits_while_another_thread_computes();
	big_write_waits_for_the_reader();
	alarm_interrupts_a_read_with_eintr();
	sa_restart_restarts_the_read();
	alarm_ends_nanosleep_with_the_time_left();
	alarm_wakes_pause_and_sigsuspend();
	sigtimedwait_takes_a_blocked_signal();
	setitimer_repeats();
	timer_create_signals_one_thread();
	signals_keep_a_spinning_threads_registers();
	poll_and_select_wait_for_another_thread();
	epoll_on_pipes();
	epoll_on_eventfd();
	timerfd_read_waits_for_expirations();
	printf("waits: %d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures;
}
