/* SPDX-License-Identifier: MIT */
/* x86 state for snapshots and migration: each vCPU's registers, FPU, MSRs, LAPIC and events, and
 * the VM's PIC, IOAPIC, PIT and kvm-clock, saved as records of snapshot/stream.h. */
#ifndef MOTE_X86_STATE_H
#define MOTE_X86_STATE_H

#include "../snapshot/stream.h"
#include "../vm.h"

/* The most MSRs a vCPU record may hold. */
#define STATE_MAX_MSRS 1024
/* The most CPUID entries a CPUID record may hold. */
#define STATE_MAX_CPUID 256

/* Fills @m from @vm (paused): RAM size, vCPUs, TSC frequency, the CPU's
 * vendor, family/model/stepping and XSAVE size; -1 with @e. */
int state_machine(struct vm *vm, struct snap_machine *m, struct err *e);

/* Checks that this host can take a state made on @m for @vm: same RAM
 * size and vCPUs, the same CPU vendor, an XSAVE area that fits; -1 with
 * @e naming the difference. */
int state_check_machine(struct vm *vm, const struct snap_machine *m, struct err *e);

/* Appends vCPU @v's state (paused, out of KVM_RUN) to @w: CPUID, regs,
 * sregs, XSAVE, XCRs, every MSR KVM lists as saveable, LAPIC, mp_state,
 * events, debug registers; -1 with @e naming the ioctl that failed. */
int state_save_vcpu(struct vcpu *v, struct snap_writer *w, struct err *e);

/* Loads vCPU @v (made, never run) from @s: CPUID first (refused if it asks
 * for a feature this host's KVM does not offer), then the rest in the
 * order KVM needs; every record's size checked. -1 with @e. */
int state_load_vcpu(struct vcpu *v, struct snap *s, struct err *e);

/* Gives vCPU @v the TSC frequency @khz of the snapshot (0: unknown) where
 * this host's differs, before its MSRs (the TSC) are loaded; -1 with @e if
 * KVM cannot scale the TSC. */
int state_load_tsc_khz(struct vcpu *v, uint32_t khz, struct err *e);

/* Appends the VM's PIC, IOAPIC, PIT and kvm-clock to @w; -1 with @e. */
int state_save_vm(struct vm *vm, struct snap_writer *w, struct err *e);

/* Loads the VM's PIC, IOAPIC, PIT and kvm-clock from @s; -1 with @e. */
int state_load_vm(struct vm *vm, struct snap *s, struct err *e);

#endif
