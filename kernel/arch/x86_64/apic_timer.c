/*
 * Local APIC timer (see apic_timer.h).
 *
 * Registers, as offsets in the xAPIC's 4 KiB MMIO page; in x2APIC mode the
 * same register is MSR 0x800 + offset / 16. 0x080 task priority, 0x0b0 EOI,
 * 0x0f0 spurious vector (bit 8: APIC software enable), 0x320 LVT timer (bits
 * 0-7 vector, bit 16 mask, bits 17-18 mode: 0 one-shot, 2 TSC-deadline),
 * 0x350 LVT LINT0, 0x380 initial count, 0x390 current count, 0x3e0 divide
 * configuration. In TSC-deadline mode the count registers are unused and
 * the deadline is MSR IA32_TSC_DEADLINE (0x6e0): the timer fires once when
 * the TSC reaches it; writing 0 disarms it.
 *
 * The arithmetic at the top is pure C (host-tested); the rest is
 * kernel-only.
 */
#include "kernel/arch/x86_64/apic_timer.h"

uint64_t apic_timer_ratio(uint64_t timer_ticks, uint64_t tsc_ticks)
{
	if (!timer_ticks || !tsc_ticks)
		return 0;
	if (timer_ticks > 0xffffffffull) /* the counter is 32 bits: cannot happen */
		timer_ticks = 0xffffffffull;
	return (timer_ticks << 32) / tsc_ticks;
}

uint32_t apic_timer_count(uint64_t tsc_delta, uint64_t ratio)
{
	unsigned __int128 count = ((unsigned __int128)tsc_delta * ratio) >> 32;

	if (count > 0xffffffffu)
		return 0xffffffffu;
	return count ? (uint32_t)count : 1;
}

int apic_timer_fires_in_time(uint64_t fires_by, uint64_t deadline, uint64_t now)
{
	return fires_by && now < fires_by && fires_by <= deadline;
}

#ifndef HOST_TEST
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/abi/errno.h"
#include "kernel/irq.h"
#include "kernel/kprintf.h"
#include "kernel/percpu.h"
#include "mm/valloc.h"

#define MSR_APIC_BASE	    0x1b
#define APIC_BASE_X2APIC    (1ull << 10)
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull
#define MSR_X2APIC_FIRST    0x800
#define MSR_TSC_DEADLINE    0x6e0

#define APIC_ID			0x020
#define APIC_ESR		0x280
#define APIC_ICR_LOW		0x300
#define APIC_ICR_HIGH		0x310
#define APIC_ICR_PENDING	(1u << 12)
#define APIC_TPR		0x080
#define APIC_PPR		0x0a0
#define APIC_EOI		0x0b0
#define APIC_SVR		0x0f0
#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_LVT_TIMER		0x320
#define APIC_LVT_LINT0		0x350
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_TIMER_ONESHOT	(0u << 17)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define APIC_TIMER_INITIAL	0x380
#define APIC_TIMER_CURRENT	0x390
#define APIC_TIMER_DIVIDE	0x3e0
#define APIC_DIVIDE_BY_16	0x3

#define CPUID1_EDX_APIC		(1u << 9)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)

#define CALIBRATE_MS 1 /* 62500 ticks at QEMU's 1 GHz bus: plenty of digits */

enum mode { MODE_SPIN, MODE_ONESHOT, MODE_TSC_DEADLINE };

static enum mode mode = MODE_SPIN;
static int x2apic;
static volatile uint32_t *mmio;
static uint64_t ratio;	 /* one-shot: timer ticks per TSC tick, 32.32 */
static uint64_t wakeups; /* returns from hlt in apic_timer_idle */
static char description[64];
static void (*callback)(void);

static uint32_t apic_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_FIRST + reg / 16);
	return mmio[reg / 4];
}

static void apic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_FIRST + reg / 16, v);
	else
		mmio[reg / 4] = v;
}

/* Runs in trap context, from ring 0 (the idle hlt) or ring 3. */
static void timer_interrupt(void *dev)
{
	(void)dev;
	this_cpu()->timer_interrupts++;
	/* Fired, so disarmed: possibly before the deadline it was armed for
	 * (one-shot counts at a calibrated rate, and at most 2^32 ticks), and
	 * the callback must then be able to arm that deadline again. */
	this_cpu()->timer_fires_by = 0;
	apic_write(APIC_EOI, 0);
	if (callback)
		callback();
}

/* A spurious interrupt is not in service: no EOI, by the SDM. */
static void spurious_interrupt(void *dev)
{
	(void)dev;
	this_cpu()->spurious_interrupts++;
}

/* Counts the timer ticks (divide by 16) over CALIBRATE_MS of TSC time.
 * The TSC window encloses the count's, so the rate comes out a hair low
 * and the timer fires a hair early: one more loop, never an oversleep. */
static uint64_t calibrate(void)
{
	uint64_t window = tsc_hz() / 1000 * CALIBRATE_MS;

	apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_16);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_ONESHOT | APIC_TIMER_VECTOR);
	uint64_t start = rdtsc();
	apic_write(APIC_TIMER_INITIAL, 0xffffffffu);
	while (rdtsc() - start < window)
		__builtin_ia32_pause();
	uint32_t left = apic_read(APIC_TIMER_CURRENT);
	uint64_t end = rdtsc();
	apic_write(APIC_TIMER_INITIAL, 0);
	return apic_timer_ratio(0xffffffffu - left, end - start);
}

static const char *fall_back(const char *why)
{
	mode = MODE_SPIN;
	ksnprintf(description, sizeof(description), "none: sleeps spin on the TSC (%s)", why);
	return description;
}

const char *apic_timer_init(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[3] & CPUID1_EDX_APIC))
		return fall_back("no local APIC");
	int tsc_deadline = !!(r[2] & CPUID1_ECX_TSC_DEADLINE);

	uint64_t base = rdmsr(MSR_APIC_BASE);
	x2apic =
	    (base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) == (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	if (!x2apic) {
		if (!(base & APIC_BASE_ENABLE))
			wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
		mmio = map_mmio(base & APIC_BASE_ADDR_MASK, 4096, VM_UNCACHED);
		if (!mmio)
			return fall_back("cannot map the APIC");
	}

	irq_set_eoi(apic_eoi);
	irq_register(APIC_TIMER_VECTOR, timer_interrupt, NULL);
	irq_register(APIC_SPURIOUS_VECTOR, spurious_interrupt, NULL);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);

	if (tsc_deadline) {
		wrmsr(MSR_TSC_DEADLINE, 0);
		apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | APIC_TIMER_VECTOR);
		/* The SDM wants the LVT write ordered before the first deadline
		 * write in xAPIC mode (an MMIO store, then a WRMSR). */
		__asm__ volatile("mfence" ::: "memory");
		mode = MODE_TSC_DEADLINE;
		return "LAPIC TSC-deadline";
	}
	ratio = calibrate();
	if (!ratio)
		return fall_back("the APIC timer does not count");
	apic_write(APIC_LVT_TIMER, APIC_TIMER_ONESHOT | APIC_TIMER_VECTOR);
	mode = MODE_ONESHOT;
	ksnprintf(description, sizeof(description), "LAPIC one-shot, %u ticks/ms",
		  apic_timer_count(tsc_hz() / 1000, ratio));
	return description;
}

uint32_t apic_timer_init_ap(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!x2apic && !mmio)
		return 0;
	if (x2apic)
		base |= APIC_BASE_ENABLE | APIC_BASE_X2APIC;
	else
		base |= APIC_BASE_ENABLE;
	wrmsr(MSR_APIC_BASE, base);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	/* Disarmed until this CPU arms it (kernel/time.c). */
	if (mode == MODE_TSC_DEADLINE) {
		wrmsr(MSR_TSC_DEADLINE, 0);
		apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | APIC_TIMER_VECTOR);
		__asm__ volatile("mfence" ::: "memory"); /* as apic_timer_init */
	} else if (mode == MODE_ONESHOT) {
		apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_16);
		apic_write(APIC_TIMER_INITIAL, 0);
		apic_write(APIC_LVT_TIMER, APIC_TIMER_ONESHOT | APIC_TIMER_VECTOR);
	}
	return apic_id();
}

int apic_send_ipi(uint32_t dest, uint32_t icr)
{
	if (x2apic) {
		/* One MSR write sends it; x2APIC has no delivery status. That
		 * WRMSR is not serializing: fence so that what the IPI announces
		 * (a queued call) is visible first, as Linux's
		 * weak_wrmsr_fence does. */
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(MSR_X2APIC_FIRST + APIC_ICR_LOW / 16, ((uint64_t)dest << 32) | icr);
		return 0;
	}
	if (!mmio)
		return -ENODEV;
	if (dest > 0xff)
		return -EINVAL;
	apic_write(APIC_ESR, 0);
	apic_write(APIC_ICR_HIGH, dest << 24);
	apic_write(APIC_ICR_LOW, icr);
	uint64_t start = rdtsc(), limit = tsc_hz() / 50;
	while (apic_read(APIC_ICR_LOW) & APIC_ICR_PENDING) {
		if (rdtsc() - start > limit)
			return -ETIMEDOUT;
		__builtin_ia32_pause();
	}
	return 0;
}

int apic_vector_blocked(uint8_t vector)
{
	if (!x2apic && !mmio)
		return 0;
	return (apic_read(APIC_PPR) & 0xf0) >= (vector & 0xf0u);
}

uint32_t apic_id(void)
{
	if (!x2apic && !mmio)
		return 0;
	/* xAPIC: the ID in bits 31:24; x2APIC: the whole register. */
	return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	if (x2apic || mmio)
		apic_write(APIC_EOI, 0);
}

void apic_timer_set_callback(void (*expired)(void))
{
	callback = expired;
}

int apic_timer_present(void)
{
	return mode != MODE_SPIN;
}

/*
 * The hardware is written only when it would not fire by deadline_tsc: a
 * timer that will fire sooner stays armed, and its interrupt, finding
 * nothing due, arms the next deadline (time.c). A write costs little on a
 * PC but about 10 us under QEMU's TCG (its big lock, its timer lists,
 * waking its main loop), and a thread switch would write twice: it cancels
 * the slice and arms one for the next thread. So a switch on a busy CPU
 * writes about once per slice.
 */
void apic_timer_arm(uint64_t deadline_tsc)
{
	struct cpu *c = this_cpu();
	uint64_t now = rdtsc();

	if (!deadline_tsc)
		return; /* a timer still armed fires once for nothing */
	if (apic_timer_fires_in_time(c->timer_fires_by, deadline_tsc, now))
		return;
	c->timer_fires_by = deadline_tsc;
	if (mode == MODE_TSC_DEADLINE) {
		wrmsr(MSR_TSC_DEADLINE, deadline_tsc);
	} else if (mode == MODE_ONESHOT) {
		apic_write(APIC_TIMER_INITIAL,
			   apic_timer_count(deadline_tsc > now ? deadline_tsc - now : 0, ratio));
	}
}

void apic_timer_idle(void)
{
	/* sti takes effect after the next instruction: an interrupt already
	 * pending wakes the hlt instead of slipping in before it and leaving
	 * the CPU halted with nothing armed. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	__atomic_fetch_add(&wakeups, 1, __ATOMIC_RELAXED);
}

uint64_t apic_timer_wakeups(void)
{
	return __atomic_load_n(&wakeups, __ATOMIC_RELAXED);
}
#endif
