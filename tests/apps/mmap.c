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
 * or, with "lazyfree", runs the MADV_FREE checks (booted with little
 * memory): the checks' lines as above, then "mmap: N failures".
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

/* ------------------------------------------------------------ MADV_FREE */

/* Page i of a range filled by fill_pages: its byte at offset o. */
static char page_byte(size_t i, size_t o, unsigned seed)
{
	return (char)(i * 31 + o / 512 + seed) | 1; /* never 0 */
}

static void fill_pages(char *p, size_t npages, unsigned seed)
{
	for (size_t i = 0; i < npages; i++)
		for (size_t o = 0; o < P; o += 512)
			p[i * P + o] = page_byte(i, o, seed);
}

/* Each page holds its old bytes or is all zero (reclaimed): what Linux
 * promises after MADV_FREE. Counts the zeroed pages into *zeroed. */
static int old_or_zero(const char *p, size_t npages, unsigned seed, size_t *zeroed)
{
	for (size_t i = 0; i < npages; i++) {
		int old = 1, zero = 1;
		for (size_t o = 0; o < P; o += 512) {
			old &= p[i * P + o] == page_byte(i, o, seed);
			zero &= p[i * P + o] == 0;
		}
		if (!old && !zero)
			return 0;
		*zeroed += zero;
	}
	return 1;
}

/*
 * MADV_FREE as Linux gives it: the call frees nothing by itself (LazyFree
 * in /proc/meminfo rises, VmRSS stays); until memory runs short a read
 * sees the old bytes, and a page written afterwards keeps the new ones
 * for good. Then an allocation larger than the free memory succeeds
 * because the freeable pages are reclaimed; the written pages survive it,
 * the others read old bytes or zeros.
 */
static int lazyfree(void)
{
	const size_t small = 16;
	long lazy0 = proc_kb("/proc/meminfo", "LazyFree:");
	CHECK("meminfo_has_lazyfree", lazy0 >= 0);

	char *a = mmap(NULL, small * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("map_small", a != MAP_FAILED);
	fill_pages(a, small, 1);
	long rss0 = proc_kb("/proc/self/status", "VmRSS:");
	CHECK("free_small", madvise(a, small * P, MADV_FREE) == 0);
	CHECK("lazyfree_rises", proc_kb("/proc/meminfo", "LazyFree:") >= lazy0 + (long)small * 4);
	CHECK("rss_keeps_them", proc_kb("/proc/self/status", "VmRSS:") >= rss0);
	size_t zeroed = 0;
	CHECK("read_after_free_is_old_or_zero", old_or_zero(a, small, 1, &zeroed));
	/* Written again: pages 0-7 keep these bytes whatever happens next. */
	fill_pages(a, small / 2, 2);

	/* Linux's rules for ranges: holes are ENOMEM (after the mapped part),
	 * file mappings EINVAL. */
	int fd = open("/data/big.txt", O_RDONLY);
	char *f = mmap(NULL, P, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("file_mapping_is_einval",
	      f != MAP_FAILED && errno_of(madvise(f, P, MADV_FREE), EINVAL));
	munmap(f, P);
	close(fd);
	char *h = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("hole_is_enomem", h != MAP_FAILED && munmap(h + P, P) == 0 &&
				    errno_of(madvise(h, 3 * P, MADV_FREE), ENOMEM));
	munmap(h, 3 * P);
	char *sh = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK("shared_anonymous_is_einval",
	      sh != MAP_FAILED && errno_of(madvise(sh, P, MADV_FREE), EINVAL));
	munmap(sh, P);

	/* Fill most of the free memory, free it lazily, then take more than
	 * what is free: only a reclaim of the freed pages makes room (without
	 * it the app would be killed out of memory). */
	long free_kb = proc_kb("/proc/meminfo", "MemFree:");
	CHECK("meminfo_memfree", free_kb > 64 * 1024);
	size_t big = (size_t)(free_kb - 24 * 1024) / 4;
	char *b = mmap(NULL, big * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("map_big", b != MAP_FAILED);
	fill_pages(b, big, 3);
	long lazy1 = proc_kb("/proc/meminfo", "LazyFree:");
	CHECK("free_big", madvise(b, big * P, MADV_FREE) == 0);
	long lazy2 = proc_kb("/proc/meminfo", "LazyFree:");
	CHECK("lazyfree_counts_them", lazy2 >= lazy1 + (long)big * 4);
	long avail = proc_kb("/proc/meminfo", "MemAvailable:");
	free_kb = proc_kb("/proc/meminfo", "MemFree:");
	CHECK("memavailable_counts_them", avail >= free_kb + (long)big * 4);

	size_t more = (size_t)(free_kb + 16 * 1024) / 4;
	char *c = mmap(NULL, more * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("map_more_than_free", c != MAP_FAILED);
	for (size_t i = 0; i < more; i++)
		c[i * P] = (char)i;
	printf("mmap: touched %zu MiB with %ld MiB free\n", more / 256, free_kb / 1024);
	CHECK("more_than_free_was_backed", c[(more - 1) * P] == (char)(more - 1));
	CHECK("reclaim_took_freeable_pages", proc_kb("/proc/meminfo", "LazyFree:") < lazy2);
	zeroed = 0;
	CHECK("written_pages_survive_reclaim", old_or_zero(a, small / 2, 2, &zeroed) && !zeroed);
	CHECK("others_read_old_or_zero", old_or_zero(a + small / 2 * P, small / 2, 1, &zeroed));
	/* Reading a reclaimed page backs a zeroed one: make room first. */
	munmap(c, more * P);
	size_t big_zeroed = 0;
	CHECK("big_reads_old_or_zero", old_or_zero(b, big, 3, &big_zeroed));
	printf("mmap: %zu of %zu freed pages were reclaimed\n", big_zeroed, big);
	CHECK("some_were_reclaimed", big_zeroed > 0);
	/* A reclaimed page is an ordinary demand page again. */
	b[0] = 'z';
	CHECK("reclaimed_page_is_writable", b[0] == 'z');
	/* A file written to /tmp takes freed pages too: tmpfs reclaims before
	 * it answers ENOSPC. */
	fill_pages(b, big, 4);
	CHECK("free_big_again", madvise(b, big * P, MADV_FREE) == 0);
	free_kb = proc_kb("/proc/meminfo", "MemFree:");
	size_t file_pages = (size_t)(free_kb + 8 * 1024) / 4, written = 0;
	static char page[P];
	memset(page, 'f', sizeof(page));
	int out = open("/tmp/lazy.dat", O_CREAT | O_RDWR | O_TRUNC, 0600);
	while (out >= 0 && written < file_pages && write(out, page, P) == (ssize_t)P)
		written++;
	printf("mmap: wrote %zu of %zu pages to /tmp with %ld MiB free\n", written, file_pages,
	       free_kb / 1024);
	CHECK("tmpfs_write_reclaims_freed_pages", written == file_pages);
	close(out);
	unlink("/tmp/lazy.dat");
	munmap(a, small * P);
	munmap(b, big * P);
	CHECK("munmap_drops_the_count", proc_kb("/proc/meminfo", "LazyFree:") == lazy0);
	printf("mmap: %d failures\n", failures);
	return failures;
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
	if (argc > 1 && !strcmp(argv[1], "lazyfree"))
		return lazyfree();
	if (argc > 1)
		return die(argv[1]);
	file_mappings();
	remaps();
	prot_none();
	printf("mmap: %d failures\n", failures);
	return failures;
}
