/*
 * solo.h - Solo's native memory calls for apps (Xous-style), next to the
 * ordinary Linux syscalls that musl uses. Build with -I<solo>/include
 * -I<solo>/user. Every call returns a negative errno on failure; nothing an
 * app passes can harm the kernel.
 *
 *   struct solo_range r = solo_map_memory(0, 0, 64 << 20, SOLO_MAP_WRITE);
 *   if (r.error) ...          // -ENOMEM, -EINVAL, ...
 *   ((char *)r.base)[0] = 1;  // the first touch backs one zeroed page
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <solo/uapi/syscall.h>

struct solo_range {
	void *base;  /* NULL on error */
	size_t size; /* bytes */
	long error;  /* 0, or -errno */
};

/* A raw syscall: the kernel's result as is (-errno on failure), no errno. */
static inline long solo_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long solo_syscall4(long n, long a, long b, long c, long d)
{
	return solo_syscall6(n, a, b, c, d, 0, 0);
}

static inline struct solo_range solo_result(long ret, size_t size)
{
	struct solo_range r = {0, 0, 0};

	if (ret < 0 && ret > -4096)
		r.error = ret;
	else {
		r.base = (void *)ret;
		r.size = size;
	}
	return r;
}

/* Maps size bytes (a multiple of 4096). phys 0: demand-zero memory, backed
 * page by page on first touch; otherwise that physical range (device memory
 * the kernel does not use, or free RAM, zeroed). virt 0: anywhere in the
 * default region; otherwise exactly there. */
static inline struct solo_range solo_map_memory(uint64_t phys, void *virt, size_t size,
						unsigned flags)
{
	return solo_result(
	    solo_syscall4(SOLO_SYS_map_memory, (long)phys, (long)virt, (long)size, (long)flags),
	    size);
}

static inline long solo_unmap_memory(struct solo_range range)
{
	return solo_syscall4(SOLO_SYS_unmap_memory, (long)range.base, (long)range.size, 0, 0);
}

/* Grows the heap by size bytes (a multiple of 4096); returns the new part. */
static inline struct solo_range solo_increase_heap(size_t size, unsigned flags)
{
	return solo_result(solo_syscall4(SOLO_SYS_increase_heap, (long)size, (long)flags, 0, 0),
			   size);
}

/* Shrinks the heap by size bytes (a multiple of 4096), giving the pages back. */
static inline long solo_decrease_heap(size_t size)
{
	return solo_syscall4(SOLO_SYS_decrease_heap, (long)size, 0, 0, 0);
}

static inline long solo_mem_stats(struct solo_mem_stats *out)
{
	return solo_syscall4(SOLO_SYS_mem_stats, (long)out, 0, 0, 0);
}
