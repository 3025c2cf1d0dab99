// SPDX-License-Identifier: MIT
/* The i8042 keyboard controller, as far as a guest uses it to reset the machine.
 *
 * There is no keyboard or mouse behind it. The status register reads like a
 * floating bus (all ones: Linux's probe drains 16 "bytes" and says "No
 * controller found" at once, instead of waiting out a command time-out),
 * except that the input buffer is always empty (bit 1 clear), so that a
 * guest's reset command (0xfe to port 0x64) is written at once and resets. */
#include "../bus.h"
#include "../device.h"
#include "../vm.h"

#include <string.h>

#define I8042_DATA_PORT  0x60
#define I8042_CMD_PORT   0x64
#define I8042_CMD_RESET  0xfe
#define I8042_STATUS_IBF 0x02 /* input buffer full: the guest must wait */
#define I8042_STATUS     (0xff & ~I8042_STATUS_IBF)

/* Data port: nothing behind it, reads like a floating bus. */
static void i8042_data(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                       bool is_write, void *opaque)
{
	(void)vcpu, (void)offset, (void)opaque;
	if (!is_write)
		memset(data, 0xff, len);
}

/* Status (read) and command (write) port. */
static void i8042_cmd(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                      bool is_write, void *opaque)
{
	struct vm *vm = opaque;

	(void)vcpu, (void)offset;
	if (!is_write) {
		memset(data, 0xff, len);
		data[0] = I8042_STATUS;
		return;
	}
	if (data[0] == I8042_CMD_RESET)
		vm_stop(vm, VM_EXIT_REBOOT, "guest reset (i8042)");
}

/* Claims ports 0x60 and 0x64 only: 0x61 (system control) belongs to the
 * in-kernel PIT's speaker port. */
static int i8042_init(struct vm *vm)
{
	if (bus_register(BUS_PIO, I8042_DATA_PORT, 1, i8042_data, vm) < 0)
		return -1;
	return bus_register(BUS_PIO, I8042_CMD_PORT, 1, i8042_cmd, vm);
}

DEVICE_REGISTER(i8042, i8042_init, NULL);
