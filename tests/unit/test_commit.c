/*
 * Host tests of commit accounting (mm/commit.h, mm/aspace.c): the charge
 * against a model that knows, page by page, which pages of a window are
 * private writable memory; random map / unmap / mprotect / mremap / brk /
 * madvise / fault sequences in both modes; in strict mode with little
 * memory left, that the charge never passes CommitLimit, that what it
 * holds stays free, and that a fault on charged memory never fails; and
 * that everything is given back at teardown.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "kernel/bootcfg.h"
#include "kernel/klib.h"
#include "mm/aspace.h"
#include "mm/commit.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm/vmobj.h"
#include "mm_arena.h"

#define P	  PAGE_SIZE
#define IMG_BASE  0x400000ull
#define WIN	  (ASPACE_DEFAULT_BASE + 0x40000000ull) /* the model's window */
#define WIN_PAGES 2048u
#define STACK_PGS 64u

static struct vm_ctx kctx;
static struct aspace as;

/* The model: what each page of the window is. */
enum mstate { M_NONE = 0, M_RW, M_RO, M_NOACCESS };
static unsigned char model[WIN_PAGES];
static size_t model_heap; /* heap pages */
static unsigned refused;  /* maps refused for want of memory, all runs */

static size_t model_charge(void)
{
	size_t n = model_heap + STACK_PGS;

	for (size_t i = 0; i < WIN_PAGES; i++)
		n += model[i] == M_RW;
	return n;
}

static void setup_app(void)
{
	mm_test_setup();
	commit_reset();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	cr_assert_eq(aspace_init(&as, &kctx), 0);
	cr_assert_eq(aspace_add_image(&as, IMG_BASE, 4), 0);
	cr_assert_eq(aspace_init_heap(&as, IMG_BASE + 4 * P), 0);
	cr_assert_eq(aspace_init_stack(&as, ASPACE_STACK_TOP, STACK_PGS, 1), 0);
	memset(model, 0, sizeof(model));
	model_heap = 0;
}

/* Takes free pages from palloc until only keep are left; returns the run. */
static paddr_t *hog(size_t keep, size_t *n)
{
	*n = palloc_free_pages() - keep;
	paddr_t *pages = malloc(*n * sizeof(*pages));
	for (size_t i = 0; i < *n; i++) {
		pages[i] = palloc(1);
		cr_assert_neq(pages[i], 0);
	}
	return pages;
}

static void unhog(paddr_t *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pfree(pages[i], 1);
	free(pages);
}

static void check_invariants(const char *what, unsigned step)
{
	struct commit_stats st;

	commit_get_stats(&st);
	cr_assert_eq(as.commit_pages, model_charge(), "%s (step %u): charge %zu, model %zu", what,
		     step, as.commit_pages, model_charge());
	cr_assert_eq(st.charged, as.commit_pages);
	cr_assert_eq(st.owned, as.commit_owned);
	cr_assert_leq(st.owned, st.charged);
	if (commit_mode() == COMMIT_STRICT) {
		cr_assert_leq(st.charged, aspace_commit_limit(), "%s (step %u): %zu over %zu", what,
			      step, st.charged, aspace_commit_limit());
		cr_assert_geq(palloc_free_pages(), ASPACE_KERNEL_RESERVE_PAGES + commit_held(),
			      "%s (step %u): held memory was taken", what, step);
	}
}

static unsigned prot_of(unsigned r)
{
	return r == 0 ? VM_WRITE : r == 1 ? 0 : ASPACE_NOACCESS;
}

static enum mstate state_of(unsigned flags)
{
	return flags & VM_WRITE ? M_RW : flags & ASPACE_NOACCESS ? M_NOACCESS : M_RO;
}

/* One random step. Returns what it did, for messages. */
static const char *step(unsigned *seed)
{
	unsigned op = (unsigned)rand_r(seed) % 9;
	size_t at = (unsigned)rand_r(seed) % WIN_PAGES;
	size_t n = 1 + (unsigned)rand_r(seed) % MIN((size_t)600, WIN_PAGES - at);
	vaddr_t va = WIN + at * P;
	unsigned flags = prot_of((unsigned)rand_r(seed) % 3);

	switch (op) {
	case 0: /* mmap MAP_FIXED: what was there goes first */
	case 1: {
		cr_assert_eq(aspace_unmap_range(&as, va, n * P), 0);
		memset(model + at, M_NONE, n);
		long r = (unsigned)rand_r(seed) % 4 == 0
			     ? aspace_map_shared_anon(&as, va, n * P, flags)
			     : aspace_map(&as, 0, va, n * P, flags);
		if (r >= 0) {
			cr_assert_eq(r, (long)va);
			memset(model + at, state_of(flags), n);
		} else {
			cr_assert_eq(r, -ENOMEM);
			cr_assert(commit_mode() == COMMIT_STRICT && (flags & VM_WRITE));
			refused++;
		}
		return "map";
	}
	case 2:
		cr_assert_eq(aspace_unmap_range(&as, va, n * P), 0);
		memset(model + at, M_NONE, n);
		return "unmap";
	case 3: {
		long r = aspace_protect(&as, va, n * P, flags);
		if (r == 0)
			memset(model + at, state_of(flags), n);
		else
			cr_assert(r == -ENOMEM, "mprotect: %ld", r); /* a hole, or no memory */
		return "mprotect";
	}
	case 4: { /* mremap within the window: grow, shrink, or move */
		size_t m = 1 + (unsigned)rand_r(seed) % 400;
		size_t dest = (unsigned)rand_r(seed) % WIN_PAGES;
		int fixed = (unsigned)rand_r(seed) % 2 && dest + m <= WIN_PAGES &&
			    (dest + m <= at || at + n <= dest);
		n = MIN(n, (size_t)64);
		if (at + m > WIN_PAGES && !fixed)
			m = WIN_PAGES - at; /* growing in place stays in the window */
		enum mstate s = model[at];
		long r = aspace_remap(&as, va, n * P, m * P,
				      fixed ? ASPACE_REMAP_MAYMOVE | ASPACE_REMAP_FIXED : 0,
				      fixed ? WIN + dest * P : 0);
		if (r < 0) {
			/* As on Linux, MREMAP_FIXED unmaps the target first. */
			if (fixed && r == -ENOMEM)
				memset(model + dest, M_NONE, m);
			return "mremap (refused)";
		}
		if (fixed) {
			memset(model + at, M_NONE, n);
			memset(model + dest, s, m);
		} else if (m < n) {
			memset(model + at + m, M_NONE, n - m);
		} else {
			memset(model + at, s, m);
		}
		return "mremap";
	}
	case 5: { /* brk */
		size_t want = (unsigned)rand_r(seed) % 300;
		vaddr_t end = aspace_brk(&as, IMG_BASE + 4 * P + want * P);
		model_heap = (end - (IMG_BASE + 4 * P)) / P;
		if (model_heap != want)
			cr_assert(commit_mode() == COMMIT_STRICT && want > model_heap);
		return "brk";
	}
	case 6: { /* touch pages: a charged one must always get its page in strict mode */
		for (size_t i = 0; i < MIN(n, (size_t)32); i++) {
			enum mstate s = model[at + i];
			if (s == M_NONE || s == M_NOACCESS)
				continue;
			int err = aspace_fault(
			    &as, va + i * P, s == M_RW ? ASPACE_ACCESS_WRITE : ASPACE_ACCESS_READ);
			if (commit_mode() == COMMIT_STRICT && s == M_RW)
				cr_assert_eq(err, 0, "a fault on charged memory failed: %d", err);
			else
				cr_assert(err == 0 || err == -ENOMEM);
		}
		for (size_t i = 0; i < model_heap && i < 8; i++) {
			int err = aspace_fault(&as, IMG_BASE + (4 + i) * P, ASPACE_ACCESS_WRITE);
			cr_assert(err == 0 || commit_mode() == COMMIT_LAZY);
		}
		return "touch";
	}
	case 7:
		aspace_free_lazily(&as, va, n * P); /* stays charged */
		return "madvise(FREE)";
	default:
		aspace_dontneed(&as, va, n * P);
		return "madvise(DONTNEED)";
	}
}

static void run_model(enum commit_mode mode, size_t keep, unsigned seed, unsigned steps)
{
	size_t nhog = 0;
	paddr_t *hogged = NULL;

	setup_app();
	commit_set_mode(mode);
	if (keep)
		hogged = hog(keep, &nhog);
	check_invariants("start", 0);
	for (unsigned i = 0; i < steps; i++)
		check_invariants(step(&seed), i);
	aspace_destroy(&as);
	struct commit_stats st;
	commit_get_stats(&st);
	cr_assert_eq(st.charged, 0);
	cr_assert_eq(st.owned, 0);
	cr_assert_eq(st.tables, 0);
	if (hogged)
		unhog(hogged, nhog);
}

Test(commit, lazy_charge_follows_the_model_and_returns_to_zero)
{
	for (unsigned seed = 1; seed <= 6; seed++)
		run_model(COMMIT_LAZY, 0, seed, 400);
}

Test(commit, strict_charge_follows_the_model_with_plenty_of_memory)
{
	for (unsigned seed = 11; seed <= 14; seed++)
		run_model(COMMIT_STRICT, 0, seed, 400);
}

Test(commit, strict_under_pressure_stays_under_the_limit_and_faults_never_fail)
{
	/* About 3 MiB for the app: most maps of up to 600 pages meet the limit. */
	for (unsigned seed = 21; seed <= 28; seed++)
		run_model(COMMIT_STRICT, ASPACE_KERNEL_RESERVE_PAGES + 800, seed, 500);
	cr_assert_gt(refused, 20, "the limit was met (%u refusals)", refused);
}

/* ------------------------------------------------------------ single behaviours */

Test(commit, strict_refuses_a_mapping_past_the_limit_and_takes_one_that_fits)
{
	setup_app();
	commit_set_mode(COMMIT_STRICT);
	size_t limit = aspace_commit_limit(), before = as.commit_pages;
	cr_assert_gt(limit, before);
	size_t room = limit - before;
	long v = aspace_map(&as, 0, 0, (room + 1) * P, VM_WRITE);
	cr_assert_eq(v, -ENOMEM);
	cr_assert_eq(as.commit_pages, before, "a refused map charges nothing");
	/* Half of what is left fits, and every page of it can be touched. */
	v = aspace_map(&as, 0, 0, room / 2 * P, VM_WRITE);
	cr_assert_gt(v, 0);
	cr_assert_eq(as.commit_pages, before + room / 2);
	for (size_t i = 0; i < room / 2; i++)
		cr_assert_eq(aspace_fault(&as, (vaddr_t)v + i * P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(aspace_unmap(&as, (vaddr_t)v, room / 2 * P), 0);
	cr_assert_eq(as.commit_pages, before);
	aspace_destroy(&as);
}

Test(commit, prot_none_costs_nothing_until_made_writable)
{
	setup_app();
	commit_set_mode(COMMIT_STRICT);
	size_t before = as.commit_pages, limit = aspace_commit_limit();
	/* A reservation far larger than memory, as Go and glibc's arenas make. */
	long v = aspace_map(&as, 0, 0, 1ull << 34, ASPACE_NOACCESS);
	cr_assert_gt(v, 0);
	cr_assert_eq(as.commit_pages, before);
	cr_assert_eq(aspace_protect(&as, (vaddr_t)v, 16 * P, VM_WRITE), 0);
	cr_assert_eq(as.commit_pages, before + 16);
	cr_assert_eq(aspace_protect(&as, (vaddr_t)v, (limit + 1) * P, VM_WRITE), -ENOMEM);
	cr_assert_eq(as.commit_pages, before + 16, "nothing changed");
	cr_assert_eq(aspace_protect(&as, (vaddr_t)v, 16 * P, 0), 0); /* read-only: back */
	cr_assert_eq(as.commit_pages, before);
	aspace_destroy(&as);
}

Test(commit, lazily_freed_pages_stay_charged_and_owned)
{
	setup_app();
	long v = aspace_map(&as, 0, 0, 8 * P, VM_WRITE);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(aspace_fault(&as, (vaddr_t)v + i * P, ASPACE_ACCESS_WRITE), 0);
	size_t owned = as.commit_owned, charged = as.commit_pages;
	cr_assert_eq(aspace_free_lazily(&as, (vaddr_t)v, 8 * P), 0);
	cr_assert_eq(as.commit_pages, charged);
	cr_assert_eq(as.commit_owned, owned);
	cr_assert_eq(aspace_dontneed(&as, (vaddr_t)v, 8 * P), 0);
	cr_assert_eq(as.commit_pages, charged, "DONTNEED keeps the charge");
	cr_assert_eq(as.commit_owned, owned - 8, "but the frames are gone");
	aspace_destroy(&as);
}

Test(commit, held_pages_are_kept_from_other_allocations_in_strict_mode)
{
	setup_app();
	commit_set_mode(COMMIT_STRICT);
	size_t room = aspace_commit_limit() - as.commit_pages;
	/* Charge most of what is left (a mapping's table budget is charged
	 * with it, so not quite all fits). */
	long v = aspace_map(&as, 0, 0, (room - room / 400 - 8) * P, VM_WRITE);
	cr_assert_gt(v, 0);
	size_t spare = palloc_free_pages() - ASPACE_KERNEL_RESERVE_PAGES - commit_held();
	cr_assert_lt(spare, room / 400 + 8);
	cr_assert(aspace_pages_available(spare));
	cr_assert(!aspace_pages_available(spare + 1), "the held pages are not tmpfs's");
	commit_set_mode(COMMIT_LAZY);
	cr_assert(aspace_pages_available(spare + 1000), "lazy mode holds nothing");
	aspace_destroy(&as);
}

Test(commit, mremap_growth_and_brk_are_charged_and_refused_past_the_limit)
{
	setup_app();
	commit_set_mode(COMMIT_STRICT);
	long v = aspace_map(&as, 0, 0, 4 * P, VM_WRITE);
	size_t before = as.commit_pages;
	cr_assert_eq(aspace_remap(&as, (vaddr_t)v, 4 * P, 12 * P, ASPACE_REMAP_MAYMOVE, 0), v);
	cr_assert_eq(as.commit_pages, before + 8);
	size_t room = aspace_commit_limit() - as.commit_pages;
	cr_assert_eq(
	    aspace_remap(&as, (vaddr_t)v, 12 * P, (12 + room + 1) * P, ASPACE_REMAP_MAYMOVE, 0),
	    -ENOMEM);
	cr_assert_eq(as.commit_pages, before + 8);
	vaddr_t heap = IMG_BASE + 4 * P;
	cr_assert_eq(aspace_brk(&as, heap + (room + 1) * P), heap, "brk stays put");
	cr_assert_eq(aspace_brk(&as, heap + 3 * P), heap + 3 * P);
	cr_assert_eq(as.commit_pages, before + 8 + 3);
	aspace_destroy(&as);
	struct commit_stats st;
	commit_get_stats(&st);
	cr_assert_eq(st.charged + st.owned + st.tables, 0);
}

Test(commit, lazy_mode_maps_more_than_memory)
{
	setup_app();
	long v = aspace_map(&as, 0, 0, 1ull << 34, VM_WRITE);
	cr_assert_gt(v, 0);
	cr_assert_gt(as.commit_pages, aspace_commit_limit(), "charged, not checked");
	aspace_destroy(&as);
}

/* ------------------------------------------------------------ file mappings */

/* A file of FILE_PAGES pages, made on first use, as a tmpfs file. */
#define FILE_PAGES 16
static struct vmobj file;
static paddr_t file_pages[FILE_PAGES];
static int file_holds;

static int file_get_page(struct vmobj *obj, uint64_t index, int write, paddr_t *pa)
{
	(void)obj;
	(void)write;
	if (index >= FILE_PAGES)
		return -EIO;
	if (!file_pages[index]) {
		file_pages[index] = palloc(1);
		cr_assert_neq(file_pages[index], 0);
		memset(phys_to_virt(file_pages[index]), (int)index, P);
	}
	*pa = file_pages[index];
	return 0;
}

static void file_hold(struct vmobj *obj)
{
	(void)obj;
	file_holds++;
}

static void file_release(struct vmobj *obj)
{
	(void)obj;
	file_holds--;
}

static const struct vmobj_ops file_ops = {
    .get_page = file_get_page, .hold = file_hold, .release = file_release};

Test(commit, private_writable_file_mappings_are_charged_and_shared_ones_are_not)
{
	setup_app();
	commit_set_mode(COMMIT_STRICT);
	file.ops = &file_ops;
	size_t before = as.commit_pages, owned = as.commit_owned;
	long shared = aspace_map_object(&as, 0, FILE_PAGES * P, VM_WRITE, &file, 0, 1);
	cr_assert_gt(shared, 0);
	cr_assert_eq(as.commit_pages, before, "the file's pages are the file's");
	long priv = aspace_map_object(&as, 0, FILE_PAGES * P, VM_WRITE, &file, 0, 0);
	cr_assert_gt(priv, 0);
	cr_assert_eq(as.commit_pages, before + FILE_PAGES, "a write may copy every page");
	/* A read borrows the file's page: charged, not owned; a write copies. */
	cr_assert_eq(aspace_fault(&as, (vaddr_t)priv, ASPACE_ACCESS_READ), 0);
	cr_assert_eq(as.commit_owned, owned);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)priv, ASPACE_ACCESS_WRITE | ASPACE_ACCESS_PRESENT),
		     0);
	cr_assert_eq(aspace_fault(&as, (vaddr_t)priv + P, ASPACE_ACCESS_WRITE), 0);
	cr_assert_eq(as.commit_owned, owned + 2, "two copies");
	/* Read-only: the copies leave the owned count with the charge. */
	cr_assert_eq(aspace_protect(&as, (vaddr_t)priv, FILE_PAGES * P, 0), 0);
	cr_assert_eq(as.commit_pages, before);
	cr_assert_eq(as.commit_owned, owned);
	cr_assert_eq(aspace_protect(&as, (vaddr_t)priv, 4 * P, VM_WRITE), 0);
	cr_assert_eq(as.commit_pages, before + 4);
	cr_assert_eq(as.commit_owned, owned + 2, "and come back with it");
	aspace_destroy(&as);
	struct commit_stats st;
	commit_get_stats(&st);
	cr_assert_eq(st.charged + st.owned + st.tables, 0);
	cr_assert_eq(file_holds, 0);
	for (int i = 0; i < FILE_PAGES; i++)
		if (file_pages[i])
			pfree(file_pages[i], 1);
}

/* ------------------------------------------------------------ boot.cfg overcommit= */

static char warned[160];

static void note_warning(unsigned line, const char *message, const char *detail)
{
	snprintf(warned, sizeof(warned), "%u:%s:%s", line, message, detail);
}

static unsigned parse_cfg(const char *text, struct boot_config *cfg)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s", text);
	warned[0] = 0;
	return bootcfg_parse(buf, strlen(buf), cfg, note_warning);
}

Test(commit, bootcfg_overcommit_takes_strict_or_lazy_and_reports_a_bad_value)
{
	struct boot_config cfg;

	cr_assert_eq(parse_cfg("", &cfg), 0);
	cr_assert_eq(cfg.overcommit, BOOTCFG_OVERCOMMIT_DEFAULT);
	cr_assert_eq(parse_cfg("overcommit=lazy\n", &cfg), 0, "%s", warned);
	cr_assert_eq(cfg.overcommit, BOOTCFG_OVERCOMMIT_LAZY);
	cr_assert_eq(parse_cfg("overcommit=lazy\novercommit=strict\n", &cfg), 0, "%s", warned);
	cr_assert_eq(cfg.overcommit, BOOTCFG_OVERCOMMIT_STRICT);
	cr_assert_eq(parse_cfg("overcommit=never\n", &cfg), 1);
	cr_assert_eq(cfg.overcommit, BOOTCFG_OVERCOMMIT_DEFAULT, "a bad value keeps the default");
	cr_assert_str_eq(warned, "1:overcommit must be strict or lazy:overcommit=never");
}
