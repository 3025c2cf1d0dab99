/* SPDX-License-Identifier: MIT */
/* A host tap device (Linux tun/tap, Documentation/networking/tuntap.rst) as a virtio-net back
 * end: Ethernet frames, each behind a 12-byte virtio_net_hdr, on a nonblocking fd. */
#ifndef MOTE_NET_TAP_H
#define MOTE_NET_TAP_H

#include "../err.h"

#define TAP_VNET_HDR_LEN 12 /* virtio_net_hdr with num_buffers (virtio 1.x) */

/* Opens tap @name (an existing one: mote never creates taps) as IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR with a TAP_VNET_HDR_LEN-byte header, nonblocking
 * and close-on-exec. Returns the fd, or -1 with @e naming the tap, the
 * reason and the fix (see tap_error). */
int tap_open(const char *name, struct err *e);

/* Formats into @e why tap @name could not be opened, from @err (an errno:
 * ENODEV no such interface, EPERM/EACCES not ours, EBUSY attached elsewhere,
 * EINVAL not a tap, ENOENT no /dev/net/tun), with the command that fixes
 * it; returns -1. */
int tap_error(struct err *e, const char *name, int err);

/* Tells the tap which offloads (TUN_F_CSUM, TUN_F_TSO4, ...) the reader
 * takes: the frames it reads may then be unchecksummed or up to 64 KiB
 * (GSO). 0 on success, -1 with errno. */
int tap_set_offload(int fd, unsigned int offloads);

#endif
