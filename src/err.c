// SPDX-License-Identifier: MIT
#include "err.h"

#include <stdio.h>
#include <stdlib.h>

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

static void vreport(const char *fmt, va_list ap)
{
	char buf[ERR_MAX + 64];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "mote: %s\n", buf);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	exit(1);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}
