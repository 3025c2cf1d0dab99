// SPDX-License-Identifier: MIT
/* virtio-net (virtio 1.2, 5.1) on a host tap: one receive and one transmit queue per --net,
 * served on the I/O thread. Transmit chains go to the tap as they are (the tap reads the same
 * 12-byte virtio_net_hdr); received frames go into the guest's buffers, several of them per
 * frame with MRG_RXBUF. The tap is watched only while the guest has buffers to receive into. */
#include "../config.h"
#include "../device.h"
#include "../err.h"
#include "../snapshot/stream.h"
#include "../metrics.h"
#include "../net/tap.h"
#include "../vm.h"
#include "mmio.h"
#include "net_hdr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

/* src/net/ is not among the Makefile's sources yet: the tap code is built
 * as part of this file until it is (then this line goes). */

#define VIRTIO_ID_NET 1

enum { Q_RX, Q_TX, NR_QUEUES };

/* virtio_net_config (5.1.4), little-endian. */
enum { CFG_MAC = 0, CFG_STATUS = 6, CFG_MAX_PAIRS = 8, CFG_MTU = 10, CFG_SIZE = 12 };

#define NET_MTU 1500
/* Frames or chains served per turn of the I/O thread, so that one busy
 * queue does not starve the others; the rest waits for the next turn. */
#define NET_BATCH 256

struct net {
	struct virtio_mmio dev;
	struct virtio_ops ops;
	const struct net_config *cfg;
	uint8_t mac[6];
	int slot;
	struct ev_source tap; /* tap.fd: the tap, or -1 */
	bool watching;        /* the loop waits for the tap's EPOLLIN */
	bool gone;            /* the tap went away: never watched again */
	bool mrg;             /* MRG_RXBUF accepted */
	size_t pending;       /* bytes of a frame in bounce, waiting for buffers */
	uint64_t rx_dropped, tx_dropped;
	struct virtq_buf txbufs[NET_MAX_BUFS];
	struct iovec txiov[NET_MAX_BUFS];
	struct net_rx rx;
	uint8_t bounce[NET_MAX_PACKET];
};

static struct net *nets;
static int nr_nets;

/* What one attempt to receive a frame came to. */
enum rx_step { RX_MORE, RX_EMPTY, RX_NO_BUFS, RX_BROKEN };

static void put16(uint8_t *cfg, int off, uint16_t v)
{
	memcpy(cfg + off, &v, 2);
}

static void fill_config(struct net *n)
{
	uint8_t *c = n->dev.config;

	memcpy(c + CFG_MAC, n->mac, 6);
	put16(c, CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	put16(c, CFG_MAX_PAIRS, 1);
	put16(c, CFG_MTU, NET_MTU);
}

/* The config space is read-only: a driver's write is undone. */
static void net_config_written(struct virtio_mmio *d, uint32_t offset, uint32_t len)
{
	(void)offset;
	(void)len;
	fill_config(d->opaque);
}

/* Waits for the tap's frames (@on) or stops waiting. */
static void watch(struct net *n, bool on)
{
	if (n->gone || n->watching == on)
		return;
	if (evloop_mod(&n->dev.vm->io, &n->tap, on ? EPOLLIN : 0) == 0)
		n->watching = on;
}

static bool rx_ready(const struct net *n)
{
	const struct virtio_mmio *d = &n->dev;

	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       d->q[Q_RX].ready;
}

/* Counts a frame of @len bytes with its virtio_net_hdr (the header is not counted). */
static void count_frame(enum metric packets, enum metric bytes, ssize_t len)
{
	metrics_inc(packets);
	metrics_add(bytes, len > NET_HDR_LEN ? (uint64_t)(len - NET_HDR_LEN) : 0);
}

/* Sends one transmit chain @bufs[0..k) to the tap, or drops it. */
static void tx_frame(struct net *n, int k)
{
	static struct ratelimit errors;
	int niov;
	ssize_t w;

	if (net_tx_parse(&n->dev.vm->mem, n->txbufs, k, n->txiov, &niov) < 0) {
		n->tx_dropped++;
		return;
	}
	do
		w = writev(n->tap.fd, n->txiov, niov);
	while (w < 0 && errno == EINTR);
	if (w >= 0) {
		count_frame(METRIC_net_tx_packets_count, METRIC_net_tx_bytes_count, w);
		return;
	}
	n->tx_dropped++;
	metrics_inc(METRIC_net_tx_fails);
	/* A full queue (EAGAIN, ENOBUFS) or a tap that is down (EIO) drops
	 * frames as a wire would; anything else is worth a word. */
	if (errno != EAGAIN && errno != ENOBUFS && errno != EIO)
		warn_limited(&errors, "virtio-net %s: frame dropped: %s", n->cfg->tap,
		             strerror(errno));
}

/* Asks the I/O thread for another turn on queue @q. */
static void kick_again(struct virtio_mmio *d, int q)
{
	uint64_t one = 1;

	if (write(d->kick[q].src.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warnx_("virtio-net: cannot requeue queue %d: %s", q, strerror(errno));
}

static void tx_run(struct net *n)
{
	struct virtio_mmio *d = &n->dev;
	struct virtq *q = &d->q[Q_TX];
	uint16_t head, old = q->used_idx;
	struct err e;
	int k = 0, done = 0;

	while (done < NET_BATCH && atomic_load(&d->vm->exit) == VM_RUNNING &&
	       (k = virtq_pop(q, &d->vm->mem, n->txbufs, NET_MAX_BUFS, &head, &e)) > 0) {
		tx_frame(n, k);
		if (virtq_fill(q, &d->vm->mem, head, 0, &e) < 0) {
			k = -1;
			break;
		}
		done++;
	}
	virtq_publish(q, &d->vm->mem);
	if (k < 0) {
		virtio_mmio_fail(d, e.msg);
		return;
	}
	virtio_mmio_used(d, Q_TX, old);
	if (done == NET_BATCH)
		kick_again(d, Q_TX);
}

/* Reads the next frame straight into the next receive chain when that one
 * holds any frame (the big buffers of a driver without MRG_RXBUF, which
 * then gets no copy; mergeable buffers are never that big): 1 if a
 * frame came, 0 if the chain is too small (bounce instead), -1 if the tap
 * has none, -2 if the queue is broken. */
static int rx_direct(struct net *n, struct err *e)
{
	struct virtq *q = &n->dev.q[Q_RX], t = *q;
	const struct guest_mem *m = &n->dev.vm->mem;
	uint16_t head, one = 1;
	int64_t cap;
	ssize_t got;
	int k = virtq_pop(&t, m, n->rx.bufs, NET_MAX_BUFS, &head, e), niov;

	if (k <= 0)
		return k < 0 ? -2 : 0;
	cap = net_rx_chain(m, n->rx.bufs, k, n->rx.iov, NET_RX_MAX_IOV, &niov);
	if (cap < NET_MAX_PACKET)
		return 0;
	do
		got = readv(n->tap.fd, n->rx.iov, niov);
	while (got < 0 && errno == EINTR);
	if (got < NET_HDR_LEN)
		return -1;
	net_iov_write(n->rx.iov, niov, offsetof(struct net_hdr, num_buffers), &one, sizeof(one));
	q->last_avail = t.last_avail;
	count_frame(METRIC_net_rx_packets_count, METRIC_net_rx_bytes_count, got);
	return virtq_fill(q, m, head, (uint32_t)got, e) < 0 ? -2 : 1;
}

/* Reads the next frame into the bounce buffer; false if there is none. */
static bool rx_read(struct net *n)
{
	static struct ratelimit errors;
	ssize_t got;

	do
		got = read(n->tap.fd, n->bounce, sizeof(n->bounce));
	while (got < 0 && errno == EINTR);
	if (got < 0 && errno != EAGAIN)
		warn_limited(&errors, "virtio-net %s: read: %s", n->cfg->tap, strerror(errno));
	if (got < NET_HDR_LEN)
		return false;
	n->pending = (size_t)got;
	return true;
}

/* Places the frame in bounce into the receive queue. */
static enum rx_step rx_place(struct net *n, struct err *e)
{
	int r = net_rx_place(&n->dev.q[Q_RX], &n->dev.vm->mem, n->bounce, n->pending, n->mrg,
	                     &n->rx, e);

	if (r < 0)
		return RX_BROKEN;
	if (r == NET_RX_NO_BUFS)
		return RX_NO_BUFS;
	if (r == NET_RX_DROPPED)
		n->rx_dropped++;
	else
		count_frame(METRIC_net_rx_packets_count, METRIC_net_rx_bytes_count,
		            (ssize_t)n->pending);
	n->pending = 0;
	return RX_MORE;
}

/* Receives one frame, if the guest has a buffer for it: a frame already
 * read waits in bounce until it has. */
static enum rx_step rx_frame(struct net *n, struct err *e)
{
	if (!n->pending) {
		if (!virtq_has_avail(&n->dev.q[Q_RX], &n->dev.vm->mem))
			return RX_NO_BUFS;
		switch (n->mrg ? 0 : rx_direct(n, e)) {
		case 1: return RX_MORE;
		case -1: return RX_EMPTY;
		case -2: return RX_BROKEN;
		default: break;
		}
		if (!rx_read(n))
			return RX_EMPTY;
	}
	return rx_place(n, e);
}

/* Receives what the tap has, as long as the guest has buffers; stops
 * watching the tap when it has none left, until its next receive kick. */
static void rx_run(struct net *n)
{
	struct virtio_mmio *d = &n->dev;
	struct virtq *q = &d->q[Q_RX];
	uint16_t old = q->used_idx;
	enum rx_step r = RX_MORE;
	struct err e;

	if (!rx_ready(n)) {
		watch(n, false);
		return;
	}
	for (int i = 0; i < NET_BATCH && r == RX_MORE; i++)
		r = rx_frame(n, &e);
	virtq_publish(q, &d->vm->mem);
	if (r == RX_BROKEN) {
		virtio_mmio_fail(d, e.msg);
		watch(n, false);
		return;
	}
	virtio_mmio_used(d, Q_RX, old);
	watch(n, r != RX_NO_BUFS);
}

/* The tap is readable (or gone). */
static void on_tap(void *opaque, uint32_t events)
{
	struct net *n = opaque;

	pthread_mutex_lock(&n->dev.lock);
	if (events & (EPOLLERR | EPOLLHUP)) {
		warnx_("virtio-net: tap %s went away; the guest's link stays up but carries "
		       "nothing",
		       n->cfg->tap);
		evloop_del(&n->dev.vm->io, &n->tap);
		n->gone = true;
		n->watching = false;
	} else {
		rx_run(n);
	}
	pthread_mutex_unlock(&n->dev.lock);
}

static void net_notify(struct virtio_mmio *d, int q)
{
	struct net *n = d->opaque;

	if (q == Q_TX)
		tx_run(n);
	else if (!n->watching || n->pending)
		rx_run(n); /* new buffers for a stalled receive */
}

/* DRIVER_OK: the tap hands over what the driver accepted. */
static void net_activate(struct virtio_mmio *d)
{
	struct net *n = d->opaque;
	unsigned int offloads = net_tun_offloads(d->drv_features);

	n->mrg = virtio_mmio_has(d, VIRTIO_NET_F_MRG_RXBUF);
	if (tap_set_offload(n->tap.fd, offloads) < 0) {
		warnx_("virtio-net %s: the tap refuses offloads 0x%x: %s; receiving without them",
		       n->cfg->tap, offloads, strerror(errno));
		tap_set_offload(n->tap.fd, 0);
	}
	watch(n, true);
}

/* The driver reset the device: its buffers are gone, and so is the frame
 * that waited for them. */
static void net_reset(struct virtio_mmio *d)
{
	struct net *n = d->opaque;

	n->pending = 0;
	watch(n, false);
	tap_set_offload(n->tap.fd, 0);
}

static void random_mac(uint8_t mac[6])
{
	static const uint8_t oui[3] = {0x52, 0x54, 0x00}; /* locally administered */

	memcpy(mac, oui, 3);
	if (getrandom(mac + 3, 3, 0) != 3)
		memset(mac + 3, 0x42, 3);
}

static int net_plan_one(struct vm *vm, struct net *n, const struct net_config *c)
{
	char what[32];
	struct err e;

	n->cfg = c;
	n->tap.fd = tap_open(c->tap, &e);
	if (n->tap.fd < 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	if (c->has_mac)
		memcpy(n->mac, c->mac, 6);
	else
		random_mac(n->mac);
	snprintf(what, sizeof(what), "--net tap=%s", c->tap);
	n->slot = virtio_mmio_slot_alloc(vm, what);
	return n->slot < 0 ? -1 : 0;
}

static int net_plan(struct vm *vm)
{
	int k = vm->devs ? vm->devs->nr_nets : 0;

	if (!k)
		return 0;
	nets = calloc((size_t)k, sizeof(*nets));
	if (!nets) {
		warnx_("no memory for %d network interfaces", k);
		return -1;
	}
	for (int i = 0; i < k; i++)
		nets[i].tap.fd = -1;
	nr_nets = k;
	for (int i = 0; i < k; i++)
		if (net_plan_one(vm, &nets[i], &vm->devs->nets[i]) < 0)
			return -1;
	return 0;
}

static const uint64_t net_features =
    1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM | 1ULL << VIRTIO_NET_F_MTU |
    1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6 |
    1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6 |
    1ULL << VIRTIO_NET_F_MRG_RXBUF | 1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_F_EVENT_IDX |
    1ULL << VIRTIO_F_INDIRECT_DESC;

static int net_init_one(struct vm *vm, struct net *n)
{
	struct err e;

	n->ops = (struct virtio_ops){
	    .name = "net",
	    .device_id = VIRTIO_ID_NET,
	    .features = net_features,
	    .nr_queues = NR_QUEUES,
	    .config_size = CFG_SIZE,
	    .config_written = net_config_written,
	    .notify = net_notify,
	    .reset = net_reset,
	    .activate = net_activate,
	};
	if (virtio_mmio_init(&n->dev, vm, n->slot, &n->ops, n, &e) < 0) {
		warnx_("--net tap=%s: %s", n->cfg->tap, e.msg);
		return -1;
	}
	fill_config(n);
	n->tap.fn = on_tap;
	n->tap.opaque = n;
	/* Not watched until the driver is ready: frames wait in the tap. */
	if (evloop_add(&vm->io, &n->tap, 0) < 0) {
		warnx_("--net tap=%s: epoll: %s", n->cfg->tap, strerror(errno));
		return -1;
	}
	return 0;
}

static int net_init(struct vm *vm)
{
	for (int i = 0; i < nr_nets; i++)
		if (net_init_one(vm, &nets[i]) < 0)
			return -1;
	return 0;
}

static void net_stop(struct vm *vm)
{
	for (int i = 0; i < nr_nets; i++) {
		struct net *n = &nets[i];

		if (n->tap.fd >= 0) {
			if (!n->gone)
				evloop_del(&vm->io, &n->tap);
			close(n->tap.fd);
			n->tap.fd = -1;
		}
		if (n->dev.vm)
			virtio_mmio_close(&n->dev);
	}
}

static int net_cmdline(const struct vm *vm, char *buf, size_t len)
{
	int n = 0;

	(void)vm;
	for (int i = 0; i < nr_nets && n >= 0; i++)
		n = virtio_mmio_cmdline_add(nets[i].slot, buf, len, n);
	return n < 0 ? (int)len : n;
}

static void net_aml(const struct vm *vm, struct aml *a)
{
	(void)vm;
	for (int i = 0; i < nr_nets; i++)
		virtio_mmio_aml(nets[i].slot, a);
}

DEVICE_REGISTER_PLAN(net, net_plan, net_init, net_stop, net_cmdline, net_aml);

/* Each interface's transport and queues. A frame read from the tap and
 * waiting for receive buffers is dropped, as a network may; the restored
 * VM opens its tap by name. */
static int net_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	(void)vm;
	for (int i = 0; i < nr_nets; i++) {
		char name[SNAP_NAME_MAX];

		snprintf(name, sizeof(name), "virtio-net%d", i);
		if (virtio_mmio_save(&nets[i].dev, w, name, NULL, 0) < 0)
			return err_set(e, "out of memory");
	}
	return 0;
}

static int net_load(struct vm *vm, struct snap *s, struct err *e)
{
	(void)vm;
	for (int i = 0; i < nr_nets; i++) {
		char name[SNAP_NAME_MAX];

		snprintf(name, sizeof(name), "virtio-net%d", i);
		if (virtio_mmio_load(&nets[i].dev, s, name, NULL, 0, e) < 0)
			return -1;
		virtio_mmio_resume(&nets[i].dev);
	}
	return 0;
}

DEVICE_STATE(net, net_save, net_load);
