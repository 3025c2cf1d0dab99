/* SPDX-License-Identifier: MIT */
/* ACPI tables built by mote (ACPI 6.x, hardware-reduced): RSDP, XSDT, FADT,
 * MADT and a DSDT whose devices describe themselves in AML. They sit in
 * guest RAM at ACPI_BASE, marked ACPI in the memory map. */
#ifndef MOTE_X86_ACPI_H
#define MOTE_X86_ACPI_H

#include "../err.h"
#include "../mem.h"
#include "aml.h"

#include <stdint.h>

#define ACPI_BASE     0xe0000ULL /* the RSDP; Linux also scans 0xe0000-0xfffff for it */
#define ACPI_SIZE     0x20000ULL /* up to 1 MiB */
#define ACPI_MAX_CPUS 254        /* xAPIC IDs 0-253; the IOAPIC takes the next */

/* Ports of the FADT's hardware-reduced registers (src/hw/acpi_pm.c). */
#define ACPI_SLEEP_CONTROL_PORT 0x600
#define ACPI_SLEEP_STATUS_PORT  0x601
#define ACPI_RESET_PORT         0xcf9
#define ACPI_RESET_VALUE        0x06
#define ACPI_S5_TYPE            5    /* SLP_TYP of \_S5, what poweroff writes */
#define ACPI_SLP_EN             0x20 /* the sleep control register's enable bit */

#define IOAPIC_ADDR 0xfec00000U
#define LAPIC_ADDR  0xfee00000U

/* Writes the devices' AML into the DSDT's \_SB scope. */
typedef void acpi_devices_fn(void *opaque, struct aml *a);

/* Builds every table for @nr_cpus vCPUs in guest RAM @m, the DSDT's
 * devices from @devices(@opaque); returns the RSDP's address, or 0 with
 * @e set (too many vCPUs, no room, a device's AML failed). */
uint64_t acpi_build(const struct guest_mem *m, int nr_cpus, acpi_devices_fn *devices, void *opaque,
                    struct err *e);

/* The checksum byte that makes the @len bytes at @p sum to zero. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
