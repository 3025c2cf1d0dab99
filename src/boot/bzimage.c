// SPDX-License-Identifier: MIT
#include "bzimage.h"

#include <string.h>

#define SECTOR                   512
#define BZ_SETUP_HEADER_END_BASE 0x202 /* + the byte at 0x201 */

int bzimage_is_bzimage(const void *buf, size_t len)
{
	const struct boot_params *bp = buf;

	return len >= offsetof(struct boot_params, hdr.version) && bp->hdr.header == BZ_HDRS_MAGIC;
}

static int check_version(const struct setup_header *h, const char *name, struct err *e)
{
	if (h->version < BZ_MIN_VERSION)
		return err_set(e,
		               "kernel '%s': boot protocol %u.%02u is too old: mote needs "
		               "2.12 or later (Linux 3.8+)",
		               name, h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & BZ_XLF_KERNEL_64))
		return err_set(e,
		               "kernel '%s': bzImage has no 64-bit entry point (a 32-bit-only "
		               "kernel: xloadflags lacks XLF_KERNEL_64)",
		               name);
	if (!(h->loadflags & BZ_LOADED_HIGH))
		return err_set(e, "kernel '%s': zImage loads low; mote boots only bzImage", name);
	return 0;
}

/* The file's kernel goes at 1 MiB, where the decompressor reads it once and
 * never writes; it decompresses itself at pref_address (a relocatable
 * kernel below it moves there). So the file's pages stay shared page cache
 * and the decompressor writes only fresh memory. */
static int place(struct bzimage *bz, const char *name, struct err *e)
{
	uint64_t load_end = BZ_LOAD_ADDR + bz->kernel_size, run_end;

	bz->load_addr = BZ_LOAD_ADDR;
	bz->run_addr = bz->hdr.pref_address;
	bz->run_size = bz->hdr.init_size > bz->kernel_size ? bz->hdr.init_size : bz->kernel_size;
	if (bz->run_addr < BZ_LOAD_ADDR ||
	    __builtin_add_overflow(bz->run_addr, bz->run_size, &run_end))
		return err_set(e,
		               "kernel '%s': bzImage wants to run at 0x%llx (pref_address), not "
		               "RAM above 1 MiB",
		               name, (unsigned long long)bz->run_addr);
	bz->mem_size = (run_end > load_end ? run_end : load_end) - BZ_LOAD_ADDR;
	return 0;
}

int bzimage_parse(const void *buf, size_t len, const char *name, struct bzimage *out, struct err *e)
{
	const uint8_t *p = buf;
	const struct boot_params *bp = buf;
	uint64_t setup_sects;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(struct boot_params))
		return err_set(e,
		               "kernel '%s' is truncated: %zu bytes, shorter than a bzImage "
		               "setup area",
		               name, len);
	if (!bzimage_is_bzimage(buf, len))
		return err_set(e, "kernel '%s' is not a bzImage (no \"HdrS\" at 0x202)", name);
	out->hdr = bp->hdr;
	if (check_version(&out->hdr, name, e) < 0)
		return -1;
	setup_sects = out->hdr.setup_sects ? out->hdr.setup_sects : BZ_DEFAULT_SETUP_SECTS;
	out->kernel_offset = (setup_sects + 1) * SECTOR;
	if (out->kernel_offset >= len)
		return err_set(e,
		               "kernel '%s' is truncated: no protected-mode kernel after "
		               "%llu setup bytes",
		               name, (unsigned long long)out->kernel_offset);
	out->kernel_size = len - out->kernel_offset;
	if ((uint64_t)out->hdr.syssize * 16 > out->kernel_size)
		return err_set(e,
		               "kernel '%s' is truncated: header says %llu kernel bytes, the "
		               "file has %llu",
		               name, (unsigned long long)out->hdr.syssize * 16,
		               (unsigned long long)out->kernel_size);
	out->setup_len = BZ_SETUP_HEADER_END_BASE + p[0x201] - BZ_SETUP_HEADER_OFFSET;
	if (out->setup_len > sizeof(struct setup_header))
		out->setup_len = sizeof(struct setup_header);
	return place(out, name, e);
}

void bzimage_boot_params(struct boot_params *bp, const void *file, const struct bzimage *bz,
                         uint64_t cmdline_addr, uint64_t initrd_addr, uint64_t initrd_size,
                         const struct e820_entry *e820, int nr_e820)
{
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, (const uint8_t *)file + BZ_SETUP_HEADER_OFFSET, bz->setup_len);
	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp->hdr.loadflags |= BZ_LOADED_HIGH;
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline_addr;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline_addr >> 32);
	bp->hdr.ramdisk_image = (uint32_t)initrd_addr;
	bp->ext_ramdisk_image = (uint32_t)(initrd_addr >> 32);
	bp->hdr.ramdisk_size = (uint32_t)initrd_size;
	bp->ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
	bp->hdr.code32_start = (uint32_t)bz->load_addr;
	for (int i = 0; i < nr_e820 && i < BZ_E820_MAX; i++)
		bp->e820_table[i] = e820[i];
	bp->e820_entries = (uint8_t)(nr_e820 < BZ_E820_MAX ? nr_e820 : BZ_E820_MAX);
}
