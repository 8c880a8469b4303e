/*
 * COM1 16550 driver, polled in both directions. The loopback self-test in
 * serial_init decides whether a UART exists: on machines without one, reads
 * of the port return 0xff and waiting for "transmitter empty" would hang.
 */
#include "drivers/serial.h"

#include "kernel/arch/x86_64/portio.h"

#define COM1	       0x3f8
#define REG_DATA       0
#define REG_IER	       1
#define REG_FCR	       2
#define REG_LCR	       3
#define REG_MCR	       4
#define REG_LSR	       5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define SPIN_LIMIT     100000

static int present;

void serial_init(void)
{
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x80);  /* DLAB: divisor follows */
	outb(COM1 + REG_DATA, 0x01); /* 115200 baud */
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x03); /* 8N1 */
	outb(COM1 + REG_FCR, 0xc7); /* FIFO on, cleared, 14-byte threshold */
	outb(COM1 + REG_MCR, 0x1e); /* loopback for the self-test */
	outb(COM1 + REG_DATA, 0xae);
	present = inb(COM1 + REG_DATA) == 0xae;
	outb(COM1 + REG_MCR, 0x0f); /* normal operation, OUT1/OUT2 on */
}

int serial_present(void)
{
	return present;
}

static void put_byte(char c)
{
	for (int spin = 0; spin < SPIN_LIMIT; spin++) {
		if (inb(COM1 + REG_LSR) & LSR_THR_EMPTY)
			break;
	}
	outb(COM1 + REG_DATA, (unsigned char)c);
}

void serial_write(const char *buf, size_t len)
{
	if (!present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			put_byte('\r');
		put_byte(buf[i]);
	}
}

int serial_read_byte(void)
{
	if (!present || !(inb(COM1 + REG_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + REG_DATA);
}
