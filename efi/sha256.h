/*
 * SHA-256 (FIPS 180-4), for the stub's check of a signed image's files.
 * Portable C with no dependencies: the same file is built into the stub
 * and into the host unit tests, which compare it with known answers and
 * with sha256sum.
 *
 * Use: sha256_init, sha256_update any number of times (any lengths),
 * sha256_final. Or sha256() for one buffer. Never fails, never allocates.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

struct sha256 {
	uint32_t state[8];
	uint64_t length;      /* bytes hashed so far */
	uint8_t block[64];    /* the partial block */
	unsigned block_bytes; /* bytes in block, < 64 */
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t size);
/* Writes the digest into out and leaves ctx unusable until sha256_init. */
void sha256_final(struct sha256 *ctx, uint8_t out[SHA256_BYTES]);
void sha256(const void *data, size_t size, uint8_t out[SHA256_BYTES]);
