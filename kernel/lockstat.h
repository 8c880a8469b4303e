/*
 * lockstat - what takes the kernel lock, how often and for how long
 * (boot.cfg lockstat=1; off by default).
 *
 * Each taking of the kernel lock is counted under a reason: the syscall
 * that took it (its number), the switch or signal that follows a shared
 * syscall, the trap or interrupt vector from ring 3, a CPU waking from
 * idle, or other (the boot, the app's start and exit). A
 * caller names the reason in this_cpu()->lock_reason before
 * kernel_lock_enter; the lock (kernel/arch/x86_64/smp.c) reads it, times
 * the wait and the hold with time_now() and calls lockstat_account before
 * it lets go. At the app's exit lockstat_report logs the totals and the
 * reasons that held it longest, as "solo: lockstat: ..." lines.
 *
 * Context: lockstat_account and lockstat_report run under the kernel lock,
 * which is what keeps the table whole (no lock of its own). Never blocks.
 */
#pragma once

#include <stdint.h>

#define LOCKSTAT_SYSCALLS 512u			    /* syscall numbers below this */
#define LOCKSTAT_TRAP(v)  (LOCKSTAT_SYSCALLS + (v)) /* v: 0..255 */
#define LOCKSTAT_IDLE	  (LOCKSTAT_SYSCALLS + 256u)
#define LOCKSTAT_AFTER	  (LOCKSTAT_SYSCALLS + 257u) /* a switch or signal after a shared call */
#define LOCKSTAT_OTHER	  (LOCKSTAT_SYSCALLS + 258u)
#define LOCKSTAT_REASONS  (LOCKSTAT_SYSCALLS + 259u)
#define LOCKSTAT_TOP	  12u /* reasons lockstat_report names */

/* The reason for a syscall nr (any number: those past the table count as
 * other). */
unsigned lockstat_syscall(uint64_t nr);

/* Set from boot.cfg before the app starts; read by the lock. */
extern int lockstat_enabled;

/* One stretch under the kernel lock for reason (>= LOCKSTAT_REASONS counts
 * as other): waited_ns before it was taken, held_ns until it was let go. */
void lockstat_account(unsigned reason, uint64_t waited_ns, uint64_t held_ns);

/* Logs the totals, then the LOCKSTAT_TOP reasons with the longest
 * hold, each with its count, hold and wait (nothing when disabled). */
void lockstat_report(void);

/* Logs one line for a lock other than the kernel lock, named what, taken
 * count times, held and waited for as its owner timed them (nothing when
 * disabled): "solo: lockstat: the shared fault lock: ...". Its caller logs
 * these before lockstat_report, whose reasons follow its totals line. */
void lockstat_report_lock(const char *what, uint64_t count, uint64_t waited_ns, uint64_t held_ns);
