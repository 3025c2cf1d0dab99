/* SPDX-License-Identifier: MIT */
/* The logger: mote's messages with a level, to stderr and, when asked, to a file or FIFO. */
#ifndef MOTE_LOG_H
#define MOTE_LOG_H

#include "err.h"

#include <stdbool.h>

/* Firecracker's levels, most severe first. */
enum log_level {
	LOG_OFF,
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

/* Parses a level name as Firecracker's API takes it ("Error", "Warning",
 * "Info", "Debug", "Trace", "Off", any case; "Warn" too); -1 if unknown. */
int log_parse_level(const char *s, enum log_level *out);

/* The name of @l as Firecracker writes it ("Warning"). */
const char *log_level_name(enum log_level l);

/* Sends messages up to @level to @path as well as stderr (a file, appended,
 * created 0600, or a FIFO opened non-blocking, which needs a reader); each
 * line as Firecracker's, in one write(2):
 *   2026-12-06T22:00:00.123456Z [mote] [WARN][src/vcpu.c:42] message
 * the time in UTC to the microsecond, the level (ERROR, WARN, INFO, DEBUG,
 * TRACE) only if @show_level, the origin only if @show_origin. A line that
 * cannot be written counts logger.missed_log_count. Replaces a log already
 * open. -1 with @e naming the path and the reason. */
int log_open(const char *path, enum log_level level, bool show_level, bool show_origin,
             struct err *e);

/* Writes a message at @level from @origin ("file.c:42") to the log file if
 * one is open and @level is within its level; a newline in the message
 * becomes a space. Any thread. */
void log_msg(enum log_level level, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_STR_(x)    #x
#define LOG_STR(x)     LOG_STR_(x)
#define LOG_ORIGIN     __FILE__ ":" LOG_STR(__LINE__)
#define log_info(...)  log_msg(LOG_INFO, LOG_ORIGIN, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, LOG_ORIGIN, __VA_ARGS__)

/* Opens @path for log or metrics lines: a regular file appended (created
 * 0600) or a FIFO, non-blocking, so a FIFO without a reader is refused and
 * a full one loses lines instead of stalling mote; SIGPIPE is then ignored.
 * The fd, or -1 with @e saying "<what>: <path>: <reason>". */
int log_open_sink(const char *what, const char *path, struct err *e);

/* Closes the log file (tests; a new VM in the process). */
void log_close(void);

#endif
