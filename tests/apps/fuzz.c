/*
 * Hostile-app test: thousands of syscalls with arguments picked to hurt
 * (kernel addresses, non-canonical and unaligned pointers, huge sizes,
 * negative numbers). The kernel must answer every one with a result or an
 * error, never crash; the app prints how many calls it survived.
 *
 * Left out are only the calls that would end or blind the fuzzer itself
 * rather than test the kernel: exit, reading the console (it would wait for
 * input), sleeping, and changing its own memory map, TLS or stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solo.h"

static uint64_t state = 0x1234567890abcdefull;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
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
	    131, /* sigaltstack */
	    SOLO_SYS_unmap_memory,
	    SOLO_SYS_decrease_heap,
	};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (skip[i] == n)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const int calls = 20000;
	int done = 0, errors = 0;

	if (argc > 1)
		state ^= strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull; /* another sequence */
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < calls; i++) {
		uint64_t r = next();
		long n =
		    (r & 7) == 0 ? SOLO_SYS_BASE + (long)((r >> 3) % 8) : (long)((r >> 3) % 460);
		if ((r & 0xff) == 0x80)
			n = (long)(r >> 8); /* now and then a wild number */
		if (excluded(n))
			continue;
		long ret = raw6(n, nasty(), nasty(), nasty(), nasty(), nasty(), nasty());
		if (ret < 0 && ret > -4096)
			errors++;
		done++;
	}
	printf("fuzz: survived %d calls, %d errors\n", done, errors);
	return 0;
}
