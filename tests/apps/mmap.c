/*
 * mmap: file mappings, mremap and PROT_NONE through musl, as a static Linux
 * program uses them. tests/boot/test_mmap.c packs this rootfs:
 *   /data/big.txt    `seq 1 3000` (13893 bytes: three pages and a part)
 *   /data/empty      an empty file
 * Without arguments it runs the checks, prints "mmap: ok NAME" per check,
 * "mmap: FAIL ..." on a failure, and exits with the number of failures.
 * With one argument it does one thing that must kill it:
 *   none-fresh   reads a PROT_NONE page never touched       (SIGSEGV)
 *   none-backed  reads a written page after mprotect(PROT_NONE)  (SIGSEGV)
 *   past-eof     reads a mapped page wholly past the end of the file  (SIGBUS)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_PREFIX "mmap"
#include "check.h"

#include "solo.h"

#define P 4096ul

static int map_failed_with(void *p, int want)
{
	return p == MAP_FAILED && errno == want;
}

static uint64_t backed_mapping_pages(void)
{
	struct solo_mem_stats st;

	solo_mem_stats(&st);
	return st.backed_pages[SOLO_REGION_MAPPING];
}

static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 7 + seed);
}

static int filled(const char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char)(i * 7 + seed))
			return 0;
	return 1;
}

static void file_mappings(void)
{
	struct stat st;
	int fd = open("/data/big.txt", O_RDONLY);

	CHECK("open", fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 3 * (long)P);
	size_t size = (size_t)st.st_size, mapped = (size + P - 1) & ~(P - 1);
	char *want = malloc(size);
	CHECK("read", want && pread(fd, want, size, 0) == (long)size);

	char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("map_file", p != MAP_FAILED);
	/* Fault-around: the first read maps the file's three whole pages,
	 * which lie in the rootfs already (the partial fourth is a copy the
	 * kernel makes on its own fault). */
	uint64_t backed = backed_mapping_pages();
	CHECK("one_read_maps_the_whole_pages_around_it",
	      *(volatile char *)p == want[0] && backed_mapping_pages() - backed >= 3);
	CHECK("contents_equal_read", !memcmp(p, want, size));
	int zero = 1;
	for (size_t i = size; i < mapped; i++)
		zero &= p[i] == 0;
	CHECK("tail_of_last_page_is_zero", zero);

	char *off = mmap(NULL, P, PROT_READ, MAP_PRIVATE, fd, 2 * P);
	CHECK("map_at_offset", off != MAP_FAILED && !memcmp(off, want + 2 * P, P));
	CHECK("unaligned_offset_is_einval",
	      map_failed_with(mmap(NULL, P, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL));
	CHECK("write_exec_is_eacces",
	      map_failed_with(mmap(NULL, P, PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, 0), EACCES));

	/* Private writes stay private: another mapping and read() see the file. */
	char *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK("map_writable_private", w != MAP_FAILED);
	w[0] ^= 0x55;
	w[P + 1] = 'X';
	char *again = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	char first;
	CHECK("private_write_not_seen_by_another_mapping",
	      again != MAP_FAILED && !memcmp(again, want, size) && !memcmp(p, want, size));
	CHECK("private_write_not_seen_by_read",
	      pread(fd, &first, 1, 0) == 1 && first == want[0] && w[0] == (want[0] ^ 0x55));
	CHECK("dontneed_brings_the_file_back",
	      madvise(w, 2 * P, MADV_DONTNEED) == 0 && !memcmp(w, want, 2 * P));

	char *shared = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	CHECK("shared_read_only_works", shared != MAP_FAILED && !memcmp(shared, want, size));
	CHECK("shared_writable_on_read_only_fd_is_eacces",
	      map_failed_with(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES));

	CHECK("console_is_enodev",
	      map_failed_with(mmap(NULL, P, PROT_READ, MAP_PRIVATE, 1, 0), ENODEV));
	int dir = open("/data", O_RDONLY | O_DIRECTORY);
	CHECK("directory_is_enodev",
	      map_failed_with(mmap(NULL, P, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV));
	close(dir);
	int pipefd[2];
	CHECK("pipe_is_enodev",
	      pipe(pipefd) == 0 &&
		  map_failed_with(mmap(NULL, P, PROT_READ, MAP_PRIVATE, pipefd[0], 0), ENODEV));
	close(pipefd[0]);
	close(pipefd[1]);
	CHECK("bad_fd_is_ebadf",
	      map_failed_with(mmap(NULL, P, PROT_READ, MAP_PRIVATE, 99, 0), EBADF));

	/* A mapping outlives its descriptor. */
	char *late = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	CHECK("mapping_outlives_close", late != MAP_FAILED && !memcmp(late, want, size));

	/* A fixed file mapping replaces anonymous memory. */
	char *anon = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/data/big.txt", O_RDONLY);
	anon[0] = 1;
	char *fixed = mmap(anon, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, P);
	CHECK("fixed_file_mapping_replaces", fixed == anon && !memcmp(fixed, want + P, 2 * P));

	/* The kernel reads a file mapping for write() like any memory. */
	CHECK("write_from_a_file_mapping", write(1, late, 5) == 5);
	printf("\n");
	munmap(p, size);
	munmap(off, P);
	munmap(w, size);
	munmap(again, size);
	munmap(shared, size);
	munmap(late, size);
	munmap(fixed, 2 * P);
	close(fd);
	free(want);
}

static void remaps(void)
{
	/* At fixed addresses far from everything else, so that what lies after
	 * a range is known. */
	char *a = mmap((void *)0x300000000000ul, 4 * P, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK("map_for_remap", a == (void *)0x300000000000ul);
	fill(a, 4 * P, 1);
	CHECK("shrink_in_place", mremap(a, 4 * P, 2 * P, 0) == a && filled(a, 2 * P, 1));
	CHECK("grow_in_place",
	      mremap(a, 2 * P, 8 * P, 0) == a && filled(a, 2 * P, 1) && a[7 * P] == 0);
	fill(a, 8 * P, 2);
	/* A wall after it: growing needs a move. */
	char *wall =
	    mmap(a + 8 * P, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK("wall", wall == a + 8 * P);
	CHECK("grow_without_maymove_is_enomem",
	      errno_of((long)mremap(a, 8 * P, 16 * P, 0), ENOMEM));
	uint64_t backed = backed_mapping_pages();
	char *b = mremap(a, 8 * P, 16 * P, MREMAP_MAYMOVE);
	CHECK("grow_moves", b != MAP_FAILED && b != a && filled(b, 8 * P, 2) && b[15 * P] == 0);
	CHECK("move_takes_the_frames_along", backed_mapping_pages() == backed + 1);
	CHECK("old_range_is_gone", errno_of(madvise(a, P, MADV_DONTNEED), ENOMEM));

	char *target = mmap(NULL, 16 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *c = mremap(b, 16 * P, 16 * P, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	CHECK("fixed_move", c == target && filled(c, 8 * P, 2));
	c[0] = 9; /* writable: the moved range keeps its permissions */
	CHECK("bad_flags_are_einval", errno_of((long)mremap(c, P, 2 * P, 8), EINVAL));
	CHECK("fixed_without_maymove_is_einval",
	      errno_of((long)mremap(c, P, P, MREMAP_FIXED, a), EINVAL));
	CHECK("unaligned_is_einval",
	      errno_of((long)mremap(c + 1, P, 2 * P, MREMAP_MAYMOVE), EINVAL));
	CHECK("unmapped_is_efault", errno_of((long)mremap(a, P, 2 * P, MREMAP_MAYMOVE), EFAULT));
	munmap(c, 16 * P);
	munmap(wall, P);

	/* A file mapping moves with its file offsets, backed or not. */
	int fd = open("/data/big.txt", O_RDONLY);
	char want[3 * P];
	CHECK("read_for_remap", pread(fd, want, sizeof(want), 0) == (long)sizeof(want));
	char *f = mmap((void *)0x310000000000ul, 3 * P, PROT_READ,
		       MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	volatile char touch = f[P];
	(void)touch;
	wall =
	    mmap(f + 3 * P, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char *g = mremap(f, 3 * P, 4 * P, MREMAP_MAYMOVE);
	CHECK("file_mapping_moves", g != MAP_FAILED && g != f && !memcmp(g, want, sizeof(want)));
	munmap(g, 4 * P);
	munmap(wall, P);
	close(fd);

	/* musl's realloc moves big blocks with mremap. */
	size_t n = 1 << 20;
	char *m = malloc(n);
	fill(m, n, 3);
	char *wall2 = malloc(n); /* keeps the first block from growing in place */
	m = realloc(m, 4 * n);
	CHECK("realloc_keeps_data", m && filled(m, n, 3));
	free(m);
	free(wall2);
}

static void prot_none(void)
{
	int fd = open("/data/big.txt", O_RDONLY);
	char *g = mmap(NULL, 4 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("reserve_prot_none", g != MAP_FAILED);
	uint64_t backed = backed_mapping_pages();
	CHECK("write_from_prot_none_is_efault", errno_of(write(1, g, 4), EFAULT));
	CHECK("read_into_prot_none_is_efault", errno_of(read(fd, g, 4), EFAULT));
	CHECK("prot_none_pages_are_not_backed", backed_mapping_pages() == backed);
	CHECK("mprotect_part_read_write", mprotect(g + P, 2 * P, PROT_READ | PROT_WRITE) == 0);
	g[P] = 'a';
	g[2 * P] = 'b';
	CHECK("guard_pages_around_it_stay",
	      errno_of(write(1, g, 1), EFAULT) && errno_of(write(1, g + 3 * P, 1), EFAULT));
	CHECK("mprotect_none_again", mprotect(g + P, P, PROT_NONE) == 0);
	CHECK("backed_prot_none_is_efault",
	      errno_of(write(1, g + P, 1), EFAULT) && errno_of(read(fd, g + P, 1), EFAULT));
	CHECK("access_comes_back_with_the_data",
	      mprotect(g + P, P, PROT_READ) == 0 && g[P] == 'a' && g[2 * P] == 'b');
	CHECK("munmap_prot_none", munmap(g, 4 * P) == 0);

	/* A file mapping made PROT_NONE, then readable again. */
	char *f = mmap(NULL, P, PROT_NONE, MAP_PRIVATE, fd, 0);
	CHECK("file_prot_none", f != MAP_FAILED && errno_of(write(1, f, 1), EFAULT));
	char c;
	CHECK("file_prot_none_then_read",
	      mprotect(f, P, PROT_READ) == 0 && pread(fd, &c, 1, 0) == 1 && f[0] == c);
	munmap(f, P);
	close(fd);
}

static int die(const char *how)
{
	int fd = open("/data/big.txt", O_RDONLY);

	if (!strcmp(how, "none-fresh")) {
		volatile char *g = mmap(NULL, P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("mmap: reading a fresh PROT_NONE page\n");
		printf("mmap: survived %d\n", g[0]);
	} else if (!strcmp(how, "none-backed")) {
		volatile char *g =
		    mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		g[0] = 1;
		mprotect((void *)g, P, PROT_NONE);
		printf("mmap: reading a backed PROT_NONE page\n");
		printf("mmap: survived %d\n", g[0]);
	} else if (!strcmp(how, "past-eof")) {
		int empty = open("/data/empty", O_RDONLY);
		volatile char *f = mmap(NULL, 2 * P, PROT_READ, MAP_PRIVATE, fd, 4 * P);
		volatile char *e = mmap(NULL, P, PROT_READ, MAP_PRIVATE, empty, 0);
		printf("mmap: file mappings past the end: %s\n",
		       f != MAP_FAILED && e != MAP_FAILED ? "made" : "FAILED");
		printf("mmap: survived %d\n", f[0]);
	}
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1)
		return die(argv[1]);
	file_mappings();
	remaps();
	prot_none();
	printf("mmap: %d failures\n", failures);
	return failures;
}
