// SPDX-License-Identifier: MIT
#include "log.h"

#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX (ERR_MAX + 256)

static const char *const api_names[] = {
    [LOG_OFF] = "Off",   [LOG_ERROR] = "Error", [LOG_WARN] = "Warning",
    [LOG_INFO] = "Info", [LOG_DEBUG] = "Debug", [LOG_TRACE] = "Trace",
};

/* The level as each line shows it (Firecracker's log lines: "WARN"). */
static const char *const line_names[] = {
    [LOG_OFF] = "OFF",   [LOG_ERROR] = "ERROR", [LOG_WARN] = "WARN",
    [LOG_INFO] = "INFO", [LOG_DEBUG] = "DEBUG", [LOG_TRACE] = "TRACE",
};

/* Under lock: the log file and how its lines look. max_level is also read
 * without it, so that a message above the level costs one load. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static _Atomic int max_level = LOG_OFF;
static bool with_level, with_origin;

int log_parse_level(const char *s, enum log_level *out)
{
	for (int l = LOG_OFF; l <= LOG_TRACE; l++) {
		if (!strcasecmp(s, api_names[l])) {
			*out = (enum log_level)l;
			return 0;
		}
	}
	if (!strcasecmp(s, "Warn")) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

const char *log_level_name(enum log_level l)
{
	return l >= LOG_OFF && l <= LOG_TRACE ? api_names[l] : "?";
}

int log_open_sink(const char *what, const char *path, struct err *e)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO without a reader fails now (ENXIO) instead of
	 * blocking, and a full one later costs a line, never a stall. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return err_set(e, "%s: %s: a FIFO that no process reads", what, path);
	if (fd < 0)
		return err_set(e, "%s: cannot open %s: %m", what, path);
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return err_set(e, "%s: %s: neither a regular file nor a FIFO", what, path);
	}
	if (S_ISFIFO(st.st_mode))
		signal(SIGPIPE, SIG_IGN); /* a reader that leaves costs lines, not mote */
	return fd;
}

int log_open(const char *path, enum log_level level, bool show_level, bool show_origin,
             struct err *e)
{
	int fd = log_open_sink("log", path, e);

	if (fd < 0)
		return -1;
	pthread_mutex_lock(&lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	with_level = show_level;
	with_origin = show_origin;
	atomic_store(&max_level, (int)level);
	pthread_mutex_unlock(&lock);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&lock);
	atomic_store(&max_level, LOG_OFF);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	pthread_mutex_unlock(&lock);
}

/* "2026-12-06T22:00:00.123456Z": UTC, to the microsecond. */
static size_t format_time(char *buf, size_t n)
{
	struct timespec t;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	return len + (size_t)snprintf(buf + len, n - len, ".%06ldZ", t.tv_nsec / 1000);
}

/* Appends @fmt to @buf at @len, up to @n - 2 bytes (room for "\n"). */
static size_t append(char *buf, size_t len, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (len >= n - 2)
		return len;
	va_start(ap, fmt);
	w = vsnprintf(buf + len, n - 1 - len, fmt, ap);
	va_end(ap);
	if (w < 0)
		return len;
	return len + (size_t)w < n - 2 ? len + (size_t)w : n - 2;
}

/* A line per message: a newline inside it becomes a space. */
static void one_line(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' || s[i] == '\r')
			s[i] = ' ';
}

void log_msg(enum log_level level, const char *origin, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t len, start;
	int saved_errno = errno; /* for a %m in @fmt */
	va_list ap;

	if (level == LOG_OFF || (int)level > atomic_load_explicit(&max_level, memory_order_relaxed))
		return;
	pthread_mutex_lock(&lock);
	if (log_fd < 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	len = format_time(line, sizeof(line));
	len = append(line, len, sizeof(line), " [mote]");
	if (with_level)
		len = append(line, len, sizeof(line), " [%s]", line_names[level]);
	if (with_origin)
		len = append(line, len, sizeof(line), "%s[%s]", with_level ? "" : " ", origin);
	len = append(line, len, sizeof(line), " ");
	start = len;
	if (len < sizeof(line) - 2) {
		errno = saved_errno;
		va_start(ap, fmt);
		vsnprintf(line + len, sizeof(line) - 1 - len, fmt, ap);
		va_end(ap);
		len += strlen(line + len);
	}
	one_line(line + start, len - start);
	line[len++] = '\n';
	if (write(log_fd, line, len) != (ssize_t)len)
		metrics_inc(METRIC_logger_missed_log_count);
	pthread_mutex_unlock(&lock);
}
