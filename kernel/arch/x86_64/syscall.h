/*
 * The register frame syscall.S saves on entry. The generic dispatcher reads
 * the number and arguments from it and writes the return value into rax.
 */
#pragma once

#include <stdint.h>

struct syscall_frame {
	uint64_t r15, r14, r13, r12, rbp, rbx;
	uint64_t r9, r8, r10, rdx, rsi, rdi;
	uint64_t rax;	 /* number on entry, result on exit */
	uint64_t rip;	 /* user rcx: where sysret returns */
	uint64_t rflags; /* user r11 */
	uint64_t rsp;	 /* user stack */
};
_Static_assert(sizeof(struct syscall_frame) == 16 * 8, "syscall frame matches syscall.S");

/* Generic C entry, in kernel/syscall.c. */
void syscall_dispatch(struct syscall_frame *f);
