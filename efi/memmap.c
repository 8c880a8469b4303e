/*
 * Firmware memory map -> struct solo_mem_region[] (see memmap.h).
 *
 * Firmware maps are usually sorted but the specification does not promise
 * it, so memmap_convert() visits descriptors in (base, index) order by
 * selection: quadratic, but maps have a few hundred entries, and it needs
 * neither scratch memory nor changes to the firmware's buffer. Merging
 * happens on the fly, so the output never holds more regions than needed.
 */
#include "memmap.h"

#define PAGE_SHIFT 12

/* EFI_MEMORY_TYPE values newer than gnu-efi 3.0.15's enum. */
#define EFI_PERSISTENT_MEMORY 14

static uint32_t memmap_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
		return SOLO_MEM_USABLE;
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return SOLO_MEM_BOOT_SERVICES;
	case EfiLoaderCode:
	case EfiLoaderData:
		return SOLO_MEM_LOADER;
	case EfiACPIReclaimMemory:
		return SOLO_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return SOLO_MEM_ACPI_NVS;
	case EfiRuntimeServicesCode:
		return SOLO_MEM_RUNTIME_CODE;
	case EfiRuntimeServicesData:
		return SOLO_MEM_RUNTIME_DATA;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace:
		return SOLO_MEM_MMIO;
	case EfiUnusableMemory:
		return SOLO_MEM_UNUSABLE;
	case EFI_PERSISTENT_MEMORY:
		return SOLO_MEM_PERSISTENT;
	default:
		/* Reserved, PalCode, unaccepted and types from future specs. */
		return SOLO_MEM_RESERVED;
	}
}

int memmap_is_ram(UINT32 efi_type)
{
	return efi_type != EfiReservedMemoryType && efi_type != EfiMemoryMappedIO &&
	       efi_type != EfiMemoryMappedIOPortSpace;
}

UINT64 memmap_ram_end(const void *map, UINTN map_size, UINTN desc_size)
{
	UINT64 end = 0;

	for (UINTN i = 0; i < map_size / desc_size; i++) {
		const EFI_MEMORY_DESCRIPTOR *d = memmap_desc(map, desc_size, i);
		UINT64 e = d->PhysicalStart + (d->NumberOfPages << PAGE_SHIFT);

		if (memmap_is_ram(d->Type) && e > end)
			end = e;
	}
	return end;
}

/* Is descriptor (base, i) strictly after (last_base, last_i)? */
static int after(UINT64 base, UINTN i, UINT64 last_base, UINTN last_i)
{
	return base > last_base || (base == last_base && i > last_i);
}

uint32_t memmap_convert(const void *map, UINTN map_size, UINTN desc_size,
			struct solo_mem_region *out, uint32_t cap)
{
	UINTN n = map_size / desc_size, last_i = 0;
	UINT64 last_base = 0;
	uint32_t count = 0;
	int started = 0;

	for (UINTN k = 0; k < n; k++) {
		const EFI_MEMORY_DESCRIPTOR *d = NULL;
		struct solo_mem_region *prev = count ? &out[count - 1] : NULL;
		UINTN pick = 0;
		uint32_t type;

		/* The next descriptor in (base, index) order. */
		for (UINTN i = 0; i < n; i++) {
			const EFI_MEMORY_DESCRIPTOR *c = memmap_desc(map, desc_size, i);

			if (started && !after(c->PhysicalStart, i, last_base, last_i))
				continue;
			if (!d || c->PhysicalStart < d->PhysicalStart) {
				d = c;
				pick = i;
			}
		}
		started = 1;
		last_base = d->PhysicalStart;
		last_i = pick;

		if (d->NumberOfPages == 0)
			continue;
		type = memmap_type(d->Type);
		if (prev && prev->type == type && prev->efi_attribute == d->Attribute &&
		    prev->base + (prev->npages << PAGE_SHIFT) == d->PhysicalStart) {
			prev->npages += d->NumberOfPages;
			continue;
		}
		if (count == cap)
			break;
		out[count].base = d->PhysicalStart;
		out[count].npages = d->NumberOfPages;
		out[count].type = type;
		out[count].reserved = 0;
		out[count].efi_attribute = d->Attribute;
		count++;
	}
	return count;
}
