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
 * DIR/net/gen-*   Ethernet frames as fuzz_net reads them: ARP, ICMP echo,
 *                 UDP (whole and in fragments), TCP conversations over
 *                 IPv4 and IPv6, every checksum right
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
enum {
	RSDP = 0,
	XSDT = 0x40,
	RSDT = 0x90,
	FADT = 0x100,
	DSDT = 0x300,
	MCFG = 0x400,
	MADT = 0x480,
	SRAT = 0x600
};

static size_t acpi_memory(int xsdt, int reset_reg, int more_cpus)
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

	uint8_t *x = table(XSDT, "XSDT", 36 + 4 * 8, 1);
	put64(x + 36, PHYS(FADT));
	put64(x + 44, PHYS(MCFG));
	put64(x + 52, PHYS(MADT));
	put64(x + 60, PHYS(SRAT));
	checksum(x, 36 + 4 * 8, 9);
	uint8_t *rs = table(RSDT, "RSDT", 36 + 4 * 4, 1);
	put32(rs + 36, (uint32_t)PHYS(FADT));
	put32(rs + 40, (uint32_t)PHYS(MCFG));
	put32(rs + 44, (uint32_t)PHYS(MADT));
	put32(rs + 48, (uint32_t)PHYS(SRAT));
	checksum(rs, 36 + 4 * 4, 9);

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

	/* MADT: local APIC address, one processor local APIC, one I/O APIC,
	 * a disabled CPU (APIC 1), an online-capable x2APIC one (ID 0x100)
	 * and the first CPU again as x2APIC (acpi_cpus lists it once). */
	uint32_t alen = 44 + 8 + 12 + 8 + 16 + 16 + (more_cpus ? 8 * 8 : 0);
	uint8_t *a = table(MADT, "APIC", alen, 4);
	put32(a + 36, 0xfee00000);
	put32(a + 40, 1);
	a[44] = 0, a[45] = 8, a[46] = 0, a[47] = 0, put32(a + 48, 1);
	a[52] = 1, a[53] = 12, a[54] = 0, put32(a + 56, 0xfec00000);
	a[64] = 0, a[65] = 8, a[66] = 1, a[67] = 1, put32(a + 68, 0);
	a[72] = 9, a[73] = 16, put32(a + 76, 0x100), put32(a + 80, 2), put32(a + 84, 2);
	a[88] = 9, a[89] = 16, put32(a + 92, 0), put32(a + 96, 1), put32(a + 100, 0);
	/* More CPUs than fuzz_acpi's first buffer holds: APICs 2 to 7, then
	 * 2 and 7 again (each counted once). */
	for (int i = 0; more_cpus && i < 8; i++) {
		uint8_t *e = a + 104 + 8 * i;
		e[0] = 0, e[1] = 8, e[2] = (uint8_t)(2 + i),
		e[3] = i < 6	? (uint8_t)(2 + i)
		       : i == 6 ? 2
				: 7;
		put32(e + 4, 1);
	}
	checksum(a, alen, 9);

	/* SRAT (revision 3): a memory range in domain 7, then APIC 0 in
	 * domain 2, the disabled APIC 1 in domain 5 and x2APIC 0x100 in
	 * domain 0x10000 (nodes 0 and 1 for the CPUs). */
	uint32_t slen = 48 + 40 + 16 + 16 + 24;
	uint8_t *sr = table(SRAT, "SRAT", slen, 3);
	put32(sr + 36, 1);
	sr[48] = 1, sr[49] = 40, put32(sr + 50, 7), put32(sr + 76, 1);
	sr[88] = 0, sr[89] = 16, sr[90] = 2, sr[91] = 0, put32(sr + 92, 1);
	sr[104] = 0, sr[105] = 16, sr[106] = 5, sr[107] = 1, put32(sr + 108, 0);
	sr[120] = 2, sr[121] = 24, put32(sr + 124, 0x10000), put32(sr + 128, 0x100),
	put32(sr + 132, 1);
	checksum(sr, slen, 9);
	return SRAT + slen;
}

static void acpi_seeds(void)
{
	size_t n;

	n = acpi_memory(1, 1, 0);
	put("acpi", "gen-xsdt", mem, n);
	n = acpi_memory(0, 0, 0);
	put("acpi", "gen-rsdt", mem, n);
	n = acpi_memory(1, 1, 1);
	put("acpi", "gen-many-cpus", mem, n);

	/* Regressions: a table address whose table would end past 2^64 was
	 * followed unchecked (drivers/acpi.c map_phys); found by fuzz_acpi with
	 * an X_DSDT of ~0. */
	n = acpi_memory(1, 0, 0);
	put64(mem + FADT + 140, ~0ull);
	checksum(mem + FADT, 276, 9);
	put("acpi", "regress-xdsdt-wrap", mem, n);
	n = acpi_memory(1, 0, 0);
	put64(mem + XSDT + 44, ~0ull - 20);
	checksum(mem + XSDT, 36 + 4 * 8, 9);
	put("acpi", "regress-xsdt-entry-wrap", mem, n);
	n = acpi_memory(1, 0, 0);
	put64(mem + RSDP + 24, ~0ull - 35);
	checksum(mem + RSDP, 36, 32);
	put("acpi", "regress-rsdp-xsdt-wrap", mem, n);
}

/* ---- network frames (fuzz_net: records of flags, length, frame) ---- */

static uint8_t rec[8192];
static size_t rec_len;

static const uint8_t solo_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
static const uint8_t solo_ip[4] = {10, 0, 2, 15}, peer_ip[4] = {10, 0, 2, 2};
/* fe80::5054:ff:fe12:3456, lwIP's link-local address from the MAC. */
static const uint8_t solo_ip6[16] = {0xfe, 0x80, 0, 0,	  0,	0,    0,    0,
				     0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56};
static const uint8_t peer_ip6[16] = {0xfe, 0x80, 0,    0,    0,	   0, 0, 0,
				     0x50, 0x55, 0x0a, 0xff, 0xfe, 0, 2, 2};

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void be16at(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void record(unsigned flags, const uint8_t *f, size_t n)
{
	rec[rec_len] = (uint8_t)flags;
	rec[rec_len + 1] = (uint8_t)n;
	rec[rec_len + 2] = (uint8_t)(n >> 8);
	memcpy(rec + rec_len + 3, f, n);
	rec_len += 3 + n;
}

/* An Ethernet frame to Solo of type with payload; returns its length. */
static size_t ether(uint8_t *f, unsigned type, const uint8_t *payload, size_t n)
{
	memcpy(f, solo_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	be16at(f + 12, type);
	memcpy(f + 14, payload, n);
	return 14 + n;
}

/* An IPv4 packet from the peer to Solo: proto, payload (its checksum at
 * csum_at, -1: none, filled over the pseudo-header for TCP and UDP). */
static size_t ipv4(uint8_t *f, unsigned proto, uint8_t *l4, size_t n, int csum_at, unsigned frag)
{
	uint8_t ip[1500];

	memset(ip, 0, 20);
	ip[0] = 0x45;
	be16at(ip + 2, (unsigned)(20 + n));
	be16at(ip + 4, 0x1234);
	be16at(ip + 6, frag);
	ip[8] = 64;
	ip[9] = (uint8_t)proto;
	memcpy(ip + 12, peer_ip, 4);
	memcpy(ip + 16, solo_ip, 4);
	be16at(ip + 10, fold(sum16(ip, 20, 0)));
	if (csum_at >= 0) {
		be16at(l4 + csum_at, 0);
		uint32_t sum = 0;
		if (proto != 1) { /* the pseudo-header: TCP and UDP */
			sum = sum16(ip + 12, 8, 0) + proto + (uint32_t)n;
		}
		be16at(l4 + csum_at, fold(sum16(l4, n, sum)));
	}
	memcpy(ip + 20, l4, n);
	return ether(f, 0x0800, ip, 20 + n);
}

static size_t ipv6(uint8_t *f, unsigned next, uint8_t *l4, size_t n, int csum_at)
{
	uint8_t ip[1500];

	memset(ip, 0, 40);
	ip[0] = 0x60;
	be16at(ip + 4, (unsigned)n);
	ip[6] = (uint8_t)next;
	ip[7] = 255; /* what neighbor discovery requires */
	memcpy(ip + 8, peer_ip6, 16);
	memcpy(ip + 24, solo_ip6, 16);
	if (csum_at >= 0) {
		be16at(l4 + csum_at, 0);
		uint32_t sum = sum16(ip + 8, 32, 0) + (uint32_t)n + next;
		be16at(l4 + csum_at, fold(sum16(l4, n, sum)));
	}
	memcpy(ip + 40, l4, n);
	return ether(f, 0x86dd, ip, 40 + n);
}

static size_t tcp(uint8_t *seg, unsigned port, uint32_t seq, unsigned flags, const char *data)
{
	size_t n = data ? strlen(data) : 0, h = flags & 0x02 ? 24 : 20;

	memset(seg, 0, h);
	be16at(seg, 40000);
	be16at(seg + 2, port);
	seg[4] = (uint8_t)(seq >> 24), seg[5] = (uint8_t)(seq >> 16);
	seg[6] = (uint8_t)(seq >> 8), seg[7] = (uint8_t)seq;
	seg[12] = (uint8_t)(h / 4) << 4;
	seg[13] = (uint8_t)flags;
	be16at(seg + 14, 64240);
	if (h == 24) { /* MSS 1460 */
		seg[20] = 2, seg[21] = 4;
		be16at(seg + 22, 1460);
	}
	memcpy(seg + h, data ? data : "", n);
	return h + n;
}

/* The peer makes itself known, so that lwIP can answer it: an ARP request
 * (IPv4), a neighbor solicitation with its link-layer address (IPv6). */
static void introduce_peer(int v6)
{
	uint8_t f[1600], l4[64];
	size_t n;

	if (v6) {
		memset(l4, 0, 32);
		l4[0] = 135; /* neighbor solicitation */
		memcpy(l4 + 8, solo_ip6, 16);
		l4[24] = 1; /* source link-layer address option */
		l4[25] = 1;
		memcpy(l4 + 26, peer_mac, 6);
		n = ipv6(f, 58, l4, 32, 2);
	} else {
		static const uint8_t arp_head[8] = {0, 1, 8, 0, 6, 4, 0, 1};
		memcpy(l4, arp_head, 8);
		memcpy(l4 + 8, peer_mac, 6);
		memcpy(l4 + 14, peer_ip, 4);
		memset(l4 + 18, 0, 6);
		memcpy(l4 + 24, solo_ip, 4);
		n = ether(f, 0x0806, l4, 28);
		memset(f, 0xff, 6);
	}
	record(0, f, n);
}

/* A TCP conversation with port: SYN, then (acknowledging what lwIP sent:
 * flags bit 1) the request, then FIN. */
static void tcp_session(int v6, unsigned port, const char *request)
{
	uint8_t f[1600], seg[1500];
	size_t n;
	uint32_t seq = 1000;

	introduce_peer(v6);
	n = tcp(seg, port, seq, 0x02, NULL);
	n = v6 ? ipv6(f, 6, seg, n, 16) : ipv4(f, 6, seg, n, 16, 0x4000);
	record(0, f, n);
	seq++;
	n = tcp(seg, port, seq, 0x18, request); /* PSH ACK */
	n = v6 ? ipv6(f, 6, seg, n, 16) : ipv4(f, 6, seg, n, 16, 0x4000);
	record(3, f, n);
	seq += (uint32_t)strlen(request);
	n = tcp(seg, port, seq, 0x11, NULL); /* FIN ACK */
	n = v6 ? ipv6(f, 6, seg, n, 16) : ipv4(f, 6, seg, n, 16, 0x4000);
	record(3, f, n);
}

static void net_seeds(void)
{
	uint8_t f[1600], l4[1500];
	size_t n;

	/* ARP: who has 10.0.2.15, tell 10.0.2.2; the IPv6 neighbor solicitation. */
	rec_len = 0;
	introduce_peer(0);
	introduce_peer(1);
	put("net", "gen-arp-nd", rec, rec_len);

	/* ICMP echo request (checksummed: lwIP checks ICMP sums). */
	rec_len = 0;
	introduce_peer(0);
	memset(l4, 0, 8);
	l4[0] = 8;
	be16at(l4 + 4, 1);
	be16at(l4 + 6, 1);
	memcpy(l4 + 8, "solo-ping", 9);
	n = ipv4(f, 1, l4, 17, 2, 0);
	record(0, f, n);
	put("net", "gen-icmp-echo", rec, rec_len);

	/* UDP to port 53, IPv4 and IPv6, with real checksums. */
	rec_len = 0;
	memset(l4, 0, 8);
	be16at(l4, 40001);
	be16at(l4 + 2, 53);
	/* A DNS query for "solo", type A. */
	static const uint8_t query[] = {0x12, 0x34, 1,	 0,   0,   1,	0, 0, 0, 0, 0,
					0,    4,    's', 'o', 'l', 'o', 0, 0, 1, 0, 1};
	memcpy(l4 + 8, query, sizeof(query));
	size_t udp_len = 8 + sizeof(query);
	be16at(l4 + 4, (unsigned)udp_len);
	n = ipv4(f, 17, l4, udp_len, 6, 0);
	record(0, f, n);
	n = ipv6(f, 17, l4, udp_len, 6);
	record(0, f, n);
	put("net", "gen-udp-dns", rec, rec_len);

	/* The same datagram in two IPv4 fragments (checksum as one). */
	rec_len = 0;
	{
		uint8_t whole[64], ip_f[1600];
		memcpy(whole, l4, udp_len);
		/* Checksum over the whole datagram first. */
		uint32_t sum = sum16(peer_ip, 4, 0) + sum16(solo_ip, 4, 0) + 17 + (uint32_t)udp_len;
		be16at(whole + 6, 0);
		be16at(whole + 6, fold(sum16(whole, udp_len, sum)));
		n = ipv4(ip_f, 17, whole, 16, -1, 0x2000); /* MF, offset 0 */
		record(0, ip_f, n);
		n = ipv4(ip_f, 17, whole + 16, udp_len - 16, -1, 2); /* offset 16 bytes */
		record(0, ip_f, n);
	}
	put("net", "gen-udp-fragments", rec, rec_len);

	/* TCP: an HTTP request to port 80, IPv4 and IPv6; port 7 too. */
	rec_len = 0;
	tcp_session(0, 80, "GET / HTTP/1.0\r\n\r\n");
	put("net", "gen-tcp4-http", rec, rec_len);
	rec_len = 0;
	tcp_session(1, 80, "GET / HTTP/1.0\r\n\r\n");
	put("net", "gen-tcp6-http", rec, rec_len);
	rec_len = 0;
	tcp_session(0, 7, "echo me");
	tcp_session(0, 81, "nobody listens");
	put("net", "gen-tcp4-echo-and-closed", rec, rec_len);
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
	net_seeds();
	return 0;
}
