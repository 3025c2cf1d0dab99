/* SPDX-License-Identifier: MIT */
/* A disk image on the host: a raw file or a block device, opened, locked and measured. */
#ifndef MOTE_BLOCK_DISK_H
#define MOTE_BLOCK_DISK_H

#include "../config.h"
#include "../err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_SECTOR 512ULL

struct disk {
	int fd;
	int dfd;            /* the same image opened O_DIRECT (cache=none), or -1 */
	uint32_t dio_align; /* what O_DIRECT needs of buffers, lengths and offsets */
	bool ro;
	bool blockdev;               /* a block device, not a file */
	uint64_t size;               /* bytes, rounded down to whole sectors */
	char serial[BLK_ID_LEN + 1]; /* GET_ID's answer */
	const char *path;
};

/* Opens @c->path read-write (read-only with @c->ro), and again with
 * O_DIRECT for @c->direct, takes an OFD lock on it (a write lock, or a read
 * lock for ro) and sizes it. -1 with @e naming the path: missing, no
 * permission, not a regular file or block device, in use by another process
 * (a conflicting lock), empty, or (cache=none) on a file system without
 * O_DIRECT. */
int disk_open(struct disk *d, const struct disk_config *c, struct err *e);

/* The fd a read or write of @iov[0..n) at byte @off goes through: the
 * O_DIRECT one (cache=none) when every buffer, length and the offset are
 * aligned to @d->dio_align (a block device's logical block, a file's
 * block up to 4 KiB), else the buffered one. */
int disk_rw_fd(const struct disk *d, const struct iovec *iov, int n, uint64_t off);

/* disk_open without the lock: for a VM a migration brings, whose source
 * holds the lock until it hands the VM over (disk_lock then). */
int disk_open_unlocked(struct disk *d, const struct disk_config *c, struct err *e);

/* Takes @d's OFD lock (write, or read for ro); -1 with @e if another
 * process holds a conflicting one. */
int disk_lock(struct disk *d, struct err *e);

/* Gives @d's lock up (a migration's source, its devices stopped). */
void disk_unlock(struct disk *d);

/* Closes the image (its lock goes with the fd). */
void disk_close(struct disk *d);

/* A serial number that stays the same for one file: its device and inode,
 * as hex, cut to 20 bytes. */
void disk_serial(uint64_t dev, uint64_t ino, char out[BLK_ID_LEN + 1]);

#endif
