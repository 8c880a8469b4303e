/*
 * Reading the firmware memory map. Descriptors are walked by the
 * DescriptorSize the firmware returned, never by sizeof(EFI_MEMORY_DESCRIPTOR):
 * newer firmware appends fields. Nothing here calls the firmware, so
 * memmap_convert() is safe after ExitBootServices.
 */
#pragma once

#include <efi.h>
#include <solo/bootinfo.h>

/* memmap_desc - descriptor i of a map whose descriptors are desc_size apart. */
static inline const EFI_MEMORY_DESCRIPTOR *memmap_desc(const void *map, UINTN desc_size, UINTN i)
{
	return (const EFI_MEMORY_DESCRIPTOR *)((const UINT8 *)map + i * desc_size);
}

/*
 * memmap_is_ram - does a descriptor of this type describe memory (as opposed
 * to MMIO, port space or reserved address space, which may sit far above RAM)?
 */
int memmap_is_ram(UINT32 efi_type);

/* memmap_ram_end - the end address of the highest RAM descriptor (0 if none). */
UINT64 memmap_ram_end(const void *map, UINTN map_size, UINTN desc_size);

/*
 * memmap_convert - translate the firmware map into at most cap Solo regions,
 * sorted by base, with adjacent regions of the same type and attribute merged.
 * Empty descriptors are dropped. Returns the number of regions written; if
 * the map would need more than cap, the highest regions are left out.
 */
uint32_t memmap_convert(const void *map, UINTN map_size, UINTN desc_size,
			struct solo_mem_region *out, uint32_t cap);
