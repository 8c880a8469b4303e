/*
 * The PS/2 keyboard behind an i8042 controller (PCs and QEMU's pc and
 * q35 machines; on many PCs the firmware emulates it for a USB keyboard
 * until an OS takes the USB controller). Polled, like the serial port:
 * the console reads it through ps2kbd_read_byte whenever it looks for
 * input. The controller's translation gives scan code set 1, which
 * becomes HID usages for drivers/kbd.h.
 */
#pragma once

/*
 * ps2kbd_init - find the controller, turn its interrupts off (it is
 * polled), keep translation on, enable the keyboard port and set the LEDs.
 * layout is a kbd layout name ("us"). Returns 0, -ENODEV when no
 * controller answers, -EINVAL for an unknown layout (then "us" is used).
 * Boot time, once.
 */
int ps2kbd_init(const char *layout);
/* The next byte typed, or -1. Reads what the controller holds first.
 * Never blocks; interrupts off. */
int ps2kbd_read_byte(void);
