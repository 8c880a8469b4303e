/*
 * The kernel's own function symbols, for readable panic reports.
 *
 * The table is generated at build time: tools/mksyms turns `nm -n -S` of a
 * first link into a C file (build/gen/<image>.ksyms.c) that the second link
 * adds. The table is read-only data, placed after all text, so adding it
 * moves no function; the Makefile checks that the second link's symbols
 * give the same table.
 */
#pragma once

#include <stdint.h>

/* One function: [ksym_base + offset, + size). Sorted by offset, no overlaps. */
struct ksym {
	uint32_t offset; /* from ksym_base */
	uint32_t size;	 /* bytes; for asm labels without a size, up to the next symbol */
	uint32_t name;	 /* offset of the NUL-terminated name in ksym_names */
};

/* Defined by the generated file. */
extern const uint64_t ksym_base;
extern const uint32_t ksym_count;
extern const struct ksym ksym_table[];
extern const char ksym_names[];

/*
 * symbolize - the kernel function holding addr.
 * Returns its name (static storage) and sets *offset to addr minus the
 * function's start; returns NULL (and leaves *offset alone) when addr is in
 * no known function: outside the kernel text, or in padding between functions.
 */
const char *symbolize(uint64_t addr, uint64_t *offset);
