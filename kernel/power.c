/*
 * Power-off, reboot and halt.
 *
 * Power-off tries, in order: QEMU's isa-debug-exit port (only under a
 * hypervisor, where port 0xf4 is otherwise unused; QEMU then exits at once),
 * the firmware's ResetSystem (UEFI runtime services), ACPI S5, and finally
 * halting with a message, so the machine never hangs silently. Reboot tries
 * ResetSystem, the ACPI reset register, the 8042 keyboard controller, then a
 * triple fault. boot.cfg poweroff=acpi skips the firmware call.
 *
 * Runtime services are called in physical mode: Solo never calls
 * SetVirtualAddressMap, so the firmware's runtime code and data stay at
 * their physical addresses, identity-mapped in the kernel's view (whose
 * lower half is otherwise empty; the app has its own view). Runtime-code
 * regions hold whole PE images, data sections included, so they are mapped
 * writable and executable; runtime data is mapped NX.
 */
#include "kernel/power.h"

#include "drivers/acpi.h"
#include "kernel/arch/x86_64/portio.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/abi/errno.h"
#include "kernel/kprintf.h"
#include "mm/vm.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define QEMU_EXIT_DONE	     0x10 /* QEMU exits with status (v << 1) | 1 = 33 */
#define QEMU_EXIT_PANIC	     0x11 /* 35 */

#define EFI_RUNTIME_SIGNATURE	0x56524553544e5552ull /* "RUNTSERV" */
#define EFI_RESET_SYSTEM_OFFSET 104		      /* header, then the 11th pointer */
#define EFI_RESET_COLD		0
#define EFI_RESET_SHUTDOWN	2

typedef void(__attribute__((ms_abi)) * efi_reset_system_fn)(uint32_t type, uint64_t status,
							    uint64_t data_size, void *data);

static int under_hypervisor;
static int use_firmware = 1;
static efi_reset_system_fn efi_reset_system;

static int in_runtime_code(uint64_t addr, const struct solo_mem_region *map, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		if (map[i].type == SOLO_MEM_RUNTIME_CODE && addr >= map[i].base &&
		    addr - map[i].base < map[i].npages * PAGE_SIZE)
			return 1;
	}
	return 0;
}

int power_init_uefi(uint64_t runtime_services, const struct solo_mem_region *map, unsigned count)
{
	const uint64_t *table;

	if (!runtime_services)
		return -ENOENT;
	for (unsigned i = 0; i < count; i++) {
		unsigned flags;
		if (map[i].type == SOLO_MEM_RUNTIME_CODE)
			flags = VM_WRITE | VM_EXEC;
		else if (map[i].type == SOLO_MEM_RUNTIME_DATA)
			flags = VM_WRITE;
		else
			continue;
		int err = vm_map_range(&kernel_ctx, map[i].base, map[i].base,
				       map[i].npages * PAGE_SIZE, flags);
		if (err && err != -EEXIST)
			return err;
	}
	if (vm_lookup(&kernel_ctx, runtime_services, NULL, NULL))
		return -ENOENT;
	table = (const uint64_t *)runtime_services;
	if (table[0] != EFI_RUNTIME_SIGNATURE ||
	    !in_runtime_code(table[EFI_RESET_SYSTEM_OFFSET / 8], map, count))
		return -ENOENT;
	efi_reset_system = (efi_reset_system_fn)table[EFI_RESET_SYSTEM_OFFSET / 8];
	return 0;
}

void power_prefer_acpi(void)
{
	use_firmware = 0;
}

/* Returns only when the firmware did not reset or power off the machine. */
static void firmware_reset(uint32_t type)
{
	if (!use_firmware || !efi_reset_system)
		return;
	arch_switch_address_space(kernel_ctx.root); /* the firmware lives in this view */
	efi_reset_system(type, 0, 0, 0);
}

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
		firmware_reset(EFI_RESET_COLD);
		acpi_reset();
		for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
			;
		outb(0x64, 0xfe);
		triple_fault();
	case BOOTCFG_ON_EXIT_POWEROFF:
		break;
	}
	qemu_debug_exit(QEMU_EXIT_DONE);
	firmware_reset(EFI_RESET_SHUTDOWN);
	acpi_poweroff();
	kprintf("solo: poweroff did not work (no ACPI S5); halted, it is safe to switch off\n");
	cpu_halt_forever();
}

_Noreturn void power_stop_after_panic(void)
{
	qemu_debug_exit(QEMU_EXIT_PANIC);
	cpu_halt_forever();
}
