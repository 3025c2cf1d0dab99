/* SPDX-License-Identifier: MIT */
/* The virtio-balloon's controls (virtio 1.x, 5.5), as Firecracker's balloon API uses them: the
 * target the guest inflates towards, what it says it holds, its memory statistics. Every
 * function here runs on the I/O thread; the device's lock keeps the vCPU threads out. */
#ifndef MOTE_VIRTIO_BALLOON_H
#define MOTE_VIRTIO_BALLOON_H

#include "../err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* The statistics tags a driver sends (5.5.6.3); later tags are ignored. */
enum balloon_stat {
	BALLOON_S_SWAP_IN,      /* bytes swapped in */
	BALLOON_S_SWAP_OUT,     /* bytes swapped out */
	BALLOON_S_MAJFLT,       /* major page faults */
	BALLOON_S_MINFLT,       /* minor page faults */
	BALLOON_S_MEMFREE,      /* free memory, bytes */
	BALLOON_S_MEMTOT,       /* total memory, bytes */
	BALLOON_S_AVAIL,        /* available memory, bytes */
	BALLOON_S_CACHES,       /* disk caches, bytes */
	BALLOON_S_HTLB_PGALLOC, /* huge page allocations */
	BALLOON_S_HTLB_PGFAIL,  /* huge page allocation failures */
	BALLOON_NR_STATS,
};

/* One statistics entry is le16 tag, le64 value, packed. */
#define BALLOON_STAT_SIZE 10
/* The largest statistics buffer taken: Linux 6.1 sends 10 entries, 6.12
 * 16; room for twice that. */
#define BALLOON_STATS_MAX (32 * BALLOON_STAT_SIZE)

struct balloon_stats {
	uint32_t target_pages, actual_pages; /* 4 KiB pages */
	uint32_t target_mib, actual_mib;
	bool has[BALLOON_NR_STATS]; /* the guest sent tag i */
	uint64_t val[BALLOON_NR_STATS];
};

/* Sets the target to @amount_mib MiB (num_pages in config space) and tells
 * the driver (config change interrupt); -1 with @e if there is no balloon
 * or the amount is larger than guest RAM. */
int balloon_set_target(struct vm *vm, uint32_t amount_mib, struct err *e);

/* Changes the statistics interval to @seconds, the first update at once;
 * -1 with @e if there is no balloon or it would turn statistics on or off
 * (they stay as they were at boot). */
int balloon_set_stats_interval(struct vm *vm, uint32_t seconds, struct err *e);

/* Fills @out with the target, the guest's actual size and the latest
 * statistics the guest sent; -1 with @e if there is no balloon or its
 * statistics are off. */
int balloon_get_stats(struct vm *vm, struct balloon_stats *out, struct err *e);

/* The MiB the guest says the balloon holds (actual, in config space); -1
 * with @e if there is no balloon. */
int balloon_get_actual(struct vm *vm, uint32_t *actual_mib, struct err *e);

/* The pages the device saw inflated and not deflated since the driver
 * last reset it; -1 with @e if there is no balloon. */
int balloon_get_held(struct vm *vm, uint64_t *pages, struct err *e);

/* Gives the guest its statistics buffer back now, as the interval timer
 * does, so that it refills it; nothing if the device holds none. */
void balloon_stats_poll(struct vm *vm);

/* Parses a statistics buffer of @len bytes into @out's has and val
 * (entries of known tags; unknown tags ignored); -1 with @e, @out
 * untouched, if @len is not whole entries or more than BALLOON_STATS_MAX.
 * (Exposed for the tests.) */
int balloon_stats_parse(const uint8_t *buf, size_t len, struct balloon_stats *out, struct err *e);

#endif
