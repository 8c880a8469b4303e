/*
 * Test app: does one bad thing, named by argv[1], so the boot tests can
 * check that the kernel kills the app (or refuses the call) and survives.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "solo.h"

static volatile unsigned char *mmap_pages(int n)
{
	return (volatile unsigned char *)solo_syscall6(SYS_mmap, 0, 4096L * n, 3, 0x22, -1, 0);
}

static void report(const char *what, long ret)
{
	printf("misbehave: %s returned %ld\n", what, ret);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	volatile int zero = 0;

	printf("misbehave: %s\n", what);
	fflush(stdout);
	if (!strcmp(what, "read-kernel")) {
		volatile uint64_t *p = (volatile uint64_t *)0xffffffff80000000ull;
		printf("read %lx\n", (unsigned long)*p);
	} else if (!strcmp(what, "write-kernel")) {
		*(volatile uint64_t *)0xffff800000001000ull = 1;
	} else if (!strcmp(what, "null")) {
		*(volatile int *)0 = 1;
	} else if (!strcmp(what, "write-text")) {
		*(volatile unsigned char *)(uintptr_t)&main = 0xc3;
	} else if (!strcmp(what, "ud2")) {
		__builtin_trap();
	} else if (!strcmp(what, "int3")) {
		__asm__ volatile("int3");
	} else if (!strcmp(what, "div0")) {
		/* A real div instruction: GCC rewrites 1 / x as a compare. */
		unsigned quotient, remainder;
		__asm__ volatile("divl %2"
				 : "=a"(quotient), "=d"(remainder)
				 : "r"((unsigned)zero), "a"(1000u), "d"(0u));
		printf("%u %u\n", quotient, remainder);
	} else if (!strcmp(what, "hlt")) {
		__asm__ volatile("hlt");
	} else if (!strcmp(what, "efault")) {
		report("write(kernel pointer)",
		       solo_syscall4(SYS_write, 1, (long)0xffffffff80000000ull, 16, 0));
		report("write(unmapped pointer)", solo_syscall4(SYS_write, 1, 0x1000, 16, 0));
		report("writev(bad iovec)",
		       solo_syscall4(SYS_writev, 1, (long)0xffff800000000000ull, 2, 0));
		report("arch_prctl(SET_FS, kernel)",
		       solo_syscall4(SYS_arch_prctl, 0x1002, (long)0xffffffff80000000ull, 0, 0));
		return 0;
	} else if (!strcmp(what, "flags")) {
		/* DF and AC set across a demand fault and a syscall: the kernel
		 * must not run its string instructions backwards (zeroing the
		 * page below instead of the new one) or lose SMAP. */
		volatile unsigned char *p = mmap_pages(2);
		unsigned long bad = 0;
		__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq; std\n\t"
				 "movb 4096(%0), %%al\n\t"
				 "cld; pushfq; andq $~0x40000, (%%rsp); popfq" ::"r"(p)
				 : "rax", "memory", "cc");
		__asm__ volatile("std");
		long ret = solo_syscall4(SYS_getpid, 0, 0, 0, 0);
		__asm__ volatile("cld");
		for (int i = 0; i < 8192; i++)
			bad += p[i] != 0;
		printf("misbehave: flags: %lu nonzero bytes, getpid %ld\n", bad, ret);
		return bad != 0;
	} else if (!strcmp(what, "nosys")) {
		report("syscall 999", solo_syscall4(999, 0, 0, 0, 0));
		report("syscall 999 again", solo_syscall4(999, 0, 0, 0, 0));
		report("syscall -1", solo_syscall4(-1, 0, 0, 0, 0));
		return 0;
	}
	printf("misbehave: survived %s\n", what);
	return 0;
}
