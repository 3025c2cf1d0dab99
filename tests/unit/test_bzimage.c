// SPDX-License-Identifier: MIT
/* bzimage_parse and bzimage_boot_params on synthetic setup headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/bzimage.h"

#include <string.h>

#define FILE_SIZE (64 * 1024)
#define LOAD_ADDR 0x1000000ULL
#define INIT_SIZE 0x2000000U

/* The file, with the zero page's layout over its first 4 KiB. */
static union {
	uint8_t b[FILE_SIZE];
	struct boot_params bp;
} file;

static struct boot_params out_bp;

/* A protocol 2.15 bzImage: 4 setup sectors, 64-bit entry, loaded high. */
static int setup(void **state)
{
	struct setup_header *h = &file.bp.hdr;

	(void)state;
	memset(&file, 0, sizeof(file));
	h->setup_sects = 4;
	h->syssize = (FILE_SIZE - 5 * 512) / 16;
	h->boot_flag = BZ_BOOT_FLAG;
	h->jump = 0x6aeb; /* jmp short over the header, which ends at 0x26c */
	h->header = BZ_HDRS_MAGIC;
	h->version = 0x020f;
	h->loadflags = BZ_LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = BZ_XLF_KERNEL_64 | 0x2;
	h->cmdline_size = 2047;
	h->pref_address = LOAD_ADDR;
	h->init_size = INIT_SIZE;
	return 0;
}

static int parse(size_t len, struct bzimage *bz, struct err *e)
{
	memset(e->msg, 0, sizeof(e->msg));
	return bzimage_parse(&file, len, "bzImage", bz, e);
}

static void assert_parse_fails(size_t len, const char *needle)
{
	struct bzimage bz;
	struct err e;

	assert_int_equal(parse(len, &bz, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
	assert_non_null(strstr(e.msg, "bzImage"));
}

static void test_header_layout(void **state)
{
	(void)state;
	/* The raw bytes where the boot protocol documents them. */
	assert_int_equal(file.b[0x1f1], 4);
	assert_memory_equal(&file.b[0x202], "HdrS", 4);
	assert_int_equal(file.b[0x1fe] | file.b[0x1ff] << 8, 0xaa55);
	assert_int_equal(file.b[0x200], 0xeb);
	assert_int_equal(file.b[0x201], 0x6a);
	assert_int_equal(file.b[0x206] | file.b[0x207] << 8, 0x020f);
	assert_int_equal(file.b[0x211], BZ_LOADED_HIGH);
	assert_int_equal(file.b[0x236], BZ_XLF_KERNEL_64 | 0x2);
	assert_int_equal(file.b[0x25b], LOAD_ADDR >> 24);
	assert_int_equal(file.b[0x263], INIT_SIZE >> 24);
}

static void test_valid(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.kernel_offset, 5 * 512);
	assert_int_equal(bz.kernel_size, FILE_SIZE - 5 * 512);
	/* The file's kernel at 1 MiB, where it is only read; it runs at
	 * pref_address, and the whole span is the kernel's. */
	assert_int_equal(bz.load_addr, BZ_LOAD_ADDR);
	assert_int_equal(bz.run_addr, LOAD_ADDR);
	assert_int_equal(bz.run_size, INIT_SIZE);
	assert_int_equal(bz.mem_size, LOAD_ADDR + INIT_SIZE - BZ_LOAD_ADDR);
	assert_int_equal(bz.setup_len, sizeof(struct setup_header));
	assert_int_equal(bz.hdr.version, 0x020f);
	assert_int_equal(bz.hdr.cmdline_size, 2047);
	assert_int_equal(bz.hdr.initrd_addr_max, 0x7fffffff);
}

static void test_is_bzimage(void **state)
{
	(void)state;
	assert_true(bzimage_is_bzimage(&file, FILE_SIZE));
	assert_false(bzimage_is_bzimage(&file, 0x205));
	file.b[0x205] = 'T';
	assert_false(bzimage_is_bzimage(&file, FILE_SIZE));
}

static void test_no_magic(void **state)
{
	(void)state;
	file.bp.hdr.header = 0;
	assert_parse_fails(FILE_SIZE, "not a bzImage");
}

static void test_version_too_old(void **state)
{
	(void)state;
	file.bp.hdr.version = 0x020b;
	assert_parse_fails(FILE_SIZE, "too old");
	assert_parse_fails(FILE_SIZE, "2.11");
	file.bp.hdr.version = 0x0100;
	assert_parse_fails(FILE_SIZE, "too old");
}

static void test_version_accepted(void **state)
{
	static const uint16_t versions[] = {0x020c, 0x020d, 0x020e, 0x020f, 0x0210};
	struct bzimage bz;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		file.bp.hdr.version = versions[i];
		assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
		assert_int_equal(bz.hdr.version, versions[i]);
	}
}

static void test_no_kernel64(void **state)
{
	(void)state;
	file.bp.hdr.xloadflags = 0x2; /* XLF_CAN_BE_LOADED_ABOVE_4G alone */
	assert_parse_fails(FILE_SIZE, "64-bit");
}

static void test_not_loaded_high(void **state)
{
	(void)state;
	file.bp.hdr.loadflags = 0x80; /* CAN_USE_HEAP, not LOADED_HIGH */
	assert_parse_fails(FILE_SIZE, "loads low");
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	file.bp.hdr.setup_sects = 0;
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.kernel_offset, (BZ_DEFAULT_SETUP_SECTS + 1) * 512);
}

static void test_setup_sects_large(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	file.bp.hdr.setup_sects = 30;
	file.bp.hdr.syssize = (FILE_SIZE - 31 * 512) / 16;
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.kernel_offset, 31 * 512);
	assert_int_equal(bz.kernel_size, FILE_SIZE - 31 * 512);
}

static void test_shorter_than_zero_page(void **state)
{
	(void)state;
	assert_parse_fails(sizeof(struct boot_params) - 1, "truncated");
	assert_parse_fails(0x300, "truncated");
}

static void test_no_kernel_after_setup(void **state)
{
	(void)state;
	/* 127 setup sectors: the kernel would start at 64 KiB, the file's end. */
	file.bp.hdr.setup_sects = 127;
	file.bp.hdr.syssize = 0;
	assert_parse_fails(FILE_SIZE, "truncated");
	assert_parse_fails(FILE_SIZE, "no protected-mode kernel");
	/* 7 setup sectors in a 4 KiB file: it ends exactly at the kernel start. */
	file.bp.hdr.setup_sects = 7;
	assert_parse_fails(8 * 512, "no protected-mode kernel");
}

static void test_syssize_past_eof(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	/* Exactly the bytes present is fine, 16 more is not. */
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	file.bp.hdr.syssize++;
	assert_parse_fails(FILE_SIZE, "truncated");
	file.bp.hdr.syssize = UINT32_MAX;
	assert_parse_fails(FILE_SIZE, "truncated");
}

static void test_mem_size_at_least_file(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	file.bp.hdr.init_size = 0x1000; /* below the file's kernel size */
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.run_size, FILE_SIZE - 5 * 512);
	assert_int_equal(bz.mem_size, LOAD_ADDR + FILE_SIZE - 5 * 512 - BZ_LOAD_ADDR);
}

/* A kernel that runs where it is loaded (pref_address 1 MiB) spans the
 * larger of its file and its init_size from there. */
static void test_runs_in_place(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	file.bp.hdr.pref_address = BZ_LOAD_ADDR;
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.run_addr, BZ_LOAD_ADDR);
	assert_int_equal(bz.mem_size, INIT_SIZE);
}

/* A pref_address below 1 MiB, or so high that the run area wraps, is
 * refused by name. */
static void test_hostile_pref_address(void **state)
{
	(void)state;
	file.bp.hdr.pref_address = 0x8000;
	assert_parse_fails(FILE_SIZE, "wants to run at 0x8000 (pref_address)");
	file.bp.hdr.pref_address = UINT64_MAX - 0x1000;
	assert_parse_fails(FILE_SIZE, "(pref_address), not RAM above 1 MiB");
}

static void test_setup_len_from_jump(void **state)
{
	struct bzimage bz;
	struct err e;

	(void)state;
	/* Protocol 2.12's header ends at 0x268 (jump byte 0x66). */
	file.b[0x201] = 0x66;
	file.bp.hdr.version = 0x020c;
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.setup_len, 0x268 - 0x1f1);
	/* A jump past the header is capped at the header's size. */
	file.b[0x201] = 0xff;
	assert_int_equal(parse(FILE_SIZE, &bz, &e), 0);
	assert_int_equal(bz.setup_len, sizeof(struct setup_header));
}

static void parse_ok(struct bzimage *bz)
{
	struct err e;

	assert_int_equal(parse(FILE_SIZE, bz, &e), 0);
}

static const struct e820_entry map[] = {
    {0, 0x9fc00, E820_RAM},
    {0x9fc00, 0x60400, E820_RESERVED},
    {0x100000, 0xbff00000, E820_RAM},
    {0x100000000ULL, 0x40000000, E820_RAM},
};

static void test_boot_params_basics(void **state)
{
	struct bzimage bz;

	(void)state;
	parse_ok(&bz);
	memset(&out_bp, 0xaa, sizeof(out_bp));
	bzimage_boot_params(&out_bp, &file, &bz, 0x20000, 0x7f000000, 0x123456, map, 4);
	assert_int_equal(out_bp.hdr.type_of_loader, 0xff);
	assert_true(out_bp.hdr.loadflags & BZ_LOADED_HIGH);
	assert_int_equal(out_bp.hdr.cmd_line_ptr, 0x20000);
	assert_int_equal(out_bp.ext_cmd_line_ptr, 0);
	assert_int_equal(out_bp.hdr.ramdisk_image, 0x7f000000);
	assert_int_equal(out_bp.ext_ramdisk_image, 0);
	assert_int_equal(out_bp.hdr.ramdisk_size, 0x123456);
	assert_int_equal(out_bp.ext_ramdisk_size, 0);
	assert_int_equal(out_bp.hdr.code32_start, BZ_LOAD_ADDR);
}

static void test_boot_params_zeroed(void **state)
{
	static const uint8_t zero[0x1e8];
	struct bzimage bz;

	(void)state;
	parse_ok(&bz);
	memset(&out_bp, 0xaa, sizeof(out_bp));
	bzimage_boot_params(&out_bp, &file, &bz, 0x20000, 0, 0, map, 4);
	/* Everything before e820_entries (screen_info, apm, edd...) is zero. */
	assert_memory_equal(&out_bp, zero, sizeof(zero));
	assert_int_equal(out_bp.hdr.ramdisk_image, 0);
	assert_int_equal(out_bp.hdr.ramdisk_size, 0);
	assert_int_equal(out_bp.e820_table[4].size, 0);
	assert_int_equal(out_bp.pad4[sizeof(out_bp.pad4) - 1], 0);
}

static void test_boot_params_above_4g(void **state)
{
	struct bzimage bz;

	(void)state;
	parse_ok(&bz);
	bzimage_boot_params(&out_bp, &file, &bz, 0x123456789ULL, 0x2345678000ULL, 0x100001000ULL,
	                    map, 4);
	assert_int_equal(out_bp.hdr.cmd_line_ptr, 0x23456789);
	assert_int_equal(out_bp.ext_cmd_line_ptr, 0x1);
	assert_int_equal(out_bp.hdr.ramdisk_image, 0x45678000);
	assert_int_equal(out_bp.ext_ramdisk_image, 0x23);
	assert_int_equal(out_bp.hdr.ramdisk_size, 0x1000);
	assert_int_equal(out_bp.ext_ramdisk_size, 0x1);
}

static void test_boot_params_e820(void **state)
{
	struct bzimage bz;

	(void)state;
	parse_ok(&bz);
	bzimage_boot_params(&out_bp, &file, &bz, 0x20000, 0, 0, map, 4);
	assert_int_equal(out_bp.e820_entries, 4);
	assert_memory_equal(out_bp.e820_table, map, sizeof(map));
	/* The raw bytes at 0x2d0: 20-byte entries, the 4th at 0x2d0 + 60. */
	assert_int_equal(((const uint8_t *)&out_bp)[0x2d0 + 60 + 4], 1); /* addr bit 32 */
	assert_int_equal(((const uint8_t *)&out_bp)[0x2d0 + 60 + 16], E820_RAM);
}

static void test_boot_params_e820_capped(void **state)
{
	static struct e820_entry big[BZ_E820_MAX + 10];
	static const uint8_t zero[sizeof(out_bp.pad4)];
	struct bzimage bz;

	(void)state;
	for (int i = 0; i < BZ_E820_MAX + 10; i++)
		big[i] = (struct e820_entry){(uint64_t)i << 20, 1 << 20, E820_RAM};
	parse_ok(&bz);
	bzimage_boot_params(&out_bp, &file, &bz, 0x20000, 0, 0, big, BZ_E820_MAX + 10);
	assert_int_equal(out_bp.e820_entries, BZ_E820_MAX);
	assert_int_equal(out_bp.e820_table[BZ_E820_MAX - 1].addr, (uint64_t)(BZ_E820_MAX - 1)
	                                                              << 20);
	/* Nothing was written past the table. */
	assert_memory_equal(out_bp.pad4, zero, sizeof(zero));
}

static void test_boot_params_header_copied(void **state)
{
	struct bzimage bz;

	(void)state;
	file.bp.hdr.kernel_info_offset = 0x1234;
	file.bp.hdr.root_dev = 0x0801;
	file.bp.hdr.vid_mode = 0xffff;
	parse_ok(&bz);
	bzimage_boot_params(&out_bp, &file, &bz, 0x20000, 0, 0, map, 4);
	assert_int_equal(out_bp.hdr.header, BZ_HDRS_MAGIC);
	assert_int_equal(out_bp.hdr.version, 0x020f);
	assert_int_equal(out_bp.hdr.boot_flag, BZ_BOOT_FLAG);
	assert_int_equal(out_bp.hdr.setup_sects, 4);
	assert_int_equal(out_bp.hdr.root_dev, 0x0801);
	assert_int_equal(out_bp.hdr.vid_mode, 0xffff);
	assert_int_equal(out_bp.hdr.cmdline_size, 2047);
	assert_int_equal(out_bp.hdr.init_size, INIT_SIZE);
	assert_int_equal(out_bp.hdr.pref_address, LOAD_ADDR);
	assert_int_equal(out_bp.hdr.kernel_info_offset, 0x1234);
}

static void test_boot_params_header_copy_stops_at_jump(void **state)
{
	struct bzimage bz;

	(void)state;
	/* A 2.12 header ends at 0x268: the file's bytes after it are not the
	 * header, so they must not land in boot_params. */
	file.b[0x201] = 0x66;
	file.bp.hdr.version = 0x020c;
	file.bp.hdr.kernel_info_offset = 0xdeadbeef;
	parse_ok(&bz);
	bzimage_boot_params(&out_bp, &file, &bz, 0x20000, 0, 0, map, 4);
	assert_int_equal(out_bp.hdr.init_size, INIT_SIZE);
	assert_int_equal(out_bp.hdr.kernel_info_offset, 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_header_layout),
	    T(test_valid),
	    T(test_is_bzimage),
	    T(test_no_magic),
	    T(test_version_too_old),
	    T(test_version_accepted),
	    T(test_no_kernel64),
	    T(test_not_loaded_high),
	    T(test_setup_sects_zero_means_four),
	    T(test_setup_sects_large),
	    T(test_shorter_than_zero_page),
	    T(test_no_kernel_after_setup),
	    T(test_syssize_past_eof),
	    T(test_mem_size_at_least_file),
	    T(test_runs_in_place),
	    T(test_hostile_pref_address),
	    T(test_setup_len_from_jump),
	    T(test_boot_params_basics),
	    T(test_boot_params_zeroed),
	    T(test_boot_params_above_4g),
	    T(test_boot_params_e820),
	    T(test_boot_params_e820_capped),
	    T(test_boot_params_header_copied),
	    T(test_boot_params_header_copy_stops_at_jump),
	};

	return cmocka_run_group_tests_name("bzimage", tests, NULL, NULL);
}
