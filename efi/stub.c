/*
 * The UEFI stub, \EFI\BOOT\BOOTX64.EFI: loads the kernel and its modules
 * from its own volume, gathers what the kernel needs from the firmware
 * (ACPI, framebuffer, memory map), leaves boot services and jumps to the
 * kernel with the physical address of struct boot_info in %rdi.
 *
 * Everything is allocated before the final GetMemoryMap, so the map handed
 * to the kernel describes every byte the stub still uses. Between that call
 * and ExitBootServices nothing else may touch the firmware: any call could
 * allocate and make the map key stale. After ExitBootServices succeeds the
 * stub makes no firmware call at all; it converts the map with plain C and
 * jumps. On any failure before that point it prints a "solo: " line (ConOut
 * reaches the screen and, on OVMF, the serial port), waits so a person can
 * read it, frees what it allocated and returns the error to the firmware.
 */
#include <efi.h>
#include <efilib.h>
#include <solo/bootinfo.h>

#include "alloc.h"
#include "file.h"
#include "gop.h"
#include "manifest.h"
#include "memmap.h"
#include "paging.h"
#include "kernel/elf.h"

#define FAIL_STALL_US	5000000 /* 5 s to read a fatal message */
#define MAP_SLACK_DESCS 64	/* headroom for the allocations after sizing */
#define REGION_SLACK	64	/* boot_info regions beyond the firmware count */
#define EXIT_TRIES	8

/*
 * The signed-image manifest (include/solo/manifest.h). Unarmed as built;
 * tools/mkimg.sh --sign arms it in the copy it signs, so the firmware's
 * signature check covers the hashes of every file loaded below.
 */
struct solo_manifest solo_manifest
    __attribute__((used, aligned(8))) = {.magic = SOLO_MANIFEST_MAGIC};

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

static inline UINT64 rdtsc(void)
{
	UINT32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((UINT64)hi << 32) | lo;
}

/*
 * The kernel's ELF, checked and copied into one contiguous EfiLoaderCode
 * block laid out exactly as its virtual span. The file buffer is freed.
 */
static EFI_STATUS load_kernel(struct file_buf *file, struct boot_info *bi)
{
	struct elf_image img;
	const char *why = "";
	EFI_PHYSICAL_ADDRESS phys;
	const UINT8 *src = (const UINT8 *)(UINTN)file->phys;
	EFI_STATUS status;

	if (elf_check(src, file->size, ELF_TARGET_KERNEL, &img, &why)) {
		Print(L"solo: \\kernel.elf is not a valid kernel: %a\n", why);
		return EFI_LOAD_ERROR;
	}
	status = alloc_pages(EfiLoaderCode, img.vaddr_max - img.vaddr_min, ALLOC_ZERO,
			     "the kernel image", &phys);
	if (EFI_ERROR(status))
		return status;
	/* The block is zeroed, which covers bss and any gaps between segments. */
	for (unsigned i = 0; i < img.phnum; i++) {
		const struct elf64_phdr *ph = &img.phdrs[i];

		if (ph->p_type == ELF_PT_LOAD)
			CopyMem((UINT8 *)(UINTN)phys + (ph->p_vaddr - img.vaddr_min),
				src + ph->p_offset, ph->p_filesz);
	}
	alloc_free(file->phys);

	bi->kernel_phys = phys;
	bi->kernel_virt = img.vaddr_min;
	bi->kernel_size = img.vaddr_max - img.vaddr_min;
	bi->kernel_entry = img.entry;
	return EFI_SUCCESS;
}

static void add_module(struct boot_info *bi, const struct file_buf *f, uint32_t kind)
{
	struct solo_module *m = &bi->modules[bi->module_count++];

	m->phys = f->phys;
	m->size = f->size;
	m->kind = kind;
	m->reserved = 0;
}

/*
 * The manifest as the file holds it: the bytes are written after the build,
 * so the compiler must not assume the initializer's values.
 */
static const struct solo_manifest *signed_manifest(void)
{
	const struct solo_manifest *m = &solo_manifest;

	__asm__("" : "+r"(m));
	return m;
}

/*
 * Whether \name (f, or NULL when it is not on the volume) is the file that
 * was signed. A refusal is printed for the person at the screen.
 */
static EFI_STATUS check_signed(const char *name, const struct file_buf *f)
{
	const char *why = manifest_check(signed_manifest(), name,
					 f ? (const void *)(UINTN)f->phys : NULL, f ? f->size : 0);

	if (!why)
		return EFI_SUCCESS;
	Print(L"solo: stub: \\%a was changed after this image was signed: %a. Refusing to "
	      L"boot.\n",
	      name, why);
	return EFI_SECURITY_VIOLATION;
}

/* Required files print their own "solo: " line when missing. */
static EFI_STATUS load_required(EFI_FILE_HANDLE root, CHAR16 *path, struct file_buf *f)
{
	EFI_STATUS status = file_load(root, path, f);

	if (status == EFI_NOT_FOUND)
		Print(L"solo: %s not found on the boot volume; it is required\n", path);
	return status;
}

static EFI_STATUS load_files(EFI_HANDLE image, struct file_buf *kernel, struct boot_info *bi)
{
	struct file_buf app, cfg, rootfs;
	EFI_FILE_HANDLE root;
	struct elf_image img;
	const char *why = "";
	EFI_STATUS status;

	status = file_open_volume(image, &root);
	if (EFI_ERROR(status))
		return status;

	status = load_required(root, L"\\kernel.elf", kernel);
	if (!EFI_ERROR(status))
		status = check_signed("kernel.elf", kernel);
	if (EFI_ERROR(status))
		goto close;
	status = load_required(root, L"\\app.elf", &app);
	if (!EFI_ERROR(status))
		status = check_signed("app.elf", &app);
	if (EFI_ERROR(status))
		goto close;
	/* A "#!" script is the kernel's to parse (kernel/exec.h); anything
	 * else must be an ELF the kernel can load. */
	const char *head = (const char *)(UINTN)app.phys;
	int script = app.size >= 2 && head[0] == '#' && head[1] == '!';
	if (!script && elf_check(head, app.size, ELF_TARGET_APP, &img, &why)) {
		Print(L"solo: \\app.elf is not a valid app: %a\n", why);
		status = EFI_LOAD_ERROR;
		goto close;
	}
	add_module(bi, &app, SOLO_MODULE_APP);

	status = file_load(root, L"\\boot.cfg", &cfg);
	if (status != EFI_SUCCESS && status != EFI_NOT_FOUND)
		goto close;
	if (EFI_ERROR(check_signed("boot.cfg", status == EFI_SUCCESS ? &cfg : NULL))) {
		status = EFI_SECURITY_VIOLATION;
		goto close;
	}
	if (status == EFI_SUCCESS)
		add_module(bi, &cfg, SOLO_MODULE_CONFIG);
	else
		Print(L"solo: no \\boot.cfg; the kernel uses its defaults\n");

	status = file_load(root, L"\\rootfs.tar", &rootfs);
	if (status != EFI_SUCCESS && status != EFI_NOT_FOUND)
		goto close;
	if (EFI_ERROR(check_signed("rootfs.tar", status == EFI_SUCCESS ? &rootfs : NULL))) {
		status = EFI_SECURITY_VIOLATION;
		goto close;
	}
	if (status == EFI_SUCCESS)
		add_module(bi, &rootfs, SOLO_MODULE_ROOTFS);
	if (signed_manifest()->armed)
		Print(L"solo: stub: signed image: every file matches its SHA-256\n");
	status = EFI_SUCCESS;
close:
	root->Close(root);
	return status;
}

/* A usable RSDP: right signature and a valid ACPI 1.0 checksum. */
static int rsdp_ok(const UINT8 *p)
{
	static const char sig[8] = "RSD PTR ";
	UINT8 sum = 0;

	if (!p)
		return 0;
	for (int i = 0; i < 8; i++)
		if (p[i] != (UINT8)sig[i])
			return 0;
	for (int i = 0; i < 20; i++)
		sum += p[i];
	return sum == 0;
}

static void find_acpi(struct boot_info *bi)
{
	const UINT8 *v1 = NULL, *v2 = NULL, *rsdp;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!v2 && !CompareGuid(&t->VendorGuid, &acpi20_guid) && rsdp_ok(t->VendorTable))
			v2 = t->VendorTable;
		if (!v1 && !CompareGuid(&t->VendorGuid, &acpi10_guid) && rsdp_ok(t->VendorTable))
			v1 = t->VendorTable;
	}
	rsdp = v2 ? v2 : v1;
	if (!rsdp) {
		Print(L"solo: no ACPI RSDP in the firmware configuration table\n");
		return;
	}
	bi->acpi_rsdp = (UINT64)(UINTN)rsdp;
	bi->acpi_rsdp_revision = rsdp[15];
}

static void firmware_info(struct boot_info *bi)
{
	const CHAR16 *v = ST->FirmwareVendor;
	unsigned i = 0;

	if (v)
		for (; v[i] && i < sizeof(bi->firmware_vendor) - 1; i++)
			bi->firmware_vendor[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
	bi->firmware_vendor[i] = '\0';
	bi->firmware_revision = ST->FirmwareRevision;
	bi->uefi_revision = ST->Hdr.Revision;
	bi->efi_system_table = (UINT64)(UINTN)ST;
	bi->efi_runtime_services = (UINT64)(UINTN)ST->RuntimeServices;
}

/* The buffer the firmware memory map is read into, and what it held first. */
struct map_buf {
	EFI_PHYSICAL_ADDRESS phys;
	UINTN cap;	 /* bytes */
	UINTN desc_size; /* the firmware's DescriptorSize */
	UINTN count;	 /* descriptors at the first reading */
	UINT64 ram_end;	 /* end of the highest RAM descriptor at the first reading */
};

/*
 * Size the memory map, allocate a buffer for it with room for the
 * descriptors our own later allocations (and firmware events) will add, and
 * read it once to learn the descriptor count and the top of the map.
 */
static EFI_STATUS map_prepare(struct map_buf *m)
{
	UINTN size = 0, key;
	UINT32 desc_ver;
	EFI_STATUS status;

	m->desc_size = 0;
	status = BS->GetMemoryMap(&size, NULL, &key, &m->desc_size, &desc_ver);
	if (status != EFI_BUFFER_TOO_SMALL || m->desc_size < sizeof(EFI_MEMORY_DESCRIPTOR)) {
		Print(L"solo: cannot size the memory map: %r (descriptor size %ld)\n", status,
		      (UINT64)m->desc_size);
		return EFI_ERROR(status) && status != EFI_BUFFER_TOO_SMALL ? status
									   : EFI_PROTOCOL_ERROR;
	}
	status = alloc_pages(EfiLoaderData, size + MAP_SLACK_DESCS * m->desc_size, 0,
			     "the memory map", &m->phys);
	if (EFI_ERROR(status))
		return status;
	/* Use the whole last page: it is ours anyway. */
	m->cap = alloc_npages(size + MAP_SLACK_DESCS * m->desc_size) * EFI_PAGE_SIZE;

	size = m->cap;
	status = BS->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)(UINTN)m->phys, &key,
				  &m->desc_size, &desc_ver);
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot read the memory map: %r\n", status);
		return status;
	}
	m->count = size / m->desc_size;
	m->ram_end = memmap_ram_end((void *)(UINTN)m->phys, size, m->desc_size);
	return EFI_SUCCESS;
}

static void __attribute__((noreturn)) jump_to_kernel(UINT64 cr3, UINT64 entry, UINT64 arg)
{
	/*
	 * The code and stack we run on are in the new tables' 1:1 range, so
	 * execution continues across the CR3 write. %rdi carries the argument
	 * (System V); the kernel's entry sets up its own stack.
	 */
	__asm__ volatile("cli\n\t"
			 "mov %0, %%cr3\n\t"
			 "jmp *%1"
			 :
			 : "r"(cr3), "r"(entry), "D"(arg)
			 : "memory");
	__builtin_unreachable();
}

static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	UINT64 tsc_entry = rdtsc();
	struct file_buf kernel_file;
	struct boot_info bi_tmp = {0}, *bi;
	struct solo_mem_region *regions;
	struct paging_request preq;
	struct paging_tables pt;
	struct map_buf map;
	EFI_PHYSICAL_ADDRESS bi_phys;
	UINTN map_size, map_key, desc_size, region_cap;
	UINT64 bi_bytes;
	UINT32 desc_ver;
	unsigned tries;
	EFI_STATUS status;

	InitializeLib(image, systab);
	bi_tmp.tsc_stub_entry = tsc_entry;

	status = load_files(image, &kernel_file, &bi_tmp);
	if (EFI_ERROR(status))
		goto fail;
	status = load_kernel(&kernel_file, &bi_tmp);
	if (EFI_ERROR(status))
		goto fail;
	find_acpi(&bi_tmp);
	gop_setup(&bi_tmp.framebuffer);
	firmware_info(&bi_tmp);

	status = map_prepare(&map);
	if (EFI_ERROR(status))
		goto fail;

	preq.mem_end = map.ram_end;
	preq.nextra = 0;
	for (UINTN i = 0; i < map.count; i++) {
		const EFI_MEMORY_DESCRIPTOR *d =
		    memmap_desc((void *)(UINTN)map.phys, map.desc_size, i);

		if (!memmap_is_ram(d->Type))
			paging_add_range(&preq, d->PhysicalStart, d->NumberOfPages * EFI_PAGE_SIZE);
	}
	if (bi_tmp.framebuffer.format != SOLO_FB_NONE)
		paging_add_range(&preq, bi_tmp.framebuffer.base, bi_tmp.framebuffer.size);
	preq.kernel_virt = bi_tmp.kernel_virt;
	preq.kernel_phys = bi_tmp.kernel_phys;
	preq.kernel_size = bi_tmp.kernel_size;
	status = paging_build(&preq, &pt);
	if (EFI_ERROR(status))
		goto fail;

	/*
	 * Never fewer entries than the map buffer can hold descriptors: then
	 * memmap_convert() cannot run out of room whatever the final map is.
	 */
	region_cap = map.count + REGION_SLACK;
	if (region_cap < map.cap / map.desc_size)
		region_cap = map.cap / map.desc_size;
	bi_bytes = sizeof(struct boot_info) + region_cap * sizeof(struct solo_mem_region);
	status = alloc_pages(EfiLoaderData, bi_bytes, ALLOC_ZERO, "boot_info", &bi_phys);
	if (EFI_ERROR(status))
		goto fail;
	bi = (struct boot_info *)(UINTN)bi_phys;
	*bi = bi_tmp;
	bi->magic = SOLO_BOOT_MAGIC;
	bi->version = SOLO_BOOT_VERSION;
	bi->size = sizeof(struct boot_info);
	bi->boot_info_phys = bi_phys;
	bi->boot_info_alloc_size = alloc_npages(bi_bytes) * EFI_PAGE_SIZE;
	bi->memmap_phys = bi_phys + sizeof(struct boot_info);
	bi->memmap_entry_size = sizeof(struct solo_mem_region);
	bi->stub_page_tables_phys = pt.block_phys;
	bi->stub_page_tables_size = pt.block_size;
	regions = (struct solo_mem_region *)(UINTN)bi->memmap_phys;

	Print(L"solo: stub: kernel %ld KiB at 0x%lx, entry 0x%lx, %d module(s), "
	      L"1:1 map to 0x%lx; exiting boot services\n",
	      bi->kernel_size >> 10, bi->kernel_phys, bi->kernel_entry, (UINT32)bi->module_count,
	      pt.top);

	/*
	 * The final map. From here to ExitBootServices: no Print, no
	 * allocation, nothing that could change the map and stale the key.
	 */
	map_size = map.cap;
	status = BS->GetMemoryMap(&map_size, (EFI_MEMORY_DESCRIPTOR *)(UINTN)map.phys, &map_key,
				  &desc_size, &desc_ver);
	if (EFI_ERROR(status)) {
		Print(L"solo: cannot read the final memory map: %r\n", status);
		goto fail;
	}
	for (tries = 1;; tries++) {
		bi->tsc_exit_boot_services = rdtsc();
		status = BS->ExitBootServices(image, map_key);
		if (status == EFI_SUCCESS)
			break;
		/*
		 * Usually EFI_INVALID_PARAMETER: an event allocated or freed
		 * memory after our GetMemoryMap. Re-read into the same buffer
		 * (which has slack) and try again.
		 */
		if (tries == EXIT_TRIES)
			goto exit_failed;
		map_size = map.cap;
		status = BS->GetMemoryMap(&map_size, (EFI_MEMORY_DESCRIPTOR *)(UINTN)map.phys,
					  &map_key, &desc_size, &desc_ver);
		if (EFI_ERROR(status))
			goto exit_failed;
	}

	/* Boot services are gone: plain C and the CPU only from here on. */
	__asm__ volatile("cli");
	bi->memmap_count =
	    memmap_convert((void *)(UINTN)map.phys, map_size, desc_size, regions, region_cap);
	bi->tsc_kernel_jump = rdtsc();
	jump_to_kernel(pt.cr3, bi->kernel_entry, bi_phys);

exit_failed:
	/*
	 * After a failed ExitBootServices the firmware may have shut parts of
	 * itself down, so returning to it is not safe. Try to say why, then stop.
	 */
	Print(L"solo: cannot exit boot services (try %d: %r); halted\n", tries, status);
	halt_forever();

fail:
	alloc_free_all();
	BS->Stall(FAIL_STALL_US);
	return status;
}
