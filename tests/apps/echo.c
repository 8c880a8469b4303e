/*
 * echo: reads lines from stdin (the serial port) and prints each back as
 * "echo: LINE" until a line "quit". A line "raw" switches the console to
 * raw mode (no ICANON, no ECHO) and reads 3 bytes with read(2), printed as
 * "raw: XYZ", then restores canonical mode. A line "poll" polls stdin for
 * the next line (5 s at most) and prints "poll: N revents R". Exits 0, or 1
 * on end of input.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	char line[256];

	printf("echo: ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "quit"))
			return 0;
		printf("echo: %s\n", line);
		if (!strcmp(line, "poll")) {
			struct pollfd p = {0, POLLIN, 0};
			int n = poll(&p, 1, 5000);
			printf("poll: %d revents %#x\n", n, (unsigned)p.revents);
		}
		if (!strcmp(line, "raw")) {
			struct termios old, raw;
			char b[4] = {0};
			size_t got = 0;
			tcgetattr(0, &old);
			raw = old;
			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			tcsetattr(0, TCSANOW, &raw);
			while (got < 3) {
				ssize_t n = read(0, b + got, 3 - got);
				if (n <= 0)
					return 1;
				got += (size_t)n;
			}
			tcsetattr(0, TCSANOW, &old);
			printf("raw: %s\n", b);
		}
		fflush(stdout);
	}
	printf("echo: end of input\n");
	return 1;
}
