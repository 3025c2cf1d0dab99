/* SPDX-License-Identifier: MIT */
/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2): registers, feature and status
 * negotiation, queue set-up, interrupts. Devices fill in struct virtio_ops. */
#ifndef MOTE_VIRTIO_MMIO_H
#define MOTE_VIRTIO_MMIO_H

#include "../vm.h"
#include "queue.h"

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

/* Device slots: slot i is 4 KiB at VIRTIO_MMIO_BASE + i * 4 KiB, on IRQ
 * VIRTIO_MMIO_IRQ + i; the guest learns them from the kernel command line. */
#define VIRTIO_MMIO_BASE  0xd0000000ULL
#define VIRTIO_MMIO_SIZE  0x1000ULL
#define VIRTIO_MMIO_IRQ   5
#define VIRTIO_MAX_QUEUES 4

#define VIRTIO_F_VERSION_1 32

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

struct virtio_mmio;

struct virtio_ops {
	const char *name; /* in messages */
	uint32_t device_id;
	uint64_t features; /* offered; VIRTIO_F_VERSION_1 is added */
	int nr_queues;
	uint32_t config_size; /* bytes of device config space at 0x100 */
	/* The driver wrote config bytes [offset, offset+len) (already stored). */
	void (*config_written)(struct virtio_mmio *d, uint32_t offset, uint32_t len);
	/* The driver notified queue @q (ready, checked). */
	void (*notify)(struct virtio_mmio *d, int q);
};

struct virtio_mmio {
	/* Every register access and the queue work it starts: with several
	 * vCPUs, two may notify (or reset) the device at once. */
	pthread_mutex_t lock;
	const struct virtio_ops *ops;
	void *opaque;
	struct vm *vm;
	int slot;
	uint32_t status;
	uint32_t isr;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t drv_features;
	uint32_t config_gen;
	struct virtq q[VIRTIO_MAX_QUEUES];
	uint8_t config[64];
};

/* Sets up @d for @ops in @slot and claims its MMIO range; -1 if the slot is
 * taken or the config space too large. */
int virtio_mmio_init(struct virtio_mmio *d, struct vm *vm, int slot, const struct virtio_ops *ops,
                     void *opaque);

/* Writes the guest's command-line word for @slot ("virtio_mmio.device=...")
 * into @buf; returns what snprintf returns. */
int virtio_mmio_cmdline(int slot, char *buf, size_t len);

struct aml;

/* Describes the device in slot @slot in the DSDT: LNRO0005, its window
 * and its interrupt, as Linux's virtio_mmio ACPI driver reads them. */
void virtio_mmio_aml(int slot, struct aml *a);

/* Tells the driver that used buffers are waiting (interrupt status bit 0). */
void virtio_mmio_interrupt(struct virtio_mmio *d);

/* Stops @d after a driver error: prints "virtio-NAME: WHY" once, sets
 * DEVICE_NEEDS_RESET and ignores its queues until the driver resets it. */
void virtio_mmio_fail(struct virtio_mmio *d, const char *why);

/* The MMIO handler of a virtio-mmio device (exposed for the tests). */
void virtio_mmio_access(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                        bool is_write, void *opaque);

#endif
