// SPDX-License-Identifier: MIT
/* pagetable_build: identity map of the first 4 GiB with 2 MiB pages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "x86/layout.h"
#include "x86/pagetable.h"

#include <string.h>

#define FLAGS     (PT_PRESENT | PT_WRITE)
#define ADDR_MASK 0x000ffffffffff000ULL

static struct guest_mem mem;

static int setup(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&mem, 16 * MiB, &e), 0);
	assert_int_equal(mem_map(&mem, &e), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mem_unmap(&mem);
	return 0;
}

static const uint64_t *table(uint64_t gpa)
{
	const uint64_t *t = guest_ptr(&mem, gpa, PAGE_SIZE);

	assert_non_null(t);
	return t;
}

static uint64_t build(void)
{
	uint64_t cr3 = pagetable_build(&mem);

	assert_int_equal(cr3, BOOT_PML4_ADDR);
	return cr3;
}

static void test_cr3(void **state)
{
	(void)state;
	/* CR3 is page aligned and the table lies in RAM. */
	assert_int_equal(build() & 0xfff, 0);
	assert_non_null(guest_ptr(&mem, BOOT_PML4_ADDR, PAGE_SIZE));
}

static void test_pml4(void **state)
{
	const uint64_t *pml4;

	(void)state;
	pml4 = table(build());
	assert_int_equal(pml4[0], BOOT_PDPT_ADDR | FLAGS);
	for (int i = 1; i < 512; i++)
		assert_int_equal(pml4[i], 0);
}

static void test_pdpt(void **state)
{
	const uint64_t *pml4, *pdpt;

	(void)state;
	pml4 = table(build());
	pdpt = table(pml4[0] & ADDR_MASK);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pdpt[i] & ADDR_MASK, BOOT_PD_ADDR + (uint64_t)i * PAGE_SIZE);
		assert_int_equal(pdpt[i] & ~ADDR_MASK, FLAGS);
	}
	for (int i = 4; i < 512; i++)
		assert_int_equal(pdpt[i], 0);
}

/* Walks the tables the way the MMU does, for a 2 MiB page. */
static uint64_t translate(uint64_t cr3, uint64_t va)
{
	uint64_t e = table(cr3)[(va >> 39) & 511];

	assert_true(e & PT_PRESENT);
	e = table(e & ADDR_MASK)[(va >> 30) & 511];
	assert_true(e & PT_PRESENT);
	assert_false(e & PT_HUGE);
	e = table(e & ADDR_MASK)[(va >> 21) & 511];
	assert_int_equal(e & (PT_PRESENT | PT_WRITE | PT_HUGE), PT_PRESENT | PT_WRITE | PT_HUGE);
	return (e & ADDR_MASK & ~(2 * MiB - 1)) | (va & (2 * MiB - 1));
}

static void test_pd_entries(void **state)
{
	const uint64_t *pd;

	(void)state;
	build();
	pd = guest_ptr(&mem, BOOT_PD_ADDR, 4 * PAGE_SIZE);
	assert_non_null(pd);
	assert_int_equal(pd[0], 0 | FLAGS | PT_HUGE);
	assert_int_equal(pd[1], 2 * MiB | FLAGS | PT_HUGE);
	assert_int_equal(pd[512], GiB | FLAGS | PT_HUGE);
	assert_int_equal(pd[2047], (4 * GiB - 2 * MiB) | FLAGS | PT_HUGE);
}

static void test_identity(void **state)
{
	static const uint64_t addrs[] = {
	    0,       0x1000, BOOT_PML4_ADDR,    0x1000000,  0x1234567,
	    GiB - 1, GiB,    3 * GiB + 0x12345, 0xfee00000, 4 * GiB - 1};
	uint64_t cr3;

	(void)state;
	cr3 = build();
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		assert_int_equal(translate(cr3, addrs[i]), addrs[i]);
}

static void test_overwrites_old_tables(void **state)
{
	uint64_t *pml4;

	(void)state;
	/* Stale bytes where the tables go must not survive as mappings. */
	pml4 = guest_ptr(&mem, BOOT_PML4_ADDR, 6 * PAGE_SIZE);
	assert_non_null(pml4);
	memset(pml4, 0xff, 6 * PAGE_SIZE);
	build();
	assert_int_equal(table(BOOT_PML4_ADDR)[511], 0);
	assert_int_equal(table(BOOT_PDPT_ADDR)[4], 0);
	assert_int_equal(table(BOOT_PDPT_ADDR)[511], 0);
	assert_int_equal(table(BOOT_PD_ADDR + 3 * PAGE_SIZE)[511],
	                 (4 * GiB - 2 * MiB) | FLAGS | PT_HUGE);
}

static void test_unmapped_memory(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	/* Without host memory there is nowhere to write the tables. */
	assert_int_equal(mem_layout(&m, 16 * MiB, &e), 0);
	assert_int_equal(pagetable_build(&m), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_cr3),
	    T(test_pml4),
	    T(test_pdpt),
	    T(test_pd_entries),
	    T(test_identity),
	    T(test_overwrites_old_tables),
	    T(test_unmapped_memory),
	};

	return cmocka_run_group_tests_name("pagetable", tests, NULL, NULL);
}
