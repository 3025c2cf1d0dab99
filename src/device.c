// SPDX-License-Identifier: MIT
#include "device.h"

#include "err.h"

#include <stdio.h>
#include <string.h>

extern const struct device __start_mote_devices[] __attribute__((weak));
extern const struct device __stop_mote_devices[] __attribute__((weak));
extern const struct device_state __start_mote_device_state[] __attribute__((weak));
extern const struct device_state __stop_mote_device_state[] __attribute__((weak));

const struct device *device_find(const char *name)
{
	for (const struct device *d = __start_mote_devices; d < __stop_mote_devices; d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

int devices_plan(struct vm *vm)
{
	for (const struct device *d = __start_mote_devices; d < __stop_mote_devices; d++) {
		if (d->plan && d->plan(vm) < 0)
			return -1;
	}
	return 0;
}

int devices_init(struct vm *vm)
{
	for (const struct device *d = __start_mote_devices; d < __stop_mote_devices; d++) {
		if (d->init(vm) < 0) {
			warnx_("device %s failed to start", d->name);
			return -1;
		}
	}
	return 0;
}

void devices_stop(struct vm *vm)
{
	for (const struct device *d = __start_mote_devices; d < __stop_mote_devices; d++)
		if (d->stop)
			d->stop(vm);
}

void devices_aml(const struct vm *vm, struct aml *a)
{
	for (const struct device *d = __start_mote_devices; d < __stop_mote_devices; d++)
		if (d->aml)
			d->aml(vm, a);
}

int devices_cmdline(const struct vm *vm, char *buf, size_t size)
{
	for (const struct device *d = __start_mote_devices; d < __stop_mote_devices; d++) {
		size_t used = strlen(buf);
		int n;

		if (!d->cmdline)
			continue;
		if (used + 1 >= size)
			return -1;
		buf[used] = ' ';
		n = d->cmdline(vm, buf + used + 1, size - used - 1);
		if (n < 0 || (size_t)n >= size - used - 1)
			return -1;
		if (!n)
			buf[used] = '\0';
	}
	return 0;
}

int devices_save(struct vm *vm, struct snap_writer *w, struct err *e)
{
	for (const struct device_state *d = __start_mote_device_state; d < __stop_mote_device_state;
	     d++) {
		struct err why;

		if (d->save(vm, w, &why) < 0)
			return err_set(e, "%s: %s", d->name, why.msg);
	}
	return 0;
}

const struct device_state *device_state_find(const char *name)
{
	for (const struct device_state *d = __start_mote_device_state; d < __stop_mote_device_state;
	     d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

int devices_load(struct vm *vm, struct snap *s, struct err *e)
{
	for (const struct device_state *d = __start_mote_device_state; d < __stop_mote_device_state;
	     d++) {
		struct err why;

		if (d->load(vm, s, &why) < 0)
			return err_set(e, "%s: %s", d->name, why.msg);
	}
	return 0;
}
