// SPDX-License-Identifier: MIT
/* The MC146818 register model against its datasheet, on a clock the test moves. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/mc146818.h"

#include <string.h>
#include <time.h>

#define NS 1000000000LL
#define MS 1000000LL
#define US 1000LL

static struct mc146818 rtc;
static int64_t now;
static int line, rises;

static int64_t fake_clock(void *opaque)
{
	(void)opaque;
	return now;
}

static void irq(struct mc146818 *r, int level)
{
	assert_ptr_equal(r, &rtc);
	assert_int_not_equal(level, line);
	line = level;
	rises += level;
}

static uint8_t rd(uint8_t reg)
{
	mc146818_write(&rtc, RTC_INDEX_PORT, reg);
	return mc146818_read(&rtc, RTC_DATA_PORT);
}

static void wr(uint8_t reg, uint8_t v)
{
	mc146818_write(&rtc, RTC_INDEX_PORT, reg);
	mc146818_write(&rtc, RTC_DATA_PORT, v);
}

/* 2026-12-07 17:06:07 UTC (a Monday) and @ns into that second. */
static int64_t at(int64_t ns)
{
	struct tm tm = {
	    .tm_year = 126, .tm_mon = 11, .tm_mday = 7, .tm_hour = 17, .tm_min = 6, .tm_sec = 7};

	return (int64_t)timegm(&tm) * NS + ns;
}

static int setup(void **state)
{
	(void)state;
	now = at(500 * MS);
	line = rises = 0;
	mc146818_init(&rtc, fake_clock, irq, NULL);
	return 0;
}

/* Power-on (as firmware leaves it): 24-hour BCD; the time is the host's, UTC. */
static void test_time_bcd_24h(void **state)
{
	(void)state;
	assert_int_equal(rd(RTC_REG_B), RTC_B_24H);
	assert_int_equal(rd(RTC_SECONDS), 0x07);
	assert_int_equal(rd(RTC_MINUTES), 0x06);
	assert_int_equal(rd(RTC_HOURS), 0x17);
	assert_int_equal(rd(RTC_DAY_OF_WEEK), 2); /* Sunday is 1 */
	assert_int_equal(rd(RTC_DAY_OF_MONTH), 0x07);
	assert_int_equal(rd(RTC_MONTH), 0x12);
	assert_int_equal(rd(RTC_YEAR), 0x26);
	assert_int_equal(rd(RTC_CENTURY), 0x20);
	now += 60 * NS;
	assert_int_equal(rd(RTC_MINUTES), 0x07);
}

/* DM selects binary; 24/12 clear gives 1-12 with bit 7 for PM, 12 for midnight. */
static void test_binary_12h(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_DM);
	assert_int_equal(rd(RTC_HOURS), 0x80 | 5);
	assert_int_equal(rd(RTC_YEAR), 26);
	assert_int_equal(rd(RTC_MONTH), 12);
	wr(RTC_REG_B, 0); /* BCD, 12-hour */
	assert_int_equal(rd(RTC_HOURS), 0x85);
	now += 7 * 3600 * NS; /* 00:06 the next day */
	assert_int_equal(rd(RTC_HOURS), 0x12);
	assert_int_equal(rd(RTC_DAY_OF_MONTH), 0x08);
	now += 12 * 3600 * NS; /* 12:06: noon is 12 PM */
	assert_int_equal(rd(RTC_HOURS), 0x92);
}

/* UIP is high for the 244 us before each update, and never while SET holds
 * the updates or the divider is not running. */
static void test_uip_window(void **state)
{
	(void)state;
	now = at(NS - 300 * US);
	assert_false(rd(RTC_REG_A) & RTC_A_UIP);
	now = at(NS - 200 * US);
	assert_true(rd(RTC_REG_A) & RTC_A_UIP);
	assert_int_equal(rd(RTC_REG_A) & (uint8_t)~RTC_A_UIP, RTC_A_DV_RUN | 0x06);
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	assert_false(rd(RTC_REG_A) & RTC_A_UIP);
	wr(RTC_REG_B, RTC_B_24H);
	wr(RTC_REG_A, 0x70); /* divider in reset */
	now = at(NS - 100 * US);
	assert_false(rd(RTC_REG_A) & RTC_A_UIP);
	wr(RTC_REG_A, 0xa6); /* UIP is read-only */
	assert_int_equal(rtc.a, 0x26);
}

/* SET stops the updates and lets the guest write the time; clearing it starts
 * the clock from what was written. */
static void test_set_time(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_UIE);
	assert_int_equal(rd(RTC_REG_B), RTC_B_24H | RTC_B_SET); /* SET clears UIE */
	now += 5 * NS;
	assert_int_equal(rd(RTC_SECONDS), 0x07);
	wr(RTC_SECONDS, 0x30);
	wr(RTC_MINUTES, 0x45);
	wr(RTC_HOURS, 0x09);
	wr(RTC_DAY_OF_MONTH, 0x31);
	wr(RTC_MONTH, 0x01);
	wr(RTC_YEAR, 0x27);
	assert_int_equal(rd(RTC_SECONDS), 0x30);
	wr(RTC_REG_B, RTC_B_24H);
	now += 2 * NS;
	assert_int_equal(rd(RTC_SECONDS), 0x32);
	assert_int_equal(rd(RTC_MINUTES), 0x45);
	assert_int_equal(rd(RTC_HOURS), 0x09);
	assert_int_equal(rd(RTC_DAY_OF_MONTH), 0x31);
	assert_int_equal(rd(RTC_MONTH), 0x01);
	assert_int_equal(rd(RTC_YEAR), 0x27);
	assert_int_equal(rd(RTC_DAY_OF_WEEK), 1); /* 2027-01-31 is a Sunday */
}

/* Under SET the registers are held as written and taken as one date when
 * SET clears: Jan 31 set to Feb 10 month first never passes through Mar 3
 * (Feb 31), as Linux's mc146818_set_time writes them. */
static void test_set_date_month_first(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	wr(RTC_YEAR, 0x27);
	wr(RTC_MONTH, 0x01);
	wr(RTC_DAY_OF_MONTH, 0x31);
	wr(RTC_REG_B, RTC_B_24H);
	assert_int_equal(rd(RTC_MONTH), 0x01);
	assert_int_equal(rd(RTC_DAY_OF_MONTH), 0x31);
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	wr(RTC_MONTH, 0x02);
	assert_int_equal(rd(RTC_MONTH), 0x02); /* held: "Feb 31" for now */
	assert_int_equal(rd(RTC_DAY_OF_MONTH), 0x31);
	wr(RTC_DAY_OF_MONTH, 0x10);
	wr(RTC_REG_B, RTC_B_24H);
	assert_int_equal(rd(RTC_MONTH), 0x02);
	assert_int_equal(rd(RTC_DAY_OF_MONTH), 0x10);
	assert_int_equal(rd(RTC_YEAR), 0x27);
	/* a held time out of range leaves the clock as SET found it */
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	wr(RTC_CENTURY, 0x99);
	wr(RTC_REG_B, RTC_B_24H);
	assert_int_equal(rd(RTC_CENTURY), 0x20);
	assert_int_equal(rd(RTC_MONTH), 0x02);
}

/* A time register written while the clock runs changes that field and keeps
 * the phase of the second; a time out of the host's range is dropped. */
static void test_write_running(void **state)
{
	(void)state;
	wr(RTC_MINUTES, 0x59);
	assert_int_equal(rd(RTC_MINUTES), 0x59);
	assert_int_equal(rd(RTC_SECONDS), 0x07);
	now = at(NS - 100 * US) + 52 * NS; /* the guest's 17:59:59.9999 */
	assert_int_equal(rd(RTC_MINUTES), 0x59);
	assert_int_equal(rd(RTC_SECONDS), 0x59);
	now += 200 * US;
	assert_int_equal(rd(RTC_HOURS), 0x18);
	assert_int_equal(rd(RTC_MINUTES), 0x00);
	wr(RTC_CENTURY, 0x99); /* 9926: further than a guest may go */
	assert_int_equal(rd(RTC_CENTURY), 0x20);
}

/* Register C: UF at each update, PF at the periodic rate, AF when the time
 * matches the alarm (11xxxxxx matches all); IRQF and the line only for an
 * enabled one; a read clears the register and lowers the line. */
static void test_flags(void **state)
{
	(void)state;
	now += NS;
	/* PF counts at firmware's 1024 Hz, enabled or not: the datasheet's flags
	 * set whatever the enable bits say */
	assert_int_equal(rd(RTC_REG_C), RTC_C_PF | RTC_C_UF); /* none enabled: no IRQF */
	wr(RTC_REG_A, RTC_A_DV_RUN);                          /* no periodic rate: PF stays clear */
	now += NS;
	assert_int_equal(rd(RTC_REG_C), RTC_C_UF);
	assert_int_equal(rises, 0);
	assert_int_equal(rd(RTC_REG_C), 0);
	wr(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	now += 400 * MS;
	assert_int_equal(mc146818_tick(&rtc), at(3 * NS)); /* the next update */
	assert_int_equal(line, 0);
	now += 200 * MS;
	mc146818_tick(&rtc);
	assert_int_equal(line, 1);
	assert_int_equal(rd(RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
	assert_int_equal(line, 0);
	assert_int_equal(rd(RTC_REG_C), 0);
	/* the alarm at 17:06:11 */
	wr(RTC_SECONDS_ALARM, 0x11);
	wr(RTC_MINUTES_ALARM, 0x06);
	wr(RTC_HOURS_ALARM, 0x17);
	wr(RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	now = at(100 * MS) + 3 * NS; /* 17:06:10 */
	assert_int_equal(rd(RTC_REG_C) & RTC_C_AF, 0);
	now += NS;
	assert_int_equal(rd(RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	wr(RTC_SECONDS_ALARM, RTC_ALARM_ANY);
	wr(RTC_MINUTES_ALARM, RTC_ALARM_ANY);
	wr(RTC_HOURS_ALARM, RTC_ALARM_ANY);
	now += NS;
	assert_int_equal(rd(RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* periodic: RS 15 is 2 Hz */
	wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	wr(RTC_REG_A, RTC_A_DV_RUN | 0x0f);
	assert_int_equal(rd(RTC_REG_C) & RTC_C_PF, 0);
	now = at(100 * MS) + 5 * NS;
	assert_int_equal(rd(RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), 0);
	now += 500 * MS; /* from .1 to .6: past .5 */
	assert_int_equal(rd(RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), RTC_C_IRQF | RTC_C_PF);
	assert_int_equal(mc146818_tick(&rtc), at(5 * NS + NS));
}

/* The periodic rates of the datasheet's table (32.768 kHz base). */
static void test_periodic_rates(void **state)
{
	static const struct {
		uint8_t rs;
		int64_t period;
	} t[] = {{3, 122070}, {6, 976562}, {1, 3906250}, {2, 7812500}, {15, 500000000}};

	(void)state;
	wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t next;

		wr(RTC_REG_A, RTC_A_DV_RUN | t[i].rs);
		now = at(0);
		next = mc146818_tick(&rtc);
		assert_true(next - now >= t[i].period && next - now <= t[i].period + 1);
	}
	wr(RTC_REG_A, RTC_A_DV_RUN); /* RS 0: none */
	wr(RTC_REG_B, RTC_B_24H);
	assert_int_equal(mc146818_tick(&rtc), -1);
}

/* Register D reads VRT; C and D take no writes; the index port keeps 7 bits
 * (bit 7 masks NMIs); the rest is 114 bytes of RAM. */
static void test_ram_and_index(void **state)
{
	(void)state;
	assert_int_equal(rd(RTC_REG_D), RTC_D_VRT);
	wr(RTC_REG_D, 0);
	assert_int_equal(rd(RTC_REG_D), RTC_D_VRT);
	mc146818_write(&rtc, RTC_INDEX_PORT, 0x80 | RTC_REG_D);
	assert_true(rtc.nmi_masked);
	assert_int_equal(mc146818_read(&rtc, RTC_DATA_PORT), RTC_D_VRT);
	for (int r = 0x0e; r < RTC_NR_REGS; r++)
		if (r != RTC_CENTURY)
			wr((uint8_t)r, (uint8_t)(r ^ 0x5a));
	for (int r = 0x0e; r < RTC_NR_REGS; r++)
		if (r != RTC_CENTURY)
			assert_int_equal(rd((uint8_t)r), r ^ 0x5a);
	assert_int_equal(mc146818_read(&rtc, RTC_INDEX_PORT), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_time_bcd_24h, setup),
	    cmocka_unit_test_setup(test_binary_12h, setup),
	    cmocka_unit_test_setup(test_uip_window, setup),
	    cmocka_unit_test_setup(test_set_time, setup),
	    cmocka_unit_test_setup(test_set_date_month_first, setup),
	    cmocka_unit_test_setup(test_write_running, setup),
	    cmocka_unit_test_setup(test_flags, setup),
	    cmocka_unit_test_setup(test_periodic_rates, setup),
	    cmocka_unit_test_setup(test_ram_and_index, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
