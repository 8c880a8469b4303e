/* Linux's clone flags and struct clone_args (linux/sched.h). */
#pragma once

#include <stdint.h>

#define CLONE_VM	     0x00000100ull
#define CLONE_FS	     0x00000200ull
#define CLONE_FILES	     0x00000400ull
#define CLONE_SIGHAND	     0x00000800ull
#define CLONE_VFORK	     0x00004000ull
#define CLONE_THREAD	     0x00010000ull
#define CLONE_SYSVSEM	     0x00040000ull
#define CLONE_SETTLS	     0x00080000ull
#define CLONE_PARENT_SETTID  0x00100000ull
#define CLONE_CHILD_CLEARTID 0x00200000ull
#define CLONE_DETACHED	     0x00400000ull
#define CLONE_CHILD_SETTID   0x01000000ull
#define CSIGNAL		     0xffull /* the exit signal: ignored for threads, as on Linux */

/* struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2). */
struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
_Static_assert(sizeof(struct clone_args) == 88, "struct clone_args, version 2");
#define CLONE_ARGS_SIZE_VER0 64

#define SCHED_OTHER 0
