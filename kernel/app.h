/*
 * The one app: load it, enter it, end it, kill it. Every way the app can end
 * goes through app_exit(), which prints "solo: exit N", returns every page
 * the app held and applies boot.cfg's on_exit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootcfg.h"
#include "mm/aspace.h"

/* Loads the app (a boot module: an ELF, or a "#!" script whose interpreter
 * is read from the root file system, see kernel/exec.h) into its own
 * address space, with its ELF interpreter when it names one (loader.h),
 * builds its stack from cfg and its file tree from the rootfs.tar module
 * tar (NULL: none; it must stay in memory: files are read where they lie).
 * After it returns 0 the module's bytes are no longer needed. Returns a
 * negative error when the app cannot start (the reason was printed, as
 * "solo: app not started: ..."). */
int app_load(const void *elf, size_t size, const void *tar, size_t tar_size,
	     const struct boot_config *cfg);
/* Called once the ELF file's returned_pages went back to palloc: at exit,
 * the free page count must be the one from before the app plus those. */
void app_note_free_baseline(size_t returned_pages);
/* Enters the loaded app in ring 3. */
_Noreturn void app_enter(void);

/* The app's address space, for syscalls. */
struct aspace *app_aspace(void);
const struct vm_ctx *app_context(void);

/* A page fault in ring 3 at addr (ASPACE_ACCESS_* bits). Returns 0 when
 * the page is now backed and the instruction can be restarted. Kills the
 * app when no page is left (out of memory). Otherwise returns the reason
 * the access is refused, for the trap code to signal: -EIO for a page past
 * the end of a mapped file (SIGBUS), -EACCES for PROT_NONE, another -errno
 * for an address the app may not use at all (SIGSEGV). */
int app_page_fault(uint64_t addr, unsigned access, uint64_t rip);
/* The common demand fault (mm/aspace.h's aspace_fault_shared) without the
 * kernel lock: only inside kernel_lock_share_begin/end, so faults on
 * several CPUs back pages at once. 0 when the page is mapped, or -EAGAIN:
 * app_page_fault under the kernel lock then handles the fault (errors
 * included). Never blocks. */
int app_page_fault_shared(uint64_t addr, unsigned access);
/* Lets the kernel lock's shared sections allocate small kernel-heap blocks
 * (mm/kmalloc.h's shared side: the heap's own lock, pages from this CPU's
 * palloc fault cache under the shared fault lock). Boot, after
 * kmalloc_init and before any section can run. */
void app_shared_heap_init(void);
/* The page faults of the app's accesses and its syscalls' copies that were
 * resolved (a page backed or copied), since it started: getrusage's
 * ru_minflt. Every fault is minor: nothing is ever read from a disk. */
uint64_t app_minor_faults(void);

/*
 * Copies between the kernel and the app's memory for syscalls. Demand pages
 * the app has not touched yet are backed first, as the app's own access
 * would have done; anything else the app may not access is -EFAULT.
 * Returns 0 or -EFAULT (-ENOMEM kills the app like a fault would).
 */
int app_copy_to(uint64_t dst, const void *src, size_t len);
int app_copy_from(void *dst, uint64_t src, size_t len);

_Noreturn void app_exit(int status);
/* A fault or a broken promise of the app: prints "solo: app killed: reason
 * at rip=... addr=..." and exits with 128 + signal. */
_Noreturn void app_kill(int signal, const char *reason, uint64_t rip, uint64_t addr);
