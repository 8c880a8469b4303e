/* args_split: boot.cfg's args= split into argv like a shell would. */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel/args.h"
#include "kernel/abi/errno.h"

static char buf[256];
static const char *argv[16];

static int split(const char *line)
{
	return args_split(line, buf, sizeof(buf), argv, 16);
}

Test(args, splits_on_blanks)
{
	cr_assert_eq(split("  one two\tthree  "), 3);
	cr_assert_str_eq(argv[0], "one");
	cr_assert_str_eq(argv[1], "two");
	cr_assert_str_eq(argv[2], "three");
}

Test(args, empty_line_has_no_words)
{
	cr_assert_eq(split(""), 0);
	cr_assert_eq(split("   "), 0);
}

Test(args, quotes_group_and_disappear)
{
	cr_assert_eq(split("\"two words\" 'single $quoted' mid\"dle\"x ''"), 4);
	cr_assert_str_eq(argv[0], "two words");
	cr_assert_str_eq(argv[1], "single $quoted");
	cr_assert_str_eq(argv[2], "middlex");
	cr_assert_str_eq(argv[3], "");
}

Test(args, backslash_escapes)
{
	cr_assert_eq(split("a\\ b \"q\\\"uote\" \"back\\\\slash\" \"keep\\n\" 'lit\\'"), 5);
	cr_assert_str_eq(argv[0], "a b");
	cr_assert_str_eq(argv[1], "q\"uote");
	cr_assert_str_eq(argv[2], "back\\slash");
	cr_assert_str_eq(argv[3], "keep\\n");
	cr_assert_str_eq(argv[4], "lit\\");
}

Test(args, unterminated_quote_is_an_error)
{
	cr_assert_eq(split("\"open"), -EINVAL);
	cr_assert_eq(split("'open"), -EINVAL);
	cr_assert_eq(split("trailing\\"), -EINVAL);
}

Test(args, too_many_words_or_bytes_is_an_error)
{
	const char *small_argv[2];
	char small[4];

	cr_assert_eq(args_split("a b c", buf, sizeof(buf), small_argv, 2), -E2BIG);
	cr_assert_eq(args_split("abcdef", small, sizeof(small), small_argv, 2), -E2BIG);
}
