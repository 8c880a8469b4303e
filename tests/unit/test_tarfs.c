/*
 * Host tests of kernel/tarfs.c: archives written by the host's tar
 * (--format=ustar) from a temporary directory at test time, and headers
 * crafted in memory for the archives tar would never write.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/errno.h"
#include "kernel/tarfs.h"

static char *image;
static size_t image_size;
static struct tarfs fs;

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

static void mount_ok(void)
{
	int err = tarfs_mount(&fs, image, image_size);
	cr_assert_eq(err, 0, "mount: %d %s", err, fs.error);
}

static void teardown(void)
{
	tarfs_unmount(&fs);
	free(image);
	image = NULL;
}

static const char *const tree_script =
    "mkdir -p etc dir/sub; printf 'hello\\n' > etc/motd; chmod 640 etc/motd; "
    "printf 'xyz' > dir/sub/file; ln -s ../etc/motd dir/link; ln -s /dir/sub abs; "
    "ln -s loop1 loop2; ln -s loop2 loop1; ln -s nowhere dangling; ln dir/sub/file hard";

TestSuite(tarfs, .fini = teardown);

Test(tarfs, files_have_their_contents_and_header_stat_data)
{
	make_tar(tree_script, ".");
	mount_ok();
	int n = tarfs_lookup(&fs, 0, "/etc/motd", 0);
	cr_assert_geq(n, 0);
	const struct tarfs_node *node = tarfs_node(&fs, n);
	cr_assert_eq(node->type, TARFS_FILE);
	cr_assert_eq(node->size, 6);
	cr_assert_eq(memcmp(node->data, "hello\n", 6), 0);
	cr_assert_eq(node->mode, 0640);
	cr_assert_eq(node->uid, 7);
	cr_assert_eq(node->gid, 9);
	cr_assert_eq(node->mtime, 1700000000);
	cr_assert_eq(tarfs_node(&fs, tarfs_lookup(&fs, 0, "/etc", 0))->type, TARFS_DIR);
}

Test(tarfs, relative_paths_dot_dotdot_and_repeated_slashes)
{
	make_tar(tree_script, ".");
	mount_ok();
	int dir = tarfs_lookup(&fs, 0, "dir", 0);
	int file = tarfs_lookup(&fs, 0, "/dir/sub/file", 0);
	cr_assert_geq(dir, 0);
	cr_assert_eq(tarfs_lookup(&fs, dir, "sub/file", 0), file);
	cr_assert_eq(tarfs_lookup(&fs, dir, "./sub//./file", 0), file);
	cr_assert_eq(tarfs_lookup(&fs, dir, "..//dir/sub/../sub/file", 0), file);
	cr_assert_eq(tarfs_lookup(&fs, dir, "../../../..", 0), 0, "the root's .. is the root");
	cr_assert_eq(tarfs_lookup(&fs, dir, "///", 0), 0);
	cr_assert_eq(tarfs_lookup(&fs, dir, ".", 0), dir);
	cr_assert_eq(tarfs_lookup(&fs, dir, "sub/", 0), tarfs_lookup(&fs, 0, "/dir/sub", 0));
}

Test(tarfs, errors_are_enoent_enotdir_enametoolong)
{
	make_tar(tree_script, ".");
	mount_ok();
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(tarfs_lookup(&fs, 0, "/nope", 0), -ENOENT);
	cr_assert_eq(tarfs_lookup(&fs, 0, "", 0), -ENOENT);
	cr_assert_eq(tarfs_lookup(&fs, 0, "/etc/motd/x", 0), -ENOTDIR);
	cr_assert_eq(tarfs_lookup(&fs, 0, "/etc/motd/", 0), -ENOTDIR);
	cr_assert_eq(tarfs_lookup(&fs, 0, longname, 0), -ENAMETOOLONG);
}

Test(tarfs, symlinks_are_followed_relative_to_their_directory)
{
	make_tar(tree_script, ".");
	mount_ok();
	int motd = tarfs_lookup(&fs, 0, "/etc/motd", 0);
	cr_assert_eq(tarfs_lookup(&fs, 0, "/dir/link", 0), motd);
	cr_assert_eq(tarfs_lookup(&fs, 0, "abs/file", 0), tarfs_lookup(&fs, 0, "dir/sub/file", 0));
	cr_assert_eq(tarfs_lookup(&fs, 0, "abs/..", 0), tarfs_lookup(&fs, 0, "dir", 0),
		     ".. after a symlink is the target's parent");
	int link = tarfs_lookup(&fs, 0, "/dir/link", TARFS_NOFOLLOW);
	cr_assert_eq(tarfs_node(&fs, link)->type, TARFS_SYMLINK);
	cr_assert_str_eq(tarfs_node(&fs, link)->target, "../etc/motd");
	cr_assert_eq(tarfs_node(&fs, link)->size, 11);
	cr_assert_eq(tarfs_lookup(&fs, 0, "abs/", TARFS_NOFOLLOW),
		     tarfs_lookup(&fs, 0, "dir/sub", 0), "a trailing slash follows the last link");
	cr_assert_eq(tarfs_lookup(&fs, 0, "dangling", 0), -ENOENT);
	cr_assert_geq(tarfs_lookup(&fs, 0, "dangling", TARFS_NOFOLLOW), 0);
}

Test(tarfs, symlink_loops_give_eloop)
{
	make_tar(tree_script, ".");
	mount_ok();
	cr_assert_eq(tarfs_lookup(&fs, 0, "loop1", 0), -ELOOP);
	cr_assert_eq(tarfs_lookup(&fs, 0, "/loop2/x", 0), -ELOOP);
	cr_assert_geq(tarfs_lookup(&fs, 0, "loop1", TARFS_NOFOLLOW), 0);
}

Test(tarfs, hard_links_share_contents)
{
	make_tar(tree_script, ".");
	mount_ok();
	const struct tarfs_node *h = tarfs_node(&fs, tarfs_lookup(&fs, 0, "hard", 0));
	const struct tarfs_node *f = tarfs_node(&fs, tarfs_lookup(&fs, 0, "dir/sub/file", 0));
	cr_assert_eq(h->type, TARFS_FILE);
	cr_assert_eq(h->size, 3);
	cr_assert_eq(h->data, f->data);
}

Test(tarfs, directories_list_their_children_and_implied_ones_exist)
{
	/* Only the file is archived: a/ and a/b/ are implied by its path. */
	make_tar("mkdir -p a/b; echo x > a/b/f; echo y > a/g", "a/b/f a/g");
	mount_ok();
	int a = tarfs_lookup(&fs, 0, "/a", 0);
	cr_assert_geq(a, 0);
	cr_assert_eq(tarfs_node(&fs, a)->type, TARFS_DIR);
	cr_assert_eq(tarfs_node(&fs, a)->mode, 0755);
	const char *want[] = {"b", "g"};
	int i = 0;
	for (int c = tarfs_node(&fs, a)->first_child; c >= 0; c = tarfs_node(&fs, c)->next_sibling)
		cr_assert_str_eq(tarfs_node(&fs, c)->name, want[i++]);
	cr_assert_eq(i, 2);
}

Test(tarfs, paths_of_nodes)
{
	make_tar(tree_script, ".");
	mount_ok();
	char buf[64];
	cr_assert_eq(tarfs_path(&fs, 0, buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "/");
	int n = tarfs_lookup(&fs, 0, "/dir/sub/file", 0);
	cr_assert_eq(tarfs_path(&fs, n, buf, sizeof(buf)), 13);
	cr_assert_str_eq(buf, "/dir/sub/file");
	cr_assert_eq(tarfs_path(&fs, n, buf, 13), -ERANGE);
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

/* One member header + data + two zero blocks, in image. */
static void craft(const char *name, char type, const char *data, const char *link)
{
	size_t len = data ? strlen(data) : 0;
	image_size = 512 + ((len + 511) / 512) * 512 + 1024;
	image = calloc(1, image_size);
	unsigned char *h = (unsigned char *)image;
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
		memcpy(image + 512, data, len);
}

Test(tarfs, crafted_member_mounts)
{
	craft("bin/hello", '0', "hi", NULL);
	mount_ok();
	int n = tarfs_lookup(&fs, 0, "/bin/hello", 0);
	cr_assert_geq(n, 0);
	cr_assert_eq(tarfs_node(&fs, n)->size, 2);
}

Test(tarfs, empty_archive_is_just_the_root)
{
	image = calloc(1, 1024);
	image_size = 1024;
	mount_ok();
	cr_assert_eq(fs.count, 1);
	tarfs_unmount(&fs);
	cr_assert_eq(tarfs_mount(&fs, image, 0), 0);
	tarfs_unmount(&fs);
}

static void assert_refused(const char *why)
{
	int err = tarfs_mount(&fs, image, image_size);
	cr_assert_eq(err, -EINVAL);
	cr_assert(strstr(fs.error, why), "error '%s' should mention '%s'", fs.error, why);
	cr_assert_null(fs.nodes);
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

Test(tarfs, random_garbage_never_crashes)
{
	srand(5);
	for (int round = 0; round < 200; round++) {
		craft("dir/file", '0', "some data here", NULL);
		for (int k = 0; k < 8; k++)
			image[rand() % (int)image_size] = (char)rand();
		if (round % 2)
			set_checksum((unsigned char *)image);
		if (!tarfs_mount(&fs, image, image_size)) {
			tarfs_lookup(&fs, 0, "dir/file", 0);
			tarfs_unmount(&fs);
		}
		free(image);
		image = NULL;
	}
}
