/*
 * The demo app that `make run` boots: an ordinary static musl program in
 * ring 3 that greets, shows its argv and environment, and exits 0.
 */
#include <stdio.h>

int main(int argc, char **argv, char **envp)
{
	printf("Hello from Solo! This is %s, running in ring 3.\n", argv[0]);
	printf("argc = %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);
	for (char **e = envp; *e; e++)
		printf("env: %s\n", *e);
	return 0;
}
