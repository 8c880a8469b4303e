/*
 * solo-manifest - arm the signed-image manifest in a copy of the UEFI stub
 * (include/solo/manifest.h), before tools/mkimg.sh --sign signs it.
 *
 *   solo-manifest IN.efi OUT.efi NAME=PATH...   NAME=PATH: the file the stub
 *                                               will find as \NAME has PATH's
 *                                               bytes; NAME= : it must be absent
 *
 * The hashes are computed with the stub's own SHA-256 (efi/sha256.c). IN's
 * manifest must occur exactly once and be unarmed. Exit 0 after writing
 * OUT; 1 with "solo-manifest: reason" on stderr; 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efi/sha256.h"
#include <solo/manifest.h>

#define MAX_INPUT (1ull << 32) /* the stub is ~100 KiB; files up to 4 GiB */

static void usage(FILE *to)
{
	fputs("usage: solo-manifest IN.efi OUT.efi NAME=PATH|NAME= ...\n"
	      "Writes the SHA-256 of each file into OUT, a copy of the stub IN, and arms its\n"
	      "manifest (NAME= : the file must be absent). At most 4 names, 15 bytes each.\n",
	      to);
}

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "solo-manifest: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* Reads path whole; NULL (and errno) on failure. */
static unsigned char *read_all(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, len = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			if (cap > MAX_INPUT) {
				errno = EFBIG;
				break;
			}
			unsigned char *more = realloc(buf, cap);
			if (!more)
				break;
			buf = more;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				break;
			fclose(f);
			*size = len;
			return buf ? buf : malloc(1);
		}
	}
	int saved = errno;
	fclose(f);
	free(buf);
	errno = saved;
	return NULL;
}

/* Hashes path into entry; returns 0 or 1 after printing why. */
static int hash_file(const char *path, struct solo_manifest_file *entry)
{
	struct sha256 ctx;
	unsigned char buf[1 << 16];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return fail("%s: %s", path, strerror(errno));
	sha256_init(&ctx);
	entry->size = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		sha256_update(&ctx, buf, n);
		entry->size += n;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return fail("%s: %s", path, "read error");
	sha256_final(&ctx, entry->sha256);
	entry->present = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct solo_manifest m = {.magic = SOLO_MANIFEST_MAGIC, .armed = 1};
	size_t size;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 4 || argc - 3 > SOLO_MANIFEST_FILES) {
		usage(stderr);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t name_len = eq ? (size_t)(eq - argv[i]) : 0;
		struct solo_manifest_file *entry = &m.files[m.count++];

		if (!eq || name_len == 0 || name_len >= SOLO_MANIFEST_NAME_SIZE ||
		    memchr(argv[i], '/', name_len) || memchr(argv[i], '\\', name_len)) {
			fprintf(stderr, "solo-manifest: bad NAME=PATH: '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		memcpy(entry->name, argv[i], name_len);
		for (int j = 3; j < i; j++) {
			if (!strncmp(m.files[j - 3].name, entry->name, SOLO_MANIFEST_NAME_SIZE))
				return fail("%s named twice%s", entry->name, "");
		}
		if (eq[1] && hash_file(eq + 1, entry))
			return 1;
	}

	unsigned char *stub = read_all(argv[1], &size);
	if (!stub)
		return fail("%s: %s", argv[1], strerror(errno));
	unsigned char *at = NULL;
	for (size_t off = 0; off + sizeof(m) <= size; off++) {
		if (!memcmp(stub + off, SOLO_MANIFEST_MAGIC, SOLO_MANIFEST_MAGIC_SIZE)) {
			if (at)
				return fail("%s: the manifest's magic occurs twice%s", argv[1], "");
			at = stub + off;
		}
	}
	if (!at)
		return fail("%s: no manifest (not a Solo stub, or an old one)%s", argv[1], "");
	struct solo_manifest old;
	memcpy(&old, at, sizeof(old));
	if (old.armed)
		return fail("%s: its manifest is armed already (a signed stub)%s", argv[1], "");
	memcpy(at, &m, sizeof(m));

	FILE *out = fopen(argv[2], "wb");
	if (!out)
		return fail("%s: %s", argv[2], strerror(errno));
	if (fwrite(stub, 1, size, out) != size || fclose(out))
		return fail("%s: %s", argv[2], "write error");
	free(stub);
	return 0;
}
