/*
 * Host tests of mm/failinj.c, the allocation-failure injection of the
 * sanitized kernel: the failalloc= parser, the Nth and random counters,
 * and (the mm objects of the unit tests are built with SOLO_FAILINJ) the
 * allocators' points: each fails cleanly and returns what it took.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "mm/failinj.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm_arena.h"

static const struct failinj_config off = {.mode = FAILINJ_OFF};

static struct failinj_config parsed(const char *s)
{
	struct failinj_config c;
	cr_assert_eq(failinj_parse(s, &c), 0, "'%s' should parse", s);
	return c;
}

Test(failinj, parses_nth_and_random)
{
	struct failinj_config c = parsed("17");
	cr_assert_eq(c.mode, FAILINJ_NTH);
	cr_assert_eq(c.nth, 17);
	c = parsed("18446744073709551615");
	cr_assert_eq(c.nth, UINT64_MAX);
	c = parsed("random:42:250");
	cr_assert_eq(c.mode, FAILINJ_RANDOM);
	cr_assert_eq(c.seed, 42);
	cr_assert_eq(c.per_mille, 250);
	c = parsed("random:0:1000");
	cr_assert_eq(c.per_mille, 1000);
}

Test(failinj, refuses_bad_values_and_leaves_the_output_alone)
{
	static const char *const bad[] = {
	    "",		  "0",		 "-1",
	    "1x",	  " 1",		 "18446744073709551616",
	    "random",	  "random:",	 "random:1",
	    "random:1:",  "random:1:0",	 "random:1:1001",
	    "random::5",  "random:x:5",	 "random:1:5:",
	    "Random:1:5", "random:1:5 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct failinj_config c = {.mode = FAILINJ_NTH, .nth = 99};
		cr_assert_eq(failinj_parse(bad[i], &c), -EINVAL, "'%s' should be refused", bad[i]);
		cr_assert_eq(c.nth, 99, "'%s' changed the output", bad[i]);
	}
}

Test(failinj, nth_fails_exactly_one_counted_from_arming)
{
	struct failinj_config c = parsed("3");
	struct failinj_stats st;

	failinj_set(&c);
	/* Not armed yet: the kernel's own allocations are not counted. */
	for (int i = 0; i < 10; i++)
		cr_assert(!failinj_should_fail());
	failinj_arm();
	cr_assert(!failinj_should_fail());
	cr_assert(!failinj_should_fail());
	cr_assert(failinj_should_fail());
	for (int i = 0; i < 100; i++)
		cr_assert(!failinj_should_fail());
	failinj_disarm();
	cr_assert(!failinj_should_fail());
	failinj_get_stats(&st);
	cr_assert_eq(st.points, 103);
	cr_assert_eq(st.failed, 1);
	cr_assert(failinj_enabled());
}

Test(failinj, off_never_fails_even_when_armed)
{
	struct failinj_stats st;

	failinj_set(&off);
	failinj_arm();
	for (int i = 0; i < 1000; i++)
		cr_assert(!failinj_should_fail());
	failinj_get_stats(&st);
	cr_assert_eq(st.points, 0);
	cr_assert(!failinj_enabled());
}

/* The sequence of answers for cfg over n calls, as a bit string. */
static void sequence(const struct failinj_config *cfg, char *out, size_t n)
{
	failinj_set(cfg);
	failinj_arm();
	for (size_t i = 0; i < n; i++)
		out[i] = failinj_should_fail() ? '1' : '0';
	out[n] = '\0';
	failinj_disarm();
}

Test(failinj, random_is_reproducible_per_seed_and_near_its_rate)
{
	static char a[10001], b[10001], c[10001];
	struct failinj_config r = parsed("random:7:100");
	struct failinj_stats st;

	sequence(&r, a, 10000);
	failinj_get_stats(&st);
	sequence(&r, b, 10000);
	cr_assert_str_eq(a, b, "same seed, different failures");
	/* 10% of 10000: the binomial's deviation is 30, allow 5 of them. */
	cr_assert(st.failed > 850 && st.failed < 1150, "%lu of 10000 failed at 100 per mille",
		  (unsigned long)st.failed);
	r.seed = 8;
	sequence(&r, c, 10000);
	cr_assert_str_neq(a, c, "two seeds gave the same failures");
	r.per_mille = 1000;
	sequence(&r, c, 100);
	cr_assert_str_eq(c, "1111111111111111111111111111111111111111111111111111111111111111111111"
			    "111111111111111111111111111111");
}

static size_t free_pages(void)
{
	struct palloc_stats st;
	palloc_get_stats(&st);
	return st.free_pages;
}

/* Arm failalloc=N for the code that follows. */
static void fail_nth(uint64_t n)
{
	struct failinj_config c = {.mode = FAILINJ_NTH, .nth = n};
	failinj_set(&c);
	failinj_arm();
}

Test(failinj, palloc_and_kmalloc_fail_at_their_point_then_work_again)
{
	mm_test_setup();
	size_t before = free_pages();

	fail_nth(1);
	cr_assert_eq(palloc(1), 0);
	paddr_t pa = palloc(1);
	cr_assert_neq(pa, 0);
	pfree(pa, 1);
	fail_nth(1);
	cr_assert_eq(palloc(4), 0, "palloc of several pages has its own point");
	fail_nth(1);
	cr_assert_null(kmalloc(40));
	fail_nth(1);
	cr_assert_null(zmalloc(3 * PAGE_SIZE));
	void *p = kmalloc(40);
	cr_assert_not_null(p);
	kfree(p);
	failinj_disarm();
	kmalloc_trim();
	cr_assert_eq(free_pages(), before);
}

/* vm_map needs up to three table pages for a fresh address: failing each
 * of them in turn must give -ENOMEM and keep no page. */
Test(failinj, vm_map_fails_cleanly_at_every_table_page)
{
	struct vm_ctx kctx, uctx;

	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	cr_assert_eq(vm_ctx_init_user(&uctx, &kctx), 0);
	size_t before = free_pages();
	unsigned failures = 0;

	for (uint64_t n = 1; n <= 8; n++) {
		fail_nth(n);
		int err = vm_map(&uctx, 0x400000, MM_TEST_RAM_BASE + 0x5000, VM_USER | VM_WRITE);
		struct failinj_stats st;
		failinj_get_stats(&st);
		failinj_disarm();
		if (st.failed) {
			cr_assert_eq(err, -ENOMEM, "failure at point %lu gave %d", (unsigned long)n,
				     err);
			failures++;
		} else {
			cr_assert_eq(err, 0);
		}
		cr_assert_eq(vm_unmap(&uctx, 0x400000, NULL), err ? -ENOENT : 0);
		vm_ctx_destroy_user(&uctx, 0);
		cr_assert_eq(vm_ctx_init_user(&uctx, &kctx), 0);
		cr_assert_eq(free_pages(), before, "point %lu kept a page", (unsigned long)n);
	}
	cr_assert_geq(failures, 3, "each table page is a point (and palloc's beneath it)");
}
