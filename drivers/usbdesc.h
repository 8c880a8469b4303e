/*
 * usbdesc - what a USB device's configuration descriptor offers Solo: a
 * HID keyboard that speaks the boot protocol, a hub, or nothing it drives.
 *
 * The descriptors come from the device, which is not trusted: every length
 * is checked against the buffer, a descriptor shorter than its kind's
 * fixed part is skipped, and a zero bLength ends the walk.
 *
 * Pure C, host-tested; never blocks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define USB_CLASS_HID 0x03
#define USB_CLASS_HUB 0x09

enum usb_function_kind {
	USB_FN_NONE,	 /* nothing Solo drives */
	USB_FN_KEYBOARD, /* HID, boot subclass, keyboard protocol */
	USB_FN_HUB,
};

struct usb_function {
	enum usb_function_kind kind;
	uint8_t config_value; /* for SET_CONFIGURATION */
	uint8_t interface;    /* bInterfaceNumber of the function */
	uint8_t endpoint;     /* its interrupt IN endpoint's bEndpointAddress */
	uint16_t max_packet;  /* that endpoint's packet size in bytes (1..1024) */
	uint8_t interval;     /* its bInterval, as the descriptor says */
	uint8_t first_class;  /* the first interface's class, for the log */
};

/*
 * usbdesc_parse_config - the function Solo drives in the configuration
 * descriptor config (len bytes, with its interfaces and endpoints), of a
 * device whose device descriptor gave device_class. Only alternate setting
 * 0 counts; a keyboard wins over a hub. Returns 0 with *out filled (kind
 * USB_FN_NONE when there is nothing to drive), or -EINVAL when config is
 * not a configuration descriptor.
 */
int usbdesc_parse_config(const uint8_t *config, size_t len, uint8_t device_class,
			 struct usb_function *out);
