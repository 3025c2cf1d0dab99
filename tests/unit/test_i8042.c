// SPDX-License-Identifier: MIT
/* The i8042 and its keyboard, driven the way Linux's i8042 and atkbd drivers
 * drive them, with recording irq and reset callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/i8042.h"

#include <stdlib.h>
#include <string.h>

static struct i8042 k;
static int cookie;
static int level, rises, resets;

static void record_irq(struct i8042 *chip, int l)
{
	assert_ptr_equal(chip, &k);
	assert_ptr_equal(chip->opaque, &cookie);
	assert_int_not_equal(l, level); /* only changes are reported */
	if (l)
		rises++;
	level = l;
}

static void record_reset(struct i8042 *chip)
{
	assert_ptr_equal(chip, &k);
	resets++;
}

static int setup(void **state)
{
	(void)state;
	memset(&k, 0x5a, sizeof(k)); /* i8042_init must not rely on zeroed memory */
	i8042_init(&k, record_irq, record_reset, &cookie);
	level = rises = resets = 0;
	return 0;
}

static uint8_t status(void)
{
	return i8042_read(&k, I8042_CMD_PORT);
}

/* Reads one byte the way Linux does: the status says there is one. */
static uint8_t get(void)
{
	assert_true(status() & I8042_STR_OBF);
	return i8042_read(&k, I8042_DATA_PORT);
}

static void cmd(uint8_t c)
{
	assert_false(status() & 0x02); /* the input buffer is always free */
	i8042_write(&k, I8042_CMD_PORT, c);
}

static void data(uint8_t d)
{
	i8042_write(&k, I8042_DATA_PORT, d);
}

static void expect_empty(void)
{
	assert_false(status() & I8042_STR_OBF);
}

/* What Linux's i8042 driver does before it registers the keyboard port:
 * flush, self-test, read and write the CTR, the aux tests. */
static void linux_probe(void)
{
	uint8_t ctr;

	expect_empty(); /* i8042_flush finds nothing: a controller is there */
	cmd(0xaa);
	assert_int_equal(get(), 0x55);
	cmd(0x20);
	ctr = get();
	assert_int_equal(ctr, I8042_CTR_RESET);
	ctr = (uint8_t)((ctr | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT);
	cmd(0x60);
	data(ctr);
	cmd(0x20);
	assert_int_equal(get(), ctr);
	/* The aux loop: no mouse, so the byte comes back as the keyboard's... */
	cmd(0xd3);
	data(0x5a);
	assert_false(status() & 0x20);
	assert_int_equal(get(), 0x5a);
	/* ...and the aux test says the port is broken: Linux gives up on it. */
	cmd(0xa9);
	assert_int_equal(get(), 0x02);
	cmd(0xab);
	assert_int_equal(get(), 0x00);
	/* Enable the keyboard port and its interrupt. */
	ctr = (uint8_t)((ctr & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT);
	cmd(0x60);
	data(ctr);
	expect_empty();
	assert_int_equal(level, 0);
	assert_int_equal(resets, 0);
}

static void test_power_on(void **state)
{
	(void)state;
	assert_int_equal(status(), I8042_STR_SYS | I8042_STR_UNLOCKED);
	assert_int_equal(level, 0);
	assert_false(k.driven);
}

static void test_linux_probe(void **state)
{
	(void)state;
	linux_probe();
	assert_true(k.driven);
	/* The status says the last write went to the command port. */
	cmd(0xae);
	assert_true(status() & I8042_STR_CMD);
	data(0xf4);
	assert_false(status() & I8042_STR_CMD);
}

/* atkbd: GETID through the controller's translation, then without it. */
static void test_keyboard_id(void **state)
{
	(void)state;
	linux_probe();
	data(0xf2);
	assert_int_equal(get(), 0xfa);
	assert_int_equal(get(), 0xab);
	assert_int_equal(get(), 0x41);
	cmd(0x60);
	data(I8042_CTR_KBDINT);
	data(0xf2);
	assert_int_equal(get(), 0xfa);
	assert_int_equal(get(), 0xab);
	assert_int_equal(get(), 0x83);
	expect_empty();
}

/* Commands with a parameter are acknowledged twice; unknown ones asked
 * again (0xfe), so that the guest never waits out a time-out. */
static void test_keyboard_commands(void **state)
{
	(void)state;
	linux_probe();
	data(0xed);
	assert_int_equal(get(), 0xfa);
	data(0x07);
	assert_int_equal(get(), 0xfa);
	data(0xf0);
	assert_int_equal(get(), 0xfa);
	data(0x00);
	assert_int_equal(get(), 0xfa);
	assert_int_equal(get(), 2);
	data(0xf0);
	data(0x09);
	assert_int_equal(get(), 0xfa);
	assert_int_equal(get(), 0xfe);
	data(0xee);
	assert_int_equal(get(), 0xee);
	data(0xff);
	assert_int_equal(get(), 0xfa);
	assert_int_equal(get(), 0xaa);
	data(0x42);
	assert_int_equal(get(), 0xfe);
	expect_empty();
}

/* Each byte is its own interrupt: the line drops when a byte is read and
 * rises again for the next, and stays low without KBDINT. */
static void test_interrupt_per_byte(void **state)
{
	(void)state;
	linux_probe();
	rises = 0;
	data(0xf2);
	assert_int_equal(level, 1);
	assert_int_equal(rises, 1);
	get();
	assert_int_equal(rises, 2);
	get();
	get();
	assert_int_equal(rises, 3);
	assert_int_equal(level, 0);
	cmd(0x60);
	data(I8042_CTR_XLATE); /* no KBDINT */
	data(0xf2);
	assert_int_equal(level, 0);
	assert_int_equal(rises, 3);
}

static void test_ctrl_alt_del(void **state)
{
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
	                               0x71, 0xf0, 0x11, 0xf0, 0x14};

	(void)state;
	assert_false(i8042_ctrl_alt_del(&k)); /* no driver yet */
	expect_empty();
	linux_probe();
	data(0xf5); /* scanning off */
	get();
	assert_false(i8042_ctrl_alt_del(&k));
	data(0xf4);
	get();
	assert_true(i8042_ctrl_alt_del(&k));
	for (size_t i = 0; i < sizeof(set1); i++)
		assert_int_equal(get(), set1[i]);
	expect_empty();
	cmd(0x60);
	data(I8042_CTR_KBDINT); /* untranslated set 2 */
	assert_true(i8042_ctrl_alt_del(&k));
	for (size_t i = 0; i < sizeof(set2); i++)
		assert_int_equal(get(), set2[i]);
	/* A port the guest disabled hears nothing. */
	cmd(0xad);
	assert_false(i8042_ctrl_alt_del(&k));
	expect_empty();
}

/* A guest that never reads: the buffer holds 16 bytes, the rest is lost,
 * and Ctrl-Alt-Del is refused rather than cut in half. */
static void test_buffer_full(void **state)
{
	(void)state;
	linux_probe();
	for (int i = 0; i < 40; i++)
		data(0xee);
	assert_int_equal(k.out_len, I8042_QUEUE);
	assert_false(i8042_ctrl_alt_del(&k));
	for (int i = 0; i < I8042_QUEUE; i++)
		assert_int_equal(get(), 0xee);
	expect_empty();
	/* An empty buffer reads the last byte again, as hardware does. */
	assert_int_equal(i8042_read(&k, I8042_DATA_PORT), 0xee);
}

static void test_reset(void **state)
{
	(void)state;
	cmd(0xff); /* Linux's "null command for SMM": pulses nothing */
	cmd(0xd1);
	data(0xdf); /* A20 on, reset line high */
	assert_int_equal(resets, 0);
	cmd(0xfe);
	assert_int_equal(resets, 1);
	cmd(0xd1);
	data(0xde);
	assert_int_equal(resets, 2);
	cmd(0xd0);
	assert_int_equal(get() & 0x01, 0x01);
}

/* Random bytes to both ports: the buffer never overflows, the interrupt
 * line always says what the status says, nothing else happens. */
static void test_random_guest(void **state)
{
	(void)state;
	srand(8042);
	for (int i = 0; i < 200000; i++) {
		uint16_t port = (rand() & 1) ? I8042_CMD_PORT : I8042_DATA_PORT;

		if (rand() & 1)
			i8042_write(&k, port, (uint8_t)rand());
		else
			i8042_read(&k, port);
		if (!(rand() % 64))
			i8042_ctrl_alt_del(&k);
		assert_true(k.out_len <= I8042_QUEUE);
		assert_true(k.out_head < I8042_QUEUE);
		assert_int_equal(level, k.out_len && (k.ctr & I8042_CTR_KBDINT));
		assert_int_equal(level, k.irq_level);
	}
	assert_true(resets > 0); /* the random bytes did reach the reset paths */
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_power_on),           T(test_linux_probe),
	    T(test_keyboard_id),        T(test_keyboard_commands),
	    T(test_interrupt_per_byte), T(test_ctrl_alt_del),
	    T(test_buffer_full),        T(test_reset),
	    T(test_random_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
