/*
 * File loading from the boot volume (see file.h). The size comes from
 * EFI_FILE_INFO; reading is done in bounded chunks because some firmware
 * file-system drivers fail on very large single reads.
 */
#include "file.h"

#include <efilib.h>

#include "alloc.h"

#define READ_CHUNK (16ull << 20)

EFI_STATUS file_open_volume(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
	EFI_LOADED_IMAGE *li = NULL;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_STATUS status;

	status = BS->HandleProtocol(image, &gEfiLoadedImageProtocolGuid, (void **)&li);
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot get the stub's LoadedImage protocol: %r\n", status);
		return status;
	}
	status =
	    BS->HandleProtocol(li->DeviceHandle, &gEfiSimpleFileSystemProtocolGuid, (void **)&fs);
	if (EFI_ERROR(status)) {
		Print(L"solo: the boot device has no file system (SimpleFileSystem): %r\n", status);
		return status;
	}
	status = fs->OpenVolume(fs, root);
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot open the boot volume: %r\n", status);
		return status;
	}
	return EFI_SUCCESS;
}

/* The file's size from EFI_FILE_INFO, whose length depends on the name. */
static EFI_STATUS file_info(EFI_FILE_HANDLE fh, CHAR16 *path, UINT64 *size, UINT64 *attr)
{
	EFI_FILE_INFO *info;
	UINTN len = 0;
	EFI_STATUS status;

	status = fh->GetInfo(fh, &gEfiFileInfoGuid, &len, NULL);
	if (status != EFI_BUFFER_TOO_SMALL) {
		Print(L"solo: cannot get the size of %s: %r\n", path,
		      EFI_ERROR(status) ? status : EFI_PROTOCOL_ERROR);
		return EFI_ERROR(status) ? status : EFI_PROTOCOL_ERROR;
	}
	info = AllocatePool(len);
	if (!info) {
		Print(L"solo: out of memory reading the size of %s\n", path);
		return EFI_OUT_OF_RESOURCES;
	}
	status = fh->GetInfo(fh, &gEfiFileInfoGuid, &len, info);
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot get the size of %s: %r\n", path, status);
	} else {
		*size = info->FileSize;
		*attr = info->Attribute;
	}
	FreePool(info);
	return status;
}

static EFI_STATUS file_read(EFI_FILE_HANDLE fh, CHAR16 *path, UINT8 *buf, UINT64 size)
{
	UINT64 done = 0;
	EFI_STATUS status;

	while (done < size) {
		UINTN n = size - done > READ_CHUNK ? READ_CHUNK : size - done;

		status = fh->Read(fh, &n, buf + done);
		if (EFI_ERROR(status)) {
			Print(L"solo: cannot read %s: %r\n", path, status);
			return status;
		}
		if (n == 0) {
			Print(L"solo: %s is shorter than its directory entry says "
			      L"(%ld of %ld bytes)\n",
			      path, done, size);
			return EFI_END_OF_FILE;
		}
		done += n;
	}
	return EFI_SUCCESS;
}

EFI_STATUS file_load(EFI_FILE_HANDLE root, CHAR16 *path, struct file_buf *out)
{
	EFI_FILE_HANDLE fh;
	EFI_PHYSICAL_ADDRESS phys;
	UINT64 size = 0, attr = 0;
	EFI_STATUS status;
	char what[64];
	unsigned i;

	status = root->Open(root, &fh, path, EFI_FILE_MODE_READ, 0);
	if (status == EFI_NOT_FOUND)
		return status;
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot open %s: %r\n", path, status);
		return status;
	}
	status = file_info(fh, path, &size, &attr);
	if (EFI_ERROR(status))
		goto close;
	if (attr & EFI_FILE_DIRECTORY) {
		Print(L"solo: %s is a directory, not a file\n", path);
		status = EFI_INVALID_PARAMETER;
		goto close;
	}

	/* The allocation message names the file: ASCII copy of the path. */
	for (i = 0; path[i] && i < sizeof(what) - 1; i++)
		what[i] = path[i] < 0x80 ? (char)path[i] : '?';
	what[i] = '\0';
	status = alloc_pages(EfiLoaderData, size, 0, what, &phys);
	if (EFI_ERROR(status))
		goto close;

	status = file_read(fh, path, (UINT8 *)(UINTN)phys, size);
	if (EFI_ERROR(status)) {
		alloc_free(phys);
		goto close;
	}
	/* A clean tail: text modules end in NULs, and no stale data leaks. */
	ZeroMem((UINT8 *)(UINTN)phys + size, alloc_npages(size) * EFI_PAGE_SIZE - size);
	out->phys = phys;
	out->size = size;
close:
	fh->Close(fh);
	return status;
}
