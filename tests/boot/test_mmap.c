/*
 * Boot tests of the memory syscalls added for issue 5: private file
 * mappings, mremap and PROT_NONE (tests/apps/mmap.c), over a rootfs made
 * with mkimg --file. Every run must also give back every page it took.
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

/* Boots tests/apps/mmap.c with args over its rootfs, with qemu.sh's
 * qemu_opts (may be NULL); returns the log. */
static char *boot_mmap(const char *name, const char *args, const char *qemu_opts, int *status)
{
	char src[128], *mkimg = NULL;

	/* One source tree per test: they run in parallel. */
	snprintf(src, sizeof(src), "build/tests/%s-src", name);

	cr_assert_eq(harness_run(NULL,
				 "rm -rf %s && mkdir -p %s/data && seq 1 3000 > %s/data/big.txt && "
				 ": > %s/data/empty",
				 src, src, src, src),
		     0);
	cr_assert_geq(asprintf(&mkimg, "--app build/tests/apps/mmap.elf --file %s/data:/data%s%s",
			       src, args ? " --args " : "", args ? args : ""),
		      0);
	char *image = harness_mkimg(name, mkimg);
	char *log = harness_boot(image, qemu_opts, BOOT_TIMEOUT, status);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	free(mkimg);
	free(image);
	return log;
}

Test(mmap, file_mappings_mremap_and_prot_none_behave_as_on_linux)
{
	int status;
	char *log = boot_mmap("mmap", NULL, NULL, &status);

	cr_assert(!strstr(log, "mmap: FAIL"), "a check failed; log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: 0 failures"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok tail_of_last_page_is_zero"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok one_read_maps_the_whole_pages_around_it"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok private_write_not_seen_by_another_mapping"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok grow_moves"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok backed_prot_none_is_efault"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	harness_assert_memory_returned(log);
	free(log);
}

/*
 * MADV_FREE is lazy (issue 16): under overcommit=lazy (the freed pages stay
 * charged in strict mode, so the second mapping would be refused), with
 * 128 MiB of RAM the app fills most of
 * the free memory, frees it with MADV_FREE, then touches more than what
 * is free; without a reclaim of the freed pages it would be killed out of
 * memory. Reads after MADV_FREE give the old bytes or zeros, written pages
 * keep what was written, LazyFree in /proc/meminfo follows, and every page
 * is back at exit.
 */
Test(mmap, madv_free_is_lazy_and_reclaimed_when_memory_runs_short)
{
	int status;
	char *log =
	    boot_mmap("mmap-lazyfree", "lazyfree --config overcommit=lazy", "--mem 128M", &status);

	cr_assert(!strstr(log, "mmap: FAIL"), "a check failed; log:\n%s", log);
	cr_assert(!strstr(log, "app killed"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: 0 failures"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok more_than_free_was_backed"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok written_pages_survive_reclaim"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok lazyfree_rises"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "mmap: ok tmpfs_write_reclaims_freed_pages"), "log:\n%s",
		  log);
	harness_assert_exit(log, status, 0);
	harness_assert_memory_returned(log);
	free(log);
}

/* An access the app may not make kills it with 128 + the Linux signal. */
static void killed(const char *what, const char *reason, int code)
{
	char name[64];
	int status;

	snprintf(name, sizeof(name), "mmap-%s", what);
	char *log = boot_mmap(name, what, NULL, &status);
	cr_assert(!strstr(log, "mmap: survived"), "log:\n%s", log);
	cr_assert(!strstr(log, "FAILED"), "log:\n%s", log);
	harness_assert_killed(log, status, code, reason);
	harness_assert_memory_returned(log);
	free(log);
}

Test(mmap, reading_an_untouched_prot_none_page_is_sigsegv)
{
	killed("none-fresh", "page fault (access to a PROT_NONE page)", 139);
}

Test(mmap, reading_a_backed_page_made_prot_none_is_sigsegv)
{
	killed("none-backed", "page fault (access to a PROT_NONE page)", 139);
}

Test(mmap, reading_a_mapped_page_past_the_end_of_the_file_is_sigbus)
{
	killed("past-eof", "bus error: page past the end of a mapped file", 135);
}

/* ------------------------------------------------------------ running out (issue 15) */

/* Boots tests/apps/oom.c with 128 MiB of RAM, args and overcommit=mode. */
static char *boot_oom(const char *name, const char *args, const char *mode, int *status)
{
	char *mkimg = harness_format(
	    "--app build/tests/apps/oom.elf --args %s --config overcommit=%s", args, mode);
	char *image = harness_mkimg(name, mkimg);
	char *log = harness_boot(image, "--mem 128M", BOOT_TIMEOUT, status);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	free(mkimg);
	free(image);
	return log;
}

/*
 * overcommit=strict: what the new user tried. malloc of 1 MiB
 * blocks, each touched, ends in NULL; the largest mapping is bounded by
 * CommitLimit and half of it can be used; PROT_NONE is free until made
 * writable; /proc/meminfo's Committed_AS follows; nothing is killed and
 * the boot log shows the charge.
 */
Test(mmap, strict_overcommit_says_enomem_instead_of_killing)
{
	static const char *const checks[] = {
	    "meminfo_has_commit_lines",
	    "committed_rises_by_16m",
	    "committed_falls_back",
	    "read_only_costs_nothing",
	    "prot_none_costs_nothing",
	    "writable_past_limit_is_enomem",
	    "charged_4m",
	    "mremap_past_limit_is_enomem",
	    "all_back",
	    "largest_is_bounded_by_the_limit",
	    "refusals_are_enomem",
	    "half_of_it_is_used",
	    "malloc_ends_in_null",
	    "everything_freed",
	    "malloc_after_null",
	};
	int status;
	char *log = boot_oom("oom-strict", "strict", "strict", &status);

	cr_assert(!strstr(log, "app killed"), "log:\n%s", log);
	harness_assert_checks(log, "oom", checks, sizeof(checks) / sizeof(checks[0]));
	cr_assert(strstr(log, "solo: memory: overcommit=strict, commit limit "), "log:\n%s", log);
	cr_assert(strstr(log, "solo: memory: commit charge peak "), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	harness_assert_memory_returned(log);
	free(log);
}

/* overcommit=lazy keeps the old behaviour: every malloc succeeds and a
 * touch that finds no page kills the app. */
Test(mmap, lazy_overcommit_kills_at_the_touch)
{
	int status;
	char *log = boot_oom("oom-lazy", "malloc", "lazy", &status);

	cr_assert(!strstr(log, "malloc gave"), "log:\n%s", log);
	harness_assert_killed(log, status, 137, "out of memory: no page for a demand fault");
	harness_assert_memory_returned(log);
	free(log);
}
