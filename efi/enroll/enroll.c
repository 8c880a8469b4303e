/*
 * enroll.efi - puts your own Secure Boot keys into a firmware that is in
 * setup mode (no platform key): tools/keys.sh --enroll-image writes it as
 * \EFI\BOOT\BOOTX64.EFI of a small FAT image with \keys\db.auth, KEK.auth
 * and PK.auth beside it. Booted on a PC whose keys were cleared in firmware
 * setup (or under QEMU with blank OVMF variables: keys.sh --ovmf-vars), it
 * enrolls db, then KEK, then PK (the PK write ends setup mode: Secure Boot
 * is then on at the next boot), prints "enroll: done" and resets the
 * machine. Each .auth is an authenticated write signed by the key above it,
 * so the firmware checks every one. Any failure is printed and stops the
 * enrollment before PK, leaving the firmware in setup mode; it then waits
 * for a key press (or 30 s) and returns to the firmware.
 *
 * The same file loading as the stub (efi/file.c, efi/alloc.c).
 */
#include <efi.h>
#include <efilib.h>

#include "efi/alloc.h"
#include "efi/file.h"

#define WAIT_US 30000000 /* 30 s to read a failure */

/* UEFI 2.x: db lives under the image security database GUID, PK and KEK
 * under the global variable GUID. */
static EFI_GUID image_security_guid = {
    0xd719b2cb, 0x3d3a, 0x4596, {0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f}};
static EFI_GUID global_guid = EFI_GLOBAL_VARIABLE;

#define AUTH_WRITE_ATTRS                                                                           \
	(EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |                             \
	 EFI_VARIABLE_RUNTIME_ACCESS | EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS)

struct key_var {
	CHAR16 *name;
	EFI_GUID *guid;
	CHAR16 *path;
};

/* PK last: writing it leaves setup mode, after which db and KEK could only
 * be changed with KEK- and PK-signed updates. */
static const struct key_var key_vars[] = {
    {L"db", &image_security_guid, L"\\keys\\db.auth"},
    {L"KEK", &global_guid, L"\\keys\\KEK.auth"},
    {L"PK", &global_guid, L"\\keys\\PK.auth"},
};

static int setup_mode(void)
{
	UINT8 mode = 0;
	UINTN size = sizeof(mode);

	if (EFI_ERROR(RT->GetVariable(L"SetupMode", &global_guid, NULL, &size, &mode)))
		return -1;
	return mode;
}

static EFI_STATUS enroll_all(EFI_HANDLE image)
{
	EFI_FILE_HANDLE root;
	EFI_STATUS status;

	int mode = setup_mode();
	if (mode != 1) {
		Print(L"enroll: the firmware is %a; clear its Secure Boot keys in its setup "
		      L"(\"reset to setup mode\", \"delete all keys\") and boot this again\n",
		      mode == 0 ? "not in setup mode (it has a platform key)"
				: "without Secure Boot variables");
		return EFI_ACCESS_DENIED;
	}
	status = file_open_volume(image, &root);
	if (EFI_ERROR(status))
		return status;
	for (unsigned i = 0; i < sizeof(key_vars) / sizeof(key_vars[0]); i++) {
		const struct key_var *k = &key_vars[i];
		struct file_buf f;

		status = file_load(root, k->path, &f);
		if (status == EFI_NOT_FOUND)
			Print(L"enroll: %s not found on this volume\n", k->path);
		if (EFI_ERROR(status))
			break;
		status = RT->SetVariable(k->name, k->guid, AUTH_WRITE_ATTRS, f.size,
					 (void *)(UINTN)f.phys);
		alloc_free(f.phys);
		if (EFI_ERROR(status)) {
			Print(L"enroll: the firmware refused %s from %s: %r\n", k->name, k->path,
			      status);
			break;
		}
		Print(L"enroll: %s enrolled from %s\n", k->name, k->path);
	}
	root->Close(root);
	return status;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	Print(L"enroll: Solo's key enrollment: db, KEK, then PK\n");
	EFI_STATUS status = enroll_all(image);
	if (!EFI_ERROR(status)) {
		Print(L"enroll: done; Secure Boot is on from the next boot (setup mode %d)\n",
		      setup_mode());
		BS->Stall(2000000);
		RT->ResetSystem(EfiResetCold, EFI_SUCCESS, 0, NULL);
	}
	alloc_free_all();
	Print(L"enroll: failed; nothing more was written\n");
	BS->Stall(WAIT_US);
	return status;
}
