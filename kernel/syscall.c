/*
 * Syscall dispatch: Linux x86-64 numbers and conventions (see
 * include/solo/uapi/syscall.h). Every pointer from the app goes through the
 * vm copy helpers, which fail with -EFAULT instead of faulting, so no argument
 * value can crash the kernel. Numbers without a handler return -ENOSYS and
 * are logged once each, with the Linux name (build/gen/syscall_names.c,
 * generated from <asm/unistd_64.h>). The file calls are in kernel/fd.c.
 *
 * docs/syscalls.md is generated from the table between the "syscall table"
 * markers below (tools/gen-syscall-docs.sh; `make docs`); the build fails
 * when it is stale. One entry per line; a trailing comment is the note.
 */
#include "kernel/arch/x86_64/syscall.h"

#include <solo/uapi/syscall.h>

#include "drivers/apic_timer.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"

#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/errno.h"
#include "kernel/fd.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/loader.h"
#include "kernel/mman.h"
#include "kernel/signal.h"
#include "kernel/strace.h"
#include "kernel/syscall_names.h"
#include "kernel/thread.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"

#define SIGKILL	     9
#define SIGSEGV	     11
#define NSIG	     64
#define LOGGED_WORDS 16 /* numbers below 1024 are logged once each */

typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			   uint64_t a5);

static uint64_t logged_unsupported[LOGGED_WORDS];
static int logged_large_number;
/* The frame of the syscall in progress, for clone (the child's registers). */
static const struct syscall_frame *current_frame;

/* exit_group: the whole app. */
static long sys_exit(uint64_t status, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5)
{
	app_exit((int)(status & 0xff));
}

/* exit: the calling thread; the last one ends the app. */
static long sys_exit_thread(uint64_t status, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	thread_exit((int)(status & 0xff));
	return 0; /* nobody sees it: the thread is gone */
}

static long sys_clone(uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid, uint64_t tls,
		      uint64_t a5)
{
	return thread_clone(current_frame, flags, stack, ptid, ctid, tls);
}

/* Linux's struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2). */
struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64

/* clone3: the same threads as clone; the stack is given as its lowest
 * address and size. A newer, larger struct is taken when the part Solo
 * does not know is zero, as Linux does. */
static long sys_clone3(uint64_t uargs, uint64_t size, uint64_t a2, uint64_t a3, uint64_t a4,
		       uint64_t a5)
{
	struct clone_args args = {0};

	if (size < CLONE_ARGS_SIZE_VER0 || size > PAGE_SIZE)
		return -EINVAL;
	if (app_copy_from(&args, uargs, size < sizeof(args) ? size : sizeof(args)))
		return -EFAULT;
	for (uint64_t off = sizeof(args); off < size; off++) {
		uint8_t byte;
		if (app_copy_from(&byte, uargs + off, 1))
			return -EFAULT;
		if (byte)
			return -E2BIG;
	}
	/* The exit signal has its own field; set_tid and cgroups need
	 * namespaces and cgroups Solo does not have. */
	if ((args.flags & 0xff) || args.exit_signal > 64 || args.set_tid || args.set_tid_size ||
	    args.cgroup)
		return -EINVAL;
	if ((args.stack == 0) != (args.stack_size == 0) ||
	    args.stack_size > UINT64_MAX - args.stack)
		return -EINVAL;
	return thread_clone(current_frame, args.flags, args.stack + args.stack_size,
			    args.parent_tid, args.child_tid, args.tls);
}

static long sys_arch_prctl(uint64_t code, uint64_t addr, uint64_t a2, uint64_t a3, uint64_t a4,
			   uint64_t a5)
{
	uint64_t fs;

	switch (code) {
	case ARCH_SET_FS:
		/* A kernel-half or non-canonical FS base would fault in wrmsr
		 * or let the app address kernel memory through %fs. */
		if (addr >= VM_USER_TOP)
			return -EPERM;
		arch_set_user_fs(addr);
		return 0;
	case ARCH_GET_FS:
		fs = arch_get_user_fs();
		return app_copy_to(addr, &fs, sizeof(fs));
	default:
		return -EINVAL;
	}
}

static long sys_set_tid_address(uint64_t tidptr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	thread_set_clear_tid(tidptr);
	return thread_tid();
}

static long sys_getpid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return 1;
}

/* SOLO_MAP_* (the app's ABI) -> VM_* (the kernel's); -1 for unknown bits. */
static long map_flags(uint64_t flags)
{
	if (flags & ~(uint64_t)(SOLO_MAP_WRITE | SOLO_MAP_EXEC | SOLO_MAP_UNCACHED |
				SOLO_MAP_WRITE_COMBINING))
		return -1;
	return ((flags & SOLO_MAP_WRITE) ? VM_WRITE : 0) | ((flags & SOLO_MAP_EXEC) ? VM_EXEC : 0) |
	       ((flags & SOLO_MAP_UNCACHED) ? VM_UNCACHED : 0) |
	       ((flags & SOLO_MAP_WRITE_COMBINING) ? VM_WRITE_COMBINING : 0);
}

static long sys_map_memory(uint64_t phys, uint64_t virt, uint64_t size, uint64_t flags, uint64_t a4,
			   uint64_t a5)
{
	long vm = map_flags(flags);

	if (vm < 0)
		return -EINVAL;
	return aspace_map(app_aspace(), phys, virt, size, (unsigned)vm);
}

static long sys_unmap_memory(uint64_t base, uint64_t size, uint64_t a2, uint64_t a3, uint64_t a4,
			     uint64_t a5)
{
	return aspace_unmap(app_aspace(), base, size);
}

static long sys_increase_heap(uint64_t size, uint64_t flags, uint64_t a2, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	long vm = map_flags(flags);

	if (vm < 0)
		return -EINVAL;
	return aspace_increase_heap(app_aspace(), size, (unsigned)vm);
}

static long sys_decrease_heap(uint64_t size, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	return aspace_decrease_heap(app_aspace(), size);
}

static long sys_mem_stats(uint64_t out, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	struct aspace_stats st;
	struct solo_mem_stats user;

	_Static_assert(REGION_KINDS == SOLO_REGION_KINDS, "mem_stats regions match the ABI");
	_Static_assert(REGION_IMAGE == SOLO_REGION_IMAGE && REGION_HEAP == SOLO_REGION_HEAP &&
			   REGION_MAPPING == SOLO_REGION_MAPPING &&
			   REGION_DEVICE == SOLO_REGION_DEVICE && REGION_STACK == SOLO_REGION_STACK,
		       "region numbering matches the ABI");
	aspace_get_stats(app_aspace(), &st);
	for (int k = 0; k < REGION_KINDS; k++) {
		user.reserved_pages[k] = st.reserved[k];
		user.backed_pages[k] = st.backed[k];
	}
	user.system_free_pages = st.system_free_pages;
	return app_copy_to(out, &user, sizeof(user));
}

/* ---------------------------------------------------------------- process basics */

#define RLIMIT_STACK  3
#define RLIMIT_NOFILE 7
#define RLIM_NLIMITS  16
#define RLIM_INFINITY (~0ull)

static long sys_gettid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return thread_tid();
}

/* getppid, getuid, geteuid, getgid, getegid: no parent, and the app is root. */
static long sys_zero(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return 0;
}

static long sys_uname(uint64_t buf, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	static const char fields[6][65] = {"Solo", "solo", "0.1", "Solo 0.1", "x86_64", "(none)"};
	_Static_assert(sizeof(fields) == 390, "struct utsname is 6 x 65 bytes");

	return app_copy_to(buf, fields, sizeof(fields));
}

static long sys_set_robust_list(uint64_t head, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	/* Recorded nowhere: a thread's robust mutexes are not released when it
	 * exits (musl and glibc only use them for PTHREAD_MUTEX_ROBUST). */
	return len == 24 ? 0 : -EINVAL;
}

/* Limits: RLIMIT_STACK is the stack reserve, RLIMIT_NOFILE the fd table;
 * everything else is unlimited. New limits are accepted and not enforced. */
static long sys_prlimit64(uint64_t pid, uint64_t resource, uint64_t new_lim, uint64_t old_lim,
			  uint64_t a4, uint64_t a5)
{
	uint64_t lim[2] = {RLIM_INFINITY, RLIM_INFINITY};

	if (pid != 0 && pid != 1)
		return -ESRCH;
	if (resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (resource == RLIMIT_STACK && app_aspace()->stack)
		lim[0] = lim[1] = app_aspace()->stack->npages * PAGE_SIZE;
	if (resource == RLIMIT_NOFILE)
		lim[0] = lim[1] = FD_MAX;
	if (new_lim) {
		uint64_t want[2];
		if (app_copy_from(want, new_lim, sizeof(want)))
			return -EFAULT;
		if (want[0] > want[1])
			return -EINVAL;
	}
	return old_lim ? app_copy_to(old_lim, lim, sizeof(lim)) : 0;
}

static long sys_getrlimit(uint64_t resource, uint64_t rlim, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	return sys_prlimit64(0, resource, 0, rlim, 0, 0);
}

static long sys_setrlimit(uint64_t resource, uint64_t rlim, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	return sys_prlimit64(0, resource, rlim, 0, 0, 0);
}

static long sys_sched_getaffinity(uint64_t pid, uint64_t len, uint64_t mask, uint64_t a3,
				  uint64_t a4, uint64_t a5)
{
	uint64_t one_cpu = 1;

	if (pid != 0 && pid != 1)
		return -ESRCH;
	if (len < sizeof(one_cpu) || (len & 7))
		return -EINVAL;
	return app_copy_to(mask, &one_cpu, sizeof(one_cpu)) ? -EFAULT : (long)sizeof(one_cpu);
}

static long sys_sched_yield(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	thread_yield();
	return 0;
}

/* ---------------------------------------------------------------- more process calls */

/*
 * The rest of what a Linux process asks about itself. Solo
 * has one process (pid 1, its own group and session leader, root) on one
 * CPU; calls that would change scheduling or priority are accepted and
 * have no effect.
 */
#define PR_SET_PDEATHSIG    1
#define PR_GET_DUMPABLE	    3
#define PR_SET_DUMPABLE	    4
#define PR_SET_NAME	    15
#define PR_GET_NAME	    16
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39
#define TASK_COMM_LEN	    16
#define RUSAGE_CHILDREN	    (-1)
#define RUSAGE_SELF	    0
#define RUSAGE_THREAD	    1
#define CLK_TCK		    100
#define FUTEX_WAIT	    0
#define FUTEX_WAKE	    1
#define FUTEX_REQUEUE	    3
#define FUTEX_CMP_REQUEUE   4
#define FUTEX_WAIT_BITSET   9
#define FUTEX_WAKE_BITSET   10
#define FUTEX_PRIVATE	    128
#define FUTEX_CLOCK_REAL    256

static unsigned umask_bits = 022;
static char task_name[TASK_COMM_LEN] = "app";
static int no_new_privs, dumpable = 1;

static int is_self(uint64_t pid)
{
	return pid == 0 || pid == 1;
}

static long sys_umask(uint64_t mask, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		      uint64_t a5)
{
	unsigned old = umask_bits;

	umask_bits = mask & 0777;
	return old;
}

/* getpgrp, getpgid, getsid: the app leads its own group and session. */
static long sys_getpgid(uint64_t pid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			uint64_t a5)
{
	return is_self(pid) ? 1 : -ESRCH;
}

static long sys_setpgid(uint64_t pid, uint64_t pgid, uint64_t a2, uint64_t a3, uint64_t a4,
			uint64_t a5)
{
	if (!is_self(pid))
		return -ESRCH;
	return is_self(pgid) ? 0 : -EPERM;
}

/* setsid: a session leader cannot start a new session. */
static long sys_setsid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return -EPERM;
}

/* getresuid, getresgid: real, effective and saved ids are all 0. */
static long sys_getresid(uint64_t r, uint64_t e, uint64_t s, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint32_t zero = 0;

	if (app_copy_to(r, &zero, 4) || app_copy_to(e, &zero, 4) || app_copy_to(s, &zero, 4))
		return -EFAULT;
	return 0;
}

/* getgroups: no supplementary groups. */
static long sys_getgroups(uint64_t size, uint64_t list, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	return (int)size < 0 ? -EINVAL : 0;
}

static long sys_prctl(uint64_t option, uint64_t arg2, uint64_t a2, uint64_t a3, uint64_t a4,
		      uint64_t a5)
{
	switch (option) {
	case PR_SET_NAME: {
		char name[TASK_COMM_LEN];
		for (int i = 0; i < TASK_COMM_LEN; i++) {
			if (app_copy_from(&name[i], arg2 + (uint64_t)i, 1))
				return -EFAULT;
			if (!name[i])
				break;
		}
		name[TASK_COMM_LEN - 1] = '\0';
		memcpy(task_name, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME:
		return app_copy_to(arg2, task_name, sizeof(task_name));
	case PR_GET_DUMPABLE:
		return dumpable;
	case PR_SET_DUMPABLE:
		if (arg2 > 1)
			return -EINVAL;
		dumpable = (int)arg2;
		return 0;
	case PR_SET_NO_NEW_PRIVS:
		if (arg2 != 1)
			return -EINVAL;
		no_new_privs = 1;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		return no_new_privs;
	case PR_SET_PDEATHSIG:
		return arg2 > NSIG ? -EINVAL : 0; /* the parent never dies first */
	default:
		return -EINVAL;
	}
}

/* getpriority answers 20 - nice (Linux's raw value); nice stays 0. */
static long sys_getpriority(uint64_t which, uint64_t who, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	if (which > 2)
		return -EINVAL;
	return is_self(who) ? 20 : -ESRCH;
}

static long sys_setpriority(uint64_t which, uint64_t who, uint64_t prio, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	if (which > 2)
		return -EINVAL;
	return is_self(who) ? 0 : -ESRCH;
}

static long sys_sched_setaffinity(uint64_t pid, uint64_t len, uint64_t mask, uint64_t a3,
				  uint64_t a4, uint64_t a5)
{
	unsigned char first;

	if (!is_self(pid))
		return -ESRCH;
	if (!len)
		return -EINVAL;
	if (app_copy_from(&first, mask, 1))
		return -EFAULT;
	return (first & 1) ? 0 : -EINVAL; /* the set must hold CPU 0, the only one */
}

/* sched_getscheduler, sched_get_priority_max/min: SCHED_OTHER, priority 0. */
static long sys_sched_other(uint64_t pid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	return 0;
}

static long sys_sched_getparam(uint64_t pid, uint64_t param, uint64_t a2, uint64_t a3, uint64_t a4,
			       uint64_t a5)
{
	int32_t priority = 0;

	if (!is_self(pid))
		return -ESRCH;
	return app_copy_to(param, &priority, sizeof(priority));
}

static long sys_getcpu(uint64_t cpu, uint64_t node, uint64_t a2, uint64_t a3, uint64_t a4,
		       uint64_t a5)
{
	uint32_t zero = 0;

	if ((cpu && app_copy_to(cpu, &zero, 4)) || (node && app_copy_to(node, &zero, 4)))
		return -EFAULT;
	return 0;
}

/* wait4, waitid: the app never has children. */
static long sys_no_children(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	return -ECHILD;
}

/* personality: only PER_LINUX (0) exists; 0xffffffff asks. */
static long sys_personality(uint64_t persona, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	return (persona == 0 || (uint32_t)persona == 0xffffffffu) ? 0 : -EINVAL;
}

/* mlock and friends, msync: memory is never paged out or written back. */
static long sys_memory_noop(uint64_t addr, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	return 0;
}

static long sys_msync(uint64_t addr, uint64_t len, uint64_t flags, uint64_t a3, uint64_t a4,
		      uint64_t a5)
{
	if ((addr & (PAGE_SIZE - 1)) || (flags & ~7ull) || (flags & 5) == 5)
		return -EINVAL;
	return 0;
}

/* The app's CPU time so far: everything since its start is its own. */
static uint64_t app_cpu_ns(void)
{
	return tsc_ns(arch_timestamp() - loader_app_start_tsc());
}

static long sys_getrusage(uint64_t who, uint64_t out, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	int64_t usage[18] = {0}; /* struct rusage: 2 timevals, then 14 longs */
	struct aspace_stats st;

	_Static_assert(sizeof(usage) == 144, "struct rusage is 144 bytes");
	if ((int)who != RUSAGE_SELF && (int)who != RUSAGE_THREAD && (int)who != RUSAGE_CHILDREN)
		return -EINVAL;
	if ((int)who != RUSAGE_CHILDREN) {
		uint64_t ns = app_cpu_ns();
		size_t pages = 0;
		usage[0] = (int64_t)(ns / 1000000000ull);
		usage[1] = (int64_t)(ns % 1000000000ull / 1000);
		aspace_get_stats(app_aspace(), &st);
		for (int k = 0; k < REGION_KINDS; k++)
			pages += st.backed[k];
		usage[4] = (int64_t)(pages * (PAGE_SIZE / 1024)); /* ru_maxrss in KiB: now */
	}
	return app_copy_to(out, usage, sizeof(usage));
}

/* times: CPU time in clock ticks; returns ticks since boot. */
static long sys_times(uint64_t buf, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	int64_t tms[4] = {(int64_t)(app_cpu_ns() / (1000000000ull / CLK_TCK)), 0, 0, 0};
	uint64_t now = tsc_ns(arch_timestamp() - rtc_kernel_entry_tsc());

	if (buf && app_copy_to(buf, tms, sizeof(tms)))
		return -EFAULT;
	return (long)(now / (1000000000ull / CLK_TCK));
}

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

static long sys_sysinfo(uint64_t out, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			uint64_t a5)
{
	struct palloc_stats ps;
	struct linux_sysinfo info = {.procs = 1, .mem_unit = PAGE_SIZE};

	_Static_assert(sizeof(info) == 112, "struct sysinfo is 112 bytes");
	palloc_get_stats(&ps);
	info.uptime = (int64_t)(tsc_ns(arch_timestamp() - rtc_kernel_entry_tsc()) / 1000000000ull);
	info.totalram = ps.total_pages;
	info.freeram = ps.free_pages;
	return app_copy_to(out, &info, sizeof(info));
}

/* ---------------------------------------------------------------- time and randomness */

/*
 * Every clock is the TSC: MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE and
 * BOOTTIME count from kernel entry (nothing suspends, so BOOTTIME equals
 * MONOTONIC); REALTIME and REALTIME_COARSE are the RTC reading at boot plus
 * the TSC time since; the CPU-time clocks count from the app's start (the
 * one app is all that runs; its threads are not told apart). Nothing sets the clocks.
 */
#define CLOCK_REALTIME		 0
#define CLOCK_MONOTONIC		 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID	 3
#define CLOCK_MONOTONIC_RAW	 4
#define CLOCK_REALTIME_COARSE	 5
#define CLOCK_MONOTONIC_COARSE	 6
#define CLOCK_BOOTTIME		 7
#define TIMER_ABSTIME		 1
#define NSEC_PER_SEC		 1000000000ull
#define GRND_NONBLOCK		 1
#define GRND_RANDOM		 2
#define GRND_INSECURE		 4
#define GETRANDOM_MAX		 33554431u /* Linux's cap per call: INT_MAX >> 6 */

struct k_timespec {
	int64_t sec, nsec;
};

/* The clock's time in ns into *ns; -EINVAL for a clock Solo does not have. */
static int clock_now(uint64_t id, uint64_t *ns)
{
	uint64_t now = arch_timestamp();

	switch (id) {
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		*ns = tsc_ns(now - rtc_kernel_entry_tsc());
		return 0;
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		*ns = rtc_boot_seconds() * NSEC_PER_SEC + tsc_ns(now - rtc_boot_tsc());
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = tsc_ns(now - loader_app_start_tsc());
		return 0;
	default:
		return -EINVAL;
	}
}

static struct k_timespec ns_to_timespec(uint64_t ns)
{
	return (struct k_timespec){(int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC)};
}

static long sys_clock_gettime(uint64_t id, uint64_t tp, uint64_t a2, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	uint64_t ns;
	int err = clock_now(id, &ns);

	if (err)
		return err;
	struct k_timespec ts = ns_to_timespec(ns);
	return app_copy_to(tp, &ts, sizeof(ts));
}

/* Every clock reads the TSC: 1 ns, rounded up from the TSC period. */
static long sys_clock_getres(uint64_t id, uint64_t res, uint64_t a2, uint64_t a3, uint64_t a4,
			     uint64_t a5)
{
	uint64_t ns, hz = tsc_hz();

	if (clock_now(id, &ns))
		return -EINVAL;
	if (!res)
		return 0;
	struct k_timespec ts = {0, hz >= NSEC_PER_SEC || !hz ? 1 : (int64_t)(NSEC_PER_SEC / hz)};
	return app_copy_to(res, &ts, sizeof(ts));
}

static long sys_gettimeofday(uint64_t tv, uint64_t tz, uint64_t a2, uint64_t a3, uint64_t a4,
			     uint64_t a5)
{
	uint64_t ns;
	int32_t zone[2] = {0, 0}; /* UTC, no DST */

	clock_now(CLOCK_REALTIME, &ns);
	int64_t val[2] = {(int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC / 1000)};
	if (tv && app_copy_to(tv, val, sizeof(val)))
		return -EFAULT;
	if (tz && app_copy_to(tz, zone, sizeof(zone)))
		return -EFAULT;
	return 0;
}

static long sys_time(uint64_t tloc, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t ns;

	clock_now(CLOCK_REALTIME, &ns);
	int64_t sec = (int64_t)(ns / NSEC_PER_SEC);
	if (tloc && app_copy_to(tloc, &sec, sizeof(sec)))
		return -EFAULT;
	return sec;
}

/*
 * The sleeps hlt until a local APIC timer interrupt at the deadline
 * (drivers/apic_timer.h; a `pause` spin on a CPU without one), and are never
 * interrupted (rem is left alone). Every clock runs on the TSC, so sleeping
 * deadline - now nanoseconds of TSC time gets there; the loop only repeats
 * for the rounding of tsc_ns. With more than one thread the sleeper blocks
 * instead until a TSC deadline and the others run meanwhile (kernel/thread.c
 * halts only when none can).
 */
/* Reads the sleep request at req: *now and *deadline on clock id, in ns. */
static long sleep_deadline(uint64_t id, uint64_t flags, uint64_t req, uint64_t *now_out,
			   uint64_t *deadline_out)
{
	struct k_timespec ts;
	uint64_t now, deadline;

	if (flags & ~(uint64_t)TIMER_ABSTIME)
		return -EINVAL;
	if (id == CLOCK_THREAD_CPUTIME_ID || clock_now(id, &now))
		return -EINVAL;
	if (app_copy_from(&ts, req, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	/* Past ~584 years the deadline saturates: forever, in practice. */
	uint64_t want = (uint64_t)ts.sec > UINT64_MAX / NSEC_PER_SEC - 1
			    ? UINT64_MAX
			    : (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
	if (flags & TIMER_ABSTIME)
		deadline = want;
	else
		deadline = want > UINT64_MAX - now ? UINT64_MAX : now + want;
	*now_out = now;
	*deadline_out = deadline;
	return 0;
}

/* The TSC value deadline - now nanoseconds from now, saturating. */
static uint64_t tsc_deadline(uint64_t now, uint64_t deadline)
{
	uint64_t tsc = arch_timestamp();
	uint64_t ticks = deadline > now ? apic_timer_tsc_ticks(deadline - now, tsc_hz()) : 0;

	return ticks > UINT64_MAX - tsc ? UINT64_MAX : tsc + ticks;
}

static long sleep_until(uint64_t id, uint64_t flags, uint64_t req)
{
	uint64_t now, deadline;
	long err = sleep_deadline(id, flags, req, &now, &deadline);

	if (err)
		return err;
	if (thread_count() > 1) {
		thread_sleep(tsc_deadline(now, deadline));
		return 0;
	}
	while (now < deadline) {
		apic_timer_sleep_ns(deadline - now);
		clock_now(id, &now);
	}
	return 0;
}

static long sys_nanosleep(uint64_t req, uint64_t rem, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	return sleep_until(CLOCK_MONOTONIC, 0, req);
}

static long sys_clock_nanosleep(uint64_t id, uint64_t flags, uint64_t req, uint64_t rem,
				uint64_t a4, uint64_t a5)
{
	return sleep_until(id, flags, req);
}

/*
 * futex. With one thread a wake finds no waiter; a wait whose word differs
 * is EAGAIN; a wait whose word matches can only end by its timeout, so it
 * sleeps that long and says ETIMEDOUT. Without a timeout nothing could ever
 * wake it: the app is deadlocked, and it is stopped with a message rather
 * than left hanging. With more threads a wait blocks the caller in
 * kernel/thread.c until a wake on the same address (and a common bit of
 * the bitsets) or its deadline; the deadlock is then found there, when no
 * thread can run and none has a deadline. FUTEX_REQUEUE/CMP_REQUEUE move
 * waiters (musl's condition variables use them); the bitset defaults to
 * all ones for the plain ops.
 */
static long sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2,
		      uint64_t val3)
{
	unsigned cmd = op & ~(unsigned)(FUTEX_PRIVATE | FUTEX_CLOCK_REAL);
	uint32_t word, bitset = ~0u;
	int n = (int)val;

	if (uaddr & 3)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAKE_BITSET:
		bitset = (uint32_t)val3;
		if (!bitset)
			return -EINVAL;
		/* fall through */
	case FUTEX_WAKE:
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		return thread_futex_wake(uaddr, bitset, n < 0 ? 0 : n, 0, 0);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if ((uaddr2 & 3) || n < 0 || (int)timeout < 0)
			return -EINVAL;
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		if (cmd == FUTEX_CMP_REQUEUE && word != (uint32_t)val3)
			return -EAGAIN;
		/* timeout is val2 here: how many to move. */
		return thread_futex_wake(uaddr, ~0u, n, uaddr2, (int)timeout);
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (cmd == FUTEX_WAIT_BITSET && !(uint32_t)val3)
			return -EINVAL;
		if (cmd == FUTEX_WAIT_BITSET)
			bitset = (uint32_t)val3;
		if (app_copy_from(&word, uaddr, sizeof(word)))
			return -EFAULT;
		if (word != (uint32_t)val)
			return -EAGAIN;
		/* FUTEX_WAIT's timeout is relative; the BITSET one absolute. */
		uint64_t clock = cmd == FUTEX_WAIT	   ? CLOCK_MONOTONIC
				 : (op & FUTEX_CLOCK_REAL) ? CLOCK_REALTIME
							   : CLOCK_MONOTONIC;
		uint64_t flags = cmd == FUTEX_WAIT ? 0 : TIMER_ABSTIME;
		if (thread_count() > 1) {
			uint64_t now, deadline, tsc = 0;
			if (timeout) {
				long err = sleep_deadline(clock, flags, timeout, &now, &deadline);
				if (err)
					return err;
				tsc = tsc_deadline(now, deadline);
			}
			thread_futex_wait(uaddr, bitset, tsc);
			return 0; /* replaced by the waker's result */
		}
		if (!timeout) {
			kprintf("solo: app deadlocked: futex wait at %#lx with no other thread to "
				"wake it\n",
				uaddr);
			app_exit(128 + SIGKILL);
		}
		long err = sleep_until(clock, flags, timeout);
		return err ? err : -ETIMEDOUT;
	default:
		return -ENOSYS;
	}
}

/* getrandom: RDRAND (or the TSC mix when there is none, see
 * arch_random_bytes) never blocks, so every flag gives the same bytes. */
static long sys_getrandom(uint64_t buf, uint64_t len, uint64_t flags, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	unsigned char chunk[256];
	uint64_t done = 0;

	if (flags & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) ||
	    (flags & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if (len > GETRANDOM_MAX)
		len = GETRANDOM_MAX;
	while (done < len) {
		unsigned n = len - done < sizeof(chunk) ? (unsigned)(len - done) : sizeof(chunk);
		arch_random_bytes(chunk, n);
		if (app_copy_to(buf + done, chunk, n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

/* Native calls live at SOLO_SYS_BASE; they get their own small table. */
/* fmt: how strace=1 prints the call (kernel/strace.h). */
struct syscall_entry {
	syscall_fn fn;
	const char *name;
	const char *fmt;
};

static const struct syscall_entry solo_syscalls[] = {
    [SOLO_SYS_map_memory - SOLO_SYS_BASE] = {sys_map_memory, "map_memory", "x:xxux"},
    [SOLO_SYS_unmap_memory - SOLO_SYS_BASE] = {sys_unmap_memory, "unmap_memory", "d:xu"},
    [SOLO_SYS_increase_heap - SOLO_SYS_BASE] = {sys_increase_heap, "increase_heap", "x:ux"},
    [SOLO_SYS_decrease_heap - SOLO_SYS_BASE] = {sys_decrease_heap, "decrease_heap", "d:u"},
    [SOLO_SYS_mem_stats - SOLO_SYS_BASE] = {sys_mem_stats, "mem_stats", "d:x"},
};

/* clang-format off: one entry per line, whatever its length (the docs
 * generator reads them line by line). */
// clang-format off
static const struct syscall_entry syscalls[] = {
    /* BEGIN syscall table (tools/gen-syscall-docs.sh reads these lines) */
    [SYS_read] = {sys_read, "read", "d:dru"},	 /* files; stdin: serial line discipline */
    [SYS_write] = {sys_write, "write", "d:dwu"}, /* console; files are read-only (EBADF) */
    [SYS_open] = {sys_open, "open", "d:sxo"},	 /* read-only: EROFS for writing or creating */
    [SYS_close] = {sys_close, "close", "d:d"},
    [SYS_stat] = {sys_stat, "stat", "d:sx"},
    [SYS_fstat] = {sys_fstat, "fstat", "d:dx"},
    [SYS_lstat] = {sys_lstat, "lstat", "d:sx"},
    [SYS_lseek] = {sys_lseek, "lseek", "d:dld"}, /* ESPIPE on the console */
    [SYS_mmap] = {sys_mmap, "mmap", "x:xuxxdx"}, /* anonymous; files private, filled on touch; W+X EACCES */
    [SYS_mprotect] = {sys_mprotect, "mprotect", "d:xux"}, /* W+X is EACCES; PROT_NONE is no access */
    [SYS_munmap] = {sys_munmap, "munmap", "d:xu"},
    [SYS_brk] = {sys_brk, "brk", "x:x"},
    [SYS_rt_sigaction] = {sys_rt_sigaction, "rt_sigaction", "d:dxxu"}, /* handlers need SA_RESTORER */
    [SYS_rt_sigprocmask] = {sys_rt_sigprocmask, "rt_sigprocmask", "d:dxxu"}, /* unblocked: delivered */
    [SYS_rt_sigreturn] = {sys_rt_sigreturn, "rt_sigreturn", "d:"}, /* restores all registers */
    [SYS_ioctl] = {sys_ioctl, "ioctl", "d:dxx"}, /* console: TCGETS/TCSETS*, TIOCGWINSZ; any fd: FIONREAD, FIONBIO, FIOCLEX */
    [SYS_pread64] = {sys_pread64, "pread64", "d:drul"},
    [SYS_readv] = {sys_readv, "readv", "d:dxd"},
    [SYS_writev] = {sys_writev, "writev", "d:dxd"},
    [SYS_access] = {sys_access, "access", "d:so"}, /* W_OK is EROFS */
    [SYS_pipe] = {sys_pipe, "pipe", "d:x"},	   /* EAGAIN where Linux blocks; SIGPIPE */
    [SYS_sched_yield] = {sys_sched_yield, "sched_yield", "d:"}, /* runs the next runnable thread */
    [SYS_mremap] = {sys_mremap, "mremap", "x:xuuxx"}, /* MAYMOVE, FIXED; moves frames, never copies */
    [SYS_madvise] = {sys_madvise, "madvise", "d:xud"}, /* DONTNEED/FREE free pages; rest ignored */
    [SYS_dup] = {sys_dup, "dup", "d:d"},
    [SYS_dup2] = {sys_dup2, "dup2", "d:dd"},
    [SYS_nanosleep] = {sys_nanosleep, "nanosleep", "d:xx"}, /* other threads run, else hlt (LAPIC timer) */
    [SYS_kill] = {sys_kill, "kill", "d:dd"}, /* the app only: pid 1, 0, -1 */
    [SYS_tkill] = {sys_tkill, "tkill", "d:dd"}, /* any live tid; signals are process-wide */
    [SYS_tgkill] = {sys_tgkill, "tgkill", "d:ddd"}, /* tgid 1, any live tid */
    [SYS_getpid] = {sys_getpid, "getpid", "d:"},	    /* 1 */
    [SYS_clone] = {sys_clone, "clone", "d:xxxxx"}, /* threads only (CLONE_VM|CLONE_THREAD); fork, vfork ENOSYS */
    [SYS_exit] = {sys_exit_thread, "exit", "d:d"}, /* the calling thread; the last one ends the app */
    [SYS_uname] = {sys_uname, "uname", "d:x"},	 /* Solo solo 0.1 x86_64 */
    [SYS_fcntl] = {sys_fcntl, "fcntl", "d:ddx"}, /* F_DUPFD*, F_GETFD/SETFD, F_GETFL/SETFL, locks (always granted) */
    [SYS_truncate] = {sys_rofs_path, "truncate", "d:sl"}, /* EROFS */
    [SYS_getcwd] = {sys_getcwd, "getcwd", "d:ru"},
    [SYS_chdir] = {sys_chdir, "chdir", "d:s"},
    [SYS_fchdir] = {sys_fchdir, "fchdir", "d:d"},
    [SYS_rename] = {sys_rofs_path, "rename", "d:ss"},	/* EROFS */
    [SYS_mkdir] = {sys_rofs_path, "mkdir", "d:so"},	/* EROFS */
    [SYS_rmdir] = {sys_rofs_path, "rmdir", "d:s"},	/* EROFS */
    [SYS_creat] = {sys_rofs_path, "creat", "d:so"},	/* EROFS */
    [SYS_link] = {sys_rofs_path, "link", "d:ss"},	/* EROFS */
    [SYS_unlink] = {sys_rofs_path, "unlink", "d:s"},	/* EROFS */
    [SYS_symlink] = {sys_rofs_path, "symlink", "d:ss"}, /* EROFS */
    [SYS_readlink] = {sys_readlink, "readlink", "d:sru"},
    [SYS_chmod] = {sys_change_path, "chmod", "d:so"},		     /* EROFS */
    [SYS_gettimeofday] = {sys_gettimeofday, "gettimeofday", "d:xx"}, /* RTC at boot + TSC; UTC */
    [SYS_getrlimit] = {sys_getrlimit, "getrlimit", "d:dx"}, /* STACK, NOFILE; others infinite */
    [SYS_getuid] = {sys_zero, "getuid", "d:"},		    /* 0 */
    [SYS_getgid] = {sys_zero, "getgid", "d:"},		    /* 0 */
    [SYS_geteuid] = {sys_zero, "geteuid", "d:"},	    /* 0 */
    [SYS_getegid] = {sys_zero, "getegid", "d:"},	    /* 0 */
    [SYS_getppid] = {sys_zero, "getppid", "d:"},	    /* 0 */
    [SYS_sigaltstack] = {sys_sigaltstack, "sigaltstack", "d:xx"}, /* used by SA_ONSTACK */
    [SYS_rt_sigpending] = {sys_rt_sigpending, "rt_sigpending", "d:xu"},
    [SYS_arch_prctl] = {sys_arch_prctl, "arch_prctl", "d:xx"},	  /* ARCH_SET_FS, ARCH_GET_FS */
    [SYS_setrlimit] = {sys_setrlimit, "setrlimit", "d:dx"},	  /* accepted, not enforced */
    [SYS_gettid] = {sys_gettid, "gettid", "d:"},		  /* main thread 1, then 2, 3, ... */
    [SYS_time] = {sys_time, "time", "d:x"},
    [SYS_sched_getaffinity] = {sys_sched_getaffinity, "sched_getaffinity", "d:dux"}, /* one CPU */
    [SYS_getdents64] = {sys_getdents64, "getdents64", "d:dxu"},
    [SYS_set_tid_address] = {sys_set_tid_address, "set_tid_address", "d:x"}, /* cleared and woken at thread exit */
    [SYS_clock_gettime] = {sys_clock_gettime, "clock_gettime", "d:dx"}, /* TSC; REALTIME from RTC */
    [SYS_clock_getres] = {sys_clock_getres, "clock_getres", "d:dx"},
    [SYS_clock_nanosleep] = {sys_clock_nanosleep, "clock_nanosleep", "d:dxxx"}, /* as nanosleep */
    [SYS_exit_group] = {sys_exit, "exit_group", "d:d"}, /* every thread */
    [SYS_openat] = {sys_openat, "openat", "d:Dsxo"},	   /* AT_FDCWD or a directory fd */
    [SYS_mkdirat] = {sys_rofs_pathat, "mkdirat", "d:Dso"}, /* EROFS */
    [SYS_newfstatat] = {sys_newfstatat, "newfstatat", "d:Dsxx"}, /* AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW */
    [SYS_unlinkat] = {sys_rofs_pathat, "unlinkat", "d:Dsx"},  /* EROFS */
    [SYS_renameat] = {sys_rofs_pathat, "renameat", "d:DsDs"}, /* EROFS */
    [SYS_readlinkat] = {sys_readlinkat, "readlinkat", "d:Dsru"},
    [SYS_faccessat] = {sys_faccessat, "faccessat", "d:Dso"},
    [SYS_set_robust_list] = {sys_set_robust_list, "set_robust_list", "d:xu"}, /* accepted */
    [SYS_dup3] = {sys_dup3, "dup3", "d:ddx"},
    [SYS_pipe2] = {sys_pipe2, "pipe2", "d:xx"},			 /* O_CLOEXEC, O_NONBLOCK */
    [SYS_prlimit64] = {sys_prlimit64, "prlimit64", "d:ddxx"},	 /* as getrlimit/setrlimit */
    [SYS_renameat2] = {sys_rofs_pathat, "renameat2", "d:DsDsx"}, /* EROFS */
    [SYS_statx] = {sys_statx, "statx", "d:Dsxxx"},		 /* basic fields */
    [SYS_getrandom] = {sys_getrandom, "getrandom", "d:rux"},	 /* RDRAND; never blocks */
    [SYS_faccessat2] = {sys_faccessat2, "faccessat2", "d:Dsox"},
    [SYS_poll] = {sys_poll, "poll", "d:xud"}, /* files, pipes, console input */
    [SYS_select] = {sys_select, "select", "d:dxxxx"}, /* as poll */
    [SYS_msync] = {sys_msync, "msync", "d:xux"}, /* nothing to write back */
    [SYS_sendfile] = {sys_sendfile, "sendfile", "d:ddxu"}, /* rootfs file to console or pipe */
    [SYS_wait4] = {sys_no_children, "wait4", "d:dxxx"}, /* ECHILD: no children */
    [SYS_fsync] = {sys_fsync, "fsync", "d:d"},
    [SYS_fdatasync] = {sys_fsync, "fdatasync", "d:d"},
    [SYS_flock] = {sys_fd_advice, "flock", "d:dx"}, /* one process: always granted */
    [SYS_ftruncate] = {sys_ftruncate, "ftruncate", "d:dl"}, /* EROFS */
    [SYS_fchmod] = {sys_fchange, "fchmod", "d:do"}, /* EROFS on files */
    [SYS_chown] = {sys_change_path, "chown", "d:sdd"}, /* EROFS */
    [SYS_fchown] = {sys_fchange, "fchown", "d:ddd"}, /* EROFS on files */
    [SYS_lchown] = {sys_change_path, "lchown", "d:sdd"}, /* EROFS */
    [SYS_umask] = {sys_umask, "umask", "d:o"},
    [SYS_getrusage] = {sys_getrusage, "getrusage", "d:dx"}, /* CPU time since the app started */
    [SYS_sysinfo] = {sys_sysinfo, "sysinfo", "d:x"},
    [SYS_times] = {sys_times, "times", "d:x"},
    [SYS_setpgid] = {sys_setpgid, "setpgid", "d:dd"},
    [SYS_getpgrp] = {sys_getpgid, "getpgrp", "d:"}, /* 1 */
    [SYS_setsid] = {sys_setsid, "setsid", "d:"}, /* EPERM: already a session leader */
    [SYS_getgroups] = {sys_getgroups, "getgroups", "d:dx"}, /* none */
    [SYS_getresuid] = {sys_getresid, "getresuid", "d:xxx"}, /* 0 */
    [SYS_getresgid] = {sys_getresid, "getresgid", "d:xxx"}, /* 0 */
    [SYS_getpgid] = {sys_getpgid, "getpgid", "d:d"}, /* 1 */
    [SYS_getsid] = {sys_getpgid, "getsid", "d:d"}, /* 1 */
    [SYS_utime] = {sys_change_path, "utime", "d:sx"}, /* EROFS */
    [SYS_personality] = {sys_personality, "personality", "d:x"}, /* PER_LINUX only */
    [SYS_statfs] = {sys_statfs, "statfs", "d:sx"}, /* read-only, 4 KiB blocks */
    [SYS_fstatfs] = {sys_fstatfs, "fstatfs", "d:dx"},
    [SYS_getpriority] = {sys_getpriority, "getpriority", "d:dd"}, /* nice 0 */
    [SYS_setpriority] = {sys_setpriority, "setpriority", "d:ddd"}, /* accepted, no effect */
    [SYS_sched_getparam] = {sys_sched_getparam, "sched_getparam", "d:dx"},
    [SYS_sched_getscheduler] = {sys_sched_other, "sched_getscheduler", "d:d"}, /* SCHED_OTHER */
    [SYS_sched_get_priority_max] = {sys_sched_other, "sched_get_priority_max", "d:d"}, /* 0 */
    [SYS_sched_get_priority_min] = {sys_sched_other, "sched_get_priority_min", "d:d"}, /* 0 */
    [SYS_mlock] = {sys_memory_noop, "mlock", "d:xu"}, /* never paged out */
    [SYS_munlock] = {sys_memory_noop, "munlock", "d:xu"},
    [SYS_mlockall] = {sys_memory_noop, "mlockall", "d:x"},
    [SYS_munlockall] = {sys_memory_noop, "munlockall", "d:"},
    [SYS_prctl] = {sys_prctl, "prctl", "d:dxxxx"}, /* NAME, DUMPABLE, NO_NEW_PRIVS, PDEATHSIG */
    [SYS_readahead] = {sys_fd_advice, "readahead", "d:dlu"},
    [SYS_futex] = {sys_futex, "futex", "d:xdxxxx"}, /* WAIT, WAKE, (CMP_)REQUEUE, BITSET; deadlock ends the app */
    [SYS_sched_setaffinity] = {sys_sched_setaffinity, "sched_setaffinity", "d:dux"}, /* CPU 0 only */
    [SYS_fadvise64] = {sys_fd_advice, "fadvise64", "d:dlud"},
    [SYS_utimes] = {sys_change_path, "utimes", "d:sx"}, /* EROFS */
    [SYS_waitid] = {sys_no_children, "waitid", "d:ddxd"}, /* ECHILD */
    [SYS_fchownat] = {sys_change_pathat, "fchownat", "d:Dsddx"}, /* EROFS */
    [SYS_futimesat] = {sys_change_pathat, "futimesat", "d:Dsx"}, /* EROFS */
    [SYS_fchmodat] = {sys_change_pathat, "fchmodat", "d:Dso"}, /* EROFS */
    [SYS_pselect6] = {sys_pselect6, "pselect6", "d:dxxxxx"}, /* as poll */
    [SYS_ppoll] = {sys_ppoll, "ppoll", "d:xuxxu"}, /* as poll */
    [SYS_utimensat] = {sys_change_pathat, "utimensat", "d:Dsxx"}, /* EROFS */
    [SYS_pwrite64] = {sys_pwrite64, "pwrite64", "d:dwul"}, /* EBADF: nothing is writable */
    [SYS_syncfs] = {sys_fsync, "syncfs", "d:d"},
    [SYS_getcpu] = {sys_getcpu, "getcpu", "d:xxx"}, /* CPU 0, node 0 */
    [SYS_clone3] = {sys_clone3, "clone3", "d:xu"}, /* as clone: threads only */
    /* END syscall table */
};
// clang-format on

static void log_unsupported(uint64_t nr)
{
	if (nr < LOGGED_WORDS * 64) {
		uint64_t bit = 1ull << (nr % 64);
		if (logged_unsupported[nr / 64] & bit)
			return;
		logged_unsupported[nr / 64] |= bit;
	} else if (logged_large_number++) {
		return;
	}
	if (nr < syscall_names_count && syscall_names[nr])
		kprintf("solo: unsupported syscall %lu (%s)\n", nr, syscall_names[nr]);
	else
		kprintf("solo: unsupported syscall %lu\n", nr);
}

/* The call with its strace=1 line (kernel/strace.h); off the fast path. */
static __attribute__((noinline)) void traced_call(struct syscall_frame *f,
						  const struct syscall_entry *entry, uint64_t nr)
{
	uint64_t args[6] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9};
	char unnamed[32];

	if (!entry) {
		const char *name = nr < syscall_names_count ? syscall_names[nr] : NULL;
		if (!name) {
			ksnprintf(unnamed, sizeof(unnamed), "syscall_%lu", nr);
			name = unnamed;
		}
		log_unsupported(nr);
		f->rax = (uint64_t)-ENOSYS;
		strace_print(name, NULL, args, (long)f->rax);
		return;
	}
	int noreturn = entry->fn == sys_exit || entry->fn == sys_exit_thread;
	if (noreturn)
		strace_print_noreturn(entry->name, entry->fmt, args);
	current_frame = f;
	f->rax = (uint64_t)entry->fn(args[0], args[1], args[2], args[3], args[4], args[5]);
	if (!noreturn)
		strace_print(entry->name, entry->fmt, args, (long)f->rax);
}

int syscall_dispatch(struct syscall_frame *f)
{
	int full_restore;
	uint64_t nr = f->rax;
	const struct syscall_entry *entry = NULL;

	if (nr < ARRAY_SIZE(syscalls) && syscalls[nr].fn)
		entry = &syscalls[nr];
	else if (nr - SOLO_SYS_BASE < ARRAY_SIZE(solo_syscalls) &&
		 solo_syscalls[nr - SOLO_SYS_BASE].fn)
		entry = &solo_syscalls[nr - SOLO_SYS_BASE];
	if (__builtin_expect(strace_enabled, 0)) {
		traced_call(f, entry, nr);
	} else if (entry) {
		current_frame = f;
		f->rax = (uint64_t)entry->fn(f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
	} else {
		log_unsupported(nr);
		f->rax = (uint64_t)-ENOSYS;
	}
	/* The thread switch first: signals go to the thread that returns. */
	full_restore = thread_syscall_exit(f);
	full_restore |= signal_syscall_exit(f);
	/* sysret to a non-canonical rip would fault in ring 0 on Intel CPUs. */
	if (f->rip >= VM_USER_TOP)
		app_kill(SIGSEGV, "return to a non-canonical address", f->rip, f->rip);
	return full_restore;
}
