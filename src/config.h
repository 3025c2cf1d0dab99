/* SPDX-License-Identifier: MIT */
/* What the user asked for beyond the boot: disks, network interfaces, vsock, entropy; the
 * parsers of their command-line words. */
#ifndef MOTE_CONFIG_H
#define MOTE_CONFIG_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_DISKS 8
#define CONFIG_MAX_NETS  4
#define BLK_ID_LEN       20 /* virtio-blk GET_ID: 20 bytes, NUL-padded */

enum disk_io {
	DISK_IO_AUTO,  /* io_uring where the host allows it, else sync */
	DISK_IO_URING, /* io_uring, or refuse to start */
	DISK_IO_SYNC,  /* preadv/pwritev on the I/O thread */
};

struct disk_config {
	char path[4096];
	bool ro;
	char id[BLK_ID_LEN + 1]; /* "" for a serial made from the file's identity */
	enum disk_io io;
	bool direct; /* cache=none: reads and writes bypass the host's page cache */
};

struct net_config {
	char tap[16]; /* IFNAMSIZ */
	uint8_t mac[6];
	bool has_mac;
};

struct vsock_config {
	bool on;
	uint32_t cid;
	char uds[108]; /* sun_path */
};

struct vm_devices {
	struct disk_config disks[CONFIG_MAX_DISKS];
	int nr_disks;
	struct net_config nets[CONFIG_MAX_NETS];
	int nr_nets;
	struct vsock_config vsock;
	bool no_rng;
};

/* Parses "PATH[,ro][,id=ID][,io=io_uring|sync][,cache=none|writeback]" into @d; -1 with @e naming
 * the word and what is wrong. */
int config_parse_disk(const char *arg, struct disk_config *d, struct err *e);

/* Parses "tap=NAME[,mac=MAC]" into @n; -1 with @e. */
int config_parse_net(const char *arg, struct net_config *n, struct err *e);

/* Parses "cid=N,uds=PATH" into @v (CID 3 up to 2^32-2); -1 with @e. */
int config_parse_vsock(const char *arg, struct vsock_config *v, struct err *e);

/* Checks the devices together: no image given twice (the same file by
 * device and inode, or the same path) and no tap twice; -1 with @e naming
 * both. */
int config_check(const struct vm_devices *d, struct err *e);

/* Parses "aa:bb:cc:dd:ee:ff"; -1 if it is not a unicast MAC. */
int config_parse_mac(const char *s, uint8_t mac[6]);

#endif
