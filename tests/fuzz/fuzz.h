/* SPDX-License-Identifier: MIT */
/* What the libFuzzer targets share: the entry point and a check that turns a
 * broken promise of mote's code into a crash the fuzzer saves. */
#ifndef MOTE_FUZZ_H
#define MOTE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message naming the broken promise: the fuzzer reports it
 * as a crash and keeps the input. */
#define FUZZ_CHECK(cond, ...)                                                                    \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Reads little-endian integers from the input, zeros past its end. */
struct fuzz_in {
	const uint8_t *p;
	size_t len, at;
};

static inline uint64_t fuzz_uint(struct fuzz_in *in, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++, in->at++)
		if (in->at < in->len)
			v |= (uint64_t)in->p[in->at] << (8 * i);
	return v;
}

static inline int fuzz_left(const struct fuzz_in *in)
{
	return in->at < in->len;
}

/* Maps @size bytes of guest RAM at guest address 0 into @m, one slot, with
 * 64 KiB of inaccessible pages on each side, so that ASan's view is joined
 * by a fault for any access outside it. */
static inline void fuzz_guest_ram(struct guest_mem *m, size_t size)
{
	const size_t guard = 64 * 1024;
	uint8_t *map = mmap(NULL, size + 2 * guard, PROT_NONE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	FUZZ_CHECK(map != MAP_FAILED, "no memory for the guest RAM");
	FUZZ_CHECK(!mprotect(map + guard, size, PROT_READ | PROT_WRITE), "mprotect");
	m->size = size;
	m->host = map + guard;
	m->fd = -1;
	m->nr_slots = 1;
	m->slots[0] = (struct mem_slot){0, size, m->host};
}

#endif
