/*
 * The SRAT's CPU nodes (drivers/acpi.c, acpi_srat_cpu_nodes) over tables
 * built here, entry by entry: Linux's numbering (proximity domains in the
 * order the enabled processor entries first name them), both entry forms,
 * the revision 1 domain width, and what ends or skips the walk.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "drivers/acpi.h"

#define HEADER 48 /* the SDT header and the SRAT's 12 reserved bytes */

static uint8_t table[64 * 1024];
static uint32_t length;

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A fresh SRAT of revision rev, no entries yet (the parser is handed a
 * table whose checksum acpi_find_table checked, so none is made here). */
static void start(uint8_t rev)
{
	memset(table, 0, sizeof(table));
	memcpy(table, "SRAT", 4);
	table[8] = rev;
	length = HEADER;
	put32(table + 4, length);
}

static uint8_t *add(uint8_t type, uint8_t len)
{
	uint8_t *e = table + length;

	cr_assert(length + len <= sizeof(table));
	e[0] = type;
	e[1] = len;
	length += len;
	put32(table + 4, length);
	return e;
}

/* A processor local APIC affinity entry (type 0). */
static void lapic(uint8_t id, uint32_t domain, int enabled)
{
	uint8_t *e = add(0, 16);

	e[2] = (uint8_t)domain;
	e[3] = id;
	put32(e + 4, enabled ? 1 : 0);
	e[9] = (uint8_t)(domain >> 8);
	e[10] = (uint8_t)(domain >> 16);
	e[11] = (uint8_t)(domain >> 24);
}

/* A processor local x2APIC affinity entry (type 2). */
static void x2apic(uint32_t id, uint32_t domain, int enabled)
{
	uint8_t *e = add(2, 24);

	put32(e + 4, domain);
	put32(e + 8, id);
	put32(e + 12, enabled ? 1 : 0);
}

/* A memory affinity entry (type 1): names a domain, but not a CPU's. */
static void memory(uint32_t domain)
{
	uint8_t *e = add(1, 40);

	put32(e + 2, domain);
	put32(e + 28, 1);
}

static unsigned nodes_of(const uint32_t *ids, unsigned n, unsigned *nodes)
{
	for (unsigned i = 0; i < n; i++)
		nodes[i] = 0xdead;
	return acpi_srat_cpu_nodes(table, length, ids, n, nodes);
}

/* The table built so far numbers `numbered` nodes and puts ids[i] on
 * want[i]. */
static void expect(const uint32_t *ids, unsigned n, unsigned numbered, const unsigned *want)
{
	unsigned nodes[8];

	cr_assert(n <= 8);
	cr_assert_eq(nodes_of(ids, n, nodes), numbered);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(nodes[i], want[i], "cpu %#x: node %u, not %u", ids[i], nodes[i],
			     want[i]);
}

Test(acpi, srat_domains_are_numbered_in_order_of_first_appearance)
{
	static const uint32_t ids[] = {0, 1, 2, 3};

	/* As QEMU lays out -numa node,nodeid=2,cpus=0 -numa
	 * node,nodeid=0,cpus=1 -numa node,nodeid=1,cpus=2-3: Linux calls
	 * them nodes 0, 1 and 2. */
	start(3);
	memory(7);
	lapic(0, 2, 1);
	lapic(1, 0, 1);
	lapic(2, 1, 1);
	lapic(3, 1, 1);
	expect(ids, 4, 3, (unsigned[]){0, 1, 2, 2});
}

Test(acpi, srat_wide_domains_count_from_revision_2)
{
	static const uint32_t ids[] = {5, 6};

	/* Domains 0x100 and 0x200 differ only above the low byte. */
	start(2);
	lapic(5, 0x100, 1);
	lapic(6, 0x200, 1);
	expect(ids, 2, 2, (unsigned[]){0, 1});
	/* In revision 1 only the low byte is the domain: one node. */
	table[8] = 1;
	expect(ids, 2, 1, (unsigned[]){0, 0});
}

Test(acpi, srat_disabled_entries_number_nothing)
{
	static const uint32_t ids[] = {0, 1};

	start(3);
	lapic(0, 9, 0); /* disabled: domain 9 gets no number */
	lapic(1, 4, 1);
	lapic(0, 9, 1);
	expect(ids, 2, 2, (unsigned[]){1, 0});
}

Test(acpi, srat_x2apic_entries_and_cpus_listed_twice)
{
	static const uint32_t ids[] = {0x100, 0, 1};

	start(3);
	lapic(0, 3, 1);
	x2apic(0x100, 8, 1);
	x2apic(0, 8, 1); /* CPU 0 again, in the other form: keeps node 0 */
	expect(ids, 3, 2, (unsigned[]){1, 0, 0});
}

Test(acpi, srat_cpus_it_does_not_list_are_on_node_0)
{
	static const uint32_t ids[] = {4, 1};

	/* Domains of CPUs not asked about are numbered all the same. */
	start(3);
	lapic(0, 6, 1);
	lapic(1, 5, 1);
	expect(ids, 2, 2, (unsigned[]){0, 1});
}

Test(acpi, srat_bad_entries_end_the_walk_and_short_tables_say_nothing)
{
	static const uint32_t ids[] = {0, 1, 2};
	unsigned nodes[3];

	start(3);
	lapic(0, 1, 1);
	add(0, 8); /* too short for a type 0 entry: skipped */
	lapic(1, 2, 1);
	add(0x30, 2)[1] = 0; /* a zero length ends the walk */
	lapic(2, 3, 1);
	expect(ids, 3, 2, (unsigned[]){0, 1, 0});

	/* An entry running past the table's end is not read. */
	start(3);
	lapic(0, 1, 1);
	lapic(1, 2, 1);
	cr_assert_eq(acpi_srat_cpu_nodes(table, length - 1, ids, 2, nodes), 1);
	cr_assert(nodes[0] == 0 && nodes[1] == 0);

	cr_assert_eq(acpi_srat_cpu_nodes(table, HEADER - 1, ids, 3, nodes), 0);
	cr_assert(nodes[0] == 0 && nodes[1] == 0 && nodes[2] == 0);
}

Test(acpi, srat_domains_past_the_last_node_stay_on_node_0)
{
	uint32_t ids[ACPI_MAX_NODES + 2];
	unsigned nodes[ACPI_MAX_NODES + 2];

	start(3);
	for (uint32_t i = 0; i < ACPI_MAX_NODES + 2; i++) {
		ids[i] = 0x1000 + i;
		x2apic(ids[i], 1000 + i, 1);
	}
	cr_assert_eq(nodes_of(ids, ACPI_MAX_NODES + 2, nodes), ACPI_MAX_NODES);
	cr_assert_eq(nodes[ACPI_MAX_NODES - 1], ACPI_MAX_NODES - 1);
	cr_assert_eq(nodes[ACPI_MAX_NODES], 0);
	cr_assert_eq(nodes[ACPI_MAX_NODES + 1], 0);
}
