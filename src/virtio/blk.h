/* SPDX-License-Identifier: MIT */
/* virtio-blk: what the rest of mote asks of the disks (the device registers itself). */
#ifndef MOTE_VIRTIO_BLK_H
#define MOTE_VIRTIO_BLK_H

#include <stdio.h>

/* Prints a line per disk: path, size, read-only, I/O engine, serial (--verbose). */
void blk_describe(FILE *out);

#endif
