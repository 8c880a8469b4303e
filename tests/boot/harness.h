/*
 * Helpers for the Criterion tests in tests/boot/: run the repository's tools
 * from the repository root, make disk images with tools/mkimg.sh, boot them
 * with tools/qemu.sh and read the serial contract from the log.
 *
 * The root is $SOLO_ROOT (default "."), made absolute; every path the harness
 * returns is absolute. Outputs go under build/tests/: images in img/, serial
 * logs in log/. Tests run in parallel (--jobs=2), so every test names its
 * files after itself. Strings the harness returns are malloc'd unless said
 * otherwise; tests may leak them (each test is its own process).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* The repository root, absolute, without a trailing '/'. Never NULL. */
const char *harness_root(void);

/*
 * harness_run - run a shell (/bin/sh) command, printf-formatted, from the
 * repository root, with stdin from /dev/null and /usr/sbin:/sbin on PATH.
 * Returns its exit status (128 + N if killed by signal N), or -1 if it could
 * not be run. If out is not NULL, *out gets its stdout and stderr together,
 * malloc'd and NUL-terminated ("" if none; NULL only when -1 is returned).
 */
int harness_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * harness_mkimg - make build/tests/img/<name>.img with tools/mkimg.sh, with
 * mkimg_args (shell syntax, may be NULL) appended. Fails the current test,
 * showing mkimg's output, if mkimg fails. Returns the image path.
 * With $SOLO_KERNEL set (make test-sanitized), the image gets that kernel
 * unless mkimg_args name one with --kernel (the last --kernel wins).
 */
char *harness_mkimg(const char *name, const char *mkimg_args);

/*
 * harness_boot - boot image with tools/qemu.sh --serial
 * build/tests/log/<image basename without .img>.log --timeout timeout_s,
 * plus qemu_opts (shell syntax, may be NULL). Returns the serial log text
 * ("" if there is none). If status is not NULL, *status gets qemu.sh's exit
 * status: the app's status, 124 timeout, 125 no "solo: exit" line, 126/127
 * runner errors. qemu.sh's own messages are logged as a warning when the
 * status is 124 or more.
 */
char *harness_boot(const char *image, const char *qemu_opts, int timeout_s, int *status);

/*
 * harness_boot_until - boots image with qemu_opts until its serial log
 * (build/tests/log/NAME.log) has want, QEMU ends or timeout_s passes, then
 * stops QEMU: for an image refused before the kernel runs, which leaves
 * OVMF in its boot menu or shell for ever. Returns the log (malloc'd; ""
 * if none); the caller judges it.
 */
char *harness_boot_until(const char *name, const char *image, const char *qemu_opts,
			 const char *want, int timeout_s);
/* The same, but QEMU is given stay_s more seconds to end by itself after
 * want (or the timeout); *status (when not NULL) is harness_stop's answer:
 * qemu.sh's status if it ended, -1 if it had to be stopped. */
char *harness_boot_until_stay(const char *name, const char *image, const char *qemu_opts,
			      const char *want, int timeout_s, int stay_s, int *status);

/* harness_mkimg then harness_boot: the image name's log, freed image. */
char *harness_mkimg_boot(const char *name, const char *mkimg_args, const char *qemu_opts,
			 int timeout_s, int *status);

/*
 * For tests that talk to a running guest (the keyboard, shim's MokManager,
 * the screen, a refused image that leaves OVMF waiting):
 * harness_start runs cmd (sh syntax, e.g. "exec tools/qemu.sh ... --monitor
 * SOCK") in the background from the repository root, stdin from
 * /dev/null, and returns its pid,
 * the runner (end it with harness_stop, or waitpid it);
 * harness_wait_text waits until the serial log at path, with its escape
 * sequences taken out, has text at or after offset from, and returns the
 * offset just past it (fails the test after timeout_s);
 * harness_press_keys types keys (QEMU's sendkey names, NULL-terminated)
 * through the QEMU monitor at the unix socket sock, half a second apart.
 */
pid_t harness_start(const char *cmd);
size_t harness_wait_text(const char *path, const char *text, size_t from, int timeout_s);
void harness_press_keys(const char *sock, const char *const *keys);

/*
 * harness_await_text - harness_wait_text that lets the test decide: waits
 * until the plain log at path has text at or after offset *at (sets *at just
 * past it, returns 0), until runner (harness_start's pid; 0 for none) has
 * ended (-1), or until timeout_s seconds have passed (-1). Does not reap the
 * runner. Polls four times a second.
 */
int harness_await_text(pid_t runner, const char *path, const char *text, size_t *at, int timeout_s);

/*
 * harness_stop - ends a runner from harness_start: waits up to grace_s
 * seconds for it to end by itself, then stops QEMU through its pid, read
 * from pidfile (qemu.sh --qemu-arg -pidfile --qemu-arg PIDFILE, removed
 * before the start, so no stale pid is killed): SIGTERM, SIGKILL 5 s later. Without a pidfile it
 * kills the runner itself, and QEMU lives on until qemu.sh's --timeout. Reaps the runner; returns
 * its exit status (128 + N if killed by signal N) when it ended within grace_s, -1 when it had to
 * be stopped. Blocks at most grace_s + 5 s and a reap.
 */
int harness_stop(pid_t runner, const char *pidfile, int grace_s);

/*
 * The QEMU monitor, for more than keys (screendump, info status):
 * harness_monitor_open connects to the monitor at the unix socket sock (the
 * path as connect(2) takes it), retrying until QEMU serves it, and reads up
 * to its first "(qemu) " prompt; it returns the socket (close(2) it) and
 * fails the test after timeout_s. harness_monitor_command sends the
 * printf-formatted command line and returns what QEMU answered up to and
 * without its next prompt (malloc'd); it fails the test when no prompt comes
 * within 10 s.
 */
int harness_monitor_open(const char *sock, int timeout_s);
char *harness_monitor_command(int monitor, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when log contains line as a whole line (a trailing '\r' is ignored). */
int harness_has_line(const char *log, const char *line);

/*
 * harness_last_line_starting - the last line of log that starts with prefix,
 * as a malloc'd copy without its "\r\n"; NULL if no line does.
 */
const char *harness_last_line_starting(const char *log, const char *prefix);

/* harness_format - the formatted string, malloc'd; fails the test without memory. */
char *harness_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* harness_path - root + "/" + the formatted relative path. */
char *harness_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* harness_quote - s quoted for the shell ('...'), malloc'd. */
char *harness_quote(const char *s);

/* harness_read_file - a whole file, malloc'd and NUL-terminated; NULL if unreadable. */
char *harness_read_file(const char *path);

/* harness_exists - true if path (absolute, or relative to the root) exists. */
int harness_exists(const char *path);

/*
 * harness_assert_clean_end - whatever the app did, the kernel ended it by
 * the serial contract: no panic, no timeout (qemu.sh's 124..127), the last kernel line is
 * "solo: exit S" with S qemu.sh's status, an exit of 128 or more comes
 * with a "solo: app killed:" line, and every page came back. Returns S.
 */
int harness_assert_clean_end(const char *log, int status);

/* Asserts that the last kernel line of log is exactly "solo: exit CODE" and
 * that qemu.sh returned CODE as its status (the serial contract). */
void harness_assert_exit(const char *log, int status, int code);

/*
 * harness_assert_memory_returned - fails the current test unless the log's
 * "solo: memory: N pages free after the app, M before it" line shows N == M:
 * every page the app held is back in palloc after it ends.
 */
void harness_assert_memory_returned(const char *log);

/*
 * harness_assert_killed - the app was killed: the last "solo: app killed: "
 * line names reason, the kernel did not panic, and the log and qemu.sh's
 * status end with exit code (128 + the signal).
 */
void harness_assert_killed(const char *log, int status, int code, const char *reason);

/*
 * harness_assert_checks - for an app that reports with tests/apps/check.h
 * (or the same format): no "PREFIX: FAIL" line, a "PREFIX: ok NAME" line
 * for each of the count names, and "PREFIX: 0 failures".
 */
void harness_assert_checks(const char *log, const char *prefix, const char *const *names,
			   size_t count);
