/* SPDX-License-Identifier: MIT */
/* The PVH boot ABI: hvm_start_info with modules and memory map. */
#ifndef MOTE_BOOT_PVH_H
#define MOTE_BOOT_PVH_H

#include "../mem.h"
#include "../x86/e820.h"

#include <stdint.h>

#define PVH_START_MAGIC   0x336ec578U
#define PVH_START_VERSION 1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");

/* Writes hvm_start_info (at BOOT_INFO_ADDR), the module list with the
 * initrd as module 0 (none if @initrd_size is 0) and the memory map @e820
 * into guest memory; returns the start-info address, 0 if it does not fit. */
uint64_t pvh_build_start_info(const struct guest_mem *m, uint64_t cmdline_addr,
                              uint64_t initrd_addr, uint64_t initrd_size,
                              const struct e820_entry *e820, int nr_e820);

/* Puts the ACPI RSDP's address @rsdp (0: none) in the hvm_start_info at
 * @info in guest memory @m. */
void pvh_set_rsdp(const struct guest_mem *m, uint64_t info, uint64_t rsdp);

#endif
