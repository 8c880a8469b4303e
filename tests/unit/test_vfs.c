/*
 * Host tests of fs/vfs.c: the Linux path walk, vfs_lookup_parent,
 * vfs_path, vfs_is_ancestor, the working directory's reference, vfs_open
 * and inode references, over tmpfs trees (two of them for mount
 * crossing) in the fake physical memory of mm_arena.h.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/fcntl.h"
#include "kernel/abi/stat.h"
#include "mm_arena.h"

static struct inode *root;

static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(tmpfs_mount(16ull << 20, 1, 0, &root), 0);
	vfs_set_root(root);
}

static void teardown(void)
{
	tmpfs_unmount(root);
}

TestSuite(vfs, .init = setup, .fini = teardown);

static struct inode *mkdir_in(struct inode *dir, const char *name)
{
	struct inode *ino;
	cr_assert_eq(dir->ops->mkdir(dir, name, strlen(name), 0755, &ino), 0, "mkdir %s", name);
	return ino;
}

static struct inode *file_in(struct inode *dir, const char *name)
{
	struct inode *ino;
	cr_assert_eq(dir->ops->create(dir, name, strlen(name), 0644, &ino), 0, "create %s", name);
	return ino;
}

static struct inode *symlink_in(struct inode *dir, const char *name, const char *target)
{
	struct inode *ino;
	cr_assert_eq(dir->ops->symlink(dir, name, strlen(name), target, &ino), 0, "symlink %s",
		     name);
	return ino;
}

/* The inode at path from start (NULL: the working directory). */
static struct inode *at(struct inode *start, const char *path, unsigned flags)
{
	struct inode *ino = NULL;
	int err = vfs_lookup(start, path, flags, &ino);
	cr_assert_eq(err, 0, "lookup %s: %d", path, err);
	return ino;
}

static int err_of(struct inode *start, const char *path, unsigned flags)
{
	struct inode *ino;
	return vfs_lookup(start, path, flags, &ino);
}

/* / { a/ { b/ { f } }, file, up -> .., abs -> /a/b, rel -> a/b/f } */
static struct inode *a, *b, *f, *file;

static void small_tree(void)
{
	a = mkdir_in(root, "a");
	b = mkdir_in(a, "b");
	f = file_in(b, "f");
	file = file_in(root, "file");
	symlink_in(root, "abs", "/a/b");
	symlink_in(root, "rel", "a/b/f");
	symlink_in(b, "up", "..");
}

Test(vfs, dot_dotdot_and_repeated_slashes)
{
	small_tree();
	cr_assert_eq(at(NULL, "/", 0), root);
	cr_assert_eq(at(NULL, "//", 0), root);
	cr_assert_eq(at(NULL, ".", 0), root);
	cr_assert_eq(at(NULL, "..", 0), root, "the root's .. is the root");
	cr_assert_eq(at(NULL, "/../../a", 0), a);
	cr_assert_eq(at(NULL, "a//b///f", 0), f);
	cr_assert_eq(at(NULL, "./a/./b/../b/f", 0), f);
	cr_assert_eq(at(b, "f", 0), f, "relative to start");
	cr_assert_eq(at(b, "/file", 0), file, "absolute ignores start");
	cr_assert_eq(at(b, "../..", 0), root);
}

Test(vfs, empty_paths_missing_names_and_files_in_the_middle)
{
	small_tree();
	cr_assert_eq(err_of(NULL, "", 0), -ENOENT);
	cr_assert_eq(err_of(NULL, "/nope", 0), -ENOENT);
	cr_assert_eq(err_of(NULL, "/a/nope/f", 0), -ENOENT);
	cr_assert_eq(err_of(NULL, "/file/x", 0), -ENOTDIR);
	cr_assert_eq(err_of(NULL, "/file/..", 0), -ENOTDIR, "no .. through a file");
	cr_assert_eq(err_of(f, "x", 0), -ENOTDIR, "a start that is not a directory");
}

Test(vfs, a_trailing_slash_requires_a_directory)
{
	small_tree();
	cr_assert_eq(at(NULL, "a/", 0), a);
	cr_assert_eq(at(NULL, "a/b//", 0), b);
	cr_assert_eq(err_of(NULL, "file/", 0), -ENOTDIR);
	cr_assert_eq(err_of(NULL, "rel/", 0), -ENOTDIR, "the link's target is a file");
	cr_assert_eq(at(NULL, "abs/", LOOKUP_NOFOLLOW), b, "a trailing slash follows the link");
	cr_assert_eq(err_of(NULL, "file", LOOKUP_DIRECTORY), -ENOTDIR);
	cr_assert_eq(at(NULL, "abs", LOOKUP_DIRECTORY), b);
}

Test(vfs, symlinks_resolve_from_their_directory_or_the_root)
{
	small_tree();
	cr_assert_eq(at(NULL, "rel", 0), f);
	cr_assert_eq(at(NULL, "abs/f", 0), f);
	cr_assert_eq(at(NULL, "abs/..", 0), a, ".. after a link is the target's parent");
	cr_assert_eq(at(NULL, "a/b/up", 0), a, "relative to the link's directory");
	cr_assert_eq(at(NULL, "a/b/up/b/up/b/f", 0), f);
	cr_assert(S_ISLNK(at(NULL, "rel", LOOKUP_NOFOLLOW)->mode));
	cr_assert_eq(at(NULL, "abs/up/b", LOOKUP_NOFOLLOW), b,
		     "NOFOLLOW is about the last component only");
	symlink_in(root, "dangling", "nowhere");
	cr_assert_eq(err_of(NULL, "dangling", 0), -ENOENT);
	cr_assert_eq(err_of(NULL, "dangling", LOOKUP_NOFOLLOW), 0);
}

Test(vfs, forty_links_are_followed_and_the_forty_first_is_eloop)
{
	char name[16], target[16];

	file_in(root, "end");
	/* l1 -> end, l2 -> l1, ..., l41 -> l40 */
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		snprintf(target, sizeof(target), i == 1 ? "end" : "l%d", i - 1);
		symlink_in(root, name, target);
	}
	cr_assert_eq(err_of(NULL, "l40", 0), 0);
	cr_assert_eq(err_of(NULL, "l41", 0), -ELOOP);
	cr_assert_eq(err_of(NULL, "l41", LOOKUP_NOFOLLOW), 0);
	symlink_in(root, "x", "y");
	symlink_in(root, "y", "x");
	cr_assert_eq(err_of(NULL, "x", 0), -ELOOP);
	cr_assert_eq(err_of(NULL, "/y/z", 0), -ELOOP);
	symlink_in(root, "self", "self/more");
	cr_assert_eq(err_of(NULL, "self", 0), -ELOOP, "a link that grows its own path");
}

Test(vfs, long_names_and_paths_are_enametoolong)
{
	char name[300], *path = malloc(PATH_MAX + 10);

	memset(name, 'n', 255);
	name[255] = '\0';
	cr_assert_eq(err_of(NULL, name, 0), -ENOENT, "255 bytes is a name");
	name[255] = 'n';
	name[256] = '\0';
	cr_assert_eq(err_of(NULL, name, 0), -ENAMETOOLONG);
	/* PATH_MAX bytes without a NUL: too long, whatever it names. */
	for (int i = 0; i < PATH_MAX + 9; i++)
		path[i] = i % 2 ? '/' : '.';
	path[PATH_MAX + 9] = '\0';
	cr_assert_eq(err_of(NULL, path, 0), -ENAMETOOLONG);
	path[PATH_MAX - 1] = '\0';
	cr_assert_eq(at(NULL, path, 0), root, "PATH_MAX - 1 bytes is a path");
	/* A link whose target does not fit before the rest of the path
	 * (what was walked before the link is spent and makes room). */
	char *big = malloc(3000);
	memset(big, 'x', 2999);
	big[2999] = '\0';
	for (int i = 100; i < 2999; i += 100)
		big[i] = '/';
	symlink_in(root, "big", big);
	memcpy(path, "big", 3);
	for (int i = 3; i < 2003; i++)
		path[i] = i % 2 ? '/' : '.';
	path[2003] = '\0';
	cr_assert_eq(err_of(NULL, path, 0), -ENAMETOOLONG);
	for (int i = 0; i < 2000; i++)
		path[i] = i % 2 ? '/' : '.';
	memcpy(path + 2000, "big/x", 6);
	cr_assert_eq(err_of(NULL, path, 0), -ENOENT, "after a long walked prefix it fits");
	free(big);
	free(path);
}

Test(vfs, mounts_are_crossed_both_ways)
{
	struct inode *other, *mnt, *x, *y;

	small_tree();
	mnt = mkdir_in(root, "mnt");
	file_in(mnt, "hidden");
	cr_assert_eq(tmpfs_mount(1 << 20, 2, 0, &other), 0);
	x = mkdir_in(other, "x");
	y = file_in(x, "y");
	vfs_mount(mnt, other);

	cr_assert_eq(at(NULL, "/mnt", 0), other, "a mount point is seen as the mounted root");
	cr_assert_eq(at(NULL, "/mnt/x/y", 0), y);
	cr_assert_eq(err_of(NULL, "/mnt/hidden", 0), -ENOENT, "the covered names are hidden");
	cr_assert_eq(at(NULL, "/mnt/..", 0), root);
	cr_assert_eq(at(NULL, "/mnt/x/../../a", 0), a);
	cr_assert_eq(at(x, "../..", 0), root, ".. of a mounted root is .. of the covered dir");
	cr_assert_eq(at(other, "..", 0), root);
	cr_assert_eq(at(x, "/", 0), root);
	symlink_in(x, "toa", "/a/b");
	cr_assert_eq(at(NULL, "/mnt/x/toa/f", 0), f, "an absolute link from the mounted tree");
	symlink_in(b, "tomnt", "../../mnt/x");
	cr_assert_eq(at(NULL, "/a/b/tomnt/y", 0), y);
	cr_assert_eq(y->sb->dev, 2);

	char buf[64];
	cr_assert_eq(vfs_path(x, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "/mnt/x");
	cr_assert_eq(vfs_path(other, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "/mnt");
	cr_assert(vfs_is_ancestor(root, x));
	cr_assert(vfs_is_ancestor(mnt, x), "the covered directory is above the mounted tree");
	cr_assert_not(vfs_is_ancestor(a, x));

	/* A second mount on the same directory stacks on the first. */
	struct inode *third;
	cr_assert_eq(tmpfs_mount(1 << 20, 3, 0, &third), 0);
	file_in(third, "top");
	vfs_mount(mnt, third);
	cr_assert_eq(at(NULL, "/mnt", 0), third);
	cr_assert_eq(err_of(NULL, "/mnt/x", 0), -ENOENT);
	cr_assert_eq(err_of(NULL, "/mnt/top/..", 0), -ENOTDIR, "no .. through a file");
	cr_assert_eq(at(NULL, "/mnt/..", 0), root);
	tmpfs_unmount(third);
	tmpfs_unmount(other);
}

Test(vfs, lookup_parent_splits_off_the_last_component)
{
	struct inode *dir;
	const char *name;
	size_t len;
	int trailing, special;

	small_tree();
	cr_assert_eq(vfs_lookup_parent(NULL, "a/b/new", &dir, &name, &len, &trailing, &special), 0);
	cr_assert_eq(dir, b);
	cr_assert_eq(len, 3);
	cr_assert_eq(strncmp(name, "new", 3), 0);
	cr_assert_not(trailing);
	cr_assert_not(special);

	cr_assert_eq(vfs_lookup_parent(NULL, "/a//b//", &dir, &name, &len, &trailing, &special), 0);
	cr_assert_eq(dir, a);
	cr_assert_eq(len, 1);
	cr_assert_eq(name[0], 'b');
	cr_assert(trailing);

	cr_assert_eq(vfs_lookup_parent(a, "x", &dir, &name, &len, &trailing, &special), 0);
	cr_assert_eq(dir, a, "a single name is in start");
	cr_assert_eq(vfs_lookup_parent(NULL, "abs/x", &dir, &name, &len, &trailing, &special), 0);
	cr_assert_eq(dir, b, "links before the last component are followed");
	cr_assert_eq(vfs_lookup_parent(NULL, "rel", &dir, &name, &len, &trailing, &special), 0);
	cr_assert_eq(dir, root, "the last component is never resolved");

	cr_assert_eq(vfs_lookup_parent(NULL, "//", &dir, &name, &len, &trailing, &special), 0);
	cr_assert_eq(dir, root);
	cr_assert(special);
	cr_assert_eq(vfs_lookup_parent(NULL, "a/..", &dir, &name, &len, &trailing, &special), 0);
	cr_assert(special);
	cr_assert_eq(dir, a);
	cr_assert_eq(vfs_lookup_parent(NULL, "a/.", &dir, &name, &len, &trailing, &special), 0);
	cr_assert(special);

	cr_assert_eq(vfs_lookup_parent(NULL, "", &dir, &name, &len, &trailing, &special), -ENOENT);
	cr_assert_eq(vfs_lookup_parent(NULL, "nope/x", &dir, &name, &len, &trailing, &special),
		     -ENOENT);
	cr_assert_eq(vfs_lookup_parent(NULL, "file/x", &dir, &name, &len, &trailing, &special),
		     -ENOTDIR);
	cr_assert_eq(vfs_lookup_parent(NULL, "rel/x", &dir, &name, &len, &trailing, &special),
		     -ENOTDIR);
	char longname[300];
	memset(longname, 'q', 256);
	longname[256] = '\0';
	cr_assert_eq(vfs_lookup_parent(NULL, longname, &dir, &name, &len, &trailing, &special),
		     -ENAMETOOLONG);
}

Test(vfs, paths_of_directories)
{
	char buf[64];

	small_tree();
	cr_assert_eq(vfs_path(root, buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "/");
	cr_assert_eq(vfs_path(b, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "/a/b");
	cr_assert_eq(vfs_path(b, buf, 5), 4, "exactly enough room");
	cr_assert_str_eq(buf, "/a/b");
	cr_assert_eq(vfs_path(b, buf, 4), -ERANGE);
	cr_assert_eq(vfs_path(root, buf, 2), 1);
	cr_assert_eq(vfs_path(root, buf, 1), -ERANGE);
	cr_assert_eq(vfs_path(root, buf, 0), -ERANGE);
	cr_assert_eq(root->ops->rename(a, "b", 1, root, "moved", 5, 0), 0);
	cr_assert_eq(vfs_path(b, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "/moved");
}

Test(vfs, is_ancestor_walks_up_through_parents)
{
	small_tree();
	cr_assert(vfs_is_ancestor(root, b));
	cr_assert(vfs_is_ancestor(a, b));
	cr_assert(vfs_is_ancestor(b, b), "a directory is in its own subtree");
	cr_assert_not(vfs_is_ancestor(b, a));
	struct inode *c = mkdir_in(root, "c");
	cr_assert_not(vfs_is_ancestor(c, b));
	cr_assert_not(vfs_is_ancestor(b, root));
}

Test(vfs, the_working_directory_holds_a_reference)
{
	struct tmpfs_usage u;

	small_tree();
	cr_assert_eq(vfs_cwd(), root, "before any chdir: the root");
	vfs_set_cwd(a);
	cr_assert_eq(a->refs, 1);
	cr_assert_eq(vfs_cwd(), a);
	cr_assert_eq(at(NULL, "b/f", 0), f, "relative lookups start there");
	vfs_set_cwd(a);
	cr_assert_eq(a->refs, 1, "the same directory again: still one reference");
	vfs_set_cwd(b);
	cr_assert_eq(a->refs, 0);
	cr_assert_eq(b->refs, 1);

	/* The working directory is removed: it lives on without names. */
	cr_assert_eq(b->ops->unlink(b, "f", 1), 0);
	cr_assert_eq(b->ops->unlink(b, "up", 2), 0);
	cr_assert_eq(a->ops->rmdir(a, "b", 1), 0);
	cr_assert_eq(b->nlink, 0);
	cr_assert_eq(err_of(NULL, "x", 0), -ENOENT);
	cr_assert_eq(at(NULL, ".", 0), b, "stat(\".\") still works");
	cr_assert_eq(at(NULL, "..", 0), a, "and so does ..");
	char buf[32];
	cr_assert_eq(vfs_path(b, buf, sizeof(buf)), -ENOENT);
	struct inode *dir;
	const char *name;
	size_t len;
	int trailing, special;
	cr_assert_eq(vfs_lookup_parent(NULL, "new", &dir, &name, &len, &trailing, &special),
		     -ENOENT, "no name can be made in a removed directory");
	cr_assert_eq(vfs_lookup_parent(NULL, ".", &dir, &name, &len, &trailing, &special), 0);

	tmpfs_usage(root, &u);
	uint64_t before = u.inodes;
	vfs_set_cwd(root);
	tmpfs_usage(root, &u);
	cr_assert_eq(u.inodes, before - 1, "the last reference evicts it");
	cr_assert_eq(root->refs, 1);
	vfs_set_cwd(NULL);
	cr_assert_eq(root->refs, 0, "NULL drops the reference");
	cr_assert_eq(vfs_cwd(), root);
}

static int evicted;
static int open_calls;

static int failing_open(struct file *fl)
{
	(void)fl;
	open_calls++;
	return -EACCES;
}

static void count_evict(struct inode *ino)
{
	(void)ino;
	evicted++;
}

static const struct file_ops failing_fops = {.kind = "test", .open = failing_open};
static const struct inode_ops counting_ops = {.evict = count_evict};
static struct super test_sb = {.dev = 9};

Test(vfs, open_takes_a_reference_and_undoes_everything_on_failure)
{
	struct file *fl;

	small_tree();
	cr_assert_eq(vfs_open(f, O_RDWR, &fl), 0);
	cr_assert_eq(f->refs, 1);
	cr_assert_eq(fl->inode, f);
	cr_assert_eq(fl->flags, O_RDWR);
	cr_assert_eq(fl->pos, 0);
	file_put(fl);
	cr_assert_eq(f->refs, 0);

	struct inode fake = {
	    .ops = &counting_ops, .fops = &failing_fops, .sb = &test_sb, .mode = S_IFREG | 0600};
	cr_assert_eq(vfs_open(&fake, O_RDONLY, &fl), -EACCES);
	cr_assert_eq(open_calls, 1);
	cr_assert_eq(fake.refs, 0);
	cr_assert_eq(evicted, 1, "an inode with no name and no reference left is evicted");

	/* A symlink has no file ops: an O_PATH open still gives a file. */
	struct inode *l = at(NULL, "rel", LOOKUP_NOFOLLOW);
	cr_assert_eq(vfs_open(l, O_PATH, &fl), 0);
	cr_assert_not_null(fl->ops);
	file_put(fl);
}

Test(vfs, inode_stat_reports_the_inode)
{
	struct kstat st;

	small_tree();
	inode_stat(b, &st);
	cr_assert_eq(st.dev, 1);
	cr_assert_eq(st.ino, b->ino);
	cr_assert_eq(st.mode, S_IFDIR | 0755);
	cr_assert_eq(st.nlink, 2);
	cr_assert_eq(st.blksize, 4096);
	cr_assert_eq(st.mtime.sec, b->mtime.sec);
}

Test(vfs, putting_an_inode_without_references_panics, .signal = SIGABRT)
{
	small_tree();
	inode_put(a);
}
