// SPDX-License-Identifier: MIT
/* virtio-blk's request parser against good and hostile chains; the image
 * file: open, lock, size, serial; and the --disk/--net/--vsock parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "block/disk.h"
#include "config.h"
#include "mem.h"
#include "virtio/blk_req.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR    0x1000ULL
#define DATA   0x2000ULL
#define STATUS 0x3000ULL

static struct guest_mem mem;
static const struct blk_limits lim = {.sectors = 64, .ro = false};

static int setup(void **state)
{
	struct err e;

	(void)state;
	memset(&mem, 0, sizeof(mem));
	if (mem_layout(&mem, 16 * MiB, &e) < 0 || mem_map(&mem, &e) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mem_unmap(&mem);
	return 0;
}

static void header(uint32_t type, uint64_t sector)
{
	uint8_t *h = guest_ptr(&mem, HDR, 16);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
}

/* A chain of header, one data buffer of @len (@write: device-writable), status. */
static int parse3(uint32_t type, uint64_t sector, uint32_t len, bool write,
                  const struct blk_limits *l, struct blk_req *r)
{
	struct virtq_buf b[3] = {{HDR, 16, false}, {DATA, len, write}, {STATUS, 1, true}};

	header(type, sector);
	return blk_req_parse(&mem, b, 3, l, r);
}

static void test_read_write(void **state)
{
	static struct blk_req r;

	(void)state;
	assert_int_equal(parse3(BLK_T_IN, 3, 1024, true, &lim, &r), BLK_S_OK);
	assert_int_equal(r.type, BLK_T_IN);
	assert_int_equal(r.sector, 3);
	assert_int_equal(r.len, 1024);
	assert_int_equal(r.niov, 1);
	assert_ptr_equal(r.iov[0].iov_base, guest_ptr(&mem, DATA, 1024));
	assert_ptr_equal(r.status, guest_ptr(&mem, STATUS, 1));
	assert_int_equal(r.written, 1025);
	assert_int_equal(parse3(BLK_T_OUT, 62, 1024, false, &lim, &r), BLK_S_OK);
	assert_int_equal(r.written, 1);
}

static void test_out_of_range_and_direction(void **state)
{
	static struct blk_req r;
	const struct blk_limits ro = {.sectors = 64, .ro = true};

	(void)state;
	/* the last sector plus one, a sector number that wraps, a partial sector */
	assert_int_equal(parse3(BLK_T_IN, 63, 1024, true, &lim, &r), BLK_S_IOERR);
	assert_int_equal(parse3(BLK_T_IN, UINT64_MAX, 512, true, &lim, &r), BLK_S_IOERR);
	assert_int_equal(parse3(BLK_T_IN, 0, 100, true, &lim, &r), BLK_S_IOERR);
	/* a read into a device-readable buffer, a write from a writable one */
	assert_int_equal(parse3(BLK_T_IN, 0, 512, false, &lim, &r), BLK_S_IOERR);
	assert_int_equal(parse3(BLK_T_OUT, 0, 512, true, &lim, &r), BLK_S_IOERR);
	/* read-only: reads go, writes, discards and zeroes do not */
	assert_int_equal(parse3(BLK_T_IN, 0, 512, true, &ro, &r), BLK_S_OK);
	assert_int_equal(parse3(BLK_T_OUT, 0, 512, false, &ro, &r), BLK_S_IOERR);
	assert_int_equal(parse3(BLK_T_DISCARD, 0, 16, false, &ro, &r), BLK_S_IOERR);
	assert_int_equal(parse3(77, 0, 512, false, &lim, &r), BLK_S_UNSUPP);
}

static void test_no_status(void **state)
{
	static struct blk_req r;
	struct virtq_buf ro_status[2] = {{HDR, 16, false}, {STATUS, 1, false}};
	struct virtq_buf empty_status[2] = {{HDR, 16, false}, {STATUS, 0, true}};
	struct virtq_buf short_hdr[2] = {{HDR, 8, false}, {STATUS, 1, true}};

	(void)state;
	header(BLK_T_FLUSH, 0);
	assert_int_equal(blk_req_parse(&mem, ro_status, 2, &lim, &r), -1);
	assert_null(r.status);
	assert_int_equal(blk_req_parse(&mem, empty_status, 2, &lim, &r), -1);
	assert_int_equal(blk_req_parse(&mem, ro_status, 0, &lim, &r), -1);
	/* a short header still has a status byte to answer in */
	assert_int_equal(blk_req_parse(&mem, short_hdr, 2, &lim, &r), BLK_S_IOERR);
	assert_non_null(r.status);
}

static void test_flush_and_get_id(void **state)
{
	static struct blk_req r;
	struct virtq_buf flush[2] = {{HDR, 16, false}, {STATUS, 1, true}};

	(void)state;
	header(BLK_T_FLUSH, 0);
	assert_int_equal(blk_req_parse(&mem, flush, 2, &lim, &r), BLK_S_OK);
	assert_int_equal(r.type, BLK_T_FLUSH);
	assert_int_equal(parse3(BLK_T_GET_ID, 0, 20, true, &lim, &r), BLK_S_OK);
	assert_int_equal(r.written, 21);
	assert_int_equal(parse3(BLK_T_GET_ID, 0, 20, false, &lim, &r), BLK_S_IOERR);
}

static void segment(int i, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint8_t *p = guest_ptr(&mem, DATA + 16ULL * i, 16);

	memcpy(p, &sector, 8);
	memcpy(p + 8, &n, 4);
	memcpy(p + 12, &flags, 4);
}

static void test_discard_and_zeroes(void **state)
{
	static struct blk_req r;

	(void)state;
	segment(0, 8, 16, 0);
	segment(1, 40, 24, 0);
	assert_int_equal(parse3(BLK_T_DISCARD, 0, 32, false, &lim, &r), BLK_S_OK);
	assert_int_equal(r.nranges, 2);
	assert_int_equal(r.ranges[1].sector, 40);
	assert_int_equal(r.ranges[1].sectors, 24);
	segment(1, 40, 25, 0); /* one past the end */
	assert_int_equal(parse3(BLK_T_DISCARD, 0, 32, false, &lim, &r), BLK_S_IOERR);
	segment(1, 40, 24, BLK_WZ_UNMAP); /* unmap is for write zeroes */
	assert_int_equal(parse3(BLK_T_DISCARD, 0, 32, false, &lim, &r), BLK_S_UNSUPP);
	assert_int_equal(parse3(BLK_T_WRITE_ZEROES, 0, 32, false, &lim, &r), BLK_S_OK);
	segment(1, 40, 24, 6); /* reserved flags */
	assert_int_equal(parse3(BLK_T_WRITE_ZEROES, 0, 32, false, &lim, &r), BLK_S_UNSUPP);
	/* not whole segments; more segments than offered */
	assert_int_equal(parse3(BLK_T_DISCARD, 0, 20, false, &lim, &r), BLK_S_IOERR);
	assert_int_equal(parse3(BLK_T_DISCARD, 0, 16 * (BLK_DISCARD_SEGS + 1), false, &lim, &r),
	                 BLK_S_IOERR);
}

static void test_scattered_data(void **state)
{
	static struct blk_req r;
	/* header and the first data bytes share a buffer, as do data and status */
	struct virtq_buf b[3] = {
	    {HDR, 16 + 512, false}, {DATA, 1024, false}, {STATUS - 512, 513, false}};

	(void)state;
	header(BLK_T_OUT, 0);
	assert_int_equal(blk_req_parse(&mem, b, 3, &lim, &r), -1); /* read-only status */
	b[2].write = true;
	assert_int_equal(blk_req_parse(&mem, b, 3, &lim, &r), BLK_S_IOERR); /* mixed */
	b[2] = (struct virtq_buf){STATUS, 1, true};
	assert_int_equal(blk_req_parse(&mem, b, 3, &lim, &r), BLK_S_OK);
	assert_int_equal(r.len, 1536);
	assert_int_equal(r.niov, 2);
	assert_ptr_equal(r.iov[0].iov_base, guest_ptr(&mem, HDR + 16, 1));
}

/* The image file. */
static char path[64];

static int make_image(off_t size)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/mote-test-disk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, size) < 0)
		return -1;
	return fd;
}

static void test_disk_open_lock_size(void **state)
{
	struct disk_config c = {0};
	struct disk a, b;
	struct err e;
	int fd = make_image(1 << 20 | 100); /* 1 MiB and a partial sector */

	(void)state;
	assert_true(fd >= 0);
	snprintf(c.path, sizeof(c.path), "%s", path);
	assert_int_equal(disk_open(&a, &c, &e), 0);
	assert_int_equal(a.size, 1 << 20);
	assert_true(strlen(a.serial) > 4);
	/* a second writer, and a reader, are refused while it is open */
	assert_int_equal(disk_open(&b, &c, &e), -1);
	assert_non_null(strstr(e.msg, "in use"));
	assert_non_null(strstr(e.msg, "write lock"));
	c.ro = true;
	assert_int_equal(disk_open(&b, &c, &e), -1);
	disk_close(&a);
	/* two readers share it; then a writer is refused, naming the read lock */
	assert_int_equal(disk_open(&a, &c, &e), 0);
	assert_int_equal(disk_open(&b, &c, &e), 0);
	c.ro = false;
	{
		struct disk w;

		assert_int_equal(disk_open(&w, &c, &e), -1);
		assert_non_null(strstr(e.msg, "read lock"));
	}
	disk_close(&a);
	disk_close(&b);
	snprintf(c.id, sizeof(c.id), "my-disk");
	assert_int_equal(disk_open(&a, &c, &e), 0);
	assert_string_equal(a.serial, "my-disk");
	disk_close(&a);
	close(fd);
	unlink(path);
}

static void test_disk_bad_files(void **state)
{
	struct disk_config c = {0};
	struct disk d;
	struct err e;
	int fd = make_image(100); /* less than a sector */

	(void)state;
	snprintf(c.path, sizeof(c.path), "%s", path);
	assert_int_equal(disk_open(&d, &c, &e), -1);
	assert_non_null(strstr(e.msg, "smaller than one sector"));
	close(fd);
	unlink(path);
	assert_int_equal(disk_open(&d, &c, &e), -1);
	assert_non_null(strstr(e.msg, "cannot open"));
	assert_non_null(strstr(e.msg, path));
	snprintf(c.path, sizeof(c.path), "/tmp");
	assert_int_equal(disk_open(&d, &c, &e), -1);
	assert_non_null(strstr(e.msg, "/tmp"));
}

static void test_parse_disk(void **state)
{
	static struct disk_config d;
	struct err e;

	(void)state;
	assert_int_equal(config_parse_disk("/a.img", &d, &e), 0);
	assert_string_equal(d.path, "/a.img");
	assert_false(d.ro);
	assert_int_equal(d.io, DISK_IO_AUTO);
	assert_int_equal(config_parse_disk("/a.img,ro,id=root,io=sync", &d, &e), 0);
	assert_true(d.ro);
	assert_string_equal(d.id, "root");
	assert_int_equal(d.io, DISK_IO_SYNC);
	assert_int_equal(config_parse_disk("b,io=io_uring", &d, &e), 0);
	assert_int_equal(d.io, DISK_IO_URING);
	assert_int_equal(config_parse_disk("", &d, &e), -1);
	assert_int_equal(config_parse_disk(",ro", &d, &e), -1);
	assert_int_equal(config_parse_disk("a,rw", &d, &e), -1);
	assert_non_null(strstr(e.msg, "'rw'"));
	assert_int_equal(config_parse_disk("a,io=aio", &d, &e), -1);
	assert_int_equal(config_parse_disk("a,cache=none", &d, &e), 0);
	assert_true(d.direct);
	assert_int_equal(config_parse_disk("a,cache=writeback", &d, &e), 0);
	assert_false(d.direct);
	assert_int_equal(config_parse_disk("a,cache=unsafe", &d, &e), -1);
	assert_int_equal(config_parse_disk("a,id=123456789012345678901", &d, &e), -1);
	assert_int_equal(config_parse_disk("a,id=", &d, &e), -1);
}

static void test_direct_fd_choice(void **state)
{
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	struct disk d = {.fd = 3, .dfd = 4, .dio_align = 512};
	struct iovec ok[2] = {{buf, 512}, {buf + 1024, 2048}};
	struct iovec odd_addr[1] = {{buf + 8, 512}};
	struct iovec odd_len[1] = {{buf, 100}};

	(void)state;
	assert_int_equal(disk_rw_fd(&d, ok, 2, 4096), 4);
	assert_int_equal(disk_rw_fd(&d, ok, 2, 100), 3);
	assert_int_equal(disk_rw_fd(&d, odd_addr, 1, 0), 3);
	assert_int_equal(disk_rw_fd(&d, odd_len, 1, 0), 3);
	d.dio_align = 4096; /* a 4Kn device: 512-byte pieces go buffered */
	assert_int_equal(disk_rw_fd(&d, ok, 2, 4096), 3);
	ok[0].iov_len = 4096;
	ok[1] = (struct iovec){buf, 4096};
	assert_int_equal(disk_rw_fd(&d, ok, 2, 8192), 4);
	d.dfd = -1;
	assert_int_equal(disk_rw_fd(&d, ok, 2, 4096), 3);
}

static void test_config_check(void **state)
{
	static struct vm_devices d;
	struct err e;
	int fd = make_image(4096);

	(void)state;
	memset(&d, 0, sizeof(d));
	d.nr_disks = 2;
	snprintf(d.disks[0].path, sizeof(d.disks[0].path), "%s", path);
	snprintf(d.disks[1].path, sizeof(d.disks[1].path), "/tmp/./%s", path + 5);
	assert_int_equal(config_check(&d, &e), -1); /* one file, two names */
	assert_non_null(strstr(e.msg, "the same image as disk 0"));
	snprintf(d.disks[1].path, sizeof(d.disks[1].path), "/nonexistent/b.img");
	assert_int_equal(config_check(&d, &e), 0);
	d.nr_nets = 2;
	snprintf(d.nets[0].tap, sizeof(d.nets[0].tap), "tap0");
	snprintf(d.nets[1].tap, sizeof(d.nets[1].tap), "tap0");
	assert_int_equal(config_check(&d, &e), -1);
	assert_non_null(strstr(e.msg, "given twice"));
	close(fd);
	unlink(path);
}

static void test_parse_net_vsock(void **state)
{
	struct net_config n;
	struct vsock_config v;
	struct err e;

	(void)state;
	assert_int_equal(config_parse_net("tap=tap0,mac=52:54:00:12:34:56", &n, &e), 0);
	assert_string_equal(n.tap, "tap0");
	assert_true(n.has_mac);
	assert_int_equal(n.mac[5], 0x56);
	assert_int_equal(config_parse_net("mac=52:54:00:12:34:56", &n, &e), -1);
	assert_int_equal(config_parse_net("tap=a,mac=01:00:00:00:00:00", &n, &e), -1);
	assert_int_equal(config_parse_net("tap=a,mac=52:54:00:12:34", &n, &e), -1);
	assert_int_equal(config_parse_net("tap=a,mac=52:54:00:12:34:5g", &n, &e), -1);
	assert_int_equal(config_parse_net("tap=0123456789abcdef", &n, &e), -1);
	assert_int_equal(config_parse_net("tap=0123456789abcdef0123456789abcdef0123456789abcdef"
	                                  "0123456789abcdef",
	                                  &n, &e),
	                 -1);
	assert_non_null(strstr(e.msg, "tap name must be")); /* not "'' is not ..." */
	assert_int_equal(config_parse_vsock("cid=3,uds=/tmp/v.sock", &v, &e), 0);
	assert_int_equal(v.cid, 3);
	assert_string_equal(v.uds, "/tmp/v.sock");
	assert_int_equal(config_parse_vsock("cid=2,uds=/x", &v, &e), -1);
	assert_int_equal(config_parse_vsock("cid=-5,uds=/x", &v, &e), -1);
	assert_int_equal(config_parse_vsock("cid=4294967295,uds=/x", &v, &e), -1);
	assert_int_equal(config_parse_vsock("cid=3", &v, &e), -1);
	assert_non_null(strstr(e.msg, "both"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_read_write),          T(test_out_of_range_and_direction),
	    T(test_no_status),           T(test_flush_and_get_id),
	    T(test_discard_and_zeroes),  T(test_scattered_data),
	    T(test_disk_open_lock_size), T(test_disk_bad_files),
	    T(test_config_check),        T(test_parse_disk),
	    T(test_direct_fd_choice),    T(test_parse_net_vsock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
