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

#define SYS_mmap   9
#define SYS_munmap 11
#define SYS_brk	   12

/*
 * Solo's native memory calls (Xous-style), beside the Linux numbers. Same
 * convention: arguments in rdi, rsi, rdx, r10; result in rax, -errno on
 * failure. user/solo.h wraps them for apps.
 */
#define SOLO_SYS_BASE	       0x4000
#define SOLO_SYS_map_memory    (SOLO_SYS_BASE + 0) /* (phys, virt, size, flags) -> address */
#define SOLO_SYS_unmap_memory  (SOLO_SYS_BASE + 1) /* (base, size) -> 0 */
#define SOLO_SYS_increase_heap (SOLO_SYS_BASE + 2) /* (size, flags) -> start of the added range */
#define SOLO_SYS_decrease_heap (SOLO_SYS_BASE + 3) /* (size) -> 0 */
#define SOLO_SYS_mem_stats     (SOLO_SYS_BASE + 4) /* (struct solo_mem_stats *) -> 0 */

/* map_memory / increase_heap flags. Read access is always granted. */
#define SOLO_MAP_WRITE		 (1u << 0)
#define SOLO_MAP_EXEC		 (1u << 1) /* not together with SOLO_MAP_WRITE (W^X) */
#define SOLO_MAP_UNCACHED	 (1u << 2) /* device registers (the default for phys) */
#define SOLO_MAP_WRITE_COMBINING (1u << 3) /* framebuffers */

/* Regions of the app's address space, as counted by mem_stats. */
#define SOLO_REGION_IMAGE   0 /* the ELF segments */
#define SOLO_REGION_HEAP    1 /* brk / increase_heap */
#define SOLO_REGION_MAPPING 2 /* map_memory without phys, mmap */
#define SOLO_REGION_DEVICE  3 /* map_memory with phys */
#define SOLO_REGION_STACK   4
#define SOLO_REGION_KINDS   5

#ifndef __ASSEMBLER__
#include <stdint.h>

struct solo_mem_stats {
	uint64_t reserved_pages[SOLO_REGION_KINDS]; /* 4 KiB pages in each kind of region */
	uint64_t backed_pages[SOLO_REGION_KINDS];   /* of those, backed by memory now */
	uint64_t system_free_pages;		    /* free physical pages in the machine */
};
#endif
