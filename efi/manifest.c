/*
 * Checking a loaded file against the signed manifest. The manifest came
 * in the signed stub, so it is trusted; the file came from a FAT volume
 * anyone could have edited, so every answer but an exact match is "no".
 */
#include "efi/manifest.h"

#include "efi/sha256.h"

static int same_name(const char *listed, const char *name)
{
	unsigned i = 0;

	for (; i < SOLO_MANIFEST_NAME_SIZE && name[i]; i++) {
		if (listed[i] != name[i])
			return 0;
	}
	return i < SOLO_MANIFEST_NAME_SIZE && listed[i] == '\0';
}

/* Compares all 32 bytes whatever the first difference: the stub has no
 * secret here, but there is no reason to be quicker on a mismatch. */
static int same_digest(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (unsigned i = 0; i < SHA256_BYTES; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

const char *manifest_check(const struct solo_manifest *m, const char *name, const void *data,
			   uint64_t size)
{
	if (!m->armed)
		return NULL;
	if (m->armed != 1 || m->count > SOLO_MANIFEST_FILES)
		return "the signed manifest is malformed";
	for (uint32_t i = 0; i < m->count; i++) {
		const struct solo_manifest_file *f = &m->files[i];
		if (!same_name(f->name, name))
			continue;
		if (!f->present)
			return data ? "it is not part of the signed image" : NULL;
		if (!data)
			return "it is part of the signed image but missing";
		if (f->size != size)
			return "its size differs from the signed image's";
		uint8_t digest[SHA256_BYTES];
		sha256(data, (size_t)size, digest);
		return same_digest(digest, f->sha256)
			   ? NULL
			   : "its SHA-256 differs from the signed image's";
	}
	return "the signed manifest does not list it";
}
