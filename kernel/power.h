/*
 * What the machine does when Solo is done: power off, reboot or halt after
 * the app ends (boot.cfg on_exit), and stop after a panic. None of these
 * print after the final "solo: exit N" / "solo: panic:" line unless the
 * requested action failed.
 */
#pragma once

#include <stdint.h>

#include <solo/bootinfo.h>

#include "kernel/bootcfg.h"

/* hypervisor: CPUID says we run in a VM (enables the QEMU debug-exit port). */
void power_init(uint64_t rsdp, uint32_t rsdp_revision, int hypervisor);
/* Maps the firmware's runtime regions (from the boot memory map) and finds
 * ResetSystem in the runtime services table (physical). Returns 0, or
 * -ENOENT when the firmware offers none (power-off then uses ACPI). */
int power_init_uefi(uint64_t runtime_services, const struct solo_mem_region *map, unsigned count);
/* boot.cfg poweroff=acpi: leave the firmware out of power-off and reboot. */
void power_prefer_acpi(void);
_Noreturn void power_finish(enum bootcfg_on_exit action);
/* After a panic: end QEMU at once when under a hypervisor, otherwise halt
 * with the report left on screen for a person to read. */
_Noreturn void power_stop_after_panic(void);
