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
#include "kernel/syscall_names.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"

#define SIGSEGV	     11
#define LOGGED_WORDS 16 /* numbers below 1024 are logged once each */

typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			   uint64_t a5);

static uint64_t logged_unsupported[LOGGED_WORDS];
static int logged_large_number;

static long sys_exit(uint64_t status, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5)
{
	app_exit((int)(status & 0xff));
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
	return 1; /* the app's one thread is tid 1 */
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

#define SIGKILL	      9
#define SIGSTOP	      19
#define NSIG	      64
#define SIG_BLOCK     0
#define SIG_UNBLOCK   1
#define SIG_SETMASK   2
#define SS_DISABLE    2
#define RLIMIT_STACK  3
#define RLIMIT_NOFILE 7
#define RLIM_NLIMITS  16
#define RLIM_INFINITY (~0ull)

static long sys_gettid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return 1;
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
	return len == 24 ? 0 : -EINVAL; /* one thread, no futexes to wake: recorded nowhere */
}

/* Signal state: recorded and returned, never delivered (Solo sends no
 * signals to the app; a fault kills it). */
struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};
static struct k_sigaction sigactions[NSIG + 1];
static uint64_t sigmask;
static struct {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
} altstack = {.flags = SS_DISABLE};

#define UNBLOCKABLE ((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)))

static long sys_rt_sigaction(uint64_t sig, uint64_t act, uint64_t oact, uint64_t setsize,
			     uint64_t a4, uint64_t a5)
{
	struct k_sigaction new;

	if (setsize != 8 || sig < 1 || sig > NSIG)
		return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (act && app_copy_from(&new, act, sizeof(new)))
		return -EFAULT;
	if (oact && app_copy_to(oact, &sigactions[sig], sizeof(new)))
		return -EFAULT;
	if (act) {
		new.mask &= ~UNBLOCKABLE;
		sigactions[sig] = new;
	}
	return 0;
}

static long sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oset, uint64_t setsize,
			       uint64_t a4, uint64_t a5)
{
	uint64_t new = 0, old = sigmask;

	if (setsize != 8)
		return -EINVAL;
	if (set) {
		if (app_copy_from(&new, set, sizeof(new)))
			return -EFAULT;
		switch (how) {
		case SIG_BLOCK:
			new = old | new;
			break;
		case SIG_UNBLOCK:
			new = old & ~new;
			break;
		case SIG_SETMASK:
			break;
		default:
			return -EINVAL;
		}
	}
	if (oset && app_copy_to(oset, &old, sizeof(old)))
		return -EFAULT;
	if (set)
		sigmask = new & ~UNBLOCKABLE;
	return 0;
}

static long sys_sigaltstack(uint64_t ss, uint64_t old_ss, uint64_t a2, uint64_t a3, uint64_t a4,
			    uint64_t a5)
{
	__typeof__(altstack) new;

	if (ss && app_copy_from(&new, ss, sizeof(new)))
		return -EFAULT;
	if (old_ss && app_copy_to(old_ss, &altstack, sizeof(altstack)))
		return -EFAULT;
	if (ss) {
		if (new.flags & ~SS_DISABLE)
			return -EINVAL;
		altstack = new;
	}
	return 0;
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
	return 0;
}

/* ---------------------------------------------------------------- time and randomness */

/*
 * Every clock is the TSC: MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE and
 * BOOTTIME count from kernel entry (nothing suspends, so BOOTTIME equals
 * MONOTONIC); REALTIME and REALTIME_COARSE are the RTC reading at boot plus
 * the TSC time since; the CPU-time clocks count from the app's start (the
 * one thread of the one app is all that runs). Nothing sets the clocks.
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
 * The sleeps busy-wait with `pause` on the TSC until the clock reaches the
 * deadline, and are never interrupted (rem is left alone). The goal is to
 * hlt until a timer interrupt at the deadline; that needs a timer IRQ
 * (LAPIC timer or HPET), which Solo does not program yet.
 */
static long sleep_until(uint64_t id, uint64_t flags, uint64_t req)
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
	while (now < deadline) {
		__builtin_ia32_pause();
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
static const struct {
	syscall_fn fn;
	const char *name;
} solo_syscalls[] = {
    [SOLO_SYS_map_memory - SOLO_SYS_BASE] = {sys_map_memory, "map_memory"},
    [SOLO_SYS_unmap_memory - SOLO_SYS_BASE] = {sys_unmap_memory, "unmap_memory"},
    [SOLO_SYS_increase_heap - SOLO_SYS_BASE] = {sys_increase_heap, "increase_heap"},
    [SOLO_SYS_decrease_heap - SOLO_SYS_BASE] = {sys_decrease_heap, "decrease_heap"},
    [SOLO_SYS_mem_stats - SOLO_SYS_BASE] = {sys_mem_stats, "mem_stats"},
};

static const struct {
	syscall_fn fn;
	const char *name;
} syscalls[] = {
    /* BEGIN syscall table (tools/gen-syscall-docs.sh reads these lines) */
    [SYS_read] = {sys_read, "read"},	/* files; stdin: serial line discipline */
    [SYS_write] = {sys_write, "write"}, /* console; files are read-only (EBADF) */
    [SYS_open] = {sys_open, "open"},	/* read-only: EROFS for writing or creating */
    [SYS_close] = {sys_close, "close"},
    [SYS_stat] = {sys_stat, "stat"},
    [SYS_fstat] = {sys_fstat, "fstat"},
    [SYS_lstat] = {sys_lstat, "lstat"},
    [SYS_lseek] = {sys_lseek, "lseek"}, /* ESPIPE on the console */
    [SYS_mmap] = {sys_mmap, "mmap"},	/* anonymous; files private, filled on touch; W+X EACCES */
    [SYS_mprotect] = {sys_mprotect, "mprotect"}, /* W+X is EACCES; PROT_NONE is no access */
    [SYS_munmap] = {sys_munmap, "munmap"},
    [SYS_brk] = {sys_brk, "brk"},
    [SYS_rt_sigaction] = {sys_rt_sigaction, "rt_sigaction"},	   /* recorded, never delivered */
    [SYS_rt_sigprocmask] = {sys_rt_sigprocmask, "rt_sigprocmask"}, /* recorded */
    [SYS_ioctl] = {sys_ioctl, "ioctl"}, /* console: TCGETS/TCSETS*, TIOCGWINSZ */
    [SYS_pread64] = {sys_pread64, "pread64"},
    [SYS_readv] = {sys_readv, "readv"},
    [SYS_writev] = {sys_writev, "writev"},
    [SYS_access] = {sys_access, "access"}, /* W_OK is EROFS */
    [SYS_pipe] = {sys_pipe, "pipe"},	   /* one thread: EAGAIN where Linux blocks */
    [SYS_sched_yield] = {sys_sched_yield, "sched_yield"},
    [SYS_mremap] = {sys_mremap, "mremap"},    /* MAYMOVE, FIXED; moves frames, never copies */
    [SYS_madvise] = {sys_madvise, "madvise"}, /* DONTNEED/FREE free pages; rest ignored */
    [SYS_dup] = {sys_dup, "dup"},
    [SYS_dup2] = {sys_dup2, "dup2"},
    [SYS_nanosleep] = {sys_nanosleep, "nanosleep"}, /* busy-waits on the TSC */
    [SYS_getpid] = {sys_getpid, "getpid"},	    /* 1 */
    [SYS_exit] = {sys_exit, "exit"},
    [SYS_uname] = {sys_uname, "uname"},		  /* Solo solo 0.1 x86_64 */
    [SYS_fcntl] = {sys_fcntl, "fcntl"},		  /* F_DUPFD*, F_GETFD/SETFD, F_GETFL/SETFL */
    [SYS_truncate] = {sys_rofs_path, "truncate"}, /* EROFS */
    [SYS_getcwd] = {sys_getcwd, "getcwd"},
    [SYS_chdir] = {sys_chdir, "chdir"},
    [SYS_fchdir] = {sys_fchdir, "fchdir"},
    [SYS_rename] = {sys_rofs_path, "rename"},	/* EROFS */
    [SYS_mkdir] = {sys_rofs_path, "mkdir"},	/* EROFS */
    [SYS_rmdir] = {sys_rofs_path, "rmdir"},	/* EROFS */
    [SYS_creat] = {sys_rofs_path, "creat"},	/* EROFS */
    [SYS_link] = {sys_rofs_path, "link"},	/* EROFS */
    [SYS_unlink] = {sys_rofs_path, "unlink"},	/* EROFS */
    [SYS_symlink] = {sys_rofs_path, "symlink"}, /* EROFS */
    [SYS_readlink] = {sys_readlink, "readlink"},
    [SYS_chmod] = {sys_rofs_path, "chmod"},		     /* EROFS */
    [SYS_gettimeofday] = {sys_gettimeofday, "gettimeofday"}, /* RTC at boot + TSC; UTC */
    [SYS_getrlimit] = {sys_getrlimit, "getrlimit"},	     /* STACK, NOFILE; others infinite */
    [SYS_getuid] = {sys_zero, "getuid"},		     /* 0 */
    [SYS_getgid] = {sys_zero, "getgid"},		     /* 0 */
    [SYS_geteuid] = {sys_zero, "geteuid"},		     /* 0 */
    [SYS_getegid] = {sys_zero, "getegid"},		     /* 0 */
    [SYS_getppid] = {sys_zero, "getppid"},		     /* 0 */
    [SYS_sigaltstack] = {sys_sigaltstack, "sigaltstack"},    /* recorded */
    [SYS_arch_prctl] = {sys_arch_prctl, "arch_prctl"},	     /* ARCH_SET_FS, ARCH_GET_FS */
    [SYS_setrlimit] = {sys_setrlimit, "setrlimit"},	     /* accepted, not enforced */
    [SYS_gettid] = {sys_gettid, "gettid"},		     /* 1 */
    [SYS_time] = {sys_time, "time"},
    [SYS_sched_getaffinity] = {sys_sched_getaffinity, "sched_getaffinity"}, /* one CPU */
    [SYS_getdents64] = {sys_getdents64, "getdents64"},
    [SYS_set_tid_address] = {sys_set_tid_address, "set_tid_address"},
    [SYS_clock_gettime] = {sys_clock_gettime, "clock_gettime"}, /* TSC; REALTIME from RTC */
    [SYS_clock_getres] = {sys_clock_getres, "clock_getres"},
    [SYS_clock_nanosleep] = {sys_clock_nanosleep, "clock_nanosleep"}, /* busy-waits */
    [SYS_exit_group] = {sys_exit, "exit_group"},
    [SYS_openat] = {sys_openat, "openat"},	       /* AT_FDCWD or a directory fd */
    [SYS_mkdirat] = {sys_rofs_pathat, "mkdirat"},      /* EROFS */
    [SYS_newfstatat] = {sys_newfstatat, "newfstatat"}, /* AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW */
    [SYS_unlinkat] = {sys_rofs_pathat, "unlinkat"},    /* EROFS */
    [SYS_renameat] = {sys_rofs_pathat, "renameat"},    /* EROFS */
    [SYS_readlinkat] = {sys_readlinkat, "readlinkat"},
    [SYS_faccessat] = {sys_faccessat, "faccessat"},
    [SYS_set_robust_list] = {sys_set_robust_list, "set_robust_list"}, /* accepted */
    [SYS_dup3] = {sys_dup3, "dup3"},
    [SYS_pipe2] = {sys_pipe2, "pipe2"},		      /* O_CLOEXEC, O_NONBLOCK */
    [SYS_prlimit64] = {sys_prlimit64, "prlimit64"},   /* as getrlimit/setrlimit */
    [SYS_renameat2] = {sys_rofs_pathat, "renameat2"}, /* EROFS */
    [SYS_statx] = {sys_statx, "statx"},		      /* basic fields */
    [SYS_getrandom] = {sys_getrandom, "getrandom"},   /* RDRAND; never blocks */
    [SYS_faccessat2] = {sys_faccessat2, "faccessat2"},
    /* END syscall table */
};

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

void syscall_dispatch(struct syscall_frame *f)
{
	uint64_t nr = f->rax;

	syscall_fn fn = NULL;

	if (nr < ARRAY_SIZE(syscalls))
		fn = syscalls[nr].fn;
	else if (nr - SOLO_SYS_BASE < ARRAY_SIZE(solo_syscalls))
		fn = solo_syscalls[nr - SOLO_SYS_BASE].fn;
	if (fn) {
		f->rax = (uint64_t)fn(f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
	} else {
		log_unsupported(nr);
		f->rax = (uint64_t)-ENOSYS;
	}
	/* sysret to a non-canonical rip would fault in ring 0 on Intel CPUs. */
	if (f->rip >= VM_USER_TOP)
		app_kill(SIGSEGV, "return to a non-canonical address", f->rip, f->rip);
}
