/*
 * kbd - a keyboard's keys into the bytes a terminal sends: the layout
 * (us, de), the modifiers (Shift, Ctrl, Alt, AltGr, Caps Lock, Num Lock)
 * and xterm's escape sequences for the keys that have no character.
 * Keyboard drivers (the PS/2 one, later USB HID) turn their scan codes into
 * USB HID usages (keyboard page 0x07, the code for a key's position) and
 * call kbd_key; the console reads the bytes with kbd_read_byte.
 *
 * Bytes: printable characters in UTF-8; Enter is CR (the line discipline's
 * ICRNL makes it NL), Backspace DEL (0x7f, termios' VERASE), Ctrl+letter its
 * control code, Alt+key an ESC before the key's bytes. Dead keys (de's ^
 * and ´) give their character at once. Key repeat is the keyboard's own
 * (PS/2's typematic make codes arrive as presses).
 *
 * Pure C: no device, never blocks, host-tested. One struct kbd per
 * keyboard; not reentrant (the console polls it with interrupts off).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KBD_QUEUE 64 /* bytes typed and not yet read; more are dropped */

/* kbd_leds() bits, in the order of the USB HID LED report. */
#define KBD_LED_NUM    (1u << 0)
#define KBD_LED_CAPS   (1u << 1)
#define KBD_LED_SCROLL (1u << 2)

struct kbd_layout;

struct kbd {
	const struct kbd_layout *layout;
	unsigned mods; /* the modifier keys held: KBD_MOD_* in kbd.c */
	unsigned leds; /* KBD_LED_* */
	unsigned char queue[KBD_QUEUE];
	unsigned head, len;
	unsigned dropped; /* bytes lost to a full queue */
};

/* A keyboard with the us layout, nothing held, Num Lock on. */
void kbd_init(struct kbd *k);
/* The layout by name ("us", "de"): 0, or -EINVAL for an unknown name. */
int kbd_set_layout(struct kbd *k, const char *name);
/* The names kbd_set_layout knows, for messages: "us, de". */
const char *kbd_layout_names(void);
/* A key (HID usage, page 0x07) went down (pressed 1) or up (0). A key held
 * down that repeats is pressed again without a release. */
void kbd_key(struct kbd *k, unsigned usage, int pressed);
/* The next byte typed (0..255), or -1. */
int kbd_read_byte(struct kbd *k);
/* The lock LEDs to show: KBD_LED_* (changes on Caps/Num/Scroll Lock). */
unsigned kbd_leds(const struct kbd *k);
