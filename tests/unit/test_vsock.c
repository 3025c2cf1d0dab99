// SPDX-License-Identifier: MIT
/* virtio-vsock: the packet checks and connection state machine on their own, then the device
 * through its registers, its rings in guest RAM and real Unix sockets on the host side. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bus.h"
#include "config.h"
#include "device.h"
#include "evloop.h"
#include "mem.h"
#include "snapshot/stream.h"
#include "virtio/mmio.h"
#include "virtio/vsock_pkt.h"
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CID 42

/* --- the packet layer ------------------------------------------------ */

static struct vsock_hdr guest_hdr(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len)
{
	return (struct vsock_hdr){.src_cid = CID,
	                          .dst_cid = VSOCK_HOST_CID,
	                          .src_port = src_port,
	                          .dst_port = dst_port,
	                          .len = len,
	                          .type = VSOCK_TYPE_STREAM,
	                          .op = op,
	                          .buf_alloc = 65536};
}

static void test_hdr_layout(void **state)
{
	struct vsock_hdr h = {0x1122334455667788ULL,
	                      2,
	                      0xa1a2a3a4,
	                      0xb1b2b3b4,
	                      0xc1c2c3c4,
	                      0xd1d2,
	                      0xe1e2,
	                      0xf1f2f3f4,
	                      0x01020304,
	                      0x05060708};
	struct vsock_hdr back;
	uint8_t raw[VSOCK_HDR_SIZE];

	(void)state;
	vsock_hdr_encode(&h, raw);
	assert_int_equal(raw[0], 0x88); /* little-endian, packed */
	assert_int_equal(raw[7], 0x11);
	assert_int_equal(raw[8], 2);
	assert_int_equal(raw[16], 0xa4);
	assert_int_equal(raw[20], 0xb4);
	assert_int_equal(raw[24], 0xc4);
	assert_int_equal(raw[28], 0xd2);
	assert_int_equal(raw[30], 0xe2);
	assert_int_equal(raw[32], 0xf4);
	assert_int_equal(raw[36], 0x04);
	assert_int_equal(raw[40], 0x08);
	assert_int_equal(raw[43], 0x05);
	vsock_hdr_decode(raw, &back);
	assert_int_equal(back.src_cid, h.src_cid);
	assert_int_equal(back.dst_cid, h.dst_cid);
	assert_int_equal(back.src_port, h.src_port);
	assert_int_equal(back.dst_port, h.dst_port);
	assert_int_equal(back.len, h.len);
	assert_int_equal(back.type, h.type);
	assert_int_equal(back.op, h.op);
	assert_int_equal(back.flags, h.flags);
	assert_int_equal(back.buf_alloc, h.buf_alloc);
	assert_int_equal(back.fwd_cnt, h.fwd_cnt);
}

static void assert_verdict(struct vsock_hdr h, uint64_t payload, enum vsock_verdict want,
                           const char *needle)
{
	const char *why;

	assert_int_equal(vsock_hdr_check(&h, CID, payload, &why), want);
	if (needle && (!why || !strstr(why, needle)))
		fail_msg("reason '%s' does not mention '%s'", why ? why : "(none)", needle);
}

static void test_hdr_check(void **state)
{
	struct vsock_hdr h = guest_hdr(VSOCK_OP_RW, 1000, 5000, 100);

	(void)state;
	assert_verdict(h, 100, VSOCK_PKT_OK, NULL);
	h.src_cid = CID + 1;
	assert_verdict(h, 100, VSOCK_PKT_DROP, "source CID");
	h = guest_hdr(VSOCK_OP_REQUEST, 1000, 5000, 0);
	h.dst_cid = 7;
	assert_verdict(h, 0, VSOCK_PKT_RESET, "CID other than the host");
	h = guest_hdr(VSOCK_OP_REQUEST, 1000, 5000, 0);
	h.type = 2; /* SEQPACKET, not offered */
	assert_verdict(h, 0, VSOCK_PKT_RESET, "STREAM");
	assert_verdict(guest_hdr(0, 1, 2, 0), 0, VSOCK_PKT_RESET, "unknown op");
	assert_verdict(guest_hdr(8, 1, 2, 0), 0, VSOCK_PKT_RESET, "unknown op");
	assert_verdict(guest_hdr(VSOCK_OP_RW, 1, 2, 65537), 65537, VSOCK_PKT_RESET, "64 KiB");
	assert_verdict(guest_hdr(VSOCK_OP_RW, 1, 2, 101), 100, VSOCK_PKT_RESET, "beyond");
	/* an RST is never answered */
	h = guest_hdr(VSOCK_OP_RST, 1, 2, 9);
	assert_verdict(h, 0, VSOCK_PKT_DROP, "beyond");
	h.len = 0;
	assert_verdict(h, 0, VSOCK_PKT_OK, NULL);
}

static int connect_line(const char *s, uint32_t *port)
{
	return vsock_parse_connect(s, strlen(s), port);
}

static void test_parse_connect(void **state)
{
	uint32_t port = 0;

	(void)state;
	assert_int_equal(connect_line("CONNECT 5000\n", &port), 0);
	assert_int_equal(port, 5000);
	assert_int_equal(connect_line("CONNECT 4294967295\n", &port), 0);
	assert_int_equal(port, 4294967295U);
	assert_int_equal(connect_line("CONNECT 0\n", &port), 0);
	assert_int_equal(port, 0);
	assert_int_equal(connect_line("CONNECT 4294967296\n", &port), -1);
	assert_int_equal(connect_line("CONNECT 00000000001\n", &port), -1);
	assert_int_equal(connect_line("CONNECT 5000", &port), -1);
	assert_int_equal(connect_line("CONNECT \n", &port), -1);
	assert_int_equal(connect_line("CONNECT  5000\n", &port), -1);
	assert_int_equal(connect_line("CONNECT 50x0\n", &port), -1);
	assert_int_equal(connect_line("CONNECT -1\n", &port), -1);
	assert_int_equal(connect_line("connect 5000\n", &port), -1);
	assert_int_equal(connect_line("CONNECT 5000\r\n", &port), -1);
	assert_int_equal(vsock_parse_connect("CONNECT 5\n", 3, &port), -1);
}

static void test_conn_host_initiated(void **state)
{
	struct vsock_conn c;
	struct vsock_hdr h, out;

	(void)state;
	vsock_conn_init(&c, VSOCK_ST_CONNECTING, 1U << 30, 5000);
	c.pending |= 1U << VSOCK_OP_REQUEST;
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_REQUEST);
	vsock_conn_hdr(&c, CID, VSOCK_OP_REQUEST, 0, 0, &out);
	assert_int_equal(out.src_cid, VSOCK_HOST_CID);
	assert_int_equal(out.dst_cid, CID);
	assert_int_equal(out.src_port, 1U << 30);
	assert_int_equal(out.dst_port, 5000);
	assert_int_equal(out.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_INVALID);
	assert_false(vsock_conn_wants_read(&c));
	/* data before the guest accepted: a protocol error */
	h = guest_hdr(VSOCK_OP_RW, 5000, 1U << 30, 4);
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_RESET);
	vsock_conn_init(&c, VSOCK_ST_CONNECTING, 1U << 30, 5000);
	h = guest_hdr(VSOCK_OP_RESPONSE, 5000, 1U << 30, 0);
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_ESTABLISHED);
	assert_int_equal(c.state, VSOCK_ST_ESTABLISHED);
	assert_int_equal(vsock_conn_credit(&c), 65536);
	assert_true(vsock_conn_wants_read(&c));
	/* a second RESPONSE, or a REQUEST, on an open connection */
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_RESET);
	h.op = VSOCK_OP_RST;
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_CLOSE);
	assert_int_equal(c.state, VSOCK_ST_CLOSED);
}

static void test_conn_guest_credit(void **state)
{
	struct vsock_conn c;
	struct vsock_hdr h = guest_hdr(VSOCK_OP_CREDIT_UPDATE, 1234, 5001, 0), out;

	(void)state;
	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5001, 1234);
	h.buf_alloc = 100;
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_NONE);
	assert_int_equal(vsock_conn_credit(&c), 100);
	vsock_conn_hdr(&c, CID, VSOCK_OP_RW, 0, 60, &out);
	assert_int_equal(c.tx_cnt, 60);
	assert_int_equal(vsock_conn_credit(&c), 40);
	vsock_conn_hdr(&c, CID, VSOCK_OP_RW, 0, 40, &out);
	assert_int_equal(vsock_conn_credit(&c), 0);
	assert_false(vsock_conn_wants_read(&c));
	h.fwd_cnt = 30; /* the guest read 30 bytes */
	vsock_conn_on_guest(&c, &h);
	assert_int_equal(vsock_conn_credit(&c), 30);
	/* a guest claiming to have read more than it got: no credit, no wrap */
	h.fwd_cnt = 1000;
	vsock_conn_on_guest(&c, &h);
	assert_int_equal(vsock_conn_credit(&c), 0);
	/* counters wrap at 2^32 */
	c.tx_cnt = 10;
	h.fwd_cnt = 0xfffffff0U;
	h.buf_alloc = 100;
	vsock_conn_on_guest(&c, &h);
	assert_int_equal(vsock_conn_credit(&c), 74);
}

static void test_conn_host_credit(void **state)
{
	struct vsock_conn c;
	struct vsock_hdr h = guest_hdr(VSOCK_OP_RW, 1234, 5001, VSOCK_MAX_PAYLOAD), out;

	(void)state;
	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5001, 1234);
	for (int i = 0; i < VSOCK_BUF_ALLOC / VSOCK_MAX_PAYLOAD; i++)
		assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_DATA);
	assert_int_equal(vsock_conn_unforwarded(&c), VSOCK_BUF_ALLOC);
	h.len = 1; /* beyond the buffer mote advertised */
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_RESET);
	/* forwarding less than the threshold while the guest has room: no update */
	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5001, 1234);
	h.len = 1000;
	vsock_conn_on_guest(&c, &h);
	vsock_conn_forwarded(&c, 1000);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_INVALID);
	/* ... but once the guest believes its room is short, yes */
	c.rx_cnt += VSOCK_BUF_ALLOC - VSOCK_CREDIT_THRESHOLD; /* as if taken and forwarded */
	vsock_conn_forwarded(&c, VSOCK_BUF_ALLOC - VSOCK_CREDIT_THRESHOLD - 1);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_CREDIT_UPDATE);
	vsock_conn_hdr(&c, CID, VSOCK_OP_CREDIT_UPDATE, 0, 0, &out);
	assert_int_equal(out.op, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(out.fwd_cnt, c.fwd_cnt);
	assert_int_equal(c.fwd_told, c.fwd_cnt);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_INVALID);
	/* the threshold alone */
	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5001, 1234);
	c.rx_cnt = VSOCK_CREDIT_THRESHOLD;
	vsock_conn_forwarded(&c, VSOCK_CREDIT_THRESHOLD);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_CREDIT_UPDATE);
	/* any packet mote sends tells the guest fwd_cnt */
	vsock_conn_hdr(&c, CID, VSOCK_OP_RW, 0, 3, &out);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_INVALID);
	/* a CREDIT_REQUEST is answered */
	h = guest_hdr(VSOCK_OP_CREDIT_REQUEST, 1234, 5001, 0);
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_NONE);
	assert_int_equal(vsock_conn_next_control(&c), VSOCK_OP_CREDIT_UPDATE);
}

static void test_conn_shutdown(void **state)
{
	struct vsock_conn c;
	struct vsock_hdr h = guest_hdr(VSOCK_OP_SHUTDOWN, 1234, 5001, 0);
	struct vsock_hdr rw = guest_hdr(VSOCK_OP_RW, 1234, 5001, 10);

	(void)state;
	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5001, 1234);
	c.peer_buf_alloc = 100;
	assert_int_equal(vsock_conn_on_guest(&c, &rw), VSOCK_ACT_DATA);
	h.flags = VSOCK_SHUT_SEND;
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_SHUTDOWN);
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_NONE);   /* nothing new */
	assert_false(vsock_conn_done(&c));                               /* host still sends */
	assert_int_equal(vsock_conn_on_guest(&c, &rw), VSOCK_ACT_RESET); /* data after it */
	c.host_eof = true;
	assert_false(vsock_conn_done(&c)); /* 10 bytes not forwarded yet */
	vsock_conn_forwarded(&c, 10);
	assert_true(vsock_conn_done(&c));
	/* a full shutdown from the guest ends it at once */
	vsock_conn_init(&c, VSOCK_ST_ESTABLISHED, 5001, 1234);
	c.peer_buf_alloc = 100;
	h.flags = VSOCK_SHUT_RCV;
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_SHUTDOWN);
	assert_false(vsock_conn_wants_read(&c));
	assert_false(vsock_conn_done(&c));
	h.flags = VSOCK_SHUT_RCV | VSOCK_SHUT_SEND | 0xf0;
	assert_int_equal(vsock_conn_on_guest(&c, &h), VSOCK_ACT_SHUTDOWN);
	assert_int_equal(c.guest_shut, VSOCK_SHUT_RCV | VSOCK_SHUT_SEND);
	assert_true(vsock_conn_done(&c));
}

/* --- the device, through registers, rings and sockets ----------------- */

#define QSIZE      16
#define RING(q)    (0x100000ULL + 0x1000ULL * (q))
#define AVAIL(q)   (RING(q) + 0x400)
#define USED(q)    (RING(q) + 0x800)
#define TX_BUF(i)  (0x200000ULL + 0x20000ULL * (i)) /* header, then up to 64 KiB */
#define RX_BUF(i)  (0x600000ULL + 0x2000ULL * (i))  /* header at +0, data at +0x100 */
#define RX_DATA    4096
#define HOST_PORT0 (1U << 30)

static struct vm vm;
static struct guest_mem *m = &vm.mem;
static struct vm_devices devs;
static const struct device *dev;
static char dir[64];
static uint64_t base;
static uint16_t avail_idx[3], used_seen[3];

static void mmio_wr(uint64_t off, uint32_t v)
{
	assert_true(bus_dispatch(NULL, BUS_MMIO, base + off, (uint8_t *)&v, 4, true));
}

static uint32_t mmio_rd(uint64_t off)
{
	uint32_t v = 0;

	assert_true(bus_dispatch(NULL, BUS_MMIO, base + off, (uint8_t *)&v, 4, false));
	return v;
}

/* The I/O thread's turn: whatever the kicks and sockets have for it. */
static void run_loop(void)
{
	for (int i = 0; i < 6; i++)
		evloop_run_once(&vm.io, 2);
}

static void queue_setup(uint32_t q)
{
	mmio_wr(0x030, q);
	mmio_wr(0x038, QSIZE);
	mmio_wr(0x080, (uint32_t)RING(q));
	mmio_wr(0x090, (uint32_t)AVAIL(q));
	mmio_wr(0x0a0, (uint32_t)USED(q));
	mmio_wr(0x044, 1);
}

static void driver_up(void)
{
	mmio_wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(0x024, 0);
	mmio_wr(0x020, 0);
	mmio_wr(0x024, 1);
	mmio_wr(0x020, 1); /* VIRTIO_F_VERSION_1 */
	mmio_wr(0x070,
	        VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t q = 0; q < 3; q++)
		queue_setup(q);
	mmio_wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	run_loop();
}

static int dev_setup(void **state)
{
	struct err e;

	(void)state;
	memset(&vm, 0, sizeof(vm));
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(used_seen, 0, sizeof(used_seen));
	vm.vm_fd = vm.kvm_fd = vm.done_fd = -1;
	if (evloop_init(&vm.io, &e) < 0 || mem_layout(m, 16 * MiB, &e) < 0 || mem_map(m, &e) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/mote-vsock-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	memset(&devs, 0, sizeof(devs));
	devs.vsock.on = true;
	devs.vsock.cid = CID;
	snprintf(devs.vsock.uds, sizeof(devs.vsock.uds), "%s/v.sock", dir);
	vm.devs = &devs;
	bus_reset();
	dev = device_find("vsock");
	if (!dev || dev->plan(&vm) < 0 || dev->init(&vm) < 0)
		return -1;
	base = VIRTIO_MMIO_BASE;
	driver_up();
	return 0;
}

static int dev_teardown(void **state)
{
	char path[128];

	(void)state;
	dev->stop(&vm);
	evloop_destroy(&vm.io);
	mem_unmap(m);
	snprintf(path, sizeof(path), "%s/v.sock_5001", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void set_desc(int q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = guest_ptr(m, RING(q) + 16ULL * i, 16);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Makes chain @head available on queue @q. */
static void offer(int q, uint16_t head)
{
	uint8_t *a = guest_ptr(m, AVAIL(q), 4 + 2 * QSIZE);

	memcpy(a + 4 + 2 * (avail_idx[q] % QSIZE), &head, 2);
	avail_idx[q]++;
	memcpy(a + 2, &avail_idx[q], 2);
}

static void notify(uint32_t q)
{
	mmio_wr(0x050, q);
	run_loop();
}

/* The guest gives @n rx buffers, each a 44-byte header and RX_DATA bytes
 * in two descriptors, as Linux 6.1's driver does. */
static void give_rx(int n)
{
	for (int k = 0; k < n; k++) {
		uint16_t i = (uint16_t)((avail_idx[0] % (QSIZE / 2)) * 2);
		uint64_t b = RX_BUF(avail_idx[0] % (QSIZE / 2));

		set_desc(0, i, b, VSOCK_HDR_SIZE, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		         (uint16_t)(i + 1));
		set_desc(0, (uint16_t)(i + 1), b + 0x100, RX_DATA, VIRTQ_DESC_F_WRITE, 0);
		offer(0, i);
	}
	notify(0);
}

/* The guest sends @h with @len payload bytes from @data. */
static void send_pkt(const struct vsock_hdr *h, const void *data, uint32_t len)
{
	uint16_t slot = (uint16_t)(avail_idx[1] % (QSIZE / 2)), i = (uint16_t)(slot * 2);
	uint64_t b = TX_BUF(slot);

	vsock_hdr_encode(h, guest_ptr(m, b, VSOCK_HDR_SIZE));
	if (len) {
		memcpy(guest_ptr(m, b + 0x100, len), data, len);
		set_desc(1, i, b, VSOCK_HDR_SIZE, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
		set_desc(1, (uint16_t)(i + 1), b + 0x100, len, 0, 0);
	} else {
		set_desc(1, i, b, VSOCK_HDR_SIZE, 0, 0);
	}
	offer(1, i);
	notify(1);
}

static void send_op(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t flags)
{
	struct vsock_hdr h = guest_hdr(op, src_port, dst_port, 0);

	h.flags = flags;
	send_pkt(&h, NULL, 0);
}

static void send_data(uint32_t src_port, uint32_t dst_port, const void *data, uint32_t len)
{
	struct vsock_hdr h = guest_hdr(VSOCK_OP_RW, src_port, dst_port, len);

	send_pkt(&h, data, len);
}

/* The next packet the device put in the rx queue: false if none. */
static bool recv_pkt(struct vsock_hdr *h, uint8_t *data)
{
	const uint8_t *used = guest_ptr(m, USED(0), 4 + 8 * QSIZE);
	uint16_t idx;
	uint32_t id, len;

	memcpy(&idx, used + 2, 2);
	if (idx == used_seen[0])
		return false;
	memcpy(&id, used + 4 + 8 * (used_seen[0] % QSIZE), 4);
	memcpy(&len, used + 8 + 8 * (used_seen[0] % QSIZE), 4);
	used_seen[0]++;
	assert_true(len >= VSOCK_HDR_SIZE);
	vsock_hdr_decode(guest_ptr(m, RX_BUF(id / 2), VSOCK_HDR_SIZE), h);
	assert_int_equal(len, VSOCK_HDR_SIZE + h->len);
	assert_int_equal(h->src_cid, VSOCK_HOST_CID);
	assert_int_equal(h->dst_cid, CID);
	assert_int_equal(h->type, VSOCK_TYPE_STREAM);
	if (data && h->len)
		memcpy(data, guest_ptr(m, RX_BUF(id / 2) + 0x100, h->len), h->len);
	return true;
}

static void expect_pkt(uint16_t op, uint32_t host_port, uint32_t guest_port, struct vsock_hdr *h,
                       uint8_t *data)
{
	struct vsock_hdr tmp;

	h = h ? h : &tmp;
	if (!recv_pkt(h, data))
		fail_msg("no packet in the rx queue, expected op %u", op);
	assert_int_equal(h->op, op);
	assert_int_equal(h->src_port, host_port);
	assert_int_equal(h->dst_port, guest_port);
}

static void expect_nothing(void)
{
	struct vsock_hdr h;

	if (recv_pkt(&h, NULL))
		fail_msg("unexpected packet op %u len %u", h.op, h.len);
}

static int unix_listen(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (void *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_true(fd >= 0);
	if (connect(fd, (void *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads what @fd has now (non-blocking), up to @len bytes; -1 at EOF (or
 * a reset: the other end closed with bytes unread). */
static ssize_t read_now(int fd, void *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return -1;
	return n < 0 ? 0 : n;
}

/* A guest-initiated connection from guest port 1234 to host port 5001; returns the host's end. */
static int guest_connects(int lfd, uint32_t buf_alloc)
{
	struct vsock_hdr h = guest_hdr(VSOCK_OP_REQUEST, 1234, 5001, 0);
	int fd;

	h.buf_alloc = buf_alloc;
	send_pkt(&h, NULL, 0);
	expect_pkt(VSOCK_OP_RESPONSE, 5001, 1234, &h, NULL);
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

static char *uds_port(uint32_t port)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s_%u", devs.vsock.uds, port);
	return path;
}

static void test_dev_config(void **state)
{
	uint64_t cid = 0;

	(void)state;
	assert_int_equal(mmio_rd(0x008), 19);
	mmio_wr(0x014, 0);
	assert_int_equal(mmio_rd(0x010) & 1, 1); /* VIRTIO_VSOCK_F_STREAM */
	assert_true(bus_dispatch(NULL, BUS_MMIO, base + 0x100, (uint8_t *)&cid, 8, false));
	assert_int_equal(cid, CID);
	cid = 7; /* the guest cannot change it */
	assert_true(bus_dispatch(NULL, BUS_MMIO, base + 0x100, (uint8_t *)&cid, 8, true));
	assert_true(bus_dispatch(NULL, BUS_MMIO, base + 0x100, (uint8_t *)&cid, 8, false));
	assert_int_equal(cid, CID);
}

static void test_dev_guest_initiated(void **state)
{
	int lfd = unix_listen(uds_port(5001)), fd;
	uint8_t data[RX_DATA];
	struct vsock_hdr h;

	(void)state;
	give_rx(6);
	fd = guest_connects(lfd, 65536);
	send_data(1234, 5001, "hello", 5);
	assert_int_equal(read_now(fd, data, sizeof(data)), 5);
	assert_memory_equal(data, "hello", 5);
	assert_int_equal(write(fd, "world!", 6), 6);
	run_loop();
	expect_pkt(VSOCK_OP_RW, 5001, 1234, &h, data);
	assert_int_equal(h.len, 6);
	assert_memory_equal(data, "world!", 6);
	/* the guest shuts its sending side: the host reads EOF */
	send_op(VSOCK_OP_SHUTDOWN, 1234, 5001, VSOCK_SHUT_SEND);
	assert_int_equal(read_now(fd, data, sizeof(data)), -1);
	/* the host closes: SHUTDOWN SEND, then the RST that ends it */
	close(fd);
	run_loop();
	expect_pkt(VSOCK_OP_SHUTDOWN, 5001, 1234, &h, NULL);
	assert_int_equal(h.flags, VSOCK_SHUT_SEND);
	expect_pkt(VSOCK_OP_RST, 5001, 1234, NULL, NULL);
	expect_nothing();
	/* the connection is gone: more data gets an RST */
	send_data(1234, 5001, "x", 1);
	expect_pkt(VSOCK_OP_RST, 5001, 1234, NULL, NULL);
	close(lfd);
}

static void test_dev_host_initiated(void **state)
{
	int fd = unix_connect(devs.vsock.uds);
	static const char line[] = "CONNECT 5000\nearly";
	uint8_t data[RX_DATA];
	struct vsock_hdr h;
	char ok[32] = {0};

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, line, sizeof(line) - 1), sizeof(line) - 1);
	run_loop();
	give_rx(4);
	expect_pkt(VSOCK_OP_REQUEST, HOST_PORT0, 5000, &h, NULL);
	expect_nothing(); /* the bytes after the line wait for the guest's answer */
	send_op(VSOCK_OP_RESPONSE, 5000, HOST_PORT0, 0);
	assert_int_equal(read_now(fd, ok, sizeof(ok) - 1), 14);
	assert_string_equal(ok, "OK 1073741824\n");
	expect_pkt(VSOCK_OP_RW, HOST_PORT0, 5000, &h, data);
	assert_int_equal(h.len, 5);
	assert_memory_equal(data, "early", 5);
	send_data(5000, HOST_PORT0, "back", 4);
	assert_int_equal(read_now(fd, data, sizeof(data)), 4);
	/* the guest resets: the client sees EOF */
	send_op(VSOCK_OP_RST, 5000, HOST_PORT0, 0);
	assert_int_equal(read_now(fd, data, sizeof(data)), -1);
	close(fd);
	/* a second client gets the next port */
	fd = unix_connect(devs.vsock.uds);
	assert_int_equal(write(fd, "CONNECT 7\n", 10), 10);
	run_loop();
	expect_pkt(VSOCK_OP_REQUEST, HOST_PORT0 + 1, 7, NULL, NULL);
	/* the guest has no listener there */
	send_op(VSOCK_OP_RST, 7, HOST_PORT0 + 1, 0);
	assert_int_equal(read_now(fd, data, sizeof(data)), -1);
	close(fd);
}

static void test_dev_bad_connect_line(void **state)
{
	int fd = unix_connect(devs.vsock.uds);
	char buf[8];

	(void)state;
	give_rx(2);
	assert_int_equal(write(fd, "HELLO 5000\n", 11), 11);
	run_loop();
	assert_int_equal(read_now(fd, buf, sizeof(buf)), -1);
	close(fd);
	fd = unix_connect(devs.vsock.uds); /* a line without end */
	assert_int_equal(write(fd, "CONNECT 500000000000000000000000000", 35), 35);
	run_loop();
	assert_int_equal(read_now(fd, buf, sizeof(buf)), -1);
	close(fd);
	expect_nothing();
}

static void test_dev_refusals(void **state)
{
	struct vsock_hdr h;
	uint8_t big[16];

	(void)state;
	give_rx(8);
	/* nobody listens at PATH_6000 */
	send_op(VSOCK_OP_REQUEST, 99, 6000, 0);
	expect_pkt(VSOCK_OP_RST, 6000, 99, NULL, NULL);
	/* data, a credit request on no connection */
	send_data(99, 6000, "zz", 2);
	expect_pkt(VSOCK_OP_RST, 6000, 99, NULL, NULL);
	send_op(VSOCK_OP_CREDIT_REQUEST, 98, 6000, 0);
	expect_pkt(VSOCK_OP_RST, 6000, 98, NULL, NULL);
	/* an RST on no connection is not answered */
	send_op(VSOCK_OP_RST, 99, 6000, 0);
	expect_nothing();
	/* a len beyond the chain */
	h = guest_hdr(VSOCK_OP_RW, 99, 6000, 17);
	memset(big, 1, sizeof(big));
	send_pkt(&h, big, sizeof(big));
	expect_pkt(VSOCK_OP_RST, 6000, 99, NULL, NULL);
	/* a forged source CID: dropped */
	h = guest_hdr(VSOCK_OP_REQUEST, 99, 6000, 0);
	h.src_cid = 3;
	send_pkt(&h, NULL, 0);
	expect_nothing();
	/* SEQPACKET, an unknown op, another VM's CID */
	h = guest_hdr(VSOCK_OP_REQUEST, 97, 6000, 0);
	h.type = 2;
	send_pkt(&h, NULL, 0);
	expect_pkt(VSOCK_OP_RST, 6000, 97, NULL, NULL);
	send_op(12, 96, 6000, 0);
	expect_pkt(VSOCK_OP_RST, 6000, 96, NULL, NULL);
	h = guest_hdr(VSOCK_OP_REQUEST, 95, 6000, 0);
	h.dst_cid = 9;
	send_pkt(&h, NULL, 0);
	expect_pkt(VSOCK_OP_RST, 6000, 95, NULL, NULL);
	/* a packet shorter than a header: dropped */
	set_desc(1, 0, TX_BUF(0), 20, 0, 0);
	offer(1, 0);
	notify(1);
	expect_nothing();
	assert_false(mmio_rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_dev_guest_credit(void **state)
{
	int lfd = unix_listen(uds_port(5001)), fd;
	uint8_t data[RX_DATA], big[100];
	struct vsock_hdr h;

	(void)state;
	give_rx(4);
	fd = guest_connects(lfd, 10); /* the guest takes 10 bytes at most */
	memset(big, 'a', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), sizeof(big));
	run_loop();
	expect_pkt(VSOCK_OP_RW, 5001, 1234, &h, data);
	assert_int_equal(h.len, 10);
	expect_nothing(); /* out of credit: buffers stay with mote unused */
	h = guest_hdr(VSOCK_OP_CREDIT_UPDATE, 1234, 5001, 0);
	h.buf_alloc = 10;
	h.fwd_cnt = 4;
	send_pkt(&h, NULL, 0);
	expect_pkt(VSOCK_OP_RW, 5001, 1234, &h, data);
	assert_int_equal(h.len, 4);
	expect_nothing();
	/* a CREDIT_REQUEST: mote answers with its numbers */
	send_op(VSOCK_OP_CREDIT_REQUEST, 1234, 5001, 0);
	expect_pkt(VSOCK_OP_CREDIT_UPDATE, 5001, 1234, &h, NULL);
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(h.fwd_cnt, 0);
	close(fd);
	close(lfd);
}

static void test_dev_no_rx_buffers(void **state)
{
	int lfd = unix_listen(uds_port(5001)), fd;
	uint8_t data[RX_DATA];
	struct vsock_hdr h;

	(void)state;
	give_rx(1);
	fd = guest_connects(lfd, 65536); /* the RESPONSE took the only buffer */
	assert_int_equal(write(fd, "later", 5), 5);
	run_loop();
	expect_nothing();
	give_rx(1);
	expect_pkt(VSOCK_OP_RW, 5001, 1234, &h, data);
	assert_memory_equal(data, "later", 5);
	close(fd);
	close(lfd);
}

/* The host does not read: what its socket does not take waits in mote, up
 * to the credit mote gave, and goes out when the host reads; the guest
 * hears of the room again. */
static void test_dev_host_slow(void **state)
{
	int lfd = unix_listen(uds_port(5001)), fd;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD], got[VSOCK_BUF_ALLOC];
	size_t have = 0;
	struct vsock_hdr h;
	uint32_t told = 0;

	(void)state;
	give_rx(8);
	fd = guest_connects(lfd, 65536);
	for (int i = 0; i < VSOCK_BUF_ALLOC / VSOCK_MAX_PAYLOAD; i++) {
		memset(chunk, 'A' + i, sizeof(chunk));
		send_data(1234, 5001, chunk, sizeof(chunk));
	}
	for (int tries = 0; tries < 1000 && have < sizeof(got); tries++) {
		ssize_t n = read_now(fd, got + have, sizeof(got) - have);

		assert_true(n >= 0);
		have += (size_t)n;
		run_loop();
	}
	assert_int_equal(have, sizeof(got));
	for (int i = 0; i < VSOCK_BUF_ALLOC / VSOCK_MAX_PAYLOAD; i++)
		assert_int_equal(got[i * VSOCK_MAX_PAYLOAD + 77], 'A' + i);
	while (recv_pkt(&h, NULL))
		if (h.op == VSOCK_OP_CREDIT_UPDATE)
			told = h.fwd_cnt;
	/* the guest believes it has room for a full packet again */
	assert_true(told >= VSOCK_CREDIT_THRESHOLD);
	close(fd);
	close(lfd);
}

static void test_dev_driver_reset(void **state)
{
	int lfd = unix_listen(uds_port(5001)), fd;
	char buf[4];

	(void)state;
	give_rx(2);
	fd = guest_connects(lfd, 65536);
	mmio_wr(0x070, 0);
	assert_int_equal(read_now(fd, buf, sizeof(buf)), -1);
	close(fd);
	close(lfd);
}

/* A snapshot's vsock record loaded back: the driver is told its transport
 * was reset (one TRANSPORT_RESET event, id 0, in its event buffer), and
 * the host's end of a connection of the saved VM is closed; a record of
 * another guest CID is refused. */
static void test_dev_snapshot_reset(void **state)
{
	const struct device_state *ds = device_state_find("vsock");
	int lfd = unix_listen(uds_port(5001)), fd;
	uint8_t *evt = guest_ptr(m, 0x700000, 4);
	const uint8_t *used = guest_ptr(m, USED(2), 4 + 8 * QSIZE);
	struct snap *s = malloc(sizeof(*s));
	struct snap_writer w;
	uint32_t len = 0;
	uint16_t idx;
	struct err e;
	char buf[4];

	(void)state;
	assert_non_null(ds);
	assert_non_null(s);
	give_rx(2);
	fd = guest_connects(lfd, 65536);
	memset(evt, 0xff, 4);
	set_desc(2, 0, 0x700000, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(2, 0);
	notify(2);
	memcpy(&idx, used + 2, 2);
	assert_int_equal(idx, 0); /* no event before a restore */
	snap_writer_init(&w);
	assert_int_equal(ds->save(&vm, &w, &e), 0);
	assert_int_equal(snap_finish(&w, &e), 0);
	mmio_wr(0x070, 0); /* as a new VM's device: reset, connections gone */
	assert_int_equal(read_now(fd, buf, sizeof(buf)), -1);
	assert_int_equal(snap_parse(w.buf, w.len, "t", s, &e), 0);
	assert_int_equal(ds->load(&vm, s, &e), 0);
	run_loop();
	memcpy(&idx, used + 2, 2);
	memcpy(&len, used + 8, 4);
	assert_int_equal(idx, 1);
	assert_int_equal(len, 4);
	assert_memory_equal(evt, "\0\0\0\0", 4);
	assert_true(mmio_rd(0x060) & 1); /* the used buffer interrupt */
	mmio_wr(0x070, 0);
	devs.vsock.cid = CID + 1;
	assert_int_equal(snap_parse(w.buf, w.len, "t", s, &e), 0);
	assert_int_equal(ds->load(&vm, s, &e), -1);
	assert_non_null(strstr(e.msg, "guest CID"));
	devs.vsock.cid = CID;
	snap_writer_free(&w);
	free(s);
	close(fd);
	close(lfd);
}

static void test_dev_broken_ring(void **state)
{
	uint8_t *a = guest_ptr(m, AVAIL(1), 4);
	uint16_t idx = QSIZE + 3;

	(void)state;
	memcpy(a + 2, &idx, 2);
	notify(1);
	assert_true(mmio_rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
}

/* A Linux-style rx chain whose data part is missing: the driver is broken. */
static void test_dev_rx_too_small(void **state)
{
	(void)state;
	set_desc(0, 0, RX_BUF(0), 20, VIRTQ_DESC_F_WRITE, 0);
	offer(0, 0);
	notify(0);
	send_op(VSOCK_OP_REQUEST, 99, 6000, 0);
	assert_true(mmio_rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
}

/* A connection storm: past 1024 connections, the guest's REQUESTs get RSTs
 * (which go before everything else the guest is owed). */
static void test_dev_storm(void **state)
{
	enum { CAP = 1024, EXTRA = 6 };
	static int fds[CAP + EXTRA];
	struct rlimit r;
	int lfd, n = 0;

	(void)state;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_max < 2 * CAP + 256) {
		skip(); /* both ends of each connection live in this process */
		return;
	}
	if (r.rlim_cur < 2 * CAP + 256) {
		r.rlim_cur = 2 * CAP + 256;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &r), 0);
	}
	lfd = unix_listen(uds_port(5001));
	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	for (uint32_t i = 0; i < CAP + EXTRA; i++) {
		struct vsock_hdr h = guest_hdr(VSOCK_OP_REQUEST, 10000 + i, 5001, 0);
		uint16_t slot = (uint16_t)(avail_idx[1] % (QSIZE / 2));
		int fd;

		vsock_hdr_encode(&h, guest_ptr(m, TX_BUF(slot), VSOCK_HDR_SIZE));
		set_desc(1, (uint16_t)(slot * 2), TX_BUF(slot), VSOCK_HDR_SIZE, 0, 0);
		offer(1, (uint16_t)(slot * 2));
		mmio_wr(0x050, 1);
		evloop_run_once(&vm.io, 0);
		while ((fd = accept(lfd, NULL, NULL)) >= 0)
			fds[n++] = fd;
	}
	assert_int_equal(n, CAP);
	give_rx(8);
	for (uint32_t i = 0; i < EXTRA; i++)
		expect_pkt(VSOCK_OP_RST, 5001, 10000 + CAP + i, NULL, NULL);
	expect_pkt(VSOCK_OP_RESPONSE, 5001, 10000, NULL, NULL);
	expect_pkt(VSOCK_OP_RESPONSE, 5001, 10001, NULL, NULL);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
}

/* --- the socket file ---------------------------------------------------- */

static int plan_with(const char *path)
{
	const struct device *d = device_find("vsock");
	int r;

	if (!d)
		return -2;
	memset(&vm, 0, sizeof(vm));
	snprintf(devs.vsock.uds, sizeof(devs.vsock.uds), "%s", path);
	devs.vsock.on = true;
	devs.vsock.cid = CID;
	vm.devs = &devs;
	r = d->plan(&vm);
	if (r == 0) { /* close the listener the plan made: stop without init */
		vm.io.epfd = -1;
		d->stop(&vm);
	}
	return r;
}

static void test_uds_file(void **state)
{
	char d[64], path[128];
	struct stat st;
	int fd, lfd;

	(void)state;
	snprintf(d, sizeof(d), "/tmp/mote-vsock-XXXXXX");
	assert_non_null(mkdtemp(d));
	snprintf(path, sizeof(path), "%s/s", d);
	/* a program listens there: refused, and its socket stays */
	lfd = unix_listen(path);
	assert_int_equal(plan_with(path), -1);
	fd = unix_connect(path);
	assert_true(fd >= 0);
	close(fd);
	close(lfd);
	/* the socket file it left: replaced, and removed at stop */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(plan_with(path), 0);
	assert_int_equal(stat(path, &st), -1);
	/* a regular file is never removed */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(plan_with(path), -1);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	rmdir(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_layout),
	    cmocka_unit_test(test_hdr_check),
	    cmocka_unit_test(test_parse_connect),
	    cmocka_unit_test(test_conn_host_initiated),
	    cmocka_unit_test(test_conn_guest_credit),
	    cmocka_unit_test(test_conn_host_credit),
	    cmocka_unit_test(test_conn_shutdown),
	    cmocka_unit_test_setup_teardown(test_dev_config, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_guest_initiated, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_host_initiated, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_bad_connect_line, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_refusals, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_guest_credit, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_no_rx_buffers, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_host_slow, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_driver_reset, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_snapshot_reset, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_broken_ring, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_rx_too_small, dev_setup, dev_teardown),
	    cmocka_unit_test_setup_teardown(test_dev_storm, dev_setup, dev_teardown),
	    cmocka_unit_test(test_uds_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
