// SPDX-License-Identifier: MIT
/* Metrics: JSON lines of deltas grouped as Firecracker's, Prometheus text of
 * totals, a metrics file or FIFO, and missed lines counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "evloop.h"
#include "metrics.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
	(void)state;
	metrics_close();
	metrics_reset();
	return 0;
}

/* Writes one JSON line to a memory stream and parses it back. */
static json_object *json_write_parse(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	assert_non_null(f);
	assert_int_equal(metrics_write_json(f), 0);
	fclose(f);
	assert_true(len > 0 && buf[len - 1] == '\n');
	assert_null(memchr(buf, '\n', len - 1)); /* one line */
	o = json_tokener_parse(buf);
	free(buf);
	assert_non_null(o);
	return o;
}

static uint64_t field(json_object *o, const char *group, const char *name)
{
	json_object *g, *v;

	assert_true(json_object_object_get_ex(o, group, &g));
	assert_true(json_object_object_get_ex(g, name, &v));
	return json_object_get_uint64(v);
}

static void test_json_groups(void **state)
{
	const char *groups[] = {"api_server", "vmm",     "vcpu",    "block", "net",
	                        "vsock",      "entropy", "balloon", "uart",  "logger"};
	json_object *o, *ts;

	(void)state;
	o = json_write_parse();
	assert_true(json_object_object_get_ex(o, "utc_timestamp_ms", &ts));
	assert_true(json_object_get_uint64(ts) > 1600000000000ULL);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		assert_true(json_object_object_get_ex(o, groups[i], NULL));
	assert_int_equal(field(o, "vcpu", "exit_io_in"), 0);
	assert_int_equal(field(o, "logger", "missed_log_count"), 0);
	assert_int_equal(json_object_object_length(o), 1 + sizeof(groups) / sizeof(groups[0]));
	json_object_put(o);
}

static void test_json_deltas(void **state)
{
	json_object *o;

	(void)state;
	metrics_add(METRIC_block_read_bytes, 3);
	metrics_set(METRIC_vmm_kvm_create_vm_us, 250);
	o = json_write_parse();
	assert_int_equal(field(o, "block", "read_bytes"), 3);
	assert_int_equal(field(o, "vmm", "kvm_create_vm_us"), 250);
	json_object_put(o);

	metrics_add(METRIC_block_read_bytes, 2);
	o = json_write_parse();
	assert_int_equal(field(o, "block", "read_bytes"), 2);       /* the delta */
	assert_int_equal(field(o, "vmm", "kvm_create_vm_us"), 250); /* a gauge: its value */
	json_object_put(o);

	o = json_write_parse();
	assert_int_equal(field(o, "block", "read_bytes"), 0);
	json_object_put(o);
	assert_int_equal(metrics_get(METRIC_block_read_bytes), 5); /* totals are kept */
}

static void test_prometheus(void **state)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int lines = 0, samples = 0;

	(void)state;
	metrics_inc(METRIC_vcpu_exit_hlt);
	metrics_add(METRIC_net_tx_bytes_count, 1500);
	assert_int_equal(metrics_write_json(f), 0); /* JSON deltas do not touch totals */
	fclose(f);
	free(buf);
	f = open_memstream(&buf, &len);
	assert_int_equal(metrics_write_prometheus(f), 0);
	fclose(f);
	assert_true(len > 0 && buf[len - 1] == '\n');
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], word[32];
		unsigned long long v;

		lines++;
		if (line[0] == '#') {
			assert_true(!strncmp(line, "# HELP mote_", 12) ||
			            !strncmp(line, "# TYPE mote_", 12));
			if (!strncmp(line, "# TYPE", 6)) {
				assert_int_equal(sscanf(line, "# TYPE %127s %31s", name, word), 2);
				assert_true(!strcmp(word, "counter") || !strcmp(word, "gauge"));
			}
			continue;
		}
		samples++;
		assert_int_equal(sscanf(line, "mote_%127s %llu", name, &v), 2);
		for (char *c = name; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			            *c == '_');
		if (!strcmp(name, "net_tx_bytes_count"))
			assert_int_equal(v, 1500);
		if (!strcmp(name, "vcpu_exit_hlt"))
			assert_int_equal(v, 1);
	}
	assert_int_equal(samples, METRIC_NR);
	assert_int_equal(lines, 3 * METRIC_NR);
	free(buf);
}

static void test_prometheus_gauge(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(metrics_write_prometheus(f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "# TYPE mote_vmm_instance_start_us gauge\n"));
	assert_non_null(strstr(buf, "# TYPE mote_vcpu_exit_io_in counter\n"));
	assert_non_null(strstr(buf, "# HELP mote_vcpu_exit_io_in port reads\n"));
	free(buf);
}

static void test_flush_without_file(void **state)
{
	struct err e = {{0}};

	(void)state;
	assert_int_equal(metrics_flush(&e), -1);
	assert_non_null(strstr(e.msg, "no metrics file"));
}

/* Lines in @path: each one JSON; returns how many, and the last in @last. */
static int file_lines(const char *path, json_object **last)
{
	char line[8192];
	FILE *f = fopen(path, "r");
	int n = 0;

	assert_non_null(f);
	*last = NULL;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (*last)
			json_object_put(*last);
		*last = json_tokener_parse(line);
		assert_non_null(*last);
	}
	fclose(f);
	return n;
}

static void test_file_append(void **state)
{
	char dir[] = "/tmp/mote-metrics-XXXXXX", path[64];
	struct err e = {{0}};
	json_object *o;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.json", dir);
	assert_int_equal(metrics_open(path, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	metrics_add(METRIC_uart_write_count, 3);
	assert_int_equal(metrics_flush(&e), 0);
	metrics_add(METRIC_uart_write_count, 2);
	assert_int_equal(metrics_flush(&e), 0);
	assert_int_equal(file_lines(path, &o), 2);
	assert_int_equal(field(o, "uart", "write_count"), 2);
	json_object_put(o);

	/* Opened again: appended, not truncated. */
	assert_int_equal(metrics_open(path, &e), 0);
	assert_int_equal(metrics_flush(&e), 0);
	assert_int_equal(file_lines(path, &o), 3);
	json_object_put(o);
	metrics_close();
	unlink(path);
	rmdir(dir);
}

static void test_open_bad_path(void **state)
{
	struct err e = {{0}};

	(void)state;
	assert_int_equal(metrics_open("/nonexistent-dir/m.json", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent-dir/m.json"));
	assert_int_equal(metrics_open("/tmp", &e), -1);
	assert_non_null(strstr(e.msg, "/tmp"));
}

static void test_fifo(void **state)
{
	char dir[] = "/tmp/mote-metrics-XXXXXX", path[64], buf[8192];
	struct err e = {{0}};
	json_object *o;
	ssize_t n;
	int rfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);

	/* No reader: refused, naming the FIFO. */
	assert_int_equal(metrics_open(path, &e), -1);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "FIFO"));

	/* With a reader: one line per flush. */
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(metrics_open(path, &e), 0);
	metrics_add(METRIC_net_rx_packets_count, 7);
	assert_int_equal(metrics_flush(&e), 0);
	n = read(rfd, buf, sizeof(buf) - 1);
	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_int_equal(field(o, "net", "rx_packets_count"), 7);
	json_object_put(o);

	/* The reader gone: the line is missed and counted, the counts kept. */
	close(rfd);
	metrics_add(METRIC_net_rx_packets_count, 1);
	assert_int_equal(metrics_flush(&e), -1);
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(metrics_get(METRIC_logger_missed_metrics_count), 1);
	metrics_close();
	unlink(path);
	rmdir(dir);
}

static void test_timer(void **state)
{
	struct evloop l;
	struct err e = {{0}};

	(void)state;
	assert_int_equal(evloop_init(&l, &e), 0);
	assert_int_equal(metrics_start_timer(&l, &e), 0);
	assert_int_equal(evloop_run_once(&l, 0), 0); /* nothing due yet */
	metrics_stop_timer(&l);
	metrics_stop_timer(&l); /* a second stop is a no-op */
	evloop_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_json_groups, setup),
	    cmocka_unit_test_setup(test_json_deltas, setup),
	    cmocka_unit_test_setup(test_prometheus, setup),
	    cmocka_unit_test_setup(test_prometheus_gauge, setup),
	    cmocka_unit_test_setup(test_flush_without_file, setup),
	    cmocka_unit_test_setup(test_file_append, setup),
	    cmocka_unit_test_setup(test_open_bad_path, setup),
	    cmocka_unit_test_setup(test_fifo, setup),
	    cmocka_unit_test_setup(test_timer, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
