// SPDX-License-Identifier: MIT
#include "device.h"

#include "err.h"

extern const struct device __start_mote_devices[] __attribute__((weak));
extern const struct device __stop_mote_devices[] __attribute__((weak));

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
