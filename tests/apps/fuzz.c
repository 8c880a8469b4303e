/*
 * Hostile-app test: thousands of syscalls with arguments picked to hurt
 * (kernel addresses, non-canonical and unaligned pointers, huge sizes,
 * negative numbers). The kernel must answer every one with a result or an
 * error, never crash; the app prints how many calls it survived.
 *
 * Left out are only the calls that would end or blind the fuzzer itself
 * rather than test the kernel: exit, reading the console (it would wait for
 * input), sleeping, and changing its own memory map, TLS, stdout or signal
 * setup. Calls that wait as on Linux (a pipe the fuzzer filled, epoll_wait,
 * sigsuspend, a lock) are kept: a SIGALRM every 20 ms, whose handler does
 * nothing and has no SA_RESTART, ends every wait with EINTR.
 *
 * "fuzz SEED mm" instead aims the memory calls (mmap, munmap, mprotect,
 * mremap, madvise) at an arena of the fuzzer's own address space, mixed with
 * touches of random arena bytes (a fault is caught with SIGSEGV/SIGBUS
 * handlers and siglongjmp), so they can be as hostile as they like without
 * unmapping the fuzzer. Every page must come back at exit. "fuzz SEED mmt"
 * does the same from four threads at once over the one arena, so that on
 * several CPUs one thread's unmap or protect meets another's touches, and
 * adds reads and writes of a file into and out of the arena.
 *
 * "fuzz SEED io" aims at the kernel's newer surfaces from several threads
 * at once: pipes, eventfd, timerfd, epoll (nested, with loops attempted),
 * POSIX timers, files, directories, renames, links and unlinks under
 * /tmp/fz, mmap of those files, and sockets over loopback (TCP and UDP on
 * 127.0.0.1, unix stream/datagram/seqpacket, named and unnamed, carrying
 * descriptors with SCM_RIGHTS, themselves included). The
 * threads share one table of descriptors, so one closes, dups over or
 * reads what another is using; a quarter of the arguments are hostile so
 * both the checks and the real paths are reached. Signals arrive during
 * the calls: each thread has a POSIX timer aimed at it (SIGEV_THREAD_ID)
 * every few ms, the threads send each other SIGUSR1, and the handlers have
 * no SA_RESTART, so every wait ends with EINTR at the latest.
 * "fuzz SEED io FAMILIES THREADS" narrows a failure down: FAMILIES is a
 * subset of "mnsu" (make, names, signals and timers, use), THREADS 1..4.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "solo.h"

/* Per thread, so that the io mode's threads each draw their own sequence;
 * the main thread's starts as it always did, so a seed names the same
 * sequence of calls in the single-threaded modes. */
static __thread uint64_t state = 0x1234567890abcdefull;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static char scratch[8192];

static long nasty(void)
{
	static const uint64_t values[] = {
	    0,
	    1,
	    2,
	    3,
	    4096,
	    0x7fffffff,
	    0xffffffffull,
	    0x7fffffffffffull,
	    0x800000000000ull,
	    0xffff800000000000ull,
	    0xffffffff80000000ull,
	    0xffffffffffffffffull,
	    0x8000000000000000ull,
	    0x10000,
	    0x1000,
	    0xfed00000,
	    0x7ffffffff000ull,
	};
	uint64_t r = next();
	switch (r % 4) {
	case 0:
		return (long)values[(r >> 8) % (sizeof(values) / sizeof(values[0]))];
	case 1:
		return (long)(uintptr_t)(scratch + ((r >> 8) % sizeof(scratch)));
	case 2:
		return (long)(r >> 3);
	default:
		return (long)((r >> 8) % 64) - 8;
	}
}

static int excluded(long n)
{
	static const long skip[] = {
	    0,	 /* read: waits for console input */
	    17,	 /* pread64 */
	    19,	 /* readv */
	    34,	 /* pause */
	    35,	 /* nanosleep */
	    230, /* clock_nanosleep */
	    60,	 /* exit */
	    231, /* exit_group */
	    9,	 /* mmap: fine, but MAP_FIXED could cover the fuzzer's code */
	    10,	 /* mprotect */
	    11,	 /* munmap */
	    12,	 /* brk */
	    25,	 /* mremap */
	    28,	 /* madvise */
	    158, /* arch_prctl: SET_FS would break musl's TLS */
	    3,	 /* close: could close stdout */
	    32,	 /* dup */
	    33,	 /* dup2 */
	    292, /* dup3 */
	    72,	 /* fcntl */
	    16,	 /* ioctl: TCSETS could put the console in raw mode */
	    7,	 /* poll */
	    23,	 /* select */
	    270, /* pselect6 */
	    271, /* ppoll */
	    202, /* futex */
	    61,	 /* wait4 */
	    247, /* waitid */
	    13,	 /* rt_sigaction */
	    14,	 /* rt_sigprocmask */
	    15,	 /* rt_sigreturn */
	    62,	 /* kill: the fuzzer would end itself */
	    37,	 /* alarm: the SIGALRM that ends waits */
	    38,	 /* setitimer */
	    130, /* rt_sigsuspend: a mask that blocks SIGALRM waits for ever */
	    281, /* epoll_pwait: likewise */
	    441, /* epoll_pwait2 */
	    200, /* tkill */
	    234, /* tgkill */
	    131, /* sigaltstack */
	    SOLO_SYS_unmap_memory,
	    SOLO_SYS_decrease_heap,
	};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (skip[i] == n)
			return 1;
	return 0;
}

#define ARENA	    0x600000000000ull
#define ARENA_PAGES 65536ull /* 256 MiB of address space, never all backed */
#define PAGE	    4096ull

static __thread sigjmp_buf touch_escape; /* per thread: mmt mode's touch too */

static void on_fault(int sig)
{
	siglongjmp(touch_escape, sig);
}

/* An address in the arena: usually page-aligned, now and then not. */
static uint64_t arena_addr(void)
{
	uint64_t r = next();
	uint64_t addr = ARENA + (r % ARENA_PAGES) * PAGE;
	return (r >> 60) == 0 ? addr + (r >> 20) % PAGE : addr;
}

/* A length: a few pages, many pages, or something nasty. */
static uint64_t arena_len(void)
{
	uint64_t r = next();
	switch (r % 8) {
	case 0:
		return (uint64_t)nasty();
	case 1:
		return (r >> 8) % (ARENA_PAGES * PAGE);
	default:
		return ((r >> 8) % 64 + 1) * PAGE;
	}
}

/* Unmaps a result that landed outside the arena (a hint or a move). */
static void keep_in_arena(long ret, uint64_t len)
{
	if (ret > 0 && ((uint64_t)ret < ARENA || (uint64_t)ret >= ARENA + ARENA_PAGES * PAGE))
		solo_syscall6(SYS_munmap, ret, (long)len, 0, 0, 0, 0);
}

/* Reads or writes the byte at addr; 1 if that faulted (the handler jumped
 * back here), else 0. Its own function, so that no caller variable lives
 * across the siglongjmp. */
static __attribute__((noinline)) int touch(uint64_t addr, uint64_t r)
{
	volatile unsigned char *p = (volatile unsigned char *)(uintptr_t)addr;

	if (sigsetjmp(touch_escape, 1))
		return 1;
	if (r & 8)
		*p = (unsigned char)r;
	else
		(void)*p;
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* The SIGALRM every 20 ms that interrupts calls that wait. */
static void interrupt_waits(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval every = {{0, 20000}, {0, 20000}};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
}

/* mmt mode's file (-1 in mm mode): its reads and writes copy to and from
 * the arena while other threads change it (on several CPUs, beside each
 * other: the kernel's shared syscalls). */
static int arena_fd = -1;

/* A read or write of arena_fd through the arena: at its offset or at one,
 * of up to 64 KiB, so that the file stays small. */
static long arena_io(uint64_t r, uint64_t addr, uint64_t len)
{
	long count = (long)(len % (64 << 10)), at = (long)(next() % (1 << 20));

	switch ((r >> 4) % 5) {
	case 0:
		return solo_syscall6(SYS_pread64, arena_fd, (long)addr, count, at, 0, 0);
	case 1:
		return solo_syscall6(SYS_pwrite64, arena_fd, (long)addr, count, at, 0, 0);
	case 2:
		return solo_syscall6(SYS_read, arena_fd, (long)addr, count, 0, 0, 0);
	case 3:
		return solo_syscall6(SYS_write, arena_fd, (long)addr, count, 0, 0, 0);
	default:
		return solo_syscall6(SYS_lseek, arena_fd, at, 0 /* SEEK_SET */, 0, 0, 0);
	}
}

/* ops memory calls and touches on the arena; the errors and faults seen
 * are added to *errors and *faults. */
static void memory_ops(int ops, int *errors_out, int *faults_out)
{
	int faults = 0, errors = 0;

	for (int i = 0; i < ops; i++) {
		uint64_t r = next(), addr = arena_addr(), len = arena_len();
		long prot = (long)(next() % 8), ret = 0;
		long flags = 0x02 /* PRIVATE */ | 0x20 /* ANONYMOUS */;
		switch (r % 7) {
		case 0:
			if (next() & 1)
				flags |= (next() & 1) ? 0x10 /* FIXED */ : 0x100000 /* NOREPLACE */;
			if (!(next() % 16))
				flags = (long)(next() & 0x1fffff);
			ret = solo_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, -1, 0);
			keep_in_arena(ret, len);
			break;
		case 1:
			ret = solo_syscall6(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
			break;
		case 2:
			ret = solo_syscall6(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
			break;
		case 3: {
			uint64_t new_len = arena_len();
			long mflags = (long)(next() % 4); /* MAYMOVE 1, FIXED 2 */
			ret = solo_syscall6(SYS_mremap, (long)addr, (long)len, (long)new_len,
					    mflags, (long)arena_addr(), 0);
			keep_in_arena(ret, new_len);
			break;
		}
		case 4:
			ret = solo_syscall6(SYS_madvise, (long)addr, (long)len, (long)(next() % 12),
					    0, 0, 0);
			break;
		case 5:
			if (arena_fd >= 0) {
				ret = arena_io(r, addr, len);
				break;
			}
			/* fall through */
		default:
			faults += touch(addr, r);
			break;
		}
		if (ret < 0 && ret > -4096)
			errors++;
	}
	*errors_out += errors;
	*faults_out += faults;
}

static void catch_faults(void)
{
	struct sigaction sa = {.sa_handler = on_fault};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static int fuzz_memory(void)
{
	const int ops = 20000;
	int faults = 0, errors = 0;

	catch_faults();
	memory_ops(ops, &errors, &faults);
	solo_syscall6(SYS_munmap, (long)ARENA, (long)(ARENA_PAGES * PAGE), 0, 0, 0, 0);
	printf("fuzz: mm survived %d ops, %d errors, %d faults\n", ops, errors, faults);
	return 0;
}

/* ---------------------------------------------------------------- mmt mode */

/* The memory calls from MMT_THREADS threads at once over the one arena:
 * one thread's munmap, mprotect, mremap or madvise lands while another
 * touches the same pages (on several CPUs, the kernel backs first touches
 * beside each other, without its lock). */
#define MMT_THREADS 4
#define MMT_OPS	    8000 /* per thread */

struct mmt_result {
	uint64_t seed;
	int errors, faults;
};

static void *mmt_thread(void *arg)
{
	struct mmt_result *r = arg;

	state ^= r->seed;
	memory_ops(MMT_OPS, &r->errors, &r->faults);
	return NULL;
}

static int fuzz_memory_threads(void)
{
	struct mmt_result res[MMT_THREADS] = {{0}};
	pthread_t t[MMT_THREADS];
	int made = 1, errors = 0, faults = 0;

	static const char block[PAGE] = "fuzz";
	catch_faults();
	arena_fd = open("/fuzz-mmt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; arena_fd >= 0 && i < 64; i++)
		(void)write(arena_fd, block, sizeof(block)); /* bytes to overwrite in place */
	for (int i = 1; i < MMT_THREADS; i++) {
		res[i].seed = next() | 1;
		if (pthread_create(&t[i], NULL, mmt_thread, &res[i]) == 0)
			made++;
		else
			res[i].seed = 0;
	}
	memory_ops(MMT_OPS, &res[0].errors, &res[0].faults);
	for (int i = 1; i < MMT_THREADS; i++)
		if (res[i].seed)
			pthread_join(t[i], NULL);
	for (int i = 0; i < MMT_THREADS; i++) {
		errors += res[i].errors;
		faults += res[i].faults;
	}
	solo_syscall6(SYS_munmap, (long)ARENA, (long)(ARENA_PAGES * PAGE), 0, 0, 0, 0);
	if (arena_fd >= 0) {
		close(arena_fd);
		unlink("/fuzz-mmt");
	}
	printf("fuzz: mmt survived %d ops, %d errors, %d faults, %d threads\n", made * MMT_OPS,
	       errors, faults, made);
	return 0;
}

/* ---------------------------------------------------------------- io mode */

#define IO_THREADS 4	/* the main thread and three more, at most */
#define IO_SLOTS   48	/* the shared descriptor table */
#define IO_CALLS   6000 /* per thread */

static _Atomic int slots[IO_SLOTS];
static pid_t io_tids[IO_THREADS];
static int io_threads = IO_THREADS;
static const char *io_families = "mnsu"; /* make, names, signals, use */
static _Atomic long io_signals;
static _Atomic int io_started;

static void on_io_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&io_signals, 1);
}

/* A descriptor from the table, or now and then a number that names none. */
static int any_fd(void)
{
	uint64_t r = next();
	if (r % 16 == 0) {
		int fd = (int)nasty();
		return fd >= 0 && fd < 3 ? fd + 3 : fd; /* never the console's */
	}
	int fd = atomic_load(&slots[(r >> 4) % IO_SLOTS]);
	return fd >= 0 ? fd : 3 + (int)((r >> 10) % 61);
}

/* Keeps a new descriptor in a random slot, closing what was there; 0, 1
 * and 2 are never kept, so no call here ever closes the console. */
static void keep(long fd)
{
	if (fd < 3 || fd >= 1024)
		return;
	int old = atomic_exchange(&slots[next() % IO_SLOTS], (int)fd);
	if (old >= 3)
		close(old);
}

/* An argument: usually the valid one, a quarter of the time a hostile one. */
static long or_nasty(long valid)
{
	return next() % 4 == 0 ? nasty() : valid;
}

static const char *io_path(char *buf, size_t size)
{
	static const char *const names[] = {"a",    "b",       "c",	  "d0/e", "d0/f",
					    "d1/g", "d0/d2/h", "d0",	  "d1",	  "d0/d2",
					    "s0",   "s1",      "../fz/a", "."};
	snprintf(buf, size, "/tmp/fz/%s", names[next() % (sizeof(names) / sizeof(names[0]))]);
	return buf;
}

static void inet_addr_of(struct sockaddr_in *sin, int udp)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)((udp ? 7100 : 7000) + next() % 4));
	sin->sin_addr.s_addr = htonl(0x7f000001);
}

static void unix_addr_of(struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "/tmp/fz/s%d", (int)(next() % 2));
}

static int sock_type(void)
{
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	int t = types[next() % 3];
	return t | (next() % 2 ? SOCK_NONBLOCK : 0) | (next() % 2 ? SOCK_CLOEXEC : 0);
}

/* Makes something new and keeps it in the table. */
static long io_make(uint64_t r)
{
	char path[64];
	long ret;
	int fds[2];

	switch (r % 9) {
	case 0:
		ret = pipe2(fds, (next() % 2) ? O_NONBLOCK : 0);
		if (!ret) {
			keep(fds[0]);
			keep(fds[1]);
		}
		return ret;
	case 1:
		ret = socketpair(AF_UNIX, sock_type(), 0, fds);
		if (!ret) {
			keep(fds[0]);
			keep(fds[1]);
		}
		return ret;
	case 2:
		ret =
		    syscall(SYS_eventfd2, (long)(next() % 4), or_nasty((long)(next() % 2) * 04000));
		break;
	case 3: {
		ret = syscall(SYS_timerfd_create, or_nasty(next() % 2), (long)(next() % 2) * 04000);
		struct itimerspec its = {{0, (long)(next() % 3000000)},
					 {0, (long)(next() % 3000000) + 1}};
		if (ret >= 0)
			syscall(SYS_timerfd_settime, ret, or_nasty(0), (long)&its, 0);
		break;
	}
	case 4:
		ret = syscall(SYS_epoll_create1, or_nasty(next() % 2 ? EPOLL_CLOEXEC : 0));
		break;
	case 5:
		ret = open(io_path(path, sizeof(path)),
			   (int)or_nasty(O_RDWR | O_CREAT | (next() % 4 == 0 ? O_TRUNC : 0) |
					 (next() % 4 == 0 ? O_APPEND : 0) |
					 (next() % 8 == 0 ? O_EXCL : 0)),
			   0644);
		break;
	case 6: {
		struct sockaddr_in sin;
		int udp = next() % 2;
		ret =
		    socket(AF_INET,
			   (udp ? SOCK_DGRAM : SOCK_STREAM) | (next() % 2 ? SOCK_NONBLOCK : 0), 0);
		if (ret < 0)
			break;
		inet_addr_of(&sin, udp);
		if (next() % 2) {
			int one = 1;
			setsockopt((int)ret, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind((int)ret, (struct sockaddr *)&sin, sizeof(sin)) == 0 && !udp)
				listen((int)ret, (int)or_nasty((long)(next() % 8)));
		} else {
			connect((int)ret, (struct sockaddr *)&sin,
				(socklen_t)or_nasty(sizeof(sin)));
		}
		break;
	}
	case 7: {
		struct sockaddr_un sun;
		ret = socket(AF_UNIX, sock_type(), 0);
		if (ret < 0)
			break;
		unix_addr_of(&sun);
		if (next() % 2) {
			if (bind((int)ret, (struct sockaddr *)&sun, sizeof(sun)) == 0)
				listen((int)ret, 4);
		} else {
			connect((int)ret, (struct sockaddr *)&sun,
				(socklen_t)or_nasty(sizeof(sun)));
		}
		break;
	}
	default:
		ret = accept4(any_fd(), NULL, NULL, (int)(next() % 2) * SOCK_NONBLOCK);
		break;
	}
	keep(ret);
	return ret;
}

/* Names under /tmp/fz: the tree changes under the other threads' feet. */
static long io_names(uint64_t r)
{
	char a[64], b[64];

	switch (r % 8) {
	case 0:
		return rename(io_path(a, sizeof(a)), io_path(b, sizeof(b)));
	case 1:
		return link(io_path(a, sizeof(a)), io_path(b, sizeof(b)));
	case 2:
		return unlink(io_path(a, sizeof(a)));
	case 3:
		return mkdir(io_path(a, sizeof(a)), 0755);
	case 4:
		return rmdir(io_path(a, sizeof(a)));
	case 5:
		return symlink(io_path(a, sizeof(a)), io_path(b, sizeof(b)));
	case 6:
		return syscall(SYS_renameat2, AT_FDCWD, io_path(a, sizeof(a)), AT_FDCWD,
			       io_path(b, sizeof(b)), or_nasty((long)(next() % 3)));
	default: {
		struct stat st;
		return (next() % 2) ? stat(io_path(a, sizeof(a)), &st)
				    : truncate(io_path(a, sizeof(a)), (off_t)(next() % 20000));
	}
	}
}

/* Sends up to 4 descriptors from the table over fd (SCM_RIGHTS): a unix
 * socket may carry itself, its peer or an epoll that watches it, so the
 * references in flight form cycles that only the close of both ends ends. */
static long pass_fds(int fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	int n = (int)(next() % 4) + 1;
	struct iovec iov = {scratch, (size_t)(next() % 64) + 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf};
	struct cmsghdr *c = (struct cmsghdr *)u.buf;

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = next() % 8 ? SCM_RIGHTS : (int)next() % 4;
	c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
	for (int i = 0; i < n; i++)
		((int *)CMSG_DATA(c))[i] = (next() % 2) ? fd : any_fd();
	m.msg_controllen = next() % 8 ? CMSG_SPACE((size_t)n * sizeof(int)) : (size_t)nasty();
	return sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Receives with room for descriptors and keeps any that arrive. */
static long take_fds(int fd)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} u;
	char data[128];
	struct iovec iov = {data, sizeof(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf};

	/* Sometimes too little room: the descriptors that do not fit are
	 * closed by the kernel (MSG_CTRUNC). */
	m.msg_controllen = next() % 4 ? sizeof(u.buf) : CMSG_SPACE(sizeof(int));
	long ret = recvmsg(fd, &m, (int)(next() % 2) * MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (ret < 0)
		return ret;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++)
			keep(((int *)CMSG_DATA(c))[i]);
	}
	return ret;
}

/* Uses whatever is in the table. */
static long io_use(uint64_t r)
{
	char buf[512];
	int fd = any_fd();
	long n = (long)(next() % sizeof(buf));

	switch (r % 18) {
	case 0:
		return read(fd, buf, (size_t)n);
	case 1:
		return write(fd, scratch, (size_t)n);
	case 2:
		return pread(fd, buf, (size_t)n, (off_t)(next() % 16384));
	case 3:
		return pwrite(fd, scratch, (size_t)n, (off_t)(next() % 16384));
	case 4: {
		struct epoll_event ev = {.events = (uint32_t)next(), .data.u64 = next()};
		return epoll_ctl(fd, (int)(next() % 4), any_fd(),
				 next() % 8 ? &ev : (void *)nasty());
	}
	case 5: {
		struct epoll_event evs[8];
		return epoll_wait(fd, evs, (int)or_nasty(8), (int)(next() % 4));
	}
	case 6: {
		struct sockaddr_in sin;
		inet_addr_of(&sin, 1);
		return sendto(fd, scratch, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&sin,
			      sizeof(sin));
	}
	case 7:
		return recvfrom(fd, buf, (size_t)n, (int)(next() % 2) * MSG_DONTWAIT, NULL, NULL);
	case 8: {
		struct pollfd pfd[3] = {{any_fd(), POLLIN | POLLOUT, 0},
					{any_fd(), POLLIN, 0},
					{any_fd(), (short)next(), 0}};
		return poll(pfd, 3, (int)(next() % 3));
	}
	case 9:
		return ftruncate(fd, (off_t)or_nasty((long)(next() % 40000)));
	case 10: {
		/* A shared mapping of whatever fd is: written, synced, unmapped. */
		size_t len = (size_t)(next() % 4 + 1) * 4096;
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			       (off_t)(next() % 4) * 4096);
		if (p == MAP_FAILED)
			return -1;
		/* Past the file's end is SIGBUS: only touch the first byte of a
		 * file big enough, and let msync and munmap do the rest. Another
		 * thread may truncate it between the fstat and the touch: that
		 * SIGBUS is caught (touch's siglongjmp). */
		struct stat st;
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 16384)
			(void)touch((uint64_t)(uintptr_t)p, 8 /* a write */);
		msync(p, len, MS_SYNC);
		return munmap(p, len);
	}
	case 11:
		return syscall(SYS_shutdown, fd, or_nasty((long)(next() % 3)));
	case 12: {
		uint64_t v = next();
		return (next() % 2) ? read(fd, &v, 8) : write(fd, &v, 8); /* eventfd, timerfd */
	}
	case 13: {
		int target = any_fd();
		if (target < 3)
			return -1;
		return dup3(fd, target, (int)(next() % 2) * O_CLOEXEC);
	}
	case 14: {
		struct itimerspec its;
		return syscall(SYS_timerfd_gettime, fd, (next() % 8) ? (long)&its : nasty());
	}
	case 15:
		return pass_fds(fd);
	case 16:
		return take_fds(fd);
	default: {
		/* A raw call on a real descriptor, the rest hostile. */
		long nr = (long)(next() % 335);
		if (excluded(nr) || nr == 56 || nr == 57 || nr == 58 || nr == 59 || nr == 101 ||
		    nr == 202 || nr == 218 || nr == 273 || nr == 334)
			return 0;
		return syscall(nr, fd, nasty(), nasty(), nasty(), nasty(), nasty());
	}
	}
}

/* POSIX timers made, armed hostile and deleted; a signal to a sibling. */
static long io_signals_and_timers(uint64_t r)
{
	switch (r % 4) {
	case 0: {
		struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
		timer_t t;
		struct itimerspec its = {{0, (long)(next() % 2000000)},
					 {0, (long)(next() % 2000000)}};
		if (next() % 4 == 0)
			sev.sigev_notify = (int)nasty();
		long ret = syscall(SYS_timer_create, (long)(next() % 3), (long)&sev, (long)&t);
		if (ret)
			return ret;
		syscall(SYS_timer_settime, (long)t, or_nasty(0), (long)&its, 0);
		if (next() % 4)
			syscall(SYS_timer_delete, (long)t); /* else left to the exit */
		return 0;
	}
	case 1:
		return syscall(SYS_timer_settime, (long)(next() % 8), 0, nasty(), nasty());
	case 2:
		return syscall(SYS_timer_getoverrun, nasty());
	default:
		return syscall(SYS_tgkill, (long)getpid(),
			       (long)io_tids[next() % (uint64_t)io_threads],
			       (next() % 2) ? SIGUSR1 : SIGUSR2);
	}
}

struct io_result {
	int calls, errors;
};

/* The interrupt of one thread: SIGALRM every 2..5 ms, aimed at it. */
static long interrupt_me(void)
{
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
	struct itimerspec its = {{0, 2000000 + (long)(next() % 3000000)}, {0, 2000000}};
	timer_t t;

	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) || timer_settime(t, 0, &its, NULL))
		return -1;
	return (long)(intptr_t)t;
}

static void *io_worker(void *arg)
{
	struct io_result *res = arg;
	long timer = interrupt_me();

	for (int i = 0; i < IO_CALLS; i++) {
		uint64_t r = next();
		long ret = 0;
		/* The family drawn as always, so that a narrowed run (argv[3])
		 * keeps the same sequence within the families it keeps. */
		static const char family[10] = "mmnsuuuuuu";
		if (!strchr(io_families, family[r % 10]))
			continue;
		switch (r % 10) {
		case 0:
		case 1:
			ret = io_make(r >> 4);
			break;
		case 2:
			ret = io_names(r >> 4);
			break;
		case 3:
			ret = io_signals_and_timers(r >> 4);
			break;
		default:
			ret = io_use(r >> 4);
			break;
		}
		res->calls++;
		if (ret < 0)
			res->errors++;
	}
	if (timer >= 0)
		timer_delete((timer_t)(intptr_t)timer);
	return NULL;
}

static struct io_result io_results[IO_THREADS];
static uint64_t io_seed;

static void *io_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	state ^= io_seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
	io_tids[i] = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&io_started, 1);
	while (atomic_load(&io_started) < io_threads)
		sched_yield();
	return io_worker(&io_results[i]);
}

static int fuzz_io(void)
{
	struct sigaction sa = {.sa_handler = on_io_signal};
	pthread_t t[IO_THREADS];
	int calls = 0, errors = 0, made = 1, running[IO_THREADS] = {0};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_fault; /* only touch() faults on purpose (case 10) */
	sigaction(SIGBUS, &sa, NULL);
	for (int i = 0; i < IO_SLOTS; i++)
		slots[i] = -1;
	mkdir("/tmp", 0777);
	mkdir("/tmp/fz", 0777);
	io_seed = next();
	io_tids[0] = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&io_started, 1);
	for (int i = 1; i < io_threads; i++)
		if (pthread_create(&t[i], NULL, io_thread, (void *)(intptr_t)i) == 0)
			made += running[i] = 1;
		else
			atomic_fetch_add(&io_started, 1);
	while (atomic_load(&io_started) < io_threads)
		sched_yield();
	io_worker(&io_results[0]);
	for (int i = 1; i < io_threads; i++)
		if (running[i])
			pthread_join(t[i], NULL);
	for (int i = 0; i < io_threads; i++) {
		calls += io_results[i].calls;
		errors += io_results[i].errors;
	}
	printf("fuzz: io survived %d calls, %d errors, %ld signals, %d threads\n", calls, errors,
	       atomic_load(&io_signals), made);
	return 0;
}

int main(int argc, char **argv)
{
	const int calls = 20000;
	int done = 0, errors = 0;

	if (argc > 1)
		state ^= strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull; /* another sequence */
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2 && !strcmp(argv[2], "mm"))
		return fuzz_memory();
	if (argc > 2 && !strcmp(argv[2], "mmt"))
		return fuzz_memory_threads();
	if (argc > 2 && !strcmp(argv[2], "io")) {
		/* To narrow a failure down: "fuzz SEED io FAMILIES THREADS". */
		if (argc > 3)
			io_families = argv[3];
		if (argc > 4 && atoi(argv[4]) >= 1 && atoi(argv[4]) <= IO_THREADS)
			io_threads = atoi(argv[4]);
		return fuzz_io();
	}
	interrupt_waits();
	for (int i = 0; i < calls; i++) {
		uint64_t r = next();
		long n =
		    (r & 7) == 0 ? SOLO_SYS_BASE + (long)((r >> 3) % 8) : (long)((r >> 3) % 460);
		if ((r & 0xff) == 0x80)
			n = (long)(r >> 8); /* now and then a wild number */
		if (excluded(n))
			continue;
		long ret;
		if (n == SYS_close_range) {
			/* Never the console's descriptors (seed 5 closed
			 * stdout and wrote its last line into a timerfd).
			 * Six draws as for any call: the sequence after it
			 * stays what it was. */
			long a[6];
			for (int k = 0; k < 6; k++)
				a[k] = nasty();
			if ((unsigned)a[0] < 3) /* the kernel reads 32 bits, as Linux */
				a[0] = 3;
			ret = solo_syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		} else {
			ret =
			    solo_syscall6(n, nasty(), nasty(), nasty(), nasty(), nasty(), nasty());
		}
		if (ret < 0 && ret > -4096)
			errors++;
		done++;
	}
	/* The calls may have scribbled over the C library's own state (its
	 * locks, its atexit list): leave without it, and without the timer
	 * that would keep a thread stuck on such a lock looping. */
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	char line[64];
	int n = snprintf(line, sizeof(line), "fuzz: survived %d calls, %d errors\n", done, errors);
	write(1, line, (size_t)n); /* stdout's FILE lock may be scribbled over too */
	_exit(0);
}
