// SPDX-License-Identifier: MIT
/* The PC's RTC at ports 0x70/0x71, IRQ 8: an MC146818 (mc146818.c) on the host's clock. A
 * guest that probes it (Linux's rtc_cmos without ACPI, whose MP-table machine has one on every
 * PC) finds it answering at once, instead of waiting out its update-in-progress loops on ports
 * that read 0xff. With ACPI the FADT says there is no CMOS RTC (IAPC_BOOT_ARCH bit 5), which
 * Linux honours by not probing at all: the fastest boot; the wall clock comes from kvm-clock.
 * Its interrupts (periodic, alarm, update-ended) come from a timerfd on the I/O thread, armed
 * only while the guest has one enabled. */
#include "../bus.h"
#include "../device.h"
#include "../err.h"
#include "../evloop.h"
#include "../snapshot/stream.h"
#include "../vm.h"
#include "mc146818.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RTC_IRQ        8
#define RTC_MAX_OFFSET (RTC_MAX_OFFSET_SEC * 1000000000LL)

static struct rtc {
	struct mc146818 chip;
	struct vm *vm;
	pthread_mutex_t lock; /* the chip: vCPUs and the I/O thread */
	struct ev_source timer;
} rtc = {.lock = PTHREAD_MUTEX_INITIALIZER, .timer = {.fd = -1}};

static int64_t host_clock(void *opaque)
{
	struct timespec t;

	(void)opaque;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void raise_irq(struct mc146818 *chip, int level)
{
	(void)chip;
	if (rtc.vm && rtc.vm->vm_fd >= 0)
		vm_irq_line(rtc.vm, RTC_IRQ, level);
}

/* Arms the timer for the chip's next enabled event, or disarms it. Under the lock. With no
 * interrupt enabled the chip is left alone: its flags are worked out when the guest reads
 * register C (and a snapshot saved and loaded again reads the same). */
static void arm(struct rtc *r)
{
	struct itimerspec t = {0};
	int64_t next = -1;

	if (r->chip.b & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE))
		next = mc146818_tick(&r->chip);
	if (r->timer.fd < 0)
		return;
	if (next >= 0) {
		t.it_value.tv_sec = next / 1000000000LL;
		t.it_value.tv_nsec = next % 1000000000LL;
		if (!t.it_value.tv_sec && !t.it_value.tv_nsec)
			t.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(r->timer.fd, TFD_TIMER_ABSTIME, &t, NULL) < 0)
		warnx_("rtc: timerfd_settime: %s", strerror(errno));
}

static void on_timer(void *opaque, uint32_t events)
{
	struct rtc *r = opaque;
	uint64_t n;

	(void)events;
	if (read(r->timer.fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&r->lock);
	arm(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_access(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                       bool is_write, void *opaque)
{
	struct rtc *r = opaque;
	uint16_t port = (uint16_t)(RTC_INDEX_PORT + offset);

	(void)vcpu;
	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (!is_write) {
			data[i] = mc146818_read(&r->chip, port);
			continue;
		}
		mc146818_write(&r->chip, port, data[i]);
	}
	/* a rate or an enable bit changed, or register C was read: the next event moved */
	if (port == RTC_DATA_PORT &&
	    (is_write ? r->chip.index == RTC_REG_A || r->chip.index == RTC_REG_B
	              : r->chip.index == RTC_REG_C))
		arm(r);
	pthread_mutex_unlock(&r->lock);
}

static int rtc_init(struct vm *vm)
{
	rtc.vm = vm;
	mc146818_init(&rtc.chip, host_clock, raise_irq, &rtc);
	rtc.timer = (struct ev_source){timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK),
	                               on_timer, &rtc};
	if (rtc.timer.fd < 0) {
		warnx_("rtc: timerfd: %s", strerror(errno));
		return -1;
	}
	if (evloop_add(&vm->io, &rtc.timer, EPOLLIN) < 0) {
		warnx_("rtc: epoll: %s", strerror(errno));
		close(rtc.timer.fd);
		rtc.timer.fd = -1;
		return -1;
	}
	return bus_register(BUS_PIO, RTC_INDEX_PORT, 2, rtc_access, &rtc);
}

static void rtc_stop(struct vm *vm)
{
	if (rtc.timer.fd >= 0) {
		evloop_del(&vm->io, &rtc.timer);
		close(rtc.timer.fd);
	}
	rtc.timer.fd = -1;
}

DEVICE_REGISTER(rtc, rtc_init, rtc_stop);

/* What a snapshot keeps: the registers and RAM, and the guest's offset from the host's clock
 * (a restored guest's RTC goes on from the host's time, plus what the guest set). */
struct rtc_wire {
	uint8_t index, nmi_masked, a, b, c, pad[3];
	int64_t offset_ns;
	int64_t frozen_sec;
	uint8_t ram[RTC_NR_REGS];
	uint8_t held[RTC_YEAR + 1], held_century, pad2[5];
};

static int rtc_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	struct rtc_wire s = {0};

	(void)vm, (void)e;
	pthread_mutex_lock(&rtc.lock);
	s.index = rtc.chip.index;
	s.nmi_masked = rtc.chip.nmi_masked;
	s.a = rtc.chip.a;
	s.b = rtc.chip.b;
	s.c = rtc.chip.c;
	s.offset_ns = rtc.chip.offset_ns;
	s.frozen_sec = rtc.chip.frozen_sec;
	memcpy(s.ram, rtc.chip.ram, sizeof(s.ram));
	memcpy(s.held, rtc.chip.held, sizeof(s.held));
	s.held_century = rtc.chip.held_century;
	pthread_mutex_unlock(&rtc.lock);
	snap_put_device(w, "rtc", &s, sizeof(s));
	return 0;
}

/* A snapshot from before the RTC was saved has no record: the RTC stays as reset. */
static int rtc_load(struct vm *vm, struct snap *snap, struct err *e)
{
	const uint8_t *data;
	struct rtc_wire s;
	uint64_t len;

	(void)vm;
	if (!snap_get_device(snap, "rtc", &data, &len))
		return 0;
	if (len != sizeof(s))
		return err_set(e, "rtc: %llu bytes of state, not %zu", (unsigned long long)len,
		               sizeof(s));
	memcpy(&s, data, sizeof(s));
	if (s.index >= RTC_NR_REGS || s.nmi_masked > 1 || (s.a & RTC_A_UIP) ||
	    (s.c & (uint8_t) ~(RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF)) ||
	    s.frozen_sec < -RTC_MAX_OFFSET_SEC || s.frozen_sec > 2 * RTC_MAX_OFFSET_SEC ||
	    s.offset_ns > RTC_MAX_OFFSET || s.offset_ns < -RTC_MAX_OFFSET)
		return err_set(e, "rtc: register state out of range");
	pthread_mutex_lock(&rtc.lock);
	rtc.chip.index = s.index;
	rtc.chip.nmi_masked = s.nmi_masked;
	rtc.chip.a = s.a;
	rtc.chip.b = s.b;
	rtc.chip.c = s.c & (uint8_t)~RTC_C_IRQF; /* worked out again below */
	rtc.chip.offset_ns = s.offset_ns;
	rtc.chip.frozen_sec = s.frozen_sec;
	memcpy(rtc.chip.ram, s.ram, sizeof(s.ram));
	memcpy(rtc.chip.held, s.held, sizeof(s.held));
	rtc.chip.held_century = s.held_century;
	rtc.chip.seen_ns = rtc.chip.clock(rtc.chip.opaque) + rtc.chip.offset_ns;
	arm(&rtc);
	pthread_mutex_unlock(&rtc.lock);
	return 0;
}

DEVICE_STATE(rtc, rtc_save, rtc_load);
