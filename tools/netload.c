/*
 * netload - a small HTTP/1.1 load client for make bench-net and the network
 * tests: a fixed number of requests over C keep-alive connections, each
 * connection a thread with its share of the requests, one request in flight
 * per connection. The connections are opened before the clock starts. Every step is bounded: the
 * request count (-n), the whole run's time (-t), and each connect, send and receive (-T). It prints
 * one line of key=value figures: requests done, errors, wall time, requests per second, p50/p99
 * latency and body bytes per second.
 *
 * Responses must carry Content-Length (nginx's static files and the Go
 * httpd do); a response that does not, a status other than 2xx, a timeout
 * or a closed connection counts as an error, and the connection is opened
 * again for the next request. "Connection: close" from the server is obeyed.
 *
 * --wait S is the other mode: one GET at a time, each given one second,
 * every 0.2 s, until one is answered with 2xx or S seconds have passed (at
 * most 5*S tries); exit 0 when answered. Under QEMU's user networking the
 * host port accepts before the guest listens, so "the port is open" means
 * nothing: an answer does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS    256
#define MAX_REQUESTS 10000000L
#define HEADER_MAX   16384
#define RECV_CHUNK   65536

struct options {
	const char *host, *port, *path;
	long requests;	 /* -n: the whole run's requests */
	int conns;	 /* -c */
	double limit_s;	 /* -t: the whole run */
	double io_s;	 /* -T: one connect, send or receive */
	long body_bytes; /* -b: POST a body of this many bytes (else GET) */
	int close;	 /* --close: one request per connection */
};

struct worker {
	pthread_t thread;
	const struct options *opt;
	int fd;		   /* the connection, opened before the clock starts; or -1 */
	long quota;	   /* requests this connection sends */
	long done, errors; /* answered with 2xx; failed */
	uint64_t body;	   /* response body bytes received */
	uint32_t *lat_us;  /* latency of each request done, in microseconds */
	struct addrinfo *ai;
	char *request;
	size_t request_len;
	char first_error[160];
};

static double deadline; /* CLOCK_MONOTONIC seconds at which every worker stops */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: netload [-c CONNS] [-n REQUESTS] [-t SECONDS] [-T SECONDS] [-b BYTES]\n"
		   "               [--close] HOST PORT PATH\n"
		   "       netload --wait SECONDS HOST PORT PATH\n"
		   "  -c  keep-alive connections, one thread each [1] (at most 256)\n"
		   "  -n  requests in all, shared out between the connections [1000]\n"
		   "  -t  stop the run after SECONDS in any case [60]\n"
		   "  -T  give up one connect, send or receive after SECONDS [10]\n"
		   "  -b  POST a body of BYTES bytes instead of GET\n"
		   "  --close  a new connection for every request\n"
		   "Prints: requests= errors= seconds= rps= p50_us= p99_us= body_bytes= mb_per_s=\n"
		   "(MB = 10^6 bytes). Exit 0 when every request was answered with 2xx.\n");
}

static void set_error(struct worker *w, const char *what)
{
	if (!w->first_error[0])
		snprintf(w->first_error, sizeof(w->first_error), "%s", what);
}

static void set_timeouts(int fd, double seconds)
{
	struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* connect too, on Linux */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A connected socket, or -1 (the reason in w->first_error). */
static int open_conn(struct worker *w, double io_s)
{
	int fd = socket(w->ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		set_error(w, "socket failed");
		return -1;
	}
	set_timeouts(fd, io_s);
	if (connect(fd, w->ai->ai_addr, w->ai->ai_addrlen) != 0) {
		set_error(w, errno == EINPROGRESS ? "connect timed out" : "connect failed");
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The value of header name (lower case, with ':') in the header block hdr, or NULL. */
static const char *header_value(const char *hdr, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = strstr(hdr, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		if (!strncasecmp(line, name, len)) {
			line += len;
			while (*line == ' ' || *line == '\t')
				line++;
			return line;
		}
	}
	return NULL;
}

/*
 * One request on fd and its response, read to its end. Returns 0 when it was
 * answered with 2xx, -1 on an error (fd is then of no further use). *keep is
 * cleared when the server closes the connection after this response.
 */
static int exchange(struct worker *w, int fd, char *buf, int *keep)
{
	size_t have = 0;
	char *end = NULL;
	const char *cl;
	long long length, got;
	int status;

	if (send_all(fd, w->request, w->request_len) != 0) {
		set_error(w, "send failed");
		return -1;
	}
	if (w->opt->body_bytes > 0) {
		static const char fill[4096] = {[0 ... 4095] = 'x'};
		long left = w->opt->body_bytes;

		while (left > 0) {
			size_t n = left > (long)sizeof(fill) ? sizeof(fill) : (size_t)left;

			if (send_all(fd, fill, n) != 0) {
				set_error(w, "send of the body failed");
				return -1;
			}
			left -= (long)n;
		}
	}
	while (!end) {
		ssize_t n;

		if (have >= HEADER_MAX - 1) {
			set_error(w, "response header too long");
			return -1;
		}
		n = recv(fd, buf + have, HEADER_MAX - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_error(w, n == 0 ? "connection closed before the response"
					    : "receive failed or timed out");
			return -1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	*end = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		set_error(w, "not an HTTP/1.x response");
		return -1;
	}
	cl = header_value(buf, "content-length:");
	if (!cl) {
		set_error(w, "response without Content-Length");
		return -1;
	}
	length = strtoll(cl, NULL, 10);
	if (header_value(buf, "connection:") &&
	    !strncasecmp(header_value(buf, "connection:"), "close", 5))
		*keep = 0;
	got = (long long)(have - (size_t)(end + 4 - buf));
	while (got < length) {
		size_t want = length - got > RECV_CHUNK ? RECV_CHUNK : (size_t)(length - got);
		ssize_t n = recv(fd, buf, want, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_error(w, "body cut short");
			return -1;
		}
		got += n;
	}
	if (got > length) {
		set_error(w, "more bytes than Content-Length (pipelining is not used)");
		return -1;
	}
	w->body += (uint64_t)length;
	if (status < 200 || status > 299) {
		char what[64];

		snprintf(what, sizeof(what), "status %d", status);
		set_error(w, what);
		return -1;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char *buf = malloc(HEADER_MAX > RECV_CHUNK ? HEADER_MAX : RECV_CHUNK);
	int fd = w->fd;

	if (!buf) {
		w->errors = w->quota;
		set_error(w, "out of memory");
		return NULL;
	}
	for (long i = 0; i < w->quota && now_s() < deadline; i++) {
		double t0 = now_s();
		int keep = !w->opt->close;

		if (fd < 0)
			fd = open_conn(w, w->opt->io_s);
		if (fd < 0 || exchange(w, fd, buf, &keep) != 0) {
			w->errors++;
			keep = 0;
		} else {
			double us = (now_s() - t0) * 1e6;

			w->lat_us[w->done++] = us > 4e9 ? 4000000000u : (uint32_t)us;
		}
		if (!keep && fd >= 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of the n sorted values v, nearest rank. */
static uint32_t percentile(const uint32_t *v, long n, double p)
{
	long rank;

	if (n == 0)
		return 0;
	rank = (long)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

static char *build_request(const struct options *opt, size_t *len)
{
	char *req = NULL;
	int n;

	if (opt->body_bytes > 0)
		n = asprintf(&req,
			     "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: netload\r\n"
			     "Content-Type: application/octet-stream\r\nContent-Length: %ld\r\n%s"
			     "\r\n",
			     opt->path, opt->host, opt->port, opt->body_bytes,
			     opt->close ? "Connection: close\r\n" : "");
	else
		n = asprintf(
		    &req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: netload\r\n%s\r\n",
		    opt->path, opt->host, opt->port, opt->close ? "Connection: close\r\n" : "");
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return req;
}

static double parse_seconds(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !(v > 0) || v > 86400) {
		fprintf(stderr, "netload: %s wants seconds in (0, 86400], not '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static long parse_long(const char *s, const char *what, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v < min || v > max) {
		fprintf(stderr, "netload: %s wants a whole number in [%ld, %ld], not '%s'\n", what,
			min, max, s);
		exit(2);
	}
	return v;
}

/* --wait: see the header. */
static int wait_for_answer(struct options *opt, struct addrinfo *ai, double wait_s)
{
	struct worker w = {.opt = opt, .ai = ai, .quota = 1};
	char *buf = malloc(HEADER_MAX > RECV_CHUNK ? HEADER_MAX : RECV_CHUNK);
	double start = now_s();
	long tries = (long)(wait_s * 5) + 1;
	uint32_t lat;

	w.lat_us = &lat;
	w.request = build_request(opt, &w.request_len);
	if (!buf || !w.request)
		return 2;
	for (long i = 0; i < tries && now_s() - start < wait_s; i++) {
		int keep = 0, fd;

		w.first_error[0] = '\0'; /* say the last try's reason */
		fd = open_conn(&w, 1.0);

		if (fd >= 0) {
			int ok = exchange(&w, fd, buf, &keep) == 0;

			close(fd);
			if (ok) {
				printf("netload: answered after %.1f s\n", now_s() - start);
				return 0;
			}
		}
		usleep(200000);
	}
	fprintf(stderr, "netload: no answer from %s:%s%s within %.0f s (last: %s)\n", opt->host,
		opt->port, opt->path, wait_s, w.first_error[0] ? w.first_error : "-");
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"close", no_argument, NULL, 'C'},
						 {"wait", required_argument, NULL, 'W'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct options opt = {.requests = 1000, .conns = 1, .limit_s = 60, .io_s = 10};
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	struct worker *workers;
	double wait_s = 0, start, secs;
	long done = 0, errors = 0, k = 0;
	uint64_t body = 0;
	uint32_t *lat;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:n:t:T:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.conns = (int)parse_long(optarg, "-c", 1, MAX_CONNS);
			break;
		case 'n':
			opt.requests = parse_long(optarg, "-n", 1, MAX_REQUESTS);
			break;
		case 't':
			opt.limit_s = parse_seconds(optarg, "-t");
			break;
		case 'T':
			opt.io_s = parse_seconds(optarg, "-T");
			break;
		case 'b':
			opt.body_bytes = parse_long(optarg, "-b", 1, 1L << 30);
			break;
		case 'C':
			opt.close = 1;
			break;
		case 'W':
			wait_s = parse_seconds(optarg, "--wait");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return 2;
	}
	opt.host = argv[optind];
	opt.port = argv[optind + 1];
	opt.path = argv[optind + 2];
	rc = getaddrinfo(opt.host, opt.port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "netload: %s:%s: %s\n", opt.host, opt.port, gai_strerror(rc));
		return 2;
	}
	if (wait_s > 0)
		return wait_for_answer(&opt, ai, wait_s);

	if (opt.conns > opt.requests)
		opt.conns = (int)opt.requests;
	workers = calloc((size_t)opt.conns, sizeof(*workers));
	lat = malloc((size_t)opt.requests * sizeof(*lat));
	if (!workers || !lat) {
		fprintf(stderr, "netload: out of memory\n");
		return 2;
	}
	/*
	 * The connections are opened one after the other before the clock
	 * starts: QEMU's user networking listens for hostfwd with a backlog of
	 * 1, so connects made at the same moment wait for SYN retransmits (1 s),
	 * which would measure slirp, not the guest.
	 */
	deadline = now_s() + opt.limit_s;
	for (int i = 0; i < opt.conns; i++) {
		struct worker *w = &workers[i];

		w->opt = &opt;
		w->ai = ai;
		w->fd = opt.close ? -1 : open_conn(w, opt.io_s);
	}
	start = now_s();
	deadline = start + opt.limit_s;
	for (int i = 0; i < opt.conns; i++) {
		struct worker *w = &workers[i];

		w->quota = opt.requests / opt.conns + (i < opt.requests % opt.conns);
		w->lat_us = lat + k;
		k += w->quota;
		w->request = build_request(&opt, &w->request_len);
		if (!w->request || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			fprintf(stderr, "netload: cannot start connection %d\n", i);
			return 2;
		}
	}
	for (int i = 0; i < opt.conns; i++)
		pthread_join(workers[i].thread, NULL);
	secs = now_s() - start;

	/* Gather every worker's latencies into one sorted run at the front. */
	k = 0;
	for (int i = 0; i < opt.conns; i++) {
		struct worker *w = &workers[i];

		memmove(lat + k, w->lat_us, (size_t)w->done * sizeof(*lat));
		k += w->done;
		done += w->done;
		errors += w->errors;
		body += w->body;
		if (w->first_error[0] && errors == w->errors)
			fprintf(stderr, "netload: first error: %s\n", w->first_error);
	}
	qsort(lat, (size_t)done, sizeof(*lat), cmp_u32);
	printf("requests=%ld errors=%ld seconds=%.3f rps=%.1f p50_us=%u p99_us=%u body_bytes=%llu "
	       "mb_per_s=%.2f\n",
	       done, errors, secs, (double)done / secs, percentile(lat, done, 50),
	       percentile(lat, done, 99), (unsigned long long)body, (double)body / secs / 1e6);
	if (done + errors < opt.requests)
		fprintf(stderr, "netload: stopped by -t %.0f after %ld of %ld requests\n",
			opt.limit_s, done + errors, opt.requests);
	freeaddrinfo(ai);
	return done == opt.requests ? 0 : 1;
}
