/*
 * The console as a file (see tty.h): one terminal, its line discipline
 * (fs/ldisc.h) and one wait queue.
 *
 * Input arrives from the console input sources (the serial port), which
 * have no interrupt here: the bytes are pulled in whenever the console is
 * read or polled, and while a thread waits for input a kernel timer pulls
 * them every millisecond and wakes the queue when input became readable.
 * (Later: the UART's receive interrupt through the I/O APIC instead.) The
 * CPU halts between polls; at 115200 baud the UART's 16-byte FIFO holds
 * more than a millisecond of typing.
 */
#include "fs/tty.h"

#include "fs/iobuf.h"
#include "fs/ldisc.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/poll.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/stat.h"
#include "kernel/abi/termios.h"
#include "kernel/abi/time.h"
#include "kernel/app.h"
#include "kernel/console.h"
#include "kernel/klib.h"
#include "kernel/signal.h"
#include "kernel/time.h"
#include "kernel/wait.h"

#define POLL_NS	     1000000 /* 1 ms: far below what a typist notices */
#define CHUNK	     512
#define SHARED_WRITE 1024 /* the most a write beside other CPUs copies (stack) */
#define CONSOLE_DEV  2
#define CONSOLE_RDEV ((4u << 8) | 64u) /* ttyS0: major 4, minor 64 */

static struct ldisc ldisc;
static struct waitq waiters = WAITQ_INIT;
static struct ktimer poll_timer;
static int started;

static void echo(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	console_write(s, n);
}

static void interrupt_char(void *ctx, int sig)
{
	struct signal_info si = {.code = SI_KERNEL};

	(void)ctx;
	signal_raise(NULL, sig, &si);
}

/*
 * Feeds bytes from the input sources into the line discipline; returns
 * whether input became readable. In canonical mode it stops at the end of
 * a line: what is typed after stays in the UART (and QEMU's input queue)
 * until the app asks again, so echo follows the app's reads and a later
 * mode change finds it still unread, as when a person types.
 */
static int pull_input(void)
{
	int c, readable = 0;

	while (!((ldisc.termios.c_lflag & ICANON) && ldisc_readable(&ldisc)) &&
	       (c = console_read_byte()) >= 0)
		readable |= ldisc_input(&ldisc, (unsigned char)c);
	return readable;
}

static int eof_forever(void)
{
	return !console_has_input(); /* no source: end of file at once */
}

static void poll_input(struct ktimer *t)
{
	if (pull_input())
		waitq_wake(&waiters, POLLIN | POLLRDNORM);
	if (!waitq_empty(&waiters))
		ktimer_arm(t, time_add(time_now(), POLL_NS));
}

static void start(void)
{
	if (started)
		return;
	ldisc_init(&ldisc, echo, interrupt_char, NULL);
	ktimer_init(&poll_timer, poll_input);
	started = 1;
}

static long tty_read(struct file *f, struct iobuf *b, uint64_t *pos)
{
	char chunk[CHUNK];

	(void)f;
	(void)pos;
	if (!iobuf_left(b) || eof_forever())
		return 0;
	pull_input();
	long n = ldisc_read(&ldisc, chunk, (size_t)MIN(iobuf_left(b), (uint64_t)sizeof(chunk)));
	/* The cursor shows while the app waits for typing (the read retries
	 * until there is input), and goes once it has its input. */
	console_set_cursor(n == -EAGAIN);
	if (n > 0 && iobuf_put(b, chunk, (size_t)n))
		return -EFAULT;
	return n;
}

/* A write in a shared syscall, beside other CPUs (the console has a lock
 * of its own): whole or not at all, so its bytes are copied first, and
 * only up to SHARED_WRITE of them; a longer one asks for the kernel lock,
 * whose run may stop part way at a bad buffer. */
static long tty_write_shared(struct iobuf *b)
{
	char buf[SHARED_WRITE];
	size_t n = (size_t)iobuf_left(b);

	if (n > sizeof(buf))
		return syscall_needs_lock();
	if (iobuf_get(b, buf, n))
		return -EFAULT; /* or the kernel lock's run, if the copy asked for it */
	console_write(buf, n);
	return (long)n;
}

static long tty_write(struct file *f, struct iobuf *b, uint64_t *pos)
{
	char chunk[CHUNK];
	uint64_t done = 0;

	(void)f;
	(void)pos;
	if (syscall_shared())
		return tty_write_shared(b);
	while (iobuf_left(b)) {
		size_t n = (size_t)MIN(iobuf_left(b), (uint64_t)sizeof(chunk));
		if (iobuf_get(b, chunk, n))
			return done ? (long)done : -EFAULT;
		console_write(chunk, n);
		done += n;
	}
	return (long)done;
}

static unsigned tty_poll(struct file *f, struct poll_table *pt)
{
	unsigned ev = POLLOUT | POLLWRNORM;

	(void)f;
	pull_input();
	if (eof_forever() || ldisc_readable(&ldisc))
		return ev | POLLIN | POLLRDNORM;
	if (pt) {
		console_set_cursor(1); /* waiting for typing, as in tty_read */
		poll_wait(pt, &waiters);
		if (!poll_timer.armed)
			ktimer_arm(&poll_timer, time_add(time_now(), POLL_NS));
	}
	return ev;
}

static long tty_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	(void)f;
	switch (cmd) {
	case TCGETS:
		return app_copy_to(arg, &ldisc.termios, sizeof(ldisc.termios));
	case TCSETS:
	case TCSETSW:
	case TCSETSF: {
		struct linux_termios t;
		if (app_copy_from(&t, arg, sizeof(t)))
			return -EFAULT;
		ldisc_set_termios(&ldisc, &t, cmd == TCSETSF);
		return 0;
	}
	case TCFLSH:
		if (arg > TCIOFLUSH)
			return -EINVAL;
		if (arg != TCOFLUSH)
			ldisc_flush(&ldisc);
		return 0;
	case TIOCGWINSZ: {
		struct linux_winsize ws = {.ws_row = 25, .ws_col = 80};
		unsigned cols, rows;
		if (console_size(&cols, &rows)) {
			ws.ws_col = (uint16_t)cols;
			ws.ws_row = (uint16_t)rows;
		}
		return app_copy_to(arg, &ws, sizeof(ws));
	}
	case TIOCSWINSZ:
		return 0;
	case TIOCGPGRP: {
		int32_t pgrp = 1;
		return app_copy_to(arg, &pgrp, sizeof(pgrp));
	}
	case TIOCSPGRP:
		return 0;
	case FIONREAD: {
		pull_input();
		int32_t n = (int32_t)ldisc_pending(&ldisc);
		return app_copy_to(arg, &n, sizeof(n));
	}
	default:
		return -ENOTTY;
	}
}

static int tty_stat(struct file *f, struct kstat *st)
{
	if (f->inode) {
		inode_stat(f->inode, st); /* opened by a /dev name: that node */
		return 0;
	}
	*st = (struct kstat){.dev = CONSOLE_DEV,
			     .ino = 1,
			     .nlink = 1,
			     .mode = S_IFCHR | 0620,
			     .rdev = CONSOLE_RDEV,
			     .blksize = 1024};
	return 0;
}

static int tty_open(struct file *f)
{
	(void)f;
	start();
	return 0;
}

static int tty_fsync(struct file *f)
{
	(void)f;
	return 0; /* output is written at once */
}

const struct file_ops tty_file_ops = {
    .kind = "tty",
    .open = tty_open,
    .read = tty_read,
    .write = tty_write,
    .shared_write = 1,
    .poll = tty_poll,
    .ioctl = tty_ioctl,
    .stat = tty_stat,
    .fsync = tty_fsync,
};

int tty_open_console(unsigned flags, struct file **out)
{
	start();
	*out = file_new(&tty_file_ops, flags, NULL);
	return *out ? 0 : -ENOMEM;
}
