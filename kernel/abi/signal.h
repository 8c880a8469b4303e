/*
 * Linux's signals for x86-64: numbers, sigaction flags and the structures
 * the kernel and the app exchange (asm/signal.h, asm-generic/siginfo.h).
 */
#pragma once

#include <stdint.h>

#define NSIG	     64
#define SIGSET_BYTES 8 /* the kernel's sigset_t: one bit per signal */
#define SIGHUP	     1
#define SIGINT	     2
#define SIGQUIT	     3
#define SIGILL	     4
#define SIGTRAP	     5
#define SIGABRT	     6
#define SIGBUS	     7
#define SIGFPE	     8
#define SIGKILL	     9
#define SIGUSR1	     10
#define SIGSEGV	     11
#define SIGUSR2	     12
#define SIGPIPE	     13
#define SIGALRM	     14
#define SIGTERM	     15
#define SIGCHLD	     17
#define SIGCONT	     18
#define SIGSTOP	     19
#define SIGTSTP	     20
#define SIGTTIN	     21
#define SIGTTOU	     22
#define SIGURG	     23
#define SIGXCPU	     24
#define SIGXFSZ	     25
#define SIGVTALRM    26
#define SIGPROF	     27
#define SIGWINCH     28
#define SIGIO	     29
#define SIGSYS	     31
#define SIGRTMIN     32

#define SIG_DFL 0
#define SIG_IGN 1

#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

#define SA_NOCLDSTOP 0x00000001u
#define SA_NOCLDWAIT 0x00000002u
#define SA_SIGINFO   0x00000004u
#define SA_RESTORER  0x04000000u
#define SA_ONSTACK   0x08000000u
#define SA_RESTART   0x10000000u
#define SA_NODEFER   0x40000000u
#define SA_RESETHAND 0x80000000u

#define SS_ONSTACK 1
#define SS_DISABLE 2
/* The smallest signal stack the app must allow (AT_MINSIGSTKSZ): 2048
 * covers the x86-64 frame with the legacy FPU state (no AVX-512 state is
 * enabled). */
#define MINSIGSTKSZ 2048

/* si_code values. */
#define SI_USER	    0
#define SI_KERNEL   0x80
#define SI_QUEUE    (-1)
#define SI_TIMER    (-2)
#define SI_TKILL    (-6)
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define ILL_ILLOPN  2
#define FPE_INTDIV  1
#define BUS_ADRALN  1
#define BUS_ADRERR  2
#define TRAP_TRACE  2

/* sigevent notification kinds (timer_create). */
#define SIGEV_SIGNAL	0
#define SIGEV_NONE	1
#define SIGEV_THREAD	2
#define SIGEV_THREAD_ID 4

/* The sigaction as rt_sigaction passes it (not glibc's struct sigaction). */
struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};
_Static_assert(sizeof(struct k_sigaction) == 32, "struct kernel_sigaction is 32 bytes");

#define SIGINFO_SIZE 128

/* siginfo_t for 64-bit, the members Solo fills. */
struct k_siginfo {
	int32_t signo, errno_, code, pad;
	union {
		struct {
			int32_t pid;
			uint32_t uid;
		} kill;
		struct {
			int32_t tid, overrun;
			uint64_t value;
		} timer;
		uint64_t addr; /* faults */
		uint8_t bytes[SIGINFO_SIZE - 16];
	} u;
};
_Static_assert(sizeof(struct k_siginfo) == SIGINFO_SIZE, "siginfo_t is 128 bytes");

struct k_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};
_Static_assert(sizeof(struct k_stack) == 24, "stack_t is 24 bytes");

struct k_sigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid; /* SIGEV_THREAD_ID */
	int32_t pad[11];
};
_Static_assert(sizeof(struct k_sigevent) == 64, "struct sigevent is 64 bytes");
