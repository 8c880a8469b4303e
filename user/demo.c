/*
 * The demo app that `make run` boots: an ordinary static musl program in
 * ring 3. It greets, shows its argv and environment, then shows demand
 * paging at work: it grows its heap by 4 MiB, touches 3 pages of it, and
 * prints reserved vs backed pages before and after.
 */
#include <stdio.h>

#include "solo.h"

static void show(const char *when)
{
	struct solo_mem_stats s;

	if (solo_mem_stats(&s) == 0)
		printf("heap %-14s reserved %5lu pages, backed %5lu pages (system free: %lu)\n",
		       when, (unsigned long)s.reserved_pages[SOLO_REGION_HEAP],
		       (unsigned long)s.backed_pages[SOLO_REGION_HEAP],
		       (unsigned long)s.system_free_pages);
}

int main(int argc, char **argv, char **envp)
{
	printf("Hello from Solo! This is %s, running in ring 3.\n", argv[0]);
	printf("argc = %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);
	for (char **e = envp; *e; e++)
		printf("env: %s\n", *e);

	show("at start:");
	struct solo_range more = solo_increase_heap(4 << 20, SOLO_MAP_WRITE);
	if (more.error) {
		printf("increase_heap failed: %ld\n", more.error);
		return 1;
	}
	show("grown 4 MiB:");
	for (int i = 0; i < 3; i++)
		((volatile char *)more.base)[i * 4096] = 1;
	show("3 pages used:");
	return 0;
}
