/* SPDX-License-Identifier: MIT */
/* The host terminal: raw mode while the VM runs, restored on every exit path. */
#ifndef MOTE_CONSOLE_H
#define MOTE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include <signal.h>

/* Takes bytes typed on stdin; returns how many it accepted. */
typedef size_t console_sink_fn(void *opaque, const uint8_t *buf, size_t len);

/* Sets where console_pump delivers stdin bytes (the serial port). */
void console_set_sink(console_sink_fn *fn, void *opaque);

/* Called for a key combination typed at the console. */
typedef void console_key_fn(void *opaque);

/* Sets what Ctrl-A d calls (the keyboard's Ctrl-Alt-Del). */
void console_set_ctrl_alt_del(console_key_fn *fn, void *opaque);

/* Puts stdin in raw mode if it is a terminal, and arranges for it to be
 * restored at exit and on fatal signals. */
void console_raw(void);

/* Restores the terminal (async-signal-safe; idempotent). */
void console_restore(void);

/* Fills @set with the signals that stop mote (SIGCONT re-enters raw mode);
 * they must be blocked in every thread for console_pump to see them. */
void console_signals(sigset_t *set);

/* What console_pump returns besides a signal number or 0. */
#define CONSOLE_QUIT   (-1) /* the user typed Ctrl-A x */
#define CONSOLE_FAILED (-2) /* signals or stdin could not be watched (said why) */

/* Forwards stdin to the sink until @stop_fd is readable (returns 0), a
 * termination signal arrives (returns its number), the user types Ctrl-A x
 * (CONSOLE_QUIT) or the console cannot go on (CONSOLE_FAILED). */
int console_pump(int stop_fd);

#endif
