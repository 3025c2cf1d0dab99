// SPDX-License-Identifier: MIT
#include "pvh.h"

#include "../x86/layout.h"

#include <string.h>

uint64_t pvh_build_start_info(const struct guest_mem *m, uint64_t cmdline_addr,
                              uint64_t initrd_addr, uint64_t initrd_size,
                              const struct e820_entry *e820, int nr_e820)
{
	struct hvm_start_info *si = guest_ptr(m, BOOT_INFO_ADDR, sizeof(*si));
	struct hvm_modlist_entry *mod = guest_ptr(m, BOOT_MODLIST_ADDR, sizeof(*mod));
	struct hvm_memmap_table_entry *map =
	    guest_ptr(m, BOOT_MEMMAP_ADDR, sizeof(*map) * (uint64_t)nr_e820);

	if (!si || !mod || !map)
		return 0;
	*si = (struct hvm_start_info){
	    .magic = PVH_START_MAGIC,
	    .version = PVH_START_VERSION,
	    .cmdline_paddr = cmdline_addr,
	    .memmap_paddr = BOOT_MEMMAP_ADDR,
	    .memmap_entries = (uint32_t)nr_e820,
	};
	if (initrd_size) {
		*mod = (struct hvm_modlist_entry){.paddr = initrd_addr, .size = initrd_size};
		si->nr_modules = 1;
		si->modlist_paddr = BOOT_MODLIST_ADDR;
	}
	for (int i = 0; i < nr_e820; i++)
		map[i] = (struct hvm_memmap_table_entry){
		    .addr = e820[i].addr,
		    .size = e820[i].size,
		    .type = e820[i].type,
		};
	return BOOT_INFO_ADDR;
}
