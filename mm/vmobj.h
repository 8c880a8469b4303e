/*
 * vmobj - a page-owning object behind file mappings (a tmpfs file). The
 * address space asks it for the page at an index and maps that very page:
 * writably for MAP_SHARED, so the mapping and read()/write() see the same
 * bytes; read-only for MAP_PRIVATE, copying it on the first write (copy on
 * write). The pages stay the object's: unmapping one never frees it
 * (aspace marks such entries VM_BORROWED). A mapping holds the object
 * (hold/release) for as long as any of its pages may be mapped.
 *
 * A read or exec fault also maps the neighbours the object already has
 * (find_page), in the aligned 16-page window around the fault (not in a
 * shared writable mapping, whose pages get_page must see written),
 * as Linux's fault-around does: a file read through a mapping takes one
 * fault per 16 pages, not one per page.
 *
 * When the object shrinks (truncate), it first calls vmobj_unmap_from, so
 * that no address space keeps a page it is about to free; a later touch
 * past the new end is SIGBUS, as on Linux.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/phys.h"

struct vmobj;

struct vmobj_ops {
	/*
	 * The page holding bytes [index * PAGE_SIZE, + PAGE_SIZE), made if it
	 * was not there yet (bytes past the end of the object read as zero):
	 * 0 and *pa; -EIO when the page starts at or past the end (SIGBUS);
	 * -ENOMEM or -ENOSPC when no page could be had. write: the mapping
	 * will write the page (a shared writable mapping).
	 */
	int (*get_page)(struct vmobj *obj, uint64_t index, int write, paddr_t *pa);
	void (*hold)(struct vmobj *obj);
	void (*release)(struct vmobj *obj);
	/*
	 * Optional, for /proc/self/maps: the file's st_dev and st_ino into
	 * *dev and *ino, and into buf an absolute path that names it now:
	 * the path's length, -ENOENT when no name is left (unlinked; dev and
	 * ino are set), or -ERANGE when buf is too small.
	 */
	long (*describe)(struct vmobj *obj, uint64_t *dev, uint64_t *ino, char *buf, size_t size);
	/*
	 * Optional, for fault-around: the page at index if the object has it
	 * already (or can lend it) and it lies wholly below the object's end,
	 * for reading: 0 and *pa, else -ENOENT. Never allocates, never
	 * fails otherwise. The page is the same one get_page(index, 0)
	 * would return now.
	 */
	int (*find_page)(struct vmobj *obj, uint64_t index, paddr_t *pa);
};

struct vmobj {
	const struct vmobj_ops *ops;
};

static inline void vmobj_hold(struct vmobj *obj)
{
	obj->ops->hold(obj);
}

static inline void vmobj_release(struct vmobj *obj)
{
	obj->ops->release(obj);
}

/* Removes from every address space each mapped page of obj at index
 * first_index and after (and the private copies made of them). Implemented
 * by mm/aspace.c. */
void vmobj_unmap_from(struct vmobj *obj, uint64_t first_index);
/* Removes from every address space each mapping of obj's own page at
 * index (its borrowed entries; the private copies made of it stay): the
 * object is about to hold another page there, which the next touch finds.
 * Implemented by mm/aspace.c. */
void vmobj_unmap_page(struct vmobj *obj, uint64_t index);
