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
 * unmapping the fuzzer. Every page must come back at exit.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "solo.h"

static uint64_t state = 0x1234567890abcdefull;

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

static sigjmp_buf touch_escape;

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

static int fuzz_memory(void)
{
	const int ops = 20000;
	int faults = 0, errors = 0;
	struct sigaction sa = {.sa_handler = on_fault};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
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
		default:
			faults += touch(addr, r);
			break;
		}
		if (ret < 0 && ret > -4096)
			errors++;
	}
	solo_syscall6(SYS_munmap, (long)ARENA, (long)(ARENA_PAGES * PAGE), 0, 0, 0, 0);
	printf("fuzz: mm survived %d ops, %d errors, %d faults\n", ops, errors, faults);
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
	interrupt_waits();
	for (int i = 0; i < calls; i++) {
		uint64_t r = next();
		long n =
		    (r & 7) == 0 ? SOLO_SYS_BASE + (long)((r >> 3) % 8) : (long)((r >> 3) % 460);
		if ((r & 0xff) == 0x80)
			n = (long)(r >> 8); /* now and then a wild number */
		if (excluded(n))
			continue;
		long ret = solo_syscall6(n, nasty(), nasty(), nasty(), nasty(), nasty(), nasty());
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
