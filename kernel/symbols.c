/*
 * Address -> function lookup over the build-time symbol table (see symbols.h).
 * A binary search; safe in any context, panics included: it reads only
 * constant data and takes no lock.
 */
#include "kernel/symbols.h"

#include <stddef.h>

const char *symbolize(uint64_t addr, uint64_t *offset)
{
	uint32_t lo = 0, hi = ksym_count;

	if (addr < ksym_base || addr - ksym_base > UINT32_MAX)
		return NULL;
	uint32_t rel = (uint32_t)(addr - ksym_base);

	/* Find the last entry starting at or below rel. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ksym_table[mid].offset <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ksym *s = &ksym_table[lo - 1];
	if (rel - s->offset >= s->size)
		return NULL;
	*offset = rel - s->offset;
	return &ksym_names[s->name];
}
