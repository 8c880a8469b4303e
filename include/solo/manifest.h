/*
 * The signed-image manifest: mkimg -> stub.
 *
 * BOOTX64.EFI carries one struct solo_manifest in its data, unarmed. For a
 * signed image, `tools/mkimg.sh --sign` has build/tools/solo-manifest find
 * it by its magic (it occurs exactly once in the file), write the SHA-256 of
 * each file the stub will load and set armed, and only then signs the stub
 * with sbsign. The firmware checks the signature, so the hashes are as
 * trusted as the stub; the stub refuses any file whose bytes differ, any
 * listed file that is missing, and any file it would load that is listed
 * as absent. An unarmed manifest (every unsigned image) checks nothing.
 *
 * Fixed-width fields, little endian, no pointers (the stub's relocations
 * must never touch it); the layout is pinned below: change it only with a
 * new magic.
 */
#pragma once

#include <stdint.h>

#define SOLO_MANIFEST_MAGIC	 "SoloManifest-v1" /* 15 characters and the NUL */
#define SOLO_MANIFEST_MAGIC_SIZE 16
#define SOLO_MANIFEST_FILES	 4
#define SOLO_MANIFEST_NAME_SIZE	 16

struct solo_manifest_file {
	char name[SOLO_MANIFEST_NAME_SIZE]; /* "kernel.elf": the ESP root's file, NUL-padded */
	uint32_t present;		    /* 1: must exist with this hash; 0: must not exist */
	uint32_t reserved;		    /* 0 */
	uint64_t size;			    /* bytes, when present */
	uint8_t sha256[32];		    /* when present */
};

struct solo_manifest {
	char magic[SOLO_MANIFEST_MAGIC_SIZE];
	uint32_t armed; /* 0: not signed, nothing is checked; 1: check every file */
	uint32_t count; /* entries used in files[], <= SOLO_MANIFEST_FILES */
	struct solo_manifest_file files[SOLO_MANIFEST_FILES];
};

_Static_assert(sizeof(struct solo_manifest_file) == 64, "manifest entry layout");
_Static_assert(sizeof(struct solo_manifest) == 24 + 4 * 64, "manifest layout");
