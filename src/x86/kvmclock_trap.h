/* SPDX-License-Identifier: MIT */
/* A one-shot trap on the guest's first kvm-clock MSR write: linux_start_kernel for unmodified
 * kernels. */
#ifndef MOTE_X86_KVMCLOCK_TRAP_H
#define MOTE_X86_KVMCLOCK_TRAP_H

#include "../vm.h"

/* MSR_KVM_SYSTEM_TIME_NEW: Linux writes it in setup_arch (kvmclock_init). */
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01U

/* Makes the guest's writes of the kvm-clock MSR exit to mote (KVM's MSR
 * filter); returns -1 if this KVM cannot (the point is then unavailable). */
int kvmclock_trap_arm(struct vm *vm);

/* Handles KVM_EXIT_X86_WRMSR on @v: records linux_start_kernel, removes the
 * filter and performs the write for the guest. */
void kvmclock_trap_exit(struct vcpu *v);

#endif
