// SPDX-License-Identifier: MIT
#include "trace.h"

#include "metrics.h"

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

static const char *const bp_names[] = {
    [TRACE_BP_UNUSED] = "not used",         [TRACE_BP_NO_SYMBOL] = "no symbol",
    [TRACE_BP_ARMED] = "not reached",       [TRACE_BP_FIRED] = "fired",
    [TRACE_BP_UNAVAILABLE] = "unavailable",
};

static uint64_t start_ns;
static _Atomic uint64_t bp_mark;         /* as marks[] */
static _Atomic int bp_state;             /* enum trace_bp */
static _Atomic uint64_t instance_start;  /* as marks: the API's InstanceStart */
static _Atomic uint64_t marks[TRACE_NR]; /* ns after start_ns + 1; 0 = not seen */
static uint64_t create_vm_ns;
static uint64_t acpi_build_ns;

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

uint64_t trace_since_start(void)
{
	return trace_now() - start_ns;
}

void trace_reset(void)
{
	atomic_store(&instance_start, 0);
	for (int i = 0; i < TRACE_NR; i++)
		atomic_store(&marks[i], 0);
	atomic_store(&bp_mark, 0);
	atomic_store(&bp_state, 0);
	create_vm_ns = 0;
	acpi_build_ns = 0;
}

void trace_mark(enum trace_point p)
{
	uint64_t none = 0;

	if (atomic_compare_exchange_strong(&marks[p], &none, trace_now() - start_ns + 1) &&
	    p == TRACE_GUEST_BOOT_DONE)
		metrics_set(METRIC_vmm_guest_boot_done_us, (atomic_load(&marks[p]) - 1) / 1000);
}

void trace_acpi_build(uint64_t ns)
{
	acpi_build_ns = ns;
}

void trace_instance_start(void)
{
	atomic_store(&instance_start, trace_now() - start_ns + 1);
}

void trace_kvm_create_vm(uint64_t ns)
{
	create_vm_ns = ns;
	metrics_set(METRIC_vmm_kvm_create_vm_us, ns / 1000);
}

void trace_breakpoint(enum trace_bp s)
{
	atomic_store(&bp_state, (int)s);
}

void trace_mark_breakpoint(void)
{
	uint64_t none = 0;

	atomic_compare_exchange_strong(&bp_mark, &none, trace_now() - start_ns + 1);
	trace_mark(TRACE_LINUX_START_USER);
}

bool trace_seen(enum trace_point p)
{
	return atomic_load(&marks[p]) != 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* A mark as JSON: milliseconds, or null if it was not seen. */
static json_object *json_mark(uint64_t t)
{
	return t ? json_object_new_double(ms(t - 1)) : NULL;
}

static void report_json(FILE *out)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < TRACE_NR; i++)
		json_object_object_add(o, names[i], json_mark(atomic_load(&marks[i])));
	json_object_object_add(o, "kvm_create_vm", json_object_new_double(ms(create_vm_ns)));
	json_object_object_add(o, "acpi_build", json_object_new_double(ms(acpi_build_ns)));
	json_object_object_add(o, "linux_start_user_breakpoint", json_mark(atomic_load(&bp_mark)));
	json_object_object_add(o, "breakpoint",
	                       json_object_new_string(bp_names[atomic_load(&bp_state)]));
	if (atomic_load(&instance_start))
		json_object_object_add(o, "instance_start",
		                       json_mark(atomic_load(&instance_start)));
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
	fprintf(out, "boot-trace: (KVM_CREATE_VM itself took %.3f ms, the ACPI tables %.3f ms)\n",
	        ms(create_vm_ns), ms(acpi_build_ns));
	if (atomic_load(&instance_start))
		fprintf(out,
		        "boot-trace: (the API's InstanceStart came at %.3f ms, %.3f ms after "
		        "vm_created; vmm_init_end %.3f ms after it)\n",
		        ms(atomic_load(&instance_start) - 1),
		        ms(atomic_load(&instance_start) - atomic_load(&marks[TRACE_VM_CREATED])),
		        ms(atomic_load(&marks[TRACE_VMM_INIT_END]) - atomic_load(&instance_start)));
	fprintf(out, "boot-trace: (init-exec breakpoint: %s", bp_names[atomic_load(&bp_state)]);
	if (atomic_load(&bp_mark))
		fprintf(out, ", at %.3f ms", ms(atomic_load(&bp_mark) - 1));
	fputs(")\n", out);
}
