/* SPDX-License-Identifier: MIT */
/* The MC146818 real-time clock and its CMOS RAM, as PCs have it at ports 0x70/0x71: the time
 * from the host's clock (UTC) plus whatever the guest set, in BCD or binary, 12 or 24 hours; the
 * update-in-progress bit for the 244 us before each second, as the datasheet times it; the
 * periodic, alarm and update-ended flags in register C (read clears them) and the interrupt they
 * raise; register D's valid-RAM-and-time bit; 114 bytes of RAM. */
#ifndef MOTE_HW_MC146818_H
#define MOTE_HW_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT  0x71

#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32 /* in CMOS RAM, as the ACPI FADT's century field names it */
#define RTC_NR_REGS       0x80

#define RTC_A_UIP     0x80 /* update in progress (read-only) */
#define RTC_A_DV_MASK 0x70 /* divider: 010 is the 32.768 kHz time base, running */
#define RTC_A_DV_RUN  0x20
#define RTC_A_RS_MASK 0x0f /* periodic rate */
#define RTC_B_SET     0x80 /* updates stop; the time registers take writes */
#define RTC_B_PIE     0x40
#define RTC_B_AIE     0x20
#define RTC_B_UIE     0x10
#define RTC_B_SQWE    0x08
#define RTC_B_DM      0x04 /* binary (1) or BCD (0) */
#define RTC_B_24H     0x02
#define RTC_B_DSE     0x01
#define RTC_C_IRQF    0x80
#define RTC_C_PF      0x40
#define RTC_C_AF      0x20
#define RTC_C_UF      0x10
#define RTC_D_VRT     0x80
#define RTC_HOUR_PM   0x80     /* 12-hour mode */
#define RTC_ALARM_ANY 0xc0     /* an alarm byte of 11xxxxxx matches every value */
#define RTC_UIP_NS    244000LL /* UIP rises this long before each update */
/* How far (s) the guest may set its time from the host's: some 126 years either way, so that
 * no sum of ns overflows; a time register write beyond it is dropped. */
#define RTC_MAX_OFFSET_SEC 4000000000LL

struct mc146818;

/* The host's clock: ns since the epoch (CLOCK_REALTIME for mote, a fake one for tests). */
typedef int64_t mc146818_clock_fn(void *opaque);
/* The IRQ line: 1 when register C's IRQF sets, 0 when a read of C clears it. */
typedef void mc146818_irq_fn(struct mc146818 *rtc, int level);

struct mc146818 {
	uint8_t index;   /* the register port 0x70 selected */
	bool nmi_masked; /* port 0x70's bit 7, kept for a snapshot (NMIs are not wired) */
	uint8_t ram[RTC_NR_REGS];
	uint8_t a, b, c;    /* registers A (less UIP), B, C */
	int64_t offset_ns;  /* guest time = host clock + offset_ns */
	int64_t frozen_sec; /* the time when SET was set */
	/* While SET: the time registers as the guest wrote them (RTC_SECONDS to
	 * RTC_YEAR, and the century), taken as one time when SET clears, as the
	 * chip's registers are: a date set field by field never passes through
	 * an impossible one (Feb 31 of a month written before its day). */
	uint8_t held[RTC_YEAR + 1];
	uint8_t held_century;
	int64_t seen_ns; /* guest time up to which the flags of C were worked out */
	int irq_level;
	mc146818_clock_fn *clock;
	mc146818_irq_fn *irq;
	void *opaque;
};

/* Resets @rtc to what a PC's firmware leaves: 24-hour BCD, the time base running, no
 * interrupt enabled, the time the host's (UTC). */
void mc146818_init(struct mc146818 *rtc, mc146818_clock_fn *clock, mc146818_irq_fn *irq,
                   void *opaque);

/* A guest read of @port (0x70 or 0x71). */
uint8_t mc146818_read(struct mc146818 *rtc, uint16_t port);

/* A guest write of @v to @port (0x70 or 0x71). */
void mc146818_write(struct mc146818 *rtc, uint16_t port, uint8_t v);

/* Works out the flags of register C up to now and raises the IRQ for an enabled one (the
 * timer's tick); returns the host time (ns) at which the next enabled event falls, or -1 if
 * none is enabled or the IRQ waits for the guest to read register C. */
int64_t mc146818_tick(struct mc146818 *rtc);

#endif
