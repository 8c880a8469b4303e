/*
 * Page allocations of the UEFI stub, remembered so that a failed boot can
 * hand them all back before returning to the firmware (the boot manager may
 * try the next boot option, and it should find the memory it lent us).
 *
 * Every block is whole 4 KiB pages from AllocatePages(AllocateAnyPages):
 * anywhere in physical memory, possibly above 4 GiB. Boot services only.
 */
#pragma once

#include <efi.h>

#define ALLOC_ZERO 0x1 /* clear the block before returning it */

/*
 * alloc_pages - allocate size bytes (rounded up to pages, at least one page)
 * of memory type type. what names the block in the error message printed on
 * failure. Returns EFI_SUCCESS and the physical address in *out, or the
 * firmware's status.
 */
EFI_STATUS alloc_pages(EFI_MEMORY_TYPE type, UINT64 size, unsigned flags, const char *what,
		       EFI_PHYSICAL_ADDRESS *out);

/* alloc_free - give back one block from alloc_pages() early (e.g. a buffer). */
void alloc_free(EFI_PHYSICAL_ADDRESS addr);

/* alloc_free_all - give back every block still held, newest first. */
void alloc_free_all(void);

/* Bytes rounded up to whole 4 KiB pages. */
static inline UINT64 alloc_npages(UINT64 size)
{
	return size ? (size + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE : 1;
}
