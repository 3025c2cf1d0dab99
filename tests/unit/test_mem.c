// SPDX-License-Identifier: MIT
/* parse_size, mem_layout, mem_map and guest_ptr. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mem.h"

#include <string.h>

static void assert_size(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;

	if (parse_size(s, &v) != 0)
		fail_msg("parse_size(\"%s\") failed", s);
	if (v != want)
		fail_msg("parse_size(\"%s\") = %llu, want %llu", s, (unsigned long long)v,
		         (unsigned long long)want);
}

static void assert_bad_size(const char *s)
{
	uint64_t v = 0xdeadbeef;

	if (parse_size(s, &v) != -1)
		fail_msg("parse_size(\"%s\") accepted it as %llu", s, (unsigned long long)v);
	assert_int_equal(v, 0xdeadbeef); /* untouched on error */
}

static void test_parse_size_units(void **state)
{
	(void)state;
	assert_size("4096", 4096);
	assert_size("0", 0);
	assert_size("512k", 512 * KiB);
	assert_size("512K", 512 * KiB);
	assert_size("128M", 128 * MiB);
	assert_size("128m", 128 * MiB);
	assert_size("4G", 4 * GiB);
	assert_size("2T", 2048 * GiB);
}

static void test_parse_size_suffixes(void **state)
{
	(void)state;
	assert_size("1GiB", GiB);
	assert_size("1GB", GiB);
	assert_size("256MiB", 256 * MiB);
	assert_size("64KB", 64 * KiB);
}

static void test_parse_size_malformed(void **state)
{
	(void)state;
	assert_bad_size("");
	assert_bad_size("abc");
	assert_bad_size("12X");
	assert_bad_size("-1");
	assert_bad_size("+1");
	assert_bad_size(" 1");
	assert_bad_size("1 G");
	assert_bad_size("1G5");
	assert_bad_size("1Gi");
	assert_bad_size("1GiBx");
	assert_bad_size("M");
	assert_bad_size("0x10");
}

static void test_parse_size_null(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(parse_size(NULL, &v), -1);
	assert_int_equal(v, 7);
}

static void test_parse_size_overflow(void **state)
{
	(void)state;
	assert_bad_size("99999999999999999999T");
	assert_bad_size("99999999999999999999"); /* above UINT64_MAX itself */
	assert_bad_size("16777216T");            /* exactly 2^64 */
	assert_bad_size("17179869184G");         /* exactly 2^64 */
	assert_size("16777215T", 16777215ULL << 40);
	assert_size("18446744073709551615", UINT64_MAX);
}

static void assert_layout_fails(uint64_t size, const char *needle)
{
	struct guest_mem m;
	struct err e;

	memset(e.msg, 0, sizeof(e.msg));
	assert_int_equal(mem_layout(&m, size, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
}

static void test_layout_too_small(void **state)
{
	(void)state;
	assert_layout_fails(MEM_MIN_SIZE - PAGE_SIZE, "too small");
	assert_layout_fails(0, "too small");
}

static void test_layout_too_large(void **state)
{
	(void)state;
	assert_layout_fails(MEM_MAX_SIZE + PAGE_SIZE, "too large");
}

static void test_layout_not_page_multiple(void **state)
{
	(void)state;
	assert_layout_fails(128 * MiB + 1, "multiple of 4 KiB");
	assert_layout_fails(128 * MiB + 2048, "multiple of 4 KiB");
}

static void test_layout_minimum(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, MEM_MIN_SIZE, &e), 0);
	assert_int_equal(m.nr_slots, 1);
	assert_int_equal(m.slots[0].size, MEM_MIN_SIZE);
}

static void test_layout_1g(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, GiB, &e), 0);
	assert_int_equal(m.size, GiB);
	assert_int_equal(m.nr_slots, 1);
	assert_int_equal(m.slots[0].gpa, 0);
	assert_int_equal(m.slots[0].size, GiB);
	assert_null(m.host);
	assert_int_equal(mem_low_end(&m), GiB);
}

static void test_layout_3g_one_slot(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, 3 * GiB, &e), 0);
	assert_int_equal(m.nr_slots, 1);
	assert_int_equal(m.slots[0].size, 3 * GiB);
	assert_int_equal(mem_low_end(&m), MEM_HOLE_START);
}

static void test_layout_4g_two_slots(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, 4 * GiB, &e), 0);
	assert_int_equal(m.size, 4 * GiB);
	assert_int_equal(m.nr_slots, 2);
	assert_int_equal(m.slots[0].gpa, 0);
	assert_int_equal(m.slots[0].size, 3 * GiB);
	assert_int_equal(m.slots[1].gpa, 4 * GiB);
	assert_int_equal(m.slots[1].size, GiB);
	assert_int_equal(mem_low_end(&m), 3 * GiB);
}

static void test_layout_one_page_above_hole(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, 3 * GiB + PAGE_SIZE, &e), 0);
	assert_int_equal(m.nr_slots, 2);
	assert_int_equal(m.slots[1].gpa, MEM_HOLE_END);
	assert_int_equal(m.slots[1].size, PAGE_SIZE);
}

static void map_layout(struct guest_mem *m, uint64_t size)
{
	struct err e;

	assert_int_equal(mem_layout(m, size, &e), 0);
	if (mem_map(m, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_guest_ptr_unmapped(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, 16 * MiB, &e), 0);
	assert_null(guest_ptr(&m, 0x1000, 16));
}

static void test_guest_ptr_small(void **state)
{
	struct guest_mem m;
	uint8_t *p;

	(void)state;
	map_layout(&m, 16 * MiB);
	assert_non_null(m.host);
	assert_ptr_equal(guest_ptr(&m, 0, 1), m.host);
	assert_ptr_equal(guest_ptr(&m, 0x1234, 100), m.host + 0x1234);
	/* The whole of RAM, and the last byte. */
	assert_ptr_equal(guest_ptr(&m, 0, 16 * MiB), m.host);
	assert_ptr_equal(guest_ptr(&m, 16 * MiB - 1, 1), m.host + 16 * MiB - 1);
	/* Zero length inside RAM. */
	assert_ptr_equal(guest_ptr(&m, 16 * MiB - 1, 0), m.host + 16 * MiB - 1);
	/* Memory is usable and reads back zero first. */
	p = guest_ptr(&m, 8 * MiB, 4);
	assert_int_equal(p[0] | p[1] | p[2] | p[3], 0);
	memcpy(p, "mote", 4);
	assert_memory_equal(m.host + 8 * MiB, "mote", 4);
	mem_unmap(&m);
	assert_null(m.host);
}

static void test_guest_ptr_out_of_range(void **state)
{
	struct guest_mem m;

	(void)state;
	map_layout(&m, 16 * MiB);
	/* Crossing the end of RAM by one byte. */
	assert_null(guest_ptr(&m, 16 * MiB - 1, 2));
	assert_null(guest_ptr(&m, 0, 16 * MiB + 1));
	/* Starting at or past the end, even with zero length. */
	assert_null(guest_ptr(&m, 16 * MiB, 0));
	assert_null(guest_ptr(&m, 16 * MiB, 1));
	assert_null(guest_ptr(&m, 4 * GiB, 1));
	/* Lengths that wrap gpa + len around. */
	assert_null(guest_ptr(&m, 1, UINT64_MAX));
	assert_null(guest_ptr(&m, 0x1000, UINT64_MAX - 0xfff));
	assert_null(guest_ptr(&m, UINT64_MAX, 2));
	mem_unmap(&m);
}

static void test_guest_ptr_hole(void **state)
{
	struct guest_mem m;

	(void)state;
	map_layout(&m, 5 * GiB);
	assert_int_equal(m.nr_slots, 2);
	/* Low RAM ends at 3 GiB; the MMIO hole is not RAM. */
	assert_ptr_equal(guest_ptr(&m, 3 * GiB - 8, 8), m.host + 3 * GiB - 8);
	assert_null(guest_ptr(&m, 3 * GiB - 8, 16));
	assert_null(guest_ptr(&m, 3 * GiB, 1));
	assert_null(guest_ptr(&m, 0xfee00000, 4)); /* the local APIC */
	assert_null(guest_ptr(&m, 4 * GiB - 1, 1));
	/* RAM above 4 GiB follows low RAM in the one host mapping. */
	assert_ptr_equal(guest_ptr(&m, 4 * GiB, 1), m.host + 3 * GiB);
	assert_ptr_equal(guest_ptr(&m, 6 * GiB - 4, 4), m.host + 5 * GiB - 4);
	assert_null(guest_ptr(&m, 6 * GiB - 4, 5));
	assert_null(guest_ptr(&m, 6 * GiB, 0));
	/* A range can't span the hole even though the host mapping is contiguous. */
	assert_null(guest_ptr(&m, 3 * GiB - 4096, 2 * GiB));
	mem_unmap(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_size_units),
	    cmocka_unit_test(test_parse_size_suffixes),
	    cmocka_unit_test(test_parse_size_malformed),
	    cmocka_unit_test(test_parse_size_null),
	    cmocka_unit_test(test_parse_size_overflow),
	    cmocka_unit_test(test_layout_too_small),
	    cmocka_unit_test(test_layout_too_large),
	    cmocka_unit_test(test_layout_not_page_multiple),
	    cmocka_unit_test(test_layout_minimum),
	    cmocka_unit_test(test_layout_1g),
	    cmocka_unit_test(test_layout_3g_one_slot),
	    cmocka_unit_test(test_layout_4g_two_slots),
	    cmocka_unit_test(test_layout_one_page_above_hole),
	    cmocka_unit_test(test_guest_ptr_unmapped),
	    cmocka_unit_test(test_guest_ptr_small),
	    cmocka_unit_test(test_guest_ptr_out_of_range),
	    cmocka_unit_test(test_guest_ptr_hole),
	};

	return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
