/* SPDX-License-Identifier: MIT */
/* The probe VM: a guest of a few instructions that does what an ordinary
 * kernel does early (protected mode, cpuid, the switch to long mode, a
 * privileged MSR, xsetbv/xsave/xrstor, an int3 through its own IDT) and
 * reports each step on a port, so that mote can tell whether this KVM runs
 * ordinary guests. Shared by probe.c and probe_guest.S: macros only in the
 * part the assembler sees. */
#ifndef MOTE_X86_PROBE_H
#define MOTE_X86_PROBE_H

/* The port the probe writes its step codes to (one byte). */
#define PROBE_PORT 0x99

/* Step codes, in the order the probe runs them. */
#define PROBE_STEP_PROTECTED 1 /* the first instruction ran, 32-bit flat */
#define PROBE_STEP_CPUID     2 /* leaves 0, 1 and 0x80000001 */
#define PROBE_STEP_LONG_MODE 3 /* own GDT, CR4.PAE, CR3, EFER.LME, CR0.PG, far jump */
#define PROBE_STEP_MSR       4 /* wrmsr and rdmsr of IA32_KERNEL_GS_BASE */
#define PROBE_STEP_XSAVE     5 /* CR4.OSXSAVE, xsetbv, xgetbv, xsave, xrstor, SSE */
#define PROBE_STEP_IDT       6 /* lidt, int3 to its own handler, iretq */
#define PROBE_STEP_DONE      7 /* every step got through */
#define PROBE_STEPS          8

/* Or'ed into a step code: the step ran but gave a wrong result (the probe
 * then halts), or was skipped because the guest's CPUID lacks it. */
#define PROBE_WRONG 0x80
#define PROBE_SKIP  0x40

/* Guest-physical layout. The page tables are mote's boot tables, built by
 * pagetable_build at BOOT_PML4_ADDR (asserted equal in probe.c). */
#define PROBE_RAM_SIZE   0x200000
#define PROBE_PML4_ADDR  0x9000
#define PROBE_CODE_ADDR  0x10000
#define PROBE_GDT_ADDR   0x12000 /* null, unused, 64-bit code, data */
#define PROBE_GDTR_ADDR  0x12040
#define PROBE_IDTR_ADDR  0x12050
#define PROBE_IDT_ADDR   0x12100 /* gates 0-3 */
#define PROBE_XSAVE_ADDR 0x13000 /* 64-byte aligned, zeroed */

#define PROBE_SEL_CODE64 0x10
#define PROBE_SEL_DATA   0x18
#define PROBE_INT3_SEEN  0x5a

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../err.h"

struct probe_result {
	bool ok;           /* every step got through */
	int step;          /* the last step the probe announced (0: none) */
	bool xsave_absent; /* the xsave step was skipped: no XSAVE in CPUID */
	bool timed_out;    /* it did not finish in time: no verdict on this KVM */
	double ms;         /* from KVM_CREATE_VM to the end */
	char why[ERR_MAX]; /* what stopped it, when !ok */
};

/* Runs the probe VM on the KVM device @kvm_fd, giving up after
 * @timeout_ms; fills @r. Returns 0 when the probe ran to a verdict (good
 * or bad, in @r), -1 with @e set when it could not be set up at all. */
int probe_run(int kvm_fd, int timeout_ms, struct probe_result *r, struct err *e);

/* Runs @code (@len bytes) as the probe guest, as probe_run does: for
 * tests that break the probe on purpose. */
int probe_run_code(int kvm_fd, const uint8_t *code, size_t len, int timeout_ms,
                   struct probe_result *r, struct err *e);

/* Names step @step ("cpuid", ...), or "before its first instruction". */
const char *probe_step_name(int step);

/* The probe guest's code, assembled into mote (probe_guest.S), and its size. */
extern const uint8_t probe_guest_start[];
extern const uint64_t probe_guest_size;
#endif

#endif
