// SPDX-License-Identifier: MIT
#include "trace.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <time.h>

static const char *const names[TRACE_NR] = {
    [TRACE_VM_CREATED] = "vm_created",
    [TRACE_VMM_INIT_END] = "vmm_init_end",
    [TRACE_LINUX_START_KERNEL] = "linux_start_kernel",
    [TRACE_LINUX_START_USER] = "linux_start_user",
    [TRACE_GUEST_BOOT_DONE] = "guest_boot_done",
};

static uint64_t start_ns;
static _Atomic uint64_t marks[TRACE_NR]; /* ns after start_ns + 1; 0 = not seen */
static uint64_t create_vm_ns;

uint64_t trace_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Time zero: mote's first instruction after the dynamic loader. */
__attribute__((constructor(101))) static void trace_start(void)
{
	start_ns = trace_now();
}

void trace_mark(enum trace_point p)
{
	uint64_t none = 0;

	atomic_compare_exchange_strong(&marks[p], &none, trace_now() - start_ns + 1);
}

void trace_kvm_create_vm(uint64_t ns)
{
	create_vm_ns = ns;
}

bool trace_seen(enum trace_point p)
{
	return atomic_load(&marks[p]) != 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void report_json(FILE *out)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < TRACE_NR; i++) {
		uint64_t t = atomic_load(&marks[i]);

		json_object_object_add(o, names[i], t ? json_object_new_double(ms(t - 1)) : NULL);
	}
	json_object_object_add(o, "kvm_create_vm", json_object_new_double(ms(create_vm_ns)));
	json_object_object_add(o, "unit", json_object_new_string("ms"));
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

void trace_report(FILE *out, bool json)
{
	if (json) {
		report_json(out);
		return;
	}
	for (int i = 0; i < TRACE_NR; i++) {
		uint64_t t = atomic_load(&marks[i]);

		if (t)
			fprintf(out, "boot-trace: %-19s %10.3f ms\n", names[i], ms(t - 1));
		else
			fprintf(out, "boot-trace: %-19s %10s\n", names[i], "unavailable");
	}
	fprintf(out, "boot-trace: (KVM_CREATE_VM itself took %.3f ms)\n", ms(create_vm_ns));
}
