// SPDX-License-Identifier: MIT
#include "queue.h"

#include <string.h>

/* Sizes of the rings for a queue of @n entries (no event index: not offered). */
#define DESC_SIZE(n)  (16ULL * (n))
#define AVAIL_SIZE(n) (4ULL + 2ULL * (n))
#define USED_SIZE(n)  (4ULL + 8ULL * (n))

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
		return err_set(e, "indirect descriptor, a feature not offered");
	if (n == max)
		return err_set(e, "chain of more than %d buffers", max);
	if (d->len && !guest_ptr(m, d->addr, d->len))
		return err_set(e, "buffer [0x%llx, +%u) outside guest RAM",
		               (unsigned long long)d->addr, d->len);
	bufs[n] = (struct virtq_buf){d->addr, d->len, (d->flags & VIRTQ_DESC_F_WRITE) != 0};
	return 0;
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_buf *bufs, int max,
              uint16_t *head, struct err *e)
{
	const uint8_t *avail = guest_ptr(m, q->avail, AVAIL_SIZE(q->size));
	uint16_t idx, i;
	struct desc d;
	int n = 0;

	if (!avail)
		return err_set(e, "avail ring outside guest RAM");
	idx = load16(avail + 2);
	if (idx == q->last_avail)
		return 0;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return err_set(e, "avail index %u ran %u entries ahead of a queue of %u", idx,
		               (uint16_t)(idx - q->last_avail), q->size);
	memcpy(&i, avail + 4 + 2 * (q->last_avail % q->size), sizeof(i));
	*head = i;
	do {
		if (i >= q->size)
			return err_set(e, "descriptor index %u out of a queue of %u", i, q->size);
		if (n >= q->size)
			return err_set(e, "descriptor chain longer than the queue (a loop)");
		if (read_desc(q, m, i, &d, e) < 0 || add_buf(&d, m, bufs, n, max, e) < 0)
			return -1;
		n++;
		i = d.next;
	} while (d.flags & VIRTQ_DESC_F_NEXT);
	q->last_avail++;
	return n;
}

int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written,
               struct err *e)
{
	uint8_t *used = guest_ptr(m, q->used, USED_SIZE(q->size));
	uint32_t elem[2] = {head, written};

	if (!used)
		return err_set(e, "used ring outside guest RAM");
	memcpy(used + 4 + 8 * (q->used_idx % q->size), elem, sizeof(elem));
	q->used_idx++;
	__atomic_store((uint16_t *)(void *)(used + 2), &q->used_idx, __ATOMIC_RELEASE);
	return 0;
}
