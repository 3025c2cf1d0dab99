// SPDX-License-Identifier: MIT
/* virtio-net's chain handling against a hostile driver: the transmit chain check
 * (net_tx_parse) and the placement of received frames into one receive chain or several
 * (net_rx_place), on rings and descriptors the input writes into a small guest RAM, through
 * mote's virtqueue walker. No tap: what the device does with the host is not parsed.
 *
 * Input: a flags byte (bit 0 MRG_RXBUF, bit 1 EVENT_IDX, bit 2 indirect descriptors, bits 4-7
 * the queues' size, 1 << (n % 9)), then commands, each an opcode byte and its operands
 * (little-endian):
 *
 *   op & 3 == 0  guest RAM write: address (2 bytes), length (1 byte), that many bytes
 *   op & 3 == 1  the transmit queue's turn: every chain checked and returned
 *   op & 3 == 2  a received frame: its length after the header (2 bytes, up to 64 KiB + 14)
 *   op & 3 == 3  both queues' used entries published
 *
 * Checked: a transmit chain's iovecs add up to what it returns, which lies between a header
 * and NET_MAX_PACKET; a placed frame's chains hold all of it, as many as its num_buffers
 * says (one without MRG_RXBUF), each as many used entries; a frame not placed takes nothing
 * from the queue. */
#include "fuzz.h"

#include "mem.h"
#include "virtio/net_hdr.h"
#include "virtio/queue.h"

#include <string.h>
#include <sys/mman.h>

#define RAM_SIZE (64 * 1024)

/* The rings: each queue's descriptor table, avail and used ring, 4 KiB apart. */
#define RX_BASE 0x0000
#define TX_BASE 0x3000

static struct guest_mem mem;
static struct net_rx rx;
static uint8_t pkt[NET_MAX_PACKET];
static struct virtq_buf bufs[NET_MAX_BUFS];
static struct iovec iov[NET_MAX_BUFS];

static void setup(void)
{
	fuzz_guest_ram(&mem, RAM_SIZE);
	for (size_t i = NET_HDR_LEN; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 13);
}

static struct virtq queue_at(uint64_t base, uint8_t flags)
{
	return (struct virtq){
	    .size = (uint16_t)(1u << ((flags >> 4) % 9)),
	    .ready = true,
	    .desc = base,
	    .avail = base + 0x1000,
	    .used = base + 0x2000,
	    .event_idx = flags & 2,
	    .indirect = flags & 4,
	};
}

/* Every chain of @q: checked, returned with nothing written. */
static void transmit(struct virtq *q)
{
	uint16_t head;
	struct err e;
	int n;

	while ((n = virtq_pop(q, &mem, bufs, NET_MAX_BUFS, &head, &e)) > 0) {
		int niov = -1;
		int64_t len = net_tx_parse(&mem, bufs, n, iov, &niov);
		uint64_t sum = 0;

		if (len >= 0) {
			FUZZ_CHECK(len >= NET_HDR_LEN && len <= NET_MAX_PACKET,
			           "a transmit chain of %lld bytes", (long long)len);
			FUZZ_CHECK(niov >= 0 && niov <= n, "%d iovecs from %d buffers", niov, n);
			for (int i = 0; i < niov; i++)
				sum += iov[i].iov_len;
			FUZZ_CHECK(sum == (uint64_t)len, "iovecs of %llu bytes, chain of %lld",
			           (unsigned long long)sum, (long long)len);
		}
		if (virtq_push(q, &mem, head, 0, &e) < 0)
			break;
	}
	if (n < 0) /* a broken queue: the driver's reset */
		q->last_avail = q->used_idx = 0;
}

static void check_placed(const struct virtq *q, const struct virtq *before, size_t len, bool mrg)
{
	uint64_t sum = 0;
	uint16_t nb;

	memcpy(&nb, pkt + offsetof(struct net_hdr, num_buffers), 2);
	FUZZ_CHECK(rx.nchains >= 1 && nb == rx.nchains, "num_buffers %u for %d chains", nb,
	           rx.nchains);
	FUZZ_CHECK(mrg || rx.nchains == 1, "%d chains without MRG_RXBUF", rx.nchains);
	FUZZ_CHECK((uint16_t)(q->used_idx - before->used_idx) == rx.nchains,
	           "%u used entries for %d chains", (uint16_t)(q->used_idx - before->used_idx),
	           rx.nchains);
	FUZZ_CHECK((uint16_t)(q->last_avail - before->last_avail) == rx.nchains,
	           "%u chains taken, %d used", (uint16_t)(q->last_avail - before->last_avail),
	           rx.nchains);
	for (int i = 0; i < rx.nchains; i++) {
		FUZZ_CHECK(rx.chains[i].filled <= rx.chains[i].cap, "chain %d overfilled", i);
		sum += rx.chains[i].filled;
	}
	FUZZ_CHECK(sum == len, "%llu bytes placed of %zu", (unsigned long long)sum, len);
}

static void receive(struct virtq *q, size_t len, bool mrg)
{
	struct virtq before = *q;
	struct err e;
	int r = net_rx_place(q, &mem, pkt, len, mrg, &rx, &e);

	if (r == NET_RX_PLACED) {
		check_placed(q, &before, len, mrg);
		return;
	}
	if (r < 0) { /* a broken queue: the driver's reset */
		q->last_avail = q->used_idx = 0;
		return;
	}
	FUZZ_CHECK(q->last_avail == before.last_avail && q->used_idx == before.used_idx,
	           "a frame not placed (%d) moved the queue", r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_in in = {data, size, 0};
	uint8_t flags;
	struct virtq rxq, txq;

	if (!ready) {
		setup();
		ready = true;
	}
	memset(mem.host, 0, RAM_SIZE);
	flags = (uint8_t)fuzz_uint(&in, 1);
	rxq = queue_at(RX_BASE, flags);
	txq = queue_at(TX_BASE, flags);
	while (fuzz_left(&in)) {
		uint8_t op = (uint8_t)fuzz_uint(&in, 1);

		switch (op & 3) {
		case 0: {
			uint64_t at = fuzz_uint(&in, 2) % RAM_SIZE;
			size_t len = (size_t)fuzz_uint(&in, 1);
			size_t avail = in.at < size ? size - in.at : 0;

			len = len < RAM_SIZE - at ? len : RAM_SIZE - at;
			len = len < avail ? len : avail;
			memcpy(mem.host + at, data + in.at, len);
			in.at += len;
			break;
		}
		case 1: transmit(&txq); break;
		case 2:
			receive(&rxq, NET_HDR_LEN + fuzz_uint(&in, 2) % (NET_MAX_FRAME + 1),
			        flags & 1);
			break;
		default:
			virtq_publish(&rxq, &mem);
			virtq_publish(&txq, &mem);
			break;
		}
	}
	return 0;
}
