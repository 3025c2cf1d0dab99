// SPDX-License-Identifier: MIT
/* ACPI tables and the AML emitter: encodings, checksums, what the MADT and
 * DSDT say, and acpica's own disassembler (iasl -d) reading every table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "device.h"
#include "vm.h"
#include "x86/acpi.h"
#include "x86/aml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct guest_mem mem;

static int setup(void **state)
{
	struct err e;

	(void)state;
	if (mem_layout(&mem, 32 * MiB, &e) < 0)
		return -1;
	return mem_map(&mem, &e);
}

static int teardown(void **state)
{
	(void)state;
	mem_unmap(&mem);
	return 0;
}

static const uint8_t *at(uint64_t gpa)
{
	const uint8_t *p = guest_ptr(&mem, gpa, 36);

	assert_non_null(p);
	return p;
}

static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const uint8_t *p)
{
	return u32(p) | (uint64_t)u32(p + 4) << 32;
}

/* A table's bytes sum to zero. */
static void assert_sums_to_zero(const uint8_t *p, size_t len)
{
	assert_int_equal(acpi_checksum(p, len), 0);
}

/* The devices of a VM with a balloon, as mote's device table writes them. */
static void vm_devices(void *opaque, struct aml *a)
{
	struct vm *vm = opaque;

	devices_aml(vm, a);
}

static uint64_t build(int cpus)
{
	static struct vm vm;
	static struct vm_devices devs = {.balloon = {.on = true, .free_page_reporting = true}};
	struct err e;
	uint64_t rsdp;

	memset(&vm, 0, sizeof(vm));
	vm.devs = &devs;
	rsdp = acpi_build(&mem, cpus, vm_devices, &vm, &e);
	assert_int_equal(rsdp, ACPI_BASE);
	return rsdp;
}

/* The table the XSDT lists at index @i. */
static const uint8_t *xsdt_entry(uint64_t rsdp, int i)
{
	const uint8_t *x = at(u64(at(rsdp) + 24));

	return at(u64(x + 36 + 8 * i));
}

static void test_every_checksum_holds(void **state)
{
	uint64_t rsdp = build(4);
	const uint8_t *r = at(rsdp), *xsdt = at(u64(r + 24));
	const uint8_t *fadt = xsdt_entry(rsdp, 0), *madt = xsdt_entry(rsdp, 1);
	const uint8_t *dsdt = at(u64(fadt + 140));

	(void)state;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2); /* ACPI 2.0+: the XSDT is used */
	assert_sums_to_zero(r, 20);
	assert_sums_to_zero(r, 36);
	assert_memory_equal(xsdt, "XSDT", 4);
	assert_sums_to_zero(xsdt, u32(xsdt + 4));
	assert_memory_equal(fadt, "FACP", 4);
	assert_sums_to_zero(fadt, u32(fadt + 4));
	assert_memory_equal(madt, "APIC", 4);
	assert_sums_to_zero(madt, u32(madt + 4));
	assert_memory_equal(dsdt, "DSDT", 4);
	assert_sums_to_zero(dsdt, u32(dsdt + 4));
}

static void test_fadt_is_hardware_reduced_with_sleep_and_reset(void **state)
{
	const uint8_t *fadt = xsdt_entry(build(1), 0);

	(void)state;
	assert_int_equal(u32(fadt + 4), 276);
	assert_true(u32(fadt + 112) & (1U << 20)); /* HW_REDUCED_ACPI */
	assert_true(u32(fadt + 112) & (1U << 10)); /* RESET_REG_SUP */
	assert_int_equal(fadt[116], 1);            /* reset register in I/O space */
	assert_int_equal(u64(fadt + 120), ACPI_RESET_PORT);
	assert_int_equal(fadt[128], ACPI_RESET_VALUE);
	assert_int_equal(fadt[244], 1);
	assert_int_equal(u64(fadt + 248), ACPI_SLEEP_CONTROL_PORT);
	assert_int_equal(u64(fadt + 260), ACPI_SLEEP_STATUS_PORT);
}

/* The MADT's entries of @type. */
static int madt_count(const uint8_t *madt, uint8_t type)
{
	int n = 0;

	for (size_t off = 44; off + 2 <= u32(madt + 4); off += madt[off + 1]) {
		assert_true(madt[off + 1] >= 2);
		n += madt[off] == type;
	}
	return n;
}

static void test_madt_has_one_lapic_per_vcpu(void **state)
{
	static const int counts[] = {1, 2, 4, 8, ACPI_MAX_CPUS};

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const uint8_t *madt = xsdt_entry(build(counts[i]), 1);

		assert_int_equal(madt_count(madt, 0), counts[i]); /* local APICs */
		assert_int_equal(madt_count(madt, 1), 1);         /* the IOAPIC */
		assert_int_equal(madt_count(madt, 2), 1);         /* IRQ 0 -> GSI 2 */
		assert_int_equal(u32(madt + 36), LAPIC_ADDR);
	}
}

static void test_vcpu_counts_out_of_range_are_refused(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(acpi_build(&mem, 0, NULL, NULL, &e), 0);
	assert_int_equal(acpi_build(&mem, ACPI_MAX_CPUS + 1, NULL, NULL, &e), 0);
	assert_non_null(strstr(e.msg, "--cpus 255: mote's ACPI tables describe 1 to 254 vCPUs"));
}

static bool has(const uint8_t *p, size_t len, const void *what, size_t n)
{
	return memmem(p, len, what, n) != NULL;
}

static void test_dsdt_describes_serial_balloon_and_s5(void **state)
{
	const uint8_t *fadt = xsdt_entry(build(2), 0);
	const uint8_t *dsdt = at(u64(fadt + 140));
	size_t len = u32(dsdt + 4);
	static const uint8_t pnp0501[] = {0x0c, 0x41, 0xd0, 0x05, 0x01};
	static const uint8_t mmio[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0};

	(void)state;
	assert_true(has(dsdt, len, "COM1", 4));
	assert_true(has(dsdt, len, pnp0501, sizeof(pnp0501))); /* EisaId("PNP0501") */
	assert_true(has(dsdt, len, "VR00", 4));
	assert_true(has(dsdt, len, "LNRO0005", 9));
	assert_true(has(dsdt, len, mmio, sizeof(mmio))); /* Memory32Fixed at 0xd0000000 */
	assert_true(has(dsdt, len, "_S5_", 4));
}

static void test_aml_encodings(void **state)
{
	uint8_t buf[256];
	struct aml a;

	(void)state;
	assert_int_equal(aml_eisaid("PNP0501"), 0x0105d041);
	assert_int_equal(aml_eisaid("PNP05"), 0);
	assert_int_equal(aml_eisaid("pnp0501"), 0);
	aml_init(&a, buf, sizeof(buf));
	aml_name_int(&a, "A", 0);
	aml_name_int(&a, "B", 0x1234);
	aml_name_int(&a, "C", 0x123456789ULL);
	assert_int_equal(aml_finish(&a), 6 + 8 + 14);
	assert_memory_equal(buf,
	                    "\x08"
	                    "A___\x00",
	                    6);
	assert_memory_equal(buf + 6,
	                    "\x08"
	                    "B___\x0b\x34\x12",
	                    8);
	assert_int_equal(buf[6 + 8 + 5], 0x0e); /* QWordPrefix */
}

static void test_aml_package_lengths(void **state)
{
	uint8_t buf[8192];
	struct aml a;

	(void)state;
	/* A device of 4 bytes of name: PkgLength 1 byte, 5 in all. */
	aml_init(&a, buf, sizeof(buf));
	aml_device(&a, "DEV0");
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 2 + 1 + 4);
	assert_int_equal(buf[2], 5);
	/* 100 bytes of contents need two bytes of PkgLength: 0x4_, then the rest. */
	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "\\_SB_");
	for (int i = 0; i < 10; i++)
		aml_name_int(&a, "X", 0x12); /* 7 bytes each */
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 1 + 2 + 5 + 70);
	assert_int_equal(buf[1], 0x40 | ((77) & 0xf));
	assert_int_equal(buf[2], 77 >> 4);
}

static void test_aml_errors_stick(void **state)
{
	uint8_t buf[16];
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_device(&a, "dev"); /* lower case: not a name */
	aml_close(&a);
	assert_int_equal(aml_finish(&a), -1);
	aml_init(&a, buf, sizeof(buf));
	aml_close(&a); /* nothing open */
	assert_int_equal(aml_finish(&a), -1);
	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "_SB_"); /* never closed */
	assert_int_equal(aml_finish(&a), -1);
	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "_HID", "A STRING TOO LONG FOR SIXTEEN BYTES");
	assert_int_equal(aml_finish(&a), -1);
}

/* Writes @len bytes at @p to DIR/NAME.dat. */
static void dump(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* acpica's disassembler reads every table without an error or warning (the
 * RSDP has no table header for it to read: its checksums are tested above). */
static void test_iasl_disassembles_every_table(void **state)
{
	char dir[] = "/tmp/mote-acpi-XXXXXX", cmd[1024];
	uint64_t rsdp = build(8);
	const uint8_t *fadt = xsdt_entry(rsdp, 0), *madt = xsdt_entry(rsdp, 1);
	const uint8_t *xsdt = at(u64(at(rsdp) + 24)), *dsdt = at(u64(fadt + 140));

	(void)state;
	assert_non_null(mkdtemp(dir));
	dump(dir, "xsdt", xsdt, u32(xsdt + 4));
	dump(dir, "facp", fadt, u32(fadt + 4));
	dump(dir, "apic", madt, u32(madt + 4));
	dump(dir, "dsdt", dsdt, u32(dsdt + 4));
	snprintf(cmd, sizeof(cmd),
	         "cd %s && for t in xsdt facp apic dsdt; do iasl -d $t.dat >$t.log 2>&1 || "
	         "{ echo \"iasl -d $t.dat failed\"; cat $t.log; exit 1; }; "
	         "if grep -qiE '(error|warning)[^s]' $t.log; then cat $t.log; exit 1; fi; done; "
	         "grep -q 'PNP0501' dsdt.dsl && grep -q 'LNRO0005' dsdt.dsl && "
	         "grep -q 'Hardware Reduced (V5) : 1' facp.dsl && "
	         "test \"$(grep -c 'Processor Local APIC' apic.dsl)\" -eq 8",
	         dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_every_checksum_holds),
	    T(test_fadt_is_hardware_reduced_with_sleep_and_reset),
	    T(test_madt_has_one_lapic_per_vcpu),
	    T(test_vcpu_counts_out_of_range_are_refused),
	    T(test_dsdt_describes_serial_balloon_and_s5),
	    cmocka_unit_test(test_aml_encodings),
	    cmocka_unit_test(test_aml_package_lengths),
	    cmocka_unit_test(test_aml_errors_stick),
	    T(test_iasl_disassembles_every_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
