/*
 * The network tests: tests/apps/net.c on Solo under QEMU's user-mode network
 * (slirp), with the peers written here running on the host.
 *
 *   - The host connects to the guest through "--hostfwd tcp|udp:P:P" (QEMU
 *     listens on the host's 127.0.0.1:P and forwards to the guest's port P).
 *     QEMU accepts on the host side before the guest listens, so a connect
 *     proves nothing: the host waits for the app's "net: ready CMD PORT" line
 *     in the serial log instead, and only then connects.
 *   - The guest connects to the host at 10.0.2.2:P, which slirp maps to the
 *     host's 127.0.0.1:P. That needs QEMU's user network without restrict=on
 *     (restrict=on drops every connection the guest starts, and UDP, unless a
 *     guestfwd names it: libslirp's tcp_input and udp_input).
 *   - The NIC-model tests, where only the host connects, run with
 *     restrict=on: the guest reaches nothing but its forwarded ports and
 *     QEMU's DHCP server. (Not the DHCP test: a restricted slirp's lease
 *     names no gateway and no DNS server.)
 *   - Where the output must not depend on the kernel (loopback, unix,
 *     sockopts), the same binary runs natively on the host first and Solo's
 *     output must equal it byte for byte.
 *
 * SOLO_NET_TEST_ON_HOST=1 runs every test with the app natively on the host
 * instead of under QEMU, against the same peers (127.0.0.1 instead of
 * 10.0.2.2, the port itself instead of a forward), so the app and the peers
 * are checked against Linux; the boot-log checks (DHCP, static address) are
 * left out there.
 *
 * Ports: SOLO_NET_PORT_BASE, or a base derived from $SOLO_ROOT, plus a fixed
 * offset per test, so parallel tests (and two worktrees) do not collide; all
 * below 32768, where Linux picks ephemeral ports (a client port there would
 * make a test's bind fail now and then).
 * Every wait is bounded: the app runs under alarm(), QEMU under qemu.sh
 * --timeout, and every host socket call under poll with a deadline.
 */
#define _GNU_SOURCE /* asprintf, strcasestr */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define APP		 "build/tests/apps/net.elf"
#define READY_WAIT	 90 /* seconds from QEMU's start to the app's first ready line (TCG) */
#define QEMU_MAC	 "52:54:00:12:34:56" /* QEMU's default for the first NIC */
#define DHCP_ADDR	 "10.0.2.15"	     /* slirp's first DHCP lease */
#define SLIRP_HOST	 "10.0.2.2"	     /* the host, as the guest sees it */
#define SLIRP_DNS	 "10.0.2.3"
#define BULK_MIB	 64
#define SEQ_CONNS	 1000
#define CONCURRENT	 100
#define UDP_DGRAMS	 64
#define GUEST_CONNS	 202	   /* client-tcp: 1 + 1 non-blocking + 200 sequential */
#define SEND_EXIT_BYTES	 (1 << 20) /* send-exit: TCP bytes queued right before the exit */
#define SEND_EXIT_DGRAMS 32	   /* its datagrams (tests/apps/net.c) */

static int on_host(void)
{
	const char *v = getenv("SOLO_NET_TEST_ON_HOST");

	return v && !strcmp(v, "1");
}

/* The first port of this test run; each test adds its own offset (< 100). */
static int port(int offset)
{
	const char *env = getenv("SOLO_NET_PORT_BASE");
	uint32_t h = 2166136261u;

	if (env && *env)
		return atoi(env) + offset;
	for (const char *p = harness_root(); *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return 20000 + (int)(h % 120) * 100 + offset; /* below Linux's ephemeral 32768.. */
}

/* The host's address as the app sees it. */
static const char *host_addr(void)
{
	return on_host() ? "127.0.0.1" : SLIRP_HOST;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- the guest */

/* The app, running: Solo under qemu.sh, or natively (on_host()). */
struct guest {
	const char *name;
	char *log_path;	   /* the serial log, or the native run's stdout+stderr */
	char *runner_path; /* qemu.sh's own messages */
	pid_t pid;	   /* a process group of our own: sh -> qemu.sh -> QEMU */
	int native;	   /* the app runs natively on the host, not on Solo */
	int done, status;
};

/*
 * guest_start - runs net with args (shell words). Under QEMU: an image
 * named name with mkimg_extra, booted with qemu_opts and a timeout of
 * timeout_s. Natively: in build/tests/net/<name>/ with the same args.
 */
static void guest_start(struct guest *g, const char *name, const char *args,
			const char *mkimg_extra, const char *qemu_opts, int timeout_s)
{
	char *cmd;

	memset(g, 0, sizeof(*g));
	g->name = name;
	g->log_path = harness_path("build/tests/log/%s.log", name);
	g->runner_path = harness_path("build/tests/log/%s.runner", name);
	g->native = on_host();
	cr_assert(harness_exists(APP), "%s is missing: make builds it", APP);
	if (g->native) {
		char *dir = harness_path("build/tests/net/%s", name);

		cmd = harness_format("mkdir -p %s && cd %s && exec %s %s >%s 2>&1 </dev/null",
				     harness_quote(dir), harness_quote(dir),
				     harness_quote(harness_path(APP)), args,
				     harness_quote(g->log_path));
	} else {
		char *image = harness_mkimg(name, harness_format("--app %s --name net --args %s %s",
								 APP, harness_quote(args),
								 mkimg_extra ? mkimg_extra : ""));

		cmd = harness_format("exec tools/qemu.sh %s --serial %s --timeout %d %s >%s 2>&1 "
				     "</dev/null",
				     harness_quote(image), harness_quote(g->log_path), timeout_s,
				     qemu_opts ? qemu_opts : "", harness_quote(g->runner_path));
	}
	harness_run(NULL, "mkdir -p build/tests/log && rm -f %s %s && : >%s",
		    harness_quote(g->log_path), harness_quote(g->runner_path),
		    harness_quote(g->log_path));
	fflush(NULL);
	g->pid = fork();
	cr_assert_geq(g->pid, 0, "fork: %s", strerror(errno));
	if (g->pid == 0) {
		setpgid(0, 0);
		if (chdir(harness_root()) != 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(g->pid, g->pid);
	cr_log_info("%s: %s", name, cmd);
}

/* True once the guest's process ended (its status is then in g->status). */
static int guest_ended(struct guest *g)
{
	int wst;

	if (!g->done && waitpid(g->pid, &wst, WNOHANG) == g->pid) {
		g->done = 1;
		g->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	}
	return g->done;
}

/* Ends the guest's whole process group (ours) if it still runs. */
static void guest_kill(struct guest *g)
{
	if (g->pid > 0 && !guest_ended(g)) {
		kill(-g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		g->done = 1;
		g->status = 137;
	}
}

static char *guest_log(const struct guest *g)
{
	char *log = harness_read_file(g->log_path);

	return log ? log : strdup("");
}

/* What to show when a test fails: a hint, qemu.sh's messages and the log. */
static char *guest_report(const struct guest *g)
{
	char *log = guest_log(g), *runner = harness_read_file(g->runner_path);
	const char *hint = "";

	if (strstr(log, "unsupported syscall 41 (socket)"))
		hint = "Solo has no sockets yet: socket() is ENOSYS.\n";
	else if (runner && strstr(runner, "unknown option"))
		hint = "tools/qemu.sh lacks --net/--nic/--hostfwd (the net-drivers branch adds "
		       "them).\n";
	return harness_format("%s---- qemu.sh:\n%s---- log (%s):\n%s", hint, runner ? runner : "",
			      g->log_path, log);
}

/* Fails the test (after stopping the guest) unless cond holds. */
#define guest_assert(g, cond, ...)                                                                 \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			guest_kill(g);                                                             \
			cr_assert(0, __VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

/*
 * guest_wait_line - waits up to timeout_s for line as a whole line of the
 * log. Fails at once when the app reports a failure or the guest ends first.
 */
static void guest_wait_line(struct guest *g, const char *line, int timeout_s)
{
	int64_t end = now_ms() + timeout_s * 1000LL;

	for (;;) {
		char *log = guest_log(g);
		int found = harness_has_line(log, line);
		int failed = strstr(log, "net: FAIL") != NULL;

		free(log);
		if (found)
			return;
		guest_assert(g, !failed, "%s: the app failed before '%s'\n%s", g->name, line,
			     guest_report(g));
		guest_assert(g, !guest_ended(g), "%s: ended (status %d) before '%s'\n%s", g->name,
			     g->status, line, guest_report(g));
		guest_assert(g, now_ms() < end, "%s: no '%s' within %d s\n%s", g->name, line,
			     timeout_s, guest_report(g));
		sleep_ms(50);
	}
}

/* Waits for the guest to end (up to timeout_s); returns its log. */
static char *guest_finish(struct guest *g, int timeout_s)
{
	int64_t end = now_ms() + timeout_s * 1000LL;

	while (!guest_ended(g) && now_ms() < end)
		sleep_ms(100);
	guest_assert(g, guest_ended(g), "%s: still running after %d s\n%s", g->name, timeout_s,
		     guest_report(g));
	return guest_log(g);
}

/*
 * The app succeeded: no failed check, "net: 0 failures", status 0; on Solo
 * also the serial contract ("solo: exit 0" last) and every page returned.
 */
static void assert_app_ok(struct guest *g, const char *log)
{
	char *report = guest_report(g);

	cr_assert(!strstr(log, "net: FAIL"), "%s: a check failed\n%s", g->name, report);
	cr_assert(harness_has_line(log, "net: 0 failures"), "%s: no 'net: 0 failures'\n%s", g->name,
		  report);
	if (g->native) {
		cr_assert_eq(g->status, 0, "%s: status %d\n%s", g->name, g->status, report);
		return;
	}
	harness_assert_exit(log, g->status, 0);
	harness_assert_memory_returned(log);
}

static void assert_has_line(const struct guest *g, const char *log, const char *line)
{
	cr_assert(harness_has_line(log, line), "%s: missing the line '%s'\n%s", g->name, line,
		  guest_report(g));
}

/* True when a line of log starts with "solo: net" and contains what (and also, if not NULL). */
static int has_net_line(const char *log, const char *what, const char *also)
{
	for (const char *s = log; s && *s;) {
		const char *end = strchr(s, '\n');
		char *line = strndup(s, end ? (size_t)(end - s) : strlen(s));
		int found = !strncmp(line, "solo: net", 9) && strstr(line, what) &&
			    (!also || strcasestr(line, also));

		free(line);
		if (found)
			return 1;
		s = end ? end + 1 : NULL;
	}
	return 0;
}

/*
 * The DHCP lease in the boot log (Solo only): a kernel line starting
 * "solo: net" that names DHCP_ADDR/24 and says "dhcp" (any case).
 */
static void assert_dhcp_line(const struct guest *g, const char *log)
{
	if (g->native)
		return;
	cr_assert(has_net_line(log, DHCP_ADDR "/24", "dhcp"),
		  "%s: no boot-log line starting 'solo: net' with '" DHCP_ADDR
		  "/24' and 'dhcp'\n%s",
		  g->name, guest_report(g));
}

/* ---------------------------------------------------------------- host sockets */

/* A TCP or UDP socket bound to 127.0.0.1:port; listening (backlog 256) if listen_too. */
static int host_socket(int type, int port_no, int listen_too)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_no)};
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (void *)&sin, sizeof(sin)), 0, "bind 127.0.0.1:%d: %s", port_no,
		     strerror(errno));
	if (listen_too)
		cr_assert_eq(listen(fd, 256), 0, "listen: %s", strerror(errno));
	return fd;
}

/* Connects to 127.0.0.1:port within timeout_ms; -1 on failure. */
static int host_connect(int port_no, int timeout_ms)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_no)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t len = sizeof(err);
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (void *)&sin, sizeof(sin)) != 0 &&
	    (errno != EINPROGRESS || poll(&p, 1, timeout_ms) != 1 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes n bytes to a non-blocking fd by deadline; 0 or -1. */
static int host_write(int fd, const void *buf, size_t n, int64_t deadline)
{
	const char *p = buf;

	while (n > 0) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		ssize_t w;

		if (now_ms() >= deadline || poll(&pf, 1, (int)(deadline - now_ms())) != 1)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

/* Reads from a non-blocking fd until EOF or cap bytes by deadline; the count, or -1. */
static long host_read_to_eof(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t got = 0;

	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (now_ms() >= deadline || poll(&pf, 1, (int)(deadline - now_ms())) != 1)
			return -1;
		r = read(fd, buf + got, cap - got);
		if (r == 0)
			return (long)got;
		if (r < 0 && errno != EAGAIN)
			return -1;
		if (r > 0)
			got += (size_t)r;
		if (got == cap)
			return -1;
	}
}

/* ---------------------------------------------------------------- host as client */

/* Message i of the sequential and concurrent clients. */
static size_t client_message(char *buf, const char *kind, int i)
{
	int n = sprintf(buf, "%s %04d ", kind, i);

	memset(buf + n, 'a' + i % 26, (size_t)(i % 100));
	n += i % 100;
	buf[n++] = '\n';
	return (size_t)n;
}

/*
 * n connections one after the other to 127.0.0.1:port: send message i,
 * SHUT_WR, read the echo to EOF. Returns NULL or what went wrong; *bytes
 * gets the total sent.
 */
static char *peer_sequential(int port_no, int n, long *bytes)
{
	char msg[256], back[512];

	*bytes = 0;
	for (int i = 0; i < n; i++) {
		/* The first one may wait while the guest's stack answers ARP and the SYN. */
		int64_t deadline = now_ms() + (i == 0 ? 30000 : 10000);
		size_t len = client_message(msg, "connection", i);
		int fd = host_connect(port_no, 10000);
		long got;

		if (fd < 0)
			return harness_format("connection %d: connect: %s", i, strerror(errno));
		if (host_write(fd, msg, len, deadline) != 0 || shutdown(fd, SHUT_WR) != 0) {
			close(fd);
			return harness_format("connection %d: send failed", i);
		}
		got = host_read_to_eof(fd, back, sizeof(back), deadline);
		close(fd);
		if (got != (long)len || memcmp(back, msg, len))
			return harness_format(
			    "connection %d: echo of %zu bytes came back as %ld bytes", i, len, got);
		*bytes += (long)len;
	}
	return NULL;
}

/*
 * n connections open at once: connect all, send on all, read every echo,
 * then SHUT_WR all and read EOF on all. Returns NULL or what went wrong.
 */
static char *peer_concurrent(int port_no, int n, long *bytes)
{
	int *fds = calloc((size_t)n, sizeof(int));
	size_t *want = calloc((size_t)n, sizeof(size_t)), *got = calloc((size_t)n, sizeof(size_t));
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	int64_t deadline = now_ms() + 60000;
	char msg[256], buf[512];
	int left = n, eofs = 0;
	char *err = NULL;

	*bytes = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = host_connect(port_no, 10000);
		if (fds[i] < 0) {
			err = harness_format("connection %d: connect: %s", i, strerror(errno));
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		want[i] = client_message(msg, "concurrent", i);
		*bytes += (long)want[i];
		if (host_write(fds[i], msg, want[i], deadline) != 0) {
			err = harness_format("connection %d: send failed", i);
			goto out;
		}
	}
	while (left > 0) {
		int k = 0;

		for (int i = 0; i < n; i++)
			pf[i] =
			    (struct pollfd){.fd = got[i] < want[i] ? fds[i] : -1, .events = POLLIN};
		if (now_ms() >= deadline || poll(pf, (nfds_t)n, 1000) < 0) {
			err = harness_format("%d of %d echoes missing after 60 s", left, n);
			goto out;
		}
		for (int i = 0; i < n; i++) {
			ssize_t r;

			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(fds[i], buf, sizeof(buf));
			if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
				err = harness_format("connection %d: read %zd (%s) before its echo",
						     i, r, r < 0 ? strerror(errno) : "EOF");
				goto out;
			}
			if (r > 0 && (got[i] += (size_t)r) >= want[i])
				k++;
		}
		left -= k;
	}
	for (int i = 0; i < n; i++)
		shutdown(fds[i], SHUT_WR);
	for (int i = 0; i < n; i++)
		eofs += host_read_to_eof(fds[i], buf, sizeof(buf), deadline) == 0;
	if (eofs != n)
		err = harness_format("%d of %d connections saw EOF after SHUT_WR", eofs, n);
out:
	for (int i = 0; i < n; i++)
		if (fds[i] > 0)
			close(fds[i]);
	return err;
}

/* Size of datagram i (at most 1472: no IP fragments). */
static size_t udp_size(int i)
{
	return 16 + (size_t)(i * 97) % 1457;
}

/*
 * n numbered datagrams to 127.0.0.1:port in batches of 8, each echoed back;
 * lost ones are sent again (the app counts distinct numbers). Returns NULL
 * or what went wrong; *bytes gets the total of the distinct datagrams.
 */
static char *peer_udp(int port_no, int n, long *bytes)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_no)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char *echoed = calloc((size_t)n, 1), buf[2048];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*bytes = 0;
	for (int base = 0; base < n; base += 8) {
		int top = base + 8 < n ? base + 8 : n;

		for (int attempt = 0;; attempt++) {
			int64_t deadline = now_ms() + (base == 0 && attempt < 10 ? 3000 : 2000);
			int missing = 0;

			if (attempt == 15)
				return harness_format("datagrams %d..%d: no echo after 15 attempts",
						      base, top - 1);
			for (int i = base; i < top; i++) {
				size_t len = udp_size(i);

				if (echoed[i])
					continue;
				char head[16];
				int hl = snprintf(head, sizeof(head), "udp %05d ", i);

				memset(buf, 'u', len);
				memcpy(buf, head, (size_t)hl);
				sendto(fd, buf, len, 0, (void *)&to, sizeof(to));
			}
			for (int i = base; i < top; i++)
				missing += !echoed[i];
			while (missing > 0 && now_ms() < deadline) {
				struct pollfd pf = {.fd = fd, .events = POLLIN};
				int seq;
				ssize_t r;

				if (poll(&pf, 1, (int)(deadline - now_ms())) != 1)
					break;
				r = recv(fd, buf, sizeof(buf) - 1, 0);
				if (r <= 0)
					continue;
				buf[r] = '\0';
				if (sscanf(buf, "udp %d ", &seq) == 1 && seq >= base && seq < top &&
				    !echoed[seq] && (size_t)r == udp_size(seq)) {
					echoed[seq] = 1;
					*bytes += r;
					missing--;
				}
			}
			if (missing == 0)
				break;
		}
	}
	close(fd);
	return NULL;
}

/* ---------------------------------------------------------------- host as server */

/* A server thread on the host: runs until stop is set; err says what went wrong. */
struct server {
	pthread_t thread;
	int fd; /* bound (and listening, for TCP) before the guest starts */
	volatile int stop;
	int connections;
	char *err;
	/* bulk */
	uint64_t sent, got, hash_sent, hash_got;
};

/* TCP echo: any number of connections at once, each echoed until EOF, then closed. */
static void *tcp_echo_server(void *arg)
{
	struct server *s = arg;
	struct pollfd pf[65];
	int n = 1;

	pf[0] = (struct pollfd){.fd = s->fd, .events = POLLIN};
	while (!s->stop) {
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = n - 1; i >= 1; i--) {
			char buf[16384];
			ssize_t r;

			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[i].fd, buf, sizeof(buf));
			if (r > 0 && host_write(pf[i].fd, buf, (size_t)r, now_ms() + 10000) == 0)
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			close(pf[i].fd);
			pf[i] = pf[--n];
		}
		if ((pf[0].revents & POLLIN) && n < 65) {
			int c = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (c >= 0) {
				pf[n++] = (struct pollfd){.fd = c, .events = POLLIN};
				s->connections++;
			}
		}
	}
	for (int i = 1; i < n; i++)
		close(pf[i].fd);
	return NULL;
}

/* UDP echo: every datagram goes back to its sender. */
static void *udp_echo_server(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		struct pollfd pf = {.fd = s->fd, .events = POLLIN};
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		char buf[65536];
		ssize_t r;

		if (poll(&pf, 1, 100) != 1)
			continue;
		r = recvfrom(s->fd, buf, sizeof(buf), 0, (void *)&from, &fl);
		if (r >= 0)
			sendto(s->fd, buf, (size_t)r, 0, (void *)&from, fl);
	}
	return NULL;
}

#define BULK_BLOCK 65536

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Block b of the host's bulk stream (independent of the app's). */
static void host_block(unsigned char *buf, uint64_t b)
{
	uint64_t x = 0x686f7374ull ^ (b * 0x9e3779b97f4a7c15ull);

	for (int i = 0; i < BULK_BLOCK; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
}

/*
 * Bulk: accepts one connection, sends BULK_MIB MiB of the host's stream and
 * reads until EOF at the same time, hashing both; SHUT_WR after sending.
 */
static void *bulk_server(void *arg)
{
	struct server *s = arg;
	static unsigned char out[BULK_BLOCK], in[BULK_BLOCK];
	uint64_t total = (uint64_t)BULK_MIB << 20;
	size_t opos = BULK_BLOCK;
	int c = -1, eof = 0;

	s->hash_sent = s->hash_got = 0xcbf29ce484222325ull;
	while (!s->stop && c < 0) {
		struct pollfd pf = {.fd = s->fd, .events = POLLIN};

		if (poll(&pf, 1, 100) == 1)
			c = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	if (c < 0)
		return NULL;
	s->connections++;
	while (!s->stop && (!eof || s->sent < total)) {
		struct pollfd pf = {.fd = c, .events = (short)(eof ? 0 : POLLIN)};

		if (s->sent < total)
			pf.events |= POLLOUT;
		if (poll(&pf, 1, 100) != 1)
			continue;
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(c, in, sizeof(in));

			if (r > 0) {
				s->hash_got = fnv1a(s->hash_got, in, (size_t)r);
				s->got += (uint64_t)r;
			} else if (r == 0) {
				eof = 1;
			} else if (errno != EAGAIN) {
				s->err = harness_format("bulk read: %s", strerror(errno));
				break;
			}
		}
		if ((pf.revents & POLLOUT) && s->sent < total) {
			ssize_t w;

			if (opos == BULK_BLOCK) {
				host_block(out, s->sent / BULK_BLOCK);
				s->hash_sent = fnv1a(s->hash_sent, out, BULK_BLOCK);
				opos = 0;
			}
			w = send(c, out + opos, BULK_BLOCK - opos, MSG_NOSIGNAL);
			if (w > 0) {
				opos += (size_t)w;
				s->sent += (uint64_t)w;
				if (s->sent == total)
					shutdown(c, SHUT_WR);
			} else if (errno != EAGAIN) {
				s->err = harness_format("bulk send: %s", strerror(errno));
				break;
			}
		}
	}
	close(c);
	return NULL;
}

/* TCP sink: one connection, read to EOF; got counts the bytes, err says
 * how it ended if not with a clean EOF (a reset loses what was in flight). */
static void *tcp_sink_server(void *arg)
{
	struct server *s = arg;
	static char buf[65536];
	int c = -1;

	while (!s->stop && c < 0) {
		struct pollfd pf = {.fd = s->fd, .events = POLLIN};

		if (poll(&pf, 1, 100) == 1)
			c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	}
	if (c < 0)
		return NULL;
	s->connections++;
	for (;;) {
		ssize_t r = read(c, buf, sizeof(buf));

		if (r > 0) {
			s->got += (uint64_t)r;
			continue;
		}
		if (r < 0)
			s->err = harness_format("read after %llu bytes: %s",
						(unsigned long long)s->got, strerror(errno));
		break;
	}
	close(c);
	return NULL;
}

/* UDP sink: counts datagrams (connections) and their bytes (got). */
static void *udp_sink_server(void *arg)
{
	struct server *s = arg;
	static char buf[65536];

	while (!s->stop) {
		struct pollfd pf = {.fd = s->fd, .events = POLLIN};

		if (poll(&pf, 1, 100) != 1)
			continue;
		ssize_t r = recv(s->fd, buf, sizeof(buf), 0);
		if (r >= 0) {
			s->connections++;
			s->got += (uint64_t)r;
		}
	}
	return NULL;
}

static void server_start(struct server *s, int fd, void *(*fn)(void *))
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	cr_assert_eq(pthread_create(&s->thread, NULL, fn, s), 0, "pthread_create");
}

static void server_stop(struct server *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* ---------------------------------------------------------------- the tests */

/* The qemu.sh options of a user-mode network with these forwards (a shell word list). */
static char *net_opts(const char *more)
{
	return harness_format("--net user %s", more ? more : "");
}

/* Expected summary of serve-tcp after peer_sequential. */
static void expect_line(struct guest *g, const char *log, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_line(struct guest *g, const char *log, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&line, fmt, ap), 0, "out of memory");
	va_end(ap);
	assert_has_line(g, log, line);
}

/*
 * The host is the client: 1,000 connections one after the other, then 100
 * at once on the app's epoll server, then 64 numbered UDP datagrams, all
 * through hostfwd, in one boot.
 */
Test(net, host_connects_1000_times_then_100_at_once_then_udp, .timeout = 300)
{
	int p = port(0);
	struct guest g;
	long seq_bytes, conc_bytes, udp_bytes;
	char *err, *log;

	guest_start(&g, "net-host-client",
		    harness_format("serve-tcp %d %d + serve-concurrent %d %d + udp-echo %d %d", p,
				   SEQ_CONNS, p, CONCURRENT, p, UDP_DGRAMS),
		    NULL,
		    net_opts(harness_format("--hostfwd tcp:%d:%d --hostfwd udp:%d:%d", p, p, p, p)),
		    240);
	guest_wait_line(&g, harness_format("net: ready serve-tcp %d", p), READY_WAIT);
	err = peer_sequential(p, SEQ_CONNS, &seq_bytes);
	guest_assert(&g, !err, "sequential clients: %s\n%s", err, guest_report(&g));
	guest_wait_line(&g, harness_format("net: ready serve-concurrent %d", p), 30);
	err = peer_concurrent(p, CONCURRENT, &conc_bytes);
	guest_assert(&g, !err, "concurrent clients: %s\n%s", err, guest_report(&g));
	guest_wait_line(&g, harness_format("net: ready udp-echo %d", p), 30);
	err = peer_udp(p, UDP_DGRAMS, &udp_bytes);
	guest_assert(&g, !err, "udp: %s\n%s", err, guest_report(&g));
	log = guest_finish(&g, 60);
	assert_app_ok(&g, log);
	expect_line(&g, log, "serve-tcp: %d connections, %ld bytes echoed", SEQ_CONNS, seq_bytes);
	expect_line(&g, log,
		    "serve-concurrent: %d connections, %d open at once, %d with EPOLLRDHUP, %ld "
		    "bytes echoed",
		    CONCURRENT, CONCURRENT, CONCURRENT, conc_bytes);
	expect_line(&g, log, "udp-echo: %d distinct datagrams, %ld bytes", UDP_DGRAMS, udp_bytes);
}

/*
 * The guest is the client: client-tcp and udp-client against echo servers
 * on the host (10.0.2.2:P), and a host port that refuses connections; then
 * send-exit: what the app queued right before it exited reaches the host.
 */
Test(net, guest_connects_to_host_tcp_and_udp_servers, .timeout = 300)
{
	int p = port(10), closed = port(11), sink = port(12);
	struct server tcp, udp, tcp_sink, udp_sink;
	int refuser = host_socket(SOCK_STREAM, closed, 0); /* bound, not listening */
	struct guest g;
	char *log;

	server_start(&tcp, host_socket(SOCK_STREAM, p, 1), tcp_echo_server);
	server_start(&udp, host_socket(SOCK_DGRAM, p, 0), udp_echo_server);
	server_start(&tcp_sink, host_socket(SOCK_STREAM, sink, 1), tcp_sink_server);
	server_start(&udp_sink, host_socket(SOCK_DGRAM, sink, 0), udp_sink_server);
	guest_start(&g, "net-guest-client",
		    harness_format("client-tcp %s %d %d + udp-client %s %d + send-exit %s %d %d %d",
				   host_addr(), p, closed, host_addr(), p, host_addr(), sink, sink,
				   SEND_EXIT_BYTES),
		    NULL, net_opts(NULL), 240);
	log = guest_finish(&g, 260);
	sleep_ms(500); /* the host's own sockets: the last datagrams to the sink */
	server_stop(&tcp);
	server_stop(&udp);
	server_stop(&tcp_sink);
	server_stop(&udp_sink);
	close(refuser);
	assert_app_ok(&g, log);
	assert_has_line(&g, log, "client-tcp: done");
	assert_has_line(&g, log, "udp-client: done");
	cr_assert_eq(tcp.connections, GUEST_CONNS, "the host's echo server saw %d connections",
		     tcp.connections);
	cr_assert(!tcp_sink.err && tcp_sink.got == SEND_EXIT_BYTES,
		  "sent right before the exit: the host got %llu of %d bytes (%s)",
		  (unsigned long long)tcp_sink.got, SEND_EXIT_BYTES,
		  tcp_sink.err ? tcp_sink.err : "then EOF");
	cr_assert_eq(udp_sink.connections, SEND_EXIT_DGRAMS,
		     "sent right before the exit: the host got %d of %d datagrams",
		     udp_sink.connections, SEND_EXIT_DGRAMS);
}

/* 64 MiB each way at once over one connection the guest opens; FNV-1a of each direction. */
Test(net, bulk_64_mib_each_way_with_checksums, .timeout = 400)
{
	int p = port(20);
	struct server bulk;
	struct guest g;
	char *log;

	server_start(&bulk, host_socket(SOCK_STREAM, p, 1), bulk_server);
	guest_start(&g, "net-bulk", harness_format("bulk %s %d %d", host_addr(), p, BULK_MIB), NULL,
		    net_opts(NULL), 300);
	log = guest_finish(&g, 320);
	server_stop(&bulk);
	if (harness_last_line_starting(log, "net: info bulk"))
		cr_log_info("%s", harness_last_line_starting(log, "net: info bulk"));
	assert_app_ok(&g, log);
	cr_assert(!bulk.err, "host side: %s", bulk.err);
	cr_assert_eq(bulk.got, (uint64_t)BULK_MIB << 20, "the host received %llu bytes",
		     (unsigned long long)bulk.got);
	expect_line(&g, log,
		    "bulk: sent %d MiB fnv1a %016llx, received %d MiB 0 bytes fnv1a %016llx",
		    BULK_MIB, (unsigned long long)bulk.hash_got, BULK_MIB,
		    (unsigned long long)bulk.hash_sent);
}

/*
 * One DHCP boot: the lease in the boot log and in getifaddrs/ioctls (with
 * QEMU's MAC), a dual-stack [::] listener taking v4-mapped connections from
 * the host, an IPv6 link-local address, and getaddrinfo through /etc/hosts,
 * /etc/resolv.conf (slirp's DNS) and the hostname from boot.cfg.
 */
Test(net, dhcp_lease_ifaces_ipv6_link_local_and_dns, .timeout = 300)
{
	int p = port(30);
	char *hosts = harness_path("build/tests/net/hosts"), *args, *log;
	struct guest g;
	long bytes;
	char *err;
	FILE *f;

	harness_run(NULL, "mkdir -p build/tests/net");
	f = fopen(hosts, "w");
	cr_assert_not_null(f, "%s: %s", hosts, strerror(errno));
	fprintf(f, "127.0.0.1 localhost\n%s solo-host\n", SLIRP_HOST);
	fclose(f);
	if (on_host())
		args = harness_format("ifaces + v6 %d 2 ll + dns --resolve localhost=127.0.0.1", p);
	else
		args = harness_format(
		    "ifaces %s/24 %s + v6 %d 2 ll + dns --resolve localhost=127.0.0.1 "
		    "--resolve solo-host=%s --nameserver %s --hostname solo-net",
		    DHCP_ADDR, QEMU_MAC, p, SLIRP_HOST, SLIRP_DNS);
	guest_start(
	    &g, "net-dhcp", args,
	    harness_format("--config hostname=solo-net --file %s:/etc/hosts", harness_quote(hosts)),
	    net_opts(harness_format("--hostfwd tcp:%d:%d", p, p)), 180);
	guest_wait_line(&g, harness_format("net: ready v6 %d", p), READY_WAIT);
	err = peer_sequential(p, 2, &bytes);
	guest_assert(&g, !err, "v6: %s\n%s", err, guest_report(&g));
	log = guest_finish(&g, 60);
	assert_app_ok(&g, log);
	assert_has_line(&g, log, "v6: 2 connections");
	assert_has_line(&g, log, "ifaces: done");
	assert_has_line(&g, log, "dns: done");
	assert_dhcp_line(&g, log);
}

/*
 * A static address from boot.cfg (ip=10.0.2.20/24 gateway=10.0.2.2): the
 * interface has it, nothing asked DHCP, and a connection to the host leaves
 * from it.
 */
Test(net, static_address_from_boot_cfg, .timeout = 300)
{
	int p = port(40);
	struct server tcp;
	struct guest g;
	char *log;

	server_start(&tcp, host_socket(SOCK_STREAM, p, 1), tcp_echo_server);
	if (on_host())
		guest_start(&g, "net-static",
			    harness_format("ifaces + echo-client 127.0.0.1 %d 127.0.0.1", p), NULL,
			    NULL, 0);
	else
		guest_start(&g, "net-static",
			    harness_format("ifaces 10.0.2.20/24 + echo-client %s %d 10.0.2.20",
					   SLIRP_HOST, p),
			    "--config ip=10.0.2.20/24 --config gateway=" SLIRP_HOST, net_opts(NULL),
			    180);
	log = guest_finish(&g, 200);
	server_stop(&tcp);
	assert_app_ok(&g, log);
	assert_has_line(&g, log, "echo-client: done");
	if (!g.native) {
		cr_assert(has_net_line(log, "10.0.2.20/24", NULL),
			  "no boot-log line starting 'solo: net' names 10.0.2.20/24\n%s",
			  guest_report(&g));
		cr_assert(!strstr(log, DHCP_ADDR), "a static boot names the DHCP address %s\n%s",
			  DHCP_ADDR, guest_report(&g));
	}
}

/*
 * Every NIC model on both machines: the DHCP lease, QEMU's MAC read from the
 * device, and three echo connections from the host.
 */
static void nic_echo(const char *nic, const char *machine, int offset)
{
	int p = port(50 + offset);
	char *name = harness_format("net-nic-%s-%s", nic, machine), *log, *err;
	struct guest g;
	long bytes;

	guest_start(
	    &g, name,
	    on_host() ? harness_format("ifaces + serve-tcp %d 3", p)
		      : harness_format("ifaces %s/24 %s + serve-tcp %d 3", DHCP_ADDR, QEMU_MAC, p),
	    NULL,
	    net_opts(harness_format("--restrict --nic %s --machine %s --hostfwd tcp:%d:%d", nic,
				    machine, p, p)),
	    150);
	guest_wait_line(&g, harness_format("net: ready serve-tcp %d", p), READY_WAIT);
	err = peer_sequential(p, 3, &bytes);
	guest_assert(&g, !err, "%s: %s\n%s", name, err, guest_report(&g));
	log = guest_finish(&g, 60);
	assert_app_ok(&g, log);
	expect_line(&g, log, "serve-tcp: 3 connections, %ld bytes echoed", bytes);
	assert_dhcp_line(&g, log);
}

Test(net, nic_virtio_on_q35, .timeout = 200)
{
	nic_echo("virtio", "q35", 0);
}

Test(net, nic_virtio_on_pc, .timeout = 200)
{
	nic_echo("virtio", "pc", 1);
}

Test(net, nic_virtio_legacy_on_q35, .timeout = 200)
{
	nic_echo("virtio-legacy", "q35", 2);
}

Test(net, nic_virtio_legacy_on_pc, .timeout = 200)
{
	nic_echo("virtio-legacy", "pc", 3);
}

Test(net, nic_e1000e_on_q35, .timeout = 200)
{
	nic_echo("e1000e", "q35", 4);
}

Test(net, nic_e1000e_on_pc, .timeout = 200)
{
	nic_echo("e1000e", "pc", 5);
}

Test(net, nic_e1000_on_q35, .timeout = 200)
{
	nic_echo("e1000", "q35", 6);
}

Test(net, nic_e1000_on_pc, .timeout = 200)
{
	nic_echo("e1000", "pc", 7);
}

/* ---------------------------------------------------------------- like the host */

/* The app's lines in a serial log: after "solo: starting the app", without "solo: " lines. */
static char *app_output(const char *log)
{
	const char *s = strstr(log, "solo: starting the app\r\n");
	size_t len = 0;
	char *out = calloc(1, strlen(log) + 1);

	cr_assert_not_null(out, "out of memory");
	if (!s)
		return out;
	for (s = strchr(s, '\n') + 1; *s;) {
		const char *end = strchr(s, '\n');
		size_t n = end ? (size_t)(end - s) : strlen(s);

		if (!strncmp(s, "solo: exit ", 11))
			break;
		if (strncmp(s, "solo: ", 6)) {
			memcpy(out + len, s, n);
			len += n;
			if (len > 0 && out[len - 1] == '\r')
				len--;
			if (end)
				out[len++] = '\n';
		}
		if (!end)
			break;
		s = end + 1;
	}
	out[len] = '\0';
	return out;
}

/*
 * Loopback TCP/UDP (IPv4 and ::1), AF_UNIX and socket options, without a
 * NIC (net=none): Solo's output must equal the host's byte for byte.
 */
Test(net, loopback_unix_and_sockopts_like_on_the_host, .timeout = 200)
{
	const char *args = "loopback + unix + sockopts";
	struct guest host, solo;
	char *host_log, *solo_log, *host_out, *solo_out;

	/* The oracle: the same binary, natively. */
	if (!on_host()) {
		setenv("SOLO_NET_TEST_ON_HOST", "1", 1);
		guest_start(&host, "net-like-host-native", args, NULL, NULL, 0);
		host_log = guest_finish(&host, 60);
		unsetenv("SOLO_NET_TEST_ON_HOST");
	} else {
		guest_start(&host, "net-like-host-native", args, NULL, NULL, 0);
		host_log = guest_finish(&host, 60);
	}
	assert_app_ok(&host, host_log);
	if (on_host())
		return;
	guest_start(&solo, "net-like-host", args, "--config net=none", "--net none", 150);
	solo_log = guest_finish(&solo, 170);
	host_out = host_log;
	solo_out = app_output(solo_log);
	cr_assert_str_eq(solo_out, host_out,
			 "Solo's output differs from the host's\n---- host:\n%s---- Solo:\n%s\n%s",
			 host_out, solo_out, guest_report(&solo));
	assert_app_ok(&solo, solo_log);
}
