/* Test app: prints where main and a stack variable are, so that boot tests
 * can compare addresses across boots (ASLR). Built as where-pie.elf. */
#include <stdio.h>

int main(void)
{
	int local = 0;

	printf("where: main=%p stack=%p\n", (void *)main, (void *)&local);
	return local;
}
