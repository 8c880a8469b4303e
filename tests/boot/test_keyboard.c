/*
 * Console input from a keyboard instead of the serial port: QEMU's PS/2
 * keyboard (i8042, on q35 and pc), typed on through the QEMU monitor's
 * sendkey while tests/apps/echo.elf reads lines. Keys name positions, as
 * on a US keyboard; boot.cfg keymap= says what they mean.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Boots echo.elf on machine with extra mkimg args, types each group of
 * keys after waiting for its prompt text, and returns the log once QEMU
 * ended (or was stopped after 60 s). */
struct step {
	const char *wait_for;
	const char *const *keys;
};

static char *type_at_echo(const char *name, const char *mkimg_extra, const char *machine,
			  const struct step *steps, size_t nsteps, int *exit_status)
{
	char *mkimg = harness_format("--app build/tests/apps/echo.elf %s", mkimg_extra);
	char *image = harness_mkimg(name, mkimg);
	char *log_path = harness_format("build/tests/log/%s.log", name);
	char *sock = harness_format("build/tests/%s.sock", name);
	unlink(log_path);
	unlink(sock);
	char *cmd = harness_format("exec tools/qemu.sh %s --machine %s --serial %s --monitor %s "
				   "--timeout 120 >/dev/null 2>&1",
				   image, machine, log_path, sock);
	pid_t pid = harness_start(cmd);
	size_t at = 0;

	for (size_t i = 0; i < nsteps; i++) {
		at = harness_wait_text(log_path, steps[i].wait_for, at, 90);
		harness_press_keys(sock, steps[i].keys);
	}
	int wstatus = 0, ended = 0;
	for (int i = 0; i < 240 && !ended; i++) {
		ended = waitpid(pid, &wstatus, WNOHANG) == pid;
		if (!ended)
			usleep(250000);
	}
	if (!ended) {
		kill(pid, SIGTERM);
		waitpid(pid, &wstatus, 0);
	}
	*exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	char *log = harness_read_file(log_path);
	free(cmd);
	free(sock);
	free(log_path);
	free(image);
	free(mkimg);
	return log ? log : strdup("");
}

static const char *const hello[] = {"h", "e", "l", "l",		"o", "spc", "shift-w", "o",
				    "r", "l", "d", "backspace", "d", "ret", NULL};
static const char *const quit[] = {"q", "u", "i", "t", "ret", NULL};
static const char *const ctrl_c[] = {"h", "a", "l", "f", "ctrl-c", NULL};

/* A line typed on the keyboard reaches read(), echoed and edited on the
 * way (backspace), on both chipsets; ^C then ends a blocked read with
 * SIGINT. */
static void types_a_line_then_ctrl_c(const char *machine)
{
	const struct step steps[] = {
	    {"echo: ready", hello},
	    {"echo: hello World", ctrl_c},
	};
	int status;
	char *name = harness_format("kbd-%s", machine);
	char *log = type_at_echo(name, "", machine, steps, 2, &status);

	cr_assert(strstr(log, "solo: keyboard: PS/2, layout us"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: hello World"), "log:\n%s", log);
	cr_assert(strstr(log, "hello World\b \bd"), "the erase is echoed; log:\n%s", log);
	cr_assert(!strstr(log, "echo: half"), "log:\n%s", log);
	cr_assert(strstr(log, "solo: app killed: signal 2 (SIGINT)"), "log:\n%s", log);
	harness_assert_exit(log, status, 130);
	free(log);
	free(name);
}

Test(keyboard, ps2_line_and_ctrl_c_on_q35)
{
	types_a_line_then_ctrl_c("q35");
}

Test(keyboard, ps2_line_and_ctrl_c_on_pc)
{
	types_a_line_then_ctrl_c("pc");
}

/* keymap=de: the same key positions give German characters, in UTF-8. */
Test(keyboard, ps2_german_layout)
{
	static const char *const german[] = {
	    "y", "z", "bracket_left", "semicolon", "shift-2", "alt_r-q", "less", "ret", NULL};
	const struct step steps[] = {
	    {"echo: ready", german},
	    {"echo: ", quit},
	};
	int status;
	char *log = type_at_echo("kbd-de", "--config keymap=de", "q35", steps, 2, &status);

	cr_assert(strstr(log, "solo: keyboard: PS/2, layout de"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: zy\xc3\xbc\xc3\xb6\"@<"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}
