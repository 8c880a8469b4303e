/*
 * pci - the PCI bus: configuration space, enumeration, BARs and message
 * interrupts, and the table of drivers that claim devices.
 *
 * Configuration space is reached through ECAM (the memory window the ACPI
 * MCFG table describes: 4 KiB per function, mapped uncached one bus at a
 * time) and otherwise through the legacy ports 0xcf8/0xcfc (the first 256
 * bytes only). pci_init walks bus 0 and every bus behind a PCI-PCI bridge
 * as the firmware numbered them (Solo does not renumber buses or move
 * BARs), logs one line per function and hands each function whose IDs a
 * driver lists to that driver's probe, after enabling its decoding and bus
 * mastering.
 *
 * Interrupts are message-signalled only: MSI-X, else MSI, aimed at the boot
 * CPU's local APIC (address 0xfee00000 | id << 12, data = the vector: fixed
 * delivery, edge). Legacy INTx needs the I/O APIC and the routing in the
 * ACPI namespace (AML), which Solo does not have: a device without MSI or
 * MSI-X is polled by its driver. INTx is disabled on every claimed device.
 *
 * Context: boot time, one CPU (pci_init and the probes run before the app);
 * nothing here blocks or allocates after pci_init.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_BARS 6

/* pci_bar.flags */
#define PCI_BAR_IO	 (1u << 0) /* an I/O-port range: base is a port number */
#define PCI_BAR_MEM64	 (1u << 1) /* a 64-bit memory BAR (takes two slots) */
#define PCI_BAR_PREFETCH (1u << 2)

struct pci_bar {
	uint64_t base; /* physical address or port; 0 with size 0: not there */
	uint64_t size; /* bytes */
	unsigned flags;
};

/* Standard configuration-space offsets the drivers use. */
#define PCI_COMMAND	     0x04
#define PCI_CAP_ID_MSI	     0x05
#define PCI_CAP_ID_VENDOR    0x09
#define PCI_CAP_ID_MSIX	     0x11
#define PCI_COMMAND_IO	     (1u << 0)
#define PCI_COMMAND_MEMORY   (1u << 1)
#define PCI_COMMAND_MASTER   (1u << 2)
#define PCI_COMMAND_INTX_OFF (1u << 10)

struct pci_driver;

struct pci_device {
	uint8_t bus, slot, func;
	uint8_t header_type; /* 0 device, 1 PCI-PCI bridge */
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	struct pci_bar bars[PCI_MAX_BARS];
	const struct pci_driver *driver; /* the one that claimed it, or NULL */
	/* MSI-X, once enabled: the vector table, mapped. */
	volatile uint32_t *msix_table;
	unsigned msix_entries;
};

/* One device a driver claims; name is the boot log's ("e1000e"). With
 * vendor PCI_ANY_ID the entry claims by class instead: class_code is the
 * class, subclass and programming interface (0x0c0330: an xHCI). */
#define PCI_ANY_ID 0xffff
struct pci_id {
	uint16_t vendor, device;
	const char *name;
	uint32_t class_code;
};

struct pci_driver {
	const char *name;
	const struct pci_id *ids; /* ends with a {0, 0, NULL} entry */
	/* Takes dev (decoding and bus mastering already on). Returns 0, or a
	 * negative errno: the device is then left with bus mastering off. The
	 * device and id stay valid for ever. */
	int (*probe)(struct pci_device *dev, const struct pci_id *id);
};

/*
 * pci_init - find the configuration mechanism (MCFG through acpi_rsdp and
 * revision as in boot_info, else the legacy ports), enumerate, log and
 * probe with the ndrivers drivers (the first whose table lists a device
 * gets it). Once, at boot, after the heap exists; interrupts off. Returns
 * the number of functions found (0: no PCI, or no configuration access).
 */
unsigned pci_init(uint64_t acpi_rsdp, uint32_t acpi_revision,
		  const struct pci_driver *const *drivers, unsigned ndrivers);

/*
 * pci_keep_ranges - hands keep() every physical range the kernel's PCI use
 * owns: the whole ECAM window (configuration space of every bus the MCFG
 * covers) and each memory BAR of a function a driver claimed. For
 * map_memory's policy (kernel/physpolicy.h); after pci_init. keep's result
 * is the policy's business and is ignored here.
 */
void pci_keep_ranges(int (*keep)(uint64_t base, uint64_t size, const char *what));

/* Configuration-space reads and writes of naturally aligned 8/16/32-bit
 * fields at offset (0..4095 with ECAM, 0..255 with the ports; beyond that
 * reads give all ones and writes are dropped). */
uint8_t pci_read8(const struct pci_device *dev, unsigned offset);
uint16_t pci_read16(const struct pci_device *dev, unsigned offset);
uint32_t pci_read32(const struct pci_device *dev, unsigned offset);
void pci_write16(const struct pci_device *dev, unsigned offset, uint16_t value);
void pci_write32(const struct pci_device *dev, unsigned offset, uint32_t value);

/*
 * pci_find_capability - the offset of the first capability with id after
 * the one at offset after (0: from the start of the list), or 0 when there
 * is none. Walks at most 48 entries, so a looping list ends.
 */
unsigned pci_find_capability(const struct pci_device *dev, uint8_t id, unsigned after);

/*
 * pci_dma_alloc - size bytes of zeroed, physically contiguous memory a
 * bus-mastering device may read and write: the kernel address, with the
 * physical one in *pa, or NULL without memory. Whole pages, kept for the
 * kernel's life (devices are never torn down).
 */
void *pci_dma_alloc(size_t size, uint64_t *pa);

/*
 * pci_map_bar - map size bytes at offset into memory BAR bar, uncached.
 * Returns the kernel address, or NULL when the BAR is an I/O range or
 * absent, the range does not fit in it, or map_mmio failed. The mapping
 * is never undone (devices stay for the kernel's life).
 */
volatile void *pci_map_bar(const struct pci_device *dev, unsigned bar, uint64_t offset,
			   size_t size);

/*
 * pci_msix_enable - program the first nvec entries of the device's MSI-X
 * table with vectors[0..nvec) (vectors from irq_alloc_vector), unmask
 * them and turn MSI-X on (INTx and MSI off). Returns 0, -ENODEV (no MSI-X
 * capability or no local APIC to send to), -EINVAL (nvec is 0 or more
 * than the table has) or -ENOMEM (the table could not be mapped).
 */
int pci_msix_enable(struct pci_device *dev, unsigned nvec, const unsigned *vectors);
/* The number of MSI-X table entries, 0 without the capability. */
unsigned pci_msix_count(const struct pci_device *dev);

/*
 * pci_msi_enable - one MSI message with vector; returns 0, or -ENODEV (no
 * MSI capability or no local APIC).
 */
int pci_msi_enable(struct pci_device *dev, unsigned vector);

/* "00:02.0" for the log; buf holds at least 8 bytes. */
const char *pci_address(const struct pci_device *dev, char *buf, size_t size);
