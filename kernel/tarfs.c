/*
 * tarfs: the read-only ustar file system (see tarfs.h).
 *
 * Mounting makes two passes over the archive. The first checks every
 * header and sizes the two allocations (nodes and strings) from upper
 * bounds: a member adds at most one node per path component. The second
 * builds the tree. So the tree never grows after mount and a bad archive
 * is refused before anything is allocated.
 *
 * ustar header (POSIX.1-1988), 512 bytes, numbers in octal ASCII:
 *   0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]
 *   136 mtime[12]  148 chksum[8]  156 typeflag  157 linkname[100]
 *   257 magic[6] "ustar"  263 version[2]  265 uname[32]  297 gname[32]
 *   329 devmajor[8]  337 devminor[8]  345 prefix[155]
 */
#include "kernel/tarfs.h"

#include "kernel/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"

#ifdef HOST_TEST
#include <stdlib.h>
#define tarfs_alloc(n) malloc(n)
#define tarfs_free(p)  free(p)
#else
#include "mm/kmalloc.h"
#define tarfs_alloc(n) kmalloc(n)
#define tarfs_free(p)  kfree(p)
#endif

#define BLOCK	   512
#define PATH_BYTES 260 /* prefix (155) + '/' + name (100) + NUL, rounded */

/* Reads an octal field of len bytes: optional leading spaces, digits, then
 * NUL/space padding to the end. Returns 0 and *out, or -1. */
static int octal(const unsigned char *field, size_t len, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	int digits = 0;

	while (i < len && field[i] == ' ')
		i++;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++, digits++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (field[i] - '0');
	}
	for (; i < len; i++) {
		if (field[i] != ' ' && field[i] != '\0')
			return -1;
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

static size_t field_len(const unsigned char *field, size_t max)
{
	size_t n = 0;

	while (n < max && field[n])
		n++;
	return n;
}

static int all_zero(const unsigned char *b)
{
	for (int i = 0; i < BLOCK; i++) {
		if (b[i])
			return 0;
	}
	return 1;
}

static int fail(struct tarfs *fs, size_t offset, const char *why)
{
	ksnprintf(fs->error, sizeof(fs->error), "bad archive at byte %zu: %s", offset, why);
	return -EINVAL;
}

struct member {
	const unsigned char *h;
	char path[PATH_BYTES];
	size_t path_len;
	uint64_t mode, uid, gid, size, mtime;
	char type;
	const unsigned char *data;
};

/* Checks the header at off and decodes it into m. Returns 0, or -EINVAL
 * (fs->error set). */
static int read_member(struct tarfs *fs, const unsigned char *image, size_t size, size_t off,
		       struct member *m)
{
	const unsigned char *h = image + off;
	uint64_t sum = 0, want;

	if (size - off < BLOCK)
		return fail(fs, off, "truncated header");
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	if (octal(h + 148, 8, &want))
		return fail(fs, off, "checksum field is not octal");
	if (sum != want)
		return fail(fs, off, "header checksum mismatch");
	if (memcmp(h + 257, "ustar", 5))
		return fail(fs, off, "not a ustar header (magic)");
	if (octal(h + 100, 8, &m->mode) || octal(h + 108, 8, &m->uid) ||
	    octal(h + 116, 8, &m->gid) || octal(h + 136, 12, &m->mtime))
		return fail(fs, off, "mode, uid, gid or mtime is not octal");
	if (octal(h + 124, 12, &m->size))
		return fail(fs, off, "size is not octal");
	if (m->size > size - off - BLOCK)
		return fail(fs, off, "member data runs past the end of the archive");
	m->h = h;
	m->type = (char)h[156];
	m->data = h + BLOCK;

	size_t plen = field_len(h + 345, 155), nlen = field_len(h, 100);
	m->path_len = 0;
	if (plen) {
		memcpy(m->path, h + 345, plen);
		m->path[plen] = '/';
		m->path_len = plen + 1;
	}
	memcpy(m->path + m->path_len, h, nlen);
	m->path_len += nlen;
	m->path[m->path_len] = '\0';
	if (!m->path_len)
		return fail(fs, off, "empty member name");
	return 0;
}

/* The number of components in path (an upper bound on the nodes it adds). */
static size_t components(const char *path)
{
	size_t n = 1;

	for (; *path; path++)
		n += *path == '/';
	return n;
}

static int find_child(const struct tarfs *fs, int dir, const char *name, size_t len)
{
	for (int c = fs->nodes[dir].first_child; c >= 0; c = fs->nodes[c].next_sibling) {
		const char *n = fs->nodes[c].name;
		if (!strncmp(n, name, len) && n[len] == '\0')
			return c;
	}
	return -1;
}

/* Building state for pass 2. */
struct builder {
	struct tarfs *fs;
	char *str_next;
};

static const char *save_string(struct builder *b, const char *s, size_t len)
{
	char *p = b->str_next;

	memcpy(p, s, len);
	p[len] = '\0';
	b->str_next += len + 1;
	return p;
}

static int new_node(struct builder *b, int parent, const char *name, size_t len)
{
	struct tarfs *fs = b->fs;
	int n = fs->count++;

	fs->nodes[n] = (struct tarfs_node){
	    .name = save_string(b, name, len),
	    .mode = 0755,
	    .type = TARFS_DIR,
	    .parent = parent,
	    .first_child = -1,
	    .next_sibling = -1,
	};
	int *link = &fs->nodes[parent].first_child;
	while (*link >= 0)
		link = &fs->nodes[*link].next_sibling;
	*link = n;
	return n;
}

static int add_member(struct builder *b, struct member *m, size_t off)
{
	struct tarfs *fs = b->fs;
	enum tarfs_type type;
	const unsigned char *data = m->data;
	uint64_t size = m->size;

	switch (m->type) {
	case '0':
	case '\0':
	case '7':
		type = TARFS_FILE;
		break;
	case '1':
		type = TARFS_FILE;
		break;
	case '2':
		type = TARFS_SYMLINK;
		break;
	case '5':
		type = TARFS_DIR;
		break;
	case 'L':
	case 'K':
		return fail(fs, off,
			    "GNU long-name member (write the archive with --format=ustar)");
	default:
		return 0; /* pax headers, devices, fifos: nothing to serve */
	}
	if (m->type == '1') {
		/* A hard link shares the contents of the file it names. */
		char target[101];
		size_t tlen = field_len(m->h + 157, 100);
		memcpy(target, m->h + 157, tlen);
		target[tlen] = '\0';
		int t = tarfs_lookup(fs, 0, target, TARFS_NOFOLLOW);
		if (t < 0 || fs->nodes[t].type != TARFS_FILE)
			return fail(fs, off, "hard link to a file not earlier in the archive");
		data = fs->nodes[t].data;
		size = fs->nodes[t].size;
	}

	/* Walk the path: every component but the last is a directory. */
	int node = 0;
	const char *p = m->path;
	for (;;) {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - p);
		const char *next = end;
		while (*next == '/')
			next++;
		int last = !*next;
		if (len == 0) /* "", "./" or "/": the root itself */
			break;
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return fail(fs, off, "member name contains '..'");
		if (len > TARFS_NAME_MAX)
			return fail(fs, off, "member name component too long");
		if (!(len == 1 && p[0] == '.')) {
			int child = find_child(fs, node, p, len);
			if (child < 0) {
				child = new_node(b, node, p, len);
			} else if (!last && fs->nodes[child].type != TARFS_DIR) {
				return fail(fs, off, "a parent of the member is not a directory");
			}
			node = child;
		}
		if (last)
			break;
		p = next;
	}

	struct tarfs_node *n = &fs->nodes[node];
	if (n->type == TARFS_DIR && n->first_child >= 0 && type != TARFS_DIR)
		return fail(fs, off, "member replaces a non-empty directory");
	if (node == 0 && type != TARFS_DIR)
		return fail(fs, off, "the root must be a directory");
	n->type = type;
	n->mode = (uint32_t)(m->mode & 07777);
	n->uid = (uint32_t)m->uid;
	n->gid = (uint32_t)m->gid;
	n->mtime = (int64_t)m->mtime;
	n->data = type == TARFS_FILE ? data : NULL;
	n->size = type == TARFS_FILE ? size : 0;
	n->target = NULL;
	if (type == TARFS_SYMLINK) {
		size_t tlen = field_len(m->h + 157, 100);
		n->target = save_string(b, (const char *)m->h + 157, tlen);
		n->size = tlen;
	}
	return 0;
}

int tarfs_mount(struct tarfs *fs, const void *image, size_t size)
{
	const unsigned char *img = image;
	struct member m;
	size_t nodes = 1, strings = 1, off;
	int err;

	*fs = (struct tarfs){0};
	/* Pass 1: check every header, bound the allocations. */
	for (off = 0; off < size;) {
		if (size - off >= BLOCK && all_zero(img + off))
			break; /* end-of-archive marker */
		err = read_member(fs, img, size, off, &m);
		if (err)
			return err;
		nodes += components(m.path);
		strings += m.path_len + components(m.path) + field_len(m.h + 157, 100) + 1;
		uint64_t advance = BLOCK + ALIGN_UP(m.size, (uint64_t)BLOCK);
		if (advance > size - off)
			break; /* the last member's padding may be cut off */
		off += advance;
	}
	if (nodes > 0x7fffffff)
		return fail(fs, 0, "too many members");

	fs->nodes = tarfs_alloc(nodes * sizeof(*fs->nodes));
	fs->strings = tarfs_alloc(strings);
	if (!fs->nodes || !fs->strings) {
		tarfs_unmount(fs);
		ksnprintf(fs->error, sizeof(fs->error), "out of memory for %zu nodes", nodes);
		return -ENOMEM;
	}
	struct builder b = {.fs = fs, .str_next = fs->strings};
	fs->count = 1;
	fs->nodes[0] = (struct tarfs_node){
	    .name = save_string(&b, "", 0),
	    .mode = 0755,
	    .type = TARFS_DIR,
	    .parent = 0,
	    .first_child = -1,
	    .next_sibling = -1,
	};

	/* Pass 2: build the tree (the headers are known to be good). */
	for (off = 0; off < size;) {
		if (size - off >= BLOCK && all_zero(img + off))
			break;
		read_member(fs, img, size, off, &m);
		err = add_member(&b, &m, off);
		if (err) {
			char why[sizeof(fs->error)];
			memcpy(why, fs->error, sizeof(why));
			tarfs_unmount(fs);
			memcpy(fs->error, why, sizeof(why));
			return err;
		}
		uint64_t advance = BLOCK + ALIGN_UP(m.size, (uint64_t)BLOCK);
		if (advance > size - off)
			break;
		off += advance;
	}
	return 0;
}

void tarfs_unmount(struct tarfs *fs)
{
	tarfs_free(fs->nodes);
	tarfs_free(fs->strings);
	fs->nodes = NULL;
	fs->strings = NULL;
	fs->count = 0;
}

/* Resolves path from dir; *links counts symlinks followed so far. */
static int walk(const struct tarfs *fs, int dir, const char *path, unsigned flags, int *links)
{
	if (!*path)
		return -ENOENT;
	int node = path[0] == '/' ? 0 : dir;
	const char *p = path;
	int trailing_slash = path[strlen(path) - 1] == '/';

	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - p);
		if (len > TARFS_NAME_MAX)
			return -ENAMETOOLONG;
		if (fs->nodes[node].type != TARFS_DIR)
			return -ENOTDIR;
		const char *rest = end;
		while (*rest == '/')
			rest++;
		int last = !*rest;
		int next;
		if (len == 1 && p[0] == '.')
			next = node;
		else if (len == 2 && p[0] == '.' && p[1] == '.')
			next = fs->nodes[node].parent;
		else if ((next = find_child(fs, node, p, len)) < 0)
			return -ENOENT;
		if (fs->nodes[next].type == TARFS_SYMLINK &&
		    (!last || trailing_slash || !(flags & TARFS_NOFOLLOW))) {
			if (++*links > TARFS_SYMLOOP_MAX)
				return -ELOOP;
			next = walk(fs, node, fs->nodes[next].target, 0, links);
			if (next < 0)
				return next;
		}
		node = next;
		p = end;
	}
	if (trailing_slash && fs->nodes[node].type != TARFS_DIR)
		return -ENOTDIR;
	return node;
}

int tarfs_lookup(const struct tarfs *fs, int cwd, const char *path, unsigned flags)
{
	int links = 0;

	return walk(fs, cwd, path, flags, &links);
}

long tarfs_path(const struct tarfs *fs, int node, char *buf, size_t size)
{
	size_t len = 0;

	/* Measure, then fill from the end. */
	for (int n = node; n != 0; n = fs->nodes[n].parent)
		len += 1 + strlen(fs->nodes[n].name);
	if (len == 0)
		len = 1;
	if (len + 1 > size)
		return -ERANGE;
	buf[len] = '\0';
	buf[0] = '/';
	size_t at = len;
	for (int n = node; n != 0; n = fs->nodes[n].parent) {
		size_t l = strlen(fs->nodes[n].name);
		at -= l;
		memcpy(buf + at, fs->nodes[n].name, l);
		buf[--at] = '/';
	}
	return (long)len;
}
