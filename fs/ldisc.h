/*
 * ldisc - the console's line discipline, as a Linux tty's N_TTY does it for
 * the termios flags Solo knows: in canonical mode (ICANON) typed bytes are
 * edited into a line (VERASE and backspace erase, VKILL kills the line,
 * VEOF ends it or, on an empty line, is end of file) and a read gets at
 * most one line; in raw mode every byte is readable at once. ICRNL turns
 * CR into NL; ECHO (with ECHOE's "\b \b" for an erase) and ECHONL echo
 * through a callback; with ISIG, VINTR (^C) and VQUIT (^\) drop what was
 * typed and raise SIGINT and SIGQUIT through another.
 *
 * Pure: bytes in, bytes out, no device and no blocking. Host-tested.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/abi/termios.h"

#define LDISC_LINE_MAX	1024 /* the line being edited */
#define LDISC_QUEUE	4096 /* input ready to be read */
#define LDISC_MAX_LINES 64   /* completed lines waiting */

struct ldisc {
	struct linux_termios termios;
	char line[LDISC_LINE_MAX]; /* canonical: the line being typed */
	size_t line_len;
	char queue[LDISC_QUEUE]; /* readable bytes, a ring */
	size_t head, len;
	/* Canonical: the lengths of the completed lines in the queue (0: an
	 * end of file); the first one is what the next read takes from. */
	size_t lines[LDISC_MAX_LINES];
	unsigned first_line, nlines;
	void (*echo)(void *ctx, const char *s, size_t n);
	void (*signal)(void *ctx, int sig);
	void *ctx;
};

/* A terminal in Linux's default state (ICANON, ECHO, ISIG, ICRNL ...). */
void ldisc_init(struct ldisc *l, void (*echo)(void *ctx, const char *s, size_t n),
		void (*signal)(void *ctx, int sig), void *ctx);
/* One received byte. Returns 1 when input became readable. */
int ldisc_input(struct ldisc *l, unsigned char c);
/*
 * ldisc_read - up to n bytes into buf: in canonical mode at most the rest
 * of the first completed line (with its newline); in raw mode what is
 * there. Returns the count; 0 for an end of file (canonical VEOF on an
 * empty line, or raw mode with VMIN 0 and nothing there); -EAGAIN when
 * there is nothing to read yet.
 */
long ldisc_read(struct ldisc *l, char *buf, size_t n);
/* Whether a read would return without -EAGAIN. */
int ldisc_readable(const struct ldisc *l);
/* FIONREAD: the bytes a read could take now. */
size_t ldisc_pending(const struct ldisc *l);
/* TCSETS*: new settings; flush drops all input (TCSETSF). A change of
 * ICANON keeps what was typed (see ldisc.c). */
void ldisc_set_termios(struct ldisc *l, const struct linux_termios *t, int flush);
/* TCFLSH with TCIFLUSH: drops all input. */
void ldisc_flush(struct ldisc *l);
