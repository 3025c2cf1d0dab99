// SPDX-License-Identifier: MIT
#include "kvm.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static int real_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

/* What kvm_ioctl_try issues its ioctls through: the real one, or a test's fake. */
static int (*issue_ioctl)(int fd, unsigned long req, void *arg) = real_ioctl;

void kvm_set_ioctl_for_tests(int (*fn)(int fd, unsigned long req, void *arg))
{
	issue_ioctl = fn ? fn : real_ioctl;
}

int kvm_ioctl_try(int fd, unsigned long req, void *arg)
{
	int ret = issue_ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

int kvm_ioctl_named(int fd, unsigned long req, const char *name, void *arg)
{
	int ret = kvm_ioctl_try(fd, req, arg);

	if (ret < 0)
		die("%s failed: %s", name, strerror(-ret));
	return ret;
}

int kvm_open(void)
{
	const char *path = getenv("MOTE_KVM_DEVICE");
	int fd, version;

	if (!path || !*path)
		path = "/dev/kvm";
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s: this machine offers no KVM. Load kvm-intel or "
		    "kvm-amd, or run mote inside tools/nested-run (make check "
		    "and make run do so by themselves when /dev/kvm is absent)",
		    path, strerror(errno));
	version = kvm_ioctl_try(fd, KVM_GET_API_VERSION, NULL);
	if (version != KVM_API_VERSION)
		die("%s: KVM API version %d, mote needs %d", path, version, KVM_API_VERSION);
	return fd;
}
