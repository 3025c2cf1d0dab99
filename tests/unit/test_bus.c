// SPDX-License-Identifier: MIT
/* bus_register and bus_dispatch: range claims and routing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bus.h"

#include <string.h>

/* What one device saw last. */
struct dev {
	int calls;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint8_t data[8];
	struct vcpu *vcpu;
};

static void dev_io(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len, bool is_write,
                   void *opaque)
{
	struct dev *d = opaque;

	d->calls++;
	d->offset = offset;
	d->len = len;
	d->is_write = is_write;
	d->vcpu = vcpu;
	if (is_write) {
		memcpy(d->data, data, len < 8 ? len : 8);
		return;
	}
	/* Reads return the offset in every byte, to show which one it saw. */
	memset(data, (int)(offset & 0xff), len);
}

static int setup(void **state)
{
	(void)state;
	bus_reset();
	return 0;
}

static void test_register_zero_length(void **state)
{
	struct dev d = {0};

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x3f8, 0, dev_io, &d), -1);
	/* Nothing was claimed. */
	assert_false(bus_dispatch(NULL, BUS_PIO, 0x3f8, d.data, 1, false));
}

static void test_register_overlap(void **state)
{
	struct dev a = {0}, b = {0};

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x3f8, 8, dev_io, &a), 0);
	assert_int_equal(bus_register(BUS_PIO, 0x3f8, 8, dev_io, &b), -1);
	assert_int_equal(bus_register(BUS_PIO, 0x3f0, 9, dev_io, &b), -1);     /* tail in */
	assert_int_equal(bus_register(BUS_PIO, 0x3ff, 1, dev_io, &b), -1);     /* last byte */
	assert_int_equal(bus_register(BUS_PIO, 0x3fa, 1, dev_io, &b), -1);     /* inside */
	assert_int_equal(bus_register(BUS_PIO, 0x300, 0x200, dev_io, &b), -1); /* around */
}

static void test_register_adjacent(void **state)
{
	struct dev a = {0}, b = {0}, c = {0};
	uint8_t v;

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x3f8, 8, dev_io, &a), 0);
	assert_int_equal(bus_register(BUS_PIO, 0x400, 4, dev_io, &b), 0);
	assert_int_equal(bus_register(BUS_PIO, 0x3f0, 8, dev_io, &c), 0);
	assert_true(bus_dispatch(NULL, BUS_PIO, 0x3f7, &v, 1, false));
	assert_true(bus_dispatch(NULL, BUS_PIO, 0x3ff, &v, 1, false));
	assert_true(bus_dispatch(NULL, BUS_PIO, 0x400, &v, 1, false));
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.offset, 7);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.offset, 7);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.offset, 0);
}

static void test_register_wraps(void **state)
{
	struct dev d = {0};

	(void)state;
	assert_int_equal(bus_register(BUS_MMIO, UINT64_MAX - 0xf, 0x20, dev_io, &d), -1);
	assert_int_equal(bus_register(BUS_MMIO, 1, UINT64_MAX, dev_io, &d), -1);
}

static void test_spaces_are_separate(void **state)
{
	struct dev pio = {0}, mmio = {0};
	uint8_t v = 0;

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x60, 5, dev_io, &pio), 0);
	/* The same range in the other space is no overlap. */
	assert_int_equal(bus_register(BUS_MMIO, 0x60, 5, dev_io, &mmio), 0);
	assert_true(bus_dispatch(NULL, BUS_MMIO, 0x62, &v, 1, false));
	assert_int_equal(mmio.calls, 1);
	assert_int_equal(pio.calls, 0);
}

static void test_dispatch_write(void **state)
{
	struct dev d = {0};
	uint8_t buf[4] = {1, 2, 3, 4};
	struct vcpu *vcpu = (struct vcpu *)(uintptr_t)0x1234; /* only passed through */

	(void)state;
	assert_int_equal(bus_register(BUS_MMIO, 0xd0000000, 0x1000, dev_io, &d), 0);
	assert_true(bus_dispatch(vcpu, BUS_MMIO, 0xd0000010, buf, 4, true));
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.offset, 0x10);
	assert_int_equal(d.len, 4);
	assert_true(d.is_write);
	assert_ptr_equal(d.vcpu, vcpu);
	assert_memory_equal(d.data, buf, 4);
}

static void test_dispatch_read(void **state)
{
	struct dev d = {0};
	uint8_t buf[2] = {0};

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x3f8, 8, dev_io, &d), 0);
	assert_true(bus_dispatch(NULL, BUS_PIO, 0x3fd, buf, 2, false));
	assert_int_equal(d.offset, 5);
	assert_false(d.is_write);
	assert_int_equal(buf[0], 5);
	assert_int_equal(buf[1], 5);
	assert_int_equal(bus_unhandled(BUS_PIO), 0);
}

static void test_unclaimed_read(void **state)
{
	struct dev d = {0};
	uint8_t buf[4] = {0};

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x3f8, 8, dev_io, &d), 0);
	assert_false(bus_dispatch(NULL, BUS_PIO, 0x400, buf, 4, false));
	assert_int_equal(buf[0] & buf[1] & buf[2] & buf[3], 0xff);
	assert_int_equal(bus_unhandled(BUS_PIO), 1);
	assert_false(bus_dispatch(NULL, BUS_PIO, 0x3f7, buf, 1, false));
	assert_int_equal(bus_unhandled(BUS_PIO), 2);
	assert_int_equal(bus_unhandled(BUS_MMIO), 0);
	assert_int_equal(d.calls, 0);
}

static void test_unclaimed_write(void **state)
{
	uint8_t buf[2] = {0x12, 0x34};

	(void)state;
	assert_false(bus_dispatch(NULL, BUS_MMIO, 0xfee00000, buf, 2, true));
	/* The guest's data is left alone. */
	assert_int_equal(buf[0], 0x12);
	assert_int_equal(buf[1], 0x34);
	assert_int_equal(bus_unhandled(BUS_MMIO), 1);
}

static void test_reset(void **state)
{
	struct dev d = {0};
	uint8_t v;

	(void)state;
	assert_int_equal(bus_register(BUS_PIO, 0x80, 1, dev_io, &d), 0);
	bus_dispatch(NULL, BUS_PIO, 0x81, &v, 1, false);
	assert_int_equal(bus_unhandled(BUS_PIO), 1);
	bus_reset();
	assert_int_equal(bus_unhandled(BUS_PIO), 0);
	/* The range is free again. */
	assert_int_equal(bus_register(BUS_PIO, 0x80, 1, dev_io, &d), 0);
}

static void test_many_ranges_lookup(void **state)
{
	static struct dev devs[40];
	uint8_t v;

	(void)state;
	memset(devs, 0, sizeof(devs));
	/* Registered in a scrambled order: lookup must still find each one. */
	for (int i = 0; i < 40; i++) {
		int k = (i * 17) % 40;

		assert_int_equal(
		    bus_register(BUS_MMIO, 0x1000 * (uint64_t)k, 0x100, dev_io, &devs[k]), 0);
	}
	for (int k = 0; k < 40; k++) {
		assert_true(bus_dispatch(NULL, BUS_MMIO, 0x1000 * (uint64_t)k + 0xff, &v, 1, true));
		assert_int_equal(devs[k].calls, 1);
		assert_int_equal(devs[k].offset, 0xff);
		assert_false(
		    bus_dispatch(NULL, BUS_MMIO, 0x1000 * (uint64_t)k + 0x100, &v, 1, true));
	}
	assert_int_equal(bus_unhandled(BUS_MMIO), 40);
}

static void test_table_full(void **state)
{
	static struct dev d;
	int i;

	(void)state;
	for (i = 0; bus_register(BUS_PIO, (uint64_t)i * 2, 1, dev_io, &d) == 0; i++)
		assert_true(i < 1000);
	/* The table holds a fixed number of ranges, and all of them work. */
	assert_true(i >= 16);
	for (int k = 0; k < i; k++) {
		uint8_t v;

		assert_true(bus_dispatch(NULL, BUS_PIO, (uint64_t)k * 2, &v, 1, false));
	}
	assert_int_equal(d.calls, i);
	/* The other space is not full. */
	assert_int_equal(bus_register(BUS_MMIO, 0, 1, dev_io, &d), 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_register_zero_length), T(test_register_overlap),
	    T(test_register_adjacent),    T(test_register_wraps),
	    T(test_spaces_are_separate),  T(test_dispatch_write),
	    T(test_dispatch_read),        T(test_unclaimed_read),
	    T(test_unclaimed_write),      T(test_reset),
	    T(test_many_ranges_lookup),   T(test_table_full),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
