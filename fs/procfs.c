/* /proc and /sys (see procfs.h): synth file systems (fs/synth.h). */
#include "fs/procfs.h"

#include <stdarg.h>
#include <stddef.h>

#include "fs/fdtable.h"
#include "fs/procmaps.h"
#include "fs/procstatus.h"
#include "fs/rootfs.h"
#include "fs/synth.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/process.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/percpu.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/klib.h"
#include "kernel/proc.h"
#include "kernel/thread.h"
#include "kernel/kprintf.h"
#include "kernel/time.h"
#include "mm/aspace.h"
#include "mm/commit.h"
#include "mm/palloc.h"

#define PROC_DEV 5
#define SYS_DEV	 6

static long mounts(char *buf, size_t size)
{
	return rootfs_mounts_text(buf, size);
}

static long meminfo(char *buf, size_t size)
{
	struct palloc_stats st;

	palloc_get_stats(&st);
	uint64_t total = st.total_pages * (PAGE_SIZE / 1024),
		 free = st.free_pages * (PAGE_SIZE / 1024),
		 lazy = aspace_lazyfree_pages() * (PAGE_SIZE / 1024);
	struct commit_stats cs;
	commit_get_stats(&cs);
	uint64_t limit = aspace_commit_limit() * (PAGE_SIZE / 1024),
		 committed = cs.charged * (PAGE_SIZE / 1024);
	return ksnprintf(buf, size,
			 "MemTotal:       %8lu kB\nMemFree:        %8lu kB\n"
			 "MemAvailable:   %8lu kB\nBuffers:               0 kB\n"
			 "Cached:                0 kB\nSwapTotal:             0 kB\n"
			 "SwapFree:              0 kB\nLazyFree:       %8lu kB\n"
			 "CommitLimit:    %8lu kB\nCommitted_AS:   %8lu kB\n",
			 total, free, free + lazy, lazy, limit, committed);
}

/* Appends to the text being made in buf (size bytes, *len used so far, which
 * may pass size: the caller is asked again with a buffer that fits). */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*len += (size_t)kvsnprintf(buf + *len, *len < size ? size - *len : 0, fmt, ap);
	va_end(ap);
}

/* One block per CPU that runs app threads, as Linux's for one package. */
static long cpuinfo(char *buf, size_t size)
{
	uint64_t cpus = thread_cpus_online();
	unsigned n = 0;
	size_t len = 0;

	for (uint64_t m = cpus; m; m &= m - 1)
		n++;

	for (unsigned c = 0; c < 64; c++) {
		if (!((cpus >> c) & 1))
			continue;
		append(buf, size, &len,
		       "processor\t: %u\ncpu MHz\t\t: %lu.000\nphysical id\t: 0\n"
		       "siblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n"
		       "apicid\t\t: %u\n\n",
		       c, (tsc_hz() + 500000) / 1000000, n, c, n, cpu_entries[c].cpu->apic_id);
	}
	return (long)len;
}

static long uptime(char *buf, size_t size)
{
	uint64_t cs = time_now() / 10000000ull;

	return ksnprintf(buf, size, "%lu.%02lu 0.00\n", cs / 100, cs % 100);
}

static long loadavg(char *buf, size_t size)
{
	return ksnprintf(buf, size, "0.00 0.00 0.00 1/1 1\n");
}

/* The CPU lines of /proc/stat, in USER_HZ ticks: a CPU's time running app
 * threads counts as user time, the rest as idle. */
static long stat(char *buf, size_t size)
{
	uint64_t cpus = thread_cpus_online(), now = time_now() / (NSEC_PER_SEC / 100);
	uint64_t busy[64] = {0}, busy_all = 0, idle_all = 0;
	size_t len = 0;

	for (unsigned c = 0; c < 64; c++) {
		if (!((cpus >> c) & 1))
			continue;
		busy[c] = thread_cpu_busy_ns(c) / (NSEC_PER_SEC / 100);
		if (busy[c] > now)
			busy[c] = now;
		busy_all += busy[c];
		idle_all += now - busy[c];
	}
	unsigned running = thread_runnable_count();
	append(buf, size, &len, "cpu  %lu 0 0 %lu 0 0 0 0 0 0\n", busy_all, idle_all);
	for (unsigned c = 0; c < 64; c++) {
		if ((cpus >> c) & 1)
			append(buf, size, &len, "cpu%u %lu 0 0 %lu 0 0 0 0 0 0\n", c, busy[c],
			       now - busy[c]);
	}
	append(buf, size, &len, "btime 0\nprocesses 1\nprocs_running %u\nprocs_blocked 0\n",
	       running ? running : 1);
	return (long)len;
}

/* The local interrupt lines of Linux's /proc/interrupts (x86's
 * arch_show_interrupts), one column per CPU that runs app threads. */
static long interrupts(char *buf, size_t size)
{
	static const struct {
		const char *name, *what;
		size_t offset;
	} lines[] = {
	    {"LOC", "Local timer interrupts", offsetof(struct cpu, timer_interrupts)},
	    {"SPU", "Spurious interrupts", offsetof(struct cpu, spurious_interrupts)},
	    {"CAL", "Function call interrupts", offsetof(struct cpu, call_interrupts)},
	};
	uint64_t cpus = thread_cpus_online();
	size_t len = 0;

	append(buf, size, &len, "%11s", "");
	for (unsigned c = 0; c < 64; c++) {
		if ((cpus >> c) & 1)
			append(buf, size, &len, "CPU%-8u", c);
	}
	append(buf, size, &len, "\n");
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		append(buf, size, &len, "%3s: ", lines[i].name);
		for (unsigned c = 0; c < 64; c++) {
			if (!((cpus >> c) & 1))
				continue;
			const uint64_t *count =
			    (const uint64_t *)((const char *)cpu_entries[c].cpu + lines[i].offset);
			append(buf, size, &len, "%10lu ", __atomic_load_n(count, __ATOMIC_RELAXED));
		}
		append(buf, size, &len, "  %s\n", lines[i].what);
	}
	return (long)len;
}

static long version(char *buf, size_t size)
{
	return ksnprintf(buf, size, "Solo version 0.1\n");
}

static long osrelease(char *buf, size_t size)
{
	return ksnprintf(buf, size, "0.1\n");
}

static long ostype(char *buf, size_t size)
{
	return ksnprintf(buf, size, "Solo\n");
}

static long self_target(char *buf, size_t size)
{
	return ksnprintf(buf, size, "1");
}

/* app_path (or a script's interpreter) when known; else the ESP's app.elf
 * under its name, the only place the app exists. */
static long exe_target(char *buf, size_t size)
{
	const char *path = proc_exe_path();

	if (path)
		return ksnprintf(buf, size, "%s", path);
	return ksnprintf(buf, size, "/%s", proc_name());
}

static long auxv(char *buf, size_t size)
{
	return proc_auxv(buf, size);
}

/* The auxv entry type's value, or 0. */
static uint64_t aux_value(const uint64_t *v, long n, uint64_t type)
{
	for (long i = 0; i + 1 < n / 8 && v[i] != AT_NULL; i += 2)
		if (v[i] == type)
			return v[i + 1];
	return 0;
}

#define PT_INTERP 3
#define PT_PHDR	  6
#define PHDR_SIZE 56 /* Elf64_Phdr: p_type at 0, p_vaddr at 16, p_filesz at 32 */

/*
 * The interpreter's path, as the program names it: its PT_INTERP, read
 * from the program headers in the app's memory (AT_PHDR; PT_PHDR gives the
 * load bias). What the app may have changed there is what Linux would not
 * show, but the page is read-only after start. Empty when there is none.
 */
static void interp_path(const uint64_t *v, long n, char *buf, size_t size)
{
	uint64_t phdr = aux_value(v, n, AT_PHDR), phnum = aux_value(v, n, AT_PHNUM), bias = 0;
	uint64_t interp = 0, len = 0;

	buf[0] = '\0';
	for (uint64_t i = 0; i < phnum && i < 64; i++) {
		uint64_t h[PHDR_SIZE / 8];
		if (app_copy_from(h, phdr + i * PHDR_SIZE, sizeof(h)))
			return;
		if ((uint32_t)h[0] == PT_PHDR)
			bias = phdr - h[2];
		if ((uint32_t)h[0] == PT_INTERP) {
			interp = h[2];
			len = h[4];
		}
	}
	if (!interp || len < 2 || len > size || app_copy_from(buf, bias + interp, len))
		buf[0] = '\0';
	buf[size - 1] = '\0';
}

static long maps(char *buf, size_t size)
{
	static char image[256], interp[256];
	uint64_t v[64];
	long n = proc_auxv((char *)v, sizeof(v));
	struct procmaps_names names = {image, aux_value(v, n, AT_SYSINFO_EHDR), interp,
				       aux_value(v, n, AT_BASE)};

	if (exe_target(image, sizeof(image)) >= (long)sizeof(image))
		image[0] = '\0';
	interp_path(v, n, interp, sizeof(interp));
	return procmaps_text(app_aspace(), &names, buf, size);
}

static void count_thread(struct thread *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
}

/* What status and statm need beside the address space. */
static void status_info(struct procstatus_info *info)
{
	uint64_t v[64];
	long n = proc_auxv((char *)v, sizeof(v));

	*info = (struct procstatus_info){proc_comm(), proc_umask(), 0, aux_value(v, n, AT_BASE),
					 aux_value(v, n, AT_SYSINFO_EHDR)};
	thread_for_each(count_thread, &info->threads);
}

static long status(char *buf, size_t size)
{
	struct procstatus_info info;

	status_info(&info);
	return procstatus_status(app_aspace(), &info, buf, size);
}

static long statm(char *buf, size_t size)
{
	struct procstatus_info info;

	status_info(&info);
	return procstatus_statm(app_aspace(), &info, buf, size);
}

static long cmdline(char *buf, size_t size)
{
	return proc_cmdline(buf, size);
}

/* /sys/devices/system/cpu/{online,possible,present}: the CPUs running, in
 * Linux's list format ("0-3", "0,2-3"); the same set for all three, since
 * Solo starts every CPU it will ever use at boot. */
static long cpu_list(char *buf, size_t size)
{
	uint64_t cpus = thread_cpus_online();
	size_t len = 0;

	for (unsigned c = 0; c < 64; c++) {
		if (!((cpus >> c) & 1))
			continue;
		unsigned last = c;
		while (last + 1 < 64 && ((cpus >> (last + 1)) & 1))
			last++;
		const char *sep = len ? "," : "";
		if (last == c)
			append(buf, size, &len, "%s%u", sep, c);
		else
			append(buf, size, &len, "%s%u-%u", sep, c, last);
		c = last;
	}
	append(buf, size, &len, "\n");
	return (long)len;
}

/* /proc/self/fd: one entry per open descriptor, by number. */
static int fd_entry(int i, char *name, size_t size)
{
	for (int fd = 0, seen = 0; fd < FD_MAX; fd++) {
		if (fd_get(fd) && seen++ == i) {
			ksnprintf(name, size, "%d", fd);
			return 1;
		}
	}
	return 0;
}

/* What a descriptor's link says, as Linux words it for each kind. */
static long fd_target(const char *name, char *buf, size_t size)
{
	int fd = 0;
	struct kstat st;

	for (const char *p = name; *p; p++)
		fd = fd * 10 + (*p - '0');
	struct file *f = fd_get(fd);
	if (!f)
		return ksnprintf(buf, size, "(closed)");
	if (f->inode && S_ISDIR(f->inode->mode)) {
		long n = vfs_path(f->inode, buf, size);
		if (n >= 0)
			return n;
	}
	file_stat(f, &st);
	if (S_ISFIFO(st.mode))
		return ksnprintf(buf, size, "pipe:[%lu]", st.ino);
	if (S_ISCHR(st.mode))
		return ksnprintf(buf, size, "/dev/ttyS0");
	return ksnprintf(buf, size, "anon_inode:[%s]", f->ops->kind);
}

#define DIR(name, parent)                                                                          \
	{                                                                                          \
		name, parent, S_IFDIR | 0555, 0, NULL, NULL, NULL, NULL, NULL                      \
	}
#define TEXT(name, parent, fn)                                                                     \
	{                                                                                          \
		name, parent, S_IFREG | 0444, 0, NULL, fn, NULL, NULL, NULL                        \
	}
#define LINK(name, parent, target)                                                                 \
	{                                                                                          \
		name, parent, S_IFLNK | 0777, 0, NULL, NULL, target, NULL, NULL                    \
	}

enum { P_ROOT, P_SELF_DIR = 10, P_FD = 15, P_SYS = 16, P_KERNEL = 17 };

static const struct synth_node proc_nodes[] = {
    [P_ROOT] = DIR("", P_ROOT),
    [1] = TEXT("mounts", P_ROOT, mounts),
    [2] = TEXT("meminfo", P_ROOT, meminfo),
    [3] = TEXT("cpuinfo", P_ROOT, cpuinfo),
    [4] = TEXT("uptime", P_ROOT, uptime),
    [5] = TEXT("loadavg", P_ROOT, loadavg),
    [6] = TEXT("version", P_ROOT, version),
    [7] = TEXT("stat", P_ROOT, stat),
    [8] = LINK("self", P_ROOT, self_target),
    [9] = LINK("thread-self", P_ROOT, self_target),
    [P_SELF_DIR] = DIR("1", P_ROOT),
    [11] = LINK("exe", P_SELF_DIR, exe_target),
    [12] = TEXT("cmdline", P_SELF_DIR, cmdline),
    [13] = TEXT("mounts", P_SELF_DIR, mounts),
    [14] = TEXT("stat", P_SELF_DIR, stat),
    [P_FD] = {"fd", P_SELF_DIR, S_IFDIR | 0500, 0, NULL, NULL, NULL, fd_entry, fd_target},
    [P_SYS] = DIR("sys", P_ROOT),
    [P_KERNEL] = DIR("kernel", P_SYS),
    [18] = TEXT("osrelease", P_KERNEL, osrelease),
    [19] = TEXT("ostype", P_KERNEL, ostype),
    [20] = TEXT("maps", P_SELF_DIR, maps),
    [21] = TEXT("auxv", P_SELF_DIR, auxv),
    [22] = TEXT("status", P_SELF_DIR, status),
    [23] = TEXT("statm", P_SELF_DIR, statm),
    [24] = TEXT("interrupts", P_ROOT, interrupts),
};

enum { S_ROOT, S_DEVICES, S_SYSTEM, S_CPU };

static const struct synth_node sys_nodes[] = {
    [S_ROOT] = DIR("", S_ROOT),
    [S_DEVICES] = DIR("devices", S_ROOT),
    [S_SYSTEM] = DIR("system", S_DEVICES),
    [S_CPU] = DIR("cpu", S_SYSTEM),
    [4] = TEXT("online", S_CPU, cpu_list),
    [5] = TEXT("possible", S_CPU, cpu_list),
    [6] = TEXT("present", S_CPU, cpu_list),
};

int procfs_mount(struct inode **root)
{
	return synth_mount(proc_nodes, (int)ARRAY_SIZE(proc_nodes), PROC_MAGIC, PROC_DEV, root);
}

int sysfs_mount(struct inode **root)
{
	return synth_mount(sys_nodes, (int)ARRAY_SIZE(sys_nodes), SYSFS_MAGIC, SYS_DEV, root);
}

void procfs_unmount(struct inode *root)
{
	synth_unmount(root);
}
