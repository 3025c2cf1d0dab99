// SPDX-License-Identifier: MIT
/* boot_place_initrd against its documented contract: the highest
 * page-aligned spot below min(ram_top, max_addr + 1) that stays above
 * kernel_end, or an error if there is none.
 *
 * Input: four little-endian 64-bit numbers, size, kernel_end, ram_top and
 * max_addr (zeros past the end of the input). A first byte of 0xff..0xfc
 * instead picks a realistic ram_top (mote's RAM below the hole), so that
 * the fuzzer spends time near the values a real boot passes. */
#include "fuzz.h"

#include "boot/boot.h"

#include <string.h>

#define NAME "fuzz.cpio"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size, 0};
	uint64_t sz = fuzz_uint(&in, 8), kernel_end = fuzz_uint(&in, 8);
	uint64_t ram_top = fuzz_uint(&in, 8), max_addr = fuzz_uint(&in, 8);
	uint64_t top, lo, addr = 0xdeadbeefULL;
	int exists, ret;
	struct err e;

	if (size && data[0] >= 0xfc)
		ram_top = (uint64_t)(data[0] - 0xfb) * 512 * MiB; /* 512 MiB .. 2 GiB */
	/* The limit: ram_top, or the byte after max_addr if that is lower. */
	top = max_addr < UINT64_MAX && max_addr + 1 < ram_top ? max_addr + 1 : ram_top;
	/* The lowest page-aligned address at or above kernel_end, if any. */
	exists = kernel_end <= UINT64_MAX - (PAGE_SIZE - 1);
	lo = (kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	exists = exists && lo <= top && sz <= top - lo;

	e.msg[0] = '\0';
	ret = boot_place_initrd(sz, kernel_end, ram_top, max_addr, NAME, &addr, &e);
	if (ret < 0) {
		FUZZ_CHECK(!exists,
		           "refused size 0x%llx, kernel_end 0x%llx, ram_top 0x%llx, max_addr "
		           "0x%llx though [0x%llx, 0x%llx) has room: %s",
		           (unsigned long long)sz, (unsigned long long)kernel_end,
		           (unsigned long long)ram_top, (unsigned long long)max_addr,
		           (unsigned long long)lo, (unsigned long long)top, e.msg);
		FUZZ_CHECK(addr == 0xdeadbeefULL, "address written on failure");
		FUZZ_CHECK(strstr(e.msg, NAME) && strstr(e.msg, "does not fit"), "message: %s",
		           e.msg);
		return 0;
	}
	FUZZ_CHECK(ret == 0, "returned %d", ret);
	FUZZ_CHECK(addr % PAGE_SIZE == 0, "address 0x%llx is not page aligned",
	           (unsigned long long)addr);
	FUZZ_CHECK(addr >= kernel_end,
	           "initrd at 0x%llx (size 0x%llx) is below kernel_end 0x%llx (ram_top 0x%llx, "
	           "max_addr 0x%llx)",
	           (unsigned long long)addr, (unsigned long long)sz, (unsigned long long)kernel_end,
	           (unsigned long long)ram_top, (unsigned long long)max_addr);
	FUZZ_CHECK(addr <= top && sz <= top - addr,
	           "initrd [0x%llx, +0x%llx) ends above the limit 0x%llx", (unsigned long long)addr,
	           (unsigned long long)sz, (unsigned long long)top);
	FUZZ_CHECK(exists, "placed at 0x%llx where nothing fits", (unsigned long long)addr);
	FUZZ_CHECK(addr == ((top - sz) & ~(PAGE_SIZE - 1)), "0x%llx is not the highest spot",
	           (unsigned long long)addr);
	return 0;
}
