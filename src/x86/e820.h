/* SPDX-License-Identifier: MIT */
/* The memory map handed to the guest (e820 for bzImage, the same for PVH). */
#ifndef MOTE_X86_E820_H
#define MOTE_X86_E820_H

#include "../mem.h"

#include <stdint.h>

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_MAX      8

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Fills @out with the map of @m (low RAM, EBDA and BIOS reserved, RAM
 * above 1 MiB, RAM above 4 GiB); returns the number of entries. */
int e820_build(const struct guest_mem *m, struct e820_entry out[E820_MAX]);

/* As e820_build, with [@acpi_base, @acpi_base + @acpi_size) inside the
 * reserved area below 1 MiB marked as ACPI tables (none if @acpi_size is 0). */
int e820_build_acpi(const struct guest_mem *m, uint64_t acpi_base, uint64_t acpi_size,
                    struct e820_entry out[E820_MAX]);

#endif
