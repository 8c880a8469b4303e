/* Allocation-failure injection: the counter and the generator (see failinj.h). */
#include "mm/failinj.h"

#include "kernel/abi/errno.h"
#include "kernel/kprintf.h"

static struct {
	struct failinj_config cfg;
	bool armed;
	uint64_t rng; /* splitmix64 state */
	struct failinj_stats stats;
} fi;

/* Decimal digits only, at least one, no overflow; 0 or -1. */
static int parse_u64(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return 0;
}

int failinj_parse(const char *s, struct failinj_config *out)
{
	static const char random[] = "random:";
	struct failinj_config c = {0};
	uint64_t v;
	unsigned i = 0;

	while (random[i] && s[i] == random[i])
		i++;
	if (!random[i]) {
		s += i;
		c.mode = FAILINJ_RANDOM;
		if (parse_u64(&s, &c.seed) || *s++ != ':' || parse_u64(&s, &v) || *s || v < 1 ||
		    v > 1000)
			return -EINVAL;
		c.per_mille = (unsigned)v;
	} else {
		c.mode = FAILINJ_NTH;
		if (parse_u64(&s, &c.nth) || *s || c.nth < 1)
			return -EINVAL;
	}
	*out = c;
	return 0;
}

void failinj_set(const struct failinj_config *cfg)
{
	fi.cfg = *cfg;
	fi.armed = false;
	fi.rng = cfg->seed;
	fi.stats = (struct failinj_stats){0};
}

void failinj_arm(void)
{
	fi.armed = fi.cfg.mode != FAILINJ_OFF;
}

void failinj_disarm(void)
{
	fi.armed = false;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool failinj_should_fail(void)
{
	bool fail;

	if (!fi.armed)
		return false;
	fi.stats.points++;
	if (fi.cfg.mode == FAILINJ_NTH)
		fail = fi.stats.points == fi.cfg.nth;
	else
		fail = splitmix64(&fi.rng) % 1000 < fi.cfg.per_mille;
	fi.stats.failed += fail;
#ifndef HOST_TEST
	/* Who asked, for the sweeps' logs (addr2line on kernel-san.elf): the
	 * allocator, its caller and theirs. Safe here: the kernel keeps frame
	 * pointers and an allocation is never made three frames from the top. */
#pragma GCC diagnostic ignored "-Wframe-address"
	if (fail)
		kprintf("solo: failalloc: failing allocation %lu: %p <- %p <- %p\n",
			(unsigned long)fi.stats.points, __builtin_return_address(0),
			__builtin_return_address(1), __builtin_return_address(2));
#endif
	return fail;
}

void failinj_get_stats(struct failinj_stats *out)
{
	*out = fi.stats;
}

bool failinj_enabled(void)
{
	return fi.cfg.mode != FAILINJ_OFF;
}
