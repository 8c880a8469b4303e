/*
 * Tracked page allocations (see alloc.h). A fixed table is enough: the stub
 * makes about ten allocations, and a table avoids a goto label per
 * allocation across several files, which is what the house style would
 * otherwise ask for.
 */
#include "alloc.h"

#include <efilib.h>

#define ALLOC_MAX 32

static struct {
	EFI_PHYSICAL_ADDRESS addr;
	UINTN npages;
} blocks[ALLOC_MAX];
static unsigned nblocks;

EFI_STATUS alloc_pages(EFI_MEMORY_TYPE type, UINT64 size, unsigned flags, const char *what,
		       EFI_PHYSICAL_ADDRESS *out)
{
	UINTN npages = alloc_npages(size);
	EFI_PHYSICAL_ADDRESS addr = 0;
	EFI_STATUS status;

	if (nblocks == ALLOC_MAX) {
		Print(L"solo: stub bug: too many allocations (%a)\n", what);
		return EFI_OUT_OF_RESOURCES;
	}
	status = BS->AllocatePages(AllocateAnyPages, type, npages, &addr);
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot allocate %ld KiB for %a: %r\n", (UINT64)npages * 4, what,
		      status);
		return status;
	}
	if (flags & ALLOC_ZERO)
		ZeroMem((void *)(UINTN)addr, npages * EFI_PAGE_SIZE);
	blocks[nblocks].addr = addr;
	blocks[nblocks].npages = npages;
	nblocks++;
	*out = addr;
	return EFI_SUCCESS;
}

void alloc_free(EFI_PHYSICAL_ADDRESS addr)
{
	for (unsigned i = 0; i < nblocks; i++) {
		if (blocks[i].addr != addr)
			continue;
		BS->FreePages(addr, blocks[i].npages);
		/* Keep the table in allocation order for alloc_free_all(). */
		for (nblocks--; i < nblocks; i++)
			blocks[i] = blocks[i + 1];
		return;
	}
}

void alloc_free_all(void)
{
	while (nblocks > 0) {
		nblocks--;
		BS->FreePages(blocks[nblocks].addr, blocks[nblocks].npages);
	}
}
