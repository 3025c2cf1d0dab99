// SPDX-License-Identifier: MIT
/* The LAPIC's 256-bit vector registers in words, as KVM_GET_LAPIC gives them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "x86/irq_report.h"

#include <string.h>

/* Sets vector @v in the 256-bit register at @off of @regs. */
static void set_vector(uint8_t *regs, size_t off, int v)
{
	uint32_t word;

	memcpy(&word, regs + off + 16 * (v / 32), sizeof(word));
	word |= 1U << (v % 32);
	memcpy(regs + off + 16 * (v / 32), &word, sizeof(word));
}

static void test_vectors_in_order(void **state)
{
	uint8_t regs[1024] = {0};
	char out[128];

	(void)state;
	set_vector(regs, 0x200, 0xec);
	set_vector(regs, 0x200, 0x21);
	set_vector(regs, 0x200, 0x20);
	set_vector(regs, 0x100, 0xff); /* another register: not read */
	assert_string_equal(irq_report_vectors(regs, 0x200, out, sizeof(out)), "0x20 0x21 0xec");
	assert_string_equal(irq_report_vectors(regs, 0x100, out, sizeof(out)), "0xff");
}

static void test_no_vector_is_a_dash(void **state)
{
	uint8_t regs[1024] = {0};
	char out[16];

	(void)state;
	/* the words between the eight dwords are not part of the register */
	memset(regs + 0x204, 0xff, 12);
	assert_string_equal(irq_report_vectors(regs, 0x200, out, sizeof(out)), "-");
}

static void test_small_buffer_is_cut_whole(void **state)
{
	uint8_t regs[1024] = {0};
	char out[12];

	(void)state;
	for (int v = 0; v < 256; v++)
		set_vector(regs, 0x180, v);
	/* "0x00 0x01" fits, " 0x02" does not: cut at a whole vector */
	assert_string_equal(irq_report_vectors(regs, 0x180, out, sizeof(out)), "0x00 0x01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_in_order),
	    cmocka_unit_test(test_no_vector_is_a_dash),
	    cmocka_unit_test(test_small_buffer_is_cut_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
