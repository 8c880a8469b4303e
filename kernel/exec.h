/*
 * exec - what the app file is before the loader maps it: an ELF, or a
 * script whose first line names its interpreter ("#!"), parsed exactly as
 * Linux's binfmt_script does. Pure functions with no kernel state, so the
 * host tests run them as they are.
 */
#pragma once

#include <stddef.h>

/* Linux's BINPRM_BUF_SIZE: only that much of a script's first line is read. */
#define EXEC_SHEBANG_MAX 256

struct exec_shebang {
	/* NUL-terminated; arg is "" when the line has no argument. */
	char interp[EXEC_SHEBANG_MAX];
	char arg[EXEC_SHEBANG_MAX];
	int has_arg;
};

/* exec_is_script - whether the file (size bytes) starts with "#!". */
int exec_is_script(const void *file, size_t size);

/*
 * exec_parse_shebang - parse the "#!" line of file (size bytes), as
 * binfmt_script: the first EXEC_SHEBANG_MAX bytes are looked at; the line
 * ends at '\n' (or a NUL); spaces and tabs around the interpreter path are
 * skipped; everything after the path and its following blanks, with
 * trailing blanks cut, is the one optional argument (not split further).
 * Blanks are cut at the line's end only: as in Linux, a NUL inside the
 * line, or the zero fill after a file shorter than the limit with no
 * '\n', ends the argument where it is, after any blanks before it.
 * A '\r' is kept as part of the line, as Linux keeps it (a script with DOS
 * line endings names "/bin/sh\r"). A line longer than the limit is cut
 * there when the interpreter path ends before it; otherwise the path was
 * truncated and the script is refused. Returns 0 and fills *out, or -1
 * with *why set (static): not a script, no interpreter named, or the path
 * truncated.
 */
int exec_parse_shebang(const void *file, size_t size, struct exec_shebang *out, const char **why);
