/* USB boot keyboard reports into typed bytes (drivers/hidkbd.c through the
 * real drivers/kbd.c), with the software key repeat. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/hidkbd.h"

#define MS 1000000ull

enum { A = 0x04, B = 0x05, CAPS = 0x39, SHIFT_BIT = 0x02, CTRL_BIT = 0x01 };

static struct kbd k;
static struct hidkbd h;

static void setup(void)
{
	kbd_init(&k);
	hidkbd_init(&h, &k);
}

/* What was typed so far, as a string. */
static const char *typed(void)
{
	static char out[KBD_QUEUE + 1];
	size_t n = 0;
	int c;

	while ((c = kbd_read_byte(&k)) >= 0)
		out[n++] = (char)c;
	out[n] = 0;
	return out;
}

static void report(uint8_t mods, uint8_t k0, uint8_t k1, uint64_t now)
{
	const uint8_t r[HIDKBD_REPORT] = {mods, 0, k0, k1, 0, 0, 0, 0};

	hidkbd_report(&h, r, sizeof(r), now);
}

TestSuite(hidkbd, .init = setup);

Test(hidkbd, a_press_and_release_types_once)
{
	report(0, A, 0, 0);
	report(0, 0, 0, 10 * MS);
	report(0, B, 0, 20 * MS);
	report(0, 0, 0, 30 * MS);
	cr_assert_str_eq(typed(), "ab");
}

Test(hidkbd, modifier_bits_are_keys)
{
	report(SHIFT_BIT, 0, 0, 0);
	report(SHIFT_BIT, A, 0, 1 * MS);
	report(0, A, 0, 2 * MS); /* shift up first, a still down */
	report(0, 0, 0, 3 * MS);
	report(CTRL_BIT, 0, 0, 4 * MS);
	report(CTRL_BIT, 0x06, 0, 5 * MS); /* ^C */
	report(0, 0, 0, 6 * MS);
	cr_assert_str_eq(typed(), "A\x03");
}

Test(hidkbd, a_held_key_repeats_after_the_delay_at_the_period)
{
	report(0, A, 0, 1000 * MS);
	hidkbd_tick(&h, 1000 * MS + HIDKBD_REPEAT_DELAY_NS - 1);
	cr_assert_str_eq(typed(), "a");
	hidkbd_tick(&h, 1000 * MS + HIDKBD_REPEAT_DELAY_NS);
	cr_assert_str_eq(typed(), "a");
	uint64_t next = 1000 * MS + HIDKBD_REPEAT_DELAY_NS + HIDKBD_REPEAT_PERIOD_NS;
	hidkbd_tick(&h, next - 1);
	cr_assert_str_eq(typed(), "");
	hidkbd_tick(&h, next);
	cr_assert_str_eq(typed(), "a");
	/* Ticked ten seconds late: one repeat, not three hundred. */
	hidkbd_tick(&h, next + 10000 * MS);
	cr_assert_str_eq(typed(), "a");
	hidkbd_tick(&h, next + 10000 * MS + 1);
	cr_assert_str_eq(typed(), "");
	report(0, 0, 0, next + 10001 * MS);
	hidkbd_tick(&h, next + 20000 * MS);
	cr_assert_str_eq(typed(), "");
}

Test(hidkbd, the_last_key_pressed_repeats_and_stops_when_it_is_released)
{
	report(0, A, 0, 0);
	report(0, A, B, 100 * MS);
	hidkbd_tick(&h, 100 * MS + HIDKBD_REPEAT_DELAY_NS);
	cr_assert_str_eq(typed(), "abb");
	report(0, A, 0, 700 * MS); /* b up, a still down: nothing repeats */
	hidkbd_tick(&h, 5000 * MS);
	cr_assert_str_eq(typed(), "");
}

Test(hidkbd, lock_keys_toggle_once_and_do_not_repeat)
{
	report(0, CAPS, 0, 0);
	hidkbd_tick(&h, 5000 * MS);
	cr_assert(kbd_leds(&k) & KBD_LED_CAPS);
	report(0, 0, 0, 5001 * MS);
	report(0, A, 0, 5002 * MS);
	report(0, 0, 0, 5003 * MS);
	cr_assert_str_eq(typed(), "A");
	cr_assert(kbd_leds(&k) & KBD_LED_CAPS);
}

Test(hidkbd, error_rollover_and_short_reports_change_nothing)
{
	const uint8_t rollover[HIDKBD_REPORT] = {0, 0, 1, 1, 1, 1, 1, 1};
	const uint8_t shorter[2] = {SHIFT_BIT, 0};

	report(0, A, 0, 0);
	hidkbd_report(&h, rollover, sizeof(rollover), 1 * MS);
	hidkbd_report(&h, shorter, sizeof(shorter), 2 * MS);
	report(0, A, 0, 3 * MS); /* still the same key held: no second a */
	cr_assert_str_eq(typed(), "a");
	hidkbd_tick(&h, HIDKBD_REPEAT_DELAY_NS);
	cr_assert_str_eq(typed(), "a");
}

Test(hidkbd, a_usage_twice_in_one_report_is_one_press)
{
	report(0, A, A, 0);
	report(0, 0, 0, 1 * MS);
	cr_assert_str_eq(typed(), "a");
}

Test(hidkbd, a_keyboard_unplugged_with_shift_held_leaves_nothing_held)
{
	report(SHIFT_BIT, A, 0, 0);
	hidkbd_release_all(&h);
	hidkbd_tick(&h, 5000 * MS);
	report(0, B, 0, 6000 * MS);
	cr_assert_str_eq(typed(), "Ab");
}
