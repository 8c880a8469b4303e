/*
 * libdynlib.so: the library dynhost links against (DT_NEEDED, found through
 * its RUNPATH $ORIGIN). Thread-local and initialised data, a constructor.
 */
#include "dynlib.h"

static int constructed;
static __thread int calls;

__attribute__((constructor)) static void init(void)
{
	constructed = 1;
}

int dynlib_constructed(void)
{
	return constructed;
}

/* FNV-1a over s; counts calls in this thread. */
unsigned dynlib_hash(const char *s)
{
	unsigned h = 2166136261u;

	calls++;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

int dynlib_calls(void)
{
	return calls;
}
