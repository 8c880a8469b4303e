/*
 * vdso - the virtual dynamic shared object: a small ELF shared library the
 * kernel maps into the app, as Linux does, so that clock reads need no
 * syscall. glibc and musl find it through AT_SYSINFO_EHDR and look up
 * Linux's names and version (LINUX_2.6): __vdso_clock_gettime,
 * __vdso_gettimeofday, __vdso_time, __vdso_clock_getres, __vdso_getcpu.
 *
 * Its pages are UL_VISIBLE in the seeds' sense: kernel memory the app may
 * see. The code pages are read+execute for the app; a data page after them
 * (the "vvar" page: TSC calibration, monotonic zero, realtime offset) is
 * read-only for the app and written only by the kernel, through its own
 * mapping, whenever those values change.
 */
#pragma once

#include <stdint.h>

struct aspace;

/*
 * vdso_map - map the vDSO (its code and data pages) into as, at a random
 * page-aligned address in the default region when ASLR is on. Returns 0
 * with *base the address of its ELF header (the value of AT_SYSINFO_EHDR),
 * or -ENOMEM. *base 0 with 0 returned: this build has no vDSO (leave
 * AT_SYSINFO_EHDR out). Does not block.
 */
int vdso_map(struct aspace *as, uint64_t *base);

/*
 * vdso_update - republish the clock parameters to the data page after the
 * kernel changed them (time_init, a settimeofday/clock_settime). Cheap;
 * callable with interrupts off. Does not block.
 */
void vdso_update(void);
