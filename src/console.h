/* SPDX-License-Identifier: MIT */
/* The host terminal: raw mode while the VM runs, restored on every exit path. */
#ifndef MOTE_CONSOLE_H
#define MOTE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* Receives bytes typed on stdin. */
typedef void console_sink_fn(void *opaque, const uint8_t *buf, size_t len);

/* Sets where console_pump delivers stdin bytes (the serial port). */
void console_set_sink(console_sink_fn *fn, void *opaque);

/* Puts stdin in raw mode if it is a terminal, and arranges for it to be
 * restored at exit and on fatal signals. */
void console_raw(void);

/* Restores the terminal (async-signal-safe; idempotent). */
void console_restore(void);

/* Forwards stdin to the sink until @stop_fd is readable or a termination
 * signal arrives; returns the signal number, or 0. Ctrl-A x quits. */
int console_pump(int stop_fd);

#endif
