/*
 * The register frame syscall.S saves on entry. The generic dispatcher reads
 * the number and arguments from it and writes the return value into rax.
 */
#pragma once

#include <stdint.h>

#include "kernel/syscall.h"

struct syscall_frame {
	uint64_t r15, r14, r13, r12, rbp, rbx;
	union {
		struct {
			uint64_t rdi, rsi, rdx, r10, r8, r9;
		};
		struct syscall_args args; /* the same six, in argument order */
	};
	uint64_t rax;	 /* number on entry, result on exit */
	uint64_t rip;	 /* user rcx: where sysret returns */
	uint64_t rflags; /* user r11 */
	uint64_t rsp;	 /* user stack */
	/* Not saved on entry (they equal rip and rflags then): read only by
	 * the iretq exit, when a signal return restores all registers. */
	uint64_t rcx, r11;
};
_Static_assert(sizeof(struct syscall_frame) == 18 * 8, "syscall frame matches syscall.S");
_Static_assert(__builtin_offsetof(struct syscall_frame, r9) ==
		   __builtin_offsetof(struct syscall_frame, rdi) + 5 * 8,
	       "the arguments are in order");

/* Generic C entry, in kernel/syscall.c. Returns 0 to leave with sysret, or
 * 1 to leave with iretq, which also restores rcx and r11 from the frame. */
int syscall_dispatch(struct syscall_frame *f);
