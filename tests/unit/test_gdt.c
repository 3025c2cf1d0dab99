// SPDX-License-Identifier: MIT
/* gdt_entry: segment descriptor encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "x86/cpu.h"

static void test_code64(void **state)
{
	(void)state;
	assert_int_equal(gdt_entry(0xa09b, 0, 0xfffff), 0x00af9b000000ffffULL);
	assert_int_equal(gdt_entry(GDT_CODE64, 0, 0xfffff), 0x00af9b000000ffffULL);
}

static void test_code32(void **state)
{
	(void)state;
	assert_int_equal(gdt_entry(GDT_CODE32, 0, 0xfffff), 0x00cf9b000000ffffULL);
}

static void test_data(void **state)
{
	(void)state;
	assert_int_equal(gdt_entry(0xc093, 0, 0xfffff), 0x00cf93000000ffffULL);
	assert_int_equal(gdt_entry(GDT_DATA, 0, 0xfffff), 0x00cf93000000ffffULL);
}

static void test_tss(void **state)
{
	(void)state;
	assert_int_equal(gdt_entry(GDT_TSS, 0, 0xfffff), 0x000f8b000000ffffULL);
}

static void test_base_split(void **state)
{
	(void)state;
	/* Base bits 0-23 go to descriptor bits 16-39, bits 24-31 to 56-63. */
	assert_int_equal(gdt_entry(GDT_TSS, 0x12345678, 0x67), 0x12008b3456780067ULL);
	assert_int_equal(gdt_entry(0, 0xff000000, 0), 0xff00000000000000ULL);
	assert_int_equal(gdt_entry(0, 0x00ffffff, 0), 0x000000ffffff0000ULL);
}

static void test_limit_split(void **state)
{
	(void)state;
	/* Limit bits 0-15 stay, bits 16-19 go to descriptor bits 48-51; the
	 * limit has only 20 bits. */
	assert_int_equal(gdt_entry(0, 0, 0xabcde), 0x000a00000000bcdeULL);
	assert_int_equal(gdt_entry(0, 0, 0xfff12345), 0x0001000000002345ULL);
}

static void test_flags_split(void **state)
{
	(void)state;
	/* Access byte to bits 40-47, G/DB/L/AVL nibble to 52-55; flag bits
	 * 8-11 (where the limit's top nibble lives) are dropped. */
	assert_int_equal(gdt_entry(0xf0ff, 0, 0), 0x00f0ff0000000000ULL);
	assert_int_equal(gdt_entry(0x0f00, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_code64),      cmocka_unit_test(test_code32),
	    cmocka_unit_test(test_data),        cmocka_unit_test(test_tss),
	    cmocka_unit_test(test_base_split),  cmocka_unit_test(test_limit_split),
	    cmocka_unit_test(test_flags_split),
	};

	return cmocka_run_group_tests_name("gdt", tests, NULL, NULL);
}
