/* SPDX-License-Identifier: MIT */
/* Self-registering devices: a device file declares itself, vm_create initialises them all. */
#ifndef MOTE_DEVICE_H
#define MOTE_DEVICE_H

#include <stddef.h>

struct vm;
struct aml;
struct err;
struct snap;
struct snap_writer;

struct device {
	const char *name;
	/* Checks the device's configuration, opens what it needs on the host
	 * (image files, taps) and takes its MMIO slots, before the command line,
	 * the ACPI tables and the KVM VM are made; -1 after printing why. May
	 * be NULL. */
	int (*plan)(struct vm *vm);
	/* Claims the device's ranges and sets up its state; -1 on failure
	 * after printing why. */
	int (*init)(struct vm *vm);
	/* Finishes what is pending (output) when the VM stops; may be NULL. */
	void (*stop)(struct vm *vm);
	/* Writes the device's words for the guest's command line (e.g. where
	 * a virtio-mmio device is) into @buf; returns their length as snprintf
	 * does, 0 for none. May be NULL. Runs before init. */
	int (*cmdline)(const struct vm *vm, char *buf, size_t len);
	/* Describes the device in the DSDT's \_SB scope (ACPI); may be NULL. */
	void (*aml)(const struct vm *vm, struct aml *a);
};

/* Places a struct device in the "mote_devices" section; devices_init walks it. */
#define DEVICE_REGISTER_PLAN(dev_name, plan_fn, init_fn, stop_fn, cmdline_fn, aml_fn) \
	static const struct device device_##dev_name                                  \
	    __attribute__((used, section("mote_devices"), aligned(8))) = {            \
	        .name = #dev_name,                                                    \
	        .plan = (plan_fn),                                                    \
	        .init = (init_fn),                                                    \
	        .stop = (stop_fn),                                                    \
	        .cmdline = (cmdline_fn),                                              \
	        .aml = (aml_fn),                                                      \
	}

#define DEVICE_REGISTER_FULL(dev_name, init_fn, stop_fn, cmdline_fn, aml_fn) \
	static const struct device device_##dev_name                         \
	    __attribute__((used, section("mote_devices"), aligned(8))) = {   \
	        .name = #dev_name,                                           \
	        .init = (init_fn),                                           \
	        .stop = (stop_fn),                                           \
	        .cmdline = (cmdline_fn),                                     \
	        .aml = (aml_fn),                                             \
	}

#define DEVICE_REGISTER(dev_name, init_fn, stop_fn) \
	DEVICE_REGISTER_FULL(dev_name, init_fn, stop_fn, NULL, NULL)

/* A device's state for snapshots and migration, registered beside its
 * emulation (DEVICE_STATE). */
struct device_state {
	const char *name;
	/* Appends the device's state to @w as SNAP_DEVICE records, one per
	 * instance, with the vCPUs paused: finishes the work in flight first
	 * (quiescence). -1 with @e if it cannot (a device whose state mote
	 * cannot carry yet says so). */
	int (*save)(struct vm *vm, struct snap_writer *w, struct err *e);
	/* Loads what save wrote into the devices vm_create made, every field
	 * checked as hostile input; a missing record is an error. -1 with @e. */
	int (*load)(struct vm *vm, struct snap *s, struct err *e);
};

/* Places a struct device_state in the "mote_device_state" section. */
#define DEVICE_STATE(dev_name, save_fn, load_fn)                                \
	static const struct device_state device_state_##dev_name                \
	    __attribute__((used, section("mote_device_state"), aligned(8))) = { \
	        .name = #dev_name,                                              \
	        .save = (save_fn),                                              \
	        .load = (load_fn),                                              \
	}

/* Runs every device_state's save hook; -1 with @e (naming the device) if one fails. */
int devices_save(struct vm *vm, struct snap_writer *w, struct err *e);

/* The device_state registered as @name, or NULL. */
const struct device_state *device_state_find(const char *name);

/* Runs every device_state's load hook; -1 with @e (naming the device) if one fails. */
int devices_load(struct vm *vm, struct snap *s, struct err *e);

/* The registered device called @name, or NULL. */
const struct device *device_find(const char *name);

/* Runs every registered device's plan hook; -1 if one fails. */
int devices_plan(struct vm *vm);

/* Runs every registered device's init; -1 if one fails. */
int devices_init(struct vm *vm);

/* Appends to @buf (a NUL-terminated string of @size bytes) a space and the
 * command-line words of every device; -1 if they do not fit. */
int devices_cmdline(const struct vm *vm, char *buf, size_t size);

/* Writes every device's AML (its aml hook) for the DSDT into @a. */
void devices_aml(const struct vm *vm, struct aml *a);

/* Runs every registered device's stop hook. */
void devices_stop(struct vm *vm);

#endif
