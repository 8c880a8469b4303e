/*
 * CPU bring-up for the boot processor: descriptor tables, the GS base, the
 * control register bits Solo relies on, PAT, syscall MSRs and ring-3 entry.
 * The other CPUs copy what this sets up (smp.c).
 */
#include "kernel/arch/x86_64/arch.h"

#include "kernel/arch/x86_64/portio.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/gdt.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/arch/x86_64/ulvisible.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"

extern char syscall_entry[];
extern uint64_t ul_kernel_root;

#define SYSCALL_STACK_SIZE 32768
static uint8_t syscall_stack[SYSCALL_STACK_SIZE] UL_VISIBLE;

/* PAT entry 1 (PWT only) becomes write-combining; the others keep their
 * power-on meaning (WB, -, UC-, UC), see mmu.h. */
#define PAT_VALUE 0x0007010600070106ull

static unsigned features;

static void detect(void)
{
	uint32_t r[4];

	cpuid(0x80000000, 0, r);
	uint32_t max_ext = r[0];
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		if (r[3] & (1u << 20))
			features |= CPU_FEATURE_NX;
	}
	cpuid(1, 0, r);
	if (r[2] & (1u << 17))
		features |= CPU_FEATURE_PCID;
	if (r[2] & (1u << 26))
		features |= CPU_FEATURE_XSAVE;
	if (r[2] & (1u << 28))
		features |= CPU_FEATURE_AVX;
	if (r[2] & (1u << 30))
		features |= CPU_FEATURE_RDRAND;
	if (r[2] & (1u << 31))
		features |= CPU_FEATURE_HYPERVISOR;
	if (r[3] & (1u << 16))
		features |= CPU_FEATURE_PAT;
	cpuid(0, 0, r);
	if (r[0] >= 7) {
		cpuid(7, 0, r);
		if (r[1] & (1u << 7))
			features |= CPU_FEATURE_SMEP;
		if (r[1] & (1u << 18))
			features |= CPU_FEATURE_RDSEED;
		if (r[1] & (1u << 20))
			features |= CPU_FEATURE_SMAP;
		if (r[2] & (1u << 2))
			features |= CPU_FEATURE_UMIP;
	}
}

static void mask_legacy_pics(void)
{
	/* The firmware may leave the 8259s unmasked; nothing in Solo handles
	 * their interrupts, so silence them. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void enable_fpu_and_simd(void)
{
	/* Apps compiled for x86-64 use SSE freely (and AVX when the CPU has it);
	 * the kernel itself is built without them, so it never touches the
	 * app's FPU state. Each thread has its own, saved and restored by
	 * thread.c only when another thread needs the FPU (XSAVE when present,
	 * FXSAVE otherwise), and signal frames carry a copy (sigframe.c). */
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (features & CPU_FEATURE_XSAVE) {
		write_cr4(cr4 | CR4_OSXSAVE);
		uint32_t r[4];
		cpuid(0xd, 0, r);
		uint64_t xcr0 = 0x3; /* x87 | SSE */
		if ((features & CPU_FEATURE_AVX) && (r[0] & 0x4))
			xcr0 |= 0x4;
		xsetbv(0, xcr0);
	} else {
		write_cr4(cr4);
	}
}

unsigned arch_cpu_init(struct cpu *boot)
{
	uint64_t ist_top[GDT_IST_STACKS];
	uint64_t stack_top = (uint64_t)&syscall_stack[SYSCALL_STACK_SIZE];

	detect();
	gdt_boot_ist_tops(ist_top);
	gdt_init_cpu(0, ist_top, stack_top);
	/* After the GDT: loading the GS selector may clear the base. The app's
	 * GS base starts at 0 and swaps in on the way to ring 3. */
	cpu_entries[0] = (struct cpu_entry){.cpu = boot, .kernel_rsp = stack_top};
	wrmsr(MSR_GS_BASE, (uint64_t)&cpu_entries[0]);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	idt_init();
	mask_legacy_pics();

	uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;
	if (features & CPU_FEATURE_NX)
		efer |= EFER_NXE;
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_STAR, ((uint64_t)(GDT_KERNEL_DS) << 48) | ((uint64_t)GDT_KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	/* Cleared on syscall entry: IF (no interrupts in the kernel), TF, DF
	 * (the ABI wants it clear), AC (SMAP stays enforced), NT, IOPL. */
	wrmsr(MSR_FMASK, 0x47700);
	if (features & CPU_FEATURE_PAT)
		wrmsr(MSR_PAT, PAT_VALUE);

	write_cr0(read_cr0() | CR0_WP);
	enable_fpu_and_simd();
	return features;
}

unsigned arch_cpu_harden(void)
{
	uint64_t cr4 = read_cr4() | CR4_PGE;
	unsigned on = features & CPU_FEATURE_NX;

	if (features & CPU_FEATURE_SMEP) {
		cr4 |= CR4_SMEP;
		on |= CPU_FEATURE_SMEP;
	}
	if (features & CPU_FEATURE_SMAP) {
		cr4 |= CR4_SMAP;
		on |= CPU_FEATURE_SMAP;
	}
	if (features & CPU_FEATURE_UMIP) {
		cr4 |= CR4_UMIP;
		on |= CPU_FEATURE_UMIP;
	}
	write_cr4(cr4);
	return on | (features & (CPU_FEATURE_RDRAND | CPU_FEATURE_RDSEED | CPU_FEATURE_PCID |
				 CPU_FEATURE_AVX | CPU_FEATURE_HYPERVISOR));
}

void arch_feature_names(unsigned set, char *buf, unsigned size)
{
	static const char *const names[] = {"NX",   "SMEP",	  "SMAP",   "UMIP",
					    "PCID", "RDRAND",	  "RDSEED", "XSAVE",
					    "AVX",  "hypervisor", "PAT"};
	unsigned len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (set & (1u << i))
			len += (unsigned)ksnprintf(buf + len, len < size ? size - len : 0, "%s%s",
						   len ? " " : "", names[i]);
	}
}

void arch_switch_address_space(uint64_t root)
{
	write_cr3(root);
}

void arch_set_kernel_root(uint64_t root)
{
	ul_kernel_root = root;
}

void arch_set_user_fs(uint64_t base)
{
	wrmsr(MSR_FS_BASE, base);
}

uint64_t arch_get_user_fs(void)
{
	return rdmsr(MSR_FS_BASE);
}

uint64_t arch_timestamp(void)
{
	return rdtsc();
}

uint64_t arch_hwcap(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[3];
}

static int rdrand64(uint64_t *out)
{
	for (int tries = 0; tries < 10; tries++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
		if (ok)
			return 1;
	}
	return 0;
}

void arch_random_bytes(void *buf, unsigned len)
{
	unsigned char *p = buf;
	static uint64_t mix = 0x9e3779b97f4a7c15ull;

	while (len) {
		uint64_t v;
		if (!(features & CPU_FEATURE_RDRAND) || !rdrand64(&v)) {
			/* splitmix64 over the TSC: not cryptographic, but varies per boot */
			mix += rdtsc() + 0x9e3779b97f4a7c15ull;
			v = mix;
			v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
			v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
			v ^= v >> 31;
		}
		unsigned n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
