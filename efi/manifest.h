/*
 * The stub's side of the signed-image manifest (include/solo/manifest.h):
 * whether a file it loaded is the one that was signed. Portable C (no
 * firmware types): the host unit tests run it as the stub does.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <solo/manifest.h>

/*
 * manifest_check - m's verdict on the file name ("boot.cfg") that the stub
 * found with size bytes at data, or did not find (data NULL). Returns NULL
 * when the file may be used: m is not armed, or m lists name as present
 * with this size and SHA-256, or as absent and it is absent. Otherwise a
 * static sentence saying why not (m malformed, name not listed, missing,
 * there but listed absent, or different bytes). Hashes the whole file
 * (about 5 ns per byte on a PC's CPU, far more under emulation).
 */
const char *manifest_check(const struct solo_manifest *m, const char *name, const void *data,
			   uint64_t size);
