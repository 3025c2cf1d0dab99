/* SPDX-License-Identifier: MIT */
/* The MultiProcessor Specification 1.4 table, for guests without ACPI
 * (--no-acpi): the floating pointer, and a configuration table with one
 * processor entry per vCPU, the ISA bus, the IOAPIC and its interrupts. */
#ifndef MOTE_X86_MPTABLE_H
#define MOTE_X86_MPTABLE_H

#include "../err.h"
#include "../mem.h"

#include <stdint.h>

/* The floating pointer, where Linux scans (the BIOS area 0xf0000-0xfffff,
 * reserved in the memory map; the ACPI tables, which use 0xe0000, are not
 * there with --no-acpi). The configuration table follows it. */
#define MPTABLE_BASE     0xf0000ULL
#define MPTABLE_END      0xffff0ULL /* the reset stub's page (x86/reset.c) begins here */
#define MPTABLE_MAX_CPUS 254        /* xAPIC IDs 0-253; the IOAPIC takes the next */

/* Writes the MP table for @nr_cpus vCPUs into guest RAM @m; returns the
 * floating pointer's address, or 0 with @e set (too many vCPUs, no RAM
 * there). */
uint64_t mptable_build(const struct guest_mem *m, int nr_cpus, struct err *e);

#endif
