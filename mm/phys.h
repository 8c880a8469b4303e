/*
 * Physical addresses, pages and the direct map.
 *
 * The kernel maps all physical memory once, read/write and NX, at
 * mm_direct_map_offset (0xffff800000000000 in the kernel). Every allocator in
 * mm/ touches physical memory only through phys_to_virt(), never through an
 * identity mapping, so host tests can point the "direct map" at an aligned
 * arena: physical address p is then byte p of the arena.
 *
 *   physical p  <----->  virtual p + mm_direct_map_offset
 */
#pragma once

#include <stdint.h>

typedef uint64_t paddr_t; /* a physical address; 0 doubles as "no page" */
typedef uint64_t vaddr_t; /* a virtual address */

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096UL

_Static_assert(PAGE_SIZE == 1UL << PAGE_SHIFT, "PAGE_SIZE and PAGE_SHIFT disagree");

/*
 * Virtual address of physical address 0 in the direct map. Set by the kernel
 * (0xffff800000000000) before palloc_init(); host tests set it so that fake
 * physical addresses land in their arena. Defined in mm/palloc.c.
 */
extern uintptr_t mm_direct_map_offset;

/* phys_to_virt - the direct-map address of physical address p. No checks. */
static inline void *phys_to_virt(paddr_t p)
{
	return (void *)(uintptr_t)(p + mm_direct_map_offset);
}

/*
 * virt_to_phys_direct - the physical address behind a direct-map address.
 * Only valid for pointers into the direct map (what phys_to_virt() and
 * kmalloc() return), not for the kernel image or other mappings.
 */
static inline paddr_t virt_to_phys_direct(const void *v)
{
	return (paddr_t)((uintptr_t)v - mm_direct_map_offset);
}
