/*
 * libdynplugin.so: loaded by dynhost with dlopen() at run time (never a
 * DT_NEEDED), so its own dependency on libdynlib.so and its dynamic TLS
 * block are set up by the loader after start.
 */
#include <stdio.h>
#include <string.h>

#include "dynlib.h"

static __thread char last[32];

int dynplugin_describe(char *buf, int size, const char *word)
{
	snprintf(last, sizeof(last), "%s", word);
	return snprintf(buf, (size_t)size, "plugin: %s -> %08x (len %zu)", last, dynlib_hash(word),
			strlen(last));
}
