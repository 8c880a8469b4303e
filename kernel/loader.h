/*
 * The app loader: maps a static ELF64 (ET_EXEC or static-PIE ET_DYN) into a
 * fresh user context and builds the Linux process-start stack (argc, argv,
 * envp, auxv). Everything is copied into the app's pages through the direct
 * map, so the kernel never touches user addresses directly.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/vm.h"

/* Where a static-PIE app is placed (no randomization yet). */
#define LOADER_PIE_BASE 0x0000555555554000ull
/* The initial stack: top of the user half, one unmapped guard page above. */
#define LOADER_STACK_TOP  0x00007ffffffff000ull
#define LOADER_STACK_SIZE (256ull << 10)
/* Upper bound on argv + envp strings and pointers. */
#define LOADER_MAX_ARGS_SIZE (64u << 10)

struct app_image {
	struct vm_ctx ctx;
	uint64_t load_base; /* 0 for ET_EXEC */
	uint64_t entry;	    /* absolute */
	uint64_t phdr;	    /* absolute address of the program headers (AT_PHDR), 0 if unmapped */
	uint16_t phnum;
	uint64_t image_end;	/* end of the highest segment, page aligned: the heap starts here */
	uint64_t stack_pointer; /* initial rsp, after loader_build_stack */
};

/*
 * loader_load - validate elf (size bytes) and map it into a new user context
 * whose kernel half is shared with kernel (the app-view template: only the
 * UL_VISIBLE pages). Returns 0; -ENOEXEC with *why set when
 * the file is not a loadable app; -ENOMEM when memory ran out (nothing is
 * leaked: the half-built context is destroyed).
 */
int loader_load(const void *elf, size_t size, const struct vm_ctx *kernel, struct app_image *img,
		const char **why);

/*
 * loader_build_stack - map the initial stack and lay out argc, argv, envp,
 * auxv and their strings as the System V x86-64 ABI and Linux do, with rsp
 * 16-byte aligned at argc. Returns 0, -E2BIG (arguments too large) or
 * -ENOMEM.
 */
int loader_build_stack(struct app_image *img, int argc, const char *const *argv, int envc,
		       const char *const *envp);
