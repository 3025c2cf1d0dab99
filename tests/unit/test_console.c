// SPDX-License-Identifier: MIT
/* The host console on a pseudo-terminal: Ctrl-A escapes in raw mode, a slow
 * sink (the guest's full receive ring), stop, signals, and the terminal's
 * restoration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "console.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int master = -1, saved_stdin = -1, stop_fd = -1;
static sigset_t saved_mask;

/* What the sink received, and how it takes bytes. */
static uint8_t got[512];
static size_t nr_got, nr_calls;
static bool slow;                /* one byte per call, none on every third call */
static void (*after_call)(void); /* run after each sink call: the test's next move */

static size_t sink(void *opaque, const uint8_t *buf, size_t len)
{
	size_t n = len;

	assert_ptr_equal(opaque, &nr_got);
	nr_calls++;
	if (slow)
		n = nr_calls % 3 == 0 ? 0 : 1;
	if (n > len)
		n = len;
	assert_true(nr_got + n <= sizeof(got));
	memcpy(got + nr_got, buf, n);
	nr_got += n;
	if (after_call)
		after_call();
	return n;
}

static void type(const char *s)
{
	assert_int_equal(write(master, s, strlen(s)), (ssize_t)strlen(s));
}

static void stop(void)
{
	uint64_t one = 1;

	assert_int_equal(write(stop_fd, &one, sizeof(one)), sizeof(one));
}

/* Sink hooks: the user quits, or the VM stops, after the first byte. */
static void quit_after_first(void)
{
	if (nr_got >= 1) {
		type("\x01x");
		after_call = NULL;
	}
}

static void stop_after_first(void)
{
	if (nr_got >= 1) {
		stop();
		after_call = NULL;
	}
}

static int setup(void **state)
{
	sigset_t set;
	int slave;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return -1;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return -1;
	saved_stdin = dup(STDIN_FILENO);
	if (saved_stdin < 0 || dup2(slave, STDIN_FILENO) < 0)
		return -1;
	close(slave);
	/* As mote does: the stop signals are blocked, console_pump reads them. */
	console_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, &saved_mask);
	stop_fd = eventfd(0, EFD_CLOEXEC);
	nr_got = nr_calls = 0;
	slow = false;
	after_call = NULL;
	console_set_sink(sink, &nr_got);
	/* A hung pump returns SIGALRM (blocked above) instead of hanging. */
	alarm(2);
	return stop_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct timespec now = {0};
	sigset_t set;

	(void)state;
	alarm(0);
	console_restore();
	console_set_sink(NULL, NULL);
	/* Signals a test raised and the pump did not take must not kill us. */
	console_signals(&set);
	while (sigtimedwait(&set, NULL, &now) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	dup2(saved_stdin, STDIN_FILENO);
	close(saved_stdin);
	close(master);
	close(stop_fd);
	return 0;
}

static void assert_got(const char *want, size_t len)
{
	assert_int_equal(nr_got, len);
	assert_memory_equal(got, want, len);
}

static void quit_after_five(void)
{
	if (nr_got >= 5) {
		type("\x01x");
		after_call = NULL;
	}
}

static void test_ctrl_a_escapes(void **state)
{
	(void)state;
	console_raw();
	/* Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A then another key drops both. */
	type("ab\x01\x01"
	     "c\x01zd");
	after_call = quit_after_five;
	assert_int_equal(console_pump(stop_fd), CONSOLE_QUIT);
	assert_got("ab\x01"
	           "cd",
	           5);
}

static void type_x(void)
{
	type("x");
	after_call = NULL;
}

static void test_escape_spans_reads(void **state)
{
	(void)state;
	console_raw();
	/* Ctrl-A ends one read, the x comes in the next. */
	type("a\x01");
	after_call = type_x;
	assert_int_equal(console_pump(stop_fd), CONSOLE_QUIT);
	assert_got("a", 1);
}

static void test_quit_drops_bytes_of_the_same_read(void **state)
{
	(void)state;
	console_raw();
	/* What the code does: the bytes read together with Ctrl-A x are not
	 * offered to the sink (the VM stops anyway). */
	type("ab\x01x");
	assert_int_equal(console_pump(stop_fd), CONSOLE_QUIT);
	assert_int_equal(nr_calls, 0);
}

static void test_ctrl_c_goes_to_the_guest(void **state)
{
	(void)state;
	console_raw();
	/* Raw mode: Ctrl-C is a byte for the guest, not SIGINT. */
	type("\x03");
	after_call = quit_after_first;
	assert_int_equal(console_pump(stop_fd), CONSOLE_QUIT);
	assert_got("\x03", 1);
}

static void stop_after_four(void)
{
	if (nr_got >= 4) {
		stop();
		after_call = NULL;
	}
}

static void test_ctrl_a_is_plain_without_raw_mode(void **state)
{
	int p[2];

	(void)state;
	/* stdin a pipe: console_raw leaves it alone, Ctrl-A is no escape. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	console_raw();
	assert_int_equal(write(p[1], "a\x01xb", 4), 4);
	close(p[1]);
	after_call = stop_after_four;
	assert_int_equal(console_pump(stop_fd), 0);
	assert_got("a\x01xb", 4);
}

#define FIRST  "0123456789ab"
#define SECOND "cdefghijklmn"
static bool typed_second;

static void type_more_then_stop(void)
{
	/* Typed while the sink still takes the first read: the pump must
	 * not read over the bytes it holds. */
	if (nr_got == 4 && !typed_second) {
		type(SECOND);
		typed_second = true;
	}
	if (nr_got == strlen(FIRST SECOND))
		stop();
}

static void test_back_pressure_keeps_every_byte(void **state)
{
	(void)state;
	console_raw();
	slow = true; /* one byte per call, and none on every third */
	typed_second = false;
	type(FIRST);
	after_call = type_more_then_stop;
	assert_int_equal(console_pump(stop_fd), 0);
	assert_got(FIRST SECOND, strlen(FIRST SECOND));
	/* Every refusal was offered again: 2 bytes per 3 calls. */
	assert_true(nr_calls >= strlen(FIRST SECOND) * 3 / 2 - 1);
}

static void test_stop_returns_zero(void **state)
{
	(void)state;
	console_raw();
	stop();
	assert_int_equal(console_pump(stop_fd), 0);
	assert_int_equal(nr_calls, 0);
}

static void test_stop_while_waiting_for_input(void **state)
{
	struct itimerspec soon = {.it_value = {.tv_nsec = 20000000}};
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	(void)state;
	console_raw();
	/* The stop fd becomes readable while the pump sleeps in poll. */
	assert_true(tfd >= 0);
	assert_int_equal(timerfd_settime(tfd, 0, &soon, NULL), 0);
	assert_int_equal(console_pump(tfd), 0);
	assert_int_equal(nr_calls, 0);
	close(tfd);
}

static void test_end_of_input_does_not_stop(void **state)
{
	struct itimerspec soon = {.it_value = {.tv_nsec = 20000000}};
	int p[2], tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	uint64_t expirations;

	(void)state;
	/* stdin ends (a pipe closed): the pump goes on until the stop. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	assert_int_equal(write(p[1], "hi", 2), 2);
	close(p[1]);
	assert_true(tfd >= 0);
	assert_int_equal(timerfd_settime(tfd, 0, &soon, NULL), 0);
	assert_int_equal(console_pump(tfd), 0);
	assert_got("hi", 2);
	/* It was the timer that ended it (the fd does not block). */
	assert_int_equal(read(tfd, &expirations, sizeof(expirations)), sizeof(expirations));
	close(tfd);
}

/* A stop fd that becomes readable in 1 s: a pump that ignores a signal
 * returns 0 then (the SIGALRM watchdog would be ignored too). */
static int backstop(void)
{
	struct itimerspec later = {.it_value = {.tv_sec = 1}};
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	assert_true(tfd >= 0);
	assert_int_equal(timerfd_settime(tfd, 0, &later, NULL), 0);
	return tfd;
}

static void test_termination_signal(void **state)
{
	int tfd = backstop();

	(void)state;
	console_raw();
	assert_int_equal(pthread_kill(pthread_self(), SIGTERM), 0);
	assert_int_equal(console_pump(tfd), SIGTERM);
	close(tfd);
}

static void test_signal_to_the_process(void **state)
{
	int tfd = backstop();

	(void)state;
	console_raw();
	/* Sent to the process, not the thread. */
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_int_equal(console_pump(tfd), SIGHUP);
	close(tfd);
}

static void test_sigcont_reenters_raw_mode(void **state)
{
	struct termios cooked, now;

	(void)state;
	assert_int_equal(tcgetattr(STDIN_FILENO, &cooked), 0);
	console_raw();
	/* After a stop the shell put the terminal back in cooked mode. */
	assert_int_equal(tcsetattr(STDIN_FILENO, TCSANOW, &cooked), 0);
	assert_int_equal(pthread_kill(pthread_self(), SIGCONT), 0);
	type("z\n"); /* a whole line, so cooked mode hands it over too */
	after_call = stop_after_first;
	/* SIGCONT does not stop the pump: the stop does, after the line. */
	assert_int_equal(console_pump(stop_fd), 0);
	assert_int_equal(tcgetattr(STDIN_FILENO, &now), 0);
	assert_false(now.c_lflag & (ICANON | ECHO | ISIG));
	assert_true((now.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR));
	assert_got("z\n", 2);
}

static void assert_same_termios(const struct termios *a, const struct termios *b)
{
	assert_int_equal(a->c_iflag, b->c_iflag);
	assert_int_equal(a->c_oflag, b->c_oflag);
	assert_int_equal(a->c_cflag, b->c_cflag);
	assert_int_equal(a->c_lflag, b->c_lflag);
	assert_memory_equal(a->c_cc, b->c_cc, sizeof(a->c_cc));
	assert_int_equal(cfgetispeed(a), cfgetispeed(b));
	assert_int_equal(cfgetospeed(a), cfgetospeed(b));
}

static void test_restore_gives_back_the_termios(void **state)
{
	struct termios before, raw, after;

	(void)state;
	/* A terminal set up unlike the defaults, so nothing matches by luck. */
	assert_int_equal(tcgetattr(STDIN_FILENO, &before), 0);
	before.c_cc[VINTR] = 0x07;
	before.c_cc[VMIN] = 3;
	before.c_lflag &= ~(tcflag_t)ECHOE;
	before.c_iflag |= IXOFF;
	cfsetspeed(&before, B9600);
	assert_int_equal(tcsetattr(STDIN_FILENO, TCSANOW, &before), 0);
	assert_int_equal(tcgetattr(STDIN_FILENO, &before), 0);
	console_raw();
	assert_int_equal(tcgetattr(STDIN_FILENO, &raw), 0);
	assert_false(raw.c_lflag & (ICANON | ECHO | ISIG));
	assert_int_equal(raw.c_cc[VMIN], 1);
	console_restore();
	assert_int_equal(tcgetattr(STDIN_FILENO, &after), 0);
	assert_same_termios(&after, &before);
}

static void test_restore_is_idempotent(void **state)
{
	struct termios mine, after;

	(void)state;
	console_raw();
	console_restore();
	/* Once restored, a second call leaves the terminal alone. */
	assert_int_equal(tcgetattr(STDIN_FILENO, &mine), 0);
	mine.c_cc[VKILL] = 0x0b;
	assert_int_equal(tcsetattr(STDIN_FILENO, TCSANOW, &mine), 0);
	assert_int_equal(tcgetattr(STDIN_FILENO, &mine), 0);
	console_restore();
	assert_int_equal(tcgetattr(STDIN_FILENO, &after), 0);
	assert_same_termios(&after, &mine);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_ctrl_a_escapes),
	    T(test_escape_spans_reads),
	    T(test_quit_drops_bytes_of_the_same_read),
	    T(test_ctrl_c_goes_to_the_guest),
	    T(test_ctrl_a_is_plain_without_raw_mode),
	    T(test_back_pressure_keeps_every_byte),
	    T(test_stop_returns_zero),
	    T(test_stop_while_waiting_for_input),
	    T(test_end_of_input_does_not_stop),
	    T(test_termination_signal),
	    T(test_signal_to_the_process),
	    T(test_sigcont_reenters_raw_mode),
	    T(test_restore_gives_back_the_termios),
	    T(test_restore_is_idempotent),
	};

	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
