/*
 * netcfg - what the network configuration gives an app without sockets:
 * prints the /etc files the kernel provides (each line as
 * "netcfg: FILE: LINE") and uname's nodename ("netcfg: nodename NAME").
 * With the argument "deadlock" it then blocks reading a pipe nobody will
 * write: with no socket open, a NIC must not keep that alive (the kernel
 * ends the app with 137).
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static void show(const char *path, const char *name)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("netcfg: %s: missing\n", name);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		printf("netcfg: %s: %s\n", name, line);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct utsname u;
	int fds[2];
	char c;

	show("/etc/resolv.conf", "resolv.conf");
	show("/etc/hosts", "hosts");
	show("/etc/nsswitch.conf", "nsswitch.conf");
	if (uname(&u) == 0)
		printf("netcfg: nodename %s\n", u.nodename);
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "deadlock")) {
		if (pipe(fds))
			return 2;
		read(fds[0], &c, 1); /* nobody writes: the kernel must end us */
		return 3;
	}
	return 0;
}
