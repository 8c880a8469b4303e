/*
 * HID boot keyboard reports (see hidkbd.h).
 */
#include "drivers/hidkbd.h"

#define USAGE_ERROR_ROLLOVER 0x01
#define USAGE_FIRST_KEY	     0x04 /* 0x02, 0x03: POSTFail, ErrorUndefined */
#define USAGE_CAPS_LOCK	     0x39
#define USAGE_SCROLL_LOCK    0x47
#define USAGE_NUM_LOCK	     0x53
#define USAGE_LEFT_CTRL	     0xe0

void hidkbd_init(struct hidkbd *h, struct kbd *kbd)
{
	*h = (struct hidkbd){.kbd = kbd};
}

static int holds(const uint8_t *report, unsigned usage)
{
	for (int i = 2; i < HIDKBD_REPORT; i++) {
		if (report[i] == usage)
			return 1;
	}
	return 0;
}

static int repeats(unsigned usage)
{
	return usage != USAGE_CAPS_LOCK && usage != USAGE_NUM_LOCK && usage != USAGE_SCROLL_LOCK;
}

/* Moves h from its held keys to those of next (a whole 8-byte report). */
static void apply(struct hidkbd *h, const uint8_t *next, uint64_t now)
{
	for (int i = 2; i < HIDKBD_REPORT; i++) {
		unsigned usage = h->held[i];
		if (usage >= USAGE_FIRST_KEY && !holds(next, usage)) {
			kbd_key(h->kbd, usage, 0);
			if (usage == h->repeat_usage)
				h->repeat_usage = 0;
		}
	}
	for (int bit = 0; bit < 8; bit++) {
		unsigned was = h->held[0] >> bit & 1, is = next[0] >> bit & 1;
		if (was != is)
			kbd_key(h->kbd, USAGE_LEFT_CTRL + (unsigned)bit, (int)is);
	}
	for (int i = 2; i < HIDKBD_REPORT; i++) {
		unsigned usage = next[i];
		if (usage < USAGE_FIRST_KEY || holds(h->held, usage))
			continue;
		/* A usage twice in one report is one key: press it once. */
		int seen = 0;
		for (int j = 2; j < i; j++)
			seen |= next[j] == usage;
		if (seen)
			continue;
		kbd_key(h->kbd, usage, 1);
		if (repeats(usage)) {
			h->repeat_usage = usage;
			h->repeat_at = now + HIDKBD_REPEAT_DELAY_NS;
		}
	}
	for (int i = 0; i < HIDKBD_REPORT; i++)
		h->held[i] = next[i];
}

void hidkbd_report(struct hidkbd *h, const uint8_t *report, size_t len, uint64_t now)
{
	uint8_t next[HIDKBD_REPORT] = {0};

	if (len < 3)
		return;
	if (len > HIDKBD_REPORT)
		len = HIDKBD_REPORT;
	for (size_t i = 0; i < len; i++)
		next[i] = report[i];
	if (next[2] == USAGE_ERROR_ROLLOVER)
		return;
	apply(h, next, now);
}

void hidkbd_tick(struct hidkbd *h, uint64_t now)
{
	if (!h->repeat_usage || now < h->repeat_at)
		return;
	kbd_key(h->kbd, h->repeat_usage, 1);
	h->repeat_at += HIDKBD_REPEAT_PERIOD_NS;
	if (h->repeat_at <= now) /* ticked late: no burst of the missed ones */
		h->repeat_at = now + HIDKBD_REPEAT_PERIOD_NS;
}

void hidkbd_release_all(struct hidkbd *h)
{
	static const uint8_t none[HIDKBD_REPORT];

	apply(h, none, 0);
	h->repeat_usage = 0;
}
