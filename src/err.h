/* SPDX-License-Identifier: MIT */
/* Error reporting: setup errors carry a message naming the input and reason. */
#ifndef MOTE_ERR_H
#define MOTE_ERR_H

#include <stdarg.h>
#include <stdint.h>

#define ERR_MAX 1024

struct err {
	char msg[ERR_MAX];
};

/* Formats a message into @e (if non-NULL) and returns -1. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mote's exit statuses. */
#define EXIT_GUEST_ENDED 0 /* the guest rebooted or powered off, or the user quit */
#define EXIT_ERROR       1 /* an error, with a message */
#define EXIT_USAGE       2 /* the command line cannot be understood */
/* and 128 + N when stopped by signal N */

/* Prints "mote: <message>" to stderr and exits with status 1; on a thread
 * the die hook claims (a vCPU's), ends the VM through its own stop path
 * instead and ends only that thread. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets the die hook: @fn gets die()'s message first; it returns if die()
 * should go on as usual, or does not return (it ends the thread). */
void err_on_die(void (*fn)(const char *msg));

/* Prints "mote: <message>" to stderr and exits with status 2: for a
 * command line that cannot be understood. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "mote: <message>" to stderr, and logs it at LOG_WARN. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message warnx_ or usage_error printed on this thread (a device's
 * reason for refusing its set-up), or a pointer to the log. */
const char *err_last_warning(void);

/* A kind of message a guest can cause, let out at most once a second. */
struct ratelimit {
	_Atomic uint64_t next_ns;    /* when the next one may go out */
	_Atomic uint64_t suppressed; /* held back since the last one */
};

#define RATELIMIT_NS 1000000000ULL

/* Whether a message of kind @rl may go out at @now_ns: returns how many
 * were held back since the last one (0 or more) if it may, -1 if not. */
int64_t ratelimit_allow(struct ratelimit *rl, uint64_t now_ns);

/* warnx_ for messages a guest can cause: at most one a second of kind @rl,
 * and the next one that goes out says how many were held back. */
void warn_limited(struct ratelimit *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
