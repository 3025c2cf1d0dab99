/* SPDX-License-Identifier: MIT */
/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2): registers, feature and status
 * negotiation, queue set-up, interrupts. Devices fill in struct virtio_ops. */
#ifndef MOTE_VIRTIO_MMIO_H
#define MOTE_VIRTIO_MMIO_H

#include "../evloop.h"
#include "../vm.h"
#include "queue.h"

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

/* Device slots: slot i is 4 KiB at VIRTIO_MMIO_BASE + i * 4 KiB, on the
 * i-th IRQ of virtio_mmio_irq(); the guest learns them from the DSDT (or,
 * with --no-acpi, from the kernel command line). */
#define VIRTIO_MMIO_BASE  0xd0000000ULL
#define VIRTIO_MMIO_SIZE  0x1000ULL
#define VIRTIO_MAX_QUEUES 8
/* Slots: ISA IRQs 5-7, 9-11, 13-15 (8 and 12 stay for an RTC and a mouse),
 * then GSIs 16-23, which only ACPI can describe. */
#define VIRTIO_MMIO_SLOTS        17
#define VIRTIO_MMIO_SLOTS_NOACPI 9

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

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
	/* The driver notified queue @q (ready, checked); on the I/O thread,
	 * under the device's lock. */
	void (*notify)(struct virtio_mmio *d, int q);
	/* The driver reset the device (status 0): drop or finish the work in
	 * flight before the guest may reuse its buffers. May be NULL. */
	void (*reset)(struct virtio_mmio *d);
	/* The driver set DRIVER_OK: the queues are ready. May be NULL. */
	void (*activate)(struct virtio_mmio *d);
};

/* What a queue's kick eventfd brings to the I/O thread. */
struct virtio_kick {
	struct ev_source src;
	struct virtio_mmio *dev;
	int queue;
};

struct virtio_mmio {
	/* Every register access and the queue work it starts: with several
	 * vCPUs, two may notify (or reset) the device at once. */
	pthread_mutex_t lock;
	const struct virtio_ops *ops;
	void *opaque;
	struct vm *vm;
	int slot;
	uint32_t irq;   /* GSI */
	int irq_fd;     /* KVM_IRQFD eventfd, or -1: KVM_IRQ_LINE */
	bool ioeventfd; /* kicks come through KVM_IOEVENTFD, not the handler */
	struct virtio_kick kick[VIRTIO_MAX_QUEUES]; /* kick[i].src.fd: eventfd, or -1 */
	uint32_t status;
	uint32_t isr;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t drv_features;
	uint32_t config_gen;
	struct virtq q[VIRTIO_MAX_QUEUES];
	uint8_t config[64];
};

/* Prints, for every queue of every device the driver set up, the indices of
 * the device and of the rings (what a stalled queue is waiting for). */
void virtio_mmio_report(FILE *out);

/* Takes the next free device slot of @vm; -1 (naming the limit) if all
 * are taken. Call from a device's plan hook. */
int virtio_mmio_slot_alloc(struct vm *vm, const char *what);

/* The GSI of device slot @slot. */
uint32_t virtio_mmio_irq(int slot);

/* Sets up @d for @ops in @slot: claims its MMIO range, makes an eventfd per
 * queue that KVM signals on a notify of that queue (KVM_IOEVENTFD with the
 * queue index as datamatch) and the I/O thread (@vm's loop) waits on, and
 * an irqfd for its interrupt. -1 with @e if the slot is taken, the config
 * space too large, or an eventfd cannot be made. */
int virtio_mmio_init(struct virtio_mmio *d, struct vm *vm, int slot, const struct virtio_ops *ops,
                     void *opaque, struct err *e);

/* Undoes virtio_mmio_init's eventfds (the I/O thread has stopped). */
void virtio_mmio_close(struct virtio_mmio *d);

/* Writes the guest's command-line word for @slot ("virtio_mmio.device=...")
 * into @buf; returns what snprintf returns. */
int virtio_mmio_cmdline(int slot, char *buf, size_t len);

/* Appends @slot's command-line word to the words in @buf[0..at) (a space
 * between words); returns the new length, or -1 if it does not fit in
 * @len bytes with its NUL. For devices with several instances. */
int virtio_mmio_cmdline_add(int slot, char *buf, size_t len, int at);

/* True if the driver accepted feature bit @bit. */
bool virtio_mmio_has(const struct virtio_mmio *d, int bit);

/* Returns used buffers of queue @q to the driver and interrupts it unless
 * it asked not to be (EVENT_IDX's used_event, or NO_INTERRUPT); @old_used
 * is the queue's used index before the batch. */
void virtio_mmio_used(struct virtio_mmio *d, int q, uint16_t old_used);

struct aml;

/* Describes the device in slot @slot in the DSDT: LNRO0005, its window
 * and its interrupt, as Linux's virtio_mmio ACPI driver reads them. */
void virtio_mmio_aml(int slot, struct aml *a);

/* Tells the driver that used buffers are waiting (interrupt status bit 0),
 * unconditionally. */
void virtio_mmio_interrupt(struct virtio_mmio *d);

/* Tells the driver that the device's config space changed: a new config
 * generation and, once the driver runs (DRIVER_OK), interrupt status bit
 * 1. Under the device's lock. */
void virtio_mmio_config_changed(struct virtio_mmio *d);

/* Stops @d after a driver error: prints "virtio-NAME: WHY" once, sets
 * DEVICE_NEEDS_RESET and ignores its queues until the driver resets it. */
void virtio_mmio_fail(struct virtio_mmio *d, const char *why);

struct snap;
struct snap_writer;

/* Appends @d's transport state (registers, features, queues, config space)
 * and @extra_len bytes of the device's own @extra to @w as device record
 * @name; -1 if memory runs out. With the VM paused and the device idle. */
int virtio_mmio_save(struct virtio_mmio *d, struct snap_writer *w, const char *name,
                     const void *extra, size_t extra_len);

/* Loads device record @name into @d (made by virtio_mmio_init, never run)
 * and its device bytes into @extra (exactly @extra_len of them): a record
 * of another device, features the device does not offer, unknown status
 * bits or a ready queue whose rings are not in guest RAM are refused with
 * @e and leave @d reset. */
int virtio_mmio_load(struct virtio_mmio *d, struct snap *s, const char *name, void *extra,
                     size_t extra_len, struct err *e);

/* After a load: a running driver's device starts again (its activate hook)
 * and each ready queue is kicked, for what the driver made available. */
void virtio_mmio_resume(struct virtio_mmio *d);

/* The MMIO handler of a virtio-mmio device (exposed for the tests). */
void virtio_mmio_access(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                        bool is_write, void *opaque);

#endif
