// SPDX-License-Identifier: MIT
/* The registers a hardware-reduced ACPI FADT points at (src/x86/acpi.c):
 * the sleep control register, whose S5 write is the guest's poweroff, its
 * status register, and the reset register. Without ACPI the guest does not
 * know them; they are claimed all the same, so a stray access is harmless. */
#include "../bus.h"
#include "../device.h"
#include "../vm.h"
#include "../x86/acpi.h"

#include <string.h>

/* Sleep control: SLP_TYP in bits 4:2 and SLP_EN (bit 5). Only S5 is offered
 * (\_S5 in the DSDT), so only it ends the VM: as a poweroff, status 0. */
static void sleep_control(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                          bool is_write, void *opaque)
{
	struct vm *vm = opaque;

	(void)vcpu, (void)offset;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if ((data[0] & ACPI_SLP_EN) && ((data[0] >> 2) & 7) == ACPI_S5_TYPE)
		vm_stop(vm, VM_EXIT_POWEROFF, "guest powered off (ACPI S5)");
}

/* Sleep status: the wake status bit never sets (the guest never sleeps). */
static void sleep_status(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                         bool is_write, void *opaque)
{
	(void)vcpu, (void)offset, (void)opaque;
	if (!is_write)
		memset(data, 0, len);
}

/* The reset register (0xcf9, as on PCs): the reset value restarts the
 * machine, which for mote ends the VM as a reboot does. */
static void reset_reg(struct vcpu *vcpu, uint64_t offset, uint8_t *data, uint32_t len,
                      bool is_write, void *opaque)
{
	struct vm *vm = opaque;

	(void)vcpu, (void)offset;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (len == 1 && (data[0] & ACPI_RESET_VALUE) == ACPI_RESET_VALUE)
		vm_stop(vm, VM_EXIT_REBOOT, "guest reset (ACPI reset register)");
}

static int acpi_pm_init(struct vm *vm)
{
	if (bus_register(BUS_PIO, ACPI_SLEEP_CONTROL_PORT, 1, sleep_control, vm) < 0 ||
	    bus_register(BUS_PIO, ACPI_SLEEP_STATUS_PORT, 1, sleep_status, vm) < 0)
		return -1;
	return bus_register(BUS_PIO, ACPI_RESET_PORT, 1, reset_reg, vm);
}

DEVICE_REGISTER(acpi_pm, acpi_pm_init, NULL);
