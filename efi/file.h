/*
 * Reading whole files from the volume the stub was loaded from (the ESP),
 * each into its own page-aligned EfiLoaderData block, so the kernel can use
 * the bytes in place. Boot services only.
 */
#pragma once

#include <efi.h>

struct file_buf {
	EFI_PHYSICAL_ADDRESS phys; /* page aligned; at least one page even if empty */
	UINT64 size;		   /* bytes read, = the file's size */
};

/*
 * file_open_volume - open the root directory of the stub's own volume
 * (LoadedImage->DeviceHandle). Prints why on failure.
 */
EFI_STATUS file_open_volume(EFI_HANDLE image, EFI_FILE_HANDLE *root);

/*
 * file_load - read the file at path (e.g. L"\\kernel.elf") into fresh pages.
 * Returns EFI_SUCCESS; EFI_NOT_FOUND without printing anything (the caller
 * knows whether the file was optional); any other error after printing why.
 * The pages are tracked by alloc.c.
 */
EFI_STATUS file_load(EFI_FILE_HANDLE root, CHAR16 *path, struct file_buf *out);
