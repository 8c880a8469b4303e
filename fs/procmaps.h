/*
 * procmaps - the text of /proc/self/maps: one line per mapping of the app's
 * address space, in Linux's exact format, which glibc
 * (pthread_getattr_np of the main thread), Python and many runtimes parse:
 *
 *   start-end perms offset major:minor inode<pad to column 74>name
 *
 * addresses and the offset in at least 8 lowercase hex digits, perms "rwxp"
 * or "s" for shared, the name (when there is one) starting in column 74,
 * and a line without a name ending in "inode ". Names: the program's path
 * for its image, the interpreter's for its own (a dynamically linked
 * program's ld.so), the file's path for a file mapping, [heap], [stack],
 * [vdso] and [vvar] (the read-only pages right below the vDSO).
 * An image region is listed as runs of pages with the same permissions
 * (Linux's text, rodata and data mappings); its offset is the page's
 * distance from the image's first page, the file offset of a PIE.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct aspace;

struct procmaps_names {
	const char *image;    /* the program's path (what /proc/self/exe reads) */
	uint64_t vdso;	      /* AT_SYSINFO_EHDR, or 0 */
	const char *interp;   /* the interpreter's path (PT_INTERP), or NULL */
	uint64_t interp_base; /* AT_BASE: the image holding it is the interpreter's */
};

/*
 * procmaps_text - the maps of as into buf (size bytes, NUL-terminated).
 * Returns the length of the whole text; when that is size or more, buf
 * holds only its beginning (call again with a larger buf, as snprintf).
 * Reads the page tables; changes nothing. Does not block.
 */
long procmaps_text(const struct aspace *as, const struct procmaps_names *names, char *buf,
		   size_t size);
