/*
 * elfcheck - validate an app or kernel ELF on the host, with the very same
 * elf_check() the stub and the kernel run at boot (kernel/elf.c), so that
 * tools/mkimg.sh refuses at build time what Solo would refuse at boot.
 *
 *   elfcheck --app FILE      an x86-64 app: static (ET_EXEC or static-PIE) or
 *                            dynamically linked (its PT_INTERP path is checked)
 *   elfcheck --interp FILE   as --app, and prints the PT_INTERP path (one line;
 *                            nothing for a static app)
 *   elfcheck --kernel FILE   the higher-half kernel image
 *
 * Exit 0 when the file passes; 1 with "FILE: <reason>" on stderr when it does
 * not (or cannot be read); 2 on a usage error. Prints nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/elf.h"

#define ELFCHECK_MAX_SIZE (1ull << 30) /* 1 GiB: no app or kernel is that big */

static void usage(FILE *to)
{
	fputs("usage: elfcheck --app FILE | --interp FILE | --kernel FILE\n"
	      "Checks FILE with Solo's ELF loader rules; exit 0 if it would load.\n",
	      to);
}

/*
 * read_whole_file - read path into a fresh 8-byte-aligned buffer (elf_check
 * reads the headers in place). Returns the buffer (free() it) and sets *size,
 * or returns NULL after printing "path: reason" on stderr.
 */
static void *read_whole_file(const char *path, uint64_t *size)
{
	struct stat st;
	void *buf = NULL;
	size_t alloc, done = 0;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto close_file;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: not a regular file\n", path);
		goto close_file;
	}
	if ((uint64_t)st.st_size > ELFCHECK_MAX_SIZE) {
		fprintf(stderr, "%s: file is %llu bytes, larger than the 1 GiB limit\n", path,
			(unsigned long long)st.st_size);
		goto close_file;
	}
	/* Round up to the alignment; at least 8 bytes so that size 0 works too. */
	alloc = ((size_t)st.st_size + 7) & ~(size_t)7;
	if (alloc == 0)
		alloc = 8;
	buf = aligned_alloc(8, alloc);
	if (!buf) {
		fprintf(stderr, "%s: out of memory for %zu bytes\n", path, alloc);
		goto close_file;
	}
	while (done < (size_t)st.st_size) {
		size_t n = fread((char *)buf + done, 1, (size_t)st.st_size - done, f);

		if (n == 0)
			break;
		done += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error: %s\n", path, strerror(errno));
		goto free_buf;
	}
	/* A file that shrank under us is checked as what we could read. */
	*size = done;
	fclose(f);
	return buf;

free_buf:
	free(buf);
	buf = NULL;
close_file:
	fclose(f);
	return NULL;
}

int main(int argc, char **argv)
{
	enum elf_target target;
	struct elf_image img;
	const char *why = "unknown error";
	uint64_t size = 0;
	int print_interp = 0;
	void *buf;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--app") || !strcmp(argv[1], "--interp")) {
		target = ELF_TARGET_APP;
		print_interp = !strcmp(argv[1], "--interp");
	} else if (!strcmp(argv[1], "--kernel")) {
		target = ELF_TARGET_KERNEL;
	} else {
		fprintf(stderr, "elfcheck: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}

	buf = read_whole_file(argv[2], &size);
	if (!buf)
		return 1;
	err = elf_check(buf, size, target, &img, &why);
	if (err)
		fprintf(stderr, "%s: %s\n", argv[2], why);
	else if (print_interp && img.interp)
		printf("%s\n", img.interp);
	free(buf);
	return err ? 1 : 0;
}
