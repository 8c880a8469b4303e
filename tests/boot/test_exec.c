/*
 * Boot tests of how the kernel starts a program as execve does: a
 * dynamically linked ELF with its interpreter (glibc's ld.so), a "#!"
 * script whose interpreter is a dynamically linked musl program, and a
 * script whose interpreter is missing. The app (tests/apps/exec-auxv.c)
 * prints "fact:" lines that hold on Linux too: each boot compares them with
 * the same binary run on the host.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

/* The "fact:" lines of text, each ending in '\n' (a '\r' before it dropped). */
static char *facts(const char *text)
{
	size_t cap = strlen(text) + 1, n = 0;
	char *out = malloc(cap);

	cr_assert_not_null(out);
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len && p[len - 1] == '\r')
			len--;
		if (!strncmp(p, "fact: ", 6)) {
			memcpy(out + n, p, len);
			n += len;
			out[n++] = '\n';
		}
		p += end ? (size_t)(end - p) + 1 : strlen(p);
	}
	out[n] = 0;
	return out;
}

/* The facts of the guest's log against the same binary run on the host. */
static void assert_facts_as_on_the_host(const char *log, const char *host_cmd)
{
	char *host;
	int status = harness_run(&host, "%s", host_cmd);

	cr_assert_eq(status, 3, "host run of %s: status %d:\n%s", host_cmd, status, host);
	char *want = facts(host), *got = facts(log);
	cr_assert(strstr(want, ": yes\n") && !strstr(want, ": no\n"), "host facts:\n%s", want);
	cr_assert_str_eq(got, want, "guest facts differ from the host's; log:\n%s", log);
	free(want);
	free(got);
	free(host);
}

/* mkimg adds ld.so and libc.so.6 (the closure) to the rootfs. */
Test(exec, glibc_dynamic_program_starts_in_its_interpreter)
{
	int status;
	char *image = harness_mkimg("exec-glibc", "--app build/tests/apps/exec-auxv-gnu.elf "
						  "--app-path /usr/bin/exec-auxv --name exec-auxv "
						  "--args 'one \"two words\"' --config aslr=off");
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	assert_facts_as_on_the_host(log, "build/tests/apps/exec-auxv-gnu.elf one 'two words'");
	cr_assert(harness_has_line(log, "info: dynamic 1"), "log:\n%s", log);
	/* aslr=off: ld.so at LOADER_INTERP_BASE, where every boot puts it */
	cr_assert(harness_has_line(log, "info: AT_BASE 0x7f0000000000"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "info: AT_EXECFN /usr/bin/exec-auxv"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "info: exe /usr/bin/exec-auxv"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "info: argv[0] exec-auxv"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "info: argv[2] two words"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 3);
	free(log);
	free(image);
}

/* A script run by a dynamically linked musl program: argv as Linux's
 * binfmt_script builds it (the interpreter as written, the one optional
 * argument with its inner blanks, the script's path, then the arguments). */
Test(exec, script_runs_its_musl_dynamic_interpreter_with_linux_argv)
{
	int status;

	cr_assert_eq(harness_run(NULL, "mkdir -p build/tests/img && printf '%%s\\n' "
				       "'#! /usr/bin/exec-auxv-musl  -x  y ' 'not read' "
				       "> build/tests/img/exec-script.sh"),
		     0);
	char *image = harness_mkimg(
	    "exec-script", "--app build/tests/img/exec-script.sh --app-path /srv/job.sh "
			   "--file build/tests/apps/exec-auxv-musl.elf:/usr/bin/exec-auxv-musl "
			   "--args 'a1 a2'");
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	assert_facts_as_on_the_host(log, "build/tests/apps/exec-auxv-musl.elf");
	static const char *const want[] = {
	    "info: dynamic 1",
	    "info: argv[0] /usr/bin/exec-auxv-musl",
	    "info: argv[1] -x  y",
	    "info: argv[2] /srv/job.sh",
	    "info: argv[3] a1",
	    "info: argv[4] a2",
	    "info: AT_EXECFN /srv/job.sh",
	    "info: exe /usr/bin/exec-auxv-musl",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(harness_has_line(log, want[i]), "no line \"%s\"; log:\n%s", want[i], log);
	cr_assert(!strstr(log, "info: argv[5]"), "log:\n%s", log);
	harness_assert_memory_returned(log);
	harness_assert_exit(log, status, 3);
	free(log);
	free(image);
}

Test(exec, script_with_a_missing_interpreter_is_refused_by_name)
{
	int status;

	cr_assert_eq(harness_run(NULL, "mkdir -p build/tests/img && printf '%%s\\n' "
				       "'#!/usr/bin/python3' 'print(1)' "
				       "> build/tests/img/exec-nointerp.py"),
		     0);
	char *image = harness_mkimg("exec-nointerp",
				    "--app build/tests/img/exec-nointerp.py --app-path /app/x.py");
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(harness_has_line(log, "solo: app not started: #! interpreter /usr/bin/python3: "
					"no such file in the root file system"),
		  "log:\n%s", log);
	cr_assert(!strstr(log, "panic"), "log:\n%s", log);
	harness_assert_exit(log, status, 126);
	free(log);
	free(image);
}
