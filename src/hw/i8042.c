// SPDX-License-Identifier: MIT
/* The i8042 keyboard controller, as far as a guest uses it to reset the machine. */
#include "../bus.h"
#include "../device.h"
#include "../vm.h"

#include <string.h>

#define I8042_DATA_PORT   0x60
#define I8042_CMD_PORT    0x64
#define I8042_CMD_RESET   0xfe
#define I8042_STATUS_IDLE 0x00 /* output buffer empty, input buffer empty */

static void i8042_io(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len, bool is_write,
                     void *opaque)
{
	struct vm *vm = opaque;

	(void)vcpu;
	if (!is_write) {
		memset(data, 0, len);
		data[0] = I8042_STATUS_IDLE;
		return;
	}
	if (offset == I8042_CMD_PORT - I8042_DATA_PORT && data[0] == I8042_CMD_RESET)
		vm_stop(vm, VM_EXIT_REBOOT, "guest reset (i8042)");
}

static int i8042_init(struct vm *vm)
{
	return bus_register(BUS_PIO, I8042_DATA_PORT, I8042_CMD_PORT - I8042_DATA_PORT + 1,
	                    i8042_io, vm);
}

DEVICE_REGISTER(i8042, i8042_init, NULL);
