/*
 * procfs - /proc and /sys: the few files programs read to learn about the
 * machine and themselves, made when opened, in Linux's format: mounts,
 * meminfo, cpuinfo, uptime, loadavg, version, stat, interrupts (the local
 * ones per CPU); self (a symlink to 1)
 * with exe, cmdline, mounts, maps (fs/procmaps.h), auxv (the raw vector
 * the app started with), status and statm (fs/procstatus.h) and fd (a
 * symlink per open descriptor);
 * sys/kernel's osrelease and ostype; /sys's CPU lists (glibc's get_nprocs).
 * Read-only.
 */
#pragma once

#include "fs/vfs.h"

int procfs_mount(struct inode **root);
int sysfs_mount(struct inode **root);
void procfs_unmount(struct inode *root);
