// SPDX-License-Identifier: MIT
/* The init-exec breakpoint's states (probe, waiting, armed, off) against a
 * fake KVM that records every ioctl: which debug registers are set, when
 * they are removed, and what the trace says. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kvm.h"
#include "trace.h"
#include "vm.h"
#include "x86/breakpoint.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VCPU_FD 42
#define PROBE   0x1000000ULL          /* the PVH entry */
#define TARGET  0xffffffff81e0a1c0ULL /* where init is exec'ed */
#define DR6     0xffff0ff0ULL         /* DR6 with no hit: the reserved ones */
#define DR6_B0  (DR6 | 0x1)           /* DR0 hit */
#define DR6_B1  (DR6 | 0x2)           /* DR1 hit */
#define DR6_BS  (DR6 | 0x4000)        /* a single step */
#define DR7_BP0 0x3ULL                /* DR0 locally and globally enabled, on execution */
#define DR7_BP1 0xcULL                /* DR1 the same */
#define HW_BP   (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP)

/* The guest's own debug registers, as KVM_GET_DEBUGREGS gives them. */
static const struct kvm_debugregs guest_regs = {
    .db = {0x1111, 0x2222, 0x3333, 0x4444},
    .dr6 = DR6,
    .dr7 = 0x401,
};

static struct call {
	int fd;
	unsigned long req;
	struct kvm_guest_debug dbg; /* KVM_SET_GUEST_DEBUG */
	struct kvm_debugregs regs;  /* KVM_SET_DEBUGREGS */
} calls[16];
static int nr_calls;
static unsigned long fail_req; /* the next ioctl with this request fails */

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct call *c = &calls[nr_calls];

	if (nr_calls == (int)(sizeof(calls) / sizeof(calls[0])))
		fail_msg("too many ioctls");
	nr_calls++;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->req = req;
	if (req == KVM_SET_GUEST_DEBUG)
		memcpy(&c->dbg, arg, sizeof(c->dbg));
	else if (req == KVM_SET_DEBUGREGS)
		memcpy(&c->regs, arg, sizeof(c->regs));
	if (req == fail_req) {
		fail_req = 0;
		errno = EINVAL;
		return -1;
	}
	if (req == KVM_GET_DEBUGREGS)
		memcpy(arg, &guest_regs, sizeof(guest_regs));
	return 0;
}

static struct vm vm;
static struct vcpu vcpu, *const v = &vcpu;

static int setup(void **state)
{
	(void)state;
	trace_reset();
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	vm.vm_fd = 41;
	v->vm = &vm;
	v->fd = VCPU_FD;
	v->run = calloc(1, sizeof(*v->run));
	nr_calls = 0;
	fail_req = 0;
	kvm_set_ioctl_for_tests(fake_ioctl);
	return v->run ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kvm_set_ioctl_for_tests(NULL);
	free(v->run);
	return 0;
}

/* The breakpoint's outcome as the trace reports it. */
static const char *outcome(void)
{
	static char buf[4096];
	char *p, *end;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	trace_report(f, true);
	fclose(f);
	p = strstr(buf, "\"breakpoint\":\"");
	assert_non_null(p);
	p += strlen("\"breakpoint\":\"");
	end = strchr(p, '"');
	assert_non_null(end);
	*end = '\0';
	return p;
}

/* Call @i was KVM_SET_GUEST_DEBUG on the vCPU with @control and, if it
 * enables breakpoints, @dr0, @dr1 and @dr7. */
static void assert_set_debug(int i, uint32_t control, uint64_t dr0, uint64_t dr1, uint64_t dr7)
{
	assert_true(i < nr_calls);
	assert_int_equal(calls[i].fd, VCPU_FD);
	assert_int_equal(calls[i].req, KVM_SET_GUEST_DEBUG);
	assert_int_equal(calls[i].dbg.control, control);
	if (control & KVM_GUESTDBG_ENABLE) {
		assert_int_equal(calls[i].dbg.arch.debugreg[0], dr0);
		assert_int_equal(calls[i].dbg.arch.debugreg[1], dr1);
		assert_int_equal(calls[i].dbg.arch.debugreg[7], dr7);
	}
}

/* Call @i removed every breakpoint. */
static void assert_removed(int i)
{
	assert_set_debug(i, 0, 0, 0, 0);
	assert_memory_equal(&calls[i].dbg.arch, &(struct kvm_guest_debug_arch){0},
	                    sizeof(calls[i].dbg.arch));
}

/* Calls @i.. handed the guest its own #DB with @dr6. */
static void assert_reinjected(int i, uint64_t dr6)
{
	struct kvm_debugregs want = guest_regs;

	assert_int_equal(nr_calls, i + 3);
	assert_int_equal(calls[i].req, KVM_GET_DEBUGREGS);
	assert_int_equal(calls[i].fd, VCPU_FD);
	assert_int_equal(calls[i + 1].req, KVM_SET_DEBUGREGS);
	assert_int_equal(calls[i + 1].fd, VCPU_FD);
	want.dr6 = dr6; /* what the exit said, the rest the guest's own */
	assert_memory_equal(&calls[i + 1].regs, &want, sizeof(want));
	assert_set_debug(i + 2, KVM_GUESTDBG_INJECT_DB, 0, 0, 0);
}

static void debug_exit(uint64_t pc, uint64_t dr6)
{
	v->run->exit_reason = KVM_EXIT_DEBUG;
	v->run->debug.arch.exception = 1; /* #DB */
	v->run->debug.arch.pc = pc;
	v->run->debug.arch.dr6 = dr6;
	v->run->debug.arch.dr7 = 0x400;
	breakpoint_exit(v);
}

/* The probe armed and fired; the calls so far forgotten. */
static void probe_fired(void)
{
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	debug_exit(PROBE, DR6_B0);
	assert_int_equal(v->bp_state, VCPU_BP_WAITING);
	nr_calls = 0;
}

/* The target breakpoint set; the calls so far forgotten. */
static void target_armed(void)
{
	probe_fired();
	breakpoint_set_target(v, TARGET);
	breakpoint_poll(v);
	assert_int_equal(v->bp_state, VCPU_BP_ARMED);
	nr_calls = 0;
}

static void test_arm_sets_the_probe_on_dr0(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	assert_int_equal(nr_calls, 1);
	assert_set_debug(0, HW_BP, PROBE, 0, DR7_BP0);
	assert_int_equal(v->bp_state, VCPU_BP_PROBING);
	assert_string_equal(outcome(), "not reached");
}

static void test_arm_refused_is_unavailable(void **state)
{
	(void)state;
	fail_req = KVM_SET_GUEST_DEBUG;
	assert_int_equal(breakpoint_arm(v, PROBE), -1);
	assert_int_equal(nr_calls, 1);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "unavailable");
}

static void test_probe_fires_before_the_target_is_known(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	debug_exit(PROBE, DR6_B0);
	/* Breakpoints work here; removed until the target is known. */
	assert_int_equal(nr_calls, 2);
	assert_removed(1);
	assert_int_equal(v->bp_state, VCPU_BP_WAITING);
	assert_string_equal(outcome(), "not reached");
	assert_false(trace_seen(TRACE_LINUX_START_USER));
}

static void test_probe_fires_with_the_target_known(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	breakpoint_set_target(v, TARGET);
	debug_exit(PROBE, DR6_B0);
	/* The probe goes, the target's breakpoint comes on DR1. */
	assert_int_equal(nr_calls, 3);
	assert_removed(1);
	assert_set_debug(2, HW_BP, PROBE, TARGET, DR7_BP1);
	assert_int_equal(v->bp_state, VCPU_BP_ARMED);
	assert_string_equal(outcome(), "not reached");
}

static void test_other_exit_before_the_probe(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	/* The guest ran past its entry without a debug exit: no breakpoints here. */
	breakpoint_other_exit(v);
	assert_int_equal(nr_calls, 2);
	assert_removed(1);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "unavailable");
	/* And nothing more happens after. */
	breakpoint_set_target(v, TARGET);
	breakpoint_other_exit(v);
	breakpoint_poll(v);
	assert_int_equal(nr_calls, 2);
}

static void test_poll_before_the_probe_does_nothing(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	breakpoint_set_target(v, TARGET);
	/* A kick before the first exit: the probe has not told us anything. */
	breakpoint_poll(v);
	assert_int_equal(nr_calls, 1);
	assert_int_equal(v->bp_state, VCPU_BP_PROBING);
}

static void test_waiting_without_a_target(void **state)
{
	(void)state;
	probe_fired();
	/* Kicks and exits while the symbol lookup runs: nothing to set. */
	breakpoint_poll(v);
	breakpoint_other_exit(v);
	assert_int_equal(nr_calls, 0);
	assert_int_equal(v->bp_state, VCPU_BP_WAITING);
}

static void test_target_arrives_later_with_a_kick(void **state)
{
	(void)state;
	probe_fired();
	breakpoint_set_target(v, TARGET);
	breakpoint_poll(v);
	assert_int_equal(nr_calls, 1);
	assert_set_debug(0, HW_BP, PROBE, TARGET, DR7_BP1);
	assert_int_equal(v->bp_state, VCPU_BP_ARMED);
}

static void test_target_arrives_later_with_an_exit(void **state)
{
	(void)state;
	probe_fired();
	breakpoint_set_target(v, TARGET);
	breakpoint_other_exit(v);
	assert_int_equal(nr_calls, 1);
	assert_set_debug(0, HW_BP, PROBE, TARGET, DR7_BP1);
	assert_int_equal(v->bp_state, VCPU_BP_ARMED);
}

static void test_target_refused_is_unavailable(void **state)
{
	(void)state;
	probe_fired();
	breakpoint_set_target(v, TARGET);
	fail_req = KVM_SET_GUEST_DEBUG;
	breakpoint_poll(v);
	assert_int_equal(nr_calls, 2);
	assert_removed(1);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "unavailable");
}

static void test_armed_waits_for_its_hit(void **state)
{
	(void)state;
	target_armed();
	/* Other exits and kicks leave the target's breakpoint alone. */
	breakpoint_other_exit(v);
	breakpoint_poll(v);
	assert_int_equal(nr_calls, 0);
	assert_int_equal(v->bp_state, VCPU_BP_ARMED);
	assert_false(trace_seen(TRACE_LINUX_START_USER));
}

static void test_target_fires(void **state)
{
	(void)state;
	target_armed();
	debug_exit(TARGET, DR6_B1);
	assert_true(trace_seen(TRACE_LINUX_START_USER));
	assert_string_equal(outcome(), "fired");
	/* Removed, and not handed to the guest. */
	assert_int_equal(nr_calls, 1);
	assert_removed(0);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	/* Later exits change nothing. */
	breakpoint_other_exit(v);
	breakpoint_poll(v);
	assert_int_equal(nr_calls, 1);
	assert_string_equal(outcome(), "fired");
}

static void test_no_symbol_after_the_probe(void **state)
{
	(void)state;
	probe_fired();
	breakpoint_set_target(v, BREAKPOINT_NONE);
	breakpoint_poll(v);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "no symbol");
	/* Nothing was set on the missing address. */
	assert_int_equal(nr_calls, 1);
	assert_removed(0);
}

static void test_no_symbol_known_at_the_probe(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	breakpoint_set_target(v, BREAKPOINT_NONE);
	debug_exit(PROBE, DR6_B0);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "no symbol");
	assert_int_equal(nr_calls, 3); /* arm, then the probe removed twice */
	assert_removed(1);
	assert_removed(2);
}

static void test_guest_single_step_while_armed(void **state)
{
	(void)state;
	target_armed();
	/* The guest's own #DB (a single step): not ours. Breakpoints are
	 * removed (no time from them) and the guest gets its #DB. */
	debug_exit(0xffffffff81000123ULL, DR6_BS);
	assert_removed(0);
	assert_reinjected(1, DR6_BS);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "unavailable");
	assert_false(trace_seen(TRACE_LINUX_START_USER));
}

static void test_guest_single_step_while_probing(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	nr_calls = 0;
	/* At the probe's address, but DR6 says single step, not DR0. */
	debug_exit(PROBE, DR6_BS);
	assert_removed(0);
	assert_reinjected(1, DR6_BS);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "unavailable");
}

static void test_dr1_hit_elsewhere_is_not_ours(void **state)
{
	(void)state;
	target_armed();
	/* DR1's bit, at an address mote did not set. */
	debug_exit(TARGET + 1, DR6_B1);
	assert_removed(0);
	assert_reinjected(1, DR6_B1);
	assert_string_equal(outcome(), "unavailable");
	assert_false(trace_seen(TRACE_LINUX_START_USER));
}

static void test_dr0_hit_elsewhere_is_not_ours(void **state)
{
	(void)state;
	assert_int_equal(breakpoint_arm(v, PROBE), 0);
	nr_calls = 0;
	debug_exit(PROBE + 0x10, DR6_B0);
	assert_removed(0);
	assert_reinjected(1, DR6_B0);
	assert_int_equal(v->bp_state, VCPU_BP_OFF);
	assert_string_equal(outcome(), "unavailable");
}

static void test_probe_bit_while_armed_is_not_ours(void **state)
{
	(void)state;
	target_armed();
	/* DR0 is no longer enabled: a B0 hit at the target is not the target's. */
	debug_exit(TARGET, DR6_B0);
	assert_removed(0);
	assert_reinjected(1, DR6_B0);
	assert_string_equal(outcome(), "unavailable");
}

static void test_reinject_without_debugregs(void **state)
{
	(void)state;
	target_armed();
	fail_req = KVM_GET_DEBUGREGS;
	debug_exit(0x1234, DR6_BS);
	/* DR6 cannot be set, the #DB is still the guest's. */
	assert_int_equal(nr_calls, 3);
	assert_removed(0);
	assert_int_equal(calls[1].req, KVM_GET_DEBUGREGS);
	assert_set_debug(2, KVM_GUESTDBG_INJECT_DB, 0, 0, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_arm_sets_the_probe_on_dr0),
	    T(test_arm_refused_is_unavailable),
	    T(test_probe_fires_before_the_target_is_known),
	    T(test_probe_fires_with_the_target_known),
	    T(test_other_exit_before_the_probe),
	    T(test_poll_before_the_probe_does_nothing),
	    T(test_waiting_without_a_target),
	    T(test_target_arrives_later_with_a_kick),
	    T(test_target_arrives_later_with_an_exit),
	    T(test_target_refused_is_unavailable),
	    T(test_armed_waits_for_its_hit),
	    T(test_target_fires),
	    T(test_no_symbol_after_the_probe),
	    T(test_no_symbol_known_at_the_probe),
	    T(test_guest_single_step_while_armed),
	    T(test_guest_single_step_while_probing),
	    T(test_dr1_hit_elsewhere_is_not_ours),
	    T(test_dr0_hit_elsewhere_is_not_ours),
	    T(test_probe_bit_while_armed_is_not_ours),
	    T(test_reinject_without_debugregs),
	};

	return cmocka_run_group_tests_name("breakpoint", tests, NULL, NULL);
}
