// SPDX-License-Identifier: MIT
/* Memory backends: names, memfd mapping, hugetlb refusal with advice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mem.h"

#include <string.h>

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
	assert_true(mem_can_map_files(&m));
	p = guest_ptr(&m, 16 * MiB, 4);
	assert_non_null(p);
	memcpy(p, "mote", 4);
	assert_memory_equal(m.host + 16 * MiB, "mote", 4);
	mem_unmap(&m);
	assert_int_equal(m.fd, -1);
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
	assert_true(strstr(e.msg, "needs 8388608 free 2 MiB huge pages") ||
	            strstr(e.msg, "offers no 2 MiB huge pages"));
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
	assert_true(strstr(e.msg, "multiple of 2 MiB") ||
	            strstr(e.msg, "offers no 2 MiB huge pages"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backend_names),
	    cmocka_unit_test(test_memfd_is_shared_and_usable),
	    cmocka_unit_test(test_hugetlb_refuses_more_than_free),
	    cmocka_unit_test(test_hugetlb_needs_2m_multiple),
	};

	return cmocka_run_group_tests_name("mem_backend", tests, NULL, NULL);
}
