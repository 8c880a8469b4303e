/*
 * Fuzzer for what a USB device sends the keyboard driver: its
 * configuration descriptor (drivers/usbdesc.c) and its input reports
 * (drivers/hidkbd.c into drivers/kbd.c). The input is a device class byte,
 * a length byte n, n bytes of configuration descriptor, then 8-byte
 * reports with a time step each (the byte after each report, in ms).
 *
 * Contracts: the chosen function is of a known kind, with an IN interrupt
 * endpoint of 1..1024 bytes when it is one; reports and repeats never
 * make kbd hold more than KBD_QUEUE bytes, and after every key is let go
 * nothing repeats.
 */
#include <string.h>

#include "drivers/hidkbd.h"
#include "drivers/usbdesc.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usb_function f;
	struct kbd k;
	struct hidkbd h;

	if (size < 2)
		return 0;
	uint8_t device_class = data[0];
	size_t n = data[1];
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	if (!usbdesc_parse_config(data, n, device_class, &f)) {
		FUZZ_ASSERT(f.kind == USB_FN_NONE || f.kind == USB_FN_KEYBOARD ||
			    f.kind == USB_FN_HUB);
		if (f.kind != USB_FN_NONE)
			FUZZ_ASSERT((f.endpoint & 0x80) && f.max_packet >= 1 &&
				    f.max_packet <= 1024);
	}
	data += n;
	size -= n;

	kbd_init(&k);
	hidkbd_init(&h, &k);
	uint64_t now = 0;
	while (size >= HIDKBD_REPORT + 1) {
		hidkbd_report(&h, data, HIDKBD_REPORT, now);
		now += (uint64_t)data[HIDKBD_REPORT] * 1000000;
		hidkbd_tick(&h, now);
		FUZZ_ASSERT(k.len <= KBD_QUEUE);
		if (data[HIDKBD_REPORT] & 1) /* sometimes the app reads */
			while (kbd_read_byte(&k) >= 0)
				;
		data += HIDKBD_REPORT + 1;
		size -= HIDKBD_REPORT + 1;
	}
	hidkbd_release_all(&h);
	unsigned before = k.len;
	hidkbd_tick(&h, now + 10 * HIDKBD_REPEAT_DELAY_NS);
	FUZZ_ASSERT(k.len == before || k.len == KBD_QUEUE);
	return 0;
}
