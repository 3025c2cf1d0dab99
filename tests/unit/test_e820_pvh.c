// SPDX-License-Identifier: MIT
/* e820_build and pvh_build_start_info on mapped guest memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/pvh.h"
#include "x86/e820.h"
#include "x86/layout.h"

#include <string.h>

#define CMDLINE_ADDR 0x20000ULL

static struct guest_mem mem;

static void map_layout(uint64_t size)
{
	struct err e;

	assert_int_equal(mem_layout(&mem, size, &e), 0);
	if (mem_map(&mem, &e) < 0)
		fail_msg("%s", e.msg);
}

static int teardown(void **state)
{
	(void)state;
	mem_unmap(&mem);
	return 0;
}

static void assert_entry(const struct e820_entry *en, uint64_t addr, uint64_t size, uint32_t type)
{
	if (en->addr != addr || en->size != size || en->type != type)
		fail_msg("e820 entry [0x%llx +0x%llx type %u], want [0x%llx +0x%llx type %u]",
		         (unsigned long long)en->addr, (unsigned long long)en->size, en->type,
		         (unsigned long long)addr, (unsigned long long)size, type);
}

static void test_e820_128m(void **state)
{
	struct e820_entry map[E820_MAX];

	(void)state;
	map_layout(128 * MiB);
	assert_int_equal(e820_build(&mem, map), 3);
	assert_entry(&map[0], 0, 0x9fc00, E820_RAM);
	assert_entry(&map[1], 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
	assert_entry(&map[2], 0x100000, 127 * MiB, E820_RAM);
}

static void test_e820_5g(void **state)
{
	struct e820_entry map[E820_MAX];

	(void)state;
	map_layout(5 * GiB);
	assert_int_equal(e820_build(&mem, map), 4);
	assert_entry(&map[0], 0, 0x9fc00, E820_RAM);
	assert_entry(&map[1], 0x9fc00, 0x60400, E820_RESERVED);
	assert_entry(&map[2], 0x100000, 3 * GiB - MiB, E820_RAM);
	assert_entry(&map[3], 4 * GiB, 2 * GiB, E820_RAM);
}

static void test_e820_covers_ram(void **state)
{
	struct e820_entry map[E820_MAX];
	uint64_t ram = 0, end = 0;
	int n;

	(void)state;
	map_layout(3 * GiB + 64 * MiB);
	n = e820_build(&mem, map);
	/* Sorted, non-overlapping, and the RAM entries add up to all of RAM. */
	for (int i = 0; i < n; i++) {
		assert_true(map[i].addr >= end);
		assert_true(map[i].size > 0);
		end = map[i].addr + map[i].size;
		if (map[i].type == E820_RAM)
			ram += map[i].size;
	}
	assert_int_equal(ram, mem.size - (0x100000 - 0x9fc00));
	assert_int_equal(end, 4 * GiB + 64 * MiB);
}

static const struct hvm_start_info *start_info(void)
{
	const struct hvm_start_info *si = guest_ptr(&mem, BOOT_INFO_ADDR, sizeof(*si));

	assert_non_null(si);
	return si;
}

static int build(uint64_t initrd_addr, uint64_t initrd_size, struct e820_entry *map)
{
	int n = e820_build(&mem, map);

	assert_int_equal(pvh_build_start_info(&mem, CMDLINE_ADDR, initrd_addr, initrd_size, map, n),
	                 BOOT_INFO_ADDR);
	return n;
}

static void test_pvh_header(void **state)
{
	struct e820_entry map[E820_MAX];
	const struct hvm_start_info *si;

	(void)state;
	map_layout(128 * MiB);
	build(0, 0, map);
	si = start_info();
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->flags, 0);
	assert_int_equal(si->cmdline_paddr, CMDLINE_ADDR);
	assert_int_equal(si->rsdp_paddr, 0);
	assert_int_equal(si->reserved, 0);
}

static void test_pvh_no_initrd(void **state)
{
	struct e820_entry map[E820_MAX];
	const struct hvm_start_info *si;

	(void)state;
	map_layout(128 * MiB);
	/* Rebuilt without an initrd, the module from the first build is gone. */
	build(0x7000000, 0x1000, map);
	build(0x7000000, 0, map);
	si = start_info();
	assert_int_equal(si->nr_modules, 0);
	assert_int_equal(si->modlist_paddr, 0);
}

static void test_pvh_initrd_module(void **state)
{
	struct e820_entry map[E820_MAX];
	const struct hvm_start_info *si;
	const struct hvm_modlist_entry *mod;

	(void)state;
	map_layout(128 * MiB);
	build(0x7e00000, 0x123456, map);
	si = start_info();
	assert_int_equal(si->nr_modules, 1);
	assert_int_equal(si->modlist_paddr, BOOT_MODLIST_ADDR);
	mod = guest_ptr(&mem, si->modlist_paddr, sizeof(*mod));
	assert_non_null(mod);
	assert_int_equal(mod->paddr, 0x7e00000);
	assert_int_equal(mod->size, 0x123456);
	assert_int_equal(mod->cmdline_paddr, 0);
	assert_int_equal(mod->reserved, 0);
}

static void assert_memmap_matches(const struct e820_entry *map, int n)
{
	const struct hvm_start_info *si = start_info();
	const struct hvm_memmap_table_entry *mm;

	assert_int_equal(si->memmap_entries, n);
	assert_int_equal(si->memmap_paddr, BOOT_MEMMAP_ADDR);
	mm = guest_ptr(&mem, si->memmap_paddr, sizeof(*mm) * (uint64_t)n);
	assert_non_null(mm);
	for (int i = 0; i < n; i++) {
		assert_int_equal(mm[i].addr, map[i].addr);
		assert_int_equal(mm[i].size, map[i].size);
		assert_int_equal(mm[i].type, map[i].type);
		assert_int_equal(mm[i].reserved, 0);
	}
}

static void test_pvh_memmap_128m(void **state)
{
	struct e820_entry map[E820_MAX];
	int n;

	(void)state;
	map_layout(128 * MiB);
	n = build(0, 0, map);
	assert_int_equal(n, 3);
	assert_memmap_matches(map, n);
}

static void test_pvh_memmap_5g(void **state)
{
	struct e820_entry map[E820_MAX];
	int n;

	(void)state;
	map_layout(5 * GiB);
	n = build(0xbf000000, 0x1000000, map);
	assert_int_equal(n, 4);
	assert_memmap_matches(map, n);
	assert_int_equal(start_info()->nr_modules, 1);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_e820_128m),       T(test_e820_5g),       T(test_e820_covers_ram),
	    T(test_pvh_header),      T(test_pvh_no_initrd), T(test_pvh_initrd_module),
	    T(test_pvh_memmap_128m), T(test_pvh_memmap_5g),
	};

	return cmocka_run_group_tests_name("e820_pvh", tests, NULL, NULL);
}
