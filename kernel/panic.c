/*
 * Kernel panic: report, then stop. The last line on every console is
 * "solo: panic: <what broke>", as the serial contract promises.
 */
#include "kernel/panic.h"

#include <stdarg.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/trap.h"
#include "kernel/kprintf.h"
#include "kernel/power.h"

static int panicking;

static _Noreturn void finish(const char *fmt, va_list ap)
{
	kprintf("solo: panic: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	power_stop_after_panic();
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	cli();
	if (panicking++)
		cpu_halt_forever(); /* a panic while panicking: the console may be the cause */
	console_urgent();
	trap_print_report(0);
	va_start(ap, fmt);
	finish(fmt, ap);
}

_Noreturn void panic_after_report(const char *fmt, ...)
{
	va_list ap;

	cli();
	if (panicking++)
		cpu_halt_forever();
	va_start(ap, fmt);
	finish(fmt, ap);
}
