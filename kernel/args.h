/*
 * args_split - split a command line into words the way a POSIX shell does
 * for a simple command: blanks separate words; '...' keeps everything
 * literally; "..." keeps everything but lets \ escape " \ $ ` and newline;
 * a backslash outside quotes escapes the next character. No expansion of
 * variables, globs or tildes.
 *
 * The words are written NUL-terminated into buf (bufsize bytes) and argv[i]
 * points at word i; at most max_words are produced. Returns the number of
 * words, -EINVAL for an unterminated quote or a trailing backslash, or
 * -E2BIG when buf or argv is too small.
 */
#pragma once

#include <stddef.h>

int args_split(const char *line, char *buf, size_t bufsize, const char **argv, size_t max_words);
