/* SPDX-License-Identifier: MIT */
/* virtio-blk: what the rest of mote asks of the disks (the device registers itself). */
#ifndef MOTE_VIRTIO_BLK_H
#define MOTE_VIRTIO_BLK_H

#include "../err.h"

#include <stdbool.h>
#include <stdio.h>

struct vm;

/* Prints a line per disk: path, size, read-only, I/O engine, serial (--verbose). */
void blk_describe(FILE *out);

/* Puts the image at @path behind the disk named @drive_id (the API's PATCH
 * /drives), with the disk's options: requests in flight finish first, the
 * capacity is updated and the guest told of the change. On the I/O
 * thread; -1 with @e (the old image stays) if there is no such disk or the
 * new image cannot be opened. */
int blk_change_image(struct vm *vm, const char *drive_id, const char *path, struct err *e);

/* A migration's hand-over of the images: the source gives up its locks
 * once its devices are stopped (blk_locks(vm, false)), the destination
 * takes them when the state arrives (true), and a source whose migration
 * failed takes them back; -1 with @e naming the image still locked. */
int blk_locks(struct vm *vm, bool take, struct err *e);

#endif
