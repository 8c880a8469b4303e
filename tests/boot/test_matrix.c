/*
 * Boot matrix: the same demo image, with the same arguments and environment,
 * booted on both chipsets (q35, pc/i440fx), with 64 MiB to 8 GiB of memory,
 * 1 or 4 CPUs, from a SATA/IDE disk or a USB stick, and under both OVMF
 * builds (4 MiB and 2 MiB). Every configuration must print exactly the same
 * app output as the reference (q35, 512 MiB), end with "solo: exit 0" and
 * never panic or log anything "unsupported".
 *
 * The app's lines are compared in order, except the "(system free: N)" tail
 * of the demo's heap lines, which depends on the machine's memory: those
 * numbers are checked for consistency instead. The expected lines are a
 * table here, so that the tests need not share a reference log (they run
 * two at a time); the reference test checks its own run against the table.
 */
#define _GNU_SOURCE /* strndup */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MATRIX_TIMEOUT 180
#define MATRIX_MKIMG_ARGS                                                                          \
	"--app build/user/demo.elf --name matrix --args 'alpha \"two words\"' "                    \
	"--env SOLO_MATRIX=1 --env LANG=C"

/* The reference output, in order; heap lines without their "(system free: N)". */
static const char *const reference_output[] = {
    "Hello from Solo! This is matrix, running in ring 3.",
    "argc = 3",
    "argv[0] = \"matrix\"",
    "argv[1] = \"alpha\"",
    "argv[2] = \"two words\"",
    "env: SOLO_MATRIX=1",
    "env: LANG=C",
    "heap at start:      reserved     0 pages, backed     0 pages",
    "heap grown 4 MiB:   reserved  1024 pages, backed     0 pages",
    "heap 3 pages used:  reserved  1024 pages, backed     3 pages",
};
#define REFERENCE_LINES (sizeof(reference_output) / sizeof(reference_output[0]))
#define HEAP_LINES	3

struct config {
	const char *name;      /* image and log name: build/tests/{img,log}/matrix-<name> */
	const char *qemu_opts; /* for tools/qemu.sh */
	const char *boot_path; /* in the firmware's "BdsDxe: starting" line */
	unsigned long min_usable_mib, max_usable_mib; /* "solo: memory: N MiB usable" */
	int above_4g; /* memory above 4 GiB must be found and in palloc */
	/* A USB keyboard beside the stick: Solo takes the controller the
	 * firmware booted from and finds both (the stick left alone). */
	int usb_keyboard;
};

/* The log as lines, without "\r\n"; *count gets the number of lines. */
static char **split_lines(const char *log, size_t *count)
{
	size_t n = 0, cap = 64;
	char **lines = malloc(cap * sizeof(*lines));

	cr_assert_not_null(lines, "out of memory");
	for (const char *s = log; *s;) {
		const char *end = strchr(s, '\n');
		size_t len = end ? (size_t)(end - s) : strlen(s);

		if (n == cap) {
			cap *= 2;
			lines = realloc(lines, cap * sizeof(*lines));
			cr_assert_not_null(lines, "out of memory");
		}
		lines[n] = strndup(s, len > 0 && s[len - 1] == '\r' ? len - 1 : len);
		cr_assert_not_null(lines[n], "out of memory");
		n++;
		s = end ? end + 1 : s + len;
	}
	*count = n;
	return lines;
}

/*
 * Checks the app's lines (those between "solo: starting the app" and the
 * exit line that are not kernel lines) against the reference, and the heap
 * lines' system free page counts against each other.
 */
static void check_app_output(const char *log)
{
	size_t nlines, first = 0, napp = 0, nheap = 0;
	char **lines = split_lines(log, &nlines);
	unsigned long free_pages[HEAP_LINES] = {0};

	while (first < nlines && strcmp(lines[first], "solo: starting the app"))
		first++;
	cr_assert_lt(first, nlines, "no 'solo: starting the app' line; log:\n%s", log);
	for (size_t i = first + 1; i < nlines; i++) {
		char *line = lines[i];

		if (!strncmp(line, "solo: ", 6))
			continue;
		if (!strncmp(line, "heap ", 5)) {
			char *tail = strstr(line, " (system free: ");

			cr_assert_not_null(tail, "heap line without system free: '%s'", line);
			cr_assert_lt(nheap, HEAP_LINES, "too many heap lines; log:\n%s", log);
			cr_assert_eq(sscanf(tail, " (system free: %lu)", &free_pages[nheap]), 1,
				     "unparsable heap line: '%s'", line);
			nheap++;
			*tail = '\0';
		}
		cr_assert_lt(napp, REFERENCE_LINES, "extra app output '%s'; log:\n%s", line, log);
		cr_assert_str_eq(line, reference_output[napp],
				 "app output line %zu is '%s', the reference has '%s'; log:\n%s",
				 napp + 1, line, reference_output[napp], log);
		napp++;
	}
	cr_assert_eq(napp, REFERENCE_LINES, "%zu app lines, the reference has %zu; log:\n%s", napp,
		     REFERENCE_LINES, log);
	cr_assert_eq(nheap, HEAP_LINES);
	/* Reserving heap backs nothing; touching 3 pages takes at least 3. */
	cr_assert_eq(free_pages[1], free_pages[0], "growing the heap took pages; log:\n%s", log);
	cr_assert_leq(free_pages[2] + 3, free_pages[1], "3 touched pages not backed; log:\n%s",
		      log);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
}

static void check_config(const struct config *c)
{
	char name[64];
	unsigned long usable = 0, largest = 0, map_end = 0;
	int status;

	snprintf(name, sizeof(name), "matrix-%s", c->name);
	char *image = harness_mkimg(name, MATRIX_MKIMG_ARGS);
	char *log = harness_boot(image, c->qemu_opts, MATRIX_TIMEOUT, &status);

	cr_assert(!strstr(log, "solo: panic"), "%s: kernel panic; log:\n%s", c->name, log);
	cr_assert(!strstr(log, "unsupported"), "%s: something unsupported; log:\n%s", c->name, log);
	const char *last = harness_last_line_starting(log, "solo: ");
	cr_assert(last && !strcmp(last, "solo: exit 0"),
		  "%s: the last kernel line must be 'solo: exit 0'; log:\n%s", c->name, log);
	cr_assert_eq(status, 0, "%s: qemu.sh status %d; log:\n%s", c->name, status, log);
	check_app_output(log);

	/* The firmware booted the disk we meant (chipset, USB). */
	const char *bds = harness_last_line_starting(log, "BdsDxe: starting ");
	cr_assert(bds && strstr(bds, c->boot_path), "%s: not booted from '%s'; log:\n%s", c->name,
		  c->boot_path, log);

	/* All the memory is found: "solo: memory: N MiB usable, ..., largest free run L MiB". */
	const char *mem_line = strstr(log, "\nsolo: memory: ");
	cr_assert(mem_line, "%s: no memory summary; log:\n%s", c->name, log);
	char *mem = strndup(mem_line + 1, strcspn(mem_line + 1, "\r\n"));
	cr_assert_not_null(mem, "out of memory");
	const char *run = strstr(mem, "largest free run ");
	cr_assert(sscanf(mem, "solo: memory: %lu MiB usable", &usable) == 1 && run &&
		      sscanf(run, "largest free run %lu MiB", &largest) == 1,
		  "%s: unparsable memory summary '%s'", c->name, mem);
	cr_assert(usable > c->min_usable_mib && usable <= c->max_usable_mib,
		  "%s: %lu MiB usable, expected more than %lu and at most %lu; log:\n%s", c->name,
		  usable, c->min_usable_mib, c->max_usable_mib, log);
	cr_assert_leq(largest, usable);

	const char *stub = harness_last_line_starting(log, "solo: stub: ");
	cr_assert(stub, "%s: no stub line; log:\n%s", c->name, log);
	const char *map = strstr(stub, "1:1 map to ");
	cr_assert(map && sscanf(map, "1:1 map to %lx", &map_end) == 1,
		  "%s: stub line without its 1:1 map: '%s'", c->name, stub);
	if (c->above_4g) {
		/* The stub maps the RAM above 4 GiB, and palloc holds it: a free run
		 * longer than 4 GiB cannot lie below 4 GiB. */
		cr_assert_gt(map_end, 0x100000000ul, "%s: stub maps only to %#lx; log:\n%s",
			     c->name, map_end, log);
		cr_assert_gt(usable, 4096ul, "%s: memory above 4 GiB not found; log:\n%s", c->name,
			     log);
		cr_assert_gt(largest, 4096ul,
			     "%s: largest free run %lu MiB: memory above 4 GiB not in palloc; "
			     "log:\n%s",
			     c->name, largest, log);
	}
	if (c->usb_keyboard) {
		cr_assert(strstr(log, ": keyboard 0627:0001, high speed"),
			  "%s: no USB keyboard; log:\n%s", c->name, log);
		cr_assert(strstr(log, "46f4:0001 class 08, SuperSpeed: not used"),
			  "%s: the stick was not seen as storage; log:\n%s", c->name, log);
	}
	free(mem);
	free(image);
	free(log);
}

#define SATA "/Sata("
#define IDE  "/Ata("
#define USB  "/USB("

Test(matrix, q35_512M_reference)
{
	check_config(&(struct config){.name = "q35-512m",
				      .qemu_opts = "--machine q35 --mem 512M",
				      .boot_path = SATA,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0});
}

Test(matrix, pc_512M)
{
	check_config(&(struct config){.name = "pc-512m",
				      .qemu_opts = "--machine pc --mem 512M",
				      .boot_path = IDE,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0});
}

Test(matrix, q35_64M)
{
	check_config(&(struct config){.name = "q35-64m",
				      .qemu_opts = "--machine q35 --mem 64M",
				      .boot_path = SATA,
				      .min_usable_mib = 32,
				      .max_usable_mib = 64,
				      .above_4g = 0});
}

Test(matrix, q35_4G)
{
	check_config(&(struct config){.name = "q35-4g",
				      .qemu_opts = "--machine q35 --mem 4G",
				      .boot_path = SATA,
				      .min_usable_mib = 3584,
				      .max_usable_mib = 4096,
				      .above_4g = 0});
}

Test(matrix, q35_8G_uses_memory_above_4G)
{
	check_config(&(struct config){.name = "q35-8g",
				      .qemu_opts = "--machine q35 --mem 8G",
				      .boot_path = SATA,
				      .min_usable_mib = 7680,
				      .max_usable_mib = 8192,
				      .above_4g = 1});
}

Test(matrix, pc_8G_uses_memory_above_4G)
{
	check_config(&(struct config){.name = "pc-8g",
				      .qemu_opts = "--machine pc --mem 8G",
				      .boot_path = IDE,
				      .min_usable_mib = 7680,
				      .max_usable_mib = 8192,
				      .above_4g = 1});
}

Test(matrix, q35_smp4)
{
	check_config(&(struct config){.name = "q35-smp4",
				      .qemu_opts = "--machine q35 --smp 4",
				      .boot_path = SATA,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0});
}

Test(matrix, pc_smp4)
{
	check_config(&(struct config){.name = "pc-smp4",
				      .qemu_opts = "--machine pc --smp 4",
				      .boot_path = IDE,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0});
}

Test(matrix, q35_usb_stick)
{
	check_config(&(struct config){.name = "q35-usb",
				      .qemu_opts = "--machine q35 --usb --usb-keyboard --no-ps2",
				      .boot_path = USB,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0,
				      .usb_keyboard = 1});
}

Test(matrix, pc_usb_stick)
{
	check_config(&(struct config){.name = "pc-usb",
				      .qemu_opts = "--machine pc --usb --usb-keyboard",
				      .boot_path = USB,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0,
				      .usb_keyboard = 1});
}

Test(matrix, q35_ovmf_2M)
{
	check_config(&(struct config){.name = "q35-fw2m",
				      .qemu_opts = "--machine q35 --firmware 2m",
				      .boot_path = SATA,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0});
}

Test(matrix, pc_ovmf_2M)
{
	check_config(&(struct config){.name = "pc-fw2m",
				      .qemu_opts = "--machine pc --firmware 2m",
				      .boot_path = IDE,
				      .min_usable_mib = 400,
				      .max_usable_mib = 512,
				      .above_4g = 0});
}
