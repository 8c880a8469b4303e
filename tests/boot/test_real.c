/*
 * The real-program tests (issue 5): unmodified Debian programs, built as
 * static musl binaries by tools/real-programs.sh (build/real/lua from lua5.4,
 * build/real/bzip2 from bzip2, build/real/sqlite3 from sqlite3), a Go program
 * (build/real/gotest, from tests/real/go/) and the fsops test app, run on
 * Solo and compared with the same binary run natively on the host, which is
 * the oracle.
 *
 * Each test stages the app's files in build/tests/real/<name>/, which becomes
 * the whole rootfs ("--file DIR:/"). The host run gets the same argv (argv[0]
 * included), exactly the same environment and a private mount namespace
 * (as root, or in a user namespace otherwise) in which its cwd is, like
 * Solo's root, either
 *   - read-only: the staging directory bind-mounted read-only; Solo boots
 *     with root=ro, or
 *   - writable (.writable): a fresh tmpfs holding a copy of the staging
 *     files and an empty tmp/ of mode 1777, as Solo's root in RAM has; Linux
 *     tmpfs is the closest to it. The staging directory itself is never
 *     written, so Solo's image gets the same files.
 * Its stdout and stderr go to one pipe, as both go to COM1 on Solo.
 * The app's serial output (after "solo: starting the app", without the
 * kernel's "solo: " lines and the "\r" of "\r\n") must equal the host's
 * output byte for byte, and the exit statuses must be equal.
 */
#define _GNU_SOURCE /* asprintf, unshare */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define BOOT_TIMEOUT 120
#define MAX_ARGS     16

/* One program run: the same on the host and on Solo. */
struct real_run {
	const char *name;	    /* image and staging names: real-<name> */
	const char *app;	    /* the static binary, relative to the root */
	const char *argv[MAX_ARGS]; /* argv[0] first (Solo's boot.cfg name), NULL-ended */
	const char *envp[MAX_ARGS]; /* the whole environment, NULL-ended */
	int writable;		    /* a writable root (see the header); else read-only */
	int timeout_s;		    /* Solo's boot timeout; 0: BOOT_TIMEOUT */
	const char *qemu_opts;	    /* tools/qemu.sh's options beyond the defaults, or NULL */
};

/* What a run printed (stdout and stderr together) and its exit status. */
struct real_result {
	char *out;
	int status;
};

/* A string builder: appends n bytes of s to *buf (length *len). */
static void append(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	cr_assert_not_null(*buf, "out of memory");
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* The staging directory of run, absolute: the app's rootfs (and the host's cwd when read-only). */
static char *stage_dir(const struct real_run *run)
{
	return harness_path("build/tests/real/%s", run->name);
}

/* Where a writable host run mounts its tmpfs (an empty directory outside it). */
static char *tmpfs_dir(const struct real_run *run)
{
	return harness_path("build/tests/real/%s.host", run->name);
}

static void child_fail(int fd, const char *what)
{
	dprintf(fd, "test_real host run: %s: %s\n", what, strerror(errno));
	_exit(126);
}

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * In the forked child: a private mount namespace, so that what the child
 * mounts is seen by it alone and goes away with it. As root a mount
 * namespace is enough; otherwise a user namespace maps the caller to root
 * first.
 */
static void child_private_mounts(int fd)
{
	if (unshare(CLONE_NEWNS) != 0) {
		char map[64];
		uid_t uid = getuid();
		gid_t gid = getgid();

		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			child_fail(fd,
				   "unshare(CLONE_NEWNS) and unshare(CLONE_NEWUSER) both failed");
		write_proc("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (write_proc("/proc/self/uid_map", map) != 0)
			child_fail(fd, "writing uid_map");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (write_proc("/proc/self/gid_map", map) != 0)
			child_fail(fd, "writing gid_map");
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		child_fail(fd, "making / private");
}

/*
 * In the forked child: makes dir a read-only mount in a private mount
 * namespace. Locked flags of the original mount (nosuid, nodev, noexec) are
 * kept, as an unprivileged remount must.
 */
static void child_make_read_only(const char *dir, int fd)
{
	unsigned long keep = 0;
	struct statvfs sv;

	child_private_mounts(fd);
	if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) != 0)
		child_fail(fd, "bind-mounting the staging directory");
	if (statvfs(dir, &sv) == 0) {
		keep |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
		keep |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
		keep |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
	}
	if (mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) != 0)
		child_fail(fd, "remounting the staging directory read-only");
}

/*
 * In the forked child: mounts a fresh tmpfs on mnt in a private mount
 * namespace and copies the staging directory's contents (src_dot is
 * "STAGE/.") into it with cp -a, whose messages go to fd. Then makes tmp/
 * (mode 1777, as on Solo) unless the staging files have one.
 */
static void child_make_writable_copy(const char *src_dot, const char *mnt, int fd)
{
	pid_t pid;
	int wst;

	child_private_mounts(fd);
	if (mount("solo-real", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
		child_fail(fd, "mounting a tmpfs");
	pid = fork();
	if (pid < 0)
		child_fail(fd, "fork");
	if (pid == 0) {
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl("/bin/cp", "cp", "-a", "--", src_dot, mnt, (char *)NULL);
		_exit(126);
	}
	if (waitpid(pid, &wst, 0) != pid || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
		child_fail(fd, "copying the staging directory into the tmpfs (cp -a)");
	if (chdir(mnt) != 0)
		child_fail(fd, "chdir to the tmpfs");
	if (mkdir("tmp", 01777) == 0) {
		if (chmod("tmp", 01777) != 0) /* mkdir's mode went through the umask */
			child_fail(fd, "chmod tmp");
	} else if (errno != EEXIST) {
		child_fail(fd, "mkdir tmp");
	}
}

/* Runs run natively on the host (see the header): the oracle. */
static struct real_result host_run(const struct real_run *run)
{
	char *dir = stage_dir(run), *app = harness_path("%s", run->app);
	char *mnt = tmpfs_dir(run), *src_dot = harness_format("%s/.", dir);
	struct real_result res = {NULL, -1};
	size_t len = 0;
	char buf[4096];
	ssize_t n;
	int fds[2], wst;
	pid_t pid;

	if (run->writable)
		cr_assert(mkdir(mnt, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", mnt,
			  strerror(errno));
	cr_assert_eq(pipe(fds), 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		close(fds[0]);
		if (run->writable) {
			child_make_writable_copy(src_dot, mnt, fds[1]);
		} else {
			child_make_read_only(dir, fds[1]);
			if (chdir(dir) != 0)
				child_fail(fds[1], "chdir to the staging directory");
		}
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(fds[1], 1) < 0 ||
		    dup2(fds[1], 2) < 0)
			child_fail(fds[1], "redirecting stdio");
		execve(app, (char *const *)run->argv, (char *const *)run->envp);
		child_fail(2, app);
	}
	close(fds[1]);
	append(&res.out, &len, "", 0);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0)
			append(&res.out, &len, buf, (size_t)n);
	}
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &wst, 0), pid, "waitpid: %s", strerror(errno));
	res.status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	cr_assert_neq(res.status, 126, "the host run could not start:\n%s", res.out);
	return res;
}

/*
 * The app's output in a serial log: the lines after "solo: starting the app"
 * up to "solo: exit N", without their "\r" and without kernel lines (which go
 * to *kernel, e.g. "solo: unsupported syscall ...").
 */
static char *app_output(const char *log, char **kernel)
{
	static const char start[] = "solo: starting the app\r\n";
	const char *s = strstr(log, start), *end;
	size_t len = 0, klen = 0;
	char *out = NULL;

	*kernel = NULL;
	append(&out, &len, "", 0);
	append(kernel, &klen, "", 0);
	if (!s)
		return out;
	for (s += strlen(start); *s; s = *end ? end + 1 : end) {
		size_t n;

		end = strchr(s, '\n');
		if (!end)
			end = s + strlen(s);
		n = (size_t)(end - s);
		if (n > 0 && s[n - 1] == '\r' && *end)
			n--;
		if (!strncmp(s, "solo: ", 6)) {
			append(kernel, &klen, s, n);
			append(kernel, &klen, "\n", 1);
			if (!strncmp(s, "solo: exit ", 11))
				break;
			continue;
		}
		append(&out, &len, s, n);
		if (*end)
			append(&out, &len, "\n", 1);
	}
	return out;
}

/* Line number (from 1) of the first difference of a and b, and the two lines. */
static int first_difference(const char *a, const char *b, char **line_a, char **line_b)
{
	int line = 1;
	const char *la = a, *lb = b;

	while (*a && *a == *b) {
		if (*a == '\n') {
			line++;
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	*line_a = strndup(la, strcspn(la, "\n"));
	*line_b = strndup(lb, strcspn(lb, "\n"));
	cr_assert(*line_a && *line_b, "out of memory");
	if (!*a && *b)
		*line_a = harness_format("%s<end of output>", *line_a);
	if (*a && !*b)
		*line_b = harness_format("%s<end of output>", *line_b);
	return line;
}

/*
 * Runs run on the host and on Solo (the staging directory must be ready) and
 * asserts the same output and exit status.
 */
static void compare_with_host(const struct real_run *run)
{
	struct real_result host;
	char *args = NULL, *mkimg, *image, *log, *solo_out, *kernel, *la, *lb;
	size_t len = 0;
	int status, line;

	cr_assert(harness_exists(run->app),
		  "%s is missing: make test builds it (build/real/: tools/real-programs.sh)",
		  run->app);
	host = host_run(run);

	append(&args, &len, "", 0);
	for (int i = 1; run->argv[i]; i++) {
		char *q = harness_quote(run->argv[i]);

		if (i > 1)
			append(&args, &len, " ", 1);
		append(&args, &len, q, strlen(q));
		free(q);
	}
	mkimg = harness_format("--app %s --name %s --args %s --file %s:/", run->app,
			       harness_quote(run->argv[0]), harness_quote(args),
			       harness_quote(stage_dir(run)));
	for (int i = 0; run->envp[i]; i++)
		mkimg = harness_format("%s --env %s", mkimg, harness_quote(run->envp[i]));
	/* Solo's root is writable by default; the read-only runs keep it so. */
	if (!run->writable)
		mkimg = harness_format("%s --config root=ro", mkimg);
	image = harness_mkimg(harness_format("real-%s", run->name), mkimg);
	log = harness_boot(image, run->qemu_opts, run->timeout_s ? run->timeout_s : BOOT_TIMEOUT,
			   &status);
	solo_out = app_output(log, &kernel);

	if (strstr(kernel, "unsupported syscall"))
		cr_log_info("%s on Solo: %s", run->name, kernel);
	line = first_difference(host.out, solo_out, &la, &lb);
	cr_assert_str_eq(host.out, solo_out,
			 "%s: Solo's output differs from the host's at line %d:\n"
			 "  host: %s\n  solo: %s\n"
			 "---- host output (status %d):\n%s---- Solo's serial log (status %d):\n%s",
			 run->name, line, la, lb, host.status, host.out, status, log);
	harness_assert_exit(log, status, host.status);
}

/* harness_run, asserting success and showing the command's output if not. */
static void run_ok(const char *what, const char *cmd)
{
	char *out;
	int st = harness_run(&out, "%s", cmd);

	cr_assert_eq(st, 0, "%s failed (status %d):\n%s\n%s", what, st, cmd, out ? out : "");
}

/* Makes the staging directory of run empty; returns it, quoted for the shell. */
static char *fresh_stage(const struct real_run *run)
{
	char *dir = harness_quote(stage_dir(run));

	run_ok("making the staging directory",
	       harness_format("rm -rf %s && mkdir -p %s", dir, dir));
	return dir;
}

/* ---------------------------------------------------------------- lua5.4 */

Test(real, lua_runs_a_script_with_heap_files_and_time_like_on_the_host)
{
	static const struct real_run run = {
	    .name = "lua",
	    .app = "build/real/lua",
	    .argv = {"lua", "script.lua", "alpha", "two words", "it's \"quoted\"", "7", NULL},
	    .envp = {"TZ=UTC0", "LANG=C", NULL},
	};
	char *dir = fresh_stage(&run);

	run_ok(
	    "staging the script",
	    harness_format("cp tests/real/script.lua %s/ && cp -R tests/real/data %s/", dir, dir));
	compare_with_host(&run);
}

/* ---------------------------------------------------------------- bzip2 */

/*
 * Stages big.bz2 (about 1.2 MB of generated text, 2 blocks at -9) and
 * small.bz2 (data/poem.txt), both compressed by the host run of the static
 * bzip2 itself.
 */
static void stage_bzip2(const struct real_run *run)
{
	char *dir = fresh_stage(run);

	run_ok("making the bzip2 inputs",
	       harness_format(
		   "build/real/lua tests/real/gen-text.lua 20000 | build/real/bzip2 -9 > "
		   "%s/big.bz2 && build/real/bzip2 -9 < tests/real/data/poem.txt > %s/small.bz2",
		   dir, dir));
}

Test(real, bzip2_tests_archives_and_reports_a_missing_file_like_on_the_host)
{
	static const struct real_run run = {
	    .name = "bzip2-test",
	    .app = "build/real/bzip2",
	    .argv = {"bzip2", "-tvv", "big.bz2", "small.bz2", "missing.bz2", NULL},
	    .envp = {"LANG=C", NULL},
	};

	stage_bzip2(&run);
	compare_with_host(&run);
}

Test(real, bzip2_decompresses_to_stdout_like_on_the_host)
{
	static const struct real_run run = {
	    .name = "bzip2-stdout",
	    .app = "build/real/bzip2",
	    .argv = {"bzip2", "-dc", "small.bz2", NULL},
	    .envp = {"LANG=C", NULL},
	};

	stage_bzip2(&run);
	compare_with_host(&run);
}

Test(real, bzip2_cannot_write_its_output_on_a_read_only_fs_like_on_the_host)
{
	static const struct real_run run = {
	    .name = "bzip2-erofs",
	    .app = "build/real/bzip2",
	    .argv = {"bzip2", "-d", "small.bz2", NULL},
	    .envp = {"LANG=C", NULL},
	};

	stage_bzip2(&run);
	compare_with_host(&run);
}

/* ---------------------------------------------------------------- Go */

/*
 * A static Go program (tests/real/go/gotest.go): goroutines, channels,
 * mutexes, timers, tickers, sleeps and the garbage collector on the Go
 * runtime's threads and netpoller, then files written, read back, renamed,
 * listed and removed under tmp/. It exits with its last argument. Booted
 * as real-NAME with qemu_opts (NULL: the defaults).
 */
static void go_like_on_the_host(const char *name, const char *qemu_opts)
{
	const struct real_run run = {
	    .name = name,
	    .app = "build/real/gotest",
	    .argv = {"gotest", "tmp", "3", NULL},
	    .envp = {"TZ=UTC0", "LANG=C", NULL},
	    .writable = 1,
	    .timeout_s = 300,
	    .qemu_opts = qemu_opts,
	};
	char *dir = fresh_stage(&run);

	run_ok("staging the data", harness_format("cp -R tests/real/data %s/", dir));
	compare_with_host(&run);
}

Test(real, go_runs_goroutines_timers_gc_and_writes_files_like_on_the_host)
{
	go_like_on_the_host("go", NULL);
}

/* The same on four CPUs: the Go runtime's threads (GOMAXPROCS 4: its
 * Ps, the garbage collector's workers, sysmon, the netpoller) run at once,
 * and the output is still the host's, byte for byte. */
Test(real, go_on_four_cpus_runs_like_on_the_host)
{
	go_like_on_the_host("go-smp4", "--smp 4");
}

/* ---------------------------------------------------------------- sqlite3 */

/*
 * The sqlite3 shell runs tests/real/sqlite/test.sql on databases under tmp/:
 * a table and indexes, committed, rolled-back and nested transactions, a
 * second connection, WAL (shared memory), VACUUM INTO, all read back.
 * sqliterc is empty: it keeps the shell from reading $HOME/.sqliterc (or
 * /etc/passwd to find a home) on the host. Temporary files go to tmp/.
 */
Test(real, sqlite3_writes_and_reads_back_databases_like_on_the_host)
{
	static const struct real_run run = {
	    .name = "sqlite3",
	    .app = "build/real/sqlite3",
	    .argv = {"sqlite3", "-batch", "-init", "sqliterc", "tmp/test.db", ".read test.sql",
		     NULL},
	    .envp = {"TZ=UTC0", "LANG=C", "SQLITE_TMPDIR=tmp", NULL},
	    .writable = 1,
	    .timeout_s = 300,
	};
	char *dir = fresh_stage(&run);

	run_ok("staging the script",
	       harness_format("cp tests/real/sqlite/test.sql %s/ && : > %s/sqliterc", dir, dir));
	compare_with_host(&run);
}

/* ---------------------------------------------------------------- fsops */

/*
 * tests/apps/fsops.c: every file-writing call, each result printed, in
 * tmp/fsops (which it makes and removes). Its chown steps give files to
 * other users, which only real root can do on the host.
 */
Test(real, fsops_file_system_calls_behave_like_on_the_host)
{
	static const struct real_run run = {
	    .name = "fsops",
	    .app = "build/tests/apps/fsops.elf",
	    .argv = {"fsops", "tmp/fsops", NULL},
	    .envp = {"LANG=C", NULL},
	    .writable = 1,
	    .timeout_s = 180,
	};

	if (geteuid() != 0)
		cr_skip_test("fsops chowns files to other users: the host oracle needs root");
	fresh_stage(&run);
	compare_with_host(&run);
}
