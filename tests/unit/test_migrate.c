// SPDX-License-Identifier: MIT
/* Migration streams: destinations parsed, records framed by the sender's own writer and read back
 * by the receiver's parser (through a pipe), and every hostile stream refused with its reason; a
 * zero run clears only the pages the stream wrote. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fc_config.h"
#include "snapshot/migrate.h"
#include "snapshot/snapshot.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM (1u << 20)

static struct guest_mem ram;
static int loads;

static struct guest_mem *build(void *opaque, uint8_t *buf, uint64_t len, struct err *e)
{
	(void)opaque, (void)len;
	free(buf);
	if (ram.host)
		munmap(ram.host, RAM);
	ram.host = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ram.size = RAM;
	if (ram.host == MAP_FAILED)
		return err_set(e, "mmap"), NULL;
	memset(ram.host + 5 * PAGE_SIZE, 0x77, PAGE_SIZE); /* what RAM held before: never touched */
	return &ram;
}

static int load(void *opaque, uint8_t *buf, uint64_t len, struct err *e)
{
	(void)opaque, (void)len, (void)e;
	free(buf);
	loads++;
	return 0;
}

static const struct migrate_sink sink = {NULL, build, load};

/* A pipe with @n records written by migrate_write_record after a header. */
struct stream {
	int p[2];
	uint64_t bytes;
};

static void open_stream(struct stream *s, uint32_t version)
{
	struct {
		char magic[8];
		uint32_t version, arch;
	} h = {.version = version, .arch = SNAP_ARCH};

	memcpy(h.magic, MIGRATE_MAGIC, 8);
	assert_int_equal(pipe2(s->p, O_CLOEXEC), 0);
	assert_true(fcntl(s->p[1], F_SETPIPE_SZ, 1 << 20) > 0);
	assert_int_equal(write(s->p[1], &h, sizeof(h)), (ssize_t)sizeof(h));
	s->bytes = 0;
}

static void put(struct stream *s, uint32_t type, const void *a, size_t alen, const void *b,
                size_t blen)
{
	struct err e;

	assert_int_equal(migrate_write_record(s->p[1], type, a, alen, b, blen, &s->bytes, &e), 0);
}

static int finish(struct stream *s, struct err *e)
{
	int ret;

	close(s->p[1]);
	ret = migrate_receive_fd(s->p[0], &sink, e);
	close(s->p[0]);
	return ret;
}

static void pages(struct stream *s, uint64_t off, uint8_t fill, int n)
{
	uint8_t *buf = malloc((size_t)n * PAGE_SIZE);

	memset(buf, fill, (size_t)n * PAGE_SIZE);
	put(s, MIG_PAGES, &off, 8, buf, (size_t)n * PAGE_SIZE);
	free(buf);
}

static void test_whole_stream(void **state)
{
	struct stream s;
	uint64_t zero[2] = {0, 8};
	struct err e;

	(void)state;
	loads = 0;
	open_stream(&s, MIGRATE_VERSION);
	put(&s, MIG_HELLO, "hello", 5, NULL, 0);
	pages(&s, 0, 0xaa, 2);
	pages(&s, 3 * PAGE_SIZE, 0xbb, 1);
	put(&s, MIG_ZERO, zero, sizeof(zero), NULL, 0); /* pages 0-7: 0, 1 and 3 were written */
	put(&s, MIG_STATE, "state", 5, NULL, 0);
	pages(&s, PAGE_SIZE, 0xcc, 1); /* the final round's pages follow the state */
	put(&s, MIG_END, NULL, 0, NULL, 0);
	if (finish(&s, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(loads, 1);
	assert_int_equal(ram.host[0], 0);
	assert_int_equal(ram.host[PAGE_SIZE], 0xcc);
	assert_int_equal(ram.host[3 * PAGE_SIZE], 0);
	assert_int_equal(ram.host[5 * PAGE_SIZE], 0x77); /* not the stream's: left alone */
}

/* Each hostile stream: the records after HELLO, and the reason expected. */
static void expect(uint32_t version, void (*body)(struct stream *), const char *want)
{
	struct stream s;
	struct err e;

	open_stream(&s, version);
	body(&s);
	assert_int_equal(finish(&s, &e), -1);
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
}

static void b_empty(struct stream *s)
{
	(void)s;
}

static void b_pages_first(struct stream *s)
{
	pages(s, 0, 1, 1);
}

static void b_outside(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	pages(s, RAM, 1, 1);
}

static void b_straddle(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	pages(s, RAM - PAGE_SIZE, 1, 2);
}

static void b_unaligned(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	pages(s, 100, 1, 1);
}

static void b_zero_overflow(struct stream *s)
{
	uint64_t z[2] = {PAGE_SIZE, UINT64_MAX};

	put(s, MIG_HELLO, "h", 1, NULL, 0);
	put(s, MIG_ZERO, z, sizeof(z), NULL, 0);
}

static void b_two_hellos(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	put(s, MIG_HELLO, "h", 1, NULL, 0);
}

static void b_end_early(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	put(s, MIG_END, NULL, 0, NULL, 0);
}

static void b_two_states(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	put(s, MIG_STATE, "s", 1, NULL, 0);
	pages(s, 0, 1, 1); /* the last pages come after the state */
	put(s, MIG_STATE, "s", 1, NULL, 0);
}

static void b_unknown(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	put(s, 99, "x", 1, NULL, 0);
}

static void b_truncated(struct stream *s)
{
	put(s, MIG_HELLO, "h", 1, NULL, 0);
	assert_int_equal(write(s->p[1], "MREC", 4), 4);
}

static void b_bad_crc(struct stream *s)
{
	struct {
		char magic[4];
		uint32_t type;
		uint64_t len;
		uint32_t crc, pad;
	} r = {.type = MIG_HELLO, .len = 4, .crc = 1};

	memcpy(r.magic, "MREC", 4);
	assert_int_equal(write(s->p[1], &r, sizeof(r)), (ssize_t)sizeof(r));
	assert_int_equal(write(s->p[1], "abcd", 4), 4);
}

static void b_huge(struct stream *s)
{
	struct {
		char magic[4];
		uint32_t type;
		uint64_t len;
		uint32_t crc, pad;
	} r = {.type = MIG_PAGES, .len = 1ULL << 40};

	memcpy(r.magic, "MREC", 4);
	assert_int_equal(write(s->p[1], &r, sizeof(r)), (ssize_t)sizeof(r));
}

static void test_hostile(void **state)
{
	(void)state;
	expect(MIGRATE_VERSION + 1, b_empty, "stream version 2");
	expect(MIGRATE_VERSION, b_empty, "the sender closed it");
	expect(MIGRATE_VERSION, b_pages_first, "does not begin with its configuration");
	expect(MIGRATE_VERSION, b_outside, "outside guest RAM");
	expect(MIGRATE_VERSION, b_straddle, "outside guest RAM");
	expect(MIGRATE_VERSION, b_unaligned, "outside guest RAM");
	expect(MIGRATE_VERSION, b_zero_overflow, "outside guest RAM");
	expect(MIGRATE_VERSION, b_two_hellos, "a second configuration");
	expect(MIGRATE_VERSION, b_end_early, "END before the state");
	expect(MIGRATE_VERSION, b_two_states, "a second state");
	expect(MIGRATE_VERSION, b_unknown, "unknown record type 99");
	expect(MIGRATE_VERSION, b_truncated, "the sender closed it");
	expect(MIGRATE_VERSION, b_bad_crc, "CRC mismatch");
	expect(MIGRATE_VERSION, b_huge, "at most");
}

static void test_urls(void **state)
{
	struct migrate_addr a;
	struct err e;

	(void)state;
	assert_int_equal(migrate_parse_url("tcp:127.0.0.1:4444", &a, &e), 0);
	assert_false(a.unix_socket);
	assert_string_equal(a.host, "127.0.0.1");
	assert_string_equal(a.port, "4444");
	assert_int_equal(migrate_parse_url("tcp::4444", &a, &e), 0);
	assert_string_equal(a.host, "");
	assert_int_equal(migrate_parse_url("unix:/run/m.sock", &a, &e), 0);
	assert_true(a.unix_socket);
	assert_string_equal(a.path, "/run/m.sock");
	assert_int_equal(migrate_parse_url("tcp:host", &a, &e), -1);
	assert_int_equal(migrate_parse_url("tcp:h:12x", &a, &e), -1);
	assert_int_equal(migrate_parse_url("udp:h:1", &a, &e), -1);
	assert_int_equal(migrate_parse_url("unix:", &a, &e), -1);
	assert_non_null(strstr(e.msg, "unix:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_stream),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
