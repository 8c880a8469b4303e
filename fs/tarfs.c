/*
 * tarfs - rootfs.tar (ustar) into a tmpfs tree (see tarfs.h).
 *
 * Three passes over the archive, so that a bad archive changes nothing:
 *
 *   1. every header is checked (checksum, magic, octal fields, bounds) and
 *      the plan's allocations are sized from upper bounds: a member adds
 *      at most one name per path component and one object;
 *   2. the members are applied, in archive order, to a plan: a tree of
 *      names, each naming an object (what becomes one inode: a directory,
 *      a file over the archive's bytes, a symlink). Here the rules that
 *      need the whole tree are checked (".." components, a parent that is
 *      not a directory, a non-empty directory replaced by a file, hard
 *      links to a file named earlier). A later member naming the same
 *      path replaces the earlier one's object, as tar extraction does; a
 *      hard link names the object of its target, so it keeps the contents
 *      its target had when it was linked, as with tar;
 *   3. the plan is made, depth first in first-appearance order (so
 *      directories list in archive order): the first name of an object
 *      makes its inode, a later one (a hard link) links to it. A
 *      directory's attributes are set when its walk leaves it, after its
 *      entries changed its mtime.
 *
 * Only pass 3 changes the tree; it fails only when memory or the file
 * system's space runs out.
 *
 * ustar header (POSIX.1-1988), 512 bytes, numbers in octal ASCII:
 *   0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]
 *   136 mtime[12]  148 chksum[8]  156 typeflag  157 linkname[100]
 *   257 magic[6] "ustar"  263 version[2]  265 uname[32]  297 gname[32]
 *   329 devmajor[8]  337 devminor[8]  345 prefix[155]
 */
#include "fs/tarfs.h"

#include "fs/tmpfs.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/stat.h"
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

enum obj_type { OBJ_DIR, OBJ_FILE, OBJ_SYMLINK };

/* What becomes one inode. */
struct obj {
	enum obj_type type;
	uint32_t mode, uid, gid;
	int64_t mtime;
	const unsigned char *data; /* files: the archive's bytes */
	uint64_t size;
	const char *target; /* symlinks (NUL-terminated, in the strings) */
	int set;	    /* the root: a member gave its attributes */
	struct inode *made; /* pass 3 */
};

/* One name in the plan. */
struct name {
	const char *name;
	size_t len;
	int parent, first_child, last_child, next_sibling; /* -1: none */
	int obj;
};

struct plan {
	char *error;
	size_t errsize;
	struct name *names;
	struct obj *objs;
	char *strings, *str_next;
	int nnames, nobjs;
	int *slots;	  /* open addressing over (parent, name): a name, or -1 */
	size_t slot_mask; /* slots - 1, a power of two - 1, at least twice the names */
};

static int fail(struct plan *p, size_t offset, const char *why)
{
	if (p->errsize)
		ksnprintf(p->error, p->errsize, "bad archive at byte %zu: %s", offset, why);
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
 * (the error set). */
static int read_member(struct plan *p, const unsigned char *image, size_t size, size_t off,
		       struct member *m)
{
	const unsigned char *h = image + off;
	uint64_t sum = 0, want;

	if (size - off < BLOCK)
		return fail(p, off, "truncated header");
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	if (octal(h + 148, 8, &want))
		return fail(p, off, "checksum field is not octal");
	if (sum != want)
		return fail(p, off, "header checksum mismatch");
	if (memcmp(h + 257, "ustar", 5))
		return fail(p, off, "not a ustar header (magic)");
	if (octal(h + 100, 8, &m->mode) || octal(h + 108, 8, &m->uid) ||
	    octal(h + 116, 8, &m->gid) || octal(h + 136, 12, &m->mtime))
		return fail(p, off, "mode, uid, gid or mtime is not octal");
	if (octal(h + 124, 12, &m->size))
		return fail(p, off, "size is not octal");
	if (m->size > size - off - BLOCK)
		return fail(p, off, "member data runs past the end of the archive");
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
		return fail(p, off, "empty member name");
	return 0;
}

/* The offset of the member after the one at off with size bytes of data,
 * or size when the archive ends (the last member's padding may be cut). */
static size_t next_member(size_t off, uint64_t data_size, size_t size)
{
	uint64_t advance = BLOCK + ALIGN_UP(data_size, (uint64_t)BLOCK);

	return advance > size - off ? size : off + (size_t)advance;
}

/* The number of components in path (an upper bound on the names it adds). */
static size_t components(const char *path)
{
	size_t n = 1;

	for (; *path; path++)
		n += *path == '/';
	return n;
}

static const char *save_string(struct plan *p, const char *s, size_t len)
{
	char *at = p->str_next;

	memcpy(at, s, len);
	at[len] = '\0';
	p->str_next += len + 1;
	return at;
}

static int new_obj(struct plan *p, enum obj_type type, uint32_t mode)
{
	int o = p->nobjs++;

	p->objs[o] = (struct obj){.type = type, .mode = mode};
	return o;
}

static size_t name_hash(int parent, const char *name, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)parent; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h;
}

/* The slot of name in dir: where it is, or the empty one where it goes. */
static size_t child_slot(const struct plan *p, int dir, const char *name, size_t len)
{
	size_t i = name_hash(dir, name, len) & p->slot_mask;

	for (;; i = (i + 1) & p->slot_mask) {
		int c = p->slots[i];
		if (c < 0 || (p->names[c].parent == dir && p->names[c].len == len &&
			      !memcmp(p->names[c].name, name, len)))
			return i;
	}
}

static int find_child(const struct plan *p, int dir, const char *name, size_t len)
{
	return p->slots[child_slot(p, dir, name, len)];
}

/* A new name under parent, naming a new implied directory (0755, 0:0,
 * mtime 0). */
static int new_name(struct plan *p, int parent, const char *name, size_t len)
{
	int n = p->nnames++;

	p->slots[child_slot(p, parent, name, len)] = n;
	p->names[n] = (struct name){
	    .name = save_string(p, name, len),
	    .len = len,
	    .parent = parent,
	    .first_child = -1,
	    .last_child = -1,
	    .next_sibling = -1,
	    .obj = new_obj(p, OBJ_DIR, 0755),
	};
	if (p->names[parent].last_child >= 0)
		p->names[p->names[parent].last_child].next_sibling = n;
	else
		p->names[parent].first_child = n;
	p->names[parent].last_child = n;
	return n;
}

static int is_dir_name(const struct plan *p, int n)
{
	return p->objs[p->names[n].obj].type == OBJ_DIR;
}

/* The name a hard link's target names, or -1: a path from the root
 * through directories (".", "" components skipped). */
static int find_path(const struct plan *p, const char *path, size_t len)
{
	int node = 0;
	size_t i = 0;

	while (i < len) {
		size_t s = i;
		while (i < len && path[i] != '/')
			i++;
		size_t n = i - s;
		if (i < len)
			i++;
		if (n == 0 || (n == 1 && path[s] == '.'))
			continue;
		if (!is_dir_name(p, node))
			return -1;
		if ((node = find_child(p, node, path + s, n)) < 0)
			return -1;
	}
	return node;
}

/* Applies one member to the plan: 1 when it made a name, 0 when it is a
 * kind that is skipped, or -EINVAL. */
static int plan_member(struct plan *p, const struct member *m, size_t off)
{
	int link_obj = -1;
	enum obj_type type;

	switch (m->type) {
	case '0':
	case '\0':
	case '7':
	case '1':
		type = OBJ_FILE;
		break;
	case '2':
		type = OBJ_SYMLINK;
		break;
	case '5':
		type = OBJ_DIR;
		break;
	case 'L':
	case 'K':
		return fail(p, off, "GNU long-name member (write the archive with --format=ustar)");
	default:
		return 0; /* pax headers, devices, fifos: nothing to serve */
	}
	size_t tlen = field_len(m->h + 157, 100);
	if (m->type == '1') {
		int t = find_path(p, (const char *)m->h + 157, tlen);
		if (t < 0 || p->objs[p->names[t].obj].type != OBJ_FILE)
			return fail(p, off, "hard link to a file not earlier in the archive");
		link_obj = p->names[t].obj;
	}
	if (type == OBJ_SYMLINK && tlen == 0)
		return fail(p, off, "symlink with an empty target");

	/* Walk the path: every component but the last is a directory. */
	int node = 0;
	const char *s = m->path;
	for (;;) {
		while (*s == '/')
			s++;
		const char *end = s;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - s);
		const char *next = end;
		while (*next == '/')
			next++;
		int last = !*next;
		if (len == 0) /* "", "./" or "/": the root itself */
			break;
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return fail(p, off, "member name contains '..'");
		if (len > TARFS_NAME_MAX)
			return fail(p, off, "member name component too long");
		if (!(len == 1 && s[0] == '.')) {
			int child = find_child(p, node, s, len);
			if (child < 0)
				child = new_name(p, node, s, len);
			else if (!last && !is_dir_name(p, child))
				return fail(p, off, "a parent of the member is not a directory");
			node = child;
		}
		if (last)
			break;
		s = next;
	}

	struct name *n = &p->names[node];
	struct obj *o = &p->objs[n->obj];
	if (o->type == OBJ_DIR && n->first_child >= 0 && type != OBJ_DIR)
		return fail(p, off, "member replaces a non-empty directory");
	if (node == 0 && type != OBJ_DIR)
		return fail(p, off, "the root must be a directory");
	if (link_obj >= 0) {
		n->obj = link_obj; /* the target's inode, attributes and all */
		return 1;
	}
	if (!(type == OBJ_DIR && o->type == OBJ_DIR)) {
		/* A new object: an earlier one stays for its hard links. */
		n->obj = new_obj(p, type, 0);
		o = &p->objs[n->obj];
	}
	o->mode = (uint32_t)(m->mode & 07777);
	o->uid = (uint32_t)m->uid;
	o->gid = (uint32_t)m->gid;
	o->mtime = (int64_t)m->mtime;
	o->set = 1;
	if (type == OBJ_FILE) {
		o->data = m->data;
		o->size = m->size;
	} else if (type == OBJ_SYMLINK) {
		o->target = save_string(p, (const char *)m->h + 157, tlen);
	}
	return 1;
}

/* Sets an object's owner and times (and a directory's or file's mode) on
 * the inode made for it. */
static int apply_attrs(const struct obj *o, struct inode *ino)
{
	struct iattr a = {
	    .valid = ATTR_UID | ATTR_GID | ATTR_ATIME | ATTR_MTIME,
	    .mode = o->mode,
	    .uid = o->uid,
	    .gid = o->gid,
	    .atime = {o->mtime, 0},
	    .mtime = {o->mtime, 0},
	};

	if (o->type != OBJ_SYMLINK) /* a symlink's mode is always 0777 */
		a.valid |= ATTR_MODE;
	return ino->ops->setattr(ino, &a);
}

/* Makes name n (its parent is made) and, for its object's first name, the
 * object. 0 or -errno. */
static int make_name(struct plan *p, int n)
{
	struct name *nm = &p->names[n];
	struct obj *o = &p->objs[nm->obj];
	struct inode *dir = p->objs[p->names[nm->parent].obj].made;
	int err;

	if (o->made)
		return dir->ops->link(dir, nm->name, nm->len, o->made);
	switch (o->type) {
	case OBJ_FILE:
		err = tmpfs_create_external(dir, nm->name, nm->len, o->mode, o->data, o->size,
					    &o->made);
		break;
	case OBJ_SYMLINK:
		err = dir->ops->symlink(dir, nm->name, nm->len, o->target, &o->made);
		break;
	default:
		return dir->ops->mkdir(dir, nm->name, nm->len, o->mode, &o->made);
	}
	return err ? err : apply_attrs(o, o->made); /* a directory's: when left */
}

/* Pass 3: the plan into the tree under root, depth first without
 * recursion (names know their parent). */
static int make_plan(struct plan *p, struct inode *root)
{
	int n = p->names[0].first_child, err;

	p->objs[p->names[0].obj].made = root;
	while (n >= 0) {
		err = make_name(p, n);
		if (err) {
			if (p->errsize)
				ksnprintf(p->error, p->errsize, "cannot make '%s': error %d",
					  p->names[n].name, -err);
			return err;
		}
		if (is_dir_name(p, n) && p->names[n].first_child >= 0) {
			n = p->names[n].first_child;
			continue;
		}
		/* Leave n, and each directory whose last entry it was. */
		for (;;) {
			if (is_dir_name(p, n)) {
				const struct obj *o = &p->objs[p->names[n].obj];
				if ((err = apply_attrs(o, o->made)))
					return err;
			}
			if (p->names[n].next_sibling >= 0) {
				n = p->names[n].next_sibling;
				break;
			}
			n = p->names[n].parent;
			if (n == 0) {
				n = -1;
				break;
			}
		}
	}
	if (p->objs[p->names[0].obj].set)
		return apply_attrs(&p->objs[p->names[0].obj], root);
	return 0;
}

long tarfs_unpack(const void *image, size_t size, struct inode *root, char *error, size_t errsize)
{
	const unsigned char *img = image;
	struct plan p = {.error = error, .errsize = errsize};
	struct member m;
	size_t names = 1, strings = 1, members = 0, off;
	long made = 0;
	int err;

	if (errsize)
		error[0] = '\0';
	/* Pass 1: check every header, bound the plan. */
	for (off = 0; off < size; off = next_member(off, m.size, size)) {
		if (size - off >= BLOCK && all_zero(img + off))
			break; /* end-of-archive marker */
		err = read_member(&p, img, size, off, &m);
		if (err)
			return err;
		names += components(m.path);
		strings += m.path_len + components(m.path) + field_len(m.h + 157, 100) + 1;
		members++;
	}
	if (names + members > 0x7fffffff)
		return fail(&p, 0, "too many members");
	if (members == 0)
		return 0;

	p.slot_mask = 1;
	while (p.slot_mask < 2 * names)
		p.slot_mask <<= 1;
	p.names = tarfs_alloc(names * sizeof(*p.names));
	p.objs = tarfs_alloc((names + members) * sizeof(*p.objs));
	p.strings = p.str_next = tarfs_alloc(strings);
	p.slots = tarfs_alloc(p.slot_mask * sizeof(*p.slots));
	p.slot_mask--;
	if (!p.names || !p.objs || !p.strings || !p.slots) {
		if (errsize)
			ksnprintf(error, errsize, "out of memory for %zu names", names);
		err = -ENOMEM;
		goto free_plan;
	}
	memset(p.slots, 0xff, (p.slot_mask + 1) * sizeof(*p.slots)); /* all -1 */
	p.nnames = 1;
	p.names[0] = (struct name){
	    .name = save_string(&p, "", 0),
	    .parent = 0,
	    .first_child = -1,
	    .last_child = -1,
	    .next_sibling = -1,
	    .obj = new_obj(&p, OBJ_DIR, 0755),
	};

	/* Pass 2: the plan (the headers are known to be good). */
	for (off = 0; off < size; off = next_member(off, m.size, size)) {
		if (size - off >= BLOCK && all_zero(img + off))
			break;
		read_member(&p, img, size, off, &m);
		err = plan_member(&p, &m, off);
		if (err < 0)
			goto free_plan;
		made += err;
	}

	/* Pass 3: the tree. */
	err = make_plan(&p, root);

free_plan:
	tarfs_free(p.names);
	tarfs_free(p.objs);
	tarfs_free(p.strings);
	tarfs_free(p.slots);
	return err < 0 ? err : made;
}
