/*
 * Framebuffer text console (see fbcon.h).
 *
 * How the screen is kept up to date
 * ---------------------------------
 * The framebuffer is mapped write-combining: writes to it stream out fast,
 * reads back from it are uncached and very slow. GOP has no hardware
 * panning, so scrolling must rewrite the pixels that change, and the
 * console never reads the framebuffer.
 *
 * fbcon keeps two arrays of text cells, 32 bits each (glyph number, fore-
 * and background colour):
 *
 *   text   what the screen should show. Its rows form a ring: screen row r
 *          is ring row (top + r) % rows, so scrolling by one line is O(cols):
 *          blank the old top row, advance top. Nothing moves in memory.
 *   shown  what the framebuffer shows now, in screen order.
 *
 * Writing only changes text and widens a range of dirty screen rows. Once
 * per fbcon_write() call, flush() compares the dirty rows of text with
 * shown and draws only the cells that differ; inside a cell it skips the
 * pixel rows whose bits and colours are unchanged. So:
 *   - a character costs one cell (at most width x height pixel writes);
 *   - a scroll costs the cells whose content changes when the text moves
 *     up a row: blank areas stay untouched, and a whole screen of short log
 *     lines costs about as many pixel writes as drawing those lines once;
 *   - many lines scrolled in one write are drawn once, not once per line.
 * The worst case, a screen packed edge to edge with text that all changes,
 * writes as many bytes as a RAM back buffer copied to the screen would on
 * every scroll (and that would cost width x height x 4 bytes of memory,
 * 8 MiB at 1920x1080); anything less dense writes less. This is also what
 * Linux's fbcon does on framebuffers without acceleration (fbcon_redraw).
 *
 * Memory: 2 x rows x cols x 4 bytes from kmalloc (64000 bytes for 160x50
 * cells at 1280x800, 128 KiB at 3840x2160 with the 16x32 font).
 *
 * The text area is cols x rows whole cells from the top left corner; the
 * leftover right and bottom strips are cleared once by fbcon_init() and
 * never drawn again.
 */
#include "drivers/fbcon.h"

#include "kernel/abi/errno.h"
#include "kernel/klib.h"
#include "mm/kmalloc.h"

#define DEFAULT_FG 7 /* light grey */
#define DEFAULT_BG 0 /* black */
#define TAB_WIDTH  8
#define MAX_PARAMS 16
#define MAX_PARAM  9999
#define MAX_STRING 4096 /* an OSC/DCS longer than this is taken as ended */

/* A text cell: glyph in bits 0-15, foreground 16-19, background 20-23. */
#define CELL(glyph, fg, bg) ((uint32_t)(glyph) | (uint32_t)(fg) << 16 | (uint32_t)(bg) << 20)
#define CELL_GLYPH(c)	    ((c)&0xffff)
#define CELL_FG(c)	    (((c) >> 16) & 15)
#define CELL_BG(c)	    (((c) >> 20) & 15)
#define CELL_COLOURS(c)	    ((c) >> 16)

enum parse_state {
	GROUND,		     /* text */
	ESCAPE,		     /* after ESC */
	ESCAPE_INTERMEDIATE, /* ESC, then 0x20-0x2f bytes, until a final byte */
	CSI,		     /* ESC [ parameters, until a final byte */
	STRING,		     /* OSC, DCS, SOS, PM, APC: until BEL or ESC \ */
};

/* The 16 colours of the Linux console (VGA), as 0xRRGGBB. */
static const uint32_t vga_rgb[16] = {
    0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
    0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

static const uint8_t level_fg[] = {
    [FBCON_NORMAL] = DEFAULT_FG,
    [FBCON_INFO] = 6,	  /* cyan */
    [FBCON_WARNING] = 11, /* bright yellow */
    [FBCON_ERROR] = 9,	  /* bright red */
};

static struct {
	uint8_t *fb; /* NULL: the console is off */
	size_t pitch;
	const struct fbcon_font *font;
	unsigned cols, rows;
	uint32_t *text;	 /* rows * cols, a ring of rows starting at ring row top */
	uint32_t *shown; /* rows * cols, screen order */
	unsigned top;
	unsigned dirty_lo, dirty_hi; /* screen rows [lo, hi) may differ from shown */
	uint32_t palette[16];	     /* pixel values */
	uint16_t blank_glyph, unknown_glyph;

	unsigned row, col;
	int wrap_pending; /* the last column was written: wrap before the next glyph */
	uint8_t fg, bg, bold, reverse;

	enum parse_state state;
	unsigned params[MAX_PARAMS];
	unsigned nparam; /* index of the parameter being read */
	int csi_ignored; /* private marker or intermediate byte: not ours */
	unsigned string_len;
	uint32_t utf8_cp, utf8_min;
	unsigned utf8_need; /* continuation bytes still expected */

	int busy;
	int cursor_on;	   /* fbcon_set_cursor */
	int cursor_hidden; /* by the app: ESC[?25l */
	int cursor_drawn;  /* the cursor is drawn at cursor_row, cursor_col */
	unsigned cursor_row, cursor_col;
	uint8_t csi_private; /* the private marker of this CSI ('?'), or 0 */
} con;

/* ------------------------------------------------------------ pixels */

/* The bits of mask, or -1 when they are not one contiguous run. */
static int mask_shift_bits(uint32_t mask, unsigned *shift, unsigned *bits)
{
	if (!mask)
		return -1;
	*shift = (unsigned)__builtin_ctz(mask);
	*bits = 32 - (unsigned)__builtin_clz(mask) - *shift;
	uint32_t run = *bits == 32 ? 0xffffffffu : ((1u << *bits) - 1) << *shift;
	return run == mask ? 0 : -1;
}

/* The 8-bit channel value v8 scaled to mask (a valid mask: see pixel_masks). */
static uint32_t channel(uint32_t v8, uint32_t mask)
{
	unsigned shift = 0, bits = 0;

	mask_shift_bits(mask, &shift, &bits);
	uint64_t max = (1ull << bits) - 1;
	return (uint32_t)((v8 * max + 127) / 255) << shift;
}

/* Fills masks[3] (red, green, blue); -1 unless the format is 32 bits per pixel. */
static int pixel_masks(const struct solo_framebuffer *fb, uint32_t masks[3])
{
	unsigned shift, bits;

	switch (fb->format) {
	case SOLO_FB_RGBX:
		masks[0] = 0x0000ff, masks[1] = 0x00ff00, masks[2] = 0xff0000;
		return 0;
	case SOLO_FB_BGRX:
		masks[0] = 0xff0000, masks[1] = 0x00ff00, masks[2] = 0x0000ff;
		return 0;
	case SOLO_FB_BITMASK:
		masks[0] = fb->red_mask, masks[1] = fb->green_mask, masks[2] = fb->blue_mask;
		for (int i = 0; i < 3; i++) {
			if (mask_shift_bits(masks[i], &shift, &bits))
				return -1;
		}
		/* GOP's pixel size is what the masks span: below bit 24, it is not 32 bpp. */
		if (!((masks[0] | masks[1] | masks[2] | fb->reserved_mask) >> 24))
			return -1;
		if ((masks[0] & masks[1]) || (masks[0] & masks[2]) || (masks[1] & masks[2]))
			return -1;
		return 0;
	default:
		return -1;
	}
}

static int glyph_rows_equal(const uint8_t *a, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (a[i] != b[i])
			return 0;
	}
	return 1;
}

/* Pixels for the n (<= 8) leftmost bits of b; unrolled for whole bytes. */
static inline void put_bits(uint32_t *px, unsigned b, unsigned n, uint32_t ink, uint32_t paper)
{
	if (n == 8) {
		px[0] = b & 0x80 ? ink : paper;
		px[1] = b & 0x40 ? ink : paper;
		px[2] = b & 0x20 ? ink : paper;
		px[3] = b & 0x10 ? ink : paper;
		px[4] = b & 0x08 ? ink : paper;
		px[5] = b & 0x04 ? ink : paper;
		px[6] = b & 0x02 ? ink : paper;
		px[7] = b & 0x01 ? ink : paper;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		px[i] = b & (0x80 >> i) ? ink : paper;
}

/*
 * Draws cell at screen position (r, c) where old is drawn now: only the
 * pixel rows that change are written.
 */
static void draw_cell(unsigned r, unsigned c, uint32_t cell, uint32_t old)
{
	const struct fbcon_font *f = con.font;
	const unsigned rb = f->row_bytes, w = f->width;
	const size_t glyph_size = (size_t)f->height * rb;
	const uint8_t *bits = f->bitmaps + CELL_GLYPH(cell) * glyph_size;
	const uint8_t *old_bits = f->bitmaps + CELL_GLYPH(old) * glyph_size;
	const int same_colours = CELL_COLOURS(cell) == CELL_COLOURS(old);
	const uint32_t ink = con.palette[CELL_FG(cell)], paper = con.palette[CELL_BG(cell)];
	uint8_t *line = con.fb + (size_t)r * f->height * con.pitch + (size_t)c * w * 4;

	for (unsigned y = 0; y < f->height; y++, line += con.pitch, bits += rb, old_bits += rb) {
		if (same_colours && glyph_rows_equal(bits, old_bits, rb))
			continue;
		uint32_t *px = (uint32_t *)line;
		for (unsigned i = 0, x = 0; x < w; i++, x += 8)
			put_bits(px + x, bits[i], MIN(8, w - x), ink, paper);
	}
}

static uint32_t *text_row(unsigned r)
{
	unsigned ring = con.top + r;

	if (ring >= con.rows)
		ring -= con.rows;
	return con.text + (size_t)ring * con.cols;
}

static void mark_dirty(unsigned first, unsigned end)
{
	con.dirty_lo = MIN(con.dirty_lo, first);
	con.dirty_hi = MAX(con.dirty_hi, end);
}

/*
 * Brings the framebuffer up to date with text, drawing only what differs.
 * The cursor is the text cell under it with its colours swapped: shown
 * holds that, so the cell is redrawn plain once the cursor leaves it.
 */
static void flush(void)
{
	int cursor = con.cursor_on && !con.cursor_hidden;

	if (con.cursor_drawn)
		mark_dirty(con.cursor_row, con.cursor_row + 1);
	if (cursor)
		mark_dirty(con.row, con.row + 1);
	for (unsigned r = con.dirty_lo; r < con.dirty_hi; r++) {
		const uint32_t *t = text_row(r);
		uint32_t *s = con.shown + (size_t)r * con.cols;

		for (unsigned c = 0; c < con.cols; c++) {
			uint32_t want = t[c];
			if (cursor && r == con.row && c == con.col)
				want = CELL(CELL_GLYPH(want), CELL_BG(want), CELL_FG(want));
			if (want != s[c]) {
				draw_cell(r, c, want, s[c]);
				s[c] = want;
			}
		}
	}
	con.cursor_drawn = cursor;
	con.cursor_row = con.row;
	con.cursor_col = con.col;
	con.dirty_lo = con.rows;
	con.dirty_hi = 0;
}

/* ------------------------------------------------------------ text */

/* A cell showing glyph in the current attributes. */
static uint32_t attr_cell(unsigned glyph)
{
	unsigned fg = con.fg, bg = con.bg;

	if (con.bold && fg < 8)
		fg += 8;
	if (con.reverse) {
		unsigned t = fg;
		fg = bg;
		bg = t;
	}
	return CELL(glyph, fg, bg);
}

/* Blanks columns [from, to) of screen row r with the current background. */
static void erase(unsigned r, unsigned from, unsigned to)
{
	uint32_t *t = text_row(r), blank = attr_cell(con.blank_glyph);

	for (unsigned c = from; c < to; c++)
		t[c] = blank;
	mark_dirty(r, r + 1);
}

static void scroll_up(void)
{
	erase(0, 0, con.cols); /* the old top row becomes the new bottom row */
	con.top = con.top + 1 == con.rows ? 0 : con.top + 1;
	mark_dirty(0, con.rows);
}

static void line_feed(void)
{
	con.wrap_pending = 0;
	if (con.row + 1 < con.rows)
		con.row++;
	else
		scroll_up();
}

static void put_glyph(unsigned glyph)
{
	if (con.wrap_pending) {
		con.col = 0;
		line_feed();
	}
	text_row(con.row)[con.col] = attr_cell(glyph);
	mark_dirty(con.row, con.row + 1);
	if (con.col + 1 < con.cols)
		con.col++;
	else
		con.wrap_pending = 1;
}

static void put_codepoint(uint32_t cp)
{
	unsigned glyph;

	if (cp >= 0x80 && cp < 0xa0)
		return; /* C1 controls */
	glyph = fbcon_font_glyph(con.font, cp);
	put_glyph(glyph < con.font->nglyphs ? glyph : con.unknown_glyph);
}

static void move_to(unsigned row, unsigned col)
{
	con.row = MIN(row, con.rows - 1);
	con.col = MIN(col, con.cols - 1);
	con.wrap_pending = 0;
}

static void reset_attributes(unsigned fg)
{
	con.fg = (uint8_t)fg;
	con.bg = DEFAULT_BG;
	con.bold = 0;
	con.reverse = 0;
}

/* ------------------------------------------------------------ escapes */

/* 38;5;n / 48;5;n (n < 16) set *colour; 38;2;r;g;b is skipped. Returns the
 * number of parameters used after the 38/48. */
static unsigned extended_colour(unsigned i, unsigned n, uint8_t *colour)
{
	if (i + 2 < n && con.params[i + 1] == 5) {
		if (con.params[i + 2] < 16)
			*colour = (uint8_t)con.params[i + 2];
		return 2;
	}
	if (i + 4 < n && con.params[i + 1] == 2)
		return 4;
	return n - i - 1; /* malformed: drop the rest */
}

static void select_graphic_rendition(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned p = con.params[i];

		if (p == 0)
			reset_attributes(DEFAULT_FG);
		else if (p == 1)
			con.bold = 1;
		else if (p == 22)
			con.bold = 0;
		else if (p == 7)
			con.reverse = 1;
		else if (p == 27)
			con.reverse = 0;
		else if (p >= 30 && p <= 37)
			con.fg = (uint8_t)(p - 30);
		else if (p == 38)
			i += extended_colour(i, n, &con.fg);
		else if (p == 39)
			con.fg = DEFAULT_FG;
		else if (p >= 40 && p <= 47)
			con.bg = (uint8_t)(p - 40);
		else if (p == 48)
			i += extended_colour(i, n, &con.bg);
		else if (p == 49)
			con.bg = DEFAULT_BG;
		else if (p >= 90 && p <= 97)
			con.fg = (uint8_t)(p - 90 + 8);
		else if (p >= 100 && p <= 107)
			con.bg = (uint8_t)(p - 100 + 8);
		/* anything else (italic, underline, blink...) is not shown */
	}
}

static void erase_in_display(unsigned mode)
{
	if (mode == 0) {
		erase(con.row, con.col, con.cols);
		for (unsigned r = con.row + 1; r < con.rows; r++)
			erase(r, 0, con.cols);
	} else if (mode == 1) {
		for (unsigned r = 0; r < con.row; r++)
			erase(r, 0, con.cols);
		erase(con.row, 0, con.col + 1);
	} else if (mode == 2 || mode == 3) {
		for (unsigned r = 0; r < con.rows; r++)
			erase(r, 0, con.cols);
	}
}

static void erase_in_line(unsigned mode)
{
	if (mode == 0)
		erase(con.row, con.col, con.cols);
	else if (mode == 1)
		erase(con.row, 0, con.col + 1);
	else if (mode == 2)
		erase(con.row, 0, con.cols);
}

static void csi_dispatch(uint8_t final)
{
	unsigned n = con.nparam + 1, p0 = con.params[0], count = p0 ? p0 : 1;

	switch (final) {
	case 'm':
		select_graphic_rendition(n);
		break;
	case 'A':
		move_to(con.row > count ? con.row - count : 0, con.col);
		break;
	case 'B':
		move_to(con.row + MIN(count, con.rows), con.col);
		break;
	case 'C':
		move_to(con.row, con.col + MIN(count, con.cols));
		break;
	case 'D':
		move_to(con.row, con.col > count ? con.col - count : 0);
		break;
	case 'H':
	case 'f':
		move_to(p0 ? p0 - 1 : 0, n > 1 && con.params[1] ? con.params[1] - 1 : 0);
		break;
	case 'J':
		erase_in_display(p0);
		break;
	case 'K':
		erase_in_line(p0);
		break;
	default:
		break; /* read and dropped */
	}
}

static void csi_byte(uint8_t b)
{
	if (b >= '0' && b <= '9') {
		unsigned *p = &con.params[con.nparam];
		*p = MIN(*p * 10 + (unsigned)(b - '0'), MAX_PARAM);
	} else if (b == ';' || b == ':') {
		if (con.nparam + 1 < MAX_PARAMS)
			con.params[++con.nparam] = 0;
	} else if (b >= 0x3c && b <= 0x3f) {
		/* A private marker leads: ESC[?25l is ours, the rest not. */
		if (b == '?' && !con.nparam && !con.params[0] && !con.csi_private)
			con.csi_private = b;
		else
			con.csi_ignored = 1;
	} else if (b >= 0x20 && b <= 0x2f) {
		con.csi_ignored = 1; /* intermediate bytes */
	} else if (b >= 0x40 && b <= 0x7e) {
		con.state = GROUND;
		if (con.csi_ignored)
			return;
		if (!con.csi_private)
			csi_dispatch(b);
		else if ((b == 'h' || b == 'l') && !con.nparam && con.params[0] == 25)
			con.cursor_hidden = b == 'l';
	}
}

/* ------------------------------------------------------------ bytes */

static void control(uint8_t b)
{
	switch (b) {
	case '\n':
	case '\v':
	case '\f':
		con.col = 0;
		line_feed();
		break;
	case '\r':
		con.col = 0;
		con.wrap_pending = 0;
		break;
	case '\t':
		if (!con.wrap_pending)
			con.col = MIN((con.col / TAB_WIDTH + 1) * TAB_WIDTH, con.cols - 1);
		break;
	case '\b':
		if (con.wrap_pending)
			con.wrap_pending = 0;
		else if (con.col > 0)
			con.col--;
		break;
	case 0x1b:
		con.state = ESCAPE;
		break;
	case 0x18: /* CAN and SUB cancel a sequence */
	case 0x1a:
		con.state = GROUND;
		break;
	default:
		break; /* NUL, BEL, ... */
	}
}

static void utf8_start(unsigned need, uint32_t bits, uint32_t min)
{
	con.utf8_need = need;
	con.utf8_cp = bits;
	con.utf8_min = min;
}

static void ground_byte(uint8_t b)
{
	if (con.utf8_need) {
		if ((b & 0xc0) == 0x80) {
			con.utf8_cp = con.utf8_cp << 6 | (b & 0x3f);
			if (--con.utf8_need)
				return;
			uint32_t cp = con.utf8_cp;
			if (cp < con.utf8_min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				put_glyph(con.unknown_glyph); /* overlong, surrogate, too large */
			else
				put_codepoint(cp);
			return;
		}
		con.utf8_need = 0;
		put_glyph(con.unknown_glyph); /* the sequence broke off; b starts afresh */
	}
	if (b < 0x20 || b == 0x7f)
		control(b);
	else if (b < 0x80)
		put_codepoint(b);
	else if (b >= 0xc2 && b <= 0xdf)
		utf8_start(1, b & 0x1f, 0x80);
	else if (b >= 0xe0 && b <= 0xef)
		utf8_start(2, b & 0x0f, 0x800);
	else if (b >= 0xf0 && b <= 0xf4)
		utf8_start(3, b & 0x07, 0x10000);
	else
		put_glyph(con.unknown_glyph);
}

static void put_byte(uint8_t b)
{
	switch (con.state) {
	case GROUND:
		ground_byte(b);
		break;
	case ESCAPE:
		if (b == '[') {
			con.state = CSI;
			con.nparam = 0;
			con.params[0] = 0;
			con.csi_ignored = 0;
			con.csi_private = 0;
		} else if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
			con.state = STRING;
			con.string_len = 0;
		} else if (b == 'c') { /* RIS: full reset */
			con.state = GROUND;
			reset_attributes(DEFAULT_FG);
			fbcon_clear();
		} else if (b >= 0x20 && b <= 0x2f) {
			con.state = ESCAPE_INTERMEDIATE;
		} else if (b < 0x20) {
			control(b);
		} else {
			con.state = GROUND; /* a two-byte escape: dropped */
		}
		break;
	case ESCAPE_INTERMEDIATE:
		if (b < 0x20)
			control(b);
		else if (b > 0x2f)
			con.state = GROUND;
		break;
	case CSI:
		if (b < 0x20)
			control(b); /* executed inside the sequence, like a VT100 */
		else
			csi_byte(b);
		break;
	case STRING:
		if (b == 0x07 || b == 0x18 || b == 0x1a || ++con.string_len > MAX_STRING)
			con.state = GROUND;
		else if (b == 0x1b)
			con.state = ESCAPE; /* ESC \ ends it; the '\' is then dropped */
		break;
	}
}

/* ------------------------------------------------------------ API */

void fbcon_write(const char *buf, size_t len)
{
	if (!con.fb || con.busy)
		return;
	con.busy = 1;
	for (size_t i = 0; i < len; i++)
		put_byte((uint8_t)buf[i]);
	flush();
	con.busy = 0;
}

void fbcon_set_colour(enum fbcon_colour c)
{
	reset_attributes((unsigned)c < ARRAY_SIZE(level_fg) ? level_fg[c] : DEFAULT_FG);
	con.state = GROUND;
	con.utf8_need = 0;
}

void fbcon_clear(void)
{
	if (!con.fb)
		return;
	con.top = 0;
	for (unsigned r = 0; r < con.rows; r++)
		erase(r, 0, con.cols);
	move_to(0, 0);
	if (!con.busy)
		flush();
}

void fbcon_set_cursor(int on)
{
	if (!con.fb)
		return;
	con.cursor_on = !!on;
	if (!con.busy)
		flush();
}

unsigned fbcon_cols(void)
{
	return con.fb ? con.cols : 0;
}

unsigned fbcon_rows(void)
{
	return con.fb ? con.rows : 0;
}

const struct fbcon_font *fbcon_font(void)
{
	return con.fb ? con.font : NULL;
}

int fbcon_init(const struct solo_framebuffer *fb, void *mapped_base)
{
	const struct fbcon_font *font;
	uint32_t masks[3], blank;
	size_t cells;

	kfree(con.text);
	memset(&con, 0, sizeof(con));
	if (!fb || !mapped_base || fb->format == SOLO_FB_NONE || !fb->base || !fb->size ||
	    !fb->width || !fb->height || pixel_masks(fb, masks))
		return -ENODEV;
	if (fb->pitch % 4 || fb->pitch / 4 < fb->width ||
	    (uint64_t)fb->pitch * (fb->height - 1) + (uint64_t)fb->width * 4 > fb->size)
		return -ENODEV;
	font = fbcon_pick_font(fb->width, fb->height);
	if (fb->width < font->width || fb->height < font->height)
		return -ENODEV;

	con.font = font;
	con.cols = fb->width / font->width;
	con.rows = fb->height / font->height;
	cells = (size_t)con.cols * con.rows;
	con.text = kmalloc(2 * cells * sizeof(uint32_t));
	if (!con.text)
		return -ENOMEM;
	con.shown = con.text + cells;
	con.pitch = fb->pitch;
	for (int i = 0; i < 16; i++) {
		uint32_t rgb = vga_rgb[i];
		con.palette[i] = channel(rgb >> 16, masks[0]) |
				 channel((rgb >> 8) & 0xff, masks[1]) |
				 channel(rgb & 0xff, masks[2]);
	}
	con.blank_glyph = (uint16_t)fbcon_font_glyph(font, ' ');
	con.unknown_glyph = (uint16_t)fbcon_font_glyph(font, '?');
	if (con.blank_glyph >= font->nglyphs)
		con.blank_glyph = con.unknown_glyph; /* psf2c guarantees '?' */
	reset_attributes(DEFAULT_FG);

	/* One full clear, then the screen is known to show blanks. */
	for (uint32_t y = 0; y < fb->height; y++) {
		uint32_t *px = (uint32_t *)((uint8_t *)mapped_base + (size_t)y * fb->pitch);
		for (uint32_t x = 0; x < fb->width; x++)
			px[x] = con.palette[DEFAULT_BG];
	}
	blank = CELL(con.blank_glyph, DEFAULT_FG, DEFAULT_BG);
	for (size_t i = 0; i < cells; i++)
		con.text[i] = con.shown[i] = blank;
	/* A font whose blank has ink (none we ship) is drawn on the first flush:
	 * shown then claims different colours everywhere. */
	const uint8_t *bits =
	    font->bitmaps + (size_t)con.blank_glyph * font->height * font->row_bytes;
	for (size_t i = 0; i < (size_t)font->height * font->row_bytes; i++) {
		if (bits[i]) {
			for (size_t j = 0; j < cells; j++)
				con.shown[j] = CELL(con.blank_glyph, 15, 15);
			break;
		}
	}
	con.dirty_lo = 0;
	con.dirty_hi = con.rows;
	con.fb = mapped_base;
	flush();
	return 0;
}
