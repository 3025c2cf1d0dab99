// SPDX-License-Identifier: MIT
#include "net_hdr.h"

#include <linux/if_tun.h>
#include <string.h>

static bool has(uint64_t features, int bit)
{
	return (features >> bit) & 1;
}

unsigned int net_tun_offloads(uint64_t features)
{
	unsigned int o = TUN_F_CSUM;

	if (!has(features, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	if (has(features, VIRTIO_NET_F_GUEST_TSO4))
		o |= TUN_F_TSO4;
	if (has(features, VIRTIO_NET_F_GUEST_TSO6))
		o |= TUN_F_TSO6;
	if (has(features, VIRTIO_NET_F_GUEST_ECN) && (o & (TUN_F_TSO4 | TUN_F_TSO6)))
		o |= TUN_F_TSO_ECN;
	if (has(features, VIRTIO_NET_F_GUEST_UFO))
		o |= TUN_F_UFO;
	return o;
}

int64_t net_tx_parse(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                     struct iovec *iov, int *niov)
{
	uint64_t total = 0;
	int k = 0;

	for (int i = 0; i < n; i++) {
		void *p;

		if (bufs[i].write)
			return -1;
		if (!bufs[i].len)
			continue;
		p = guest_ptr(m, bufs[i].addr, bufs[i].len);
		total += bufs[i].len;
		if (!p || k == NET_MAX_BUFS || total > NET_MAX_PACKET)
			return -1;
		iov[k++] = (struct iovec){p, bufs[i].len};
	}
	if (total < NET_HDR_LEN)
		return -1;
	*niov = k;
	return (int64_t)total;
}

int64_t net_rx_chain(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                     struct iovec *iov, int max, int *niov)
{
	uint64_t total = 0;
	int k = 0;

	for (int i = 0; i < n; i++) {
		void *p;

		if (!bufs[i].write || !bufs[i].len)
			continue;
		p = guest_ptr(m, bufs[i].addr, bufs[i].len);
		if (!p || k == max)
			return -1;
		iov[k++] = (struct iovec){p, bufs[i].len};
		total += bufs[i].len;
	}
	*niov = k;
	return (int64_t)total;
}

size_t net_iov_write(const struct iovec *iov, int niov, size_t off, const void *src, size_t len)
{
	const uint8_t *from = src;
	size_t done = 0;

	for (int i = 0; i < niov && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, from + done, n);
		done += n;
		off = 0;
	}
	return done;
}

/* Takes the next chain of @t (the caller's copy of the queue) into @s:
 * 1 if taken, 0 if none is available, 2 if its buffers do not fit in
 * @s, -1 if the queue or the chain is broken. */
static int take_chain(struct virtq *t, const struct guest_mem *m, struct net_rx *s, struct err *e)
{
	struct net_rx_chain *c = &s->chains[s->nchains];
	int64_t cap;
	uint16_t head;
	int niov, n = virtq_pop(t, m, s->bufs, NET_MAX_BUFS, &head, e);

	if (n <= 0)
		return n;
	cap = net_rx_chain(m, s->bufs, n, s->iov + s->niov, NET_RX_MAX_IOV - s->niov, &niov);
	if (cap < 0)
		return 2;
	if (cap < NET_HDR_LEN)
		return err_set(e, "receive chain %u has %lld writable bytes, less than a header",
		               head, (long long)cap);
	*c = (struct net_rx_chain){head, s->niov, niov, (uint64_t)cap, 0};
	s->niov += niov;
	s->nchains++;
	return 1;
}

/* Copies @pkt[0..len) into the chains of @s, in order; fills their used
 * entries in @q. */
static int scatter(struct virtq *q, const struct guest_mem *m, const uint8_t *pkt, size_t len,
                   struct net_rx *s, struct err *e)
{
	size_t off = 0;

	for (int i = 0; i < s->nchains; i++) {
		struct net_rx_chain *c = &s->chains[i];
		size_t n = len - off < c->cap ? len - off : (size_t)c->cap;

		c->filled = (uint32_t)net_iov_write(s->iov + c->iov, c->niov, 0, pkt + off, n);
		off += n;
		if (virtq_fill(q, m, c->head, c->filled, e) < 0)
			return -1;
	}
	return NET_RX_PLACED;
}

int net_rx_place(struct virtq *q, const struct guest_mem *m, uint8_t *pkt, size_t len, bool mrg,
                 struct net_rx *s, struct err *e)
{
	struct virtq t = *q; /* chains are taken for good only once the frame fits */
	uint64_t cap = 0;
	uint16_t nbufs;

	s->nchains = s->niov = 0;
	while (cap < len) {
		int r;

		if (s->nchains == q->size || (!mrg && s->nchains == 1))
			return NET_RX_DROPPED;
		r = take_chain(&t, m, s, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return NET_RX_NO_BUFS;
		if (r == 2)
			return NET_RX_DROPPED;
		cap += s->chains[s->nchains - 1].cap;
	}
	nbufs = (uint16_t)s->nchains;
	memcpy(pkt + offsetof(struct net_hdr, num_buffers), &nbufs, sizeof(nbufs));
	q->last_avail = t.last_avail;
	return scatter(q, m, pkt, len, s, e);
}
