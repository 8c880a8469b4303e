/*
 * Power-off, reboot and halt.
 *
 * Power-off tries, in order: QEMU's isa-debug-exit port (only under a
 * hypervisor, where port 0xf4 is otherwise unused; QEMU then exits at once),
 * ACPI S5, and finally halting with a message, so the machine never hangs
 * silently. Reboot tries the ACPI reset register, the 8042 keyboard
 * controller, then a triple fault.
 */
#include "kernel/power.h"

#include "drivers/acpi.h"
#include "drivers/portio.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/kprintf.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define QEMU_EXIT_DONE	     0x10 /* QEMU exits with status (v << 1) | 1 = 33 */
#define QEMU_EXIT_PANIC	     0x11 /* 35 */

static int under_hypervisor;

void power_init(uint64_t rsdp, uint32_t rsdp_revision, int hypervisor)
{
	under_hypervisor = hypervisor;
	acpi_init(rsdp, rsdp_revision);
}

static void qemu_debug_exit(uint8_t value)
{
	if (under_hypervisor)
		outb(QEMU_DEBUG_EXIT_PORT, value);
}

static _Noreturn void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};

	__asm__ volatile("lidt %0; int3" : : "m"(empty));
	cpu_halt_forever();
}

_Noreturn void power_finish(enum bootcfg_on_exit action)
{
	cli();
	switch (action) {
	case BOOTCFG_ON_EXIT_HALT:
		cpu_halt_forever();
	case BOOTCFG_ON_EXIT_REBOOT:
		acpi_reset();
		for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
			;
		outb(0x64, 0xfe);
		triple_fault();
	case BOOTCFG_ON_EXIT_POWEROFF:
		break;
	}
	qemu_debug_exit(QEMU_EXIT_DONE);
	acpi_poweroff();
	kprintf("solo: poweroff did not work (no ACPI S5); halted, it is safe to switch off\n");
	cpu_halt_forever();
}

_Noreturn void power_stop_after_panic(void)
{
	qemu_debug_exit(QEMU_EXIT_PANIC);
	cpu_halt_forever();
}
