// SPDX-License-Identifier: MIT
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TUN_DEVICE "/dev/net/tun"

int tap_error(struct err *e, const char *name, int err)
{
	switch (err) {
	case ENODEV:
		return err_set(e,
		               "--net tap=%s: no such tap device: create it with `ip tuntap add %s "
		               "mode tap` (as root; add `user $USER` to use it without root) and "
		               "bring it up with `ip link set %s up`",
		               name, name, name);
	case EPERM:
	case EACCES:
		return err_set(
		    e,
		    "--net tap=%s: permission denied: the tap belongs to another user; "
		    "make it yours with `ip tuntap del %s mode tap; ip tuntap add %s mode "
		    "tap user $USER` (as root)",
		    name, name, name);
	case EBUSY:
		return err_set(e,
		               "--net tap=%s: the tap is in use by another process (another VM?): "
		               "give each VM its own tap",
		               name);
	case EINVAL:
		return err_set(e,
		               "--net tap=%s: not a tap device (a tun, or another kind of "
		               "interface): create one with `ip tuntap add NAME mode tap`",
		               name);
	case ENOENT:
		return err_set(e,
		               "--net tap=%s: " TUN_DEVICE " is missing: load the tun module with "
		               "`modprobe tun` (as root)",
		               name);
	default: return err_set(e, "--net tap=%s: %s", name, strerror(err));
	}
}

/* Attaches @fd (an open /dev/net/tun) to tap @name; -1 with errno. */
static int attach(int fd, const char *name)
{
	struct ifreq ifr;
	int hdr = TAP_VNET_HDR_LEN;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	return ioctl(fd, TUNSETVNETHDRSZ, &hdr);
}

int tap_open(const char *name, struct err *e)
{
	int fd, saved;

	/* As root, TUNSETIFF would make a new tap that nobody configured and
	 * that goes away with mote: only an existing one is taken. */
	if (!if_nametoindex(name))
		return tap_error(e, name, ENODEV);
	fd = open(TUN_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return err_set(e, "--net tap=%s: cannot open " TUN_DEVICE ": %m", name);
	if (fd < 0)
		return tap_error(e, name, ENOENT);
	if (attach(fd, name) < 0) {
		saved = errno;
		close(fd);
		return tap_error(e, name, saved);
	}
	return fd;
}

int tap_set_offload(int fd, unsigned int offloads)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads);
}
