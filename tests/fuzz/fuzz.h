/* SPDX-License-Identifier: MIT */
/* What the libFuzzer targets share: the entry point and a check that turns a
 * broken promise of mote's code into a crash the fuzzer saves. */
#ifndef MOTE_FUZZ_H
#define MOTE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
