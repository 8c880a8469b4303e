/*
 * Fuzzer for kernel/args.c: args_split over the input as a command line
 * (up to its first NUL). The first two bytes pick the output buffer's size
 * and the word limit, so the -E2BIG paths are fuzzed too; the buffer and
 * argv are exactly sized heap blocks, so ASan sees any write past them.
 * When words come back, each lies in the buffer, NUL-terminated, one after
 * the other, and splitting again with room to spare gives the same words.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kernel/abi/errno.h"
#include "kernel/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t bufsize = data[0], max_words = data[1] % 64;
	char *line = malloc(size - 1);
	FUZZ_ASSERT(line);
	memcpy(line, data + 2, size - 2);
	line[size - 2] = '\0';

	char *buf = malloc(bufsize ? bufsize : 1);
	const char **argv = malloc((max_words ? max_words : 1) * sizeof(*argv));
	FUZZ_ASSERT(buf && argv);
	int n = args_split(line, buf, bufsize, argv, max_words);
	FUZZ_ASSERT(n >= 0 || n == -EINVAL || n == -E2BIG);
	if (n >= 0) {
		FUZZ_ASSERT((size_t)n <= max_words);
		const char *next = buf;
		for (int i = 0; i < n; i++) {
			FUZZ_ASSERT(argv[i] == next);
			size_t len = strnlen(argv[i], (size_t)(buf + bufsize - argv[i]));
			FUZZ_ASSERT(argv[i] + len < buf + bufsize);
			next = argv[i] + len + 1;
		}

		/* The same line with ample room: the same words (the output is
		 * never longer than the line plus one NUL per word). */
		size_t big = 2 * (size - 2) + 2;
		char *buf2 = malloc(big);
		const char **argv2 = malloc(size * sizeof(*argv2));
		FUZZ_ASSERT(buf2 && argv2);
		int n2 = args_split(line, buf2, big, argv2, size);
		FUZZ_ASSERT(n2 == n);
		for (int i = 0; i < n; i++)
			FUZZ_ASSERT(!strcmp(argv[i], argv2[i]));
		free(buf2);
		free(argv2);
	}
	free(argv);
	free(buf);
	free(line);
	return 0;
}
