/* SPDX-License-Identifier: MIT */
/* Self-registering devices: a device file declares itself, vm_create initialises them all. */
#ifndef MOTE_DEVICE_H
#define MOTE_DEVICE_H

struct vm;

struct device {
	const char *name;
	/* Claims the device's ranges and sets up its state; -1 on failure
	 * after printing why. */
	int (*init)(struct vm *vm);
	/* Finishes what is pending (output) when the VM stops; may be NULL. */
	void (*stop)(struct vm *vm);
};

/* Places a struct device in the "mote_devices" section; devices_init walks it. */
#define DEVICE_REGISTER(dev_name, init_fn, stop_fn)                        \
	static const struct device device_##dev_name                       \
	    __attribute__((used, section("mote_devices"), aligned(8))) = { \
	        .name = #dev_name,                                         \
	        .init = (init_fn),                                         \
	        .stop = (stop_fn),                                         \
	}

/* Runs every registered device's init; -1 if one fails. */
int devices_init(struct vm *vm);

/* Runs every registered device's stop hook. */
void devices_stop(struct vm *vm);

#endif
