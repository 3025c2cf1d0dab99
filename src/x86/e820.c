// SPDX-License-Identifier: MIT
#include "e820.h"

#include "layout.h"

static int add(struct e820_entry *out, int n, uint64_t addr, uint64_t size, uint32_t type)
{
	out[n] = (struct e820_entry){.addr = addr, .size = size, .type = type};
	return n + 1;
}

int e820_build(const struct guest_mem *m, struct e820_entry out[E820_MAX])
{
	return e820_build_acpi(m, 0, 0, out);
}

int e820_build_acpi(const struct guest_mem *m, uint64_t acpi_base, uint64_t acpi_size,
                    struct e820_entry out[E820_MAX])
{
	uint64_t low_end = mem_low_end(m);
	uint64_t acpi_end = acpi_base + acpi_size;
	int n = 0;

	n = add(out, n, 0, BOOT_EBDA_START, E820_RAM);
	if (!acpi_size || acpi_base < BOOT_EBDA_START || acpi_end > BOOT_HIGH_START) {
		n = add(out, n, BOOT_EBDA_START, BOOT_HIGH_START - BOOT_EBDA_START, E820_RESERVED);
	} else {
		n = add(out, n, BOOT_EBDA_START, acpi_base - BOOT_EBDA_START, E820_RESERVED);
		n = add(out, n, acpi_base, acpi_size, E820_ACPI);
		if (acpi_end < BOOT_HIGH_START)
			n = add(out, n, acpi_end, BOOT_HIGH_START - acpi_end, E820_RESERVED);
	}
	n = add(out, n, BOOT_HIGH_START, low_end - BOOT_HIGH_START, E820_RAM);
	for (int i = 1; i < m->nr_slots; i++)
		n = add(out, n, m->slots[i].gpa, m->slots[i].size, E820_RAM);
	return n;
}
