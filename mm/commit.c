/* Commit accounting (see commit.h): the totals and the mode. */
#include "mm/commit.h"

#include "kernel/panic.h"

static enum commit_mode mode;
static struct commit_stats totals;

void commit_set_mode(enum commit_mode m)
{
	mode = m;
}

enum commit_mode commit_mode(void)
{
	return mode;
}

/* t + d, or a panic naming what when it leaves [0, SIZE_MAX]. */
static size_t apply(size_t t, long d, const char *what)
{
	if (d < 0 && (size_t) - (d + 1) >= t)
		panic("commit_add: %s would go below zero (%zu %ld)", what, t, d);
	return t + (size_t)d;
}

void commit_add(long dcharged, long downed, long dtables)
{
	totals.charged = apply(totals.charged, dcharged, "the charge");
	totals.owned = apply(totals.owned, downed, "the owned count");
	totals.tables = apply(totals.tables, dtables, "the table budget");
	if (totals.owned > totals.charged)
		panic("commit_add: %zu owned pages of %zu charged", totals.owned, totals.charged);
	if (totals.charged > totals.peak_charged)
		totals.peak_charged = totals.charged;
}

void commit_get_stats(struct commit_stats *out)
{
	*out = totals;
}

size_t commit_held(void)
{
	if (mode != COMMIT_STRICT)
		return 0;
	return totals.charged - totals.owned + totals.tables;
}

size_t commit_limit(size_t free_pages, size_t reserve_pages)
{
	size_t keep = reserve_pages + totals.tables;

	return totals.owned + (free_pages > keep ? free_pages - keep : 0);
}

void commit_reset(void)
{
	mode = COMMIT_LAZY;
	totals = (struct commit_stats){0};
}
