/* Keys to bytes (drivers/kbd.c): what a terminal user types on a us and a
 * de keyboard, by HID usage. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/kbd.h"
#include "kernel/abi/errno.h"

enum {
	A = 0x04,
	C = 0x06,
	E = 0x08,
	M = 0x10,
	Q = 0x14,
	W = 0x1a,
	Y = 0x1c,
	Z = 0x1d,
	K1 = 0x1e,
	K2 = 0x1f,
	K7 = 0x24,
	ENTER = 0x28,
	BKSP = 0x2a,
	SPACE = 0x2c,
	MINUS = 0x2d,
	LBRACKET = 0x2f,
	BACKSLASH = 0x31,
	SEMI = 0x33,
	QUOTE = 0x34,
	CAPS = 0x39,
	F1 = 0x3a,
	F12 = 0x45,
	DEL = 0x4c,
	RIGHT = 0x4f,
	UP = 0x52,
	NUM = 0x53,
	KP1 = 0x59,
	KP8 = 0x60,
	KPDOT = 0x63,
	ISO = 0x64,
	LCTRL = 0xe0,
	LSHIFT = 0xe1,
	LALT = 0xe2,
	RALT = 0xe6,
};

static struct kbd k;

static void tap(unsigned usage)
{
	kbd_key(&k, usage, 1);
	kbd_key(&k, usage, 0);
}

static void with(unsigned mod, unsigned usage)
{
	kbd_key(&k, mod, 1);
	tap(usage);
	kbd_key(&k, mod, 0);
}

static char *typed(void)
{
	static char out[256];
	size_t n = 0;
	int c;

	while ((c = kbd_read_byte(&k)) >= 0 && n < sizeof(out) - 1)
		out[n++] = (char)c;
	out[n] = '\0';
	return out;
}

static void setup_us(void)
{
	kbd_init(&k);
}

Test(kbd, us_letters_digits_shift_and_caps_lock, .init = setup_us)
{
	tap(A), tap(Z), tap(K1), tap(SPACE), with(LSHIFT, A), with(LSHIFT, K2), tap(ENTER);
	cr_assert_str_eq(typed(), "az1 A@\r");
	tap(CAPS);
	cr_assert_eq(kbd_leds(&k) & KBD_LED_CAPS, KBD_LED_CAPS);
	tap(A), tap(K1), with(LSHIFT, A), tap(SEMI);
	cr_assert_str_eq(typed(), "A1a;", "Caps Lock is for letters only");
	tap(CAPS);
	cr_assert_eq(kbd_leds(&k) & KBD_LED_CAPS, 0u);
}

Test(kbd, us_controls_alt_and_editing_keys, .init = setup_us)
{
	with(LCTRL, C), with(LCTRL, BACKSLASH), with(LCTRL, LBRACKET), with(LCTRL, K1);
	cr_assert_str_eq(typed(), "\003\034\033", "^C ^\\ ^[; Ctrl+1 is nothing");
	with(LALT, A), with(RALT, A);
	cr_assert_str_eq(typed(), "\033a\033a", "Alt is Meta on us");
	tap(BKSP), tap(UP), tap(RIGHT), tap(DEL), tap(F1), tap(F12);
	cr_assert_str_eq(typed(), "\177\033[A\033[C\033[3~\033OP\033[24~");
	with(LALT, UP);
	cr_assert_str_eq(typed(), "\033[A", "no extra ESC before a sequence");
}

Test(kbd, keypad_follows_num_lock, .init = setup_us)
{
	tap(KP1), tap(KPDOT);
	cr_assert_str_eq(typed(), "1.");
	tap(NUM);
	tap(KP8), tap(KP1);
	cr_assert_str_eq(typed(), "\033[A\033[F");
	cr_assert_eq(kbd_leds(&k) & KBD_LED_NUM, 0u);
}

Test(kbd, de_layout_umlauts_in_utf8_altgr_and_swapped_yz)
{
	kbd_init(&k);
	cr_assert_eq(kbd_set_layout(&k, "de"), 0);
	tap(Y), tap(Z), tap(LBRACKET), tap(SEMI), tap(QUOTE), tap(MINUS);
	cr_assert_str_eq(typed(), "zy\xc3\xbc\xc3\xb6\xc3\xa4\xc3\x9f");
	with(LSHIFT, K2), with(LSHIFT, K7), with(LSHIFT, LBRACKET);
	cr_assert_str_eq(typed(), "\"/\xc3\x9c");
	with(RALT, Q), with(RALT, E), with(RALT, K7), with(RALT, ISO), tap(ISO), with(RALT, M);
	cr_assert_str_eq(typed(), "@\xe2\x82\xac{|<\xc2\xb5");
	tap(CAPS), tap(QUOTE), tap(MINUS);
	cr_assert_str_eq(typed(), "\xc3\x84\xc3\x9f", "Caps Lock: umlauts up, sharp s stays");
	with(LCTRL, Y);
	cr_assert_str_eq(typed(), "\032", "Ctrl goes by the character: ^Z");
}

Test(kbd, unknown_layout_and_a_full_queue)
{
	kbd_init(&k);
	cr_assert_eq(kbd_set_layout(&k, "xx"), -EINVAL);
	for (int i = 0; i < KBD_QUEUE + 10; i++)
		tap(W);
	cr_assert_eq(k.dropped, 10u);
	cr_assert_eq(strlen(typed()), (size_t)KBD_QUEUE);
	cr_assert_eq(kbd_read_byte(&k), -1);
	tap(0x99); /* no such key */
	cr_assert_eq(kbd_read_byte(&k), -1);
}
