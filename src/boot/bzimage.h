/* SPDX-License-Identifier: MIT */
/* The Linux x86 boot protocol: bzImage setup header and boot_params (zero page). */
#ifndef MOTE_BOOT_BZIMAGE_H
#define MOTE_BOOT_BZIMAGE_H

#include "../err.h"
#include "../x86/e820.h"

#include <stddef.h>
#include <stdint.h>

#define BZ_SETUP_HEADER_OFFSET 0x1f1
#define BZ_HDRS_MAGIC          0x53726448U /* "HdrS" */
#define BZ_BOOT_FLAG           0xaa55
#define BZ_MIN_VERSION         0x020c /* 2.12: xloadflags */
#define BZ_XLF_KERNEL_64       (1U << 0)
#define BZ_LOADED_HIGH         (1U << 0)
#define BZ_LOADER_UNDEFINED    0xff
#define BZ_ENTRY64_OFFSET      0x200
#define BZ_E820_MAX            128
#define BZ_DEFAULT_SETUP_SECTS 4
#define BZ_LOAD_ADDR           0x100000ULL /* 1 MiB, where every loader puts it */

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct boot_params {
	uint8_t pad0[0x070];
	uint64_t acpi_rsdp_addr; /* 0x070, boot protocol 2.14+ */
	uint8_t pad0b[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image; /* 0x0c0 */
	uint32_t ext_ramdisk_size;  /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;  /* 0x0c8 */
	uint8_t pad1[0x1e8 - 0x0cc];
	uint8_t e820_entries; /* 0x1e8 */
	uint8_t pad2[BZ_SETUP_HEADER_OFFSET - 0x1e9];
	struct setup_header hdr; /* 0x1f1 */
	uint8_t pad3[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct e820_entry e820_table[BZ_E820_MAX]; /* 0x2d0 */
	uint8_t pad4[0x1000 - 0x2d0 - BZ_E820_MAX * sizeof(struct e820_entry)];
} __attribute__((packed));

_Static_assert(offsetof(struct boot_params, hdr) == 0x1f1, "setup header offset");
_Static_assert(offsetof(struct boot_params, hdr.header) == 0x202, "HdrS offset");
_Static_assert(offsetof(struct boot_params, hdr.pref_address) == 0x258, "pref_address");
_Static_assert(offsetof(struct boot_params, hdr.kernel_info_offset) == 0x268, "header end");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820 table offset");
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params is one page");

struct bzimage {
	struct setup_header hdr; /* as found in the file */
	size_t setup_len;        /* bytes of the setup header copied to boot_params */
	uint64_t kernel_offset;  /* protected-mode kernel in the file */
	uint64_t kernel_size;
	uint64_t load_addr; /* where the file's kernel goes in guest memory */
	uint64_t run_addr;  /* where it decompresses itself and runs (pref_address) */
	uint64_t run_size;  /* what it needs there (init_size) */
	uint64_t mem_size;  /* all it occupies, from load_addr */
};

/* True if @buf carries the "HdrS" setup-header magic. */
int bzimage_is_bzimage(const void *buf, size_t len);

/* Parses the setup header of the bzImage in @buf[0..len) and checks that
 * it can be booted through the 64-bit entry; @name names it in errors. */
int bzimage_parse(const void *buf, size_t len, const char *name, struct bzimage *out,
                  struct err *e);

/* Fills the zero page @bp for @bz: setup header, loader type, command
 * line address, initrd, and @nr_e820 memory-map entries. */
void bzimage_boot_params(struct boot_params *bp, const void *file, const struct bzimage *bz,
                         uint64_t cmdline_addr, uint64_t initrd_addr, uint64_t initrd_size,
                         const struct e820_entry *e820, int nr_e820);

#endif
