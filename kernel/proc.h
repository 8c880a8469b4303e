/*
 * proc - the process calls: what a Linux process asks about itself and
 * the calls that start and end threads. Solo has one process (pid 1, its
 * own group and session leader, root) on one CPU; calls that would change
 * scheduling, priority or limits are accepted and have no effect unless
 * said otherwise in docs/syscalls.md.
 */
#pragma once

#include <stddef.h>

#include "kernel/syscall.h"

/* The file mode creation mask (umask) new files get their mode through. */
unsigned proc_umask(void);
/* The app's name (argv[0]) and command line, for /proc/self: set at start
 * (copied), dropped at exit. */
int proc_set_command(int argc, const char *const *argv);
void proc_release(void);
const char *proc_name(void);
/* The task's name (Linux's comm, /proc/self/status Name): the base name of
 * argv[0] cut to 15 bytes, until prctl(PR_SET_NAME) changes it. */
const char *proc_comm(void);
/* /proc/self/cmdline: the arguments, each NUL-terminated; the length. */
long proc_cmdline(char *buf, size_t size);
/* The app's executable for /proc/self/exe: its path in the root file system
 * (boot.cfg app_path, or a script's interpreter), copied; NULL: none (the
 * app exists only as the ESP's app.elf). Returns 0 or -ENOMEM. Dropped by
 * proc_release. proc_exe_path returns it, or NULL. */
int proc_set_exe(const char *path);
const char *proc_exe_path(void);
/* The auxiliary vector the app started with (len bytes: uint64 pairs up to
 * and including AT_NULL), copied at start; dropped by proc_release. Returns
 * 0 or -ENOMEM. */
int proc_set_auxv(const void *auxv, size_t len);
/* /proc/self/auxv: the raw auxv bytes into buf; their length, or -ENOSPC
 * when size is smaller (nothing copied). Does not block. */
long proc_auxv(char *buf, size_t size);
/* uname's nodename: "solo" until set (boot.cfg hostname=, through the
 * network's configuration). A name of 1..64 bytes is copied; anything
 * else is ignored. proc_hostname returns the current one. */
void proc_set_hostname(const char *name);
const char *proc_hostname(void);

SYSCALL_DECLARE(exit);
SYSCALL_DECLARE(exit_group);
SYSCALL_DECLARE(clone);
SYSCALL_DECLARE(clone3);
SYSCALL_DECLARE(arch_prctl);
SYSCALL_DECLARE(set_tid_address);
SYSCALL_DECLARE(set_robust_list);
SYSCALL_DECLARE(getpid);
SYSCALL_DECLARE(gettid);
SYSCALL_DECLARE(getppid);
SYSCALL_DECLARE(getuid);
SYSCALL_DECLARE(geteuid);
SYSCALL_DECLARE(getgid);
SYSCALL_DECLARE(getegid);
SYSCALL_DECLARE(getresuid);
SYSCALL_DECLARE(getresgid);
SYSCALL_DECLARE(getgroups);
SYSCALL_DECLARE(getpgrp);
SYSCALL_DECLARE(getpgid);
SYSCALL_DECLARE(getsid);
SYSCALL_DECLARE(setpgid);
SYSCALL_DECLARE(setsid);
SYSCALL_DECLARE(uname);
SYSCALL_DECLARE(umask);
SYSCALL_DECLARE(prctl);
SYSCALL_DECLARE(prlimit64);
SYSCALL_DECLARE(getrlimit);
SYSCALL_DECLARE(setrlimit);
SYSCALL_DECLARE(getrusage);
SYSCALL_DECLARE(times);
SYSCALL_DECLARE(sysinfo);
SYSCALL_DECLARE(getrandom);
SYSCALL_DECLARE(personality);
SYSCALL_DECLARE(wait4);
SYSCALL_DECLARE(waitid);
SYSCALL_DECLARE(sched_yield);
SYSCALL_DECLARE(sched_getaffinity);
SYSCALL_DECLARE(sched_setaffinity);
SYSCALL_DECLARE(sched_getscheduler);
SYSCALL_DECLARE(sched_get_priority_max);
SYSCALL_DECLARE(sched_get_priority_min);
SYSCALL_DECLARE(sched_getparam);
SYSCALL_DECLARE(getpriority);
SYSCALL_DECLARE(setpriority);
SYSCALL_DECLARE(getcpu);
