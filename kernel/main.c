/*
 * kmain: from the stub's handoff to the app in ring 3.
 *
 * Order matters: the serial console first (so anything after can report),
 * then the CPU tables, then palloc (it only needs the stub's direct map),
 * the kernel's own page tables, the heap, and finally the app. The stub's
 * identity map disappears with the switch to the kernel's tables: from then
 * on physical memory is reached through the direct map only.
 */
#include <solo/bootinfo.h>

#include "drivers/serial.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/bootcfg.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "kernel/power.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/phys.h"
#include "mm/vm.h"

#define SOLO_VERSION   "0.1"
#define MAX_REGIONS    1024
#define LOW_MEMORY_END (1ull << 20)

void kmain(uint64_t boot_info_phys);

struct vm_ctx kernel_ctx;

static struct boot_info boot;
static struct solo_mem_region memmap[MAX_REGIONS];
static struct palloc_range free_ranges[MAX_REGIONS];

extern char __kernel_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[], __boot_stack_guard[], __boot_stack_bottom[];

static void take_boot_info(uint64_t phys)
{
	const struct boot_info *bi = (const void *)(SOLO_DIRECT_MAP_BASE + phys);

	if (bi->magic != SOLO_BOOT_MAGIC)
		panic("boot_info: bad magic %#lx: kernel.elf was not started by Solo's stub",
		      bi->magic);
	if (bi->version != SOLO_BOOT_VERSION || bi->size != sizeof(struct boot_info))
		panic("boot_info: version %u size %u, kernel expects %u/%zu: stub and kernel "
		      "are from different builds",
		      bi->version, bi->size, SOLO_BOOT_VERSION, sizeof(struct boot_info));
	boot = *bi;
	if (boot.memmap_entry_size != sizeof(struct solo_mem_region) || !boot.memmap_count ||
	    boot.memmap_count > MAX_REGIONS)
		panic("boot_info: memory map of %u entries of %u bytes is not usable",
		      boot.memmap_count, boot.memmap_entry_size);
	if (boot.module_count > SOLO_MAX_MODULES)
		panic("boot_info: %u modules, at most %d", boot.module_count, SOLO_MAX_MODULES);
	memcpy(memmap, (const void *)(SOLO_DIRECT_MAP_BASE + boot.memmap_phys),
	       boot.memmap_count * sizeof(struct solo_mem_region));
}

static int free_after_boot(uint32_t type)
{
	/* Everything LOADER holds (kernel, modules, boot_info, the stub's
	 * tables) stays reserved here; reclaiming it is the memory manager's. */
	return type == SOLO_MEM_USABLE || type == SOLO_MEM_BOOT_SERVICES;
}

static void init_palloc(void)
{
	size_t n = 0;

	for (unsigned i = 0; i < boot.memmap_count; i++) {
		const struct solo_mem_region *r = &memmap[i];
		paddr_t base = r->base, end = r->base + r->npages * PAGE_SIZE;

		if (!free_after_boot(r->type) || end <= base)
			continue;
		if (base == 0)
			base = PAGE_SIZE; /* physical page 0 is never handed out */
		if (end > base)
			free_ranges[n++] = (struct palloc_range){base, (end - base) / PAGE_SIZE};
	}
	if (palloc_init(free_ranges, n))
		panic("palloc_init: no memory for the allocator's own metadata");
}

static int direct_mapped(uint32_t type)
{
	return type != SOLO_MEM_MMIO && type != SOLO_MEM_UNUSABLE;
}

static void map_or_die(int err, const char *what)
{
	if (err && err != -17 /* -EEXIST: already covered */)
		panic("kernel page tables: cannot map %s (error %d)", what, err);
}

static void map_kernel_part(const char *start, const char *end, unsigned flags, const char *what)
{
	vaddr_t va = (vaddr_t)start;
	paddr_t pa = boot.kernel_phys + (va - boot.kernel_virt);

	map_or_die(vm_map_range(&kernel_ctx, va, pa, (vaddr_t)end - va, flags | VM_GLOBAL), what);
}

static void build_kernel_page_tables(void)
{
	if (vm_ctx_init_kernel(&kernel_ctx))
		panic("kernel page tables: no memory for the PML4");
	for (unsigned i = 0; i < boot.memmap_count; i++) {
		const struct solo_mem_region *r = &memmap[i];
		if (direct_mapped(r->type))
			map_or_die(vm_map_range(&kernel_ctx, SOLO_DIRECT_MAP_BASE + r->base,
						r->base, r->npages * PAGE_SIZE,
						VM_WRITE | VM_GLOBAL),
				   "the direct map");
	}
	/* Legacy BIOS areas (an RSDP may sit there) even when the map omits them. */
	for (paddr_t pa = 0; pa < LOW_MEMORY_END; pa += PAGE_SIZE)
		map_or_die(vm_map(&kernel_ctx, SOLO_DIRECT_MAP_BASE + pa, pa, VM_WRITE | VM_GLOBAL),
			   "low memory");

	if ((vaddr_t)__kernel_start != boot.kernel_virt)
		panic("kernel linked at %p but loaded for %#lx", __kernel_start, boot.kernel_virt);
	map_kernel_part(__text_start, __text_end, VM_EXEC, "kernel text");
	map_kernel_part(__rodata_start, __rodata_end, 0, "kernel rodata");
	/* The page below the boot stack stays unmapped: an overflow faults. */
	map_kernel_part(__data_start, __boot_stack_guard, VM_WRITE, "kernel data");
	map_kernel_part(__boot_stack_bottom, __data_end, VM_WRITE, "kernel bss");

	if (vm_kernel_reserve_top_level(&kernel_ctx, VM_KERNEL_RANGES_BASE))
		panic("kernel page tables: no memory for the kernel ranges table");
	arch_switch_address_space(kernel_ctx.root);
}

static const struct solo_module *find_module(uint32_t kind)
{
	for (unsigned i = 0; i < boot.module_count; i++) {
		if (boot.modules[i].kind == kind)
			return &boot.modules[i];
	}
	return NULL;
}

static void warn_bootcfg(unsigned line, const char *message, const char *detail)
{
	kprintf("solo: boot.cfg line %u: %s: %s\n", line, message, detail);
}

static void read_boot_config(struct boot_config *cfg)
{
	const struct solo_module *m = find_module(SOLO_MODULE_CONFIG);
	char *text = m ? kmalloc(m->size + 1) : NULL;

	if (m && !text)
		panic("kmalloc: no memory for boot.cfg (%lu bytes)", m->size);
	if (text) {
		memcpy(text, phys_to_virt(m->phys), m->size);
		text[m->size] = '\0';
	}
	bootcfg_parse(text ? text : (char[1]){0}, text ? m->size : 0, cfg, warn_bootcfg);
}

static void print_memory_summary(void)
{
	struct palloc_stats st;

	palloc_get_stats(&st);
	kprintf("solo: memory: %lu MiB usable, %lu MiB free, largest free run %lu MiB\n",
		(st.total_pages + st.low_total_pages) * PAGE_SIZE >> 20,
		(st.free_pages + st.low_free_pages) * PAGE_SIZE >> 20,
		st.largest_free_run * PAGE_SIZE >> 20);
}

void kmain(uint64_t boot_info_phys)
{
	uint64_t tsc_entry = arch_timestamp();
	struct boot_config cfg;
	char features[128];

	serial_init();
	kprintf("solo: Solo %s\n", SOLO_VERSION);
	take_boot_info(boot_info_phys);
	kprintf("solo: firmware: %s rev %#x, UEFI %u.%u\n", boot.firmware_vendor,
		boot.firmware_revision, boot.uefi_revision >> 16,
		(boot.uefi_revision & 0xffff) / 10);

	unsigned found = arch_cpu_init();
	mm_direct_map_offset = SOLO_DIRECT_MAP_BASE;
	init_palloc();
	build_kernel_page_tables();
	unsigned enabled = arch_cpu_harden();
	arch_feature_names(enabled, features, sizeof(features));
	kprintf("solo: cpu: %s\n", features);
	kmalloc_init();
	print_memory_summary();

	power_init(boot.acpi_rsdp, boot.acpi_rsdp_revision, !!(found & CPU_FEATURE_HYPERVISOR));
	read_boot_config(&cfg);
	kprintf("solo: kernel ready in %lu kcycles since stub entry (%lu in the kernel)\n",
		(arch_timestamp() - boot.tsc_stub_entry) / 1000,
		(arch_timestamp() - tsc_entry) / 1000);

#ifdef SOLO_TEST_PANIC
	/* Test build only: a deliberate kernel fault, to show the panic report. */
	kprintf("solo: test build: faulting on purpose\n");
	*(volatile uint64_t *)0x1000 = 0xdead;
#endif

	const struct solo_module *app_module = find_module(SOLO_MODULE_APP);
	if (!app_module) {
		kprintf("solo: app not started: no app.elf was loaded\n");
	} else {
		app_start(phys_to_virt(app_module->phys), app_module->size, &cfg);
	}
	/* Only reached when the app could not start. */
	kprintf("solo: exit 126\n");
	power_finish(cfg.on_exit);
}
