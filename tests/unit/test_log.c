// SPDX-License-Identifier: MIT
/* The logger: level names, filtering by level, the line's optional level and
 * origin, a file or FIFO, warnings from err.c, and lines it could not write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "log.h"
#include "metrics.h"

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mote-log-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	metrics_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_close();
	unlink(path);
	rmdir(dir);
	return 0;
}

/* The log file's lines, joined; how many in @n. */
static char *read_log(int *n)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t len;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	*n = 0;
	for (size_t i = 0; i < len; i++)
		*n += buf[i] == '\n';
	return buf;
}

static void test_parse_level(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_parse_level("Error", &l), 0);
	assert_int_equal(l, LOG_ERROR);
	assert_int_equal(log_parse_level("warning", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_parse_level("WARN", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_parse_level("iNfO", &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_parse_level("Trace", &l), 0);
	assert_int_equal(l, LOG_TRACE);
	assert_int_equal(log_parse_level("off", &l), 0);
	assert_int_equal(l, LOG_OFF);
	l = LOG_INFO;
	assert_int_equal(log_parse_level("verbose", &l), -1);
	assert_int_equal(log_parse_level("", &l), -1);
	assert_int_equal(log_parse_level("Warnings", &l), -1);
	assert_int_equal(l, LOG_INFO); /* untouched */
}

static void test_level_names(void **state)
{
	enum log_level l;

	(void)state;
	assert_string_equal(log_level_name(LOG_WARN), "Warning");
	assert_string_equal(log_level_name(LOG_ERROR), "Error");
	assert_string_equal(log_level_name(LOG_OFF), "Off");
	for (int i = LOG_OFF; i <= LOG_TRACE; i++) {
		assert_int_equal(log_parse_level(log_level_name((enum log_level)i), &l), 0);
		assert_int_equal(l, i);
	}
}

static void test_filter(void **state)
{
	struct err e = {{0}};
	char *s;
	int n;

	(void)state;
	assert_int_equal(log_open(path, LOG_WARN, true, false, &e), 0);
	log_msg(LOG_ERROR, "a.c:1", "an error");
	log_msg(LOG_WARN, "a.c:2", "a warning");
	log_info("some info");
	log_debug("some debug");
	log_msg(LOG_OFF, "a.c:3", "never");
	s = read_log(&n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(s, "[ERROR] an error\n"));
	assert_non_null(strstr(s, "[WARN] a warning\n"));
	assert_null(strstr(s, "info"));

	/* Off: opened, nothing written. */
	assert_int_equal(log_open(path, LOG_OFF, true, true, &e), 0);
	log_msg(LOG_ERROR, "a.c:4", "not now");
	read_log(&n);
	assert_int_equal(n, 2); /* appended to, never truncated */

	/* Trace: everything. */
	assert_int_equal(log_open(path, LOG_TRACE, true, true, &e), 0);
	log_debug("now debug");
	log_msg(LOG_TRACE, "a.c:5", "and trace");
	read_log(&n);
	assert_int_equal(n, 4);
}

/* The one line an info message makes with @show_level and @show_origin. */
static const char *one_line(bool show_level, bool show_origin)
{
	struct err e = {{0}};
	const char *s;
	int n;

	unlink(path);
	assert_int_equal(log_open(path, LOG_INFO, show_level, show_origin, &e), 0);
	log_msg(LOG_INFO, "src/vcpu.c:42", "hello %d", 7);
	s = read_log(&n);
	assert_int_equal(n, 1);
	return s;
}

static void assert_matches(const char *s, const char *re)
{
	regex_t r;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, s, 0, NULL, 0))
		fail_msg("\"%s\" does not match %s", s, re);
	regfree(&r);
}

#define TIME_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "

static void test_show_level_origin(void **state)
{
	(void)state;
	assert_matches(one_line(true, true),
	               TIME_RE "\\[mote\\] \\[INFO\\]\\[src/vcpu.c:42\\] hello 7\n$");
	assert_matches(one_line(true, false), TIME_RE "\\[mote\\] \\[INFO\\] hello 7\n$");
	assert_matches(one_line(false, true), TIME_RE "\\[mote\\] \\[src/vcpu.c:42\\] hello 7\n$");
	assert_matches(one_line(false, false), TIME_RE "\\[mote\\] hello 7\n$");
}

static void test_one_line_per_message(void **state)
{
	struct err e = {{0}};
	char big[3 * ERR_MAX];
	char *s;
	int n;

	(void)state;
	assert_int_equal(log_open(path, LOG_INFO, false, false, &e), 0);
	log_msg(LOG_INFO, "x", "two\nlines\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_msg(LOG_INFO, "x", "%s", big); /* cut, still one line */
	s = read_log(&n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(s, " two lines \n"));
}

static void test_mode_and_bad_path(void **state)
{
	struct err e = {{0}};
	struct stat st;

	(void)state;
	assert_int_equal(log_open(path, LOG_INFO, false, false, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(log_open("/nonexistent-dir/log", LOG_INFO, false, false, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent-dir/log"));
}

static void test_fifo(void **state)
{
	struct err e = {{0}};
	char buf[512];
	ssize_t n;
	int rfd;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(log_open(path, LOG_INFO, true, false, &e), -1);
	assert_non_null(strstr(e.msg, path));
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(log_open(path, LOG_INFO, true, false, &e), 0);
	log_info("through the fifo");
	n = read(rfd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "[INFO] through the fifo\n"));

	/* The reader gone: the line is lost and counted. */
	close(rfd);
	log_info("to nobody");
	assert_int_equal(metrics_get(METRIC_logger_missed_log_count), 1);
}

static void test_warnings_reach_the_log(void **state)
{
	struct err e = {{0}};
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	char *s;
	int n;

	(void)state;
	assert_int_equal(log_open(path, LOG_WARN, true, true, &e), 0);
	fflush(stderr);
	dup2(null, STDERR_FILENO); /* the stderr copy is test_err's business */
	warnx_("disk %s is read-only", "a.img");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	s = read_log(&n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(s, "[WARN][mote] disk a.img is read-only\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_level),
	    cmocka_unit_test(test_level_names),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_show_level_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_line_per_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_and_bad_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warnings_reach_the_log, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
