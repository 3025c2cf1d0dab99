/* SPDX-License-Identifier: MIT */
/* Identity-mapped page tables for entering the kernel in long mode. */
#ifndef MOTE_X86_PAGETABLE_H
#define MOTE_X86_PAGETABLE_H

#include "../mem.h"

#define PT_PRESENT       (1ULL << 0)
#define PT_WRITE         (1ULL << 1)
#define PT_HUGE          (1ULL << 7)
#define PT_IDENTITY_SIZE (4 * GiB)

/* Writes PML4, PDPT and page directories at their boot addresses that map
 * the first 4 GiB 1:1 with 2 MiB pages; returns the PML4 address (CR3),
 * or 0 if they do not fit in guest memory. */
uint64_t pagetable_build(const struct guest_mem *m);

#endif
