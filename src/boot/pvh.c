// SPDX-License-Identifier: MIT
#include "pvh.h"

#include "../x86/layout.h"

#include <string.h>

/* The boot structures must not overlap each other, the page tables or the
 * command line. */
_Static_assert(BOOT_INFO_ADDR + sizeof(struct hvm_start_info) <= BOOT_MODLIST_ADDR,
               "start info overlaps the module list");
_Static_assert(BOOT_MODLIST_ADDR + sizeof(struct hvm_modlist_entry) <= BOOT_MEMMAP_ADDR,
               "module list overlaps the memory map");
_Static_assert(BOOT_MEMMAP_ADDR + E820_MAX * sizeof(struct hvm_memmap_table_entry) <=
                   BOOT_STACK_ADDR,
               "memory map overlaps the stack");
_Static_assert(BOOT_STACK_ADDR < BOOT_PML4_ADDR, "stack overlaps the page tables");
_Static_assert(BOOT_PD_ADDR + 4 * PAGE_SIZE <= BOOT_CMDLINE_ADDR,
               "page tables overlap the command line");
_Static_assert(BOOT_CMDLINE_ADDR + BOOT_CMDLINE_MAX <= BOOT_EBDA_START,
               "command line overlaps the EBDA");

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

void pvh_set_rsdp(const struct guest_mem *m, uint64_t info, uint64_t rsdp)
{
	struct hvm_start_info *si = guest_ptr(m, info, sizeof(*si));

	if (si)
		si->rsdp_paddr = rsdp;
}
