// SPDX-License-Identifier: MIT
/* virtio-balloon (virtio 1.x, 5.5). The control plane sets a target (num_pages) that the guest
 * inflates towards; inflated pages go back to the host, and so, with free page reporting, do
 * the pages the guest frees, so that an idle VM costs what it uses, not what it once touched.
 * With a statistics queue the guest's memory statistics come every interval. balloon.h is the
 * control plane's side. */
#include "balloon.h"

#include "../config.h"
#include "../device.h"
#include "../err.h"
#include "../snapshot/stream.h"
#include "../metrics.h"
#include "../vm.h"
#include "mmio.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define VIRTIO_ID_BALLOON 5

#define VIRTIO_BALLOON_F_STATS_VQ       1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_REPORTING      5

#define BALLOON_PFN_SHIFT 12 /* PFNs on the inflate and deflate queues are 4 KiB pages */
#define PAGES_PER_MIB     (MiB >> BALLOON_PFN_SHIFT)

/* Config space (5.5.4): num_pages, the target, is the device's; actual the driver's. */
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL    4
#define CFG_SIZE      8

/* What a queue does. Its index follows from the features the driver took
 * (5.5.2): inflateq 0, deflateq 1, then statsq with STATS_VQ, then
 * reporting_vq with REPORTING; an absent queue takes no index. */
enum role { R_INFLATE, R_DEFLATE, R_STATS, R_REPORTING, R_NONE };

#define MAX_BUFS 64
/* Page frames in one inflate or deflate chain: Linux's driver sends at
 * most 256 (VIRTIO_BALLOON_ARRAY_PFNS_MAX); more is a guest making mote work. */
#define MAX_PFNS 256

/* One statistics entry as the driver lays it out. */
struct stat_entry {
	uint16_t tag; /* le16 */
	uint64_t val; /* le64 */
} __attribute__((packed));

_Static_assert(sizeof(struct stat_entry) == BALLOON_STAT_SIZE, "statistics entry layout");

static struct balloon {
	struct virtio_mmio dev;
	struct virtio_ops ops;
	bool on;    /* planned: the configuration asks for one */
	bool ready; /* initialised: the control plane may use it */
	int slot;
	uint32_t target;            /* num_pages */
	uint32_t stats_interval;    /* seconds; 0: no statistics queue */
	struct ev_source timer;     /* the statistics interval's timerfd, or fd -1 */
	bool stats_held;            /* the device holds the guest's statistics buffer */
	uint16_t stats_head;        /* its chain */
	struct balloon_stats stats; /* has and val: the latest the guest sent */
	uint64_t held;              /* pages inflated and not deflated */
	uint64_t returned;          /* bytes given back to the host */
} balloon = {.timer = {.fd = -1}};

static const struct balloon_config *config_of(const struct vm *vm)
{
	return vm->devs && vm->devs->balloon.on ? &vm->devs->balloon : NULL;
}

/* True if the driver took feature @bit and the device offered it. */
static bool took(const struct balloon *b, int bit)
{
	return virtio_mmio_has(&b->dev, bit) && (b->ops.features >> bit & 1);
}

static enum role queue_role(const struct balloon *b, int q)
{
	if (q < 2)
		return q == 0 ? R_INFLATE : R_DEFLATE;
	if (took(b, VIRTIO_BALLOON_F_STATS_VQ)) {
		if (q == 2)
			return R_STATS;
		q--;
	}
	return q == 2 && took(b, VIRTIO_BALLOON_F_REPORTING) ? R_REPORTING : R_NONE;
}

/* The statistics queue's index, or -1 if the driver did not take it. */
static int stats_queue(const struct balloon *b)
{
	return took(b, VIRTIO_BALLOON_F_STATS_VQ) ? 2 : -1;
}

static uint32_t cfg_get(const struct balloon *b, uint32_t off)
{
	uint32_t v;

	memcpy(&v, b->dev.config + off, 4);
	return le32toh(v);
}

static void cfg_put(struct balloon *b, uint32_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(b->dev.config + off, &v, 4);
}

/* @mib as 4 KiB pages; -1 with @e if that is more than guest RAM. */
static int mib_to_pages(const struct vm *vm, uint32_t mib, uint32_t *pages, struct err *e)
{
	uint64_t p = (uint64_t)mib * PAGES_PER_MIB;

	if (mib > vm->mem.size / MiB || p > UINT32_MAX)
		return err_set(
		    e, "Amount of pages requested is too large: %u MiB, guest RAM is %llu MiB", mib,
		    (unsigned long long)(vm->mem.size / MiB));
	*pages = (uint32_t)p;
	return 0;
}

/* Inflation: @buf holds 32-bit PFNs of pages the guest gave up; their RAM
 * goes back to the host. Deflation: PFNs of pages it takes back, which it
 * faults in itself. Every PFN must be guest RAM. */
static int pfns(struct balloon *b, enum role r, const struct virtq_buf *buf, struct err *e)
{
	const struct guest_mem *m = &b->dev.vm->mem;
	const uint8_t *p = guest_ptr(m, buf->addr, buf->len);

	if (!buf->len) /* no bytes: wherever it points */
		return 0;
	if (!p)
		return err_set(e, "page frame buffer [0x%llx, +%u) is not guest RAM",
		               (unsigned long long)buf->addr, buf->len);
	for (uint32_t i = 0; i + 4 <= buf->len; i += 4) {
		uint32_t pfn;
		uint64_t gpa;
		int64_t n;

		memcpy(&pfn, p + i, 4);
		pfn = le32toh(pfn);
		gpa = (uint64_t)pfn << BALLOON_PFN_SHIFT;
		if (!guest_ptr(m, gpa, PAGE_SIZE))
			return err_set(e, "%s page frame 0x%x is not guest RAM",
			               r == R_INFLATE ? "inflated" : "deflated", pfn);
		if (r == R_INFLATE && (n = mem_discard(m, gpa, PAGE_SIZE)) > 0)
			b->returned += (uint64_t)n;
	}
	return 0;
}

/* An inflate or deflate chain: its page frames, counted. */
static int pfn_chain(struct balloon *b, enum role r, const struct virtq_buf *bufs, int n,
                     struct err *e)
{
	uint64_t count = 0;

	for (int i = 0; i < n; i++)
		count += bufs[i].len / 4;
	if (count > MAX_PFNS)
		return err_set(e, "an %s chain of %llu page frames (a driver sends at most %d)",
		               r == R_INFLATE ? "inflate" : "deflate", (unsigned long long)count,
		               MAX_PFNS);
	for (int i = 0; i < n; i++)
		if (pfns(b, r, &bufs[i], e) < 0)
			return -1;
	if (r == R_INFLATE) {
		b->held += count;
		metrics_add(METRIC_balloon_inflate_count, count);
	} else {
		b->held -= count < b->held ? count : b->held;
		metrics_add(METRIC_balloon_deflate_count, count);
	}
	return 0;
}

/* Reporting: each buffer is a free block of guest RAM. */
static int report_chain(struct balloon *b, const struct virtq_buf *bufs, int n, struct err *e)
{
	for (int i = 0; i < n; i++) {
		int64_t got = mem_discard(&b->dev.vm->mem, bufs[i].addr, bufs[i].len);

		if (got < 0)
			return err_set(e, "reported block [0x%llx, +%u) is not guest RAM",
			               (unsigned long long)bufs[i].addr, bufs[i].len);
		b->returned += (uint64_t)got;
		metrics_add(METRIC_balloon_free_page_report_count, bufs[i].len / PAGE_SIZE);
	}
	return 0;
}

int balloon_stats_parse(const uint8_t *buf, size_t len, struct balloon_stats *out, struct err *e)
{
	struct balloon_stats s = *out;

	if (len > BALLOON_STATS_MAX)
		return err_set(e, "a statistics buffer of %zu bytes (at most %d)", len,
		               BALLOON_STATS_MAX);
	if (len % BALLOON_STAT_SIZE)
		return err_set(e, "a statistics buffer of %zu bytes, not whole %d-byte entries",
		               len, BALLOON_STAT_SIZE);
	for (size_t i = 0; i < len; i += BALLOON_STAT_SIZE) {
		struct stat_entry ent;
		uint16_t tag;

		memcpy(&ent, buf + i, sizeof(ent));
		tag = le16toh(ent.tag);
		if (tag >= BALLOON_NR_STATS)
			continue; /* a newer driver's statistic */
		s.has[tag] = true;
		s.val[tag] = le64toh(ent.val);
	}
	memcpy(out->has, s.has, sizeof(s.has));
	memcpy(out->val, s.val, sizeof(s.val));
	return 0;
}

/* Copies a chain's bytes into @raw (BALLOON_STATS_MAX bytes); -1 with @e if
 * they are more. */
static int gather(const struct guest_mem *m, const struct virtq_buf *bufs, int n, uint8_t *raw,
                  size_t *len, struct err *e)
{
	size_t at = 0;

	for (int i = 0; i < n; i++) {
		const uint8_t *p = guest_ptr(m, bufs[i].addr, bufs[i].len);

		if (!bufs[i].len)
			continue;
		if (!p)
			return err_set(e, "statistics buffer [0x%llx, +%u) is not guest RAM",
			               (unsigned long long)bufs[i].addr, bufs[i].len);
		if (bufs[i].len > BALLOON_STATS_MAX - at)
			return err_set(e, "a statistics buffer of more than %d bytes",
			               BALLOON_STATS_MAX);
		memcpy(raw + at, p, bufs[i].len);
		at += bufs[i].len;
	}
	*len = at;
	return 0;
}

/* Statistics: the guest's buffer, which the device keeps until the next
 * interval. A malformed one is refused (warned, kept: the guest refills it
 * next time), which does not stop the device. */
static int stats_chain(struct balloon *b, const struct virtq_buf *bufs, int n, uint16_t head,
                       struct err *e)
{
	static struct ratelimit refused;
	struct virtq *vq = &b->dev.q[2];
	uint8_t raw[BALLOON_STATS_MAX];
	struct err why;
	size_t len = 0;

	/* A driver has one buffer out at a time: an older one goes back. */
	if (b->stats_held && virtq_push(vq, &b->dev.vm->mem, b->stats_head, 0, e) < 0)
		return -1;
	b->stats_held = true;
	b->stats_head = head;
	if (gather(&b->dev.vm->mem, bufs, n, raw, &len, &why) < 0 ||
	    balloon_stats_parse(raw, len, &b->stats, &why) < 0) {
		warn_limited(&refused, "virtio-balloon: statistics refused: %s", why.msg);
		return 1;
	}
	metrics_inc(METRIC_balloon_stats_updates_count);
	return 1;
}

/* Handles one chain of queue role @r: 1 if the device keeps it, 0 if it
 * goes back to the driver, -1 with @e if the driver broke the protocol. */
static int handle_chain(struct balloon *b, enum role r, const struct virtq_buf *bufs, int n,
                        uint16_t head, struct err *e)
{
	switch (r) {
	case R_INFLATE:
	case R_DEFLATE: return pfn_chain(b, r, bufs, n, e);
	case R_REPORTING: return report_chain(b, bufs, n, e);
	case R_STATS: return stats_chain(b, bufs, n, head, e);
	default: return 0;
	}
}

static void balloon_notify(struct virtio_mmio *d, int q)
{
	struct balloon *b = d->opaque;
	enum role r = queue_role(b, q);
	struct virtq *vq = &d->q[q];
	struct virtq_buf bufs[MAX_BUFS];
	struct err e;
	uint16_t head, old_used = vq->used_idx;
	int n = 0, keep;

	if (r == R_NONE) /* a queue of a feature the driver did not take */
		return;
	/* A stopping VM stops here too: a long queue cannot hold up the stop. */
	while (atomic_load(&d->vm->exit) == VM_RUNNING &&
	       (n = virtq_pop(vq, &d->vm->mem, bufs, MAX_BUFS, &head, &e)) > 0) {
		keep = handle_chain(b, r, bufs, n, head, &e);
		if (keep < 0 || (!keep && virtq_push(vq, &d->vm->mem, head, 0, &e) < 0)) {
			n = -1;
			break;
		}
	}
	if (n < 0) {
		char why[ERR_MAX + 32];

		snprintf(why, sizeof(why), "queue %d: %s", q, e.msg);
		virtio_mmio_fail(d, why);
	}
	virtio_mmio_used(d, q, old_used);
}

/* Gives the held statistics buffer back (used, 0 bytes written), so that
 * the driver refills it. Under the device's lock. */
static void stats_give_back(struct balloon *b)
{
	struct virtio_mmio *d = &b->dev;
	int q = stats_queue(b);
	uint16_t old;
	struct err e;

	if (!b->stats_held || q < 0 || !d->q[q].ready || !(d->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (d->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	old = d->q[q].used_idx;
	b->stats_held = false;
	if (virtq_push(&d->q[q], &d->vm->mem, b->stats_head, 0, &e) < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	virtio_mmio_used(d, q, old);
}

/* num_pages belongs to the device: a driver's write to it does not stick. */
static void balloon_config_written(struct virtio_mmio *d, uint32_t offset, uint32_t len)
{
	struct balloon *b = d->opaque;

	(void)offset;
	(void)len;
	cfg_put(b, CFG_NUM_PAGES, b->target);
}

/* The driver reset the device: its buffers and its balloon are gone. */
static void balloon_reset(struct virtio_mmio *d)
{
	struct balloon *b = d->opaque;

	b->stats_held = false;
	b->held = 0;
	cfg_put(b, CFG_ACTUAL, 0);
}

/* On the I/O thread: the statistics interval passed. */
static void on_stats_timer(void *opaque, uint32_t events)
{
	struct balloon *b = opaque;
	uint64_t n;

	(void)events;
	if (read(b->timer.fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&b->dev.lock);
	stats_give_back(b);
	pthread_mutex_unlock(&b->dev.lock);
}

/* Arms the statistics timer every stats_interval seconds, the first at once
 * if @now, else after one interval. */
static int stats_timer_arm(struct balloon *b, bool now, struct err *e)
{
	struct itimerspec t = {.it_interval = {.tv_sec = b->stats_interval}};

	t.it_value = now ? (struct timespec){.tv_nsec = 1} : t.it_interval;
	if (timerfd_settime(b->timer.fd, 0, &t, NULL) < 0)
		return err_set(e, "virtio-balloon: statistics timer: %m");
	return 0;
}

static int stats_timer_open(struct balloon *b, struct vm *vm, struct err *e)
{
	if (!b->stats_interval)
		return 0;
	b->timer = (struct ev_source){timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
	                              on_stats_timer, b};
	if (b->timer.fd < 0)
		return err_set(e, "virtio-balloon: timerfd: %m");
	if (evloop_add(&vm->io, &b->timer, EPOLLIN) < 0) {
		close(b->timer.fd);
		b->timer.fd = -1;
		return err_set(e, "virtio-balloon: epoll: %m");
	}
	return stats_timer_arm(b, false, e);
}

static void stats_timer_close(struct balloon *b, struct vm *vm)
{
	if (b->timer.fd < 0)
		return;
	evloop_del(&vm->io, &b->timer);
	close(b->timer.fd);
	b->timer.fd = -1;
}

/* The transport's view of @c: features and queues. */
static void make_ops(struct balloon *b, const struct balloon_config *c)
{
	b->ops = (struct virtio_ops){
	    .name = "balloon",
	    .device_id = VIRTIO_ID_BALLOON,
	    .nr_queues = 2,
	    .config_size = CFG_SIZE,
	    .config_written = balloon_config_written,
	    .notify = balloon_notify,
	    .reset = balloon_reset,
	};
	if (c->deflate_on_oom)
		b->ops.features |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (c->stats_polling_interval_s) {
		b->ops.features |= 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
		b->ops.nr_queues++;
	}
	if (c->free_page_reporting) {
		b->ops.features |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
		b->ops.nr_queues++;
	}
}

static int balloon_plan(struct vm *vm)
{
	const struct balloon_config *c = config_of(vm);
	struct err e;

	balloon.on = c != NULL;
	balloon.ready = false;
	balloon.slot = -1;
	balloon.stats_held = false;
	memset(&balloon.stats, 0, sizeof(balloon.stats));
	balloon.held = balloon.returned = 0;
	if (!c)
		return 0;
	if (mib_to_pages(vm, c->amount_mib, &balloon.target, &e) < 0) {
		warnx_("virtio-balloon: %s", e.msg);
		return -1;
	}
	balloon.stats_interval = c->stats_polling_interval_s;
	balloon.slot = virtio_mmio_slot_alloc(vm, "virtio-balloon");
	return balloon.slot < 0 ? -1 : 0;
}

static int balloon_cmdline(const struct vm *vm, char *buf, size_t len)
{
	return config_of(vm) ? virtio_mmio_cmdline(balloon.slot, buf, len) : 0;
}

static int balloon_init(struct vm *vm)
{
	const struct balloon_config *c = config_of(vm);
	struct err e;

	if (!balloon.on || !c)
		return 0;
	make_ops(&balloon, c);
	if (virtio_mmio_init(&balloon.dev, vm, balloon.slot, &balloon.ops, &balloon, &e) < 0 ||
	    stats_timer_open(&balloon, vm, &e) < 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	cfg_put(&balloon, CFG_NUM_PAGES, balloon.target);
	balloon.ready = true;
	return 0;
}

static void balloon_stop(struct vm *vm)
{
	vm->balloon_returned = balloon.returned;
	balloon.ready = false;
	if (!balloon.on)
		return;
	stats_timer_close(&balloon, vm);
	virtio_mmio_close(&balloon.dev);
}

static void balloon_aml(const struct vm *vm, struct aml *a)
{
	if (config_of(vm))
		virtio_mmio_aml(balloon.slot, a);
}

DEVICE_REGISTER_PLAN(balloon, balloon_plan, balloon_init, balloon_stop, balloon_cmdline,
                     balloon_aml);

/* The control plane's side. */

/* The balloon of @vm, set up; NULL with @e if it has none. */
static struct balloon *get(struct vm *vm, struct err *e)
{
	if (!balloon.ready || balloon.dev.vm != vm) {
		err_set(e, "the VM has no balloon device");
		return NULL;
	}
	return &balloon;
}

int balloon_set_target(struct vm *vm, uint32_t amount_mib, struct err *e)
{
	struct balloon *b = get(vm, e);
	uint32_t pages = 0;

	if (!b || mib_to_pages(vm, amount_mib, &pages, e) < 0)
		return -1;
	pthread_mutex_lock(&b->dev.lock);
	b->target = pages;
	cfg_put(b, CFG_NUM_PAGES, pages);
	virtio_mmio_config_changed(&b->dev);
	pthread_mutex_unlock(&b->dev.lock);
	return 0;
}

int balloon_set_stats_interval(struct vm *vm, uint32_t seconds, struct err *e)
{
	struct balloon *b = get(vm, e);
	int r;

	if (!b)
		return -1;
	if (seconds == b->stats_interval)
		return 0;
	if (!seconds || !b->stats_interval)
		return err_set(e, "Cannot enable/disable statistics after boot.");
	pthread_mutex_lock(&b->dev.lock);
	b->stats_interval = seconds;
	r = stats_timer_arm(b, true, e);
	pthread_mutex_unlock(&b->dev.lock);
	return r;
}

int balloon_get_stats(struct vm *vm, struct balloon_stats *out, struct err *e)
{
	struct balloon *b = get(vm, e);

	if (!b)
		return -1;
	if (!b->stats_interval)
		return err_set(e, "statistics are not enabled");
	pthread_mutex_lock(&b->dev.lock);
	*out = b->stats;
	out->target_pages = b->target;
	out->actual_pages = cfg_get(b, CFG_ACTUAL);
	pthread_mutex_unlock(&b->dev.lock);
	out->target_mib = out->target_pages / PAGES_PER_MIB;
	out->actual_mib = out->actual_pages / PAGES_PER_MIB;
	return 0;
}

int balloon_get_actual(struct vm *vm, uint32_t *actual_mib, struct err *e)
{
	struct balloon *b = get(vm, e);

	if (!b)
		return -1;
	pthread_mutex_lock(&b->dev.lock);
	*actual_mib = cfg_get(b, CFG_ACTUAL) / PAGES_PER_MIB;
	pthread_mutex_unlock(&b->dev.lock);
	return 0;
}

int balloon_get_held(struct vm *vm, uint64_t *pages, struct err *e)
{
	struct balloon *b = get(vm, e);

	if (!b)
		return -1;
	pthread_mutex_lock(&b->dev.lock);
	*pages = b->held;
	pthread_mutex_unlock(&b->dev.lock);
	return 0;
}

void balloon_stats_poll(struct vm *vm)
{
	struct balloon *b = get(vm, NULL);

	if (!b)
		return;
	pthread_mutex_lock(&b->dev.lock);
	stats_give_back(b);
	pthread_mutex_unlock(&b->dev.lock);
}

/* The balloon's own state beside its transport. */
struct balloon_wire {
	uint64_t held, returned;
	uint32_t target;
	uint16_t stats_head;
	uint8_t stats_held, pad;
};

static int balloon_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	struct balloon *b = &balloon;
	struct balloon_wire s;

	(void)vm;
	if (!b->ready)
		return 0;
	pthread_mutex_lock(&b->dev.lock);
	s = (struct balloon_wire){
	    .held = b->held,
	    .returned = b->returned,
	    .target = b->target,
	    .stats_head = b->stats_head,
	    .stats_held = b->stats_held,
	};
	pthread_mutex_unlock(&b->dev.lock);
	if (virtio_mmio_save(&b->dev, w, "virtio-balloon", &s, sizeof(s)) < 0)
		return err_set(e, "out of memory");
	return 0;
}

static int balloon_load(struct vm *vm, struct snap *snap, struct err *e)
{
	struct balloon *b = &balloon;
	struct balloon_wire s;

	if (!b->ready)
		return 0;
	if (virtio_mmio_load(&b->dev, snap, "virtio-balloon", &s, sizeof(s), e) < 0)
		return -1;
	if (s.stats_held > 1 || s.held > vm->mem.size / PAGE_SIZE ||
	    s.target > vm->mem.size / PAGE_SIZE)
		return err_set(e, "balloon state out of range (%llu pages held, target %u)",
		               (unsigned long long)s.held, s.target);
	if (s.stats_held && s.stats_head >= VIRTQ_MAX_SIZE)
		return err_set(e, "balloon statistics buffer %u out of range", s.stats_head);
	pthread_mutex_lock(&b->dev.lock);
	b->held = s.held;
	b->returned = s.returned;
	b->target = s.target;
	b->stats_head = s.stats_head;
	b->stats_held = s.stats_held;
	pthread_mutex_unlock(&b->dev.lock);
	virtio_mmio_resume(&b->dev);
	return 0;
}

DEVICE_STATE(balloon, balloon_save, balloon_load);
