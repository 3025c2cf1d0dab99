// SPDX-License-Identifier: MIT
/* virtio-balloon (virtio 1.x, 5.5) with free page reporting: the guest hands back the pages it
 * frees, mote gives them back to the host, so that an idle VM costs what it uses, not what it
 * once touched. Inflation gives pages back as well; the target stays 0 (no control yet). */
#include "../device.h"
#include "../err.h"
#include "../vm.h"
#include "mmio.h"

#include <stdio.h>
#include <string.h>

#define VIRTIO_ID_BALLOON 5

#define VIRTIO_BALLOON_F_REPORTING 5
#define BALLOON_PFN_SHIFT          12 /* PFNs on the inflate queue are 4 KiB pages */

enum { Q_INFLATE, Q_DEFLATE, Q_REPORTING, NR_QUEUES };

#define MAX_BUFS 64
/* Page frames in one inflate chain: Linux's driver sends at most 256
 * (VIRTIO_BALLOON_ARRAY_PFNS_MAX); more is a guest making mote work. */
#define MAX_INFLATE_PFNS 256

static struct balloon {
	struct virtio_mmio dev;
	int slot;
	uint64_t returned; /* bytes given back to the host */
} balloon;

/* Inflation: the buffers hold 32-bit PFNs of pages the guest gave up. */
static int inflate(struct balloon *b, const struct virtq_buf *buf, struct err *e)
{
	const struct guest_mem *m = &b->dev.vm->mem;
	const uint8_t *p = guest_ptr(m, buf->addr, buf->len);

	for (uint32_t i = 0; i + 4 <= buf->len; i += 4) {
		uint32_t pfn;
		int64_t n;

		memcpy(&pfn, p + i, 4);
		n = mem_discard(m, (uint64_t)pfn << BALLOON_PFN_SHIFT, 1ULL << BALLOON_PFN_SHIFT);
		if (n < 0)
			return err_set(e, "inflated page frame 0x%x is not guest RAM", pfn);
		b->returned += (uint64_t)n;
	}
	return 0;
}

/* Reporting: each buffer is a free block of guest RAM. */
static int report(struct balloon *b, const struct virtq_buf *buf, struct err *e)
{
	int64_t n = mem_discard(&b->dev.vm->mem, buf->addr, buf->len);

	if (n < 0)
		return err_set(e, "reported block [0x%llx, +%u) is not guest RAM",
		               (unsigned long long)buf->addr, buf->len);
	b->returned += (uint64_t)n;
	return 0;
}

static int handle_chain(struct balloon *b, int q, const struct virtq_buf *bufs, int n,
                        struct err *e)
{
	uint64_t pfns = 0;

	for (int i = 0; q == Q_INFLATE && i < n; i++)
		pfns += bufs[i].len / 4;
	if (pfns > MAX_INFLATE_PFNS)
		return err_set(e,
		               "an inflate chain of %llu page frames (a driver sends at most %d)",
		               (unsigned long long)pfns, MAX_INFLATE_PFNS);
	for (int i = 0; i < n; i++) {
		if (q == Q_INFLATE && inflate(b, &bufs[i], e) < 0)
			return -1;
		if (q == Q_REPORTING && report(b, &bufs[i], e) < 0)
			return -1;
	}
	return 0; /* deflation: the guest faults the pages back in itself */
}

static void balloon_notify(struct virtio_mmio *d, int q)
{
	struct balloon *b = d->opaque;
	struct virtq *vq = &d->q[q];
	struct virtq_buf bufs[MAX_BUFS];
	struct err e;
	uint16_t head, old_used = vq->used_idx;
	int n = 0;

	/* A stopping VM stops here too: a long queue cannot hold up the stop. */
	while (atomic_load(&d->vm->exit) == VM_RUNNING &&
	       (n = virtq_pop(vq, &d->vm->mem, bufs, MAX_BUFS, &head, &e)) > 0) {
		if (handle_chain(b, q, bufs, n, &e) < 0 ||
		    virtq_push(vq, &d->vm->mem, head, 0, &e) < 0) {
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

static const struct virtio_ops balloon_ops = {
    .name = "balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .features = 1ULL << VIRTIO_BALLOON_F_REPORTING,
    .nr_queues = NR_QUEUES,
    .config_size = 8, /* num_pages (the target, 0) and actual, both le32 */
    .notify = balloon_notify,
};

static int balloon_plan(struct vm *vm)
{
	balloon.slot = vm->balloon ? virtio_mmio_slot_alloc(vm, "virtio-balloon") : -1;
	return vm->balloon && balloon.slot < 0 ? -1 : 0;
}

static int balloon_cmdline(const struct vm *vm, char *buf, size_t len)
{
	return vm->balloon ? virtio_mmio_cmdline(balloon.slot, buf, len) : 0;
}

static int balloon_init(struct vm *vm)
{
	struct err e;

	if (!vm->balloon)
		return 0;
	if (virtio_mmio_init(&balloon.dev, vm, balloon.slot, &balloon_ops, &balloon, &e) < 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	return 0;
}

static void balloon_stop(struct vm *vm)
{
	vm->balloon_returned = balloon.returned;
	if (vm->balloon)
		virtio_mmio_close(&balloon.dev);
}

static void balloon_aml(const struct vm *vm, struct aml *a)
{
	if (vm->balloon)
		virtio_mmio_aml(balloon.slot, a);
}

DEVICE_REGISTER_PLAN(balloon, balloon_plan, balloon_init, balloon_stop, balloon_cmdline,
                     balloon_aml);
