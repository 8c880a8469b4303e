/*
 * The texts of the made-up /proc and /sys files (procfs.h). Each is built
 * fresh at open from the kernel's own state, in Linux's format, so that
 * parsers written for Linux read them.
 */
#include "kernel/procfs.h"

#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/palloc.h"

/* Not "rootfs": tools such as busybox df skip Linux's initial rootfs. */
static long mounts(char *buf, size_t size)
{
	return ksnprintf(buf, size, "rootfs.tar / tarfs ro,relatime 0 0\n");
}

static long meminfo(char *buf, size_t size)
{
	struct palloc_stats st;

	palloc_get_stats(&st);
	uint64_t total = st.total_pages * (PAGE_SIZE / 1024),
		 free = st.free_pages * (PAGE_SIZE / 1024);
	return ksnprintf(buf, size,
			 "MemTotal:       %8lu kB\nMemFree:        %8lu kB\n"
			 "MemAvailable:   %8lu kB\nBuffers:               0 kB\n"
			 "Cached:                0 kB\nSwapTotal:             0 kB\n"
			 "SwapFree:              0 kB\n",
			 total, free, free);
}

static long cpuinfo(char *buf, size_t size)
{
	return ksnprintf(buf, size,
			 "processor\t: 0\ncpu MHz\t\t: %lu.000\nphysical id\t: 0\n"
			 "siblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n\n",
			 (tsc_hz() + 500000) / 1000000);
}

static uint64_t uptime_centiseconds(void)
{
	return tsc_ns(arch_timestamp() - rtc_kernel_entry_tsc()) / 10000000ull;
}

static long uptime(char *buf, size_t size)
{
	uint64_t cs = uptime_centiseconds();

	return ksnprintf(buf, size, "%lu.%02lu 0.00\n", cs / 100, cs % 100);
}

static long loadavg(char *buf, size_t size)
{
	return ksnprintf(buf, size, "0.00 0.00 0.00 1/1 1\n");
}

static long cpu_list(char *buf, size_t size)
{
	return ksnprintf(buf, size, "0\n");
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

static const struct {
	const char *path;
	long (*generate)(char *buf, size_t size);
} files[] = {
    {"/proc/mounts", mounts},
    {"/proc/self/mounts", mounts},
    {"/proc/meminfo", meminfo},
    {"/proc/cpuinfo", cpuinfo},
    {"/proc/uptime", uptime},
    {"/proc/loadavg", loadavg},
    {"/proc/version", version},
    {"/proc/sys/kernel/osrelease", osrelease},
    {"/proc/sys/kernel/ostype", ostype},
    {"/sys/devices/system/cpu/online", cpu_list},
    {"/sys/devices/system/cpu/possible", cpu_list},
    {"/sys/devices/system/cpu/present", cpu_list},
};

long procfs_generate(const char *path, char *buf, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (!strcmp(path, files[i].path)) {
			long n = files[i].generate(buf, size);
			return n < (long)size ? n : (long)size - 1;
		}
	}
	return -ENOENT;
}
