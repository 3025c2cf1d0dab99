// SPDX-License-Identifier: MIT
#include "metrics.h"

#include "evloop.h"
#include "log.h"

#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define METRICS_PERIOD_S 60

struct metric_desc {
	const char *group, *name, *help;
};

static const struct metric_desc descs[METRIC_NR] = {
#define METRIC_DESC(g, n, h) [METRIC_##g##_##n] = {#g, #n, h},
    METRICS_LIST(METRIC_DESC)
#undef METRIC_DESC
};

/* The counters metrics_set gives a value to: reported as they are, never as
 * a delta (Firecracker's StoreMetric). */
static const bool gauge[METRIC_NR] = {
    [METRIC_api_server_process_startup_time_us] = true,
    [METRIC_api_server_process_startup_time_cpu_us] = true,
    [METRIC_vmm_instance_start_us] = true,
    [METRIC_vmm_kvm_create_vm_us] = true,
    [METRIC_vmm_guest_boot_done_us] = true,
};

static _Atomic uint64_t counters[METRIC_NR];

/* Under lock: the values the previous JSON line reported, the metrics file. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last[METRIC_NR];
static int out_fd = -1;
static char out_path[PATH_MAX];

static struct ev_source timer = {.fd = -1};

void metrics_add(enum metric m, uint64_t n)
{
	atomic_fetch_add_explicit(&counters[m], n, memory_order_relaxed);
}

void metrics_set(enum metric m, uint64_t v)
{
	atomic_store_explicit(&counters[m], v, memory_order_relaxed);
}

uint64_t metrics_get(enum metric m)
{
	return atomic_load_explicit(&counters[m], memory_order_relaxed);
}

void metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < METRIC_NR; i++) {
		atomic_store(&counters[i], 0);
		last[i] = 0;
	}
	pthread_mutex_unlock(&lock);
}

static uint64_t utc_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* One JSON line (with its "\n") of the values in @snap, or NULL; the caller
 * frees it. Under lock. */
static char *json_line(const uint64_t snap[METRIC_NR])
{
	json_object *root = json_object_new_object();
	char *line = NULL;

	json_object_object_add(root, "utc_timestamp_ms", json_object_new_uint64(utc_ms()));
	for (int i = 0; i < METRIC_NR; i++) {
		uint64_t v = gauge[i] ? snap[i] : snap[i] - last[i];
		json_object *g;

		if (!json_object_object_get_ex(root, descs[i].group, &g)) {
			g = json_object_new_object();
			json_object_object_add(root, descs[i].group, g);
		}
		json_object_object_add(g, descs[i].name, json_object_new_uint64(v));
	}
	if (asprintf(&line, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN)) <
	    0)
		line = NULL;
	json_object_put(root);
	return line;
}

static void snapshot(uint64_t snap[METRIC_NR])
{
	for (int i = 0; i < METRIC_NR; i++)
		snap[i] = metrics_get((enum metric)i);
}

int metrics_write_json(FILE *out)
{
	uint64_t snap[METRIC_NR];
	char *line;
	int ret = -1;

	pthread_mutex_lock(&lock);
	snapshot(snap);
	line = json_line(snap);
	if (line && fputs(line, out) >= 0 && fflush(out) == 0) {
		memcpy(last, snap, sizeof(last));
		ret = 0;
	}
	pthread_mutex_unlock(&lock);
	free(line);
	return ret;
}

int metrics_write_prometheus(FILE *out)
{
	for (int i = 0; i < METRIC_NR; i++) {
		const struct metric_desc *d = &descs[i];

		fprintf(out, "# HELP mote_%s_%s %s\n", d->group, d->name, d->help);
		fprintf(out, "# TYPE mote_%s_%s %s\n", d->group, d->name,
		        gauge[i] ? "gauge" : "counter");
		fprintf(out, "mote_%s_%s %llu\n", d->group, d->name,
		        (unsigned long long)metrics_get((enum metric)i));
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int metrics_open(const char *path, struct err *e)
{
	int fd;

	if (strlen(path) >= sizeof(out_path))
		return err_set(e, "metrics: path too long: %s", path);
	fd = log_open_sink("metrics", path, e);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&lock);
	if (out_fd >= 0)
		close(out_fd);
	out_fd = fd;
	snprintf(out_path, sizeof(out_path), "%s", path);
	pthread_mutex_unlock(&lock);
	return 0;
}

void metrics_close(void)
{
	pthread_mutex_lock(&lock);
	if (out_fd >= 0)
		close(out_fd);
	out_fd = -1;
	pthread_mutex_unlock(&lock);
}

/* Writes @line in one write(2); a failed or short one is a missed line. */
static int write_line(const char *line, struct err *e)
{
	size_t len = strlen(line);
	ssize_t w = write(out_fd, line, len);

	if (w == (ssize_t)len)
		return 0;
	metrics_inc(METRIC_logger_missed_metrics_count);
	if (w < 0)
		return err_set(e, "metrics: cannot write to %s: %m", out_path);
	return err_set(e, "metrics: %s took %zd of %zu bytes", out_path, w, len);
}

int metrics_flush(struct err *e)
{
	uint64_t snap[METRIC_NR];
	char *line;
	int ret = -1;

	pthread_mutex_lock(&lock);
	if (out_fd < 0) {
		pthread_mutex_unlock(&lock);
		return err_set(e, "metrics: no metrics file is open");
	}
	snapshot(snap);
	line = json_line(snap);
	if (!line) {
		metrics_inc(METRIC_logger_missed_metrics_count);
		err_set(e, "metrics: out of memory");
	} else if (write_line(line, e) == 0) {
		memcpy(last, snap, sizeof(last));
		ret = 0;
	}
	pthread_mutex_unlock(&lock);
	free(line);
	return ret;
}

static void on_timer(void *opaque, uint32_t events)
{
	static struct ratelimit rl;
	struct err e;
	uint64_t ticks;
	bool open;

	(void)opaque;
	(void)events;
	if (read(timer.fd, &ticks, sizeof(ticks)) < 0)
		return;
	pthread_mutex_lock(&lock);
	open = out_fd >= 0;
	pthread_mutex_unlock(&lock);
	if (open && metrics_flush(&e) < 0)
		warn_limited(&rl, "%s", e.msg);
}

int metrics_start_timer(struct evloop *l, struct err *e)
{
	struct itimerspec every = {
	    .it_interval = {.tv_sec = METRICS_PERIOD_S},
	    .it_value = {.tv_sec = METRICS_PERIOD_S},
	};
	int fd;

	if (timer.fd >= 0)
		return 0; /* already running */
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, "metrics: timerfd_create: %m");
	if (timerfd_settime(fd, 0, &every, NULL) < 0) {
		err_set(e, "metrics: timerfd_settime: %m");
		close(fd);
		return -1;
	}
	timer = (struct ev_source){.fd = fd, .fn = on_timer};
	if (evloop_add(l, &timer, EPOLLIN) < 0) {
		err_set(e, "metrics: cannot watch the timer: %m");
		close(fd);
		timer.fd = -1;
		return -1;
	}
	return 0;
}

void metrics_stop_timer(struct evloop *l)
{
	if (timer.fd < 0)
		return;
	evloop_del(l, &timer);
	close(timer.fd);
	timer.fd = -1;
}
