/*
 * Programs as Debian ships them (issue 12), each compared with the same
 * program run on the host, the oracle: dynhost (tests/apps/dynamic/) built
 * against glibc and against musl's dynamic loader, Debian's python3 running
 * tests/apps/dynamic/script.py, and Debian's sqlite3 CLI.
 *
 * Each run has a root: the directory that becomes Solo's whole rootfs
 * (mkimg --file ROOT:/, --app the program's path in it, so that mkimg adds
 * the interpreter and the DT_NEEDED closure and writes app_path). The
 * host runs the same program with the same argv and environment, in a fresh
 * copy of the work files (the files the program reads and writes; Solo's
 * root holds them at / , its cwd). Its stdout and stderr go to one pipe, as
 * both go to COM1 on Solo. The app's serial output (the lines after "solo:
 * starting the app", without the kernel's "solo: " lines and the "\r" of
 * "\r\n") must equal the host's byte for byte, and the exit statuses too.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define BOOT_TIMEOUT 180

struct dyn_run {
	const char *name;     /* build/tests/dyn/<name>/, image dyn-<name> */
	const char *app;      /* its path in the root; on the host, the same path
			       * (Debian's programs) or, with in_work, the copy's */
	int in_work;	      /* the program is one of the work files */
	const char *argv[8];  /* argv[0] first, NULL-ended */
	const char *envp[4];  /* the whole environment, NULL-ended */
	const char *work_src; /* a directory whose files are the work files, or NULL */
	const char *extra;    /* more mkimg options, or NULL */
};

static char *dyn_dir(const struct dyn_run *run, const char *what)
{
	return harness_path("build/tests/dyn/%s/%s", run->name, what);
}

static void run_ok(const char *what, char *cmd)
{
	char *out;
	int st = harness_run(&out, "%s", cmd);

	cr_assert_eq(st, 0, "%s failed (status %d):\n%s\n%s", what, st, cmd, out ? out : "");
}

/* Empties build/tests/dyn/<name>/{root,work} and copies work_src into both. */
static void fresh_dirs(const struct dyn_run *run)
{
	char *root = harness_quote(dyn_dir(run, "root")),
	     *work = harness_quote(dyn_dir(run, "work"));

	run_ok("making the run's directories",
	       harness_format("rm -rf %s %s %s && mkdir -p %s %s", root, work,
			      harness_quote(dyn_dir(run, "host")), root, work));
	if (run->work_src)
		run_ok("copying the work files", harness_format("cp -a %s/. %s/ && cp -a %s/. %s/",
								run->work_src, work, work, root));
}

/* The host run, in a fresh copy of the work files: its output and status. */
static char *host_run(const struct dyn_run *run, int *status)
{
	char *host = dyn_dir(run, "host"), *out = NULL;
	char *app = run->in_work ? harness_format("%s%s", host, run->app) : (char *)run->app;
	size_t len = 0, cap = 0;
	int fds[2], wst;
	ssize_t n;
	pid_t pid;

	run_ok("copying the work files for the host",
	       harness_format("rm -rf %s && cp -a %s %s", harness_quote(host),
			      harness_quote(dyn_dir(run, "work")), harness_quote(host)));
	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (chdir(host) != 0 || devnull < 0 || dup2(devnull, 0) < 0 ||
		    dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(126);
		close(fds[0]);
		execve(app, (char *const *)run->argv, (char *const *)run->envp);
		dprintf(2, "test_dynamic host run: %s: %s\n", app, strerror(errno));
		_exit(126);
	}
	close(fds[1]);
	do {
		if (len + 4096 + 1 > cap)
			cr_assert_not_null(out = realloc(out, cap = 2 * cap + 8192));
		n = read(fds[0], out + len, 4096);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	out[len] = '\0';
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &wst, 0), pid);
	*status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	cr_assert_neq(*status, 126, "the host run could not start:\n%s", out);
	return out;
}

/* The app's lines of a serial log (see the header); kernel lines to *kernel. */
static char *app_output(const char *log, char **kernel)
{
	static const char start[] = "solo: starting the app\r\n";
	const char *s = strstr(log, start);
	char *out = calloc(1, strlen(log) + 1), *k = calloc(1, strlen(log) + 1);
	size_t len = 0, klen = 0;

	cr_assert(out && k);
	*kernel = k;
	for (s = s ? s + strlen(start) : ""; *s;) {
		const char *end = strchr(s, '\n');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		int kernel_line = !strncmp(s, "solo: ", 6);
		char *to = kernel_line ? k : out;
		size_t *at = kernel_line ? &klen : &len;

		if (end && n > 0 && s[n - 1] == '\r')
			n--;
		memcpy(to + *at, s, n);
		*at += n;
		if (end || kernel_line)
			to[(*at)++] = '\n';
		if (kernel_line && !strncmp(s, "solo: exit ", 11))
			break;
		s = end ? end + 1 : s + n;
	}
	return out;
}

/* Runs run on the host and on Solo (the root is ready) and asserts the same
 * output and exit status. */
static void compare_with_host(const struct dyn_run *run)
{
	char *args = harness_format("%s", ""), *mkimg, *log, *solo, *kernel, *host;
	int host_status, status;

	host = host_run(run, &host_status);
	for (int i = 1; run->argv[i]; i++)
		args =
		    harness_format("%s%s%s", args, i > 1 ? " " : "", harness_quote(run->argv[i]));
	mkimg = harness_format("--file %s:/ --app %s --name %s --args %s %s",
			       harness_quote(dyn_dir(run, "root")), run->app,
			       harness_quote(run->argv[0]), harness_quote(args),
			       run->extra ? run->extra : "");
	for (int i = 0; run->envp[i]; i++)
		mkimg = harness_format("%s --env %s", mkimg, harness_quote(run->envp[i]));
	log = harness_boot(harness_mkimg(harness_format("dyn-%s", run->name), mkimg), NULL,
			   BOOT_TIMEOUT, &status);
	solo = app_output(log, &kernel);
	if (strstr(kernel, "unsupported syscall"))
		cr_log_info("%s on Solo: %s", run->name, kernel);
	cr_assert_str_eq(solo, host,
			 "%s: Solo's output differs from the host's\n---- host (status %d):\n%s"
			 "---- Solo's serial log (status %d):\n%s",
			 run->name, host_status, host, status, log);
	harness_assert_exit(log, status, host_status);
}

/* ---------------------------------------------------------------- dynhost */

/* In a directory of its own: musl's $ORIGIN of a program at "/dynhost" is
 * "", which it does not search (on Linux too). */
static void dynhost(const char *libc)
{
	const struct dyn_run run = {
	    .name = libc,
	    .app = "/opt/dyn/dynhost",
	    .in_work = 1,
	    .argv = {"dynhost", "one", "two words", NULL},
	    .envp = {"LANG=C", NULL},
	};
	char *built = harness_path("build/tests/apps/dyn-%s", libc);

	cr_assert(harness_exists(harness_format("%s/dynhost", built)),
		  "%s/dynhost is missing (make TEST_ARTIFACTS)", built);
	fresh_dirs(&run);
	run_ok("staging dynhost",
	       harness_format(
		   "mkdir -p %s/opt/dyn %s/opt/dyn && cp -p %s/dynhost %s/*.so %s/opt/dyn/ "
		   "&& cp -p %s/dynhost %s/*.so %s/opt/dyn/",
		   harness_quote(dyn_dir(&run, "work")), harness_quote(dyn_dir(&run, "root")),
		   built, built, harness_quote(dyn_dir(&run, "work")), built, built,
		   harness_quote(dyn_dir(&run, "root"))));
	compare_with_host(&run);
}

Test(dynamic, glibc_program_dlopens_a_library_beside_it_like_on_the_host)
{
	dynhost("glibc");
}

Test(dynamic, musl_program_dlopens_a_library_beside_it_like_on_the_host)
{
	dynhost("musl");
}

/* ---------------------------------------------------------------- Debian's programs */

/* Only what the script loads goes in (tests/apps/dynamic/stage.sh): the
 * whole of /usr/lib/python3.11 would make the image and the boot slow. */
Test(dynamic, python3_runs_a_script_with_modules_files_and_threads_like_on_the_host)
{
	const struct dyn_run run = {
	    .name = "python3",
	    .app = "/usr/bin/python3.11",
	    .argv = {"python3", "-B", "script.py", "one", "two", NULL},
	    .envp = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "TZ=UTC0", NULL},
	    .work_src = harness_path("build/tests/dyn/python3/src"),
	};

	run_ok("staging the script",
	       harness_format("rm -rf %s && mkdir -p %s && cp tests/apps/dynamic/script.py "
			      "tests/apps/dynamic/input.txt %s/",
			      harness_quote(run.work_src), harness_quote(run.work_src),
			      harness_quote(run.work_src)));
	fresh_dirs(&run);
	run_ok("staging what python3 loads",
	       harness_format("tests/apps/dynamic/stage.sh python %s %s one two",
			      harness_quote(dyn_dir(&run, "root")), harness_quote(run.work_src)));
	compare_with_host(&run);
}

Test(dynamic, sqlite3_cli_runs_a_workload_like_on_the_host)
{
	const struct dyn_run run = {
	    .name = "sqlite3",
	    .app = "/usr/bin/sqlite3",
	    .argv = {"sqlite3", "-batch", "-bail", "work.db", ".read workload.sql", NULL},
	    .envp = {"LANG=C", "HOME=/", NULL},
	    .work_src = harness_path("tests/apps/dynamic/sqlite3"),
	};

	fresh_dirs(&run);
	run_ok("staging sqlite3",
	       harness_format("mkdir -p %s/usr/bin && cp -p /usr/bin/sqlite3 %s/usr/bin/",
			      harness_quote(dyn_dir(&run, "root")),
			      harness_quote(dyn_dir(&run, "root"))));
	compare_with_host(&run);
}

/* ---------------------------------------------------------------- Solo's answers */

/* What Linux answers, where the host cannot be the oracle (its kernel may
 * have rseq, more CPUs, other layouts): tests/apps/dyncompat.c's checks. */
Test(dynamic, rseq_membarrier_prctl_and_maps_answer_as_linux)
{
	static const char *const names[] = {"rseq is ENOSYS",
					    "membarrier query lists private expedited",
					    "prctl get name is cut to 15",
					    "prctl pdeathsig round trip",
					    "prctl set vma is EINVAL",
					    "maps: the private file mapping",
					    "maps: the shared one",
					    "maps: PROT_NONE and anonymous",
					    "maps: the heap",
					    "maps: the stack",
					    "maps: the program",
					    "maps: the name column is 74",
					    "status: Linux's lone process",
					    "statm: the same pages as status",
					    "status: VmRSS grows by the pages touched",
					    "status: and shrinks by them at munmap",
					    "status: VmHWM keeps the peak"};
	int status;
	char *log = harness_boot(
	    harness_mkimg("dyn-compat", "--app build/tests/apps/dyncompat.elf --name dyncompat"),
	    NULL, 60, &status);

	harness_assert_checks(log, "dyncompat", names, sizeof(names) / sizeof(names[0]));
	harness_assert_exit(log, status, 0);
}
