// SPDX-License-Identifier: MIT
/* Boot tracepoints: first mark wins, reports name every point. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "trace.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

static char *report(bool json)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	trace_report(f, json);
	fclose(f);
	return buf;
}

static void test_unmarked_points_are_unavailable(void **state)
{
	(void)state;
	assert_false(trace_seen(TRACE_GUEST_BOOT_DONE));
	assert_non_null(strstr(report(false), "guest_boot_done"));
	assert_non_null(strstr(report(false), "unavailable"));
	assert_non_null(strstr(report(true), "\"guest_boot_done\":null"));
}

static double json_value(const char *json, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(json, key);
	assert_non_null(p);
	return strtod(p + strlen(key), NULL);
}

static void test_first_mark_wins_and_order_is_kept(void **state)
{
	struct timespec pause = {.tv_nsec = 2000000};
	double first, later;

	(void)state;
	trace_mark(TRACE_VM_CREATED);
	nanosleep(&pause, NULL);
	trace_mark(TRACE_VMM_INIT_END);
	first = json_value(report(true), "vm_created");
	nanosleep(&pause, NULL);
	trace_mark(TRACE_VM_CREATED); /* ignored: already seen */
	assert_true(trace_seen(TRACE_VM_CREATED));
	assert_true(json_value(report(true), "vm_created") == first);
	later = json_value(report(true), "vmm_init_end");
	assert_true(later >= first + 1.0); /* 2 ms apart, in ms */
}

static void test_kvm_create_vm_latency_reported(void **state)
{
	(void)state;
	trace_kvm_create_vm(1500000);
	assert_true(json_value(report(true), "kvm_create_vm") == 1.5);
	assert_non_null(strstr(report(false), "KVM_CREATE_VM itself took 1.500 ms"));
}

static void test_breakpoint_outcome_and_time(void **state)
{
	double user;

	(void)state;
	assert_non_null(strstr(report(true), "\"breakpoint\":\"not used\""));
	assert_non_null(strstr(report(true), "\"linux_start_user_breakpoint\":null"));
	trace_breakpoint(TRACE_BP_UNAVAILABLE);
	assert_non_null(strstr(report(false), "init-exec breakpoint: unavailable)"));
	trace_mark(TRACE_LINUX_START_USER); /* a guest code came first */
	user = json_value(report(true), "linux_start_user");
	trace_mark_breakpoint();
	trace_breakpoint(TRACE_BP_FIRED);
	assert_true(json_value(report(true), "linux_start_user") == user);
	assert_true(json_value(report(true), "linux_start_user_breakpoint") >= user);
	assert_non_null(strstr(report(true), "\"breakpoint\":\"fired\""));
	assert_non_null(strstr(report(false), "init-exec breakpoint: fired, at "));
}

static int fresh(void **state)
{
	(void)state;
	trace_reset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_unmarked_points_are_unavailable, fresh),
	    cmocka_unit_test_setup(test_first_mark_wins_and_order_is_kept, fresh),
	    cmocka_unit_test_setup(test_kvm_create_vm_latency_reported, fresh),
	    cmocka_unit_test_setup(test_breakpoint_outcome_and_time, fresh),
	};

	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
