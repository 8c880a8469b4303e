/* The interface of libdynlib.so and of the plugin dynhost dlopen()s. */
#pragma once

int dynlib_constructed(void);
unsigned dynlib_hash(const char *s);
int dynlib_calls(void);

/* The plugin's entry (dynplugin.c): writes a line describing what it
 * computed into buf; returns its length. Calls back into libdynlib. */
int dynplugin_describe(char *buf, int size, const char *word);
typedef int (*dynplugin_describe_fn)(char *buf, int size, const char *word);
