/*
 * Host tests of drivers/fbcon.c: the console draws into a malloc'd fake
 * framebuffer (with padding after each scan line that must stay
 * untouched), and the tests read the pixels back: glyphs against the font
 * tables, colours, wrapping, scrolling, escapes, UTF-8. kmalloc is the
 * real one, over the fake physical memory of mm_arena.h.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/fbcon.h"
#include "mm_arena.h"

#define PAD_PIXELS 24	       /* after each scan line: pitch > width * 4 */
#define SENTINEL   0x5a5a5a5au /* padding, and poisoned pixels */
#define SPACE	   0x00000000u

/* The Linux console colours, as BGRX pixels (= 0xRRGGBB). */
#define BLACK	      0x000000u
#define RED	      0xaa0000u
#define BLUE	      0x0000aau
#define CYAN	      0x00aaaau
#define GREY	      0xaaaaaau
#define BRIGHT_RED    0xff5555u
#define BRIGHT_YELLOW 0xffff55u
#define WHITE	      0xffffffu

static uint32_t *fb_pixels;
static struct solo_framebuffer fb;

TestSuite(fbcon, .init = mm_test_setup);

static void make_fb(uint32_t width, uint32_t height, uint32_t format)
{
	size_t words = (size_t)(width + PAD_PIXELS) * height;

	free(fb_pixels);
	fb_pixels = malloc(words * 4);
	cr_assert_not_null(fb_pixels);
	for (size_t i = 0; i < words; i++)
		fb_pixels[i] = SENTINEL;
	fb = (struct solo_framebuffer){
	    .base = 0x80000000,
	    .size = words * 4,
	    .width = width,
	    .height = height,
	    .pitch = (width + PAD_PIXELS) * 4,
	    .format = format,
	};
}

/* A 1280x800 BGRX screen (what OVMF gives QEMU's -vga std): 160x50 cells. */
static void start(void)
{
	make_fb(1280, 800, SOLO_FB_BGRX);
	cr_assert_eq(fbcon_init(&fb, fb_pixels), 0);
}

static void put(const char *s)
{
	fbcon_write(s, strlen(s));
}

static uint32_t pixel(unsigned x, unsigned y)
{
	return fb_pixels[(size_t)y * (fb.width + PAD_PIXELS) + x];
}

static void set_pixel(unsigned x, unsigned y, uint32_t v)
{
	fb_pixels[(size_t)y * (fb.width + PAD_PIXELS) + x] = v;
}

static int glyph_bit(const struct fbcon_font *f, unsigned glyph, unsigned x, unsigned y)
{
	const uint8_t *row = f->bitmaps + ((size_t)glyph * f->height + y) * f->row_bytes;

	return !!(row[x / 8] & (0x80 >> (x % 8)));
}

/* True when cell (row, col) shows the font's glyph for cp in fg on bg. */
static int cell_is(unsigned row, unsigned col, uint32_t cp, uint32_t fg, uint32_t bg)
{
	const struct fbcon_font *f = fbcon_font();
	unsigned glyph = fbcon_font_glyph(f, cp);

	cr_assert_neq(glyph, FBCON_NO_GLYPH, "the font has no U+%04X", cp);
	for (unsigned y = 0; y < f->height; y++) {
		for (unsigned x = 0; x < f->width; x++) {
			uint32_t want = glyph_bit(f, glyph, x, y) ? fg : bg;
			if (pixel(col * f->width + x, row * f->height + y) != want)
				return 0;
		}
	}
	return 1;
}

/* The printable ASCII character cell (row, col) shows in any colour on
 * black, '#' when it matches none. */
static char cell_char(unsigned row, unsigned col)
{
	const struct fbcon_font *f = fbcon_font();

	for (unsigned ch = ' '; ch < 0x7f; ch++) {
		unsigned glyph = fbcon_font_glyph(f, ch);
		int match = 1;

		for (unsigned y = 0; y < f->height && match; y++) {
			for (unsigned x = 0; x < f->width && match; x++) {
				uint32_t p = pixel(col * f->width + x, row * f->height + y);
				match = glyph_bit(f, glyph, x, y) == (p != BLACK);
			}
		}
		if (match)
			return (char)ch;
	}
	return '#';
}

/* Screen row r read back as ASCII, trailing blanks dropped. */
static const char *row_text(unsigned r)
{
	static char line[512];
	unsigned n = 0;

	for (unsigned c = 0; c < fbcon_cols(); c++)
		line[n++] = cell_char(r, c);
	while (n && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	return line;
}

static void assert_padding_untouched(void)
{
	for (unsigned y = 0; y < fb.height; y++) {
		for (unsigned x = fb.width; x < fb.width + PAD_PIXELS; x++)
			cr_assert_eq(pixel(x, y), SENTINEL, "padding at %u,%u written", x, y);
	}
}

Test(fbcon, unusable_framebuffers_are_refused_with_enodev)
{
	make_fb(640, 480, SOLO_FB_BGRX);
	struct solo_framebuffer good = fb, bad;

	bad = good, bad.format = SOLO_FB_NONE;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad = good, bad.size = 0;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad = good, bad.base = 0;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	cr_assert_eq(fbcon_init(&good, NULL), -ENODEV);
	cr_assert_eq(fbcon_init(NULL, fb_pixels), -ENODEV);
	bad = good, bad.format = SOLO_FB_BITMASK; /* 16 bits per pixel, 5-6-5 */
	bad.red_mask = 0xf800, bad.green_mask = 0x07e0, bad.blue_mask = 0x001f;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad.red_mask = 0xff0000, bad.green_mask = 0xff00, bad.blue_mask = 0xff; /* 24 bpp */
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad.red_mask = 0xff0f00; /* not contiguous */
	bad.reserved_mask = 0xff000000;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad = good, bad.pitch = 640 * 4 - 4;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad = good, bad.pitch = 640 * 4 + 2;
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad = good, bad.size = (uint64_t)good.pitch * (good.height - 1);
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);
	bad = good, bad.width = 7, bad.height = 15; /* smaller than one character */
	cr_assert_eq(fbcon_init(&bad, fb_pixels), -ENODEV);

	/* Off: calls are no-ops, nothing is drawn. */
	cr_assert_eq(fbcon_cols(), 0);
	cr_assert_eq(fbcon_rows(), 0);
	cr_assert_null(fbcon_font());
	put("nothing");
	fbcon_clear();
	fbcon_set_colour(FBCON_ERROR);
	cr_assert_eq(pixel(0, 0), SENTINEL);
}

static void assert_geometry(uint32_t w, uint32_t h, unsigned cols, unsigned rows, unsigned fw,
			    unsigned fh)
{
	make_fb(w, h, SOLO_FB_BGRX);
	cr_assert_eq(fbcon_init(&fb, fb_pixels), 0);
	cr_assert_eq(fbcon_cols(), cols, "%ux%u: %u columns", w, h, fbcon_cols());
	cr_assert_eq(fbcon_rows(), rows, "%ux%u: %u rows", w, h, fbcon_rows());
	cr_assert_eq(fbcon_font()->width, fw);
	cr_assert_eq(fbcon_font()->height, fh);
}

Test(fbcon, geometry_and_font_follow_the_screen_size)
{
	assert_geometry(1280, 800, 160, 50, 8, 16);
	assert_geometry(1920, 1080, 240, 67, 8, 16);
	assert_geometry(2560, 1440, 160, 45, 16, 32);
	assert_geometry(3840, 2160, 240, 67, 16, 32);
	assert_geometry(8, 16, 1, 1, 8, 16);
}

Test(fbcon, init_clears_the_whole_screen_and_nothing_else)
{
	start();
	for (unsigned y = 0; y < fb.height; y++) {
		for (unsigned x = 0; x < fb.width; x++)
			cr_assert_eq(pixel(x, y), BLACK, "pixel %u,%u not cleared", x, y);
	}
	assert_padding_untouched();
}

Test(fbcon, text_is_drawn_with_the_font_glyphs)
{
	start();
	put("Hi, Solo!");
	cr_assert(cell_is(0, 0, 'H', GREY, BLACK));
	cr_assert(cell_is(0, 1, 'i', GREY, BLACK));
	cr_assert(cell_is(0, 8, '!', GREY, BLACK));
	cr_assert(cell_is(0, 9, ' ', GREY, BLACK));
	cr_assert_str_eq(row_text(0), "Hi, Solo!");
	cr_assert_str_eq(row_text(1), "");
	assert_padding_untouched();
}

Test(fbcon, controls_move_the_cursor)
{
	start();
	put("abc\rX\n");
	put("1\t2\tend\n");
	put("abcd\b\bZ\n");
	fbcon_write("a\0b\a\x7f"
		    "c\n",
		    7);
	cr_assert_str_eq(row_text(0), "Xbc");
	cr_assert_str_eq(row_text(1), "1       2       end");
	cr_assert_str_eq(row_text(2), "abZd");
	cr_assert_str_eq(row_text(3), "abc");
}

Test(fbcon, long_lines_wrap_and_a_full_line_adds_no_blank_line)
{
	char line[400];

	start();
	memset(line, 'x', 170);
	line[170] = '\0';
	put(line);
	put("\n");
	cr_assert_eq(strlen(row_text(0)), 160);
	cr_assert_str_eq(row_text(1), "xxxxxxxxxx");
	memset(line, 'y', 160);
	strcpy(line + 160, "\nnext");
	put(line);
	cr_assert_eq(strlen(row_text(2)), 160);
	cr_assert_str_eq(row_text(3), "next");
	/* A tab in the last column stays there. */
	put("\r");
	memset(line, 'z', 159);
	strcpy(line + 159, "\t!");
	put(line);
	cr_assert(cell_is(3, 159, '!', GREY, BLACK));
}

Test(fbcon, the_bottom_line_scrolls_the_screen_up)
{
	char line[32];

	start();
	for (int i = 0; i < 53; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		put(line);
	}
	/* 53 lines and the cursor's empty line: lines 0..3 scrolled off. */
	cr_assert_str_eq(row_text(0), "line 4");
	cr_assert_str_eq(row_text(48), "line 52");
	cr_assert_str_eq(row_text(49), "");
	put("last");
	cr_assert_str_eq(row_text(49), "last");
	assert_padding_untouched();
}

Test(fbcon, scrolling_leaves_blank_cells_alone)
{
	char line[32];

	start();
	/* Poison the right half of the screen: cells that stay blank while
	 * short lines scroll by must never be written again. */
	for (unsigned y = 0; y < fb.height; y++) {
		for (unsigned x = 640; x < fb.width; x++)
			set_pixel(x, y, SENTINEL);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "short line %d\n", i);
		put(line);
	}
	/* (The poisoned half reads back as '#'.) */
	cr_assert(!strncmp(row_text(0), "short line 151 ", 15), "%s", row_text(0));
	cr_assert(!strncmp(row_text(48), "short line 199 ", 15), "%s", row_text(48));
	for (unsigned y = 0; y < fb.height; y++) {
		for (unsigned x = 640; x < fb.width; x++)
			cr_assert_eq(pixel(x, y), SENTINEL, "blank cell pixel %u,%u redrawn", x, y);
	}
}

Test(fbcon, one_big_write_looks_like_many_small_ones)
{
	static char text[64 * 1024];
	size_t len = 0;
	uint32_t *first;
	size_t bytes;

	for (int i = 0; i < 300; i++)
		len += (size_t)snprintf(
		    text + len, sizeof(text) - len, "\033[3%dmline %d %.*s\033[0m\n", i % 8, i,
		    i % 150,
		    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
		    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn"
		    "opqrstuvwxyz0123456789");
	start();
	fbcon_write(text, len);
	bytes = (size_t)fb.pitch * fb.height;
	first = malloc(bytes);
	cr_assert_not_null(first);
	memcpy(first, fb_pixels, bytes);

	start();
	for (size_t i = 0; i < len; i += 7)
		fbcon_write(text + i, len - i < 7 ? len - i : 7);
	cr_assert(!memcmp(first, fb_pixels, bytes), "the screens differ");
	free(first);
}

Test(fbcon, sgr_sets_colours)
{
	start();
	put("\033[31mR\033[1mB\033[22mr\033[0mN\033[91mX\033[44mY\033[49;39mZ");
	put("\033[7mV\033[27m\033[38;5;11mE\033[48;5;4mF\033[m\033[38;2;1;2;3mG\033[0;97;41mH");
	cr_assert(cell_is(0, 0, 'R', RED, BLACK));
	cr_assert(cell_is(0, 1, 'B', BRIGHT_RED, BLACK), "bold brightens");
	cr_assert(cell_is(0, 2, 'r', RED, BLACK));
	cr_assert(cell_is(0, 3, 'N', GREY, BLACK));
	cr_assert(cell_is(0, 4, 'X', BRIGHT_RED, BLACK));
	cr_assert(cell_is(0, 5, 'Y', BRIGHT_RED, BLUE));
	cr_assert(cell_is(0, 6, 'Z', GREY, BLACK));
	cr_assert(cell_is(0, 7, 'V', BLACK, GREY), "reverse video");
	cr_assert(cell_is(0, 8, 'E', BRIGHT_YELLOW, BLACK));
	cr_assert(cell_is(0, 9, 'F', BRIGHT_YELLOW, BLUE));
	cr_assert(cell_is(0, 10, 'G', GREY, BLACK), "24-bit colour is skipped");
	cr_assert(cell_is(0, 11, 'H', WHITE, RED));
}

Test(fbcon, erasing_uses_the_current_background)
{
	start();
	put("\033[44m\033[2J\033[H\033[0mx");
	cr_assert(cell_is(0, 0, 'x', GREY, BLACK));
	cr_assert(cell_is(0, 1, ' ', GREY, BLUE));
	cr_assert(cell_is(49, 159, ' ', GREY, BLUE));
}

Test(fbcon, cursor_and_erase_sequences)
{
	start();
	put("first line\nsecond line\nthird");
	put("\033[2;3HX");	/* row 2, column 3 (1-based) */
	put("\033[1;8H\033[K"); /* erase to end of line */
	put("\033[3;1H\033[2K");
	put("\033[10;10Hmid\033[2Dq\033[Aup\033[2Bdn\033[3Cr");
	cr_assert_str_eq(row_text(0), "first l");
	cr_assert_str_eq(row_text(1), "seXond line");
	cr_assert_str_eq(row_text(2), "");
	cr_assert_str_eq(row_text(8), "           up");
	cr_assert_str_eq(row_text(9), "         mqd");
	cr_assert_str_eq(row_text(10), "             dn   r");
	cr_assert_str_eq(row_text(11), "");
	put("\033[999;999Hz");
	cr_assert(cell_is(49, 159, 'z', GREY, BLACK), "positions are clamped");
	put("\033[2J");
	for (unsigned r = 0; r < 50; r++)
		cr_assert_str_eq(row_text(r), "");
}

Test(fbcon, other_escape_sequences_are_swallowed)
{
	start();
	put("A\033[?25lB\033]0;window title\007C\033]8;;http://x\033\\D\033(BE\033[5nF\0337G");
	put("\033P+q\033\\H\033[1;2;3;4;5;6;8;9;10;11;12;13;14;15;16;17;18;19;20;21mI\033[0m");
	cr_assert_str_eq(row_text(0), "ABCDEFGHI");
}

Test(fbcon, sequences_split_across_writes_still_work)
{
	const char *s = "\033[31mR\033]2;t\033\\\xc3\xa9\033[0mN";

	start();
	for (size_t i = 0; s[i]; i++)
		fbcon_write(s + i, 1);
	cr_assert(cell_is(0, 0, 'R', RED, BLACK));
	cr_assert(cell_is(0, 1, 0xe9, RED, BLACK));
	cr_assert(cell_is(0, 2, 'N', GREY, BLACK));
}

Test(fbcon, utf8_is_decoded_to_the_font_glyphs)
{
	start();
	put("\xc3\xa9\xc3\x9f \xce\xbb \xd0\x96 \xe2\x94\x80\xe2\x96\x88 \xc2\xb0");
	cr_assert(cell_is(0, 0, 0xe9, GREY, BLACK), "e acute");
	cr_assert(cell_is(0, 1, 0xdf, GREY, BLACK), "sharp s");
	cr_assert(cell_is(0, 3, 0x3bb, GREY, BLACK), "Greek lambda");
	cr_assert(cell_is(0, 5, 0x416, GREY, BLACK), "Cyrillic Zhe");
	cr_assert(cell_is(0, 7, 0x2500, GREY, BLACK), "box drawing");
	cr_assert(cell_is(0, 8, 0x2588, GREY, BLACK), "full block");
	cr_assert(cell_is(0, 10, 0xb0, GREY, BLACK), "degree");
}

Test(fbcon, what_cannot_be_shown_becomes_a_question_mark)
{
	start();
	put("\xe4\xb8\xad|");		   /* U+4E2D: not in the font */
	put("\xf0\x9f\x98\x80|");	   /* U+1F600: beyond the BMP */
	put("\xff|\x80|\xc0\x80|");	   /* invalid bytes, overlong */
	put("\xe0\x80\x80|");		   /* overlong 3-byte */
	put("\xed\xa0\x80|");		   /* surrogate */
	put("\xc3z|\xe2\x94");		   /* broken off by a letter, by an escape */
	put("\033[31mr\033[0m|\xc2\x85|"); /* U+0085 is a C1 control: nothing */
	cr_assert_str_eq(row_text(0), "?|?|?|?|??|?|?|?z|?r||");
}

Test(fbcon, log_levels_have_their_colours)
{
	start();
	fbcon_set_colour(FBCON_INFO);
	put("i");
	fbcon_set_colour(FBCON_WARNING);
	put("w");
	fbcon_set_colour(FBCON_ERROR);
	put("e");
	fbcon_set_colour(FBCON_NORMAL);
	put("n");
	cr_assert(cell_is(0, 0, 'i', CYAN, BLACK));
	cr_assert(cell_is(0, 1, 'w', BRIGHT_YELLOW, BLACK));
	cr_assert(cell_is(0, 2, 'e', BRIGHT_RED, BLACK));
	cr_assert(cell_is(0, 3, 'n', GREY, BLACK));
}

Test(fbcon, set_colour_ends_an_unfinished_sequence_and_app_colours)
{
	start();
	put("\033[1;44m\033]0;never ended");
	fbcon_set_colour(FBCON_ERROR);
	put("solo: app killed");
	cr_assert_str_eq(row_text(0), "solo: app killed");
	cr_assert(cell_is(0, 0, 's', BRIGHT_RED, BLACK));
	put("\033[0mx");
	cr_assert(cell_is(0, 16, 'x', GREY, BLACK), "ESC[0m returns to normal");
}

Test(fbcon, clear_blanks_the_screen_and_homes_the_cursor)
{
	start();
	for (int i = 0; i < 60; i++)
		put("some text on a line\n");
	fbcon_clear();
	for (unsigned y = 0; y < fb.height; y++) {
		for (unsigned x = 0; x < fb.width; x++)
			cr_assert_eq(pixel(x, y), BLACK, "pixel %u,%u", x, y);
	}
	put("top");
	cr_assert_str_eq(row_text(0), "top");
	put("\033cx");
	cr_assert_str_eq(row_text(0), "x", "ESC c resets");
}

static void assert_red_pixel(uint32_t format, uint32_t r, uint32_t g, uint32_t b, uint32_t res,
			     uint32_t want)
{
	make_fb(640, 480, format);
	fb.red_mask = r, fb.green_mask = g, fb.blue_mask = b, fb.reserved_mask = res;
	cr_assert_eq(fbcon_init(&fb, fb_pixels), 0);
	put("\033[41m \033[0m"); /* a red background cell */
	cr_assert_eq(pixel(0, 0), want, "format %u: %#x, want %#x", format, pixel(0, 0), want);
}

Test(fbcon, pixels_follow_the_framebuffer_format)
{
	/* Red is 0xaa0000. RGBX/BGRX ignore the masks (the stub fills them in anyway). */
	assert_red_pixel(SOLO_FB_RGBX, 0, 0, 0, 0, 0x0000aa);
	assert_red_pixel(SOLO_FB_BGRX, 0, 0, 0, 0, 0xaa0000);
	assert_red_pixel(SOLO_FB_BITMASK, 0xff000000, 0xff0000, 0xff00, 0xff, 0xaa000000);
	/* 10 bits per channel: 0xaa scales to 0x2aa. */
	assert_red_pixel(SOLO_FB_BITMASK, 0x3ff00000, 0xffc00, 0x3ff, 0xc0000000, 0x2aa00000);
}

Test(fbcon, init_again_restarts_on_the_new_framebuffer)
{
	start();
	put("old screen");
	make_fb(640, 480, SOLO_FB_RGBX);
	cr_assert_eq(fbcon_init(&fb, fb_pixels), 0);
	cr_assert_eq(fbcon_cols(), 80);
	cr_assert_eq(fbcon_rows(), 30);
	cr_assert_str_eq(row_text(0), "");
	put("new");
	cr_assert_str_eq(row_text(0), "new");
}

Test(fbcon, font_tables_map_codepoints_to_glyphs)
{
	cr_assert_geq(fbcon_nfonts, 2);
	for (unsigned i = 0; i < fbcon_nfonts; i++) {
		const struct fbcon_font *f = fbcon_fonts[i];

		for (uint32_t cp = 0x20; cp < 0x7f; cp++)
			cr_assert_lt(fbcon_font_glyph(f, cp), f->nglyphs, "%s: U+%04X", f->name,
				     cp);
		for (uint32_t cp = 0xa0; cp < 0x100; cp++)
			cr_assert_lt(fbcon_font_glyph(f, cp), f->nglyphs, "%s: U+%04X", f->name,
				     cp);
		cr_assert_lt(fbcon_font_glyph(f, 0x2500), f->nglyphs);
		cr_assert_lt(fbcon_font_glyph(f, 0xfffd), f->nglyphs);
		cr_assert_eq(fbcon_font_glyph(f, 0x4e2d), FBCON_NO_GLYPH);
		cr_assert_eq(fbcon_font_glyph(f, 0x1f600), FBCON_NO_GLYPH);
		for (uint32_t k = 1; k < f->nmap; k++)
			cr_assert_lt(f->map[k - 1].codepoint, f->map[k].codepoint, "map sorted");
		if (i > 0)
			cr_assert_gt(f->width * f->height,
				     fbcon_fonts[i - 1]->width * fbcon_fonts[i - 1]->height);
	}
}

/* The cursor: the cell where the next character goes, colours swapped,
 * only while the console asks for it and the app has not hidden it. */
Test(fbcon, the_cursor_shows_where_typing_goes)
{
	start();
	put("ab");
	cr_assert(cell_is(0, 2, ' ', GREY, BLACK), "off after init");
	fbcon_set_cursor(1);
	cr_assert(cell_is(0, 2, ' ', BLACK, GREY), "a grey block after \"ab\"");
	cr_assert(cell_is(0, 1, 'b', GREY, BLACK));
	put("c\n");
	cr_assert(cell_is(0, 2, 'c', GREY, BLACK), "the old cell redrawn plain");
	cr_assert(cell_is(1, 0, ' ', BLACK, GREY), "the cursor moved to the next line");
	put("x\b");
	cr_assert(cell_is(1, 0, 'x', BLACK, GREY), "over a character: the character inverted");
	put("\033[?25l");
	cr_assert(cell_is(1, 0, 'x', GREY, BLACK), "hidden by the app");
	put("\033[?25h");
	cr_assert(cell_is(1, 0, 'x', BLACK, GREY), "shown again");
	put("\033[?1049h\033[?25;1l");
	cr_assert(cell_is(1, 0, 'x', BLACK, GREY), "other private modes change nothing");
	fbcon_set_cursor(0);
	cr_assert(cell_is(1, 0, 'x', GREY, BLACK), "off");
	assert_padding_untouched();
}

Test(fbcon, the_cursor_follows_a_scroll)
{
	start();
	fbcon_set_cursor(1);
	for (unsigned i = 0; i < fbcon_rows(); i++)
		put("line\n");
	unsigned last = fbcon_rows() - 1;
	cr_assert(cell_is(last, 0, ' ', BLACK, GREY), "on the new bottom line");
	for (unsigned r = 0; r < last; r++)
		cr_assert_str_eq(row_text(r), "line", "row %u", r);
	put("abc");
	cr_assert_str_eq(row_text(last - 1), "line");
	cr_assert(cell_is(last, 3, ' ', BLACK, GREY));
	cr_assert(cell_is(last, 2, 'c', GREY, BLACK));
}
