/*
 * The stub -> kernel handoff.
 *
 * The UEFI stub (efi/) fills one struct boot_info and jumps to the kernel entry
 * with its *physical* address in %rdi. Everything here is fixed-width and
 * pointer-free: addresses are physical uint64_t, so the layout is the same for
 * the PE32+ stub and the ELF kernel, and no firmware type crosses over.
 *
 * The kernel checks magic, version and size, copies what it needs and never
 * reads firmware memory again. The offsets are pinned by _Static_assert below:
 * changing the layout means bumping SOLO_BOOT_VERSION.
 *
 * At the jump, the stub's temporary page tables map:
 *   - all physical memory (and the framebuffer) 1:1 at its physical address,
 *   - the same again at SOLO_DIRECT_MAP_BASE + phys,
 *   - the kernel image at the virtual addresses of its ELF segments,
 * all writable and executable; interrupts are off; boot services are gone.
 */
#pragma once

#include <stdint.h>

#define SOLO_BOOT_MAGIC	  0x544f4f424f4c4f53ull /* "SOLOBOOT", little endian */
#define SOLO_BOOT_VERSION 1u

/* Kernel-half virtual layout the stub relies on (the kernel owns the rest). */
#define SOLO_DIRECT_MAP_BASE 0xffff800000000000ull /* phys p is at this + p */
#define SOLO_KERNEL_HALF     0xffff800000000000ull /* kernel segments at or above */

/* Memory region types: the stub translates EFI_MEMORY_TYPE into these. */
enum solo_mem_type {
	SOLO_MEM_USABLE = 1,	    /* free RAM (EfiConventionalMemory) */
	SOLO_MEM_BOOT_SERVICES = 2, /* firmware boot-services code/data: free after the jump */
	SOLO_MEM_LOADER = 3,	    /* the stub's image and allocations: holds the kernel,
				       modules, boot_info and page tables (see ranges below) */
	SOLO_MEM_ACPI_RECLAIM = 4,  /* ACPI tables: reclaimable once parsed */
	SOLO_MEM_ACPI_NVS = 5,	    /* firmware-owned, must stay untouched */
	SOLO_MEM_RUNTIME_CODE = 6,  /* UEFI runtime services: keep mapped, never allocate */
	SOLO_MEM_RUNTIME_DATA = 7,
	SOLO_MEM_MMIO = 8,	  /* memory-mapped I/O (incl. port space) */
	SOLO_MEM_RESERVED = 9,	  /* anything else the firmware keeps */
	SOLO_MEM_UNUSABLE = 10,	  /* RAM with errors */
	SOLO_MEM_PERSISTENT = 11, /* NVDIMM-style persistent memory */
};

/* One entry of the memory map, sorted by base, non-overlapping. 32 bytes. */
struct solo_mem_region {
	uint64_t base;	 /* physical, 4 KiB aligned */
	uint64_t npages; /* 4 KiB pages */
	uint32_t type;	 /* enum solo_mem_type */
	uint32_t reserved;
	uint64_t efi_attribute; /* EFI_MEMORY_* bits (UC/WC/WB/RUNTIME...) as given */
};

/* Modules are files the stub loaded from the ESP for the kernel. */
enum solo_module_kind {
	SOLO_MODULE_APP = 1,	/* \app.elf */
	SOLO_MODULE_CONFIG = 2, /* \boot.cfg (text) */
	SOLO_MODULE_ROOTFS = 3, /* \rootfs.tar (ustar) */
};

struct solo_module {
	uint64_t phys; /* start of the file's bytes, page aligned */
	uint64_t size; /* bytes; the allocation is size rounded up to 4 KiB */
	uint32_t kind; /* enum solo_module_kind */
	uint32_t reserved;
};

#define SOLO_MAX_MODULES 4

enum solo_fb_format {
	SOLO_FB_NONE = 0, /* no linear framebuffer found */
	SOLO_FB_RGBX = 1, /* byte 0 red, 1 green, 2 blue, 3 reserved */
	SOLO_FB_BGRX = 2, /* byte 0 blue, 1 green, 2 red, 3 reserved */
	SOLO_FB_BITMASK = 3,
};

struct solo_framebuffer {
	uint64_t base;	   /* physical; may be above 4 GiB */
	uint64_t size;	   /* bytes */
	uint32_t width;	   /* pixels */
	uint32_t height;   /* pixels */
	uint32_t pitch;	   /* bytes per scan line */
	uint32_t format;   /* enum solo_fb_format */
	uint32_t red_mask; /* for SOLO_FB_BITMASK */
	uint32_t green_mask;
	uint32_t blue_mask;
	uint32_t reserved_mask;
};

struct boot_info {
	uint64_t magic;	  /* SOLO_BOOT_MAGIC */
	uint32_t version; /* SOLO_BOOT_VERSION */
	uint32_t size;	  /* sizeof(struct boot_info) */

	/* TSC readings for boot-stage timing. */
	uint64_t tsc_stub_entry;	 /* first thing efi_main does */
	uint64_t tsc_exit_boot_services; /* just before the successful ExitBootServices */
	uint64_t tsc_kernel_jump;	 /* just before the jump */

	/* Kernel image: one physically contiguous block mapped at kernel_virt. */
	uint64_t kernel_phys;
	uint64_t kernel_virt;  /* lowest segment address, page aligned */
	uint64_t kernel_size;  /* bytes, page multiple */
	uint64_t kernel_entry; /* virtual */

	/* This struct and the memory map live in one allocation (LOADER). */
	uint64_t boot_info_phys;
	uint64_t boot_info_alloc_size; /* bytes, page multiple */
	uint64_t memmap_phys;	       /* struct solo_mem_region[memmap_count] */
	uint32_t memmap_count;
	uint32_t memmap_entry_size; /* sizeof(struct solo_mem_region) */

	/* The stub's temporary page tables (LOADER; free once the kernel has its own). */
	uint64_t stub_page_tables_phys;
	uint64_t stub_page_tables_size; /* bytes */

	/* Firmware. */
	uint64_t acpi_rsdp;	       /* physical; 0 when none */
	uint32_t acpi_rsdp_revision;   /* 0 = ACPI 1.0 (RSDT), >= 2 (XSDT) */
	uint32_t uefi_revision;	       /* SystemTable->Hdr.Revision */
	uint64_t efi_system_table;     /* physical */
	uint64_t efi_runtime_services; /* physical; firmware identity-mapped */
	uint32_t firmware_revision;
	uint32_t reserved0;
	char firmware_vendor[64]; /* ASCII, NUL-terminated, '?' for non-ASCII */

	struct solo_framebuffer framebuffer;

	uint32_t module_count;
	uint32_t reserved1;
	struct solo_module modules[SOLO_MAX_MODULES];
};

_Static_assert(sizeof(struct solo_mem_region) == 32, "solo_mem_region layout");
_Static_assert(sizeof(struct solo_module) == 24, "solo_module layout");
_Static_assert(sizeof(struct solo_framebuffer) == 48, "solo_framebuffer layout");
_Static_assert(__builtin_offsetof(struct boot_info, tsc_stub_entry) == 16, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, kernel_phys) == 40, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, boot_info_phys) == 72, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, memmap_count) == 96, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, acpi_rsdp) == 120, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, firmware_vendor) == 160, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, framebuffer) == 224, "boot_info layout");
_Static_assert(__builtin_offsetof(struct boot_info, module_count) == 272, "boot_info layout");
_Static_assert(sizeof(struct boot_info) == 376, "boot_info layout");
