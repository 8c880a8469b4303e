/*
 * The app loader: maps a static ELF64 (ET_EXEC or static-PIE ET_DYN) into a
 * fresh user context and builds the Linux process-start stack (argc, argv,
 * envp, auxv). Everything is copied into the app's pages through the direct
 * map, so the kernel never touches user addresses directly.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/aspace.h"
#include "mm/vm.h"

/*
 * Where a static-PIE app is placed: at LOADER_PIE_BASE (Linux's choice) with
 * ASLR off; with it on, at a random page in [LOADER_PIE_BASE -
 * LOADER_PIE_SPAN, LOADER_PIE_BASE + LOADER_PIE_SPAN), 2^25 choices. That
 * window lies inside the default region, far above ASPACE_HEAP_LIMIT, so
 * the heap grows from the image end as for any high image (see
 * aspace_init_heap) and mmap's lowest-free search finds free space long
 * before it. An ET_EXEC app is never moved.
 */
#define LOADER_PIE_BASE 0x0000555555554000ull
#define LOADER_PIE_SPAN (1ull << 36)
/* With ASLR on, the stack top moves down by up to LOADER_STACK_PAGES pages
 * below ASPACE_STACK_TOP, and the start-up data by a random multiple of 16
 * bytes below that (up to a page). */
#define LOADER_STACK_PAGES 256
/* Upper bound on argv + envp strings and pointers. */
#define LOADER_MAX_ARGS_SIZE (64u << 10)

struct app_image {
	uint64_t load_base; /* 0 for ET_EXEC */
	uint64_t entry;	    /* absolute */
	uint64_t phdr;	    /* absolute address of the program headers (AT_PHDR), 0 if unmapped */
	uint16_t phnum;
	uint64_t image_end;	/* end of the highest segment, page aligned: the heap starts here */
	uint64_t stack_pointer; /* initial rsp, after loader_build_stack */
	uint64_t vdso_base;	/* the vDSO's ELF header (AT_SYSINFO_EHDR), 0: none */
};

/* loader_set_aslr - on (1, the default) or off (0, boot.cfg aslr=off):
 * whether loader_load and loader_build_stack randomize addresses. */
void loader_set_aslr(int on);

/*
 * loader_load - validate elf (size bytes) and map it into as (fresh from
 * aspace_init): every PT_LOAD backed now with its p_flags, recorded as the
 * IMAGE region, and an empty heap after it. Returns 0; -ENOEXEC with *why
 * set when the file is not a loadable app; -ENOMEM / -EEXIST otherwise
 * (the caller destroys as).
 */
int loader_load(const void *elf, size_t size, struct aspace *as, struct app_image *img,
		const char **why);

/*
 * loader_build_stack - reserve the stack (stack_size bytes below
 * ASPACE_STACK_TOP, or below a randomized top, see LOADER_STACK_PAGES;
 * demand-paged), back the pages the start-up data needs,
 * and lay out argc, argv, envp, auxv and their strings as the System V
 * x86-64 ABI and Linux do, with rsp 16-byte aligned at argc. Returns 0,
 * -E2BIG (arguments too large) or -ENOMEM.
 */
int loader_build_stack(struct aspace *as, struct app_image *img, uint64_t stack_size, int argc,
		       const char *const *argv, int envc, const char *const *envp);
