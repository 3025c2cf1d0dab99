/* SPDX-License-Identifier: MIT */
/* One vCPU: creation, CPUID, and the exit-dispatch loop its thread runs. */
#ifndef MOTE_VCPU_H
#define MOTE_VCPU_H

#include "vm.h"

/* Creates vCPU @id of @vm with its CPUID, FPU and LAPIC set up. */
void vcpu_create(struct vm *vm, struct vcpu *v, int id);

/* Runs @v until the VM stops; the exit reason is recorded in the VM. */
void vcpu_loop(struct vcpu *v);

/* Makes @v leave KVM_RUN soon (from any thread). */
void vcpu_kick(struct vcpu *v);

#endif
