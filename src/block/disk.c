// SPDX-License-Identifier: MIT
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void disk_serial(uint64_t dev, uint64_t ino, char out[BLK_ID_LEN + 1])
{
	char buf[64] = {0};

	snprintf(buf, sizeof(buf), "mote%llx%llx", (unsigned long long)dev,
	         (unsigned long long)ino);
	memcpy(out, buf, BLK_ID_LEN);
	out[BLK_ID_LEN] = '\0';
}

/* An OFD lock on the whole image, as QEMU takes them: it belongs to this
 * open file, so a second mote (or QEMU) on the same image sees it. */
static int lock(struct disk *d, struct err *e)
{
	struct flock fl = {.l_type = d->ro ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};

	if (fcntl(d->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES)
		return err_set(e, "--disk %s: cannot lock the image: %m", d->path);
	fl = (struct flock){.l_type = d->ro ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(d->fd, F_OFD_GETLK, &fl) < 0)
		fl.l_type = F_WRLCK;
	return err_set(e,
	               "--disk %s: in use: another process holds a %s lock on the image (an "
	               "OFD lock, as a running mote or QEMU takes); stop it first%s",
	               d->path, fl.l_type == F_RDLCK ? "read" : "write",
	               fl.l_type == F_RDLCK ? ", or give this VM the disk with ',ro'" : "");
}

static int size_of(struct disk *d, const struct stat *st, struct err *e)
{
	uint64_t bytes = (uint64_t)st->st_size;

	if (d->blockdev && ioctl(d->fd, BLKGETSIZE64, &bytes) < 0)
		return err_set(e, "--disk %s: cannot read the device's size: %m", d->path);
	d->size = bytes & ~(DISK_SECTOR - 1);
	if (!d->size)
		return err_set(e, "--disk %s: the image is smaller than one sector (512 bytes)",
		               d->path);
	return 0;
}

int disk_lock(struct disk *d, struct err *e)
{
	return lock(d, e);
}

void disk_unlock(struct disk *d)
{
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};

	if (d->fd >= 0)
		fcntl(d->fd, F_OFD_SETLK, &fl);
}

int disk_open(struct disk *d, const struct disk_config *c, struct err *e)
{
	return disk_open_unlocked(d, c, e) < 0 || lock(d, e) < 0 ? -1 : 0;
}

int disk_open_unlocked(struct disk *d, const struct disk_config *c, struct err *e)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->dfd = -1;
	d->path = c->path;
	d->ro = c->ro;
	d->fd = open(c->path, (c->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0)
		return err_set(e, "--disk %s: cannot open the image%s: %m", c->path,
		               c->ro ? "" : " for writing (',ro' opens it read-only)");
	if (fstat(d->fd, &st) < 0)
		return err_set(e, "--disk %s: fstat: %m", c->path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return err_set(e, "--disk %s: not a regular file or block device", c->path);
	d->blockdev = S_ISBLK(st.st_mode);
	if (size_of(d, &st, e) < 0)
		return -1;
	/* O_DIRECT's alignment: the device's logical block; for a file, its
	 * block size (4 KiB at most: what every file system takes). */
	d->dio_align =
	    st.st_blksize >= 512 && st.st_blksize <= 4096 ? (uint32_t)st.st_blksize : 4096;
	if (d->blockdev) {
		int lbs = 0;

		d->dio_align =
		    ioctl(d->fd, BLKSSZGET, &lbs) == 0 && lbs >= 512 ? (uint32_t)lbs : 4096;
	}
	if (c->direct) {
		d->dfd = open(c->path, (c->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT);
		if (d->dfd < 0)
			return err_set(e,
			               "--disk %s,cache=none: cannot open the image with O_DIRECT "
			               "(%m): its file system may not take it (a tmpfs does not)",
			               c->path);
	}
	if (c->id[0])
		snprintf(d->serial, sizeof(d->serial), "%s", c->id);
	else
		disk_serial(st.st_dev, st.st_ino, d->serial);
	return 0;
}

int disk_rw_fd(const struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	if (d->dfd < 0 || !d->dio_align || off % d->dio_align)
		return d->fd;
	for (int i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % d->dio_align || iov[i].iov_len % d->dio_align)
			return d->fd;
	return d->dfd;
}

void disk_close(struct disk *d)
{
	if (d->dfd >= 0)
		close(d->dfd);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = d->dfd = -1;
}
