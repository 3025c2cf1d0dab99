// SPDX-License-Identifier: MIT
/* The MP table, read back the way Linux's mpparse reads it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "x86/acpi.h"
#include "x86/mptable.h"

#include <string.h>

static struct guest_mem mem;

static int setup(void **state)
{
	struct err e;

	(void)state;
	memset(&mem, 0, sizeof(mem));
	if (mem_layout(&mem, 32 * MiB, &e) < 0)
		return -1;
	return mem_map(&mem, &e);
}

static int teardown(void **state)
{
	(void)state;
	mem_unmap(&mem);
	return 0;
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void assert_sums_to_zero(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	assert_int_equal(sum, 0);
}

/* What Linux's smp_scan_config finds in the BIOS area, checked as it
 * checks it; returns the configuration table's address. */
static uint32_t find_config(void)
{
	const uint8_t *bios = guest_ptr(&mem, 0xf0000, 0x10000);
	const uint8_t *f = NULL;

	assert_non_null(bios);
	for (size_t off = 0; off < 0x10000; off += 16)
		if (!memcmp(bios + off, "_MP_", 4) && bios[off + 8] == 1 && bios[off + 9] == 4) {
			assert_null(f); /* exactly one */
			f = bios + off;
		}
	assert_non_null(f);
	assert_sums_to_zero(f, 16);
	assert_int_equal(f[11], 0); /* feature 1: a configuration table, no default config */
	return u32(f + 4);
}

/* Walks the entries; checks the counts per type and the CPUs' IDs. */
static void check_table(int n)
{
	uint32_t gpa = find_config();
	const uint8_t *c = guest_ptr(&mem, gpa, 44), *e;
	int count[5] = {0}, bsp = 0, entries, len;

	assert_non_null(c);
	assert_memory_equal(c, "PCMP", 4);
	assert_int_equal(c[6], 4);
	len = u16(c + 4);
	entries = u16(c + 34);
	c = guest_ptr(&mem, gpa, (uint64_t)len);
	assert_non_null(c);
	assert_sums_to_zero(c, (size_t)len);
	assert_int_equal(u32(c + 36), LAPIC_ADDR);
	assert_memory_equal(c + 8, "MOTE    ", 8);
	e = c + 44;
	for (int i = 0; i < entries; i++) {
		assert_true(e[0] <= 4);
		count[e[0]]++;
		if (e[0] == 0) {
			assert_int_equal(e[1], count[0] - 1); /* LAPIC IDs 0..n-1 in order */
			assert_true(e[3] & 1);
			bsp += (e[3] & 2) != 0;
			if (e[3] & 2)
				assert_int_equal(e[1], 0);
		} else if (e[0] == 1) {
			assert_memory_equal(e + 2, "ISA   ", 6);
		} else if (e[0] == 2) {
			assert_int_equal(e[1], n);
			assert_int_equal(e[3], 1);
			assert_int_equal(u32(e + 4), IOAPIC_ADDR);
		} else if (e[0] == 3 && e[1] == 0) {
			assert_int_equal(e[7], e[5]); /* ISA IRQ i on pin i */
			assert_int_equal(e[6], n);
			assert_int_not_equal(e[5], 2);
		}
		e += e[0] == 0 ? 20 : 8;
	}
	assert_int_equal(e - c, len);
	assert_int_equal(count[0], n);
	assert_int_equal(bsp, 1);
	assert_int_equal(count[1], 1);
	assert_int_equal(count[2], 1);
	assert_int_equal(count[3], 16); /* ExtINT and the 15 ISA IRQs but the cascade */
	assert_int_equal(count[4], 2);  /* LINT0 ExtINT, LINT1 NMI */
}

static void test_sizes(void **state)
{
	static const int ns[] = {1, 2, 8, MPTABLE_MAX_CPUS};
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		memset(guest_ptr(&mem, 0xf0000, 0x10000), 0, 0x10000);
		assert_int_equal(mptable_build(&mem, ns[i], &e), MPTABLE_BASE);
		check_table(ns[i]);
	}
}

static void test_refuses_bad_counts(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(mptable_build(&mem, 0, &e), 0);
	assert_non_null(strstr(e.msg, "--cpus 0: mote's MP table describes 1 to 254 vCPUs"));
	assert_int_equal(mptable_build(&mem, MPTABLE_MAX_CPUS + 1, &e), 0);
	assert_non_null(strstr(e.msg, "--cpus 255: "));
}

/* Below 1 MiB of RAM there is no BIOS area: refused, nothing written. */
static void test_no_room(void **state)
{
	struct guest_mem small;
	struct err e;

	(void)state;
	memset(&small, 0, sizeof(small));
	small.nr_slots = 0; /* no RAM at all */
	assert_int_equal(mptable_build(&small, 2, &e), 0);
	assert_non_null(strstr(e.msg, "no guest RAM at 0xf0000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_refuses_bad_counts),
	    cmocka_unit_test(test_no_room),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
