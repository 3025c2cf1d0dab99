/* SPDX-License-Identifier: MIT */
/* Boot tracepoints: times since mote's start at which the boot reached each point. */
#ifndef MOTE_TRACE_H
#define MOTE_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum trace_point {
	TRACE_VM_CREATED,         /* KVM_CREATE_VM returned */
	TRACE_VMM_INIT_END,       /* first KVM_RUN */
	TRACE_LINUX_START_KERNEL, /* start_kernel(): kvm-clock MSR or a kernel code */
	TRACE_LINUX_START_USER,   /* init about to run: a userspace code */
	TRACE_GUEST_BOOT_DONE,    /* the guest's own boot-done signal */
	TRACE_NR,
};

/* How the guest-debug breakpoint for linux_start_user fared. */
enum trace_bp {
	TRACE_BP_UNUSED,      /* no --boot-trace, or not a PVH vmlinux */
	TRACE_BP_NO_SYMBOL,   /* the vmlinux has no symbol for the init-exec path */
	TRACE_BP_ARMED,       /* set, not reached */
	TRACE_BP_FIRED,       /* reached: linux_start_user_breakpoint holds the time */
	TRACE_BP_UNAVAILABLE, /* breakpoints do not fire on this host */
};

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t trace_now(void);

/* Nanoseconds since mote started (its first constructor, right after exec). */
uint64_t trace_since_start(void);

/* Forgets every mark and outcome, for the next VM of the process. */
void trace_reset(void);

/* Records @p at the current time unless it was recorded already. */
void trace_mark(enum trace_point p);

/* Records when the API's InstanceStart came (reported beside the marks). */
void trace_instance_start(void);

/* Records how long KVM_CREATE_VM itself took. */
void trace_kvm_create_vm(uint64_t ns);

/* Records how long building the ACPI tables took. */
void trace_acpi_build(uint64_t ns);

/* Records the breakpoint's outcome @s. */
void trace_breakpoint(enum trace_bp s);

/* Records the time the init-exec breakpoint was hit, and linux_start_user
 * unless a guest code recorded it first. */
void trace_mark_breakpoint(void);

/* True once @p has been recorded. */
bool trace_seen(enum trace_point p);

/* Writes the trace to @out: one line per point, or one JSON object. */
void trace_report(FILE *out, bool json);

#endif
