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

#include "drivers/e1000.h"
#include "drivers/acpi.h"
#include "drivers/fbcon.h"
#include "drivers/kbd.h"
#include "drivers/pci.h"
#include "drivers/ps2kbd.h"
#include "drivers/xhci.h"
#include "drivers/rtc.h"
#include "drivers/serial.h"
#include "drivers/virtio_net.h"
#include "kernel/abi/errno.h"
#include "kernel/app.h"
#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/bootcfg.h"
#include "kernel/console.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/loader.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/physpolicy.h"
#include "kernel/power.h"
#include "kernel/selftest.h"
#include "kernel/lockstat.h"
#include "kernel/strace.h"
#include "kernel/time.h"
#include "kernel/ubsan.h"
#include "kernel/vdso.h"
#include "mm/failinj.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/valloc.h"
#include "mm/phys.h"
#include "mm/vm.h"
#include "net/netcfg.h"

#define SOLO_VERSION	 "0.1"
#define MAX_REGIONS	 1024
#define LOW_MEMORY_END	 (1ull << 20)
#define BOOTCFG_MAX_SIZE (64u << 10)

void kmain(uint64_t boot_info_phys);

struct vm_ctx kernel_ctx;
/* The kernel half of every app's view: the UL_VISIBLE pages and nothing else. */
struct vm_ctx app_view_template;
enum log_level log_level = LOG_INFO;

static struct boot_info boot;
static struct solo_mem_region memmap[MAX_REGIONS];
static struct palloc_range free_ranges[MAX_REGIONS];
static char bootcfg_text[BOOTCFG_MAX_SIZE + 1];

extern char __kernel_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[], __boot_stack_guard[], __boot_stack_bottom[];
extern char __ulvisible_text_start[], __ulvisible_text_end[];
extern char __ulvisible_data_start[], __ulvisible_data_end[];

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

/* Kernel mappings are not global: they must not outlive a switch to the
 * app's view in the TLB, or the app's view would not really lack them. */
static void map_kernel_part(struct vm_ctx *ctx, const char *start, const char *end, unsigned flags,
			    const char *what)
{
	vaddr_t va = (vaddr_t)start;
	paddr_t pa = boot.kernel_phys + (va - boot.kernel_virt);

	map_or_die(vm_map_range(ctx, va, pa, (vaddr_t)end - va, flags), what);
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
		map_or_die(vm_map(&kernel_ctx, SOLO_DIRECT_MAP_BASE + pa, pa, VM_WRITE),
			   "low memory");

	if ((vaddr_t)__kernel_start != boot.kernel_virt)
		panic("kernel linked at %p but loaded for %#lx", __kernel_start, boot.kernel_virt);
	map_kernel_part(&kernel_ctx, __text_start, __text_end, VM_EXEC, "kernel text");
	map_kernel_part(&kernel_ctx, __rodata_start, __rodata_end, 0, "kernel rodata");
	/* The page below the boot stack stays unmapped: an overflow faults. */
	map_kernel_part(&kernel_ctx, __data_start, __boot_stack_guard, VM_WRITE, "kernel data");
	map_kernel_part(&kernel_ctx, __boot_stack_bottom, __data_end, VM_WRITE, "kernel bss");

	if (vm_kernel_reserve_top_level(&kernel_ctx, VM_KERNEL_RANGES_BASE))
		panic("kernel page tables: no memory for the kernel ranges table");
	arch_set_kernel_root(kernel_ctx.root);
	arch_switch_address_space(kernel_ctx.root);
}

/* The app's view of the kernel half: the UL_VISIBLE text and data, at the
 * same addresses as in the kernel's view, supervisor-only. */
static void build_app_view_template(void)
{
	if (vm_ctx_init_kernel(&app_view_template))
		panic("app view: no memory for the template PML4");
	map_kernel_part(&app_view_template, __ulvisible_text_start, __ulvisible_text_end, VM_EXEC,
			"UL_VISIBLE text");
	map_kernel_part(&app_view_template, __ulvisible_data_start, __ulvisible_data_end, VM_WRITE,
			"UL_VISIBLE data");
}

/* ---------------------------------------------------------------- consoles */

/* The serial port: the first sink (every line reaches it) and the input. */
static struct console_sink serial_sink = {.name = "serial", .write = serial_write};
static struct console_input serial_input = {.name = "serial", .read_byte = serial_read_byte};

static void screen_colour(enum console_colour colour)
{
	static const enum fbcon_colour colours[] = {
	    [CONSOLE_NORMAL] = FBCON_NORMAL,
	    [CONSOLE_INFO] = FBCON_INFO,
	    [CONSOLE_ERROR] = FBCON_ERROR,
	};
	fbcon_set_colour(colours[colour]);
}

static int screen_size(unsigned *cols, unsigned *rows)
{
	*cols = fbcon_cols();
	*rows = fbcon_rows();
	return *cols && *rows;
}

static struct console_sink screen_sink = {.name = "screen",
					  .write = fbcon_write,
					  .set_colour = screen_colour,
					  .size = screen_size,
					  .set_cursor = fbcon_set_cursor};

/* The PS/2 keyboard (or the firmware's emulation of one): a second input
 * beside the serial port, into the same line discipline. */
static struct console_input ps2_input = {.name = "ps2 keyboard", .read_byte = ps2kbd_read_byte};
/* USB keyboards on the xHCI controllers, plugged in now or later. */
static struct console_input usb_input = {.name = "usb keyboard", .read_byte = xhci_read_byte};

/* After pci_init, which started the USB controllers. */
static void init_keyboard(const char *keymap)
{
	int err = ps2kbd_init(keymap);

	if (err == -EINVAL)
		kprintf("solo: keyboard: no layout \"%s\" (there are %s); using us\n", keymap,
			kbd_layout_names());
	const char *layout = err == -EINVAL ? "us" : keymap;
	if (err == -ENODEV) {
		kinfo("solo: keyboard: no PS/2 controller\n");
	} else {
		console_register_input(&ps2_input);
		kinfo("solo: keyboard: PS/2, layout %s\n", layout);
	}
	if (xhci_controllers()) {
		xhci_set_layout(layout);
		console_register_input(&usb_input);
		kinfo("solo: keyboard: USB (%u xHCI controller%s), layout %s\n", xhci_controllers(),
		      xhci_controllers() > 1 ? "s" : "", layout);
	}
}

static void init_serial(void)
{
	serial_init();
	console_register(&serial_sink, 0);
	if (serial_present())
		console_register_input(&serial_input);
}

/* The GOP framebuffer, mapped write-combining, as the screen console. */
static void init_screen(void)
{
	const struct solo_framebuffer *fb = &boot.framebuffer;
	int err;

	if (fb->format == SOLO_FB_NONE || !fb->size) {
		kinfo("solo: screen: no framebuffer, serial console only\n");
		return;
	}
	void *mapped = map_mmio(fb->base, fb->size, VM_WRITE_COMBINING);
	if (!mapped) {
		kprintf("solo: screen: cannot map the framebuffer\n");
		return;
	}
	err = fbcon_init(fb, mapped);
	if (err) {
		kprintf("solo: screen: no console on the %ux%u framebuffer (error %d)\n", fb->width,
			fb->height, err);
		unmap_mmio(mapped, fb->size);
		return;
	}
	console_register(&screen_sink, 1);
	kinfo("solo: screen: %ux%u, %ux%u characters of %ux%u pixels (%s)\n", fb->width, fb->height,
	      fbcon_cols(), fbcon_rows(), fbcon_font()->width, fbcon_font()->height,
	      fbcon_font()->name);
}

/*
 * map_memory's physical policy (kernel/physpolicy.h): the firmware's map,
 * and what the kernel runs before PCI is up: the framebuffer (the screen
 * console) and the I/O APICs the MADT lists (unused by the kernel, but an
 * app that reprograms one can route interrupts at the kernel's vectors).
 * The PCI ranges follow in pci_keep_ranges once the bus is enumerated.
 */
static void physmap_policy_init(void)
{
	const struct solo_framebuffer *fb = &boot.framebuffer;
	uint64_t ioapics[8];

	physpolicy_set_memmap(memmap, boot.memmap_count);
	physpolicy_keep(fb->base, fb->size, "the framebuffer");
	unsigned n = boot.acpi_rsdp ? acpi_ioapics(boot.acpi_rsdp, boot.acpi_rsdp_revision, ioapics,
						   ARRAY_SIZE(ioapics))
				    : 0;
	for (unsigned i = 0; i < n && i < ARRAY_SIZE(ioapics); i++)
		physpolicy_keep(ioapics[i], PAGE_SIZE, "an I/O APIC");
	/* More I/O APICs than the array holds: keep their usual window whole. */
	if (n > ARRAY_SIZE(ioapics))
		physpolicy_keep(0xfec00000, 0x100000, "the I/O APIC window");
}

/* The PCI drivers, in the order they are offered each device. */
static const struct pci_driver *const pci_drivers[] = {
    &virtio_net_pci_driver,
    &e1000_pci_driver,
    &xhci_pci_driver,
};

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

/* Parsed before anything else, into a static buffer, so that log= applies
 * to the whole boot log. The strings in cfg point into bootcfg_text. */
static void read_boot_config(struct boot_config *cfg)
{
	const struct solo_module *m = find_module(SOLO_MODULE_CONFIG);
	size_t len = 0;

	if (m) {
		len = m->size;
		if (len > BOOTCFG_MAX_SIZE) {
			kprintf("solo: boot.cfg is larger than %u bytes; the rest is ignored\n",
				BOOTCFG_MAX_SIZE);
			len = BOOTCFG_MAX_SIZE;
		}
		memcpy(bootcfg_text, (const void *)(SOLO_DIRECT_MAP_BASE + m->phys), len);
	}
	bootcfg_text[len] = '\0';
	bootcfg_parse(bootcfg_text, len, cfg, warn_bootcfg);
	log_level = (enum log_level)cfg->log;
}

/*
 * Gives the stub's memory (LOADER) to palloc, except what is still in use:
 * the kernel image and the modules in keep[]. Everything else there (the
 * stub itself, its page tables, boot_info, buffers) is dead once the kernel
 * runs on its own page tables and has copied boot_info. Returns pages added.
 */
static size_t reclaim_loader_memory(const struct solo_module *const *keep, size_t nkeep)
{
	size_t added = 0;

	for (unsigned i = 0; i < boot.memmap_count; i++) {
		const struct solo_mem_region *r = &memmap[i];
		paddr_t cursor = r->base, end = r->base + r->npages * PAGE_SIZE;

		if (r->type != SOLO_MEM_LOADER)
			continue;
		while (cursor < end) {
			/* The next in-use range at or after cursor, if it starts before end. */
			paddr_t hole_start = end, hole_end = end;
			paddr_t used[SOLO_MAX_MODULES + 1][2];
			size_t nused = 0;

			used[nused][0] = boot.kernel_phys;
			used[nused++][1] = boot.kernel_phys + boot.kernel_size;
			for (size_t k = 0; k < nkeep; k++) {
				used[nused][0] = keep[k]->phys;
				used[nused++][1] =
				    ALIGN_UP(keep[k]->phys + keep[k]->size, PAGE_SIZE);
			}
			for (size_t k = 0; k < nused; k++) {
				if (used[k][1] > cursor && used[k][0] < hole_start) {
					hole_start = MAX(used[k][0], cursor);
					hole_end = used[k][1];
				}
			}
			if (hole_start > cursor &&
			    !palloc_add_range(cursor, (hole_start - cursor) / PAGE_SIZE))
				added += (hole_start - cursor) / PAGE_SIZE;
			cursor = MIN(hole_end, end);
		}
	}
	return added;
}

#define EFI_MEMORY_WB 0x8 /* efi_attribute: write-back cacheable, i.e. RAM */

/* RAM the firmware keeps for itself: ACPI, runtime services, reserved. A
 * reserved range that is not write-back cacheable is a device window (the
 * PCIe configuration space on q35 is 256 MiB of it), not memory. */
static int firmware_reserved(const struct solo_mem_region *r)
{
	switch (r->type) {
	case SOLO_MEM_ACPI_RECLAIM:
	case SOLO_MEM_ACPI_NVS:
	case SOLO_MEM_RUNTIME_CODE:
	case SOLO_MEM_RUNTIME_DATA:
		return 1;
	case SOLO_MEM_RESERVED:
		return !!(r->efi_attribute & EFI_MEMORY_WB);
	default:
		return 0;
	}
}

static void print_memory_summary(void)
{
	struct palloc_stats st;
	uint64_t reserved_pages = 0;

	for (unsigned i = 0; i < boot.memmap_count; i++) {
		if (firmware_reserved(&memmap[i]))
			reserved_pages += memmap[i].npages;
	}
	palloc_get_stats(&st);
	kinfo("solo: memory: %lu MiB usable, %lu MiB firmware-reserved, %lu MiB free, "
	      "largest free run %lu MiB\n",
	      (st.total_pages + st.low_total_pages) * PAGE_SIZE >> 20,
	      reserved_pages * PAGE_SIZE >> 20,
	      (st.free_pages + st.low_free_pages) * PAGE_SIZE >> 20,
	      st.largest_free_run * PAGE_SIZE >> 20);
}

/* "12.3 ms" for a TSC interval. */
static void format_ms(char *buf, size_t size, uint64_t ticks)
{
	uint64_t us = tsc_ns(ticks) / 1000;

	ksnprintf(buf, size, "%lu.%lu ms", us / 1000, us % 1000 / 100);
}

/*
 * The boot's stage times, from the stub's TSC stamps in boot_info and the
 * kernel's own: the stub (loading files through the firmware), the firmware's
 * ExitBootServices, and the kernel from its entry to here (just before the
 * app starts). The stub-entry TSC is printed for make bench, which subtracts
 * it from the TSC the app reads first thing, and the clock's zero and rate
 * for the apps that can only read CLOCK_MONOTONIC.
 */
static void print_boot_times(uint64_t tsc_kernel_entry)
{
	char stub[24], ebs[24], kernel[24];

	format_ms(stub, sizeof(stub), boot.tsc_exit_boot_services - boot.tsc_stub_entry);
	format_ms(ebs, sizeof(ebs), boot.tsc_kernel_jump - boot.tsc_exit_boot_services);
	format_ms(kernel, sizeof(kernel), arch_timestamp() - tsc_kernel_entry);
	kinfo("solo: boot: stub %s, exit boot services %s, kernel %s\n", stub, ebs, kernel);
	kinfo("solo: boot: stub entry tsc %lu\n", boot.tsc_stub_entry);
	/* What turns an app's CLOCK_MONOTONIC reading back into a TSC value
	 * (make bench times programs that cannot read the TSC, like Python):
	 * tsc = zero + ns * hz / 1e9. */
	kinfo("solo: boot: monotonic zero tsc %lu, tsc %lu Hz\n", tsc_kernel_entry, tsc_hz());
}

#ifdef SOLO_TEST_SANITIZERS
/* Writes past a local array: the stack protector must stop the return. */
static __attribute__((noinline)) void test_smash_stack(void)
{
	char buf[16];
	/* Through an integer, so UBSan's object-size check cannot see buf. */
	volatile uintptr_t where = (uintptr_t)buf;
	volatile char *p = (volatile char *)where;

	kprintf("solo: test build: smashing the stack on purpose\n");
	for (int i = 0; i < 64; i++)
		p[i] = 'x';
}

/* A shift by more than the width: UBSan must name this line. */
static __attribute__((noinline)) void test_undefined_shift(void)
{
	volatile int by = 40, one = 1;

	kprintf("solo: test build: shifting out of bounds on purpose\n");
	kprintf("%d\n", one << by);
}
#endif

/* boot.cfg's failalloc= (mm/failinj.h): armed when the app starts. */
static void setup_failalloc(const char *value)
{
	if (!value)
		return;
#ifndef SOLO_FAILINJ
	kinfo("solo: failalloc: needs the sanitized kernel (make kernel-san); ignored\n");
#else
	struct failinj_config fc;
	if (failinj_parse(value, &fc)) {
		kinfo("solo: failalloc: bad value '%s' (N, or random:SEED:PER_MILLE); ignored\n",
		      value);
		return;
	}
	failinj_set(&fc);
	if (fc.mode == FAILINJ_NTH)
		kinfo("solo: failalloc: the app's allocation %lu fails\n", fc.nth);
	else
		kinfo("solo: failalloc: the app's allocations fail at random, seed %lu, %u per "
		      "mille\n",
		      fc.seed, fc.per_mille);
#endif
}

/* The CPUs the MADT lists, up to boot.cfg's cpus= (kernel/arch/x86_64/smp.h),
 * on their nodes from the SRAT: their stacks go into the app view template,
 * which no app view has been made from yet. */
static void start_other_cpus(unsigned max_cpus)
{
	uint32_t ids[SMP_MAX_CPUS];
	unsigned nodes[SMP_MAX_CPUS];
	unsigned n = 0;

	if (boot.acpi_rsdp) {
		n = acpi_cpus(boot.acpi_rsdp, boot.acpi_rsdp_revision, ids, SMP_MAX_CPUS);
		(void)acpi_cpu_nodes(boot.acpi_rsdp, boot.acpi_rsdp_revision, ids,
				     n < SMP_MAX_CPUS ? n : SMP_MAX_CPUS, nodes);
	}
	smp_start(ids, nodes, n, max_cpus, &app_view_template);
}

void kmain(uint64_t boot_info_phys)
{
	uint64_t tsc_entry = arch_timestamp();
	struct boot_config cfg;
	char features[128];

	init_serial();
	take_boot_info(boot_info_phys);
	read_boot_config(&cfg);
	kinfo("solo: Solo %s, built with gcc %s\n", SOLO_VERSION, __VERSION__);
	kinfo("solo: firmware: %s rev %#x, UEFI %u.%u\n", boot.firmware_vendor,
	      boot.firmware_revision, boot.uefi_revision >> 16, (boot.uefi_revision & 0xffff) / 10);

	unsigned found = arch_cpu_init(&boot_cpu);
	console_start_locking();  /* this_cpu() works from here: spinlocks do */
	ubsan_stack_guard_init(); /* RDRAND known now; kmain never returns */
	mm_direct_map_offset = SOLO_DIRECT_MAP_BASE;
	init_palloc();
	build_kernel_page_tables();
	build_app_view_template();
	unsigned enabled = arch_cpu_harden();
	arch_feature_names(enabled, features, sizeof(features));
	kinfo("solo: cpu: %s\n", features);
	if (!(enabled & CPU_FEATURE_RDRAND))
		kinfo("solo: random: no RDRAND: getrandom, AT_RANDOM and ASLR come from the TSC, "
		      "not a cryptographic source\n");
	tsc_calibrate();
	kinfo("solo: tsc: %lu MHz (%s)\n", (tsc_hz() + 500000) / 1000000, tsc_source());
	kinfo("solo: timer: %s\n", apic_timer_init());
	uint64_t wall = rtc_init();
	time_init(tsc_hz(), tsc_entry, wall, rtc_boot_tsc());
	kinfo("solo: rtc: %lu s since 1970\n", wall);
	kmalloc_init();
	app_shared_heap_init();
	start_other_cpus(cfg.cpus);
	init_screen();
	physmap_policy_init();
	aspace_set_phys_policy(physpolicy_classify);
	loader_set_aslr(cfg.aslr);
	vdso_set_aslr(cfg.aslr);
	if (!cfg.aslr)
		kinfo("solo: aslr: off\n");
	strace_enabled = cfg.strace;
	lockstat_enabled = cfg.lockstat;
	setup_failalloc(cfg.failalloc);

	const struct solo_module *app_module = find_module(SOLO_MODULE_APP);
	const struct solo_module *rootfs = find_module(SOLO_MODULE_ROOTFS);
	const struct solo_module *in_use[2];
	size_t nin_use = 0;
	if (app_module)
		in_use[nin_use++] = app_module;
	if (rootfs)
		in_use[nin_use++] = rootfs;
	size_t reclaimed = reclaim_loader_memory(in_use, nin_use);
	kdebug("solo: memory: %zu KiB of loader memory reclaimed\n", reclaimed * PAGE_SIZE >> 10);
	print_memory_summary();

	power_init(boot.acpi_rsdp, boot.acpi_rsdp_revision, !!(found & CPU_FEATURE_HYPERVISOR));
	if (cfg.poweroff == BOOTCFG_POWEROFF_ACPI)
		power_prefer_acpi();
	else if (power_init_uefi(boot.efi_runtime_services, memmap, boot.memmap_count))
		kdebug("solo: power: no UEFI ResetSystem; ACPI only\n");
	if (log_level >= LOG_DEBUG)
		kmalloc_dump();
	pci_init(boot.acpi_rsdp, boot.acpi_rsdp_revision, pci_drivers, ARRAY_SIZE(pci_drivers));
	pci_keep_ranges(physpolicy_keep);
	init_keyboard(cfg.keymap);

#ifdef SOLO_TEST_SANITIZERS
	/* Test build of the sanitized kernel only: what its checks must catch. */
	if (!strcmp(cfg.name, "smash"))
		test_smash_stack();
	else
		test_undefined_shift();
#endif
#ifdef SOLO_TEST_PANIC
	/* Test build only: a deliberate kernel fault, to show the panic report. */
	kprintf("solo: test build: faulting on purpose\n");
	*(volatile uint64_t *)0x1000 = 0xdead;
#endif
	if (cfg.selftests & BOOTCFG_SELFTEST_MM)
		selftest_mm();
	if (cfg.selftests & BOOTCFG_SELFTEST_NET)
		selftest_net();
	if (cfg.selftests & BOOTCFG_SELFTEST_SMP)
		selftest_smp(&app_view_template);
	/* After the NIC drivers and their self-test, which needs the devices
	 * without a stack; waits for DHCP (net_wait=) before the app. */
	net_init(&cfg);

	if (app_module)
		kinfo("solo: app: %s%s%s\n", cfg.name, cfg.args[0] ? " " : "", cfg.args);
	if (!app_module) {
		kprintf("solo: app not started: no app.elf was loaded\n");
	} else if (!app_load(phys_to_virt(app_module->phys), app_module->size,
			     rootfs ? phys_to_virt(rootfs->phys) : NULL, rootfs ? rootfs->size : 0,
			     &cfg)) {
		/* The ELF file is copied into the app's pages: its pages are free now. */
		size_t file_pages = ALIGN_UP(app_module->size, PAGE_SIZE) / PAGE_SIZE;
		palloc_add_range(app_module->phys, file_pages);
		app_note_free_baseline(file_pages);
		print_boot_times(tsc_entry);
		app_enter();
	}
	/* Only reached when the app could not start. */
	kprintf("solo: exit 126\n");
	power_finish(cfg.on_exit);
}
