/*
 * Just enough ACPI to turn the machine off or reset it: the RSDP, the
 * RSDT/XSDT, the FADT (PM1 control blocks, reset register) and the \_S5
 * sleep type from the DSDT; the CPUs from the MADT and their NUMA nodes
 * from the SRAT; and any other table by its signature, for the drivers
 * that need one (the PCI bus's MCFG). Tables are read through the
 * direct map; every length and checksum is checked before use, and a table
 * that fails a check is ignored, never trusted.
 */
#pragma once

#include <stdint.h>

/* Finds and checks the tables. rsdp is physical (0: no ACPI). Returns 0, or
 * -ENOENT when poweroff through ACPI will not be possible. */
int acpi_init(uint64_t rsdp, uint32_t revision);
/*
 * acpi_find_table - the first table with signature (4 characters, "MCFG")
 * that the RSDT/XSDT lists and whose length and checksum check out, read in
 * place through the direct map (never to be written or freed); *length gets
 * its length in bytes, header included. rsdp and revision as for
 * acpi_init. Returns NULL when there is none. Boot time.
 */
const void *acpi_find_table(uint64_t rsdp, uint32_t revision, const char *signature,
			    uint32_t *length);
/*
 * acpi_ioapics - the physical register addresses of the I/O APICs the MADT
 * ("APIC") lists, up to max of them into addrs. Returns how many the table
 * lists (may exceed max; 0 without a valid MADT). Entries with a bad length
 * end the walk. Boot time.
 */
unsigned acpi_ioapics(uint64_t rsdp, uint32_t revision, uint64_t *addrs, unsigned max);
/*
 * acpi_cpus - the local APIC IDs of the processors the MADT lists as
 * usable: Processor Local APIC (type 0, 8 bytes) and Processor Local x2APIC
 * (type 9, 16 bytes) entries whose flags say enabled (bit 0) or online
 * capable (bit 1), in table order, each ID once (an ID both entry kinds list
 * counts once), the first max of them into ids. Returns how many the
 * table lists (may exceed max: the first max are stored; 0 without a
 * valid MADT). Entries with a bad length end the walk. Boot time.
 */
unsigned acpi_cpus(uint64_t rsdp, uint32_t revision, uint32_t *ids, unsigned max);
/* The most NUMA nodes acpi_cpu_nodes numbers (the vDSO's getcpu carries a
 * node in 8 bits). */
#define ACPI_MAX_NODES 256
/*
 * acpi_cpu_nodes - the NUMA node of each of the n CPUs whose local APIC IDs
 * are ids[], from the SRAT: nodes[i] gets ids[i]'s node, 0 for a CPU the
 * SRAT does not list. Nodes are numbered as Linux numbers them, so an app
 * sees the same numbers as there: the proximity domains of the enabled
 * processor affinity entries (local APIC, type 0, and local x2APIC, type
 * 2), in the order they first appear in the table, from 0. A CPU listed in
 * both forms keeps the first; a domain past the ACPI_MAX_NODES-th is not
 * numbered and its CPUs stay on node 0. Entries with a bad length end the
 * walk. Returns how many nodes were numbered (those of CPUs not in ids
 * too): 0 without a valid SRAT. Boot time.
 */
unsigned acpi_cpu_nodes(uint64_t rsdp, uint32_t revision, const uint32_t *ids, unsigned n,
			unsigned *nodes);
/* The same over an SRAT in memory: srat and length (header included) as
 * acpi_find_table returns them, its checksum already checked. */
unsigned acpi_srat_cpu_nodes(const void *srat, uint32_t length, const uint32_t *ids, unsigned n,
			     unsigned *nodes);
/* Enters S5. Returns only when that did not work. */
void acpi_poweroff(void);
/* Writes the FADT reset register when it has one. Returns if that did not work. */
void acpi_reset(void);
