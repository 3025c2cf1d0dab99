/* SPDX-License-Identifier: MIT */
/* Direct kernel boot: a PVH vmlinux or a bzImage, with initrd and command line. */
#ifndef MOTE_BOOT_BOOT_H
#define MOTE_BOOT_BOOT_H

#include "../err.h"
#include "../mem.h"
#include "image.h"

#include <stddef.h>
#include <stdint.h>

/* Linux's COMMAND_LINE_SIZE on x86, NUL included; PVH has no header to say. */
#define PVH_CMDLINE_SIZE 2048

enum boot_kind { BOOT_PVH, BOOT_BZIMAGE };

struct boot_config {
	const char *kernel;
	const char *initrd; /* NULL for none */
	const char *cmdline;
	size_t cmdline_added; /* bytes of it mote added (the devices' words) */
	uint64_t rsdp;        /* the ACPI RSDP's address, 0 for no ACPI */
	uint64_t acpi_base;   /* the tables' range, marked ACPI in the memory map */
	uint64_t acpi_size;
	/* Where a bzImage's kernel, decompressed on the host, is cached to boot
	 * through its PVH entry ("" if there is no such folder: said in
	 * unpack_note); NULL boots a bzImage as it is (the guest decompresses it). */
	const char *unpack_dir;
};

/* What became of a bzImage with unpack_dir set. */
enum unpack_outcome {
	UNPACK_NOT_TRIED, /* not a bzImage, or no unpack_dir */
	UNPACK_CACHED,    /* booted through PVH from the cache's copy */
	UNPACK_MADE,      /* the same, decompressed into the cache now */
	UNPACK_DECLINED,  /* booted as a bzImage: unpack_note says why */
};

struct boot_result {
	enum boot_kind kind;
	uint64_t entry;      /* PVH 32-bit entry or 64-bit entry */
	uint64_t info_addr;  /* hvm_start_info or boot_params */
	uint64_t cr3;        /* identity page tables (bzImage) */
	uint64_t kernel_end; /* first byte above the kernel */
	uint64_t initrd_addr;
	uint64_t initrd_size;
	struct image_stats kernel_stats, initrd_stats;
	enum unpack_outcome unpack;
	char unpack_path[4096]; /* the cache's copy (UNPACK_CACHED, UNPACK_MADE) */
	char unpack_note[ERR_MAX];
};

/* Loads the kernel, initrd and command line of @c into fresh guest memory
 * @m and writes the boot structures; on error names the input and why. */
int boot_load(const struct guest_mem *m, const struct boot_config *c, struct boot_result *r,
              struct err *e);

/* Picks the initrd address: the highest page-aligned spot below
 * min(@ram_top, @max_addr + 1) that stays above @kernel_end; -1 with a
 * message if @size does not fit. */
int boot_place_initrd(uint64_t size, uint64_t kernel_end, uint64_t ram_top, uint64_t max_addr,
                      const char *name, uint64_t *addr, struct err *e);

/* Puts the vCPU's registers at the kernel entry described by @r. */
void boot_enter(int vcpu_fd, const struct guest_mem *m, const struct boot_result *r);

/* Looks up, in the symbol table of the vmlinux @kernel, the function that
 * execs init (run_init_process; not kernel_execve, which usermode helpers
 * enter before init); 0 if there is none. */
uint64_t boot_find_init_exec(const char *kernel);

#endif
