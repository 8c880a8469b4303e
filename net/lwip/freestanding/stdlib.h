/* <stdlib.h> for lwIP in the kernel: only netif_find's atoi. */
#pragma once

static inline int atoi(const char *s)
{
	int n = 0;

	while (*s >= '0' && *s <= '9')
		n = n * 10 + (*s++ - '0');
	return n;
}
