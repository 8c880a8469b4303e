/*
 * Host tests of the kernel's formatter (kernel/kprintf.c) through
 * ksnprintf and kvsnprintf. Where kprintf.h claims printf's behaviour
 * (the conversions, flags, widths and length modifiers it lists) the
 * output and the return value are compared with the host's vsnprintf;
 * where the kernel does its own thing (no precision, unknown conversions
 * printed as they are, the 0x prefix) its output is written out here.
 * kprintf itself is checked through the shim's console (shim_console);
 * the line colours are not observable through the shim (its
 * console_set_colour does nothing), so they are not tested.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kprintf.h"
#include "kernel_shim.h"

#define SAME(...)	  same_as_host(__LINE__, __VA_ARGS__)
#define KERNEL(want, ...) kernel_gives(__LINE__, want, sizeof(want) - 1, __VA_ARGS__)

static void same_as_host(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kernel_gives(int line, const char *want, size_t wlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The kernel's output of fmt must be the host's, in every buffer size from
 * 0 to a little more than the whole: the same bytes, the same NUL, the same
 * return value (the full length), nothing written past size. */
static void same_as_host(int line, const char *fmt, ...)
{
	char host[512], kern[512 + 8];
	va_list ap, aq;

	va_start(ap, fmt);
	va_copy(aq, ap);
	int hn = vsnprintf(host, sizeof(host), fmt, aq);
	va_end(aq);
	cr_assert(hn >= 0 && hn < (int)sizeof(host) - 2, "line %d: the host failed", line);
	for (size_t size = 0; size <= (size_t)hn + 2; size++) {
		memset(kern, 0x7e, sizeof(kern));
		va_copy(aq, ap);
		int kn = kvsnprintf(size ? kern : NULL, size, fmt, aq);
		va_end(aq);
		cr_assert_eq(kn, hn, "line %d: \"%s\" returned %d, the host %d (\"%s\")", line, fmt,
			     kn, hn, host);
		if (!size)
			continue;
		size_t n = (size_t)hn < size - 1 ? (size_t)hn : size - 1;
		cr_assert(!memcmp(kern, host, n) && kern[n] == '\0',
			  "line %d: \"%s\" in %zu bytes gave \"%.*s\", the host \"%.*s\"", line,
			  fmt, size, (int)n, kern, (int)n, host);
		for (size_t i = n + 1; i < sizeof(kern); i++)
			cr_assert_eq(kern[i], 0x7e, "line %d: \"%s\" in %zu bytes wrote byte %zu",
				     line, fmt, size, i);
	}
	va_end(ap);
}

/* The kernel's output of fmt (whole) must be want. */
static void kernel_gives(int line, const char *want, size_t wlen, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	memset(buf, 0x7e, sizeof(buf));
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cr_assert_eq(n, (int)wlen, "line %d: \"%s\" returned %d, expected %zu", line, fmt, n, wlen);
	cr_assert(!memcmp(buf, want, wlen) && buf[wlen] == '\0',
		  "line %d: \"%s\" gave \"%.*s\", expected \"%s\"", line, fmt, n, buf, want);
}

/* Keeps the compiler from seeing a constant NULL for %s. */
static const char *volatile null_string;

/* ---------------------------------------------------------------- compared with the host */

Test(kprintf, plain_text_and_percent_are_as_printf)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-zero-length"
	SAME("");
#pragma GCC diagnostic pop
	SAME("plain text");
	SAME("100%%");
	SAME("%%d %%%%");
}

Test(kprintf, signed_decimals_are_as_printf)
{
	SAME("%d %d %d", 0, 1, -1);
	SAME("%d|%i", 42, -42);
	SAME("%d %d", INT_MAX, INT_MIN);
	SAME("%i %i", INT_MAX, INT_MIN);
	SAME("%ld %ld %ld", 0L, INT64_MAX, INT64_MIN);
	SAME("%lld %lli", (long long)INT64_MAX, (long long)INT64_MIN);
	SAME("%zd %zd", (ptrdiff_t)-5, (ptrdiff_t)PTRDIFF_MAX);
	SAME("%ld", -1000000000000L);
}

Test(kprintf, unsigned_decimals_are_as_printf)
{
	SAME("%u %u %u", 0u, 1u, UINT_MAX);
	SAME("%u", (unsigned)-1);
	SAME("%lu %llu", UINT64_MAX, (unsigned long long)UINT64_MAX);
	SAME("%zu %zu", (size_t)0, SIZE_MAX);
	SAME("%lu", 10000000000000000000UL);
}

Test(kprintf, hex_is_as_printf)
{
	SAME("%x %x %x", 0u, 0xdeadbeefu, UINT_MAX);
	SAME("%X %X", 0xabcdefu, 0x1234u);
	SAME("%lx %lX", UINT64_MAX, 0x0123456789abcdefUL);
	SAME("%llx %zx", 0xfedcba9876543210ULL, (size_t)0x1000);
	SAME("%x", (unsigned)-1);
	SAME("%#x %#lx", 0xbeefu, 0x1UL);
	SAME("%#10x|%#-10x|%#010x", 0xbeefu, 0xbeefu, 0xbeefu);
}

Test(kprintf, widths_pad_with_spaces_on_the_left)
{
	SAME("[%5d] [%5d] [%5u] [%5x]", 42, -42, 7u, 0xabu);
	SAME("[%1d] [%2d] [%3d]", 12345, -1, -1);
	SAME("[%20ld]", INT64_MIN);
	SAME("[%5s] [%2s] [%1s]", "ab", "abcdef", "x");
	SAME("[%12p]", (void *)0x1234);
}

Test(kprintf, the_minus_flag_pads_on_the_right)
{
	SAME("[%-5d] [%-5d] [%-5u] [%-5x]", 42, -42, 7u, 0xabu);
	SAME("[%-5s] [%-1s]", "ab", "abc");
	SAME("[%-12p]", (void *)0x1234);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	SAME("[%-05d]", 42); /* '-' wins over '0' */
#pragma GCC diagnostic pop
}

Test(kprintf, the_zero_flag_pads_numbers_with_zeros_after_the_sign)
{
	SAME("[%05d] [%05d] [%05u]", 42, -42, 7u);
	SAME("[%08x] [%08X]", 0xbeefu, 0xbeefu);
	SAME("[%020ld]", INT64_MIN);
	SAME("[%03d]", -12345);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	SAME("[%018p]", (void *)0x1234); /* glibc's too */
#pragma GCC diagnostic pop
}

Test(kprintf, a_star_takes_the_width_from_the_arguments)
{
	SAME("[%*d]", 6, 42);
	SAME("[%-*d]", 6, 42);
	SAME("[%0*d]", 6, -42);
	SAME("[%*s]", 4, "ab");
	SAME("[%*d] %d", 0, 1, 2);
}

Test(kprintf, a_negative_star_width_pads_on_the_right)
{
	SAME("[%*d]", -6, 42);
	SAME("[%*s]", -4, "ab");
}

Test(kprintf, strings_and_characters_are_as_printf)
{
	SAME("%s|%s|%s", "", "a", "hello world");
	SAME("%c%c%c", 'a', 'b', 'c');
	SAME("[%3c] [%-3c]", 'x', 'y');
	SAME("%s", null_string);
	SAME("[%8s]", null_string);
}

Test(kprintf, a_nul_character_is_written_and_counted)
{
	SAME("a%cb", 0);
}

Test(kprintf, pointers_are_hex_with_0x)
{
	SAME("%p", (void *)0x1);
	SAME("%p", (void *)0xffff800000001000UL);
	SAME("%p %p", (void *)&null_string, (void *)same_as_host);
}

Test(kprintf, many_conversions_together_are_as_printf)
{
	SAME("solo: %s at %#lx (%d%%): %-8s|%05u|%c|%p|%zu|%lld\n", "fault", 0xffffffff80001000UL,
	     99, "left", 123u, '!', (void *)0xdead, (size_t)4096, -9000000000000LL);
}

/* ---------------------------------------------------------------- buffers */

Test(kprintf, truncation_keeps_a_nul_and_returns_the_full_length)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(ksnprintf(buf, 5, "%d", 1234567), 7);
	cr_assert_str_eq(buf, "1234");
	cr_assert_eq(buf[5], 'x', "nothing past the size");
}

Test(kprintf, size_0_writes_nothing)
{
	char buf[4] = {'x', 'x', 'x', 'x'};

	cr_assert_eq(ksnprintf(buf, 0, "hello %d", 5), 7);
	cr_assert_eq(buf[0], 'x');
	cr_assert_eq(ksnprintf(NULL, 0, "%s", "abc"), 3, "a NULL buffer of size 0 only counts");
}

Test(kprintf, size_1_writes_only_the_nul)
{
	char buf[4] = {'x', 'x', 'x', 'x'};

	cr_assert_eq(ksnprintf(buf, 1, "hello"), 5);
	cr_assert_eq(buf[0], '\0');
	cr_assert_eq(buf[1], 'x');
}

Test(kprintf, an_exact_fit_is_not_truncated)
{
	char buf[6];

	cr_assert_eq(ksnprintf(buf, sizeof(buf), "%s", "hello"), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(ksnprintf(buf, sizeof(buf), "%s", "hello!"), 6);
	cr_assert_str_eq(buf, "hello");
}

/* ---------------------------------------------------------------- the kernel's own */

Test(kprintf, null_pointers_print_as_0x0)
{
	KERNEL("0x0", "%p", NULL);
	KERNEL("[       0x0]", "[%10p]", NULL);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"

Test(kprintf, the_hash_flag_always_gives_a_lowercase_0x)
{
	/* printf gives "0" and "0XBEEF": the kernel marks every value. */
	KERNEL("0x0", "%#x", 0u);
	KERNEL("0xBEEF", "%#X", 0xbeefu);
	KERNEL("0x00BEEF", "%#08X", 0xbeefu);
	KERNEL("42", "%#d", 42);
	KERNEL("42", "%#u", 42u);
}

Test(kprintf, unknown_conversions_are_printed_as_they_are)
{
	KERNEL("%q", "%q");
	KERNEL("%q 5", "%q %d", 5); /* and take no argument */
	KERNEL("%hd", "%hd", 5);
	KERNEL("%o %f", "%o %f", 8, 1.0);
	KERNEL("a%yb", "a%yb", 1);
	KERNEL("%w 7", "%5w %d", 7);
}

Test(kprintf, a_lone_percent_at_the_end_is_dropped)
{
	KERNEL("abc", "abc%");
	KERNEL("abc", "abc%-5");
}

#pragma GCC diagnostic pop

/* ---------------------------------------------------------------- kprintf */

Test(kprintf, kprintf_writes_the_formatted_text_to_the_console)
{
	shim_reset();
	kprintf("solo: %s %d %#x\n", "value", -7, 0x10u);
	const char want[] = "solo: value -7 0x10\n";
	cr_assert_eq(shim_console_len, sizeof(want) - 1);
	cr_assert_arr_eq(shim_console, want, sizeof(want) - 1);
}
