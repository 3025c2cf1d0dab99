/* SPDX-License-Identifier: MIT */
/* virtio-blk requests (virtio 1.2, 5.2.6): a descriptor chain parsed and checked into what
 * the back end does, before anything touches the image. */
#ifndef MOTE_VIRTIO_BLK_REQ_H
#define MOTE_VIRTIO_BLK_REQ_H

#include "../mem.h"
#include "queue.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum {
	BLK_T_IN = 0,
	BLK_T_OUT = 1,
	BLK_T_FLUSH = 4,
	BLK_T_GET_ID = 8,
	BLK_T_DISCARD = 11,
	BLK_T_WRITE_ZEROES = 13,
};

enum { BLK_S_OK = 0, BLK_S_IOERR = 1, BLK_S_UNSUPP = 2 };

#define BLK_SEG_MAX      254 /* data segments of one request (config seg_max) */
#define BLK_MAX_BUFS     (BLK_SEG_MAX + 2)
#define BLK_DISCARD_SEGS 32        /* config max_discard_seg, max_write_zeroes_seg */
#define BLK_DISCARD_MAX  0x400000U /* sectors per discard/write-zeroes segment: 2 GiB */
#define BLK_WZ_UNMAP     1

/* What the device is: the limits a request is checked against. */
struct blk_limits {
	uint64_t sectors; /* capacity */
	bool ro;
};

/* One discard or write-zeroes segment (virtio_blk_discard_write_zeroes). */
struct blk_range {
	uint64_t sector;
	uint32_t sectors;
	uint32_t flags;
};

struct blk_req {
	uint32_t type;
	uint64_t sector;
	struct iovec iov[BLK_MAX_BUFS]; /* the data, in host memory */
	int niov;
	uint64_t len;     /* bytes of data */
	uint8_t *status;  /* the status byte, in guest RAM */
	uint32_t written; /* bytes the device writes if it succeeds (data + status) */
	struct blk_range ranges[BLK_DISCARD_SEGS];
	int nranges;
};

/* Parses chain @bufs[0..n) into @r. Returns a status to answer with:
 * BLK_S_OK (do it), BLK_S_IOERR (malformed, out of range, a write to a
 * read-only disk) or BLK_S_UNSUPP (an unknown type, reserved flags); and
 * -1 if the chain has no status byte to answer in (then @r->status is
 * NULL). */
int blk_req_parse(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                  const struct blk_limits *lim, struct blk_req *r);

#endif
