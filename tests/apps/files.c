/*
 * files: the file and process syscalls, through musl as any static Linux
 * program uses them. tests/boot/test_files.c packs this rootfs:
 *   /etc/hello.txt   "hello, file\n"
 *   /data/a.txt      "alpha\n"          /data/sub/b.txt  "beta\n"
 *   /data/link -> a.txt                 /data/up -> ../etc
 * Prints "files: ok NAME" per check, "files: FAIL ..." on a failure, and
 * exits with the number of failures.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#define CHECK_PREFIX "files"
#include "check.h"

/* Reads all of path (at most size - 1 bytes) into buf; -1 on error. */
static long slurp_at(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int main(void)
{
	char buf[256];
	struct stat st;

	/* Regular files: read, fstat, lseek, pread. */
	int fd = open("/etc/hello.txt", O_RDONLY | O_CLOEXEC);
	CHECK("open", fd >= 3);
	CHECK("read", read(fd, buf, sizeof(buf)) == 12 && !memcmp(buf, "hello, file\n", 12));
	CHECK("read_at_eof", read(fd, buf, sizeof(buf)) == 0);
	CHECK("fstat", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 12);
	CHECK("lseek",
	      lseek(fd, 7, SEEK_SET) == 7 && read(fd, buf, 5) == 5 && !memcmp(buf, "file\n", 5));
	CHECK("pread", pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "hello", 5));
	CHECK("cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK("write_to_read_only_fd_is_ebadf", errno_of(write(fd, "x", 1), EBADF));
	int fd2 = dup(fd);
	CHECK("dup_shares_offset", fd2 > fd && lseek(fd2, 0, SEEK_CUR) == 12);
	CHECK("dup2", dup2(fd, 20) == 20 && close(20) == 0 && close(fd2) == 0);
	close(fd);

	/* Directories and listing. */
	CHECK("stat_dir", stat("/data", &st) == 0 && S_ISDIR(st.st_mode));
	DIR *d = opendir("/data");
	CHECK("opendir", d != NULL);
	int seen = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		static const char *const names[] = {".", "..", "a.txt", "link", "sub", "up"};
		for (int i = 0; i < 6; i++) {
			if (!strcmp(e->d_name, names[i]))
				seen |= 1 << i;
		}
		if (!strcmp(e->d_name, "link"))
			CHECK("readdir_type_link", e->d_type == DT_LNK);
		if (!strcmp(e->d_name, "sub"))
			CHECK("readdir_type_dir", e->d_type == DT_DIR);
	}
	CHECK("readdir_lists_every_entry", seen == 0x3f);
	if (d)
		closedir(d);

	/* Symlinks. */
	CHECK("readlink",
	      readlink("/data/link", buf, sizeof(buf)) == 5 && !memcmp(buf, "a.txt", 5));
	CHECK("lstat_link", lstat("/data/link", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK("stat_follows_link", stat("/data/link", &st) == 0 && S_ISREG(st.st_mode));
	CHECK("open_follows_link",
	      slurp_at(AT_FDCWD, "/data/link", buf, sizeof(buf)) == 6 && !strcmp(buf, "alpha\n"));
	CHECK("nofollow_is_eloop", errno_of(open("/data/link", O_RDONLY | O_NOFOLLOW), ELOOP));

	/* cwd and relative paths. */
	CHECK("getcwd_root", getcwd(buf, sizeof(buf)) && !strcmp(buf, "/"));
	CHECK("chdir", chdir("/data/sub") == 0);
	CHECK("getcwd_sub", getcwd(buf, sizeof(buf)) && !strcmp(buf, "/data/sub"));
	CHECK("relative_open",
	      slurp_at(AT_FDCWD, "b.txt", buf, sizeof(buf)) == 5 && !strcmp(buf, "beta\n"));
	CHECK("dotdot", slurp_at(AT_FDCWD, "..//./a.txt", buf, sizeof(buf)) == 6);
	CHECK("chdir_through_link",
	      chdir("../up") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/etc"));
	CHECK("getcwd_erange", !getcwd(buf, 3) && errno == ERANGE);
	chdir("/");
	int dfd = open("/data", O_RDONLY | O_DIRECTORY);
	CHECK("openat_dirfd", dfd >= 0 && slurp_at(dfd, "sub/b.txt", buf, sizeof(buf)) == 5);
	CHECK("fstatat_empty_path",
	      fstatat(dfd, "", &st, AT_EMPTY_PATH) == 0 && S_ISDIR(st.st_mode));
	CHECK("fstatat_nofollow",
	      fstatat(dfd, "link", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));
	CHECK("read_of_dir_is_eisdir", errno_of(read(dfd, buf, 1), EISDIR));
	close(dfd);
	CHECK("access", access("/etc/hello.txt", R_OK) == 0);
	CHECK("access_w_is_erofs", errno_of(access("/etc/hello.txt", W_OK), EROFS));

	/* Read-only file system and bad arguments. */
	CHECK("o_wronly_is_erofs", errno_of(open("/etc/hello.txt", O_WRONLY), EROFS));
	CHECK("o_creat_is_erofs", errno_of(open("/etc/new", O_WRONLY | O_CREAT, 0644), EROFS));
	CHECK("mkdir_is_erofs", errno_of(mkdir("/newdir", 0755), EROFS));
	CHECK("missing_is_enoent", errno_of(open("/nope", O_RDONLY), ENOENT));
	CHECK("file_as_dir_is_enotdir", errno_of(open("/etc/hello.txt/x", O_RDONLY), ENOTDIR));
	CHECK("bad_fd_is_ebadf", errno_of(read(99, buf, 1), EBADF) && errno_of(close(99), EBADF));
	CHECK("bad_path_is_efault", errno_of(open((const char *)8, O_RDONLY), EFAULT));
	fd = open("/etc/hello.txt", O_RDONLY);
	CHECK("bad_buffer_is_efault", errno_of(read(fd, (void *)8, 4), EFAULT));
	close(fd);

	/* Unsupported calls: -ENOSYS, and a log line from the kernel. */
	CHECK("syscall_999_is_enosys", errno_of(syscall(999), ENOSYS));
	CHECK("kexec_load_is_enosys", errno_of(syscall(SYS_kexec_load, 0, 0, 0), ENOSYS));

	/* Process basics. */
	struct utsname u;
	CHECK("uname", uname(&u) == 0 && !strcmp(u.sysname, "Solo") &&
			   !strcmp(u.machine, "x86_64") && !strcmp(u.nodename, "solo"));
	CHECK("ids", getpid() == 1 && getppid() == 0 && getuid() == 0 && geteuid() == 0 &&
			 getgid() == 0 && syscall(SYS_gettid) == 1);
	CHECK("isatty", isatty(1) && !isatty(-1));
	struct winsize ws;
	CHECK("winsize", ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 80);
	/* As many as the machine has (tests/apps/smp.c checks the count). */
	CHECK("cpus_online", sysconf(_SC_NPROCESSORS_ONLN) >= 1 &&
				 sysconf(_SC_NPROCESSORS_ONLN) == sysconf(_SC_NPROCESSORS_CONF));
	struct rlimit rl;
	CHECK("rlimit_nofile", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 1024);
	CHECK("rlimit_stack", getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur >= 65536 &&
				  rl.rlim_cur != RLIM_INFINITY);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK("sigprocmask", sigprocmask(SIG_BLOCK, &set, NULL) == 0 &&
				 sigprocmask(SIG_SETMASK, NULL, &old) == 0 &&
				 sigismember(&old, SIGUSR1));
	CHECK("sched_yield", sched_yield() == 0);

	/* mprotect and madvise. */
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap", p != MAP_FAILED);
	p[0] = 42;
	p[4096] = 43;
	CHECK("mprotect_wx_is_eacces", errno_of(mprotect(p, 4096, PROT_WRITE | PROT_EXEC), EACCES));
	CHECK("mprotect_read_only", mprotect(p, 4096, PROT_READ) == 0 && p[0] == 42);
	CHECK("madvise_dontneed_zeroes",
	      madvise(p + 4096, 4096, MADV_DONTNEED) == 0 && p[4096] == 0);

	/* Pipes: a read of an empty pipe would wait (for ever: no other
	 * thread), so this one is O_NONBLOCK. */
	int pfd[2];
	CHECK("pipe2", pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0 && pfd[0] >= 3 && pfd[1] > pfd[0]);
	CHECK("pipe_write_read", write(pfd[1], "through", 7) == 7 && read(pfd[0], buf, 64) == 7 &&
				     !memcmp(buf, "through", 7));
	CHECK("pipe_empty_is_eagain", errno_of(read(pfd[0], buf, 1), EAGAIN));
	CHECK("pipe_fstat", fstat(pfd[0], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK("pipe_lseek_is_espipe", errno_of(lseek(pfd[0], 0, SEEK_SET), ESPIPE));
	close(pfd[1]);
	CHECK("pipe_eof_without_writers", read(pfd[0], buf, 1) == 0);
	close(pfd[0]);

	printf("files: %d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures;
}
