/*
 * In-kernel self-tests, run at boot when boot.cfg asks (selftest=mm). They
 * exercise code the host tests cannot reach as it really runs: the real
 * allocators on the machine's memory map, through the real page tables.
 */
#pragma once

/* A kmalloc/kfree storm and a palloc storm; checks that every page comes
 * back. Prints "solo: selftest mm: ..." lines; returns 0 on success, -1 when
 * a check failed (each failure was printed). */
int selftest_mm(void);
