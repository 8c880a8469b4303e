/*
 * Console input from a keyboard instead of the serial port: QEMU's PS/2
 * keyboard (i8042, on q35 and pc) and USB keyboards on its xHCI controller
 * (on a root port, behind a hub, plugged in after boot), typed on through
 * the QEMU monitor's sendkey while tests/apps/echo.elf reads lines. Keys
 * name positions, as on a US keyboard; boot.cfg keymap= says what they
 * mean. sendkey goes to the keyboard QEMU made last; the USB tests take
 * the PS/2 controller away (--no-ps2) so nothing else could have typed.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Boots echo.elf with extra mkimg args and tools/qemu.sh options; at
 * each step waits for its text in the log, then gives the monitor its
 * commands and types its keys. Returns the log once QEMU ended (or was
 * stopped after 60 s). */
struct step {
	const char *wait_for;
	const char *const *keys;
	const char *const *commands; /* monitor commands before the keys, or NULL */
};

/* Monitor commands other than sendkey (device_add, device_del). */
static void monitor_commands(const char *sock, const char *const *commands)
{
	int fd = harness_monitor_open(sock, 10);

	for (; *commands; commands++) {
		free(harness_monitor_command(fd, "%s", *commands));
		usleep(500000);
	}
	close(fd);
}

static char *type_at_echo(const char *name, const char *mkimg_extra, const char *qemu_opts,
			  const struct step *steps, size_t nsteps, int *exit_status)
{
	char *mkimg = harness_format("--app build/tests/apps/echo.elf %s", mkimg_extra);
	char *image = harness_mkimg(name, mkimg);
	char *log_path = harness_format("build/tests/log/%s.log", name);
	char *sock = harness_format("build/tests/%s.sock", name);
	char *pidfile = harness_format("build/tests/%s.pid", name);
	unlink(log_path);
	unlink(sock);
	unlink(pidfile);
	char *cmd =
	    harness_format("exec tools/qemu.sh %s %s --serial %s --monitor %s "
			   "--qemu-arg -pidfile --qemu-arg %s --timeout 120 >/dev/null 2>&1",
			   image, qemu_opts, log_path, sock, pidfile);
	pid_t pid = harness_start(cmd);
	size_t at = 0;

	for (size_t i = 0; i < nsteps; i++) {
		at = harness_wait_text(log_path, steps[i].wait_for, at, 90);
		if (steps[i].commands)
			monitor_commands(sock, steps[i].commands);
		if (steps[i].keys)
			harness_press_keys(sock, steps[i].keys);
	}
	*exit_status = harness_stop(pid, pidfile, 60);
	char *log = harness_read_file(log_path);
	free(cmd);
	free(pidfile);
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
 * way (backspace); ^C then ends a blocked read with SIGINT. keyboard is
 * the boot log line that says which keyboard it was. */
static void types_a_line_then_ctrl_c(const char *name, const char *qemu_opts, const char *keyboard)
{
	const struct step steps[] = {
	    {"echo: ready", hello, NULL},
	    {"echo: hello World", ctrl_c, NULL},
	};
	int status;
	char *log = type_at_echo(name, "", qemu_opts, steps, 2, &status);

	cr_assert(strstr(log, keyboard), "no '%s'; log:\n%s", keyboard, log);
	cr_assert(harness_has_line(log, "echo: hello World"), "log:\n%s", log);
	cr_assert(strstr(log, "hello World\b \bd"), "the erase is echoed; log:\n%s", log);
	cr_assert(!strstr(log, "echo: half"), "log:\n%s", log);
	cr_assert(strstr(log, "solo: app killed: signal 2 (SIGINT)"), "log:\n%s", log);
	harness_assert_exit(log, status, 130);
	free(log);
}

Test(keyboard, ps2_line_and_ctrl_c_on_q35)
{
	types_a_line_then_ctrl_c("kbd-q35", "--machine q35", "solo: keyboard: PS/2, layout us");
}

Test(keyboard, ps2_line_and_ctrl_c_on_pc)
{
	types_a_line_then_ctrl_c("kbd-pc", "--machine pc", "solo: keyboard: PS/2, layout us");
}

/* A PC of today: no PS/2 controller, a USB keyboard on the xHCI root hub. */
Test(keyboard, usb_line_and_ctrl_c_without_ps2)
{
	types_a_line_then_ctrl_c("kbd-usb", "--machine q35 --no-ps2 --usb-keyboard",
				 "keyboard 0627:0001, high speed");
}

/*
 * A keyboard behind a hub: Caps Lock (and its LED, which the keyboard
 * accepts), a key held down repeating at the host's rate, then the
 * keyboard unplugged and another plugged into a root port after boot,
 * which types the line that ends the app. With log=debug for the LED line.
 */
Test(keyboard, usb_hub_caps_lock_repeat_and_hot_plug)
{
	static const char *const ok[] = {"o", "k", "ret", NULL};
	static const char *const caps_hi[] = {"caps_lock", "h", "i", "caps_lock", "ret", NULL};
	static const char *const hold_x[] = {"x 1500", "ret", NULL};
	static const char *const swap[] = {"device_del hubkbd",
					   "device_add usb-kbd,bus=xhci.0,port=2,id=newkbd", NULL};
	const struct step steps[] = {
	    {"echo: ready", caps_hi, NULL}, {"echo: HI", hold_x, NULL},
	    {"echo: xx", NULL, swap},	    {"port 6: keyboard 0627:0001", ok, NULL},
	    {"echo: ok", quit, NULL},
	};
	int status;
	char *log =
	    type_at_echo("kbd-usb-hub", "--config log=debug",
			 "--machine q35 --no-ps2 --xhci "
			 "--qemu-arg -device --qemu-arg usb-hub,bus=xhci.0,port=1,id=hub "
			 "--qemu-arg -device --qemu-arg usb-kbd,bus=xhci.0,port=1.2,id=hubkbd",
			 steps, 5, &status);

	cr_assert(strstr(log, "solo: keyboard: no PS/2 controller"), "log:\n%s", log);
	cr_assert(strstr(log, "port 5: hub, 8 ports"), "log:\n%s", log);
	cr_assert(strstr(log, "port 5.2: keyboard 0627:0001, full speed"), "log:\n%s", log);
	cr_assert(strstr(log, "port 5.2: LEDs num caps: set"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: HI"), "log:\n%s", log);
	/* 1.5 s held: one press, repeats from 0.5 s at 30/s. Timing under TCG
	 * is loose; a few repeats at least, and no flood. */
	const char *x = strstr(log, "echo: xx");
	size_t n = x ? strspn(x + 6, "x") : 0;
	cr_assert(n >= 5 && n <= 60, "%zu x for a 1.5 s hold; log:\n%s", n, log);
	cr_assert(strstr(log, "port 5.2: unplugged"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: ok"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/* keymap=de: the same key positions give German characters, in UTF-8. */
Test(keyboard, ps2_german_layout)
{
	static const char *const german[] = {
	    "y", "z", "bracket_left", "semicolon", "shift-2", "alt_r-q", "less", "ret", NULL};
	const struct step steps[] = {
	    {"echo: ready", german, NULL},
	    {"echo: ", quit, NULL},
	};
	int status;
	char *log =
	    type_at_echo("kbd-de", "--config keymap=de", "--machine q35", steps, 2, &status);

	cr_assert(strstr(log, "solo: keyboard: PS/2, layout de"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: zy\xc3\xbc\xc3\xb6\"@<"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}
