// SPDX-License-Identifier: MIT
#include "pagetable.h"

#include "layout.h"

#include <string.h>

#define PT_ENTRIES 512
#define PD_COUNT   (PT_IDENTITY_SIZE / GiB)

uint64_t pagetable_build(const struct guest_mem *m)
{
	uint64_t *pml4 = guest_ptr(m, BOOT_PML4_ADDR, PAGE_SIZE);
	uint64_t *pdpt = guest_ptr(m, BOOT_PDPT_ADDR, PAGE_SIZE);
	uint64_t *pd = guest_ptr(m, BOOT_PD_ADDR, PD_COUNT * PAGE_SIZE);

	if (!pml4 || !pdpt || !pd)
		return 0;
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = BOOT_PDPT_ADDR | PT_PRESENT | PT_WRITE;
	for (uint64_t i = 0; i < PD_COUNT; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | PT_PRESENT | PT_WRITE;
	for (uint64_t i = 0; i < PD_COUNT * PT_ENTRIES; i++)
		pd[i] = (i * 2 * MiB) | PT_PRESENT | PT_WRITE | PT_HUGE;
	return BOOT_PML4_ADDR;
}
