/* /proc/self/maps in Linux's format (see procmaps.h). */
#include "fs/procmaps.h"

#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/aspace.h"
#include "mm/vmobj.h"

#define NAME_COLUMN 73 /* Linux pads to 25 + 6 * sizeof(void *) - 1 */
#define PATH_MAX_   4096

struct out {
	char *buf;
	size_t size, len; /* len: the whole text's, even past size */
};

static void put_line(struct out *o, uint64_t start, uint64_t end, const char perms[5],
		     uint64_t offset, uint64_t dev, uint64_t ino, const char *name)
{
	char line[160];
	/* Linux's new_encode_dev split: 12 bits of major, 20 of minor. */
	unsigned major = (unsigned)((dev >> 8) & 0xfff),
		 minor = (unsigned)((dev & 0xff) | ((dev >> 12) & 0xfff00));
	int n = ksnprintf(line, sizeof(line), "%08lx-%08lx %s %08lx %02x:%02x %lu ", start, end,
			  perms, offset, major, minor, ino);
	size_t room = o->len < o->size ? o->size - o->len : 0;

	if (name && *name)
		while (n < NAME_COLUMN && n + 1 < (int)sizeof(line))
			line[n++] = ' ';
	line[n] = '\0';
	o->len +=
	    (size_t)ksnprintf(o->buf + (o->size - room), room, "%s%s\n", line, name ? name : "");
}

static void perms_of(char perms[5], unsigned flags, int shared)
{
	int none = flags & ASPACE_NOACCESS;

	perms[0] = none ? '-' : 'r';
	perms[1] = (flags & VM_WRITE) ? 'w' : '-';
	perms[2] = (flags & VM_EXEC) ? 'x' : '-';
	perms[3] = shared ? 's' : 'p';
	perms[4] = '\0';
}

/* The image: runs of mapped pages with equal permissions (the loader maps
 * each segment with its own; alignment gaps stay unmapped). */
static void put_image(struct out *o, const struct aspace *as, const struct region *r,
		      const char *name)
{
	vaddr_t end = r->base + r->npages * PAGE_SIZE, run = 0;
	unsigned run_flags = 0;
	char perms[5];

	for (vaddr_t va = r->base; va <= end; va += PAGE_SIZE) {
		paddr_t pa;
		unsigned flags = 0;
		int mapped = va < end && vm_lookup(&as->ctx, va, &pa, &flags) == 0;

		flags &= VM_WRITE | VM_EXEC;
		if (run && (!mapped || flags != run_flags)) {
			perms_of(perms, run_flags, 0);
			put_line(o, run, va, perms, run - r->base, 0, 0, name);
			run = 0;
		}
		if (mapped && !run) {
			run = va;
			run_flags = flags;
		}
	}
}

long procmaps_text(const struct aspace *as, const struct procmaps_names *names, char *buf,
		   size_t size)
{
	static char path[PATH_MAX_]; /* one CPU, no sleeping in here */
	struct out o = {buf, size, 0};
	const struct region *vdso = NULL;
	char perms[5];

	if (size)
		buf[0] = '\0';
	for (const struct region *r = as->regions; r; r = r->next)
		if (names->vdso >= r->base && names->vdso < r->base + r->npages * PAGE_SIZE)
			vdso = r;
	for (const struct region *r = as->regions; r; r = r->next) {
		uint64_t end = r->base + r->npages * PAGE_SIZE, dev = 0, ino = 0, off = 0;
		const char *name = NULL;

		if (!r->npages)
			continue; /* an empty heap: Linux has no [heap] line either */
		if (r->kind == REGION_IMAGE && r != vdso) {
			int interp = names->interp && names->interp_base >= r->base &&
				     names->interp_base < end;
			put_image(&o, as, r, interp ? names->interp : names->image);
			continue;
		}
		if (r == vdso)
			name = "[vdso]";
		else if (vdso && end == vdso->base && !(r->flags & (VM_WRITE | VM_EXEC)))
			name = "[vvar]";
		else if (r->kind == REGION_HEAP)
			name = "[heap]";
		else if (r->kind == REGION_STACK)
			name = "[stack]";
		else if (r->obj) {
			off = r->obj_off;
			if (r->obj->ops->describe) {
				long n =
				    r->obj->ops->describe(r->obj, &dev, &ino, path, sizeof(path));
				name = n >= 0 ? path : NULL;
			}
		}
		perms_of(perms, r->flags, r->obj && r->shared);
		put_line(&o, r->base, end, perms, off, dev, ino, name);
	}
	return (long)o.len;
}
