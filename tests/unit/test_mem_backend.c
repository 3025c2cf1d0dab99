// SPDX-License-Identifier: MIT
/* Memory backends: names, memfd mapping, hugetlb refusal with advice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/image.h"
#include "mem.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB"

/* A 64 KiB image file of known bytes; returns its path. */
static const char *image_file(void)
{
	static char path[32];
	uint8_t buf[64 * 1024];
	int fd;

	snprintf(path, sizeof(path), "/tmp/mote-image-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	return path;
}

/* Places the image at 1 MiB of RAM with @backend and @private_images;
 * then the guest writes a byte in it. Returns what was mapped. */
static uint64_t place_and_write(struct guest_mem *m, enum mem_backend backend, bool private)
{
	struct image_stats st = {0};
	struct image_file f;
	struct err e;
	uint8_t *p;

	assert_int_equal(mem_layout(m, 32 * MiB, &e), 0);
	m->opts.backend = backend;
	m->opts.private_images = private;
	assert_int_equal(mem_map(m, &e), 0);
	assert_int_equal(image_open(&f, image_file(), "kernel", &e), 0);
	assert_int_equal(image_place(m, &f, 0, f.size, MiB, &st, &e), 0);
	image_close(&f);
	unlink(f.path);
	p = guest_ptr(m, MiB + 4096, 1);
	assert_non_null(p);
	*p = 0xee; /* the guest writes into its kernel */
	return st.mapped;
}

static void test_backend_names(void **state)
{
	enum mem_backend b;

	(void)state;
	assert_int_equal(mem_parse_backend("anon", &b), 0);
	assert_int_equal(b, MEM_ANON);
	assert_int_equal(mem_parse_backend("memfd", &b), 0);
	assert_int_equal(b, MEM_MEMFD);
	assert_int_equal(mem_parse_backend("hugetlb", &b), 0);
	assert_int_equal(b, MEM_HUGETLB);
	assert_int_equal(mem_parse_backend("huge", &b), -1);
	assert_int_equal(mem_parse_backend("", &b), -1);
}

static void test_memfd_is_shared_and_usable(void **state)
{
	struct guest_mem m;
	struct err e;
	uint8_t *p;

	(void)state;
	assert_int_equal(mem_layout(&m, 32 * MiB, &e), 0);
	m.opts.backend = MEM_MEMFD;
	assert_int_equal(mem_map(&m, &e), 0);
	assert_true(m.fd >= 0);
	assert_false(mem_can_map_files(&m)); /* images are copied into a memfd */
	p = guest_ptr(&m, 16 * MiB, 4);
	assert_non_null(p);
	memcpy(p, "mote", 4);
	assert_memory_equal(m.host + 16 * MiB, "mote", 4);
	mem_unmap(&m);
	assert_int_equal(m.fd, -1);
}

/* A memfd holds all of guest RAM: the image is copied in, and what the
 * guest writes over it is in the memfd (a snapshot reads it there). */
static void test_memfd_holds_the_images_and_the_guests_writes(void **state)
{
	uint8_t b[2];
	struct guest_mem m;

	(void)state;
	assert_int_equal(place_and_write(&m, MEM_MEMFD, false), 0);
	assert_false(mem_can_map_files(&m));
	assert_int_equal(pread(m.fd, b, 1, (off_t)(MiB + 4096)), 1);
	assert_int_equal(b[0], 0xee);
	assert_int_equal(pread(m.fd, b, 2, (off_t)(MiB + 5)), 2);
	assert_int_equal(b[0], (uint8_t)(5 * 7 + 1)); /* the image's own bytes */
	assert_int_equal(b[1], (uint8_t)(6 * 7 + 1));
	mem_unmap(&m);
}

static void test_anon_maps_images_unless_private(void **state)
{
	struct guest_mem m;

	(void)state;
	assert_int_equal(place_and_write(&m, MEM_ANON, false), 64 * 1024);
	assert_true(mem_can_map_files(&m));
	mem_unmap(&m);
	assert_int_equal(place_and_write(&m, MEM_ANON, true), 0); /* --private-images */
	assert_false(mem_can_map_files(&m));
	assert_int_equal(*(uint8_t *)guest_ptr(&m, MiB + 5, 1), (uint8_t)(5 * 7 + 1));
	mem_unmap(&m);
}

static void test_hugetlb_refuses_more_than_free(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	/* 16 TiB of 2 MiB pages: no host has them free. */
	assert_int_equal(mem_layout(&m, 16 * 1024 * GiB, &e), 0);
	m.opts.backend = MEM_HUGETLB;
	assert_int_equal(mem_map(&m, &e), -1);
	assert_non_null(strstr(e.msg, "hugetlb"));
	if (access(HUGEPAGES_DIR, F_OK) == 0)
		assert_non_null(strstr(e.msg, "needs 8388608 free 2 MiB huge pages"));
	else
		assert_non_null(strstr(e.msg, "offers no 2 MiB huge pages"));
	assert_false(mem_can_map_files(&m));
}

static void test_hugetlb_needs_2m_multiple(void **state)
{
	struct guest_mem m;
	struct err e;

	(void)state;
	assert_int_equal(mem_layout(&m, 33 * MiB, &e), 0);
	m.opts.backend = MEM_HUGETLB;
	assert_int_equal(mem_map(&m, &e), -1);
	assert_non_null(strstr(e.msg, "multiple of 2 MiB")); /* checked before the host's pages */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backend_names),
	    cmocka_unit_test(test_memfd_is_shared_and_usable),
	    cmocka_unit_test(test_memfd_holds_the_images_and_the_guests_writes),
	    cmocka_unit_test(test_anon_maps_images_unless_private),
	    cmocka_unit_test(test_hugetlb_refuses_more_than_free),
	    cmocka_unit_test(test_hugetlb_needs_2m_multiple),
	};

	return cmocka_run_group_tests_name("mem_backend", tests, NULL, NULL);
}
