// SPDX-License-Identifier: MIT
/* The MC146818 register model (Motorola's datasheet; the PC's RTC/CMOS). The time is never
 * stored ticking: it is the host's clock plus an offset, worked out on each read, and so are
 * the flags of register C (from the guest time they were last worked out at). */
#include "mc146818.h"

#include <string.h>
#include <time.h>

#define NS 1000000000LL

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool running(const struct mc146818 *rtc)
{
	return (rtc->a & RTC_A_DV_MASK) == RTC_A_DV_RUN;
}

static int64_t guest_ns(const struct mc146818 *rtc)
{
	return rtc->clock(rtc->opaque) + rtc->offset_ns;
}

/* The second the time registers show. */
static int64_t current_sec(const struct mc146818 *rtc)
{
	return (rtc->b & RTC_B_SET) ? rtc->frozen_sec : floor_div(guest_ns(rtc), NS);
}

static void to_tm(int64_t sec, struct tm *tm)
{
	time_t t = (time_t)sec;

	gmtime_r(&t, tm);
}

static uint8_t encode(const struct mc146818 *rtc, int v)
{
	return (rtc->b & RTC_B_DM) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int decode(const struct mc146818 *rtc, uint8_t v)
{
	return (rtc->b & RTC_B_DM) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t encode_hour(const struct mc146818 *rtc, int h)
{
	if (rtc->b & RTC_B_24H)
		return encode(rtc, h);
	return (uint8_t)(encode(rtc, h % 12 ? h % 12 : 12) | (h >= 12 ? RTC_HOUR_PM : 0));
}

static int decode_hour(const struct mc146818 *rtc, uint8_t v)
{
	if (rtc->b & RTC_B_24H)
		return decode(rtc, v);
	return decode(rtc, v & (uint8_t)~RTC_HOUR_PM) % 12 + ((v & RTC_HOUR_PM) ? 12 : 0);
}

/* Whether alarm byte @alarm matches @value (the don't-care code matches all). */
static bool alarm_matches(const struct mc146818 *rtc, uint8_t alarm, uint8_t value)
{
	(void)rtc;
	return (alarm & RTC_ALARM_ANY) == RTC_ALARM_ANY || alarm == value;
}

static bool alarm_at(const struct mc146818 *rtc, int64_t sec)
{
	struct tm tm;

	to_tm(sec, &tm);
	return alarm_matches(rtc, rtc->ram[RTC_SECONDS_ALARM], encode(rtc, tm.tm_sec)) &&
	       alarm_matches(rtc, rtc->ram[RTC_MINUTES_ALARM], encode(rtc, tm.tm_min)) &&
	       alarm_matches(rtc, rtc->ram[RTC_HOURS_ALARM], encode_hour(rtc, tm.tm_hour));
}

/* The periodic rate's divider as a shift of the 32.768 kHz base: RS 3 gives 8192 Hz (shift
 * 2), RS 15 gives 2 Hz; RS 1 and 2 repeat RS 8 and 9; -1 for RS 0 (none). */
static int periodic_shift(const struct mc146818 *rtc)
{
	int rs = rtc->a & RTC_A_RS_MASK;

	if (!rs)
		return -1;
	return (rs < 3 ? rs + 7 : rs) - 1;
}

/* @a / @b rounded down and up, @b > 0 (guest time may be before 1970). */
static __int128 floor_div128(__int128 a, __int128 b)
{
	return a / b - (a % b != 0 && a < 0);
}

static __int128 ceil_div128(__int128 a, __int128 b)
{
	return a / b + (a % b != 0 && a > 0);
}

/* Periodic ticks from the epoch of guest time to @ns. */
static int64_t periodic_ticks(int64_t ns, int shift)
{
	return (int64_t)floor_div128(floor_div128((__int128)ns * 32768, NS), (__int128)1 << shift);
}

static void set_irq(struct mc146818 *rtc, int level)
{
	if (rtc->irq_level == level)
		return;
	rtc->irq_level = level;
	if (rtc->irq)
		rtc->irq(rtc, level);
}

/* Sets the flags of what happened since seen_ns, and IRQF for an enabled one. */
static void update_flags(struct mc146818 *rtc)
{
	int64_t to = guest_ns(rtc), from = rtc->seen_ns;
	int shift = periodic_shift(rtc);

	if (to <= from) {
		rtc->seen_ns = to; /* the host's clock stepped back: go on from there */
		return;
	}
	rtc->seen_ns = to;
	if (!running(rtc))
		return;
	if (shift >= 0 && periodic_ticks(to, shift) > periodic_ticks(from, shift))
		rtc->c |= RTC_C_PF;
	if (!(rtc->b & RTC_B_SET)) {
		int64_t first = floor_div(from, NS) + 1, last = floor_div(to, NS);

		if (last >= first)
			rtc->c |= RTC_C_UF;
		/* a day of seconds holds every alarm time there is */
		if (last - first >= 86400)
			rtc->c |= RTC_C_AF;
		for (int64_t s = last; s >= first && s > last - 86400 && !(rtc->c & RTC_C_AF); s--)
			if (alarm_at(rtc, s))
				rtc->c |= RTC_C_AF;
	}
	if ((rtc->c & RTC_C_PF && rtc->b & RTC_B_PIE) ||
	    (rtc->c & RTC_C_AF && rtc->b & RTC_B_AIE) ||
	    (rtc->c & RTC_C_UF && rtc->b & RTC_B_UIE)) {
		rtc->c |= RTC_C_IRQF;
		set_irq(rtc, 1);
	}
}

void mc146818_init(struct mc146818 *rtc, mc146818_clock_fn *clock, mc146818_irq_fn *irq,
                   void *opaque)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->clock = clock;
	rtc->irq = irq;
	rtc->opaque = opaque;
	rtc->a = RTC_A_DV_RUN | 0x06; /* 1024 Hz, as PC firmware sets it (not enabled) */
	rtc->b = RTC_B_24H;
	rtc->seen_ns = guest_ns(rtc);
}

static uint8_t read_time(struct mc146818 *rtc, uint8_t reg)
{
	struct tm tm;

	if (rtc->b & RTC_B_SET)
		return reg == RTC_CENTURY ? rtc->held_century : rtc->held[reg];
	to_tm(floor_div(guest_ns(rtc), NS), &tm);
	switch (reg) {
	case RTC_SECONDS: return encode(rtc, tm.tm_sec);
	case RTC_MINUTES: return encode(rtc, tm.tm_min);
	case RTC_HOURS: return encode_hour(rtc, tm.tm_hour);
	case RTC_DAY_OF_WEEK: return encode(rtc, tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH: return encode(rtc, tm.tm_mday);
	case RTC_MONTH: return encode(rtc, tm.tm_mon + 1);
	case RTC_YEAR: return encode(rtc, (tm.tm_year + 1900) % 100);
	default: return encode(rtc, (tm.tm_year + 1900) / 100); /* RTC_CENTURY */
	}
}

static bool is_time(uint8_t reg)
{
	return (reg <= RTC_YEAR && reg != RTC_SECONDS_ALARM && reg != RTC_MINUTES_ALARM &&
	        reg != RTC_HOURS_ALARM) ||
	       reg == RTC_CENTURY;
}

/* Whether @sec is within the range a guest may set. */
static bool in_range(const struct mc146818 *rtc, int64_t sec)
{
	int64_t host = floor_div(rtc->clock(rtc->opaque), NS);

	return sec - host <= RTC_MAX_OFFSET_SEC && host - sec <= RTC_MAX_OFFSET_SEC;
}

/* A write to one time register while the clock runs: the rest of the time
 * stays. The day of the week follows from the date, so a write of it is
 * dropped (under SET it is held like the others, and dropped at the end). */
static void write_time(struct mc146818 *rtc, uint8_t reg, uint8_t v)
{
	int64_t old = current_sec(rtc), sec;
	struct tm tm;
	int year;

	if (rtc->b & RTC_B_SET) {
		if (reg == RTC_CENTURY)
			rtc->held_century = v;
		else
			rtc->held[reg] = v;
		return;
	}
	to_tm(old, &tm);
	year = tm.tm_year + 1900;
	switch (reg) {
	case RTC_SECONDS: tm.tm_sec = decode(rtc, v); break;
	case RTC_MINUTES: tm.tm_min = decode(rtc, v); break;
	case RTC_HOURS: tm.tm_hour = decode_hour(rtc, v); break;
	case RTC_DAY_OF_MONTH: tm.tm_mday = decode(rtc, v); break;
	case RTC_MONTH: tm.tm_mon = decode(rtc, v) - 1; break;
	case RTC_YEAR: year = year / 100 * 100 + decode(rtc, v) % 100; break;
	case RTC_CENTURY: year = decode(rtc, v) * 100 + year % 100; break;
	default: return; /* RTC_DAY_OF_WEEK */
	}
	tm.tm_year = year - 1900;
	sec = (int64_t)timegm(&tm);
	if (!in_range(rtc, sec))
		return;
	rtc->offset_ns += (sec - old) * NS;
	rtc->seen_ns = guest_ns(rtc); /* a jump is not a string of updates */
}

/* The time the held registers say, in the mode of register B; -1 if it is
 * out of the range a guest may set. */
static int64_t held_sec(const struct mc146818 *rtc)
{
	struct tm tm = {
	    .tm_sec = decode(rtc, rtc->held[RTC_SECONDS]),
	    .tm_min = decode(rtc, rtc->held[RTC_MINUTES]),
	    .tm_hour = decode_hour(rtc, rtc->held[RTC_HOURS]),
	    .tm_mday = decode(rtc, rtc->held[RTC_DAY_OF_MONTH]),
	    .tm_mon = decode(rtc, rtc->held[RTC_MONTH]) - 1,
	    .tm_year = decode(rtc, rtc->held_century) * 100 +
	               decode(rtc, rtc->held[RTC_YEAR]) % 100 - 1900,
	};
	int64_t sec = (int64_t)timegm(&tm);

	return in_range(rtc, sec) ? sec : -1;
}

static void write_b(struct mc146818 *rtc, uint8_t v)
{
	bool was_set = rtc->b & RTC_B_SET;

	if ((v & RTC_B_SET) && !was_set) {
		update_flags(rtc);
		rtc->frozen_sec = current_sec(rtc);
		for (uint8_t r = RTC_SECONDS; r <= RTC_YEAR; r++)
			if (is_time(r))
				rtc->held[r] = read_time(rtc, r);
		rtc->held_century = read_time(rtc, RTC_CENTURY);
		v &= (uint8_t)~RTC_B_UIE; /* the datasheet: SET clears UIE */
	}
	if (!(v & RTC_B_SET) && was_set) {
		int64_t sec;

		rtc->b = v; /* the held registers are read in the mode the guest leaves */
		sec = held_sec(rtc);
		/* updates go on from the second set, its first one a second away;
		 * a time out of range leaves the clock where SET found it */
		rtc->offset_ns = (sec < 0 ? rtc->frozen_sec : sec) * NS - rtc->clock(rtc->opaque);
		rtc->seen_ns = guest_ns(rtc);
	}
	rtc->b = v;
	update_flags(rtc);
}

uint8_t mc146818_read(struct mc146818 *rtc, uint16_t port)
{
	uint8_t reg = rtc->index, v;

	if (port == RTC_INDEX_PORT)
		return 0xff; /* write-only on PCs */
	if (is_time(reg))
		return read_time(rtc, reg);
	switch (reg) {
	case RTC_REG_A: {
		int64_t into = guest_ns(rtc) % NS;

		if (into < 0)
			into += NS;
		v = rtc->a;
		if (running(rtc) && !(rtc->b & RTC_B_SET) && into >= NS - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	}
	case RTC_REG_B: return rtc->b;
	case RTC_REG_C:
		update_flags(rtc);
		v = rtc->c;
		rtc->c = 0;
		set_irq(rtc, 0);
		return v;
	case RTC_REG_D: return RTC_D_VRT;
	default: return rtc->ram[reg];
	}
}

void mc146818_write(struct mc146818 *rtc, uint16_t port, uint8_t v)
{
	if (port == RTC_INDEX_PORT) {
		rtc->index = v & (RTC_NR_REGS - 1);
		rtc->nmi_masked = v & 0x80;
		return;
	}
	if (is_time(rtc->index)) {
		write_time(rtc, rtc->index, v);
		return;
	}
	switch (rtc->index) {
	case RTC_REG_A:
		update_flags(rtc); /* flags up to now at the old rate */
		rtc->a = v & (uint8_t)~RTC_A_UIP;
		break;
	case RTC_REG_B: write_b(rtc, v); break;
	case RTC_REG_C:
	case RTC_REG_D: break; /* read-only */
	default: rtc->ram[rtc->index] = v; break;
	}
}

int64_t mc146818_tick(struct mc146818 *rtc)
{
	int64_t now, next = -1;
	int shift = periodic_shift(rtc);

	update_flags(rtc);
	/* nothing to raise until the guest reads C (which arms the timer again) */
	if (!running(rtc) || (rtc->c & RTC_C_IRQF))
		return -1;
	now = guest_ns(rtc);
	if ((rtc->b & RTC_B_PIE) && shift >= 0) {
		int64_t t = periodic_ticks(now, shift) + 1;

		/* the first guest ns at which periodic_ticks reaches t */
		next = (int64_t)ceil_div128((__int128)t * ((__int128)1 << shift) * NS, 32768);
	}
	if ((rtc->b & (RTC_B_UIE | RTC_B_AIE)) && !(rtc->b & RTC_B_SET)) {
		int64_t s = (floor_div(now, NS) + 1) * NS;

		if (next < 0 || s < next)
			next = s;
	}
	return next < 0 ? -1 : next - rtc->offset_ns;
}
