/*
 * In-kernel self-tests, run at boot when boot.cfg asks (selftest=mm,
 * selftest=net, selftest=smp). They exercise code the host tests cannot reach as it
 * really runs: the real allocators on the machine's memory map, through
 * the real page tables; the NIC drivers on the machine's devices.
 */
#pragma once

/* A kmalloc/kfree storm and a palloc storm; checks that every page comes
 * back. Prints "solo: selftest mm: ..." lines; returns 0 on success, -1 when
 * a check failed (each failure was printed). */
int selftest_mm(void);

/*
 * For every registered network device without a stack attached (nd->rx
 * NULL): sends an ARP request for 10.0.2.2 from 10.0.2.15 (QEMU's user
 * network answers as its gateway) and polls, halting between polls so the
 * device's interrupts are taken, for the reply, for at most 10 s per
 * device (TCG is slow), repeating the request every second. Prints
 * "solo: selftest net: <model> <mac> arp reply from 10.0.2.2 <mac>" per
 * device, then "solo: selftest net: ok" or "... FAILED". Returns 0, or -1
 * when a device got no reply or there is no device. Boot time, before the
 * app; leaves nd->rx and the notify hook as it found them.
 */
int selftest_net(void);

/*
 * The cross-CPU paths (kernel/arch/x86_64/smp.h) between this CPU and every
 * other online one: SMP_ROUNDS (1000) waited calls to each, which must run
 * on their target; calls without waiting; a busy CPU's timeout (a queued
 * call withdrawn, a running one abandoned; logs two "did not answer" lines
 * for the first other CPU); a TLB shootdown (single page, then a full
 * flush) checked by every CPU reading a page whose frame was switched; and
 * a counter incremented under one spinlock by every CPU at once; and that
 * every started CPU's stacks are mapped in app_view (smp_check_app_view),
 * where the app's entry and interrupts will need them. Prints
 * "solo: selftest smp: N cpus, ipi round trip MIN/MEDIAN/MAX us, shootdown
 * US us, lock ok", or with one CPU "solo: selftest smp: 1 cpu, no other cpu
 * to call; lock ok", or "solo: selftest smp: FAILED: why (cpu N)". Returns
 * 0 or -1. Boot time, after smp_start, interrupts off.
 */
struct vm_ctx;
int selftest_smp(const struct vm_ctx *app_view);
