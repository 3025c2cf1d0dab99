// SPDX-License-Identifier: MIT
/* A snapshot's state file on any bytes: the record parser (header, lengths, CRC), the saved
 * configuration and machine record (snapshot_parse), and then the device loaders that run without
 * KVM: COM1, the i8042, the RTC and the virtio-balloon's transport and queues (virtio_mmio_load:
 * features, status, ring addresses against guest RAM), after which the balloon runs its queues
 * once. What a loader took must leave the device usable; a reset afterwards must be clean.
 *
 * The balloon is mote's own instance, planned and started as in fuzz_virtio. A CRC stops almost
 * every mutation, so
 * the target writes a good CRC into an input that ends in an END record, so that mutations reach
 * the fields behind it (the unit tests refuse bad CRCs). */
#include "fuzz.h"

#include "bus.h"
#include "device.h"
#include "evloop.h"
#include "fc_config.h"
#include "snapshot/snapshot.h"
#include "virtio/mmio.h"
#include "vm.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RAM_SIZE (16u << 20)

static struct vm vm;
static struct vm_devices devs = {.balloon = {.on = true,
                                             .deflate_on_oom = true,
                                             .stats_polling_interval_s = 3600,
                                             .free_page_reporting = true}};

static void setup(void)
{
	const struct device *d = device_find("balloon");

	fuzz_guest_ram(&vm.mem, RAM_SIZE);
	vm.kvm_fd = vm.vm_fd = vm.done_fd = -1;
	vm.devs = &devs;
	FUZZ_CHECK(d, "no balloon in the device section");
	FUZZ_CHECK(evloop_init(&vm.io, NULL) == 0, "no event loop");
	FUZZ_CHECK(d->plan(&vm) == 0, "the balloon got no slot");
	FUZZ_CHECK(d->init(&vm) == 0, "the balloon did not start");
	d = device_find("rtc");
	FUZZ_CHECK(d && d->init(&vm) == 0, "no RTC");
}

/* An input ending in an END record (type 0, 4 bytes) gets the CRC it needs. */
static void fix_crc(uint8_t *b, size_t size)
{
	static const uint8_t end[16] = {0, 0, 0, 0, 0, 0, 0, 0, 4};
	uint32_t crc;

	if (size < SNAP_HEADER_SIZE + 24 || memcmp(b + size - 24, end, 16))
		return;
	crc = (uint32_t)crc32(0L, b, (uInt)(size - 24));
	memcpy(b + size - 8, &crc, 4);
}

static void status_reset(void)
{
	uint8_t zero[4] = {0};

	FUZZ_CHECK(bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + 0x70, zero, 4, true),
	           "no balloon at slot 0");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct snapshot_file f;
	struct vm_config *cfg;
	uint8_t *copy;
	struct err e;

	if (!ready) {
		setup();
		ready = true;
	}
	copy = malloc(size ? size : 1);
	cfg = malloc(sizeof(*cfg));
	FUZZ_CHECK(copy && cfg, "out of memory");
	memcpy(copy, data, size);
	fix_crc(copy, size);
	fc_config_init(cfg);
	memset(vm.mem.host, 0, RAM_SIZE);
	if (snapshot_parse(copy, size, "fuzz", &f, cfg, &e) == 0) {
		FUZZ_CHECK(f.machine.mem_size == cfg->mem_size, "RAM sizes differ");
		FUZZ_CHECK(config_check(&cfg->devs, &e) == 0 || e.msg[0], "no message");
		if (devices_load(&vm, f.snap, &e) == 0) {
			evloop_run_once(&vm.io, 0); /* the rekicked queues */
			(void)snap_check_all_used(f.snap, &e);
		} else {
			FUZZ_CHECK(e.msg[0], "a refusal without a message");
		}
	} else {
		FUZZ_CHECK(e.msg[0], "a refusal without a message");
	}
	status_reset();
	snapshot_file_free(&f);
	config_free(cfg);
	free(cfg);
	return 0;
}
