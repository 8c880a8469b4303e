/* The line discipline (see ldisc.h). */
#include "fs/ldisc.h"

#include "kernel/abi/errno.h"
#include "kernel/abi/signal.h"
#include "kernel/klib.h"

void ldisc_init(struct ldisc *l, void (*echo)(void *ctx, const char *s, size_t n),
		void (*signal)(void *ctx, int sig), void *ctx)
{
	*l = (struct ldisc){
	    .termios =
		{
		    .c_iflag = ICRNL,
		    .c_oflag = OPOST | ONLCR,
		    .c_cflag = 0277, /* B38400 | CS8 | CREAD */
		    .c_lflag = ISIG | ICANON | ECHO | ECHOE,
		    .c_cc = {[VINTR] = 3,
			     [VQUIT] = 28,
			     [VERASE] = 127,
			     [VKILL] = 21,
			     [VEOF] = 4,
			     [VTIME] = 0,
			     [VMIN] = 1},
		},
	    .echo = echo,
	    .signal = signal,
	    .ctx = ctx,
	};
}

static int canonical(const struct ldisc *l)
{
	return (l->termios.c_lflag & ICANON) != 0;
}

static void echo(struct ldisc *l, const char *s, size_t n)
{
	if ((l->termios.c_lflag & ECHO) && l->echo)
		l->echo(l->ctx, s, n);
}

/* Appends bytes to the readable queue (what does not fit is lost, as a
 * tty's full input buffer drops). Returns how many went in. */
static size_t enqueue(struct ldisc *l, const char *s, size_t n)
{
	size_t put = 0;

	for (; put < n && l->len < LDISC_QUEUE; put++, l->len++)
		l->queue[(l->head + l->len) % LDISC_QUEUE] = s[put];
	return put;
}

/* Canonical: the typed line (and its newline, if any) becomes readable. */
static void end_line(struct ldisc *l)
{
	size_t len = l->line_len;

	l->line_len = 0;
	if (l->nlines == LDISC_MAX_LINES)
		return; /* too many unread lines: this one is lost */
	size_t n = enqueue(l, l->line, len);
	if (len && !n)
		return; /* no room: lost too (a 0-length line is an end of file) */
	l->lines[(l->first_line + l->nlines++) % LDISC_MAX_LINES] = n;
}

void ldisc_flush(struct ldisc *l)
{
	l->line_len = l->head = l->len = 0;
	l->first_line = l->nlines = 0;
}

int ldisc_input(struct ldisc *l, unsigned char byte)
{
	const struct linux_termios *t = &l->termios;
	char c = (char)byte;

	if ((t->c_lflag & ISIG) && byte && (byte == t->c_cc[VINTR] || byte == t->c_cc[VQUIT])) {
		int sig = byte == t->c_cc[VINTR] ? SIGINT : SIGQUIT;
		ldisc_flush(l);
		echo(l, sig == SIGINT ? "^C\n" : "^\\\n", 3);
		if (l->signal)
			l->signal(l->ctx, sig);
		return 0;
	}
	if (c == '\r' && (t->c_iflag & ICRNL))
		c = '\n';
	if (!canonical(l)) {
		if (!enqueue(l, &c, 1))
			return 0;
		echo(l, &c, 1);
		return 1;
	}
	if (c == '\n') {
		if (l->line_len < LDISC_LINE_MAX)
			l->line[l->line_len++] = '\n';
		if ((t->c_lflag & ECHO) || (t->c_lflag & ECHONL))
			if (l->echo)
				l->echo(l->ctx, "\n", 1);
		end_line(l);
		return 1;
	}
	if (byte == t->c_cc[VEOF] && byte) {
		end_line(l); /* the line so far, or an end of file when empty */
		return 1;
	}
	if ((byte == t->c_cc[VERASE] && byte) || c == '\b') {
		if (l->line_len) {
			l->line_len--;
			echo(l, (t->c_lflag & ECHOE) ? "\b \b" : "\b",
			     (t->c_lflag & ECHOE) ? 3 : 1);
		}
		return 0;
	}
	if (byte == t->c_cc[VKILL] && byte) {
		while (l->line_len) {
			l->line_len--;
			echo(l, "\b \b", 3);
		}
		return 0;
	}
	/* One byte is kept for the newline that ends the line. */
	if (l->line_len < LDISC_LINE_MAX - 1) {
		l->line[l->line_len++] = c;
		echo(l, &c, 1);
	}
	return 0;
}

static size_t dequeue(struct ldisc *l, char *buf, size_t n)
{
	size_t got = 0;

	for (; got < n && l->len; got++, l->len--) {
		buf[got] = l->queue[l->head];
		l->head = (l->head + 1) % LDISC_QUEUE;
	}
	return got;
}

long ldisc_read(struct ldisc *l, char *buf, size_t n)
{
	if (!canonical(l)) {
		if (!l->len)
			return l->termios.c_cc[VMIN] ? -EAGAIN : 0;
		return (long)dequeue(l, buf, n);
	}
	if (!l->nlines)
		return -EAGAIN;
	size_t *first = &l->lines[l->first_line];
	size_t got = dequeue(l, buf, MIN(n, *first));
	*first -= got;
	if (!*first) { /* the line is read (or was an end of file) */
		l->first_line = (l->first_line + 1) % LDISC_MAX_LINES;
		l->nlines--;
	}
	return (long)got;
}

int ldisc_readable(const struct ldisc *l)
{
	if (canonical(l))
		return l->nlines != 0;
	return l->len != 0 || !l->termios.c_cc[VMIN];
}

size_t ldisc_pending(const struct ldisc *l)
{
	return canonical(l) ? (l->nlines ? l->lines[l->first_line] : 0) : l->len;
}

void ldisc_set_termios(struct ldisc *l, const struct linux_termios *t, int flush)
{
	int was_canonical = canonical(l);

	l->termios = *t;
	if (flush) {
		ldisc_flush(l);
		return;
	}
	/* As Linux's n_tty: switching modes keeps what was typed. The line
	 * being edited becomes readable as it is in raw mode; raw bytes
	 * waiting become one line in canonical mode. */
	if (was_canonical && !canonical(l)) {
		enqueue(l, l->line, l->line_len);
		l->line_len = 0;
		l->first_line = l->nlines = 0;
	} else if (!was_canonical && canonical(l) && l->len) {
		l->first_line = 0;
		l->nlines = 1;
		l->lines[0] = l->len;
	}
}
