/*
 * procfs - the few /proc and /sys files programs read to learn about the
 * machine, made up when opened: mounts (df), meminfo, cpuinfo, uptime,
 * loadavg, the kernel's version, and the CPU lists glibc's get_nprocs
 * reads. They are read-only regular files whose size reads as 0, as on
 * Linux; kernel/fd.c opens them by absolute path, before the rootfs.
 */
#pragma once

#include <stddef.h>

/* The longest text any of them has. */
#define PROCFS_TEXT_MAX 1024

/*
 * procfs_generate - the current text of the file at path (absolute, as the
 * app gave it) into buf (size bytes, NUL-terminated). Returns its length,
 * or -ENOENT when path is not one of these files.
 */
long procfs_generate(const char *path, char *buf, size_t size);
