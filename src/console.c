// SPDX-License-Identifier: MIT
#include "console.h"

#include "err.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A        0x01
#define CONSOLE_GO_ON (-100)

static struct termios saved, raw_mode;
static volatile sig_atomic_t raw_active;
static console_sink_fn *sink;
static void *sink_opaque;
static console_key_fn *cad;
static void *cad_opaque;

void console_set_sink(console_sink_fn *fn, void *opaque)
{
	sink = fn;
	sink_opaque = opaque;
}

void console_set_ctrl_alt_del(console_key_fn *fn, void *opaque)
{
	cad = fn;
	cad_opaque = opaque;
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
	static const int fatal[] = {SIGSEGV, SIGBUS,  SIGILL,  SIGFPE, SIGABRT,
	                            SIGXCPU, SIGXFSZ, SIGTRAP, SIGSYS};
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	atexit(console_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	raw = saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep the host's own newline handling */
	raw_mode = raw;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		raw_active = 1;
}

/* Typed bytes the guest has not taken yet (its receive ring was full). */
static struct {
	uint8_t buf[256];
	size_t off, len;
} pending;

/* Moves @buf (at most 256 bytes) to the pending queue without the Ctrl-A
 * escapes, sends Ctrl-Alt-Del for Ctrl-A d; returns true if the user typed
 * Ctrl-A x. */
static bool filter(const uint8_t *buf, size_t len)
{
	static bool escape;

	pending.off = pending.len = 0;
	for (size_t i = 0; i < len && i < sizeof(pending.buf); i++) {
		if (escape) {
			escape = false;
			if (buf[i] == 'x')
				return true;
			if (buf[i] == 'd' && cad)
				cad(cad_opaque);
			if (buf[i] != CTRL_A)
				continue; /* Ctrl-A Ctrl-A sends one Ctrl-A */
		} else if (buf[i] == CTRL_A && raw_active) {
			escape = true;
			continue;
		}
		pending.buf[pending.len++] = buf[i];
	}
	return false;
}

/* Offers the pending bytes to the sink; true if some are still left. */
static bool deliver(void)
{
	if (sink && pending.off < pending.len)
		pending.off +=
		    sink(sink_opaque, pending.buf + pending.off, pending.len - pending.off);
	return pending.off < pending.len;
}

void console_signals(sigset_t *set)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR2, SIGCONT};

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
}

/* Handles a signal from the signalfd; returns it if mote should stop. */
static int on_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGCONT) {
		if (raw_active)
			tcsetattr(STDIN_FILENO, TCSANOW, &raw_mode); /* after a stop */
		return 0;
	}
	return (int)si.ssi_signo;
}

/* Waits for one event: the VM's stop, a signal, typed bytes, or (while
 * the guest's ring is full) 10 ms; returns CONSOLE_GO_ON or what
 * console_pump returns. */
static int pump_once(int stop_fd, int sfd, bool *stdin_open, bool *waiting)
{
	struct pollfd p[3] = {
	    {.fd = stop_fd, .events = POLLIN},
	    {.fd = sfd, .events = POLLIN},
	    {.fd = *stdin_open && !*waiting ? STDIN_FILENO : -1, .events = POLLIN},
	};
	uint8_t buf[256];
	ssize_t n;
	int sig;

	if (poll(p, 3, *waiting ? 10 : -1) < 0) {
		if (errno == EINTR)
			return CONSOLE_GO_ON;
		warnx_("console: poll failed: %s", strerror(errno));
		return CONSOLE_FAILED;
	}
	if (p[0].revents)
		return 0;
	if (p[1].revents && (sig = on_signal(sfd)))
		return sig;
	if (*waiting) {
		*waiting = deliver();
		return CONSOLE_GO_ON;
	}
	if (!p[2].revents)
		return CONSOLE_GO_ON;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0) {
		*stdin_open = false;
		return CONSOLE_GO_ON;
	}
	if (filter(buf, (size_t)n))
		return CONSOLE_QUIT;
	*waiting = deliver();
	return CONSOLE_GO_ON;
}

int console_pump(int stop_fd)
{
	sigset_t set;
	int sfd;
	bool stdin_open = true, waiting = false;

	console_signals(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		warnx_("console: cannot watch for signals (signalfd: %s)", strerror(errno));
		return CONSOLE_FAILED;
	}
	for (;;) {
		int r = pump_once(stop_fd, sfd, &stdin_open, &waiting);

		if (r != CONSOLE_GO_ON) {
			close(sfd);
			return r;
		}
	}
}
