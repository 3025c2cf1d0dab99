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

#define HUGE_PAGE_SIZE (2 * MiB)

enum mem_backend {
	MEM_ANON,    /* private anonymous memory */
	MEM_MEMFD,   /* a shared memfd (shareable, snapshot-friendly) */
	MEM_HUGETLB, /* a memfd of 2 MiB huge pages */
};

/* Transparent huge pages for anonymous guest RAM. */
enum mem_thp {
	MEM_THP_AUTO, /* on from MEM_THP_AUTO_MIN of RAM, off below */
	MEM_THP_ON,   /* madvise(MADV_HUGEPAGE) */
	MEM_THP_OFF,  /* madvise(MADV_NOHUGEPAGE) */
};

/* Below this, guests are the small dense kind whose sparse touches THP would
 * round up to 2 MiB; from it on, the 4 KiB faults of a guest initialising its
 * struct pages (1/64 of its RAM) cost more boot time than THP costs memory. */
#define MEM_THP_AUTO_MIN (2 * GiB)

struct mem_opts {
	enum mem_backend backend;
	enum mem_thp thp;
	bool prefault;       /* populate all of guest RAM at start */
	bool private_images; /* copy kernel and initrd, never map their files */
};

struct guest_mem {
	uint64_t size; /* RAM bytes in all slots */
	uint8_t *host; /* one host mapping of @size bytes; slots are in it */
	struct mem_opts opts;
	int fd; /* the memfd behind a memfd or hugetlb backend, else -1 */
	int nr_slots;
	struct mem_slot slots[2];
	/* While a migration runs: one bit per page of the host mapping that a
	 * device may have written (mem_mark_dirty), else NULL. */
	uint64_t *dirty;
};

/* Computes the slots for @size bytes of RAM without mapping anything. */
int mem_layout(struct guest_mem *m, uint64_t size, struct err *e);

/* Maps host memory for a laid-out @m as @m->opts say: anonymous
 * (MAP_NORESERVE), memfd or hugetlb memfd (MAP_SHARED), with MADV_HUGEPAGE
 * and MAP_POPULATE on request. A hugetlb request the host cannot meet
 * fails naming the pages needed and how to reserve them. */
int mem_map(struct guest_mem *m, struct err *e);

/* Unmaps what mem_map mapped. */
void mem_unmap(struct guest_mem *m);

/* Returns the host address of [gpa, gpa+len) if it lies wholly inside one
 * RAM slot, else NULL. The one way to reach guest memory. */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Gives the host back the guest RAM of [gpa, gpa+len) shrunk to whole pages,
 * for the guest has no use for its contents: private anonymous pages are
 * dropped (read back as zeros), file pages mapped over RAM revert to the
 * file, memfd pages are punched out; hugetlb pages are kept (they would
 * lose their reservation). Returns the bytes given back (0 if the host
 * refused: warned once); -1 if the range is not wholly guest RAM. */
int64_t mem_discard(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Asks for transparent huge pages on [gpa, gpa+len), widened to whole 2 MiB
 * pages, where the guest is known to write all of it at once (a bzImage
 * decompressing itself): what THP costs, memory the guest does not use,
 * does not arise there. Private anonymous RAM not under --no-thp only; a
 * range outside RAM or a host without THP is ignored. */
void mem_want_huge(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Marks [gpa, gpa+len) as written by a device, for a migration (KVM's
 * dirty log sees only the vCPUs' writes); nothing when none runs or the
 * range is not guest RAM. Any thread. */
void mem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* mem_mark_dirty for @len bytes at host address @p inside @m's mapping
 * (a device's iovec); nothing if @p is not in it. */
void mem_mark_dirty_host(const struct guest_mem *m, const void *p, uint64_t len);

/* The offset of guest address @gpa in @m's host mapping (and so in a
 * memory file or stream); -1 if it is not RAM. */
int64_t mem_offset(const struct guest_mem *m, uint64_t gpa);

/* Returns the end of RAM below the hole (exclusive). */
uint64_t mem_low_end(const struct guest_mem *m);

/* Parses "anon", "memfd" or "hugetlb"; -1 if it is none of them. */
int mem_parse_backend(const char *s, enum mem_backend *out);

/* True if files may be mapped over guest RAM: private anonymous RAM only
 * (a memfd must hold all of guest RAM; hugetlb pages cannot take file
 * pages), and not with private_images. */
bool mem_can_map_files(const struct guest_mem *m);

/* Checks a guest RAM size: at least MEM_MIN_SIZE, at most MEM_MAX_SIZE,
 * whole pages; -1 with @e saying which. */
int mem_check_size(uint64_t size, struct err *e);

/* Parses a size like "128M", "4G", "512k" or "1048576" (bytes); -1 if malformed. */
int parse_size(const char *s, uint64_t *out);

#endif
