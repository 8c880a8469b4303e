/*
 * oom: what a new user does when memory runs out (issue 15 point 0),
 * booted by tests/boot/test_mmap.c with little RAM.
 *   oom strict   (boot.cfg overcommit=strict) the checks below, each
 *                printing "oom: ok NAME" or "oom: FAIL ...", then
 *                "oom: N failures" and N as the exit status:
 *                /proc/meminfo's Committed_AS follows a mapping, a huge
 *                PROT_NONE reservation costs nothing until made writable,
 *                the largest private mapping the kernel gives is bounded by
 *                CommitLimit and half of it can be used, and malloc of
 *                1 MiB blocks, each touched, ends in NULL (never a kill);
 *                every block is freed before the exit.
 *   oom malloc   only the malloc loop, with no check: under
 *                overcommit=lazy the kernel kills it at a touch (137).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK_PREFIX "oom"
#include "check.h"

#define P   4096ul
#define MIB (1ul << 20)

/* A field of /proc/meminfo in kB, or -1. */
static long meminfo_kb(const char *field)
{
	return proc_kb("/proc/meminfo", field);
}

/* malloc + touch 1 MiB blocks until malloc says no; frees them all.
 * Returns how many it got. */
static size_t malloc_until_null(void)
{
	static void *blocks[1 << 16];
	size_t n = 0;

	while (n < sizeof(blocks) / sizeof(blocks[0])) {
		char *b = malloc(MIB);
		if (!b)
			break;
		memset(b, (int)n | 1, MIB);
		blocks[n++] = b;
	}
	printf("oom: malloc gave %zu MiB before NULL\n", n);
	for (size_t i = 0; i < n; i++)
		free(blocks[i]);
	return n;
}

static void *map_rw(size_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void meminfo_follows_a_mapping(void)
{
	long limit = meminfo_kb("CommitLimit:"), before = meminfo_kb("Committed_AS:");
	CHECK("meminfo_has_commit_lines", limit > 0 && before > 0 && before < limit);
	printf("oom: CommitLimit %ld kB, Committed_AS %ld kB\n", limit, before);
	char *p = map_rw(16 * MIB);
	CHECK("map_16m", p != MAP_FAILED);
	CHECK("committed_rises_by_16m", meminfo_kb("Committed_AS:") == before + 16 * 1024);
	munmap(p, 16 * MIB);
	CHECK("committed_falls_back", meminfo_kb("Committed_AS:") == before);
	char *ro = mmap(NULL, 16 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("read_only_costs_nothing", ro != MAP_FAILED && meminfo_kb("Committed_AS:") == before);
	munmap(ro, 16 * MIB);
}

static void prot_none_is_free_until_writable(void)
{
	long before = meminfo_kb("Committed_AS:"), limit = meminfo_kb("CommitLimit:");
	size_t huge = 64ul << 30;
	char *r = mmap(NULL, huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("prot_none_64g", r != MAP_FAILED);
	CHECK("prot_none_costs_nothing", meminfo_kb("Committed_AS:") == before);
	CHECK("writable_past_limit_is_enomem",
	      errno_of(mprotect(r, (size_t)(limit + 1024) * 1024, PROT_READ | PROT_WRITE), ENOMEM));
	CHECK("writable_4m", mprotect(r, 4 * MIB, PROT_READ | PROT_WRITE) == 0);
	memset(r, 1, 4 * MIB);
	CHECK("charged_4m", meminfo_kb("Committed_AS:") == before + 4 * 1024);
	char *m = mremap(r, 4 * MIB, (size_t)(limit + 1024) * 1024, MREMAP_MAYMOVE);
	CHECK("mremap_past_limit_is_enomem", m == MAP_FAILED && errno == ENOMEM);
	munmap(r, huge);
	CHECK("all_back", meminfo_kb("Committed_AS:") == before);
}

/* The largest private writable mapping, to a MiB, by bisection. */
static void largest_mapping_then_use_half(void)
{
	size_t lo = 0, hi = 1ul << 20; /* MiB: 1 TiB is surely refused */
	int other_errors = 0;
	while (lo + 1 < hi) {
		size_t mid = (lo + hi) / 2;
		void *p = map_rw(mid * MIB);
		if (p == MAP_FAILED) {
			other_errors += errno != ENOMEM;
			hi = mid;
		} else {
			munmap(p, mid * MIB);
			lo = mid;
		}
	}
	CHECK("refusals_are_enomem", other_errors == 0);
	long limit = meminfo_kb("CommitLimit:"), committed = meminfo_kb("Committed_AS:");
	printf("oom: largest mapping %zu MiB (CommitLimit %ld kB, Committed_AS %ld kB)\n", lo,
	       limit, committed);
	CHECK("largest_is_bounded_by_the_limit",
	      lo > 8 && (long)lo * 1024 <= limit - committed &&
		  (long)(lo + 2) * 1024 > (limit - committed) * 9 / 10);
	char *p = map_rw(lo * MIB);
	CHECK("largest_maps_again", p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	memset(p, 7, lo / 2 * MIB);
	CHECK("half_of_it_is_used", p[lo / 2 * MIB - 1] == 7);
	munmap(p, lo * MIB);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "malloc")) {
		malloc_until_null();
		return 0;
	}
	meminfo_follows_a_mapping();
	prot_none_is_free_until_writable();
	largest_mapping_then_use_half();
	long committed = meminfo_kb("Committed_AS:");
	size_t got = malloc_until_null();
	CHECK("malloc_ends_in_null", got > 8);
	/* The blocks' mappings are gone; malloc may keep a little of its own. */
	long after = meminfo_kb("Committed_AS:");
	printf("oom: Committed_AS %ld kB before the blocks, %ld kB after freeing them\n", committed,
	       after);
	CHECK("everything_freed", after >= committed && after < committed + 1024);
	/* And memory works again after it ran out. */
	char *p = malloc(4 * MIB);
	CHECK("malloc_after_null", p && memset(p, 1, 4 * MIB) == p);
	free(p);
	printf("oom: %d failures\n", failures);
	return failures;
}
