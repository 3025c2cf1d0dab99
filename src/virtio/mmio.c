// SPDX-License-Identifier: MIT
#include "mmio.h"

#include "../x86/aml.h"

#include "../bus.h"
#include "../err.h"
#include "../kvm.h"
#include "../snapshot/stream.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Register offsets (virtio 1.x, 4.2.2). */
enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_CONFIG_GENERATION = 0x0fc,
	REG_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC  0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x65746f6d /* "mote" */

static uint64_t offered(const struct virtio_mmio *d)
{
	return d->ops->features | (1ULL << VIRTIO_F_VERSION_1);
}

static struct virtq *selected(struct virtio_mmio *d)
{
	return d->queue_sel < (uint32_t)d->ops->nr_queues ? &d->q[d->queue_sel] : NULL;
}

static void reset(struct virtio_mmio *d)
{
	if (d->ops->reset && d->status)
		d->ops->reset(d);
	d->status = 0;
	d->isr = 0;
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = 0;
	d->drv_features = 0;
	memset(d->q, 0, sizeof(d->q));
}

static uint32_t read_reg(struct virtio_mmio *d, uint64_t reg)
{
	struct virtq *q = selected(d);

	switch (reg) {
	case REG_MAGIC: return VIRTIO_MMIO_MAGIC;
	case REG_VERSION: return 2;
	case REG_DEVICE_ID: return d->ops->device_id;
	case REG_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return d->dev_features_sel < 2
		           ? (uint32_t)(offered(d) >> (32 * d->dev_features_sel))
		           : 0;
	case REG_QUEUE_NUM_MAX: return q ? VIRTQ_MAX_SIZE : 0;
	case REG_QUEUE_READY: return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS: return d->isr;
	case REG_STATUS: return d->status;
	case REG_CONFIG_GENERATION: return d->config_gen;
	default: return 0;
	}
}

/* Sets the low or high half of a 64-bit ring address. */
static void set_half(uint64_t *addr, bool high, uint32_t v)
{
	*addr = high ? (*addr & 0xffffffffULL) | ((uint64_t)v << 32) : (*addr & ~0xffffffffULL) | v;
}

static void queue_ready(struct virtio_mmio *d, struct virtq *q, uint32_t v)
{
	struct err e;

	if (!v) {
		q->ready = false;
		return;
	}
	q->event_idx = virtio_mmio_has(d, VIRTIO_F_EVENT_IDX);
	q->indirect = virtio_mmio_has(d, VIRTIO_F_INDIRECT_DESC);
	if (virtq_check(q, &d->vm->mem, &e) < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	q->ready = true;
}

static void write_queue_reg(struct virtio_mmio *d, uint64_t reg, uint32_t v)
{
	struct virtq *q = selected(d);

	if (!q || q->ready) /* no such queue, or set up already: ignore */
		return;
	switch (reg) {
	case REG_QUEUE_NUM: q->size = (uint16_t)(v > 0xffff ? 0 : v); break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH: set_half(&q->desc, reg == REG_QUEUE_DESC_HIGH, v); break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH: set_half(&q->avail, reg == REG_QUEUE_DRIVER_HIGH, v); break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH: set_half(&q->used, reg == REG_QUEUE_DEVICE_HIGH, v); break;
	default: break;
	}
}

/* At DRIVER_OK: a driver may have made buffers available and kicked before
 * (Linux's balloon hands its statistics buffer over in probe), when the
 * kick was dropped; each ready queue is kicked again on the I/O thread. */
static void rekick(struct virtio_mmio *d)
{
	uint64_t one = 1;

	for (int q = 0; q < d->ops->nr_queues && q < VIRTIO_MAX_QUEUES; q++)
		if (d->q[q].ready && d->kick[q].src.fd >= 0 &&
		    write(d->kick[q].src.fd, &one, sizeof(one)) != sizeof(one))
			warnx_("virtio-%s: cannot kick queue %d: %m", d->ops->name, q);
}

static void write_status(struct virtio_mmio *d, uint32_t v)
{
	if (!v) {
		reset(d);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((d->drv_features & ~offered(d)) || !(d->drv_features >> VIRTIO_F_VERSION_1 & 1)))
		v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK; /* refused: the driver re-reads it */
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_DRIVER_OK)) {
		if (d->ops->activate)
			d->ops->activate(d);
		rekick(d);
	}
	d->status = v | (d->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* A notify that reached the handler (no ioeventfd): it still goes to the
 * I/O thread, through the queue's eventfd. */
static void notify(struct virtio_mmio *d, uint32_t v)
{
	uint64_t one = 1;

	if (v >= (uint32_t)d->ops->nr_queues)
		return;
	if (write(d->kick[v].src.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_("virtio-%s: cannot kick queue %u: %s", d->ops->name, v, strerror(errno));
}

/* On the I/O thread: queue @k->queue was kicked. */
static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;
	struct virtio_mmio *d = k->dev;
	uint64_t n;

	(void)events;
	if (read(k->src.fd, &n, sizeof(n)) < 0)
		return; /* nothing pending (EAGAIN) */
	pthread_mutex_lock(&d->lock);
	if (d->q[k->queue].ready && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	    (d->status & VIRTIO_STATUS_DRIVER_OK))
		d->ops->notify(d, k->queue);
	pthread_mutex_unlock(&d->lock);
}

static void write_reg(struct virtio_mmio *d, uint64_t reg, uint32_t v)
{
	switch (reg) {
	case REG_DEVICE_FEATURES_SEL: d->dev_features_sel = v; break;
	case REG_DRIVER_FEATURES_SEL: d->drv_features_sel = v; break;
	case REG_DRIVER_FEATURES:
		if (d->drv_features_sel < 2 && !(d->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&d->drv_features, d->drv_features_sel == 1, v);
		break;
	case REG_QUEUE_SEL: d->queue_sel = v; break;
	case REG_QUEUE_READY: {
		struct virtq *q = selected(d);

		if (q)
			queue_ready(d, q, v);
		break;
	}
	case REG_QUEUE_NOTIFY: notify(d, v); break;
	case REG_INTERRUPT_ACK: d->isr &= ~v; break;
	case REG_STATUS: write_status(d, v); break;
	default: write_queue_reg(d, reg, v); break;
	}
}

static void config_access(struct virtio_mmio *d, uint64_t off, uint8_t *data, uint32_t len,
                          bool is_write)
{
	if (off >= d->ops->config_size || len > d->ops->config_size - off) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (!is_write) {
		memcpy(data, d->config + off, len);
		return;
	}
	memcpy(d->config + off, data, len);
	if (d->ops->config_written)
		d->ops->config_written(d, (uint32_t)off, len);
}

static void access_locked(struct virtio_mmio *d, uint64_t offset, uint8_t *data, uint32_t len,
                          bool is_write)
{
	uint32_t v = 0;

	if (offset >= REG_CONFIG) {
		config_access(d, offset - REG_CONFIG, data, len, is_write);
		return;
	}
	if (len != 4 || (offset & 3)) { /* registers are 32-bit only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		v = read_reg(d, offset);
		memcpy(data, &v, 4);
		return;
	}
	memcpy(&v, data, 4);
	write_reg(d, offset, v);
}

void virtio_mmio_access(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                        bool is_write, void *opaque)
{
	struct virtio_mmio *d = opaque;

	(void)vcpu;
	pthread_mutex_lock(&d->lock);
	access_locked(d, offset, data, len, is_write);
	pthread_mutex_unlock(&d->lock);
}

/* The devices set up, by slot: for virtio_mmio_report. */
static struct virtio_mmio *devices[VIRTIO_MMIO_SLOTS];

static const uint8_t slot_irqs[VIRTIO_MMIO_SLOTS] = {5,  6,  7,  9,  10, 11, 13, 14, 15,
                                                     16, 17, 18, 19, 20, 21, 22, 23};

uint32_t virtio_mmio_irq(int slot)
{
	return slot >= 0 && slot < VIRTIO_MMIO_SLOTS ? slot_irqs[slot] : 0;
}

int virtio_mmio_slot_alloc(struct vm *vm, const char *what)
{
	int max = vm->no_acpi ? VIRTIO_MMIO_SLOTS_NOACPI : VIRTIO_MMIO_SLOTS;

	if (vm->virtio_slots >= max) {
		warnx_("%s: no virtio-mmio slot left: mote has %d (%d with --no-acpi, whose "
		       "ISA interrupts run out first)",
		       what, VIRTIO_MMIO_SLOTS, VIRTIO_MMIO_SLOTS_NOACPI);
		return -1;
	}
	return vm->virtio_slots++;
}

bool virtio_mmio_has(const struct virtio_mmio *d, int bit)
{
	return (d->drv_features >> bit) & 1;
}

/* KVM signals the queue's eventfd on a 4-byte write of @q to QueueNotify. */
static void add_ioeventfd(struct virtio_mmio *d, int q, uint64_t base)
{
	struct kvm_ioeventfd io = {
	    .datamatch = (uint64_t)q,
	    .addr = base + REG_QUEUE_NOTIFY,
	    .len = 4,
	    .fd = d->kick[q].src.fd,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (d->vm->vm_fd >= 0 && kvm_ioctl_try(d->vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		d->ioeventfd = false;
}

static int make_kicks(struct virtio_mmio *d, uint64_t base, struct err *e)
{
	d->ioeventfd = d->vm->vm_fd >= 0;
	for (int q = 0; q < d->ops->nr_queues; q++) {
		struct virtio_kick *k = &d->kick[q];

		k->dev = d;
		k->queue = q;
		k->src = (struct ev_source){eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), on_kick, k};
		if (k->src.fd < 0)
			return err_set(e, "virtio-%s: eventfd: %m", d->ops->name);
		if (evloop_add(&d->vm->io, &k->src, EPOLLIN) < 0)
			return err_set(e, "virtio-%s: epoll: %m", d->ops->name);
		add_ioeventfd(d, q, base);
	}
	return 0;
}

/* An irqfd: a write to it raises an edge on the device's GSI in KVM. */
static void make_irqfd(struct virtio_mmio *d)
{
	struct kvm_irqfd irqfd = {.gsi = d->irq};

	if (d->vm->vm_fd < 0)
		return;
	irqfd.fd = (uint32_t)eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if ((int)irqfd.fd < 0)
		return;
	if (kvm_ioctl_try(d->vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		close((int)irqfd.fd);
		return;
	}
	d->irq_fd = (int)irqfd.fd;
}

int virtio_mmio_init(struct virtio_mmio *d, struct vm *vm, int slot, const struct virtio_ops *ops,
                     void *opaque, struct err *e)
{
	uint64_t base = VIRTIO_MMIO_BASE + (uint64_t)slot * VIRTIO_MMIO_SIZE;

	if (ops->config_size > sizeof(d->config) || ops->nr_queues > VIRTIO_MAX_QUEUES ||
	    slot < 0 || slot >= VIRTIO_MMIO_SLOTS)
		return err_set(e, "virtio-%s: bad slot %d or device layout", ops->name, slot);
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->ops = ops;
	d->opaque = opaque;
	d->vm = vm;
	d->slot = slot;
	if (slot >= 0 && slot < VIRTIO_MMIO_SLOTS)
		devices[slot] = d;
	d->irq = virtio_mmio_irq(slot);
	d->irq_fd = -1;
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->kick[q].src.fd = -1;
	if (bus_register(BUS_MMIO, base, VIRTIO_MMIO_SIZE, virtio_mmio_access, d) < 0)
		return err_set(e, "virtio-%s: slot %d is taken", ops->name, slot);
	if (make_kicks(d, base, e) < 0)
		return -1;
	make_irqfd(d);
	return 0;
}

void virtio_mmio_close(struct virtio_mmio *d)
{
	if (d->slot >= 0 && d->slot < VIRTIO_MMIO_SLOTS && devices[d->slot] == d)
		devices[d->slot] = NULL;
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (d->kick[q].src.fd < 0)
			continue;
		evloop_del(&d->vm->io, &d->kick[q].src);
		close(d->kick[q].src.fd);
		d->kick[q].src.fd = -1;
	}
	if (d->irq_fd >= 0)
		close(d->irq_fd);
	d->irq_fd = -1;
}

void virtio_mmio_aml(int slot, struct aml *a)
{
	char name[5];
	uint8_t res[24];
	size_t n;

	snprintf(name, sizeof(name), "VR%02X", (unsigned)slot & 0xff);
	n = aml_res_mem32(res, (uint32_t)(VIRTIO_MMIO_BASE + (uint64_t)slot * VIRTIO_MMIO_SIZE),
	                  VIRTIO_MMIO_SIZE);
	n += aml_res_interrupt(res + n, virtio_mmio_irq(slot), false);
	aml_device(a, name);
	aml_name_string(a, "_HID", "LNRO0005");
	aml_name_int(a, "_UID", (uint64_t)slot);
	aml_name_resources(a, "_CRS", res, n);
	aml_close(a);
}

int virtio_mmio_cmdline_add(int slot, char *buf, size_t len, int at)
{
	int w;

	if (at < 0 || (size_t)at + 1 >= len)
		return -1;
	if (at > 0)
		buf[at++] = ' ';
	w = virtio_mmio_cmdline(slot, buf + at, len - (size_t)at);
	if (w < 0 || (size_t)w >= len - (size_t)at)
		return -1;
	return at + w;
}

int virtio_mmio_cmdline(int slot, char *buf, size_t len)
{
	return snprintf(buf, len, "virtio_mmio.device=4K@0x%llx:%d",
	                (unsigned long long)(VIRTIO_MMIO_BASE + (uint64_t)slot * VIRTIO_MMIO_SIZE),
	                virtio_mmio_irq(slot));
}

/* Sets @bits in the interrupt status and raises an edge on the device's IRQ. */
static void raise(struct virtio_mmio *d, uint32_t bits)
{
	uint64_t one = 1;

	d->isr |= bits;
	if (d->irq_fd >= 0 && write(d->irq_fd, &one, sizeof(one)) == sizeof(one))
		return;
	vm_irq_line(d->vm, d->irq, 1);
	vm_irq_line(d->vm, d->irq, 0);
}

void virtio_mmio_interrupt(struct virtio_mmio *d)
{
	raise(d, 1); /* used buffers */
}

void virtio_mmio_used(struct virtio_mmio *d, int q, uint16_t old_used)
{
	if (d->q[q].used_idx != old_used && virtq_need_interrupt(&d->q[q], &d->vm->mem, old_used))
		virtio_mmio_interrupt(d);
}

void virtio_mmio_config_changed(struct virtio_mmio *d)
{
	d->config_gen++;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		raise(d, 2); /* configuration change */
}

void virtio_mmio_fail(struct virtio_mmio *d, const char *why)
{
	/* A driver can fail, reset and fail again in a loop. */
	static struct ratelimit failures;

	if (!(d->status & VIRTIO_STATUS_NEEDS_RESET))
		warn_limited(&failures, "virtio-%s: %s; device stopped until the driver resets it",
		             d->ops->name, why);
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	raise(d, 2); /* configuration change: the driver reads the status */
}

/* The transport's state in a snapshot: registers and queues, then the
 * device's own bytes. Fixed-width little-endian fields (x86-64 only). */
struct mmio_wire_queue {
	uint64_t desc, avail, used;
	uint16_t size, last_avail, used_idx;
	uint8_t ready, event_idx, indirect, pad[7];
};

struct mmio_wire {
	uint32_t version;
	uint32_t device_id;
	uint32_t status, isr;
	uint32_t dev_features_sel, drv_features_sel, queue_sel, config_gen;
	uint64_t drv_features;
	uint32_t nr_queues, config_size;
	struct mmio_wire_queue q[VIRTIO_MAX_QUEUES];
	uint8_t config[64];
};

#define MMIO_WIRE_VERSION 1
#define STATUS_KNOWN                                                                  \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK | \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)

int virtio_mmio_save(struct virtio_mmio *d, struct snap_writer *w, const char *name,
                     const void *extra, size_t extra_len)
{
	struct mmio_wire m;
	uint8_t *buf = malloc(sizeof(m) + extra_len);

	if (!buf)
		return -1;
	memset(&m, 0, sizeof(m));
	pthread_mutex_lock(&d->lock);
	m.version = MMIO_WIRE_VERSION;
	m.device_id = d->ops->device_id;
	m.status = d->status;
	m.isr = d->isr;
	m.dev_features_sel = d->dev_features_sel;
	m.drv_features_sel = d->drv_features_sel;
	m.queue_sel = d->queue_sel;
	m.config_gen = d->config_gen;
	m.drv_features = d->drv_features;
	m.nr_queues = (uint32_t)d->ops->nr_queues;
	m.config_size = d->ops->config_size;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		const struct virtq *q = &d->q[i];

		m.q[i] = (struct mmio_wire_queue){
		    .desc = q->desc,
		    .avail = q->avail,
		    .used = q->used,
		    .size = q->size,
		    .last_avail = q->last_avail,
		    .used_idx = q->used_idx,
		    .ready = q->ready,
		    .event_idx = q->event_idx,
		    .indirect = q->indirect,
		};
	}
	memcpy(m.config, d->config, sizeof(m.config));
	pthread_mutex_unlock(&d->lock);
	memcpy(buf, &m, sizeof(m));
	if (extra_len)
		memcpy(buf + sizeof(m), extra, extra_len);
	snap_put_device(w, name, buf, sizeof(m) + extra_len);
	free(buf);
	return 0;
}

static int load_queue(struct virtio_mmio *d, int i, const struct mmio_wire_queue *w, struct err *e)
{
	struct virtq q = {
	    .size = w->size,
	    .ready = w->ready,
	    .desc = w->desc,
	    .avail = w->avail,
	    .used = w->used,
	    .last_avail = w->last_avail,
	    .used_idx = w->used_idx,
	    .event_idx = w->event_idx,
	    .indirect = w->indirect,
	};

	if (w->ready > 1 || w->event_idx > 1 || w->indirect > 1)
		return err_set(e, "queue %d: flags that are not booleans", i);
	if (q.event_idx != virtio_mmio_has(d, VIRTIO_F_EVENT_IDX) && q.ready)
		return err_set(e, "queue %d: EVENT_IDX differs from the features", i);
	if (q.indirect != virtio_mmio_has(d, VIRTIO_F_INDIRECT_DESC) && q.ready)
		return err_set(e, "queue %d: INDIRECT_DESC differs from the features", i);
	if (q.ready && (i >= d->ops->nr_queues || virtq_check(&q, &d->vm->mem, e) < 0))
		return i >= d->ops->nr_queues ? err_set(e, "queue %d: ready, but no such queue", i)
		                              : -1;
	d->q[i] = q;
	return 0;
}

int virtio_mmio_load(struct virtio_mmio *d, struct snap *s, const char *name, void *extra,
                     size_t extra_len, struct err *e)
{
	struct mmio_wire m;
	const uint8_t *data;
	uint64_t len;

	if (!snap_get_device(s, name, &data, &len))
		return err_set(e, "no state for %s in the snapshot", name);
	if (len != sizeof(m) + extra_len)
		return err_set(e, "%s: state of %llu bytes, not %zu", name, (unsigned long long)len,
		               sizeof(m) + extra_len);
	memcpy(&m, data, sizeof(m));
	if (extra_len)
		memcpy(extra, data + sizeof(m), extra_len);
	if (m.version != MMIO_WIRE_VERSION)
		return err_set(e, "%s: transport state version %u, not %u", name, m.version,
		               MMIO_WIRE_VERSION);
	if (m.device_id != d->ops->device_id || m.nr_queues != (uint32_t)d->ops->nr_queues ||
	    m.config_size != d->ops->config_size)
		return err_set(e, "%s: state of another device (id %u, %u queues)", name,
		               m.device_id, m.nr_queues);
	if (m.drv_features & ~offered(d))
		return err_set(e, "%s: driver features 0x%llx beyond what the device offers", name,
		               (unsigned long long)(m.drv_features & ~offered(d)));
	if (m.status & ~(uint32_t)STATUS_KNOWN)
		return err_set(e, "%s: unknown status bits 0x%x", name, m.status);
	pthread_mutex_lock(&d->lock);
	d->drv_features = m.drv_features;
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct err why;

		if (load_queue(d, i, &m.q[i], &why) < 0) {
			reset(d);
			pthread_mutex_unlock(&d->lock);
			return err_set(e, "%s: %s", name, why.msg);
		}
	}
	d->status = m.status;
	d->isr = m.isr & 3;
	d->dev_features_sel = m.dev_features_sel;
	d->drv_features_sel = m.drv_features_sel;
	d->queue_sel = m.queue_sel;
	d->config_gen = m.config_gen;
	memcpy(d->config, m.config, sizeof(d->config));
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void virtio_mmio_resume(struct virtio_mmio *d)
{
	pthread_mutex_lock(&d->lock);
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		if (d->ops->activate)
			d->ops->activate(d);
		rekick(d);
		if (d->isr) /* an interrupt the guest had not taken: once more (harmless if seen) */
			raise(d, 0);
	}
	pthread_mutex_unlock(&d->lock);
}

/* One line on queue @i of @d: the device's indices beside the rings'. */
static void report_queue(FILE *out, const struct virtio_mmio *d, int i)
{
	const struct virtq *q = &d->q[i];
	struct virtq_rings r;

	if (virtq_read_rings(q, &d->vm->mem, &r) < 0)
		return;
	fprintf(out,
	        "mote: virtio-%s (slot %d) queue %d: driver's avail %u, device took %u; used %u "
	        "(ring %u); used_event %u, avail_event %u; isr 0x%x, GSI %u\n",
	        d->ops->name, d->slot, i, r.avail_idx, q->last_avail, q->used_idx, r.used_idx,
	        r.used_event, r.avail_event, d->isr, d->irq);
}

void virtio_mmio_report(FILE *out)
{
	for (int s = 0; s < VIRTIO_MMIO_SLOTS; s++) {
		struct virtio_mmio *d = devices[s];

		if (!d || !(d->status & VIRTIO_STATUS_DRIVER_OK))
			continue;
		pthread_mutex_lock(&d->lock);
		for (int i = 0; i < d->ops->nr_queues && i < VIRTIO_MAX_QUEUES; i++)
			if (d->q[i].ready)
				report_queue(out, d, i);
		pthread_mutex_unlock(&d->lock);
	}
}
