// SPDX-License-Identifier: MIT
/* mote's virtio-blk request parser (blk_req_parse) on chains a hostile
 * driver makes: the input is a number of buffers, each an address (2 bytes,
 * in a small guest RAM with inaccessible pages around it), a length (2
 * bytes, widened to 32 bits by a shift in the flags byte) and a flags byte
 * (bit 0: device-writable), then bytes that fill guest RAM from 0. What the
 * parser accepts is then read and written in full, as the back end does:
 * ASan catches any byte outside guest RAM, and the checks below any
 * request that is out of the disk's range or bigger than its chain. */
#include "fuzz.h"

#include "mem.h"
#include "virtio/blk_req.h"

#include <string.h>
#include <sys/mman.h>

#define RAM_SIZE (64 * 1024)
#define SECTORS  64 /* a 32 KiB disk */

static struct guest_mem mem;

static void setup(void)
{
	fuzz_guest_ram(&mem, RAM_SIZE);
}

/* What the back end does with an accepted request: touches every byte. */
static void touch(const struct blk_req *r)
{
	static uint8_t sink[RAM_SIZE];
	uint64_t total = 0;

	for (int i = 0; i < r->niov; i++) {
		FUZZ_CHECK(r->iov[i].iov_len <= RAM_SIZE, "segment of %zu bytes",
		           r->iov[i].iov_len);
		memcpy(sink, r->iov[i].iov_base, r->iov[i].iov_len);
		memset(r->iov[i].iov_base, 0xa5, r->iov[i].iov_len);
		total += r->iov[i].iov_len;
	}
	FUZZ_CHECK(total == r->len, "data of %llu bytes, iovecs of %llu",
	           (unsigned long long)r->len, (unsigned long long)total);
	if (r->type == BLK_T_IN || r->type == BLK_T_OUT)
		FUZZ_CHECK(r->sector + r->len / 512 <= SECTORS && r->len % 512 == 0,
		           "sector %llu + %llu bytes passed a disk of %d sectors",
		           (unsigned long long)r->sector, (unsigned long long)r->len, SECTORS);
	for (int i = 0; i < r->nranges; i++)
		FUZZ_CHECK(r->ranges[i].sector + r->ranges[i].sectors <= SECTORS,
		           "range past the disk");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_in in = {data, size, 0};
	struct virtq_buf bufs[BLK_MAX_BUFS + 4];
	struct blk_limits lim = {SECTORS, false};
	static struct blk_req r;
	int n, st;

	if (!ready) {
		setup();
		ready = true;
	}
	n = (int)(fuzz_uint(&in, 1) % (BLK_MAX_BUFS + 4));
	lim.ro = n & 1;
	for (int i = 0; i < n; i++) {
		uint64_t addr = fuzz_uint(&in, 2);
		uint32_t len = (uint32_t)fuzz_uint(&in, 2);
		uint8_t flags = (uint8_t)fuzz_uint(&in, 1);

		len <<= (flags >> 4) & 15;
		/* As virtq_pop hands them over: every buffer lies in guest RAM. */
		if (len && !guest_ptr(&mem, addr, len))
			len = 0;
		bufs[i] = (struct virtq_buf){addr, len, flags & 1};
	}
	memset(mem.host, 0, RAM_SIZE);
	if (in.at < size)
		memcpy(mem.host, data + in.at, size - in.at < RAM_SIZE ? size - in.at : RAM_SIZE);
	st = blk_req_parse(&mem, bufs, n, &lim, &r);
	FUZZ_CHECK(st >= -1 && st <= BLK_S_UNSUPP, "status %d", st);
	FUZZ_CHECK((st < 0) == !r.status, "status byte and result disagree");
	if (st == BLK_S_OK)
		touch(&r);
	if (r.status)
		*r.status = (uint8_t)st;
	return 0;
}
