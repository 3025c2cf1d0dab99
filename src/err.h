/* SPDX-License-Identifier: MIT */
/* Error reporting: setup errors carry a message naming the input and reason. */
#ifndef MOTE_ERR_H
#define MOTE_ERR_H

#include <stdarg.h>

#define ERR_MAX 1024

struct err {
	char msg[ERR_MAX];
};

/* Formats a message into @e (if non-NULL) and returns -1. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "mote: <message>" to stderr and exits with status 1. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "mote: <message>" to stderr. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
