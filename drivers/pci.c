/*
 * The PCI bus (see pci.h).
 *
 * Functions live in a static table (PCI_MAX_FUNCTIONS): q35 has about six,
 * and a bus walk with bridges stays far below the limit; functions past it
 * are logged and left alone. ECAM windows are mapped one bus (1 MiB) at a
 * time on first use, so a machine with a 256-bus window costs only the
 * buses that exist. The MCFG window usually also sits in the direct map as
 * reserved memory (write-back); it is only ever touched through the
 * uncached mapping made here.
 *
 * BARs are sized the classic way: with decoding off, write all ones, read
 * back the mask, restore. Bridges' secondary buses are walked depth first,
 * each bus at most once, so a misprogrammed bridge cannot make a loop.
 */
#include "drivers/pci.h"

#include "drivers/acpi.h"
#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/portio.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "mm/palloc.h"
#include "mm/phys.h"
#include "mm/valloc.h"

#define PCI_MAX_FUNCTIONS 64
#define PCI_MAX_DEPTH	  8

#define PCI_VENDOR_ID	     0x00
#define PCI_DEVICE_ID	     0x02
#define PCI_REVISION	     0x08
#define PCI_HEADER_TYPE	     0x0e
#define PCI_BAR0	     0x10
#define PCI_SECONDARY_BUS    0x19
#define PCI_CAP_LIST	     0x34
#define PCI_STATUS	     0x06
#define PCI_STATUS_CAP_LIST  (1u << 4)
#define PCI_HEADER_MULTIFUNC 0x80

#define PCI_MSIX_CONTROL      2
#define PCI_MSIX_TABLE	      4
#define PCI_MSIX_ENABLE	      (1u << 15)
#define PCI_MSIX_FUNC_MASK    (1u << 14)
#define PCI_MSIX_ENTRY_MASKED 1u

#define PCI_MSI_CONTROL	 2
#define PCI_MSI_ADDR_LO	 4
#define PCI_MSI_ADDR_HI	 8
#define PCI_MSI_ENABLE	 (1u << 0)
#define PCI_MSI_MME_MASK (7u << 4)
#define PCI_MSI_64BIT	 (1u << 7)

#define LEGACY_ADDRESS 0xcf8
#define LEGACY_DATA    0xcfc

#define ECAM_BUS_SIZE (1u << 20)
#define MSI_ADDRESS   0xfee00000u

static struct {
	uint64_t ecam_base; /* physical, of bus ecam_first_bus; 0: legacy ports */
	uint8_t ecam_first_bus, ecam_last_bus;
	volatile uint8_t *ecam_bus[256]; /* mapped windows */
	struct pci_device devices[PCI_MAX_FUNCTIONS];
	unsigned ndevices;
	uint8_t bus_seen[256 / 8];
	const struct pci_driver *const *drivers;
	unsigned ndrivers;
} pci;

/* ---------------------------------------------------------------- config access */

/* The ECAM address of (bus, slot, func, offset), or NULL. */
static volatile uint8_t *ecam(unsigned bus, unsigned slot, unsigned func, unsigned offset)
{
	if (!pci.ecam_base || bus < pci.ecam_first_bus || bus > pci.ecam_last_bus)
		return NULL;
	if (!pci.ecam_bus[bus]) {
		paddr_t pa = pci.ecam_base + (uint64_t)(bus - pci.ecam_first_bus) * ECAM_BUS_SIZE;
		pci.ecam_bus[bus] = map_mmio(pa, ECAM_BUS_SIZE, VM_UNCACHED);
		if (!pci.ecam_bus[bus])
			return NULL;
	}
	return pci.ecam_bus[bus] + (slot << 15 | func << 12 | offset);
}

static uint32_t legacy_address(unsigned bus, unsigned slot, unsigned func, unsigned offset)
{
	return 0x80000000u | bus << 16 | slot << 11 | func << 8 | (offset & 0xfc);
}

static uint32_t config_read(unsigned bus, unsigned slot, unsigned func, unsigned offset,
			    unsigned width)
{
	volatile uint8_t *p;

	if (offset >= 4096 || offset % width)
		return 0xffffffffu;
	if (pci.ecam_base) {
		p = ecam(bus, slot, func, offset);
		if (!p)
			return 0xffffffffu;
		if (width == 1)
			return *p;
		if (width == 2)
			return *(volatile uint16_t *)p;
		return *(volatile uint32_t *)p;
	}
	if (offset >= 256)
		return 0xffffffffu;
	outl(LEGACY_ADDRESS, legacy_address(bus, slot, func, offset));
	if (width == 1)
		return inb(LEGACY_DATA + (offset & 3));
	if (width == 2)
		return inw(LEGACY_DATA + (offset & 3));
	return inl(LEGACY_DATA);
}

static void config_write(unsigned bus, unsigned slot, unsigned func, unsigned offset,
			 unsigned width, uint32_t v)
{
	volatile uint8_t *p;

	if (offset >= 4096 || offset % width)
		return;
	if (pci.ecam_base) {
		p = ecam(bus, slot, func, offset);
		if (!p)
			return;
		if (width == 1)
			*p = (uint8_t)v;
		else if (width == 2)
			*(volatile uint16_t *)p = (uint16_t)v;
		else
			*(volatile uint32_t *)p = v;
		return;
	}
	if (offset >= 256)
		return;
	outl(LEGACY_ADDRESS, legacy_address(bus, slot, func, offset));
	if (width == 1)
		outb(LEGACY_DATA + (offset & 3), (uint8_t)v);
	else if (width == 2)
		outw(LEGACY_DATA + (offset & 3), (uint16_t)v);
	else
		outl(LEGACY_DATA, v);
}

uint8_t pci_read8(const struct pci_device *d, unsigned offset)
{
	return (uint8_t)config_read(d->bus, d->slot, d->func, offset, 1);
}

uint16_t pci_read16(const struct pci_device *d, unsigned offset)
{
	return (uint16_t)config_read(d->bus, d->slot, d->func, offset, 2);
}

uint32_t pci_read32(const struct pci_device *d, unsigned offset)
{
	return config_read(d->bus, d->slot, d->func, offset, 4);
}

void pci_write16(const struct pci_device *d, unsigned offset, uint16_t value)
{
	config_write(d->bus, d->slot, d->func, offset, 2, value);
}

void pci_write32(const struct pci_device *d, unsigned offset, uint32_t value)
{
	config_write(d->bus, d->slot, d->func, offset, 4, value);
}

const char *pci_address(const struct pci_device *d, char *buf, size_t size)
{
	ksnprintf(buf, size, "%02x:%02x.%u", d->bus, d->slot, d->func);
	return buf;
}

/* ---------------------------------------------------------------- capabilities, BARs */

unsigned pci_find_capability(const struct pci_device *d, uint8_t id, unsigned after)
{
	unsigned off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = after ? pci_read8(d, after + 1) : pci_read8(d, PCI_CAP_LIST);
	for (int steps = 0; steps < 48 && off >= 0x40 && off < 256; steps++) {
		off &= 0xfc;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

static void size_bars(struct pci_device *d)
{
	unsigned nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
	uint16_t command = pci_read16(d, PCI_COMMAND);

	/* No decoding while a BAR holds all ones: it would claim addresses. */
	pci_write16(d, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < nbars; i++) {
		unsigned reg = PCI_BAR0 + 4 * i;
		uint32_t low = pci_read32(d, reg);
		struct pci_bar *bar = &d->bars[i];

		pci_write32(d, reg, 0xffffffffu);
		uint32_t mask = pci_read32(d, reg);
		pci_write32(d, reg, low);
		if (low & 1) { /* I/O */
			uint32_t m = mask & 0xfffffffcu;
			if (m) {
				bar->flags = PCI_BAR_IO;
				bar->base = low & 0xfffffffcu;
				bar->size = (uint16_t)(~m + 1) ? (uint16_t)(~m + 1) : 4;
			}
			continue;
		}
		uint64_t base = low & 0xfffffff0u, m64 = mask & 0xfffffff0u;
		unsigned flags = (low & 8) ? PCI_BAR_PREFETCH : 0;
		if (((low >> 1) & 3) == 2 && i + 1 < nbars) { /* 64-bit: two slots */
			uint32_t high = pci_read32(d, reg + 4);
			pci_write32(d, reg + 4, 0xffffffffu);
			uint32_t mask_high = pci_read32(d, reg + 4);
			pci_write32(d, reg + 4, high);
			base |= (uint64_t)high << 32;
			m64 |= (uint64_t)mask_high << 32;
			flags |= PCI_BAR_MEM64;
			i++;
		} else if (m64) {
			m64 |= 0xffffffff00000000ull; /* the size as a 64-bit mask */
		}
		if (m64)
			*bar = (struct pci_bar){.base = base, .size = ~m64 + 1, .flags = flags};
	}
	pci_write16(d, PCI_COMMAND, command);
}

volatile void *pci_map_bar(const struct pci_device *d, unsigned bar, uint64_t offset, size_t size)
{
	const struct pci_bar *b;

	if (bar >= PCI_MAX_BARS)
		return NULL;
	b = &d->bars[bar];
	if ((b->flags & PCI_BAR_IO) || !b->base || !size || offset > b->size ||
	    size > b->size - offset)
		return NULL;
	return map_mmio(b->base + offset, size, VM_UNCACHED);
}

/* ---------------------------------------------------------------- message interrupts */

/* Where an MSI goes: the boot CPU's local APIC, when there is one an MSI
 * can name (an ID above 255 needs interrupt remapping). */
static int msi_address(uint32_t *address)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[3] & (1u << 9)) || apic_id() > 255)
		return -ENODEV;
	*address = MSI_ADDRESS | apic_id() << 12;
	return 0;
}

unsigned pci_msix_count(const struct pci_device *d)
{
	unsigned cap = pci_find_capability(d, PCI_CAP_ID_MSIX, 0);

	return cap ? (pci_read16(d, cap + PCI_MSIX_CONTROL) & 0x7ffu) + 1 : 0;
}

int pci_msix_enable(struct pci_device *d, unsigned nvec, const unsigned *vectors)
{
	unsigned cap = pci_find_capability(d, PCI_CAP_ID_MSIX, 0);
	uint32_t address;

	if (!cap || msi_address(&address))
		return -ENODEV;
	unsigned entries = (pci_read16(d, cap + PCI_MSIX_CONTROL) & 0x7ffu) + 1;
	if (!nvec || nvec > entries)
		return -EINVAL;
	if (!d->msix_table) {
		uint32_t table = pci_read32(d, cap + PCI_MSIX_TABLE);
		d->msix_table = pci_map_bar(d, table & 7, table & ~7u, entries * 16);
		if (!d->msix_table)
			return -ENOMEM;
		d->msix_entries = entries;
	}
	unsigned msi = pci_find_capability(d, PCI_CAP_ID_MSI, 0);
	if (msi)
		pci_write16(d, msi + PCI_MSI_CONTROL,
			    pci_read16(d, msi + PCI_MSI_CONTROL) & ~PCI_MSI_ENABLE);
	/* Enabled but masked as a whole while the entries change. */
	uint16_t control = pci_read16(d, cap + PCI_MSIX_CONTROL);
	pci_write16(d, cap + PCI_MSIX_CONTROL, control | PCI_MSIX_ENABLE | PCI_MSIX_FUNC_MASK);
	for (unsigned i = 0; i < entries; i++) {
		volatile uint32_t *e = d->msix_table + 4 * i;
		e[3] = PCI_MSIX_ENTRY_MASKED;
		if (i >= nvec)
			continue;
		e[0] = address;
		e[1] = 0;
		e[2] = vectors[i];
		e[3] = 0;
	}
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_OFF);
	pci_write16(d, cap + PCI_MSIX_CONTROL, (control | PCI_MSIX_ENABLE) & ~PCI_MSIX_FUNC_MASK);
	return 0;
}

int pci_msi_enable(struct pci_device *d, unsigned vector)
{
	unsigned cap = pci_find_capability(d, PCI_CAP_ID_MSI, 0);
	uint32_t address;

	if (!cap || msi_address(&address))
		return -ENODEV;
	uint16_t control = pci_read16(d, cap + PCI_MSI_CONTROL);
	unsigned data = (control & PCI_MSI_64BIT) ? 12 : 8;

	pci_write32(d, cap + PCI_MSI_ADDR_LO, address);
	if (control & PCI_MSI_64BIT)
		pci_write32(d, cap + PCI_MSI_ADDR_HI, 0);
	pci_write16(d, cap + data, (uint16_t)vector);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_OFF);
	/* One message (MME 0). */
	pci_write16(d, cap + PCI_MSI_CONTROL,
		    (uint16_t)((control & ~PCI_MSI_MME_MASK) | PCI_MSI_ENABLE));
	return 0;
}

/* ---------------------------------------------------------------- enumeration */

static const struct pci_id *match(const struct pci_device *d, const struct pci_driver **out)
{
	for (unsigned i = 0; i < pci.ndrivers; i++) {
		for (const struct pci_id *id = pci.drivers[i]->ids; id->vendor; id++) {
			uint32_t class_code =
			    (uint32_t)d->class_code << 16 | (uint32_t)d->subclass << 8 | d->prog_if;
			if (id->vendor == PCI_ANY_ID
				? id->class_code == class_code
				: id->vendor == d->vendor && id->device == d->device) {
				*out = pci.drivers[i];
				return id;
			}
		}
	}
	return NULL;
}

static void claim(struct pci_device *d)
{
	const struct pci_driver *driver = NULL;
	const struct pci_id *id = match(d, &driver);
	char addr[16];
	uint16_t enable = PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF;

	pci_address(d, addr, sizeof(addr));
	if (d->header_type == 1) {
		kinfo("solo: pci %s %04x:%04x class %02x%02x -> bridge to bus %02x\n", addr,
		      d->vendor, d->device, d->class_code, d->subclass,
		      pci_read8(d, PCI_SECONDARY_BUS));
		return;
	}
	kinfo("solo: pci %s %04x:%04x class %02x%02x -> %s\n", addr, d->vendor, d->device,
	      d->class_code, d->subclass, id ? id->name : "none");
	if (!id)
		return;
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		if (!d->bars[i].size)
			continue;
		enable |= (d->bars[i].flags & PCI_BAR_IO) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | enable);
	d->driver = driver;
	int err = driver->probe(d, id);
	if (err) {
		kprintf("solo: pci %s: %s: probe failed (error %d)\n", addr, driver->name, err);
		pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_COMMAND_MASTER);
		d->driver = NULL;
	}
}

static void scan_bus(unsigned bus, unsigned depth);

static void scan_function(unsigned bus, unsigned slot, unsigned func, unsigned depth)
{
	struct pci_device probe = {
	    .bus = (uint8_t)bus, .slot = (uint8_t)slot, .func = (uint8_t)func};
	struct pci_device *d;

	probe.vendor = pci_read16(&probe, PCI_VENDOR_ID);
	if (probe.vendor == 0xffff || probe.vendor == 0)
		return;
	if (pci.ndevices == PCI_MAX_FUNCTIONS) {
		kprintf("solo: pci %02x:%02x.%u: more than %u functions; ignored\n", bus, slot,
			func, PCI_MAX_FUNCTIONS);
		return;
	}
	d = &pci.devices[pci.ndevices++];
	*d = probe;
	d->device = pci_read16(d, PCI_DEVICE_ID);
	uint32_t class = pci_read32(d, PCI_REVISION);
	d->revision = (uint8_t) class;
	d->prog_if = (uint8_t)(class >> 8);
	d->subclass = (uint8_t)(class >> 16);
	d->class_code = (uint8_t)(class >> 24);
	d->header_type = pci_read8(d, PCI_HEADER_TYPE) & 0x7f;
	size_bars(d);
	claim(d);
	if (d->header_type == 1 && depth < PCI_MAX_DEPTH) {
		unsigned secondary = pci_read8(d, PCI_SECONDARY_BUS);
		if (secondary > bus)
			scan_bus(secondary, depth + 1);
	}
}

static void scan_bus(unsigned bus, unsigned depth)
{
	if (bus > 255 || (pci.bus_seen[bus / 8] & (1u << (bus % 8))))
		return;
	pci.bus_seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	for (unsigned slot = 0; slot < 32; slot++) {
		uint8_t header = (uint8_t)config_read(bus, slot, 0, PCI_HEADER_TYPE, 1);
		unsigned nfunc = (header != 0xff && (header & PCI_HEADER_MULTIFUNC)) ? 8 : 1;

		for (unsigned func = 0; func < nfunc; func++)
			scan_function(bus, slot, func, depth);
	}
}

/* The MCFG's segment-0 window: header, 8 reserved bytes, then 16-byte
 * entries (base u64, segment u16, first bus u8, last bus u8, 4 reserved). */
static void find_ecam(uint64_t rsdp, uint32_t revision)
{
	uint32_t length;
	const uint8_t *mcfg = acpi_find_table(rsdp, revision, "MCFG", &length);

	if (!mcfg)
		return;
	for (uint32_t off = 44; off + 16 <= length; off += 16) {
		uint64_t base;
		uint16_t segment;
		memcpy(&base, mcfg + off, 8);
		memcpy(&segment, mcfg + off + 8, 2);
		if (segment || !base || mcfg[off + 10] > mcfg[off + 11])
			continue;
		pci.ecam_first_bus = mcfg[off + 10];
		pci.ecam_last_bus = mcfg[off + 11];
		pci.ecam_base = base;
		return;
	}
}

/* Whether the legacy mechanism answers: its address register reads back. */
static int legacy_ports_work(void)
{
	uint32_t saved = inl(LEGACY_ADDRESS);

	outl(LEGACY_ADDRESS, 0x80000000u);
	uint32_t v = inl(LEGACY_ADDRESS);
	outl(LEGACY_ADDRESS, saved);
	return v == 0x80000000u;
}

unsigned pci_init(uint64_t acpi_rsdp, uint32_t acpi_revision,
		  const struct pci_driver *const *drivers, unsigned ndrivers)
{
	pci.drivers = drivers;
	pci.ndrivers = ndrivers;
	if (acpi_rsdp)
		find_ecam(acpi_rsdp, acpi_revision);
	if (pci.ecam_base) {
		kinfo("solo: pci: ECAM at %#lx, buses %02x-%02x\n", pci.ecam_base,
		      pci.ecam_first_bus, pci.ecam_last_bus);
	} else if (legacy_ports_work()) {
		kinfo("solo: pci: configuration through ports 0xcf8/0xcfc\n");
	} else {
		kinfo("solo: pci: no configuration access; no PCI devices\n");
		return 0;
	}
	scan_bus(pci.ecam_base ? pci.ecam_first_bus : 0, 0);
	return pci.ndevices;
}

void pci_keep_ranges(int (*keep)(uint64_t base, uint64_t size, const char *what))
{
	if (pci.ecam_base) {
		unsigned nbuses = (unsigned)pci.ecam_last_bus - pci.ecam_first_bus + 1;
		keep(pci.ecam_base, (uint64_t)nbuses * ECAM_BUS_SIZE, "the PCI ECAM window");
	}
	for (unsigned i = 0; i < pci.ndevices; i++) {
		const struct pci_device *d = &pci.devices[i];
		if (!d->driver)
			continue;
		for (unsigned b = 0; b < PCI_MAX_BARS; b++) {
			if (d->bars[b].size && !(d->bars[b].flags & PCI_BAR_IO))
				keep(d->bars[b].base, d->bars[b].size, d->driver->name);
		}
	}
}

void *pci_dma_alloc(size_t size, uint64_t *pa)
{
	size_t npages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;

	*pa = palloc(npages);
	if (!*pa)
		return NULL;
	memset(phys_to_virt(*pa), 0, npages * PAGE_SIZE);
	return phys_to_virt(*pa);
}
