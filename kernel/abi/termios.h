/*
 * The terminal ioctls and struct termios of Linux x86-64 (asm-generic/
 * termbits.h, ioctls.h), and the generic file ioctls every kind takes.
 */
#pragma once

#include <stdint.h>

#define TCGETS	   0x5401
#define TCSETS	   0x5402
#define TCSETSW	   0x5403
#define TCSETSF	   0x5404
#define TCFLSH	   0x540b
#define TIOCGPGRP  0x540f
#define TIOCSPGRP  0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541b
#define FIONBIO	   0x5421
#define FIONCLEX   0x5450
#define FIOCLEX	   0x5451
#define FIOASYNC   0x5452

#define ICRNL  0000400
#define OPOST  0000001
#define ONLCR  0000004
#define ISIG   0000001
#define ICANON 0000002
#define ECHO   0000010
#define ECHOE  0000020
#define ECHOK  0000040
#define ECHONL 0000100

#define VINTR  0
#define VQUIT  1
#define VERASE 2
#define VKILL  3
#define VEOF   4
#define VTIME  5
#define VMIN   6

#define TCIFLUSH  0
#define TCOFLUSH  1
#define TCIOFLUSH 2

struct linux_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
_Static_assert(sizeof(struct linux_termios) == 36, "struct termios is the kernel's");

struct linux_winsize {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};
_Static_assert(sizeof(struct linux_winsize) == 8, "struct winsize is 8 bytes");
