/*
 * Boot tests: real images (tools/mkimg.sh) booted under OVMF + QEMU
 * (tools/qemu.sh), judged by the serial contract in the log.
 */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

static char *boot(const char *name, const char *mkimg_args, const char *qemu_opts, int *status)
{
	return harness_mkimg_boot(name, mkimg_args, qemu_opts, BOOT_TIMEOUT, status);
}

Test(boot, demo_greets_prints_argv_and_exits_0)
{
	int status;
	char *log =
	    boot("demo", "--app build/user/demo.elf --args 'one \"two words\"' --env GREETING=hi",
		 "", &status);

	cr_assert(strstr(log, "Hello from Solo! This is demo, running in ring 3."), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "argc = 3"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "argv[0] = \"demo\""), "log:\n%s", log);
	cr_assert(harness_has_line(log, "argv[1] = \"one\""), "log:\n%s", log);
	cr_assert(harness_has_line(log, "argv[2] = \"two words\""), "log:\n%s", log);
	cr_assert(harness_has_line(log, "env: GREETING=hi"), "log:\n%s", log);
	cr_assert(strstr(log, "solo: memory: "), "boot log has the memory summary:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(boot, exit_status_reaches_the_log_and_the_runner)
{
	int status;
	char *log = boot("exit3", "--app build/tests/apps/exit3.elf", "", &status);

	cr_assert(harness_has_line(log, "exit3: about to exit with status 3"), "log:\n%s", log);
	harness_assert_exit(log, status, 3);
	free(log);
}

Test(boot, argv_and_env_from_mkimg_reach_the_app_exactly)
{
	int status;
	char *log = boot("argv",
			 "--app build/tests/apps/hello.elf --name greeter "
			 "--args \"plain 'single quoted' \\\"double quoted\\\" back\\\\ slash ''\" "
			 "--env A=1 --env 'B=with space' --env EMPTY=",
			 "", &status);
	static const char *const want[] = {
	    "hello: argc=6",
	    "argv[0]=<greeter>",
	    "argv[1]=<plain>",
	    "argv[2]=<single quoted>",
	    "argv[3]=<double quoted>",
	    "argv[4]=<back slash>",
	    "argv[5]=<>",
	    "envp=<A=1>",
	    "envp=<B=with space>",
	    "envp=<EMPTY=>",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(harness_has_line(log, want[i]), "missing '%s'; log:\n%s", want[i], log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(boot, static_pie_app_runs)
{
	int status;
	char *log = boot("pie", "--app build/tests/apps/hello-pie.elf --args pie", "", &status);

	cr_assert(harness_has_line(log, "argv[1]=<pie>"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

static void boots_with_memory(const char *name, const char *mem)
{
	char opts[64];
	int status;

	snprintf(opts, sizeof(opts), "--mem %s", mem);
	char *image = harness_mkimg(name, "--app build/user/demo.elf");
	char *log = harness_boot(image, opts, BOOT_TIMEOUT, &status);
	cr_assert(strstr(log, "solo: memory: "), "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(image);
	free(log);
}

Test(boot, boots_in_128M)
{
	boots_with_memory("mem128", "128M");
}

Test(boot, boots_in_2G)
{
	boots_with_memory("mem2g", "2G");
}

Test(boot, kernel_fault_prints_a_readable_panic_report)
{
	int status;
	char *log = boot("panic", "--app build/user/demo.elf --kernel build/test/kernel-panic.elf",
			 "", &status);

	cr_assert(strstr(log, "#PF page fault"), "report names the exception:\n%s", log);
	cr_assert(strstr(log, "in the kernel"), "log:\n%s", log);
	cr_assert(strstr(log, "cr2 0x0000000000001000"), "report shows CR2:\n%s", log);
	cr_assert(strstr(log, "rip 0xffffffff8"), "report shows RIP:\n%s", log);
	/* The test build faults in kmain: RIP and the first frame are symbolized. */
	const char *rip = strstr(log, "rip 0xffffffff8");
	cr_assert(rip && !strncmp(rip + strlen("rip 0xffffffff80000000"), " kmain+0x", 9),
		  "RIP is symbolized as kmain+0x...:\n%s", log);
	const char *trace = strstr(log, "stack trace:");
	cr_assert(trace && strstr(trace, "0xffffffff8") &&
		      !strncmp(strstr(trace, "0xffffffff8") + strlen("0xffffffff80000000"),
			       " kmain+0x", 9),
		  "the stack trace starts in kmain:\n%s", log);
	cr_assert(strstr(log, "rax "), "report shows registers:\n%s", log);
	cr_assert(strstr(log, "stack trace:"), "log:\n%s", log);
	const char *last = harness_last_line_starting(log, "solo: ");
	cr_assert(last && !strncmp(last, "solo: panic: #PF page fault in the kernel", 41),
		  "last kernel line is the panic line:\n%s", log);
	cr_assert(!strstr(log, "Hello from Solo"), "the app must not run after a panic");
	cr_assert_neq(status, 0);
	free(log);
}

/* A misbehaving app is killed with 128 + the Linux signal; the kernel survives. */
static void app_is_killed(const char *what, int code, const char *reason)
{
	char args[128], name[64];
	int status;

	snprintf(name, sizeof(name), "misbehave-%s", what);
	snprintf(args, sizeof(args), "--app build/tests/apps/misbehave.elf --args %s", what);
	char *log = boot(name, args, "", &status);
	cr_assert(!strstr(log, "misbehave: survived"), "log:\n%s", log);
	harness_assert_killed(log, status, code, reason);
	free(log);
}

Test(boot, app_reading_kernel_memory_is_killed_with_sigsegv)
{
	app_is_killed("read-kernel", 139, "page fault");
}

Test(boot, app_writing_the_direct_map_is_killed_with_sigsegv)
{
	app_is_killed("write-kernel", 139, "page fault");
}

Test(boot, app_null_write_is_killed_with_sigsegv)
{
	app_is_killed("null", 139, "addr=0x0");
}

Test(boot, app_writing_its_text_is_killed_with_sigsegv)
{
	app_is_killed("write-text", 139, "write to a read-only");
}

Test(boot, ud2_is_sigill)
{
	app_is_killed("ud2", 132, "invalid opcode");
}

Test(boot, int3_is_sigtrap)
{
	app_is_killed("int3", 133, "breakpoint");
}

Test(boot, divide_by_zero_is_sigfpe)
{
	app_is_killed("div0", 136, "divide error");
}

Test(boot, privileged_instruction_is_sigsegv)
{
	app_is_killed("hlt", 139, "general protection");
}

Test(boot, app_flags_df_and_ac_do_not_leak_into_the_kernel)
{
	int status;
	char *log = boot("misbehave-flags", "--app build/tests/apps/misbehave.elf --args flags", "",
			 &status);

	cr_assert(harness_has_line(log, "misbehave: flags: 0 nonzero bytes, getpid 1"),
		  "a demand page under DF=1 is zeroed forwards; log:\n%s", log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

Test(boot, bad_pointers_in_syscalls_return_efault)
{
	int status;
	char *log =
	    boot("efault", "--app build/tests/apps/misbehave.elf --args efault", "", &status);

	cr_assert(harness_has_line(log, "misbehave: write(kernel pointer) returned -14"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "misbehave: write(unmapped pointer) returned -14"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "misbehave: writev(bad iovec) returned -14"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "misbehave: arch_prctl(SET_FS, kernel) returned -1"),
		  "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(boot, unknown_syscalls_return_enosys_and_are_logged_once)
{
	int status;
	char *log = boot("nosys", "--app build/tests/apps/misbehave.elf --args nosys", "", &status);

	cr_assert(harness_has_line(log, "misbehave: syscall 999 returned -38"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "misbehave: syscall 999 again returned -38"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "misbehave: syscall -1 returned -38"), "log:\n%s", log);
	const char *first = strstr(log, "solo: unsupported syscall 999");
	cr_assert(first, "log:\n%s", log);
	cr_assert(!strstr(first + 1, "solo: unsupported syscall 999"), "logged twice:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(boot, stub_refuses_a_corrupt_kernel_with_a_clear_message)
{
	char *image = harness_mkimg("badkernel", "--app build/user/demo.elf");

	/* Replace kernel.elf inside the image with garbage after mkimg checked it. */
	cr_assert_eq(harness_run(NULL,
				 "printf 'not an elf at all' > build/tests/img/garbage.bin && "
				 "mcopy -o -i %s@@1M build/tests/img/garbage.bin ::/kernel.elf",
				 image),
		     0);
	/* The stub returns to the firmware, which reports the load error. */
	char *log = harness_boot_until("badkernel", image, "", "Load Error", 60);
	cr_assert(strstr(log, "kernel.elf"), "stub names the file:\n%s", log);
	cr_assert(strstr(log, "not an ELF"), "stub says why:\n%s", log);
	cr_assert(!strstr(log, "solo: exit"), "log:\n%s", log);
	cr_assert(strstr(log, "Load Error"), "the stub must return to the firmware:\n%s", log);
	free(image);
	free(log);
}

/* on_exit=poweroff without QEMU's debug-exit device: the paths real
 * machines take (UEFI ResetSystem by default, ACPI S5 as the fallback) must
 * end QEMU on both chipsets. */
static void poweroff_ends_qemu(const char *machine, const char *way)
{
	char opts[64], name[32], args[128];
	int status;

	snprintf(opts, sizeof(opts), "--no-debug-exit --machine %s", machine);
	snprintf(name, sizeof(name), "poweroff-%s-%s", way, machine);
	snprintf(args, sizeof(args), "--app build/user/demo.elf --config poweroff=%s", way);
	char *image = harness_mkimg(name, args);
	char *log = harness_boot(image, opts, BOOT_TIMEOUT, &status);
	harness_assert_exit(log, status, 0);
	free(image);
	free(log);
}

Test(boot, acpi_poweroff_on_q35)
{
	poweroff_ends_qemu("q35", "acpi");
}

Test(boot, acpi_poweroff_on_pc)
{
	poweroff_ends_qemu("pc", "acpi");
}

Test(boot, uefi_resetsystem_poweroff_on_q35)
{
	poweroff_ends_qemu("q35", "uefi");
}

Test(boot, uefi_resetsystem_poweroff_on_pc)
{
	poweroff_ends_qemu("pc", "uefi");
}

Test(boot, on_exit_reboot_resets_the_machine)
{
	int status;
	/* qemu.sh runs QEMU with -no-reboot, so a reset ends it. */
	char *log =
	    boot("reboot", "--app build/tests/apps/exit3.elf --config on_exit=reboot", "", &status);

	harness_assert_exit(log, status, 3);
	free(log);
}

/* The machine is still up 5 s after the exit line (then QEMU is stopped). */
Test(boot, on_exit_halt_keeps_the_machine_up)
{
	int status;
	char *image =
	    harness_mkimg("halt", "--app build/tests/apps/exit3.elf --config on_exit=halt");
	char *log =
	    harness_boot_until_stay("halt", image, "", "solo: exit 3", BOOT_TIMEOUT, 5, &status);
	const char *last = harness_last_line_starting(log, "solo: ");

	cr_assert(last && !strcmp(last, "solo: exit 3"), "log:\n%s", log);
	cr_assert_eq(status, -1, "a halted machine stays up (QEMU ended with %d)", status);
	free(image);
	free(log);
}

Test(boot, mm_selftest_returns_every_page_to_palloc)
{
	int status;
	char *log =
	    boot("selftest", "--app build/tests/apps/exit3.elf --config selftest=mm", "", &status);

	cr_assert(harness_has_line(log, "solo: selftest mm: ok"), "log:\n%s", log);
	const char *line = strstr(log, "solo: selftest mm: free pages before ");
	cr_assert(line, "log:\n%s", log);
	unsigned long before, after;
	cr_assert_eq(
	    sscanf(line, "solo: selftest mm: free pages before %lu, after %lu", &before, &after),
	    2);
	cr_assert_eq(before, after);
	cr_assert_gt(before, 1000);
	harness_assert_exit(log, status, 3);
	free(log);
}

/* The info-level boot log a person reads: versions, firmware, CPU, TSC,
 * memory, the app's command line and the boot-stage times. */
Test(boot, boot_log_names_versions_stages_and_the_app)
{
	int status;
	char *log = boot("bootlog", "--app build/tests/apps/exit3.elf --args 'one \"two words\"'",
			 "", &status);
	unsigned long mhz, usable, reserved;
	unsigned stub_ms, ebs_ms, kernel_ms;
	const char *line;

	cr_assert(strstr(log, "solo: Solo 0."), "version line:\n%s", log);
	cr_assert(strstr(log, ", built with gcc "), "compiler version:\n%s", log);
	cr_assert(strstr(log, "solo: firmware: "), "log:\n%s", log);
	cr_assert(strstr(log, "solo: cpu: "), "log:\n%s", log);
	line = strstr(log, "solo: tsc: ");
	cr_assert(line && sscanf(line, "solo: tsc: %lu MHz", &mhz) == 1 && mhz >= 100 &&
		      mhz < 100000,
		  "a plausible TSC rate:\n%s", log);
	line = strstr(log, "solo: memory: ");
	cr_assert(line &&
		      sscanf(line, "solo: memory: %lu MiB usable, %lu MiB firmware-reserved",
			     &usable, &reserved) == 2 &&
		      usable > 400 && reserved < usable,
		  "usable and reserved memory:\n%s", log);
	cr_assert(harness_has_line(log, "solo: app: exit3 one \"two words\""), "log:\n%s", log);
	line = strstr(log, "solo: boot: stub ");
	cr_assert(line &&
		      sscanf(line,
			     "solo: boot: stub %u.%*u ms, exit boot services %u.%*u ms, kernel %u.",
			     &stub_ms, &ebs_ms, &kernel_ms) == 3,
		  "stage times:\n%s", log);
	cr_assert(stub_ms < 10000 && ebs_ms < 10000 && kernel_ms < 10000, "log:\n%s", log);
	cr_assert(strstr(log, "solo: boot: stub entry tsc "), "log:\n%s", log);
	cr_assert(!strstr(log, "kcycles"), "the old line is gone:\n%s", log);
	/* Order: the stage times come last, just before the app starts. */
	cr_assert(strstr(log, "solo: boot: stub ") > strstr(log, "solo: app: "), "log:\n%s", log);
	cr_assert(strstr(log, "solo: starting the app") > strstr(log, "solo: boot: stub "),
		  "log:\n%s", log);
	harness_assert_exit(log, status, 3);
	free(log);
}

Test(boot, log_quiet_keeps_only_the_serial_contract)
{
	int status;
	char *log =
	    boot("quiet", "--app build/tests/apps/exit3.elf --config log=quiet", "", &status);

	cr_assert(!strstr(log, "solo: memory:"), "log:\n%s", log);
	cr_assert(!strstr(log, "solo: cpu:"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "exit3: about to exit with status 3"), "log:\n%s", log);
	harness_assert_exit(log, status, 3);
	free(log);
}

Test(boot, log_debug_shows_the_app_page_tables)
{
	int status;
	char *log =
	    boot("debuglog", "--app build/tests/apps/exit3.elf --config log=debug", "", &status);

	cr_assert(strstr(log, "solo: page tables of context"), "log:\n%s", log);
	/* exit3 is linked at 0x400000; its text is mapped user + executable. */
	cr_assert(strstr(log, " 0000000000401000 -> "), "log:\n%s", log);
	cr_assert(strstr(log, "| X | USER)"), "log:\n%s", log);
	cr_assert(strstr(log, "solo: kmalloc:"), "heap statistics in the debug dump:\n%s", log);
	harness_assert_exit(log, status, 3);
	free(log);
}

/* The app's page tables hold its own pages and the UL_VISIBLE trampoline
 * pages only: no direct map, no kernel text or heap, nothing user-accessible
 * in the kernel half. On one CPU: a started CPU's stacks are in the view too. */
Test(boot, app_view_holds_only_ul_visible_kernel_pages)
{
	int status;
	char *log = boot("appview", "--app build/tests/apps/exit3.elf --config log=debug",
			 "--smp 1", &status);
	const char *dump = strstr(log, "solo: page tables of context");
	unsigned kernel_pages = 0;

	cr_assert(dump, "log:\n%s", log);
	for (const char *p = dump; (p = strstr(p, " -> ")); p++) {
		const char *line = p;
		while (line > dump && line[-1] != '\n')
			line--;
		unsigned long long va;
		cr_assert_eq(sscanf(line, "solo: %*u %llx", &va), 1,
			     "unparsable dump line near %.60s", line);
		if (va < 0xffff800000000000ull)
			continue;
		kernel_pages++;
		cr_assert(va >= 0xffffffff80000000ull, "kernel-half page %#llx outside the image",
			  va);
		const char *eol = strchr(p, '\n');
		cr_assert(!memmem(p, eol ? (size_t)(eol - p) : strlen(p), "USER", 4),
			  "kernel page %#llx is user-accessible", va);
	}
	cr_assert_gt(kernel_pages, 0, "trampolines must be mapped in the app's view");
	cr_assert_lt(kernel_pages, 48,
		     "%u kernel pages in the app's view: more than the trampolines", kernel_pages);
	harness_assert_exit(log, status, 3);
	free(log);
}

/* ---------------------------------------------------------------- the app's memory */

static void memtest(const char *what, const char *extra_mkimg, const char *qemu_opts, int code)
{
	char args[256], name[64];
	int status;

	snprintf(name, sizeof(name), "memtest-%s", what);
	snprintf(args, sizeof(args), "--app build/tests/apps/memtest.elf --args %s %s", what,
		 extra_mkimg);
	char *log = boot(name, args, qemu_opts, &status);
	cr_assert(!strstr(log, "FAILED"), "a check failed:\n%s", log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	harness_assert_exit(log, status, code);
	harness_assert_memory_returned(log);
	free(log);
}

Test(memory, demand_paging_backs_exactly_the_pages_touched)
{
	memtest("demand", "", "", 0);
}

Test(memory, heap_grows_and_shrinks_and_returns_pages)
{
	memtest("heap", "", "", 0);
}

Test(memory, fixed_mappings_unmap_and_bad_requests)
{
	memtest("fixed", "", "", 0);
}

/* Free RAM and devices nobody uses, never the kernel's own: the APICs and
 * the PCI configuration window (whose address the app checks). */
Test(memory, physical_mappings_of_free_ram_and_devices_only)
{
	int status;
	char *log =
	    boot("memtest-phys", "--app build/tests/apps/memtest.elf --args phys", "", &status);

	cr_assert(harness_has_line(log, "solo: pci: ECAM at 0xb0000000, buses 00-ff"),
		  "memtest's ECAM address is q35's: log:\n%s", log);
	cr_assert(!strstr(log, "FAILED"), "a check failed:\n%s", log);
	cr_assert(harness_has_line(log, "memtest: PCI ECAM: -EPERM: ok"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	harness_assert_memory_returned(log);
	free(log);
}

Test(memory, app_uses_ram_above_4g)
{
	int status;
	char *log =
	    boot("memtest-high", "--app build/tests/apps/memtest.elf --args 'phys-at 0x200000000'",
		 "--mem 8G", &status);

	cr_assert(harness_has_line(log, "memtest: map RAM at the given physical address: ok"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "FAILED"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	harness_assert_memory_returned(log);
	free(log);
}

Test(memory, stack_grows_on_faults_within_its_reserve)
{
	memtest("stack", "", "", 0);
}

Test(memory, stack_overflow_past_the_reserve_is_sigsegv)
{
	int status;
	char *log =
	    boot("memtest-overflow",
		 "--app build/tests/apps/memtest.elf --args stack-overflow --config stack=256K", "",
		 &status);

	cr_assert(strstr(log, "solo: app killed: page fault"), "log:\n%s", log);
	harness_assert_exit(log, status, 139);
	harness_assert_memory_returned(log);
	free(log);
}

Test(memory, executing_the_heap_is_sigsegv)
{
	int status;
	char *log = boot("memtest-exec", "--app build/tests/apps/memtest.elf --args exec-heap", "",
			 &status);

	cr_assert(strstr(log, "solo: app killed: page fault (execute from a non-executable page)"),
		  "log:\n%s", log);
	harness_assert_exit(log, status, 139);
	free(log);
}

/* Under overcommit=lazy (strict refuses the 1 GiB reservation instead:
 * tests/boot/test_mmap.c's strict_overcommit_says_enomem_instead_of_killing). */
Test(memory, out_of_memory_kills_the_app_and_the_kernel_finishes)
{
	int status;
	char *log = boot("memtest-oom",
			 "--app build/tests/apps/memtest.elf --args oom --config overcommit=lazy",
			 "--mem 128M", &status);

	cr_assert(strstr(log, "solo: app killed: out of memory"), "log:\n%s", log);
	cr_assert(!strstr(log, "solo: panic"), "log:\n%s", log);
	harness_assert_exit(log, status, 137);
	harness_assert_memory_returned(log);
	free(log);
}

Test(memory, demo_shows_reserved_and_backed_heap_pages)
{
	int status;
	char *log = boot("memdemo", "--app build/user/demo.elf", "", &status);

	cr_assert(strstr(log, "heap grown 4 MiB:   reserved  1024 pages, backed     0 pages"),
		  "log:\n%s", log);
	cr_assert(strstr(log, "heap 3 pages used:  reserved  1024 pages, backed     3 pages"),
		  "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	harness_assert_memory_returned(log);
	free(log);
}
