/* SPDX-License-Identifier: MIT */
/* virtio-net's frames (virtio 1.2, 5.1.6): the transmit chain checked into host iovecs, a
 * received frame placed into one receive chain or, with MRG_RXBUF, several; the offloads the
 * driver accepted as the tap's. Guest memory only, no host fds: what the tests and the fuzzer
 * drive. */
#ifndef MOTE_VIRTIO_NET_HDR_H
#define MOTE_VIRTIO_NET_HDR_H

#include "../mem.h"
#include "queue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU        3
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN  9
#define VIRTIO_NET_F_GUEST_UFO  10
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16

#define VIRTIO_NET_S_LINK_UP 1

/* The header in front of every frame: virtio 1.x always has num_buffers. */
struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define NET_HDR_LEN    12
#define NET_MAX_FRAME  (64 * 1024 + 14) /* a 64 KiB GSO packet and its Ethernet header */
#define NET_MAX_PACKET (NET_HDR_LEN + NET_MAX_FRAME) /* 65562: header and frame */
#define NET_MAX_BUFS   VIRTQ_MAX_SIZE                /* buffers of one chain */
#define NET_RX_MAX_IOV 512                           /* buffers of one received frame */

_Static_assert(sizeof(struct net_hdr) == NET_HDR_LEN, "virtio_net_hdr is 12 bytes");

/* The TUN_F_* offloads to set on the tap for the features the driver
 * accepted (@features): TUN_F_CSUM for GUEST_CSUM, and on top of it TSO4,
 * TSO6, TSO_ECN and UFO for GUEST_TSO4, GUEST_TSO6, GUEST_ECN, GUEST_UFO;
 * 0 without GUEST_CSUM (the others depend on it, 5.1.3.1). */
unsigned int net_tun_offloads(uint64_t features);

/* Checks transmit chain @bufs[0..n) and gathers it into @iov (room for
 * NET_MAX_BUFS): every buffer device-readable, the header and at most
 * NET_MAX_FRAME bytes after it. Returns the bytes (header included) and
 * sets @niov, or -1 if the chain is malformed. */
int64_t net_tx_parse(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                     struct iovec *iov, int *niov);

/* Gathers the device-writable buffers of receive chain @bufs[0..n) into
 * @iov[0..max) (device-readable ones are skipped); returns their bytes and
 * sets @niov, or -1 if they need more than @max iovecs. */
int64_t net_rx_chain(const struct guest_mem *m, const struct virtq_buf *bufs, int n,
                     struct iovec *iov, int max, int *niov);

/* Copies @src[0..len) into @iov[0..niov) from byte @off of it on; returns
 * the bytes copied (fewer if the iovecs end first). */
size_t net_iov_write(const struct iovec *iov, int niov, size_t off, const void *src, size_t len);

/* One receive chain taken for a frame. */
struct net_rx_chain {
	uint16_t head;
	int iov, niov;   /* its buffers: net_rx.iov[iov, iov + niov) */
	uint64_t cap;    /* their bytes */
	uint32_t filled; /* bytes of the frame placed in it */
};

/* Scratch of net_rx_place, kept with the device (too big for a stack). */
struct net_rx {
	struct virtq_buf bufs[NET_MAX_BUFS];
	struct iovec iov[NET_RX_MAX_IOV];
	struct net_rx_chain chains[VIRTQ_MAX_SIZE];
	int nchains, niov;
};

enum net_rx_result {
	NET_RX_PLACED,  /* in the used ring, not yet published */
	NET_RX_NO_BUFS, /* the chains available do not hold it; nothing taken */
	NET_RX_DROPPED, /* no chain ever will (too big for one without MRG_RXBUF,
	                   or for the whole queue): the frame is dropped */
};

/* Places received packet @pkt[0..len) (a header, then the frame; len at
 * least NET_HDR_LEN) into receive queue @q: into the next chain, or with
 * @mrg into as many chains as it takes, its header's num_buffers set to
 * their number. Their used entries are filled (virtq_fill), not published.
 * Returns an enum net_rx_result; -1 with @e if the queue is broken or a
 * chain has fewer writable bytes than the header. @q only moves on when
 * the frame is placed. */
int net_rx_place(struct virtq *q, const struct guest_mem *m, uint8_t *pkt, size_t len, bool mrg,
                 struct net_rx *s, struct err *e);

#endif
