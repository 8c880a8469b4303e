/*
 * map_memory's physical policy (kernel/physpolicy.c) against a byte-level
 * model: a small physical space where each page has a type from a made-up
 * firmware map and a "kept" mark; a range's class is derived from its pages
 * one by one and compared with the policy's answer, for every range.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/abi/errno.h"
#include "kernel/physpolicy.h"

#define PAGE 4096ull

Test(physpolicy, a_pc_like_map)
{
	static const struct solo_mem_region map[] = {
	    {.base = 0x0, .npages = 0xa0, .type = SOLO_MEM_BOOT_SERVICES},
	    {.base = 0x100000, .npages = 0x7f00, .type = SOLO_MEM_USABLE},
	    {.base = 0x8000000, .npages = 0x10, .type = SOLO_MEM_ACPI_NVS},
	    {.base = 0xb0000000, .npages = 0x10000, .type = SOLO_MEM_MMIO},
	};

	physpolicy_reset();
	physpolicy_set_memmap(map, 4);
	cr_assert_eq(physpolicy_classify(0x200000, 16), ASPACE_PHYS_RAM);
	cr_assert_eq(physpolicy_classify(0x8000000, 1), ASPACE_PHYS_FORBIDDEN, "ACPI NVS");
	cr_assert_eq(physpolicy_classify(0x7fff000, 2), ASPACE_PHYS_FORBIDDEN, "RAM + NVS");
	cr_assert_eq(physpolicy_classify(0xb0000000, 1), ASPACE_PHYS_DEVICE, "MMIO");
	cr_assert_eq(physpolicy_classify(0xfed00000, 1), ASPACE_PHYS_DEVICE, "a window");
	cr_assert_eq(physpolicy_classify(0xa0000, 0x60), ASPACE_PHYS_DEVICE, "VGA hole");
	cr_assert_eq(physpolicy_classify(0x9f000, 2), ASPACE_PHYS_FORBIDDEN, "RAM + hole");
	/* The interrupt address range is never the app's, kept or not. */
	cr_assert_eq(physpolicy_classify(0xfee00000, 1), ASPACE_PHYS_FORBIDDEN);
	cr_assert_eq(physpolicy_classify(0xfeeff000, 1), ASPACE_PHYS_FORBIDDEN);
	cr_assert_eq(physpolicy_classify(0xfedff000, 2), ASPACE_PHYS_FORBIDDEN);
	cr_assert_eq(physpolicy_classify(0xfef00000, 1), ASPACE_PHYS_DEVICE);

	/* The kernel's own: the ECAM window, a NIC's BAR, the framebuffer. */
	cr_assert_eq(physpolicy_keep(0xb0000000, 0x10000000, "ECAM"), 0);
	cr_assert_eq(physpolicy_keep(0xc0001000, 0x1000, "nic"), 0);
	cr_assert_eq(physpolicy_keep(0x80000000, 0, "empty"), 0);
	cr_assert_eq(physpolicy_classify(0xb0000000, 1), ASPACE_PHYS_FORBIDDEN);
	cr_assert_eq(physpolicy_classify(0xbffff000, 1), ASPACE_PHYS_FORBIDDEN);
	cr_assert_eq(physpolicy_classify(0xc0000000, 1), ASPACE_PHYS_DEVICE);
	cr_assert_eq(physpolicy_classify(0xc0000000, 2), ASPACE_PHYS_FORBIDDEN, "ends in the BAR");
	cr_assert_eq(physpolicy_classify(0xc0002000, 1), ASPACE_PHYS_DEVICE);
	cr_assert_eq(physpolicy_classify(0xaffff000, 2), ASPACE_PHYS_FORBIDDEN, "into ECAM");
	cr_assert_eq(physpolicy_classify(0x80000000, 1), ASPACE_PHYS_DEVICE,
		     "size 0 keeps nothing");
	cr_assert_eq(physpolicy_classify(0x200000, 0), ASPACE_PHYS_FORBIDDEN, "no pages");
	cr_assert_eq(physpolicy_classify(0xfffffffffffff000ull, 2), ASPACE_PHYS_FORBIDDEN, "wraps");
}

Test(physpolicy, a_full_table_fails_closed)
{
	physpolicy_reset();
	for (unsigned i = 0; i < PHYSPOLICY_MAX_KEPT; i++)
		cr_assert_eq(physpolicy_keep(0x100000000ull + i * PAGE, PAGE, "bar"), 0);
	cr_assert_eq(physpolicy_classify(0x200000000ull, 1), ASPACE_PHYS_DEVICE);
	cr_assert_eq(physpolicy_keep(0x300000000ull, PAGE, "one too many"), -ENOMEM);
	cr_assert_eq(physpolicy_classify(0x200000000ull, 1), ASPACE_PHYS_FORBIDDEN,
		     "the lost range could be anywhere");
}

Test(physpolicy, a_keep_that_wraps_runs_to_the_top)
{
	physpolicy_reset();
	cr_assert_eq(physpolicy_keep(0xfffffffffff00000ull, 0x200000, "wraps"), 0);
	cr_assert_eq(physpolicy_classify(0xffffffffffffe000ull, 1), ASPACE_PHYS_FORBIDDEN);
	cr_assert_eq(physpolicy_classify(0xfffffffffff00000ull - PAGE, 1), ASPACE_PHYS_DEVICE);
}

/* Random maps and kept ranges over a 256-page space; every range's class
 * against the model's page-by-page verdict. */
enum page_kind { P_HOLE, P_RAM, P_MMIO, P_OTHER };

Test(physpolicy, random_maps_against_a_page_model)
{
	enum { NPAGES = 256 };
	const uint64_t base = 0x40000000; /* clear of the interrupt range */

	srand(7);
	for (int round = 0; round < 200; round++) {
		struct solo_mem_region map[16];
		unsigned kind[NPAGES] = {0}, kept[NPAGES] = {0}, nmap = 0;

		physpolicy_reset();
		for (unsigned p = 0; p < NPAGES && nmap < 16;) {
			unsigned len = 1 + rand() % 24, t = rand() % 5;
			if (p + len > NPAGES)
				len = NPAGES - p;
			if (t) {
				static const uint32_t types[] = {SOLO_MEM_USABLE, SOLO_MEM_LOADER,
								 SOLO_MEM_MMIO, SOLO_MEM_RESERVED};
				uint32_t type = types[t - 1];
				map[nmap++] = (struct solo_mem_region){
				    .base = base + p * PAGE, .npages = len, .type = type};
				for (unsigned i = p; i < p + len; i++)
					kind[i] = type == SOLO_MEM_MMIO	      ? P_MMIO
						  : type == SOLO_MEM_RESERVED ? P_OTHER
									      : P_RAM;
			}
			p += len;
		}
		physpolicy_set_memmap(map, nmap);
		for (int k = rand() % 4; k > 0; k--) {
			unsigned p = rand() % NPAGES, len = 1 + rand() % 8;
			physpolicy_keep(base + p * PAGE, len * PAGE, "kept");
			for (unsigned i = p; i < p + len && i < NPAGES; i++)
				kept[i] = 1;
		}
		for (unsigned p = 0; p < NPAGES; p++) {
			for (unsigned len = 1; p + len <= NPAGES; len += 1 + len / 4) {
				int ram = 0, device = 0, bad = 0;
				for (unsigned i = p; i < p + len; i++) {
					ram |= kind[i] == P_RAM;
					device |= kind[i] == P_HOLE || kind[i] == P_MMIO;
					bad |= kind[i] == P_OTHER || kept[i];
				}
				enum aspace_phys_class want = bad || (ram && device)
								  ? ASPACE_PHYS_FORBIDDEN
							      : ram ? ASPACE_PHYS_RAM
								    : ASPACE_PHYS_DEVICE;
				cr_assert_eq(physpolicy_classify(base + p * PAGE, len), want,
					     "round %d, pages %u+%u", round, p, len);
			}
		}
	}
}
