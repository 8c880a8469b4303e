/*
 * "#!" parsing (see exec.h), step for step Linux's fs/binfmt_script.c
 * (load_script), so that a script behaves here as under execve there.
 */
#include "kernel/exec.h"

#include "kernel/klib.h"

static int spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/* The first character of [p, end) that is not a space or tab, or NULL. */
static char *next_non_spacetab(char *p, const char *end)
{
	for (; p < end; p++)
		if (!spacetab(*p))
			return p;
	return NULL;
}

/* The first space, tab or NUL of [p, end), or NULL. */
static char *next_terminator(char *p, const char *end)
{
	for (; p < end; p++)
		if (spacetab(*p) || !*p)
			return p;
	return NULL;
}

int exec_is_script(const void *file, size_t size)
{
	const char *s = file;

	return size >= 2 && s[0] == '#' && s[1] == '!';
}

int exec_parse_shebang(const void *file, size_t size, struct exec_shebang *out, const char **why)
{
	char buf[EXEC_SHEBANG_MAX];
	char *buf_end = buf + sizeof(buf) - 1, *i_end = NULL, *i_name, *cp;
	size_t n = size < sizeof(buf) ? size : sizeof(buf);

	if (!exec_is_script(file, size)) {
		*why = "not a script (no \"#!\")";
		return -1;
	}
	/* Linux reads the file into a zeroed buffer: bytes past the end are NULs. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, file, n);
	for (cp = buf; cp < buf + sizeof(buf); cp++) {
		if (*cp == '\n') {
			i_end = cp;
			break;
		}
	}
	if (!i_end) {
		i_end = next_non_spacetab(buf + 2, buf_end);
		if (!i_end) {
			*why = "the \"#!\" line names no interpreter";
			return -1;
		}
		if (!next_terminator(i_end, buf_end)) {
			*why =
			    "the \"#!\" line is longer than 255 bytes: the interpreter path is cut";
			return -1;
		}
		i_end = buf_end;
	}
	while (i_end > buf + 2 && spacetab(i_end[-1]))
		i_end--;
	*i_end = '\0';
	i_name = next_non_spacetab(buf + 2, i_end);
	if (!i_name || i_name == i_end || !*i_name) {
		*why = "the \"#!\" line names no interpreter";
		return -1;
	}
	for (cp = i_name; *cp && !spacetab(*cp); cp++)
		;
	while (spacetab(*cp))
		*cp++ = '\0';
	memset(out, 0, sizeof(*out));
	memcpy(out->interp, i_name, strlen(i_name) + 1);
	if (*cp) {
		out->has_arg = 1;
		memcpy(out->arg, cp, strlen(cp) + 1);
	}
	return 0;
}
