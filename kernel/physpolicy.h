/*
 * What map_memory(phys, ...) may give the app: the kernel's policy over
 * physical addresses, kept apart from the boot sequence so it is tested on
 * the host.
 *
 * An app may map RAM that palloc manages (claimed only while free) and
 * device memory that no part of the kernel uses. It may never map firmware,
 * ACPI or reserved memory, memory the firmware's map marks as anything else,
 * or a range the kernel has declared its own with physpolicy_keep: the
 * framebuffer, the local APIC and I/O APIC registers, the PCI configuration
 * window (ECAM: from it any device could be reprogrammed, bus mastering
 * included) and the BARs of devices a kernel driver runs. The interrupt
 * address range 0xfee00000-0xfeefffff is always kept: a write there is an
 * interrupt message.
 *
 * Not a defence against DMA: a device the app drives itself (one no kernel
 * driver claimed) may still be a bus master if the firmware left it so, and
 * with no IOMMU in use its DMA reaches all of memory (docs/security.md).
 *
 * Boot-time setup (physpolicy_set_memmap, physpolicy_keep) happens before
 * the app starts; physpolicy_classify is then read-only. One CPU; no locks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <solo/bootinfo.h>
#include "mm/aspace.h"

/* How many ranges physpolicy_keep holds; past that every device mapping is
 * refused (the policy fails closed). */
#define PHYSPOLICY_MAX_KEPT 64

/* The firmware's memory map (count entries, borrowed: must outlive the
 * policy). Replaces any earlier one. */
void physpolicy_set_memmap(const struct solo_mem_region *memmap, unsigned count);

/*
 * physpolicy_keep - declares [base, base + size) (bytes, physical) the
 * kernel's: the app may never map any part of it. what names the range in
 * the error line printed when the table is full. size 0 is ignored; a range that wraps
 * is kept up to the top of the physical space. Returns 0, or -ENOMEM when
 * the table is full (then every later device mapping is refused).
 */
int physpolicy_keep(uint64_t base, uint64_t size, const char *what);

/*
 * physpolicy_classify - the class of [phys, phys + npages pages): RAM (every
 * byte usable, boot-services or loader memory in the map), DEVICE (every byte
 * MMIO or not described, none kept), else FORBIDDEN (any byte of another
 * type, kept, or a mix of RAM and device). The range must not wrap (aspace_map
 * checks). The signature is aspace_phys_policy_fn's.
 */
enum aspace_phys_class physpolicy_classify(paddr_t phys, size_t npages);

/* Forgets the memory map and every kept range (for the host tests). */
void physpolicy_reset(void);
