// SPDX-License-Identifier: MIT
/* mote's virtio-blk, driven through its virtio-mmio registers by a hostile
 * driver, as fuzz_virtio drives the balloon (same input format,
 * virtio_stream.h): its queue set-up, the request parser and the sync
 * engine reading and writing a 64 KiB image (a memfd), on whatever chains
 * the input makes: short headers, read-only status buffers, sectors past
 * the end, huge lengths, loops, indirect tables, notify storms. */
#include "config.h"
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_DEVICE "blk"

static struct vm_devices fuzz_devs;

/* One disk: a memfd of 64 KiB, served by the sync engine (no io_uring:
 * its completions would come back on another turn of the loop). */
static void fuzz_device_config(struct vm *v)
{
	int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, 64 * 1024) < 0)
		abort();
	fuzz_devs.nr_disks = 1;
	snprintf(fuzz_devs.disks[0].path, sizeof(fuzz_devs.disks[0].path), "/proc/self/fd/%d", fd);
	fuzz_devs.disks[0].io = DISK_IO_SYNC;
	v->devs = &fuzz_devs;
	v->nr_vcpus = 1;
}

#include "fuzz_virtio.c"
