/*
 * Fuzzer for kernel/exec.c's "#!" handling: exec_is_script and
 * exec_parse_shebang over the input as the start of an app file. When a
 * line is accepted, the result is what exec.h says: an interpreter path
 * with no blank, an optional argument with no blank at either end, both
 * NUL-terminated in their arrays, both taken from the input's first line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kernel/exec.h"

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether s (NUL-terminated) occurs in the first n bytes of data. */
static int occurs(const uint8_t *data, size_t n, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(data + i, s, len))
			return 1;
	return 0;
}

/* Whether the first line ends with a '\n' in the bytes looked at and has no
 * NUL before it. */
static int clean_line(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size && i < EXEC_SHEBANG_MAX; i++) {
		if (data[i] == '\n')
			return 1;
		if (!data[i])
			return 0;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *file = malloc(size ? size : 1); /* exactly sized: ASan sees overreads */
	struct exec_shebang sb;
	const char *why = NULL;

	FUZZ_ASSERT(file);
	memcpy(file, data, size);
	int script = exec_is_script(file, size);
	FUZZ_ASSERT(script == (size >= 2 && data[0] == '#' && data[1] == '!'));

	memset(&sb, 0x5a, sizeof(sb));
	if (exec_parse_shebang(file, size, &sb, &why) == 0) {
		size_t ilen = strnlen(sb.interp, sizeof(sb.interp));
		size_t alen = strnlen(sb.arg, sizeof(sb.arg));
		size_t line = size < EXEC_SHEBANG_MAX ? size : EXEC_SHEBANG_MAX;

		FUZZ_ASSERT(script);
		FUZZ_ASSERT(ilen >= 1 && ilen < sizeof(sb.interp));
		FUZZ_ASSERT(alen < sizeof(sb.arg));
		for (size_t i = 0; i < ilen; i++)
			FUZZ_ASSERT(!blank(sb.interp[i]) && sb.interp[i] != '\n');
		FUZZ_ASSERT(sb.has_arg == (alen > 0));
		if (alen) {
			/* Trailing blanks are cut at the line's end; a NUL ends the
			 * line's strings earlier, as in Linux, where a blank before it
			 * stays (also the end of a short file with no '\n', whose
			 * buffer is zero-filled). */
			FUZZ_ASSERT(!blank(sb.arg[0]));
			if (clean_line(data, size))
				FUZZ_ASSERT(!blank(sb.arg[alen - 1]));
			for (size_t i = 0; i < alen; i++)
				FUZZ_ASSERT(sb.arg[i] != '\n');
		}
		for (size_t i = alen + 1; i < sizeof(sb.arg); i++)
			FUZZ_ASSERT(sb.arg[i] == 0);
		FUZZ_ASSERT(occurs(data, line, sb.interp));
		if (alen)
			FUZZ_ASSERT(occurs(data, line, sb.arg));
	} else {
		FUZZ_ASSERT(why && why[0]);
	}
	free(file);
	return 0;
}
