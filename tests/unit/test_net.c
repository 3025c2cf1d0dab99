// SPDX-License-Identifier: MIT
/* virtio-net: the tap's error messages, the offloads, transmit chains checked, received frames
 * placed into one chain or several; and the device itself on a tap in a network namespace of
 * its own (as root, else skipped), driven through its registers like a driver. */
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
#include "net/tap.h"
#include "virtio/mmio.h"
#include "virtio/net_hdr.h"
#include "virtio/queue.h"
#include "vm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DESC  0x1000ULL
#define AVAIL 0x2000ULL
#define USED  0x3000ULL
#define BUF   0x10000ULL
#define QSIZE 8

static struct vm vm;
static struct guest_mem *m = &vm.mem;
static struct virtq q;
static struct net_rx rx;

static int setup(void **state)
{
	struct err e;

	(void)state;
	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = -1;
	if (evloop_init(&vm.io, &e) < 0 || mem_layout(m, 16 * MiB, &e) < 0 || mem_map(m, &e) < 0)
		return -1;
	q = (struct virtq){
	    .size = QSIZE, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	evloop_destroy(&vm.io);
	mem_unmap(m);
	return 0;
}

static void assert_has(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("'%s' does not say '%s'", msg, needle);
}

/* The tap */

static void test_tap_missing(void **state)
{
	struct err e = {{0}};

	(void)state;
	assert_int_equal(tap_open("mote-nosuch0", &e), -1);
	assert_has(e.msg, "--net tap=mote-nosuch0: no such tap device");
	assert_has(e.msg, "`ip tuntap add mote-nosuch0 mode tap`");
}

static void test_tap_errors(void **state)
{
	struct err e;

	(void)state;
	tap_error(&e, "tap3", EPERM);
	assert_has(e.msg, "--net tap=tap3: permission denied");
	assert_has(e.msg, "ip tuntap add tap3 mode tap user $USER");
	tap_error(&e, "tap3", EBUSY);
	assert_has(e.msg, "in use by another process");
	tap_error(&e, "tap3", EINVAL);
	assert_has(e.msg, "not a tap device");
	tap_error(&e, "tap3", ENOENT);
	assert_has(e.msg, "/dev/net/tun is missing");
	assert_has(e.msg, "modprobe tun");
	tap_error(&e, "tap3", ENOMEM);
	assert_has(e.msg, "--net tap=tap3: ");
}

static uint64_t bit(int b)
{
	return 1ULL << b;
}

static void test_offloads(void **state)
{
	(void)state;
	assert_int_equal(net_tun_offloads(0), 0);
	/* TSO without the checksum it depends on: none. */
	assert_int_equal(net_tun_offloads(bit(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(net_tun_offloads(bit(VIRTIO_NET_F_GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(net_tun_offloads(bit(VIRTIO_NET_F_GUEST_CSUM) |
	                                  bit(VIRTIO_NET_F_GUEST_TSO4) |
	                                  bit(VIRTIO_NET_F_GUEST_TSO6)),
	                 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	assert_int_equal(
	    net_tun_offloads(bit(VIRTIO_NET_F_GUEST_CSUM) | bit(VIRTIO_NET_F_GUEST_TSO4) |
	                     bit(VIRTIO_NET_F_GUEST_ECN) | bit(VIRTIO_NET_F_GUEST_UFO)),
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN | TUN_F_UFO);
	/* What the host side offers (HOST_*, CSUM) is not the tap's business. */
	assert_int_equal(net_tun_offloads(bit(VIRTIO_NET_F_CSUM) | bit(VIRTIO_NET_F_HOST_TSO4)), 0);
}

/* Transmit chains */

static void test_tx_parse(void **state)
{
	struct virtq_buf bufs[3] = {
	    {BUF, NET_HDR_LEN, false}, {BUF + 0x1000, 0, false}, {BUF + 0x2000, 1500, false}};
	struct iovec iov[NET_MAX_BUFS];
	int niov = -1;

	(void)state;
	assert_int_equal(net_tx_parse(m, bufs, 3, iov, &niov), NET_HDR_LEN + 1500);
	assert_int_equal(niov, 2); /* the empty buffer is left out */
	assert_ptr_equal(iov[0].iov_base, guest_ptr(m, BUF, 1));
	assert_int_equal(iov[1].iov_len, 1500);
	/* Header and frame in one buffer, at the most a frame can be. */
	bufs[0].len = NET_MAX_PACKET;
	assert_int_equal(net_tx_parse(m, bufs, 1, iov, &niov), NET_MAX_PACKET);
}

static void test_tx_malformed(void **state)
{
	struct virtq_buf bufs[2] = {{BUF, NET_HDR_LEN, false}, {BUF + 0x1000, 100, true}};
	struct iovec iov[NET_MAX_BUFS];
	int niov;

	(void)state;
	assert_int_equal(net_tx_parse(m, bufs, 2, iov, &niov), -1); /* device-writable */
	bufs[0].len = NET_HDR_LEN - 1;
	assert_int_equal(net_tx_parse(m, bufs, 1, iov, &niov), -1); /* short of a header */
	assert_int_equal(net_tx_parse(m, bufs, 0, iov, &niov), -1); /* empty */
	bufs[0].len = NET_MAX_PACKET;
	bufs[1].write = false;
	bufs[1].len = 1;
	assert_int_equal(net_tx_parse(m, bufs, 2, iov, &niov), -1); /* over 64 KiB */
}

/* Received frames */

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = guest_ptr(m, DESC + 16ULL * i, 16);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Offers descriptor @i alone as a writable chain of @len bytes at BUF + i * 64 KiB. */
static void offer_rx(uint16_t i, uint32_t len, uint16_t idx)
{
	uint8_t *a = guest_ptr(m, AVAIL, 4 + 2 * QSIZE);

	set_desc(i, BUF + i * 0x10000ULL, len, VIRTQ_DESC_F_WRITE, 0);
	memcpy(a + 4 + 2 * ((idx - 1) % QSIZE), &i, 2);
	memcpy(a + 2, &idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, guest_ptr(m, USED + 2, 2), 2);
	return v;
}

static void assert_used(int slot, uint32_t head, uint32_t len)
{
	uint32_t elem[2];

	memcpy(elem, guest_ptr(m, USED + 4 + 8 * slot, 8), 8);
	assert_int_equal(elem[0], head);
	assert_int_equal(elem[1], len);
}

/* A packet of @len bytes: a header, then bytes counting up. */
static void make_packet(uint8_t *p, size_t len)
{
	memset(p, 0, NET_HDR_LEN);
	for (size_t i = NET_HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(i * 7);
}

static uint16_t num_buffers(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, guest_ptr(m, gpa + offsetof(struct net_hdr, num_buffers), 2), 2);
	return v;
}

static void test_rx_mergeable(void **state)
{
	static uint8_t pkt[4000], back[4000];
	struct err e;

	(void)state;
	make_packet(pkt, sizeof(pkt));
	offer_rx(0, 1500, 1);
	offer_rx(1, 1500, 2);
	offer_rx(2, 1500, 3);
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), true, &rx, &e), NET_RX_PLACED);
	assert_int_equal(q.last_avail, 3);
	assert_int_equal(q.used_idx, 3);
	assert_int_equal(used_idx(), 0); /* filled, not yet the driver's */
	virtq_publish(&q, m);
	assert_int_equal(used_idx(), 3);
	assert_used(0, 0, 1500);
	assert_used(1, 1, 1500);
	assert_used(2, 2, 1000);
	assert_int_equal(num_buffers(BUF), 3);
	for (int i = 0; i < 3; i++)
		memcpy(back + 1500 * i, guest_ptr(m, BUF + i * 0x10000ULL, 1), i < 2 ? 1500 : 1000);
	assert_memory_equal(back + NET_HDR_LEN, pkt + NET_HDR_LEN, sizeof(pkt) - NET_HDR_LEN);
}

static void test_rx_waits_for_buffers(void **state)
{
	static uint8_t pkt[4000];
	struct err e;

	(void)state;
	make_packet(pkt, sizeof(pkt));
	offer_rx(0, 1500, 1);
	offer_rx(1, 1500, 2);
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), true, &rx, &e), NET_RX_NO_BUFS);
	assert_int_equal(q.last_avail, 0); /* nothing taken */
	assert_int_equal(q.used_idx, 0);
	offer_rx(2, 1500, 3);
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), true, &rx, &e), NET_RX_PLACED);
	assert_int_equal(q.last_avail, 3);
}

static void test_rx_one_chain(void **state)
{
	static uint8_t pkt[1500];
	struct err e;

	(void)state;
	make_packet(pkt, sizeof(pkt));
	offer_rx(0, 1000, 1);
	/* Without MRG_RXBUF a frame is one chain's or nobody's. */
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), false, &rx, &e), NET_RX_DROPPED);
	assert_int_equal(q.last_avail, 0);
	set_desc(0, BUF, 2000, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), false, &rx, &e), NET_RX_PLACED);
	virtq_publish(&q, m);
	assert_used(0, 0, 1500);
	assert_int_equal(num_buffers(BUF), 1);
	assert_memory_equal(guest_ptr(m, BUF + NET_HDR_LEN, 1), pkt + NET_HDR_LEN,
	                    sizeof(pkt) - NET_HDR_LEN);
}

static void test_rx_split_header(void **state)
{
	static uint8_t pkt[100];
	uint8_t *a = guest_ptr(m, AVAIL, 4 + 2 * QSIZE);
	uint16_t head = 0, idx = 1;
	struct err e;

	(void)state;
	make_packet(pkt, sizeof(pkt));
	/* A chain whose first buffer ends inside the header, a readable
	 * buffer (skipped) and the rest. */
	set_desc(0, BUF, 6, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x100, 32, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF + 0x1000, 200, VIRTQ_DESC_F_WRITE, 0);
	memcpy(a + 4, &head, 2);
	memcpy(a + 2, &idx, 2);
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), true, &rx, &e), NET_RX_PLACED);
	virtq_publish(&q, m);
	assert_used(0, 0, 100);
	{
		uint8_t hdr[NET_HDR_LEN];
		uint16_t nb;

		memcpy(hdr, guest_ptr(m, BUF, 6), 6);
		memcpy(hdr + 6, guest_ptr(m, BUF + 0x1000, 6), 6);
		memcpy(&nb, hdr + 10, 2);
		assert_int_equal(nb, 1);
	}
	assert_memory_equal(guest_ptr(m, BUF + 0x1000 + 6, 1), pkt + NET_HDR_LEN,
	                    sizeof(pkt) - NET_HDR_LEN);
}

static void test_rx_bad_chain(void **state)
{
	static uint8_t pkt[100];
	struct err e = {{0}};

	(void)state;
	make_packet(pkt, sizeof(pkt));
	offer_rx(0, 100, 1);
	set_desc(0, BUF, 100, 0, 0); /* device-readable */
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), true, &rx, &e), -1);
	assert_has(e.msg, "less than a header");
}

static void test_rx_whole_queue_too_small(void **state)
{
	static uint8_t pkt[1000];
	struct err e;

	(void)state;
	make_packet(pkt, sizeof(pkt));
	for (uint16_t i = 0; i < QSIZE; i++)
		offer_rx(i, 64, (uint16_t)(i + 1));
	/* 8 chains of 64 bytes never hold 1000: dropped, not waited for. */
	assert_int_equal(net_rx_place(&q, m, pkt, sizeof(pkt), true, &rx, &e), NET_RX_DROPPED);
	assert_int_equal(q.last_avail, 0);
}

static void test_iov_write(void **state)
{
	uint8_t a[4] = {0}, b[4] = {0};
	struct iovec iov[2] = {{a, 4}, {b, 4}};

	(void)state;
	assert_int_equal(net_iov_write(iov, 2, 3, "xyz", 3), 3);
	assert_int_equal(a[3], 'x');
	assert_int_equal(b[0], 'y');
	assert_int_equal(b[1], 'z');
	assert_int_equal(net_iov_write(iov, 2, 6, "pqrs", 4), 2); /* runs out */
	assert_int_equal(net_iov_write(iov, 2, 9, "p", 1), 0);
}

/* The device on a tap, in a network namespace of this process's own. */

#define TAP_NAME  "mtap0"
#define ETH_TEST  0x88b5 /* IEEE local experimental ethertype */
#define RXQ_DESC  0x20000ULL
#define RXQ_AVAIL 0x21000ULL
#define RXQ_USED  0x22000ULL
#define TXQ_DESC  0x23000ULL
#define TXQ_AVAIL 0x24000ULL
#define TXQ_USED  0x25000ULL
#define RX_BUFS   0x30000ULL
#define TX_BUF    0x40000ULL

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

	if (fd >= 0)
		close(fd);
	return n < 0 ? -1 : 0;
}

/* Makes TAP_NAME (persistent, up) in a new network namespace without
 * IPv6, whose chatter would land in the receive queue; false if this
 * process may not (not root, no tun). */
static bool make_tap(void)
{
	struct ifreq ifr = {0};
	int fd, s;

	if (unshare(CLONE_NEWNET) < 0)
		return false;
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, TAP_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		close(fd);
		return false;
	}
	close(fd);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifr.ifr_flags = IFF_UP;
	if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail_msg("cannot bring %s up: %s", TAP_NAME, strerror(errno));
	close(s);
	return true;
}

/* A packet socket on the tap's host side, for frames of ETH_TEST. */
static int host_socket(void)
{
	union {
		struct sockaddr sa;
		struct sockaddr_ll ll;
	} a = {.ll = {.sll_family = AF_PACKET,
	              .sll_protocol = htons(ETH_TEST),
	              .sll_ifindex = (int)if_nametoindex(TAP_NAME)}};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));

	assert_true(s >= 0);
	assert_int_equal(bind(s, &a.sa, sizeof(a.ll)), 0);
	return s;
}

static void reg(uint64_t off, uint32_t v)
{
	uint8_t b[4];

	memcpy(b, &v, 4);
	assert_true(bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + off, b, 4, true));
}

static uint32_t reg_read(uint64_t off)
{
	uint8_t b[4] = {0};
	uint32_t v;

	assert_true(bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + off, b, 4, false));
	memcpy(&v, b, 4);
	return v;
}

static void queue(uint32_t i, uint64_t desc, uint64_t avail, uint64_t used)
{
	reg(0x030, i); /* QueueSel */
	reg(0x038, QSIZE);
	reg(0x080, (uint32_t)desc);
	reg(0x090, (uint32_t)avail);
	reg(0x0a0, (uint32_t)used);
	reg(0x044, 1); /* QueueReady */
}

/* What Linux's driver does up to DRIVER_OK, with MRG_RXBUF. */
static void handshake(void)
{
	reg(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	reg(0x024, 0);
	reg(0x020, (uint32_t)(bit(VIRTIO_NET_F_MAC) | bit(VIRTIO_NET_F_MRG_RXBUF) |
	                      bit(VIRTIO_NET_F_GUEST_CSUM) | bit(VIRTIO_NET_F_CSUM)));
	reg(0x024, 1);
	reg(0x020, 1); /* VERSION_1 */
	reg(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(reg_read(0x070) & VIRTIO_STATUS_FEATURES_OK);
	queue(0, RXQ_DESC, RXQ_AVAIL, RXQ_USED);
	queue(1, TXQ_DESC, TXQ_AVAIL, TXQ_USED);
	reg(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	               VIRTIO_STATUS_DRIVER_OK);
}

static void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint8_t *d = guest_ptr(m, table + 16ULL * i, 16);
	uint16_t next = 0;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void make_avail(uint64_t avail, uint16_t slot, uint16_t head, uint16_t idx)
{
	uint8_t *a = guest_ptr(m, avail, 4 + 2 * QSIZE);

	memcpy(a + 4 + 2 * slot, &head, 2);
	memcpy(a + 2, &idx, 2);
}

static uint16_t used_of(uint64_t used)
{
	uint16_t v;

	memcpy(&v, guest_ptr(m, used + 2, 2), 2);
	return v;
}

/* Runs the I/O thread's loop 5 times, each waiting up to @ms; returns the
 * milliseconds it took (5 * @ms if nothing was ready). */
static int64_t run_loop(int ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 5; i++)
		evloop_run_once(&vm.io, ms);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

static void frame(uint8_t *f, const uint8_t *src, const char *payload)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	strcpy((char *)f + 14, payload);
}

static void device_transmits(int s, const uint8_t *mac)
{
	uint8_t *pkt = guest_ptr(m, TX_BUF, 128), got[128];
	const char *payload = "from the guest, through the tap";
	struct pollfd p = {s, POLLIN, 0};
	ssize_t n;

	memset(pkt, 0, NET_HDR_LEN);
	frame(pkt + NET_HDR_LEN, mac, payload);
	put_desc(TXQ_DESC, 0, TX_BUF, NET_HDR_LEN + 64, 0);
	make_avail(TXQ_AVAIL, 0, 0, 1);
	reg(0x050, 1); /* QueueNotify: transmit */
	run_loop(0);
	assert_int_equal(used_of(TXQ_USED), 1);
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(s, got, sizeof(got), 0);
	assert_int_equal(n, 64);
	assert_memory_equal(got, pkt + NET_HDR_LEN, 64);
	/* A malformed chain (device-writable) is returned unsent, and the
	 * device goes on. */
	put_desc(TXQ_DESC, 1, TX_BUF, NET_HDR_LEN + 64, VIRTQ_DESC_F_WRITE);
	make_avail(TXQ_AVAIL, 1, 1, 2);
	reg(0x050, 1);
	run_loop(0);
	assert_int_equal(used_of(TXQ_USED), 2);
	assert_int_equal(poll(&p, 1, 100), 0);
	assert_false(reg_read(0x070) & VIRTIO_STATUS_NEEDS_RESET);
}

static void device_receives(int s)
{
	static const uint8_t host_mac[6] = {0x02, 0, 0, 0, 0, 1};
	const char *payload = "from the host, into three mergeable buffers of the guest";
	uint8_t f[100] = {0}, back[100];
	union {
		struct sockaddr sa;
		struct sockaddr_ll ll;
	} to = {.ll = {.sll_family = AF_PACKET,
	               .sll_ifindex = (int)if_nametoindex(TAP_NAME),
	               .sll_halen = 6}};

	frame(f, host_mac, payload);
	assert_int_equal(sendto(s, f, sizeof(f), 0, &to.sa, sizeof(to.ll)), 100);
	/* No receive buffers yet: the frame waits in the tap, which is not
	 * watched meanwhile (a loop that returned at once would be spinning). */
	run_loop(0);
	assert_int_equal(used_of(RXQ_USED), 0);
	assert_true(run_loop(20) >= 90);
	for (uint16_t i = 0; i < 3; i++) {
		put_desc(RXQ_DESC, i, RX_BUFS + 0x1000ULL * i, 48, VIRTQ_DESC_F_WRITE);
		make_avail(RXQ_AVAIL, i, i, (uint16_t)(i + 1));
	}
	reg(0x050, 0); /* QueueNotify: receive */
	run_loop(50);
	assert_int_equal(used_of(RXQ_USED), 3);
	assert_true(reg_read(0x060) & 1); /* InterruptStatus: used buffers */
	assert_int_equal(num_buffers(RX_BUFS), 3);
	memcpy(back, guest_ptr(m, RX_BUFS + NET_HDR_LEN, 36), 36);
	memcpy(back + 36, guest_ptr(m, RX_BUFS + 0x1000, 48), 48);
	memcpy(back + 84, guest_ptr(m, RX_BUFS + 0x2000, 16), 16);
	assert_memory_equal(back, f, sizeof(f));
}

static void test_device(void **state)
{
	const struct device *d = device_find("net");
	struct vm_devices devs = {.nr_nets = 1};
	uint8_t mac[6];
	int s;

	(void)state;
	if (!make_tap())
		skip(); /* not root, or no tun here */
	assert_non_null(d);
	strcpy(devs.nets[0].tap, TAP_NAME);
	config_parse_mac("52:54:00:ab:cd:ef", devs.nets[0].mac);
	devs.nets[0].has_mac = true;
	vm.devs = &devs;
	assert_int_equal(d->plan(&vm), 0);
	assert_int_equal(d->init(&vm), 0);
	for (int i = 0; i < 6; i++) {
		uint8_t b;

		assert_true(
		    bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + 0x100 + i, &b, 1, false));
		mac[i] = b;
	}
	assert_memory_equal(mac, devs.nets[0].mac, 6);
	assert_int_equal(reg_read(0x008), 1); /* DeviceID: network card */
	s = host_socket();
	handshake();
	device_transmits(s, mac);
	device_receives(s);
	reg(0x070, 0); /* reset */
	close(s);
	d->stop(&vm);
	vm.devs = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tap_missing),
	    cmocka_unit_test(test_tap_errors),
	    cmocka_unit_test(test_offloads),
	    cmocka_unit_test_setup_teardown(test_tx_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_one_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_split_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_bad_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_whole_queue_too_small, setup, teardown),
	    cmocka_unit_test(test_iov_write),
	    cmocka_unit_test_setup_teardown(test_device, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
