// SPDX-License-Identifier: MIT
/* The MC146818 RTC against a hostile guest: any sequence of port reads and writes and timer
 * ticks, on a clock that starts and moves as the input says.
 *
 * Input: 8 bytes of the starting clock (ns since the epoch, taken modulo 2^62), then triples
 * (op, value, step): op & 1 writes value to the index port, else to the data port; op & 2 reads
 * the data port instead; op & 4 runs the timer's tick; the clock then moves step * 4099 us
 * (op & 8: step s). Checked after every step: the IRQ line follows register C's IRQF (set when
 * it rises, cleared by a read of C), register C holds no bit but the four flags, UIP shows only
 * in register A (the rest of it as written), the time registers read as values of their range in
 * the mode register B gives (unless SET holds them: then they read as written), and the next
 * timer event is never in the past. */
#include "fuzz.h"

#include "hw/mc146818.h"

#include <string.h>

static int64_t now_ns;
static int line;

static int64_t fake_clock(void *opaque)
{
	(void)opaque;
	return now_ns;
}

static void irq(struct mc146818 *rtc, int level)
{
	(void)rtc;
	FUZZ_CHECK(level != line, "the line was set to the level it had (%d)", level);
	line = level;
}

static int value(const struct mc146818 *rtc, uint8_t v)
{
	if (rtc->b & RTC_B_DM)
		return v;
	FUZZ_CHECK((v >> 4) < 10 && (v & 15) < 10, "0x%02x is not BCD", v);
	return (v >> 4) * 10 + (v & 15);
}

/* A read of the data port: what it returns must fit its register. */
static void check_read(struct mc146818 *rtc)
{
	uint8_t reg = rtc->index, v = mc146818_read(rtc, RTC_DATA_PORT), h;

	/* under SET the time registers hold what the guest wrote, as they are */
	if ((rtc->b & RTC_B_SET) && (reg <= RTC_YEAR || reg == RTC_CENTURY))
		return;
	switch (reg) {
	case RTC_SECONDS:
	case RTC_MINUTES: FUZZ_CHECK(value(rtc, v) < 60, "register %u reads %u", reg, v); break;
	case RTC_HOURS:
		h = (rtc->b & RTC_B_24H) ? v : v & (uint8_t)~RTC_HOUR_PM;
		FUZZ_CHECK((rtc->b & RTC_B_24H) ? value(rtc, h) < 24
		                                : value(rtc, h) >= 1 && value(rtc, h) <= 12,
		           "hours read 0x%02x with B 0x%02x", v, rtc->b);
		break;
	case RTC_DAY_OF_MONTH:
		FUZZ_CHECK(value(rtc, v) >= 1 && value(rtc, v) <= 31, "date %u", v);
		break;
	case RTC_MONTH: FUZZ_CHECK(value(rtc, v) >= 1 && value(rtc, v) <= 12, "month %u", v); break;
	case RTC_REG_C:
		FUZZ_CHECK(!(v & 0x0f), "register C reads 0x%02x", v);
		FUZZ_CHECK(!line, "the line stayed up after C was read");
		break;
	case RTC_REG_D: FUZZ_CHECK(v == RTC_D_VRT, "register D reads 0x%02x", v); break;
	default: break;
	}
	if (reg == RTC_REG_A)
		FUZZ_CHECK((v & (uint8_t)~RTC_A_UIP) == rtc->a,
		           "register A reads 0x%02x, holds 0x%02x", v, rtc->a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc146818 rtc;
	uint64_t start = 0;

	if (size < 8)
		return 0;
	memcpy(&start, data, 8);
	now_ns = (int64_t)(start & ((1ULL << 62) - 1));
	line = 0;
	mc146818_init(&rtc, fake_clock, irq, NULL);
	for (size_t i = 8; i + 2 < size; i += 3) {
		uint8_t op = data[i], v = data[i + 1], step = data[i + 2];

		if (op & 2)
			check_read(&rtc);
		else
			mc146818_write(&rtc, (op & 1) ? RTC_INDEX_PORT : RTC_DATA_PORT, v);
		if (op & 4) {
			int64_t next = mc146818_tick(&rtc);

			FUZZ_CHECK(next < 0 || next > now_ns, "next event %lld at %lld",
			           (long long)next, (long long)now_ns);
		}
		FUZZ_CHECK(!(rtc.c & 0x0f), "register C holds 0x%02x", rtc.c);
		FUZZ_CHECK(line == !!(rtc.c & RTC_C_IRQF), "line %d with C 0x%02x", line, rtc.c);
		now_ns += (op & 8) ? step * 1000000000LL : step * 4099000LL;
	}
	return 0;
}
