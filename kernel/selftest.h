/*
 * In-kernel self-tests, run at boot when boot.cfg asks (selftest=mm,
 * selftest=net). They exercise code the host tests cannot reach as it
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
