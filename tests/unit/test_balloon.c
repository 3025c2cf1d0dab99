// SPDX-License-Identifier: MIT
/* virtio-balloon: the statistics parser on its own, then the device through its registers with
 * its rings in guest RAM (no KVM): queue layout by feature, target and actual, inflate and
 * deflate accounting, hostile page frames, the statistics cycle and the control plane's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bus.h"
#include "config.h"
#include "device.h"
#include "evloop.h"
#include "mem.h"
#include "metrics.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QSIZE       8
#define RING(q)     (0x100000ULL + 0x1000ULL * (q))
#define AVAIL(q)    (RING(q) + 0x200)
#define USED(q)     (RING(q) + 0x400)
#define BUF         0x200000ULL
#define PAGES       0x300000ULL /* pages the guest inflates */
#define RAM_MIB     16
#define F_STATS     (1U << 1)
#define F_OOM       (1U << 2)
#define F_REPORTING (1U << 5)

enum { REG_FEATURES = 0x010, REG_FEATURES_SEL = 0x014, REG_QUEUE_SEL = 0x030 };
enum { REG_QUEUE_NUM_MAX = 0x034, REG_NOTIFY = 0x050, REG_ISR = 0x060, REG_STATUS = 0x070 };
enum { REG_GEN = 0x0fc, REG_NUM_PAGES = 0x100, REG_ACTUAL = 0x104 };

static struct vm vm;
static struct guest_mem *m = &vm.mem;
static struct vm_devices devs;
static const struct device *dev;
static uint16_t avail_idx[4];

/* --- the statistics parser ------------------------------------------- */

/* Appends entry (@tag, @val) to @buf at entry @i. */
static void put_stat(uint8_t *buf, int i, uint16_t tag, uint64_t val)
{
	memcpy(buf + BALLOON_STAT_SIZE * i, &tag, 2);
	memcpy(buf + BALLOON_STAT_SIZE * i + 2, &val, 8);
}

static void test_parse_every_tag(void **state)
{
	uint8_t buf[BALLOON_NR_STATS * BALLOON_STAT_SIZE];
	struct balloon_stats s = {0};
	struct err e;

	(void)state;
	for (int i = 0; i < BALLOON_NR_STATS; i++)
		put_stat(buf, i, (uint16_t)i, 1000ULL * i + 0x100000000ULL);
	assert_int_equal(balloon_stats_parse(buf, sizeof(buf), &s, &e), 0);
	for (int i = 0; i < BALLOON_NR_STATS; i++) {
		assert_true(s.has[i]);
		assert_int_equal(s.val[i], 1000ULL * i + 0x100000000ULL);
	}
}

static void test_parse_unknown_tag_ignored(void **state)
{
	uint8_t buf[3 * BALLOON_STAT_SIZE];
	struct balloon_stats s = {0};
	struct err e;

	(void)state;
	put_stat(buf, 0, BALLOON_S_MEMFREE, 77);
	put_stat(buf, 1, 10, 1); /* OOM_KILL in Linux 6.12: not ours */
	put_stat(buf, 2, 0xffff, 2);
	assert_int_equal(balloon_stats_parse(buf, sizeof(buf), &s, &e), 0);
	assert_true(s.has[BALLOON_S_MEMFREE]);
	assert_int_equal(s.val[BALLOON_S_MEMFREE], 77);
	for (int i = 0; i < BALLOON_NR_STATS; i++)
		assert_int_equal(s.has[i], i == BALLOON_S_MEMFREE);
	assert_int_equal(balloon_stats_parse(buf, 0, &s, &e), 0); /* no entries: nothing new */
	assert_true(s.has[BALLOON_S_MEMFREE]);
}

static void test_parse_refuses_odd_and_oversized(void **state)
{
	uint8_t buf[BALLOON_STATS_MAX + BALLOON_STAT_SIZE] = {0};
	struct balloon_stats s = {0};
	struct err e = {{0}};

	(void)state;
	put_stat(buf, 0, BALLOON_S_MEMTOT, 5);
	assert_int_equal(balloon_stats_parse(buf, 13, &s, &e), -1);
	assert_non_null(strstr(e.msg, "13 bytes"));
	assert_false(s.has[BALLOON_S_MEMTOT]); /* untouched */
	assert_int_equal(balloon_stats_parse(buf, 9, &s, &e), -1);
	assert_int_equal(balloon_stats_parse(buf, sizeof(buf), &s, &e), -1);
	assert_non_null(strstr(e.msg, "at most"));
	assert_false(s.has[BALLOON_S_MEMTOT]);
	assert_int_equal(balloon_stats_parse(buf, BALLOON_STATS_MAX, &s, &e), 0);
	assert_true(s.has[BALLOON_S_MEMTOT]);
}

/* --- the device ------------------------------------------------------ */

static void wr(uint64_t off, uint32_t v)
{
	assert_true(bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + off, (uint8_t *)&v, 4, true));
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	assert_true(bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + off, (uint8_t *)&v, 4, false));
	return v;
}

/* A VM of RAM_MIB with the balloon @c (NULL: none), its device planned and
 * initialised; -1 if that fails. */
static int start(const struct balloon_config *c)
{
	struct err e;

	memset(&vm, 0, sizeof(vm));
	memset(avail_idx, 0, sizeof(avail_idx));
	vm.vm_fd = vm.kvm_fd = vm.done_fd = -1;
	if (evloop_init(&vm.io, &e) < 0 || mem_layout(m, RAM_MIB * MiB, &e) < 0 ||
	    mem_map(m, &e) < 0)
		fail_msg("no VM: %s", e.msg);
	memset(&devs, 0, sizeof(devs));
	if (c)
		devs.balloon = *c;
	vm.devs = &devs;
	bus_reset();
	dev = device_find("balloon");
	assert_non_null(dev);
	if (dev->plan(&vm) < 0)
		return -1;
	return dev->init(&vm);
}

static int teardown(void **state)
{
	(void)state;
	dev->stop(&vm);
	evloop_destroy(&vm.io);
	mem_unmap(m);
	return 0;
}

static void start_ok(bool stats, bool reporting, uint32_t amount_mib)
{
	struct balloon_config c = {.on = true,
	                           .amount_mib = amount_mib,
	                           .stats_polling_interval_s = stats ? 3600 : 0,
	                           .free_page_reporting = reporting};

	assert_int_equal(start(&c), 0);
}

static void queue_setup(uint32_t q)
{
	wr(REG_QUEUE_SEL, q);
	wr(0x038, QSIZE);
	wr(0x080, (uint32_t)RING(q));
	wr(0x090, (uint32_t)AVAIL(q));
	wr(0x0a0, (uint32_t)USED(q));
	wr(0x044, 1);
}

/* The driver takes @features (and VERSION_1), sets up @nq queues and runs. */
static void driver_up(uint32_t features, uint32_t nq)
{
	wr(REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x024, 0);
	wr(0x020, features);
	wr(0x024, 1);
	wr(0x020, 1);
	wr(REG_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(REG_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t q = 0; q < nq; q++)
		queue_setup(q);
	wr(REG_STATUS, rd(REG_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

static void set_desc(int q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = guest_ptr(m, RING(q) + 16ULL * i, 16);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Makes chain @head available on queue @q, notifies, lets the I/O thread run. */
static void offer(int q, uint16_t head)
{
	uint8_t *a = guest_ptr(m, AVAIL(q), 4 + 2 * QSIZE);

	memcpy(a + 4 + 2 * (avail_idx[q] % QSIZE), &head, 2);
	avail_idx[q]++;
	memcpy(a + 2, &avail_idx[q], 2);
	wr(REG_NOTIFY, (uint32_t)q);
	evloop_run_once(&vm.io, 0);
}

static uint16_t used_idx(int q)
{
	uint16_t v;

	memcpy(&v, guest_ptr(m, USED(q) + 2, 2), 2);
	return v;
}

/* An inflate (q 0) or deflate (q 1) chain of @n page frames, descriptor @i. */
static void offer_pfns(int q, uint16_t i, const uint32_t *pfns, uint32_t n)
{
	uint64_t at = BUF + 0x1000ULL * i;

	memcpy(guest_ptr(m, at, 4ULL * n), pfns, 4ULL * n);
	set_desc(q, i, at, 4 * n, 0, 0);
	offer(q, i);
}

static void fill(uint64_t gpa, uint64_t len)
{
	memset(guest_ptr(m, gpa, len), 0xab, len);
}

static uint8_t byte_at(uint64_t gpa)
{
	return *(uint8_t *)guest_ptr(m, gpa, 1);
}

static uint64_t held(void)
{
	uint64_t pages = 0;
	struct err e;

	assert_int_equal(balloon_get_held(&vm, &pages, &e), 0);
	return pages;
}

static void test_features_and_queues_by_config(void **state)
{
	(void)state;
	for (int combo = 0; combo < 8; combo++) {
		bool stats = combo & 1, reporting = combo & 2, oom = combo & 4;
		struct balloon_config c = {.on = true,
		                           .deflate_on_oom = oom,
		                           .stats_polling_interval_s = stats ? 5 : 0,
		                           .free_page_reporting = reporting};
		uint32_t nq = 2 + stats + reporting, f;

		assert_int_equal(start(&c), 0);
		wr(REG_FEATURES_SEL, 0);
		f = rd(REG_FEATURES);
		assert_int_equal(f, (stats ? F_STATS : 0) | (oom ? F_OOM : 0) |
		                        (reporting ? F_REPORTING : 0));
		wr(REG_FEATURES_SEL, 1);
		assert_int_equal(rd(REG_FEATURES), 1); /* VIRTIO_F_VERSION_1 */
		for (uint32_t q = 0; q <= nq; q++) {
			wr(REG_QUEUE_SEL, q);
			assert_int_equal(rd(REG_QUEUE_NUM_MAX), q < nq ? VIRTQ_MAX_SIZE : 0);
		}
		teardown(NULL);
	}
}

/* A free page report on queue @q: the block's RAM goes back (reads 0). */
static void assert_report_on(int q)
{
	uint16_t before = used_idx(q);

	fill(PAGES, 2 * PAGE_SIZE);
	set_desc(q, 0, PAGES, 2 * PAGE_SIZE, VIRTQ_DESC_F_WRITE, 0);
	offer(q, 0);
	assert_int_equal(used_idx(q), (uint16_t)(before + 1));
	assert_int_equal(byte_at(PAGES), 0);
	assert_int_equal(byte_at(PAGES + PAGE_SIZE), 0);
}

/* A statistics buffer on queue @q: the device keeps it. */
static void offer_stats(int q, uint16_t i, uint16_t tag, uint64_t val)
{
	uint8_t entry[BALLOON_STAT_SIZE];

	put_stat(entry, 0, tag, val);
	memcpy(guest_ptr(m, BUF + 0x8000 + 0x100ULL * i, sizeof(entry)), entry, sizeof(entry));
	set_desc(q, i, BUF + 0x8000 + 0x100ULL * i, sizeof(entry), 0, 0);
	offer(q, i);
}

/* The reporting queue follows the statistics queue only if the driver took
 * STATS_VQ; an older driver's reporting queue is queue 2. */
static void test_queue_layout_follows_driver(void **state)
{
	struct err e;

	(void)state;
	start_ok(true, true, 0);
	driver_up(F_REPORTING, 3);
	assert_report_on(2);
	teardown(NULL);

	start_ok(true, true, 0);
	driver_up(F_STATS | F_REPORTING, 4);
	offer_stats(2, 0, BALLOON_S_MEMFREE, 1);
	assert_int_equal(used_idx(2), 0); /* held, not reported */
	assert_report_on(3);
	teardown(NULL);

	start_ok(false, true, 0);
	driver_up(F_REPORTING, 3);
	assert_report_on(2);
	assert_int_equal(balloon_get_stats(&vm, &(struct balloon_stats){0}, &e), -1);
	teardown(NULL);

	start_ok(true, false, 0);
	driver_up(F_STATS, 3);
	offer_stats(2, 0, BALLOON_S_MEMFREE, 1);
	assert_int_equal(used_idx(2), 0);
	wr(REG_QUEUE_SEL, 3);
	assert_int_equal(rd(REG_QUEUE_NUM_MAX), 0);
}

static void test_target_and_actual(void **state)
{
	uint32_t gen, mib = 99;
	struct err e = {{0}};

	(void)state;
	start_ok(false, true, 4);
	assert_int_equal(rd(REG_NUM_PAGES), 4 * 256);
	assert_int_equal(rd(REG_ACTUAL), 0);
	/* before the driver runs: the target changes, no interrupt */
	assert_int_equal(balloon_set_target(&vm, 2, &e), 0);
	assert_int_equal(rd(REG_NUM_PAGES), 2 * 256);
	assert_int_equal(rd(REG_ISR), 0);
	driver_up(F_REPORTING, 3);
	gen = rd(REG_GEN);
	assert_int_equal(balloon_set_target(&vm, 8, &e), 0);
	assert_int_equal(rd(REG_NUM_PAGES), 8 * 256);
	assert_int_not_equal(rd(REG_GEN), gen);
	assert_true(rd(REG_ISR) & 2); /* configuration change */
	/* the driver reports its size; it cannot move the target */
	wr(REG_ACTUAL, 3 * 256 + 10);
	wr(REG_NUM_PAGES, 1);
	assert_int_equal(rd(REG_NUM_PAGES), 8 * 256);
	assert_int_equal(balloon_get_actual(&vm, &mib, &e), 0);
	assert_int_equal(mib, 3);
	/* all of guest RAM is allowed, more is not */
	assert_int_equal(balloon_set_target(&vm, RAM_MIB, &e), 0);
	assert_int_equal(balloon_set_target(&vm, RAM_MIB + 1, &e), -1);
	assert_non_null(strstr(e.msg, "Amount of pages requested is too large"));
	assert_int_equal(balloon_set_target(&vm, UINT32_MAX, &e), -1);
	assert_int_equal(rd(REG_NUM_PAGES), RAM_MIB * 256);
	/* a reset empties the balloon */
	wr(REG_STATUS, 0);
	assert_int_equal(balloon_get_actual(&vm, &mib, &e), 0);
	assert_int_equal(mib, 0);
	assert_int_equal(rd(REG_NUM_PAGES), RAM_MIB * 256);
}

static void test_target_too_large_at_boot(void **state)
{
	struct balloon_config c = {.on = true, .amount_mib = RAM_MIB + 1};

	(void)state;
	assert_int_equal(start(&c), -1);
	evloop_destroy(&vm.io);
	mem_unmap(m);
	c.amount_mib = RAM_MIB;
	assert_int_equal(start(&c), 0);
}

static void test_no_balloon(void **state)
{
	struct balloon_config off = {.on = false, .free_page_reporting = true};
	struct balloon_stats s;
	uint32_t mib;
	struct err e = {{0}};

	(void)state;
	assert_int_equal(start(&off), 0);
	assert_int_equal(vm.virtio_slots, 0);
	assert_int_equal(balloon_set_target(&vm, 1, &e), -1);
	assert_non_null(strstr(e.msg, "no balloon"));
	assert_int_equal(balloon_get_actual(&vm, &mib, &e), -1);
	assert_int_equal(balloon_get_stats(&vm, &s, &e), -1);
	assert_int_equal(balloon_set_stats_interval(&vm, 1, &e), -1);
	balloon_stats_poll(&vm);
	teardown(NULL);
	/* a VM without a device configuration at all */
	assert_int_equal(start(NULL), 0);
	vm.devs = NULL;
	assert_int_equal(dev->plan(&vm), 0);
	assert_int_equal(dev->init(&vm), 0);
	assert_int_equal(vm.virtio_slots, 0);
	assert_int_equal(balloon_get_actual(&vm, &mib, &e), -1);
}

static void test_inflate_deflate_accounting(void **state)
{
	uint32_t in[3] = {PAGES >> 12, (PAGES >> 12) + 1, (PAGES >> 12) + 3};
	uint32_t out[2] = {PAGES >> 12, (PAGES >> 12) + 1};
	uint64_t inflated = metrics_get(METRIC_balloon_inflate_count);
	uint64_t deflated = metrics_get(METRIC_balloon_deflate_count);

	(void)state;
	start_ok(false, false, 1);
	driver_up(0, 2);
	fill(PAGES, 4 * PAGE_SIZE);
	offer_pfns(0, 0, in, 3);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(byte_at(PAGES), 0); /* given back */
	assert_int_equal(byte_at(PAGES + PAGE_SIZE), 0);
	assert_int_equal(byte_at(PAGES + 2 * PAGE_SIZE), 0xab); /* not in the balloon */
	assert_int_equal(byte_at(PAGES + 3 * PAGE_SIZE), 0);
	assert_int_equal(held(), 3);
	assert_int_equal(metrics_get(METRIC_balloon_inflate_count) - inflated, 3);
	offer_pfns(1, 1, out, 2);
	assert_int_equal(used_idx(1), 1);
	assert_int_equal(held(), 1);
	assert_int_equal(metrics_get(METRIC_balloon_deflate_count) - deflated, 2);
	offer_pfns(1, 2, out, 2); /* more than it holds: counted down to 0 */
	assert_int_equal(held(), 0);
	offer_pfns(0, 3, in, 3);
	assert_int_equal(held(), 3);
	wr(REG_STATUS, 0); /* the driver's reset: its balloon is gone */
	assert_int_equal(held(), 0);
}

/* One hostile inflate or deflate chain: the device stops, naming it; the
 * driver's reset brings it back. */
static void assert_pfns_refused(int q, const uint32_t *pfns, uint32_t n)
{
	start_ok(false, false, 0);
	driver_up(0, 2);
	offer_pfns(q, 0, pfns, n);
	assert_true(rd(REG_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(used_idx(q), 0);
	assert_int_equal(held(), 0);
	teardown(NULL);
}

static void test_hostile_pfns(void **state)
{
	uint32_t beyond[2] = {PAGES >> 12, RAM_MIB * 256};
	uint32_t top[1] = {0xffffffff};
	uint32_t hole[1] = {(uint32_t)(MEM_HOLE_START >> 12)};
	static uint32_t many[257];

	(void)state;
	assert_pfns_refused(0, beyond, 2);
	assert_pfns_refused(0, top, 1);
	assert_pfns_refused(0, hole, 1);
	assert_pfns_refused(1, beyond, 2);
	assert_pfns_refused(1, top, 1);
	for (int i = 0; i < 257; i++)
		many[i] = (uint32_t)(PAGES >> 12);
	assert_pfns_refused(0, many, 257);
	assert_pfns_refused(1, many, 257);
	/* 256 is what a driver sends: fine */
	start_ok(false, false, 0);
	driver_up(0, 2);
	offer_pfns(0, 0, many, 256);
	assert_false(rd(REG_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(held(), 256);
}

static struct balloon_stats get_stats(void)
{
	struct balloon_stats s;
	struct err e;

	assert_int_equal(balloon_get_stats(&vm, &s, &e), 0);
	return s;
}

static void test_stats_cycle(void **state)
{
	uint64_t updates = metrics_get(METRIC_balloon_stats_updates_count);
	struct balloon_stats s;

	(void)state;
	start_ok(true, true, 2);
	driver_up(F_STATS | F_REPORTING, 4);
	s = get_stats(); /* nothing from the guest yet */
	assert_int_equal(s.target_pages, 512);
	assert_int_equal(s.target_mib, 2);
	assert_false(s.has[BALLOON_S_MEMFREE]);
	offer_stats(2, 0, BALLOON_S_MEMFREE, 4096);
	wr(REG_ACTUAL, 256);
	s = get_stats();
	assert_true(s.has[BALLOON_S_MEMFREE]);
	assert_int_equal(s.val[BALLOON_S_MEMFREE], 4096);
	assert_int_equal(s.actual_pages, 256);
	assert_int_equal(s.actual_mib, 1);
	assert_int_equal(metrics_get(METRIC_balloon_stats_updates_count) - updates, 1);
	/* the interval: the buffer goes back, the guest refills it */
	assert_int_equal(used_idx(2), 0);
	wr(0x064, rd(REG_ISR));
	balloon_stats_poll(&vm);
	assert_int_equal(used_idx(2), 1);
	assert_true(rd(REG_ISR) & 1);
	balloon_stats_poll(&vm); /* nothing held: nothing to give */
	assert_int_equal(used_idx(2), 1);
	offer_stats(2, 1, BALLOON_S_MEMFREE, 8192);
	assert_int_equal(get_stats().val[BALLOON_S_MEMFREE], 8192);
	/* a second buffer while the device holds one: the older one goes back */
	offer_stats(2, 2, BALLOON_S_AVAIL, 5);
	assert_int_equal(used_idx(2), 2);
	assert_int_equal(get_stats().val[BALLOON_S_AVAIL], 5);
	assert_int_equal(get_stats().val[BALLOON_S_MEMFREE], 8192);
}

/* A new interval brings the first update at once, through the timerfd. */
static void test_stats_interval_timer(void **state)
{
	struct err e;

	(void)state;
	start_ok(true, false, 0);
	driver_up(F_STATS, 3);
	offer_stats(2, 0, BALLOON_S_MEMTOT, 1);
	assert_int_equal(balloon_set_stats_interval(&vm, 7, &e), 0);
	for (int i = 0; i < 50 && used_idx(2) == 0; i++)
		evloop_run_once(&vm.io, 20);
	assert_int_equal(used_idx(2), 1);
}

static void test_stats_refused(void **state)
{
	uint8_t raw[BALLOON_STATS_MAX + BALLOON_STAT_SIZE] = {0};
	uint64_t updates = metrics_get(METRIC_balloon_stats_updates_count);

	(void)state;
	start_ok(true, false, 0);
	driver_up(F_STATS, 3);
	/* an odd length: refused, the device goes on and keeps the buffer */
	put_stat(raw, 0, BALLOON_S_MEMFREE, 1);
	memcpy(guest_ptr(m, BUF, sizeof(raw)), raw, sizeof(raw));
	set_desc(2, 0, BUF, 13, 0, 0);
	offer(2, 0);
	assert_false(rd(REG_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(get_stats().has[BALLOON_S_MEMFREE]);
	balloon_stats_poll(&vm);
	assert_int_equal(used_idx(2), 1);
	/* too large, in one buffer or two */
	set_desc(2, 1, BUF, sizeof(raw), 0, 0);
	offer(2, 1);
	set_desc(2, 2, BUF, BALLOON_STATS_MAX, VIRTQ_DESC_F_NEXT, 3);
	set_desc(2, 3, BUF, BALLOON_STAT_SIZE, 0, 0);
	offer(2, 2);
	assert_false(rd(REG_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(get_stats().has[BALLOON_S_MEMFREE]);
	assert_int_equal(metrics_get(METRIC_balloon_stats_updates_count), updates);
	/* whole entries split over two buffers: fine */
	set_desc(2, 4, BUF, BALLOON_STAT_SIZE, VIRTQ_DESC_F_NEXT, 5);
	set_desc(2, 5, 0xfffffffffffff000ULL, 0, 0, 0); /* no bytes: wherever */
	offer(2, 4);
	assert_true(get_stats().has[BALLOON_S_MEMFREE]);
	assert_int_equal(used_idx(2), 3); /* 0 polled, 1 and 2 replaced */
}

static void test_stats_interval_rules(void **state)
{
	struct balloon_stats s;
	struct err e = {{0}};

	(void)state;
	start_ok(true, false, 0);
	assert_int_equal(balloon_set_stats_interval(&vm, 0, &e), -1);
	assert_non_null(strstr(e.msg, "Cannot enable/disable statistics after boot."));
	assert_int_equal(balloon_set_stats_interval(&vm, 3600, &e), 0);
	assert_int_equal(balloon_set_stats_interval(&vm, 10, &e), 0);
	assert_int_equal(balloon_get_stats(&vm, &s, &e), 0);
	teardown(NULL);

	start_ok(false, false, 0);
	assert_int_equal(balloon_set_stats_interval(&vm, 5, &e), -1);
	assert_non_null(strstr(e.msg, "Cannot enable/disable statistics after boot."));
	assert_int_equal(balloon_set_stats_interval(&vm, 0, &e), 0);
	assert_int_equal(balloon_get_stats(&vm, &s, &e), -1);
	assert_non_null(strstr(e.msg, "statistics are not enabled"));
}

/* A driver that takes STATS_VQ never offered: refused at FEATURES_OK, and
 * its queue 2 is no statistics queue. */
static void test_feature_not_offered(void **state)
{
	(void)state;
	start_ok(false, false, 0);
	wr(REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x024, 0);
	wr(0x020, F_STATS);
	wr(0x024, 1);
	wr(0x020, 1);
	wr(REG_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(rd(REG_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr(REG_QUEUE_SEL, 2);
	assert_int_equal(rd(REG_QUEUE_NUM_MAX), 0);
}

#define T(t) cmocka_unit_test_teardown(t, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_every_tag),
	    cmocka_unit_test(test_parse_unknown_tag_ignored),
	    cmocka_unit_test(test_parse_refuses_odd_and_oversized),
	    cmocka_unit_test(test_features_and_queues_by_config),
	    T(test_queue_layout_follows_driver),
	    T(test_target_and_actual),
	    T(test_target_too_large_at_boot),
	    T(test_no_balloon),
	    T(test_inflate_deflate_accounting),
	    T(test_hostile_pfns),
	    T(test_stats_cycle),
	    T(test_stats_interval_timer),
	    T(test_stats_refused),
	    T(test_stats_interval_rules),
	    T(test_feature_not_offered),
	};

	return cmocka_run_group_tests_name("balloon", tests, NULL, NULL);
}
