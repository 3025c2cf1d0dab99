// SPDX-License-Identifier: MIT
#include "boot.h"

#include "../x86/cpu.h"
#include "../x86/e820.h"
#include "../x86/layout.h"
#include "../x86/pagetable.h"
#include "../x86/reset.h"
#include "bzimage.h"
#include "elf.h"
#include "pvh.h"
#include "unpack.h"

#include <stdio.h>

#include <string.h>

int boot_place_initrd(uint64_t size, uint64_t kernel_end, uint64_t ram_top, uint64_t max_addr,
                      const char *name, uint64_t *addr, struct err *e)
{
	uint64_t top = ram_top;
	uint64_t lo, room = 0;

	if (max_addr < UINT64_MAX && max_addr + 1 < top)
		top = max_addr + 1;
	/* The first page boundary at or above the kernel's end; there is none
	 * past the last page of the address space. */
	bool none = kernel_end > UINT64_MAX - (PAGE_SIZE - 1);

	lo = none ? UINT64_MAX : (kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (!none && lo <= top)
		room = top - lo; /* the start rounds down to a page, staying at or above lo */
	if (none || lo > top || size > room)
		return err_set(e,
		               "initrd '%s' (%llu MiB) does not fit in guest memory: %llu MiB "
		               "free between the kernel and 0x%llx; give the VM more --memory",
		               name, (unsigned long long)((size + MiB - 1) / MiB),
		               (unsigned long long)(room / MiB), (unsigned long long)top);
	*addr = (top - size) & ~(PAGE_SIZE - 1);
	return 0;
}

static int write_cmdline(const struct guest_mem *m, const char *cmdline, size_t added, uint64_t max,
                         struct err *e)
{
	size_t len = strlen(cmdline);
	char *dst;

	if (len + 1 > max && added)
		return err_set(
		    e,
		    "command line is too long: %zu bytes and %zu of mote's device words, "
		    "the kernel takes at most %llu",
		    len - added, added, (unsigned long long)(max - 1));
	if (len + 1 > max)
		return err_set(e,
		               "command line is too long: %zu bytes, the kernel takes at most "
		               "%llu",
		               len, (unsigned long long)(max - 1));
	dst = guest_ptr(m, BOOT_CMDLINE_ADDR, len + 1);
	if (!dst)
		return err_set(e, "no guest memory for the command line");
	memcpy(dst, cmdline, len + 1);
	return 0;
}

static int load_elf(const struct guest_mem *m, const struct image_file *k, struct boot_result *r,
                    struct err *e)
{
	struct elf_image img;

	if (elf_parse(k->data, k->size, k->path, &img, e) < 0 ||
	    elf_check_fit(&img, BOOT_HIGH_START, mem_low_end(m), k->path, e) < 0)
		return -1;
	r->kind = BOOT_PVH;
	r->entry = img.pvh_entry;
	for (int i = 0; i < img.nr_segments; i++) {
		const struct elf_segment *s = &img.segments[i];

		/* The bss past p_filesz is fresh guest RAM: zero already. */
		if (image_place(m, k, s->offset, s->filesz, s->paddr, &r->kernel_stats, e) < 0)
			return -1;
		if (s->paddr + s->memsz > r->kernel_end)
			r->kernel_end = s->paddr + s->memsz;
	}
	return 0;
}

static int load_bzimage(const struct guest_mem *m, const struct image_file *k, struct bzimage *bz,
                        struct boot_result *r, struct err *e)
{
	if (bz->load_addr < BOOT_HIGH_START || bz->mem_size > mem_low_end(m) ||
	    bz->load_addr > mem_low_end(m) - bz->mem_size)
		return err_set(e,
		               "kernel '%s' needs [0x%llx, 0x%llx), more than the guest's %llu "
		               "MiB below 3 GiB; give the VM more --memory",
		               k->path, (unsigned long long)bz->load_addr,
		               (unsigned long long)(bz->load_addr + bz->mem_size),
		               (unsigned long long)(mem_low_end(m) / MiB));
	r->kind = BOOT_BZIMAGE;
	r->entry = bz->load_addr + BZ_ENTRY64_OFFSET;
	r->kernel_end = bz->load_addr + bz->mem_size;
	if (image_place(m, k, bz->kernel_offset, bz->kernel_size, bz->load_addr, &r->kernel_stats,
	                e) < 0)
		return -1;
	/* The decompressor writes all of its run area within a moment: 2 MiB
	 * pages there cost no memory and save thousands of faults. */
	mem_want_huge(m, bz->run_addr, bz->run_size);
	return 0;
}

/* Declines to boot the bzImage through its unpacked kernel: 0, with why. */
static int decline(struct boot_result *r, const char *why)
{
	r->unpack = UNPACK_DECLINED;
	snprintf(r->unpack_note, sizeof(r->unpack_note), "%s", why);
	return 0;
}

/* Boots the ELF kernel inside the bzImage @k through its PVH entry, from
 * the copy in @dir (made now if missing; "" for no cache folder): 1 if it
 * does, 0 if the bzImage is to boot as it is (r->unpack_note says why), -1
 * if its payload does not decompress as it says (the guest's decompressor
 * would fail on it too). */
static int load_unpacked(const struct guest_mem *m, const char *dir, const struct image_file *k,
                         const struct bzimage *bz, struct boot_result *r, struct err *e)
{
	struct unpack_payload p;
	struct image_file u;
	struct err why;
	int made, found;

	if (!*dir)
		return decline(r, "no cache folder for its unpacked copy (set MOTE_CACHE, "
		                  "XDG_CACHE_HOME or HOME)");
	found = unpack_find(k->data, k->size, bz, k->path, &p, &why);
	if (found <= 0)
		return decline(r, found < 0 ? why.msg
		                            : "its payload is compressed in a format mote does not "
		                              "decompress");
	if (unpack_cache_path(k, &p, dir, r->unpack_path, sizeof(r->unpack_path)) < 0)
		return decline(r, "the cache's path for it is too long");
	made = unpack_to_cache(k, &p, r->unpack_path, &why);
	if (made == UNPACK_BROKEN)
		return err_set(e, "%s", why.msg);
	if (made < 0)
		return decline(r, why.msg);
	if (image_open(&u, r->unpack_path, "kernel", &why) < 0)
		return decline(r, why.msg);
	u.path = k->path; /* errors name the user's file */
	made = load_elf(m, &u, r, e) < 0 ? -1 : made;
	image_close(&u);
	if (made < 0)
		return -1;
	r->unpack = made ? UNPACK_MADE : UNPACK_CACHED;
	return 1;
}

static int load_kernel(const struct guest_mem *m, const char *unpack_dir,
                       const struct image_file *k, struct bzimage *bz, struct boot_result *r,
                       struct err *e)
{
	int ret;

	if (elf_is_elf(k->data, k->size))
		return load_elf(m, k, r, e);
	if (bzimage_is_bzimage(k->data, k->size)) {
		if (bzimage_parse(k->data, k->size, k->path, bz, e) < 0)
			return -1;
		ret = unpack_dir ? load_unpacked(m, unpack_dir, k, bz, r, e) : 0;
		return ret ? (ret < 0 ? -1 : 0) : load_bzimage(m, k, bz, r, e);
	}
	return err_set(e,
	               "kernel '%s' is neither an ELF vmlinux nor a bzImage (no ELF magic, "
	               "no \"HdrS\" at 0x202)",
	               k->path);
}

static int load_initrd(const struct guest_mem *m, const char *path, uint64_t max_addr,
                       struct boot_result *r, struct err *e)
{
	struct image_file f;
	int ret;

	if (image_open(&f, path, "initrd", e) < 0)
		return -1;
	ret = boot_place_initrd(f.size, r->kernel_end, mem_low_end(m), max_addr, path,
	                        &r->initrd_addr, e);
	if (!ret)
		ret = image_place(m, &f, 0, f.size, r->initrd_addr, &r->initrd_stats, e);
	r->initrd_size = f.size;
	image_close(&f);
	return ret;
}

static int write_boot_info(const struct guest_mem *m, const struct boot_config *c,
                           const struct image_file *k, const struct bzimage *bz,
                           struct boot_result *r, struct err *e)
{
	struct e820_entry map[E820_MAX];
	int n = e820_build_acpi(m, c->acpi_base, c->rsdp ? c->acpi_size : 0, map);
	struct boot_params *bp;

	if (reset_vector_write(m) < 0)
		return err_set(e, "no guest memory for the reset vector");
	if (r->kind == BOOT_PVH) {
		r->info_addr = pvh_build_start_info(m, BOOT_CMDLINE_ADDR, r->initrd_addr,
		                                    r->initrd_size, map, n);
		if (!r->info_addr)
			return err_set(e, "no guest memory for hvm_start_info");
		pvh_set_rsdp(m, r->info_addr, c->rsdp);
		return 0;
	}
	bp = guest_ptr(m, BOOT_INFO_ADDR, sizeof(*bp));
	r->cr3 = pagetable_build(m);
	if (!bp || !r->cr3)
		return err_set(e, "no guest memory for boot_params and page tables");
	bzimage_boot_params(bp, k->data, bz, BOOT_CMDLINE_ADDR, r->initrd_addr, r->initrd_size, map,
	                    n);
	bp->acpi_rsdp_addr = c->rsdp;
	r->info_addr = BOOT_INFO_ADDR;
	return 0;
}

int boot_load(const struct guest_mem *m, const struct boot_config *c, struct boot_result *r,
              struct err *e)
{
	struct image_file k;
	struct bzimage bz;
	uint64_t cmdline_max, initrd_max;
	int ret;

	memset(r, 0, sizeof(*r));
	memset(&bz, 0, sizeof(bz));
	if (image_open(&k, c->kernel, "kernel", e) < 0)
		return -1;
	ret = load_kernel(m, c->unpack_dir, &k, &bz, r, e);
	cmdline_max =
	    r->kind == BOOT_BZIMAGE ? (uint64_t)bz.hdr.cmdline_size + 1 : PVH_CMDLINE_SIZE;
	if (cmdline_max > BOOT_CMDLINE_MAX)
		cmdline_max = BOOT_CMDLINE_MAX;
	initrd_max = r->kind == BOOT_BZIMAGE ? bz.hdr.initrd_addr_max : MEM_HOLE_START - 1;
	if (!ret)
		ret = write_cmdline(m, c->cmdline ? c->cmdline : "", c->cmdline_added, cmdline_max,
		                    e);
	if (!ret && c->initrd)
		ret = load_initrd(m, c->initrd, initrd_max, r, e);
	if (!ret)
		ret = write_boot_info(m, c, &k, &bz, r, e);
	image_close(&k);
	return ret;
}

void boot_enter(int vcpu_fd, const struct guest_mem *m, const struct boot_result *r)
{
	int ret;

	if (r->kind == BOOT_PVH)
		ret = cpu_enter_flat32(vcpu_fd, m, (uint32_t)r->entry, (uint32_t)r->info_addr);
	else
		ret = cpu_enter_long64(vcpu_fd, m, r->cr3, r->entry, r->info_addr);
	if (ret < 0)
		die("cannot set the boot vCPU's registers: %s", strerror(-ret));
}

uint64_t boot_find_init_exec(const char *kernel)
{
	struct image_file k;
	struct err e;
	uint64_t addr = 0;

	if (image_open(&k, kernel, "kernel", &e) < 0)
		return 0;
	elf_find_function(k.data, k.size, "run_init_process", &addr);
	image_close(&k);
	return addr;
}
