/* SPDX-License-Identifier: MIT */
/* A one-shot hardware breakpoint (KVM_SET_GUEST_DEBUG) on the guest kernel's init-exec path:
 * linux_start_user for kernels without the guest kit's patch. */
#ifndef MOTE_X86_BREAKPOINT_H
#define MOTE_X86_BREAKPOINT_H

#include "../vm.h"

#include <stdint.h>

/* breakpoint_set_target's value for "the kernel has no such symbol". */
#define BREAKPOINT_NONE UINT64_MAX

/* Sets a hardware breakpoint on @probe, the guest's entry point, before @v
 * first runs: if it fires, breakpoints work on this host. -1 if KVM
 * refuses (the point is then unavailable). */
int breakpoint_arm(struct vcpu *v, uint64_t probe);

/* Gives @v the guest virtual address @target whose execution is
 * linux_start_user, or BREAKPOINT_NONE; from any thread, at any time (the
 * symbol lookup runs beside the guest, off the start-up path). Kick the
 * vCPU afterwards so that it sets the breakpoint without waiting for an exit. */
void breakpoint_set_target(struct vcpu *v, uint64_t target);

/* Handles KVM_EXIT_DEBUG on @v: the probe hit (breakpoints work), or the
 * target hit (record it and remove the breakpoint); a debug exception of
 * the guest's own removes the breakpoints (unavailable) and goes back to
 * the guest. */
void breakpoint_exit(struct vcpu *v);

/* Called when @v's KVM_RUN was interrupted (a kick): sets the target
 * breakpoint if the probe fired and the target is known. */
void breakpoint_poll(struct vcpu *v);

/* Called on @v's other exits: if the probe has not fired by then,
 * breakpoints do not work here (report unavailable, remove them); once it
 * has, sets the target breakpoint as soon as the target is known. */
void breakpoint_other_exit(struct vcpu *v);

#endif
