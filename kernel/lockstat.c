/* What takes the kernel lock (see lockstat.h). */
#include "kernel/lockstat.h"

#include "kernel/arch/x86_64/apic_timer.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/kprintf.h"
#include "kernel/log.h"
#include "kernel/syscall_names.h"

struct reason_stat {
	uint64_t count, waited_ns, held_ns;
};

int lockstat_enabled;
static struct reason_stat stats[LOCKSTAT_REASONS];

unsigned lockstat_syscall(uint64_t nr)
{
	return nr < LOCKSTAT_SYSCALLS ? (unsigned)nr : LOCKSTAT_OTHER;
}

void lockstat_account(unsigned reason, uint64_t waited_ns, uint64_t held_ns)
{
	struct reason_stat *s = &stats[reason < LOCKSTAT_REASONS ? reason : LOCKSTAT_OTHER];

	s->count++;
	s->waited_ns += waited_ns;
	s->held_ns += held_ns;
}

/* reason's name: a constant, or written into buf. */
static const char *reason_name(unsigned reason, char *buf, size_t size)
{
	if (reason < LOCKSTAT_SYSCALLS) {
		if (reason < syscall_names_count && syscall_names[reason])
			return syscall_names[reason];
		ksnprintf(buf, size, "syscall %u", reason);
	} else if (reason < LOCKSTAT_IDLE) {
		unsigned v = reason - LOCKSTAT_SYSCALLS;
		if (v == TRAP_PF)
			return "page fault";
		if (v == APIC_TIMER_VECTOR)
			return "timer interrupt";
		if (v == SMP_IPI_VECTOR)
			return "call IPI";
		if (v < 32)
			ksnprintf(buf, size, "trap %u", v);
		else
			ksnprintf(buf, size, "interrupt %#x", v);
	} else {
		return reason == LOCKSTAT_IDLE	  ? "idle wake"
		       : reason == LOCKSTAT_AFTER ? "after a shared call"
						  : "other";
	}
	return buf;
}

/* Milliseconds with two decimals, for ns. */
static void put_ms(char *buf, size_t size, uint64_t ns)
{
	ksnprintf(buf, size, "%lu.%02lu", (unsigned long)(ns / 1000000),
		  (unsigned long)(ns % 1000000 / 10000));
}

void lockstat_report(void)
{
	struct reason_stat total = {0};
	unsigned char listed[LOCKSTAT_REASONS] = {0};
	char name[32], held[32], waited[32];

	if (!lockstat_enabled)
		return;
	for (unsigned r = 0; r < LOCKSTAT_REASONS; r++) {
		total.count += stats[r].count;
		total.waited_ns += stats[r].waited_ns;
		total.held_ns += stats[r].held_ns;
	}
	put_ms(held, sizeof(held), total.held_ns);
	put_ms(waited, sizeof(waited), total.waited_ns);
	kinfo("solo: lockstat: the kernel lock was taken %lu times, held %s ms, waited for %s ms\n",
	      (unsigned long)total.count, held, waited);
	for (unsigned n = 0; n < LOCKSTAT_TOP; n++) {
		unsigned best = LOCKSTAT_REASONS;
		for (unsigned r = 0; r < LOCKSTAT_REASONS; r++) {
			if (!listed[r] && stats[r].count &&
			    (best == LOCKSTAT_REASONS || stats[r].held_ns > stats[best].held_ns))
				best = r;
		}
		if (best == LOCKSTAT_REASONS)
			break;
		listed[best] = 1;
		put_ms(held, sizeof(held), stats[best].held_ns);
		put_ms(waited, sizeof(waited), stats[best].waited_ns);
		kinfo("solo: lockstat: %s: %lu times, held %s ms, waited for %s ms\n",
		      reason_name(best, name, sizeof(name)), (unsigned long)stats[best].count, held,
		      waited);
	}
}

void lockstat_report_lock(const char *what, uint64_t count, uint64_t waited_ns, uint64_t held_ns)
{
	char held[32], waited[32];

	if (!lockstat_enabled)
		return;
	put_ms(held, sizeof(held), held_ns);
	put_ms(waited, sizeof(waited), waited_ns);
	kinfo("solo: lockstat: %s: %lu times, held %s ms, waited for %s ms\n", what,
	      (unsigned long)count, held, waited);
}
