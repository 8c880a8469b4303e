/*
 * Syscall numbers shared by the kernel and apps. Solo uses the Linux x86-64
 * numbers and calling convention (rax = number; rdi, rsi, rdx, r10, r8, r9;
 * result in rax, -errno on failure) so unmodified static programs run.
 */
#pragma once

#define SYS_read	    0
#define SYS_write	    1
#define SYS_ioctl	    16
#define SYS_writev	    20
#define SYS_getpid	    39
#define SYS_exit	    60
#define SYS_arch_prctl	    158
#define SYS_set_tid_address 218
#define SYS_exit_group	    231

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
