/*
 * The app loader: maps an ELF64 program (ET_EXEC or ET_DYN) into a fresh
 * user context, and for a dynamically linked one (PT_INTERP) its
 * interpreter too, read from the root file system, as Linux's
 * load_elf_binary does; then builds the Linux process-start stack (argc,
 * argv, envp, auxv). Everything is copied into the app's pages through the
 * direct map, so the kernel never touches user addresses directly.
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
/*
 * Where an ET_DYN interpreter (ld.so) is placed: at LOADER_INTERP_BASE with
 * ASLR off; with it on, at a random page in [LOADER_INTERP_BASE -
 * LOADER_INTERP_SPAN, LOADER_INTERP_BASE). Both lie above the default
 * region (ASPACE_DEFAULT_END) and far below the stack: away from the
 * program, its heap and mmap's lowest-free search, as Linux keeps ld.so in
 * the mmap area at the top.
 */
#define LOADER_INTERP_BASE 0x00007f0000000000ull
#define LOADER_INTERP_SPAN (1ull << 40)
/* The largest program or interpreter read from the root file system. */
#define LOADER_MAX_FILE (1ull << 30)
/* Room for the auxv pairs, AT_NULL included. */
#define LOADER_AUXV_MAX 24

struct app_image {
	uint64_t load_base;  /* the program's; 0 for ET_EXEC */
	uint64_t entry;	     /* where execution starts: the interpreter's entry, or the program's */
	uint64_t prog_entry; /* the program's entry (AT_ENTRY) */
	uint64_t interp_base; /* the interpreter's load address (AT_BASE), 0: static program */
	const char *execfn;   /* AT_EXECFN (copied onto the stack); NULL: argv[0] */
	uint64_t phdr;	      /* absolute address of the program headers (AT_PHDR), 0 if unmapped */
	uint16_t phnum;
	uint64_t image_end;	/* end of the highest segment, page aligned: the heap starts here */
	uint64_t stack_pointer; /* initial rsp, after loader_build_stack */
	uint64_t vdso_base;	/* the vDSO's ELF header (AT_SYSINFO_EHDR), 0: none */
	/* The auxv as laid on the stack (loader_build_stack): auxv_len bytes. */
	uint64_t auxv[LOADER_AUXV_MAX][2];
	size_t auxv_len;
};

/* loader_set_aslr - on (1, the default) or off (0, boot.cfg aslr=off):
 * whether loader_load and loader_build_stack randomize addresses. */
void loader_set_aslr(int on);

/*
 * loader_load - validate elf (size bytes, 8-byte aligned) and map it into as
 * (fresh from aspace_init): every PT_LOAD backed now with its p_flags,
 * recorded as an IMAGE region, and an empty heap after it. A program with
 * PT_INTERP gets its interpreter too: looked up in the root file system
 * (mounted; symlinks followed), read through the vfs, checked, and copied
 * in as a second IMAGE region (see LOADER_INTERP_BASE); execution then
 * starts at the interpreter's entry. The heap still starts after the
 * program, as on Linux. Returns 0; -ENOEXEC / -ENOENT / -EACCES ... with
 * *why set (a static or loader-owned string, valid until the next call)
 * when the app cannot start; -ENOMEM / -EEXIST otherwise (the caller
 * destroys as). Blocks only as far as reading a RAM file does: not at all.
 */
int loader_load(const void *elf, size_t size, struct aspace *as, struct app_image *img,
		const char **why);

/*
 * loader_read_file - read the executable at path (absolute, in the root
 * file system; symlinks followed) into a fresh kmalloc'd buffer (*buf, the
 * caller kfrees it; 8-byte aligned) of *size bytes. It must be a regular
 * file with an x bit, 1 byte..LOADER_MAX_FILE. Returns 0, or -ENOENT,
 * -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EACCES, -EFBIG, -ENOEXEC (empty),
 * -ENOMEM, -EIO with *why set to a static reason (e.g. "no such file in
 * the root file system").
 */
int loader_read_file(const char *path, void **buf, size_t *size, const char **why);

/*
 * loader_build_stack - reserve the stack (stack_size bytes below
 * ASPACE_STACK_TOP, or below a randomized top, see LOADER_STACK_PAGES;
 * demand-paged), back the pages the start-up data needs,
 * and lay out argc, argv, envp, auxv and their strings as the System V
 * x86-64 ABI and Linux do, with rsp 16-byte aligned at argc; a copy of the
 * auxv is kept in img->auxv (for /proc/self/auxv). Returns 0,
 * -E2BIG (arguments too large) or -ENOMEM.
 */
int loader_build_stack(struct aspace *as, struct app_image *img, uint64_t stack_size, int argc,
		       const char *const *argv, int envc, const char *const *envp);
