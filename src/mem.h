/* SPDX-License-Identifier: MIT */
/* Guest RAM: layout around the 32-bit MMIO hole and the one checked gpa->host translation. */
#ifndef MOTE_MEM_H
#define MOTE_MEM_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* RAM above this address moves above 4 GiB: [3 GiB, 4 GiB) is MMIO. */
#define MEM_HOLE_START (3 * GiB)
#define MEM_HOLE_END   (4 * GiB)
#define MEM_MIN_SIZE   (16 * MiB)
#define MEM_MAX_SIZE   (1ULL << 46)
#define PAGE_SIZE      4096ULL

struct mem_slot {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	uint64_t size; /* RAM bytes in all slots */
	uint8_t *host; /* one host mapping of @size bytes; slots are in it */
	bool thp;      /* ask for transparent huge pages (madvise) */
	int nr_slots;
	struct mem_slot slots[2];
};

/* Computes the slots for @size bytes of RAM without mapping anything. */
int mem_layout(struct guest_mem *m, uint64_t size, struct err *e);

/* Maps host memory for a laid-out @m (anonymous, MAP_NORESERVE; with
 * MADV_HUGEPAGE if @m->thp). */
int mem_map(struct guest_mem *m, struct err *e);

/* Unmaps what mem_map mapped. */
void mem_unmap(struct guest_mem *m);

/* Returns the host address of [gpa, gpa+len) if it lies wholly inside one
 * RAM slot, else NULL. The one way to reach guest memory. */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Returns the end of RAM below the hole (exclusive). */
uint64_t mem_low_end(const struct guest_mem *m);

/* Parses a size like "128M", "4G", "512k" or "1048576" (bytes); -1 if malformed. */
int parse_size(const char *s, uint64_t *out);

#endif
