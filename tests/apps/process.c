/*
 * process: the long tail of calls a single-threaded Linux program makes
 * about itself and its descriptors (identity, limits, usage, poll/select,
 * sendfile, futex, read-only file changes, /dev, /proc), through musl as any static
 * program uses them. tests/boot/test_files.c packs /etc/hello.txt
 * ("hello, file\n"). Prints "process: ok NAME" per check, "process: FAIL
 * ..." on a failure, and exits with the number of failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PREFIX "process"
#include "check.h"

/* <linux/futex.h> is not in musl's headers. */
#define FUTEX_WAIT	   0
#define FUTEX_WAKE	   1
#define FUTEX_PRIVATE_FLAG 128

static volatile int sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes += sig == SIGPIPE;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void identity(void)
{
	uid_t r = 1, e = 1, s = 1;
	char name[16] = "";

	CHECK("umask_returns_the_old_mask", umask(027) == 022 && umask(0) == 027);
	CHECK("own_group_and_session", getpgrp() == 1 && getpgid(0) == 1 && getsid(0) == 1);
	CHECK("setsid_is_eperm_for_a_leader", errno_of(setsid(), EPERM));
	CHECK("getresuid_is_root", getresuid(&r, &e, &s) == 0 && !r && !e && !s);
	CHECK("no_supplementary_groups", getgroups(0, NULL) == 0);
	CHECK("prctl_name_round_trips", prctl(PR_SET_NAME, "worker") == 0 &&
					    prctl(PR_GET_NAME, name) == 0 &&
					    !strcmp(name, "worker"));
	errno = 0;
	CHECK("nice_is_0", getpriority(PRIO_PROCESS, 0) == 0 && errno == 0);
	CHECK("personality_is_linux", personality(0xffffffff) == 0);
	/* musl answers sched_getscheduler itself (ENOSYS), so ask the kernel. */
	CHECK("scheduler_is_other", syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);

	/* musl counts the caller's affinity: ask before pinning. */
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK("affinity_cpu0_is_accepted", sched_setaffinity(0, sizeof(set), &set) == 0);
	/* A set of no CPU that runs: the one past the last. */
	CPU_ZERO(&set);
	CPU_SET((int)ncpus, &set);
	CHECK("affinity_without_a_running_cpu_is_einval",
	      errno_of(sched_setaffinity(0, sizeof(set), &set), EINVAL));
	CPU_ZERO(&set);
	for (int c = 0; c < ncpus; c++)
		CPU_SET(c, &set);
	CHECK("affinity_back_to_every_cpu", sched_setaffinity(0, sizeof(set), &set) == 0 &&
						sysconf(_SC_NPROCESSORS_ONLN) == ncpus);
	CHECK("wait_has_no_children", errno_of(wait(NULL), ECHILD));
}

static void usage(void)
{
	struct rusage before, after;
	struct tms t;
	struct sysinfo info;
	volatile unsigned long spin = 0;

	CHECK("getrusage_self", getrusage(RUSAGE_SELF, &before) == 0 && before.ru_maxrss > 0);
	for (unsigned long i = 0; i < 20000000; i++)
		spin += i;
	getrusage(RUSAGE_SELF, &after);
	CHECK("cpu_time_grows", after.ru_utime.tv_sec * 1000000L + after.ru_utime.tv_usec >
				    before.ru_utime.tv_sec * 1000000L + before.ru_utime.tv_usec);
	CHECK("times_counts_ticks", times(&t) > 0 && t.tms_cutime == 0);
	CHECK("sysinfo_has_ram_and_one_process",
	      sysinfo(&info) == 0 && info.procs == 1 && info.freeram <= info.totalram &&
		  (uint64_t)info.totalram * info.mem_unit > (16u << 20));
	CHECK("mlock_is_a_noop", mlock((void *)&spin, sizeof(spin)) == 0);

	/* Each fresh page touched is a minor fault (Linux may count a few
	 * more: its own, of the stack or of getrusage's buffer). */
	enum { PAGES = 64 };
	char *fresh =
	    mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	getrusage(RUSAGE_SELF, &before);
	for (int i = 0; fresh != MAP_FAILED && i < PAGES; i++)
		fresh[i * 4096] = 1;
	getrusage(RUSAGE_SELF, &after);
	CHECK("minflt_counts_each_page_touched",
	      fresh != MAP_FAILED && after.ru_minflt - before.ru_minflt >= PAGES &&
		  after.ru_minflt - before.ru_minflt < PAGES + 8);
}

static void files(void)
{
	char buf[64] = "";
	struct statfs fs;
	int fd = open("/etc/hello.txt", O_RDONLY);

	CHECK("fsync_a_file", fd >= 0 && fsync(fd) == 0 && fdatasync(fd) == 0);
	/* As on Linux: fd is not open for writing, whatever the file system. */
	CHECK("ftruncate_of_a_read_only_fd_is_einval", errno_of(ftruncate(fd, 0), EINVAL));
	CHECK("fchmod_is_erofs", errno_of(fchmod(fd, 0600), EROFS));
	CHECK("chmod_is_erofs", errno_of(chmod("/etc/hello.txt", 0600), EROFS));
	CHECK("chmod_missing_is_enoent", errno_of(chmod("/etc/missing", 0600), ENOENT));
	CHECK("utimensat_is_erofs",
	      errno_of(utimensat(AT_FDCWD, "/etc/hello.txt", NULL, 0), EROFS));
	CHECK("flock_is_granted", flock(fd, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0);
	struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	CHECK("read_lock_is_granted", fcntl(fd, F_SETLK, &lk) == 0);
	lk.l_type = F_WRLCK;
	CHECK("getlk_finds_no_conflict", fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type == F_UNLCK);
	lk.l_type = F_WRLCK;
	CHECK("write_lock_needs_a_writable_fd", errno_of(fcntl(fd, F_SETLK, &lk), EBADF));
	CHECK("statfs_root_is_read_only",
	      statfs("/", &fs) == 0 && (fs.f_flags & ST_RDONLY) && fs.f_bsize == 4096);
	CHECK("fstatfs", fstatfs(fd, &fs) == 0 && fs.f_blocks >= 1);

	off_t off = 0;
	printf("process: sendfile says ");
	fflush(stdout);
	CHECK("sendfile_to_console", sendfile(1, fd, &off, 100) == 12 && off == 12);

	int p[2];
	CHECK("pipe", pipe(p) == 0);
	lseek(fd, 7, SEEK_SET);
	CHECK("sendfile_to_pipe_from_the_position",
	      sendfile(p[1], fd, NULL, 100) == 5 && read(p[0], buf, sizeof(buf)) == 5 &&
		  !memcmp(buf, "file\n", 5) && lseek(fd, 0, SEEK_CUR) == 12);

	struct pollfd pfd[3] = {{p[0], POLLIN, 0}, {fd, POLLIN, 0}, {1, POLLOUT, 0}};
	CHECK("poll_file_and_console_ready", poll(pfd, 3, 0) == 2 && pfd[0].revents == 0 &&
						 (pfd[1].revents & POLLIN) &&
						 (pfd[2].revents & POLLOUT));
	double t0 = now_ms();
	CHECK("poll_times_out", poll(pfd, 1, 50) == 0 && now_ms() - t0 >= 49);
	write(p[1], "x", 1);
	int waiting = -1;
	CHECK("fionread_counts_pipe_bytes", ioctl(p[0], FIONREAD, &waiting) == 0 && waiting == 1);
	CHECK("poll_sees_pipe_data", poll(pfd, 1, -1) == 1 && (pfd[0].revents & POLLIN));
	struct pollfd bad = {999, POLLIN, 0};
	CHECK("poll_bad_fd_is_pollnval", poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL);

	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, 0};
	CHECK("select_sees_pipe_data",
	      select(p[0] + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &rd));
	read(p[0], buf, 1);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv = (struct timeval){0, 30000};
	t0 = now_ms();
	CHECK("select_times_out", select(p[0] + 1, &rd, NULL, NULL, &tv) == 0 &&
				      !FD_ISSET(p[0], &rd) && now_ms() - t0 >= 29);
	FD_ZERO(&rd);
	FD_SET(200, &rd);
	CHECK("select_bad_fd_is_ebadf", errno_of(select(201, &rd, NULL, NULL, &tv), EBADF));
	close(p[1]);
	pfd[0].events = POLLIN;
	CHECK("poll_hangup_without_writers", poll(pfd, 1, 0) == 1 && (pfd[0].revents & POLLHUP));
	close(p[0]);
	close(fd);

	CHECK("pipe2", pipe(p) == 0);
	close(p[0]);
	signal(SIGPIPE, on_sigpipe);
	CHECK("write_without_readers_is_epipe_and_sigpipe",
	      errno_of(write(p[1], "x", 1), EPIPE) && sigpipes == 1);
	signal(SIGPIPE, SIG_IGN);
	CHECK("ignored_sigpipe_leaves_epipe",
	      errno_of(write(p[1], "x", 1), EPIPE) && sigpipes == 1);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
}

static void devices(void)
{
	unsigned char buf[64];
	struct stat st;
	int fd = open("/dev/null", O_RDWR);

	CHECK("dev_null_reads_eof_and_takes_writes",
	      fd >= 0 && read(fd, buf, sizeof(buf)) == 0 && write(fd, "gone", 4) == 4);
	CHECK("dev_null_is_char_1_3", fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
					  major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
	close(fd);
	memset(buf, 0xff, sizeof(buf));
	fd = open("/dev/zero", O_RDONLY);
	CHECK("dev_zero_reads_zeroes",
	      fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 && buf[63] == 0);
	close(fd);
	unsigned char a[16] = {0}, b[16] = {0};
	fd = open("/dev/urandom", O_RDONLY);
	CHECK("dev_urandom_differs_each_read",
	      fd >= 0 && read(fd, a, 16) == 16 && read(fd, b, 16) == 16 && memcmp(a, b, 16));
	close(fd);
	CHECK("stat_dev_null", stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	CHECK("access_dev_null_w_ok", access("/dev/null", W_OK) == 0);
	FILE *tty = fopen("/dev/tty", "w");
	CHECK("dev_tty_is_the_console", tty && isatty(fileno(tty)));
	if (tty) {
		fprintf(tty, "process: said on /dev/tty\n");
		fclose(tty);
	}
	CHECK("dev_missing_is_enoent", errno_of(open("/dev/nothing", O_RDONLY), ENOENT));
}

static void proc_files(void)
{
	char text[1024] = "";
	struct stat st;
	int fd = open("/proc/meminfo", O_RDONLY);
	long n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	unsigned long total = 0;

	CHECK("proc_meminfo_has_memtotal",
	      n > 0 && sscanf(text, "MemTotal: %lu kB", &total) == 1 && total > 16 * 1024);
	CHECK("proc_file_seeks", fd >= 0 && lseek(fd, 3, SEEK_SET) == 3 && read(fd, text, 5) == 5 &&
				     !memcmp(text, "Total", 5));
	close(fd);
	FILE *mounts = fopen("/proc/mounts", "r");
	CHECK("proc_mounts_lists_root", mounts && fgets(text, sizeof(text), mounts) &&
					    strstr(text, " / ") && strstr(text, " ro"));
	if (mounts)
		fclose(mounts);
	CHECK("proc_file_is_regular_and_empty",
	      stat("/proc/uptime", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
	CHECK("proc_file_write_is_eacces", errno_of(open("/proc/meminfo", O_WRONLY), EACCES));
	CHECK("proc_missing_is_enoent", errno_of(open("/proc/nothing", O_RDONLY), ENOENT));
	/* "0" on one CPU, "0-N" on more (they are numbered from 0 up). */
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char want[32];
	int wlen = ncpus == 1 ? snprintf(want, sizeof(want), "0\n")
			      : snprintf(want, sizeof(want), "0-%ld\n", ncpus - 1);
	fd = open("/sys/devices/system/cpu/online", O_RDONLY);
	CHECK("sys_cpu_online_lists_the_cpus",
	      fd >= 0 && read(fd, text, sizeof(text)) == wlen && !memcmp(text, want, (size_t)wlen));
	close(fd);
}

static void futexes(void)
{
	uint32_t word = 5;
	struct timespec ts = {0, 20 * 1000000};
	sem_t sem;

	CHECK("futex_wake_finds_no_waiter",
	      syscall(SYS_futex, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) == 0);
	CHECK("futex_wait_on_a_changed_word_is_eagain",
	      errno_of(syscall(SYS_futex, &word, FUTEX_WAIT, 4, &ts, NULL, 0), EAGAIN));
	double t0 = now_ms();
	CHECK("futex_wait_times_out",
	      errno_of(syscall(SYS_futex, &word, FUTEX_WAIT, 5, &ts, NULL, 0), ETIMEDOUT) &&
		  now_ms() - t0 >= 19);
	CHECK("sem_init", sem_init(&sem, 0, 0) == 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 30 * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	t0 = now_ms();
	CHECK("sem_timedwait_times_out",
	      errno_of(sem_timedwait(&sem, &ts), ETIMEDOUT) && now_ms() - t0 >= 29);
	CHECK("sem_post_then_wait", sem_post(&sem) == 0 && sem_wait(&sem) == 0);
}

int main(void)
{
	identity();
	usage();
	files();
	devices();
	proc_files();
	futexes();
	printf("process: %d failures\n", failures);
	return failures;
}
