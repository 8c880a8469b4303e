/*
 * fsops: the file-system calls of a writable root, through musl (and the raw
 * syscall where musl has no wrapper or does not use the call), as static
 * Linux programs use them. tests/boot/test_real.c runs it on Solo and
 * natively on the host in a tmpfs, and the two outputs must be equal byte
 * for byte: the host is the oracle.
 *
 *   fsops DIR      works in DIR (relative, its parent must exist), which it
 *                  creates first and removes at the end
 *
 * So it prints what happened, one line per step (a return value or the errno
 * name, contents, sorted listings, sizes, link counts, modes, owners, times it
 * set itself), never a judgement and nothing that differs between two
 * correct systems: no descriptor numbers, inode numbers, absolute times,
 * block counts, directory sizes or free-space figures (statfs prints facts
 * about them only). getdents order is the file system's own, so listings are
 * sorted. It exits 0 when every step ran, whatever their results, and 1 only
 * when it cannot work at all (no DIR). The chown steps need root (the host
 * test runs it as root).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* The errno values a file-system call can return, by name. */
static const char *err_name(int e)
{
#define E(x)                                                                                       \
	case x:                                                                                    \
		return #x
	switch (e) {
		E(EPERM);
		E(ENOENT);
		E(EINTR);
		E(EIO);
		E(ENXIO);
		E(E2BIG);
		E(EBADF);
		E(EAGAIN);
		E(ENOMEM);
		E(EACCES);
		E(EFAULT);
		E(EBUSY);
		E(EEXIST);
		E(EXDEV);
		E(ENODEV);
		E(ENOTDIR);
		E(EISDIR);
		E(EINVAL);
		E(ENFILE);
		E(EMFILE);
		E(ENOTTY);
		E(ETXTBSY);
		E(EFBIG);
		E(ENOSPC);
		E(ESPIPE);
		E(EROFS);
		E(EMLINK);
		E(ERANGE);
		E(EDEADLK);
		E(ENAMETOOLONG);
		E(ENOLCK);
		E(ENOSYS);
		E(ENOTEMPTY);
		E(ELOOP);
		E(EOVERFLOW);
		E(EOPNOTSUPP);
		E(ENODATA);
	}
#undef E
	static char buf[32];
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/*
 * Prints "what: R": R is r, or "-1 ENAME" when r is -1. Reads errno before
 * anything else, so what must be a plain string (no call that sets errno
 * may run between the checked call and this one). Returns r.
 */
static long say(const char *what, long r)
{
	int e = errno;

	if (r == -1)
		printf("%s: -1 %s\n", what, err_name(e));
	else
		printf("%s: %ld\n", what, r);
	errno = e;
	return r;
}

/* For calls returning a descriptor, whose number is not ours to print: "ok". */
static int say_fd(const char *what, int fd)
{
	int e = errno;

	if (fd < 0)
		printf("%s: -1 %s\n", what, err_name(e));
	else
		printf("%s: ok\n", what);
	errno = e;
	return fd;
}

/* For a check whose answer is a fact: "what: yes" or "what: no". */
static void fact(const char *what, int yes)
{
	printf("%s: %s\n", what, yes ? "yes" : "no");
}

static void section(const char *name)
{
	printf("== %s\n", name);
}

/* Prints n bytes of s as a C string: printable ASCII as is, the rest escaped. */
static void print_escaped(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\0')
			fputs("\\0", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 32 || c > 126)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static char big_buf[2 << 20];

/*
 * Prints the contents of path: "cat PATH: N bytes "..."" for a small file;
 * for a larger one the size, how many bytes are zero and the first and last
 * 8 bytes.
 */
static void show_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, total = 0;

	if (fd < 0) {
		printf("cat %s: -1 %s\n", path, err_name(errno));
		return;
	}
	while ((n = read(fd, big_buf + total, sizeof(big_buf) - (size_t)total)) > 0)
		total += n;
	close(fd);
	if (n < 0) {
		printf("cat %s: read -1 %s\n", path, err_name(errno));
		return;
	}
	printf("cat %s: %zd bytes ", path, total);
	if (total <= 64) {
		print_escaped(big_buf, (size_t)total);
	} else {
		size_t zeros = 0;

		for (ssize_t i = 0; i < total; i++)
			zeros += big_buf[i] == '\0';
		printf("(%zu zero) ", zeros);
		print_escaped(big_buf, 8);
		fputs(" .. ", stdout);
		print_escaped(big_buf + total - 8, 8);
	}
	putchar('\n');
}

/* The parts of a stat that two correct systems agree on (see the header). */
static void print_stat(const char *what, const struct stat *st)
{
	const char *type = S_ISREG(st->st_mode)	  ? "reg"
			   : S_ISDIR(st->st_mode) ? "dir"
			   : S_ISLNK(st->st_mode) ? "lnk"
						  : "other";

	printf("%s: %s %04o", what, type, (unsigned)(st->st_mode & 07777));
	if (!S_ISDIR(st->st_mode))
		printf(" size %lld", (long long)st->st_size);
	printf(" nlink %lu uid %u gid %u\n", (unsigned long)st->st_nlink, (unsigned)st->st_uid,
	       (unsigned)st->st_gid);
}

/* stat (or lstat) of path, printed: "stat PATH: ..." or the errno. */
static void show_stat(const char *path, int follow)
{
	struct stat st;
	char what[256];
	int r = follow ? stat(path, &st) : lstat(path, &st);

	snprintf(what, sizeof(what), "%s %s", follow ? "stat" : "lstat", path);
	if (r != 0)
		printf("%s: -1 %s\n", what, err_name(errno));
	else
		print_stat(what, &st);
}

static void show_fstat(const char *what, int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		printf("%s: -1 %s\n", what, err_name(errno));
	else
		print_stat(what, &st);
}

/* The access and modification times of path, to the nanosecond. */
static void show_times(const char *path, int follow)
{
	struct stat st;
	int r = follow ? stat(path, &st) : lstat(path, &st);

	if (r != 0) {
		printf("times %s: -1 %s\n", path, err_name(errno));
		return;
	}
	printf("times %s: atime %lld.%09ld mtime %lld.%09ld\n", path, (long long)st.st_atim.tv_sec,
	       st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Lists dir sorted by name, each entry with the kind getdents gave it
 * (d_type): "ls DIR: ./d ../d a/f link/l".
 */
static void show_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[256];
	size_t n = 0;

	if (!d) {
		printf("ls %s: -1 %s\n", dir, err_name(errno));
		return;
	}
	while ((de = readdir(d)) && n < 256) {
		char kind = de->d_type == DT_REG   ? 'f'
			    : de->d_type == DT_DIR ? 'd'
			    : de->d_type == DT_LNK ? 'l'
						   : '?';

		if (asprintf(&names[n], "%s/%c", de->d_name, kind) < 0)
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	printf("ls %s:", dir);
	for (size_t i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	putchar('\n');
}

/* Writes s to a new (or truncated) file path; prints only a failure. */
static void put_file(const char *path, const char *s)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		printf("put_file %s: -1 %s\n", path, err_name(errno));
	if (fd >= 0)
		close(fd);
}

static int same_inode(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static long raw_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath,
			  unsigned flags)
{
	return syscall(SYS_renameat2, olddir, oldpath, newdir, newpath, flags);
}

/* ---------------------------------------------------------------- steps */

static void open_calls(int dfd)
{
	char buf[64];
	int fd;

	section("open, openat, creat");
	fd = say_fd("creat a (new)", creat("a", 0644));
	say("write hello", write(fd, "hello\n", 6));
	close(fd);
	show_file("a");
	/* musl's creat() is open(); the creat syscall itself truncates too
	 * and keeps the mode of an existing file. */
	fd = say_fd("SYS_creat a (existing)", (int)syscall(SYS_creat, "a", 0600));
	show_fstat("fstat a", fd);
	say("write", write(fd, "one two three\n", 14));
	close(fd);
	say_fd("open a O_CREAT|O_EXCL", open("a", O_CREAT | O_EXCL | O_WRONLY, 0644));
	fd = say_fd("open b O_CREAT|O_EXCL", open("b", O_CREAT | O_EXCL | O_RDWR, 0600));
	show_fstat("fstat b", fd);
	close(fd);
	fd = say_fd("open b O_CREAT (existing)", open("b", O_CREAT | O_RDWR, 0777));
	show_fstat("fstat b", fd);
	close(fd);
	fd = say_fd("open c O_CREAT 0777 (umask 022)", open("c", O_CREAT | O_WRONLY, 0777));
	show_fstat("fstat c", fd);
	close(fd);

	fd = say_fd("open a O_TRUNC", open("a", O_WRONLY | O_TRUNC));
	show_fstat("fstat a", fd);
	say("write", write(fd, "one two three\n", 14));
	close(fd);
	fd = say_fd("open a O_APPEND", open("a", O_WRONLY | O_APPEND));
	say("write four", write(fd, "four\n", 5));
	say("lseek 0", lseek(fd, 0, SEEK_SET));
	say("write five (appends anyway)", write(fd, "five\n", 5));
	say("lseek SEEK_CUR", lseek(fd, 0, SEEK_CUR));
	say("pwrite at 0 (appends too on Linux)", pwrite(fd, "six\n", 4, 0));
	close(fd);
	show_file("a");

	fd = say_fd("openat dfd d O_CREAT", openat(dfd, "d", O_CREAT | O_RDWR, 0640));
	say("write", write(fd, "dee\n", 4));
	close(fd);
	fd = say_fd("openat AT_FDCWD d", openat(AT_FDCWD, "d", O_RDONLY));
	say("read", read(fd, buf, sizeof(buf)));
	close(fd);
	say_fd("openat dfd missing", openat(dfd, "missing", O_RDONLY));

	say_fd("open missing", open("missing", O_RDONLY));
	say_fd("open nodir/x O_CREAT", open("nodir/x", O_CREAT | O_WRONLY, 0644));
	say_fd("open a/x (a is a file)", open("a/x", O_RDONLY));
	say_fd("open a O_DIRECTORY", open("a", O_RDONLY | O_DIRECTORY));
	say_fd("open . O_WRONLY", open(".", O_WRONLY));
	say_fd("open . O_RDWR", open(".", O_RDWR));
	say_fd("open . O_CREAT", open(".", O_CREAT | O_RDONLY, 0644));
	say_fd("open empty path", open("", O_RDONLY));

	fd = open("a", O_RDONLY);
	say("write to an O_RDONLY fd", write(fd, "x", 1));
	close(fd);
	fd = open("a", O_WRONLY);
	say("read from an O_WRONLY fd", read(fd, buf, sizeof(buf)));
	close(fd);
	say("read from a directory fd", read(dfd, buf, sizeof(buf)));
	say("write to a directory fd", write(dfd, "x", 1));

	/* An O_TMPFILE file has no name: it is never in the directory. */
	fd = say_fd("open . O_TMPFILE", open(".", O_TMPFILE | O_RDWR, 0600));
	say("write", write(fd, "temporary data", 14));
	memset(buf, 0, sizeof(buf));
	say("pread 4 at 0", pread(fd, buf, 4, 0));
	printf("read back: %s\n", buf);
	show_fstat("fstat tmpfile", fd);
	show_dir(".");
	say("close tmpfile", close(fd));
	say_fd("open . O_TMPFILE|O_RDONLY", open(".", O_TMPFILE | O_RDONLY, 0600));
	say_fd("open a O_TMPFILE (a file)", open("a", O_TMPFILE | O_RDWR, 0600));
	show_stat("a", 1);
}

static void write_calls(void)
{
	struct iovec v[3] = {{"12", 2}, {"345", 3}, {"6789", 4}};
	struct iovec pv[2] = {{"<<", 2}, {">>", 2}};
	int fd;

	section("write, pwrite64, writev, pwritev");
	fd = say_fd("open w", open("w", O_CREAT | O_RDWR | O_TRUNC, 0644));
	say("write abcdef", write(fd, "abcdef", 6));
	say("pwrite XY at 2", pwrite(fd, "XY", 2, 2));
	say("offset after pwrite", lseek(fd, 0, SEEK_CUR));
	say("writev 12 345 6789", writev(fd, v, 3));
	say("offset after writev", lseek(fd, 0, SEEK_CUR));
	say("pwritev << >> at 20", pwritev(fd, pv, 2, 20));
	say("offset after pwritev", lseek(fd, 0, SEEK_CUR));
	show_fstat("fstat w", fd);
	show_file("w");
	say("write 0 bytes", write(fd, "", 0));
	say("writev 0 vectors", writev(fd, v, 0));
	say("pwrite at -1", pwrite(fd, "x", 1, -1));
	say("lseek to -1", lseek(fd, -1, SEEK_SET));
	say("lseek whence 99", lseek(fd, 0, 99));
	say("lseek SEEK_END", lseek(fd, 0, SEEK_END));
	say("close", close(fd));
	say("write to a closed fd", write(fd, "x", 1));
}

static void truncate_calls(void)
{
	int fd, ro;

	section("ftruncate, truncate, fallocate");
	fd = open("w", O_RDWR);
	say("ftruncate 4", ftruncate(fd, 4));
	show_file("w");
	say("ftruncate 10 (grows with zeros)", ftruncate(fd, 10));
	show_file("w");
	say("truncate w 3", truncate("w", 3));
	show_file("w");
	say("truncate missing", truncate("missing", 0));
	say("truncate . (a directory)", truncate(".", 0));
	say("ftruncate -1", ftruncate(fd, -1));
	ro = open("w", O_RDONLY);
	say("ftruncate of an O_RDONLY fd", ftruncate(ro, 0));
	say("fallocate 0 8192", fallocate(fd, 0, 0, 8192));
	show_fstat("fstat w", fd);
	say("fallocate 100 50 (inside)", fallocate(fd, 0, 100, 50));
	show_fstat("fstat w", fd);
	say("fallocate 8000 1000 (past the end)", fallocate(fd, 0, 8000, 1000));
	show_fstat("fstat w", fd);
	show_file("w");
	say("fallocate length 0", fallocate(fd, 0, 0, 0));
	say("fallocate of an O_RDONLY fd", fallocate(ro, 0, 0, 100));
	say("posix_fallocate 0 9500 (returns the error)", posix_fallocate(fd, 0, 9500));
	show_fstat("fstat w", fd);
	close(ro);
	close(fd);
}

static void sparse_files(void)
{
	char buf[16] = "untouched";
	int fd;

	section("sparse files");
	fd = say_fd("open sparse", open("sparse", O_CREAT | O_RDWR | O_TRUNC, 0644));
	say("lseek 1 MiB", lseek(fd, 1 << 20, SEEK_SET));
	say("write end", write(fd, "end", 3));
	show_fstat("fstat sparse", fd);
	say("pread 8 in the hole", pread(fd, buf, 8, 4096));
	print_escaped(buf, 8);
	putchar('\n');
	show_file("sparse");
	say("lseek 10 past SEEK_END", lseek(fd, 10, SEEK_END));
	show_fstat("fstat sparse (lseek alone does not grow)", fd);
	say("write x", write(fd, "x", 1));
	show_fstat("fstat sparse", fd);
	say("pread at the end", pread(fd, buf, sizeof(buf), 1 << 20));
	print_escaped(buf, 14);
	putchar('\n');
	say("pread past the end", pread(fd, buf, sizeof(buf), 2 << 20));
	close(fd);
	say("unlink sparse", unlink("sparse"));
}

static void rename_calls(int dfd)
{
	struct stat before, after;

	section("rename, renameat, renameat2");
	stat("a", &before);
	say("rename a a2", rename("a", "a2"));
	show_stat("a", 1);
	show_file("a2");
	stat("a2", &after);
	fact("rename keeps the inode", before.st_ino == after.st_ino);
	put_file("b", "bee\n");
	say("rename b a2 (replaces)", rename("b", "a2"));
	show_file("a2");
	show_stat("b", 1);
	say("renameat dfd a2 AT_FDCWD a3", renameat(dfd, "a2", AT_FDCWD, "a3"));
	say("renameat2 a3 c NOREPLACE (c exists)",
	    raw_renameat2(dfd, "a3", dfd, "c", RENAME_NOREPLACE));
	say("renameat2 a3 e NOREPLACE", raw_renameat2(dfd, "a3", dfd, "e", RENAME_NOREPLACE));
	put_file("x", "xxx\n");
	put_file("y", "yyyy\n");
	say("renameat2 x y EXCHANGE", raw_renameat2(dfd, "x", dfd, "y", RENAME_EXCHANGE));
	show_file("x");
	show_file("y");
	say("renameat2 x missing EXCHANGE",
	    raw_renameat2(dfd, "x", dfd, "missing", RENAME_EXCHANGE));
	say("renameat2 both flags",
	    raw_renameat2(dfd, "x", dfd, "y", RENAME_EXCHANGE | RENAME_NOREPLACE));
	say("renameat2 no flags", raw_renameat2(dfd, "y", dfd, "y2", 0));
	say("rename y2 y", rename("y2", "y"));
	say("rename x x (itself)", rename("x", "x"));
	say("rename missing z", rename("missing", "z"));
	say("rename x nodir/x", rename("x", "nodir/x"));

	say("mkdir d1", mkdir("d1", 0755));
	say("mkdir d1/sub", mkdir("d1/sub", 0755));
	say("rename d1 d1/sub/d1 (into itself)", rename("d1", "d1/sub/d1"));
	say("rename d1 d1", rename("d1", "d1"));
	say("rename x d1 (file over dir)", rename("x", "d1"));
	say("rename d1 x (dir over file)", rename("d1", "x"));
	say("mkdir d2", mkdir("d2", 0755));
	say("rename d1 d2 (over an empty dir)", rename("d1", "d2"));
	show_stat("d1", 1);
	show_dir("d2");
	say("mkdir d3", mkdir("d3", 0755));
	put_file("d3/inner", "inner\n");
	say("rename d2 d3 (over a non-empty dir)", rename("d2", "d3"));
	say("rename x d2/x", rename("x", "d2/x"));
	say("rename d2/x d2/x/y", rename("d2/x", "d2/x/y"));
	show_dir("d2");
	say("rename d2/x x", rename("d2/x", "x"));
	say("rename . z", rename(".", "z"));
	show_dir(".");
}

static void dir_calls(int dfd)
{
	section("mkdir, mkdirat, rmdir, unlink, unlinkat");
	say("mkdir m", mkdir("m", 0755));
	show_stat("m", 1);
	say("mkdir m (exists)", mkdir("m", 0755));
	say("mkdir e (a file)", mkdir("e", 0755));
	say("mkdir m/a/b", mkdir("m/a/b", 0755));
	say("mkdir e/sub (e is a file)", mkdir("e/sub", 0755));
	say("mkdirat dfd m/n 0700", mkdirat(dfd, "m/n", 0700));
	show_stat("m/n", 1);
	show_stat("m", 1);
	say("mkdir m/n/o 0777 (umask 022)", mkdir("m/n/o", 0777));
	show_stat("m/n/o", 1);
	say("rmdir m/n (not empty)", rmdir("m/n"));
	say("rmdir m/n/o", rmdir("m/n/o"));
	say("unlink m (a directory)", unlink("m"));
	say("unlinkat dfd m 0", unlinkat(dfd, "m", 0));
	say("unlinkat dfd m/n AT_REMOVEDIR", unlinkat(dfd, "m/n", AT_REMOVEDIR));
	show_stat("m", 1);
	say("unlinkat dfd e AT_REMOVEDIR (a file)", unlinkat(dfd, "e", AT_REMOVEDIR));
	say("unlinkat dfd e 0", unlinkat(dfd, "e", 0));
	say("unlinkat bad flags", unlinkat(dfd, "c", 0x1));
	say("rmdir c (a file)", rmdir("c"));
	say("rmdir .", rmdir("."));
	say("rmdir missing", rmdir("missing"));
	say("unlink missing", unlink("missing"));
	say("unlink nodir/x", unlink("nodir/x"));
	say("rmdir m", rmdir("m"));
	show_stat("m", 1);
	show_dir(".");
}

static void link_calls(int dfd)
{
	char buf[64];
	int fd;
	long n;

	section("link, linkat, symlink, symlinkat, readlink");
	put_file("f", "file f\n");
	say("link f f.1", link("f", "f.1"));
	show_stat("f", 1);
	fact("f and f.1 are one inode", same_inode("f", "f.1"));
	say("linkat dfd f dfd f.2", linkat(dfd, "f", dfd, "f.2", 0));
	show_stat("f.2", 1);
	say("link f f.1 (exists)", link("f", "f.1"));
	say("link d3 d3.link (a directory)", link("d3", "d3.link"));
	say("link missing zz", link("missing", "zz"));
	say("unlink f.1", unlink("f.1"));
	show_stat("f", 1);
	show_file("f.2");

	say("symlink f f.sym", symlink("f", "f.sym"));
	show_stat("f.sym", 0);
	show_stat("f.sym", 1);
	memset(buf, 0, sizeof(buf));
	n = say("readlink f.sym", readlink("f.sym", buf, sizeof(buf)));
	printf("target: %.*s\n", n > 0 ? (int)n : 0, buf);
	say("symlinkat no/such/target dfd dangling", symlinkat("no/such/target", dfd, "dangling"));
	show_stat("dangling", 1);
	show_stat("dangling", 0);
	memset(buf, 0, sizeof(buf));
	n = say("readlinkat dfd dangling, 5 bytes", readlinkat(dfd, "dangling", buf, 5));
	printf("target: %.*s\n", n > 0 ? (int)n : 0, buf);
	say("readlink f (not a symlink)", readlink("f", buf, sizeof(buf)));
	say("readlink missing", readlink("missing", buf, sizeof(buf)));
	say("symlink f f.sym (exists)", symlink("f", "f.sym"));
	fd = say_fd("open f.sym (follows)", open("f.sym", O_RDONLY));
	memset(buf, 0, sizeof(buf));
	say("read", read(fd, buf, sizeof(buf)));
	printf("read: %s", buf);
	close(fd);
	say_fd("open f.sym O_NOFOLLOW", open("f.sym", O_RDONLY | O_NOFOLLOW));
	say_fd("open dangling O_CREAT|O_EXCL", open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644));
	say("linkat f.sym f.symhard (the link itself)", linkat(dfd, "f.sym", dfd, "f.symhard", 0));
	show_stat("f.symhard", 0);
	say("linkat f.sym f.3 AT_SYMLINK_FOLLOW",
	    linkat(dfd, "f.sym", dfd, "f.3", AT_SYMLINK_FOLLOW));
	show_stat("f", 1);
	say("symlink d3 d3.sym", symlink("d3", "d3.sym"));
	show_stat("d3.sym", 1);
	show_file("d3.sym/inner");
	say("rmdir d3.sym (a symlink)", rmdir("d3.sym"));
	say("unlink d3.sym", unlink("d3.sym"));
	show_stat("d3", 1);
	say("unlink f.3", unlink("f.3"));
	say("unlink f.symhard", unlink("f.symhard"));
	show_dir(".");
}

static void mode_calls(int dfd)
{
	int fd;

	section("chmod, fchmod, fchmodat");
	say("chmod f 0600", chmod("f", 0600));
	show_stat("f", 1);
	fd = open("f", O_RDONLY);
	say("fchmod f 0640", fchmod(fd, 0640));
	show_fstat("fstat f", fd);
	say("fchmodat dfd f 0604", fchmodat(dfd, "f", 0604, 0));
	show_stat("f", 1);
	say("chmod f 04755", chmod("f", 04755));
	show_stat("f", 1);
	say("chmod f 07777", chmod("f", 07777));
	show_stat("f", 1);
	say("chmod f.sym 0644 (follows)", chmod("f.sym", 0644));
	show_stat("f", 1);
	show_stat("f.sym", 0);
	say("chmod d3 0700", chmod("d3", 0700));
	show_stat("d3", 1);
	say("chmod d3 0755", chmod("d3", 0755));
	say("chmod missing", chmod("missing", 0644));
	say("fchmod on a closed fd", fchmod(-1, 0644));
	close(fd);
}

static void owner_calls(int dfd)
{
	int fd;

	section("chown, fchown, lchown, fchownat");
	fd = open("f", O_RDONLY);
	say("fchown f 1234 5678", fchown(fd, 1234, 5678));
	show_fstat("fstat f", fd);
	say("chown f -1 42", chown("f", -1, 42));
	show_stat("f", 1);
	say("lchown f.sym 77 88", lchown("f.sym", 77, 88));
	show_stat("f.sym", 0);
	show_stat("f", 1);
	say("fchownat dfd f 0 0", fchownat(dfd, "f", 0, 0, 0));
	show_stat("f", 1);
	say("fchownat dfd f.sym 11 12 AT_SYMLINK_NOFOLLOW",
	    fchownat(dfd, "f.sym", 11, 12, AT_SYMLINK_NOFOLLOW));
	show_stat("f.sym", 0);
	say("chown d3 5 6", chown("d3", 5, 6));
	show_stat("d3", 1);
	/* Linux clears set-user-ID and set-group-ID on a chown, even by root. */
	say("chmod f 06755", chmod("f", 06755));
	say("chown f 1 1", chown("f", 1, 1));
	show_stat("f", 1);
	say("chown f 0 0", chown("f", 0, 0));
	say("chmod f 0644", chmod("f", 0644));
	say("chown missing", chown("missing", 0, 0));
	say("fchownat bad flags", fchownat(dfd, "f", 0, 0, 0x4));
	close(fd);
}

static void time_calls(int dfd)
{
	struct timespec both[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
	struct timespec omit_atime[2] = {{0, UTIME_OMIT}, {1300000000, 5}};
	struct timespec omit_mtime[2] = {{1400000000, 1}, {0, UTIME_OMIT}};
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	struct timeval tv[2] = {{1100000000, 250000}, {1150000000, 500000}};
	struct stat st;
	int fd;

	section("utimensat, futimesat");
	say("utimensat dfd f", utimensat(dfd, "f", both, 0));
	show_times("f", 1);
	say("utimensat f UTIME_OMIT atime", utimensat(AT_FDCWD, "f", omit_atime, 0));
	show_times("f", 1);
	say("utimensat f UTIME_OMIT mtime", utimensat(AT_FDCWD, "f", omit_mtime, 0));
	show_times("f", 1);
	fd = open("f", O_RDWR);
	say("utimensat fd NULL path (futimens)", utimensat(fd, NULL, both, 0));
	show_times("f", 1);
	say("utimensat f.sym AT_SYMLINK_NOFOLLOW",
	    utimensat(dfd, "f.sym", both, AT_SYMLINK_NOFOLLOW));
	show_times("f.sym", 0);
	show_times("f", 1);
	say("utimensat d3", utimensat(dfd, "d3", both, 0));
	show_times("d3", 1);
	say("utimensat missing", utimensat(dfd, "missing", both, 0));
	say("utimensat bad nsec", utimensat(dfd, "f", bad, 0));
	say("utimensat UTIME_NOW", utimensat(dfd, "f", now, 0));
	stat("f", &st);
	fact("atime and mtime are now (after 2020)",
	     st.st_atim.tv_sec > 1600000000 && st.st_mtim.tv_sec > 1600000000);
	/* musl's futimesat() is utimensat(): the syscall itself, in µs. */
	say("SYS_futimesat dfd f", syscall(SYS_futimesat, dfd, "f", tv));
	show_times("f", 1);
	say("SYS_futimesat dfd f NULL (now)", syscall(SYS_futimesat, dfd, "f", NULL));
	stat("f", &st);
	fact("mtime is now", st.st_mtim.tv_sec > 1600000000);
	say("utimensat dfd f", utimensat(dfd, "f", both, 0));
	say("write", write(fd, "w", 1));
	stat("f", &st);
	fact("write moved mtime to now", st.st_mtim.tv_sec > 1600000000);
	fact("write left atime", st.st_atim.tv_sec == 1000000000);
	close(fd);
	put_file("f", "file f\n");
}

static void sync_calls(int dfd)
{
	int fd = open("f", O_RDWR);

	section("fsync, fdatasync, sync");
	say("fsync", fsync(fd));
	say("fdatasync", fdatasync(fd));
	say("fsync a directory", fsync(dfd));
	say("fsync -1", fsync(-1));
	sync();
	printf("sync: done\n");
	close(fd);
}

static void statfs_calls(void)
{
	static char mib[1 << 20];
	struct statfs before, after, f;
	int fd;

	section("statfs");
	say("statfs .", statfs(".", &before));
	fact("f_bsize > 0", before.f_bsize > 0);
	fact("f_blocks >= f_bfree >= f_bavail",
	     before.f_blocks >= before.f_bfree && before.f_bfree >= before.f_bavail);
	memset(mib, 'm', sizeof(mib));
	fd = open("mib", O_CREAT | O_RDWR | O_TRUNC, 0644);
	say("write 1 MiB", write(fd, mib, sizeof(mib)));
	say("fsync", fsync(fd));
	say("statfs .", statfs(".", &after));
	fact("f_bfree did not grow", after.f_bfree <= before.f_bfree);
	say("fstatfs", fstatfs(fd, &f));
	fact("fstatfs f_bsize > 0", f.f_bsize > 0);
	say("statfs missing", statfs("missing", &f));
	close(fd);
	show_file("mib");
	say("unlink mib", unlink("mib"));
}

static void unlinked_open_file(void)
{
	char buf[64];
	int fd, rd;

	section("an unlinked open file");
	fd = say_fd("open u", open("u", O_CREAT | O_RDWR | O_TRUNC, 0644));
	say("write", write(fd, "still here\n", 11));
	rd = say_fd("open u O_RDONLY", open("u", O_RDONLY));
	say("unlink u", unlink("u"));
	show_stat("u", 1);
	show_fstat("fstat u", fd);
	memset(buf, 0, sizeof(buf));
	say("read through the second fd", read(rd, buf, sizeof(buf)));
	print_escaped(buf, strlen(buf));
	putchar('\n');
	say("write more", write(fd, "more\n", 5));
	show_fstat("fstat u", rd);
	memset(buf, 0, sizeof(buf));
	say("pread", pread(rd, buf, sizeof(buf), 0));
	print_escaped(buf, strlen(buf));
	putchar('\n');
	say("close", close(fd));
	memset(buf, 0, sizeof(buf));
	say("pread after the writer closed", pread(rd, buf, sizeof(buf), 6));
	print_escaped(buf, strlen(buf));
	putchar('\n');
	say("close", close(rd));
	show_dir(".");
	fd = say_fd("open u O_CREAT|O_EXCL (a new file)",
		    open("u", O_CREAT | O_EXCL | O_RDWR, 0644));
	show_fstat("fstat u", fd);
	close(fd);
	say("unlink u", unlink("u"));
}

/* One fcntl record lock call; prints what it returned and, for F_GETLK, the answer. */
static void lock(const char *what, int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	int r = fcntl(fd, cmd, &fl);

	say(what, r);
	if (cmd == F_GETLK && r == 0)
		printf("  l_type %s\n", fl.l_type == F_UNLCK   ? "F_UNLCK"
					: fl.l_type == F_RDLCK ? "F_RDLCK"
							       : "F_WRLCK");
}

static void lock_calls(void)
{
	/* sqlite's lock bytes (os_unix.c): PENDING, RESERVED, then SHARED. */
	const off_t pending = 0x40000000, reserved = pending + 1, shared = pending + 2;
	int fd, dup_fd, ro, wo;

	section("flock, fcntl record locks");
	fd = open("lock", O_CREAT | O_RDWR, 0644);
	say("flock LOCK_SH", flock(fd, LOCK_SH));
	say("flock LOCK_EX (upgrade)", flock(fd, LOCK_EX));
	say("flock LOCK_EX|LOCK_NB", flock(fd, LOCK_EX | LOCK_NB));
	dup_fd = dup(fd);
	say("flock LOCK_EX|LOCK_NB on a dup (same open file)", flock(dup_fd, LOCK_EX | LOCK_NB));
	say("flock LOCK_UN", flock(fd, LOCK_UN));
	say("flock LOCK_SH|LOCK_NB", flock(fd, LOCK_SH | LOCK_NB));
	say("flock LOCK_UN", flock(dup_fd, LOCK_UN));
	say("flock 0 (no operation)", flock(fd, 0));
	say("flock -1", flock(-1, LOCK_SH));
	close(dup_fd);

	lock("F_SETLK F_RDLCK pending", fd, F_SETLK, F_RDLCK, pending, 1);
	lock("F_SETLK F_RDLCK shared", fd, F_SETLK, F_RDLCK, shared, 510);
	lock("F_SETLK F_UNLCK pending", fd, F_SETLK, F_UNLCK, pending, 1);
	lock("F_SETLK F_WRLCK reserved", fd, F_SETLK, F_WRLCK, reserved, 1);
	lock("F_SETLK F_WRLCK pending", fd, F_SETLK, F_WRLCK, pending, 1);
	lock("F_SETLK F_WRLCK shared (exclusive)", fd, F_SETLK, F_WRLCK, shared, 510);
	lock("F_GETLK F_WRLCK pending..shared", fd, F_GETLK, F_WRLCK, pending, 512);
	lock("F_GETLK F_RDLCK whole file", fd, F_GETLK, F_RDLCK, 0, 0);
	lock("F_SETLK F_RDLCK shared (downgrade)", fd, F_SETLK, F_RDLCK, shared, 510);
	lock("F_SETLK F_UNLCK pending..reserved", fd, F_SETLK, F_UNLCK, pending, 2);
	lock("F_SETLK F_UNLCK whole file", fd, F_SETLK, F_UNLCK, 0, 0);
	lock("F_SETLKW F_WRLCK whole file", fd, F_SETLKW, F_WRLCK, 0, 0);
	lock("F_GETLK F_WRLCK 0..100", fd, F_GETLK, F_WRLCK, 0, 100);
	lock("F_SETLK F_UNLCK whole file", fd, F_SETLK, F_UNLCK, 0, 0);
	lock("F_SETLK type 99", fd, F_SETLK, 99, 0, 1);
	lock("F_SETLK start -1", fd, F_SETLK, F_RDLCK, -1, 1);
	ro = open("lock", O_RDONLY);
	lock("F_SETLK F_WRLCK on an O_RDONLY fd", ro, F_SETLK, F_WRLCK, 0, 1);
	lock("F_SETLK F_RDLCK on an O_RDONLY fd", ro, F_SETLK, F_RDLCK, 0, 1);
	wo = open("lock", O_WRONLY);
	lock("F_SETLK F_RDLCK on an O_WRONLY fd", wo, F_SETLK, F_RDLCK, 0, 1);
	lock("F_SETLK F_UNLCK on an O_WRONLY fd", wo, F_SETLK, F_UNLCK, 0, 0);
	close(wo);
	close(ro);
	close(fd);
	say("unlink lock", unlink("lock"));
}

static void mmap_calls(void)
{
	static char page[8192];
	char c = '?', head[5] = {0};
	char *p, *q;
	int fd;

	section("mmap MAP_SHARED and MAP_PRIVATE");
	memset(page, 'a', sizeof(page));
	fd = open("m.dat", O_CREAT | O_RDWR | O_TRUNC, 0644);
	say("write 8192", write(fd, page, sizeof(page)));
	p = mmap(NULL, sizeof(page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("mmap MAP_SHARED", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED) {
		p[100] = 'Z';
		say("pread at 100", pread(fd, &c, 1, 100));
		printf("read() sees the mapping's write: %c\n", c);
		say("pwrite Q at 5000", pwrite(fd, "Q", 1, 5000));
		printf("the mapping sees pwrite(): %c\n", p[5000]);
		say("lseek 0", lseek(fd, 0, SEEK_SET));
		say("write HEAD", write(fd, "HEAD", 4));
		memcpy(head, p, 4);
		printf("the mapping sees write(): %s\n", head);
		say("msync MS_SYNC", msync(p, sizeof(page), MS_SYNC));
		say("munmap", munmap(p, sizeof(page)));
	}
	show_fstat("fstat m.dat", fd);
	close(fd);
	fd = open("m.dat", O_RDWR);
	c = '?';
	say("pread at 100 after reopening", pread(fd, &c, 1, 100));
	printf("kept: %c\n", c);

	q = mmap(NULL, sizeof(page), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	say("mmap MAP_PRIVATE", q == MAP_FAILED ? -1 : 0);
	if (q != MAP_FAILED) {
		q[200] = 'P';
		c = '?';
		say("pread at 200", pread(fd, &c, 1, 200));
		printf("read() does not see the private write: %c, the mapping has %c\n", c,
		       q[200]);
		say("munmap", munmap(q, sizeof(page)));
	}
	close(fd);
	fd = open("m.dat", O_RDONLY);
	p = mmap(NULL, sizeof(page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("mmap MAP_SHARED PROT_WRITE of an O_RDONLY fd", p == MAP_FAILED ? -1 : 0);
	close(fd);
	show_file("m.dat");
	say("unlink m.dat", unlink("m.dat"));
}

/* Removes every entry of dir, depth first; prints only a failure. */
static void remove_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			remove_all(path);
			if (rmdir(path) != 0)
				printf("rmdir %s: -1 %s\n", path, err_name(errno));
		} else if (unlink(path) != 0) {
			printf("unlink %s: -1 %s\n", path, err_name(errno));
		}
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	int top, dfd;

	if (argc != 2) {
		printf("usage: fsops DIR\n");
		return 1;
	}
	/* stdout is a pipe on the host, the console on Solo: line by line in
	 * both, so a crash keeps everything printed before it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The modes printed must not depend on the umask the host run inherits. */
	umask(022);
	top = open(".", O_RDONLY | O_DIRECTORY);
	if (top < 0 || say("mkdir DIR", mkdir(argv[1], 0755)) != 0 ||
	    say("chdir DIR", chdir(argv[1])) != 0)
		return 1;
	dfd = say_fd("open . O_DIRECTORY", open(".", O_RDONLY | O_DIRECTORY));
	if (dfd < 0)
		return 1;

	open_calls(dfd);
	write_calls();
	truncate_calls();
	sparse_files();
	rename_calls(dfd);
	dir_calls(dfd);
	link_calls(dfd);
	mode_calls(dfd);
	owner_calls(dfd);
	time_calls(dfd);
	sync_calls(dfd);
	statfs_calls();
	unlinked_open_file();
	lock_calls();
	mmap_calls();

	section("the end");
	show_dir(".");
	show_dir("d3");
	remove_all(".");
	show_dir(".");
	close(dfd);
	/* Linux lets a process remove its own working directory. */
	say("unlinkat DIR AT_REMOVEDIR (the cwd)", unlinkat(top, argv[1], AT_REMOVEDIR));
	say_fd("open DIR", openat(top, argv[1], O_RDONLY));
	close(top);
	return 0;
}
