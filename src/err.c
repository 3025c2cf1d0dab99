// SPDX-License-Identifier: MIT
#include "err.h"

#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The last message this thread printed, for errors that name it. */
static _Thread_local char last_warning[ERR_MAX];

const char *err_last_warning(void)
{
	return last_warning[0] ? last_warning : "see mote's messages";
}

static void vreport(enum log_level level, const char *fmt, va_list ap)
{
	char buf[ERR_MAX + 64];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	snprintf(last_warning, sizeof(last_warning), "%.*s", ERR_MAX - 1, buf);
	fprintf(stderr, "mote: %s\n", buf);
	log_msg(level, "mote", "%s", buf);
}

static void report(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(level, fmt, ap);
	va_end(ap);
}

static void (*_Atomic die_hook)(const char *msg);

void err_on_die(void (*fn)(const char *msg))
{
	die_hook = fn;
}

void die(const char *fmt, ...)
{
	void (*hook)(const char *) = die_hook;
	char msg[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, "mote", "%s", msg);
	if (hook)
		hook(msg);
	fprintf(stderr, "mote: %s\n", msg);
	exit(EXIT_ERROR);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(LOG_WARN, fmt, ap);
	va_end(ap);
}

int64_t ratelimit_allow(struct ratelimit *rl, uint64_t now_ns)
{
	uint64_t next = atomic_load(&rl->next_ns);

	if (now_ns < next ||
	    !atomic_compare_exchange_strong(&rl->next_ns, &next, now_ns + RATELIMIT_NS)) {
		atomic_fetch_add(&rl->suppressed, 1);
		return -1;
	}
	return (int64_t)atomic_exchange(&rl->suppressed, 0);
}

void warn_limited(struct ratelimit *rl, const char *fmt, ...)
{
	struct timespec t;
	char buf[ERR_MAX];
	int64_t held;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &t);
	held = ratelimit_allow(rl, (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec);
	if (held < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (held)
		report(LOG_WARN, "%s (and %lld more like it held back)", buf, (long long)held);
	else
		report(LOG_WARN, "%s", buf);
}
