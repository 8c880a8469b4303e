/*
 * 16550 UART on COM1 (0x3f8), polled, 115200 8N1.
 * serial_init() may be called before anything else in the kernel. When no UART
 * answers (many PCs have none), every call becomes a no-op instead of spinning.
 */
#pragma once

#include <stddef.h>

void serial_init(void);
/* Writes len bytes; "\n" goes out as "\r\n". */
void serial_write(const char *buf, size_t len);
/* True when a UART was found. */
int serial_present(void);
/* The next received byte (0..255), or -1 when none is waiting or there is
 * no UART. Never blocks: callers that wait poll (see kernel/fd.c). */
int serial_read_byte(void);
