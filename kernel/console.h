/*
 * console - where the kernel's log and the app's console output go, and
 * where console input comes from: a small registry between the kernel and
 * the drivers. The serial port and the screen register sinks, the serial
 * port (later a keyboard) an input source; the kernel (kprintf, the tty in
 * fs/tty.c) only talks to the registry, so no kernel code names a driver
 * but the boot sequence.
 */
#pragma once

#include <stddef.h>

enum console_colour {
	CONSOLE_NORMAL, /* the app's output */
	CONSOLE_INFO,	/* kernel log lines */
	CONSOLE_ERROR,	/* panics, app kills */
};

struct console_sink {
	const char *name;
	void (*write)(const char *buf, size_t len);
	/* May be NULL. */
	void (*set_colour)(enum console_colour colour);
	/* The text size in characters (TIOCGWINSZ); NULL or 0: unknown. */
	int (*size)(unsigned *cols, unsigned *rows);
	/* Show the cursor (1) or not (0); NULL: the sink has none to show. */
	void (*set_cursor)(int on);
	struct console_sink *next;
};

/*
 * console_register - output goes to sink from now on. With replay, what
 * was logged before (up to 4 KiB: the first boot lines, before the screen
 * existed) is written to it first. Boot time.
 */
void console_register(struct console_sink *sink, int replay);
/* Writes raw bytes to every sink (the app's output; kprintf's lines). */
void console_write(const char *buf, size_t len);
/*
 * console_lock / console_unlock - the sinks are driven by one CPU at a
 * time (LOCK_CONSOLE, innermost: interrupts off while held). The calls
 * here take it around themselves; console_lock around several keeps them
 * together (kprintf's colour and its line). Nests on one CPU: it returns
 * whether it took the lock, which console_unlock is given back. Takes
 * nothing before console_start_locking (early boot, before the CPU's
 * per-CPU data) and after console_stop_locking (a panic, which must
 * print whatever another CPU holds).
 */
int console_lock(void);
void console_unlock(int taken);
void console_start_locking(void);
void console_stop_locking(void);
void console_set_colour(enum console_colour colour);
/* Shows (1) or hides (0) the cursor on every sink that draws one: the
 * console shows it while the app waits for typed input. */
void console_set_cursor(int on);
/* The first sink's text size; 0 when no sink knows one. */
int console_size(unsigned *cols, unsigned *rows);

struct console_input {
	const char *name;
	/* The next received byte (0..255), or -1 when none is waiting. Never
	 * blocks; kernel context, interrupts off. */
	int (*read_byte)(void);
	struct console_input *next;
};

void console_register_input(struct console_input *in);
/* Whether any input source exists (without one, console reads see end of
 * file at once). */
int console_has_input(void);
/* The next byte from any source, or -1. */
int console_read_byte(void);
