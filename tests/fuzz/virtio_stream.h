/* SPDX-License-Identifier: MIT */
/* The input of fuzz_virtio: what a hostile driver does, as a stream of
 * commands, each an opcode byte and its operands (little-endian):
 *
 *   op & 3 == 0  MMIO write: offset (2 bytes, within the device's 4 KiB),
 *                value (4 bytes); width 4, 1, 2 or 8 by (op >> 2) & 3 (an
 *                8-byte access repeats the value)
 *   op & 3 == 1  MMIO read: offset (2 bytes); width as for a write
 *   op & 3 == 2  guest RAM write: address (2 bytes; in the RAM at 4 GiB
 *                if op & 4), length (1 byte), then that many bytes
 *   op & 3 == 3  the driver's notification of queue (op >> 2) & 3: a
 *                32-bit write of it to QueueNotify; for the balloon, with
 *                op & 0x10, a control plane call instead, by (op >> 2) & 3:
 *                0 the statistics interval passes, 1 set the target (MiB,
 *                1 byte), 2 set the statistics interval (3600 + 1 byte s),
 *                3 read the statistics and actual
 *
 * The guest RAM is FUZZ_RAM_LOW bytes at 0 and FUZZ_RAM_HIGH bytes at
 * 4 GiB, zero at the start of every input. */
#ifndef MOTE_FUZZ_VIRTIO_STREAM_H
#define MOTE_FUZZ_VIRTIO_STREAM_H

#define FUZZ_RAM_LOW      (64 * 1024)
#define FUZZ_RAM_HIGH     (16 * 1024)
#define FUZZ_RAM_HIGH_GPA 0x100000000ULL

enum { VS_WRITE, VS_READ, VS_RAM, VS_NOTIFY };

/* Register offsets, virtio 1.x 4.2.2. */
enum {
	VS_REG_DEVICE_FEATURES = 0x010,
	VS_REG_DEVICE_FEATURES_SEL = 0x014,
	VS_REG_DRIVER_FEATURES = 0x020,
	VS_REG_DRIVER_FEATURES_SEL = 0x024,
	VS_REG_QUEUE_SEL = 0x030,
	VS_REG_QUEUE_NUM_MAX = 0x034,
	VS_REG_QUEUE_NUM = 0x038,
	VS_REG_QUEUE_READY = 0x044,
	VS_REG_QUEUE_NOTIFY = 0x050,
	VS_REG_INTERRUPT_STATUS = 0x060,
	VS_REG_INTERRUPT_ACK = 0x064,
	VS_REG_STATUS = 0x070,
	VS_REG_QUEUE_DESC_LOW = 0x080,
	VS_REG_QUEUE_DESC_HIGH = 0x084,
	VS_REG_QUEUE_DRIVER_LOW = 0x090,
	VS_REG_QUEUE_DRIVER_HIGH = 0x094,
	VS_REG_QUEUE_DEVICE_LOW = 0x0a0,
	VS_REG_QUEUE_DEVICE_HIGH = 0x0a4,
	VS_REG_CONFIG = 0x100,
};

#endif
