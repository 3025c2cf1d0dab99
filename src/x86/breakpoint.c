// SPDX-License-Identifier: MIT
#include "breakpoint.h"

#include "../kvm.h"
#include "../trace.h"

#include <linux/kvm.h>

/* DR7: local and global enable of DR0 or of DR1; R/W and LEN 0 (on execution). */
#define DR7_BP0 0x3ULL
#define DR7_BP1 0xcULL
/* DR6: which breakpoint hit. */
#define DR6_B0 0x1ULL
#define DR6_B1 0x2ULL

/* Enables hardware breakpoints with @dr7 (DR0 the probe, DR1 the target); 0 removes them. */
static int set_debug(struct vcpu *v, uint64_t dr7)
{
	struct kvm_guest_debug d = {0};

	if (dr7) {
		d.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		d.arch.debugreg[0] = v->bp_probe;
		d.arch.debugreg[1] = atomic_load(&v->bp_target);
		d.arch.debugreg[7] = dr7;
	}
	return kvm_ioctl_try(v->fd, KVM_SET_GUEST_DEBUG, &d);
}

/* Removes the breakpoints and records how they fared. */
static void finish(struct vcpu *v, enum trace_bp outcome)
{
	v->bp_state = VCPU_BP_OFF;
	set_debug(v, 0);
	trace_breakpoint(outcome);
}

/* After the probe: sets the target breakpoint once its address is known. */
static void try_target(struct vcpu *v)
{
	uint64_t target = atomic_load(&v->bp_target);

	if (!target)
		return;
	if (target == BREAKPOINT_NONE)
		finish(v, TRACE_BP_NO_SYMBOL);
	else if (set_debug(v, DR7_BP1) < 0)
		finish(v, TRACE_BP_UNAVAILABLE);
	else
		v->bp_state = VCPU_BP_ARMED;
}

int breakpoint_arm(struct vcpu *v, uint64_t probe)
{
	v->bp_probe = probe;
	if (set_debug(v, DR7_BP0) < 0) {
		trace_breakpoint(TRACE_BP_UNAVAILABLE);
		return -1;
	}
	v->bp_state = VCPU_BP_PROBING;
	trace_breakpoint(TRACE_BP_ARMED);
	return 0;
}

void breakpoint_set_target(struct vcpu *v, uint64_t target)
{
	atomic_store(&v->bp_target, target);
}

/* Gives the guest a debug exception that was its own (a watchpoint, a
 * single step): KVM sends every #DB to mote while breakpoints are set. */
static void reinject(struct vcpu *v, uint64_t dr6)
{
	struct kvm_debugregs regs;
	struct kvm_guest_debug inject = {.control = KVM_GUESTDBG_INJECT_DB};

	if (kvm_ioctl_try(v->fd, KVM_GET_DEBUGREGS, &regs) == 0) {
		regs.dr6 = dr6;
		kvm_ioctl_try(v->fd, KVM_SET_DEBUGREGS, &regs);
	}
	kvm_ioctl_try(v->fd, KVM_SET_GUEST_DEBUG, &inject);
}

void breakpoint_exit(struct vcpu *v)
{
	uint64_t pc = v->run->debug.arch.pc, dr6 = v->run->debug.arch.dr6;

	if (v->bp_state == VCPU_BP_PROBING && (dr6 & DR6_B0) && pc == v->bp_probe) {
		v->bp_state = VCPU_BP_WAITING;
		set_debug(v, 0);
		try_target(v);
	} else if (v->bp_state == VCPU_BP_ARMED && (dr6 & DR6_B1) &&
	           pc == atomic_load(&v->bp_target)) {
		trace_mark_breakpoint();
		finish(v, TRACE_BP_FIRED);
	} else {
		/* Not ours: trust no time from breakpoints, hand it to the guest. */
		finish(v, TRACE_BP_UNAVAILABLE);
		reinject(v, dr6);
	}
}

void breakpoint_poll(struct vcpu *v)
{
	if (v->bp_state == VCPU_BP_WAITING)
		try_target(v);
}

void breakpoint_other_exit(struct vcpu *v)
{
	if (v->bp_state == VCPU_BP_PROBING)
		finish(v, TRACE_BP_UNAVAILABLE);
	else if (v->bp_state == VCPU_BP_WAITING)
		try_target(v);
}
