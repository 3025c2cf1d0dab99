/* SPDX-License-Identifier: MIT */
/* Image files (kernel, initrd) placed in guest RAM by copy-on-write mapping where possible. */
#ifndef MOTE_BOOT_IMAGE_H
#define MOTE_BOOT_IMAGE_H

#include "../err.h"
#include "../mem.h"

#include <stdint.h>

struct image_file {
	const char *path;
	int fd;
	uint64_t size;
	const uint8_t *data; /* the whole file, mapped read-only */
};

struct image_stats {
	uint64_t mapped; /* bytes shared with the page cache until written */
	uint64_t copied; /* bytes copied (unaligned heads and tails) */
};

/* Opens and maps @path; @what ("kernel", "initrd") names it in errors. */
int image_open(struct image_file *f, const char *path, const char *what, struct err *e);

/* Closes @f; guest mappings made from it stay. */
void image_close(struct image_file *f);

/* Puts bytes [off, off+len) of @f at guest address @gpa: whole pages are
 * mapped MAP_PRIVATE|MAP_FIXED from the file when @off and @gpa agree
 * modulo the page size, the rest is copied. Guest RAM there must be fresh
 * (zero), so what lies past @len in a mapped page stays as the guest expects. */
int image_place(const struct guest_mem *m, const struct image_file *f, uint64_t off, uint64_t len,
                uint64_t gpa, struct image_stats *st, struct err *e);

#endif
