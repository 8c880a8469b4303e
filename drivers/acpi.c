/*
 * ACPI power-off and reset (see acpi.h).
 *
 * \_S5 lives in AML, but its encoding is fixed enough to find without an
 * interpreter: NameOp '_S5_' PackageOp PkgLength NumElements, then the
 * first two elements (SLP_TYPa, SLP_TYPb) as byte constants or Zero/One.
 */
#include "drivers/acpi.h"

#include "kernel/arch/x86_64/portio.h"
#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "mm/phys.h"
#include "mm/vm.h"

struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct sdt_header) == 36, "ACPI SDT header");

#define FADT_DSDT		40
#define FADT_SMI_CMD		48
#define FADT_ACPI_ENABLE	52
#define FADT_PM1A_CNT		64
#define FADT_PM1B_CNT		68
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_X_DSDT		140
#define FADT_X_PM1A_CNT		172
#define FADT_X_PM1B_CNT		184
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define GAS_SYSTEM_IO		1
#define PM1_SCI_EN		(1u << 0)
#define PM1_SLP_EN		(1u << 13)
#define MAX_TABLE_LENGTH	(16u << 20)

static struct {
	int ready;
	uint16_t pm1a_cnt, pm1b_cnt;
	uint16_t slp_typa, slp_typb;
	uint16_t smi_cmd;
	uint8_t acpi_enable;
	uint16_t reset_port;
	uint8_t reset_value;
	int have_reset;
} acpi;

/* The bytes [phys, phys + len) are readable through the direct map. A
 * range that wraps past the top of the address space would skip the page
 * walk below and hand back an address nothing maps (found by
 * tests/fuzz/fuzz_acpi.c: an X_DSDT of ~0). */
static const void *map_phys(uint64_t phys, uint64_t len)
{
	if (!phys || len > MAX_TABLE_LENGTH || phys > UINT64_MAX - len)
		return NULL;
	for (uint64_t page = phys & ~(uint64_t)(PAGE_SIZE - 1); page < phys + len;
	     page += PAGE_SIZE) {
		if (vm_lookup(&kernel_ctx, (vaddr_t)phys_to_virt(page), NULL, NULL))
			return NULL;
	}
	return phys_to_virt(phys);
}

static int checksum_ok(const void *p, uint64_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (uint64_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static const struct sdt_header *map_table(uint64_t phys)
{
	const struct sdt_header *h = map_phys(phys, sizeof(*h));

	if (!h || h->length < sizeof(*h) || !map_phys(phys, h->length) ||
	    !checksum_ok(h, h->length))
		return NULL;
	return h;
}

static uint32_t read32(const void *base, unsigned off)
{
	uint32_t v;
	memcpy(&v, (const uint8_t *)base + off, 4);
	return v;
}

static uint64_t read64(const void *base, unsigned off)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)base + off, 8);
	return v;
}

static const struct sdt_header *find_table(uint64_t rsdp_phys, uint32_t revision, const char *sig)
{
	const uint8_t *rsdp = map_phys(rsdp_phys, 36);

	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) || !checksum_ok(rsdp, 20))
		return NULL;
	uint64_t root_phys = read32(rsdp, 16);
	unsigned entry_size = 4;
	if (rsdp[15] >= 2 && revision >= 2 && checksum_ok(rsdp, 36) && read64(rsdp, 24)) {
		root_phys = read64(rsdp, 24);
		entry_size = 8;
	}
	const struct sdt_header *root = map_table(root_phys);
	if (!root)
		return NULL;
	unsigned count = (root->length - sizeof(*root)) / entry_size;
	for (unsigned i = 0; i < count; i++) {
		unsigned off = sizeof(*root) + i * entry_size;
		uint64_t phys = entry_size == 8 ? read64(root, off) : read32(root, off);
		const struct sdt_header *t = map_table(phys);
		if (t && !memcmp(t->signature, sig, 4))
			return t;
	}
	return NULL;
}

const void *acpi_find_table(uint64_t rsdp, uint32_t revision, const char *signature,
			    uint32_t *length)
{
	const struct sdt_header *t = find_table(rsdp, revision, signature);

	if (t)
		*length = t->length;
	return t;
}

/* The MADT: header, local APIC address and flags, then entries of
 * (type, length, ...); an I/O APIC entry (type 1, 12 bytes) has its register
 * address at byte 4. */
#define MADT_ENTRIES	 44
#define MADT_IOAPIC	 1
#define MADT_IOAPIC_SIZE 12

/* Walks the entries of a table made of (type, length, ...) entries after a
 * fixed part (the MADT's, the SRAT's), each length checked against the
 * table. */
struct entry_cursor {
	const uint8_t *t;
	uint32_t length, off;
};

static int madt_open(struct entry_cursor *c, uint64_t rsdp, uint32_t revision)
{
	const struct sdt_header *madt = find_table(rsdp, revision, "APIC");

	if (!madt)
		return 0;
	*c = (struct entry_cursor){(const uint8_t *)madt, madt->length, MADT_ENTRIES};
	return 1;
}

/* The next entry's offset in the table, with its type and length; 0 at
 * the end or at an entry whose length cannot be (the walk stops there). */
static uint32_t next_entry(struct entry_cursor *c, uint8_t *type, uint8_t *len)
{
	if (c->off + 2 > c->length)
		return 0;
	uint32_t at = c->off;
	uint8_t l = c->t[at + 1];
	if (l < 2 || l > c->length - at)
		return 0;
	*type = c->t[at];
	*len = l;
	c->off += l;
	return at;
}

unsigned acpi_ioapics(uint64_t rsdp, uint32_t revision, uint64_t *addrs, unsigned max)
{
	struct entry_cursor c;
	uint8_t type, len;
	unsigned n = 0;

	if (!madt_open(&c, rsdp, revision))
		return 0;
	for (uint32_t off; (off = next_entry(&c, &type, &len));) {
		if (type == MADT_IOAPIC && len >= MADT_IOAPIC_SIZE) {
			if (n < max)
				addrs[n] = read32(c.t, off + 4);
			n++;
		}
	}
	return n;
}

/* Processor entries: type 0 has the APIC ID in byte 3 and the flags at
 * byte 4; type 9 the x2APIC ID at byte 4 and the flags at byte 8. */
#define MADT_LAPIC		0
#define MADT_LAPIC_SIZE		8
#define MADT_X2APIC		9
#define MADT_X2APIC_SIZE	16
#define MADT_CPU_ENABLED	(1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)

/* Whether the MADT entry at off is a usable processor (enabled or online
 * capable), with its local APIC ID in *id. */
static int usable_cpu(const uint8_t *t, uint32_t off, uint8_t type, uint8_t len, uint32_t *id)
{
	uint32_t flags;

	if (type == MADT_LAPIC && len >= MADT_LAPIC_SIZE) {
		*id = t[off + 3];
		flags = read32(t, off + 4);
	} else if (type == MADT_X2APIC && len >= MADT_X2APIC_SIZE) {
		*id = read32(t, off + 4);
		flags = read32(t, off + 8);
	} else {
		return 0;
	}
	return (flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)) != 0;
}

/* Whether a usable processor entry before the one at end has ID id. */
static int listed_before(const struct entry_cursor *from, uint32_t end, uint32_t id)
{
	struct entry_cursor c = *from;
	uint8_t type, len;
	uint32_t other;

	for (uint32_t off; (off = next_entry(&c, &type, &len)) && off < end;) {
		if (usable_cpu(c.t, off, type, len, &other) && other == id)
			return 1;
	}
	return 0;
}

unsigned acpi_cpus(uint64_t rsdp, uint32_t revision, uint32_t *ids, unsigned max)
{
	struct entry_cursor c;
	uint8_t type, len;
	unsigned n = 0;

	if (!madt_open(&c, rsdp, revision))
		return 0;
	const struct entry_cursor start = c;
	for (uint32_t off; (off = next_entry(&c, &type, &len));) {
		uint32_t id;
		if (!usable_cpu(c.t, off, type, len, &id))
			continue;
		/* Firmware lists a CPU in both forms when its ID fits 8 bits;
		 * starting it twice would be a bug. Past max, the entries
		 * before are looked at again (machines that big are few). */
		if (n >= max) {
			n += !listed_before(&start, off, id);
			continue;
		}
		unsigned i = 0;
		while (i < n && ids[i] != id)
			i++;
		if (i == n)
			ids[n++] = id;
	}
	return n;
}

/* The SRAT: header, 12 reserved bytes, then entries. A processor local
 * APIC affinity entry (type 0, 16 bytes) has the proximity domain's low
 * byte at byte 2, the APIC ID at byte 3, the flags at byte 4 and, from
 * table revision 2 on, the domain's upper three bytes at byte 9; a
 * processor local x2APIC affinity entry (type 2, 24 bytes) the domain at
 * byte 4, the x2APIC ID at byte 8 and the flags at byte 12. */
#define SRAT_ENTRIES	 48
#define SRAT_LAPIC	 0
#define SRAT_LAPIC_SIZE	 16
#define SRAT_X2APIC	 2
#define SRAT_X2APIC_SIZE 24
#define SRAT_CPU_ENABLED (1u << 0)
/* In nodes[] while the walk runs: the CPU already has its node. */
#define NODE_SEEN (1u << 31)

unsigned acpi_srat_cpu_nodes(const void *srat, uint32_t length, const uint32_t *ids, unsigned n,
			     unsigned *nodes)
{
	const uint8_t *t = srat;
	struct entry_cursor c = {t, length, SRAT_ENTRIES};
	uint32_t domains[ACPI_MAX_NODES]; /* by node: its proximity domain */
	unsigned numbered = 0;
	uint8_t type, len;

	for (unsigned i = 0; i < n; i++)
		nodes[i] = 0;
	if (length < SRAT_ENTRIES)
		return 0;
	for (uint32_t off; (off = next_entry(&c, &type, &len));) {
		uint32_t id, domain, flags;
		if (type == SRAT_LAPIC && len >= SRAT_LAPIC_SIZE) {
			id = t[off + 3];
			flags = read32(t, off + 4);
			domain = t[off + 2];
			if (((const struct sdt_header *)srat)->revision >= 2)
				domain |= (uint32_t)t[off + 9] << 8 | (uint32_t)t[off + 10] << 16 |
					  (uint32_t)t[off + 11] << 24;
		} else if (type == SRAT_X2APIC && len >= SRAT_X2APIC_SIZE) {
			domain = read32(t, off + 4);
			id = read32(t, off + 8);
			flags = read32(t, off + 12);
		} else {
			continue;
		}
		/* Linux skips a disabled entry before it numbers its domain. */
		if (!(flags & SRAT_CPU_ENABLED))
			continue;
		unsigned node = 0;
		while (node < numbered && domains[node] != domain)
			node++;
		if (node == numbered) {
			if (numbered == ACPI_MAX_NODES)
				continue;
			domains[numbered++] = domain;
		}
		/* A CPU listed twice (in both entry forms) keeps its first node. */
		for (unsigned i = 0; i < n; i++) {
			if (ids[i] == id && !(nodes[i] & NODE_SEEN))
				nodes[i] = node | NODE_SEEN;
		}
	}
	for (unsigned i = 0; i < n; i++)
		nodes[i] &= ~NODE_SEEN;
	return numbered;
}

unsigned acpi_cpu_nodes(uint64_t rsdp, uint32_t revision, const uint32_t *ids, unsigned n,
			unsigned *nodes)
{
	const struct sdt_header *srat = find_table(rsdp, revision, "SRAT");

	/* Without one, a length of 0 puts every CPU on node 0. */
	return acpi_srat_cpu_nodes(srat, srat ? srat->length : 0, ids, n, nodes);
}

/* Reads one AML integer constant of a package element; advances *p. */
static int aml_small_integer(const uint8_t **p, const uint8_t *end, uint16_t *out)
{
	const uint8_t *q = *p;

	if (q >= end)
		return -1;
	if (*q == 0x0a && q + 1 < end) { /* BytePrefix */
		*out = q[1];
		*p = q + 2;
	} else if (*q == 0x00 || *q == 0x01) { /* ZeroOp, OneOp */
		*out = *q;
		*p = q + 1;
	} else {
		return -1;
	}
	return 0;
}

static int parse_s5(const struct sdt_header *dsdt)
{
	const uint8_t *aml = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (const uint8_t *p = aml + 1; p + 4 < end; p++) {
		if (memcmp(p, "_S5_", 4))
			continue;
		/* NameOp directly before, or before a root prefix '\' */
		if (p[-1] != 0x08 && !(p[-1] == '\\' && p - 2 >= aml && p[-2] == 0x08))
			continue;
		const uint8_t *q = p + 4;
		if (q >= end || *q++ != 0x12) /* PackageOp */
			continue;
		if (q >= end)
			return -1;
		q += 1 + (*q >> 6); /* PkgLength: lead byte + 0..3 more */
		q++;		    /* NumElements */
		if (aml_small_integer(&q, end, &acpi.slp_typa) ||
		    aml_small_integer(&q, end, &acpi.slp_typb))
			return -1;
		return 0;
	}
	return -1;
}

static uint16_t fadt_port(const struct sdt_header *fadt, unsigned legacy_off, unsigned gas_off)
{
	if (fadt->length >= gas_off + 12) {
		const uint8_t *gas = (const uint8_t *)fadt + gas_off;
		uint64_t addr = read64(gas, 4);
		if (gas[0] == GAS_SYSTEM_IO && addr && addr <= 0xffff)
			return (uint16_t)addr;
	}
	if (fadt->length >= legacy_off + 4) {
		uint32_t port = read32(fadt, legacy_off);
		if (port <= 0xffff)
			return (uint16_t)port;
	}
	return 0;
}

int acpi_init(uint64_t rsdp, uint32_t revision)
{
	const struct sdt_header *fadt = find_table(rsdp, revision, "FACP");

	if (!fadt || fadt->length < FADT_PM1B_CNT + 4) {
		kprintf("solo: acpi: no usable FADT; poweroff will fall back to halting\n");
		return -ENOENT;
	}
	acpi.pm1a_cnt = fadt_port(fadt, FADT_PM1A_CNT, FADT_X_PM1A_CNT);
	acpi.pm1b_cnt = fadt_port(fadt, FADT_PM1B_CNT, FADT_X_PM1B_CNT);
	acpi.smi_cmd = (uint16_t)read32(fadt, FADT_SMI_CMD);
	acpi.acpi_enable = ((const uint8_t *)fadt)[FADT_ACPI_ENABLE];
	if (fadt->length >= FADT_RESET_VALUE + 1 &&
	    (read32(fadt, FADT_FLAGS) & FADT_FLAG_RESET_REG_SUP)) {
		const uint8_t *gas = (const uint8_t *)fadt + FADT_RESET_REG;
		uint64_t addr = read64(gas, 4);
		if (gas[0] == GAS_SYSTEM_IO && addr && addr <= 0xffff) {
			acpi.reset_port = (uint16_t)addr;
			acpi.reset_value = ((const uint8_t *)fadt)[FADT_RESET_VALUE];
			acpi.have_reset = 1;
		}
	}

	uint64_t dsdt_phys = 0;
	if (fadt->length >= FADT_X_DSDT + 8)
		dsdt_phys = read64(fadt, FADT_X_DSDT);
	if (!dsdt_phys)
		dsdt_phys = read32(fadt, FADT_DSDT);
	const struct sdt_header *dsdt = map_table(dsdt_phys);
	if (!dsdt || memcmp(dsdt->signature, "DSDT", 4) || parse_s5(dsdt) || !acpi.pm1a_cnt) {
		kprintf("solo: acpi: no \\_S5 sleep state; poweroff will fall back to halting\n");
		return -ENOENT;
	}
	acpi.ready = 1;
	return 0;
}

void acpi_poweroff(void)
{
	if (!acpi.ready)
		return;
	if (!(inw(acpi.pm1a_cnt) & PM1_SCI_EN) && acpi.smi_cmd && acpi.acpi_enable) {
		outb(acpi.smi_cmd, acpi.acpi_enable);
		for (int i = 0; i < 1000000 && !(inw(acpi.pm1a_cnt) & PM1_SCI_EN); i++)
			__asm__ volatile("pause");
	}
	outw(acpi.pm1a_cnt, (uint16_t)((acpi.slp_typa & 7) << 10) | PM1_SLP_EN);
	if (acpi.pm1b_cnt)
		outw(acpi.pm1b_cnt, (uint16_t)((acpi.slp_typb & 7) << 10) | PM1_SLP_EN);
	/* S5 takes effect asynchronously on some chipsets: give it a moment. */
	for (int i = 0; i < 10000000; i++)
		__asm__ volatile("pause");
}

void acpi_reset(void)
{
	if (acpi.have_reset)
		outb(acpi.reset_port, acpi.reset_value);
}
