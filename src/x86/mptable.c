// SPDX-License-Identifier: MIT
/* The MP table (Intel MultiProcessor Specification 1.4, chapter 4). */
#include "mptable.h"

#include "acpi.h"

#include <string.h>

#define MP_SPEC_REV      4
#define MP_LAPIC_VERSION 0x14
#define MP_IOAPIC_VER    0x11
#define MP_ISA_IRQS      16

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IO_INTERRUPT, MP_LOCAL_INTERRUPT };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

struct __attribute__((packed)) mp_floating {
	char signature[4]; /* "_MP_" */
	uint32_t config;   /* the configuration table's address */
	uint8_t length;    /* in 16-byte paragraphs: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t features[5]; /* all 0: a configuration table is present */
};

struct __attribute__((packed)) mp_config {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* header and entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
};

struct __attribute__((packed)) mp_processor {
	uint8_t type, lapic_id, lapic_version, flags; /* flags: 1 enabled, 2 boot processor */
	uint32_t signature, features;
	uint8_t reserved[8];
};

struct __attribute__((packed)) mp_bus {
	uint8_t type, id;
	char name[6];
};

struct __attribute__((packed)) mp_ioapic {
	uint8_t type, id, version, flags; /* flags: 1 enabled */
	uint32_t address;
};

/* An I/O or a local interrupt entry: the same layout. */
struct __attribute__((packed)) mp_interrupt {
	uint8_t type, kind;
	uint16_t flags; /* 0: polarity and trigger as the bus has them (ISA: high, edge) */
	uint8_t bus, bus_irq, dest_id, dest_pin;
};

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mp_config) == 44, "MP configuration table header");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry");
_Static_assert(sizeof(struct mp_bus) == 8 && sizeof(struct mp_ioapic) == 8 &&
                   sizeof(struct mp_interrupt) == 8,
               "MP 8-byte entries");

#define CPU_SIGNATURE 0x600 /* family 6 */
#define CPU_FEATURES  0x201 /* FPU, APIC */
#define LOCAL_ALL     0xff  /* every local APIC */
#define MP_ENTRIES(n) ((n) + 1 + 1 + 1 + MP_ISA_IRQS - 1 + 2)

static size_t config_size(int n)
{
	return sizeof(struct mp_config) + (size_t)n * sizeof(struct mp_processor) +
	       sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +
	       (1 + MP_ISA_IRQS - 1 + 2) * sizeof(struct mp_interrupt);
}

_Static_assert(MPTABLE_BASE + sizeof(struct mp_floating) + sizeof(struct mp_config) +
                       MPTABLE_MAX_CPUS * sizeof(struct mp_processor) + 3 * 8 +
                       (MP_ISA_IRQS + 2) * 8 <=
                   MPTABLE_END,
               "the MP table for the most vCPUs fits below the reset stub");

static uint8_t *put_interrupt(uint8_t *at, uint8_t type, uint8_t kind, uint8_t irq, uint8_t dest,
                              uint8_t pin)
{
	struct mp_interrupt i = {
	    .type = type, .kind = kind, .bus_irq = irq, .dest_id = dest, .dest_pin = pin};

	memcpy(at, &i, sizeof(i));
	return at + sizeof(i);
}

/* The IOAPIC's interrupts, wired as KVM's default routing wires them: ISA
 * IRQ i on pin i (the PIT on pin 0, like Firecracker's table; IRQ 2 is the
 * PICs' cascade, left out), the 8259 as ExtINT on pin 0 too; and every
 * local APIC's LINT0 (ExtINT) and LINT1 (NMI). */
static uint8_t *put_interrupts(uint8_t *at, uint8_t ioapic)
{
	at = put_interrupt(at, MP_IO_INTERRUPT, MP_EXTINT, 0, ioapic, 0);
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++)
		if (irq != 2)
			at = put_interrupt(at, MP_IO_INTERRUPT, MP_INT, irq, ioapic, irq);
	at = put_interrupt(at, MP_LOCAL_INTERRUPT, MP_EXTINT, 0, LOCAL_ALL, 0);
	return put_interrupt(at, MP_LOCAL_INTERRUPT, MP_NMI, 0, LOCAL_ALL, 1);
}

static void build_config(uint8_t *p, int n)
{
	struct mp_config *c = (struct mp_config *)(void *)p;
	uint8_t *at = p + sizeof(*c);
	struct mp_bus bus = {.type = MP_BUS, .id = 0};
	struct mp_ioapic io = {.type = MP_IOAPIC,
	                       .id = (uint8_t)n,
	                       .version = MP_IOAPIC_VER,
	                       .flags = 1,
	                       .address = IOAPIC_ADDR};

	*c = (struct mp_config){.length = (uint16_t)config_size(n),
	                        .spec_rev = MP_SPEC_REV,
	                        .entries = MP_ENTRIES(n),
	                        .lapic = LAPIC_ADDR};
	memcpy(c->signature, "PCMP", 4);
	memcpy(c->oem, "MOTE    ", 8);
	memcpy(c->product, "MOTE VM     ", 12);
	for (int i = 0; i < n; i++, at += sizeof(struct mp_processor)) {
		struct mp_processor cpu = {.type = MP_PROCESSOR,
		                           .lapic_id = (uint8_t)i,
		                           .lapic_version = MP_LAPIC_VERSION,
		                           .flags = (uint8_t)(i ? 1 : 3),
		                           .signature = CPU_SIGNATURE,
		                           .features = CPU_FEATURES};

		memcpy(at, &cpu, sizeof(cpu));
	}
	memcpy(bus.name, "ISA   ", 6);
	memcpy(at, &bus, sizeof(bus));
	at += sizeof(bus);
	memcpy(at, &io, sizeof(io));
	put_interrupts(at + sizeof(io), (uint8_t)n);
	c->checksum = acpi_checksum(c, config_size(n));
}

uint64_t mptable_build(const struct guest_mem *m, int nr_cpus, struct err *e)
{
	uint64_t config = MPTABLE_BASE + sizeof(struct mp_floating);
	struct mp_floating f = {.config = (uint32_t)config, .length = 1, .spec_rev = MP_SPEC_REV};
	uint8_t *p;

	if (nr_cpus < 1 || nr_cpus > MPTABLE_MAX_CPUS) {
		err_set(e, "--cpus %d: mote's MP table describes 1 to %d vCPUs (xAPIC IDs)",
		        nr_cpus, MPTABLE_MAX_CPUS);
		return 0;
	}
	p = guest_ptr(m, MPTABLE_BASE, sizeof(f) + config_size(nr_cpus));
	if (!p) {
		err_set(e, "no guest RAM at 0x%llx for the MP table",
		        (unsigned long long)MPTABLE_BASE);
		return 0;
	}
	memcpy(f.signature, "_MP_", 4);
	f.checksum = acpi_checksum(&f, sizeof(f));
	memcpy(p, &f, sizeof(f));
	build_config(p + sizeof(f), nr_cpus);
	return MPTABLE_BASE;
}
