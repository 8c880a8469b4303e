/*
 * dyncompat: what C libraries and runtimes ask at start and in ordinary
 * work, answered as Linux answers (kernel/compat.h, sys_prctl, procfs's
 * maps): a static program, so that it runs whatever the loader can do;
 * tests/boot/test_dynamic.c boots it. The dynamically linked programs there
 * meet the same answers through glibc and musl.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK_PREFIX "dyncompat"
#include "check.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

static char maps[1 << 16];

/* The maps line holding addr: its text (without the newline), or "". */
static const char *line_of(uintptr_t addr)
{
	static char line[512];
	char *save = NULL, *copy = strdup(maps);

	line[0] = '\0';
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
			snprintf(line, sizeof(line), "%s", l);
	}
	return line;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

int main(void)
{
	char name[16] = "";
	int value = -1, fd;
	ssize_t n;

	/* rseq: ENOSYS, as a Linux built without it, whatever the arguments. */
	CHECK("rseq is ENOSYS", errno_of(syscall(334, 0, 32, 0, 0x53053053), ENOSYS));
	/* membarrier: the commands Linux lists on one CPU, each complete at once. */
	long cmds = syscall(324, 0, 0, 0);
	CHECK("membarrier query lists private expedited", cmds > 0 && (cmds & 8) && (cmds & 16));
	CHECK("membarrier register", syscall(324, 16, 0, 0) == 0);
	CHECK("membarrier private expedited", syscall(324, 8, 0, 0) == 0);
	CHECK("membarrier flags are EINVAL", errno_of(syscall(324, 8, 1, 0), EINVAL));
	CHECK("membarrier two commands are EINVAL", errno_of(syscall(324, 24, 0, 0), EINVAL));

	CHECK("prctl set name", prctl(PR_SET_NAME, "compat-thread-name") == 0);
	CHECK("prctl get name is cut to 15",
	      prctl(PR_GET_NAME, name) == 0 && !strcmp(name, "compat-thread-n"));
	CHECK("prctl pdeathsig round trip", prctl(PR_SET_PDEATHSIG, 9) == 0 &&
						prctl(PR_GET_PDEATHSIG, &value) == 0 && value == 9);
	CHECK("prctl timerslack default", prctl(PR_GET_TIMERSLACK) == 50000);
	CHECK("prctl timerslack round trip",
	      prctl(PR_SET_TIMERSLACK, 1000) == 0 && prctl(PR_GET_TIMERSLACK) == 1000);
	CHECK("prctl keepcaps", prctl(PR_SET_KEEPCAPS, 1) == 0 && prctl(PR_GET_KEEPCAPS) == 1);
	CHECK("prctl keepcaps 2 is EINVAL", errno_of(prctl(PR_SET_KEEPCAPS, 2), EINVAL));
	CHECK("prctl seccomp off", prctl(PR_GET_SECCOMP) == 0);
	CHECK("prctl capbset has cap 0", prctl(PR_CAPBSET_READ, 0) == 1);
	CHECK("prctl capbset past the last is EINVAL",
	      errno_of(prctl(PR_CAPBSET_READ, 64), EINVAL));
	CHECK("prctl subreaper round trip", prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 &&
						prctl(PR_GET_CHILD_SUBREAPER, &value) == 0 &&
						value == 1);
	CHECK("prctl thp", prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 &&
			       prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1);
	CHECK("prctl set vma is EINVAL", errno_of(prctl(PR_SET_VMA, 0, 0, 0, 0), EINVAL));
	CHECK("prctl unknown is EINVAL", errno_of(prctl(0x7fff), EINVAL));

	/* /proc/self/maps: a file mapping by path, PROT_NONE, the heap, the stack. */
	fd = open("/tmp/blob.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK("make the file", fd >= 0 && ftruncate(fd, 3 * 4096) == 0);
	char *file = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
	char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *anon =
	    mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mappings", file != MAP_FAILED && shared != MAP_FAILED && anon != MAP_FAILED &&
			      mprotect(anon, 4096, PROT_NONE) == 0);
	uintptr_t brk0 = (uintptr_t)syscall(SYS_brk, 0);
	syscall(SYS_brk, brk0 + 3 * 4096);
	int fdm = open("/proc/self/maps", O_RDONLY);
	size_t len = 0;
	while (fdm >= 0 && (n = read(fdm, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += (size_t)n;
	maps[len] = '\0';
	int local;
	CHECK("maps: the private file mapping",
	      strstr(line_of((uintptr_t)file), " r--p 00001000 ") &&
		  ends_with(line_of((uintptr_t)file), " /tmp/blob.bin"));
	CHECK("maps: the shared one", strstr(line_of((uintptr_t)shared), " rw-s 00000000 ") &&
					  ends_with(line_of((uintptr_t)shared), " /tmp/blob.bin"));
	CHECK("maps: PROT_NONE and anonymous",
	      strstr(line_of((uintptr_t)anon), " ---p 00000000 00:00 0 ") &&
		  ends_with(line_of((uintptr_t)anon + 4096), " rw-p 00000000 00:00 0 "));
	CHECK("maps: the heap", ends_with(line_of(brk0), "[heap]"));
	CHECK("maps: the stack", ends_with(line_of((uintptr_t)&local), "[stack]"));
	CHECK("maps: the program", ends_with(line_of((uintptr_t)main), " /dyncompat") &&
				       strstr(line_of((uintptr_t)main), " r-xp "));
	CHECK("maps: the name column is 74", strlen(line_of((uintptr_t)&local)) > 73 &&
						 line_of((uintptr_t)&local)[73] == '[' &&
						 line_of((uintptr_t)&local)[72] == ' ');
	CHECK("maps: ends with a newline", len > 0 && maps[len - 1] == '\n');
	printf("dyncompat: %d failures\n", failures);
	return failures;
}
