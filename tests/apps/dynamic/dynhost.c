/*
 * dynhost: a dynamically linked program (glibc's or musl's loader) that uses
 * what such programs use on the way to main and after: a DT_NEEDED library
 * found through RUNPATH $ORIGIN, dlopen() of a plugin beside it, TLS in both,
 * a thread, and the /proc/self files runtimes parse (maps, auxv, exe).
 * Every line it prints is the same on any Linux and on Solo (no addresses,
 * no CPU counts, no paths outside the program's own directory), so the host
 * run is the oracle (tests/boot/test_dynamic.c).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dynlib.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Reads a whole /proc file (they have size 0) into a static buffer. */
static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf + *len, sizeof(buf) - 1 - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/*
 * /proc/self/maps in Linux's format ("%08lx-%08lx %c%c%c%c %08llx %02x:%02x
 * %lu" then the name in column 74), and the names of the regions that hold
 * given addresses.
 */
struct region {
	uintptr_t addr;
	const char *what;
	char name[256];
	int found;
};

static void check_maps(struct region *want, int n, int quiet)
{
	size_t len;
	char *text = slurp("/proc/self/maps", &len), *line, *save = NULL;
	int lines = 0, bad = 0;

	if (!text || !len) {
		printf("maps: unreadable\n");
		return;
	}
	if (text[len - 1] != '\n')
		bad++;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi, off, ino;
		unsigned major, minor;
		char perms[8];
		int name_at = 0;

		lines++;
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &lo, &hi, perms, &off, &major,
			   &minor, &ino, &name_at) < 7 ||
		    lo >= hi || strlen(perms) != 4 || !strchr("r-", perms[0]) ||
		    !strchr("w-", perms[1]) || !strchr("x-", perms[2]) || !strchr("ps", perms[3])) {
			bad++;
			continue;
		}
		/* The name starts at column 74 when there is one; a line without
		 * one ends with a space after the inode. */
		if (line[name_at] && name_at != 73)
			bad++;
		for (int i = 0; i < n; i++) {
			if (want[i].addr >= lo && want[i].addr < hi) {
				want[i].found++;
				snprintf(want[i].name, sizeof(want[i].name), "%s", line + name_at);
			}
		}
	}
	if (quiet)
		return;
	printf("maps: %s\n", lines > 4 && !bad ? "every line in Linux's format" : "malformed");
	for (int i = 0; i < n; i++) {
		const char *name = want[i].name[0] == '/' ? base_name(want[i].name) : want[i].name;
		printf("maps: %s is in %s\n", want[i].what,
		       want[i].found == 1 ? name : "no one region");
	}
}

/* /proc/self/auxv agrees with getauxval for the entries every loader sets. */
static void check_auxv(void)
{
	static const unsigned long types[] = {AT_PHDR, AT_PHENT, AT_PHNUM,  AT_PAGESZ, AT_ENTRY,
					      AT_BASE, AT_UID,	 AT_RANDOM, AT_EXECFN};
	size_t len;
	uint64_t *v = (uint64_t *)slurp("/proc/self/auxv", &len);
	int agree = 0, ends = 0;

	if (!v || len % 16) {
		printf("auxv: unreadable\n");
		return;
	}
	for (size_t i = 0; i < len / 16; i++) {
		if (v[2 * i] == AT_NULL) {
			ends = i == len / 16 - 1;
			break;
		}
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			agree += v[2 * i] == types[t] && v[2 * i + 1] == getauxval(types[t]);
	}
	printf("auxv: %d of %zu entries agree with getauxval, %s\n", agree,
	       sizeof(types) / sizeof(types[0]),
	       ends ? "ends with AT_NULL" : "no AT_NULL at the end");
}

/* The library's call count is thread-local: this thread's is its own. */
static void *worker(void *arg)
{
	dynlib_hash(arg);
	return (void *)(uintptr_t)dynlib_calls();
}

int main(int argc, char **argv)
{
	struct region want[4];
	char line[128], exe[256];
	pthread_attr_t attr;
	pthread_t t;
	void *stack, *ret, *plugin;
	size_t stack_size;
	int local = 0, n = 0;
	uintptr_t brk0;

	printf("dynhost: %d args:", argc);
	for (int i = 1; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf("\nlibdynlib: constructed %d, hash(solo) = %08x", dynlib_constructed(),
	       dynlib_hash("solo"));
	printf(", calls %d\n", dynlib_calls());

	plugin = dlopen("libdynplugin.so", RTLD_NOW);
	if (!plugin) {
		printf("dlopen libdynplugin.so: %s\n", dlerror());
		return 1;
	}
	dynplugin_describe_fn describe = (dynplugin_describe_fn)dlsym(plugin, "dynplugin_describe");
	if (!describe) {
		printf("dlsym dynplugin_describe: %s\n", dlerror());
		return 1;
	}
	describe(line, sizeof(line), "unikernel");
	printf("%s; calls now %d\n", line, dynlib_calls());
	printf("dlopen libnothere.so: %s\n", dlopen("libnothere.so", RTLD_NOW) ? "found" : "fails");

	if (pthread_create(&t, NULL, worker, "thread") || pthread_join(t, &ret))
		return 1;
	printf("thread: its calls %d, main's %d\n", (int)(uintptr_t)ret, dynlib_calls());

	/* The heap: the break moved by hand, so that it is not empty. */
	brk0 = (uintptr_t)syscall(SYS_brk, 0);
	syscall(SYS_brk, brk0 + 8192);
	want[n++] = (struct region){(uintptr_t)&local, "a local variable", "", 0};
	want[n++] = (struct region){brk0, "the program break", "", 0};
	want[n++] = (struct region){(uintptr_t)dynlib_hash, "dynlib_hash", "", 0};
	want[n++] = (struct region){(uintptr_t)describe, "dynplugin_describe", "", 0};
	check_maps(want, n, 0);
	if (getauxval(AT_SYSINFO_EHDR)) {
		struct region vdso = {getauxval(AT_SYSINFO_EHDR), "AT_SYSINFO_EHDR", "", 0};
		check_maps(&vdso, 1, 1);
		printf("vdso: %s\n",
		       vdso.found && !strcmp(vdso.name, "[vdso]") ? "named" : "not named");
	} else {
		printf("vdso: named\n"); /* none: nothing to name */
	}
	check_auxv();

	/* pthread_getattr_np of the main thread reads [stack] from the maps. */
	if (pthread_getattr_np(pthread_self(), &attr) == 0 &&
	    pthread_attr_getstack(&attr, &stack, &stack_size) == 0)
		printf("main stack: %s\n",
		       (char *)&local > (char *)stack && (char *)&local < (char *)stack + stack_size
			   ? "holds a local"
			   : "misses the locals");

	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	printf("exe: %s\n", base_name(exe));

	prctl(PR_SET_NAME, "dyn-worker");
	prctl(PR_GET_NAME, line);
	printf("prctl name: %s\n", line);

	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	printf("affinity: %s\n",
	       sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) >= 1 ? "ok"
										       : "fails");
	char random[16];
	printf("getrandom nonblock: %s\n",
	       getrandom(random, sizeof(random), GRND_NONBLOCK) == sizeof(random) ? "ok" : "fails");

	/* The loader names the plugin by the path it found it at. */
	struct stat st;
	Dl_info info;
	printf("stat of the plugin's path: %s\n",
	       dladdr((void *)describe, &info) && info.dli_fname &&
		       !strcmp(base_name(info.dli_fname), "libdynplugin.so") &&
		       fstatat(AT_FDCWD, info.dli_fname, &st, 0) == 0 && st.st_size > 0
		   ? "ok"
		   : "fails");
	dlclose(plugin);
	return 0;
}
