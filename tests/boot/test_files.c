/*
 * Boot tests of the file and process syscalls (issue 5): tests/apps/files.c
 * over a rootfs made with mkimg --file (files, a directory, symlinks), and
 * tests/apps/echo.c reading typed lines from COM1 (qemu.sh --input).
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT 120

/* A rootfs source tree under build/tests/<name>-src and the mkimg
 * arguments that package it with tests/apps/files.elf. */
static char *files_image_args(const char *name)
{
	char *src = harness_path("build/tests/%s-src", name);
	char *args = NULL;

	cr_assert_eq(
	    harness_run(
		NULL,
		"rm -rf %s && mkdir -p %s/data/sub && "
		"printf 'hello, file\\n' > %s/hello.txt && "
		"printf 'alpha\\n' > %s/data/a.txt && printf 'beta\\n' > %s/data/sub/b.txt && "
		"ln -s a.txt %s/data/link && ln -s ../etc %s/data/up",
		src, src, src, src, src, src, src),
	    0);
	/* root=ro: these apps check the read-only tree's answers (EROFS). */
	cr_assert_geq(
	    asprintf(&args,
		     "--app build/tests/apps/files.elf --file %s/hello.txt:/etc/hello.txt "
		     "--file %s/data:/data --config root=ro",
		     src, src),
	    0);
	return args;
}

Test(files, an_app_reads_stats_lists_and_follows_links_in_the_rootfs)
{
	int status;
	char *image = harness_mkimg("files", files_image_args("files"));
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(!strstr(log, "files: FAIL"), "a check failed; log:\n%s", log);
	cr_assert(harness_has_line(log, "files: 0 failures"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "files: ok open_follows_link"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "files: ok readdir_lists_every_entry"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "files: ok o_creat_is_erofs"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: unsupported syscall 999"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: unsupported syscall 246 (kexec_load)"), "log:\n%s",
		  log);
	cr_assert(!strstr(log, "solo: strace:"), "no tracing unless asked; log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

/* strace=1: every call is logged with its decoded arguments and result,
 * including errors and unsupported calls, and the app runs the same. */
Test(files, strace_logs_each_syscall_with_arguments_and_result)
{
	int status;
	char *args = NULL;

	cr_assert_geq(asprintf(&args, "%s --config strace=1", files_image_args("files-strace")), 0);
	char *image = harness_mkimg("files-strace", args);
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(harness_has_line(log, "files: 0 failures"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: strace: open(\"/etc/hello.txt\", 0x88000, 00) = 3"),
		  "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: strace: read(3, \"hello, file\\n\", 256) = 12"),
		  "an output buffer shows what was read; log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: strace: write(3, \"x\", 1) = -9 EBADF"),
		  "an input buffer and an error; log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: strace: lseek(3, 7, 0) = 7"), "log:\n%s", log);
	cr_assert(strstr(log, "solo: strace: openat(AT_FDCWD, \"/data/link\", "),
		  "a dirfd and a path; log:\n%s", log);
	cr_assert(strstr(log, "solo: strace: kexec_load(0x0, 0x0, 0x0) = -38 ENOSYS"),
		  "unsupported calls are traced too; log:\n%s", log);
	cr_assert(strstr(log, "solo: strace: syscall_999("), "log:\n%s", log);
	cr_assert(harness_has_line(log, "solo: strace: exit_group(0) = ?"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

Test(files, without_a_rootfs_the_root_is_empty_and_the_rest_works)
{
	int status;

	/* No --file: no rootfs.tar, an empty "/" (a bad archive is refused by
	 * tarfs_mount the same way; its host tests cover the messages). */
	char *image = harness_mkimg("files-empty", "--app build/tests/apps/files.elf");
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(strstr(log, "files: FAIL open (fd >= 3) errno=2 "), "ENOENT; log:\n%s", log);
	cr_assert(harness_has_line(log, "files: ok uname"), "log:\n%s", log);
	cr_assert(strstr(log, "solo: exit "), "log:\n%s", log);
}

Test(files, stdin_lines_are_echoed_edited_and_raw_mode_reads_bytes)
{
	int status;
	const char *input = "build/tests/echo-input.txt";

	cr_assert_eq(
	    harness_run(NULL,
			"printf 'hello world\\ntypo\\177\\177st\\npoll\\nraw\\nxyzquit\\n' > %s",
			input),
	    0);
	char *image = harness_mkimg("echo", "--app build/tests/apps/echo.elf");
	char *opts = NULL;
	cr_assert_geq(asprintf(&opts, "--input %s", harness_path("%s", input)), 0);
	char *log = harness_boot(image, opts, BOOT_TIMEOUT, &status);

	cr_assert(harness_has_line(log, "echo: ready"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "hello world"), "typed text is echoed; log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: hello world"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: tyst"), "backspace erases; log:\n%s", log);
	cr_assert(harness_has_line(log, "poll: 1 revents 0x1"), "typed input polls; log:\n%s", log);
	cr_assert(harness_has_line(log, "echo: raw"), "the polled line is still read; log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "raw: xyz"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

Test(files, process_calls_poll_sendfile_and_futex_behave_like_linux)
{
	int status;
	char *src = harness_path("build/tests/process-src");

	cr_assert_eq(harness_run(NULL, "rm -rf %s && mkdir -p %s && printf 'hello, file\\n' > %s/h",
				 src, src, src),
		     0);
	char *args = NULL;
	cr_assert_geq(
	    asprintf(
		&args,
		"--app build/tests/apps/process.elf --file %s/h:/etc/hello.txt --config root=ro",
		src),
	    0);
	char *image = harness_mkimg("process", args);
	char *log = harness_boot(image, NULL, BOOT_TIMEOUT, &status);

	cr_assert(!strstr(log, "process: FAIL"), "a check failed; log:\n%s", log);
	cr_assert(harness_has_line(log, "process: sendfile says hello, file"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "process: ok sem_timedwait_times_out"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "process: ok minflt_counts_each_page_touched"), "log:\n%s",
		  log);
	cr_assert(harness_has_line(log, "process: said on /dev/tty"), "log:\n%s", log);
	cr_assert(harness_has_line(log, "process: 0 failures"), "log:\n%s", log);
	cr_assert(!strstr(log, "solo: unsupported syscall"), "log:\n%s", log);
	harness_assert_exit(log, status, 0);
}

/* ^C on the serial line is SIGINT for the app (ISIG), as a terminal's is:
 * the half-typed line is dropped and, with no handler, the app ends with
 * status 130. */
Test(files, ctrl_c_on_the_console_interrupts_the_app)
{
	int status;
	const char *input = "build/tests/echo-ctrl-c.txt";

	cr_assert_eq(harness_run(NULL, "printf 'first\\nhalf\\003' > %s", input), 0);
	char *image = harness_mkimg("echo-ctrl-c", "--app build/tests/apps/echo.elf");
	char *opts = NULL;
	cr_assert_geq(asprintf(&opts, "--input %s", harness_path("%s", input)), 0);
	char *log = harness_boot(image, opts, BOOT_TIMEOUT, &status);

	cr_assert(harness_has_line(log, "echo: first"), "log:\n%s", log);
	cr_assert(!strstr(log, "echo: half"), "the interrupted line is dropped; log:\n%s", log);
	cr_assert(strstr(log, "solo: app killed: signal 2 (SIGINT)"), "log:\n%s", log);
	harness_assert_exit(log, status, 130);
}
