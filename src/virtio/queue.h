/* SPDX-License-Identifier: MIT */
/* A split virtqueue (virtio 1.x, 2.7): the device side, every ring access checked against guest
 * RAM, a malformed queue reported instead of followed. */
#ifndef MOTE_VIRTIO_QUEUE_H
#define MOTE_VIRTIO_QUEUE_H

#include "../err.h"
#include "../mem.h"

#include <stdbool.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 256 /* QueueNumMax mote offers */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq {
	uint16_t size; /* QueueNum: a power of two, at most VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc, avail, used; /* guest-physical ring addresses */
	uint16_t last_avail;        /* the next avail ring entry to take */
	uint16_t used_idx;          /* the next used ring entry to fill */
	bool event_idx;             /* VIRTIO_F_EVENT_IDX negotiated: used_event, avail_event */
	bool indirect;              /* VIRTIO_F_INDIRECT_DESC negotiated */
};

/* One buffer of a descriptor chain. */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable */
};

/* Checks @q's size and that its three rings lie in guest RAM, as the
 * driver set them before QueueReady; -1 naming what is wrong. */
int virtq_check(const struct virtq *q, const struct guest_mem *m, struct err *e);

/* Takes the next chain the driver made available: its buffers in
 * @bufs[0..max) and its head in @head. Returns the number of buffers, 0 if
 * none is available, -1 (naming why) if the queue is malformed: an avail
 * index that ran ahead by more than the size, a descriptor index out of
 * range, a chain longer than the queue (a loop), an indirect descriptor that
 * was not negotiated, is not alone in its chain, is misaligned or nests, a
 * buffer outside guest RAM, or more than @max buffers. With event_idx it
 * also sets avail_event, so that the driver kicks for the next chain. */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_buf *bufs, int max,
              uint16_t *head, struct err *e);

/* Returns chain @head to the driver, @written bytes filled; -1 if the used
 * ring is not in guest RAM. */
int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written,
               struct err *e);

/* Whether the driver wants an interrupt for the chains pushed since the
 * used index was @old: its used_event (EVENT_IDX) or the avail ring's
 * NO_INTERRUPT flag; true if the rings cannot be read. */
bool virtq_need_interrupt(const struct virtq *q, const struct guest_mem *m, uint16_t old);

/* Whether chains are waiting in the avail ring (none taken yet). */
bool virtq_has_avail(const struct virtq *q, const struct guest_mem *m);

/* The ring's side of queue @q, as the driver left it. */
struct virtq_rings {
	uint16_t avail_idx, used_idx, used_event, avail_event;
};

/* Reads @q's avail and used indices and both event indices from guest RAM
 * @m into @r; -1 if a ring lies outside it. */
int virtq_read_rings(const struct virtq *q, const struct guest_mem *m, struct virtq_rings *r);

/* Fills the used ring entry of chain @head (@written bytes) without
 * showing it to the driver: virtq_publish (or the next virtq_push) does,
 * for every entry filled so far at once, so that the chains of one
 * virtio-net frame reach the driver together. -1 if the used ring is not
 * in guest RAM. */
int virtq_fill(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written,
               struct err *e);

/* Shows the driver the used entries filled since the last publish (stores
 * the used index); nothing if the used ring is not in guest RAM. */
void virtq_publish(const struct virtq *q, const struct guest_mem *m);

#endif
