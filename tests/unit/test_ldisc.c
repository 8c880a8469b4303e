/*
 * Host tests of fs/ldisc.c, the console's line discipline: bytes typed in
 * through ldisc_input, read out through ldisc_read, the echo and the
 * signals captured through the two callbacks. Canonical editing (erase,
 * kill, end of file, CR to NL, ^C and ^\), raw mode, the three limits (line,
 * queue, pending lines), and the mode switches of ldisc_set_termios.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fs/ldisc.h"
#include "kernel/abi/errno.h"
#include "kernel/abi/signal.h"
#include "kernel/abi/termios.h"

static struct ldisc l;
static char echoed[16384];
static size_t nechoed;
static int sigs[16], nsigs;

static void on_echo(void *ctx, const char *s, size_t n)
{
	cr_assert_eq(ctx, &l, "the echo callback gets the context");
	cr_assert_leq(nechoed + n, sizeof(echoed));
	memcpy(echoed + nechoed, s, n);
	nechoed += n;
}

static void on_signal(void *ctx, int sig)
{
	cr_assert_eq(ctx, &l, "the signal callback gets the context");
	cr_assert_lt(nsigs, 16);
	sigs[nsigs++] = sig;
}

static void setup(void)
{
	ldisc_init(&l, on_echo, on_signal, &l);
	nechoed = 0;
	nsigs = 0;
}

TestSuite(ldisc, .init = setup);

static void type_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ldisc_input(&l, (unsigned char)s[i]);
}

static void type(const char *s)
{
	type_n(s, strlen(s));
}

static void type_repeated(char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ldisc_input(&l, (unsigned char)c);
}

/* A read of up to n bytes must return exactly want (wlen bytes). */
static void expect_read_n(size_t n, const char *want, size_t wlen)
{
	static char buf[LDISC_QUEUE + 16];

	cr_assert_leq(n, sizeof(buf));
	memset(buf, 0x55, sizeof(buf));
	long got = ldisc_read(&l, buf, n);
	cr_assert_eq(got, (long)wlen, "read returned %ld, expected %zu", got, wlen);
	cr_assert_arr_eq(buf, want, wlen);
	cr_assert_eq(buf[wlen], 0x55, "read wrote past what it returned");
}

static void expect_read(const char *want)
{
	expect_read_n(LDISC_QUEUE + 16, want, strlen(want));
}

static void expect_nothing(void)
{
	char c;

	cr_assert_eq(ldisc_read(&l, &c, 1), -EAGAIN);
	cr_assert_not(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 0);
}

static void expect_echo(const char *want)
{
	size_t n = strlen(want);

	cr_assert_eq(nechoed, n, "echoed %zu bytes \"%.*s\", expected \"%s\"", nechoed,
		     (int)nechoed, echoed, want);
	cr_assert_arr_eq(echoed, want, n);
}

static void set_lflag(uint32_t set, uint32_t clear)
{
	struct linux_termios t = l.termios;

	t.c_lflag = (t.c_lflag | set) & ~clear;
	ldisc_set_termios(&l, &t, 0);
}

static void set_iflag(uint32_t set, uint32_t clear)
{
	struct linux_termios t = l.termios;

	t.c_iflag = (t.c_iflag | set) & ~clear;
	ldisc_set_termios(&l, &t, 0);
}

static void set_cc(int which, uint8_t value)
{
	struct linux_termios t = l.termios;

	t.c_cc[which] = value;
	ldisc_set_termios(&l, &t, 0);
}

/* ---------------------------------------------------------------- the defaults */

Test(ldisc, starts_canonical_with_echo_signals_and_icrnl)
{
	cr_assert_eq(l.termios.c_lflag & (ICANON | ECHO | ECHOE | ISIG),
		     ICANON | ECHO | ECHOE | ISIG);
	cr_assert_eq(l.termios.c_iflag & ICRNL, ICRNL);
	cr_assert_eq(l.termios.c_cc[VINTR], 3);
	cr_assert_eq(l.termios.c_cc[VQUIT], 28);
	cr_assert_eq(l.termios.c_cc[VERASE], 127);
	cr_assert_eq(l.termios.c_cc[VKILL], 21);
	cr_assert_eq(l.termios.c_cc[VEOF], 4);
	cr_assert_eq(l.termios.c_cc[VMIN], 1);
	expect_nothing();
}

/* ---------------------------------------------------------------- canonical lines */

Test(ldisc, a_line_becomes_readable_at_its_newline)
{
	cr_assert_eq(ldisc_input(&l, 'a'), 0);
	cr_assert_eq(ldisc_input(&l, 'b'), 0);
	expect_nothing();
	cr_assert_eq(ldisc_input(&l, '\n'), 1);
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 3);
	expect_read("ab\n");
	expect_nothing();
}

Test(ldisc, typed_bytes_are_echoed)
{
	type("hi\n");
	expect_echo("hi\n");
}

Test(ldisc, nothing_is_echoed_without_echo)
{
	set_lflag(0, ECHO);
	type("hi\b\n");
	expect_echo("");
	expect_read("h\n");
}

Test(ldisc, echonl_echoes_only_the_newline)
{
	set_lflag(ECHONL, ECHO);
	type("hi\n");
	expect_echo("\n");
}

Test(ldisc, a_read_takes_one_line_at_most)
{
	type("one\ntwo\n");
	cr_assert_eq(ldisc_pending(&l), 4, "the bytes of the first line");
	expect_read("one\n");
	expect_read("two\n");
	expect_nothing();
}

Test(ldisc, a_short_read_leaves_the_rest_of_the_line_for_the_next)
{
	type("hello\nx\n");
	expect_read_n(2, "he", 2);
	cr_assert_eq(ldisc_pending(&l), 4);
	expect_read_n(3, "llo", 3);
	expect_read("\n");
	expect_read("x\n");
}

Test(ldisc, a_zero_byte_read_of_a_line_takes_nothing)
{
	char c;

	type("a\n");
	cr_assert_eq(ldisc_read(&l, &c, 0), 0);
	expect_read("a\n");
}

Test(ldisc, an_empty_line_is_just_its_newline)
{
	type("\n");
	expect_read("\n");
}

/* ---------------------------------------------------------------- erase and kill */

Test(ldisc, verase_erases_the_last_byte_and_echoes_bs_space_bs)
{
	type("abc\177d\n");
	expect_read("abd\n");
	expect_echo("abc\b \bd\n");
}

Test(ldisc, backspace_erases_too)
{
	type("abc\b\bx\n");
	expect_read("ax\n");
	expect_echo("abc\b \b\b \bx\n");
}

Test(ldisc, erase_without_echoe_echoes_a_backspace)
{
	set_lflag(0, ECHOE);
	type("ab\x7f\n");
	expect_read("a\n");
	expect_echo("ab\b\n");
}

Test(ldisc, erase_on_an_empty_line_does_nothing)
{
	type("\x7f\x7f\b");
	expect_echo("");
	type("a\n");
	expect_read("a\n");
}

Test(ldisc, erase_does_not_reach_into_a_finished_line)
{
	type("ab\n\177\177c\n");
	expect_read("ab\n");
	expect_read("c\n");
}

Test(ldisc, a_changed_verase_is_obeyed)
{
	set_cc(VERASE, '#');
	type("ab#c\x7f\n");
	/* 127 is a plain byte now; '\b' still erases. */
	expect_read("ac\x7f\n");
}

Test(ldisc, a_disabled_verase_leaves_nul_a_plain_byte)
{
	set_cc(VERASE, 0); /* _POSIX_VDISABLE */
	type_n("a\0b\n", 4);
	expect_read_n(16, "a\0b\n", 4);
}

Test(ldisc, vkill_erases_the_whole_line)
{
	type("abc\025de\n");
	expect_read("de\n");
	expect_echo("abc\b \b\b \b\b \bde\n");
}

Test(ldisc, vkill_on_an_empty_line_does_nothing)
{
	type("\x15");
	expect_echo("");
	expect_nothing();
}

/* ---------------------------------------------------------------- end of file */

Test(ldisc, veof_on_an_empty_line_is_end_of_file_once)
{
	char c;

	cr_assert_eq(ldisc_input(&l, 4), 1);
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 0);
	cr_assert_eq(ldisc_read(&l, &c, 1), 0);
	expect_nothing();
	expect_echo("");
}

Test(ldisc, veof_after_a_line_is_end_of_file_after_it)
{
	char c;

	type("a\n\004b\n");
	expect_read("a\n");
	cr_assert_eq(ldisc_read(&l, &c, 1), 0);
	expect_read("b\n");
}

Test(ldisc, veof_ends_a_line_without_a_newline)
{
	type("ab\x04");
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 2);
	expect_read("ab");
	expect_nothing(); /* and no end of file after it */
}

Test(ldisc, a_short_read_of_a_veof_line_does_not_end_the_file)
{
	type("ab\x04");
	expect_read_n(1, "a", 1);
	expect_read_n(1, "b", 1);
	expect_nothing();
}

/* ---------------------------------------------------------------- CR and NL */

Test(ldisc, icrnl_turns_cr_into_a_newline)
{
	cr_assert_eq(ldisc_input(&l, 'a'), 0);
	cr_assert_eq(ldisc_input(&l, '\r'), 1);
	expect_read("a\n");
	expect_echo("a\n");
}

Test(ldisc, without_icrnl_cr_is_a_plain_byte)
{
	set_iflag(0, ICRNL);
	cr_assert_eq(ldisc_input(&l, '\r'), 0);
	type("\n");
	expect_read("\r\n");
}

/* ---------------------------------------------------------------- signals */

Test(ldisc, ctrl_c_raises_sigint_and_drops_the_input)
{
	type("done\nhalf");
	cr_assert_eq(ldisc_input(&l, 3), 0);
	cr_assert_eq(nsigs, 1);
	cr_assert_eq(sigs[0], SIGINT);
	cr_assert(nechoed >= 2 && !memcmp(echoed + nechoed - 3, "^C", 2), "^C is echoed");
	expect_nothing();
	type("new\n");
	expect_read("new\n");
}

Test(ldisc, ctrl_backslash_raises_sigquit)
{
	type("x");
	ldisc_input(&l, 28);
	cr_assert_eq(nsigs, 1);
	cr_assert_eq(sigs[0], SIGQUIT);
	expect_nothing();
}

Test(ldisc, without_isig_ctrl_c_is_a_plain_byte)
{
	set_lflag(0, ISIG);
	type("\x03\x1c\n");
	cr_assert_eq(nsigs, 0);
	expect_read("\x03\x1c\n");
}

Test(ldisc, signals_work_in_raw_mode_too)
{
	set_lflag(0, ICANON);
	type("ab");
	ldisc_input(&l, 3);
	cr_assert_eq(nsigs, 1);
	cr_assert_eq(sigs[0], SIGINT);
	expect_nothing();
}

Test(ldisc, a_changed_vintr_is_obeyed)
{
	set_cc(VINTR, 'q');
	type("\x03q");
	cr_assert_eq(nsigs, 1);
	cr_assert_eq(sigs[0], SIGINT);
	type("\n");
	expect_read("\n");
}

Test(ldisc, no_callbacks_are_needed)
{
	char c;

	ldisc_init(&l, NULL, NULL, NULL);
	type("ab\x7f\n\x03x\x15y\n");
	expect_read("y\n");
	cr_assert_eq(ldisc_read(&l, &c, 1), -EAGAIN);
}

/* ---------------------------------------------------------------- raw mode */

Test(ldisc, raw_bytes_are_readable_at_once)
{
	set_lflag(0, ICANON);
	cr_assert_eq(ldisc_input(&l, 'a'), 1);
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 1);
	type("b\x7f\x04\x15\n");
	cr_assert_eq(ldisc_pending(&l), 6);
	expect_read("ab\x7f\x04\x15\n");
	expect_echo("ab\x7f\x04\x15\n");
}

Test(ldisc, a_raw_read_takes_what_is_there_or_less)
{
	set_lflag(0, ICANON);
	type("a\nb\n");
	expect_read_n(3, "a\nb", 3);
	expect_read("\n");
}

Test(ldisc, raw_mode_with_vmin_1_has_nothing_to_read_when_empty)
{
	char c;

	set_lflag(0, ICANON);
	cr_assert_eq(ldisc_read(&l, &c, 1), -EAGAIN);
	cr_assert_not(ldisc_readable(&l));
}

Test(ldisc, raw_mode_with_vmin_0_reads_zero_when_empty)
{
	char c;

	set_lflag(0, ICANON);
	set_cc(VMIN, 0);
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_read(&l, &c, 1), 0);
	type("z");
	expect_read("z");
	cr_assert_eq(ldisc_read(&l, &c, 1), 0);
}

Test(ldisc, raw_mode_still_maps_cr)
{
	set_lflag(0, ICANON);
	type("\r");
	expect_read("\n");
}

/* ---------------------------------------------------------------- limits */

Test(ldisc, a_line_keeps_at_most_1023_bytes_and_its_newline)
{
	static char want[LDISC_LINE_MAX];

	type_repeated('x', 2000);
	cr_assert_eq(nechoed, LDISC_LINE_MAX - 1, "only the bytes kept are echoed");
	type("\n");
	memset(want, 'x', LDISC_LINE_MAX - 1);
	want[LDISC_LINE_MAX - 1] = '\n';
	cr_assert_eq(ldisc_pending(&l), LDISC_LINE_MAX);
	expect_read_n(LDISC_QUEUE, want, LDISC_LINE_MAX);
}

Test(ldisc, a_full_line_can_still_be_erased)
{
	type_repeated('x', LDISC_LINE_MAX + 5);
	type("\177y\n");
	cr_assert_eq(ldisc_pending(&l), LDISC_LINE_MAX);
}

Test(ldisc, the_raw_queue_holds_4096_bytes)
{
	set_lflag(0, ICANON);
	for (int i = 0; i < LDISC_QUEUE; i++)
		cr_assert_eq(ldisc_input(&l, (unsigned char)('a' + i % 26)), 1);
	cr_assert_eq(ldisc_input(&l, '!'), 0, "a byte that does not fit is dropped");
	cr_assert_eq(nechoed, LDISC_QUEUE, "and not echoed");
	cr_assert_eq(ldisc_pending(&l), LDISC_QUEUE);
	static char want[LDISC_QUEUE];
	for (int i = 0; i < LDISC_QUEUE; i++)
		want[i] = (char)('a' + i % 26);
	expect_read_n(LDISC_QUEUE, want, LDISC_QUEUE);
	expect_nothing();
	type("after");
	expect_read("after");
}

Test(ldisc, the_queue_wraps_around)
{
	set_lflag(0, ICANON);
	type_repeated('a', LDISC_QUEUE - 10);
	static char buf[LDISC_QUEUE];
	cr_assert_eq(ldisc_read(&l, buf, LDISC_QUEUE - 12), LDISC_QUEUE - 12);
	type("0123456789abcdef"); /* across the end of the ring */
	expect_read("aa0123456789abcdef");
}

/* Four full lines fill the queue exactly. */
static void fill_queue_with_lines(void)
{
	for (int i = 0; i < LDISC_QUEUE / LDISC_LINE_MAX; i++) {
		type_repeated((char)('a' + i), LDISC_LINE_MAX - 1);
		type("\n");
	}
}

Test(ldisc, a_line_that_finds_the_queue_full_is_lost_not_an_end_of_file)
{
	static char want[LDISC_LINE_MAX];

	fill_queue_with_lines();
	type("y\n");
	for (int i = 0; i < LDISC_QUEUE / LDISC_LINE_MAX; i++) {
		memset(want, 'a' + i, LDISC_LINE_MAX - 1);
		want[LDISC_LINE_MAX - 1] = '\n';
		expect_read_n(LDISC_QUEUE, want, LDISC_LINE_MAX);
	}
	expect_nothing();
	type("z\n");
	expect_read("z\n");
}

Test(ldisc, end_of_file_still_fits_in_a_full_queue)
{
	char c;

	fill_queue_with_lines();
	type("\x04");
	for (int i = 0; i < LDISC_QUEUE / LDISC_LINE_MAX; i++)
		cr_assert_eq(ldisc_read(&l, (char[LDISC_LINE_MAX]){0}, LDISC_LINE_MAX),
			     LDISC_LINE_MAX);
	cr_assert_eq(ldisc_read(&l, &c, 1), 0, "the end of file is kept");
	expect_nothing();
}

Test(ldisc, at_most_64_lines_wait_and_a_65th_is_lost)
{
	char line[32];

	for (int i = 0; i < LDISC_MAX_LINES; i++) {
		snprintf(line, sizeof(line), "%d\n", i);
		type(line);
	}
	type("lost\n");
	expect_read("0\n"); /* room for one line again */
	type("next\n");
	for (int i = 1; i < LDISC_MAX_LINES; i++) {
		snprintf(line, sizeof(line), "%d\n", i);
		expect_read(line);
	}
	expect_read("next\n");
	expect_nothing();
}

Test(ldisc, many_lines_pass_through_the_ring_of_lines)
{
	char line[32];

	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 50; i++) {
			snprintf(line, sizeof(line), "%d.%d\n", round, i);
			type(line);
		}
		for (int i = 0; i < 50; i++) {
			snprintf(line, sizeof(line), "%d.%d\n", round, i);
			expect_read(line);
		}
	}
	expect_nothing();
}

/* ---------------------------------------------------------------- termios and flush */

Test(ldisc, set_termios_with_flush_drops_all_input)
{
	struct linux_termios t = l.termios;

	type("line\npart");
	ldisc_set_termios(&l, &t, 1);
	expect_nothing();
	type("\n");
	expect_read("\n");
}

Test(ldisc, set_termios_without_flush_keeps_input)
{
	struct linux_termios t = l.termios;

	type("line\npart");
	t.c_lflag &= ~(uint32_t)ECHO;
	ldisc_set_termios(&l, &t, 0);
	type("\n");
	expect_read("line\n");
	expect_read("part\n");
}

Test(ldisc, flush_drops_lines_and_the_partial_line)
{
	type("one\ntwo\nthr");
	ldisc_flush(&l);
	expect_nothing();
	type("ee\n");
	expect_read("ee\n");
}

Test(ldisc, flush_in_raw_mode_drops_the_bytes)
{
	set_lflag(0, ICANON);
	type("abc");
	ldisc_flush(&l);
	expect_nothing();
}

Test(ldisc, going_raw_makes_the_partial_line_readable)
{
	type("done\npart");
	set_lflag(0, ICANON);
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 9);
	expect_read("done\npart");
	expect_nothing();
	type("x");
	expect_read("x");
}

Test(ldisc, going_canonical_makes_waiting_raw_bytes_one_line)
{
	set_lflag(0, ICANON);
	type("a\nbc");
	set_lflag(ICANON, 0);
	cr_assert(ldisc_readable(&l));
	cr_assert_eq(ldisc_pending(&l), 4);
	expect_read("a\nbc");
	expect_nothing();
	type("d\n");
	expect_read("d\n");
}

Test(ldisc, going_canonical_with_nothing_waiting_has_no_line)
{
	set_lflag(0, ICANON);
	set_lflag(ICANON, 0);
	expect_nothing();
}

Test(ldisc, lines_read_in_raw_mode_are_not_seen_again_in_canonical_mode)
{
	type("a\nb\n");
	set_lflag(0, ICANON);
	expect_read("a\nb\n");
	set_lflag(ICANON, 0);
	expect_nothing();
}

Test(ldisc, canonical_raw_canonical_round_trip)
{
	type("abc");
	set_lflag(0, ICANON);
	type("d");
	set_lflag(ICANON, 0);
	expect_read("abcd");
	type("e\n");
	expect_read("e\n");
}
