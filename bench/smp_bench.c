// smp_bench - the SMP scaling benchmark of make bench-smp (issue 13). Static
// musl; the same binary runs on Solo and on Debian's Linux in the same QEMU
// command (tools/qemu.sh --smp 2), and prints "bench: NAME VALUE UNIT" lines:
//
//   cpu     a fixed amount of integer work (CHUNKS chunks of a hash loop) on
//           1 thread, then split over 2 threads: the times and the speedup;
//           the checksum (the sum of the chunks' hashes) must be the same.
//   fault   each thread maps its own anonymous memory and writes one word per
//           page (every page a fresh demand-zero fault), then reads it back:
//           1 thread touching 2 x FAULT_MIB, then 2 threads FAULT_MIB each.
//   fault4k the same with madvise(MADV_NOHUGEPAGE) first: Linux's
//           transparent huge pages back a 2 MiB extent per fault, so its
//           "fault" job takes 32 faults where Solo takes 16384; here both
//           take one per 4 KiB page (Solo has no huge pages: the same job).
//   futex   a FUTEX_WAIT/FUTEX_WAKE ping-pong between two threads, ROUNDS
//           round trips: ns per round trip.
//   pairs   futex ping-pong pairs, each pinned to a CPU of its own: 2 x ROUNDS
//           round trips on one pair (CPU 0), then ROUNDS on each of two
//           (CPUs 0 and 1) at once: the times and the speedup (waits, wakes
//           and switches on different CPUs in parallel).
//   unmap   munmap of UNMAP_MIB of touched memory while a second thread
//           spins in ring 3 on the other CPU, whose TLB the kernel must
//           shoot down: ms per munmap.
//   pread   syscalls on different descriptors: each thread preads 4 KiB
//           blocks of its own READ_KIB file (both hold the same bytes),
//           READ_CALLS calls on 1 thread, then half each on 2.
//   pwrite  the same with pwrite over the files' bytes (the checksum: the
//           bytes written, read back from the buffer).
//   pipe    each thread writes a 32 KiB block into a pipe of its own and reads
//           it back (no waits), READ_CALLS round trips on 1 thread, then
//           half each on 2 (the checksum: one byte of each block read).
//   unix    the same through an AF_UNIX stream socketpair of its own (each
//           block written to one end and read from the other).
//   tcp     the same through a TCP connection of its own over the loopback
//           interface (127.0.0.1), TCP_CALLS round trips: a block written
//           on one end is read whole from the other.
//   epoll   each thread polls an epoll instance of its own, which watches an
//           empty pipe, with epoll_wait and timeout 0 (Go's netpoll(0)):
//           EPOLL_CALLS calls on 1 thread, then half each on 2.
//   append  each thread appends LOG_LINE-byte lines to a log of its own
//           (O_APPEND), APPEND_CALLS lines on 1 thread, then half each on 2;
//           a new page every 4096 / LOG_LINE lines (the checksum: the logs'
//           sizes, from fstat).
//
// Each figure is the best of REPS runs (the host is shared: the best run is
// the one least disturbed). A run's time is the span from the first worker's
// start to the last worker's end (CLOCK_MONOTONIC), so thread creation and
// joining are not counted.
// Usage:
//   smp_bench [all|cpu|fault|fault4k|futex|pairs|unmap|pread|pwrite|pipe|unix|tcp|epoll|append]...
// Exit status 0 when every checksum matched, 1 otherwise.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* linux/futex.h: musl-gcc has no kernel headers. */
#define FUTEX_WAIT	   0
#define FUTEX_WAKE	   1
#define FUTEX_PRIVATE_FLAG 128
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

#define REPS	     3
#define CHUNKS	     64
#define CHUNK_OPS    (1u << 22) /* loop iterations per chunk */
#define FAULT_MIB    64		/* per thread in the 2-thread run */
#define PAGE	     4096u
#define ROUNDS	     5000
#define UNMAP_MIB    32
#define READ_KIB     64
#define READ_CALLS   40000
#define PIPE_BLOCK   32768
#define TCP_CALLS    10000
#define EPOLL_CALLS  100000
#define APPEND_CALLS 40000
#define LOG_LINE     100

static int failed;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// ------------------------------------------------------------------ cpu
// One chunk: a xorshift/multiply mix seeded by the chunk's number; the
// result depends on every iteration, so no compiler folds it away.
static uint64_t chunk_hash(uint64_t chunk)
{
	uint64_t x = chunk * 0x9e3779b97f4a7c15ull + 1, h = 0;

	for (uint32_t i = 0; i < CHUNK_OPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		h = (h ^ x) * 0x100000001b3ull;
	}
	return h;
}

struct work {
	int first, count; /* cpu: chunks; fault: pages; pread: calls */
	int small_pages;  /* fault: MADV_NOHUGEPAGE */
	uint64_t sum;
	uint64_t start, end;
	int err;
};

static void *cpu_worker(void *arg)
{
	struct work *w = arg;

	w->start = now_ns();
	w->sum = 0;
	for (int c = w->first; c < w->first + w->count; c++)
		w->sum += chunk_hash((uint64_t)c);
	w->end = now_ns();
	return NULL;
}

// ---------------------------------------------------------------- fault
static void *fault_worker(void *arg)
{
	struct work *w = arg;
	size_t len = (size_t)w->count * PAGE;
	volatile uint64_t *p;

	w->start = now_ns();
	w->sum = 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		w->err = errno;
		w->end = now_ns();
		return NULL;
	}
	// Advice only: a kernel without huge pages may refuse or ignore it.
	if (w->small_pages)
		(void)madvise((void *)p, len, MADV_NOHUGEPAGE);
	for (int i = 0; i < w->count; i++)
		p[(size_t)i * (PAGE / 8)] = (uint64_t)(w->first + i) * 2654435761u;
	for (int i = 0; i < w->count; i++)
		w->sum += p[(size_t)i * (PAGE / 8)];
	munmap((void *)p, len);
	w->end = now_ns();
	return NULL;
}

static void *fault4k_worker(void *arg)
{
	((struct work *)arg)->small_pages = 1;
	return fault_worker(arg);
}

// Every run's time on a "bench-runs:" line, which shows the noise behind
// the best (make bench-smp's table reads "bench:" lines only).
static uint64_t print_runs(const char *name, const char *what, const uint64_t *ns, double scale,
			   const char *unit)
{
	uint64_t best = UINT64_MAX;

	printf("bench-runs: %s_%s", name, what);
	for (int i = 0; i < REPS; i++) {
		printf(" %.2f", (double)ns[i] / scale);
		if (ns[i] < best)
			best = ns[i];
	}
	printf(" %s\n", unit);
	return best;
}

// run: split TOTAL units over NTHREADS workers of FN, REPS times: each
// run's span in ns into ns[], the units' checksum into *sum. Negative errno
// on failure.
static int run(void *(*fn)(void *), int total, int nthreads, uint64_t *ns, uint64_t *sum)
{
	for (int rep = 0; rep < REPS; rep++) {
		struct work w[2] = {0};
		pthread_t t[2];
		uint64_t start = UINT64_MAX, end = 0, s = 0;

		for (int i = 0; i < nthreads; i++) {
			w[i].first = total / nthreads * i;
			w[i].count = total / nthreads;
			int e = pthread_create(&t[i], NULL, fn, &w[i]);
			if (e)
				return -e;
		}
		for (int i = 0; i < nthreads; i++) {
			pthread_join(t[i], NULL);
			if (w[i].err)
				return -w[i].err;
			s += w[i].sum;
			if (w[i].start < start)
				start = w[i].start;
			if (w[i].end > end)
				end = w[i].end;
		}
		if (rep > 0 && s != *sum) {
			printf("bench: checksum changed between runs: %#llx, then %#llx\n",
			       (unsigned long long)*sum, (unsigned long long)s);
			failed = 1;
		}
		*sum = s;
		ns[rep] = end - start;
	}
	return 0;
}

static void scaling(const char *name, void *(*fn)(void *), int total)
{
	uint64_t r1[REPS], r2[REPS], t1, t2, s1 = 0, s2 = 0;
	int e;

	if ((e = run(fn, total, 1, r1, &s1)) < 0 || (e = run(fn, total, 2, r2, &s2)) < 0) {
		printf("bench: %s failed: %s\n", name, strerror(-e));
		failed = 1;
		return;
	}
	t1 = print_runs(name, "1thread", r1, 1e6, "ms");
	t2 = print_runs(name, "2threads", r2, 1e6, "ms");
	printf("bench: %s_checksum_1thread %#llx hex\n", name, (unsigned long long)s1);
	printf("bench: %s_checksum_2threads %#llx hex\n", name, (unsigned long long)s2);
	if (s1 != s2) {
		printf("bench: %s checksums differ\n", name);
		failed = 1;
	}
	printf("bench: %s_1thread %.2f ms\n", name, (double)t1 / 1e6);
	printf("bench: %s_2threads %.2f ms\n", name, (double)t2 / 1e6);
	printf("bench: %s_speedup %.3f x\n", name, (double)t1 / (double)t2);
}

// ---------------------------------------------------------------- pread
static char read_path[2][32];

// The two files, READ_KIB each, the same bytes: 0, or -errno.
static int make_read_files(void)
{
	static unsigned char block[PAGE];

	for (unsigned i = 0; i < sizeof(block); i++)
		block[i] = (unsigned char)(i * 7 + (i >> 8));
	for (int f = 0; f < 2; f++) {
		snprintf(read_path[f], sizeof(read_path[f]), "/smp-bench-read-%d", f);
		int fd = open(read_path[f], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return -errno;
		for (int b = 0; b < READ_KIB * 1024 / (int)PAGE; b++)
			if (write(fd, block, sizeof(block)) != (long)sizeof(block))
				return -EIO;
		close(fd);
	}
	return 0;
}

/* Each thread preads (or pwrites) 4 KiB blocks of its own file. */
static void *io_loop(struct work *w, int writing)
{
	unsigned char buf[PAGE];
	int fd = open(read_path[w->first ? 1 : 0], writing ? O_RDWR : O_RDONLY);

	w->sum = 0;
	if (fd < 0) {
		w->err = errno;
		return NULL;
	}
	memset(buf, 0x5a, sizeof(buf));
	w->start = now_ns();
	for (int i = 0; i < w->count; i++) {
		off_t at = (off_t)((w->first + i) % (READ_KIB * 1024 / PAGE)) * PAGE;
		long n =
		    writing ? pwrite(fd, buf, sizeof(buf), at) : pread(fd, buf, sizeof(buf), at);
		if (n != (long)sizeof(buf)) {
			w->err = EIO;
			break;
		}
		w->sum += buf[(w->first + i) % PAGE];
	}
	w->end = now_ns();
	close(fd);
	return NULL;
}

static void *pread_worker(void *arg)
{
	return io_loop(arg, 0);
}

static void *pwrite_worker(void *arg)
{
	return io_loop(arg, 1);
}

/* A TCP connection to itself over 127.0.0.1: fd[0] the accepted end,
 * fd[1] the connecting one. 0, or an errno. */
static int tcp_pair(int fd[2])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	fd[0] = fd[1] = -1;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) ||
	    (fd[1] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd[1], (struct sockaddr *)&a, sizeof(a)) || (fd[0] = accept(l, NULL, NULL)) < 0)
		err = errno ? errno : EIO;
	if (l >= 0)
		close(l);
	return err;
}

/* Reads n bytes whole (a TCP read may return part of a block). */
static int read_whole(int fd, unsigned char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

enum block_kind { BLOCK_PIPE, BLOCK_UNIX, BLOCK_TCP };

/* Each thread pushes PIPE_BLOCK-byte blocks through its own pipe (or
 * socketpair, or TCP connection) and back. */
static void *block_loop(struct work *w, enum block_kind kind)
{
	unsigned char out[PIPE_BLOCK], in[PIPE_BLOCK];
	int fd[2];

	w->sum = 0;
	int err = kind == BLOCK_TCP    ? tcp_pair(fd)
		  : kind == BLOCK_UNIX ? (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) ? errno : 0)
				       : (pipe(fd) ? errno : 0);
	if (err) {
		w->err = err;
		return NULL;
	}
	w->start = now_ns();
	for (int i = 0; i < w->count; i++) {
		out[(w->first + i) % PIPE_BLOCK] = (unsigned char)(w->first + i);
		if (write(fd[1], out, sizeof(out)) != (long)sizeof(out) ||
		    read_whole(fd[0], in, sizeof(in))) {
			w->err = EIO;
			break;
		}
		w->sum += in[(w->first + i) % PIPE_BLOCK];
	}
	w->end = now_ns();
	close(fd[0]);
	close(fd[1]);
	return NULL;
}

static void *pipe_worker(void *arg)
{
	return block_loop(arg, BLOCK_PIPE);
}

static void *unix_worker(void *arg)
{
	return block_loop(arg, BLOCK_UNIX);
}

static void *tcp_worker(void *arg)
{
	return block_loop(arg, BLOCK_TCP);
}

/* Each thread asks its own epoll instance, with nothing ready, again and
 * again; the checksum counts the calls that reported nothing. */
static void *epoll_worker(void *arg)
{
	struct work *w = arg;
	struct epoll_event ev = {.events = EPOLLIN};
	int fd[2], ep = epoll_create1(0);

	w->sum = 0;
	if (ep < 0 || pipe(fd) || epoll_ctl(ep, EPOLL_CTL_ADD, fd[0], &ev)) {
		w->err = errno;
		return NULL;
	}
	w->start = now_ns();
	for (int i = 0; i < w->count; i++)
		w->sum += epoll_wait(ep, &ev, 1, 0) == 0;
	w->end = now_ns();
	close(ep);
	close(fd[0]);
	close(fd[1]);
	return NULL;
}

/* Each thread appends lines to a log of its own, from empty. */
static void *append_worker(void *arg)
{
	struct work *w = arg;
	char line[LOG_LINE], path[32];
	struct stat st;

	w->sum = 0;
	snprintf(path, sizeof(path), "/smp-bench-log-%d", w->first ? 1 : 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0) {
		w->err = errno;
		return NULL;
	}
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	w->start = now_ns();
	for (int i = 0; i < w->count; i++) {
		if (write(fd, line, sizeof(line)) != (long)sizeof(line)) {
			w->err = EIO;
			break;
		}
	}
	w->end = now_ns();
	if (fstat(fd, &st))
		w->err = errno;
	else
		w->sum = (uint64_t)st.st_size;
	close(fd);
	unlink(path);
	return NULL;
}

static void io_scaling(const char *name, void *(*fn)(void *))
{
	int e = make_read_files();

	if (e < 0) {
		printf("bench: %s failed: %s\n", name, strerror(-e));
		failed = 1;
		return;
	}
	scaling(name, fn, READ_CALLS);
	unlink(read_path[0]);
	unlink(read_path[1]);
}

// ---------------------------------------------------------------- futex
static _Atomic int turn; /* 0: the main thread's turn, 1: the partner's */

static long futex(_Atomic int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

// Wait until turn == want; wake the other side after handing the turn over.
static void await_turn(int want)
{
	int v;

	while ((v = atomic_load(&turn)) != want)
		futex(&turn, FUTEX_WAIT, v);
}

static void hand_over(int to)
{
	atomic_store(&turn, to);
	futex(&turn, FUTEX_WAKE, 1);
}

static void *futex_partner(void *arg)
{
	long *rounds = arg;

	for (int i = 0; i < ROUNDS; i++) {
		await_turn(1);
		++*rounds;
		hand_over(0);
	}
	return NULL;
}

static void futex_pingpong(void)
{
	uint64_t ns[REPS];
	long rounds = 0;

	for (int rep = 0; rep < REPS; rep++) {
		pthread_t t;
		uint64_t t0, t1;
		int e;

		atomic_store(&turn, 0);
		if ((e = pthread_create(&t, NULL, futex_partner, &rounds))) {
			printf("bench: futex failed: %s\n", strerror(e));
			failed = 1;
			return;
		}
		t0 = now_ns();
		for (int i = 0; i < ROUNDS; i++) {
			hand_over(1);
			await_turn(0);
		}
		t1 = now_ns();
		pthread_join(t, NULL);
		ns[rep] = t1 - t0;
	}
	printf("bench: futex_rounds %ld rounds\n", rounds);
	if (rounds != (long)REPS * ROUNDS) {
		printf("bench: futex: %ld rounds, not %ld\n", rounds, (long)REPS * ROUNDS);
		failed = 1;
	}
	printf("bench: futex_round_trip %.0f ns\n",
	       (double)print_runs("futex", "round_trip", ns, ROUNDS, "ns") / ROUNDS);
}

// ---------------------------------------------------------------- pairs
// Futex ping-pong pairs, each pair pinned to a CPU of its own: whether
// futex waits, wakes and the thread switches they cause on one CPU proceed
// beside another CPU's (a kernel-wide lock on that path shows as a speedup
// well under 2).
struct pair {
	_Atomic int turn; /* 0: the worker's turn, 1: the partner's */
	int rounds;
	long partner_rounds;
	int cpu;
};

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? errno : 0;
}

static void pair_wait(struct pair *p, int want)
{
	int v;

	while ((v = atomic_load(&p->turn)) != want)
		futex(&p->turn, FUTEX_WAIT, v);
}

static void pair_hand_over(struct pair *p, int to)
{
	atomic_store(&p->turn, to);
	futex(&p->turn, FUTEX_WAKE, 1);
}

static void *pair_partner(void *arg)
{
	struct pair *p = arg;

	if (pin_to(p->cpu))
		return NULL; /* the worker's wait for rounds then never ends: checked first */
	for (int i = 0; i < p->rounds; i++) {
		pair_wait(p, 1);
		p->partner_rounds++;
		pair_hand_over(p, 0);
	}
	return NULL;
}

// w->first / w->count: the worker's pair index is first / count (pairs
// split the rounds evenly), so pair i runs on CPU i.
static void *pair_worker(void *arg)
{
	struct work *w = arg;
	struct pair p = {.rounds = w->count, .cpu = w->count ? w->first / w->count : 0};
	pthread_t t;

	w->sum = 0;
	if ((w->err = pin_to(p.cpu)) || (w->err = pthread_create(&t, NULL, pair_partner, &p))) {
		w->start = w->end = now_ns();
		return NULL;
	}
	w->start = now_ns();
	for (int i = 0; i < p.rounds; i++) {
		pair_hand_over(&p, 1);
		pair_wait(&p, 0);
	}
	w->end = now_ns();
	pthread_join(t, NULL);
	w->sum = (uint64_t)p.partner_rounds;
	return NULL;
}

// ---------------------------------------------------------------- unmap
static _Atomic int spin_stop, spinning;

static void *spin_in_ring3(void *arg)
{
	(void)arg;
	atomic_store(&spinning, 1);
	while (!atomic_load(&spin_stop))
		;
	return NULL;
}

static void unmap_busy_peer(void)
{
	size_t len = (size_t)UNMAP_MIB << 20;
	uint64_t ns[REPS];
	pthread_t t;
	int e;

	atomic_store(&spin_stop, 0);
	atomic_store(&spinning, 0);
	if ((e = pthread_create(&t, NULL, spin_in_ring3, NULL))) {
		printf("bench: unmap failed: %s\n", strerror(e));
		failed = 1;
		return;
	}
	while (!atomic_load(&spinning))
		;
	for (int rep = 0; rep < REPS; rep++) {
		char *p =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("bench: unmap failed: %s\n", strerror(errno));
			failed = 1;
			break;
		}
		for (size_t off = 0; off < len; off += PAGE)
			p[off] = 1;
		uint64_t t0 = now_ns();
		munmap(p, len);
		ns[rep] = now_ns() - t0;
	}
	atomic_store(&spin_stop, 1);
	pthread_join(t, NULL);
	if (!failed)
		printf("bench: unmap_busy_peer %.2f ms\n",
		       (double)print_runs("unmap", "busy_peer", ns, 1e6, "ms") / 1e6);
}

int main(int argc, char **argv)
{
	int all = argc < 2;
	cpu_set_t set;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CPU_ZERO(&set);
	printf("bench: smp_online_cpus %ld cpus\n", sysconf(_SC_NPROCESSORS_ONLN));
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		printf("bench: smp_affinity_cpus %d cpus\n", CPU_COUNT(&set));
	for (int i = 1; i < argc; i++)
		all |= !strcmp(argv[i], "all");
	for (int i = 1; i < argc || (all && i == 1); i++) {
		const char *w = all ? "all" : argv[i];

		if (all || !strcmp(w, "cpu"))
			scaling("cpu", cpu_worker, CHUNKS);
		if (all || !strcmp(w, "fault"))
			scaling("fault", fault_worker, 2 * FAULT_MIB * (1 << 20) / PAGE);
		if (all || !strcmp(w, "fault4k"))
			scaling("fault4k", fault4k_worker, 2 * FAULT_MIB * (1 << 20) / PAGE);
		if (all || !strcmp(w, "futex"))
			futex_pingpong();
		if (all || !strcmp(w, "pairs"))
			scaling("pairs", pair_worker, 2 * ROUNDS);
		if (all || !strcmp(w, "unmap"))
			unmap_busy_peer();
		if (all || !strcmp(w, "pread"))
			io_scaling("pread", pread_worker);
		if (all || !strcmp(w, "pwrite"))
			io_scaling("pwrite", pwrite_worker);
		if (all || !strcmp(w, "pipe"))
			scaling("pipe", pipe_worker, READ_CALLS);
		if (all || !strcmp(w, "unix"))
			scaling("unix", unix_worker, READ_CALLS);
		if (all || !strcmp(w, "tcp"))
			scaling("tcp", tcp_worker, TCP_CALLS);
		if (all || !strcmp(w, "epoll"))
			scaling("epoll", epoll_worker, EPOLL_CALLS);
		if (all || !strcmp(w, "append"))
			scaling("append", append_worker, APPEND_CALLS);
		if (all)
			break;
	}
	printf("bench: smp_errors %d errors\n", failed);
	return failed;
}
