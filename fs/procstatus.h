/*
 * procstatus - the text of /proc/self/status and /proc/self/statm in
 * Linux's exact format (proc(5); fs/proc/array.c and task_mmu.c of Linux
 * 6.1), which Python's resource module, psutil-like code and runtimes
 * parse. What Solo cannot know gets Linux's value for a lone process: Pid
 * and Tgid 1, PPid 0, Uid/Gid 0, full capabilities, one CPU.
 *
 * The memory figures come from the address space, in pages of 4 KiB:
 *   size   every region's pages, except the stack, which counts only its
 *          backed pages (Linux's stack VMA grows as it is touched; Solo's
 *          region is the whole reserve);
 *   rss    the backed pages; file: the images' (program, interpreter),
 *          the object mappings' borrowed pages and the kernel's pages
 *          shown to the app (vDSO, vvar); anon: the rest (demand pages,
 *          private copies); shmem is 0;
 *   exe    executable pages of the program's image; lib: the other
 *          executable, non-writable pages (interpreter, libraries, vDSO);
 *   data   private writable pages (heap, writable mappings and image
 *          data), stack excluded; stk: the stack's backed pages.
 * VmHWM: the image pages and the most pages the other regions had backed
 * at once (struct aspace's backed_peak); VmPeak is the current VmSize
 * (Solo keeps no peak of the reserved size).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct aspace;

struct procstatus_info {
	const char *name;     /* comm: cut to 15 bytes as Linux does */
	unsigned umask;	      /* the process's umask */
	int threads;	      /* live threads */
	uint64_t interp_base; /* AT_BASE: the image holding it is the interpreter's, or 0 */
	uint64_t vdso;	      /* AT_SYSINFO_EHDR, or 0 */
};

struct procstatus_mem {
	size_t size, rss, rss_file, exe, lib, data, stack, hwm; /* pages */
};

/* The figures above for as. Reads the page tables (walks the images and
 * the object mappings' backed pages); changes nothing; does not block. */
void procstatus_mem(const struct aspace *as, const struct procstatus_info *info,
		    struct procstatus_mem *out);

/*
 * procstatus_status / procstatus_statm - the text into buf (size bytes,
 * NUL-terminated when size > 0). Return the length of the whole text;
 * when that is size or more, buf holds only its beginning (as snprintf).
 * statm: "size resident shared text lib data dt" in pages, lib and dt 0
 * as on Linux 2.6+.
 */
long procstatus_status(const struct aspace *as, const struct procstatus_info *info, char *buf,
		       size_t size);
long procstatus_statm(const struct aspace *as, const struct procstatus_info *info, char *buf,
		      size_t size);
