/*
 * Fuzzer for drivers/acpi.c: acpi_init, acpi_find_table, acpi_ioapics,
 * acpi_cpus and acpi_cpu_nodes over firmware tables in memory. The input is
 * physical memory from FUZZ_ACPI_BASE on, with the RSDP at its start; every
 * physical address the tables name is followed through the direct map, as
 * in the kernel.
 *
 * The direct map here is a 4 GiB reservation with no access except the
 * input's own pages; vm_lookup (the kernel's page-table walk, which acpi.c
 * asks before it reads) answers "mapped" for exactly those pages. So a
 * table pointer the code follows without asking, or past what it asked
 * for, faults at once; what it asks for and is refused, it must ignore.
 * What comes back must lie in the input and check out (length, checksum,
 * signature), as acpi.h promises. Port I/O (poweroff, reset) is not run.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/acpi.h"
#include "fuzz.h"
#include "kernel/abi/errno.h"
#include "kernel/kprintf.h"
#include "mm/phys.h"
#include "mm/vm.h"

#define RESERVED (4ull << 30)

uintptr_t mm_direct_map_offset;
struct vm_ctx kernel_ctx;
static uint64_t mapped_end; /* physical: [FUZZ_ACPI_BASE, mapped_end) is mapped */

int vm_lookup(const struct vm_ctx *ctx, vaddr_t va, paddr_t *pa, unsigned *flags)
{
	uint64_t phys = va - mm_direct_map_offset;

	FUZZ_ASSERT(ctx == &kernel_ctx);
	if (phys < FUZZ_ACPI_BASE || phys >= mapped_end)
		return -ENOENT;
	if (pa)
		*pa = phys & ~(PAGE_SIZE - 1);
	if (flags)
		*flags = 0;
	return 0;
}

void kprintf(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

static void check_table(const uint8_t *t, uint32_t length, const char *sig)
{
	const uint8_t *lo = phys_to_virt(FUZZ_ACPI_BASE), *hi = phys_to_virt(mapped_end);
	uint8_t sum = 0;

	FUZZ_ASSERT(t >= lo && t < hi && length >= 36 && length <= (uint64_t)(hi - t));
	FUZZ_ASSERT(!memcmp(t, sig, 4));
	for (uint32_t i = 0; i < length; i++)
		sum += t[i];
	FUZZ_ASSERT(sum == 0);
	FUZZ_ASSERT(!memcmp(t + 4, &length, 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sigs[] = {"FACP", "MCFG", "APIC", "DSDT", "XSDT", "SRAT"};

	if (size > FUZZ_ACPI_MAX)
		return 0;
	if (!mm_direct_map_offset) {
		void *p = mmap(NULL, RESERVED, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		FUZZ_ASSERT(p != MAP_FAILED);
		mm_direct_map_offset = (uintptr_t)p;
	}
	uint8_t *window = phys_to_virt(FUZZ_ACPI_BASE);
	size_t bytes = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (!bytes)
		bytes = PAGE_SIZE;
	FUZZ_ASSERT(!mprotect(window, bytes, PROT_READ | PROT_WRITE));
	memcpy(window, data, size);
	memset(window + size, 0, bytes - size);
	/* The code only reads firmware memory. */
	FUZZ_ASSERT(!mprotect(window, bytes, PROT_READ));
	mapped_end = FUZZ_ACPI_BASE + bytes;

	for (uint32_t revision = 0; revision <= 2; revision += 2) {
		int r = acpi_init(FUZZ_ACPI_BASE, revision);
		FUZZ_ASSERT(r == 0 || r == -ENOENT);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			uint32_t length = 0xdeadbeef;
			const uint8_t *t =
			    acpi_find_table(FUZZ_ACPI_BASE, revision, sigs[i], &length);
			if (t)
				check_table(t, length, sigs[i]);
			else
				FUZZ_ASSERT(length == 0xdeadbeef);
		}
		/* The I/O APICs: only from a MADT that checks out, never more
		 * written than asked for, the count no larger than the entries
		 * a table of that length can hold. */
		uint64_t addrs[3] = {0, 0, ~0ull};
		uint32_t madt_length = 0;
		unsigned n = acpi_ioapics(FUZZ_ACPI_BASE, revision, addrs, 2);
		if (!acpi_find_table(FUZZ_ACPI_BASE, revision, "APIC", &madt_length))
			FUZZ_ASSERT(n == 0);
		else
			FUZZ_ASSERT(n <= madt_length / 12);
		FUZZ_ASSERT(addrs[2] == ~0ull);
		for (unsigned i = n; i < 2; i++)
			FUZZ_ASSERT(addrs[i] == 0);
		for (unsigned i = 0; i < n && i < 2; i++)
			FUZZ_ASSERT(addrs[i] <= UINT32_MAX);
		/* The CPUs: only from a MADT that checks out, at most max
		 * stored (nothing past it), no more than 8-byte entries fit,
		 * each ID once; the count past max (entries looked at again)
		 * is the count a larger buffer gives, which stores the same
		 * first ones. */
		uint32_t ids[4] = {0, 0, 0, 0xfeedface};
		unsigned listed = acpi_cpus(FUZZ_ACPI_BASE, revision, ids, 3);
		unsigned c = listed < 3 ? listed : 3;
		FUZZ_ASSERT(ids[3] == 0xfeedface);
		if (!madt_length)
			FUZZ_ASSERT(listed == 0);
		else
			FUZZ_ASSERT(listed <= madt_length / 8);
		for (unsigned i = 0; i < c; i++)
			for (unsigned j = i + 1; j < c; j++)
				FUZZ_ASSERT(ids[i] != ids[j]);
		static uint32_t many[FUZZ_ACPI_MAX / 8];
		unsigned all = acpi_cpus(FUZZ_ACPI_BASE, revision, many, FUZZ_ACPI_MAX / 8);
		FUZZ_ASSERT(all == listed && !memcmp(many, ids, c * sizeof(ids[0])));
		/* The CPUs' nodes: only from an SRAT that checks out, one
		 * per CPU and nothing past them, each below the count of
		 * nodes numbered, which no more entries than fit can name. */
		unsigned nodes[4] = {7, 7, 7, 0xfeedface};
		uint32_t srat_length = 0;
		unsigned numbered = acpi_cpu_nodes(FUZZ_ACPI_BASE, revision, ids, c, nodes);
		FUZZ_ASSERT(nodes[3] == 0xfeedface && numbered <= ACPI_MAX_NODES);
		if (!acpi_find_table(FUZZ_ACPI_BASE, revision, "SRAT", &srat_length))
			FUZZ_ASSERT(numbered == 0);
		else
			FUZZ_ASSERT(numbered <= srat_length / 16);
		for (unsigned i = 0; i < c; i++)
			FUZZ_ASSERT(nodes[i] == 0 || nodes[i] < numbered);
		for (unsigned i = c; i < 3; i++)
			FUZZ_ASSERT(nodes[i] == 7);
	}
	FUZZ_ASSERT(!acpi_find_table(0, 2, "FACP", &(uint32_t){0}));
	FUZZ_ASSERT(!mprotect(window, bytes, PROT_NONE));
	return 0;
}
