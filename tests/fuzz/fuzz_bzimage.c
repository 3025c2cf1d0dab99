// SPDX-License-Identifier: MIT
/* bzimage_parse and bzimage_boot_params over a hostile bzImage.
 *
 * The input is parsed as the file it is. A bzImage is at least the 4 KiB
 * zero page, and all that mote reads of it is the setup header at 0x1f1,
 * so an input shorter than that is also taken as the head of a file: it
 * is padded with zeros to 4 KiB plus the little-endian 16-bit number in its
 * first two bytes (boot sector bytes the parser ignores). The seeds are
 * such heads, a few hundred bytes. */
#include "fuzz.h"

#include "boot/bzimage.h"

#include <string.h>

#define NAME "fuzz.bzImage"

/* Is byte @i of the zero page one that bzimage_boot_params sets itself? */
static int mote_sets(size_t i)
{
#define IN(field, n) \
	(i >= offsetof(struct boot_params, field) && i < offsetof(struct boot_params, field) + (n))
	return IN(ext_ramdisk_image, 12) || IN(e820_entries, 1) || IN(hdr.type_of_loader, 2) ||
	       IN(hdr.code32_start, 12) || IN(hdr.cmd_line_ptr, 4) ||
	       IN(e820_table, sizeof(((struct boot_params *)0)->e820_table));
#undef IN
}

/* What bzimage_boot_params promises for @bz, parsed from @file. */
static void check_boot_params(const uint8_t *file, const struct bzimage *bz, int nr_e820,
                              const uint8_t *data, size_t size)
{
	struct boot_params *bp = calloc(1, sizeof(*bp));
	/* Exactly @nr_e820 entries: ASan sees a read of one more. */
	struct e820_entry *map = calloc(nr_e820 ? (size_t)nr_e820 : 1, sizeof(*map));
	size_t map_bytes = (size_t)nr_e820 * sizeof(*map);
	int want = nr_e820 < BZ_E820_MAX ? nr_e820 : BZ_E820_MAX;
	const uint8_t *raw = (const uint8_t *)bp;
	const uint8_t *hdr = file + BZ_SETUP_HEADER_OFFSET;

	if (!bp || !map)
		abort();
	memcpy(map, data, size < map_bytes ? size : map_bytes);
	memset(bp, 0xa5, sizeof(*bp)); /* "into a zeroed struct": it must clear it itself */
	bzimage_boot_params(bp, file, bz, 0x20000, 0x107000000ULL, 0x123456, nr_e820 ? map : NULL,
	                    nr_e820);
	/* The setup header as the file has it, setup_len bytes of it. */
	for (size_t i = 0; i < sizeof(*bp); i++) {
		size_t h = i - BZ_SETUP_HEADER_OFFSET;
		uint8_t want_byte = 0;

		if (mote_sets(i))
			continue;
		if (i >= BZ_SETUP_HEADER_OFFSET && h < bz->setup_len)
			want_byte = hdr[h];
		FUZZ_CHECK(raw[i] == want_byte, "zero page byte 0x%zx is 0x%02x, not 0x%02x", i,
		           raw[i], want_byte);
	}
	FUZZ_CHECK(bp->hdr.type_of_loader == BZ_LOADER_UNDEFINED, "loader type %u",
	           bp->hdr.type_of_loader);
	FUZZ_CHECK(bp->hdr.loadflags == ((bz->setup_len > offsetof(struct setup_header, loadflags)
	                                      ? hdr[offsetof(struct setup_header, loadflags)]
	                                      : 0) |
	                                 BZ_LOADED_HIGH),
	           "loadflags 0x%x", bp->hdr.loadflags);
	FUZZ_CHECK(bp->hdr.cmd_line_ptr == 0x20000 && !bp->ext_cmd_line_ptr, "cmdline pointer");
	FUZZ_CHECK(bp->hdr.ramdisk_image == 0x7000000 && bp->ext_ramdisk_image == 1 &&
	               bp->hdr.ramdisk_size == 0x123456 && !bp->ext_ramdisk_size,
	           "initrd fields");
	FUZZ_CHECK(bp->hdr.code32_start == (uint32_t)bz->load_addr, "code32_start");
	FUZZ_CHECK(bp->e820_entries == want, "%u e820 entries for %d", bp->e820_entries, nr_e820);
	FUZZ_CHECK(!memcmp(bp->e820_table, map, (size_t)want * sizeof(*map)), "e820 table");
	for (size_t i = (size_t)want * sizeof(*map); i < sizeof(bp->e820_table); i++)
		FUZZ_CHECK(((const uint8_t *)bp->e820_table)[i] == 0, "e820 table byte %zu", i);
	free(map);
	free(bp);
}

static void parse(const uint8_t *file, size_t len, const uint8_t *data, size_t size)
{
	struct bzimage bz;
	struct err e;
	size_t setup_max;

	e.msg[0] = '\0';
	bzimage_is_bzimage(file, len);
	if (bzimage_parse(file, len, NAME, &bz, &e) < 0) {
		FUZZ_CHECK(strstr(e.msg, NAME), "error without the file's name: %s", e.msg);
		return;
	}
	FUZZ_CHECK(len >= sizeof(struct boot_params), "accepted %zu bytes", len);
	FUZZ_CHECK(bz.hdr.header == BZ_HDRS_MAGIC, "no HdrS");
	FUZZ_CHECK(bz.hdr.version >= BZ_MIN_VERSION, "protocol %#x", bz.hdr.version);
	FUZZ_CHECK(bz.hdr.xloadflags & BZ_XLF_KERNEL_64, "no 64-bit entry");
	FUZZ_CHECK(bz.hdr.loadflags & BZ_LOADED_HIGH, "loads low");
	FUZZ_CHECK(bz.kernel_offset > 0 && bz.kernel_offset < len, "kernel at %llu of %zu",
	           (unsigned long long)bz.kernel_offset, len);
	FUZZ_CHECK(bz.kernel_offset + bz.kernel_size == len, "kernel does not end the file");
	FUZZ_CHECK((uint64_t)bz.hdr.syssize * 16 <= bz.kernel_size, "syssize past the file");
	FUZZ_CHECK(bz.mem_size >= bz.kernel_size, "mem_size below the kernel");
	FUZZ_CHECK(bz.load_addr == BZ_LOAD_ADDR, "load address");
	FUZZ_CHECK(bz.run_addr == bz.hdr.pref_address && bz.run_addr >= BZ_LOAD_ADDR,
	           "run address");
	FUZZ_CHECK(bz.run_size >= bz.kernel_size && bz.run_addr + bz.run_size >= bz.run_addr,
	           "run area");
	FUZZ_CHECK(bz.load_addr + bz.mem_size >= bz.run_addr + bz.run_size &&
	               bz.load_addr + bz.mem_size >= bz.load_addr + bz.kernel_size,
	           "mem_size does not cover the file and the run area");
	setup_max = len - BZ_SETUP_HEADER_OFFSET;
	FUZZ_CHECK(bz.setup_len <= sizeof(struct setup_header) && bz.setup_len <= setup_max,
	           "setup_len %zu", bz.setup_len);
	check_boot_params(file, &bz, size ? data[size - 1] : 0, data, size);
	check_boot_params(file, &bz, BZ_E820_MAX + 1, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *file;
	size_t len;

	parse(data, size, data, size);
	if (size >= sizeof(struct boot_params))
		return 0;
	len = sizeof(struct boot_params) + (size >= 2 ? (size_t)(data[0] | data[1] << 8) : 0);
	file = calloc(1, len);
	if (!file)
		abort();
	memcpy(file, data, size);
	parse(file, len, data, size);
	free(file);
	return 0;
}
