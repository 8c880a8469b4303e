/* Test app: exits with status 3 through exit(), after some output. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	puts("exit3: about to exit with status 3");
	exit(3);
}
