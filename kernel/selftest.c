/*
 * selftest=mm: allocate and free in a pseudo-random pattern, fill every
 * block with a pattern derived from its address and check it before the
 * free (so overlapping blocks are caught), then check that the free page
 * count returned exactly to where it started.
 */
#include "kernel/selftest.h"

#include <stdint.h>

#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/tsc.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "kernel/netdev.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "mm/kmalloc.h"
#include "mm/palloc.h"
#include "mm/phys.h"
#include "mm/valloc.h"
#include "mm/vm.h"

#define LIVE_SLOTS 256
#define OPERATIONS 20000

struct block {
	unsigned char *p;
	size_t size;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned char pattern(const void *p, size_t i)
{
	return (unsigned char)(((uintptr_t)p >> 4) + i * 7);
}

static int fill_and_check(struct block *b, int check)
{
	for (size_t i = 0; i < b->size; i++) {
		if (!check) {
			b->p[i] = pattern(b->p, i);
		} else if (b->p[i] != pattern(b->p, i)) {
			kprintf("solo: selftest mm: block %p (%zu bytes) corrupted at byte %zu\n",
				(void *)b->p, b->size, i);
			return -1;
		}
	}
	return 0;
}

static int kmalloc_storm(void)
{
	static struct block live[LIVE_SLOTS];
	unsigned long allocations = 0;
	int failed = 0;

	for (int op = 0; op < OPERATIONS; op++) {
		struct block *b = &live[next_random() % LIVE_SLOTS];
		if (b->p) {
			failed |= fill_and_check(b, 1);
			kfree(b->p);
			b->p = NULL;
			continue;
		}
		/* Mostly small, sometimes up to 16 KiB, now and then page aligned. */
		uint64_t r = next_random();
		b->size = (r & 7) ? 1 + (r >> 8) % 512 : 1 + (r >> 8) % 16384;
		b->p = (r & 0x1f0) == 0x10 ? kmalloc_a(b->size) : kmalloc(b->size);
		if (!b->p) {
			kprintf("solo: selftest mm: kmalloc(%zu) failed\n", b->size);
			return -1;
		}
		allocations++;
		fill_and_check(b, 0);
	}
	for (int i = 0; i < LIVE_SLOTS; i++) {
		if (live[i].p) {
			failed |= fill_and_check(&live[i], 1);
			kfree(live[i].p);
			live[i].p = NULL;
		}
	}
	failed |= kmalloc_check() ? -1 : 0;
	kprintf("solo: selftest mm: %lu kmalloc/kfree pairs\n", allocations);
	return failed;
}

static int palloc_storm(void)
{
	static struct {
		paddr_t pa;
		size_t n;
	} live[LIVE_SLOTS];
	int failed = 0;

	for (int op = 0; op < OPERATIONS; op++) {
		unsigned slot = next_random() % LIVE_SLOTS;
		if (live[slot].pa) {
			pfree(live[slot].pa, live[slot].n);
			live[slot].pa = 0;
			continue;
		}
		uint64_t r = next_random();
		live[slot].n = (r & 15) ? 1 : 1 + (r >> 8) % 512;
		live[slot].pa =
		    (r & 0x30) == 0x10 ? palloc_aligned(live[slot].n, 512) : palloc(live[slot].n);
		if (!live[slot].pa) {
			kprintf("solo: selftest mm: palloc(%zu) failed\n", live[slot].n);
			failed = -1;
			continue;
		}
		/* Touch first and last page through the direct map. */
		*(volatile uint64_t *)phys_to_virt(live[slot].pa) = live[slot].pa;
		*(volatile uint64_t *)phys_to_virt(live[slot].pa + (live[slot].n - 1) * PAGE_SIZE) =
		    live[slot].pa;
	}
	for (int i = 0; i < LIVE_SLOTS; i++) {
		if (live[i].pa)
			pfree(live[i].pa, live[i].n);
		live[i].pa = 0;
	}
	return failed;
}

int selftest_mm(void)
{
	struct palloc_stats before, after;
	int failed = 0;

	kmalloc_trim(); /* count from a heap that holds no spare pages */
	palloc_get_stats(&before);
	failed |= kmalloc_storm();
	kmalloc_trim();
	failed |= palloc_storm();
	palloc_get_stats(&after);
	if (palloc_check()) {
		kprintf("solo: selftest mm: palloc_check found inconsistencies\n");
		failed = -1;
	}
	kprintf("solo: selftest mm: free pages before %zu, after %zu\n", before.free_pages,
		after.free_pages);
	if (before.free_pages != after.free_pages)
		failed = -1;
	kprintf("solo: selftest mm: %s\n", failed ? "FAILED" : "ok");
	return failed;
}

/* ---------------------------------------------------------------- selftest=net */

#define ETH_TYPE_ARP	0x0806
#define ARP_FRAME_LEN	60 /* 14 + 28, padded to Ethernet's minimum (no FCS) */
#define NET_WAIT_NS	(10ull * 1000000000ull)
#define NET_RESEND_NS	(1000ull * 1000000ull)
#define NET_IDLE_NS	(2ull * 1000000ull)
#define NET_IRQ_WAIT_NS (100ull * 1000000ull)

static const uint8_t guest_ip[4] = {10, 0, 2, 15}, gateway_ip[4] = {10, 0, 2, 2};

static struct {
	int replied;
	uint8_t gateway_mac[NETDEV_ETH_ALEN];
	unsigned long notifications, frames;
} arp_test;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void build_arp_request(const struct netdev *nd, uint8_t *f)
{
	memset(f, 0, ARP_FRAME_LEN);
	memset(f, 0xff, NETDEV_ETH_ALEN); /* broadcast */
	memcpy(f + 6, nd->mac, NETDEV_ETH_ALEN);
	put16(f + 12, ETH_TYPE_ARP);
	uint8_t *a = f + 14;
	put16(a, 1);	      /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = NETDEV_ETH_ALEN;
	a[5] = 4;
	put16(a + 6, 1); /* request */
	memcpy(a + 8, nd->mac, NETDEV_ETH_ALEN);
	memcpy(a + 14, guest_ip, 4);
	memcpy(a + 24, gateway_ip, 4);
}

/* nd->rx while the test runs: looks for the gateway's ARP reply to us. */
static void arp_test_rx(struct netdev *nd, const void *frame, size_t len, unsigned flags)
{
	static const uint8_t reply_head[8] = {0, 1, 8, 0, 6, 4, 0, 2};
	const uint8_t *f = frame, *a = f + 14;

	(void)flags;
	arp_test.frames++;
	if (len < 42 || f[12] != ETH_TYPE_ARP >> 8 || f[13] != (ETH_TYPE_ARP & 0xff))
		return;
	if (memcmp(a, reply_head, 8) || memcmp(a + 14, gateway_ip, 4) ||
	    memcmp(a + 18, nd->mac, NETDEV_ETH_ALEN) || memcmp(a + 24, guest_ip, 4))
		return;
	memcpy(arp_test.gateway_mac, a + 8, NETDEV_ETH_ALEN);
	arp_test.replied = 1;
}

static void arp_test_notify(struct netdev *nd)
{
	(void)nd;
	arp_test.notifications++;
}

static void wake_up(struct ktimer *t)
{
	(void)t;
}

static const char *format_mac(const uint8_t *m, char *buf, size_t size)
{
	ksnprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static int arp_exchange(struct netdev *nd)
{
	uint8_t frame[ARP_FRAME_LEN];
	struct netdev_seg seg = {frame, sizeof(frame)};
	struct ktimer tick;
	char mac[24], peer[24];
	uint64_t start = time_now(), next_send = start;
	int err = 0;

	arp_test.replied = 0;
	arp_test.notifications = arp_test.frames = 0;
	nd->rx = arp_test_rx;
	build_arp_request(nd, frame);
	ktimer_init(&tick, wake_up);
	while (!arp_test.replied && time_now() - start < NET_WAIT_NS) {
		if (time_now() >= next_send) {
			err = nd->ops->send(nd, &seg, 1, NULL);
			if (err && err != -EAGAIN)
				break;
			next_send = time_now() + NET_RESEND_NS;
		}
		if (nd->ops->poll(nd, 16) > 0 || arp_test.replied)
			continue;
		/* Halt till the device's interrupt (or a short timer, for a
		 * polled device) */
		ktimer_arm(&tick, time_now() + NET_IDLE_NS);
		time_idle();
		ktimer_cancel(&tick);
	}
	/* An interrupt-driven device has raised one by now (the reply at
	 * least): let it in, to show that its messages reach the CPU. */
	uint64_t until = time_now() + NET_IRQ_WAIT_NS;
	while (arp_test.replied && strcmp(nd->irq_mode, "polled") && !arp_test.notifications &&
	       time_now() < until) {
		ktimer_arm(&tick, time_now() + NET_IDLE_NS);
		time_idle();
		ktimer_cancel(&tick);
	}
	nd->rx = NULL;
	format_mac(nd->mac, mac, sizeof(mac));
	if (!arp_test.replied) {
		kprintf("solo: selftest net: %s %s no arp reply from 10.0.2.2 within %lu ms "
			"(link %s, %lu frames seen, send error %d)\n",
			nd->model, mac, (time_now() - start) / 1000000, nd->link_up ? "up" : "down",
			arp_test.frames, err);
		return -1;
	}
	kprintf("solo: selftest net: %s %s arp reply from 10.0.2.2 %s\n", nd->model, mac,
		format_mac(arp_test.gateway_mac, peer, sizeof(peer)));
	kprintf("solo: selftest net: eth%u %s, %lu interrupts, %lu frames, %lu ms\n", nd->index,
		nd->irq_mode, arp_test.notifications, arp_test.frames,
		(time_now() - start) / 1000000);
	return 0;
}

int selftest_net(void)
{
	int failed = 0;
	unsigned tested = 0;

	netdev_set_notify(arp_test_notify);
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_get(i);
		if (nd->rx) /* a stack owns it */
			continue;
		tested++;
		failed |= arp_exchange(nd);
	}
	netdev_set_notify(NULL);
	if (!tested) {
		kprintf("solo: selftest net: no network device to test\n");
		failed = -1;
	}
	kprintf("solo: selftest net: %s\n", failed ? "FAILED" : "ok");
	return failed;
}

/*
 * selftest=smp: every cross-CPU path the scheduler will stand on, between
 * the boot CPU and each other CPU: call round trips (the function must run
 * on its target: it reports this_cpu()->index), queued calls without
 * waiting, the timeout of a busy CPU (a queued call withdrawn, a running
 * one abandoned), a TLB shootdown that must make every CPU see a page's new
 * frame, and a counter incremented under one spinlock by every CPU at once.
 */
#define SMP_ROUNDS	  1000
#define SMP_LOCK_ROUNDS	  20000
#define SMP_WAIT_MS	  5000
#define SMP_SHORT_TIMEOUT 20 /* ms: the timeout test */
#define SMP_MARK_OLD	  0x0123456789abcdefull
#define SMP_MARK_NEW	  0xfedcba9876543210ull

static volatile unsigned ran_on[SMP_MAX_CPUS]; /* index + 1 of where whoami ran */
static volatile uint64_t seen[SMP_MAX_CPUS];   /* what peek read, per CPU */
static volatile uint64_t peek_va;
static volatile int hold_release;
static unsigned async_ran;
static unsigned lock_done;
static volatile uint64_t lock_counter;
static struct spinlock counter_lock = SPINLOCK_INIT("selftest counter", LOCK_SELFTEST);

static void whoami(void *arg)
{
	*(volatile unsigned *)arg = this_cpu()->index + 1;
}

static void count_async(void *arg)
{
	__atomic_add_fetch((unsigned *)arg, 1, __ATOMIC_RELEASE);
}

static void peek(void *arg)
{
	(void)arg;
	seen[this_cpu()->index] = *(volatile uint64_t *)peek_va;
}

/* Keeps its CPU busy with interrupts off until released (or 3 s pass). */
static void hold(void *arg)
{
	(void)arg;
	uint64_t end = rdtsc() + tsc_hz() * 3;
	while (!__atomic_load_n(&hold_release, __ATOMIC_ACQUIRE) && rdtsc() < end)
		__builtin_ia32_pause();
}

static void lock_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < SMP_LOCK_ROUNDS; i++) {
		unsigned long flags = spin_lock_irqsave(&counter_lock);
		KASSERT(spin_is_held_by_me(&counter_lock));
		uint64_t v = lock_counter; /* a read and a write: a lost update shows */
		lock_counter = v + 1;
		spin_unlock_irqrestore(&counter_lock, flags);
	}
	__atomic_add_fetch(&lock_done, 1, __ATOMIC_RELEASE);
}

static int wait_for(unsigned *counter, unsigned value)
{
	uint64_t end = rdtsc() + tsc_hz() / 1000 * SMP_WAIT_MS;

	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) != value)
		if (rdtsc() > end)
			return -1;
	return 0;
}

static uint64_t tenths_us(uint64_t ticks)
{
	return ticks * 10000000ull / tsc_hz();
}

static void sort_u64(uint64_t *a, size_t n)
{
	for (size_t gap = n / 2; gap; gap /= 2)
		for (size_t i = gap; i < n; i++)
			for (size_t j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
				uint64_t t = a[j];
				a[j] = a[j - gap];
				a[j - gap] = t;
			}
}

static int fail(const char *why, unsigned cpu)
{
	kprintf("solo: selftest smp: FAILED: %s (cpu %u)\n", why, cpu);
	return -1;
}

static int lock_test(unsigned ncpus)
{
	lock_counter = 0;
	lock_done = 0;
	if (ncpus > 1 && smp_call_all_others(lock_worker, NULL, 0))
		return fail("the lock workers were not queued", 0);
	lock_worker(NULL);
	if (wait_for(&lock_done, ncpus))
		return fail("a lock worker did not finish", 0);
	if (lock_counter != (uint64_t)SMP_LOCK_ROUNDS * ncpus) {
		kprintf("solo: selftest smp: FAILED: counter %lu, expected %lu\n",
			(unsigned long)lock_counter, (unsigned long)SMP_LOCK_ROUNDS * ncpus);
		return -1;
	}
	return 0;
}

/* The timeout path against cpu: a call queued behind a busy call is
 * withdrawn, never runs; a waited call that is running is abandoned, and
 * the CPU answers again afterwards. */
static int timeout_test(unsigned cpu)
{
	hold_release = 0;
	ran_on[cpu] = 0;
	if (smp_call(cpu, hold, NULL, 0))
		return fail("hold not queued", cpu);
	if (smp_call_timeout(cpu, whoami, (void *)&ran_on[cpu], 1, SMP_SHORT_TIMEOUT) != -ETIMEDOUT)
		return fail("a call to a busy cpu did not time out", cpu);
	__atomic_store_n(&hold_release, 1, __ATOMIC_RELEASE);
	static volatile unsigned barrier;
	if (smp_call(cpu, whoami, (void *)&barrier, 1))
		return fail("no answer after the hold", cpu);
	if (ran_on[cpu])
		return fail("a withdrawn call ran", cpu);
	hold_release = 0;
	if (smp_call_timeout(cpu, hold, NULL, 1, SMP_SHORT_TIMEOUT) != -ETIMEDOUT)
		return fail("a running call did not time out", cpu);
	__atomic_store_n(&hold_release, 1, __ATOMIC_RELEASE);
	if (smp_call(cpu, whoami, (void *)&ran_on[cpu], 1) || ran_on[cpu] != cpu + 1)
		return fail("no answer after an abandoned call", cpu);
	return 0;
}

/* Every other CPU reads peek_va; how many saw want. */
static unsigned peek_all(const unsigned *cpus, unsigned n, uint64_t want)
{
	unsigned good = 0;

	for (unsigned i = 0; i < n; i++) {
		seen[cpus[i]] = 0;
		if (!smp_call(cpus[i], peek, NULL, 1) && seen[cpus[i]] == want)
			good++;
	}
	return good;
}

/* Maps a page, lets every CPU cache its translation, points it at another
 * frame with a local invalidation only, shoots down, and checks that every
 * CPU reads the new frame; then once more with a full flush. */
static int shootdown_test(const unsigned *cpus, unsigned n, uint64_t *ticks)
{
	unsigned flags = VM_WRITE | VM_GLOBAL;
	vaddr_t va = pvalloc(1, &kernel_ctx, flags);
	paddr_t other = palloc(1), old;
	int err = 0;

	if (!va || !other) {
		if (va)
			pvfree(va, 1, &kernel_ctx);
		if (other)
			pfree(other, 1);
		return fail("no memory for the shootdown test", 0);
	}
	*(volatile uint64_t *)va = SMP_MARK_OLD;
	*(volatile uint64_t *)phys_to_virt(other) = SMP_MARK_NEW;
	peek_va = va;
	if (peek_all(cpus, n, SMP_MARK_OLD) != n)
		err = fail("a cpu did not read the page", 0);
	if (!err && vm_replace(&kernel_ctx, va, other, flags, &old))
		err = fail("vm_replace", 0);
	if (!err) {
		unsigned stale = n - peek_all(cpus, n, SMP_MARK_NEW);
		kinfo("solo: selftest smp: before the shootdown %u of %u cpus saw the old "
		      "frame\n",
		      stale, n);
		uint64_t t0 = rdtsc();
		int r = tlb_shootdown_all_others(va, 1);
		*ticks = rdtsc() - t0;
		if (r || peek_all(cpus, n, SMP_MARK_NEW) != n)
			err = fail("a cpu still saw the old frame after the shootdown", 0);
		/* Back to the first frame, through a full flush this time. */
		if (vm_replace(&kernel_ctx, va, old, flags, NULL))
			err = fail("vm_replace back", 0);
		else if (tlb_shootdown_all_others(va, 0) || peek_all(cpus, n, SMP_MARK_OLD) != n)
			err = fail("a cpu still saw the old frame after a full flush", 0);
	}
	pvfree(va, 1, &kernel_ctx);
	pfree(other, 1);
	return err;
}

int selftest_smp(const struct vm_ctx *app_view)
{
	unsigned cpus[SMP_MAX_CPUS], n = 0, me = this_cpu()->index;
	unsigned ncpus = smp_cpus_online();

	for (unsigned c = 0; c < SMP_MAX_CPUS; c++)
		if (c != me && smp_cpu_online(c))
			cpus[n++] = c;
	if (!n) {
		if (smp_call(me, whoami, (void *)&ran_on[me], 1) || ran_on[me] != me + 1)
			return fail("a call to this cpu did not run here", me);
		if (tlb_shootdown_all_others(0, 0) || lock_test(1))
			return -1;
		kprintf("solo: selftest smp: 1 cpu, no other cpu to call; lock ok\n");
		return 0;
	}

	uint64_t *t = kmalloc(sizeof(*t) * n * SMP_ROUNDS);
	if (!t)
		return fail("no memory for the timings", 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned c = cpus[i];
		for (unsigned r = 0; r < SMP_ROUNDS; r++) {
			ran_on[c] = 0;
			uint64_t t0 = rdtsc();
			int err = smp_call(c, whoami, (void *)&ran_on[c], 1);
			t[i * SMP_ROUNDS + r] = rdtsc() - t0;
			if (err || ran_on[c] != c + 1) {
				kfree(t);
				return fail(err ? "no answer" : "the call ran on another cpu", c);
			}
		}
	}
	sort_u64(t, (size_t)n * SMP_ROUNDS);
	uint64_t lo = t[0], mid = t[(size_t)n * SMP_ROUNDS / 2], hi = t[(size_t)n * SMP_ROUNDS - 1];
	kfree(t);

	async_ran = 0;
	if (smp_call_all_others(count_async, &async_ran, 0) || wait_for(&async_ran, n))
		return fail("calls without waiting did not all run", 0);
	if (timeout_test(cpus[0]))
		return -1;
	kprintf("solo: selftest smp: a busy cpu times out: a queued call withdrawn, a running "
		"one abandoned, ok\n");

	uint64_t shoot = 0;
	if (shootdown_test(cpus, n, &shoot) || lock_test(ncpus))
		return -1;
	if (smp_check_app_view(app_view))
		return fail("a cpu's stacks are not mapped in the app view", 0);
	lo = tenths_us(lo), mid = tenths_us(mid), hi = tenths_us(hi), shoot = tenths_us(shoot);
	kprintf("solo: selftest smp: %u cpus, ipi round trip %lu.%lu/%lu.%lu/%lu.%lu us, "
		"shootdown %lu.%lu us, lock ok\n",
		ncpus, (unsigned long)(lo / 10), (unsigned long)(lo % 10),
		(unsigned long)(mid / 10), (unsigned long)(mid % 10), (unsigned long)(hi / 10),
		(unsigned long)(hi % 10), (unsigned long)(shoot / 10), (unsigned long)(shoot % 10));
	return 0;
}
