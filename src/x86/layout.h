/* SPDX-License-Identifier: MIT */
/* Where mote puts its boot structures in guest physical memory (below 1 MiB). */
#ifndef MOTE_X86_LAYOUT_H
#define MOTE_X86_LAYOUT_H

#define BOOT_GDT_ADDR     0x500ULL  /* 4 descriptors */
#define BOOT_INFO_ADDR    0x6000ULL /* boot_params or hvm_start_info */
#define BOOT_MODLIST_ADDR 0x7000ULL /* PVH module list */
#define BOOT_MEMMAP_ADDR  0x7100ULL /* PVH memory map */
#define BOOT_STACK_ADDR   0x8ff0ULL
#define BOOT_PML4_ADDR    0x9000ULL
#define BOOT_PDPT_ADDR    0xa000ULL
#define BOOT_PD_ADDR      0xb000ULL /* 4 pages: 4 GiB of 2 MiB pages */
#define BOOT_CMDLINE_ADDR 0x20000ULL
#define BOOT_CMDLINE_MAX  0x10000ULL /* bytes, NUL included */
#define BOOT_EBDA_START   0x9fc00ULL
#define BOOT_HIGH_START   0x100000ULL /* 1 MiB */

#endif
