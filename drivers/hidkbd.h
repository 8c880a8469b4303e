/*
 * hidkbd - a USB HID keyboard in boot protocol: its 8-byte input reports
 * into key presses and releases for drivers/kbd.h, and key repeat, which a
 * USB keyboard leaves to the host (it reports which keys are down, once,
 * when that changes; SET_IDLE 0 asks for nothing more).
 *
 * A boot report is: the modifier bits (bit i: usage 0xe0 + i, left Ctrl
 * first), a reserved byte, and up to six usages of the other keys held,
 * in any order, 0 for none. Six 0x01 (ErrorRollOver: too many keys at
 * once) mean the keyboard does not know which keys are down: such a report
 * changes nothing.
 *
 * Repeat: the last key pressed that is not a modifier or a lock key is
 * pressed again HIDKBD_REPEAT_DELAY_NS after it went down and then every
 * HIDKBD_REPEAT_PERIOD_NS while it stays down (the PC's typematic
 * defaults). hidkbd_tick produces the repeats that are due; a caller that
 * ticks late gets at most one, not a burst of the time it missed.
 *
 * Pure C: no device, never blocks, host-tested. Times are the kernel's
 * monotonic nanoseconds. Not reentrant: the driver calls it from its poll.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "drivers/kbd.h"

#define HIDKBD_REPORT		8
#define HIDKBD_REPEAT_DELAY_NS	500000000ull /* 500 ms */
#define HIDKBD_REPEAT_PERIOD_NS 33333333ull  /* 30 per second */

struct hidkbd {
	struct kbd *kbd;	     /* where the keys go; shared by keyboards is fine */
	uint8_t held[HIDKBD_REPORT]; /* the last report that counted */
	unsigned repeat_usage;	     /* 0: nothing repeats */
	uint64_t repeat_at;
};

/* A keyboard with nothing held, feeding kbd (not owned). */
void hidkbd_init(struct hidkbd *h, struct kbd *kbd);
/* A report arrived at now: the keys released since the last are released,
 * then the new ones pressed, in report order. A report shorter than 3
 * bytes is ignored; past HIDKBD_REPORT bytes are ignored. */
void hidkbd_report(struct hidkbd *h, const uint8_t *report, size_t len, uint64_t now);
/* The repeat that is due at now, if any. */
void hidkbd_tick(struct hidkbd *h, uint64_t now);
/* The keyboard went away: every key it held is released. */
void hidkbd_release_all(struct hidkbd *h);
