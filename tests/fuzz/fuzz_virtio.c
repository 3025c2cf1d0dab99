// SPDX-License-Identifier: MIT
/* mote's virtio-balloon, driven through its virtio-mmio registers by a
 * hostile driver over a small guest RAM whose rings the input writes too:
 * the register handler, feature and queue set-up, and the virtqueue walker
 * (virtq_check, virtq_pop, virtq_push) with the balloon's inflate and
 * free-page-report handlers on whatever chains the input makes.
 *
 * No KVM: the VM has no fd (no ioeventfd or irqfd: a notify reaches the
 * queue's eventfd through the register handler and the loop runs once;
 * vm_irq_line's KVM_IRQ_LINE fails with EBADF, which mote ignores), the guest RAM is an ordinary
 * mapping laid out like mote's (a slot at 0 and one at 4 GiB, one host mapping) with inaccessible
 * pages around it, and the balloon is the one mote registers in its device section, started by its
 * own init, with every queue (inflate, deflate, statistics, reporting); the control plane's calls
 * (balloon.h) come between the driver's. The input format is in virtio_stream.h. */
#include "fuzz.h"
#include "virtio_stream.h"

#include "bus.h"
#include "device.h"
#include "evloop.h"
#include "mem.h"
#include "virtio/mmio.h"
#include "vm.h"

#include <string.h>
#include <sys/mman.h>

extern const struct device __start_mote_devices[] __attribute__((weak));
extern const struct device __stop_mote_devices[] __attribute__((weak));

#define RAM_SIZE (FUZZ_RAM_LOW + FUZZ_RAM_HIGH)
#define GUARD    (64 * 1024)

static struct vm vm;

/* fuzz_virtio is the balloon; another target may include this file with
 * its own device (FUZZ_DEVICE) and configuration (fuzz_device_config). */
#ifndef FUZZ_DEVICE
#define FUZZ_DEVICE "balloon"
#include "config.h"
#include "virtio/balloon.h"

/* Every queue and feature: inflate, deflate, statistics, reporting. */
static struct vm_devices fuzz_devs = {.balloon = {.on = true,
                                                  .deflate_on_oom = true,
                                                  .stats_polling_interval_s = 3600,
                                                  .free_page_reporting = true}};

static void fuzz_device_config(struct vm *v)
{
	v->devs = &fuzz_devs;
}

/* The control plane's calls, between the driver's (virtio_stream.h). */
static void fuzz_balloon_op(struct fuzz_in *in, uint8_t op)
{
	struct balloon_stats s;
	uint32_t mib;

	switch ((op >> 2) & 3) {
	case 0: balloon_stats_poll(&vm); break;
	case 1: balloon_set_target(&vm, (uint32_t)fuzz_uint(in, 1), NULL); break;
	/* from an hour up: no interval passes while the fuzzer runs */
	case 2: balloon_set_stats_interval(&vm, 3600 + (uint32_t)fuzz_uint(in, 1), NULL); break;
	case 3:
		FUZZ_CHECK(balloon_get_stats(&vm, &s, NULL) == 0, "no statistics");
		FUZZ_CHECK(balloon_get_actual(&vm, &mib, NULL) == 0, "no actual");
		FUZZ_CHECK(s.target_mib == 0 && s.actual_mib == mib, "target %u, actual %u MiB",
		           s.target_mib, s.actual_mib);
		break;
	}
}

/* A fresh control plane state for every input. */
static void fuzz_device_reset(void)
{
	FUZZ_CHECK(balloon_set_target(&vm, 0, NULL) == 0, "target 0 refused");
	FUZZ_CHECK(balloon_set_stats_interval(&vm, 3600, NULL) == 0, "interval refused");
	evloop_run_once(&vm.io, 0); /* the interval's first update, with no buffer held */
}

#define FUZZ_DEVICE_OP fuzz_balloon_op
#endif

static void setup(void)
{
	uint8_t *map = mmap(NULL, RAM_SIZE + 2 * GUARD, PROT_NONE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct guest_mem *m = &vm.mem;
	const struct device *d;

	FUZZ_CHECK(map != MAP_FAILED, "no memory for the guest RAM");
	FUZZ_CHECK(!mprotect(map + GUARD, RAM_SIZE, PROT_READ | PROT_WRITE), "mprotect");
	vm.kvm_fd = vm.vm_fd = vm.done_fd = -1;
	fuzz_device_config(&vm);
	m->size = RAM_SIZE;
	m->host = map + GUARD;
	m->opts.backend = MEM_ANON;
	m->fd = -1;
	m->nr_slots = 2;
	m->slots[0] = (struct mem_slot){0, FUZZ_RAM_LOW, m->host};
	m->slots[1] = (struct mem_slot){FUZZ_RAM_HIGH_GPA, FUZZ_RAM_HIGH, m->host + FUZZ_RAM_LOW};
	for (d = __start_mote_devices; d < __stop_mote_devices; d++)
		if (!strcmp(d->name, FUZZ_DEVICE))
			break;
	FUZZ_CHECK(d < __stop_mote_devices, "no %s in the device section", FUZZ_DEVICE);
	FUZZ_CHECK(evloop_init(&vm.io, NULL) == 0, "no event loop");
	FUZZ_CHECK(d->plan(&vm) == 0, "the %s got no slot", FUZZ_DEVICE);
	FUZZ_CHECK(d->init(&vm) == 0, "the %s did not start", FUZZ_DEVICE);
}

static void mmio(uint64_t off, void *data, uint32_t len, bool is_write)
{
	FUZZ_CHECK(bus_dispatch(NULL, BUS_MMIO, VIRTIO_MMIO_BASE + off, data, len, is_write),
	           "nobody claimed offset 0x%llx", (unsigned long long)off);
}

static void write32(uint64_t off, uint32_t v)
{
	mmio(off, &v, 4, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t widths[4] = {4, 1, 2, 8};
	static bool ready;
	struct fuzz_in in = {data, size, 0};
	uint8_t zero[8] = {0};

	if (!ready) {
		setup();
		ready = true;
	}
	/* A fresh device (the driver's reset) and fresh RAM for every input. */
	write32(VS_REG_STATUS, 0);
	mmio(VS_REG_CONFIG, zero, sizeof(zero), true);
	memset(vm.mem.host, 0, RAM_SIZE);
#ifdef FUZZ_DEVICE_OP
	fuzz_device_reset();
#endif

	while (fuzz_left(&in)) {
		uint8_t op = (uint8_t)fuzz_uint(&in, 1);
		uint32_t width = widths[(op >> 2) & 3];

		switch (op & 3) {
		case VS_WRITE:
		case VS_READ: {
			uint64_t off = fuzz_uint(&in, 2) % VIRTIO_MMIO_SIZE;
			uint8_t buf[8] = {0};

			if ((op & 3) == VS_WRITE) {
				uint32_t v = (uint32_t)fuzz_uint(&in, 4);

				memcpy(buf, &v, 4);
				memcpy(buf + 4, &v, 4);
			}
			mmio(off, buf, width, (op & 3) == VS_WRITE);
			break;
		}
		case VS_RAM: {
			uint64_t at = fuzz_uint(&in, 2) % ((op & 4) ? FUZZ_RAM_HIGH : FUZZ_RAM_LOW);
			uint8_t *dst = vm.mem.host + ((op & 4) ? FUZZ_RAM_LOW : 0) + at;
			size_t len = (size_t)fuzz_uint(&in, 1);
			size_t room = ((op & 4) ? FUZZ_RAM_HIGH : FUZZ_RAM_LOW) - at;
			size_t avail = in.at < size ? size - in.at : 0;

			len = len < room ? len : room;
			len = len < avail ? len : avail;
			memcpy(dst, data + in.at, len);
			in.at += len;
			break;
		}
		case VS_NOTIFY:
#ifdef FUZZ_DEVICE_OP
			if (op & 0x10) {
				FUZZ_DEVICE_OP(&in, op);
				break;
			}
#endif
			write32(VS_REG_QUEUE_NOTIFY, (op >> 2) & 3);
			evloop_run_once(&vm.io, 0); /* the I/O thread's turn */
			break;
		}
	}
	return 0;
}
