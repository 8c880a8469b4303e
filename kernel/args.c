/* Shell-like word splitting for boot.cfg's args= (contract in args.h). */
#include "kernel/args.h"

#include "kernel/abi/errno.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

int args_split(const char *line, char *buf, size_t bufsize, const char **argv, size_t max_words)
{
	size_t out = 0, words = 0;
	const char *p = line;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			return (int)words;
		if (words == max_words)
			return -E2BIG;
		argv[words++] = &buf[out];

		char quote = 0;
		while (*p && (quote || !is_blank(*p))) {
			char c = *p++;

			if (quote == '\'') {
				if (c == '\'') {
					quote = 0;
					continue;
				}
			} else if (c == '\'' && !quote) {
				quote = '\'';
				continue;
			} else if (c == '"') {
				quote = quote ? 0 : '"';
				continue;
			} else if (c == '\\') {
				char next = *p;
				if (!next)
					return -EINVAL;
				if (quote == '"' && next != '"' && next != '\\' && next != '$' &&
				    next != '`' && next != '\n') {
					/* inside "...", other backslashes are literal */
				} else {
					c = next;
					p++;
					if (c == '\n')
						continue; /* line continuation */
				}
			}
			if (out + 1 >= bufsize)
				return -E2BIG;
			buf[out++] = c;
		}
		if (quote)
			return -EINVAL;
		if (out >= bufsize)
			return -E2BIG;
		buf[out++] = '\0';
	}
}
