// SPDX-License-Identifier: MIT
/* Boot-progress signals a guest writes to I/O ports, as other monitors take them:
 *
 *  - port 0x80, Cloud Hypervisor's codes: 0x40-0x5f kernel, 0x60-0x7f userspace.
 *    The first kernel code marks linux_start_kernel, the first userspace code
 *    linux_start_user; a kernel code after the first (0x41 in the guest kit's
 *    patch, written just before init) marks linux_start_user too.
 *  - port 0x3f0, Firecracker's boot timer: the byte 123 marks guest_boot_done.
 *
 * Linux itself writes port 0x80 as an I/O delay (outb_p/inb_p), with the value
 * of the port access just before it still in %al. So a write to 0x80 that
 * repeats the data of the vCPU's previous port access is taken as a delay,
 * not a code. */
#include "../bus.h"
#include "../device.h"
#include "../trace.h"
#include "../vm.h"

#define POST_PORT         0x80
#define POST_KERNEL_FIRST 0x40
#define POST_KERNEL_LAST  0x5f
#define POST_USER_FIRST   0x60
#define POST_USER_LAST    0x7f
#define FC_BOOT_PORT      0x3f0
#define FC_BOOT_DONE      123

static void post_code(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                      bool is_write, void *opaque)
{
	uint8_t code = data[0];

	(void)offset, (void)opaque;
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0xff;
		return;
	}
	if (len != 1 || code == vcpu->last_pio)
		return; /* an I/O delay, not a code */
	if (code >= POST_KERNEL_FIRST && code <= POST_KERNEL_LAST) {
		if (trace_seen(TRACE_LINUX_START_KERNEL))
			trace_mark(TRACE_LINUX_START_USER);
		trace_mark(TRACE_LINUX_START_KERNEL);
	} else if (code >= POST_USER_FIRST && code <= POST_USER_LAST) {
		trace_mark(TRACE_LINUX_START_USER);
	}
}

static void fc_boot_timer(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                          bool is_write, void *opaque)
{
	(void)vcpu, (void)offset, (void)opaque;
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0xff;
		return;
	}
	if (data[0] == FC_BOOT_DONE)
		trace_mark(TRACE_GUEST_BOOT_DONE);
}

static int boot_signal_init(struct vm *vm)
{
	(void)vm;
	if (bus_register(BUS_PIO, POST_PORT, 1, post_code, NULL) < 0)
		return -1;
	return bus_register(BUS_PIO, FC_BOOT_PORT, 1, fc_boot_timer, NULL);
}

DEVICE_REGISTER(boot_signal, boot_signal_init, NULL);
