/*
 * i8042 and scan code set 1 (see ps2kbd.h). Every wait on the controller
 * is bounded: a controller that stops answering costs a few milliseconds,
 * never a hang.
 */
#include "drivers/ps2kbd.h"

#include "drivers/kbd.h"
#include "kernel/abi/errno.h"
#include "kernel/arch/x86_64/portio.h"

#define I8042_DATA    0x60
#define I8042_STATUS  0x64 /* read */
#define I8042_COMMAND 0x64 /* write */

#define STATUS_OUTPUT_FULL 0x01
#define STATUS_INPUT_FULL  0x02
#define STATUS_AUX	   0x20 /* the byte is the mouse's */

#define CMD_READ_CONFIG	 0x20
#define CMD_WRITE_CONFIG 0x60
#define CMD_DISABLE_KBD	 0xad
#define CMD_ENABLE_KBD	 0xae

#define CONFIG_KBD_IRQ	     0x01
#define CONFIG_AUX_IRQ	     0x02
#define CONFIG_KBD_CLOCK_OFF 0x10
#define CONFIG_TRANSLATE     0x40

#define KBD_SET_LEDS 0xed
#define KBD_ACK	     0xfa

#define SPINS 200000 /* ~0.2 s of port reads on a PC */

static struct kbd kbd;
static unsigned shown_leds = ~0u;
static int e0_prefix, pause_bytes;

/* Set 1 make codes to HID usages: the main block, F1-F12 and the keypad. */
static const uint8_t set1_usage[0x59] = {
    [0x01] = 0x29, 0x1e, 0x1f, 0x20, 0x21, 0x22,	  0x23, 0x24, 0x25, 0x26, 0x27, 0x2d, 0x2e,
    0x2a,	   0x2b, 0x14, 0x1a, 0x08, 0x15,	  0x17, 0x1c, 0x18, 0x0c, 0x12, 0x13, 0x2f,
    0x30,	   0x28, 0xe0, 0x04, 0x16, 0x07,	  0x09, 0x0a, 0x0b, 0x0d, 0x0e, 0x0f, 0x33,
    0x34,	   0x35, 0xe1, 0x31, 0x1d, 0x1b,	  0x06, 0x19, 0x05, 0x11, 0x10, 0x36, 0x37,
    0x38,	   0xe5, 0x55, 0xe2, 0x2c, 0x39,	  0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40,
    0x41,	   0x42, 0x43, 0x53, 0x47, 0x5f,	  0x60, 0x61, 0x56, 0x5c, 0x5d, 0x5e, 0x57,
    0x59,	   0x5a, 0x5b, 0x62, 0x63, [0x56] = 0x64, 0x44, 0x45,
};

/* Set 1 codes after an E0 prefix. The fake shifts some keyboards send
 * around the arrows (E0 2A, E0 36) map to nothing. */
static unsigned e0_usage(unsigned code)
{
	switch (code) {
	case 0x1c:
		return 0x58; /* keypad Enter */
	case 0x1d:
		return 0xe4; /* right Ctrl */
	case 0x35:
		return 0x54; /* keypad / */
	case 0x38:
		return 0xe6; /* right Alt, AltGr */
	case 0x47:
		return 0x4a; /* Home */
	case 0x48:
		return 0x52; /* Up */
	case 0x49:
		return 0x4b; /* Page Up */
	case 0x4b:
		return 0x50; /* Left */
	case 0x4d:
		return 0x4f; /* Right */
	case 0x4f:
		return 0x4d; /* End */
	case 0x50:
		return 0x51; /* Down */
	case 0x51:
		return 0x4e; /* Page Down */
	case 0x52:
		return 0x49; /* Insert */
	case 0x53:
		return 0x4c; /* Delete */
	case 0x5b:
		return 0xe3; /* left GUI */
	case 0x5c:
		return 0xe7; /* right GUI */
	case 0x5d:
		return 0x65; /* Menu */
	}
	return 0;
}

static void decode(uint8_t b)
{
	if (pause_bytes) { /* Pause: E1 1D 45 E1 9D C5, no release */
		pause_bytes--;
		return;
	}
	switch (b) {
	case 0xe0:
		e0_prefix = 1;
		return;
	case 0xe1:
		pause_bytes = 5;
		return;
	/* Replies, not keys: ACK, resend, echo, errors. */
	case KBD_ACK:
	case 0xfe:
	case 0xee:
	case 0x00:
	case 0xff:
		e0_prefix = 0;
		return;
	}
	unsigned code = b & 0x7f;
	unsigned usage = e0_prefix		     ? e0_usage(code)
			 : code < sizeof(set1_usage) ? set1_usage[code]
						     : 0;
	e0_prefix = 0;
	if (usage)
		kbd_key(&kbd, usage, !(b & 0x80));
}

static int wait_input_empty(void)
{
	for (int i = 0; i < SPINS; i++) {
		if (!(inb(I8042_STATUS) & STATUS_INPUT_FULL))
			return 0;
	}
	return -1;
}

/* Whatever the controller holds: keys are decoded, the mouse's bytes
 * dropped. Returns the last keyboard byte, or -1 when there was none. */
static int drain(void)
{
	int last = -1;

	for (int i = 0; i < 64; i++) {
		uint8_t st = inb(I8042_STATUS);
		if (!(st & STATUS_OUTPUT_FULL))
			break;
		uint8_t b = inb(I8042_DATA);
		if (st & STATUS_AUX)
			continue;
		decode(b);
		last = b;
	}
	return last;
}

static int read_reply(void)
{
	for (int i = 0; i < SPINS; i++) {
		uint8_t st = inb(I8042_STATUS);
		if ((st & STATUS_OUTPUT_FULL) && !(st & STATUS_AUX))
			return inb(I8042_DATA);
	}
	return -1;
}

/* The lock LEDs, when they changed: ED, its ACK (keys typed meanwhile are
 * decoded), the bits (scroll 0, num 1, caps 2); the second ACK is dropped
 * by decode. */
static void show_leds(void)
{
	unsigned leds = kbd_leds(&kbd);

	if (leds == shown_leds)
		return;
	shown_leds = leds;
	uint8_t bits = (uint8_t)(((leds & KBD_LED_SCROLL) ? 1 : 0) |
				 ((leds & KBD_LED_NUM) ? 2 : 0) | ((leds & KBD_LED_CAPS) ? 4 : 0));
	if (wait_input_empty())
		return;
	outb(I8042_DATA, KBD_SET_LEDS);
	for (int i = 0; i < 8; i++) {
		int r = read_reply();
		if (r < 0)
			return; /* no keyboard on the port */
		if (r == KBD_ACK)
			break;
		decode((uint8_t)r);
	}
	if (!wait_input_empty())
		outb(I8042_DATA, bits);
}

int ps2kbd_init(const char *layout)
{
	int err = 0;

	kbd_init(&kbd);
	if (layout && kbd_set_layout(&kbd, layout))
		err = -EINVAL;
	if (inb(I8042_STATUS) == 0xff)
		return -ENODEV; /* nothing decodes the port */
	if (wait_input_empty())
		return -ENODEV;
	outb(I8042_COMMAND, CMD_DISABLE_KBD);
	drain();
	if (wait_input_empty())
		return -ENODEV;
	outb(I8042_COMMAND, CMD_READ_CONFIG);
	int config = read_reply();
	if (config < 0)
		return -ENODEV;
	config &= ~(CONFIG_KBD_IRQ | CONFIG_AUX_IRQ | CONFIG_KBD_CLOCK_OFF);
	config |= CONFIG_TRANSLATE;
	if (wait_input_empty())
		return -ENODEV;
	outb(I8042_COMMAND, CMD_WRITE_CONFIG);
	if (wait_input_empty())
		return -ENODEV;
	outb(I8042_DATA, (uint8_t)config);
	if (wait_input_empty())
		return -ENODEV;
	outb(I8042_COMMAND, CMD_ENABLE_KBD);
	drain();
	show_leds();
	e0_prefix = 0;
	return err;
}

int ps2kbd_read_byte(void)
{
	drain();
	show_leds();
	return kbd_read_byte(&kbd);
}
