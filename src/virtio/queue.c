// SPDX-License-Identifier: MIT
#include "queue.h"

#include <string.h>

/* Sizes of the rings for a queue of @n entries, with the event index
 * fields (used_event after the avail ring, avail_event after the used
 * ring) that EVENT_IDX adds. */
#define DESC_SIZE(n)         (16ULL * (n))
#define AVAIL_SIZE(n)        (6ULL + 2ULL * (n))
#define USED_SIZE(n)         (6ULL + 8ULL * (n))
#define AVAIL_F_NO_INTERRUPT 1

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

int virtq_check(const struct virtq *q, const struct guest_mem *m, struct err *e)
{
	if (!q->size || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1)))
		return err_set(e, "queue size %u is not a power of two up to %u", q->size,
		               VIRTQ_MAX_SIZE);
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return err_set(e, "misaligned ring (desc 0x%llx, avail 0x%llx, used 0x%llx)",
		               (unsigned long long)q->desc, (unsigned long long)q->avail,
		               (unsigned long long)q->used);
	if (!guest_ptr(m, q->desc, DESC_SIZE(q->size)) ||
	    !guest_ptr(m, q->avail, AVAIL_SIZE(q->size)) ||
	    !guest_ptr(m, q->used, USED_SIZE(q->size)))
		return err_set(e,
		               "a ring lies outside guest RAM (desc 0x%llx, avail 0x%llx, "
		               "used 0x%llx)",
		               (unsigned long long)q->desc, (unsigned long long)q->avail,
		               (unsigned long long)q->used);
	return 0;
}

static uint16_t load16(const void *p)
{
	uint16_t v;

	__atomic_load((const uint16_t *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

/* Reads descriptor @i; -1 if the table is gone (a queue reset under us). */
static int read_desc(const struct virtq *q, const struct guest_mem *m, uint16_t i, struct desc *d,
                     struct err *e)
{
	const void *p = guest_ptr(m, q->desc + 16ULL * i, sizeof(*d));

	if (!p)
		return err_set(e, "descriptor table outside guest RAM");
	memcpy(d, p, sizeof(*d));
	return 0;
}

/* Appends descriptor @d to @bufs after checking it. */
static int add_buf(const struct desc *d, const struct guest_mem *m, struct virtq_buf *bufs, int n,
                   int max, struct err *e)
{
	if (d->flags & VIRTQ_DESC_F_INDIRECT)
		return err_set(e, "indirect descriptor inside a chain or an indirect table");
	if (n == max)
		return err_set(e, "chain of more than %d buffers", max);
	if (d->len && !guest_ptr(m, d->addr, d->len))
		return err_set(e, "buffer [0x%llx, +%u) outside guest RAM",
		               (unsigned long long)d->addr, d->len);
	bufs[n] = (struct virtq_buf){d->addr, d->len, (d->flags & VIRTQ_DESC_F_WRITE) != 0};
	return 0;
}

/* Follows the chain of an indirect table [addr, +len): its descriptors
 * index the table, not the ring. */
static int pop_indirect(const struct desc *ind, const struct guest_mem *m, struct virtq_buf *bufs,
                        int max, struct err *e)
{
	uint32_t count = ind->len / 16;
	const uint8_t *table = guest_ptr(m, ind->addr, ind->len);
	uint16_t i = 0;
	struct desc d;
	int n = 0;

	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return err_set(e, "an indirect descriptor with NEXT set");
	if (!table || !count || (ind->len & 15))
		return err_set(e,
		               "indirect table [0x%llx, +%u) is empty, misaligned or outside "
		               "guest RAM",
		               (unsigned long long)ind->addr, ind->len);
	do {
		if (i >= count)
			return err_set(e, "indirect descriptor index %u out of a table of %u", i,
			               count);
		if ((uint32_t)n >= count)
			return err_set(e, "indirect chain longer than its table (a loop)");
		memcpy(&d, table + 16ULL * i, sizeof(d));
		if (add_buf(&d, m, bufs, n, max, e) < 0)
			return -1;
		n++;
		i = d.next;
	} while (d.flags & VIRTQ_DESC_F_NEXT);
	return n;
}

/* Follows the chain that starts at ring descriptor @i. */
static int pop_chain(const struct virtq *q, const struct guest_mem *m, uint16_t i,
                     struct virtq_buf *bufs, int max, struct err *e)
{
	struct desc d;
	int n = 0;

	do {
		if (i >= q->size)
			return err_set(e, "descriptor index %u out of a queue of %u", i, q->size);
		if (n >= q->size)
			return err_set(e, "descriptor chain longer than the queue (a loop)");
		if (read_desc(q, m, i, &d, e) < 0)
			return -1;
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) && q->indirect && n == 0)
			return pop_indirect(&d, m, bufs, max, e);
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) && !q->indirect)
			return err_set(e, "indirect descriptor, a feature not negotiated");
		if (add_buf(&d, m, bufs, n, max, e) < 0)
			return -1;
		n++;
		i = d.next;
	} while (d.flags & VIRTQ_DESC_F_NEXT);
	return n;
}

/* Tells the driver (EVENT_IDX) to kick when it makes entry @idx available. */
static void set_avail_event(const struct virtq *q, const struct guest_mem *m, uint16_t idx)
{
	uint8_t *used = guest_ptr(m, q->used, USED_SIZE(q->size));

	if (used)
		__atomic_store((uint16_t *)(void *)(used + 4 + 8ULL * q->size), &idx,
		               __ATOMIC_RELEASE);
}

/* The driver's avail index. With EVENT_IDX, an empty ring is read again
 * after a full fence: the avail_event the last pop stored must be visible
 * to the driver before the device decides there is nothing, or a driver
 * that added an entry meanwhile (and read the old avail_event) never kicks
 * and the queue stalls. */
static uint16_t avail_idx(const struct virtq *q, const uint8_t *avail)
{
	uint16_t idx = load16(avail + 2);

	if (idx != q->last_avail || !q->event_idx)
		return idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(avail + 2);
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_buf *bufs, int max,
              uint16_t *head, struct err *e)
{
	const uint8_t *avail = guest_ptr(m, q->avail, AVAIL_SIZE(q->size));
	uint16_t idx, i;
	int n;

	if (!avail)
		return err_set(e, "avail ring outside guest RAM");
	idx = avail_idx(q, avail);
	if (idx == q->last_avail)
		return 0;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return err_set(e, "avail index %u ran %u entries ahead of a queue of %u", idx,
		               (uint16_t)(idx - q->last_avail), q->size);
	memcpy(&i, avail + 4 + 2 * (q->last_avail % q->size), sizeof(i));
	*head = i;
	n = pop_chain(q, m, i, bufs, max, e);
	if (n < 0)
		return -1;
	/* what the device will write, for a migration: its buffers and the used ring */
	for (int b = 0; b < n; b++)
		if (bufs[b].write)
			mem_mark_dirty(m, bufs[b].addr, bufs[b].len);
	mem_mark_dirty(m, q->used, USED_SIZE(q->size));
	q->last_avail++;
	if (q->event_idx)
		set_avail_event(q, m, q->last_avail);
	return n;
}

bool virtq_has_avail(const struct virtq *q, const struct guest_mem *m)
{
	const uint8_t *avail = guest_ptr(m, q->avail, AVAIL_SIZE(q->size));

	return avail && avail_idx(q, avail) != q->last_avail;
}

int virtq_read_rings(const struct virtq *q, const struct guest_mem *m, struct virtq_rings *r)
{
	const uint8_t *avail = guest_ptr(m, q->avail, AVAIL_SIZE(q->size));
	const uint8_t *used = guest_ptr(m, q->used, USED_SIZE(q->size));

	if (!avail || !used)
		return -1;
	r->avail_idx = load16(avail + 2);
	r->used_event = load16(avail + 4 + 2ULL * q->size);
	r->used_idx = load16(used + 2);
	r->avail_event = load16(used + 4 + 8ULL * q->size);
	return 0;
}

bool virtq_need_interrupt(const struct virtq *q, const struct guest_mem *m, uint16_t old)
{
	const uint8_t *avail = guest_ptr(m, q->avail, AVAIL_SIZE(q->size));
	uint16_t event;

	if (!avail)
		return true;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the used index before used_event */
	if (!q->event_idx)
		return !(load16(avail) & AVAIL_F_NO_INTERRUPT);
	event = load16(avail + 4 + 2ULL * q->size);
	/* virtio 1.x, 2.7.10: interrupt if used_event lies in [old, new). */
	return (uint16_t)(q->used_idx - event - 1) < (uint16_t)(q->used_idx - old);
}

int virtq_fill(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written,
               struct err *e)
{
	uint8_t *used = guest_ptr(m, q->used, USED_SIZE(q->size));
	uint32_t elem[2] = {head, written};

	if (!used)
		return err_set(e, "used ring outside guest RAM");
	mem_mark_dirty(m, q->used, USED_SIZE(q->size)); /* for a migration: KVM does not see it */
	memcpy(used + 4 + 8 * (q->used_idx % q->size), elem, sizeof(elem));
	q->used_idx++;
	return 0;
}

void virtq_publish(const struct virtq *q, const struct guest_mem *m)
{
	uint8_t *used = guest_ptr(m, q->used, USED_SIZE(q->size));
	uint16_t idx = q->used_idx;

	if (used)
		__atomic_store((uint16_t *)(void *)(used + 2), &idx, __ATOMIC_RELEASE);
}

int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written,
               struct err *e)
{
	if (virtq_fill(q, m, head, written, e) < 0)
		return -1;
	virtq_publish(q, m);
	return 0;
}
