/*
 * Allocation-failure sweeps (mm/failinj.h) on the sanitized kernel,
 * build/kernel-san.elf: boot.cfg's failalloc= fails one chosen allocation
 * of the app's run, or many at random, and whatever the workload then
 * does, the kernel must end it by the serial contract: no panic (UBSan's
 * included: the kernel is the sanitized one), an error the app sees or a
 * clean kill, and every page back (harness_assert_clean_end). Each boot
 * must also have failed at least one allocation, so a point that stopped
 * being reached shows here.
 *
 * Workloads: the demo, the threads test app, Lua running the real-program
 * test's script, and the net test app over loopback TCP and UDP (lwIP's
 * heap). make test boots a small fixed set (the lean Test()s below);
 * make sweep-alloc (SOLO_SWEEP=full) first counts each workload's
 * allocations with failalloc beyond them, then fails the Nth for N spread
 * over the whole run (SOLO_SWEEP_STEPS of them, default 40, and the first
 * 10 one by one) and runs SOLO_SWEEP_SEEDS random seeds (default 10) at 5
 * and 50 per mille; it prints each boot's outcome.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 90
#define KERNEL	     "build/kernel-san.elf"
#define NEVER	     "1000000000000" /* failalloc= past any run: counts only */

struct workload {
	const char *name;
	const char *mkimg; /* mkimg arguments besides -o and --kernel */
};

static const struct workload demo = {"demo", "--app build/user/demo.elf --args 'hello sweep'"};
static const struct workload threads = {"threads", "--app build/tests/apps/threads.elf"};
static const struct workload lua = {
    "lua", "--app build/real/lua --name lua --args 'script.lua alpha 7' --env TZ=UTC0 "
	   "--file tests/real/script.lua:/script.lua --file tests/real/data:/data"};
static const struct workload net = {"net", "--app build/tests/apps/net.elf --args loopback"};

struct outcome {
	unsigned long failed, points;
	int code;
};

/* One boot of w with failalloc=spec; asserts the clean end. */
static struct outcome boot_with(const struct workload *w, const char *spec)
{
	struct outcome o = {0};
	int status;

	cr_assert(harness_exists(KERNEL), "%s is missing: make kernel-san", KERNEL);
	char *image = harness_mkimg(
	    harness_format("sweep-%s-%s", w->name, spec), /* a log per boot */
	    harness_format("--kernel %s %s --config failalloc=%s", KERNEL, w->mkimg, spec));
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);
	const char *line = harness_last_line_starting(log, "solo: failalloc: ");

	cr_assert(line && sscanf(line, "solo: failalloc: %lu of %lu allocations failed", &o.failed,
				 &o.points) == 2,
		  "%s failalloc=%s: no failalloc count; log:\n%s", w->name, spec, log);
	o.code = harness_assert_clean_end(log, status);
	free(image);
	return o;
}

/* A boot that must fail at least one allocation. */
static struct outcome boot_failing(const struct workload *w, const char *spec)
{
	struct outcome o = boot_with(w, spec);

	cr_assert_geq(o.failed, 1, "%s failalloc=%s: nothing failed in %lu allocations", w->name,
		      spec, o.points);
	cr_log_info("sweep: %s failalloc=%s: %lu of %lu failed, exit %d", w->name, spec, o.failed,
		    o.points, o.code);
	return o;
}

static unsigned long env_count(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoul(v, NULL, 10) : dflt;
}

/* The full sweep of one workload (make sweep-alloc); skipped in make test. */
static void full_sweep(const struct workload *w)
{
	const char *mode = getenv("SOLO_SWEEP");
	if (!mode || strcmp(mode, "full"))
		cr_skip_test("the full sweep runs under make sweep-alloc");

	struct outcome all = boot_with(w, NEVER);
	cr_assert_eq(all.failed, 0);
	/* (Lua's script exits with its last argument, 7.) */
	cr_assert_lt(all.code, 128, "%s is killed without failures (exit %d)", w->name, all.code);
	unsigned long steps = env_count("SOLO_SWEEP_STEPS", 40),
		      seeds = env_count("SOLO_SWEEP_SEEDS", 10);
	unsigned long stride = all.points / (steps ? steps : 1), boots = 1;
	fprintf(stderr, "sweep: %s makes %lu allocations\n", w->name, all.points);
	/* Threads and timers make a run's count vary a little: the last tenth
	 * may pass the end without failing, the rest must fail. */
	for (unsigned long n = 1; n <= all.points; n += n <= 10 || !stride ? 1 : stride) {
		struct outcome o = n <= all.points / 10 * 9
				       ? boot_failing(w, harness_format("%lu", n))
				       : boot_with(w, harness_format("%lu", n));
		fprintf(stderr, "sweep: %s failalloc=%lu: %lu failed, exit %d\n", w->name, n,
			o.failed, o.code);
		boots++;
	}
	for (unsigned long s = 1; s <= seeds; s++) {
		for (unsigned rate = 5; rate <= 50; rate *= 10) {
			struct outcome o = boot_with(w, harness_format("random:%lu:%u", s, rate));
			fprintf(stderr,
				"sweep: %s failalloc=random:%lu:%u: %lu of %lu failed, exit %d\n",
				w->name, s, rate, o.failed, o.points, o.code);
			boots++;
		}
	}
	fprintf(stderr, "sweep: %s: %lu boots, no panic, no leak\n", w->name, boots);
}

/* ------------------------------------------------ make test: a fixed few */

Test(sweep, demo_with_one_allocation_in_three_failing_ends_cleanly, .timeout = 150)
{
	boot_failing(&demo, "random:3:333");
}

/* The 210th is an mmap's region in the middle of the checks: the app sees
 * ENOMEM and reports a failed check. */
Test(sweep, threads_with_an_mmap_failing_midway_ends_cleanly, .timeout = 150)
{
	boot_failing(&threads, "210");
}

Test(sweep, lua_with_its_hundredth_allocation_failing_ends_cleanly, .timeout = 150)
{
	boot_failing(&lua, "100");
}

Test(sweep, loopback_sockets_with_allocations_failing_at_random_end_cleanly, .timeout = 150)
{
	/* 26 of about 4,700 allocations fail and the app still ends in seconds;
	 * denser failures (random:5:20) drop a segment lwIP then waits out,
	 * and the app's own 60 s timeout ends it: clean, but a minute long. */
	boot_failing(&net, "random:2:5");
}

Test(sweep, the_release_kernel_ignores_failalloc_and_says_so, .timeout = 150)
{
	int status;
	char *image = harness_mkimg("sweep-release",
				    "--kernel build/kernel.elf --app build/tests/apps/hello.elf "
				    "--config failalloc=1");
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(harness_has_line(log, "solo: failalloc: needs the sanitized kernel (make "
					"kernel-san); ignored"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "allocations failed"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

/* ------------------------------------------------ make sweep-alloc */

Test(sweep, full_demo)
{
	full_sweep(&demo);
}

Test(sweep, full_threads)
{
	full_sweep(&threads);
}

Test(sweep, full_lua)
{
	full_sweep(&lua);
}

Test(sweep, full_net)
{
	full_sweep(&net);
}

/* ------------------------------------------------ the sanitizers themselves */

/* Boots the sanitized kernel's test build, which misbehaves on purpose
 * after init: as boot.cfg name "smash", a stack smash, else a shift out of
 * bounds (kernel/main.c, SOLO_TEST_SANITIZERS). Returns the panic line. */
static const char *boot_misbehaving_kernel(const char *name)
{
	int status;
	char *image = harness_mkimg(
	    harness_format("sanitizer-%s", name),
	    harness_format(
		"--kernel build/test/kernel-san-faults.elf --app build/tests/apps/hello.elf "
		"--name %s",
		name));
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);
	const char *panic = harness_last_line_starting(log, "solo: panic: ");

	cr_assert(panic, "no panic line; log:\n%s", log);
	cr_assert(!strstr(log, "hello: argc"), "the app ran after the panic; log:\n%s", log);
	/* 125: QEMU ended without an exit line, as a panic ends it. */
	cr_assert_eq(status, 125, "qemu.sh status %d: the panic must end QEMU; log:\n%s", status,
		     log);
	return panic;
}

Test(sanitized, ubsan_names_the_kind_and_the_source_line, .timeout = 150)
{
	const char *panic = boot_misbehaving_kernel("shift");
	const char *want = "solo: panic: ubsan: shift out of bounds at kernel/main.c:";

	cr_assert(!strncmp(panic, want, strlen(want)), "panic line: %s", panic);
}

Test(sanitized, the_stack_protector_stops_a_smashed_return, .timeout = 150)
{
	const char *panic = boot_misbehaving_kernel("smash");
	const char *want = "solo: panic: stack protector: canary overwritten";

	cr_assert(!strncmp(panic, want, strlen(want)), "panic line: %s", panic);
}
