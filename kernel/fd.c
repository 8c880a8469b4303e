/*
 * The app's descriptors, the console line discipline and the file syscalls
 * (see fd.h). Every user pointer goes through app_copy_to/app_copy_from or
 * copy_path(), so a bad one is -EFAULT, never a kernel fault.
 *
 * Console input polls the UART with interrupts off (serial_read_byte), and
 * halts for CONSOLE_POLL_NS on the APIC timer after each empty poll, so an
 * app waiting for input does not spin the CPU. Later: sleep on the UART's
 * receive interrupt instead (hlt until IRQ 4, routed through the I/O APIC).
 */
#include "kernel/fd.h"

#include "drivers/apic_timer.h"
#include "drivers/fbcon.h"
#include "drivers/serial.h"
#include "drivers/tsc.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/procfs.h"
#include "kernel/signal.h"
#include "kernel/tarfs.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

/* ---------------------------------------------------------------- Linux ABI */

#define AT_FDCWD	    (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EACCESS	    0x200
#define AT_EMPTY_PATH	    0x1000

#define O_ACCMODE   03
#define O_RDONLY    00
#define O_WRONLY    01
#define O_RDWR	    02
#define O_CREAT	    0100
#define O_EXCL	    0200
#define O_TRUNC	    01000
#define O_APPEND    02000
#define O_NONBLOCK  04000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW  0400000
#define O_CLOEXEC   02000000
#define O_PATH	    010000000
#define O_LARGEFILE 0100000

#define F_DUPFD		0
#define F_GETFD		1
#define F_SETFD		2
#define F_GETFL		3
#define F_SETFL		4
#define F_DUPFD_CLOEXEC 1030
#define F_GETLK		5
#define F_SETLK		6
#define F_SETLKW	7
#define F_SETOWN	8
#define F_GETOWN	9
#define F_OFD_GETLK	36
#define F_OFD_SETLK	37
#define F_OFD_SETLKW	38
#define F_GETPIPE_SZ	1032
#define F_RDLCK		0
#define F_WRLCK		1
#define F_UNLCK		2
#define FD_CLOEXEC	1

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

#define SIGINT	2
#define SIGQUIT 3
#define SIGPIPE 13

#define S_IFMT	0170000
#define S_IFIFO 0010000
#define S_IFCHR 0020000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFLNK 0120000

#define DT_CHR 2
#define DT_DIR 4
#define DT_REG 8
#define DT_LNK 10

#define TCGETS	   0x5401
#define TCSETS	   0x5402
#define TCSETSW	   0x5403
#define TCSETSF	   0x5404
#define TIOCGPGRP  0x540f
#define TIOCSPGRP  0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541b
#define FIONBIO	   0x5421
#define FIONCLEX   0x5450
#define FIOCLEX	   0x5451

#define ICRNL  0000400
#define OPOST  0000001
#define ONLCR  0000004
#define ICANON 0000002
#define ECHO   0000010
#define ECHOE  0000020
#define ISIG   0000001
#define VINTR  0
#define VQUIT  1
#define VERASE 2
#define VKILL  3
#define VEOF   4
#define VTIME  5
#define VMIN   6

#define R_OK 4
#define W_OK 2
#define X_OK 1

#define IOV_MAX	     1024
#define PATH_MAX     4096
#define CHUNK	     512
#define CONSOLE_RDEV ((4u << 8) | 64u) /* ttyS0: major 4, minor 64 */

struct linux_stat {
	uint64_t st_dev, st_ino, st_nlink;
	uint32_t st_mode, st_uid, st_gid, pad0;
	uint64_t st_rdev;
	int64_t st_size, st_blksize, st_blocks;
	uint64_t st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec;
	int64_t unused[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "struct stat is Linux's");

struct statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct linux_statx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, spare0;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct linux_statx) == 256, "struct statx is Linux's");
#define STATX_BASIC_STATS 0x7ffu

struct linux_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
_Static_assert(sizeof(struct linux_termios) == 36, "struct termios is the kernel's");

struct linux_winsize {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

/* ---------------------------------------------------------------- state */

enum file_kind { FILE_CONSOLE = 1, FILE_NODE, FILE_PIPE, FILE_DEVICE, FILE_GENERATED };

/*
 * The few device files programs open by name. They exist outside the rootfs
 * (a rootfs /dev is shadowed for these names): /dev/null, /dev/zero,
 * /dev/random and /dev/urandom as on Linux; the terminal names and
 * /dev/std{in,out,err} open the console. Only absolute paths match.
 */
enum device { DEV_NULL, DEV_ZERO, DEV_RANDOM, DEV_URANDOM, DEV_CONSOLE };

static const struct {
	const char *path;
	enum device device;
	uint32_t rdev; /* major << 8 | minor, Linux's numbers */
} devices[] = {
    {"/dev/null", DEV_NULL, (1u << 8) | 3},	  {"/dev/zero", DEV_ZERO, (1u << 8) | 5},
    {"/dev/random", DEV_RANDOM, (1u << 8) | 8},	  {"/dev/urandom", DEV_URANDOM, (1u << 8) | 9},
    {"/dev/tty", DEV_CONSOLE, (5u << 8) | 0},	  {"/dev/console", DEV_CONSOLE, (5u << 8) | 1},
    {"/dev/ttyS0", DEV_CONSOLE, (4u << 8) | 64},  {"/dev/stdin", DEV_CONSOLE, (4u << 8) | 64},
    {"/dev/stdout", DEV_CONSOLE, (4u << 8) | 64}, {"/dev/stderr", DEV_CONSOLE, (4u << 8) | 64},
};

#define PIPE_SIZE 4096

/* A pipe: a ring buffer between its read end and its write end. */
struct pipe {
	int readers, writers; /* open files of each end */
	size_t head, len;     /* ring: bytes [head, head + len) mod PIPE_SIZE */
	char buf[PIPE_SIZE];
};

struct file {
	int refs;
	enum file_kind kind;
	int node;	   /* FILE_NODE: the tarfs node */
	struct pipe *pipe; /* FILE_PIPE: the pipe; flags say which end */
	int device;	   /* FILE_DEVICE: index in devices[] */
	char *text;	   /* FILE_GENERATED: the text made at open (kernel/procfs.h) */
	uint64_t text_len;
	uint64_t pos;	/* byte offset; directories: entry index */
	unsigned flags; /* O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | ... */
};

struct fd_slot {
	struct file *file;
	int cloexec;
};

static struct tarfs rootfs;
static struct fd_slot fds[FD_MAX];
static int cwd; /* tarfs node */
static struct file console_file = {.refs = 1, .kind = FILE_CONSOLE, .flags = O_RDWR};
static char path_buf[PATH_MAX]; /* one path at a time: syscalls do not nest */

/* The console's termios, as TCSETS left it; starts as a Linux tty's. */
static struct linux_termios termios = {
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
};

/* The canonical-mode line: filled up to a newline, then handed out. */
static struct {
	char buf[1024];
	size_t len, start;
	int ready;
} line;

void fd_mount_rootfs(const void *tar, size_t size)
{
	int err = tarfs_mount(&rootfs, tar, tar ? size : 0);

	if (err) {
		kprintf("solo: rootfs.tar: %s; starting with an empty file system\n", rootfs.error);
		tarfs_mount(&rootfs, NULL, 0);
	}
}

int fd_table_init(void)
{
	if (!rootfs.nodes)
		tarfs_mount(&rootfs, NULL, 0);
	cwd = 0;
	for (int i = 0; i < 3; i++) {
		fds[i].file = &console_file;
		console_file.refs++;
	}
	return 0;
}

static void file_put(struct file *f)
{
	if (--f->refs != 0 || f == &console_file)
		return;
	if (f->kind == FILE_GENERATED)
		kfree(f->text);
	if (f->kind == FILE_PIPE) {
		struct pipe *p = f->pipe;
		if ((f->flags & O_ACCMODE) == O_RDONLY)
			p->readers--;
		else
			p->writers--;
		if (!p->readers && !p->writers)
			kfree(p);
	}
	kfree(f);
}

void fd_table_release(void)
{
	for (int i = 0; i < FD_MAX; i++) {
		if (fds[i].file)
			file_put(fds[i].file);
		fds[i].file = NULL;
	}
}

static struct file *fd_get(uint64_t fd)
{
	return fd < FD_MAX ? fds[fd].file : NULL;
}

/* The lowest free slot >= min, or -EMFILE. */
static int fd_alloc(uint64_t min)
{
	for (uint64_t i = min; i < FD_MAX; i++) {
		if (!fds[i].file)
			return (int)i;
	}
	return -EMFILE;
}

static int fd_install(uint64_t min, struct file *f, int cloexec)
{
	int fd = fd_alloc(min);

	if (fd >= 0) {
		fds[fd].file = f;
		fds[fd].cloexec = cloexec;
		f->refs++;
	}
	return fd;
}

/*
 * Copies the path at user address src into path_buf. A string may start
 * on a demand page the app has not touched: app_copy_from backs it. Each
 * step copies up to the end of the page the string is in, so it never
 * reads a page the string does not reach. Returns 0, -EFAULT or
 * -ENAMETOOLONG.
 */
static int copy_path(uint64_t src)
{
	size_t done = 0;

	while (done < PATH_MAX) {
		uint64_t at = src + done;
		size_t n = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (n > PATH_MAX - done)
			n = PATH_MAX - done;
		if (at < src || app_copy_from(path_buf + done, at, n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++) {
			if (!path_buf[done + i])
				return 0;
		}
		done += n;
	}
	return -ENAMETOOLONG;
}

/* The directory node a *at call starts from (dirfd) for path_buf. */
static int start_dir(int64_t dirfd, int *dir)
{
	if (path_buf[0] == '/' || (int)dirfd == AT_FDCWD) {
		*dir = cwd;
		return 0;
	}
	struct file *f = fd_get((uint64_t)dirfd);
	if (!f)
		return -EBADF;
	if (f->kind != FILE_NODE || tarfs_node(&rootfs, f->node)->type != TARFS_DIR)
		return -ENOTDIR;
	*dir = f->node;
	return 0;
}

/* Resolves the user path at upath from dirfd. Returns the node or -errno. */
static int lookup_at(int64_t dirfd, uint64_t upath, unsigned tflags)
{
	int dir, err = copy_path(upath);

	if (err)
		return err;
	err = start_dir(dirfd, &dir);
	if (err)
		return err;
	return tarfs_lookup(&rootfs, dir, path_buf, tflags);
}

/* ---------------------------------------------------------------- console */

static void echo(const char *s, size_t n)
{
	if (termios.c_lflag & ECHO)
		console_write(s, n);
}

/* A byte poll took from the UART to see whether input waits; -1 when none. */
static int peeked_byte = -1;

/* How long an empty console poll halts: far below what a typist notices,
 * and 1000 wake-ups a second cost next to nothing. The UART's 16-byte FIFO
 * holds what arrives meanwhile at up to 160 kbit/s, above COM1's 115200. */
#define CONSOLE_POLL_NS 1000000

/* Waits for the next byte from the UART; -1 when there is no UART. */
static int console_getc(int nonblock)
{
	if (!serial_present())
		return -1;
	if (peeked_byte >= 0) {
		int c = peeked_byte;
		peeked_byte = -1;
		return c;
	}
	for (;;) {
		int c = serial_read_byte();
		if (c >= 0)
			return c;
		if (nonblock)
			return -EAGAIN;
		apic_timer_sleep_ns(CONSOLE_POLL_NS);
	}
}

/*
 * With ISIG, the interrupt and quit characters (^C, ^\) are not input: they
 * drop what was typed, echo as "^C", and send SIGINT or SIGQUIT to the app,
 * which ends it unless it handles or ignores the signal. Returns -EINTR
 * when the signal is now waiting for the app (the read gives way to it, as
 * on Linux; Solo does not restart it for SA_RESTART), 1 when the character
 * was a signal that was ignored, 0 when c is ordinary input.
 */
static int console_signal(int c)
{
	int sig = c == termios.c_cc[VINTR] ? SIGINT : c == termios.c_cc[VQUIT] ? SIGQUIT : 0;

	if (!(termios.c_lflag & ISIG) || !sig || !c)
		return 0;
	line.len = line.start = line.ready = 0;
	echo(sig == SIGINT ? "^C\n" : "^\\\n", 3);
	sys_kill(1, (uint64_t)sig, 0, 0, 0, 0);
	return (signal_state.pending & (1ull << (sig - 1))) ? -EINTR : 1;
}

/* Canonical mode: reads one line (echoing, with erase and kill) into line.
 * Returns 0, or -EAGAIN for a non-blocking read before the line is complete
 * (what was typed so far stays in line for the next call). */
static int fill_line(int nonblock)
{
	for (;;) {
		int c = console_getc(nonblock);
		if (c == -EAGAIN)
			return -EAGAIN;
		if (c < 0) {
			line.ready = 1; /* no UART: end of file */
			return 0;
		}
		int sig = console_signal(c);
		if (sig < 0)
			return sig;
		if (sig)
			continue;
		if (c == '\r' && (termios.c_iflag & ICRNL))
			c = '\n';
		if (c == '\n') {
			line.buf[line.len++] = '\n';
			echo("\n", 1);
			line.ready = 1;
			return 0;
		}
		if (c == termios.c_cc[VEOF]) {
			line.ready = 1; /* the line so far, or end of file when empty */
			return 0;
		}
		if (c == termios.c_cc[VERASE] || c == '\b') {
			if (line.len) {
				line.len--;
				echo("\b \b", 3);
			}
			continue;
		}
		if (c == termios.c_cc[VKILL]) {
			while (line.len) {
				line.len--;
				echo("\b \b", 3);
			}
			continue;
		}
		if (line.len < sizeof(line.buf) - 1) {
			char ch = (char)c;
			line.buf[line.len++] = ch;
			echo(&ch, 1);
		}
	}
}

static long console_read(uint64_t buf, uint64_t count, unsigned flags)
{
	int nonblock = (flags & O_NONBLOCK) != 0;

	if (!count)
		return 0;
	if (termios.c_lflag & ICANON) {
		if (!line.ready) {
			int err = fill_line(nonblock);
			if (err)
				return err;
		}
		size_t n = MIN((size_t)count, line.len - line.start);
		if (app_copy_to(buf, line.buf + line.start, n))
			return -EFAULT;
		line.start += n;
		if (line.start == line.len)
			line.len = line.start = line.ready = 0;
		return (long)n;
	}
	/* Raw: at least one byte (VMIN 1), then whatever else is waiting. */
	char chunk[CHUNK];
	size_t n = 0;
	for (;;) {
		int c = console_getc(n ? 1 : nonblock);
		if (c == -EAGAIN && !n)
			return -EAGAIN;
		if (c < 0)
			break; /* nothing more waiting, or no UART (end of file) */
		int sig = console_signal(c);
		if (sig < 0 && !n)
			return sig;
		if (sig < 0)
			break;
		if (sig)
			continue;
		if (c == '\r' && (termios.c_iflag & ICRNL))
			c = '\n';
		chunk[n++] = (char)c;
		if (n == count || n == sizeof(chunk))
			break;
	}
	echo(chunk, n);
	if (n && app_copy_to(buf, chunk, n))
		return -EFAULT;
	return (long)n;
}

static long console_write_user(uint64_t buf, uint64_t len)
{
	char chunk[CHUNK];
	uint64_t done = 0;

	while (done < len) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		if (app_copy_from(chunk, buf + done, n))
			return done ? (long)done : -EFAULT;
		console_write(chunk, n);
		done += n;
	}
	return (long)done;
}

/* ---------------------------------------------------------------- pipes */

/*
 * The app has one thread, so nothing can fill an empty pipe while a read
 * waits, or drain a full one while a write waits: where Linux would block
 * forever, a pipe read returns -EAGAIN (0 once no writer is left) and a
 * write takes what fits, -EAGAIN when nothing does, and -EPIPE plus a
 * SIGPIPE to the app (which ends it unless handled or ignored, as on
 * Linux) without readers.
 */
static long pipe_read(struct pipe *p, uint64_t buf, uint64_t count)
{
	uint64_t done = 0;

	if (!p->len)
		return p->writers ? -EAGAIN : 0;
	while (done < count && p->len) {
		size_t n = MIN((size_t)(count - done), MIN(p->len, PIPE_SIZE - p->head));
		if (app_copy_to(buf + done, p->buf + p->head, n))
			return done ? (long)done : -EFAULT;
		p->head = (p->head + n) % PIPE_SIZE;
		p->len -= n;
		done += n;
	}
	return (long)done;
}

/* EPIPE, with the SIGPIPE Linux sends along. */
static long broken_pipe(void)
{
	sys_kill(1, SIGPIPE, 0, 0, 0, 0);
	return -EPIPE;
}

static long pipe_write(struct pipe *p, uint64_t buf, uint64_t count)
{
	uint64_t done = 0;

	if (!p->readers)
		return broken_pipe();
	if (count && p->len == PIPE_SIZE)
		return -EAGAIN;
	while (done < count && p->len < PIPE_SIZE) {
		size_t tail = (p->head + p->len) % PIPE_SIZE;
		size_t n = MIN((size_t)(count - done), MIN(PIPE_SIZE - p->len, PIPE_SIZE - tail));
		if (app_copy_from(p->buf + tail, buf + done, n))
			return done ? (long)done : -EFAULT;
		p->len += n;
		done += n;
	}
	return (long)done;
}

FD_SYSCALL(pipe2)
{
	unsigned flags = (unsigned)a1;

	if (flags & ~(unsigned)(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	struct pipe *p = kmalloc(sizeof(*p));
	struct file *r = kmalloc(sizeof(*r)), *w = kmalloc(sizeof(*w));
	if (!p || !r || !w)
		goto no_memory;
	*p = (struct pipe){.readers = 1, .writers = 1};
	*r = (struct file){.kind = FILE_PIPE, .pipe = p, .flags = O_RDONLY | (flags & O_NONBLOCK)};
	*w = (struct file){.kind = FILE_PIPE, .pipe = p, .flags = O_WRONLY | (flags & O_NONBLOCK)};
	int rfd = fd_install(0, r, (flags & O_CLOEXEC) != 0);
	if (rfd < 0)
		goto no_fd;
	int wfd = fd_install(0, w, (flags & O_CLOEXEC) != 0);
	if (wfd < 0) {
		fds[rfd].file = NULL;
		goto no_fd;
	}
	int32_t pair[2] = {rfd, wfd};
	if (app_copy_to(a0, pair, sizeof(pair))) {
		fds[rfd].file = fds[wfd].file = NULL;
		kfree(p);
		kfree(r);
		kfree(w);
		return -EFAULT;
	}
	return 0;
no_fd:
	kfree(p);
	kfree(r);
	kfree(w);
	return -EMFILE;
no_memory:
	kfree(p);
	kfree(r);
	kfree(w);
	return -ENOMEM;
}

FD_SYSCALL(pipe)
{
	return sys_pipe2(a0, 0, 0, 0, 0, 0);
}

/* ---------------------------------------------------------------- devices */

/* The devices[] entry path_buf names, or -1. */
static int device_named(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		if (!strcmp(path_buf, devices[i].path))
			return (int)i;
	}
	return -1;
}

static long device_read(enum device device, uint64_t buf, uint64_t count)
{
	unsigned char chunk[CHUNK];
	uint64_t done = 0;

	if (device == DEV_NULL)
		return 0;
	while (done < count) {
		unsigned n = (unsigned)MIN(count - done, sizeof(chunk));
		if (device == DEV_ZERO)
			memset(chunk, 0, n);
		else
			arch_random_bytes(chunk, n);
		if (app_copy_to(buf + done, chunk, n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static void stat_device(int index, struct linux_stat *st)
{
	*st = (struct linux_stat){
	    .st_dev = 4,
	    .st_ino = (uint64_t)index + 1,
	    .st_nlink = 1,
	    .st_mode = S_IFCHR | 0666,
	    .st_rdev = devices[index].rdev,
	    .st_blksize = PAGE_SIZE,
	};
}

/* Opens devices[index]; the terminal names share the console's file. */
static long open_device(int index, uint64_t flags)
{
	struct file *f = &console_file;

	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (devices[index].device != DEV_CONSOLE) {
		f = kmalloc(sizeof(*f));
		if (!f)
			return -ENOMEM;
		*f = (struct file){.kind = FILE_DEVICE,
				   .device = index,
				   .flags = (unsigned)(flags & (O_ACCMODE | O_APPEND | O_NONBLOCK |
								O_PATH | O_LARGEFILE))};
	}
	int fd = fd_install(0, f, (flags & O_CLOEXEC) != 0);
	if (fd < 0 && f != &console_file)
		kfree(f);
	return fd;
}

/* A made-up /proc or /sys file (kernel/procfs.h) for path_buf; -ENOENT
 * when path_buf names none. Its text is fixed at open, like a Linux
 * seq_file read from the start. */
static long open_generated(uint64_t flags)
{
	static char text[PROCFS_TEXT_MAX];
	long len = procfs_generate(path_buf, text, sizeof(text));

	if (len < 0)
		return len;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)))
		return -EACCES;
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	struct file *f = kmalloc(sizeof(*f));
	char *copy = kmalloc((size_t)len + 1);
	if (!f || !copy) {
		kfree(f);
		kfree(copy);
		return -ENOMEM;
	}
	memcpy(copy, text, (size_t)len + 1);
	*f = (struct file){.kind = FILE_GENERATED,
			   .text = copy,
			   .text_len = (uint64_t)len,
			   .flags = (unsigned)(flags & (O_ACCMODE | O_NONBLOCK | O_LARGEFILE))};
	int fd = fd_install(0, f, (flags & O_CLOEXEC) != 0);
	if (fd < 0) {
		kfree(copy);
		kfree(f);
	}
	return fd;
}

static void stat_generated(struct linux_stat *st)
{
	*st = (struct linux_stat){.st_dev = 5,
				  .st_ino = 1,
				  .st_nlink = 1,
				  .st_mode = S_IFREG | 0444,
				  .st_blksize = PAGE_SIZE};
}

/* ---------------------------------------------------------------- read and write */

static int is_dir(const struct file *f)
{
	return f->kind == FILE_NODE && tarfs_node(&rootfs, f->node)->type == TARFS_DIR;
}

/* Reads from f at pos (not moving it). Returns bytes or -errno. */
static long file_read_at(struct file *f, uint64_t buf, uint64_t count, uint64_t pos)
{
	if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
		return -EBADF;
	if (f->kind == FILE_CONSOLE)
		return console_read(buf, count, f->flags);
	if (f->kind == FILE_PIPE)
		return pipe_read(f->pipe, buf, count);
	if (f->kind == FILE_DEVICE)
		return device_read(devices[f->device].device, buf, count);
	if (f->kind == FILE_GENERATED) {
		uint64_t len = pos < f->text_len ? MIN(count, f->text_len - pos) : 0;
		return len && app_copy_to(buf, f->text + pos, len) ? -EFAULT : (long)len;
	}
	const struct tarfs_node *n = tarfs_node(&rootfs, f->node);
	if (n->type == TARFS_DIR)
		return -EISDIR;
	if (pos >= n->size)
		return 0;
	uint64_t len = MIN(count, n->size - pos);
	if (app_copy_to(buf, n->data + pos, len))
		return -EFAULT;
	return (long)len;
}

static long file_read(struct file *f, uint64_t buf, uint64_t count)
{
	long n = file_read_at(f, buf, count, f->pos);

	if (n > 0 && (f->kind == FILE_NODE || f->kind == FILE_GENERATED))
		f->pos += (uint64_t)n;
	return n;
}

static long file_write(struct file *f, uint64_t buf, uint64_t count)
{
	if ((f->flags & O_ACCMODE) == O_RDONLY || (f->flags & O_PATH))
		return -EBADF;
	if (f->kind == FILE_CONSOLE)
		return console_write_user(buf, count);
	if (f->kind == FILE_PIPE)
		return pipe_write(f->pipe, buf, count);
	if (f->kind == FILE_DEVICE)
		return (long)count; /* null, zero and the random devices take anything */
	return -EROFS;		    /* not reached: files never open for writing */
}

int fd_mmap_source(uint64_t fd, const void **data, uint64_t *size, int *writable)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (f->kind != FILE_NODE || is_dir(f))
		return -ENODEV;
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EACCES;
	const struct tarfs_node *n = tarfs_node(&rootfs, f->node);
	/* An empty file may have no data pointer; a mapping of it still is a
	 * file mapping (every page past the end), never anonymous memory. */
	*data = n->data ? (const void *)n->data : (const void *)"";
	*size = n->size;
	*writable = (f->flags & O_ACCMODE) == O_RDWR;
	return 0;
}

FD_SYSCALL(read)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	if ((int64_t)a2 < 0)
		return -EINVAL;
	return file_read(f, a1, a2);
}

FD_SYSCALL(write)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	if ((int64_t)a2 < 0)
		return -EINVAL;
	return file_write(f, a1, a2);
}

FD_SYSCALL(pread64)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	if (f->kind == FILE_CONSOLE || f->kind == FILE_PIPE)
		return -ESPIPE;
	if ((int64_t)a2 < 0 || (int64_t)a3 < 0)
		return -EINVAL;
	return file_read_at(f, a1, a2, a3);
}

/* readv/writev: one op per iovec entry, stopping at the first short one. */
static long vector_io(uint64_t fd, uint64_t iov_addr, uint64_t count, int writing)
{
	struct {
		uint64_t base, len;
	} iov;
	struct file *f = fd_get(fd);
	long total = 0;

	if (!f)
		return -EBADF;
	if (count > IOV_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		if (app_copy_from(&iov, iov_addr + i * sizeof(iov), sizeof(iov)))
			return total ? total : -EFAULT;
		if ((int64_t)iov.len < 0 || iov.len > (uint64_t)INT64_MAX - (uint64_t)total)
			return total ? total : -EINVAL;
		if (!iov.len)
			continue;
		long n =
		    writing ? file_write(f, iov.base, iov.len) : file_read(f, iov.base, iov.len);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((uint64_t)n < iov.len)
			break;
	}
	return total;
}

FD_SYSCALL(readv)
{
	return vector_io(a0, a1, a2, 0);
}

FD_SYSCALL(writev)
{
	return vector_io(a0, a1, a2, 1);
}

/* ---------------------------------------------------------------- open and close */

static long do_open(int64_t dirfd, uint64_t upath, uint64_t flags)
{
	unsigned acc = flags & O_ACCMODE;
	int node = lookup_at(dirfd, upath, (flags & O_NOFOLLOW) ? TARFS_NOFOLLOW : 0);
	int device = device_named(); /* lookup_at left the path in path_buf */

	if (device >= 0 && node != -EFAULT && node != -ENAMETOOLONG)
		return open_device(device, flags);
	if (node != -EFAULT && node != -ENAMETOOLONG) {
		long fd = open_generated(flags);
		if (fd != -ENOENT)
			return fd;
	}

	if (node == -ENOENT && (flags & O_CREAT))
		return -EROFS;
	if (node < 0)
		return node;
	const struct tarfs_node *n = tarfs_node(&rootfs, node);
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (n->type == TARFS_SYMLINK && !(flags & O_PATH))
		return -ELOOP; /* O_NOFOLLOW on a symlink */
	if ((flags & O_DIRECTORY) && n->type != TARFS_DIR)
		return -ENOTDIR;
	if (!(flags & O_PATH)) {
		if (n->type == TARFS_DIR && (acc != O_RDONLY || (flags & O_CREAT)))
			return -EISDIR;
		if (acc != O_RDONLY || (flags & O_TRUNC))
			return -EROFS;
	}
	struct file *f = kmalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	*f = (struct file){.refs = 0,
			   .kind = FILE_NODE,
			   .node = node,
			   .flags = (unsigned)(flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH |
							O_DIRECTORY | O_LARGEFILE))};
	int fd = fd_install(0, f, (flags & O_CLOEXEC) != 0);
	if (fd < 0)
		kfree(f);
	return fd;
}

FD_SYSCALL(open)
{
	return do_open(AT_FDCWD, a0, a1);
}

FD_SYSCALL(openat)
{
	return do_open((int64_t)(int)a0, a1, a2);
}

FD_SYSCALL(close)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	fds[a0].file = NULL;
	file_put(f);
	return 0;
}

FD_SYSCALL(lseek)
{
	struct file *f = fd_get(a0);
	int64_t off = (int64_t)a1, base;

	if (!f)
		return -EBADF;
	if (f->kind == FILE_DEVICE)
		return 0; /* Linux's memory devices accept any seek and stay at 0 */
	if (f->kind != FILE_NODE && f->kind != FILE_GENERATED)
		return -ESPIPE;
	const struct tarfs_node *n = f->kind == FILE_NODE ? tarfs_node(&rootfs, f->node) : NULL;
	switch (a2) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		if (n && n->type == TARFS_DIR)
			return -EINVAL;
		base = (int64_t)(n ? n->size : f->text_len);
		break;
	default:
		return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

/* ---------------------------------------------------------------- stat */

static void stat_node(int node, struct linux_stat *st)
{
	const struct tarfs_node *n = tarfs_node(&rootfs, node);
	static const uint32_t type_bits[] = {
	    [TARFS_FILE] = S_IFREG, [TARFS_DIR] = S_IFDIR, [TARFS_SYMLINK] = S_IFLNK};

	*st = (struct linux_stat){
	    .st_dev = 1,
	    .st_ino = (uint64_t)node + 1,
	    .st_nlink = n->type == TARFS_DIR ? 2 : 1,
	    .st_mode = type_bits[n->type] | n->mode,
	    .st_uid = n->uid,
	    .st_gid = n->gid,
	    .st_size = (int64_t)n->size,
	    .st_blksize = 4096,
	    .st_blocks = (int64_t)((n->size + 511) / 512),
	    .st_atime = (uint64_t)n->mtime,
	    .st_mtime = (uint64_t)n->mtime,
	    .st_ctime = (uint64_t)n->mtime,
	};
}

static void stat_file(const struct file *f, struct linux_stat *st)
{
	if (f->kind == FILE_NODE) {
		stat_node(f->node, st);
		return;
	}
	if (f->kind == FILE_DEVICE) {
		stat_device(f->device, st);
		return;
	}
	if (f->kind == FILE_GENERATED) {
		stat_generated(st);
		return;
	}
	if (f->kind == FILE_PIPE) {
		*st = (struct linux_stat){.st_dev = 3,
					  .st_ino = (uint64_t)(uintptr_t)f->pipe,
					  .st_nlink = 1,
					  .st_mode = S_IFIFO | 0600,
					  .st_blksize = PIPE_SIZE};
		return;
	}
	*st = (struct linux_stat){
	    .st_dev = 2,
	    .st_ino = 1,
	    .st_nlink = 1,
	    .st_mode = S_IFCHR | 0620,
	    .st_rdev = CONSOLE_RDEV,
	    .st_blksize = 1024,
	};
}

FD_SYSCALL(fstat)
{
	struct file *f = fd_get(a0);
	struct linux_stat st;

	if (!f)
		return -EBADF;
	stat_file(f, &st);
	return app_copy_to(a1, &st, sizeof(st));
}

/* The stat of dirfd/path with AT_* flags into *st. */
static int stat_at(int64_t dirfd, uint64_t upath, uint64_t flags, struct linux_stat *st)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* NO_AUTOMOUNT */))
		return -EINVAL;
	int err = copy_path(upath);
	if (err)
		return err;
	if (!path_buf[0]) {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		if ((int)dirfd == AT_FDCWD) {
			stat_node(cwd, st);
			return 0;
		}
		struct file *f = fd_get((uint64_t)dirfd);
		if (!f)
			return -EBADF;
		stat_file(f, st);
		return 0;
	}
	int device = device_named();
	if (device >= 0) {
		stat_device(device, st);
		return 0;
	}
	static char text[PROCFS_TEXT_MAX];
	if (procfs_generate(path_buf, text, sizeof(text)) >= 0) {
		stat_generated(st);
		return 0;
	}
	int dir;
	err = start_dir(dirfd, &dir);
	if (err)
		return err;
	int node = tarfs_lookup(&rootfs, dir, path_buf,
				(flags & AT_SYMLINK_NOFOLLOW) ? TARFS_NOFOLLOW : 0);
	if (node < 0)
		return node;
	stat_node(node, st);
	return 0;
}

static long stat_to_user(int64_t dirfd, uint64_t upath, uint64_t flags, uint64_t out)
{
	struct linux_stat st;
	int err = stat_at(dirfd, upath, flags, &st);

	return err ? err : app_copy_to(out, &st, sizeof(st));
}

FD_SYSCALL(stat)
{
	return stat_to_user(AT_FDCWD, a0, 0, a1);
}

FD_SYSCALL(lstat)
{
	return stat_to_user(AT_FDCWD, a0, AT_SYMLINK_NOFOLLOW, a1);
}

FD_SYSCALL(newfstatat)
{
	return stat_to_user((int64_t)(int)a0, a1, a3, a2);
}

FD_SYSCALL(statx)
{
	struct linux_stat st;
	struct linux_statx sx;
	int err =
	    stat_at((int64_t)(int)a0, a1, a2 & ~(uint64_t)0x6000 /* AT_STATX_SYNC_TYPE */, &st);

	if (err)
		return err;
	sx = (struct linux_statx){
	    .stx_mask = STATX_BASIC_STATS,
	    .stx_blksize = (uint32_t)st.st_blksize,
	    .stx_nlink = (uint32_t)st.st_nlink,
	    .stx_uid = st.st_uid,
	    .stx_gid = st.st_gid,
	    .stx_mode = (uint16_t)st.st_mode,
	    .stx_ino = st.st_ino,
	    .stx_size = (uint64_t)st.st_size,
	    .stx_blocks = (uint64_t)st.st_blocks,
	    .stx_atime = {.tv_sec = (int64_t)st.st_atime},
	    .stx_ctime = {.tv_sec = (int64_t)st.st_ctime},
	    .stx_mtime = {.tv_sec = (int64_t)st.st_mtime},
	    .stx_rdev_major = (uint32_t)(st.st_rdev >> 8),
	    .stx_rdev_minor = (uint32_t)(st.st_rdev & 0xff),
	    .stx_dev_major = 0,
	    .stx_dev_minor = (uint32_t)st.st_dev,
	};
	return app_copy_to(a4, &sx, sizeof(sx));
}

/* The app runs as root: R_OK always, X_OK needs an x bit (or a directory),
 * W_OK is -EROFS on this read-only file system. */
static long do_access(int64_t dirfd, uint64_t upath, uint64_t mode, uint64_t flags)
{
	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))
		return -EINVAL;
	struct linux_stat st;
	int err = stat_at(dirfd, upath, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &st);
	if (err)
		return err;
	if ((mode & W_OK) && (st.st_mode & S_IFMT) != S_IFCHR)
		return -EROFS;
	if ((mode & X_OK) && (st.st_mode & S_IFDIR) != S_IFDIR && !(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

FD_SYSCALL(access)
{
	return do_access(AT_FDCWD, a0, a1, 0);
}

FD_SYSCALL(faccessat)
{
	return do_access((int64_t)(int)a0, a1, a2, 0);
}

FD_SYSCALL(faccessat2)
{
	return do_access((int64_t)(int)a0, a1, a2, a3);
}

static long do_readlink(int64_t dirfd, uint64_t upath, uint64_t buf, uint64_t size)
{
	if ((int64_t)size <= 0)
		return -EINVAL;
	int node = lookup_at(dirfd, upath, TARFS_NOFOLLOW);
	if (node < 0)
		return node;
	const struct tarfs_node *n = tarfs_node(&rootfs, node);
	if (n->type != TARFS_SYMLINK)
		return -EINVAL;
	size_t len = MIN((size_t)size, (size_t)n->size);
	return app_copy_to(buf, n->target, len) ? -EFAULT : (long)len;
}

FD_SYSCALL(readlink)
{
	return do_readlink(AT_FDCWD, a0, a1, a2);
}

FD_SYSCALL(readlinkat)
{
	return do_readlink((int64_t)(int)a0, a1, a2, a3);
}

FD_SYSCALL(rofs_path)
{
	int err = copy_path(a0);

	return err ? err : -EROFS;
}

FD_SYSCALL(rofs_pathat)
{
	int err = copy_path(a1);

	return err ? err : -EROFS;
}

/* ---------------------------------------------------------------- directories */

/*
 * getdents64: the entry at position p is "." (0), ".." (1), then the
 * directory's children in archive order. The position is the file offset.
 */
FD_SYSCALL(getdents64)
{
	struct file *f = fd_get(a0);
	uint64_t buf = a1, size = a2, used = 0;
	char rec[sizeof(uint64_t) * 3 + TARFS_NAME_MAX + 8];

	if (!f)
		return -EBADF;
	if (!is_dir(f))
		return -ENOTDIR;
	const struct tarfs_node *dir = tarfs_node(&rootfs, f->node);
	/* Find the child at f->pos. */
	int child = dir->first_child;
	for (uint64_t i = 2; i < f->pos && child >= 0; i++)
		child = tarfs_node(&rootfs, child)->next_sibling;
	for (;;) {
		const char *name;
		int node;
		if (f->pos == 0) {
			name = ".", node = f->node;
		} else if (f->pos == 1) {
			name = "..", node = dir->parent;
		} else if (child >= 0) {
			name = tarfs_node(&rootfs, child)->name, node = child;
		} else {
			break;
		}
		size_t nlen = strlen(name);
		size_t reclen = ALIGN_UP(19 + nlen + 1, (size_t)8);
		if (used + reclen > size) {
			if (!used)
				return -EINVAL; /* the buffer is too small for one entry */
			break;
		}
		enum tarfs_type t = tarfs_node(&rootfs, node)->type;
		uint64_t ino = (uint64_t)node + 1, off = f->pos + 1;
		uint16_t rl = (uint16_t)reclen;
		memset(rec, 0, reclen);
		memcpy(rec, &ino, 8);
		memcpy(rec + 8, &off, 8);
		memcpy(rec + 16, &rl, 2);
		rec[18] = (char)(t == TARFS_DIR ? DT_DIR : t == TARFS_SYMLINK ? DT_LNK : DT_REG);
		memcpy(rec + 19, name, nlen);
		if (app_copy_to(buf + used, rec, reclen))
			return used ? (long)used : -EFAULT;
		used += reclen;
		if (f->pos >= 2)
			child = tarfs_node(&rootfs, child)->next_sibling;
		f->pos++;
	}
	return (long)used;
}

FD_SYSCALL(getcwd)
{
	char buf[PATH_MAX];
	long len = tarfs_path(&rootfs, cwd, buf, sizeof(buf));

	if (len < 0)
		return len;
	if ((uint64_t)len + 1 > a1)
		return -ERANGE;
	return app_copy_to(a0, buf, (size_t)len + 1) ? -EFAULT : len + 1;
}

FD_SYSCALL(chdir)
{
	int node = lookup_at(AT_FDCWD, a0, 0);

	if (node < 0)
		return node;
	if (tarfs_node(&rootfs, node)->type != TARFS_DIR)
		return -ENOTDIR;
	cwd = node;
	return 0;
}

FD_SYSCALL(fchdir)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	if (!is_dir(f))
		return -ENOTDIR;
	cwd = f->node;
	return 0;
}

/* ---------------------------------------------------------------- descriptors */

/*
 * POSIX and open-file-description record locks. The app is the only
 * process, so every lock it asks for is granted at once and none ever
 * conflicts: F_GETLK answers F_UNLCK. What Linux checks is checked: the
 * struct, the lock type, and that a read (write) lock is on a descriptor
 * open for reading (writing), which rootfs files never are for writing.
 */
struct linux_flock {
	int16_t l_type, l_whence;
	int64_t l_start, l_len;
	int32_t l_pid, pad;
};

static long record_lock(struct file *f, uint64_t cmd, uint64_t ulock)
{
	struct linux_flock lock;
	unsigned acc = f->flags & O_ACCMODE;

	if (app_copy_from(&lock, ulock, sizeof(lock)))
		return -EFAULT;
	if (lock.l_type != F_RDLCK && lock.l_type != F_WRLCK && lock.l_type != F_UNLCK)
		return -EINVAL;
	if (lock.l_whence != SEEK_SET && lock.l_whence != SEEK_CUR && lock.l_whence != SEEK_END)
		return -EINVAL;
	if (cmd >= F_OFD_GETLK && lock.l_pid != 0)
		return -EINVAL;
	if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
		lock.l_type = F_UNLCK;
		return app_copy_to(ulock, &lock, sizeof(lock));
	}
	if ((lock.l_type == F_RDLCK && acc == O_WRONLY) ||
	    (lock.l_type == F_WRLCK && acc == O_RDONLY))
		return -EBADF;
	return 0;
}

FD_SYSCALL(fcntl)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	switch (a1) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (a2 >= FD_MAX)
			return -EINVAL;
		return fd_install(a2, f, a1 == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return fds[a0].cloexec ? FD_CLOEXEC : 0;
	case F_SETFD:
		fds[a0].cloexec = (a2 & FD_CLOEXEC) != 0;
		return 0;
	case F_GETFL:
		return f->flags;
	case F_SETFL:
		f->flags = (f->flags & ~(unsigned)(O_APPEND | O_NONBLOCK)) |
			   (unsigned)(a2 & (O_APPEND | O_NONBLOCK));
		return 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return record_lock(f, a1, a2);
	case F_GETOWN:
		return 0;
	case F_SETOWN:
		return 0; /* no SIGIO is ever sent */
	case F_GETPIPE_SZ:
		return f->kind == FILE_PIPE ? PIPE_SIZE : -EINVAL;
	default:
		return -EINVAL;
	}
}

FD_SYSCALL(dup)
{
	struct file *f = fd_get(a0);

	return f ? fd_install(0, f, 0) : -EBADF;
}

static long do_dup3(uint64_t oldfd, uint64_t newfd, uint64_t flags)
{
	struct file *f = fd_get(oldfd);

	if (!f)
		return -EBADF;
	if (flags & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if (newfd >= FD_MAX)
		return -EBADF;
	f->refs++; /* newfd may hold f itself */
	if (fds[newfd].file)
		file_put(fds[newfd].file);
	fds[newfd].file = f;
	fds[newfd].cloexec = (flags & O_CLOEXEC) != 0;
	return (long)newfd;
}

FD_SYSCALL(dup2)
{
	if (a0 == a1)
		return fd_get(a0) ? (long)a1 : -EBADF;
	return do_dup3(a0, a1, 0);
}

FD_SYSCALL(dup3)
{
	if (a0 == a1)
		return -EINVAL;
	return do_dup3(a0, a1, a2);
}

FD_SYSCALL(ioctl)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	switch (a1) { /* the calls every kind of file takes */
	case FIOCLEX:
	case FIONCLEX:
		fds[a0].cloexec = a1 == FIOCLEX;
		return 0;
	case FIONBIO: {
		int32_t on;
		if (app_copy_from(&on, a2, sizeof(on)))
			return -EFAULT;
		f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~(unsigned)O_NONBLOCK;
		return 0;
	}
	case FIONREAD: {
		int32_t n = 0;
		if (f->kind == FILE_PIPE)
			n = (int32_t)f->pipe->len;
		else if (f->kind == FILE_CONSOLE)
			n = (int32_t)(line.ready ? line.len - line.start : 0);
		else if (f->kind == FILE_NODE && !is_dir(f)) {
			uint64_t size = tarfs_node(&rootfs, f->node)->size;
			n = (int32_t)MIN(size > f->pos ? size - f->pos : 0, (uint64_t)INT32_MAX);
		} else if (f->kind == FILE_NODE)
			return -ENOTTY;
		return app_copy_to(a2, &n, sizeof(n));
	}
	}
	if (f->kind != FILE_CONSOLE)
		return -ENOTTY;
	switch (a1) {
	case TCGETS:
		return app_copy_to(a2, &termios, sizeof(termios));
	case TCSETS:
	case TCSETSW:
	case TCSETSF: {
		struct linux_termios t;
		if (app_copy_from(&t, a2, sizeof(t)))
			return -EFAULT;
		if (a1 == TCSETSF || ((t.c_lflag ^ termios.c_lflag) & ICANON))
			line.len = line.start = line.ready = 0; /* flush pending input */
		termios = t;
		return 0;
	}
	case TIOCGWINSZ: {
		struct linux_winsize ws = {.ws_row = 25, .ws_col = 80};
		if (fbcon_cols() && fbcon_rows()) {
			ws.ws_col = (uint16_t)fbcon_cols();
			ws.ws_row = (uint16_t)fbcon_rows();
		}
		return app_copy_to(a2, &ws, sizeof(ws));
	}
	case TIOCSWINSZ:
		return 0;
	case TIOCGPGRP: {
		int32_t pgrp = 1;
		return app_copy_to(a2, &pgrp, sizeof(pgrp));
	}
	case TIOCSPGRP:
		return 0;
	default:
		return -ENOTTY;
	}
}

/* ---------------------------------------------------------------- more file calls */

/* fsync, fdatasync: nothing is ever dirty. Pipes cannot be synced (EINVAL). */
FD_SYSCALL(fsync)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	return f->kind == FILE_PIPE ? -EINVAL : 0;
}

/* ftruncate: no descriptor is ever open for writing a file. */
FD_SYSCALL(ftruncate)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	if ((int64_t)a1 < 0)
		return -EINVAL;
	return f->kind == FILE_NODE ? -EROFS : -EINVAL;
}

/* fchmod, fchown: a rootfs file is read-only; the console and pipes accept
 * and forget (their owner and mode are not kept). */
FD_SYSCALL(fchange)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	return f->kind == FILE_NODE ? -EROFS : 0;
}

/* chmod, chown, lchown, utime, utimes and the *at flavours: the path must
 * exist (ENOENT otherwise, as on Linux), then the change is EROFS. */
FD_SYSCALL(change_path)
{
	int node = lookup_at(AT_FDCWD, a0, 0);

	return node < 0 ? node : -EROFS;
}

FD_SYSCALL(change_pathat)
{
	int node;

	if (!a1) /* utimensat(fd, NULL, ...) changes fd itself */
		return sys_fchange(a0, 0, 0, 0, 0, 0);
	node = lookup_at((int64_t)a0, a1, 0);
	return node < 0 ? node : -EROFS;
}

/* flock, fadvise64, readahead: advice and locks with one process are no-ops. */
FD_SYSCALL(fd_advice)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	return f->kind == FILE_PIPE ? -ESPIPE : 0;
}

FD_SYSCALL(pwrite64)
{
	struct file *f = fd_get(a0);

	if (!f)
		return -EBADF;
	if (f->kind != FILE_NODE)
		return -ESPIPE;
	return -EBADF; /* rootfs files never open for writing */
}

/* The root file system as statfs describes it: read-only, 4 KiB blocks. */
#define ROMFS_MAGIC 0x7275
#define ST_RDONLY   1

struct linux_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags, f_spare[4];
};

static long statfs_to_user(uint64_t out)
{
	struct linux_statfs st = {
	    .f_type = ROMFS_MAGIC,
	    .f_bsize = PAGE_SIZE,
	    .f_files = (uint64_t)rootfs.count,
	    .f_namelen = TARFS_NAME_MAX,
	    .f_frsize = PAGE_SIZE,
	    .f_flags = ST_RDONLY,
	};

	for (int i = 0; i < rootfs.count; i++)
		st.f_blocks += ALIGN_UP(tarfs_node(&rootfs, i)->size, PAGE_SIZE) / PAGE_SIZE;
	return app_copy_to(out, &st, sizeof(st));
}

FD_SYSCALL(statfs)
{
	int node = lookup_at(AT_FDCWD, a0, 0);

	return node < 0 ? node : statfs_to_user(a1);
}

FD_SYSCALL(fstatfs)
{
	if (!fd_get(a0))
		return -EBADF;
	return statfs_to_user(a1);
}

/*
 * sendfile(out, in, offset, count): from a rootfs file to the console or a
 * pipe, straight from the archive in memory. With offset, reads start there
 * and *offset moves, not the file's position.
 */
FD_SYSCALL(sendfile)
{
	struct file *out = fd_get(a0), *in = fd_get(a1);
	uint64_t pos, count = a3;
	int64_t off;

	if (!out || !in)
		return -EBADF;
	if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY ||
	    ((in->flags | out->flags) & O_PATH))
		return -EBADF;
	if (in->kind != FILE_NODE || is_dir(in) || out->kind == FILE_NODE)
		return -EINVAL;
	if (a2) {
		if (app_copy_from(&off, a2, sizeof(off)))
			return -EFAULT;
		if (off < 0)
			return -EINVAL;
		pos = (uint64_t)off;
	} else {
		pos = in->pos;
	}
	const struct tarfs_node *n = tarfs_node(&rootfs, in->node);
	uint64_t len = pos < n->size ? MIN(count, n->size - pos) : 0;
	if (out->kind == FILE_PIPE) {
		struct pipe *p = out->pipe;
		if (!p->readers)
			return broken_pipe();
		len = MIN(len, PIPE_SIZE - p->len);
		if (!len && count && pos < n->size)
			return -EAGAIN;
		for (uint64_t done = 0; done < len;) {
			size_t tail = (p->head + p->len) % PIPE_SIZE;
			size_t chunk = MIN((size_t)(len - done), PIPE_SIZE - tail);
			memcpy(p->buf + tail, n->data + pos + done, chunk);
			p->len += chunk;
			done += chunk;
		}
	} else {
		console_write((const char *)n->data + pos, len);
	}
	if (a2) {
		off = (int64_t)(pos + len);
		if (app_copy_to(a2, &off, sizeof(off)))
			return -EFAULT;
	} else {
		in->pos = pos + len;
	}
	return (long)len;
}

/* ---------------------------------------------------------------- poll and select */

#define POLLIN	   0x001
#define POLLPRI	   0x002
#define POLLOUT	   0x004
#define POLLERR	   0x008
#define POLLHUP	   0x010
#define POLLNVAL   0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100
#define FD_SETSIZE 1024

/* Whether console input is waiting, without blocking or losing a byte. */
static int console_readable(void)
{
	if (!serial_present())
		return 1; /* end of file, at once */
	if (termios.c_lflag & ICANON)
		return line.ready || fill_line(1) == 0;
	if (peeked_byte < 0)
		peeked_byte = serial_read_byte();
	return peeked_byte >= 0;
}

/* The poll events that hold now for f (Linux's answers for its kind). */
static unsigned file_events(const struct file *f)
{
	unsigned ev = 0, acc = f->flags & O_ACCMODE;

	switch (f->kind) {
	case FILE_NODE:
	case FILE_DEVICE:
	case FILE_GENERATED:
		return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM; /* never block */
	case FILE_CONSOLE:
		if (acc != O_WRONLY && console_readable())
			ev |= POLLIN | POLLRDNORM;
		return ev | POLLOUT | POLLWRNORM;
	case FILE_PIPE:
		if (acc == O_RDONLY) {
			if (f->pipe->len)
				ev |= POLLIN | POLLRDNORM;
			if (!f->pipe->writers)
				ev |= POLLHUP;
		} else {
			if (f->pipe->len < PIPE_SIZE)
				ev |= POLLOUT | POLLWRNORM;
			if (!f->pipe->readers)
				ev |= POLLERR;
		}
		return ev;
	}
	return 0;
}

/*
 * The deadline in TSC ticks for a timeout of ns nanoseconds from now;
 * UINT64_MAX waits forever. Only console input can change while the one
 * thread waits, so waiting means watching the UART.
 */
static uint64_t deadline_after(uint64_t ns)
{
	uint64_t hz = tsc_hz(), now = arch_timestamp();

	if (ns == UINT64_MAX || !hz)
		return UINT64_MAX;
	uint64_t ticks = ns / 1000000000ull * hz + ns % 1000000000ull * hz / 1000000000ull;
	return ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks;
}

/* Halts until the deadline or the next console poll, whichever is first;
 * 0 once the deadline has passed. */
static int wait_more(uint64_t deadline)
{
	uint64_t now = arch_timestamp();
	uint64_t step = apic_timer_tsc_ticks(CONSOLE_POLL_NS, tsc_hz());

	if (now >= deadline)
		return 0;
	apic_timer_sleep_until(deadline - now > step ? now + step : deadline);
	return 1;
}

struct linux_pollfd {
	int32_t fd;
	int16_t events, revents;
};

#define POLL_BATCH 64

static long do_poll(uint64_t ufds, uint64_t nfds, uint64_t timeout_ns)
{
	struct linux_pollfd batch[POLL_BATCH];
	uint64_t deadline = deadline_after(timeout_ns);

	if (nfds > FD_MAX * 4)
		return -EINVAL;
	for (;;) {
		long ready = 0;
		for (uint64_t i = 0; i < nfds; i += POLL_BATCH) {
			size_t n = (size_t)MIN(nfds - i, POLL_BATCH);
			if (app_copy_from(batch, ufds + i * sizeof(batch[0]), n * sizeof(batch[0])))
				return -EFAULT;
			for (size_t j = 0; j < n; j++) {
				struct linux_pollfd *p = &batch[j];
				struct file *f = p->fd < 0 ? NULL : fd_get((uint64_t)p->fd);
				unsigned want = (uint16_t)p->events | POLLERR | POLLHUP;
				if (p->fd < 0)
					p->revents = 0;
				else if (!f)
					p->revents = POLLNVAL;
				else
					p->revents = (int16_t)(file_events(f) & want);
				ready += p->revents != 0;
			}
			if (app_copy_to(ufds + i * sizeof(batch[0]), batch, n * sizeof(batch[0])))
				return -EFAULT;
		}
		if (ready || !wait_more(deadline))
			return ready;
	}
}

FD_SYSCALL(poll)
{
	int timeout_ms = (int)a2;

	return do_poll(a0, a1, timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000000ull);
}

/* A user timespec as ns (UINT64_MAX for NULL: no timeout). */
static int timespec_ns(uint64_t uts, uint64_t *ns)
{
	int64_t ts[2];

	if (!uts) {
		*ns = UINT64_MAX;
		return 0;
	}
	if (app_copy_from(ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
		return -EINVAL;
	*ns = (uint64_t)ts[0] > UINT64_MAX / 1000000000ull - 1
		  ? UINT64_MAX - 1
		  : (uint64_t)ts[0] * 1000000000ull + (uint64_t)ts[1];
	return 0;
}

/* ppoll: the signal mask argument is ignored (no signal can arrive while
 * the one thread waits in the kernel). */
FD_SYSCALL(ppoll)
{
	uint64_t ns;
	int err = timespec_ns(a2, &ns);

	return err ? err : do_poll(a0, a1, ns);
}

/* select over the three fd_set bitmaps (any may be NULL). */
static long do_select(uint64_t nfds, uint64_t rset, uint64_t wset, uint64_t eset,
		      uint64_t timeout_ns)
{
	uint64_t in[3][FD_SETSIZE / 64] = {{0}}, out[3][FD_SETSIZE / 64];
	uint64_t sets[3] = {rset, wset, eset};
	size_t bytes = ALIGN_UP(nfds, 64) / 8;
	uint64_t deadline = deadline_after(timeout_ns);

	if ((int64_t)nfds < 0)
		return -EINVAL;
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE, bytes = FD_SETSIZE / 8;
	for (int k = 0; k < 3; k++) {
		if (sets[k] && app_copy_from(in[k], sets[k], bytes))
			return -EFAULT;
	}
	for (uint64_t fd = 0; fd < nfds; fd++) {
		int asked = 0;
		for (int k = 0; k < 3; k++)
			asked |= (in[k][fd / 64] >> (fd % 64)) & 1;
		if (asked && !fd_get(fd))
			return -EBADF;
	}
	for (;;) {
		long ready = 0;
		memset(out, 0, sizeof(out));
		for (uint64_t fd = 0; fd < nfds; fd++) {
			uint64_t bit = 1ull << (fd % 64);
			struct file *f = fd_get(fd);
			if (!f || !((in[0][fd / 64] | in[1][fd / 64] | in[2][fd / 64]) & bit))
				continue;
			unsigned ev = file_events(f);
			unsigned match[3] = {POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR,
					     POLLPRI};
			for (int k = 0; k < 3; k++) {
				if ((in[k][fd / 64] & bit) && (ev & match[k])) {
					out[k][fd / 64] |= bit;
					ready++;
				}
			}
		}
		if (ready || !wait_more(deadline)) {
			for (int k = 0; k < 3; k++) {
				if (sets[k] && app_copy_to(sets[k], out[k], bytes))
					return -EFAULT;
			}
			return ready;
		}
	}
}

FD_SYSCALL(select)
{
	int64_t tv[2];
	uint64_t ns = UINT64_MAX;

	if (a4) {
		if (app_copy_from(tv, a4, sizeof(tv)))
			return -EFAULT;
		if (tv[0] < 0 || tv[1] < 0)
			return -EINVAL;
		ns = (uint64_t)tv[0] > UINT64_MAX / 1000000000ull - 1
			 ? UINT64_MAX - 1
			 : (uint64_t)tv[0] * 1000000000ull + (uint64_t)tv[1] % 1000000 * 1000;
	}
	return do_select(a0, a1, a2, a3, ns);
}

FD_SYSCALL(pselect6)
{
	uint64_t ns;
	int err = timespec_ns(a4, &ns);

	return err ? err : do_select(a0, a1, a2, a3, ns);
}
