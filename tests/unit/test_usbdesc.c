/* Configuration descriptors from devices (drivers/usbdesc.c): a keyboard,
 * a hub, a composite keyboard+mouse, storage, and lies. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/usbdesc.h"
#include "kernel/abi/errno.h"

/* QEMU's usb-kbd: one HID boot keyboard interface, endpoint 0x81, 8 bytes,
 * every 10 ms, after its HID class descriptor. */
static const uint8_t keyboard[] = {
    9, 2,    34,   0, 1, 1, 0,	  0xa0, 50, /* config 1, 34 bytes */
    9, 4,    0,	   0, 1, 3, 1,	  1,	0,  /* interface 0: HID boot keyboard */
    9, 0x21, 0x11, 1, 0, 1, 0x22, 63,	0,  /* HID */
    7, 5,    0x81, 3, 8, 0, 10,		    /* endpoint 1 IN interrupt */
};

static const uint8_t hub[] = {
    9, 2, 25, 0, 1, 1, 0, 0xe0, 0, 9, 4, 0, 0, 1, 9, 0, 0, 0, 7, 5, 0x81, 3, 2, 0, 255,
};

/* A mouse first, then the keyboard, with an alternate setting between. */
static const uint8_t composite[] = {
    9, 2, 59, 0,  2, 1, 0, 0xa0, 50, 9, 4, 0,	 0, 1, 3, 1,	2, 0, 7, 5,  0x81,
    3, 4, 0,  10, 9, 4, 1, 1,	 1,  3, 1, 1,	 0, 7, 5, 0x83, 3, 8, 0, 10, /* alt 1: ignored */
    9, 4, 1,  0,  1, 3, 1, 1,	 0,  7, 5, 0x82, 3, 8, 0, 10,
};

static const uint8_t storage[] = {
    9,	  2, 32, 0, 1,	  1, 0, 0xc0, 50, 9, 4, 0,    0, 2, 8, 6,
    0x50, 0, 7,	 5, 0x81, 2, 0, 2,    0,  7, 5, 0x02, 2, 0, 2, 0,
};

Test(usbdesc, a_boot_keyboard_is_found_with_its_endpoint)
{
	struct usb_function f;

	cr_assert_eq(usbdesc_parse_config(keyboard, sizeof(keyboard), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_KEYBOARD);
	cr_assert_eq(f.config_value, 1);
	cr_assert_eq(f.interface, 0);
	cr_assert_eq(f.endpoint, 0x81);
	cr_assert_eq(f.max_packet, 8);
	cr_assert_eq(f.interval, 10);
}

Test(usbdesc, a_hub_is_found)
{
	struct usb_function f;

	cr_assert_eq(usbdesc_parse_config(hub, sizeof(hub), USB_CLASS_HUB, &f), 0);
	cr_assert_eq(f.kind, USB_FN_HUB);
	cr_assert_eq(f.endpoint, 0x81);
	cr_assert_eq(f.max_packet, 2);
}

Test(usbdesc, the_keyboard_of_a_composite_device_wins_and_alternates_are_skipped)
{
	struct usb_function f;

	cr_assert_eq(usbdesc_parse_config(composite, sizeof(composite), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_KEYBOARD);
	cr_assert_eq(f.interface, 1);
	cr_assert_eq(f.endpoint, 0x82);
	cr_assert_eq(f.first_class, USB_CLASS_HID);
}

Test(usbdesc, storage_is_nothing_to_drive)
{
	struct usb_function f;

	cr_assert_eq(usbdesc_parse_config(storage, sizeof(storage), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_NONE);
	cr_assert_eq(f.first_class, 8);
}

Test(usbdesc, lengths_that_lie_stay_inside_the_buffer)
{
	struct usb_function f;
	uint8_t bad[sizeof(keyboard)];

	memcpy(bad, keyboard, sizeof(bad));
	cr_assert_eq(usbdesc_parse_config(bad, 8, 0, &f), -EINVAL);
	bad[1] = 4;
	cr_assert_eq(usbdesc_parse_config(bad, sizeof(bad), 0, &f), -EINVAL);
	/* wTotalLength shorter than the endpoint: no keyboard. */
	memcpy(bad, keyboard, sizeof(bad));
	bad[2] = 30;
	cr_assert_eq(usbdesc_parse_config(bad, sizeof(bad), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_NONE);
	/* An interface descriptor claiming 200 bytes ends the walk. */
	memcpy(bad, keyboard, sizeof(bad));
	bad[9] = 200;
	cr_assert_eq(usbdesc_parse_config(bad, sizeof(bad), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_NONE);
	/* A zero-length descriptor ends it too, and an OUT endpoint is no use. */
	bad[9] = 0;
	cr_assert_eq(usbdesc_parse_config(bad, sizeof(bad), 0, &f), 0);
	memcpy(bad, keyboard, sizeof(bad));
	bad[29] = 0x01;
	cr_assert_eq(usbdesc_parse_config(bad, sizeof(bad), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_NONE);
	/* A packet size past USB's 1024 bytes (found by the fuzzer). */
	memcpy(bad, keyboard, sizeof(bad));
	bad[31] = 0xf8;
	bad[32] = 0x07;
	cr_assert_eq(usbdesc_parse_config(bad, sizeof(bad), 0, &f), 0);
	cr_assert_eq(f.kind, USB_FN_NONE);
	/* Every truncation of a good descriptor is safe (ASan watches). */
	for (size_t n = 0; n <= sizeof(keyboard); n++)
		usbdesc_parse_config(keyboard, n, 0, &f);
}
