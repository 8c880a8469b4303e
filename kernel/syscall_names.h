/*
 * Linux x86-64 syscall names by number, for the "unsupported syscall" log
 * line. The table is generated at build time from the build machine's
 * <asm/unistd_64.h> by tools/gen-syscall-names.sh into
 * build/gen/syscall_names.c; numbers Linux does not use are NULL.
 */
#pragma once

extern const char *const syscall_names[];
extern const unsigned syscall_names_count;
