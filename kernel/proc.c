/* The process calls (see proc.h). */
#include "kernel/proc.h"

#include "fs/fdtable.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/process.h"
#include "kernel/abi/sched.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/klib.h"
#include "kernel/percpu.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "mm/aspace.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/vm.h"

#define APP_PID	      1
#define GETRANDOM_MAX 33554431u /* Linux's cap per call: INT_MAX >> 6 */

static unsigned umask_bits = 022;
static char task_name[TASK_COMM_LEN] = "app";
static int no_new_privs, dumpable = 1;

static char *cmdline; /* argv, each NUL-terminated */
static size_t cmdline_len;
static char *exe_path;	/* /proc/self/exe, or NULL */
static void *auxv_copy; /* the auxv the app started with */
static size_t auxv_len;

int proc_set_command(int argc, const char *const *argv)
{
	size_t len = 0;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	cmdline = kmalloc(len ? len : 1);
	if (!cmdline)
		return -ENOMEM;
	cmdline_len = 0;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(cmdline + cmdline_len, argv[i], n);
		cmdline_len += n;
	}
	/* Linux's comm: the base name of what was exec'd, cut to 15 bytes. */
	const char *base = argc > 0 ? argv[0] : "app";
	for (const char *p = base; *p; p++)
		if (*p == '/' && p[1])
			base = p + 1;
	size_t n = MIN(strlen(base), sizeof(task_name) - 1);
	memcpy(task_name, base, n);
	task_name[n] = '\0';
	return 0;
}

const char *proc_comm(void)
{
	return task_name;
}

int proc_set_exe(const char *path)
{
	kfree(exe_path);
	exe_path = NULL;
	if (!path)
		return 0;
	exe_path = kmalloc(strlen(path) + 1);
	if (!exe_path)
		return -ENOMEM;
	memcpy(exe_path, path, strlen(path) + 1);
	return 0;
}

const char *proc_exe_path(void)
{
	return exe_path;
}

int proc_set_auxv(const void *auxv, size_t len)
{
	kfree(auxv_copy);
	auxv_len = 0;
	auxv_copy = kmalloc(len ? len : 1);
	if (!auxv_copy)
		return -ENOMEM;
	memcpy(auxv_copy, auxv, len);
	auxv_len = len;
	return 0;
}

long proc_auxv(char *buf, size_t size)
{
	if (size < auxv_len)
		return -ENOSPC;
	memcpy(buf, auxv_copy, auxv_len);
	return (long)auxv_len;
}

void proc_release(void)
{
	kfree(cmdline);
	cmdline = NULL;
	cmdline_len = 0;
	kfree(exe_path);
	exe_path = NULL;
	kfree(auxv_copy);
	auxv_copy = NULL;
	auxv_len = 0;
}

const char *proc_name(void)
{
	return cmdline ? cmdline : "app";
}

long proc_cmdline(char *buf, size_t size)
{
	size_t n = MIN(cmdline_len, size);

	memcpy(buf, cmdline, n);
	return (long)n;
}

static int is_self(int pid)
{
	return pid == 0 || pid == APP_PID;
}

/* ---------------------------------------------------------------- threads */

/* exit: the calling thread; the last one ends the app. */
SYSCALL_DEFINE1(exit, int, status)
{
	thread_exit(status & 0xff);
	return 0; /* nobody sees it: the thread is gone */
}

/* exit_group: the whole app. */
SYSCALL_DEFINE1(exit_group, int, status)
{
	app_exit(status & 0xff);
}

SYSCALL_DEFINE5(clone, uint64_t, flags, uint64_t, stack, uint64_t, ptid, uint64_t, ctid, uint64_t,
		tls)
{
	return thread_clone(this_cpu()->frame, flags, stack, ptid, ctid, tls);
}

/* clone3: the same threads as clone; the stack is given as its lowest
 * address and size. A newer, larger struct is taken when the part Solo
 * does not know is zero, as Linux does. */
SYSCALL_DEFINE2(clone3, uint64_t, uargs, uint64_t, size)
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
	if ((args.flags & CSIGNAL) || args.exit_signal > NSIG || args.set_tid ||
	    args.set_tid_size || args.cgroup)
		return -EINVAL;
	if ((args.stack == 0) != (args.stack_size == 0) ||
	    args.stack_size > UINT64_MAX - args.stack)
		return -EINVAL;
	return thread_clone(this_cpu()->frame, args.flags, args.stack + args.stack_size,
			    args.parent_tid, args.child_tid, args.tls);
}

SYSCALL_DEFINE2(arch_prctl, int, code, uint64_t, addr)
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

SYSCALL_DEFINE1(set_tid_address, uint64_t, tidptr)
{
	thread_set_clear_tid(tidptr);
	return thread_tid(thread_current());
}

SYSCALL_DEFINE2(set_robust_list, uint64_t, head, uint64_t, len)
{
	/* Recorded nowhere: a thread's robust mutexes are not released when it
	 * exits (musl and glibc only use them for PTHREAD_MUTEX_ROBUST). */
	(void)head;
	return len == 24 ? 0 : -EINVAL;
}

/* ---------------------------------------------------------------- identity */

SYSCALL_DEFINE0(getpid)
{
	return APP_PID;
}

SYSCALL_DEFINE0(gettid)
{
	return thread_tid(thread_current());
}

/* No parent, and the app is root. */
SYSCALL_DEFINE0(getppid)
{
	return 0;
}

SYSCALL_DEFINE0(getuid)
{
	return 0;
}

SYSCALL_DEFINE0(geteuid)
{
	return 0;
}

SYSCALL_DEFINE0(getgid)
{
	return 0;
}

SYSCALL_DEFINE0(getegid)
{
	return 0;
}

/* Real, effective and saved ids are all 0. */
static long zero_ids(uint64_t r, uint64_t e, uint64_t s)
{
	uint32_t zero = 0;

	if (app_copy_to(r, &zero, 4) || app_copy_to(e, &zero, 4) || app_copy_to(s, &zero, 4))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE3(getresuid, uint64_t, r, uint64_t, e, uint64_t, s)
{
	return zero_ids(r, e, s);
}

SYSCALL_DEFINE3(getresgid, uint64_t, r, uint64_t, e, uint64_t, s)
{
	return zero_ids(r, e, s);
}

/* No supplementary groups. */
SYSCALL_DEFINE2(getgroups, int, size, uint64_t, list)
{
	(void)list;
	return size < 0 ? -EINVAL : 0;
}

/* The app leads its own group and session. */
SYSCALL_DEFINE0(getpgrp)
{
	return APP_PID;
}

SYSCALL_DEFINE1(getpgid, int, pid)
{
	return is_self(pid) ? APP_PID : -ESRCH;
}

SYSCALL_DEFINE1(getsid, int, pid)
{
	return is_self(pid) ? APP_PID : -ESRCH;
}

SYSCALL_DEFINE2(setpgid, int, pid, int, pgid)
{
	if (!is_self(pid))
		return -ESRCH;
	return is_self(pgid) ? 0 : -EPERM;
}

/* A session leader cannot start a new session. */
SYSCALL_DEFINE0(setsid)
{
	return -EPERM;
}

static struct linux_utsname uts = {"Solo", "solo", "0.1", "Solo 0.1", "x86_64", "(none)"};

void proc_set_hostname(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= sizeof(uts.nodename))
		return;
	memcpy(uts.nodename, name, n + 1);
}

const char *proc_hostname(void)
{
	return uts.nodename;
}

SYSCALL_DEFINE1(uname, uint64_t, buf)
{
	return app_copy_to(buf, &uts, sizeof(uts));
}

SYSCALL_DEFINE1(umask, unsigned, mask)
{
	unsigned old = umask_bits;

	umask_bits = mask & 0777;
	return old;
}

unsigned proc_umask(void)
{
	return umask_bits;
}

SYSCALL_DEFINE5(prctl, int, option, uint64_t, arg2, uint64_t, arg3, uint64_t, arg4, uint64_t, arg5)
{
	/* Per process, as the options without a use on Solo are kept so that
	 * a GET returns what the SET said. */
	static int pdeathsig, keepcaps, subreaper, thp_disable;
	static uint64_t timerslack_ns = TIMER_SLACK_DEFAULT_NS;
	int value;

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
		if (arg2 != 1 || arg3 || arg4 || arg5)
			return -EINVAL;
		no_new_privs = 1;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		return (arg2 || arg3 || arg4 || arg5) ? -EINVAL : no_new_privs;
	case PR_SET_PDEATHSIG: /* the parent never dies first */
		if (arg2 > NSIG)
			return -EINVAL;
		pdeathsig = (int)arg2;
		return 0;
	case PR_GET_PDEATHSIG:
		return app_copy_to(arg2, &pdeathsig, sizeof(pdeathsig)) ? -EFAULT : 0;
	case PR_GET_KEEPCAPS:
		return keepcaps;
	case PR_SET_KEEPCAPS:
		if (arg2 > 1)
			return -EINVAL;
		keepcaps = (int)arg2;
		return 0;
	case PR_GET_SECCOMP:
		return 0;     /* no filter installed */
	case PR_CAPBSET_READ: /* the app is root with every capability */
		return arg2 <= CAP_LAST_CAP ? 1 : -EINVAL;
	case PR_CAP_AMBIENT: /* no ambient capabilities (no exec to keep them for) */
		if (arg2 == PR_CAP_AMBIENT_IS_SET)
			return arg3 <= CAP_LAST_CAP ? 0 : -EINVAL;
		return arg2 == PR_CAP_AMBIENT_CLEAR_ALL ? 0 : -EINVAL;
	case PR_SET_TIMERSLACK:
		timerslack_ns = arg2 ? arg2 : TIMER_SLACK_DEFAULT_NS;
		return 0;
	case PR_GET_TIMERSLACK:
		return (long)timerslack_ns;
	case PR_SET_CHILD_SUBREAPER:
		subreaper = arg2 != 0;
		return 0;
	case PR_GET_CHILD_SUBREAPER:
		value = subreaper;
		return app_copy_to(arg2, &value, sizeof(value)) ? -EFAULT : 0;
	case PR_SET_THP_DISABLE:
		if (arg3 || arg4 || arg5)
			return -EINVAL;
		thp_disable = arg2 != 0;
		return 0;
	case PR_GET_THP_DISABLE:
		return thp_disable;
	default: /* as Linux answers an option it was built without (PR_SET_VMA, ...) */
		return -EINVAL;
	}
}

/* ---------------------------------------------------------------- limits and usage */

/* RLIMIT_STACK is the stack reserve, RLIMIT_NOFILE the fd table's limits
 * (enforced, see fdtable.h); the rest is unlimited, and new limits for
 * them are accepted and not enforced. */
static long limits(int pid, unsigned resource, uint64_t new_lim, uint64_t old_lim)
{
	uint64_t lim[2] = {RLIM_INFINITY, RLIM_INFINITY};

	if (!is_self(pid))
		return -ESRCH;
	if (resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (resource == RLIMIT_STACK && app_aspace()->stack)
		lim[0] = lim[1] = app_aspace()->stack->npages * PAGE_SIZE;
	if (resource == RLIMIT_NOFILE)
		fd_get_limits(&lim[0], &lim[1]);
	if (new_lim) {
		uint64_t want[2];
		if (app_copy_from(want, new_lim, sizeof(want)))
			return -EFAULT;
		if (want[0] > want[1])
			return -EINVAL;
		if (resource == RLIMIT_NOFILE) {
			int err = fd_set_limits(want[0], want[1]);
			if (err)
				return err;
		}
	}
	return old_lim ? app_copy_to(old_lim, lim, sizeof(lim)) : 0;
}

SYSCALL_DEFINE4(prlimit64, int, pid, unsigned, resource, uint64_t, new_lim, uint64_t, old_lim)
{
	return limits(pid, resource, new_lim, old_lim);
}

SYSCALL_DEFINE2(getrlimit, unsigned, resource, uint64_t, rlim)
{
	return limits(0, resource, 0, rlim);
}

SYSCALL_DEFINE2(setrlimit, unsigned, resource, uint64_t, rlim)
{
	return limits(0, resource, rlim, 0);
}

/* The app's CPU time so far: everything since its start is its own. */
static uint64_t app_cpu_ns(void)
{
	uint64_t ns = 0;

	time_clock(CLOCK_PROCESS_CPUTIME_ID, &ns);
	return ns;
}

SYSCALL_DEFINE2(getrusage, int, who, uint64_t, out)
{
	struct linux_rusage usage = {0};
	struct aspace_stats st;

	if (who != RUSAGE_SELF && who != RUSAGE_THREAD && who != RUSAGE_CHILDREN)
		return -EINVAL;
	if (who != RUSAGE_CHILDREN) {
		uint64_t ns = app_cpu_ns();
		size_t pages = 0;
		usage.utime_sec = (int64_t)(ns / NSEC_PER_SEC);
		usage.utime_usec = (int64_t)(ns % NSEC_PER_SEC / NSEC_PER_USEC);
		aspace_get_stats(app_aspace(), &st);
		for (int k = 0; k < REGION_KINDS; k++)
			pages += st.backed[k];
		usage.maxrss = (int64_t)(pages * (PAGE_SIZE / 1024)); /* KiB: now */
		usage.minflt = (int64_t)app_minor_faults();
	}
	return app_copy_to(out, &usage, sizeof(usage));
}

/* CPU time in clock ticks; returns ticks since boot. */
SYSCALL_DEFINE1(times, uint64_t, buf)
{
	int64_t tms[4] = {(int64_t)(app_cpu_ns() / (NSEC_PER_SEC / CLK_TCK)), 0, 0, 0};

	if (buf && app_copy_to(buf, tms, sizeof(tms)))
		return -EFAULT;
	return (long)(time_now() / (NSEC_PER_SEC / CLK_TCK));
}

SYSCALL_DEFINE1(sysinfo, uint64_t, out)
{
	struct palloc_stats ps;
	struct linux_sysinfo info = {.procs = 1, .mem_unit = PAGE_SIZE};

	palloc_get_stats(&ps);
	info.uptime = (int64_t)(time_now() / NSEC_PER_SEC);
	info.totalram = ps.total_pages;
	info.freeram = ps.free_pages;
	return app_copy_to(out, &info, sizeof(info));
}

/* RDRAND (or the TSC mix when there is none, see arch_random_bytes)
 * never blocks, so every flag gives the same bytes. */
SYSCALL_DEFINE3(getrandom, uint64_t, buf, uint64_t, len, unsigned, flags)
{
	unsigned char chunk[256];
	uint64_t done = 0;

	if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) ||
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

/* Only PER_LINUX (0) exists; 0xffffffff asks. */
SYSCALL_DEFINE1(personality, uint32_t, persona)
{
	return (persona == 0 || persona == 0xffffffffu) ? 0 : -EINVAL;
}

/* The app never has children. */
SYSCALL_DEFINE4(wait4, int, pid, uint64_t, status, int, options, uint64_t, rusage)
{
	(void)pid;
	(void)status;
	(void)options;
	(void)rusage;
	return -ECHILD;
}

SYSCALL_DEFINE5(waitid, int, which, int, id, uint64_t, info, int, options, uint64_t, rusage)
{
	(void)which;
	(void)id;
	(void)info;
	(void)options;
	(void)rusage;
	return -ECHILD;
}

/* ---------------------------------------------------------------- scheduling */

SYSCALL_DEFINE0(sched_yield)
{
	thread_yield();
	return 0;
}

/* The thread pid names (0: the caller), or NULL. */
static struct thread *affinity_target(int pid)
{
	return pid == 0 ? thread_current() : thread_by_tid(pid);
}

/* Linux's mask is an array of longs, len bytes of it; it answers with the
 * bytes it wrote (here one long: at most 64 CPUs). */
SYSCALL_DEFINE3(sched_getaffinity, int, pid, uint64_t, len, uint64_t, mask)
{
	struct thread *t = affinity_target(pid);

	if (!t)
		return -ESRCH;
	if (len < sizeof(uint64_t) || (len & 7))
		return -EINVAL;
	uint64_t cpus = thread_affinity(t);
	return app_copy_to(mask, &cpus, sizeof(cpus)) ? -EFAULT : (long)sizeof(cpus);
}

/* Bits past the CPUs that exist are ignored, as on Linux; a set with no CPU
 * in use is EINVAL. */
SYSCALL_DEFINE3(sched_setaffinity, int, pid, uint64_t, len, uint64_t, mask)
{
	struct thread *t = affinity_target(pid);
	uint64_t cpus = 0;

	if (!t)
		return -ESRCH;
	if (!len)
		return -EINVAL;
	if (app_copy_from(&cpus, mask, len < sizeof(cpus) ? len : sizeof(cpus)))
		return -EFAULT;
	return thread_set_affinity(t, cpus);
}

/* SCHED_OTHER, priority 0. */
SYSCALL_DEFINE1(sched_getscheduler, int, pid)
{
	return is_self(pid) || thread_by_tid(pid) ? SCHED_OTHER : -ESRCH;
}

SYSCALL_DEFINE1(sched_get_priority_max, int, policy)
{
	return policy == SCHED_OTHER ? 0 : -EINVAL;
}

SYSCALL_DEFINE1(sched_get_priority_min, int, policy)
{
	return policy == SCHED_OTHER ? 0 : -EINVAL;
}

SYSCALL_DEFINE2(sched_getparam, int, pid, uint64_t, param)
{
	int32_t priority = 0;

	if (!is_self(pid) && !thread_by_tid(pid))
		return -ESRCH;
	return app_copy_to(param, &priority, sizeof(priority));
}

/* getpriority answers 20 - nice (Linux's raw value); nice stays 0. */
SYSCALL_DEFINE2(getpriority, int, which, int, who)
{
	if (which < 0 || which > 2)
		return -EINVAL;
	return is_self(who) ? 20 : -ESRCH;
}

SYSCALL_DEFINE3(setpriority, int, which, int, who, int, prio)
{
	(void)prio;
	if (which < 0 || which > 2)
		return -EINVAL;
	return is_self(who) ? 0 : -ESRCH;
}

SYSCALL_DEFINE3(getcpu, uint64_t, cpu, uint64_t, node, uint64_t, cache)
{
	/* The CPU the caller runs on (struct cpu's index; threads move
	 * between CPUs, so it is a snapshot, as on Linux) and its node. */
	uint32_t here = this_cpu()->index, its_node = this_cpu()->node;

	(void)cache;
	if ((cpu && app_copy_to(cpu, &here, 4)) || (node && app_copy_to(node, &its_node, 4)))
		return -EFAULT;
	return 0;
}
