// SPDX-License-Identifier: MIT
#include "kvmclock_trap.h"

#include "../kvm.h"
#include "../trace.h"

#include <linux/kvm.h>
#include <stdio.h>

int kvmclock_trap_arm(struct vm *vm)
{
	static uint8_t deny; /* one bit, 0: the write exits */
	struct kvm_enable_cap cap = {
	    .cap = KVM_CAP_X86_USER_SPACE_MSR,
	    .args = {KVM_MSR_EXIT_REASON_FILTER},
	};
	struct kvm_msr_filter filter = {
	    .flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
	    .ranges = {{
	        .flags = KVM_MSR_FILTER_WRITE,
	        .nmsrs = 1,
	        .base = MSR_KVM_SYSTEM_TIME_NEW,
	        .bitmap = &deny,
	    }},
	};

	if (kvm_ioctl_try(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    kvm_ioctl_try(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
		return -1;
	return 0;
}

void kvmclock_trap_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	struct kvm_msr_filter allow = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry entry;
	} msrs = {
	    .head = {.nmsrs = 1},
	    .entry = {.index = r->msr.index, .data = r->msr.data},
	};

	trace_mark(TRACE_LINUX_START_KERNEL);
	kvm_ioctl(v->vm->vm_fd, KVM_X86_SET_MSR_FILTER, &allow);
	r->msr.error = kvm_ioctl_try(v->fd, KVM_SET_MSRS, &msrs) == 1 ? 0 : 1;
}
