// SPDX-License-Identifier: MIT
/* boot_place_initrd: the highest page-aligned spot below the limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/boot.h"

#include <string.h>

#define KERNEL_END (16 * MiB)
#define RAM_TOP    (128 * MiB)
#define NO_LIMIT   UINT64_MAX

static uint64_t place(uint64_t size, uint64_t kernel_end, uint64_t ram_top, uint64_t max_addr)
{
	uint64_t addr = 0xdeadbeef;
	struct err e;

	if (boot_place_initrd(size, kernel_end, ram_top, max_addr, "initrd.cpio", &addr, &e) < 0)
		fail_msg("%s", e.msg);
	/* Wherever it goes, it is page aligned, above the kernel and below the limits. */
	assert_int_equal(addr % PAGE_SIZE, 0);
	assert_true(addr >= kernel_end);
	assert_true(addr + size <= ram_top);
	if (max_addr != NO_LIMIT)
		assert_true(addr + size - 1 <= max_addr || size == 0);
	return addr;
}

static void assert_no_fit(uint64_t size, uint64_t kernel_end, uint64_t ram_top, uint64_t max_addr)
{
	uint64_t addr = 0xdeadbeef;
	struct err e;

	memset(e.msg, 0, sizeof(e.msg));
	assert_int_equal(
	    boot_place_initrd(size, kernel_end, ram_top, max_addr, "initrd.cpio", &addr, &e), -1);
	assert_non_null(strstr(e.msg, "does not fit"));
	assert_non_null(strstr(e.msg, "initrd.cpio"));
	assert_int_equal(addr, 0xdeadbeef);
}

static void test_at_top(void **state)
{
	(void)state;
	assert_int_equal(place(MiB, KERNEL_END, RAM_TOP, NO_LIMIT), RAM_TOP - MiB);
	assert_int_equal(place(PAGE_SIZE, KERNEL_END, RAM_TOP, NO_LIMIT), RAM_TOP - PAGE_SIZE);
}

static void test_page_aligned(void **state)
{
	(void)state;
	/* An odd size is rounded down to the page below the top. */
	assert_int_equal(place(1000, KERNEL_END, RAM_TOP, NO_LIMIT), RAM_TOP - PAGE_SIZE);
	assert_int_equal(place(PAGE_SIZE + 1, KERNEL_END, RAM_TOP, NO_LIMIT),
	                 RAM_TOP - 2 * PAGE_SIZE);
	assert_int_equal(place(0x123456, KERNEL_END, RAM_TOP, NO_LIMIT),
	                 (RAM_TOP - 0x123456) & ~(PAGE_SIZE - 1));
}

static void test_max_addr(void **state)
{
	(void)state;
	/* initrd_addr_max is the highest byte the initrd may occupy. */
	assert_int_equal(place(MiB, KERNEL_END, RAM_TOP, 64 * MiB - 1), 63 * MiB);
	assert_int_equal(place(1000, KERNEL_END, RAM_TOP, 64 * MiB - 1), 64 * MiB - PAGE_SIZE);
	/* A limit above RAM changes nothing. */
	assert_int_equal(place(MiB, KERNEL_END, RAM_TOP, 0x7fffffff), RAM_TOP - MiB);
	assert_int_equal(place(MiB, KERNEL_END, RAM_TOP, RAM_TOP - 1), RAM_TOP - MiB);
	assert_int_equal(place(MiB, KERNEL_END, RAM_TOP, RAM_TOP), RAM_TOP - MiB);
}

static void test_max_addr_unaligned(void **state)
{
	(void)state;
	/* A limit inside a page: the initrd still ends at or below it. */
	assert_int_equal(place(PAGE_SIZE, KERNEL_END, RAM_TOP, 64 * MiB + 100),
	                 64 * MiB - PAGE_SIZE);
}

static void test_exact_fit(void **state)
{
	(void)state;
	assert_int_equal(place(RAM_TOP - KERNEL_END, KERNEL_END, RAM_TOP, NO_LIMIT), KERNEL_END);
	assert_int_equal(place(48 * MiB, KERNEL_END, RAM_TOP, 64 * MiB - 1), KERNEL_END);
}

static void test_kernel_end_rounded_up(void **state)
{
	(void)state;
	/* The page the kernel ends in is the kernel's. */
	assert_int_equal(place(RAM_TOP - KERNEL_END - PAGE_SIZE, KERNEL_END + 1, RAM_TOP, NO_LIMIT),
	                 KERNEL_END + PAGE_SIZE);
	assert_no_fit(RAM_TOP - KERNEL_END, KERNEL_END + 1, RAM_TOP, NO_LIMIT);
	/* One byte short of the unrounded room still does not fit: placed
	 * page-aligned, it would start in the kernel's last page. */
	assert_no_fit(RAM_TOP - KERNEL_END - 1, KERNEL_END + 1, RAM_TOP, NO_LIMIT);
}

static void test_too_big(void **state)
{
	(void)state;
	assert_no_fit(RAM_TOP - KERNEL_END + 1, KERNEL_END, RAM_TOP, NO_LIMIT);
	assert_no_fit(RAM_TOP, KERNEL_END, RAM_TOP, NO_LIMIT);
	assert_no_fit(UINT64_MAX, KERNEL_END, RAM_TOP, NO_LIMIT);
	/* Fits in RAM, not below initrd_addr_max. */
	assert_no_fit(48 * MiB + 1, KERNEL_END, RAM_TOP, 64 * MiB - 1);
}

static void test_kernel_above_top(void **state)
{
	(void)state;
	assert_no_fit(PAGE_SIZE, RAM_TOP + MiB, RAM_TOP, NO_LIMIT);
	assert_no_fit(PAGE_SIZE, RAM_TOP, RAM_TOP, NO_LIMIT);
	/* The kernel ends above initrd_addr_max. */
	assert_no_fit(PAGE_SIZE, 64 * MiB, RAM_TOP, 32 * MiB - 1);
}

static void test_message_sizes(void **state)
{
	uint64_t addr;
	struct err e;

	(void)state;
	assert_int_equal(
	    boot_place_initrd(200 * MiB, KERNEL_END, RAM_TOP, NO_LIMIT, "big.cpio", &addr, &e), -1);
	assert_non_null(strstr(e.msg, "big.cpio"));
	assert_non_null(strstr(e.msg, "200 MiB"));
	assert_non_null(strstr(e.msg, "112 MiB free"));
}

/* What the fuzzer found: an empty initrd whose limit lies below the kernel,
 * and a kernel ending in the last page of the address space. */
static void test_limits_below_the_kernel_refuse_even_empty(void **state)
{
	(void)state;
	assert_no_fit(0, 16 * MiB, RAM_TOP, 8 * MiB);
	assert_no_fit(4096, UINT64_MAX - 100, UINT64_MAX, NO_LIMIT);
	assert_no_fit(0, UINT64_MAX - 100, UINT64_MAX, NO_LIMIT);
	assert_int_equal(place(0, 16 * MiB, RAM_TOP, NO_LIMIT), RAM_TOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_below_the_kernel_refuse_even_empty),
	    cmocka_unit_test(test_at_top),
	    cmocka_unit_test(test_page_aligned),
	    cmocka_unit_test(test_max_addr),
	    cmocka_unit_test(test_max_addr_unaligned),
	    cmocka_unit_test(test_exact_fit),
	    cmocka_unit_test(test_kernel_end_rounded_up),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_kernel_above_top),
	    cmocka_unit_test(test_message_sizes),
	};

	return cmocka_run_group_tests_name("initrd", tests, NULL, NULL);
}
