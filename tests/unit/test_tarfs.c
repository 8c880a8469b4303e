/*
 * Host tests of fs/tarfs.c: archives written by the host's tar
 * (--format=ustar) from a temporary directory at test time, and headers
 * crafted in memory for the archives tar would never write. The archive
 * is unpacked into a tmpfs over the fake physical memory of mm_arena.h
 * and observed as the app would: through vfs_lookup, the inodes' fields,
 * reads and getdents.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/file.h"
#include "fs/iobuf.h"
#include "fs/tarfs.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "mm/palloc.h"
#include "mm_arena.h"

static char *image;
static size_t image_size;
static struct inode *root;
static char error[128];

static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(tmpfs_mount(64ull << 20, 1, 0, &root), 0);
	vfs_set_root(root);
}

static void teardown(void)
{
	tmpfs_unmount(root);
	free(image);
	image = NULL;
}

/* Runs script in a fresh temporary directory, then archives that directory
 * with tar_args (e.g. "." or "a b") into image. */
static void make_tar(const char *script, const char *tar_args)
{
	char dir[] = "/tmp/tarfs-test.XXXXXX";
	char cmd[4096];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; %s; tar --format=ustar --owner=7 --group=9 --mtime=@1700000000 "
		 "-cf ../%s.tar %s",
		 dir, script, dir + 5, tar_args);
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
	snprintf(cmd, sizeof(cmd), "%s.tar", dir);
	FILE *f = fopen(cmd, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	image_size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	image = malloc(image_size + 1);
	cr_assert_eq(fread(image, 1, image_size, f), image_size);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.tar", dir, dir);
	cr_assert_eq(system(cmd), 0);
}

static void unpack_ok(void)
{
	long n = tarfs_unpack(image, image_size, root, error, sizeof(error));
	cr_assert_geq(n, 0, "unpack: %ld %s", n, error);
}

/* The inode at path from start (NULL: the root), which must exist. */
static struct inode *at(struct inode *start, const char *path, unsigned flags)
{
	struct inode *ino = NULL;
	int err = vfs_lookup(start ? start : root, path, flags, &ino);
	cr_assert_eq(err, 0, "lookup %s: %d", path, err);
	return ino;
}

/* vfs_lookup's result: 0 or -errno. */
static int lookup_err(struct inode *start, const char *path, unsigned flags)
{
	struct inode *ino;
	return vfs_lookup(start ? start : root, path, flags, &ino);
}

/* Reads the whole file ino into buf (size bytes at most): the length. */
static long read_file(struct inode *ino, char *buf, size_t size)
{
	struct file *f;
	struct iobuf b;
	uint64_t pos = 0;

	cr_assert_eq(vfs_open(ino, O_RDONLY, &f), 0);
	iobuf_kernel(&b, buf, size);
	long n = file_read(f, &b, &pos);
	file_put(f);
	return n;
}

/* The names dir lists, after "." and "..", joined by ' ' into out. */
static void list_dir(struct inode *dir, char *out, size_t size)
{
	struct file *f;
	struct iobuf b;
	char buf[4096];

	out[0] = '\0';
	cr_assert_eq(vfs_open(dir, O_RDONLY | O_DIRECTORY, &f), 0);
	iobuf_kernel(&b, buf, sizeof(buf));
	long n = f->ops->getdents(f, &b);
	cr_assert_gt(n, 0);
	for (long off = 0; off < n;) {
		uint16_t reclen;
		memcpy(&reclen, buf + off + 16, 2);
		const char *name = buf + off + 19;
		if (strcmp(name, ".") && strcmp(name, "..")) {
			if (out[0])
				strncat(out, " ", size - strlen(out) - 1);
			strncat(out, name, size - strlen(out) - 1);
		}
		off += reclen;
	}
	file_put(f);
}

static uint64_t inodes(void)
{
	struct tmpfs_usage u;
	tmpfs_usage(root, &u);
	return u.inodes;
}

static const char *const tree_script =
    "mkdir -p etc dir/sub; printf 'hello\\n' > etc/motd; chmod 640 etc/motd; "
    "printf 'xyz' > dir/sub/file; ln -s ../etc/motd dir/link; ln -s /dir/sub abs; "
    "ln -s loop1 loop2; ln -s loop2 loop1; ln -s nowhere dangling; ln dir/sub/file hard";

TestSuite(tarfs, .init = setup, .fini = teardown);

Test(tarfs, files_have_their_contents_and_header_stat_data)
{
	make_tar(tree_script, ".");
	unpack_ok();
	struct inode *node = at(NULL, "/etc/motd", 0);
	char buf[64];
	cr_assert(S_ISREG(node->mode));
	cr_assert_eq(node->size, 6);
	cr_assert_eq(read_file(node, buf, sizeof(buf)), 6);
	cr_assert_eq(memcmp(buf, "hello\n", 6), 0);
	cr_assert_eq(node->mode & 07777, 0640);
	cr_assert_eq(node->uid, 7);
	cr_assert_eq(node->gid, 9);
	cr_assert_eq(node->mtime.sec, 1700000000);
	struct inode *etc = at(NULL, "/etc", 0);
	cr_assert(S_ISDIR(etc->mode));
	cr_assert_eq(etc->mtime.sec, 1700000000, "a directory's mtime is set after its entries");
	cr_assert_eq(etc->uid, 7);
}

Test(tarfs, relative_paths_dot_dotdot_and_repeated_slashes)
{
	make_tar(tree_script, ".");
	unpack_ok();
	struct inode *dir = at(NULL, "dir", 0);
	struct inode *file = at(NULL, "/dir/sub/file", 0);
	cr_assert_eq(at(dir, "sub/file", 0), file);
	cr_assert_eq(at(dir, "./sub//./file", 0), file);
	cr_assert_eq(at(dir, "..//dir/sub/../sub/file", 0), file);
	cr_assert_eq(at(dir, "../../../..", 0), root, "the root's .. is the root");
	cr_assert_eq(at(dir, "///", 0), root);
	cr_assert_eq(at(dir, ".", 0), dir);
	cr_assert_eq(at(dir, "sub/", 0), at(NULL, "/dir/sub", 0));
}

Test(tarfs, errors_are_enoent_enotdir_enametoolong)
{
	make_tar(tree_script, ".");
	unpack_ok();
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(lookup_err(NULL, "/nope", 0), -ENOENT);
	cr_assert_eq(lookup_err(NULL, "", 0), -ENOENT);
	cr_assert_eq(lookup_err(NULL, "/etc/motd/x", 0), -ENOTDIR);
	cr_assert_eq(lookup_err(NULL, "/etc/motd/", 0), -ENOTDIR);
	cr_assert_eq(lookup_err(NULL, longname, 0), -ENAMETOOLONG);
}

Test(tarfs, symlinks_are_followed_relative_to_their_directory)
{
	make_tar(tree_script, ".");
	unpack_ok();
	struct inode *motd = at(NULL, "/etc/motd", 0);
	cr_assert_eq(at(NULL, "/dir/link", 0), motd);
	cr_assert_eq(at(NULL, "abs/file", 0), at(NULL, "dir/sub/file", 0));
	cr_assert_eq(at(NULL, "abs/..", 0), at(NULL, "dir", 0),
		     ".. after a symlink is the target's parent");
	struct inode *link = at(NULL, "/dir/link", LOOKUP_NOFOLLOW);
	char target[64];
	cr_assert(S_ISLNK(link->mode));
	long n = link->ops->readlink(link, target, sizeof(target));
	cr_assert_eq(n, 11);
	cr_assert_eq(memcmp(target, "../etc/motd", 11), 0);
	cr_assert_eq(link->size, 11);
	cr_assert_eq(at(NULL, "abs/", LOOKUP_NOFOLLOW), at(NULL, "dir/sub", 0),
		     "a trailing slash follows the last link");
	cr_assert_eq(lookup_err(NULL, "dangling", 0), -ENOENT);
	cr_assert_eq(lookup_err(NULL, "dangling", LOOKUP_NOFOLLOW), 0);
}

Test(tarfs, symlink_loops_give_eloop)
{
	make_tar(tree_script, ".");
	unpack_ok();
	cr_assert_eq(lookup_err(NULL, "loop1", 0), -ELOOP);
	cr_assert_eq(lookup_err(NULL, "/loop2/x", 0), -ELOOP);
	cr_assert_eq(lookup_err(NULL, "loop1", LOOKUP_NOFOLLOW), 0);
}

Test(tarfs, hard_links_share_contents)
{
	make_tar(tree_script, ".");
	unpack_ok();
	struct inode *h = at(NULL, "hard", 0);
	struct inode *f = at(NULL, "dir/sub/file", 0);
	char buf[16];
	cr_assert(S_ISREG(h->mode));
	cr_assert_eq(h->size, 3);
	cr_assert_eq(h, f, "one inode with two names");
	cr_assert_eq(h->nlink, 2);
	cr_assert_eq(read_file(h, buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "xyz", 3), 0);
}

Test(tarfs, directories_list_their_children_and_implied_ones_exist)
{
	/* Only the file is archived: a/ and a/b/ are implied by its path. */
	make_tar("mkdir -p a/b; echo x > a/b/f; echo y > a/g", "a/b/f a/g");
	unpack_ok();
	struct inode *a = at(NULL, "/a", 0);
	char names[64];
	cr_assert(S_ISDIR(a->mode));
	cr_assert_eq(a->mode & 07777, 0755);
	cr_assert_eq(a->uid, 0);
	cr_assert_eq(a->mtime.sec, 0, "an implied directory has mtime 0");
	list_dir(a, names, sizeof(names));
	cr_assert_str_eq(names, "b g");
}

Test(tarfs, paths_of_directories)
{
	make_tar(tree_script, ".");
	unpack_ok();
	char buf[64];
	cr_assert_eq(vfs_path(root, buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "/");
	struct inode *n = at(NULL, "/dir/sub", 0);
	cr_assert_eq(vfs_path(n, buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "/dir/sub");
	cr_assert_eq(vfs_path(n, buf, 8), -ERANGE);
}

Test(tarfs, reading_a_member_copies_nothing)
{
	make_tar("head -c 20000 /dev/urandom > big", ".");
	unpack_ok();
	struct inode *big = at(NULL, "big", 0);
	char *buf = malloc(20000);
	struct file *f;
	struct iobuf b;
	uint64_t pos = 0;
	/* Counted after the open, whose file object may take a kmalloc page. */
	cr_assert_eq(vfs_open(big, O_RDONLY, &f), 0);
	size_t free_before = palloc_free_pages();
	iobuf_kernel(&b, buf, 20000);
	cr_assert_eq(file_read(f, &b, &pos), 20000);
	cr_assert_eq(palloc_free_pages(), free_before);
	file_put(f);
	cr_assert_eq(memcmp(buf, image + 1024, 20000), 0, "the bytes after the two headers");
	cr_assert_eq(big->blocks, 0);
	free(buf);
}

/* ---------------------------------------------------------------- crafted archives */

static void set_checksum(unsigned char *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* Writes one member header (+ data) at h. */
static void put_header(unsigned char *h, const char *name, char type, const char *data,
		       const char *link)
{
	size_t len = data ? strlen(data) : 0;

	strncpy((char *)h, name, 100);
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)(len & 0777777));
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (unsigned char)type;
	if (link)
		strncpy((char *)h + 157, link, 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	set_checksum(h);
	if (data)
		memcpy(h + 512, data, len);
}

/* One member header + data + two zero blocks, in image. */
static void craft(const char *name, char type, const char *data, const char *link)
{
	size_t len = data ? strlen(data) : 0;
	image_size = 512 + ((len + 511) / 512) * 512 + 1024;
	image = calloc(1, image_size);
	put_header((unsigned char *)image, name, type, data, link);
}

Test(tarfs, crafted_member_unpacks)
{
	craft("bin/hello", '0', "hi", NULL);
	unpack_ok();
	cr_assert_eq(at(NULL, "/bin/hello", 0)->size, 2);
}

Test(tarfs, empty_archive_is_just_the_root)
{
	image = calloc(1, 1024);
	image_size = 1024;
	cr_assert_eq(tarfs_unpack(image, image_size, root, error, sizeof(error)), 0);
	cr_assert_eq(inodes(), 1);
	cr_assert_eq(tarfs_unpack(image, 0, root, error, sizeof(error)), 0);
	cr_assert_eq(tarfs_unpack(NULL, 0, root, error, sizeof(error)), 0);
	cr_assert_eq(inodes(), 1);
}

Test(tarfs, the_prefix_field_is_part_of_the_path)
{
	craft("file", '0', "p", NULL);
	memcpy(image + 345, "deep/er", 7);
	set_checksum((unsigned char *)image);
	unpack_ok();
	cr_assert_eq(at(NULL, "/deep/er/file", 0)->size, 1);
}

Test(tarfs, pax_headers_and_devices_are_skipped)
{
	image_size = 4 * 512 + 1024;
	image = calloc(1, image_size);
	put_header((unsigned char *)image, "pax", 'x', "12 a=bcdefgh\n", NULL);
	put_header((unsigned char *)image + 1024, "dev", '3', NULL, NULL);
	put_header((unsigned char *)image + 1536, "f", '0', "z", NULL);
	cr_assert_eq(tarfs_unpack(image, image_size, root, error, sizeof(error)), 1,
		     "one member made: %s", error);
	cr_assert_eq(lookup_err(NULL, "pax", 0), -ENOENT);
	cr_assert_eq(lookup_err(NULL, "dev", 0), -ENOENT);
	cr_assert_eq(at(NULL, "f", 0)->size, 1);
}

static void assert_refused(const char *why)
{
	long err = tarfs_unpack(image, image_size, root, error, sizeof(error));
	cr_assert_eq(err, -EINVAL);
	cr_assert(strstr(error, why), "error '%s' should mention '%s'", error, why);
	char names[32];
	cr_assert_eq(inodes(), 1, "nothing was made");
	list_dir(root, names, sizeof(names));
	cr_assert_str_eq(names, "");
}

Test(tarfs, a_later_member_replaces_an_earlier_one_and_hard_links_keep_the_old)
{
	/* f, h linked to f, then f again: tar leaves h with the first f. */
	image_size = 5 * 512 + 1024;
	image = calloc(1, image_size);
	put_header((unsigned char *)image, "f", '0', "old\n", NULL);
	put_header((unsigned char *)image + 1024, "h", '1', NULL, "f");
	put_header((unsigned char *)image + 1536, "./f", '0', "newer\n", NULL);
	unpack_ok();
	char buf[16];
	struct inode *f = at(NULL, "f", 0), *h = at(NULL, "h", 0);
	cr_assert_neq(f, h);
	cr_assert_eq(read_file(f, buf, sizeof(buf)), 6);
	cr_assert_eq(memcmp(buf, "newer\n", 6), 0);
	cr_assert_eq(read_file(h, buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "old\n", 4), 0);
	cr_assert_eq(f->nlink, 1);
	cr_assert_eq(h->nlink, 1);
	cr_assert_eq(inodes(), 3, "the root, f and h");
	char names[32];
	list_dir(root, names, sizeof(names));
	cr_assert_str_eq(names, "f h", "the replaced name keeps its place");
}

Test(tarfs, a_directory_member_after_its_entries_sets_its_attributes)
{
	image_size = 3 * 512 + 1024;
	image = calloc(1, image_size);
	put_header((unsigned char *)image, "d/f", '0', "ok", NULL);
	put_header((unsigned char *)image + 1024, "d/", '5', NULL, NULL);
	memcpy(image + 1024 + 100, "0000700", 7);
	memcpy(image + 1024 + 136, "00000001234", 11);
	set_checksum((unsigned char *)image + 1024);
	unpack_ok();
	struct inode *d = at(NULL, "d", 0);
	cr_assert_eq(d->mode, S_IFDIR | 0700);
	cr_assert_eq(d->mtime.sec, 01234);
	cr_assert_eq(d->nlink, 2);
	cr_assert_eq(at(NULL, "d/f", 0)->size, 2);
}

Test(tarfs, bad_checksum_is_refused)
{
	craft("f", '0', "data", NULL);
	image[0] = 'g';
	assert_refused("checksum");
}

Test(tarfs, truncated_data_is_refused)
{
	craft("f", '0', "data", NULL);
	image_size = 512 + 2;
	assert_refused("past the end");
}

Test(tarfs, truncated_header_is_refused)
{
	craft("f", '0', "data", NULL);
	image_size = 100;
	assert_refused("truncated header");
}

Test(tarfs, non_octal_size_is_refused)
{
	craft("f", '0', "data", NULL);
	memcpy(image + 124, "0000000009x", 11);
	set_checksum((unsigned char *)image);
	assert_refused("size");
}

Test(tarfs, dotdot_in_a_name_is_refused)
{
	craft("a/../../etc/passwd", '0', "x", NULL);
	assert_refused("'..'");
}

Test(tarfs, not_ustar_is_refused)
{
	craft("f", '0', "x", NULL);
	memcpy(image + 257, "xxxxx", 5);
	set_checksum((unsigned char *)image);
	assert_refused("magic");
}

Test(tarfs, hard_link_to_nothing_is_refused)
{
	craft("h", '1', NULL, "missing");
	assert_refused("hard link");
}

Test(tarfs, a_bad_member_after_good_ones_changes_nothing)
{
	image_size = 3 * 512 + 1024;
	image = calloc(1, image_size);
	put_header((unsigned char *)image, "d/f", '0', "ok", NULL);
	put_header((unsigned char *)image + 1024, "d/f/x", '0', NULL, NULL);
	assert_refused("not a directory");
}

Test(tarfs, a_file_replacing_a_non_empty_directory_is_refused)
{
	image_size = 3 * 512 + 1024;
	image = calloc(1, image_size);
	put_header((unsigned char *)image, "d/f", '0', "ok", NULL);
	put_header((unsigned char *)image + 1024, "d", '0', NULL, NULL);
	assert_refused("non-empty directory");
}

Test(tarfs, gnu_long_names_are_refused)
{
	craft("././@LongLink", 'L', "a long name", NULL);
	assert_refused("long-name");
}

Test(tarfs, a_symlink_to_nothing_is_refused)
{
	craft("l", '2', NULL, "");
	assert_refused("empty target");
}

Test(tarfs, a_file_as_the_root_is_refused)
{
	craft("./", '0', "x", NULL);
	assert_refused("root must be a directory");
}

Test(tarfs, an_empty_name_is_refused)
{
	craft("", '0', "x", NULL);
	assert_refused("empty member name");
}

Test(tarfs, a_full_file_system_stops_the_unpack)
{
	tmpfs_unmount(root);
	cr_assert_eq(tmpfs_mount(1 << 20, 1, 0, &root), 0);
	vfs_set_root(root);
	/* More inodes than the smallest tmpfs has: 65536 + 1 names. */
	size_t n = 65537;
	image_size = n * 512 + 1024;
	image = calloc(1, image_size);
	for (size_t i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%zx", i);
		put_header((unsigned char *)image + i * 512, name, '0', NULL, NULL);
	}
	cr_assert_eq(tarfs_unpack(image, image_size, root, error, sizeof(error)), -ENOSPC);
	cr_assert(strstr(error, "cannot make"), "%s", error);
}

Test(tarfs, random_garbage_never_crashes)
{
	srand(5);
	for (int round = 0; round < 200; round++) {
		craft("dir/file", '0', "some data here", NULL);
		for (int k = 0; k < 8; k++)
			image[rand() % (int)image_size] = (char)rand();
		if (round % 2)
			set_checksum((unsigned char *)image);
		if (tarfs_unpack(image, image_size, root, error, sizeof(error)) >= 0)
			lookup_err(NULL, "dir/file", 0);
		tmpfs_unmount(root);
		cr_assert_eq(tmpfs_mount(64ull << 20, 1, 0, &root), 0);
		vfs_set_root(root);
		free(image);
		image = NULL;
	}
}
