/*
 * Host tests of fs/procmaps.c: /proc/self/maps of an address space built
 * with mm/aspace.c over the fake physical memory of mm_arena.h, compared
 * with the exact text Linux prints for the same mappings.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fs/procmaps.h"
#include "kernel/abi/errno.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm/vmobj.h"
#include "mm_arena.h"

#define P	 PAGE_SIZE
#define IMG_BASE 0x400000ull
#define DEF	 ASPACE_DEFAULT_BASE

static struct vm_ctx kctx;
static struct aspace as;
static int obj_holds;
static const char *obj_path = "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13";

static int obj_get_page(struct vmobj *obj, uint64_t index, int write, paddr_t *pa)
{
	(void)obj;
	(void)index;
	(void)write;
	(void)pa;
	return -EIO; /* never touched here */
}

static void obj_hold(struct vmobj *obj)
{
	(void)obj;
	obj_holds++;
}

static void obj_release(struct vmobj *obj)
{
	(void)obj;
	obj_holds--;
}

/* A file on device 0x801 (8:1), inode 4242; or unlinked when obj_path is NULL. */
static long obj_describe(struct vmobj *obj, uint64_t *dev, uint64_t *ino, char *buf, size_t size)
{
	(void)obj;
	*dev = 0x801;
	*ino = 4242;
	if (!obj_path)
		return -ENOENT;
	if (strlen(obj_path) + 1 > size)
		return -ERANGE;
	strcpy(buf, obj_path);
	return (long)strlen(obj_path);
}

static const struct vmobj_ops file_ops = {obj_get_page, obj_hold, obj_release, obj_describe, NULL};
static const struct vmobj_ops nameless_ops = {obj_get_page, obj_hold, obj_release, NULL, NULL};
static struct vmobj file = {&file_ops}, nameless = {&nameless_ops};

static void map_image_page(size_t i, unsigned flags)
{
	paddr_t pa = palloc(1);

	cr_assert_neq(pa, 0);
	cr_assert_eq(vm_map(&as.ctx, IMG_BASE + i * P, pa, VM_USER | flags), 0);
}

/* A dynamically linked program as the loader leaves it and ld.so goes on:
 * the image (r--, r-x, r-x, a gap, rw-), a heap of 2 pages, the stack,
 * a library mapped private from a file and its RELRO made read-only, an
 * anonymous mapping with a PROT_NONE guard, a shared nameless object, the
 * vvar and vDSO pages. */
static void setup(void)
{
	mm_test_setup();
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	aspace_set_phys_policy(NULL);
	cr_assert_eq(aspace_init(&as, &kctx), 0);
	cr_assert_eq(aspace_add_image(&as, IMG_BASE, 5), 0);
	map_image_page(0, 0);
	map_image_page(1, VM_EXEC);
	map_image_page(2, VM_EXEC);
	map_image_page(4, VM_WRITE);
	cr_assert_eq(aspace_init_heap(&as, IMG_BASE + 5 * P), 0);
	cr_assert_eq(aspace_brk(&as, IMG_BASE + 7 * P), IMG_BASE + 7 * P);
	cr_assert_eq(aspace_init_stack(&as, ASPACE_STACK_TOP, 16, 1), 0);
	cr_assert_eq(aspace_map(&as, 0, DEF, 2 * P, ASPACE_NOACCESS), (long)DEF);
	cr_assert_eq(aspace_map_object(&as, DEF + 2 * P, 2 * P, VM_EXEC, &file, 0x3000, 0),
		     (long)(DEF + 2 * P));
	cr_assert_eq(aspace_map_object(&as, DEF + 4 * P, P, 0, &file, 0x5000, 0),
		     (long)(DEF + 4 * P));
	cr_assert_eq(aspace_map(&as, 0, DEF + 5 * P, 3 * P, VM_WRITE), (long)(DEF + 5 * P));
	cr_assert_eq(aspace_map_object(&as, DEF + 8 * P, P, VM_WRITE, &nameless, 0, 1),
		     (long)(DEF + 8 * P));
	cr_assert_eq(aspace_map(&as, 0, DEF + 16 * P, 2 * P, 0), (long)(DEF + 16 * P));
	cr_assert_eq(aspace_map(&as, 0, DEF + 18 * P, P, VM_EXEC), (long)(DEF + 18 * P));
}

static void teardown(void)
{
	aspace_destroy(&as);
	cr_assert_eq(obj_holds, 0);
}

TestSuite(procmaps, .init = setup, .fini = teardown);

static const char expected[] =
    "00400000-00401000 r--p 00000000 00:00 0                                  /app/prog\n"
    "00401000-00403000 r-xp 00001000 00:00 0                                  /app/prog\n"
    "00404000-00405000 rw-p 00004000 00:00 0                                  /app/prog\n"
    "00405000-00407000 rw-p 00000000 00:00 0                                  [heap]\n"
    "100000000000-100000002000 ---p 00000000 00:00 0 \n"
    "100000002000-100000004000 r-xp 00003000 08:01 4242                       "
    "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13\n"
    "100000004000-100000005000 r--p 00005000 08:01 4242                       "
    "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13\n"
    "100000005000-100000008000 rw-p 00000000 00:00 0 \n"
    "100000008000-100000009000 rw-s 00000000 00:00 0 \n"
    "100000010000-100000012000 r--p 00000000 00:00 0                          [vvar]\n"
    "100000012000-100000013000 r-xp 00000000 00:00 0                          [vdso]\n"
    "7ffffffef000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";

Test(procmaps, every_kind_of_mapping_in_linux_format)
{
	static char buf[4096];
	struct procmaps_names names = {"/app/prog", DEF + 18 * P, NULL, 0};
	long n = procmaps_text(&as, &names, buf, sizeof(buf));

	cr_assert_str_eq(buf, expected);
	cr_assert_eq(n, (long)strlen(expected));
}

Test(procmaps, without_a_vdso_nothing_is_vvar_and_an_unlinked_file_has_no_name)
{
	static char buf[4096];
	struct procmaps_names names = {"/app/prog", 0, NULL, 0};

	obj_path = NULL;
	procmaps_text(&as, &names, buf, sizeof(buf));
	obj_path = "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13";
	cr_assert_not_null(strstr(buf, "100000002000-100000004000 r-xp 00003000 08:01 4242 \n"));
	cr_assert_not_null(strstr(buf, "100000010000-100000012000 r--p 00000000 00:00 0 \n"));
	cr_assert_not_null(strstr(buf, "100000012000-100000013000 r-xp 00000000 00:00 0 \n"));
	cr_assert_null(strstr(buf, "[v"));
}

Test(procmaps, a_small_buffer_gets_the_beginning_and_the_whole_length)
{
	char small[100];
	struct procmaps_names names = {"/app/prog", DEF + 18 * P, NULL, 0};
	long n = procmaps_text(&as, &names, small, sizeof(small));

	cr_assert_eq(n, (long)strlen(expected));
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert_eq(strncmp(small, expected, sizeof(small) - 1), 0);
}

Test(procmaps, an_empty_heap_has_no_line)
{
	static char buf[4096];
	struct procmaps_names names = {"/app/prog", 0, NULL, 0};

	cr_assert_eq(aspace_brk(&as, IMG_BASE + 5 * P), IMG_BASE + 5 * P);
	procmaps_text(&as, &names, buf, sizeof(buf));
	cr_assert_null(strstr(buf, "[heap]"));
	cr_assert_not_null(strstr(buf, "[stack]"));
}

/* A dynamically linked program's interpreter is an image of its own, named
 * by its path; the program keeps its name. */
Test(procmaps, the_interpreters_image_has_its_own_name)
{
	static char buf[4096];
	const vaddr_t ld = 0x7e0000000000ull;
	struct procmaps_names names = {"/app/prog", 0, "/lib64/ld-linux-x86-64.so.2", ld};
	paddr_t pa = palloc(1);

	cr_assert_eq(aspace_add_image(&as, ld, 2), 0);
	cr_assert_neq(pa, 0);
	cr_assert_eq(vm_map(&as.ctx, ld + P, pa, VM_USER | VM_EXEC), 0);
	procmaps_text(&as, &names, buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "7e0000001000-7e0000002000 r-xp 00001000 00:00 0          "
				       "                /lib64/ld-linux-x86-64.so.2\n"),
			   "%s", buf);
	cr_assert_not_null(strstr(buf, "00401000-00403000 r-xp 00001000 00:00 0                  "
				       "                /app/prog\n"),
			   "%s", buf);
}
