/*
 * Configuration descriptors (see usbdesc.h).
 */
#include "drivers/usbdesc.h"

#include "kernel/abi/errno.h"

#define DESC_CONFIG    0x02
#define DESC_INTERFACE 0x04
#define DESC_ENDPOINT  0x05

#define CONFIG_LEN    9
#define INTERFACE_LEN 9
#define ENDPOINT_LEN  7

#define HID_SUBCLASS_BOOT  1
#define HID_PROTOCOL_KBD   1
#define EP_DIR_IN	   0x80
#define EP_XFER_MASK	   0x03
#define EP_XFER_INTERRUPT  0x03
#define EP_MAX_PACKET_MASK 0x07ff
#define EP_MAX_PACKET	   1024 /* more is not a valid USB packet size */

int usbdesc_parse_config(const uint8_t *config, size_t len, uint8_t device_class,
			 struct usb_function *out)
{
	enum usb_function_kind current = USB_FN_NONE;
	int seen_interface = 0;
	uint8_t current_interface = 0;

	*out = (struct usb_function){.kind = USB_FN_NONE};
	if (len < CONFIG_LEN || config[0] < CONFIG_LEN || config[1] != DESC_CONFIG)
		return -EINVAL;
	size_t total = (size_t)config[2] | (size_t)config[3] << 8;
	if (total < len)
		len = total;
	out->config_value = config[5];
	for (size_t at = config[0]; at + 2 <= len;) {
		const uint8_t *d = config + at;
		size_t dlen = d[0];
		if (!dlen || at + dlen > len)
			break;
		at += dlen;
		if (d[1] == DESC_INTERFACE && dlen >= INTERFACE_LEN) {
			if (!seen_interface)
				out->first_class = d[5];
			seen_interface = 1;
			current = USB_FN_NONE;
			if (d[3] != 0) /* an alternate setting */
				continue;
			current_interface = d[2];
			if (d[5] == USB_CLASS_HID && d[6] == HID_SUBCLASS_BOOT &&
			    d[7] == HID_PROTOCOL_KBD)
				current = USB_FN_KEYBOARD;
			else if (d[5] == USB_CLASS_HUB || device_class == USB_CLASS_HUB)
				current = USB_FN_HUB;
		} else if (d[1] == DESC_ENDPOINT && dlen >= ENDPOINT_LEN &&
			   current != USB_FN_NONE) {
			uint16_t mps = (uint16_t)((d[4] | d[5] << 8) & EP_MAX_PACKET_MASK);
			if (!(d[2] & EP_DIR_IN) || (d[3] & EP_XFER_MASK) != EP_XFER_INTERRUPT ||
			    !mps || mps > EP_MAX_PACKET)
				continue;
			/* The first usable function of the better kind wins. */
			if (out->kind == USB_FN_NONE ||
			    (out->kind == USB_FN_HUB && current == USB_FN_KEYBOARD)) {
				out->kind = current;
				out->interface = current_interface;
				out->endpoint = d[2];
				out->max_packet = mps;
				out->interval = d[6];
			}
			current = USB_FN_NONE; /* one endpoint per function */
		}
	}
	if (!seen_interface)
		out->first_class = device_class;
	return 0;
}
