// SPDX-License-Identifier: MIT
/* Snapshot state files (records, CRC, every hostile shape refused) and sparse memory files (only
 * populated non-zero pages written; holes left alone on the way back, for each backend). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/image.h"
#include "config.h"
#include "fc_config.h"
#include "mem.h"
#include "snapshot/memory.h"
#include "snapshot/snapshot.h"
#include "snapshot/stream.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static struct snap *snap_new(void)
{
	struct snap *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

/* A small state: a config, a machine, two device records. */
static void sample(struct snap_writer *w, uint64_t mem_size)
{
	const char *cfg = "{\"boot-source\":{\"kernel_image_path\":\"/k\"},"
	                  "\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":64}}";
	struct snap_machine m = {.mem_size = mem_size, .nr_vcpus = 1};
	uint32_t v = 0x11223344;
	struct err e;

	snap_writer_init(w);
	snap_put(w, SNAP_CONFIG, 0, cfg, strlen(cfg));
	snap_put(w, SNAP_MACHINE, 0, &m, sizeof(m));
	snap_put_device(w, "serial", &v, sizeof(v));
	snap_put_device(w, "virtio-blk0", "abc", 3);
	assert_int_equal(snap_finish(w, &e), 0);
}

static void test_round_trip(void **state)
{
	struct snap_writer w;
	struct snap *s = snap_new();
	struct snap_machine m;
	const uint8_t *data;
	uint64_t len;
	struct err e;

	(void)state;
	sample(&w, 64 * MiB);
	assert_int_equal(w.len % 8, 0);
	assert_int_equal(snap_parse(w.buf, w.len, "t", s, &e), 0);
	assert_int_equal(s->nr, 4);
	assert_int_equal(snap_get_exact(s, SNAP_MACHINE, 0, &m, sizeof(m), &e), 0);
	assert_int_equal(m.mem_size, 64 * MiB);
	assert_int_equal(snap_get_exact(s, SNAP_MACHINE, 0, &m, sizeof(m) - 1, &e), -1);
	assert_non_null(strstr(e.msg, "bytes, not"));
	assert_non_null(snap_get_device(s, "virtio-blk0", &data, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(data, "abc", 3);
	assert_null(snap_get_device(s, "virtio-blk1", &data, &len));
	assert_non_null(snap_get(s, SNAP_CONFIG, 0));
	/* the serial record was not taken */
	assert_int_equal(snap_check_all_used(s, &e), -1);
	assert_non_null(strstr(e.msg, "'serial'"));
	assert_non_null(snap_get_device(s, "serial", &data, &len));
	assert_int_equal(snap_check_all_used(s, &e), 0);
	snap_writer_free(&w);
	free(s);
}

/* Rewrites the END record's CRC after an edit, so that the edit itself is tested. */
static void fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(len - 24));

	memcpy(buf + len - 8, &crc, 4);
}

static void expect_refused(uint8_t *buf, size_t len, const char *want)
{
	struct snap *s = snap_new();
	struct err e;

	if (snap_parse(buf, len, "f", s, &e) == 0)
		fail_msg("accepted, expected '%s'", want);
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
	free(s);
}

static void test_hostile(void **state)
{
	struct snap_writer w;
	uint8_t *b;
	uint64_t huge = 1ULL << 62;
	uint32_t v;

	(void)state;
	sample(&w, 64 * MiB);
	b = malloc(w.len);
	assert_non_null(b);
	for (size_t cut = 0; cut < w.len; cut += 7) { /* every truncation */
		struct snap *s = snap_new();
		struct err e;

		memcpy(b, w.buf, w.len);
		assert_int_equal(snap_parse(b, cut, "f", s, &e), -1);
		free(s);
	}
	memcpy(b, w.buf, w.len);
	expect_refused(b, 8, "not a mote state");
	b[40] ^= 1;
	expect_refused(b, w.len, "CRC mismatch");
	memcpy(b, w.buf, w.len);
	v = 2;
	memcpy(b + 8, &v, 4);
	expect_refused(b, w.len, "version 2");
	memcpy(b, w.buf, w.len);
	memcpy(b + 12, &v, 4);
	expect_refused(b, w.len, "architecture 2");
	memcpy(b, w.buf, w.len);
	memcpy(b + SNAP_HEADER_SIZE + 8, &huge, 8);
	expect_refused(b, w.len, "past the end");
	memcpy(b, w.buf, w.len);
	v = 39;
	memcpy(b + SNAP_HEADER_SIZE, &v, 4);
	fix_crc(b, w.len);
	expect_refused(b, w.len, "unknown record type 39");
	memcpy(b, w.buf, w.len);
	v = 5; /* the END record's length */
	memcpy(b + w.len - 16, &v, 4);
	expect_refused(b, w.len, "END record");
	snap_writer_free(&w);
	free(b);
}

static void test_device_without_name(void **state)
{
	struct snap_writer w;
	struct snap *s = snap_new();
	char name[SNAP_NAME_MAX];
	struct err e;

	(void)state;
	memset(name, 'x', sizeof(name)); /* no NUL */
	snap_writer_init(&w);
	snap_put(&w, SNAP_DEVICE, 0, name, sizeof(name));
	snap_put(&w, SNAP_DEVICE, 0, "ab", 2);
	assert_int_equal(snap_finish(&w, &e), 0);
	assert_int_equal(snap_parse(w.buf, w.len, "f", s, &e), -1);
	assert_non_null(strstr(e.msg, "without a name"));
	snap_writer_free(&w);
	free(s);
}

static void test_too_many_records(void **state)
{
	struct snap_writer w;
	struct snap *s = snap_new();
	struct err e;

	(void)state;
	snap_writer_init(&w);
	for (int i = 0; i <= SNAP_MAX_RECORDS; i++)
		snap_put(&w, SNAP_VCPU_REGS, (uint32_t)i, NULL, 0);
	assert_int_equal(snap_finish(&w, &e), 0);
	assert_int_equal(snap_parse(w.buf, w.len, "f", s, &e), -1);
	assert_non_null(strstr(e.msg, "records"));
	snap_writer_free(&w);
	free(s);
}

/* The configuration record must agree with the machine record. */
static void test_parse_config(void **state)
{
	struct snapshot_file f;
	struct vm_config *c = malloc(sizeof(*c));
	struct snap_writer w;
	uint8_t *b;
	struct err e;

	(void)state;
	assert_non_null(c);
	sample(&w, 64 * MiB);
	b = malloc(w.len);
	memcpy(b, w.buf, w.len);
	fc_config_init(c);
	if (snapshot_parse(b, w.len, "f", &f, c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c->mem_size, 64 * MiB);
	assert_string_equal(c->kernel, "/k"); /* kept, though no such file */
	snapshot_file_free(&f);
	config_free(c);
	snap_writer_free(&w);
	sample(&w, 128 * MiB);
	b = malloc(w.len);
	memcpy(b, w.buf, w.len);
	fc_config_init(c);
	assert_int_equal(snapshot_parse(b, w.len, "f", &f, c, &e), -1);
	assert_non_null(strstr(e.msg, "machine record"));
	snapshot_file_free(&f);
	config_free(c);
	snap_writer_free(&w);
	free(c);
}

static void test_is_zero(void **state)
{
	uint8_t page[4096] = {0};

	(void)state;
	assert_true(mem_is_zero(page, sizeof(page)));
	assert_true(mem_is_zero(page, 0));
	page[4095] = 1;
	assert_false(mem_is_zero(page, sizeof(page)));
	page[4095] = 0;
	page[3] = 1;
	assert_false(mem_is_zero(page, sizeof(page)));
	assert_false(mem_is_zero(page, 5));
}

static void map_mem(struct guest_mem *m, enum mem_backend b, uint64_t size)
{
	struct err e;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	assert_int_equal(mem_layout(m, size, &e), 0);
	m->opts.backend = b;
	assert_int_equal(mem_map(m, &e), 0);
}

static uint64_t allocated(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* Guest RAM with three written pages and one read page: the file holds
 * the three (not the read one, not the rest), and a restore into each
 * backend reads them back without populating anything else. */
static void save_and_load(enum mem_backend from, enum mem_backend to)
{
	char path[] = "/tmp/mote-mem-XXXXXX";
	struct guest_mem a, b;
	volatile uint8_t sink;
	uint64_t bytes = 0;
	struct err e;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	map_mem(&a, from, 64 * MiB);
	memset(a.host + 1 * MiB, 0xaa, PAGE_SIZE);
	memset(a.host + 7 * MiB + 3 * PAGE_SIZE, 0x55, 2 * PAGE_SIZE);
	sink = a.host[20 * MiB]; /* read, never written: zero */
	(void)sink;
	a.host[30 * MiB] = 1; /* written back to zero: not saved */
	a.host[30 * MiB] = 0;
	if (mem_save_file(&a, path, &bytes, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(bytes, 3 * PAGE_SIZE);
	assert_true(allocated(path) <= 64 * 1024); /* the three pages, a file system's grain */
	map_mem(&b, to, 64 * MiB);
	if (mem_load_file(&b, path, &e) < 0)
		fail_msg("%s", e.msg);
	if (b.fd >= 0) /* the memfd got the data and nothing more (before reading it: a read of a
	                  memfd populates) */
		assert_true(lseek(b.fd, 0, SEEK_HOLE) == 0 &&
		            lseek(b.fd, 1 * MiB, SEEK_DATA) == (off_t)(1 * MiB) &&
		            lseek(b.fd, 1 * MiB + PAGE_SIZE, SEEK_DATA) ==
		                (off_t)(7 * MiB + 3 * PAGE_SIZE) &&
		            lseek(b.fd, 7 * MiB + 5 * PAGE_SIZE, SEEK_DATA) < 0);
	assert_memory_equal(b.host + 1 * MiB, a.host + 1 * MiB, PAGE_SIZE);
	assert_memory_equal(b.host + 7 * MiB, a.host + 7 * MiB, 8 * PAGE_SIZE);
	assert_true(mem_is_zero(b.host + 20 * MiB, PAGE_SIZE));
	mem_unmap(&a);
	mem_unmap(&b);
	unlink(path);
}

static void test_memory_anon_to_anon(void **state)
{
	(void)state;
	save_and_load(MEM_ANON, MEM_ANON);
}

static void test_memory_memfd_to_memfd(void **state)
{
	(void)state;
	save_and_load(MEM_MEMFD, MEM_MEMFD);
}

static void test_memory_anon_to_memfd(void **state)
{
	(void)state;
	save_and_load(MEM_ANON, MEM_MEMFD);
}

static void test_memory_file_size_refused(void **state)
{
	char path[] = "/tmp/mote-mem-XXXXXX";
	struct guest_mem a;
	struct err e;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 32 * MiB), 0);
	close(fd);
	map_mem(&a, MEM_ANON, 64 * MiB);
	assert_int_equal(mem_load_file(&a, path, &e), -1);
	assert_non_null(strstr(e.msg, "the VM has"));
	assert_int_equal(mem_load_file(&a, "/no/such/memory", &e), -1);
	assert_non_null(strstr(e.msg, "/no/such/memory"));
	mem_unmap(&a);
	unlink(path);
}

/* A Diff holds exactly the pages of its bitmap, a page that went back to
 * zero as zeros; merged over the Full snapshot before it, the base reads
 * as the memory at the Diff. */
static void test_memory_diff_merge(void **state)
{
	char base[] = "/tmp/mote-base-XXXXXX", diff[] = "/tmp/mote-diff-XXXXXX";
	uint64_t bits[(16 * MiB / PAGE_SIZE + 63) / 64] = {0}, bytes = 0;
	const uint64_t p1 = 10, p2 = 300, p3 = 2000;
	struct guest_mem a, b;
	struct err e;

	(void)state;
	close(mkstemp(base));
	close(mkstemp(diff));
	map_mem(&a, MEM_ANON, 16 * MiB);
	memset(a.host + p1 * PAGE_SIZE, 0xaa, PAGE_SIZE);
	memset(a.host + p2 * PAGE_SIZE, 0x55, PAGE_SIZE);
	if (mem_save_file(&a, base, &bytes, &e) < 0)
		fail_msg("%s", e.msg);
	memset(a.host + p1 * PAGE_SIZE, 0, PAGE_SIZE); /* back to zero */
	memset(a.host + p3 * PAGE_SIZE, 0x77, PAGE_SIZE);
	bits[p1 / 64] |= 1ULL << (p1 % 64);
	bits[p3 / 64] |= 1ULL << (p3 % 64);
	if (mem_save_diff(&a, bits, diff, &bytes, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(bytes, 2 * PAGE_SIZE);
	assert_true(allocated(diff) <= 64 * 1024);
	if (mem_merge_diff(base, diff, &bytes, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(bytes, 2 * PAGE_SIZE);
	map_mem(&b, MEM_ANON, 16 * MiB);
	if (mem_load_file(&b, base, &e) < 0)
		fail_msg("%s", e.msg);
	assert_memory_equal(b.host, a.host, 16 * MiB);
	/* refusals: another VM's file, a missing one; the base is left as it was */
	assert_int_equal(truncate(diff, 8 * MiB), 0);
	assert_int_equal(mem_merge_diff(base, diff, &bytes, &e), -1);
	assert_non_null(strstr(e.msg, "not two memory files of one VM"));
	assert_int_equal(mem_merge_diff(base, "/no/such/diff", &bytes, &e), -1);
	assert_non_null(strstr(e.msg, "/no/such/diff"));
	assert_memory_equal(b.host, a.host, 16 * MiB);
	mem_unmap(&a);
	mem_unmap(&b);
	unlink(base);
	unlink(diff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_device_without_name),
	    cmocka_unit_test(test_too_many_records),
	    cmocka_unit_test(test_parse_config),
	    cmocka_unit_test(test_is_zero),
	    cmocka_unit_test(test_memory_anon_to_anon),
	    cmocka_unit_test(test_memory_memfd_to_memfd),
	    cmocka_unit_test(test_memory_anon_to_memfd),
	    cmocka_unit_test(test_memory_diff_merge),
	    cmocka_unit_test(test_memory_file_size_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
