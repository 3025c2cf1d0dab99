// SPDX-License-Identifier: MIT
/* COM1 as mote wires it: the guest's output reaches stdout at a newline, a
 * full buffer, an IER write or the VM's stop; IRQ 4 is an irqfd; typed
 * bytes reach the receiver. KVM is a fake (kvm_set_ioctl_for_tests), stdout
 * a pipe. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bus.h"
#include "console.h"
#include "device.h"
#include "hw/uart16550.h"
#include "kvm.h"
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define COM1    0x3f8
#define OUT_BUF 256 /* serial.c's output buffer */
#define VM_FD   41

/* The device table's bounds (device.c walks the same section). */

static const struct device *serial;
static struct vm vm;
static struct kvm_irqfd irqfd; /* what KVM_IRQFD was given */
static int nr_irqfds;
static int out_fd = -1, saved_stdout = -1;

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (fd == VM_FD && req == KVM_IRQFD) {
		memcpy(&irqfd, arg, sizeof(irqfd));
		nr_irqfds++;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static int setup(void **state)
{
	int p[2];

	(void)state;
	serial = device_find("serial");
	if (!serial)
		return -1;
	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = VM_FD;
	nr_irqfds = 0;
	bus_reset();
	kvm_set_ioctl_for_tests(fake_ioctl);
	/* The guest's output goes to a pipe we read. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	out_fd = p[0];
	fcntl(out_fd, F_SETFL, O_NONBLOCK);
	return serial->init(&vm);
}

static int teardown(void **state)
{
	(void)state;
	serial->stop(&vm); /* the next test starts with an empty buffer */
	fflush(stdout);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	close(out_fd);
	close((int)irqfd.fd);
	console_set_sink(NULL, NULL);
	kvm_set_ioctl_for_tests(NULL);
	bus_reset();
	return 0;
}

/* What reached stdout so far, NUL-terminated. */
static const char *output(void)
{
	static char buf[4 * OUT_BUF];
	ssize_t n = read(out_fd, buf, sizeof(buf) - 1);

	if (n < 0) {
		assert_int_equal(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static void outb(unsigned reg, uint8_t val)
{
	assert_true(bus_dispatch(NULL, BUS_PIO, COM1 + reg, &val, 1, true));
}

static uint8_t inb(unsigned reg)
{
	uint8_t val = 0;

	assert_true(bus_dispatch(NULL, BUS_PIO, COM1 + reg, &val, 1, false));
	return val;
}

static void guest_prints(const char *s)
{
	while (*s)
		outb(UART_RBR, (uint8_t)*s++);
}

static void test_init_wires_irq_4(void **state)
{
	char link[64] = "";
	char path[64];

	(void)state;
	assert_int_equal(nr_irqfds, 1);
	assert_int_equal(irqfd.gsi, 4);
	assert_int_equal(irqfd.flags, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%u", irqfd.fd);
	assert_true(readlink(path, link, sizeof(link) - 1) > 0);
	assert_string_equal(link, "anon_inode:[eventfd]");
}

static void test_claims_the_com1_ports(void **state)
{
	uint8_t val;

	(void)state;
	assert_int_equal(inb(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(inb(UART_MSR), UART_MSR_NORMAL);
	/* Eight ports, no more. */
	assert_false(bus_dispatch(NULL, BUS_PIO, COM1 + UART_NR_REGS, &val, 1, false));
	assert_false(bus_dispatch(NULL, BUS_PIO, COM1 - 1, &val, 1, false));
}

static void test_output_waits_for_a_newline(void **state)
{
	(void)state;
	guest_prints("abc");
	assert_string_equal(output(), "");
	guest_prints("\n");
	assert_string_equal(output(), "abc\n");
	guest_prints("d");
	assert_string_equal(output(), "");
}

static void test_a_full_buffer_goes_out(void **state)
{
	char want[OUT_BUF + 1];

	(void)state;
	for (int i = 0; i < OUT_BUF - 1; i++)
		outb(UART_RBR, (uint8_t)('a' + i % 26));
	assert_string_equal(output(), "");
	outb(UART_RBR, '!');
	for (int i = 0; i < OUT_BUF - 1; i++)
		want[i] = (char)('a' + i % 26);
	want[OUT_BUF - 1] = '!';
	want[OUT_BUF] = '\0';
	assert_string_equal(output(), want);
}

static void test_an_ier_write_flushes(void **state)
{
	(void)state;
	/* A prompt without a newline: the 8250 driver rewrites IER when it
	 * has sent everything. */
	guest_prints("login: ");
	outb(UART_LCR, 0x03);
	outb(UART_SCR, 0x55);
	outb(UART_MCR, 0x0b);
	assert_string_equal(output(), ""); /* other registers do not */
	outb(UART_IER, 0);
	assert_string_equal(output(), "login: ");
}

static void test_stop_flushes_the_rest(void **state)
{
	(void)state;
	guest_prints("line\ntail");
	assert_string_equal(output(), "line\n");
	serial->stop(&vm);
	assert_string_equal(output(), "tail");
}

static void test_stop_with_nothing_left(void **state)
{
	(void)state;
	guest_prints("done\n");
	assert_string_equal(output(), "done\n");
	serial->stop(&vm);
	assert_string_equal(output(), "");
}

static void test_loopback_sends_nothing(void **state)
{
	(void)state;
	outb(UART_MCR, UART_MCR_LOOP); /* the driver's probe */
	guest_prints("probe\n");
	serial->stop(&vm);
	assert_string_equal(output(), "");
}

static void test_wide_accesses_are_ignored(void **state)
{
	uint8_t two[2] = {'x', '\n'};

	(void)state;
	assert_true(bus_dispatch(NULL, BUS_PIO, COM1, two, 2, true));
	serial->stop(&vm);
	assert_string_equal(output(), "");
	assert_true(bus_dispatch(NULL, BUS_PIO, COM1 + UART_LSR, two, 2, false));
	assert_int_equal(two[0], 0xff);
	assert_int_equal(two[1], 0xff);
}

static void test_interrupts_go_to_the_irqfd(void **state)
{
	uint64_t edges = 0;

	(void)state;
	assert_int_equal(read((int)irqfd.fd, &edges, sizeof(edges)), -1); /* none yet */
	outb(UART_IER, UART_IER_THRI);
	assert_int_equal(read((int)irqfd.fd, &edges, sizeof(edges)), sizeof(edges));
	assert_int_equal(edges, 1);
}

static void test_typed_bytes_reach_the_guest(void **state)
{
	struct itimerspec soon = {.it_value = {.tv_nsec = 20000000}};
	int p[2], saved_stdin = dup(STDIN_FILENO);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	(void)state;
	/* stdin a pipe with two bytes; the console pump runs until the timer. */
	assert_true(saved_stdin >= 0 && tfd >= 0);
	assert_int_equal(pipe(p), 0);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	assert_int_equal(write(p[1], "hi", 2), 2);
	close(p[1]);
	assert_int_equal(timerfd_settime(tfd, 0, &soon, NULL), 0);
	assert_int_equal(console_pump(tfd), 0);
	dup2(saved_stdin, STDIN_FILENO);
	close(saved_stdin);
	close(tfd);
	assert_true(inb(UART_LSR) & UART_LSR_DR);
	assert_int_equal(inb(UART_RBR), 'h');
	assert_int_equal(inb(UART_RBR), 'i');
	assert_false(inb(UART_LSR) & UART_LSR_DR);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_wires_irq_4),
	    T(test_claims_the_com1_ports),
	    T(test_output_waits_for_a_newline),
	    T(test_a_full_buffer_goes_out),
	    T(test_an_ier_write_flushes),
	    T(test_stop_flushes_the_rest),
	    T(test_stop_with_nothing_left),
	    T(test_loopback_sends_nothing),
	    T(test_wide_accesses_are_ignored),
	    T(test_interrupts_go_to_the_irqfd),
	    T(test_typed_bytes_reach_the_guest),
	};

	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
