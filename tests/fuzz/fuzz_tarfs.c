/*
 * Fuzzer for fs/tarfs.c: tarfs_unpack of the input as rootfs.tar into a
 * fresh tmpfs over the unit tests' fake physical memory (mm_arena.h), as
 * tests/unit/test_tarfs.c sets one up. Checked after every input: a
 * refused archive made nothing (tarfs.h: "a bad archive changes nothing")
 * and says why; an accepted one made at most one inode per member plus
 * the directories its paths name; and after tmpfs_unmount every page and
 * every kmalloc block is back (palloc_check, the allocators' statistics).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/tarfs.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "fuzz.h"
#include "kernel/abi/errno.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/vm.h"
#include "mm_arena.h"

#define FUZZ_TARFS_MAX (32u << 10)

/* mm/ refers to the kernel's address space; nothing here maps through it
 * (tests/unit/test_valloc.c defines it so for the unit tests). */
struct vm_ctx kernel_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The default layout's 112 MiB would make palloc_check (run after
	 * every input) the fuzzer's main cost; 16 MiB is ample for the tree
	 * of FUZZ_TARFS_MAX bytes of archive. */
	const struct palloc_range r[] = {
	    {MM_TEST_LOW_BASE, (MM_TEST_LOW_END - MM_TEST_LOW_BASE) / PAGE_SIZE},
	    {MM_TEST_RAM_BASE, (16ul << 20) / PAGE_SIZE},
	};

	(void)argc;
	(void)argv;
	mm_test_setup_ranges(r, 2);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct palloc_stats before = mm_test_palloc_stats();
	struct kmalloc_stats kbefore = mm_test_kmalloc_stats();
	struct inode *root;
	struct tmpfs_usage use;
	char error[128];

	/* Bounds the inodes an archive can ask for below the tmpfs's cap, so
	 * -ENOSPC is never right (see below). */
	if (size > FUZZ_TARFS_MAX)
		return 0;

	/* The archive as the kernel has it: page-aligned, exactly sized (so
	 * ASan sees a read past it), unchanged while the tree lives. */
	uint8_t *image = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);
	FUZZ_ASSERT(image || !size);
	if (size)
		memcpy(image, data, size);

	FUZZ_ASSERT(tmpfs_mount(64ull << 20, 1, 0, &root) == 0);
	vfs_set_root(root);
	memset(error, 'x', sizeof(error));
	long n = tarfs_unpack(image, size, root, error, sizeof(error));
	FUZZ_ASSERT(memchr(error, '\0', sizeof(error)));
	tmpfs_usage(root, &use);
	if (n < 0) {
		/* 64 MiB of tmpfs (16384 inodes) never runs out for 32 KiB of
		 * archive (64 members, 128 components each at most): only
		 * -EINVAL is right here. */
		FUZZ_ASSERT(n == -EINVAL);
		FUZZ_ASSERT(error[0]);
		FUZZ_ASSERT(use.inodes == 1 && use.used_bytes == 0);
	} else {
		/* Each member is one 512-byte header at least, and names at most
		 * its own object plus one directory per path component (< 128). */
		FUZZ_ASSERT((size_t)n <= size / 512);
		FUZZ_ASSERT(use.inodes <= 1 + (uint64_t)n * 129);
		FUZZ_ASSERT(n > 0 || use.inodes == 1);
	}
	tmpfs_unmount(root);
	free(image);

	/* kmalloc may keep emptied slabs: a page is either free again or
	 * held by kmalloc with no live block in it. */
	struct palloc_stats after = mm_test_palloc_stats();
	struct kmalloc_stats kafter = mm_test_kmalloc_stats();
	FUZZ_ASSERT(kafter.live_allocations == kbefore.live_allocations);
	FUZZ_ASSERT(kafter.bytes_in_use == kbefore.bytes_in_use);
	FUZZ_ASSERT(after.free_pages + kafter.pages_held == before.free_pages + kbefore.pages_held);
	FUZZ_ASSERT(after.low_free_pages == before.low_free_pages);
	FUZZ_ASSERT(palloc_check() == 0);
	return 0;
}
