/*
 * The vDSO's code: Linux's five vDSO calls, answered from the data page the
 * kernel publishes (include/solo/vvar.h) and the TSC, with no syscall.
 *
 * Built as its own position-independent shared object (see the Makefile's
 * vDSO rules and vdso.lds): freestanding, no libc, no data of its own, and
 * no relocation left for a loader, because nobody relocates it: the kernel
 * maps the same pages into every app at whatever address it picked. It
 * reaches the data page by a PC-relative reference to vvar_page, which the
 * link script puts one page below the image's ELF header (where vdso_map
 * maps it).
 *
 * The clocks that run at the monotonic rate are computed here, exactly as
 * kernel/time.c's time_clock does; anything else (the CPU-time clocks, a
 * clock id Solo does not have) is passed to the real syscall, as Linux's
 * vDSO does, so its answer is the kernel's.
 */
#include <stddef.h>
#include <stdint.h>

#include <solo/vvar.h>

#include "kernel/abi/time.h"
#include "kernel/arch/x86_64/gdt.h"

#define SYS_gettimeofday  96
#define SYS_time	  201
#define SYS_clock_gettime 228
#define SYS_clock_getres  229
#define SYS_getcpu	  309

/* The data page: defined by vdso.lds, one page below the ELF header. */
extern const volatile struct vvar vvar_page __attribute__((visibility("hidden")));

static long syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static long syscall2(long nr, long a, long b)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t read_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Which clocks are computed here, and from which base. */
enum clock_kind { CLOCK_KIND_SYSCALL, CLOCK_KIND_MONOTONIC, CLOCK_KIND_REALTIME };

static enum clock_kind kind_of(long clock)
{
	switch (clock) {
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		return CLOCK_KIND_MONOTONIC;
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_REALTIME_ALARM:
		return CLOCK_KIND_REALTIME;
	default:
		return CLOCK_KIND_SYSCALL;
	}
}

/*
 * The time of a monotonic-rate clock in ns into *ns; 0 when the kernel has
 * not published the page (then the caller takes the syscall). The sequence
 * loop is the reader's half of vvar.h's protocol; the compiler barriers are
 * enough on x86, whose loads are not reordered with each other.
 */
static int read_ns(enum clock_kind kind, uint64_t *ns)
{
	const volatile struct vvar *v = &vvar_page;
	uint32_t seq;
	uint64_t tsc, base, mult, real;

	do {
		while ((seq = v->seq) & 1)
			__builtin_ia32_pause();
		__asm__ volatile("" ::: "memory");
		if (v->version != VVAR_VERSION)
			return 0;
		base = v->tsc_base;
		mult = v->ns_mult;
		real = v->realtime_base_ns;
		tsc = read_tsc();
		__asm__ volatile("" ::: "memory");
	} while (v->seq != seq);
	*ns = vvar_monotonic_ns(tsc, base, mult);
	if (kind == CLOCK_KIND_REALTIME)
		*ns += real;
	return 1;
}

struct vdso_timespec {
	int64_t sec, nsec;
};
struct vdso_timeval {
	int64_t sec, usec;
};
struct vdso_timezone {
	int32_t minuteswest, dsttime;
};

long __vdso_clock_gettime(long clock, struct vdso_timespec *ts);
long __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz);
long __vdso_time(int64_t *t);
long __vdso_clock_getres(long clock, struct vdso_timespec *res);
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache);

long __vdso_clock_gettime(long clock, struct vdso_timespec *ts)
{
	enum clock_kind kind = kind_of(clock);
	uint64_t ns;

	if (kind == CLOCK_KIND_SYSCALL || !read_ns(kind, &ns))
		return syscall2(SYS_clock_gettime, clock, (long)ts);
	ts->sec = (int64_t)(ns / NSEC_PER_SEC);
	ts->nsec = (int64_t)(ns % NSEC_PER_SEC);
	return 0;
}

/* Solo's wall clock is UTC: the zone is always 0, no DST (as the syscall). */
long __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
	uint64_t ns;

	if (!read_ns(CLOCK_KIND_REALTIME, &ns))
		return syscall2(SYS_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->sec = (int64_t)(ns / NSEC_PER_SEC);
		tv->usec = (int64_t)(ns % NSEC_PER_SEC / NSEC_PER_USEC);
	}
	if (tz) {
		tz->minuteswest = 0;
		tz->dsttime = 0;
	}
	return 0;
}

long __vdso_time(int64_t *t)
{
	uint64_t ns;

	if (!read_ns(CLOCK_KIND_REALTIME, &ns))
		return syscall2(SYS_time, (long)t, 0);
	int64_t sec = (int64_t)(ns / NSEC_PER_SEC);
	if (t)
		*t = sec;
	return sec;
}

/* Every clock computed here reads the TSC: 1 ns, as sys_clock_getres says. */
long __vdso_clock_getres(long clock, struct vdso_timespec *res)
{
	if (kind_of(clock) == CLOCK_KIND_SYSCALL || vvar_page.version != VVAR_VERSION)
		return syscall2(SYS_clock_getres, clock, (long)res);
	if (res) {
		res->sec = 0;
		res->nsec = 1;
	}
	return 0;
}

/* The CPU the caller runs on and its node, a snapshot as on Linux (the
 * thread may move the next moment): the limit of the per-CPU descriptor
 * each CPU's GDT holds (kernel/arch/x86_64/gdt.c: cpu | node << 12, as
 * Linux's), read with lsl, which works in ring 3 on every x86-64 CPU (rdpid
 * does not). */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	unsigned limit = 0;
	int valid;

	__asm__ volatile("lsl %2, %0"
			 : "+r"(limit), "=@ccz"(valid)
			 : "r"((unsigned)GDT_CPU_NUMBER));
	/* Not a descriptor lsl may read (not Solo's GDT): the kernel answers. */
	if (!valid)
		return syscall3(SYS_getcpu, (long)cpu, (long)node, (long)cache);
	if (cpu)
		*cpu = limit & 0xfff;
	if (node)
		*node = limit >> 12;
	return 0;
}

/* Linux's vDSO exports the same functions without the prefix, too. */
long clock_gettime(long, struct vdso_timespec *)
    __attribute__((weak, alias("__vdso_clock_gettime")));
long gettimeofday(struct vdso_timeval *, struct vdso_timezone *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(int64_t *) __attribute__((weak, alias("__vdso_time")));
long clock_getres(long, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
