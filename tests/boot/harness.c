/*
 * Boot-test harness (see harness.h). Everything runs through /bin/sh from the
 * repository root; failures that make a test meaningless (mkimg refusing a
 * good image, no memory) fail the test with the tool's output.
 */
#define _GNU_SOURCE /* vasprintf, strndup */
#include "harness.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	cr_assert_not_null(p, "harness: out of memory");
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	cr_assert_geq(vasprintf(&s, fmt, ap), 0, "harness: out of memory");
	return s;
}

char *harness_format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

const char *harness_root(void)
{
	static char root[PATH_MAX];
	const char *env;
	size_t len;

	if (root[0])
		return root;
	env = getenv("SOLO_ROOT");
	if (!env || !*env)
		env = ".";
	if (!realpath(env, root)) {
		/* Keep going with what we were given; commands will say what is wrong. */
		snprintf(root, sizeof(root), "%s", env);
	}
	len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		root[--len] = '\0';
	return root;
}

char *harness_path(const char *fmt, ...)
{
	va_list ap;
	char *rel, *path;

	va_start(ap, fmt);
	rel = xvasprintf(fmt, ap);
	va_end(ap);
	path = harness_format("%s/%s", harness_root(), rel);
	free(rel);
	return path;
}

char *harness_quote(const char *s)
{
	size_t n = 3;
	char *q, *p;

	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = p = malloc(n);
	cr_assert_not_null(q, "harness: out of memory");
	*p++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(p, "'\\''", 4); /* close, escaped quote, reopen */
			p += 4;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* Reads all of f into a malloc'd NUL-terminated string. */
static char *read_stream(FILE *f, size_t *len_out)
{
	size_t len = 0, cap = 4096, n;
	char *buf = malloc(cap);

	cr_assert_not_null(buf, "harness: out of memory");
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf, "harness: out of memory");
		}
	}
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

char *harness_read_file(const char *path)
{
	char *text, *full = NULL;
	FILE *f;

	if (path[0] != '/')
		path = full = harness_path("%s", path);
	f = fopen(path, "rb");
	free(full);
	if (!f)
		return NULL;
	text = read_stream(f, NULL);
	fclose(f);
	return text;
}

int harness_exists(const char *path)
{
	char *full = NULL;
	int ok;

	if (path[0] != '/')
		path = full = harness_path("%s", path);
	ok = access(path, F_OK) == 0;
	free(full);
	return ok;
}

int harness_run(char **out, const char *fmt, ...)
{
	char *cmd, *root_q, *full, *text;
	va_list ap;
	FILE *p;
	int st;

	if (out)
		*out = NULL;
	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	root_q = harness_quote(harness_root());
	/* The newline ends a trailing comment in cmd; sfdisk and fsck.fat live in sbin. */
	full = harness_format("cd %s && PATH=\"$PATH:/usr/sbin:/sbin\" && export PATH && "
			      "{ %s\n} </dev/null 2>&1",
			      root_q, cmd);
	free(root_q);
	free(cmd);

	fflush(NULL); /* or the child may repeat our buffered output */
	p = popen(full, "r");
	free(full);
	if (!p)
		return -1;
	text = read_stream(p, NULL);
	st = pclose(p);
	if (out)
		*out = text;
	else
		free(text);
	if (st == -1)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

char *harness_mkimg(const char *name, const char *mkimg_args)
{
	char *img = harness_path("build/tests/img/%s.img", name);
	char *img_q = harness_quote(img);
	char *out;
	int status;

	const char *kernel = getenv("SOLO_KERNEL");
	char *kernel_opt =
	    kernel && *kernel ? harness_format("--kernel %s ", harness_quote(kernel)) : xstrdup("");

	status =
	    harness_run(&out, "mkdir -p build/tests/img && rm -f %s && tools/mkimg.sh -o %s %s%s",
			img_q, img_q, kernel_opt, mkimg_args ? mkimg_args : "");
	free(kernel_opt);
	free(img_q);
	cr_assert_eq(status, 0, "mkimg for %s failed (status %d):\n%s", name, status,
		     out ? out : "(could not run)");
	free(out);
	return img;
}

/* The image's file name without directory and without ".img". */
static char *image_stem(const char *image)
{
	const char *base = strrchr(image, '/');
	char *stem = xstrdup(base ? base + 1 : image);
	size_t len = strlen(stem);

	if (len > 4 && !strcmp(stem + len - 4, ".img"))
		stem[len - 4] = '\0';
	return stem;
}

/* The serial log as one string: an app may write any bytes, NULs included,
 * and they must not hide the kernel's lines after them from strstr. */
static char *read_log(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t len;
	char *text;

	if (!f)
		return NULL;
	text = read_stream(f, &len);
	fclose(f);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0')
			text[i] = '?';
	}
	return text;
}

char *harness_mkimg_boot(const char *name, const char *mkimg_args, const char *qemu_opts,
			 int timeout_s, int *status)
{
	char *image = harness_mkimg(name, mkimg_args);
	char *log = harness_boot(image, qemu_opts, timeout_s, status);

	free(image);
	return log;
}

char *harness_boot(const char *image, const char *qemu_opts, int timeout_s, int *status)
{
	char *stem = image_stem(image);
	char *log_path = harness_path("build/tests/log/%s.log", stem);
	char *log_q = harness_quote(log_path), *img_q = harness_quote(image);
	char *out, *log;
	int st;

	st = harness_run(&out,
			 "mkdir -p build/tests/log && rm -f %s && tools/qemu.sh %s --serial %s "
			 "--timeout %d %s",
			 log_q, img_q, log_q, timeout_s, qemu_opts ? qemu_opts : "");
	if (st >= 124 || st < 0)
		/* info, not warn: Criterion exits 1 after any warning. */
		cr_log_info("qemu.sh %s: status %d\n%s", stem, st, out ? out : "(could not run)");
	if (status)
		*status = st;
	log = read_log(log_path);
	free(out);
	free(log_q);
	free(img_q);
	free(log_path);
	free(stem);
	return log ? log : xstrdup("");
}

/* Length of the line at s, without its "\n" and a "\r" before it. */
static size_t line_length(const char *s, const char **next)
{
	const char *end = strchr(s, '\n');
	size_t len;

	if (!end)
		end = s + strlen(s);
	*next = *end ? end + 1 : end;
	len = (size_t)(end - s);
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

/* The serial log without its escape sequences (shim and MokManager draw
 * their screens with them), or NULL. */
static char *plain_log(const char *path)
{
	char *raw = harness_read_file(path);
	if (!raw)
		return NULL;
	char *out = raw;
	for (const char *p = raw; *p;) {
		if (p[0] == '\x1b' && p[1] == '[') {
			p += 2;
			while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
				p++;
			if (*p)
				p++;
			*out++ = ' ';
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
	return raw;
}

/* Seconds on a clock that only goes forward. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True while runner has not ended; WNOWAIT leaves it for harness_stop to reap. */
static int running(pid_t runner)
{
	siginfo_t info = {0};

	return waitid(P_PID, (id_t)runner, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       info.si_pid == 0;
}

int harness_await_text(pid_t runner, const char *path, const char *text, size_t *at, int timeout_s)
{
	for (int i = 0;; i++) {
		/* Asked before reading, so text written just before the end counts. */
		int alive = runner <= 0 || running(runner);
		char *log = plain_log(path);
		char *hit = log && strlen(log) > *at ? strstr(log + *at, text) : NULL;

		if (hit)
			*at = (size_t)(hit - log) + strlen(text);
		free(log);
		if (hit)
			return 0;
		if (!alive || i >= timeout_s * 4)
			return -1;
		usleep(250000);
	}
}

size_t harness_wait_text(const char *path, const char *text, size_t from, int timeout_s)
{
	if (harness_await_text(0, path, text, &from, timeout_s) == 0)
		return from;
	char *log = plain_log(path);
	cr_assert_fail("no \"%s\" after %d s; log:\n%s", text, timeout_s,
		       log ? log + (strlen(log) > 3000 ? strlen(log) - 3000 : 0) : "(none)");
	return 0;
}

#define MONITOR_REPLY_S 10 /* a screendump under TCG takes well under a second */

/*
 * Reads the monitor until what came ends with its "(qemu) " prompt, or
 * until deadline (now()'s clock). *text gets what came, without the prompt,
 * malloc'd; returns 0 when the prompt came, -1 otherwise.
 */
static int monitor_read(int fd, double deadline, char **text)
{
	static const char prompt[] = "(qemu) ";
	const size_t plen = sizeof(prompt) - 1;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int found = 0;

	cr_assert_not_null(buf, "harness: out of memory");
	while (!found) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = (int)((deadline - now()) * 1000);

		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			break;
		if (cap - len < 1024) {
			buf = realloc(buf, cap *= 2);
			cr_assert_not_null(buf, "harness: out of memory");
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		found = len >= plen && !memcmp(buf + len - plen, prompt, plen);
	}
	if (found)
		len -= plen;
	buf[len] = '\0';
	*text = buf;
	return found ? 0 : -1;
}

int harness_monitor_open(const char *sock, int timeout_s)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	double deadline = now() + timeout_s;
	char *greeting;
	int fd;

	cr_assert_lt(strlen(sock), sizeof(addr.sun_path), "socket path too long: %s", sock);
	memcpy(addr.sun_path, sock, strlen(sock) + 1);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		close(fd);
		cr_assert(now() < deadline, "no QEMU monitor at %s after %d s", sock, timeout_s);
		usleep(100000);
	}
	cr_assert_eq(monitor_read(fd, now() + MONITOR_REPLY_S, &greeting), 0,
		     "the QEMU monitor at %s gives no prompt:\n%s", sock, greeting);
	free(greeting);
	return fd;
}

char *harness_monitor_command(int monitor, const char *fmt, ...)
{
	va_list ap;
	char *cmd, *line, *reply;
	size_t len;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	line = harness_format("%s\n", cmd);
	len = strlen(line);
	/* MSG_NOSIGNAL: a QEMU that went away fails the test, not kills it. */
	cr_assert_eq(send(monitor, line, len, MSG_NOSIGNAL), (ssize_t)len,
		     "monitor: cannot send '%s': %s", cmd, strerror(errno));
	cr_assert_eq(monitor_read(monitor, now() + MONITOR_REPLY_S, &reply), 0,
		     "monitor: no prompt after '%s':\n%s", cmd, reply);
	free(line);
	free(cmd);
	return reply;
}

void harness_press_keys(const char *sock, const char *const *keys)
{
	int fd = harness_monitor_open(sock, MONITOR_REPLY_S);

	for (; *keys; keys++) {
		free(harness_monitor_command(fd, "sendkey %s", *keys));
		usleep(500000); /* MokManager redraws between keys */
	}
	close(fd);
}

pid_t harness_start(const char *cmd)
{
	const char *root = harness_root();
	pid_t pid;

	fflush(NULL); /* or the child may repeat our buffered output */
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* Like harness_run: the test's stdin is not the guest's. */
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || chdir(root) != 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int harness_stop(pid_t runner, const char *pidfile, int grace_s)
{
	pid_t qemu = 0;
	int st;

	for (int i = 0; i < grace_s * 4 && running(runner); i++)
		usleep(250000);
	if (!running(runner)) {
		if (waitpid(runner, &st, 0) != runner)
			return -1;
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
	}
	/* qemu.sh itself cannot be stopped: bash runs its TERM trap only once
	 * QEMU has ended, and timeout(1) keeps QEMU in a group of its own. */
	char *text = pidfile ? harness_read_file(pidfile) : NULL;
	if (text)
		qemu = (pid_t)atoi(text);
	free(text);
	if (qemu > 0) {
		kill(qemu, SIGTERM);
		for (int i = 0; i < 100 && running(runner); i++)
			usleep(50000);
		if (running(runner))
			kill(qemu, SIGKILL);
	} else {
		kill(runner, SIGKILL);
	}
	waitpid(runner, &st, 0);
	return -1;
}

int harness_has_line(const char *log, const char *line)
{
	size_t want = strlen(line);
	const char *s = log, *next;

	if (!log)
		return 0;
	while (*s) {
		size_t len = line_length(s, &next);

		if (len == want && !memcmp(s, line, len))
			return 1;
		s = next;
	}
	return 0;
}

const char *harness_last_line_starting(const char *log, const char *prefix)
{
	size_t plen = strlen(prefix), found_len = 0;
	const char *s = log, *next, *found = NULL;
	char *copy;

	if (!log)
		return NULL;
	while (*s) {
		size_t len = line_length(s, &next);

		if (len >= plen && !memcmp(s, prefix, plen)) {
			found = s;
			found_len = len;
		}
		s = next;
	}
	if (!found)
		return NULL;
	copy = strndup(found, found_len);
	cr_assert_not_null(copy, "harness: out of memory");
	return copy;
}

void harness_assert_exit(const char *log, int status, int code)
{
	char want[32];
	const char *last = harness_last_line_starting(log, "solo: ");

	snprintf(want, sizeof(want), "solo: exit %d", code);
	cr_assert(last && !strcmp(last, want), "expected '%s' as the last kernel line, log:\n%s",
		  want, log);
	cr_assert_eq(status, code, "qemu.sh status %d, expected %d; log:\n%s", status, code, log);
}

void harness_assert_memory_returned(const char *log)
{
	const char *line = harness_last_line_starting(log, "solo: memory: ");
	unsigned long after = 0, before = 1;

	cr_assert(line && strstr(line, " pages free after the app, "),
		  "no memory-returned line; log:\n%s", log);
	cr_assert_eq(sscanf(line, "solo: memory: %lu pages free after the app, %lu before it",
			    &after, &before),
		     2, "unparsable: %.80s", line);
	cr_assert_eq(after, before, "the app's pages did not all come back:\n%s", log);
}

int harness_assert_clean_end(const char *log, int status)
{
	const char *last = harness_last_line_starting(log, "solo: exit ");
	int code = -1;

	cr_assert(!strstr(log, "solo: panic"), "the kernel panicked; log:\n%s", log);
	cr_assert(status < 124 || status > 127,
		  "qemu.sh status %d (timeout or runner error); log:\n%s", status, log);
	cr_assert(last && sscanf(last, "solo: exit %d", &code) == 1, "no exit line; log:\n%s", log);
	harness_assert_exit(log, status, code);
	if (code >= 128)
		cr_assert(strstr(log, "solo: app killed: "),
			  "exit %d without a kill line; log:\n%s", code, log);
	harness_assert_memory_returned(log);
	return code;
}

void harness_assert_checks(const char *log, const char *prefix, const char *const *names,
			   size_t count)
{
	char line[256];

	snprintf(line, sizeof(line), "%s: FAIL", prefix);
	cr_assert(!strstr(log, line), "a check failed; log:\n%s", log);
	for (size_t i = 0; i < count; i++) {
		snprintf(line, sizeof(line), "%s: ok %s", prefix, names[i]);
		cr_assert(harness_has_line(log, line), "missing '%s'; log:\n%s", line, log);
	}
	snprintf(line, sizeof(line), "%s: 0 failures", prefix);
	cr_assert(harness_has_line(log, line), "log:\n%s", log);
}

void harness_assert_killed(const char *log, int status, int code, const char *reason)
{
	const char *kill = harness_last_line_starting(log, "solo: app killed: ");

	cr_assert(kill, "no kill line; log:\n%s", log);
	cr_assert(strstr(kill, reason), "kill line '%s' lacks '%s'; log:\n%s", kill, reason, log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	harness_assert_exit(log, status, code);
}

char *harness_boot_until(const char *name, const char *image, const char *qemu_opts,
			 const char *want, int timeout_s)
{
	return harness_boot_until_stay(name, image, qemu_opts, want, timeout_s, 0, NULL);
}

char *harness_boot_until_stay(const char *name, const char *image, const char *qemu_opts,
			      const char *want, int timeout_s, int stay_s, int *status)
{
	char *log_path = harness_path("build/tests/log/%s.log", name);
	char *pidfile = harness_path("build/tests/%s.pid", name);
	char *q_log = harness_quote(log_path), *q_pid = harness_quote(pidfile);
	char *q_image = harness_quote(image);
	size_t at = 0;

	harness_run(NULL, "mkdir -p build/tests/log && rm -f %s %s", q_log, q_pid);
	char *cmd = harness_format("exec tools/qemu.sh %s --serial %s --timeout %d "
				   "--qemu-arg -pidfile --qemu-arg %s %s >/dev/null 2>&1",
				   q_image, q_log, timeout_s, q_pid, qemu_opts);
	pid_t runner = harness_start(cmd);

	harness_await_text(runner, log_path, want, &at, timeout_s); /* the caller judges */
	int stopped = harness_stop(runner, pidfile, stay_s);
	if (status)
		*status = stopped;
	char *log = harness_read_file(log_path);
	free(cmd);
	free(q_image);
	free(q_pid);
	free(q_log);
	free(pidfile);
	free(log_path);
	return log ? log : strdup("");
}
