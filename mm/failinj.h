/*
 * failinj - allocation-failure injection, for the sanitized kernel.
 *
 * The kernel built with SOLO_FAILINJ (make kernel-san: build/kernel-san.elf)
 * asks failinj_point() at each allocation it makes: palloc and
 * palloc_aligned, kmalloc and friends (so lwIP's heap, which is kmalloc
 * through net/lwip/port.c), valloc, and the page-table pages of mm/vm.c.
 * When it answers true the allocator fails as it would on an empty machine.
 * boot.cfg's failalloc= chooses which (failinj_parse):
 *   failalloc=N                        fail only the Nth allocation (N >= 1)
 *   failalloc=random:SEED:PER_MILLE    fail each with probability
 *                                      PER_MILLE/1000 (1..1000), drawn from
 *                                      a generator seeded with SEED
 * Counting starts when failinj_arm() is called, just before the app runs,
 * and stops at failinj_disarm(), when the app ends: the kernel's own boot
 * allocations (and the teardown after the app) are not injected, because
 * failing them is legitimately fatal (a kernel that cannot build its page
 * tables panics by design). What runs while armed, on behalf of the app or
 * of a device, must survive any failure: an error to the app (ENOMEM,
 * EAGAIN, a short count), a dropped frame, or the app ended with a
 * "solo: app killed:" line, never a panic or a lost page.
 *
 * The release kernel compiles the points out (failinj_point() is 0) and
 * logs that failalloc= needs the sanitized build. One CPU, no locks: the
 * points are reached with the kernel's one context (see architecture.md).
 * Pure C; the logic is host-tested (tests/unit/test_failinj.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum failinj_mode {
	FAILINJ_OFF = 0,
	FAILINJ_NTH,	/* fail allocation number nth only */
	FAILINJ_RANDOM, /* fail each with per_mille/1000 probability */
};

struct failinj_config {
	enum failinj_mode mode;
	uint64_t nth;	    /* FAILINJ_NTH: 1-based */
	uint64_t seed;	    /* FAILINJ_RANDOM */
	unsigned per_mille; /* FAILINJ_RANDOM: 1..1000 */
};

struct failinj_stats {
	uint64_t points; /* allocations seen while armed */
	uint64_t failed; /* of those, failed on purpose */
};

/*
 * failinj_parse - the value of boot.cfg's failalloc= key into *out.
 * Returns 0, or -EINVAL (and *out untouched) when s is neither a decimal
 * N >= 1 nor "random:SEED:PER_MILLE" with a decimal SEED and PER_MILLE in
 * 1..1000. Pure.
 */
int failinj_parse(const char *s, struct failinj_config *out);

/* failinj_set - use cfg from the next failinj_arm(); disarms and clears the
 * statistics. FAILINJ_OFF makes failinj_point() always false. */
void failinj_set(const struct failinj_config *cfg);

/* failinj_arm / failinj_disarm - start and stop counting (idempotent). */
void failinj_arm(void);
void failinj_disarm(void);

/*
 * failinj_should_fail - count one allocation and say whether to fail it:
 * false while disarmed or FAILINJ_OFF. Deterministic: the same
 * configuration and the same sequence of calls give the same answers.
 */
bool failinj_should_fail(void);

/* failinj_get_stats - the counts since the last failinj_set(). */
void failinj_get_stats(struct failinj_stats *out);

/* failinj_enabled - true when the last failinj_set() chose a mode. */
bool failinj_enabled(void);

/* The hook an allocator calls first: compiled out of the release kernel. */
#ifdef SOLO_FAILINJ
#define failinj_point() failinj_should_fail()
#else
#define failinj_point() false
#endif
