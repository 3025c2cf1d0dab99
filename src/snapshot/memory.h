/* SPDX-License-Identifier: MIT */
/* Guest RAM to and from a sparse memory file: only pages the guest populated and that are not
 * zero are written; a restore reads or maps only the file's data, never a hole. */
#ifndef MOTE_SNAPSHOT_MEMORY_H
#define MOTE_SNAPSHOT_MEMORY_H

#include "../err.h"
#include "../mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Calls @fn for each run [off, off+len) of @m (offsets into its host
 * mapping, page-aligned) that may hold data: a memfd's or hugetlb file's
 * data extents (SEEK_DATA), or the pages of anonymous RAM that are present
 * or swapped out (/proc/self/pagemap) and every page a file is mapped over.
 * Nothing that was never populated. -1 with @e if @fn fails or the host
 * cannot say. */
int mem_populated(const struct guest_mem *m,
                  int (*fn)(const struct guest_mem *m, uint64_t off, uint64_t len, void *arg,
                            struct err *e),
                  void *arg, struct err *e);

/* Writes @m's populated, non-zero pages to a new file @path of @m->size
 * bytes at their offsets, leaving holes elsewhere; @bytes (if not NULL)
 * gets the bytes of data written. -1 with @e naming the file. */
int mem_save_file(const struct guest_mem *m, const char *path, uint64_t *bytes, struct err *e);

/* A Diff snapshot's memory: writes the pages set in @bits (one bit per
 * page of @m; zero pages too, as zeros: a hole means "as in the base") to
 * a new file @path of @m->size bytes at their offsets. -1 with @e. */
int mem_save_diff(const struct guest_mem *m, const uint64_t *bits, const char *path,
                  uint64_t *bytes, struct err *e);

/* Copies every data extent (SEEK_DATA) of Diff memory file @diff over
 * memory file @base, which must be as large, and syncs it: @base becomes
 * the memory of the Diff's state file. -1 with @e naming the file. */
int mem_merge_diff(const char *base, const char *diff, uint64_t *bytes, struct err *e);

/* Fills @m (mapped, never run) from memory file @path of exactly @m->size
 * bytes: for private anonymous RAM each data extent is mapped MAP_PRIVATE
 * (pages come in on first touch and clones share the page cache); for a
 * memfd or hugetlb it is copied in. Holes are not touched. -1 with @e. */
int mem_load_file(struct guest_mem *m, const char *path, struct err *e);

/* True if the @len bytes at @p are all zero. */
bool mem_is_zero(const void *p, size_t len);

#endif
