/* exec_parse_shebang: the "#!" line as Linux's binfmt_script reads it. */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel/exec.h"

static struct exec_shebang parse_ok(const char *text)
{
	struct exec_shebang sb;
	const char *why = NULL;

	cr_assert_eq(exec_parse_shebang(text, strlen(text), &sb, &why), 0, "\"%s\": %s", text, why);
	return sb;
}

static void parse_refused(const void *text, size_t size, const char *reason)
{
	struct exec_shebang sb;
	const char *why = "";

	cr_assert_neq(exec_parse_shebang(text, size, &sb, &why), 0, "accepted");
	cr_assert(strstr(why, reason), "why \"%s\", expected \"%s\"", why, reason);
}

Test(exec, interpreter_alone)
{
	struct exec_shebang sb = parse_ok("#!/bin/sh\necho hi\n");

	cr_assert_str_eq(sb.interp, "/bin/sh");
	cr_assert_eq(sb.has_arg, 0);
	cr_assert_str_eq(sb.arg, "");
}

Test(exec, blanks_around_the_path_and_one_argument_with_its_inner_blanks)
{
	struct exec_shebang sb = parse_ok("#! \t/usr/bin/env  python3 -u \t \nprint(1)\n");

	cr_assert_str_eq(sb.interp, "/usr/bin/env");
	cr_assert_eq(sb.has_arg, 1);
	cr_assert_str_eq(sb.arg, "python3 -u", "the rest of the line is one argument");
}

Test(exec, a_carriage_return_stays_in_the_line_as_on_linux)
{
	struct exec_shebang sb = parse_ok("#!/bin/sh\r\n");

	cr_assert_str_eq(sb.interp, "/bin/sh\r");
	sb = parse_ok("#!/usr/bin/python3 -u\r\n");
	cr_assert_str_eq(sb.interp, "/usr/bin/python3");
	cr_assert_str_eq(sb.arg, "-u\r");
}

Test(exec, a_script_without_a_newline_ends_at_the_file_end)
{
	struct exec_shebang sb = parse_ok("#!/bin/true");

	cr_assert_str_eq(sb.interp, "/bin/true");
	cr_assert_eq(sb.has_arg, 0);
}

Test(exec, a_nul_ends_the_line)
{
	static const char text[] = "#!/bin/a\0b c\n";
	struct exec_shebang sb;
	const char *why;

	cr_assert_eq(exec_parse_shebang(text, sizeof(text) - 1, &sb, &why), 0);
	cr_assert_str_eq(sb.interp, "/bin/a");
	cr_assert_eq(sb.has_arg, 0);
}

/* Blanks are cut only at the line's end: before a NUL, or at the end of a
 * short file with no newline (zero-filled, as Linux's buffer is), they
 * stay in the argument, as under Linux (what tests/fuzz/fuzz_exec.c
 * found the contract to need). */
Test(exec, blanks_before_a_nul_or_an_unterminated_end_stay)
{
	static const char text[] = "#!/bin/sh -e \0x\n";
	struct exec_shebang sb;
	const char *why;

	cr_assert_eq(exec_parse_shebang(text, sizeof(text) - 1, &sb, &why), 0);
	cr_assert_str_eq(sb.arg, "-e ");
	sb = parse_ok("#!/bin/sh -e ");
	cr_assert_str_eq(sb.arg, "-e ");
	sb = parse_ok("#!/bin/sh -e \n");
	cr_assert_str_eq(sb.arg, "-e");
}

Test(exec, refuses_what_names_no_interpreter)
{
	parse_refused("#!\n", 3, "names no interpreter");
	parse_refused("#!  \t \nx", 8, "names no interpreter");
	parse_refused("#!", 2, "names no interpreter");
	parse_refused("\x7f"
		      "ELF",
		      4, "not a script");
	parse_refused("#", 1, "not a script");
}

Test(exec, long_lines_are_cut_where_linux_cuts_them)
{
	char text[400];

	/* The path ends inside the first 255 bytes: the argument is cut. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "#!/bin/x ", 9);
	text[sizeof(text) - 1] = '\n';
	struct exec_shebang sb;
	const char *why;
	cr_assert_eq(exec_parse_shebang(text, sizeof(text), &sb, &why), 0, "%s", why);
	cr_assert_str_eq(sb.interp, "/bin/x");
	cr_assert_eq(strlen(sb.arg), EXEC_SHEBANG_MAX - 1 - 9);
	/* The path itself reaches the limit: truncated, refused. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "#!/", 3);
	parse_refused(text, sizeof(text), "cut");
	/* A newline exactly at the last byte read still ends the line. */
	memset(text, 'b', sizeof(text));
	memcpy(text, "#!/", 3);
	text[EXEC_SHEBANG_MAX - 1] = '\n';
	sb = (struct exec_shebang){0};
	cr_assert_eq(exec_parse_shebang(text, sizeof(text), &sb, &why), 0, "%s", why);
	cr_assert_eq(strlen(sb.interp), EXEC_SHEBANG_MAX - 3);
}
