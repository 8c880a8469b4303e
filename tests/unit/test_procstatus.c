/*
 * Host tests of fs/procstatus.c: /proc/self/status and statm of an address
 * space built with mm/aspace.c over the arena of mm_arena.h, with pages
 * backed by demand faults, borrowed from an object and copied on write,
 * so each figure is counted from what the page tables hold.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fs/procstatus.h"
#include "kernel/abi/errno.h"
#include "mm/aspace.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm/vmobj.h"
#include "mm_arena.h"

#define P	    PAGE_SIZE
#define IMG_BASE    0x400000ull
#define INTERP_BASE 0x7f0000000000ull
#define DEF	    ASPACE_DEFAULT_BASE
#define TOP	    ASPACE_STACK_TOP

static struct vm_ctx kctx;
static struct aspace as;
static paddr_t obj_pages[4]; /* the object's own pages, by index */

static int obj_get_page(struct vmobj *obj, uint64_t index, int write, paddr_t *pa)
{
	(void)obj;
	(void)write;
	if (index >= 4)
		return -EIO;
	if (!obj_pages[index])
		obj_pages[index] = palloc(1);
	*pa = obj_pages[index];
	return *pa ? 0 : -ENOMEM;
}

static void obj_nop(struct vmobj *obj)
{
	(void)obj;
}

static const struct vmobj_ops file_ops = {obj_get_page, obj_nop, obj_nop, NULL, NULL};
static struct vmobj file = {&file_ops};

static void map_page(vaddr_t va, unsigned flags)
{
	paddr_t pa = palloc(1);

	cr_assert_neq(pa, 0);
	cr_assert_eq(vm_map(&as.ctx, va, pa, VM_USER | flags), 0);
}

static void touch(vaddr_t va, unsigned access)
{
	cr_assert_eq(aspace_fault(&as, va, access), 0, "fault at %#lx", va);
}

/*
 * The program (r--, r-x, a gap, rw-), its interpreter (r-x, rw-), a heap
 * of 2 pages with 1 touched, the stack with 3 backed, a library mapped
 * r-x with 1 page read (borrowed), a private rw- mapping of the same file
 * with one page read (borrowed) and one written (a private copy), an
 * anonymous rw- mapping of 3 pages with 2 touched and a PROT_NONE guard
 * of 2. Expected, in pages: size 3+2+2+3+2+2+3+2 = 19; resident
 * 3+2+1+3+1+2+2 = 14, of which file 3+2+1+1 = 7; exe 1; lib 1+2 = 3;
 * data 1+1+2+2+3 = 9; stack 3.
 */
static void setup(void)
{
	mm_test_setup();
	memset(obj_pages, 0, sizeof(obj_pages));
	cr_assert_eq(vm_ctx_init_kernel(&kctx), 0);
	cr_assert_eq(vm_kernel_reserve_top_level(&kctx, VM_KERNEL_RANGES_BASE), 0);
	aspace_set_phys_policy(NULL);
	cr_assert_eq(aspace_init(&as, &kctx), 0);
	cr_assert_eq(aspace_add_image(&as, IMG_BASE, 4), 0);
	map_page(IMG_BASE, 0);
	map_page(IMG_BASE + P, VM_EXEC);
	map_page(IMG_BASE + 3 * P, VM_WRITE);
	cr_assert_eq(aspace_add_image(&as, INTERP_BASE, 2), 0);
	map_page(INTERP_BASE, VM_EXEC);
	map_page(INTERP_BASE + P, VM_WRITE);
	cr_assert_eq(aspace_init_heap(&as, IMG_BASE + 4 * P), 0);
	cr_assert_eq(aspace_brk(&as, IMG_BASE + 6 * P), IMG_BASE + 6 * P);
	touch(IMG_BASE + 5 * P, ASPACE_ACCESS_WRITE);
	cr_assert_eq(aspace_init_stack(&as, TOP, 16, 1), 0);
	touch(TOP - 2 * P, ASPACE_ACCESS_WRITE);
	touch(TOP - 3 * P, ASPACE_ACCESS_READ);
	cr_assert_eq(aspace_map_object(&as, DEF, 2 * P, VM_EXEC, &file, 0, 0), (long)DEF);
	touch(DEF + P, ASPACE_ACCESS_EXEC);
	cr_assert_eq(aspace_map_object(&as, DEF + 2 * P, 2 * P, VM_WRITE, &file, 2 * P, 0),
		     (long)(DEF + 2 * P));
	touch(DEF + 2 * P, ASPACE_ACCESS_READ);
	touch(DEF + 3 * P, ASPACE_ACCESS_WRITE);
	cr_assert_eq(aspace_map(&as, 0, DEF + 4 * P, 3 * P, VM_WRITE), (long)(DEF + 4 * P));
	touch(DEF + 4 * P, ASPACE_ACCESS_WRITE);
	touch(DEF + 6 * P, ASPACE_ACCESS_READ);
	cr_assert_eq(aspace_map(&as, 0, DEF + 7 * P, 2 * P, ASPACE_NOACCESS), (long)(DEF + 7 * P));
}

static void teardown(void)
{
	aspace_destroy(&as);
	for (int i = 0; i < 4; i++)
		if (obj_pages[i])
			pfree(obj_pages[i], 1);
}

TestSuite(procstatus, .init = setup, .fini = teardown);

static const struct procstatus_info info = {"a-very-long-program-name", 022, 3, INTERP_BASE, 0};

Test(procstatus, counts_each_kind_of_page_from_the_page_tables)
{
	struct procstatus_mem m;

	procstatus_mem(&as, &info, &m);
	cr_assert_eq(m.size, 19);
	cr_assert_eq(m.rss, 14);
	cr_assert_eq(m.rss_file, 7);
	cr_assert_eq(m.exe, 1);
	cr_assert_eq(m.lib, 3);
	cr_assert_eq(m.data, 9);
	cr_assert_eq(m.stack, 3);
	cr_assert_eq(m.hwm, 14);
}

Test(procstatus, statm_is_size_resident_shared_text_lib_data_dt_in_pages)
{
	char buf[64];
	long n = procstatus_statm(&as, &info, buf, sizeof(buf));

	cr_assert_str_eq(buf, "19 14 7 1 0 12 0\n");
	cr_assert_eq(n, (long)strlen(buf));
}

Test(procstatus, status_has_linux_lines_and_widths)
{
	static char buf[4096];
	long n = procstatus_status(&as, &info, buf, sizeof(buf));
	static const char head[] = "Name:\ta-very-long-pro\nUmask:\t0022\nState:\tR (running)\n"
				   "Tgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n"
				   "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\n";

	cr_assert_eq(n, (long)strlen(buf));
	cr_assert(!strncmp(buf, head, strlen(head)), "%s", buf);
	cr_assert_not_null(strstr(buf, "VmPeak:\t      76 kB\nVmSize:\t      76 kB\n"
				       "VmLck:\t       0 kB\nVmPin:\t       0 kB\n"
				       "VmHWM:\t      56 kB\nVmRSS:\t      56 kB\n"
				       "RssAnon:\t      28 kB\nRssFile:\t      28 kB\n"
				       "RssShmem:\t       0 kB\nVmData:\t      36 kB\n"
				       "VmStk:\t      12 kB\nVmExe:\t       4 kB\n"
				       "VmLib:\t      12 kB\n"),
			   "%s", buf);
	cr_assert_not_null(strstr(buf, "\nThreads:\t3\n"));
	cr_assert(n > 0 && buf[n - 1] == '\n');
	cr_assert_not_null(strstr(buf, "\nnonvoluntary_ctxt_switches:\t0\n"));
}

Test(procstatus, resident_pages_follow_touches_and_dontneed)
{
	struct procstatus_mem before, after;

	procstatus_mem(&as, &info, &before);
	touch(DEF + 5 * P, ASPACE_ACCESS_WRITE);
	touch(TOP - 4 * P, ASPACE_ACCESS_WRITE);
	procstatus_mem(&as, &info, &after);
	cr_assert_eq(after.rss, before.rss + 2);
	cr_assert_eq(after.stack, before.stack + 1);
	cr_assert_eq(after.size, before.size + 1); /* the stack grew; the mapping did not */
	cr_assert_eq(after.hwm, after.rss);
	cr_assert_eq(aspace_dontneed(&as, DEF + 2 * P, 5 * P), 0);
	procstatus_mem(&as, &info, &after);
	cr_assert_eq(after.rss, before.rss + 2 - 5);
	cr_assert_eq(after.rss_file, before.rss_file - 1);
	cr_assert_eq(after.hwm, before.rss + 2, "the high-water mark stays");
	touch(DEF + 4 * P, ASPACE_ACCESS_WRITE);
	procstatus_mem(&as, &info, &after);
	cr_assert_eq(after.hwm, before.rss + 2, "below the mark, it does not move");
}

Test(procstatus, a_small_buffer_gets_the_beginning_and_the_whole_length)
{
	static char big[4096];
	char small[40];
	long whole = procstatus_status(&as, &info, big, sizeof(big));
	long n = procstatus_status(&as, &info, small, sizeof(small));

	cr_assert_eq(n, whole);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert(!strncmp(small, big, sizeof(small) - 1));
}
