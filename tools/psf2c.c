/*
 * psf2c - turn PSF console fonts into the C tables of the framebuffer
 * console (struct fbcon_font in drivers/fbcon.h). Runs on the build host.
 *
 *   psf2c -o OUT.c FONT.psf...
 *
 * Each FONT.psf is an uncompressed PSF1 or PSF2 file (the Makefile gunzips
 * Debian's /usr/share/consolefonts/<name>.psf.gz first). The output holds,
 * per font: the glyph bitmaps as they are in the file (rows top to bottom,
 * (width + 7) / 8 bytes per row, most significant bit = leftmost pixel), a
 * direct table for U+0000..U+00FF and a sorted (codepoint, glyph) table for
 * the rest of the Basic Multilingual Plane, both from the font's own
 * Unicode table. Multi-codepoint sequences and codepoints above U+FFFF are
 * left out (the console draws one glyph per codepoint); when a codepoint is
 * listed for two glyphs, the first wins. Then fbcon_fonts[], smallest cell
 * first, and fbcon_nfonts.
 *
 * A font without a Unicode table gets glyph i for U+0000..U+007F only.
 * Exits 1 with "psf2c: FILE: reason" on anything it cannot read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSF1_MAGIC0	0x36
#define PSF1_MAGIC1	0x04
#define PSF1_MODE512	0x01
#define PSF1_MODEHASTAB 0x02
#define PSF1_MODESEQ	0x04
#define PSF1_SEPARATOR	0xffff
#define PSF1_STARTSEQ	0xfffe

#define PSF2_MAGIC	 0x864ab572u
#define PSF2_HAS_UNICODE 0x01
#define PSF2_SEPARATOR	 0xff
#define PSF2_STARTSEQ	 0xfe

#define NO_GLYPH  0xffff
#define MAX_FONTS 8

struct map_entry {
	uint32_t codepoint;
	uint32_t glyph;
};

struct font {
	const char *path;
	uint32_t width, height, row_bytes, nglyphs;
	const uint8_t *bitmaps; /* into the file's bytes */
	uint16_t latin1[256];
	struct map_entry *map; /* codepoints >= 0x100, sorted */
	size_t nmap;
	size_t nalloc;
};

static const char *prog = "psf2c";

static void die(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *buf;

	if (!f)
		die(path, "%s", strerror(errno));
	buf = malloc(cap);
	if (!buf)
		die(path, "out of memory");
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die(path, "out of memory");
		}
	}
	if (ferror(f))
		die(path, "read error");
	fclose(f);
	*len = n;
	return buf;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Records that codepoint cp is drawn with glyph g (first mapping wins). */
static void add_mapping(struct font *f, uint32_t cp, uint32_t g)
{
	if (cp < 256) {
		if (f->latin1[cp] == NO_GLYPH)
			f->latin1[cp] = (uint16_t)g;
		return;
	}
	if (cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff))
		return;
	for (size_t i = 0; i < f->nmap; i++) {
		if (f->map[i].codepoint == cp)
			return;
	}
	if (f->nmap == f->nalloc) {
		f->nalloc = f->nalloc ? 2 * f->nalloc : 256;
		f->map = realloc(f->map, f->nalloc * sizeof(*f->map));
		if (!f->map)
			die(f->path, "out of memory");
	}
	f->map[f->nmap++] = (struct map_entry){cp, g};
}

/* One UTF-8 codepoint at *p (before end); advances *p. -1 when malformed. */
static long utf8_next(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p;
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		n = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		n = 2;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07;
		n = 3;
	} else {
		return -1;
	}
	if (end - s <= n)
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return cp;
}

static void parse_psf1(struct font *f, const uint8_t *buf, size_t len)
{
	uint8_t mode = buf[2];
	const uint8_t *p, *end = buf + len;

	f->width = 8;
	f->height = buf[3];
	f->row_bytes = 1;
	f->nglyphs = mode & PSF1_MODE512 ? 512 : 256;
	if (!f->height || len < 4 + (size_t)f->nglyphs * f->height)
		die(f->path, "truncated PSF1 font");
	f->bitmaps = buf + 4;
	if (!(mode & (PSF1_MODEHASTAB | PSF1_MODESEQ)))
		return;

	p = buf + 4 + (size_t)f->nglyphs * f->height;
	for (uint32_t g = 0; g < f->nglyphs; g++) {
		int in_sequence = 0;

		for (;;) {
			if (end - p < 2)
				die(f->path, "truncated PSF1 unicode table at glyph %u", g);
			unsigned v = p[0] | p[1] << 8;
			p += 2;
			if (v == PSF1_SEPARATOR)
				break;
			if (v == PSF1_STARTSEQ)
				in_sequence = 1;
			else if (!in_sequence)
				add_mapping(f, v, g);
		}
	}
}

static void parse_psf2(struct font *f, const uint8_t *buf, size_t len)
{
	uint32_t version, header, flags, charsize;
	const uint8_t *p, *end = buf + len;

	if (len < 32)
		die(f->path, "truncated PSF2 header");
	version = le32(buf + 4);
	header = le32(buf + 8);
	flags = le32(buf + 12);
	f->nglyphs = le32(buf + 16);
	charsize = le32(buf + 20);
	f->height = le32(buf + 24);
	f->width = le32(buf + 28);
	if (version != 0)
		die(f->path, "PSF2 version %u, only 0 is known", version);
	if (!f->width || !f->height || f->width > 32 || f->height > 64 || !f->nglyphs ||
	    f->nglyphs > 0xfffe)
		die(f->path, "unusable geometry %ux%u, %u glyphs", f->width, f->height, f->nglyphs);
	f->row_bytes = (f->width + 7) / 8;
	if (charsize != f->row_bytes * f->height)
		die(f->path, "glyph size %u does not match %ux%u", charsize, f->width, f->height);
	if (header < 32 || header > len || (len - header) / charsize < f->nglyphs)
		die(f->path, "truncated PSF2 font");
	f->bitmaps = buf + header;
	if (!(flags & PSF2_HAS_UNICODE))
		return;

	p = buf + header + (size_t)f->nglyphs * charsize;
	for (uint32_t g = 0; g < f->nglyphs; g++) {
		int in_sequence = 0;

		for (;;) {
			if (p >= end)
				die(f->path, "truncated PSF2 unicode table at glyph %u", g);
			if (*p == PSF2_SEPARATOR) {
				p++;
				break;
			}
			if (*p == PSF2_STARTSEQ) {
				in_sequence = 1;
				p++;
				continue;
			}
			long cp = utf8_next(&p, end);
			if (cp < 0)
				die(f->path, "bad UTF-8 in the unicode table at glyph %u", g);
			if (!in_sequence)
				add_mapping(f, (uint32_t)cp, g);
		}
	}
}

static int by_codepoint(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;

	return x->codepoint < y->codepoint ? -1 : x->codepoint > y->codepoint;
}

static void load(struct font *f, const char *path)
{
	size_t len;
	uint8_t *buf = read_all(path, &len);
	int has_table;

	memset(f, 0, sizeof(*f));
	f->path = path;
	for (int i = 0; i < 256; i++)
		f->latin1[i] = NO_GLYPH;
	if (len >= 4 && buf[0] == PSF1_MAGIC0 && buf[1] == PSF1_MAGIC1)
		parse_psf1(f, buf, len);
	else if (len >= 4 && le32(buf) == PSF2_MAGIC)
		parse_psf2(f, buf, len);
	else
		die(path, "not a PSF1 or PSF2 font (gunzip .psf.gz files first)");

	has_table = f->nmap > 0;
	for (int i = 0; i < 256 && !has_table; i++)
		has_table = f->latin1[i] != NO_GLYPH;
	if (!has_table) {
		for (uint32_t i = 0; i < 128 && i < f->nglyphs; i++)
			f->latin1[i] = (uint16_t)i;
	}
	if (f->latin1['?'] == NO_GLYPH)
		die(path, "the font has no glyph for '?'");
	qsort(f->map, f->nmap, sizeof(*f->map), by_codepoint);
}

/* A C comment naming the codepoints of glyph g (printable ASCII shown). */
static void glyph_comment(FILE *out, const struct font *f, uint32_t g)
{
	int shown = 0;

	fprintf(out, "/* 0x%03x", g);
	for (int cp = 0; cp < 256 && shown < 3; cp++) {
		if (f->latin1[cp] != g)
			continue;
		if (cp > 0x20 && cp < 0x7f && cp != '/' && cp != '*' && cp != '\\')
			fprintf(out, " '%c'", cp);
		else
			fprintf(out, " U+%04X", cp);
		shown++;
	}
	for (size_t i = 0; i < f->nmap && shown < 3; i++) {
		if (f->map[i].glyph == g) {
			fprintf(out, " U+%04X", f->map[i].codepoint);
			shown++;
		}
	}
	fprintf(out, " */");
}

static void emit(FILE *out, const struct font *f)
{
	char id[32];
	size_t glyph_bytes = (size_t)f->row_bytes * f->height;

	snprintf(id, sizeof(id), "%ux%u", f->width, f->height);
	fprintf(out, "/* %s: %ux%u, %u glyphs, %zu codepoints above U+00FF */\n", f->path, f->width,
		f->height, f->nglyphs, f->nmap);
	fprintf(out, "static const uint8_t bitmaps_%s[%zu] = {\n", id,
		(size_t)f->nglyphs * glyph_bytes);
	for (uint32_t g = 0; g < f->nglyphs; g++) {
		const uint8_t *b = f->bitmaps + g * glyph_bytes;

		fputc('\t', out);
		glyph_comment(out, f, g);
		for (size_t i = 0; i < glyph_bytes; i++)
			fprintf(out, "%s0x%02x,", i % 16 ? " " : "\n\t", b[i]);
		fputc('\n', out);
	}
	fprintf(out, "};\n\nstatic const uint16_t latin1_%s[256] = {", id);
	for (int i = 0; i < 256; i++)
		fprintf(out, "%s0x%04x,", i % 8 ? " " : "\n\t", f->latin1[i]);
	fprintf(out, "\n};\n\nstatic const struct fbcon_font_map map_%s[%zu] = {", id,
		f->nmap ? f->nmap : 1);
	for (size_t i = 0; i < f->nmap; i++)
		fprintf(out, "%s{0x%04x, 0x%04x},", i % 4 ? " " : "\n\t", f->map[i].codepoint,
			f->map[i].glyph);
	fprintf(out, "\n};\n\n");
	fprintf(out,
		"const struct fbcon_font fbcon_font_%s = {\n"
		"\t.name = \"%s\",\n"
		"\t.width = %u,\n\t.height = %u,\n\t.row_bytes = %u,\n\t.nglyphs = %u,\n"
		"\t.bitmaps = bitmaps_%s,\n\t.latin1 = latin1_%s,\n"
		"\t.map = map_%s,\n\t.nmap = %zu,\n};\n\n",
		id, strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path, f->width,
		f->height, f->row_bytes, f->nglyphs, id, id, id, f->nmap);
}

static int by_cell_size(const void *a, const void *b)
{
	const struct font *x = a, *y = b;
	uint32_t ax = x->width * x->height, ay = y->width * y->height;

	return ax < ay ? -1 : ax > ay;
}

int main(int argc, char **argv)
{
	static struct font fonts[MAX_FONTS];
	const char *out_path = NULL;
	int nfonts = 0;
	FILE *out;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out_path = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s -o OUT.c FONT.psf...\n", prog);
			return 1;
		} else if (nfonts == MAX_FONTS) {
			fprintf(stderr, "%s: at most %d fonts\n", prog, MAX_FONTS);
			return 1;
		} else {
			load(&fonts[nfonts++], argv[i]);
		}
	}
	if (!out_path || !nfonts) {
		fprintf(stderr, "usage: %s -o OUT.c FONT.psf...\n", prog);
		return 1;
	}
	qsort(fonts, (size_t)nfonts, sizeof(fonts[0]), by_cell_size);
	for (int i = 1; i < nfonts; i++) {
		if (fonts[i].width == fonts[i - 1].width && fonts[i].height == fonts[i - 1].height)
			die(fonts[i].path, "two fonts of %ux%u", fonts[i].width, fonts[i].height);
	}

	out = fopen(out_path, "w");
	if (!out)
		die(out_path, "%s", strerror(errno));
	fprintf(out, "/* Generated by tools/psf2c from Debian console fonts. Do not edit. */\n"
		     "#include <stdint.h>\n\n#include \"drivers/fbcon.h\"\n\n");
	for (int i = 0; i < nfonts; i++)
		emit(out, &fonts[i]);
	fprintf(out, "const struct fbcon_font *const fbcon_fonts[] = {");
	for (int i = 0; i < nfonts; i++)
		fprintf(out, "\n\t&fbcon_font_%ux%u,", fonts[i].width, fonts[i].height);
	fprintf(out, "\n};\nconst unsigned fbcon_nfonts = %d;\n", nfonts);
	if (fclose(out) != 0)
		die(out_path, "write error");
	return 0;
}
