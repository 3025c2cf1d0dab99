// SPDX-License-Identifier: MIT
#include "console.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A 0x01

static struct termios saved;
static volatile sig_atomic_t raw_active;
static console_sink_fn *sink;
static void *sink_opaque;

void console_set_sink(console_sink_fn *fn, void *opaque)
{
	sink = fn;
	sink_opaque = opaque;
}

void console_restore(void)
{
	if (raw_active) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		raw_active = 0;
	}
}

static void fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void console_raw(void)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	atexit(console_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	raw = saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep the host's own newline handling */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		raw_active = 1;
}

/* Passes @buf (at most 256 bytes) to the sink, without the Ctrl-A escapes;
 * returns true if the user typed Ctrl-A x. */
static bool forward(const uint8_t *buf, size_t len)
{
	static bool escape;
	uint8_t out[256];
	size_t n = 0;

	for (size_t i = 0; i < len && i < sizeof(out); i++) {
		if (escape) {
			escape = false;
			if (buf[i] == 'x')
				return true;
			if (buf[i] != CTRL_A)
				continue; /* Ctrl-A Ctrl-A sends one Ctrl-A */
		} else if (buf[i] == CTRL_A && raw_active) {
			escape = true;
			continue;
		}
		out[n++] = buf[i];
	}
	if (sink && n)
		sink(sink_opaque, out, n);
	return false;
}

int console_pump(int stop_fd)
{
	sigset_t set;
	int sfd;
	bool stdin_open = true;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = stop_fd, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		};
		uint8_t buf[256];
		ssize_t n;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (p[0].revents)
			return 0;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				return (int)si.ssi_signo;
		}
		if (!p[2].revents)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0) {
			stdin_open = false;
			continue;
		}
		if (forward(buf, (size_t)n))
			return SIGTERM;
	}
}
