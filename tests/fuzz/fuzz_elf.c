// SPDX-License-Identifier: MIT
/* elf_parse, elf_check_fit and elf_find_function over a hostile vmlinux.
 * The input is the whole file; libFuzzer hands it over in a heap buffer of
 * exactly its size, so AddressSanitizer sees any read past its end. */
#include "fuzz.h"

#include "boot/elf.h"

#include <string.h>

#define NAME "fuzz.elf"

/* What elf_parse promises about an image it accepted. */
static void check_image(const struct elf_image *img, const uint8_t *data, size_t size)
{
	volatile uint8_t sink = 0;

	FUZZ_CHECK(img->nr_segments > 0 && img->nr_segments <= ELF_MAX_SEGMENTS, "%d segments",
	           img->nr_segments);
	for (int i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->segments[i];

		FUZZ_CHECK(s->memsz > 0, "segment %d is empty", i);
		FUZZ_CHECK(s->filesz <= s->memsz, "segment %d: filesz above memsz", i);
		FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset,
		           "segment %d [%llu, +%llu) is not in the %zu-byte file", i,
		           (unsigned long long)s->offset, (unsigned long long)s->filesz, size);
		FUZZ_CHECK(s->paddr + s->memsz > s->paddr, "segment %d wraps", i);
		/* The loader copies these bytes: touch them, ASan checks the bounds. */
		for (uint64_t b = 0; b < s->filesz; b += 61)
			sink ^= data[s->offset + b];
		if (s->filesz)
			sink ^= data[s->offset + s->filesz - 1];
		for (int j = 0; j < i; j++) {
			const struct elf_segment *t = &img->segments[j];

			FUZZ_CHECK(s->paddr >= t->paddr + t->memsz ||
			               t->paddr >= s->paddr + s->memsz,
			           "segments %d and %d overlap", j, i);
		}
	}
	(void)sink;
}

/* elf_check_fit must accept exactly the images that lie in [start, end). */
static void check_fit(const struct elf_image *img, uint64_t start, uint64_t end)
{
	struct err e;
	int fits = img->pvh_entry >= start && img->pvh_entry < end;
	int ret;

	for (int i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->segments[i];

		if (s->paddr < start || s->paddr + s->memsz > end)
			fits = 0;
	}
	e.msg[0] = '\0';
	ret = elf_check_fit(img, start, end, NAME, &e);
	FUZZ_CHECK(ret == (fits ? 0 : -1), "elf_check_fit(0x%llx, 0x%llx) returned %d",
	           (unsigned long long)start, (unsigned long long)end, ret);
	FUZZ_CHECK(fits || strstr(e.msg, NAME), "error without the file's name: %s", e.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"run_init_process", ""};
	struct elf_image img;
	struct err e;
	uint64_t value;

	elf_is_elf(data, size);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		elf_find_function(data, size, names[i], &value);

	e.msg[0] = '\0';
	if (elf_parse(data, size, NAME, &img, &e) < 0) {
		FUZZ_CHECK(strstr(e.msg, NAME), "error without the file's name: %s", e.msg);
		return 0;
	}
	check_image(&img, data, size);
	/* RAM as mote lays it out (boot structures below 1 MiB, 16 MiB and a
	 * guest of 3 GiB below the hole), no limit at all, and the image's own
	 * extent, which fits exactly if the entry lies in it. */
	check_fit(&img, 1ULL << 20, 16ULL << 20);
	check_fit(&img, 1ULL << 20, 3ULL << 30);
	check_fit(&img, 0, UINT64_MAX);
	{
		uint64_t lo = UINT64_MAX, hi = 0;

		for (int i = 0; i < img.nr_segments; i++) {
			const struct elf_segment *s = &img.segments[i];

			lo = s->paddr < lo ? s->paddr : lo;
			hi = s->paddr + s->memsz > hi ? s->paddr + s->memsz : hi;
		}
		check_fit(&img, lo, hi);
		if (hi > lo)
			check_fit(&img, lo + 1, hi - 1);
	}
	return 0;
}
