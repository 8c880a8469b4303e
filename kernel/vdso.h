/*
 * vdso - the virtual dynamic shared object: a small ELF shared library the
 * kernel maps into the app, as Linux does, so that clock reads need no
 * syscall. glibc and musl find it through AT_SYSINFO_EHDR and look up
 * Linux's names and version (LINUX_2.6): __vdso_clock_gettime,
 * __vdso_gettimeofday, __vdso_time, __vdso_clock_getres, __vdso_getcpu.
 * The image is built from vdso/ and embedded in the kernel (vdso/image.S).
 *
 * Its pages are UL_VISIBLE in the seeds' sense: kernel memory the app may
 * see. The code pages are read+execute for the app; a data page just below
 * them (the "vvar" page, include/solo/vvar.h: TSC calibration, monotonic
 * zero, realtime offset) is read-only for the app and written only by the
 * kernel, through its own mapping, whenever those values change. They stay
 * the kernel's: the app's munmap only unmaps them, its mprotect and mremap
 * of them fail, and its exit frees nothing of them.
 *
 *   base            vvar page (R)
 *   base + 4 KiB    ELF header, code (R+X)   <- AT_SYSINFO_EHDR
 */
#pragma once

#include <stdint.h>

struct aspace;

/* Where the vDSO lands: with ASLR off, its last page is the last page of
 * the default region (mm/aspace.h); with ASLR on, the whole vDSO moves down
 * by a random number of pages below VDSO_ASLR_PAGES (2^24: 64 GiB). */
#define VDSO_ASLR_PAGES (1ull << 24)

/*
 * vdso_map - map the vDSO (its data and code pages) into as, at a random
 * page-aligned address in the default region when ASLR is on. Returns 0
 * with *base the address of its ELF header (the value of AT_SYSINFO_EHDR),
 * or -ENOMEM (no memory for page tables, or no room). *base 0 with 0
 * returned: this build has no vDSO (leave AT_SYSINFO_EHDR out). Does not
 * block.
 */
int vdso_map(struct aspace *as, uint64_t *base);

/*
 * vdso_update - republish the clock parameters (time_get_params) to the
 * data page after the kernel changed them (time_init, a settimeofday or
 * clock_settime). Cheap; callable with interrupts off. Does not block.
 */
void vdso_update(void);

/* vdso_set_aslr - on (1, the default) or off (0, boot.cfg aslr=off):
 * whether vdso_map picks a random address. */
void vdso_set_aslr(int on);
