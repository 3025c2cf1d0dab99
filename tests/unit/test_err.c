// SPDX-License-Identifier: MIT
/* Errors: die() on a vCPU thread ends the VM, not mote; messages a guest
 * can cause are rate-limited; usage errors and errors exit 2 and 1. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "vm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

static void test_ratelimit_one_per_second(void **state)
{
	struct ratelimit rl = {0};
	const uint64_t s = 1000000000ULL;

	(void)state;
	assert_int_equal(ratelimit_allow(&rl, 5 * s), 0);
	assert_int_equal(ratelimit_allow(&rl, 5 * s + 1), -1);
	assert_int_equal(ratelimit_allow(&rl, 5 * s + s / 2), -1);
	assert_int_equal(ratelimit_allow(&rl, 6 * s - 1), -1);
	assert_int_equal(ratelimit_allow(&rl, 6 * s), 3); /* the three held back */
	assert_int_equal(ratelimit_allow(&rl, 9 * s), 0);
}

/* Runs @fn with stderr going to a file; returns how many lines it wrote. */
static int stderr_lines(void (*fn)(void), char *last, size_t n)
{
	char path[] = "/tmp/mote-stderr-XXXXXX", line[1024];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), lines = 0;
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		snprintf(last, n, "%s", line);
	}
	fclose(f);
	unlink(path);
	return lines;
}

static struct ratelimit flood_kind;

static void flood(void)
{
	for (int i = 0; i < 10000; i++)
		warn_limited(&flood_kind, "virtio-balloon: bad ring %d", i);
}

static void test_a_flood_gives_one_line(void **state)
{
	char last[1024];

	(void)state;
	assert_int_equal(stderr_lines(flood, last, sizeof(last)), 1);
	assert_string_equal(last, "mote: virtio-balloon: bad ring 0\n");
	assert_true(atomic_load(&flood_kind.suppressed) >= 9000);
}

static struct vm vm;
static struct vcpu vcpu0;

static void *vcpu_that_dies(void *arg)
{
	(void)arg;
	vm_vcpu_thread_enter(&vm.vcpus[0]);
	die("vCPU 0: KVM_SET_REGS failed: Invalid argument");
}

static void test_die_on_a_vcpu_thread_stops_the_vm(void **state)
{
	pthread_t t;
	uint64_t n = 0;

	(void)state;
	memset(&vm, 0, sizeof(vm));
	vm.done_fd = eventfd(0, 0);
	vm.nr_vcpus = 1;
	vm.vcpus = &vcpu0;
	vm.vcpus[0].vm = &vm;
	assert_int_equal(pthread_create(&t, NULL, vcpu_that_dies, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0); /* the thread ended, mote did not */
	assert_int_equal(atomic_load(&vm.exit), VM_EXIT_ERROR);
	assert_string_equal(vm.exit_msg, "vCPU 0: KVM_SET_REGS failed: Invalid argument");
	assert_int_equal(read(vm.done_fd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1); /* the main thread is told */
	close(vm.done_fd);
}

/* The exit status of a child that runs @fn. */
static int child_status(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		fn();
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void main_thread_dies(void)
{
	die("kernel '/x': No such file");
}

static void bad_usage(void)
{
	usage_error("--memory '12X': not a size");
}

static void test_exit_statuses(void **state)
{
	(void)state;
	assert_int_equal(child_status(main_thread_dies), EXIT_ERROR);
	assert_int_equal(child_status(bad_usage), EXIT_USAGE);
	_Static_assert(EXIT_GUEST_ENDED == 0 && EXIT_ERROR == 1 && EXIT_USAGE == 2,
	               "the README's table");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratelimit_one_per_second),
	    cmocka_unit_test(test_a_flood_gives_one_line),
	    cmocka_unit_test(test_die_on_a_vcpu_thread_stops_the_vm),
	    cmocka_unit_test(test_exit_statuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
