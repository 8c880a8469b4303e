/*
 * The framebuffer console, seen from outside: boot the demo with enough
 * output to scroll the screen and one line long enough to wrap, take a
 * screenshot with the QEMU monitor's screendump, read the text back from
 * the pixels with the console's own font tables (build/gen/font.c) and
 * compare it with the tail of the serial log.
 *
 * The image uses on_exit=halt, so the machine stays up after "solo: exit 0"
 * until the test has its screenshot and quits QEMU through the monitor.
 * The last screenshot is kept in build/tests/log/screen.ppm.
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drivers/fbcon.h"
#include "harness.h"

#define BOOT_TIMEOUT	 180 /* qemu.sh --timeout: the machine halts, it never ends alone */
#define EXIT_LINE_WAIT	 150 /* seconds to wait for "solo: exit 0" */
#define SCREENDUMP_TRIES 10
#define MONITOR_WAIT_S	 10
#define NUM_ARGS	 64  /* argv lines: more than a screen, so it scrolls */
#define LONG_ARG_LEN	 230 /* an argv line wider than 160 columns: it wraps */
#define UNKNOWN_CELL	 '\x01'
#define UNKNOWN_CELL_STR "\x01"
#define FULL_SCREEN	 ((size_t)-1)
#define ANY_SCREEN	 ((size_t)-2) /* any screenshot: the test checks it itself */

static pid_t runner = -1; /* tools/qemu.sh, from harness_start */
static int monitor = -1;  /* from harness_monitor_open */
static char tmpdir[] = "/tmp/solo-screen.XXXXXX";
static char *qemu_pidfile;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ QEMU */

/* Stops QEMU by its pid (the machine halts, it never ends alone) and reaps
 * the runner. */
static void stop_qemu(void)
{
	if (monitor >= 0)
		close(monitor);
	monitor = -1;
	if (runner > 0)
		harness_stop(runner, qemu_pidfile, 0);
	runner = -1;
}

static void cleanup(void)
{
	char *cmd;

	stop_qemu();
	if (strstr(tmpdir, "XXXXXX") == NULL && asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0) {
		harness_run(NULL, "%s", cmd);
		free(cmd);
	}
}

/* ------------------------------------------------------------ reading the screen */

struct screenshot {
	unsigned width, height;
	unsigned char *rgb; /* width * height * 3 */
};

static int read_ppm(const char *path, struct screenshot *shot)
{
	FILE *f = fopen(path, "rb");
	unsigned maxval;
	size_t size;
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "P6 %u %u %u", &shot->width, &shot->height, &maxval) == 3 && maxval == 255 &&
	     fgetc(f) != EOF && shot->width && shot->height;
	size = (size_t)shot->width * shot->height * 3;
	shot->rgb = ok ? malloc(size) : NULL;
	ok = shot->rgb && fread(shot->rgb, 1, size, f) == size;
	fclose(f);
	return ok ? 0 : -1;
}

static int ink(const struct screenshot *s, unsigned x, unsigned y)
{
	const unsigned char *p = s->rgb + ((size_t)y * s->width + x) * 3;

	return p[0] | p[1] | p[2];
}

/* The printable ASCII character whose glyph cell (row, col) shows, in any
 * colour on black; UNKNOWN_CELL if none. */
static char read_cell(const struct screenshot *s, const struct fbcon_font *f, unsigned row,
		      unsigned col)
{
	for (unsigned ch = ' '; ch < 0x7f; ch++) {
		unsigned glyph = fbcon_font_glyph(f, ch);
		const uint8_t *bits = f->bitmaps + (size_t)glyph * f->height * f->row_bytes;
		int match = 1;

		for (unsigned y = 0; y < f->height && match; y++, bits += f->row_bytes) {
			for (unsigned x = 0; x < f->width && match; x++) {
				int want = !!(bits[x / 8] & (0x80 >> (x % 8)));
				match = want == !!ink(s, col * f->width + x, row * f->height + y);
			}
		}
		if (match)
			return (char)ch;
	}
	return UNKNOWN_CELL;
}

/* The colour of the first inked pixel of cell (row, col), as 0xRRGGBB; 0 if blank. */
static unsigned cell_colour(const struct screenshot *s, const struct fbcon_font *f, unsigned row,
			    unsigned col)
{
	for (unsigned y = 0; y < f->height; y++) {
		for (unsigned x = 0; x < f->width; x++) {
			unsigned px = col * f->width + x, py = row * f->height + y;
			if (ink(s, px, py)) {
				const unsigned char *p = s->rgb + ((size_t)py * s->width + px) * 3;
				return (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];
			}
		}
	}
	return 0;
}

struct text {
	char **lines;
	size_t n;
};

static void text_add(struct text *t, const char *s, size_t len)
{
	t->lines = realloc(t->lines, (t->n + 1) * sizeof(*t->lines));
	cr_assert_not_null(t->lines);
	t->lines[t->n] = strndup(s, len);
	cr_assert_not_null(t->lines[t->n]);
	t->n++;
}

/* Screen rows as text, trailing blanks dropped, blank rows at the bottom too. */
static struct text read_screen(const struct screenshot *s, const struct fbcon_font *f)
{
	unsigned cols = s->width / f->width, rows = s->height / f->height;
	char *line = malloc(cols + 1);
	struct text t = {0};

	cr_assert_not_null(line);
	for (unsigned r = 0; r < rows; r++) {
		unsigned n = 0;

		for (unsigned c = 0; c < cols; c++)
			line[n++] = read_cell(s, f, r, c);
		while (n && line[n - 1] == ' ')
			n--;
		text_add(&t, line, n);
	}
	while (t.n && !t.lines[t.n - 1][0])
		free(t.lines[--t.n]);
	free(line);
	return t;
}

/* The serial log as the screen would show it: lines without "\r", each cut
 * into rows of cols characters, trailing empty lines dropped. */
static struct text serial_rows(const char *log, unsigned cols)
{
	struct text t = {0};

	for (const char *s = log; *s;) {
		const char *end = strchr(s, '\n');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		size_t keep = len;

		while (keep && s[keep - 1] == '\r')
			keep--;
		if (keep == 0)
			text_add(&t, "", 0);
		for (size_t off = 0; off < keep; off += cols)
			text_add(&t, s + off, keep - off < cols ? keep - off : cols);
		s += len + (end ? 1 : 0);
	}
	while (t.n && !t.lines[t.n - 1][0])
		t.n--;
	return t;
}

static char *show(const struct text *t)
{
	size_t len = 0;
	char *out;

	for (size_t i = 0; i < t->n; i++)
		len += strlen(t->lines[i]) + 8;
	out = malloc(len + 1);
	cr_assert_not_null(out);
	out[0] = '\0';
	len = 0;
	for (size_t i = 0; i < t->n; i++)
		len += (size_t)sprintf(out + len, "%3zu |%s\n", i, t->lines[i]);
	for (char *c = out; *c; c++) {
		if (*c == UNKNOWN_CELL)
			*c = '%';
	}
	return out;
}

/*
 * Why the screen does not show the end of the serial log, from its top row
 * down (rows rows of text when rows is not 0), or NULL when it does.
 */
static char *mismatch(const struct text *screen, const struct text *serial, size_t rows)
{
	char *why = NULL;

	if (screen->n == 0)
		return strdup("the screen is blank");
	if (rows == ANY_SCREEN)
		return NULL;
	if (rows && screen->n != rows) {
		if (asprintf(&why, "the screen has %zu rows of text, want %zu", screen->n, rows) <
		    0)
			why = NULL;
		return why;
	}
	if (screen->n > serial->n)
		return strdup("the screen has more rows than the serial log");
	for (size_t i = 0; i < screen->n; i++) {
		const char *want = serial->lines[serial->n - screen->n + i];
		if (strcmp(screen->lines[i], want)) {
			if (asprintf(&why, "screen row %zu is not the serial line '%s'", i, want) <
			    0)
				why = NULL;
			return why;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ the tests */

TestSuite(screen, .fini = cleanup);

struct capture {
	char *log; /* serial log */
	char *ppm; /* the screenshot's path */
	struct screenshot shot;
	const struct fbcon_font *font;
	unsigned rows, cols; /* text cells on the screen */
	struct text screen;  /* screen rows read back */
	struct text serial;  /* the serial log cut into screen rows */
};

/* A screenshot in c->ppm, read into c->shot. */
static void screendump(struct capture *c)
{
	free(harness_monitor_command(monitor, "screendump %s", c->ppm));
	free(c->shot.rgb);
	c->shot.rgb = NULL;
	cr_assert_eq(read_ppm(c->ppm, &c->shot), 0, "screendump wrote no readable PPM at %s",
		     c->ppm);
}

/*
 * Boots an image made with mkimg_args (plus on_exit=halt), with qemu_opts,
 * waits for wait_for in the serial log, then takes screenshots until the
 * screen shows the end of the serial log from its top row down (want_rows
 * rows of text when not 0; FULL_SCREEN: all rows above the cursor's empty
 * bottom row). Fails the test with both texts when it never does. QEMU
 * stays up (see stop_qemu).
 */
static void capture(const char *name, const char *mkimg_args, const char *qemu_opts,
		    const char *wait_for, size_t want_rows, struct capture *c)
{
	char *image, *args, *cmd, *log_path, *sock, *out_path, *why = NULL;
	size_t at = 0;

	memset(c, 0, sizeof(*c));
	args = harness_format("%s --config on_exit=halt", mkimg_args);
	image = harness_mkimg(name, args);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	/* In /tmp: a unix socket's path has room for 107 bytes only. */
	sock = harness_format("%s/monitor.sock", tmpdir);
	qemu_pidfile = harness_format("%s/qemu.pid", tmpdir);
	out_path = harness_format("%s/qemu.out", tmpdir);
	log_path = harness_path("build/tests/log/%s.log", name);
	c->ppm = harness_path("build/tests/log/%s.ppm", name);
	harness_run(NULL, "mkdir -p build/tests/log && rm -f %s %s", harness_quote(log_path),
		    harness_quote(c->ppm));
	cmd = harness_format("exec tools/qemu.sh %s --serial %s --timeout %d --monitor %s "
			     "--qemu-arg -pidfile --qemu-arg %s %s >%s 2>&1 </dev/null",
			     harness_quote(image), harness_quote(log_path), BOOT_TIMEOUT,
			     harness_quote(sock), harness_quote(qemu_pidfile),
			     qemu_opts ? qemu_opts : "", harness_quote(out_path));
	runner = harness_start(cmd);

	if (harness_await_text(runner, log_path, wait_for, &at, EXIT_LINE_WAIT)) {
		char *out = harness_read_file(out_path), *log = harness_read_file(log_path);
		cr_assert_fail("no '%s' before QEMU ended or %d s passed; qemu.sh said:\n%s\n"
			       "log:\n%s",
			       wait_for, EXIT_LINE_WAIT, out ? out : "", log ? log : "");
	}
	monitor = harness_monitor_open(sock, MONITOR_WAIT_S);

	/* fbcon draws just after the serial line goes out: retry a few times. */
	for (int attempt = 0; attempt < SCREENDUMP_TRIES; attempt++) {
		if (attempt)
			sleep_ms(500);
		screendump(c);
		free(c->log);
		c->log = harness_read_file(log_path);
		cr_assert_not_null(c->log);
		c->font = fbcon_pick_font(c->shot.width, c->shot.height);
		c->rows = c->shot.height / c->font->height;
		c->cols = c->shot.width / c->font->width;
		c->screen = read_screen(&c->shot, c->font);
		c->serial = serial_rows(c->log, c->cols);
		free(why);
		why = mismatch(&c->screen, &c->serial,
			       want_rows == FULL_SCREEN ? c->rows - 1 : want_rows);
		if (!why)
			break;
	}
	cr_assert(!why, "%s.\nscreen (%ux%u, font %ux%u, %s):\n%s\nserial log:\n%s", why,
		  c->shot.width, c->shot.height, c->font->width, c->font->height, c->ppm,
		  show(&c->screen), c->log);
	free(image);
	free(args);
	free(cmd);
	free(log_path);
	free(sock);
	free(out_path);
}

/* The screen row that starts with prefix (the last one), or -1. */
static int screen_row_starting(const struct capture *c, const char *prefix)
{
	for (size_t r = c->screen.n; r-- > 0;) {
		if (!strncmp(c->screen.lines[r], prefix, strlen(prefix)))
			return (int)r;
	}
	return -1;
}

static int reddish(unsigned rgb)
{
	unsigned r = rgb >> 16, g = (rgb >> 8) & 0xff, b = rgb & 0xff;

	return r >= 0x80 && r > g + 0x40 && r > b + 0x40;
}

Test(screen, the_screen_shows_the_end_of_the_log_in_the_console_font, .timeout = 300)
{
	char args[NUM_ARGS * 8 + LONG_ARG_LEN + 64], long_arg[LONG_ARG_LEN + 1], *mkimg_args;
	const char *hello = "Hello from Solo! This is demo, running in ring 3.";
	struct capture c;
	size_t len = 0;

	for (int i = 0; i < LONG_ARG_LEN; i++)
		long_arg[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	long_arg[LONG_ARG_LEN] = '\0';
	for (int i = 1; i <= NUM_ARGS; i++)
		len += (size_t)sprintf(args + len, "w%02d ", i);
	sprintf(args + len, "%s", long_arg);
	cr_assert_geq(
	    asprintf(&mkimg_args, "--app build/user/demo.elf --args '%s' --env SCREEN=yes", args),
	    0);
	capture("screen", mkimg_args, NULL, "solo: exit 0", FULL_SCREEN, &c);
	cr_assert_eq(c.rows, 50, "1280x800 with the 8x16 font (OVMF with -vga std)");

	/* The demo alone printed more than a screen: the console scrolled. */
	size_t from = c.serial.n;
	while (from > 0 && strcmp(c.serial.lines[from - 1], hello))
		from--;
	cr_assert(from > 0 && c.serial.n - from >= c.rows, "the demo's output fits on one screen");

	/* Kernel lines and the app's lines have different colours. */
	int exit_row = screen_row_starting(&c, "solo: exit 0");
	int app_row = screen_row_starting(&c, "argv[");
	cr_assert(exit_row >= 0 && app_row >= 0);
	unsigned kernel_colour = cell_colour(&c.shot, c.font, (unsigned)exit_row, 0);
	unsigned app_colour = cell_colour(&c.shot, c.font, (unsigned)app_row, 0);
	cr_assert(kernel_colour != app_colour, "kernel lines and app lines both in %#08x",
		  kernel_colour);

	free(harness_monitor_command(monitor, "info status")); /* still responsive */
	stop_qemu();
}

Test(screen, app_killed_line_is_on_the_screen_in_red, .timeout = 300)
{
	struct capture c;

	capture("screen-killed", "--app build/tests/apps/misbehave.elf --args null", NULL,
		"solo: exit 139", 0, &c);
	int row = screen_row_starting(&c, "solo: app killed: ");
	cr_assert_geq(row, 0, "no 'solo: app killed' line on the screen:\n%s", show(&c.screen));
	unsigned colour = cell_colour(&c.shot, c.font, (unsigned)row, 0);
	cr_assert(reddish(colour), "'solo: app killed' is drawn in %#08x", colour);
	stop_qemu();
}

/* Without QEMU's debug-exit device a panicked kernel halts, screen intact. */
Test(screen, panic_report_is_on_the_screen_in_red, .timeout = 300)
{
	struct capture c;

	capture("screen-panic", "--app build/user/demo.elf --kernel build/test/kernel-panic.elf",
		"--no-debug-exit", "solo: panic: ", 0, &c);
	int row = screen_row_starting(&c, "solo: panic: ");
	cr_assert_geq(row, 0, "no 'solo: panic' line on the screen:\n%s", show(&c.screen));
	cr_assert_eq((size_t)row, c.screen.n - 1, "the panic line is the last one");
	unsigned colour = cell_colour(&c.shot, c.font, (unsigned)row, 0);
	cr_assert(reddish(colour), "'solo: panic' is drawn in %#08x", colour);
	cr_assert_geq(screen_row_starting(&c, "solo:   stack trace:"), 0,
		      "the report is on the screen");
	stop_qemu();
}

/* A cell filled with one colour edge to edge: the cursor on a blank. */
static int solid_cell(const struct screenshot *s, const struct fbcon_font *f, unsigned row,
		      unsigned col)
{
	for (unsigned y = 0; y < f->height; y++) {
		for (unsigned x = 0; x < f->width; x++) {
			if (!ink(s, col * f->width + x, row * f->height + y))
				return 0;
		}
	}
	return 1;
}

/*
 * Typing on the PS/2 keyboard shows on the screen: while echo.elf waits
 * for a line the cursor is a block where the next character goes, and
 * keys typed appear (the line discipline's echo) with the cursor after
 * them.
 */
Test(screen, typed_keys_echo_on_the_screen_with_a_cursor, .timeout = 300)
{
	struct capture c;

	capture("screen-typing", "--app build/tests/apps/echo.elf", NULL, "echo: ready", ANY_SCREEN,
		&c);
	int ready = screen_row_starting(&c, "echo: ready");
	cr_assert_geq(ready, 0, "screen:\n%s", show(&c.screen));
	unsigned row = (unsigned)ready + 1;
	int cursor = 0;
	for (int i = 0; i < SCREENDUMP_TRIES && !cursor; i++) {
		if (i) {
			sleep_ms(500);
			screendump(&c);
		}
		cursor = solid_cell(&c.shot, c.font, row, 0);
	}
	cr_assert(cursor, "no cursor block at row %u column 0:\n%s", row, show(&c.screen));

	static const char *const keys[] = {"h", "i", "spc", "t", "h", "e", "r", "e"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		free(harness_monitor_command(monitor, "sendkey %s", keys[i]));
	int typed = 0;
	for (int i = 0; i < SCREENDUMP_TRIES * 4 && !typed; i++) {
		sleep_ms(500);
		screendump(&c);
		c.screen = read_screen(&c.shot, c.font);
		typed = row < c.screen.n &&
			!strcmp(c.screen.lines[row], "hi there" UNKNOWN_CELL_STR) &&
			solid_cell(&c.shot, c.font, row, 8);
	}
	cr_assert(typed, "row %u should read \"hi there\" with the cursor after it:\n%s", row,
		  show(&c.screen));
	stop_qemu();
}
