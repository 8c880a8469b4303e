/*
 * The network server tests: nginx (build/real/nginx, from Debian's source
 * package, with tests/real/nginx's configuration and docroot) and the Go
 * net/http server (build/real/httpd, tests/real/go/httpd/) booted on Solo
 * with QEMU's user networking, the guest's port 8080 forwarded to a free
 * port on 127.0.0.1, and asked the fixed list of requests of
 * tests/real/net-client.sh. The same binary run natively on the host with
 * the same files, arguments and environment, asked the same requests, is the
 * oracle: the two transcripts must be equal byte for byte.
 *
 * Every step is bounded: the host server and Solo must answer within
 * READY_S (build/tools/netload --wait), each request has curl's --max-time,
 * and QEMU has qemu.sh's --timeout. Ports come from the kernel (bind to port
 * 0), so tests running in parallel never share one.
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define READY_S	      120 /* a server's first answer, after its start or the boot */
#define QEMU_LIMIT_S  600 /* the whole boot: qemu.sh --timeout */
#define STOP_WAIT_MS  10000
#define BIG_BYTES     (1024 * 1024)
#define BIG_BYTES_STR "1048576"

/* A server being run: on the host, or QEMU (through qemu.sh) booting Solo. */
struct proc {
	pid_t pid; /* the process (host), or qemu.sh, leading its own process group */
	char *log; /* its output (host), or the serial log (Solo) */
	char *pidfile;
};

/* harness_run, asserting success and showing the command's output if not. */
static void run_ok(const char *what, const char *cmd)
{
	char *out;
	int st = harness_run(&out, "%s", cmd);

	cr_assert_eq(st, 0, "%s failed (status %d):\n%s\n%s", what, st, cmd, out ? out : "");
	free(out);
}

/* A TCP port on 127.0.0.1 that nothing listens on now, from the kernel. */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0, "getsockname");
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* qemu.sh's options: user networking, 127.0.0.1:port on the host to the guest's 8080. */
static char *net_opts(int port)
{
	return harness_format("--net user --nic virtio --hostfwd tcp:%d:8080", port);
}

/* Starts sh -c cmd (from the root) in a process group of its own, output to log. */
static pid_t spawn(const char *cmd, const char *log)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		FILE *f;

		setsid();
		if (chdir(harness_root()) != 0 || !freopen("/dev/null", "r", stdin) ||
		    !(f = freopen(log, "w", stdout)) || dup2(fileno(f), 2) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Ends p: SIGTERM to its process group (and QEMU, from the pidfile), SIGKILL if it lingers. */
static void stop(struct proc *p)
{
	int wst;

	if (p->pid <= 0)
		return;
	if (p->pidfile) {
		char *text = harness_read_file(p->pidfile);
		long qemu = text ? strtol(text, NULL, 10) : 0;

		if (qemu > 1)
			kill((pid_t)qemu, SIGTERM);
		free(text);
	}
	kill(-p->pid, SIGTERM);
	for (int i = 0; i < STOP_WAIT_MS / 100; i++) {
		if (waitpid(p->pid, &wst, WNOHANG) == p->pid) {
			p->pid = 0;
			return;
		}
		usleep(100 * 1000);
	}
	kill(-p->pid, SIGKILL);
	waitpid(p->pid, &wst, 0);
	p->pid = 0;
}

/* 0 once GET / is answered on port (build/tools/netload --wait, bounded). */
static int wait_answer(int port, int seconds)
{
	return harness_run(NULL, "build/tools/netload --wait %d 127.0.0.1 %d /", seconds, port);
}

/*
 * Runs tests/real/net-client.sh SERVER against port into the transcript
 * file out and returns its text; NULL when the client failed, with what it
 * said in *err. Never asserts: the caller stops its server first.
 */
static char *transcript(const char *server, int port, const char *out, const char *data_dir,
			char **err)
{
	int st = harness_run(err, "tests/real/net-client.sh %s %d %s %s", server, port,
			     harness_quote(out), harness_quote(data_dir));

	if (st != 0) {
		*err = harness_format("net-client.sh %s on port %d: status %d\n%s", server, port,
				      st, *err ? *err : "");
		return NULL;
	}
	return harness_read_file(out);
}

/* Line number (from 1) of the first difference of a and b. */
static int first_difference(const char *a, const char *b)
{
	int line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

/*
 * Boots image with the guest's 8080 forwarded to a free port (and
 * qemu_extra, more tools/qemu.sh options: "" for none), waits for the app to
 * start, waits for an answer and returns Solo's transcript. QEMU is stopped
 * before any assertion can end the test.
 */
static char *solo_transcript(const char *name, const char *image, const char *server,
			     const char *out, const char *data_dir, const char *qemu_extra)
{
	int port = free_port(), started = 0, answered;
	struct proc qemu = {
	    .log = harness_path("build/tests/log/%s.log", name),
	    .pidfile = harness_path("build/tests/log/%s.pid", name),
	};
	char *out_log = harness_path("build/tests/log/%s.qemu", name), *log, *text = NULL;
	char *err = NULL;

	run_ok("making the log directory", "mkdir -p build/tests/log");
	unlink(qemu.log);
	unlink(qemu.pidfile);
	qemu.pid = spawn(harness_format("tools/qemu.sh %s --serial %s --timeout %d %s %s "
					"--qemu-arg -pidfile --qemu-arg %s",
					harness_quote(image), harness_quote(qemu.log), QEMU_LIMIT_S,
					net_opts(port), qemu_extra, harness_quote(qemu.pidfile)),
			 out_log);
	/* The boot: bounded by READY_S, 0.5 s steps, or QEMU's end. */
	for (int i = 0; i < READY_S * 2 && !started; i++) {
		log = harness_read_file(qemu.log);
		started = log && strstr(log, "solo: starting the app");
		free(log);
		if (!started && waitpid(qemu.pid, NULL, WNOHANG) == qemu.pid) {
			qemu.pid = 0;
			break;
		}
		if (!started)
			usleep(500 * 1000);
	}
	answered = started && wait_answer(port, READY_S) == 0;
	if (answered)
		text = transcript(server, port, out, data_dir, &err);
	stop(&qemu);
	log = harness_read_file(qemu.log);
	cr_assert(started,
		  "%s: Solo did not start the app within %d s; serial log:\n%s\nqemu.sh:\n%s", name,
		  READY_S, log ? log : "", harness_read_file(out_log));
	cr_assert(answered,
		  "%s: %s on Solo did not answer on 127.0.0.1:%d within %d s; serial log:\n%s",
		  name, server, port, READY_S, log ? log : "");
	cr_assert_not_null(text, "%s: the client failed against Solo: %s\nserial log:\n%s", name,
			   err, log ? log : "");
	return text;
}

static void assert_same(const char *name, const char *host, const char *solo)
{
	int line = first_difference(host, solo);

	cr_assert_str_eq(host, solo,
			 "%s: Solo's transcript differs from the host's at line %d (files: "
			 "build/tests/net/%s.host and .solo)",
			 name, line, name);
}

/* The host half: the server is up on port; its transcript, the server stopped. */
static char *host_transcript(struct proc *host, const char *server, int port, const char *out,
			     const char *data_dir)
{
	char *text = NULL, *err = NULL;
	int answered = wait_answer(port, READY_S) == 0;

	if (answered)
		text = transcript(server, port, out, data_dir, &err);
	stop(host);
	cr_assert(answered, "%s on the host did not answer on port %d:\n%s", server, port,
		  harness_read_file(host->log));
	cr_assert_not_null(text, "the client failed against %s on the host: %s\nits output:\n%s",
			   server, err, harness_read_file(host->log));
	return text;
}

/* ---------------------------------------------------------------- nginx */

/*
 * The staging directory build/tests/net/nginx: www/ (tests/real/nginx/www
 * and big.bin, 1 MiB generated), nginx.conf, passwd, group, and the host's
 * copy of the configuration, host.conf (see tests/real/nginx/nginx.conf),
 * with tmp/ for its pid and temporary files. Returns the directory.
 */
static char *stage_nginx(int host_port)
{
	char *dir = harness_path("build/tests/net/nginx"), *q = harness_quote(dir);

	run_ok("staging nginx's files",
	       harness_format(
		   "rm -rf %s && mkdir -p %s/tmp && cp -R tests/real/nginx/www %s/www && "
		   "cp tests/real/nginx/nginx.conf tests/real/nginx/passwd "
		   "tests/real/nginx/group %s/ && "
		   "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c %d > %s/www/big.bin && "
		   "sed -e 's|/tmp/|%s/tmp/|g' -e 's|listen 8080;|listen 127.0.0.1:%d;|' "
		   "-e 's|/srv/www|%s/www|' tests/real/nginx/nginx.conf > %s/host.conf",
		   q, q, q, q, BIG_BYTES, q, dir, host_port, dir, q));
	return dir;
}

Test(net_servers, nginx_serves_files_like_on_the_host, .timeout = 900)
{
	int port = free_port();
	char *dir = stage_nginx(port), *host_text, *solo_text, *image;
	struct proc host = {.log = harness_format("%s/host.log", dir)};

	cr_assert(harness_exists("build/real/nginx"), "build/real/nginx is missing: make test "
						      "builds it (tools/real-programs.sh)");
	host.pid = spawn(harness_format("exec build/real/nginx -p %s/ -c %s/host.conf", dir, dir),
			 host.log);
	host_text = host_transcript(&host, "nginx", port, harness_format("%s.host", dir),
				    harness_format("%s/www", dir));
	cr_assert(strstr(host_text, "HTTP/1.1 200 OK") && strstr(host_text, "Hello from nginx"),
		  "the host transcript lacks the index page:\n%s", host_text);

	image = harness_mkimg(
	    "net-nginx",
	    harness_format(
		"--app build/real/nginx --name nginx --args '-p / -c /etc/nginx/nginx.conf' "
		"--file %s/nginx.conf:/etc/nginx/nginx.conf --file %s/passwd:/etc/passwd "
		"--file %s/group:/etc/group --file %s/www:/srv/www",
		dir, dir, dir, dir));
	solo_text = solo_transcript("net-nginx", image, "nginx", harness_format("%s.solo", dir),
				    harness_format("%s/www", dir), "");
	assert_same("nginx", host_text, solo_text);
}

/* ---------------------------------------------------------------- Go httpd */

/* The Go HTTP server (build/real/httpd) on the host and on Solo booted as
 * `name` with qemu_extra: the same transcript. */
static void httpd_like_on_the_host(const char *name, const char *qemu_extra)
{
	int port = free_port();
	char *dir = harness_path("build/tests/net/%s", name), *q = harness_quote(dir);
	char *host_text, *solo_text, *image;
	struct proc host = {.log = harness_format("%s/host.log", dir)};

	cr_assert(harness_exists("build/real/httpd"), "build/real/httpd is missing: make test "
						      "builds it (tools/real-programs.sh)");
	run_ok("staging httpd's data",
	       harness_format("rm -rf %s && mkdir -p %s && head -c %d /dev/urandom > %s/big.bin", q,
			      q, BIG_BYTES, q));
	/* The same environment as the image's boot.cfg: /env shows it. */
	host.pid = spawn(harness_format("exec env -i LANG=C SOLO_TEST=net build/real/httpd "
					"127.0.0.1:%d",
					port),
			 host.log);
	host_text = host_transcript(&host, "httpd", port, harness_format("%s.host", dir), dir);
	cr_assert(strstr(host_text, "Hello from httpd") && strstr(host_text, "SOLO_TEST=net"),
		  "the host transcript lacks the index page or the environment:\n%s", host_text);
	cr_assert(strstr(host_text, "body: " BIG_BYTES_STR " bytes"),
		  "the host transcript lacks the 1 MiB bodies:\n%s", host_text);

	image = harness_mkimg(harness_format("net-%s", name),
			      "--app build/real/httpd --name httpd --args :8080 "
			      "--env LANG=C --env SOLO_TEST=net");
	solo_text = solo_transcript(harness_format("net-%s", name), image, "httpd",
				    harness_format("%s.solo", dir), dir, qemu_extra);
	assert_same(name, host_text, solo_text);
}

Test(net_servers, go_httpd_answers_like_on_the_host, .timeout = 900)
{
	httpd_like_on_the_host("httpd", "");
}

/* On four CPUs: the Go runtime's threads, its netpoller's epoll waits and
 * the handlers' socket calls run on every CPU, the network stack behind its
 * lock. */
Test(net_servers, go_httpd_on_four_cpus_answers_like_on_the_host, .timeout = 900)
{
	httpd_like_on_the_host("httpd-smp4", "--smp 4");
}
