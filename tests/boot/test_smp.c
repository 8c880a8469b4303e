/*
 * Boot tests of the other CPUs' bring-up (kernel/arch/x86_64/smp.c): QEMU
 * with -smp N lists N processors in its MADT; the kernel starts them with
 * INIT-SIPI-SIPI and parks them, logging "solo: smp: R of L cpus running
 * (apic ...)". The app still runs on the boot CPU alone, and must run as it
 * does with one CPU: the threads checks exercise the entry paths whose GS
 * handling changed (syscalls, timer interrupts from ring 3, signals).
 * Under -smp 1 nothing is started and no smp line is logged (every other
 * boot test).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

static char *boot(const char *name, const char *mkimg_args, const char *qemu_opts, int *status)
{
	char *image = harness_mkimg(name, mkimg_args);
	char *log = harness_boot(image, qemu_opts, BOOT_TIMEOUT, status);
	free(image);
	return log;
}

Test(smp, four_cpus_start_and_park_while_the_threads_checks_pass)
{
	static const char *const checks[] = {
	    "mutex_counter_and_join_values",
	    "condvar_ping_pong",
	    "sleeps_overlap",
	    "spin_on_a_flag_set_by_another_thread",
	    "sleeper_wakes_while_another_thread_spins",
	    "sem_wait_and_sem_post_across_threads",
	    "tls_is_per_thread",
	    "fpu_state_is_per_thread",
	    "pthread_kill_reaches_the_app",
	};
	int status;
	char *log = boot("smp4-threads", "--app build/tests/apps/threads.elf", "--smp 4", &status);

	cr_assert(harness_has_line(log, "solo: smp: 4 of 4 cpus running (apic 0 1 2 3)"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "did not start"), "log:\n%s", log);
	harness_assert_checks(log, "threads", checks, sizeof(checks) / sizeof(checks[0]));
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 0);
	free(log);
}

Test(smp, cpus_caps_how_many_start)
{
	int status;
	char *log =
	    boot("smp4-cap2", "--app build/user/demo.elf --config cpus=2", "--smp 4", &status);

	cr_assert(harness_has_line(log, "solo: smp: 2 of 4 cpus running (apic 0 1), cpus=2"),
		  "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}

/*
 * The pc machine's MADT and APIC as well, with room for 4 CPUs of which 2
 * are present: QEMU lists the other two as disabled entries, which must
 * be skipped, not started. A bad cpus= is reported and
 * leaves the default (every CPU).
 */
Test(smp, pc_machine_starts_its_present_cpus_only_and_a_bad_cap_is_ignored)
{
	int status;
	char *log = boot("smp2-pc", "--app build/user/demo.elf --config cpus=0",
			 "--machine pc --smp 2,maxcpus=4", &status);

	cr_assert(strstr(log, "solo: boot.cfg line "), "log:\n%s", log);
	cr_assert(strstr(log, "cpus must be a number of CPUs from 1 to 256: cpus=0"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "solo: smp: 2 of 2 cpus running (apic 0 1)"), "log:\n%s",
		  log);
	cr_assert(!strstr(log, "did not start"), "log:\n%s", log);
	cr_assert(strstr(log, "Hello from Solo!"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
	free(log);
}
