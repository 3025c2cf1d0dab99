// SPDX-License-Identifier: MIT
/* The kvm-clock MSR trap against a fake KVM: arming enables user-space MSR
 * exits and filters the one MSR's writes; the exit marks
 * linux_start_kernel, removes the filter and performs the write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "kvm.h"
#include "trace.h"
#include "vm.h"
#include "x86/kvmclock_trap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VM_FD   41
#define VCPU_FD 42

static struct call {
	int fd;
	unsigned long req;
	struct kvm_enable_cap cap;    /* KVM_ENABLE_CAP */
	struct kvm_msr_filter filter; /* KVM_X86_SET_MSR_FILTER */
	uint8_t bitmap0;              /* the first byte of its first range's bitmap */
	uint32_t nmsrs;               /* KVM_SET_MSRS */
	struct kvm_msr_entry entry;   /* its first entry */
} calls[8];
static int nr_calls;
static unsigned long fail_req; /* requests with it fail with fail_errno */
static int fail_errno;
static int set_msrs_result; /* what KVM_SET_MSRS returns: MSRs written */

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct call *c = &calls[nr_calls];

	if (nr_calls == (int)(sizeof(calls) / sizeof(calls[0])))
		fail_msg("too many ioctls");
	nr_calls++;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->req = req;
	if (req == KVM_ENABLE_CAP) {
		memcpy(&c->cap, arg, sizeof(c->cap));
	} else if (req == KVM_X86_SET_MSR_FILTER) {
		memcpy(&c->filter, arg, sizeof(c->filter));
		if (c->filter.ranges[0].bitmap)
			c->bitmap0 = c->filter.ranges[0].bitmap[0];
	} else if (req == KVM_SET_MSRS) {
		const struct kvm_msrs *m = arg;

		c->nmsrs = m->nmsrs;
		if (m->nmsrs)
			c->entry = m->entries[0];
	}
	if (req == fail_req) {
		errno = fail_errno;
		return -1;
	}
	return req == KVM_SET_MSRS ? set_msrs_result : 0;
}

static struct vm vm;
static struct vcpu vcpu;
static struct kvm_run *run;

static int setup(void **state)
{
	(void)state;
	trace_reset();
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	vm.vm_fd = VM_FD;
	vcpu.vm = &vm;
	vcpu.fd = VCPU_FD;
	run = calloc(1, sizeof(*run));
	vcpu.run = run;
	nr_calls = 0;
	fail_req = 0;
	set_msrs_result = 1;
	kvm_set_ioctl_for_tests(fake_ioctl);
	return run ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kvm_set_ioctl_for_tests(NULL);
	free(run);
	return 0;
}

/* The guest wrote @data to the kvm-clock MSR and the filter sent it here. */
static void wrmsr_exit(uint64_t data)
{
	run->exit_reason = KVM_EXIT_X86_WRMSR;
	run->msr.reason = KVM_MSR_EXIT_REASON_FILTER;
	run->msr.index = MSR_KVM_SYSTEM_TIME_NEW;
	run->msr.data = data;
	run->msr.error = 0xaa; /* must be set either way */
	kvmclock_trap_exit(&vcpu);
}

static void test_arm_enables_msr_exits(void **state)
{
	(void)state;
	assert_int_equal(kvmclock_trap_arm(&vm), 0);
	assert_int_equal(nr_calls, 2);
	/* First: filtered MSR accesses exit to user space. */
	assert_int_equal(calls[0].fd, VM_FD);
	assert_int_equal(calls[0].req, KVM_ENABLE_CAP);
	assert_int_equal(calls[0].cap.cap, KVM_CAP_X86_USER_SPACE_MSR);
	assert_int_equal(calls[0].cap.args[0], KVM_MSR_EXIT_REASON_FILTER);
	assert_int_equal(calls[0].cap.flags, 0);
}

static void test_arm_filters_the_kvmclock_write(void **state)
{
	const struct kvm_msr_filter *f = &calls[1].filter;

	(void)state;
	assert_int_equal(kvmclock_trap_arm(&vm), 0);
	assert_int_equal(calls[1].fd, VM_FD);
	assert_int_equal(calls[1].req, KVM_X86_SET_MSR_FILTER);
	/* Every other MSR as before; writes of MSR_KVM_SYSTEM_TIME_NEW denied
	 * (bit 0 clear), so they exit. Reads are not filtered. */
	assert_int_equal(f->flags, KVM_MSR_FILTER_DEFAULT_ALLOW);
	assert_int_equal(f->ranges[0].flags, KVM_MSR_FILTER_WRITE);
	assert_int_equal(f->ranges[0].base, 0x4b564d01);
	assert_int_equal(f->ranges[0].nmsrs, 1);
	assert_non_null(f->ranges[0].bitmap);
	assert_int_equal(calls[1].bitmap0 & 1, 0);
	/* One range only. */
	for (int i = 1; i < KVM_MSR_FILTER_MAX_RANGES; i++)
		assert_int_equal(f->ranges[i].nmsrs, 0);
}

static void test_arm_without_the_capability(void **state)
{
	(void)state;
	fail_req = KVM_ENABLE_CAP;
	fail_errno = EINVAL;
	assert_int_equal(kvmclock_trap_arm(&vm), -1);
	/* No filter without the exits it needs. */
	assert_int_equal(nr_calls, 1);
}

static void test_arm_filter_refused(void **state)
{
	(void)state;
	fail_req = KVM_X86_SET_MSR_FILTER;
	fail_errno = EINVAL;
	assert_int_equal(kvmclock_trap_arm(&vm), -1);
	assert_int_equal(nr_calls, 2);
}

static void test_exit_marks_start_kernel(void **state)
{
	(void)state;
	assert_false(trace_seen(TRACE_LINUX_START_KERNEL));
	wrmsr_exit(0x12345001);
	assert_true(trace_seen(TRACE_LINUX_START_KERNEL));
	assert_false(trace_seen(TRACE_LINUX_START_USER));
}

static void test_exit_removes_the_filter(void **state)
{
	const struct kvm_msr_filter none = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};

	(void)state;
	wrmsr_exit(0x12345001);
	/* A filter that allows everything, with no ranges: one trap only. */
	assert_true(nr_calls >= 1);
	assert_int_equal(calls[0].fd, VM_FD);
	assert_int_equal(calls[0].req, KVM_X86_SET_MSR_FILTER);
	assert_memory_equal(&calls[0].filter, &none, sizeof(none));
}

static void test_exit_performs_the_write(void **state)
{
	(void)state;
	wrmsr_exit(0x7654321001ULL);
	/* KVM skips the WRMSR once user space handled it: mote writes the
	 * MSR for the guest, on the vCPU, with the guest's value. */
	assert_int_equal(nr_calls, 2);
	assert_int_equal(calls[1].fd, VCPU_FD);
	assert_int_equal(calls[1].req, KVM_SET_MSRS);
	assert_int_equal(calls[1].nmsrs, 1);
	assert_int_equal(calls[1].entry.index, MSR_KVM_SYSTEM_TIME_NEW);
	assert_int_equal(calls[1].entry.data, 0x7654321001ULL);
	assert_int_equal(run->msr.error, 0);
}

static void test_exit_write_refused_faults_the_guest(void **state)
{
	(void)state;
	/* KVM_SET_MSRS wrote none: the guest's WRMSR gets its #GP. */
	set_msrs_result = 0;
	wrmsr_exit(0x1001);
	assert_int_equal(run->msr.error, 1);
	assert_true(trace_seen(TRACE_LINUX_START_KERNEL));
}

static void test_exit_write_failed_faults_the_guest(void **state)
{
	(void)state;
	fail_req = KVM_SET_MSRS;
	fail_errno = EINVAL;
	wrmsr_exit(0x1001);
	assert_int_equal(run->msr.error, 1);
}

static void exit_with_the_filter_stuck(void)
{
	int null = open("/dev/null", O_WRONLY);

	dup2(null, STDERR_FILENO);
	fail_req = KVM_X86_SET_MSR_FILTER;
	fail_errno = EIO;
	wrmsr_exit(0x1001);
}

static void test_filter_removal_failure_is_an_error(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	/* The trap would fire on every write of the MSR: mote stops (here on
	 * the main thread: exits with an error). */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		exit_with_the_filter_stuck();
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_ERROR);
}

static int returns_five(int fd, unsigned long req, void *arg)
{
	(void)fd;
	(void)req;
	(void)arg;
	return 5;
}

static void test_the_seam_keeps_kvm_ioctl_try(void **state)
{
	(void)state;
	/* What the fakes rely on: -1 and errno become -errno, the rest is
	 * passed on; NULL gives the real ioctl back. */
	fail_req = KVM_CHECK_EXTENSION;
	fail_errno = E2BIG;
	assert_int_equal(kvm_ioctl_try(VM_FD, KVM_CHECK_EXTENSION, NULL), -E2BIG);
	kvm_set_ioctl_for_tests(returns_five);
	assert_int_equal(kvm_ioctl_try(VM_FD, KVM_CHECK_EXTENSION, NULL), 5);
	kvm_set_ioctl_for_tests(NULL);
	assert_int_equal(kvm_ioctl_try(-1, KVM_GET_API_VERSION, NULL), -EBADF);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_arm_enables_msr_exits),
	    T(test_arm_filters_the_kvmclock_write),
	    T(test_arm_without_the_capability),
	    T(test_arm_filter_refused),
	    T(test_exit_marks_start_kernel),
	    T(test_exit_removes_the_filter),
	    T(test_exit_performs_the_write),
	    T(test_exit_write_refused_faults_the_guest),
	    T(test_exit_write_failed_faults_the_guest),
	    T(test_filter_removal_failure_is_an_error),
	    T(test_the_seam_keeps_kvm_ioctl_try),
	};

	return cmocka_run_group_tests_name("kvmclock_trap", tests, NULL, NULL);
}
