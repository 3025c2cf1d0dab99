// SPDX-License-Identifier: MIT
/* unpack_find and unpack_decompress over a hostile bzImage payload.
 *
 * The input is the payload itself (a bzImage whose payload_offset is 0 and
 * payload_length the input's size, the kernel starting at the file's
 * first byte): a gzip, xz, zstd or lz4 (legacy frame) stream and the 4
 * bytes of the size it claims. Claims over 4 MiB are not decompressed (the
 * output buffer is that big; unpack_find's own limit is checked). The seeds
 * are small ELF-headed blobs compressed as the kernel's build does. */
#include "fuzz.h"

#include "boot/unpack.h"

#include <string.h>

#define NAME     "fuzz.bzImage"
#define FUZZ_OUT (4U << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage bz;
	struct unpack_payload p;
	struct err e;
	uint8_t *out;
	int r;

	memset(&bz, 0, sizeof(bz));
	bz.hdr.payload_length = (uint32_t)size;
	e.msg[0] = '\0';
	r = unpack_find(data, size, &bz, NAME, &p, &e);
	if (r < 0) {
		FUZZ_CHECK(strstr(e.msg, NAME), "error without the file's name: %s", e.msg);
		return 0;
	}
	if (r == 0)
		return 0;
	FUZZ_CHECK(p.data == data && p.len == size, "payload moved");
	FUZZ_CHECK(p.out_size >= 64 && p.out_size <= UNPACK_MAX_SIZE, "size %llu accepted",
	           (unsigned long long)p.out_size);
	if (p.out_size > FUZZ_OUT)
		return 0;
	/* exactly out_size bytes: ASan sees a write past them */
	out = malloc(p.out_size);
	if (!out)
		abort();
	if (unpack_decompress(&p, out, NAME, &e) < 0)
		FUZZ_CHECK(strstr(e.msg, NAME) && strstr(e.msg, unpack_format_name(p.format)),
		           "error without the file's name or format: %s", e.msg);
	else
		FUZZ_CHECK(!memcmp(out, "\177ELF", 4), "accepted output that is no ELF file");
	free(out);
	return 0;
}
