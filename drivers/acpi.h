/*
 * Just enough ACPI to turn the machine off or reset it: the RSDP, the
 * RSDT/XSDT, the FADT (PM1 control blocks, reset register) and the \_S5
 * sleep type from the DSDT. Tables are read through the direct map; every
 * length and checksum is checked before use, and a table that fails a check
 * is ignored, never trusted.
 */
#pragma once

#include <stdint.h>

/* Finds and checks the tables. rsdp is physical (0: no ACPI). Returns 0, or
 * -ENOENT when poweroff through ACPI will not be possible. */
int acpi_init(uint64_t rsdp, uint32_t revision);
/* Enters S5. Returns only when that did not work. */
void acpi_poweroff(void);
/* Writes the FADT reset register when it has one. Returns if that did not work. */
void acpi_reset(void);
