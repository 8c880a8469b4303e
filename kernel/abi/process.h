/*
 * What a Linux process asks about itself: resource limits and usage,
 * prctl, sysinfo, uname, the auxiliary vector and arch_prctl (linux/
 * resource.h, prctl.h, sysinfo.h, utsname.h, elf.h, asm/prctl.h).
 */
#pragma once

#include <stdint.h>

#define RLIMIT_STACK  3
#define RLIMIT_NOFILE 7
#define RLIM_NLIMITS  16
#define RLIM_INFINITY (~0ull)

#define RUSAGE_CHILDREN (-1)
#define RUSAGE_SELF	0
#define RUSAGE_THREAD	1

#define PR_SET_PDEATHSIG	 1
#define PR_GET_PDEATHSIG	 2
#define PR_GET_DUMPABLE		 3
#define PR_SET_DUMPABLE		 4
#define PR_GET_KEEPCAPS		 7
#define PR_SET_KEEPCAPS		 8
#define PR_SET_NAME		 15
#define PR_GET_NAME		 16
#define PR_GET_SECCOMP		 21
#define PR_CAPBSET_READ		 23
#define PR_GET_TIMERSLACK	 30
#define PR_SET_TIMERSLACK	 29
#define PR_SET_CHILD_SUBREAPER	 36
#define PR_GET_CHILD_SUBREAPER	 37
#define PR_SET_NO_NEW_PRIVS	 38
#define PR_GET_NO_NEW_PRIVS	 39
#define PR_SET_THP_DISABLE	 41
#define PR_GET_THP_DISABLE	 42
#define PR_CAP_AMBIENT		 47
#define PR_CAP_AMBIENT_IS_SET	 1
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define CAP_LAST_CAP		 40
#define TIMER_SLACK_DEFAULT_NS	 50000

#define MEMBARRIER_CMD_QUERY			  0
#define MEMBARRIER_CMD_GLOBAL			  (1 << 0)
#define MEMBARRIER_CMD_GLOBAL_EXPEDITED		  (1 << 1)
#define MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED  (1 << 2)
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED	  (1 << 3)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#define TASK_COMM_LEN				  16

#define CLK_TCK 100

#define GRND_NONBLOCK 1
#define GRND_RANDOM   2
#define GRND_INSECURE 4

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

struct linux_rusage {
	int64_t utime_sec, utime_usec, stime_sec, stime_usec;
	int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd,
	    msgrcv, nsignals, nvcsw, nivcsw;
};
_Static_assert(sizeof(struct linux_rusage) == 144, "struct rusage is 144 bytes");

struct linux_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char reserved[4];
};
_Static_assert(sizeof(struct linux_sysinfo) == 112, "struct sysinfo is 112 bytes");

#define UTSNAME_FIELD 65
struct linux_utsname {
	char sysname[UTSNAME_FIELD], nodename[UTSNAME_FIELD], release[UTSNAME_FIELD],
	    version[UTSNAME_FIELD], machine[UTSNAME_FIELD], domainname[UTSNAME_FIELD];
};
_Static_assert(sizeof(struct linux_utsname) == 390, "struct utsname is 6 x 65 bytes");

/* Auxiliary vector entries (linux/auxvec.h). */
#define AT_NULL	       0
#define AT_PHDR	       3
#define AT_PHENT       4
#define AT_PHNUM       5
#define AT_PAGESZ      6
#define AT_BASE	       7
#define AT_FLAGS       8
#define AT_ENTRY       9
#define AT_UID	       11
#define AT_EUID	       12
#define AT_GID	       13
#define AT_EGID	       14
#define AT_PLATFORM    15
#define AT_HWCAP       16
#define AT_CLKTCK      17
#define AT_SECURE      23
#define AT_RANDOM      25
#define AT_HWCAP2      26
#define AT_EXECFN      31
#define AT_MINSIGSTKSZ 51
/* the vDSO's ELF header, when there is one (kernel/vdso.h) */
#define AT_SYSINFO_EHDR 33
