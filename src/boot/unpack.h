/* SPDX-License-Identifier: MIT */
/* A bzImage's kernel decompressed on the host: the ELF file its payload holds, kept in a cache. */
#ifndef MOTE_BOOT_UNPACK_H
#define MOTE_BOOT_UNPACK_H

#include "../err.h"
#include "bzimage.h"
#include "image.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest kernel mote decompresses (Debian's generic ELF is 63 MiB). */
#define UNPACK_MAX_SIZE (512ULL << 20)
/* Unpacked kernels the cache keeps; the oldest go first. */
#define UNPACK_CACHE_KEEP 8

enum unpack_format { UNPACK_GZIP, UNPACK_XZ, UNPACK_ZSTD, UNPACK_LZ4 };

struct unpack_payload {
	const uint8_t *data; /* the compressed stream and the 4-byte size after it */
	uint64_t len;
	enum unpack_format format;
	uint64_t out_size; /* what it decompresses to: the size the build appended */
};

/* The payload's format by name ("gzip", "xz", "zstd", "lz4"). */
const char *unpack_format_name(enum unpack_format f);

/* Finds the compressed kernel of the bzImage @bz parsed from @file[0..size):
 * 1 with @p filled, 0 if it is compressed in a format mote does not
 * decompress (bzip2, lzma, lzo: the guest still can), -1 with a message
 * naming @name if the header's payload fields lie outside the file or its
 * size is 0 or over UNPACK_MAX_SIZE. */
int unpack_find(const uint8_t *file, uint64_t size, const struct bzimage *bz, const char *name,
                struct unpack_payload *p, struct err *e);

/* Decompresses @p into @out[0..p->out_size); -1 with a message naming @name
 * if the stream is broken or does not decompress to exactly out_size bytes
 * of an ELF file. */
int unpack_decompress(const struct unpack_payload *p, uint8_t *out, const char *name,
                      struct err *e);

/* The cache file for the bzImage @f with payload @p: @cache_dir/<file
 * name>-<a hash of its identity: device, inode, size, modification and
 * change times, and the payload's sizes>, in @path; -1 if it does not fit. */
int unpack_cache_path(const struct image_file *f, const struct unpack_payload *p,
                      const char *cache_dir, char *path, size_t n);

/* What unpack_to_cache returns when it has no copy to boot. */
enum {
	UNPACK_BROKEN = -1, /* the payload does not decompress as it says: refuse the kernel */
	UNPACK_CANNOT = -2, /* no copy can be written (room, permission, a folder not the user's) */
	UNPACK_UNFIT = -3,  /* an ELF file without the PVH entry: noted in @path.unfit */
};

/* Makes sure the cache holds the ELF kernel of @p (from the bzImage @f) at
 * @path, under the lock of its folder (which must be this user's alone): 0
 * if it did already (its time set: pruned last), 1 if it was decompressed
 * now (written under a temporary name, read-only, synced, renamed; the
 * oldest entries past UNPACK_CACHE_KEEP removed), or a negative code above
 * with the message in @e. */
int unpack_to_cache(const struct image_file *f, const struct unpack_payload *p, const char *path,
                    struct err *e);

#endif
