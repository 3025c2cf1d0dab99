// SPDX-License-Identifier: MIT
/* virtio-rng (virtio 1.2, 5.4): the guest's entropy device, filled from getrandom(). */
#include "../config.h"
#include "../device.h"
#include "../err.h"
#include "../snapshot/stream.h"
#include "../metrics.h"
#include "../vm.h"
#include "mmio.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#define VIRTIO_ID_RNG 4
#define RNG_MAX_BUFS  16
/* Bytes given per request: Linux asks for at most 64 (its rng buffer); a
 * guest asking for more gets this much, so one request cannot hold the I/O
 * thread for long. */
#define RNG_MAX_FILL (64 * 1024)

static struct rng {
	struct virtio_mmio dev;
	int slot;
	bool on;
} rng;

/* Fills the device-writable buffers of one request; returns the bytes written. */
static uint32_t fill(struct rng *r, const struct virtq_buf *bufs, int n)
{
	uint32_t total = 0;

	for (int i = 0; i < n && total < RNG_MAX_FILL; i++) {
		uint32_t want = bufs[i].len;
		uint8_t *p = guest_ptr(&r->dev.vm->mem, bufs[i].addr, bufs[i].len);

		if (!bufs[i].write || !p)
			continue;
		if (want > RNG_MAX_FILL - total)
			want = RNG_MAX_FILL - total;
		for (uint32_t done = 0; done < want;) {
			ssize_t k = getrandom(p + done, want - done, 0);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return total + done;
			done += (uint32_t)k;
		}
		total += want;
	}
	return total;
}

static void rng_notify(struct virtio_mmio *d, int q)
{
	struct virtq *vq = &d->q[q];
	struct virtq_buf bufs[RNG_MAX_BUFS];
	uint16_t head, old = vq->used_idx;
	struct err e;
	uint32_t len;
	int n = 0;

	while (atomic_load(&d->vm->exit) == VM_RUNNING &&
	       (n = virtq_pop(vq, &d->vm->mem, bufs, RNG_MAX_BUFS, &head, &e)) > 0) {
		len = fill(d->opaque, bufs, n);
		metrics_add(METRIC_entropy_entropy_bytes, len);
		if (virtq_push(vq, &d->vm->mem, head, len, &e) < 0) {
			n = -1;
			break;
		}
	}
	if (n < 0)
		virtio_mmio_fail(d, e.msg);
	virtio_mmio_used(d, q, old);
}

static const struct virtio_ops rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .features = 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC,
    .nr_queues = 1,
    .notify = rng_notify,
};

static int rng_plan(struct vm *vm)
{
	rng.on = !vm->devs || !vm->devs->no_rng;
	rng.slot = rng.on ? virtio_mmio_slot_alloc(vm, "virtio-rng") : -1;
	return rng.on && rng.slot < 0 ? -1 : 0;
}

static int rng_init(struct vm *vm)
{
	struct err e;

	if (rng.on && virtio_mmio_init(&rng.dev, vm, rng.slot, &rng_ops, &rng, &e) < 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	return 0;
}

static void rng_stop(struct vm *vm)
{
	(void)vm;
	if (rng.on)
		virtio_mmio_close(&rng.dev);
}

static int rng_cmdline(const struct vm *vm, char *buf, size_t len)
{
	(void)vm;
	return rng.on ? virtio_mmio_cmdline(rng.slot, buf, len) : 0;
}

static void rng_aml(const struct vm *vm, struct aml *a)
{
	(void)vm;
	if (rng.on)
		virtio_mmio_aml(rng.slot, a);
}

DEVICE_REGISTER_PLAN(rng, rng_plan, rng_init, rng_stop, rng_cmdline, rng_aml);

static int rng_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	(void)vm;
	if (rng.on && virtio_mmio_save(&rng.dev, w, "virtio-rng", NULL, 0) < 0)
		return err_set(e, "out of memory");
	return 0;
}

static int rng_load(struct vm *vm, struct snap *s, struct err *e)
{
	(void)vm;
	if (!rng.on)
		return 0;
	if (virtio_mmio_load(&rng.dev, s, "virtio-rng", NULL, 0, e) < 0)
		return -1;
	virtio_mmio_resume(&rng.dev);
	return 0;
}

DEVICE_STATE(rng, rng_save, rng_load);
