/*
 * fbcon - the text console on the GOP framebuffer: kernel log and app
 * output on screen, for PCs without a serial port.
 *
 * Text is drawn with Terminus from Debian's console-setup-linux, turned
 * into tables at build time by tools/psf2c (build/gen/font.c). fbcon picks
 * the largest built-in font that still gives FBCON_MIN_COLS x
 * FBCON_MIN_ROWS cells (16x32 from 2560x1440 up, 8x16 below).
 *
 * Context: one CPU, no locking, not for interrupt handlers. Every call is
 * a no-op until fbcon_init() succeeded, so console_write() can call
 * fbcon_write() unconditionally. fbcon_write() ignores a nested call (a
 * fault inside fbcon itself): that output reaches serial only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <solo/bootinfo.h>

/* A font picks the largest cell with at least this many columns and rows. */
#define FBCON_MIN_COLS 160
#define FBCON_MIN_ROWS 45

/* Codepoint -> glyph for codepoints above U+00FF, sorted by codepoint. */
struct fbcon_font_map {
	uint16_t codepoint;
	uint16_t glyph;
};

/*
 * A bitmap font. Glyph g is height rows of row_bytes bytes at
 * bitmaps + g * height * row_bytes; within a row the most significant bit
 * of the first byte is the leftmost pixel. latin1[cp] is the glyph of
 * U+0000..U+00FF (FBCON_NO_GLYPH when the font has none).
 */
struct fbcon_font {
	const char *name; /* the PSF file it came from */
	uint16_t width;	  /* pixels */
	uint16_t height;  /* pixels */
	uint16_t row_bytes;
	uint16_t nglyphs;
	const uint8_t *bitmaps;
	const uint16_t *latin1;
	const struct fbcon_font_map *map;
	uint32_t nmap;
};

#define FBCON_NO_GLYPH 0xffff

/* The built-in fonts (build/gen/font.c), smallest cell first. */
extern const struct fbcon_font *const fbcon_fonts[];
extern const unsigned fbcon_nfonts;

/* The largest built-in font that still gives FBCON_MIN_COLS x FBCON_MIN_ROWS
 * cells on a width x height screen (the smallest font when none does). Inline
 * so that host tools reading the screen back pick exactly what the kernel did. */
static inline const struct fbcon_font *fbcon_pick_font(uint32_t width, uint32_t height)
{
	const struct fbcon_font *best = fbcon_fonts[0];

	for (unsigned i = 1; i < fbcon_nfonts; i++) {
		const struct fbcon_font *f = fbcon_fonts[i];

		if (width / f->width >= FBCON_MIN_COLS && height / f->height >= FBCON_MIN_ROWS)
			best = f;
	}
	return best;
}

/*
 * fbcon_font_glyph - the glyph of codepoint cp in font, or FBCON_NO_GLYPH.
 * No side effects. (Inline: the boot tests read screenshots with it.)
 */
static inline unsigned fbcon_font_glyph(const struct fbcon_font *font, uint32_t cp)
{
	size_t lo = 0, hi = font->nmap;

	if (cp < 256)
		return font->latin1[cp];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (font->map[mid].codepoint == cp)
			return font->map[mid].glyph;
		if (font->map[mid].codepoint < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return FBCON_NO_GLYPH;
}

enum fbcon_colour {
	FBCON_NORMAL,  /* light grey: app output, and what ESC[0m returns to */
	FBCON_INFO,    /* cyan: kernel log */
	FBCON_WARNING, /* bright yellow */
	FBCON_ERROR,   /* bright red: panics, "solo: app killed" */
};

/*
 * fbcon_init - start the console on fb, whose pixels the caller mapped at
 * mapped_base (write-combining; fbcon never reads it back). Clears the
 * screen and puts the cursor top left. Needs kmalloc (kmalloc_init() done):
 * it allocates 8 bytes per text cell (64000 bytes at 1280x800) and nothing
 * else. Calling it again restarts the console on the new framebuffer.
 * Returns 0; -ENODEV when there is no usable framebuffer (SOLO_FB_NONE,
 * zero size or base, not 32 bits per pixel, a pitch or size too small for
 * width x height, smaller than one character); -ENOMEM when kmalloc fails.
 * The console stays off after an error.
 */
int fbcon_init(const struct solo_framebuffer *fb, void *mapped_base);

/*
 * fbcon_write - draw len bytes of text at the cursor. Bytes are UTF-8;
 * a codepoint the font lacks, or a malformed sequence, shows as '?'.
 * Sequences may be split across calls. Controls: \n (to the start of the
 * next line), \r, \t (8-column stops), \b (back one column, no erase);
 * other C0 and C1 controls are ignored. Lines longer than the screen wrap;
 * the bottom line scrolls the screen up. Escape sequences: SGR ESC[...m
 * with 0, 1, 22, 7, 27, 30-37, 38;5;n (n < 16), 39, 40-47, 48;5;n, 49,
 * 90-97, 100-107; ESC[nA/B/C/D, ESC[r;cH (and f), ESC[nJ, ESC[nK,
 * ESC[?25h/l (cursor shown/hidden); every other CSI, OSC and two-byte
 * escape is read and dropped.
 * The framebuffer is brought up to date before it returns.
 */
void fbcon_write(const char *buf, size_t len);

/*
 * fbcon_set_colour - the colour of the text written from now on, with the
 * default background and no bold or reverse. Also drops any half-received
 * escape or UTF-8 sequence, so that a kernel line after an app's
 * unfinished sequence is not swallowed.
 */
void fbcon_set_colour(enum fbcon_colour c);

/*
 * fbcon_set_cursor - whether the cursor is shown: the cell where the next
 * character goes, in inverse video, while on is set (the console sets it
 * while the app waits for input) and the app has not hidden it with
 * ESC[?25l (ESC[?25h shows it again). Off after fbcon_init. The screen is
 * updated at once.
 */
void fbcon_set_cursor(int on);

/* fbcon_clear - blank the screen, cursor top left; colours are kept. */
void fbcon_clear(void);

/* Size of the text area in characters; 0 when the console is off. */
unsigned fbcon_cols(void);
unsigned fbcon_rows(void);

/* The font in use; NULL when the console is off. */
const struct fbcon_font *fbcon_font(void);
