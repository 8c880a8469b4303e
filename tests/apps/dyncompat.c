/*
 * dyncompat: what C libraries and runtimes ask at start and in ordinary
 * work, answered as Linux answers (kernel/compat.h, sys_prctl, procfs's
 * maps, status and statm): a static program, so that it runs whatever the loader can do;
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

static char status[4096], statm[256];

/* Reads /proc/self/status and statm into the buffers (static: reading
 * them touches no new page once they were read once). */
static void read_status(void)
{
	const char *paths[2] = {"/proc/self/status", "/proc/self/statm"};
	char *bufs[2] = {status, statm};
	size_t sizes[2] = {sizeof(status), sizeof(statm)};

	for (int i = 0; i < 2; i++) {
		int fd = open(paths[i], O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, bufs[i], sizes[i] - 1) : -1;
		bufs[i][n > 0 ? n : 0] = '\0';
		close(fd);
	}
}

/* A "Key:\t   N kB" field of status, in kB, or -1. */
static long status_kb(const char *key)
{
	const char *p = strstr(status, key);
	long v;

	return p && sscanf(p + strlen(key), " %ld kB", &v) == 1 ? v : -1;
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

	/* /proc/self/status and statm: the counts follow the pages touched. */
	long statm_f[7] = {0};
	read_status();
	read_status();
	long rss0 = status_kb("VmRSS:");
	CHECK("status: Linux's lone process",
	      !strncmp(status, "Name:\tcompat-thread-n\nUmask:\t0", 30) &&
		  strstr(status, "\nPid:\t1\nPPid:\t0\n") && strstr(status, "\nThreads:\t1\n") &&
		  strstr(status, "\nUid:\t0\t0\t0\t0\n"));
	CHECK("statm: the same pages as status",
	      sscanf(statm, "%ld %ld %ld %ld %ld %ld %ld", &statm_f[0], &statm_f[1], &statm_f[2],
		     &statm_f[3], &statm_f[4], &statm_f[5], &statm_f[6]) == 7 &&
		  statm_f[0] * 4 == status_kb("VmSize:") && statm_f[1] * 4 == rss0 &&
		  statm_f[2] * 4 == status_kb("RssFile:") &&
		  statm_f[3] * 4 == status_kb("VmExe:") && statm_f[3] > 0 && statm_f[4] == 0 &&
		  statm_f[6] == 0);
	char *touched =
	    mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; touched != MAP_FAILED && i < 64; i++)
		touched[i * 4096] = 1;
	read_status();
	long rss1 = status_kb("VmRSS:");
	CHECK("status: VmRSS grows by the pages touched",
	      touched != MAP_FAILED && rss1 - rss0 >= 64 * 4 && rss1 - rss0 <= 66 * 4);
	munmap(touched, 64 * 4096);
	read_status();
	CHECK("status: and shrinks by them at munmap", rss1 - status_kb("VmRSS:") == 64 * 4);
	CHECK("status: VmHWM keeps the peak", status_kb("VmHWM:") >= rss1);
	printf("dyncompat: rss %ld kB -> %ld kB\n", rss0, rss1);
	printf("dyncompat: %d failures\n", failures);
	return failures;
}
