/*
 * Writes the fuzzers' generated seed inputs (tests/fuzz/seeds.sh runs it):
 *
 *   fuzz-gen-seeds DIR
 *
 * DIR/elf/gen-*   the smallest ELF files elf_check accepts: a static app
 *                 (ET_EXEC), a PIE with PT_INTERP and PT_PHDR, a kernel
 * DIR/acpi/gen-*  firmware memory as tests/fuzz/fuzz_acpi.c reads it: an
 *                 RSDP at FUZZ_ACPI_BASE, then an XSDT (or an RSDT), a
 *                 FADT with its DSDT (with \_S5), an MCFG and a MADT,
 *                 every length and checksum right, laid out as OVMF's
 *                 are in spirit (not byte for byte)
 * DIR/<t>/regress-*  the inputs of bugs found, replayed by make test-fuzz
 *                 so that they stay fixed
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/elf.h"
#include "tests/fuzz/fuzz.h"

static const char *dir;

static void put(const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- ELF ---- */

static size_t elf(uint8_t *buf, uint16_t type, uint64_t base, const char *interp)
{
	struct elf64_ehdr *eh = (void *)buf;
	struct elf64_phdr *ph = (void *)(buf + sizeof(*eh));
	unsigned n = 0;
	size_t end = sizeof(*eh) + (interp ? 3 : 1) * sizeof(*ph);

	memset(buf, 0, 4096);
	memcpy(eh->e_ident,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	eh->e_type = type;
	eh->e_machine = 62;
	eh->e_version = 1;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	if (interp) {
		ph[n++] = (struct elf64_phdr){.p_type = ELF_PT_PHDR,
					      .p_flags = ELF_PF_R,
					      .p_offset = sizeof(*eh),
					      .p_vaddr = base + sizeof(*eh),
					      .p_filesz = 3 * sizeof(*ph),
					      .p_memsz = 3 * sizeof(*ph),
					      .p_align = 8};
		size_t len = strlen(interp) + 1;
		ph[n++] = (struct elf64_phdr){.p_type = ELF_PT_INTERP,
					      .p_flags = ELF_PF_R,
					      .p_offset = end,
					      .p_vaddr = base + end,
					      .p_filesz = len,
					      .p_memsz = len,
					      .p_align = 1};
		memcpy(buf + end, interp, len);
		end += len;
	}
	/* The code: mov $60, %eax; xor %edi, %edi; syscall (exit(0)). */
	static const uint8_t code[] = {0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};
	eh->e_entry = base + end;
	memcpy(buf + end, code, sizeof(code));
	end += sizeof(code);
	ph[n++] = (struct elf64_phdr){.p_type = ELF_PT_LOAD,
				      .p_flags = ELF_PF_R | ELF_PF_X,
				      .p_offset = 0,
				      .p_vaddr = base,
				      .p_paddr = base,
				      .p_filesz = end,
				      .p_memsz = end + 64,
				      .p_align = 4096};
	eh->e_phnum = (uint16_t)n;
	return end;
}

static void elf_seeds(void)
{
	uint8_t buf[4096] __attribute__((aligned(8)));
	size_t n;

	n = elf(buf, ELF_ET_EXEC, 0x400000, NULL);
	put("elf", "gen-static", buf, n);
	n = elf(buf, ELF_ET_DYN, 0, "/lib/ld-musl-x86_64.so.1");
	put("elf", "gen-pie-interp", buf, n);
	n = elf(buf, ELF_ET_EXEC, 0xffffffff80000000ull, NULL);
	put("elf", "gen-kernel", buf, n);
	/* Regression: a segment in the last page, whose end rounded up to a
	 * page wrapped to 0, was accepted as an app (kernel/elf.c). */
	n = elf(buf, ELF_ET_EXEC, 0xfffffffffffff000ull, NULL);
	put("elf", "regress-vaddr-wrap", buf, n);
}

/* ---- ACPI ---- */

static uint8_t mem[8192];

static void checksum(uint8_t *p, size_t len, size_t at)
{
	uint8_t sum = 0;

	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	p[at] = (uint8_t)-sum;
}

/* A table header at offset off of mem; returns the table's start. */
static uint8_t *table(size_t off, const char *sig, uint32_t length, uint8_t revision)
{
	uint8_t *t = mem + off;

	memcpy(t, sig, 4);
	memcpy(t + 4, &length, 4);
	t[8] = revision;
	memcpy(t + 10, "SOLOFZ", 6);
	memcpy(t + 16, "FUZZSEED", 8);
	return t;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

#define PHYS(off) (FUZZ_ACPI_BASE + (off))

/* Offsets in mem of each table. */
enum { RSDP = 0, XSDT = 0x40, RSDT = 0x80, FADT = 0x100, DSDT = 0x300, MCFG = 0x400, MADT = 0x480 };

static size_t acpi_memory(int xsdt, int reset_reg)
{
	memset(mem, 0, sizeof(mem));
	uint8_t *r = mem + RSDP;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "SOLOFZ", 6);
	r[15] = xsdt ? 2 : 0;
	put32(r + 16, (uint32_t)PHYS(RSDT));
	put32(r + 20, 36);
	if (xsdt)
		put64(r + 24, PHYS(XSDT));
	checksum(r, 20, 8);
	checksum(r, 36, 32);

	uint8_t *x = table(XSDT, "XSDT", 36 + 3 * 8, 1);
	put64(x + 36, PHYS(FADT));
	put64(x + 44, PHYS(MCFG));
	put64(x + 52, PHYS(MADT));
	checksum(x, 36 + 3 * 8, 9);
	uint8_t *rs = table(RSDT, "RSDT", 36 + 3 * 4, 1);
	put32(rs + 36, (uint32_t)PHYS(FADT));
	put32(rs + 40, (uint32_t)PHYS(MCFG));
	put32(rs + 44, (uint32_t)PHYS(MADT));
	checksum(rs, 36 + 3 * 4, 9);

	/* FADT (revision 6, 276 bytes): DSDT, SMI_CMD, PM1a/b control. */
	uint32_t flen = 276;
	uint8_t *f = table(FADT, "FACP", flen, 6);
	put32(f + 40, (uint32_t)PHYS(DSDT));
	put32(f + 48, 0xb2);
	f[52] = 0xf1;
	put32(f + 64, 0x604);
	if (reset_reg) {
		put32(f + 112, 1u << 10);
		f[116] = 1; /* GAS: system I/O, 8 bits, port 0xcf9 */
		f[117] = 8;
		put64(f + 120, 0xcf9);
		f[128] = 0x06;
	}
	put64(f + 140, PHYS(DSDT));
	f[172] = 1;
	f[173] = 16;
	put64(f + 176, 0x604);
	checksum(f, flen, 9);

	/* DSDT: Name (\_S5, Package (4) { 5, Zero, Zero, Zero }) in AML. */
	static const uint8_t aml[] = {0x08, '\\', '_',	'S',  '5',  '_',  0x12,
				      0x08, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00};
	uint32_t dlen = 36 + sizeof(aml);
	uint8_t *d = table(DSDT, "DSDT", dlen, 2);
	memcpy(d + 36, aml, sizeof(aml));
	checksum(d, dlen, 9);

	/* MCFG: one ECAM window, segment 0, buses 0..255 at 0xb0000000. */
	uint32_t mlen = 44 + 16;
	uint8_t *m = table(MCFG, "MCFG", mlen, 1);
	put64(m + 44, 0xb0000000);
	m[54] = 0;
	m[55] = 0xff;
	checksum(m, mlen, 9);

	/* MADT: local APIC address, one processor local APIC, one I/O APIC. */
	uint32_t alen = 44 + 8 + 12;
	uint8_t *a = table(MADT, "APIC", alen, 4);
	put32(a + 36, 0xfee00000);
	put32(a + 40, 1);
	a[44] = 0, a[45] = 8, a[46] = 0, a[47] = 0, put32(a + 48, 1);
	a[52] = 1, a[53] = 12, a[54] = 0, put32(a + 56, 0xfec00000);
	checksum(a, alen, 9);
	return MADT + alen;
}

static void acpi_seeds(void)
{
	size_t n;

	n = acpi_memory(1, 1);
	put("acpi", "gen-xsdt", mem, n);
	n = acpi_memory(0, 0);
	put("acpi", "gen-rsdt", mem, n);

	/* Regressions: a table address whose table would end past 2^64 was
	 * followed unchecked (drivers/acpi.c map_phys); found by fuzz_acpi with
	 * an X_DSDT of ~0. */
	n = acpi_memory(1, 0);
	put64(mem + FADT + 140, ~0ull);
	checksum(mem + FADT, 276, 9);
	put("acpi", "regress-xdsdt-wrap", mem, n);
	n = acpi_memory(1, 0);
	put64(mem + XSDT + 44, ~0ull - 20);
	checksum(mem + XSDT, 36 + 3 * 8, 9);
	put("acpi", "regress-xsdt-entry-wrap", mem, n);
	n = acpi_memory(1, 0);
	put64(mem + RSDP + 24, ~0ull - 35);
	checksum(mem + RSDP, 36, 32);
	put("acpi", "regress-rsdp-xsdt-wrap", mem, n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-gen-seeds DIR\n");
		return 2;
	}
	dir = argv[1];
	elf_seeds();
	acpi_seeds();
	return 0;
}
