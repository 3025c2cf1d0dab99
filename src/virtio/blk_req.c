// SPDX-License-Identifier: MIT
#include "blk_req.h"

#include <stddef.h>
#include <string.h>

#define HDR_LEN 16 /* type, reserved, sector */
#define SECTOR  512ULL

/* Adds [addr, +len) of guest RAM to the data; false if it is not RAM. */
static bool add_data(const struct guest_mem *m, uint64_t addr, uint64_t len, struct blk_req *r)
{
	void *p;

	if (!len)
		return true;
	p = guest_ptr(m, addr, len);
	if (!p || r->niov == BLK_MAX_BUFS)
		return false;
	r->iov[r->niov++] = (struct iovec){p, len};
	r->len += len;
	return true;
}

/* Collects the data between the header (first 16 bytes) and the status
 * (last byte); false if it is malformed or its direction is not @write. */
static bool collect(const struct guest_mem *m, const struct virtq_buf *bufs, int n, bool write,
                    struct blk_req *r)
{
	for (int i = 0; i < n; i++) {
		uint64_t addr = bufs[i].addr, len = bufs[i].len;

		if (i == 0) {
			addr += HDR_LEN;
			len -= HDR_LEN;
		}
		if (i == n - 1)
			len--; /* the status byte */
		if (len && bufs[i].write != write)
			return false;
		if (!add_data(m, addr, len, r))
			return false;
	}
	return true;
}

/* Whether [sector, +count) lies inside the disk. */
static bool in_range(const struct blk_limits *lim, uint64_t sector, uint64_t count)
{
	return sector <= lim->sectors && count <= lim->sectors - sector;
}

static int check_rw(const struct blk_req *r, const struct blk_limits *lim)
{
	if (r->len % SECTOR || !in_range(lim, r->sector, r->len / SECTOR))
		return BLK_S_IOERR;
	if (r->type == BLK_T_OUT && lim->ro)
		return BLK_S_IOERR;
	return BLK_S_OK;
}

/* Reads the discard / write-zeroes segments out of the data. */
static int parse_ranges(struct blk_req *r, const struct blk_limits *lim)
{
	uint8_t seg[16];
	int k = 0;

	if (lim->ro)
		return BLK_S_IOERR;
	if (!r->len || r->len % sizeof(seg) || r->len / sizeof(seg) > BLK_DISCARD_SEGS)
		return BLK_S_IOERR;
	for (int i = 0; i < r->niov; i++) {
		for (size_t off = 0; off < r->iov[i].iov_len; off++) {
			seg[k % 16] = ((const uint8_t *)r->iov[i].iov_base)[off];
			if (++k % 16 == 0) {
				struct blk_range *g = &r->ranges[r->nranges++];

				memcpy(&g->sector, seg, 8);
				memcpy(&g->sectors, seg + 8, 4);
				memcpy(&g->flags, seg + 12, 4);
			}
		}
	}
	for (int i = 0; i < r->nranges; i++) {
		const struct blk_range *g = &r->ranges[i];

		if (g->flags & ~(uint32_t)BLK_WZ_UNMAP)
			return BLK_S_UNSUPP;
		if (r->type == BLK_T_DISCARD && g->flags)
			return BLK_S_UNSUPP; /* unmap is write-zeroes' flag only */
		if (g->sectors > BLK_DISCARD_MAX || !in_range(lim, g->sector, g->sectors))
			return BLK_S_IOERR;
	}
	return BLK_S_OK;
}

/* The status byte: the last byte of the last buffer, device-writable. */
static uint8_t *find_status(const struct guest_mem *m, const struct virtq_buf *bufs, int n)
{
	const struct virtq_buf *last;

	if (n < 1)
		return NULL;
	last = &bufs[n - 1];
	if (!last->write || !last->len || (n == 1 && last->len < HDR_LEN + 1))
		return NULL;
	return guest_ptr(m, last->addr + last->len - 1, 1);
}

int blk_req_parse(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                  const struct blk_limits *lim, struct blk_req *r)
{
	const uint8_t *hdr;

	memset(r, 0, offsetof(struct blk_req, iov));
	r->niov = r->nranges = 0;
	r->len = 0;
	r->written = 1;
	r->status = n > 0 ? find_status(m, bufs, n) : NULL;
	if (!r->status)
		return -1;
	if (bufs[0].write || bufs[0].len < HDR_LEN || !(hdr = guest_ptr(m, bufs[0].addr, HDR_LEN)))
		return BLK_S_IOERR;
	memcpy(&r->type, hdr, 4);
	memcpy(&r->sector, hdr + 8, 8);
	switch (r->type) {
	case BLK_T_IN:
	case BLK_T_GET_ID:
		if (!collect(m, bufs, n, true, r))
			return BLK_S_IOERR;
		r->written = (uint32_t)(r->len > 0xfffffffeULL ? 0xfffffffeULL : r->len) + 1;
		if (r->type == BLK_T_GET_ID)
			return r->len ? BLK_S_OK : BLK_S_IOERR;
		return check_rw(r, lim);
	case BLK_T_OUT:
		if (!collect(m, bufs, n, false, r))
			return BLK_S_IOERR;
		return check_rw(r, lim);
	case BLK_T_FLUSH: return BLK_S_OK;
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		if (!collect(m, bufs, n, false, r))
			return BLK_S_IOERR;
		return parse_ranges(r, lim);
	default: return BLK_S_UNSUPP;
	}
}
