// SPDX-License-Identifier: MIT
#include "acpi.h"

#include <string.h>

#define OEM_ID       "MOTE  "
#define OEM_TABLE_ID "MOTEVM  "

/* Where each table goes, from ACPI_BASE. */
#define RSDP_OFF 0x0
#define XSDT_OFF 0x40
#define FADT_OFF 0x100
#define MADT_OFF 0x300
#define DSDT_OFF 0x1000

struct __attribute__((packed)) acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

struct __attribute__((packed)) rsdp {
	char signature[8];
	uint8_t checksum; /* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t extended_checksum;
	uint8_t reserved[3];
};

struct __attribute__((packed)) gas { /* Generic Address Structure */
	uint8_t space;               /* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 1: byte */
	uint64_t address;
};

struct __attribute__((packed)) fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t pm_profile;
	uint16_t sci_int;
	uint8_t legacy[109 - 48]; /* SMI_CMD to CENTURY: unused when hardware-reduced */
	uint16_t iapc_boot_arch;  /* 109 */
	uint8_t reserved1;
	uint32_t flags;       /* 112 */
	struct gas reset_reg; /* 116 */
	uint8_t reset_value;  /* 128 */
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;   /* 132 */
	uint64_t x_dsdt;            /* 140 */
	struct gas x_legacy[8];     /* 148: X_PM1a_EVT_BLK to X_GPE1_BLK */
	struct gas sleep_control;   /* 244 */
	struct gas sleep_status;    /* 256 */
	uint64_t hypervisor_vendor; /* 268 */
};

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header layout");
_Static_assert(sizeof(struct rsdp) == 36, "RSDP layout");
_Static_assert(sizeof(struct gas) == 12, "GAS layout");
_Static_assert(offsetof(struct fadt, iapc_boot_arch) == 109, "FADT layout");
_Static_assert(offsetof(struct fadt, reset_reg) == 116, "FADT layout");
_Static_assert(offsetof(struct fadt, x_dsdt) == 140, "FADT layout");
_Static_assert(offsetof(struct fadt, sleep_control) == 244, "FADT layout");
_Static_assert(sizeof(struct fadt) == 276, "FADT layout");

#define FADT_RESET_REG_SUP    (1U << 10)
#define FADT_HW_REDUCED_ACPI  (1U << 20)
#define BOOT_ARCH_8042        (1U << 1)
#define BOOT_ARCH_NO_VGA      (1U << 2)
#define BOOT_ARCH_NO_CMOS_RTC (1U << 5)

struct __attribute__((packed)) madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags; /* 1: the 8259 PICs are there too */
};

struct __attribute__((packed)) madt_lapic {
	uint8_t type, length; /* 0, 8 */
	uint8_t uid, apic_id;
	uint32_t flags; /* 1: enabled */
};

struct __attribute__((packed)) madt_ioapic {
	uint8_t type, length; /* 1, 12 */
	uint8_t id, reserved;
	uint32_t address;
	uint32_t gsi_base;
};

struct __attribute__((packed)) madt_override {
	uint8_t type, length; /* 2, 10 */
	uint8_t bus, source;
	uint32_t gsi;
	uint16_t flags;
};

struct __attribute__((packed)) madt_nmi {
	uint8_t type, length; /* 4, 6 */
	uint8_t uid;          /* 0xff: every processor */
	uint16_t flags;
	uint8_t lint;
};

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)(0 - sum);
}

static void header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "MOTE", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = acpi_checksum(h, len);
}

static struct gas port(uint16_t addr)
{
	return (struct gas){.space = 1, .bit_width = 8, .access_size = 1, .address = addr};
}

static void build_fadt(struct fadt *f, uint64_t dsdt)
{
	*f = (struct fadt){0};
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->iapc_boot_arch = BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC;
	f->flags = FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP;
	f->reset_reg = port(ACPI_RESET_PORT);
	f->reset_value = ACPI_RESET_VALUE;
	f->minor_version = 5;
	f->sleep_control = port(ACPI_SLEEP_CONTROL_PORT);
	f->sleep_status = port(ACPI_SLEEP_STATUS_PORT);
	memcpy(&f->hypervisor_vendor, "MOTE", 4);
	header(&f->h, "FACP", sizeof(*f), 6);
}

/* The MADT's size for @n vCPUs. */
static size_t madt_size(int n)
{
	return sizeof(struct madt) + (size_t)n * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + sizeof(struct madt_override) + sizeof(struct madt_nmi);
}

static void build_madt(uint8_t *p, int n)
{
	struct madt *m = (struct madt *)(void *)p;
	uint8_t *at = p + sizeof(*m);

	*m = (struct madt){.lapic_addr = LAPIC_ADDR, .flags = 1};
	for (int i = 0; i < n; i++, at += sizeof(struct madt_lapic))
		*(struct madt_lapic *)(void *)at = (struct madt_lapic){
		    .type = 0, .length = 8, .uid = (uint8_t)i, .apic_id = (uint8_t)i, .flags = 1};
	/* The IOAPIC's ID follows the vCPUs'; it serves GSI 0-23. */
	*(struct madt_ioapic *)(void *)at =
	    (struct madt_ioapic){.type = 1, .length = 12, .id = (uint8_t)n, .address = IOAPIC_ADDR};
	at += sizeof(struct madt_ioapic);
	/* ISA IRQ 0, the PIT, comes in on GSI 2. */
	*(struct madt_override *)(void *)at =
	    (struct madt_override){.type = 2, .length = 10, .source = 0, .gsi = 2};
	at += sizeof(struct madt_override);
	*(struct madt_nmi *)(void *)at =
	    (struct madt_nmi){.type = 4, .length = 6, .uid = 0xff, .lint = 1};
	header(&m->h, "APIC", (uint32_t)madt_size(n), 5);
}

/* The DSDT: the devices in \_SB, and \_S5 for poweroff. */
static long build_dsdt(uint8_t *p, size_t cap, acpi_devices_fn *devices, void *opaque)
{
	static const uint64_t s5[] = {ACPI_S5_TYPE, 0};
	struct aml a;
	long len;

	if (cap < sizeof(struct acpi_header))
		return -1;
	aml_init(&a, p + sizeof(struct acpi_header), cap - sizeof(struct acpi_header));
	aml_scope(&a, "\\_SB_");
	if (devices)
		devices(opaque, &a);
	aml_close(&a);
	aml_name_package(&a, "\\_S5_", s5, 2);
	len = aml_finish(&a);
	if (len < 0)
		return -1;
	header((struct acpi_header *)(void *)p, "DSDT",
	       (uint32_t)(sizeof(struct acpi_header) + (size_t)len), 2);
	return (long)sizeof(struct acpi_header) + len;
}

static void build_xsdt(uint8_t *p, uint64_t fadt, uint64_t madt)
{
	struct acpi_header *h = (struct acpi_header *)(void *)p;
	uint64_t entries[2] = {fadt, madt};

	memcpy(p + sizeof(*h), entries, sizeof(entries));
	header(h, "XSDT", sizeof(*h) + sizeof(entries), 1);
}

static void build_rsdp(struct rsdp *r, uint64_t xsdt)
{
	*r = (struct rsdp){.revision = 2, .length = sizeof(*r), .xsdt = xsdt};
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, OEM_ID, 6);
	r->checksum = acpi_checksum(r, 20);
	r->extended_checksum = acpi_checksum(r, sizeof(*r));
}

uint64_t acpi_build(const struct guest_mem *m, int nr_cpus, acpi_devices_fn *devices, void *opaque,
                    struct err *e)
{
	uint8_t *base = guest_ptr(m, ACPI_BASE, ACPI_SIZE);

	if (nr_cpus < 1 || nr_cpus > ACPI_MAX_CPUS) {
		err_set(e, "--cpus %d: mote's ACPI tables describe 1 to %d vCPUs", nr_cpus,
		        ACPI_MAX_CPUS);
		return 0;
	}
	if (!base) {
		err_set(e, "no guest RAM at 0x%llx for the ACPI tables",
		        (unsigned long long)ACPI_BASE);
		return 0;
	}
	/* Guest RAM is fresh (zero): only the pages the tables use are touched. */
	if (build_dsdt(base + DSDT_OFF, ACPI_SIZE - DSDT_OFF, devices, opaque) < 0) {
		err_set(e, "the DSDT's AML does not fit or a device's AML is malformed");
		return 0;
	}
	_Static_assert(MADT_OFF + sizeof(struct madt) + ACPI_MAX_CPUS * sizeof(struct madt_lapic) +
	                       sizeof(struct madt_ioapic) + sizeof(struct madt_override) +
	                       sizeof(struct madt_nmi) <=
	                   DSDT_OFF,
	               "the MADT fits below the DSDT");
	build_fadt((struct fadt *)(void *)(base + FADT_OFF), ACPI_BASE + DSDT_OFF);
	build_madt(base + MADT_OFF, nr_cpus);
	build_xsdt(base + XSDT_OFF, ACPI_BASE + FADT_OFF, ACPI_BASE + MADT_OFF);
	build_rsdp((struct rsdp *)(void *)(base + RSDP_OFF), ACPI_BASE + XSDT_OFF);
	return ACPI_BASE + RSDP_OFF;
}
