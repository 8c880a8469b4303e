/*
 * fsx - file-system torture after FreeBSD's fsx: random writes, truncates,
 * writes through MAP_SHARED mappings (then msync), reads, renames and
 * unlinks over a few files in one directory, each checked against an
 * in-memory model of what every file must hold. Every read, whether by
 * read(2) or through a mapping, is compared byte for byte; the first
 * difference ends the run with the operation, the offset and both bytes.
 *
 *   fsx DIR SEED OPS
 *
 * The operations depend only on SEED and OPS, and the results only on
 * what a correct file system returns, so the final line
 *   "fsx: OPS ops, SIZE bytes in N files, checksum X"
 * is the same on Solo and on Linux running this same binary: the boot test
 * compares the two. Exit status 0, or 1 at the first difference (or an
 * unexpected error). The files are removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES	 4
#define MAX_SIZE (256 * 1024) /* bytes a file may reach */
#define MAX_IO	 (24 * 1024)  /* bytes one read or write moves */
#define PAGE	 4096

struct model {
	unsigned char data[MAX_SIZE];
	size_t size;
	int exists;
	int fd; /* open O_RDWR while it exists, else -1 */
};

static struct model files[FILES];
static const char *dir;
static uint64_t state, ops_done;
static unsigned char buf[MAX_SIZE];

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static void name_of(int i, char *out, size_t size)
{
	snprintf(out, size, "%s/fsx%d", dir, i);
}

static void fail(const char *op, int i, const char *what, long a, long b)
{
	printf("fsx: FAIL op %llu %s file %d: %s (%ld, %ld) errno=%d\n",
	       (unsigned long long)ops_done, op, i, what, a, b, errno);
	exit(1);
}

/* Compares len bytes at off of file i with got[]. */
static void check(const char *op, int i, size_t off, const unsigned char *got, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		unsigned char want = off + k < files[i].size ? files[i].data[off + k] : 0;
		if (got[k] != want)
			fail(op, i, "byte differs at offset, want/got", (long)(off + k),
			     (long)want << 8 | got[k]);
	}
}

static void create(int i)
{
	char name[256];

	name_of(i, name, sizeof(name));
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("create", i, "open", fd, 0);
	files[i].fd = fd;
	files[i].exists = 1;
	files[i].size = 0;
	memset(files[i].data, 0, sizeof(files[i].data));
}

static void op_write(int i)
{
	size_t off = next() % MAX_SIZE, len = next() % MAX_IO + 1;
	if (off + len > MAX_SIZE)
		len = MAX_SIZE - off;
	for (size_t k = 0; k < len; k++)
		buf[k] = (unsigned char)next();
	ssize_t n = pwrite(files[i].fd, buf, len, (off_t)off);
	if (n != (ssize_t)len)
		fail("write", i, "pwrite, want/got", (long)len, (long)n);
	memcpy(files[i].data + off, buf, len);
	if (off + len > files[i].size)
		files[i].size = off + len;
}

static void op_read(int i)
{
	size_t off = next() % (files[i].size + PAGE), len = next() % MAX_IO + 1;
	size_t want = off >= files[i].size ? 0 : files[i].size - off;
	if (want > len)
		want = len;
	ssize_t n = pread(files[i].fd, buf, len, (off_t)off);
	if (n != (ssize_t)want)
		fail("read", i, "pread, want/got", (long)want, (long)n);
	check("read", i, off, buf, want);
}

static void op_truncate(int i)
{
	size_t size = next() % MAX_SIZE;
	if (next() % 4 == 0)
		size = 0;
	if (ftruncate(files[i].fd, (off_t)size))
		fail("truncate", i, "ftruncate", (long)size, 0);
	if (size < files[i].size)
		memset(files[i].data + size, 0, files[i].size - size);
	files[i].size = size;
}

/* Writes through a MAP_SHARED mapping of a range inside the file (never
 * past its end: that is SIGBUS), checks what the mapping showed first,
 * then msync and munmap. */
static void op_mapwrite(int i)
{
	if (files[i].size == 0)
		return;
	size_t first = next() % files[i].size, len = next() % MAX_IO + 1;
	if (first + len > files[i].size)
		len = files[i].size - first;
	size_t map_off = first / PAGE * PAGE, map_len = first + len - map_off;
	unsigned char *p =
	    mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, files[i].fd, (off_t)map_off);
	if (p == MAP_FAILED)
		fail("mapwrite", i, "mmap", (long)map_off, (long)map_len);
	check("mapread", i, map_off, p, map_len);
	for (size_t k = 0; k < len; k++) {
		unsigned char b = (unsigned char)next();
		p[first - map_off + k] = b;
		files[i].data[first + k] = b;
	}
	if (msync(p, map_len, MS_SYNC))
		fail("mapwrite", i, "msync", 0, 0);
	if (munmap(p, map_len))
		fail("mapwrite", i, "munmap", 0, 0);
}

/* Renames i over j (j's contents are gone, i's name is now j's). */
static void op_rename(int i, int j)
{
	char a[256], b[256];

	if (i == j)
		return;
	name_of(i, a, sizeof(a));
	name_of(j, b, sizeof(b));
	if (rename(a, b))
		fail("rename", i, "rename to", j, 0);
	if (files[j].exists)
		close(files[j].fd);
	memcpy(files[j].data, files[i].data, MAX_SIZE);
	files[j].size = files[i].size;
	files[j].exists = 1;
	files[j].fd = files[i].fd; /* the open descriptor follows the file */
	files[i].exists = 0;
	files[i].fd = -1;
}

static void op_unlink(int i)
{
	char name[256];

	name_of(i, name, sizeof(name));
	/* Still open: the data must stay readable until the close. */
	if (unlink(name))
		fail("unlink", i, "unlink", 0, 0);
	op_read(i);
	close(files[i].fd);
	files[i].exists = 0;
	files[i].fd = -1;
}

/* Reopens a file by name and reads it whole: the name leads to the data. */
static void op_reopen(int i)
{
	char name[256];

	name_of(i, name, sizeof(name));
	int fd = open(name, O_RDONLY);
	if (fd < 0)
		fail("reopen", i, "open", fd, 0);
	struct stat st;
	if (fstat(fd, &st) || (size_t)st.st_size != files[i].size)
		fail("reopen", i, "size, want/got", (long)files[i].size, (long)st.st_size);
	ssize_t n = read(fd, buf, MAX_SIZE);
	if (n != (ssize_t)files[i].size)
		fail("reopen", i, "read, want/got", (long)files[i].size, (long)n);
	check("reopen", i, 0, buf, (size_t)n);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fsx DIR SEED OPS\n");
		return 2;
	}
	dir = argv[1];
	state = strtoull(argv[2], NULL, 0) * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	uint64_t ops = strtoull(argv[3], NULL, 0);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < FILES; i++)
		files[i].fd = -1;

	for (ops_done = 0; ops_done < ops; ops_done++) {
		uint64_t r = next();
		int i = (int)((r >> 8) % FILES);
		if (!files[i].exists) {
			create(i);
			continue;
		}
		switch (r % 16) {
		case 0:
		case 1:
		case 2:
		case 3:
			op_write(i);
			break;
		case 4:
		case 5:
		case 6:
		case 7:
			op_read(i);
			break;
		case 8:
		case 9:
			op_truncate(i);
			break;
		case 10:
		case 11:
			op_mapwrite(i);
			break;
		case 12:
			op_rename(i, (int)((r >> 16) % FILES));
			break;
		case 13:
			op_unlink(i);
			break;
		default:
			op_reopen(i);
			break;
		}
	}

	/* The checksum: every file's final bytes as read back by name (op_reopen
	 * leaves them in buf, checked against the model). On Linux this shows
	 * the model itself right: a model that disagreed with Linux would fail
	 * there first. */
	uint64_t sum = 0xcbf29ce484222325ull, total = 0;
	int present = 0;
	for (int i = 0; i < FILES; i++) {
		char name[256];
		if (!files[i].exists)
			continue;
		op_reopen(i);
		for (size_t k = 0; k < files[i].size; k++)
			sum = (sum ^ buf[k]) * 0x100000001b3ull;
		sum = (sum ^ (uint64_t)i) * 0x100000001b3ull;
		total += files[i].size;
		present++;
		close(files[i].fd);
		name_of(i, name, sizeof(name));
		unlink(name);
	}
	printf("fsx: %llu ops, %llu bytes in %d files, checksum %016llx\n", (unsigned long long)ops,
	       (unsigned long long)total, present, (unsigned long long)sum);
	return 0;
}
