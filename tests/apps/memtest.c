/*
 * Test app for the app's memory: demand paging, heap, fixed and physical
 * mappings, stack growth, and the faults that must kill the app. argv[1]
 * names the case; each case prints what it saw and exits 0 when the kernel
 * behaved, 1 when it did not (the boot test also reads the lines).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solo.h"

#define PAGE 4096ul
#define MiB  (1ul << 20)

static int failures;

static void check(int ok, const char *what)
{
	printf("memtest: %s: %s\n", what, ok ? "ok" : "FAILED");
	if (!ok)
		failures++;
}

static struct solo_mem_stats stats(void)
{
	struct solo_mem_stats s;

	if (solo_mem_stats(&s))
		check(0, "mem_stats");
	return s;
}

static int demand(void)
{
	struct solo_mem_stats before = stats();
	struct solo_range r = solo_map_memory(0, 0, 64 * MiB, SOLO_MAP_WRITE);
	check(!r.error && r.base, "map 64 MiB");
	struct solo_mem_stats mapped = stats();
	for (int i = 0; i < 10; i++)
		((volatile char *)r.base)[i * MiB + 123] = (char)i;
	struct solo_mem_stats touched = stats();
	uint64_t reserved =
	    mapped.reserved_pages[SOLO_REGION_MAPPING] - before.reserved_pages[SOLO_REGION_MAPPING];
	uint64_t backed =
	    touched.backed_pages[SOLO_REGION_MAPPING] - mapped.backed_pages[SOLO_REGION_MAPPING];
	printf("memtest: reserved %lu pages, touched 10, backed %lu more, system free %lu -> %lu\n",
	       (unsigned long)reserved, (unsigned long)backed,
	       (unsigned long)mapped.system_free_pages, (unsigned long)touched.system_free_pages);
	check(reserved == 64 * MiB / PAGE, "64 MiB reserved");
	check(mapped.backed_pages[SOLO_REGION_MAPPING] == before.backed_pages[SOLO_REGION_MAPPING],
	      "nothing backed by the map call itself");
	check(backed == 10, "exactly 10 pages backed after 10 touches");
	check(touched.system_free_pages <= mapped.system_free_pages - 10,
	      "system free pages dropped");
	int zero = 1;
	for (size_t i = 0; i < PAGE; i++)
		zero &= ((volatile char *)r.base)[64 * MiB - PAGE + i] == 0;
	check(zero, "fresh pages read as zero");
	check(solo_unmap_memory(r) == 0, "unmap");
	struct solo_mem_stats after = stats();
	check(after.reserved_pages[SOLO_REGION_MAPPING] ==
		      before.reserved_pages[SOLO_REGION_MAPPING] &&
		  after.backed_pages[SOLO_REGION_MAPPING] ==
		      before.backed_pages[SOLO_REGION_MAPPING],
	      "unmap returns reservation and pages");
	check(after.system_free_pages >= touched.system_free_pages + 11,
	      "pages back in the system");
	return failures;
}

static int heap(void)
{
	struct solo_mem_stats before = stats();
	struct solo_range r = solo_increase_heap(MiB, SOLO_MAP_WRITE);
	check(!r.error, "increase_heap 1 MiB");
	for (int i = 0; i < 5; i++)
		((volatile char *)r.base)[i * PAGE] = 1;
	struct solo_mem_stats grown = stats();
	printf("memtest: heap reserved %lu -> %lu pages, backed %lu -> %lu\n",
	       (unsigned long)before.reserved_pages[SOLO_REGION_HEAP],
	       (unsigned long)grown.reserved_pages[SOLO_REGION_HEAP],
	       (unsigned long)before.backed_pages[SOLO_REGION_HEAP],
	       (unsigned long)grown.backed_pages[SOLO_REGION_HEAP]);
	check(grown.reserved_pages[SOLO_REGION_HEAP] ==
		  before.reserved_pages[SOLO_REGION_HEAP] + 256,
	      "heap grew by 256 pages");
	check(grown.backed_pages[SOLO_REGION_HEAP] == before.backed_pages[SOLO_REGION_HEAP] + 5,
	      "5 heap pages backed");
	check(solo_decrease_heap(MiB) == 0, "decrease_heap 1 MiB");
	struct solo_mem_stats shrunk = stats();
	check(shrunk.reserved_pages[SOLO_REGION_HEAP] == before.reserved_pages[SOLO_REGION_HEAP] &&
		  shrunk.backed_pages[SOLO_REGION_HEAP] == before.backed_pages[SOLO_REGION_HEAP],
	      "heap back to its size");
	check(shrunk.system_free_pages >= grown.system_free_pages + 5, "heap pages returned");
	check(solo_decrease_heap(1ul << 40) < 0, "decrease_heap beyond the heap fails");
	check(solo_increase_heap(PAGE + 1, SOLO_MAP_WRITE).error < 0, "unaligned size fails");
	check(solo_increase_heap(PAGE, SOLO_MAP_WRITE | SOLO_MAP_EXEC).error < 0,
	      "executable heap refused");
	/* musl's malloc uses brk: it must work on top of the same heap. */
	char *p = malloc(300000);
	check(p != NULL, "malloc(300000) through brk");
	if (p) {
		memset(p, 0x5a, 300000);
		free(p);
	}
	return failures;
}

static int fixed(void)
{
	void *want = (void *)0x200000000000ul;
	struct solo_range r = solo_map_memory(0, want, 16 * PAGE, SOLO_MAP_WRITE);
	check(!r.error && r.base == want, "map at a fixed address");
	check(solo_map_memory(0, want, PAGE, SOLO_MAP_WRITE).error == -17, "same address: -EEXIST");
	check(solo_map_memory(0, (void *)0x1000, PAGE, SOLO_MAP_WRITE).error < 0,
	      "null guard refused");
	check(solo_map_memory(0, (void *)0xffff800000000000ul, PAGE, SOLO_MAP_WRITE).error < 0,
	      "kernel half refused");
	check(solo_map_memory(0, 0, PAGE, SOLO_MAP_WRITE | SOLO_MAP_EXEC).error == -22,
	      "W+X: -EINVAL");
	check(solo_map_memory(0, 0, 100, SOLO_MAP_WRITE).error == -22, "unaligned size: -EINVAL");
	check(solo_map_memory(0, 0, 0, SOLO_MAP_WRITE).error == -22, "zero size: -EINVAL");
	check(solo_map_memory(0, 0, PAGE, 0x80).error == -22, "unknown flag: -EINVAL");
	check(solo_map_memory(0, 0, 1ul << 47, SOLO_MAP_WRITE).error < 0,
	      "128 TiB (more than the default region) refused");
	((volatile char *)r.base)[5 * PAGE] = 7;
	struct solo_range middle = {(char *)r.base + 4 * PAGE, 4 * PAGE, 0};
	check(solo_unmap_memory(middle) == 0, "unmap the middle of a mapping");
	check(((volatile char *)r.base)[12 * PAGE] == 0, "the rest still there");
	struct solo_range again =
	    solo_map_memory(0, (char *)r.base + 4 * PAGE, 4 * PAGE, SOLO_MAP_WRITE);
	check(!again.error && ((volatile char *)again.base)[PAGE] == 0, "remapped hole is fresh");
	struct solo_range bad = {(void *)0x7ffffff00000ul, PAGE, 0};
	check(solo_unmap_memory(bad) < 0, "unmapping the stack refused");
	check(solo_mem_stats((struct solo_mem_stats *)0xffffffff80000000ul) == -14,
	      "mem_stats to a kernel pointer: -EFAULT");
	return failures;
}

static int phys(void)
{
	/* Free RAM high in a 512 MiB machine: claimed, zeroed, given back. */
	struct solo_range ram = solo_map_memory(0x18000000, 0, 16 * PAGE, SOLO_MAP_WRITE);
	check(!ram.error, "map free RAM at 0x18000000");
	if (!ram.error) {
		int zero = 1;
		for (size_t i = 0; i < 16 * PAGE; i++)
			zero &= ((volatile unsigned char *)ram.base)[i] == 0;
		check(zero, "claimed RAM is zeroed");
		check(solo_map_memory(0x18000000, 0, PAGE, SOLO_MAP_WRITE).error < 0,
		      "the same RAM twice refused");
		check(solo_unmap_memory(ram) == 0, "unmap RAM");
	}
	check(solo_map_memory(0, 0, PAGE, SOLO_MAP_WRITE).error == 0, "phys 0 means demand memory");
	check(solo_map_memory(0x1000, 0, PAGE, SOLO_MAP_WRITE).error < 0, "low memory refused");
	check(solo_map_memory(0x18000001, 0, PAGE, SOLO_MAP_WRITE).error == -22,
	      "unaligned phys: -EINVAL");
	/* The HPET: device memory the kernel does not use. */
	struct solo_range hpet = solo_map_memory(0xfed00000, 0, PAGE, 0);
	check(!hpet.error, "map the HPET registers");
	if (!hpet.error) {
		uint64_t caps = *(volatile uint64_t *)hpet.base;
		printf("memtest: HPET vendor %#lx, period %lu fs\n",
		       (unsigned long)((caps >> 16) & 0xffff), (unsigned long)(caps >> 32));
		check((caps >> 32) != 0, "HPET registers readable");
	}
	/* What the kernel uses is never the app's (q35's addresses; the boot
	 * test checks the log names the same ECAM base). */
	check(solo_map_memory(0xfee00000, 0, PAGE, 0).error == -1, "the local APIC: -EPERM");
	check(solo_map_memory(0xfeeff000, 0, PAGE, 0).error == -1, "MSI range: -EPERM");
	check(solo_map_memory(0xfec00000, 0, PAGE, 0).error == -1, "the I/O APIC: -EPERM");
	check(solo_map_memory(0xb0000000, 0, PAGE, 0).error == -1, "PCI ECAM: -EPERM");
	check(solo_map_memory(0xbffff000, 0, PAGE, 0).error == -1, "ECAM's last page: -EPERM");
	check(solo_map_memory(0xafff0000, 0, 32 * PAGE, 0).error == -1,
	      "a range reaching into ECAM: -EPERM");
	return failures;
}

/* Free RAM at a given physical address (e.g. above 4 GiB): claimed, used, returned. */
static int phys_at(uint64_t phys)
{
	struct solo_range r = solo_map_memory(phys, 0, MiB, SOLO_MAP_WRITE);

	printf("memtest: map 1 MiB of RAM at %#lx: %ld\n", (unsigned long)phys, r.error);
	check(!r.error, "map RAM at the given physical address");
	if (r.error)
		return failures;
	volatile uint64_t *words = r.base;
	int zero = 1;
	for (size_t i = 0; i < MiB / 8; i++)
		zero &= words[i] == 0;
	check(zero, "claimed RAM is zeroed");
	for (size_t i = 0; i < MiB / 8; i++)
		words[i] = phys + i;
	int same = 1;
	for (size_t i = 0; i < MiB / 8; i++)
		same &= words[i] == phys + i;
	check(same, "written and read back");
	check(solo_unmap_memory(r) == 0, "unmap");
	return failures;
}

static unsigned long recurse(unsigned long depth, unsigned long limit)
{
	volatile char frame[4000];

	frame[0] = (char)depth;
	frame[3999] = (char)depth;
	if (depth >= limit)
		return depth;
	return recurse(depth + 1, limit) + frame[0] - frame[3999];
}

static int stack(void)
{
	struct solo_mem_stats before = stats();
	unsigned long d = recurse(0, 1500); /* ~6 MiB of the 8 MiB reserve */
	struct solo_mem_stats after = stats();
	printf("memtest: stack depth %lu, backed %lu -> %lu pages of %lu reserved\n", d,
	       (unsigned long)before.backed_pages[SOLO_REGION_STACK],
	       (unsigned long)after.backed_pages[SOLO_REGION_STACK],
	       (unsigned long)after.reserved_pages[SOLO_REGION_STACK]);
	check(before.backed_pages[SOLO_REGION_STACK] < 8, "stack starts nearly unbacked");
	check(after.backed_pages[SOLO_REGION_STACK] > 1400, "stack grew on faults");
	check(after.reserved_pages[SOLO_REGION_STACK] == 2048, "8 MiB reserve");
	return failures;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("memtest: %s\n", what);
	if (!strcmp(what, "demand"))
		return demand();
	if (!strcmp(what, "heap"))
		return heap();
	if (!strcmp(what, "fixed"))
		return fixed();
	if (!strcmp(what, "phys"))
		return phys();
	if (!strcmp(what, "stack"))
		return stack();
	if (!strcmp(what, "phys-at") && argc > 2)
		return phys_at(strtoull(argv[2], NULL, 0));
	if (!strcmp(what, "stack-overflow")) {
		recurse(0, 1ul << 30);
		return 1;
	}
	if (!strcmp(what, "exec-heap")) {
		struct solo_range heap = solo_increase_heap(PAGE, SOLO_MAP_WRITE);
		unsigned char *code = heap.base;
		code[0] = 0xc3; /* ret */
		((void (*)(void))code)();
		return 1;
	}
	if (!strcmp(what, "oom")) {
		struct solo_range r = solo_map_memory(0, 0, 1ul << 30, SOLO_MAP_WRITE);
		check(!r.error, "reserve 1 GiB");
		for (size_t off = 0; off < (1ul << 30); off += PAGE)
			((volatile char *)r.base)[off] = 1;
		return 1;
	}
	printf("memtest: unknown case\n");
	return 2;
}
