/*
 * exec-auxv: what a program learns at start from the auxv and its
 * surroundings, built three ways (static musl, dynamic glibc, dynamic musl)
 * for tests/boot/test_exec.c. "fact:" lines are the same wherever the
 * program runs (the test compares them with a run on the host); "info:"
 * lines name paths that differ between the host and Solo. Exits 3.
 */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char _start[];
extern const ElfW(Ehdr) __ehdr_start;
extern char _end[];

static void fact(const char *what, int holds)
{
	printf("fact: %s: %s\n", what, holds ? "yes" : "no");
}

int main(int argc, char **argv)
{
	const ElfW(Phdr) *phdrs =
	    (const void *)((const char *)&__ehdr_start + __ehdr_start.e_phoff);
	int dynamic = 0;
	char exe[4096];

	for (int i = 0; i < __ehdr_start.e_phnum; i++)
		if (phdrs[i].p_type == PT_INTERP)
			dynamic = 1;
	fact("AT_ENTRY is the program's _start", getauxval(AT_ENTRY) == (uintptr_t)_start);
	fact("AT_PHDR is the program's headers", getauxval(AT_PHDR) == (uintptr_t)phdrs);
	fact("AT_PHNUM is the program's count", getauxval(AT_PHNUM) == __ehdr_start.e_phnum);
	fact("AT_PHENT", getauxval(AT_PHENT) == sizeof(ElfW(Phdr)));
	/* AT_BASE: the interpreter's load address, 0 for a static program */
	fact("AT_BASE set exactly when dynamic", (getauxval(AT_BASE) != 0) == dynamic);
	fact("AT_BASE away from the program",
	     !dynamic || getauxval(AT_BASE) > (uintptr_t)_end ||
		 getauxval(AT_BASE) + (64u << 20) < (uintptr_t)&__ehdr_start);
	fact("AT_PAGESZ", getauxval(AT_PAGESZ) == 4096);
	fact("AT_RANDOM", getauxval(AT_RANDOM) != 0);
	fact("AT_PLATFORM",
	     getauxval(AT_PLATFORM) && !strcmp((const char *)getauxval(AT_PLATFORM), "x86_64"));
	/* brk starts after the program, not after the interpreter: Solo
	 * starts it right at the end, Linux a random distance above */
	uintptr_t brk0 = (uintptr_t)syscall(SYS_brk, 0);
	printf("info: brk - _end %#lx\n", (unsigned long)(brk0 - (uintptr_t)_end));
	fact("brk above the program", brk0 >= (uintptr_t)_end);
	fact("brk below the interpreter", !dynamic || brk0 < getauxval(AT_BASE));
	uintptr_t brk1 = (uintptr_t)syscall(SYS_brk, brk0 + 8192);
	fact("brk grows", brk1 == brk0 + 8192 && (((char *)brk0)[8191] = 1));
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	printf("info: AT_EXECFN %s\n", execfn ? execfn : "(none)");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	printf("info: exe %s\n", exe);
	printf("info: dynamic %d\n", dynamic);
	printf("info: AT_BASE %#lx\n", getauxval(AT_BASE));
	for (int i = 0; i < argc; i++)
		printf("info: argv[%d] %s\n", i, argv[i]);
	return 3;
}
