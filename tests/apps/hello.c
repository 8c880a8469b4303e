/* Test app: prints argv and envp one per line, exits with status 0. Also
 * built as a static PIE (hello-pie.elf). */
#include <stdio.h>

int main(int argc, char **argv, char **envp)
{
	printf("hello: argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=<%s>\n", i, argv[i]);
	for (char **e = envp; *e; e++)
		printf("envp=<%s>\n", *e);
	return 0;
}
