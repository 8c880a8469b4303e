/*
 * Keys to bytes (see kbd.h). A layout gives each key of the main block
 * (HID usages 0x04-0x38 and the ISO key 0x64) its character alone, with
 * Shift and with AltGr, as Unicode code points; everything else (Enter,
 * the arrows, the keypad, the function keys) is the same on every layout.
 */
#include "drivers/kbd.h"

#include "kernel/abi/errno.h"
#include "kernel/klib.h"

/* Modifier keys held: one bit per HID usage 0xe0..0xe7. */
#define KBD_MOD_LCTRL  (1u << 0)
#define KBD_MOD_LSHIFT (1u << 1)
#define KBD_MOD_LALT   (1u << 2)
#define KBD_MOD_RCTRL  (1u << 4)
#define KBD_MOD_RSHIFT (1u << 5)
#define KBD_MOD_RALT   (1u << 6)
#define KBD_MOD_CTRL   (KBD_MOD_LCTRL | KBD_MOD_RCTRL)
#define KBD_MOD_SHIFT  (KBD_MOD_LSHIFT | KBD_MOD_RSHIFT)

#define USAGE_FIRST_MAPPED 0x04
#define USAGE_LAST_MAPPED  0x38
#define USAGE_ISO	   0x64 /* the key between left Shift and Z on ISO boards */

struct keydef {
	uint16_t plain, shift, altgr; /* code points; 0: nothing */
};

struct kbd_layout {
	const char *name;
	int right_alt_is_altgr;
	struct keydef keys[USAGE_LAST_MAPPED + 1]; /* indexed by usage */
	struct keydef iso;
};

#define LETTER(c)                                                                                  \
	{                                                                                          \
		c, (c)-32, 0                                                                       \
	}

static const struct kbd_layout layouts[] = {
    {
	.name = "us",
	.keys =
	    {
		[0x04] = LETTER('a'),
		LETTER('b'),
		LETTER('c'),
		LETTER('d'),
		LETTER('e'),
		LETTER('f'),
		LETTER('g'),
		LETTER('h'),
		LETTER('i'),
		LETTER('j'),
		LETTER('k'),
		LETTER('l'),
		LETTER('m'),
		LETTER('n'),
		LETTER('o'),
		LETTER('p'),
		LETTER('q'),
		LETTER('r'),
		LETTER('s'),
		LETTER('t'),
		LETTER('u'),
		LETTER('v'),
		LETTER('w'),
		LETTER('x'),
		LETTER('y'),
		LETTER('z'),
		[0x1e] = {'1', '!', 0},
		{'2', '@', 0},
		{'3', '#', 0},
		{'4', '$', 0},
		{'5', '%', 0},
		{'6', '^', 0},
		{'7', '&', 0},
		{'8', '*', 0},
		{'9', '(', 0},
		{'0', ')', 0},
		[0x2d] = {'-', '_', 0},
		{'=', '+', 0},
		{'[', '{', 0},
		{']', '}', 0},
		{'\\', '|', 0},
		{'#', '~', 0},
		{';', ':', 0},
		{'\'', '"', 0},
		{'`', '~', 0},
		{',', '<', 0},
		{'.', '>', 0},
		{'/', '?', 0},
	    },
	.iso = {'\\', '|', 0},
    },
    {
	.name = "de",
	.right_alt_is_altgr = 1,
	.keys =
	    {
		[0x04] = LETTER('a'), LETTER('b'),
		LETTER('c'),	      LETTER('d'),
		{'e', 'E', 0x20ac},   LETTER('f'),
		LETTER('g'),	      LETTER('h'),
		LETTER('i'),	      LETTER('j'),
		LETTER('k'),	      LETTER('l'),
		{'m', 'M', 0xb5},     LETTER('n'),
		LETTER('o'),	      LETTER('p'),
		{'q', 'Q', '@'},      LETTER('r'),
		LETTER('s'),	      LETTER('t'),
		LETTER('u'),	      LETTER('v'),
		LETTER('w'),	      LETTER('x'),
		LETTER('z'), /* 0x1c: the key US calls Y */
		LETTER('y'),	      [0x1e] = {'1', '!', 0},
		{'2', '"', 0xb2},     {'3', 0xa7, 0xb3},
		{'4', '$', 0},	      {'5', '%', 0},
		{'6', '&', 0},	      {'7', '/', '{'},
		{'8', '(', '['},      {'9', ')', ']'},
		{'0', '=', '}'},      [0x2d] = {0xdf, '?', '\\'},
		{0xb4, '`', 0},	      {0xfc, 0xdc, 0},
		{'+', '*', '~'},      {'#', '\'', 0},
		{'#', '\'', 0},	      {0xf6, 0xd6, 0},
		{0xe4, 0xc4, 0},      {'^', 0xb0, 0},
		{',', ';', 0},	      {'.', ':', 0},
		{'-', '_', 0},
	    },
	.iso = {'<', '>', '|'},
    },
};

void kbd_init(struct kbd *k)
{
	memset(k, 0, sizeof(*k));
	k->layout = &layouts[0];
	k->leds = KBD_LED_NUM;
}

int kbd_set_layout(struct kbd *k, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
		if (!strcmp(layouts[i].name, name)) {
			k->layout = &layouts[i];
			return 0;
		}
	}
	return -EINVAL;
}

const char *kbd_layout_names(void)
{
	return "us, de";
}

unsigned kbd_leds(const struct kbd *k)
{
	return k->leds;
}

static void put(struct kbd *k, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (k->len == KBD_QUEUE) {
			k->dropped++;
			continue;
		}
		k->queue[(k->head + k->len++) % KBD_QUEUE] = (unsigned char)s[i];
	}
}

int kbd_read_byte(struct kbd *k)
{
	if (!k->len)
		return -1;
	unsigned char c = k->queue[k->head];
	k->head = (k->head + 1) % KBD_QUEUE;
	k->len--;
	return c;
}

static void put_codepoint(struct kbd *k, unsigned cp)
{
	char b[3];

	if (cp < 0x80) {
		b[0] = (char)cp;
		put(k, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		put(k, b, 2);
	} else {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		put(k, b, 3);
	}
}

static void put_str(struct kbd *k, const char *s)
{
	put(k, s, strlen(s));
}

/* Letters follow Caps Lock: a key whose Shift character is its plain one
 * in capitals (ASCII, and Latin-1's letters, as on de's umlauts). */
static int caps_applies(const struct keydef *d)
{
	return (d->plain >= 'a' && d->plain <= 'z') ||
	       (d->plain >= 0xe0 && d->plain <= 0xfe && d->plain != 0xf7 &&
		d->shift == d->plain - 32);
}

/* Ctrl with a character: its control code, as a terminal sends it. */
static int control_code(unsigned cp)
{
	if (cp >= 'a' && cp <= 'z')
		return (int)(cp - 'a' + 1);
	if (cp >= '@' && cp <= '_')
		return (int)(cp & 0x1f);
	if (cp == ' ' || cp == '2')
		return 0;
	if (cp == '/')
		return 0x1f;
	if (cp == '?' || cp == '8')
		return 0x7f;
	if (cp >= '3' && cp <= '7')
		return (int)(cp - '3' + 0x1b);
	return -1;
}

/* Keys without a character, by usage: xterm's sequences. */
static const char *special(unsigned usage)
{
	static const char *const f_keys[12] = {"\033OP",   "\033OQ",   "\033OR",   "\033OS",
					       "\033[15~", "\033[17~", "\033[18~", "\033[19~",
					       "\033[20~", "\033[21~", "\033[23~", "\033[24~"};

	if (usage >= 0x3a && usage <= 0x45)
		return f_keys[usage - 0x3a];
	switch (usage) {
	case 0x28:
		return "\r";
	case 0x29:
		return "\033";
	case 0x2a:
		return "\177";
	case 0x2b:
		return "\t";
	case 0x49:
		return "\033[2~";
	case 0x4a:
		return "\033[H";
	case 0x4b:
		return "\033[5~";
	case 0x4c:
		return "\033[3~";
	case 0x4d:
		return "\033[F";
	case 0x4e:
		return "\033[6~";
	case 0x4f:
		return "\033[C";
	case 0x50:
		return "\033[D";
	case 0x51:
		return "\033[B";
	case 0x52:
		return "\033[A";
	case 0x58:
		return "\r"; /* keypad Enter */
	}
	return NULL;
}

/* The keypad: its character with Num Lock on, else the key it doubles as. */
static const char *keypad(const struct kbd *k, unsigned usage)
{
	static const char *const digits[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "."};
	static const unsigned nav[] = {0x4d, 0x51, 0x4e, 0x50, 0,   0x4f,
				       0x4a, 0x52, 0x4b, 0x49, 0x4c};

	switch (usage) {
	case 0x54:
		return "/";
	case 0x55:
		return "*";
	case 0x56:
		return "-";
	case 0x57:
		return "+";
	}
	if (usage < 0x59 || usage > 0x63)
		return NULL;
	if (k->leds & KBD_LED_NUM)
		return digits[usage - 0x59];
	return nav[usage - 0x59] ? special(nav[usage - 0x59]) : "";
}

void kbd_key(struct kbd *k, unsigned usage, int pressed)
{
	if (usage >= 0xe0 && usage <= 0xe7) {
		unsigned bit = 1u << (usage - 0xe0);
		k->mods = pressed ? k->mods | bit : k->mods & ~bit;
		return;
	}
	if (!pressed)
		return;
	switch (usage) {
	case 0x39:
		k->leds ^= KBD_LED_CAPS;
		return;
	case 0x53:
		k->leds ^= KBD_LED_NUM;
		return;
	case 0x47:
		k->leds ^= KBD_LED_SCROLL;
		return;
	}

	int altgr = k->layout->right_alt_is_altgr && (k->mods & KBD_MOD_RALT);
	int alt = (k->mods & KBD_MOD_LALT) ||
		  (!k->layout->right_alt_is_altgr && (k->mods & KBD_MOD_RALT));
	int shift = !!(k->mods & KBD_MOD_SHIFT);
	const struct keydef *d = NULL;

	if (usage >= USAGE_FIRST_MAPPED && usage <= USAGE_LAST_MAPPED)
		d = &k->layout->keys[usage];
	else if (usage == USAGE_ISO)
		d = &k->layout->iso;
	if (usage == 0x2c) { /* space: the same on every layout */
		static const struct keydef space = {' ', ' ', 0};
		d = &space;
	}
	if (!d || !d->plain) {
		const char *s = special(usage);
		if (!s)
			s = keypad(k, usage);
		if (s) {
			if (alt && *s && *s != '\033')
				put_str(k, "\033");
			put_str(k, s);
		}
		return;
	}
	if ((k->leds & KBD_LED_CAPS) && caps_applies(d))
		shift = !shift;
	unsigned cp = altgr ? d->altgr : shift ? d->shift : d->plain;
	if (!cp)
		return;
	if (k->mods & KBD_MOD_CTRL) {
		int c = control_code(cp);
		if (c < 0)
			return;
		cp = (unsigned)c;
	}
	if (alt)
		put_str(k, "\033");
	put_codepoint(k, cp);
}
