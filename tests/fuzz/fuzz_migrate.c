// SPDX-License-Identifier: MIT
/* A migration stream on any bytes, as a receiver reads it from its socket (here a pipe): the
 * header, record framing and CRCs, HELLO's state file (snapshot_parse: configuration and machine),
 * page and zero-run records against a guest RAM of the size HELLO says, STATE, END. The page
 * records must stay inside RAM (a guard around it catches the rest); a zero run may clear only
 * pages the stream wrote. As in fuzz_snapshot, each record's CRC is rewritten to match, so that
 * mutations reach what is behind it. */
#include "fuzz.h"

#include "fc_config.h"
#include "snapshot/migrate.h"
#include "snapshot/snapshot.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_RAM (64u << 20)
#define IN_MAX  (256u << 10)

static struct guest_mem ram; /* mapped by HELLO, exactly its size, guards around */
static bool mapped;

static void unmap_ram(void)
{
	if (mapped)
		munmap(ram.host - 64 * 1024, ram.size + 2 * 64 * 1024);
	mapped = false;
}

static struct guest_mem *build(void *opaque, uint8_t *buf, uint64_t len, struct err *e)
{
	struct vm_config *c = malloc(sizeof(*c));
	struct snapshot_file f;
	struct guest_mem *m = NULL;

	(void)opaque;
	FUZZ_CHECK(c, "out of memory");
	fc_config_init(c);
	if (snapshot_parse(buf, len, "hello", &f, c, e) == 0) {
		if (f.machine.mem_size > MAX_RAM || f.machine.mem_size % PAGE_SIZE ||
		    !f.machine.mem_size) {
			err_set(e, "RAM of %llu bytes (the fuzz target maps up to 64 MiB)",
			        (unsigned long long)f.machine.mem_size);
		} else {
			unmap_ram();
			fuzz_guest_ram(&ram, f.machine.mem_size);
			mapped = true;
			m = &ram;
		}
	}
	snapshot_file_free(&f);
	config_free(c);
	free(c);
	return m;
}

static int load(void *opaque, uint8_t *buf, uint64_t len, struct err *e)
{
	struct vm_config *c = malloc(sizeof(*c));
	struct snapshot_file f;
	int ret;

	(void)opaque;
	FUZZ_CHECK(c, "out of memory");
	fc_config_init(c);
	ret = snapshot_parse(buf, len, "state", &f, c, e);
	snapshot_file_free(&f);
	config_free(c);
	free(c);
	return ret;
}

/* Rewrites every record's CRC (records: "MREC", type, u64 length, crc, pad). */
static void fix_crcs(uint8_t *b, size_t size)
{
	size_t at = 16;

	while (at + 24 <= size && !memcmp(b + at, "MREC", 4)) {
		uint64_t len;
		uint32_t crc;

		memcpy(&len, b + at + 8, 8);
		if (len > size - at - 24)
			return;
		crc = (uint32_t)crc32(0L, b + at + 24, (uInt)len);
		memcpy(b + at + 16, &crc, 4);
		at += 24 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct migrate_sink sink = {NULL, build, load};
	uint8_t *copy;
	struct err e;
	int p[2];

	if (size > IN_MAX)
		return 0;
	copy = malloc(size ? size : 1);
	FUZZ_CHECK(copy && pipe2(p, O_CLOEXEC) == 0, "no pipe");
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	FUZZ_CHECK(fcntl(p[1], F_SETPIPE_SZ, (int)(1u << 20)) >= (int)IN_MAX, "pipe too small");
	FUZZ_CHECK(write(p[1], copy, size) == (ssize_t)size, "short write");
	close(p[1]);
	if (migrate_receive_fd(p[0], &sink, &e) < 0)
		FUZZ_CHECK(e.msg[0], "a refusal without a message");
	close(p[0]);
	unmap_ram();
	free(copy);
	return 0;
}
