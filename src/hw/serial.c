// SPDX-License-Identifier: MIT
/* COM1: a 16550A at 0x3f8, IRQ 4, wired to mote's stdin and stdout. */
#include "../bus.h"
#include "../console.h"
#include "../device.h"
#include "../err.h"
#include "../kvm.h"
#include "../snapshot/stream.h"
#include "../vm.h"
#include "../x86/aml.h"
#include "uart16550.h"

#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define COM1_PORT 0x3f8
#define COM1_IRQ  4
#define OUT_BUF   256

static struct serial {
	struct uart uart;
	struct vm *vm;
	int irq_fd; /* irqfd: each write is an edge on COM1_IRQ */
	/* The registers and the output buffer: several vCPUs may write at once.
	 * Never held while writing to stdout, which can block. */
	pthread_mutex_t lock;
	uint8_t out[OUT_BUF];
	size_t out_len;
	bool flush; /* the buffer is due out after this access */
} com1 = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* How long the last flush at stop waits for a stalled stdout. */
#define STOP_FLUSH_MS 1000

/* Writes the buffered output. While the VM runs a write may block: a kick
 * (the VM stopping) interrupts it. At stop nothing would interrupt it, so
 * there it waits at most STOP_FLUSH_MS for stdout to take more. */
static void write_out(struct serial *s, const uint8_t *out, size_t len, bool stopping)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
		ssize_t n;

		if (stopping && poll(&p, 1, STOP_FLUSH_MS) <= 0) {
			warnx_("serial: stdout took no output for %d ms; %zu bytes dropped",
			       STOP_FLUSH_MS, len - done);
			break;
		}
		n = write(STDOUT_FILENO, out + done, len - done);
		if (n < 0 && errno == EINTR && atomic_load(&s->vm->exit) == VM_RUNNING)
			continue;
		if (n <= 0)
			break; /* the reader went away, or the VM stops: drop the output */
		done += (size_t)n;
	}
}

static void flush_out(struct serial *s, bool stopping)
{
	write_out(s, s->out, s->out_len, stopping);
	s->out_len = 0;
}

static void tx_byte(struct uart *u, uint8_t byte)
{
	struct serial *s = u->opaque;

	s->out[s->out_len++] = byte;
	if (byte == '\n' || s->out_len == OUT_BUF)
		s->flush = true; /* at the end of this access: one byte per access */
}

static void irq_edge(struct uart *u)
{
	struct serial *s = u->opaque;
	uint64_t one = 1;

	if (write(s->irq_fd, &one, sizeof(one)) < 0)
		warnx_("serial: cannot raise IRQ %d: %s", COM1_IRQ, strerror(errno));
}

static void serial_io(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                      bool is_write, void *opaque)
{
	struct serial *s = opaque;

	uint8_t out[OUT_BUF];
	size_t n = 0;

	(void)vcpu;
	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (!is_write) {
		data[0] = uart_read(&s->uart, (unsigned)offset);
	} else {
		uart_write(&s->uart, (unsigned)offset, data[0]);
		/* The 8250 driver rewrites IER when it finishes sending: a
		 * prompt without a newline is complete then. */
		if (offset == UART_IER && s->out_len)
			s->flush = true;
	}
	if (s->flush) {
		n = s->out_len;
		memcpy(out, s->out, n);
		s->out_len = 0;
		s->flush = false;
	}
	pthread_mutex_unlock(&s->lock);
	if (n)
		write_out(s, out, n, false);
}

static size_t serial_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;

	return uart_receive(&s->uart, buf, len);
}

static int serial_init(struct vm *vm)
{
	struct kvm_irqfd irqfd = {.gsi = COM1_IRQ};

	uart_init(&com1.uart, tx_byte, irq_edge, &com1);
	com1.vm = vm;
	com1.irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (com1.irq_fd < 0)
		return -1;
	irqfd.fd = (uint32_t)com1.irq_fd;
	kvm_ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
	if (bus_register(BUS_PIO, COM1_PORT, UART_NR_REGS, serial_io, &com1) < 0)
		return -1;
	console_set_sink(serial_input, &com1);
	return 0;
}

static void serial_stop(struct vm *vm)
{
	(void)vm;
	flush_out(&com1, true);
}

/* COM1 in the DSDT: a 16550 (PNP0501) at its ports and IRQ. */
static void serial_aml(const struct vm *vm, struct aml *a)
{
	uint8_t res[16];
	size_t n;

	(void)vm;
	n = aml_res_io(res, COM1_PORT, UART_NR_REGS);
	n += aml_res_irq(res + n, COM1_IRQ);
	aml_device(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_int(a, "_UID", 0);
	aml_name_resources(a, "_CRS", res, n);
	aml_close(a);
}

DEVICE_REGISTER_FULL(serial, serial_init, serial_stop, NULL, serial_aml);

/* COM1's registers in a snapshot; what the guest had not read yet of the
 * console's input stays behind. */
struct serial_wire {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fifo, thre_pending;
};

static int serial_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	struct serial_wire s;

	(void)vm, (void)e;
	flush_out(&com1, false);
	pthread_mutex_lock(&com1.lock);
	s = (struct serial_wire){
	    .ier = com1.uart.ier,
	    .lcr = com1.uart.lcr,
	    .mcr = com1.uart.mcr,
	    .scr = com1.uart.scr,
	    .dll = com1.uart.dll,
	    .dlm = com1.uart.dlm,
	    .fifo = com1.uart.fifo,
	    .thre_pending = com1.uart.thre_pending,
	};
	pthread_mutex_unlock(&com1.lock);
	snap_put_device(w, "serial", &s, sizeof(s));
	return 0;
}

static int serial_load(struct vm *vm, struct snap *snap, struct err *e)
{
	struct serial_wire s;
	const uint8_t *data;
	uint64_t len;

	(void)vm;
	if (!snap_get_device(snap, "serial", &data, &len) || len != sizeof(s))
		return err_set(e, "no COM1 state of %zu bytes", sizeof(s));
	memcpy(&s, data, sizeof(s));
	if (s.fifo > 1 || s.thre_pending > 1 || (s.ier & ~0x0fU))
		return err_set(e, "COM1 state out of range (IER 0x%x)", s.ier);
	pthread_mutex_lock(&com1.lock);
	com1.uart.ier = s.ier;
	atomic_store(&com1.uart.ier_shadow, s.ier);
	com1.uart.lcr = s.lcr;
	com1.uart.mcr = s.mcr;
	com1.uart.scr = s.scr;
	com1.uart.dll = s.dll;
	com1.uart.dlm = s.dlm;
	com1.uart.fifo = s.fifo;
	com1.uart.thre_pending = s.thre_pending;
	pthread_mutex_unlock(&com1.lock);
	return 0;
}

DEVICE_STATE(serial, serial_save, serial_load);
