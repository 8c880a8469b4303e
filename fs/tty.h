/*
 * tty - the console as a file: reads come from the console input sources
 * (kernel/console.h) through the line discipline (fs/ldisc.h), writes go
 * to every console sink. One terminal: fds 0, 1 and 2 at start and every
 * open of /dev/tty, /dev/console, /dev/ttyS0 share its state.
 */
#pragma once

#include "fs/file.h"

/* A new file on the console with flags (O_ACCMODE, O_NONBLOCK). */
int tty_open_console(unsigned flags, struct file **out);
/* The console's file operations (devfs's terminal nodes use them). */
extern const struct file_ops tty_file_ops;
