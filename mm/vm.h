/*
 * vm - page tables of one address space (a "context"): map, unmap, lookup,
 * protect, and copies into and out of a context that do not depend on which
 * context is active.
 *
 * Address map (x86-64, 48-bit):
 *
 *   0x0000000000000000  +-----------------------------+
 *                       | null guard (64 KiB)         |  never mapped
 *   0x0000000000010000  | app: ELF segments, heap,    |  VM_USER
 *                       | mappings, stack at the top  |
 *   0x00007fffffffffff  +-----------------------------+
 *                         non-canonical hole
 *   0xffff800000000000  +-----------------------------+  SOLO_DIRECT_MAP_BASE
 *                       | direct map of physical RAM  |  NX, global
 *   0xffffc00000000000  +-----------------------------+  VM_KERNEL_RANGES_BASE
 *                       | kernel virtual ranges       |  (valloc; MMIO, stacks)
 *   0xffffffff80000000  +-----------------------------+  kernel image (-2 GiB)
 *                       | text RX, rodata R, data RW  |
 *                       +-----------------------------+
 *
 * Every user context shares the kernel half (PML4 entries 256..511) with
 * the kernel context by pointing at the same lower-level tables, so the kernel
 * must create every kernel-half PML4 entry before the first user context
 * exists (vm_kernel_reserve_top_level() at boot); vm_map panics otherwise.
 *
 * Locking: none; Solo runs the kernel on one CPU with interrupts off.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/phys.h"

#define VM_WRITE	   (1u << 0)
#define VM_EXEC		   (1u << 1)
#define VM_USER		   (1u << 2)
#define VM_GLOBAL	   (1u << 3)
#define VM_UNCACHED	   (1u << 4) /* strong uncacheable: device registers */
#define VM_WRITE_COMBINING (1u << 5) /* framebuffers */
#define VM_LARGE	   (1u << 6) /* lookup: the mapping is a 2 MiB page */

#define VM_USER_TOP	      0x0000800000000000ull
#define VM_KERNEL_HALF	      0xffff800000000000ull
#define VM_KERNEL_RANGES_BASE 0xffffc00000000000ull
#define VM_KERNEL_RANGES_SIZE (1ull << 39) /* one PML4 entry: 512 GiB */
#define VM_LARGE_PAGE_SIZE    (2ull << 20)

struct vm_ctx {
	paddr_t root; /* physical address of the PML4 */
};

/* Fresh kernel context: an empty PML4. Returns 0 or -ENOMEM. */
int vm_ctx_init_kernel(struct vm_ctx *ctx);
/* Pre-creates the kernel-half PML4 entry covering va (so later user
 * contexts share it). Returns 0 or -ENOMEM. */
int vm_kernel_reserve_top_level(struct vm_ctx *kernel, vaddr_t va);
/* Marks the kernel half complete: from now on vm_map panics if it would
 * need a new kernel-half PML4 entry. */
void vm_kernel_freeze_top_level(void);
/* Fresh user context sharing kernel's upper half. Returns 0 or -ENOMEM. */
int vm_ctx_init_user(struct vm_ctx *ctx, const struct vm_ctx *kernel);
/* Frees every lower-half page table of a user context and, when
 * free_frames is set, every physical page mapped there (pfree(pa, 1)).
 * The context must not be active. */
void vm_ctx_destroy_user(struct vm_ctx *ctx, int free_frames);

/* Maps the 4 KiB page at va to pa. Returns 0, -ENOMEM (no page for a table),
 * or -EEXIST when va is already mapped (nothing changes). va and pa must be
 * page aligned (panic otherwise: a caller bug). */
int vm_map(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags);
/* Same for one 2 MiB page; va and pa 2 MiB aligned. */
int vm_map_large(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, unsigned flags);
/* Maps [va, va + size) to [pa, pa + size) with 2 MiB pages where both are
 * aligned and 4 KiB pages elsewhere. size is a page multiple. On failure the
 * part already mapped stays mapped; returns the first error. */
int vm_map_range(struct vm_ctx *ctx, vaddr_t va, paddr_t pa, uint64_t size, unsigned flags);
/* Removes the 4 KiB mapping at va; *pa_out gets the frame (not freed).
 * Empty tables below the PML4 are freed. Returns 0 or -ENOENT. */
int vm_unmap(struct vm_ctx *ctx, vaddr_t va, paddr_t *pa_out);
/* Looks up va: physical address of that byte and VM_* flags. No side
 * effects. Returns 0 or -ENOENT. Either out pointer may be NULL. */
int vm_lookup(const struct vm_ctx *ctx, vaddr_t va, paddr_t *pa, unsigned *flags);
/* Changes the flags of the 4 KiB mapping at va. Returns 0 or -ENOENT. */
int vm_protect(struct vm_ctx *ctx, vaddr_t va, unsigned flags);

/*
 * Copies between kernel memory and the user range of ctx through the direct
 * map, checking that every page is mapped with VM_USER (and VM_WRITE for
 * copy_to). Returns 0 or -EFAULT (nothing is guaranteed about partial
 * copies). Works whichever context is active.
 */
int vm_copy_to_user(const struct vm_ctx *ctx, vaddr_t dst, const void *src, size_t len);
int vm_copy_from_user(const struct vm_ctx *ctx, void *dst, vaddr_t src, size_t len);
/* Copies a NUL-terminated string of at most max bytes (including the NUL).
 * Returns its length, -EFAULT, or -ENAMETOOLONG when no NUL within max. */
long vm_copy_string_from_user(const struct vm_ctx *ctx, char *dst, vaddr_t src, size_t max);

/* Copies len bytes to va in ctx whatever the page permissions are (the
 * loader filling read-only segments). Returns 0 or -EFAULT when a page
 * is not mapped. */
int vm_copy_to_mapped(const struct vm_ctx *ctx, vaddr_t va, const void *src, size_t len);

/* Prints the mappings of [start, end) in the Xous page-table-view style. */
void vm_dump(const struct vm_ctx *ctx, vaddr_t start, vaddr_t end);
